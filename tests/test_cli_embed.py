"""``python -m musictext embed``: text and audio, both output forms, bad inputs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_one_line_error


def test_text_and_audio(cli, wav_folder):
    code, out, _ = cli("embed", "--text", "calm solo piano", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["text"] == "calm solo piano"
    vec = row["embedding"]
    assert len(vec) == 128 and abs(np.linalg.norm(vec) - 1) < 1e-4
    code, out, _ = cli("embed", "--text", "calm solo piano")
    assert code == 0 and np.allclose([float(v) for v in out.split()], vec, atol=1e-6)
    code, out, _ = cli("embed", "--audio", wav_folder / "sub" / "b_high.wav", "--json")
    assert code == 0 and len(json.loads(out)[0]["embedding"]) == 128


@pytest.mark.parametrize("argv, message", [
    (["embed", "--text", "  "], "empty"),
    (["embed", "--text", "x" * 2000], "limit"),
    (["embed", "--audio", "no/such/file.wav"], "not found"),
    (["embed", "--audio", " "], "--audio needs a file path"),
    (["embed", "--audio", "{notes}"], "not a readable audio file"),
])
def test_bad_inputs(cli, wav_folder, argv, message):
    argv = [a.replace("{notes}", str(wav_folder / "notes.txt")) for a in argv]
    assert_one_line_error(*cli(*argv), message)
