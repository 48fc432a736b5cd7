"""musictext._offline: the network guard the test suite puts on every process."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

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
