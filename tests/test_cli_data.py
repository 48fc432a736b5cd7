"""``python -m musictext data build|info``: the command builds what the function
builds, both output forms, and every bad-input path."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import assert_one_line_error

from musictext.data import build_dataset


def _run(*args):
    return subprocess.run([sys.executable, "-m", "musictext", *map(str, args)], capture_output=True,
                          text=True, env=os.environ.copy(), timeout=600)


def test_build_command_matches_the_function(tmp_path):
    out = tmp_path / "cli"
    res = _run("data", "build", "--out", out, "--clips", "6", "--seed", "4", "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    ref = build_dataset(tmp_path / "fn", clips=6, seed=4, progress=False)
    assert (out / "manifest.jsonl").read_bytes() == (ref / "manifest.jsonl").read_bytes()
    for wav in sorted((ref / "audio").iterdir()):
        assert (out / "audio" / wav.name).read_bytes() == wav.read_bytes()


def test_build_command_varied(tmp_path):
    out = tmp_path / "cli"
    res = _run("data", "build", "--out", out, "--clips", "6", "--seed", "4", "--varied", "--quiet")
    assert res.returncode == 0, res.stderr
    ref = build_dataset(tmp_path / "fn", clips=6, seed=4, progress=False, varied=True)
    assert (out / "manifest.jsonl").read_bytes() == (ref / "manifest.jsonl").read_bytes()
    assert '"render"' in (out / "manifest.jsonl").read_text()


def test_info_text_and_json(tiny_data, cli):
    code, out, _ = cli("data", "info", tiny_data, "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["clips"] == 24 and sum(row["splits"].values()) == 24 and row["tags"]
    code, out, _ = cli("data", "info", tiny_data)
    assert code == 0 and out.startswith(f"{tiny_data}: 24 clips")


@pytest.mark.parametrize("args,message", [
    (["data", "build", "--clips", "0"], "--clips must be at least 1"),
    (["data", "build", "--clips", "3", "--workers", "0"], "--workers must be at least 1"),
    (["data", "build", "--clips", "3", "--label-noise", "2"], "--label-noise"),
    (["data", "info", "{missing}"], "no manifest.jsonl"),
])
def test_errors(cli, tmp_path, args, message):
    args = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    assert_one_line_error(*cli(*args), message)
