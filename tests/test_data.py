"""SynthCaps: determinism, labels that agree with the rendered MIDI, captions
and held-out words, loaders, and bad input."""
from __future__ import annotations

import json
import re

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
import torch

from musictext.data import (GROUP_OF, HELDOUT_WORDS, INSTRUMENTS, STYLE_NAMES, TAG_GROUPS, TAGS, AudioFolder,
                            PublicCaptions, SynthCaps, build_dataset, collate, heldout_vocabulary, multi_hot,
                            read_manifest, tags_in_text)
from musictext.data.vocab import mood_tag, tempo_tag


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".jsonl", ".wav", ".mid")}


def test_same_seed_same_bytes_whatever_the_worker_count(tiny_data, tmp_path):
    other = build_dataset(tmp_path / "again", clips=24, seed=5, workers=1, progress=False)
    a, b = _files(tiny_data), _files(other)
    assert len(a) == 1 + 2 * 24
    assert a == b


def test_other_seed_other_music(tiny_data, tmp_path):
    other = build_dataset(tmp_path / "s6", clips=4, seed=6, progress=False)
    assert read_manifest(other)[0]["seed"] != read_manifest(tiny_data)[0]["seed"]


def test_manifest_schema_and_splits(tiny_data):
    recs = read_manifest(tiny_data)
    assert len(recs) == 24
    assert {r["split"] for r in recs} == {"train", "valid", "test"}
    for r in recs:
        for key in ("id", "split", "audio", "tags", "captions", "style", "tempo", "key", "mode", "programs",
                    "drums", "seed"):
            assert key in r, key
        assert (tiny_data / r["audio"]).exists() and (tiny_data / r["midi"]).exists()
        assert len(r["captions"]) >= 3
        assert all(t in TAGS for t in r["tags"])
    assert sorted({r["style"] for r in recs}) == sorted(STYLE_NAMES)


def test_plan_is_balanced_and_stratified():
    from musictext.data.build import _plan

    styles, splits = _plan(2000, 0)
    assert splits.count("train") == 1400 and splits.count("valid") == 200 and splits.count("test") == 400
    for s in STYLE_NAMES:
        per = [sp for st, sp in zip(styles, splits) if st == s]
        assert len(per) == 250
        assert per.count("test") == 50 and per.count("valid") == 25
    for n in (10, 24, 37):
        _, small = _plan(n, 1)
        assert set(small) == {"train", "valid", "test"} and small.count("train") == round(0.7 * n)


def test_tags_agree_with_the_rendered_midi(tiny_data):
    for r in read_manifest(tiny_data):
        pm = pretty_midi.PrettyMIDI(str(tiny_data / r["midi"]))
        programs = sorted({i.program for i in pm.instruments if not i.is_drum and i.notes})
        has_drums = any(i.is_drum and i.notes for i in pm.instruments)
        assert programs == r["programs"]
        assert has_drums == r["drums"]
        tags = set(r["tags"])
        assert {t for t in tags if GROUP_OF[t] == "instrument"} == {INSTRUMENTS[p] for p in programs}
        assert ("drums" in tags) == has_drums and ("no drums" in tags) == (not has_drums)
        tempo = round(float(pm.get_tempo_changes()[1][0]), 3)  # MIDI stores microseconds per beat
        assert tempo == r["tempo"]
        assert tempo_tag(tempo) in tags and 50 <= tempo <= 180
        assert r["mode"] in tags and mood_tag(r["mode"], tempo) in tags and r["style"] in tags
        for group in ("genre", "mood", "tempo", "mode", "dynamics", "drums"):
            assert sum(GROUP_OF[t] == group for t in tags) == 1, group


def test_audio_format_and_dynamics(tiny_data):
    rms = {"soft": [], "loud": []}
    for r in read_manifest(tiny_data):
        x, sr = sf.read(tiny_data / r["audio"])
        info = sf.info(tiny_data / r["audio"])
        assert sr == 16000 and x.ndim == 1 and len(x) == 80000 and info.subtype == "PCM_16"
        assert np.abs(x).max() < 0.999  # fixed gain + soft limiter: no clipping
        assert np.sqrt((x ** 2).mean()) > 1e-3  # not silent
        rms[r["dynamics"]].append(np.sqrt((x ** 2).mean()))
    assert np.median(rms["loud"]) > 1.5 * np.median(rms["soft"])


def _mentions(text: str, word: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text.lower()) is not None


def test_training_captions_never_use_heldout_words(tiny_data):
    held = heldout_vocabulary()
    recs = read_manifest(tiny_data)
    for r in recs:
        for cap in r["captions"]:
            assert not [w for w in held if _mentions(cap, w)], cap
            assert tags_in_text(cap) == set(r["tags"]), cap
    evals = [r for r in recs if r["split"] != "train"]
    assert evals and all("heldout_captions" in r for r in evals)
    assert all("heldout_captions" not in r for r in recs if r["split"] == "train")
    for r in evals:
        cap = r["heldout_captions"][0]
        assert any(_mentions(cap, w) for w in held), cap
        assert tags_in_text(cap) == set(r["tags"]), cap


