"""The reference joint embedding and ``python -m musictext embed`` / ``search``:
checkpoint integrity, output shapes, the search-index cache, and each bad-input path."""
from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from musictext.__main__ import main
from musictext.models import JOINT_CHECKPOINT, JOINT_SHA256, load_reference_joint
from musictext.search import INDEX_FILE, SearchIndex
from musictext.text import sha256_file


@pytest.fixture(scope="module")
def joint():
    return load_reference_joint()


@pytest.fixture(scope="module")
def tiny16(tmp_path_factory):
    """A 16-clip SynthCaps build (a folder with manifest.jsonl)."""
    from musictext.data import build_dataset

    root = tmp_path_factory.mktemp("retrieval") / "tiny16"
    build_dataset(root, clips=16, seed=3, workers=2, progress=False)
    return root


def _tone(freq: float, seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * np.random.default_rng(seed).standard_normal(len(t))
    return np.stack([x] * channels, axis=1).astype(np.float32) if channels > 1 else x.astype(np.float32)


@pytest.fixture()
def wav_folder(tmp_path):
    """Plain audio files: different rates, channels and lengths, in nested folders."""
    folder = tmp_path / "my music"
    (folder / "sub" / "deeper").mkdir(parents=True)
    sf.write(folder / "a_low.wav", _tone(110, 5.0, 16000), 16000)
    sf.write(folder / "sub" / "b_high.wav", _tone(1760, 3.0, 44100, channels=2, seed=1), 44100)
    sf.write(folder / "sub" / "deeper" / "c_long.flac", _tone(440, 12.0, 22050, seed=2), 22050)
    (folder / "notes.txt").write_text("not audio")
    return folder


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- the model ----------------------------------------------------------------------
def test_checkpoint_is_verified_and_small(joint):
    assert sha256_file(JOINT_CHECKPOINT) == JOINT_SHA256
    assert JOINT_CHECKPOINT.stat().st_size < 5e6
    assert not joint.training
    assert all(not p.requires_grad for p in joint.parameters())
    # only the trainable parts are stored: no sentence-encoder weights in the state dict
    assert not any("encoder" in k for k in joint.state_dict())


def test_corrupted_or_missing_checkpoint_is_refused(tmp_path):
    bad = tmp_path / "joint.safetensors"
    shutil.copy(JOINT_CHECKPOINT, bad)
    data = bytearray(bad.read_bytes())
    data[-10] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="SHA-256"):
        load_reference_joint(bad)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_reference_joint(tmp_path / "missing.safetensors")


