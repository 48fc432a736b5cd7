"""The reference tagger: checkpoint integrity, outputs, and ``python -m musictext tag``."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from musictext.__main__ import main
from musictext.data import GROUP_OF, TAGS, read_manifest
from musictext.models import (TAGGER_CHECKPOINT, TAGGER_SHA256, ReferenceTagger, load_reference_tagger,
                              tag_probabilities, tag_waveform)
from musictext.text import sha256_file


@pytest.fixture(scope="module")
def tagger() -> ReferenceTagger:
    return load_reference_tagger()


def test_checkpoint_is_verified_and_small(tagger):
    assert sha256_file(TAGGER_CHECKPOINT) == TAGGER_SHA256
    assert TAGGER_CHECKPOINT.stat().st_size < 5e6
    assert not tagger.training
    assert tagger.tags == TAGS
    assert tagger.frontend["n_mels"] == 64 and tagger.frontend["sample_rate"] == 16000


def test_corrupted_checkpoint_is_refused(tmp_path):
    bad = tmp_path / "tagger.safetensors"
    shutil.copy(TAGGER_CHECKPOINT, bad)
    data = bytearray(bad.read_bytes())
    data[-10] ^= 0xFF  # flip bits inside the last weight tensor
    bad.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="SHA-256"):
        load_reference_tagger(bad)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_reference_tagger(tmp_path / "missing.safetensors")


def test_probabilities_and_embedding_for_waves_and_logmels(tagger):
    from musictext.audio import LogMel

    g = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(3, 80000, generator=g)
    out = tag_probabilities(tagger, waves)
    assert out["probabilities"].shape == (3, len(TAGS))
    assert out.embedding.shape == (3, tagger.config["emb_dim"])
    assert ((out.probabilities > 0) & (out.probabilities < 1)).all()
    same = tag_probabilities(tagger, LogMel()(waves))
    assert torch.allclose(same.probabilities, out.probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="log-mels"):
        tag_probabilities(tagger, torch.zeros(2, 32, 100))


def test_long_and_short_waveforms(tagger):
    from musictext.audio import AudioError

    g = torch.Generator().manual_seed(1)
    assert tag_waveform(tagger, 0.1 * torch.randn(16000 * 12, generator=g)).shape == (len(TAGS),)
    assert tag_waveform(tagger, 0.1 * torch.randn(16000 * 2, generator=g)).shape == (len(TAGS),)
    with pytest.raises(AudioError, match="at least 1.0 s"):
        tag_waveform(tagger, torch.zeros(8000))


def _pairs_in_order(probs: dict[str, float], truth: set[str]) -> float:
    """Share of (true tag, false tag) pairs where the true tag scores higher."""
    pos = [p for t, p in probs.items() if t in truth]
    neg = [p for t, p in probs.items() if t not in truth]
    return float(np.mean([a > b for a in pos for b in neg]))


def test_cli_tags_a_built_clip(tiny_data, capsys):
    recs = read_manifest(tiny_data, "test") or read_manifest(tiny_data)
    scores = []
    for rec in recs[:3]:
        assert main(["tag", str(tiny_data / rec["audio"]), "--top", str(len(TAGS)), "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        probs = {r["tag"]: r["probability"] for r in rows}
        assert set(probs) == set(TAGS)
        scores.append(_pairs_in_order(probs, set(rec["tags"])))
        genres = [r["tag"] for r in rows if GROUP_OF[r["tag"]] == "genre"]
        assert genres[0] == rec["style"], (rec["style"], genres[:3])  # the top genre is the true one
    assert np.mean(scores) > 0.85, scores


def test_cli_text_and_json_shape(tiny_data, tmp_path, capsys):
    rec = read_manifest(tiny_data)[0]
    x, sr = sf.read(str(tiny_data / rec["audio"]), dtype="float32")
    stereo = tmp_path / "stereo_44k.wav"  # another rate, two channels, 7 s: windows are averaged
    x44 = np.interp(np.arange(int(len(x) * 44100 / sr)) * sr / 44100, np.arange(len(x)), x)
    x44 = np.concatenate([x44, x44[: int(2 * 44100)]])
    sf.write(str(stereo), np.stack([x44, 0.5 * x44], axis=1), 44100)
    assert main(["tag", str(stereo), "--top", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all(line.split()[-1].replace(".", "", 1).isdigit() for line in lines)
    assert main(["tag", str(stereo), "--top", "4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and len(rows) == 4
    assert all(set(r) == {"tag", "probability"} and r["tag"] in TAGS and 0 <= r["probability"] <= 1 for r in rows)
    assert [r["probability"] for r in rows] == sorted((r["probability"] for r in rows), reverse=True)


def _error(args, capsys) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_cli_bad_inputs(tmp_path, capsys):
    assert "not found" in _error(["tag", str(tmp_path / "nope.wav")], capsys)
    assert "folder" in _error(["tag", str(tmp_path)], capsys)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    assert "junk.wav" in _error(["tag", str(junk)], capsys)
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), 16000)
    assert "empty" in _error(["tag", str(empty)], capsys)
    short = tmp_path / "short.wav"
    sf.write(str(short), 0.1 * np.ones(8000, dtype=np.float32), 16000)
    assert "shorter" in _error(["tag", str(short)], capsys)
    ok = tmp_path / "ok.wav"
    sf.write(str(ok), 0.1 * np.ones(32000, dtype=np.float32), 16000)
    assert "--top" in _error(["tag", str(ok), "--top", "0"], capsys)


def test_cli_exit_code_in_a_subprocess(tmp_path):
    r = subprocess.run([sys.executable, "-m", "musictext", "tag", str(tmp_path / "missing.flac")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: audio file not found: '{tmp_path / 'missing.flac'}'"]
