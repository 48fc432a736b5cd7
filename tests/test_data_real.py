"""The real-set loaders of ``musictext.data.real`` on small fixtures written in
each set's published layout (tests/real_fixtures.py)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from musictext.audio import CLIP_SECONDS, SAMPLE_RATE, LogMel
from musictext.data import (CAPTION_SENTENCE, CAPTION_TAG_LIST, TAGS, open_splits, read_caption_folder,
                            read_lp_musiccaps, read_musiccaps, read_song_describer)
from musictext.data.real import MissingClipsWarning, _hash_split, middle_window
from real_fixtures import (MUSICCAPS_COLUMNS, SDD_COLUMNS, write_caption_folder, write_lp_musiccaps,
                           write_musiccaps, write_song_describer)

FRAMES = LogMel().frames(int(CLIP_SECONDS * SAMPLE_RATE))


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MUSICTEXT_DATASET", raising=False)


@pytest.fixture(scope="module")
def sdd(tmp_path_factory):
    return write_song_describer(tmp_path_factory.mktemp("sdd"), tracks=30, seconds=6.0)


@pytest.fixture(scope="module")
def musiccaps(tmp_path_factory):
    return write_musiccaps(tmp_path_factory.mktemp("musiccaps"))


def _check_shape(ds):
    """Every split of every set is served in the one record shape of SynthCaps."""
    assert ds.logmel.shape == (len(ds), 64, FRAMES)
    assert ds.targets.shape == (len(ds), len(TAGS))
    for r, y in zip(ds.records, ds.targets):
        assert set(r["tags"]) <= set(TAGS)
        assert [TAGS[k] for k in torch.nonzero(y).flatten().tolist()] == [t for t in TAGS if t in r["tags"]]
        assert len(r["captions"]) == 4 and all(isinstance(c, str) and c for c in r["captions"])
        assert r["heldout_captions"][0] in r["captions"][CAPTION_SENTENCE:]
        assert r["split"] == ds.split
        assert r["style"] in r["tags"] or r["style"] == "unknown"
    assert ds.wave(0).shape == (int(CLIP_SECONDS * SAMPLE_RATE),)


def test_song_describer_in_its_published_layout(sdd):
    items = read_song_describer(sdd)
    csv = pd.read_csv(sdd / "song_describer.csv")
    assert list(csv.columns) == SDD_COLUMNS
    assert len(items) == csv.track_id.nunique() == 30
    assert sum(len(it["captions"]) for it in items) == len(csv)       # captions grouped by track
    for it in items:
        track = int(it["id"].removeprefix("sdd-"))
        assert it["audio"] == sdd / "audio" / f"{track % 100:02d}" / f"{track}.2min.mp3"
        assert it["source_tags"], "the MTG-Jamendo TSV's tags"
    splits = open_splits(f"song-describer:{sdd}")
    assert [ds.split for ds in splits] == ["train", "valid", "test"]
    assert sum(map(len, splits)) == 30
    ids = [set(r["id"] for r in ds.records) for ds in splits]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    for ds in splits:
        _check_shape(ds)
    # the published tags are the tag-list caption; the found tags come from both
    r = splits[0].records[0]
    assert r["captions"][CAPTION_TAG_LIST] == ", ".join(r["source_tags"])


def test_musiccaps_counts_missing_and_unreadable_clips_in_one_warning(musiccaps):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train, valid, test = open_splits(f"musiccaps:{musiccaps}")
    msgs = [str(w.message) for w in caught if issubclass(w.category, MissingClipsWarning)]
    assert msgs == ["musiccaps: using 26 of 30 listed clips (3 missing, 1 unreadable)"]
    csv = pd.read_csv(musiccaps / "musiccaps-public.csv")
    assert list(csv.columns) == MUSICCAPS_COLUMNS
    evals = set(csv.ytid[csv.is_audioset_eval])
    assert {r["id"] for r in test.records} <= evals
    assert not evals & {r["id"] for r in train.records + valid.records}
    assert all(len(r["id"]) == 11 for r in train.records)
    for ds in (train, valid, test):
        _check_shape(ds)
    # every downloader naming style was found: ytid.wav, [ytid]-[a-b].wav, ytid_a-b.flac
    names = {r["audio"].split("/")[-1][0] == "[" for r in train.records + test.records}
    assert names == {True, False}
    assert any(r["audio"].endswith(".flac") for r in train.records + valid.records + test.records)
    # the aspect list is the tag-list caption
    r = test.records[0]
    row = csv[csv.ytid == r["id"]].iloc[0]
    assert r["captions"][CAPTION_TAG_LIST] == ", ".join(eval(row.aspect_list))
    assert r["captions"][CAPTION_SENTENCE] == row.caption


def test_lp_musiccaps_keeps_the_published_splits(tmp_path):
    root = write_lp_musiccaps(tmp_path, {"train": 8, "valid": 3, "test": 4})
    items = read_lp_musiccaps(root)
    assert [sum(it["split"] == s for it in items) for s in ("train", "valid", "test")] == [8, 3, 4]
    assert all(len(it["captions"]) == 4 and it["audio"].is_file() for it in items)
    train, valid, test = open_splits(f"lp-musiccaps-mtt:{root}")
    assert (len(train), len(valid), len(test)) == (8, 3, 4)
    _check_shape(test)
    assert test.records[0]["captions"][CAPTION_TAG_LIST] == ", ".join(test.records[0]["source_tags"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_folder_of_your_own_clips(tmp_path, fmt):
    root = write_caption_folder(tmp_path, clips=24, fmt=fmt)
    items = read_caption_folder(root)
    assert len(items) == 24 and all(len(it["source_tags"]) == 2 for it in items)
    splits = open_splits(f"folder:{root}")
    assert sum(map(len, splits)) == 24
    _check_shape(splits[0])


def test_a_folder_with_several_captions_per_clip_and_a_split_column(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    sf.write(tmp_path / "a.wav", np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE)
    sf.write(tmp_path / "b.wav", np.zeros(SAMPLE_RATE * 3, np.float32), SAMPLE_RATE)
    rows = [{"path": "a.wav", "caption": "calm piano", "split": "train"},
            {"path": "a.wav", "caption": "a slow piano solo", "split": "train"},
            {"path": "b.wav", "caption": "loud rock with drums", "split": "test"}]
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    train, test = open_splits(f"folder:{tmp_path}", splits=("train", "test"))
    assert train.records[0]["captions"][CAPTION_SENTENCE:] == ["calm piano", "a slow piano solo", "calm piano"]
    assert train.records[0]["tags"] == ["piano", "calm", "slow"]
    assert test.records[0]["tags"] == ["rock", "loud", "drums"]


def test_the_environment_variable_is_the_switch(sdd, monkeypatch):
    monkeypatch.setenv("MUSICTEXT_DATASET", f"song-describer:{sdd}")
    (test,) = open_splits(splits=("test",))
    assert test.records[0]["id"].startswith("sdd-")


def test_features_are_cached_by_file_and_follow_a_changed_file(tmp_path):
    root = write_caption_folder(tmp_path / "set", clips=10)
    first = open_splits(f"folder:{root}", splits=("train",))[0]
    cached = list((tmp_path / "cache" / "features").glob("real-*.safetensors"))
    assert len(cached) == 1
    again = open_splits(f"folder:{root}", splits=("train",))[0]
    assert torch.equal(first.logmel, again.logmel)
    sf.write(root / first.records[0]["audio"], np.zeros(SAMPLE_RATE * 4, np.float32), SAMPLE_RATE)
    changed = open_splits(f"folder:{root}", splits=("train",))[0]
    assert not torch.equal(changed.logmel[0], first.logmel[0])
    assert torch.equal(changed.logmel[1:], first.logmel[1:])


def test_middle_window_takes_the_middle_and_pads_short_files(tmp_path):
    ramp = np.arange(SAMPLE_RATE * 9, dtype=np.float32) / (SAMPLE_RATE * 9)
    sf.write(tmp_path / "long.wav", ramp, SAMPLE_RATE, subtype="FLOAT")
    x = middle_window(tmp_path / "long.wav", 5.0)
    assert x.shape == (SAMPLE_RATE * 5,)
    assert x[0].item() == pytest.approx(2 / 9, abs=1e-4) and x[-1].item() == pytest.approx(7 / 9, abs=1e-4)
    sf.write(tmp_path / "short.wav", np.ones(SAMPLE_RATE, np.float32) * 0.5, SAMPLE_RATE)
    y = middle_window(tmp_path / "short.wav", 5.0)
    assert y.shape == (SAMPLE_RATE * 5,) and y[:SAMPLE_RATE].eq(0.5).all() and y[SAMPLE_RATE:].eq(0).all()


def test_hash_split_is_stable_and_about_70_10_20():
    keys = [f"track-{i}" for i in range(3000)]
    got = [_hash_split(k) for k in keys]
    assert got == [_hash_split(k) for k in keys]
    share = {s: got.count(s) / len(got) for s in ("train", "valid", "test")}
    assert abs(share["train"] - 0.7) < 0.03 and abs(share["valid"] - 0.1) < 0.02 and abs(share["test"] - 0.2) < 0.03


# ---- clear errors ----------------------------------------------------------------
def test_unknown_sets_and_missing_folders(tmp_path):
    with pytest.raises(ValueError, match="unknown data set 'mystery'.*song-describer:FOLDER"):
        open_splits("mystery:/x")
    with pytest.raises(ValueError, match="names no folder"):
        open_splits("musiccaps")
    with pytest.raises(FileNotFoundError, match="not found"):
        open_splits(f"song-describer:{tmp_path / 'nowhere'}")
    with pytest.raises(FileNotFoundError, match="song_describer.csv"):
        open_splits(f"song-describer:{tmp_path}")


def test_a_missing_column_is_named(tmp_path):
    root = write_musiccaps(tmp_path, clips=6, missing=0, unreadable=0)
    csv = pd.read_csv(root / "musiccaps-public.csv").drop(columns=["aspect_list"])
    csv.to_csv(root / "musiccaps-public.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['aspect_list'\]"):
        read_musiccaps(root)


@pytest.mark.parametrize("column,value,message", [
    ("aspect_list", "pop, rock", r"row 3: aspect_list 'pop, rock' is not a list of strings"),
    ("caption", "", r"row 3: the caption is empty"),
    ("is_audioset_eval", "maybe", r"row 3: is_audioset_eval must be True or False"),
])
def test_a_malformed_musiccaps_row_is_named(tmp_path, column, value, message):
    root = write_musiccaps(tmp_path, clips=4, missing=0, unreadable=0)
    csv = pd.read_csv(root / "musiccaps-public.csv", keep_default_na=False).astype(object)
    csv.loc[1, column] = value
    csv.to_csv(root / "musiccaps-public.csv", index=False)
    with pytest.raises(ValueError, match=message):
        read_musiccaps(root)


def test_malformed_song_describer_rows_are_named(tmp_path):
    root = write_song_describer(tmp_path, tracks=3, seconds=1.0)
    csv = pd.read_csv(root / "song_describer.csv").astype(object)
    csv.loc[0, "path"] = "/abs/elsewhere.wav"
    csv.to_csv(root / "song_describer.csv", index=False)
    with pytest.raises(ValueError, match=r"row 2: path '/abs/elsewhere.wav' is not of the form"):
        read_song_describer(root)
    csv.loc[0, "path"], csv.loc[0, "track_id"] = "00/100.mp3", "abc"
    csv.to_csv(root / "song_describer.csv", index=False)
    with pytest.raises(ValueError, match="row 2: track_id 'abc' is not an integer"):
        read_song_describer(root)


def test_caption_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="exactly one captions.csv or captions.jsonl"):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.jsonl").write_text('{"path": "a.wav", "caption": "x"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2: not JSON"):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.jsonl").write_text('{"path": "a.wav"}\n')
    with pytest.raises(ValueError, match='line 1: needs "path" and "caption"'):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.jsonl").write_text('{"path": "a.wav", "caption": "x", "split": "dev"}\n')
    with pytest.raises(ValueError, match="split must be one of"):
        read_caption_folder(tmp_path)
    (tmp_path / "captions.jsonl").write_text('{"path": "a.wav", "caption": "calm piano"}\n')
    with pytest.raises(FileNotFoundError, match="none of the 1 listed clips"):
        open_splits(f"folder:{tmp_path}")


def test_a_split_with_no_clips_is_an_error(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    (tmp_path / "captions.csv").write_text("path,caption,split\na.wav,calm piano,train\n")
    with pytest.raises(ValueError, match="has no valid clips"):
        open_splits(f"folder:{tmp_path}")


def test_synthcaps_is_the_default_and_names_itself(tiny16, monkeypatch):
    """The notebooks' guards check their bars only when ``name == "synthcaps"``:
    the built-in set must say so, and a real set must not."""
    monkeypatch.setenv("MUSICTEXT_DATA", str(tiny16))
    splits = open_splits(splits=("train", "test"))
    assert [type(ds).__name__ for ds in splits] == ["SynthCaps", "SynthCaps"]
    assert all(ds.name == "synthcaps" for ds in splits)
    assert open_splits(f"synthcaps:{tiny16}", splits=("test",))[0].records == splits[1].records


def test_real_sets_name_themselves(tmp_path):
    root = write_caption_folder(tmp_path, clips=24)
    assert {ds.name for ds in open_splits(f"folder:{root}")} == {"folder"}
