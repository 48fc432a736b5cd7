"""``python -m musictext generate``: deterministic 16 kHz output, JSON, and
every bad argument (nothing is written then)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import assert_one_line_error


def test_deterministic_16k_wav(tmp_path, cli):
    a, b, c = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    args = ["generate", "calm solo piano, slow", "--seconds", "1.5", "--steps", "4"]
    assert cli(*args, "--out", a)[0] == 0
    code, out, _ = cli(*args, "--out", b, "--json")
    assert code == 0 and json.loads(out) == [{"path": str(b), "seconds": 1.5, "seed": 0, "guidance": 3.0}]
    assert cli(*args, "--out", c, "--seed", "1")[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    info = sf.info(str(a))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 24000)
    data, _ = sf.read(str(a))
    assert np.abs(data).max() > 1e-3                 # not silence


@pytest.mark.parametrize("extra, message", [
    (["--seconds", "0"], "--seconds must be in (0, 10]"),
    (["--seconds", "10.5"], "--seconds must be in (0, 10]"),
    (["--seconds", "nan"], "--seconds must be in (0, 10]"),
    (["--guidance", "-1"], "--guidance must be in [0, 20]"),
    (["--guidance", "25"], "--guidance must be in [0, 20]"),
    (["--seed", "-3"], "--seed must be in"),
    (["--steps", "0"], "--steps must be in [1, 200]"),
])
def test_rejects_out_of_range_arguments(tmp_path, cli, extra, message):
    assert_one_line_error(*cli("generate", "jazz trio", "--out", tmp_path / "x.wav", *extra), message)
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("prompt, message", [("", "empty"), ("   ", "empty"), ("piano " * 300, "limit")])
def test_rejects_empty_or_long_prompts(tmp_path, cli, prompt, message):
    assert_one_line_error(*cli("generate", prompt, "--out", tmp_path / "x.wav"), message)


def test_rejects_unwritable_outputs(tmp_path, cli):
    cases = [(tmp_path / "no" / "such" / "dir" / "x.wav", "does not exist"),
             (tmp_path, "is a folder"),
             (tmp_path / "x.mp3", "must end in .wav")]
    for out, message in cases:
        assert_one_line_error(*cli("generate", "rock with drums", "--out", out), message)