def test_embeddings_are_unit_vectors_and_match_across_inputs(joint):
    from musictext.audio import LogMel

    dim = joint.config["embed_dim"]
    t = joint.embed_text(["calm solo piano", "fast loud rock with drums"])
    assert t.shape == (2, dim)
    assert torch.allclose(t.norm(dim=1), torch.ones(2), atol=1e-5)
    g = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(3, 80000, generator=g)
    a = joint.embed_audio(waves)
    assert a.shape == (3, dim)
    assert torch.allclose(a.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(joint.embed_audio(LogMel()(waves)), a, atol=1e-5)
    # clips of other lengths: padded (short) or averaged over windows (long)
    varied = joint.embed_audio([waves[0, :20000], torch.cat([waves[1]] * 3)])
    assert varied.shape == (2, dim)


def test_text_query_prefers_matching_clips(joint, tiny16):
    from musictext.data import SynthCaps

    ds = SynthCaps(tiny16, None)
    a = joint.embed_audio(ds.logmel)
    t = joint.embed_text([r["captions"][1] for r in ds.records])
    sim = t @ a.T
    # the matching clip scores above the average clip for most captions
    assert (sim.diag() > sim.mean(dim=1)).float().mean() >= 0.75


def test_bad_model_inputs(joint):
    from musictext.audio import AudioError
    from musictext.text import TextError

    with pytest.raises(TextError, match="empty"):
        joint.embed_text("   ")
    with pytest.raises(TextError, match="limit"):
        joint.embed_text("piano " * 400)
    with pytest.raises(AudioError):
        joint.embed_audio(torch.zeros(2, 32, 100))  # wrong number of mel bands
    with pytest.raises(AudioError, match="NaN"):
        joint.embed_audio(torch.full((80000,), float("nan")))
    with pytest.raises(AudioError):
        joint.embed_audio([])


# ---- python -m musictext embed -----------------------------------------------------------
def test_embed_cli_text_and_audio(capsys, wav_folder):
    code, out, _ = _run(capsys, "embed", "--text", "calm solo piano", "--json")
    assert code == 0
    vec = json.loads(out)
    assert len(vec) == 128 and abs(np.linalg.norm(vec) - 1) < 1e-4
    code, out, _ = _run(capsys, "embed", "--text", "calm solo piano")
    assert code == 0 and np.allclose([float(v) for v in out.split()], vec, atol=1e-6)
    code, out, _ = _run(capsys, "embed", "--audio", str(wav_folder / "sub" / "b_high.wav"), "--json")
    assert code == 0 and len(json.loads(out)) == 128


@pytest.mark.parametrize("argv, message", [
    (["embed", "--text", "  "], "empty"),
    (["embed", "--text", "x" * 2000], "limit"),
    (["embed", "--audio", "no/such/file.wav"], "not found"),
    (["embed", "--audio", "{notes}"], "not a readable audio file"),
])
def test_embed_cli_bad_inputs(capsys, wav_folder, argv, message):
    argv = [a.replace("{notes}", str(wav_folder / "notes.txt")) for a in argv]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error:") and message in err and err.count("\n") == 1


# ---- python -m musictext search ----------------------------------------------------------
def test_search_dataset_folder_json(capsys, tiny16):
    code, out, _ = _run(capsys, "search", "slow sad blues with no drums", "--index", str(tiny16),
                        "--top", "5", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 5
    ids = {json.loads(line)["id"] for line in (tiny16 / "manifest.jsonl").read_text().splitlines()}
    for r in rows:
        assert set(r) >= {"id", "score", "tags"} and r["id"] in ids and isinstance(r["tags"], list)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # plain-text output: one line per result
    code, out, _ = _run(capsys, "search", "slow sad blues", "--index", str(tiny16), "--top", "3")
    assert code == 0 and len(out.strip().splitlines()) == 3
    # --top larger than the folder returns every clip once
    code, out, _ = _run(capsys, "search", "piano", "--index", str(tiny16), "--top", "100", "--json")
    assert len(json.loads(out)) == 16


def test_search_by_example_finds_itself(capsys, tiny16):
    rec = json.loads((tiny16 / "manifest.jsonl").read_text().splitlines()[4])
    code, out, _ = _run(capsys, "search", "--audio", str(tiny16 / rec["audio"]), "--index", str(tiny16),
                        "--json", "--top", "3")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["id"] == rec["id"] and rows[0]["score"] > 0.99


def test_search_plain_folder_and_cache(capsys, wav_folder):
    code, out, _ = _run(capsys, "search", "a low hum", "--index", str(wav_folder), "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 3  # notes.txt is not audio
    assert all(set(r) == {"path", "score"} for r in rows)
    assert {os.path.basename(r["path"]) for r in rows} == {"a_low.wav", "b_high.wav", "c_long.flac"}
    assert (wav_folder / INDEX_FILE).exists()

    index = SearchIndex.build(wav_folder)
    assert index.stats["embedded"] == 0 and index.stats["from_cache"] == 3
    before = index.embeddings.clone()

    # change one file (new content, new size and mtime): only it is embedded again
    target = wav_folder / "a_low.wav"
    sf.write(target, _tone(3000, 4.0, 16000, seed=9), 16000)
    os.utime(target, (time.time() + 5, time.time() + 5))
    (wav_folder / "sub" / "new.wav").write_bytes((wav_folder / "sub" / "b_high.wav").read_bytes())
    index = SearchIndex.build(wav_folder)
    assert index.stats == {**index.stats, "clips": 4, "embedded": 2, "from_cache": 2}
    paths = [it["path"] for it in index.items]
    changed = index.embeddings[paths.index("a_low.wav")]
    assert not torch.allclose(changed, before[0], atol=1e-4)

    # deleting a file drops it from the index
    (wav_folder / "sub" / "new.wav").unlink()
    assert SearchIndex.build(wav_folder).stats["clips"] == 3


def test_search_skips_or_reports_unreadable_files(capsys, wav_folder):
    (wav_folder / "broken.wav").write_bytes(b"RIFF....WAVEnot really audio")
    code, out, err = _run(capsys, "search", "piano", "--index", str(wav_folder))
    assert code == 2 and "broken.wav" in err and err.count("\n") == 1
    code, out, err = _run(capsys, "search", "piano", "--index", str(wav_folder), "--json", "--skip-unreadable")
    assert code == 0 and len(json.loads(out)) == 3 and "skipped 1" in err


@pytest.mark.parametrize("argv, message", [
    (["search", "", "--index", "{folder}"], "empty"),
    (["search", "y" * 1500, "--index", "{folder}"], "limit"),
    (["search", "piano", "--index", "{empty}"], "no audio files"),
    (["search", "piano", "--index", "{missing}"], "not found"),
    (["search", "piano", "--index", "{folder}/a_low.wav"], "not a folder"),
    (["search", "piano", "--index", "{folder}", "--top", "0"], "--top"),
    (["search", "--index", "{folder}"], "either a text query or --audio"),
    (["search", "piano", "--audio", "{folder}/a_low.wav", "--index", "{folder}"], "either a text query"),
    (["search", "--audio", "{folder}/nope.wav", "--index", "{folder}"], "not found"),
    (["search", "--audio", "{folder}/notes.txt", "--index", "{folder}"], "not a readable audio file"),
])
def test_search_bad_inputs(capsys, tmp_path, wav_folder, argv, message):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.md").write_text("no audio here")
    subst = {"{folder}": str(wav_folder), "{empty}": str(tmp_path / "empty"),
             "{missing}": str(tmp_path / "missing")}
    for k, v in subst.items():
        argv = [a.replace(k, v) for a in argv]
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error:") and message in err and err.count("\n") == 1
