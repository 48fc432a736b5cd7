"""The data command line and the offline guard."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from musictext.data import build_dataset


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "musictext", *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=600)


def test_data_build_command_matches_the_function(tmp_path):
    out = tmp_path / "cli"
    res = _run("data", "build", "--out", str(out), "--clips", "6", "--seed", "4", "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    ref = build_dataset(tmp_path / "fn", clips=6, seed=4, progress=False)
    assert (out / "manifest.jsonl").read_bytes() == (ref / "manifest.jsonl").read_bytes()
    for wav in sorted((ref / "audio").iterdir()):
        assert (out / "audio" / wav.name).read_bytes() == wav.read_bytes()
    info = _run("data", "info", str(out))
    assert info.returncode == 0 and '"clips": 6' in info.stdout


@pytest.mark.parametrize("args,message", [
    (["data", "build", "--clips", "0"], "--clips must be at least 1"),
    (["data", "build", "--clips", "3", "--label-noise", "2"], "--label-noise"),
    (["data", "info", "/nonexistent/folder"], "no manifest.jsonl"),
])
def test_data_command_errors(args, message):
    res = _run(*args)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr


GUARDED = """
import socket, musictext
try:
    socket.create_connection(("93.184.216.34", 80), timeout=2)
except Exception as e:
    print(type(e).__name__)
try:
    socket.getaddrinfo("huggingface.co", 443)
except Exception as e:
    print(type(e).__name__)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=2); print("loopback ok"); c.close(); s.close()
"""


@pytest.mark.allow_network_log
def test_offline_guard_blocks_network_but_not_loopback(tmp_path):
    env = os.environ.copy()
    env["MUSICTEXT_NET_LOG"] = str(tmp_path / "net.log")
    res = subprocess.run([sys.executable, "-c", GUARDED], capture_output=True, text=True, env=env, timeout=60)
    assert res.stdout.split("\n")[:3] == ["NetworkAccessError", "NetworkAccessError", "loopback ok"], res.stderr
    log = (tmp_path / "net.log").read_text()
    assert "93.184.216.34" in log and "huggingface.co" in log


def test_sitecustomize_guards_processes_that_never_import_musictext(tmp_path):
    env = os.environ.copy()
    env["MUSICTEXT_NET_LOG"] = str(tmp_path / "net.log")
    code = "import socket\ntry:\n    socket.getaddrinfo('example.org', 80)\nexcept Exception as e:\n    print(type(e).__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert res.stdout.strip() == "NetworkAccessError"