def test_tags_in_text_prefers_longest_phrase():
    assert tags_in_text("An electric piano with no drums") == {"electric piano", "no drums"}
    assert tags_in_text("mellow, drumless techno") == {"calm", "no drums", "electronic"}
    assert tags_in_text("nothing musical here") == set()
    with pytest.raises(TypeError):
        tags_in_text(None)


def test_label_noise_drops_tags(tmp_path):
    root = build_dataset(tmp_path / "noisy", clips=8, seed=2, label_noise=0.5, progress=False)
    recs = read_manifest(root)
    dropped = 0
    for r in recs:
        assert set(r["tags"]) <= set(r["true_tags"]) and r["tags"]
        dropped += len(r["true_tags"]) - len(r["tags"])
    assert dropped > 0


def test_synthcaps_dataset(tiny_data):
    ds = SynthCaps(tiny_data, "train")
    item = ds[0]
    assert item["logmel"].shape[0] == 64 and item["logmel"].ndim == 2
    assert item["targets"].shape == (len(TAGS),)
    assert torch.equal(item["targets"], multi_hot(ds.records[0]["tags"]))
    assert item["tags"] == ds.records[0]["tags"]
    batch = collate([ds[0], ds[1]])
    assert batch["logmel"].shape[0] == 2 and isinstance(batch["captions"], list)
    assert (tiny_data / "features").exists()
    again = SynthCaps(tiny_data, "train")  # from the cache
    assert torch.equal(again.logmel, ds.logmel)
    waves = SynthCaps(tiny_data, "test", features="wave")
    assert waves[0]["audio"].shape == (80000,)


def test_audio_folder_reads_any_format(tmp_path):
    t = np.linspace(0, 2, 88200, endpoint=False)
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], 1) * 0.3
    sf.write(tmp_path / "a.wav", stereo, 44100)
    sf.write(tmp_path / "b.flac", stereo[:, 0], 44100)
    sf.write(tmp_path / "c.ogg", stereo, 44100, format="OGG", subtype="VORBIS")
    (tmp_path / "sub").mkdir()
    sf.write(tmp_path / "sub" / "d.mp3", stereo, 44100, format="MP3")
    (tmp_path / "notes.txt").write_text("not audio")
    ds = AudioFolder(tmp_path, seconds=5.0)
    assert [p.name for p in ds.files] == ["a.wav", "b.flac", "c.ogg", "d.mp3"]
    for i in range(len(ds)):
        x = ds[i]["audio"]
        assert x.shape == (80000,) and x.dtype == torch.float32
        assert x[:30000].abs().max() > 0.1 and x[40000:].abs().max() == 0  # 2 s of tone, then padding


def test_public_caption_loader_on_local_fixture(tmp_path):
    (tmp_path / "audio" / "0").mkdir(parents=True)
    sf.write(tmp_path / "audio" / "0" / "clip.mp3", np.zeros(22050 * 3) + 0.01, 22050, format="MP3")
    row = {"track_id": "2", "title": "t", "artist_name": "a", "release": "r",
           "tag_top50": ["guitar", "classical"], "tag_top188": ["guitar", "classical", "slow"],
           "caption_writing": "A slow classical guitar piece.", "caption_summary": "Classical guitar.",
           "caption_paraphrase": "Gentle guitar music.", "caption_attribute_prediction": "guitar, slow",
           "pseudo_attribute": ["slow"], "path": "0/clip.mp3"}
    f = tmp_path / "test.jsonl"
    f.write_text(json.dumps(row) + "\n")
    ds = PublicCaptions(f, split="test", audio_root=tmp_path / "audio", seconds=5.0)
    item = ds[0]
    assert item["id"] == "2" and item["tags"] == ["guitar", "classical"] and len(item["captions"]) == 4
    assert item["audio"].shape == (80000,)
    text_only = PublicCaptions([f], split="test")
    assert "audio" not in text_only[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": 1, "text": "x"}) + "\n")
    with pytest.raises(ValueError, match="LP-MusicCaps schema"):
        PublicCaptions(bad, split="test")
    with pytest.raises(FileNotFoundError):
        PublicCaptions(tmp_path / "missing" / "x.parquet")


def test_bad_data_requests(tiny_data, tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.jsonl"):
        read_manifest(tmp_path)
    with pytest.raises(ValueError, match="split"):
        read_manifest(tiny_data, "training")
    with pytest.raises(ValueError, match="features"):
        SynthCaps(tiny_data, "train", features="mfcc")
    with pytest.raises(KeyError, match="unknown tag"):
        multi_hot(["polka"])
    with pytest.raises(ValueError, match="clips"):
        build_dataset(tmp_path / "x", clips=0)
    with pytest.raises(ValueError, match="label_noise"):
        build_dataset(tmp_path / "x", clips=2, label_noise=1.5)
    from musictext.audio import AudioError

    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioError, match="no audio files"):
        AudioFolder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        AudioFolder(tmp_path / "nope")


def test_vocabulary_size_and_groups():
    assert len(TAGS) >= 40 and len(INSTRUMENTS) >= 20 and len(STYLE_NAMES) >= 8
    assert set(TAG_GROUPS) == {"genre", "instrument", "mood", "tempo", "mode", "dynamics", "drums"}
    assert set(HELDOUT_WORDS) <= set(TAGS)
