"""A network guard for tests: any attempt to reach a non-loopback address (or
to resolve a remote host name) raises ``NetworkAccessError`` and is appended to
``$MUSICTEXT_NET_LOG`` so the test suite can fail even if the caller swallows
the exception."""
from __future__ import annotations

import ipaddress
import os
import socket
import traceback


class NetworkAccessError(RuntimeError):
    pass


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    host = str(host).strip("[]")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _record(what: str) -> None:
    log = os.environ.get("MUSICTEXT_NET_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"pid {os.getpid()}: {what}\n{''.join(traceback.format_stack(limit=8))}\n")


def _block(what: str):
    _record(what)
    raise NetworkAccessError(f"network access attempted while offline: {what}")


def install() -> None:
    if getattr(socket, "_musictext_guard", False):
        return
    orig_connect, orig_connect_ex = socket.socket.connect, socket.socket.connect_ex
    orig_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _block(f"connect to {address!r}")
        return orig_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _block(f"connect to {address!r}")
        return orig_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        h = host.decode() if isinstance(host, bytes) else host
        if not _is_local(h):
            _block(f"resolve host {h!r}")
        return orig_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    socket._musictext_guard = True
