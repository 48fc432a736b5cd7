"""musictext.search: discovery of a folder's clips, ranking, and the cache that
re-embeds only what changed."""
from __future__ import annotations

import os
import time

import pytest
import soundfile as sf
import torch
from conftest import tone

from musictext.audio import AudioError
from musictext.search import INDEX_FILE, SearchIndex, top_matches


def test_top_matches_ranks_by_cosine():
    emb = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]), dim=1)
    q = torch.tensor([0.0, 1.0])
    assert [i for i, _ in top_matches(emb, q, 3)] == [2, 1, 0]
    assert len(top_matches(emb, q, 10)) == 3
    assert top_matches(emb, q, 1)[0][1] == pytest.approx(1.0)


def test_dataset_folder_is_indexed_by_clip_id(tiny16):
    index = SearchIndex.build(tiny16)
    assert len(index.items) == 16 and all({"id", "path", "tags"} <= set(it) for it in index.items)
    rows = index.search("slow sad blues with no drums", top=5)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    with pytest.raises(ValueError, match="top"):
        index.search("piano", top=0)


def test_cache_re_embeds_only_changed_files(wav_folder):
    index = SearchIndex.build(wav_folder)
    assert index.stats["embedded"] == 3 and (wav_folder / INDEX_FILE).exists()
    index = SearchIndex.build(wav_folder)
    assert index.stats["embedded"] == 0 and index.stats["from_cache"] == 3
    before = index.embeddings.clone()
    target = wav_folder / "a_low.wav"                 # new content, size and mtime
    sf.write(target, tone(3000, 4.0, 16000, seed=9), 16000)
    os.utime(target, (time.time() + 5, time.time() + 5))
    (wav_folder / "sub" / "new.wav").write_bytes((wav_folder / "sub" / "b_high.wav").read_bytes())
    index = SearchIndex.build(wav_folder)
    assert index.stats == {**index.stats, "clips": 4, "embedded": 2, "from_cache": 2}
    paths = [it["path"] for it in index.items]
    assert not torch.allclose(index.embeddings[paths.index("a_low.wav")], before[0], atol=1e-4)
    (wav_folder / "sub" / "new.wav").unlink()         # a deleted file leaves the index
    assert SearchIndex.build(wav_folder).stats["clips"] == 3


def test_unreadable_files_are_named_or_skipped(wav_folder):
    (wav_folder / "broken.wav").write_bytes(b"RIFF....WAVEnot really audio")
    with pytest.raises(AudioError, match="broken.wav"):
        SearchIndex.build(wav_folder)
    index = SearchIndex.build(wav_folder, skip_unreadable=True)
    assert index.stats["skipped"] == ["broken.wav"] and len(index.items) == 3


def test_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError):
        SearchIndex.build(tmp_path / "missing")
    (tmp_path / "file.wav").write_bytes(b"x")
    with pytest.raises(NotADirectoryError):
        SearchIndex.build(tmp_path / "file.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioError, match="no audio files"):
        SearchIndex.build(tmp_path / "empty")
