"""Turn an SF3 soundfont (SoundFont 2 with Ogg Vorbis-compressed samples)
into a plain SF2 that ``midirenderer`` can load.

An SF2 file is a RIFF ``sfbk`` form with three lists: ``INFO`` (names),
``sdta`` (one ``smpl`` chunk of 16-bit PCM) and ``pdta`` (presets,
instruments and the sample headers ``shdr``). SF3 keeps the same layout, but
each sample in ``smpl`` is a small Ogg file, ``shdr`` gives its byte range,
flag 0x10 of the sample type marks it compressed and the loop points count
from the sample's start. Decoding every sample (``soundfile`` reads Ogg) and
writing the PCM back with absolute frame positions gives an SF2 with the same
presets.
"""
from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

_SHDR_SIZE = 46                 # bytes per sample header
_COMPRESSED = 0x10
_GUARD = 46                     # zero frames after each sample, as the SF2 spec asks


class SoundfontError(ValueError):
    """The file is not a soundfont this converter can read."""


def _chunks(data: bytes, start: int, end: int):
    while start + 8 <= end:
        cid = data[start:start + 4]
        size = struct.unpack("<I", data[start + 4:start + 8])[0]
        yield cid, data[start + 8:start + 8 + size]
        start += 8 + size + (size & 1)


def _chunk(cid: bytes, payload: bytes) -> bytes:
    return cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _list(kind: bytes, parts: list[tuple[bytes, bytes]]) -> bytes:
    return _chunk(b"LIST", kind + b"".join(_chunk(c, p) for c, p in parts))


def sf3_to_sf2(data: bytes) -> bytes:
    """The bytes of an SF2 file with the presets of the SF3 file ``data``
    (an SF2 passes through with its samples unchanged)."""
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise SoundfontError("not a SoundFont file (no RIFF sfbk header)")
    lists = {}
    for cid, payload in _chunks(data, 12, len(data)):
        if cid == b"LIST":
            lists[payload[:4]] = list(_chunks(payload, 4, len(payload)))
    if not {b"INFO", b"sdta", b"pdta"} <= set(lists):
        raise SoundfontError("a SoundFont file needs INFO, sdta and pdta lists")
    smpl = dict(lists[b"sdta"]).get(b"smpl", b"")
    pdta = lists[b"pdta"]
    shdr = dict(pdta).get(b"shdr", b"")
    if not shdr or len(shdr) % _SHDR_SIZE:
        raise SoundfontError("the sample headers (shdr) are missing or malformed")
    pcm, headers, pos = [], bytearray(), 0
    n = len(shdr) // _SHDR_SIZE
    for i in range(n):
        rec = bytearray(shdr[i * _SHDR_SIZE:(i + 1) * _SHDR_SIZE])
        if i == n - 1:                               # the terminal "EOS" record
            headers += rec
            continue
        start, end, loop_start, loop_end, rate = struct.unpack("<5I", rec[20:40])
        kind = struct.unpack("<H", rec[44:46])[0]
        if kind & _COMPRESSED:
            frames, _ = sf.read(io.BytesIO(smpl[start:end]), dtype="int16", always_2d=True)
            frames = frames[:, 0]
            kind &= ~_COMPRESSED
        else:                                        # positions are in frames already
            frames = np.frombuffer(smpl[2 * start:2 * end], dtype="<i2")
            loop_start, loop_end = loop_start - start, loop_end - start
        rec[20:40] = struct.pack("<5I", pos, pos + len(frames), pos + loop_start,
                                 pos + loop_end, rate)
        rec[44:46] = struct.pack("<H", kind)
        headers += rec
        pcm += [frames.astype("<i2").tobytes(), b"\0\0" * _GUARD]
        pos += len(frames) + _GUARD
    info = [(c, struct.pack("<HH", 2, 1) if c == b"ifil" else p) for c, p in lists[b"INFO"]]
    body = b"sfbk" + _list(b"INFO", info) + _list(b"sdta", [(b"smpl", b"".join(pcm))]) \
        + _list(b"pdta", [(c, bytes(headers) if c == b"shdr" else p) for c, p in pdta])
    return b"RIFF" + struct.pack("<I", len(body)) + body
