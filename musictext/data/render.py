"""Render MIDI to 16 kHz mono audio through the General MIDI soundfont that
``pretty_midi`` ships, using the pip-only ``midirenderer`` synthesiser."""
from __future__ import annotations

import io
import os
from functools import lru_cache

import numpy as np
import pretty_midi
import soundfile as sf
from scipy.signal import resample_poly

from ..audio import SAMPLE_RATE

RENDER_RATE = 48000
# One fixed gain for every clip (no per-clip normalisation, so soft and loud
# clips keep their difference), followed by a soft limiter above LIMIT that
# keeps every sample strictly inside (-1, 1).
GAIN = 3.0
LIMIT = 0.8


class RendererUnavailable(RuntimeError):
    """The soundfont renderer could not be imported."""


def soundfont_path() -> str:
    """Path of the General MIDI soundfont (TimGM6mb.sf2) shipped by pretty_midi."""
    path = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    if not os.path.exists(path):
        raise FileNotFoundError(f"the soundfont {path} is missing; reinstall pretty_midi")
    return path


@lru_cache(maxsize=1)
def _soundfont_bytes() -> bytes:
    with open(soundfont_path(), "rb") as f:
        return f.read()


def soft_limit(x: np.ndarray, threshold: float = LIMIT) -> np.ndarray:
    """Leave samples below ``threshold`` untouched and squash the rest smoothly
    towards 1 with tanh, so nothing clips."""
    a = np.abs(x)
    over = a > threshold
    if not over.any():
        return x
    head = 1.0 - threshold
    y = x.copy()
    y[over] = np.sign(x[over]) * (threshold + head * np.tanh((a[over] - threshold) / head))
    return y


def midi_bytes(pm: pretty_midi.PrettyMIDI) -> bytes:
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def render_midi(midi: bytes | pretty_midi.PrettyMIDI, seconds: float = 5.0,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render a MIDI score to a mono float32 waveform of exactly ``seconds``.

    Args:
        midi: a ``PrettyMIDI`` object or the bytes of a standard MIDI file.
        seconds: length of the output (cut or zero-padded).
        sample_rate: output rate; must divide 48000.
    Returns:
        float32 array of shape (round(seconds * sample_rate),).
    """
    try:
        import midirenderer
    except ImportError as e:  # pragma: no cover - depends on the install
        raise RendererUnavailable(
            "the soundfont renderer 'midirenderer' could not be imported "
            f"({e}); install it with pip install -r requirements.txt. It has wheels for Linux x86_64, "
            "macOS (Intel and Apple silicon) and Windows; on Linux aarch64 (e.g. a Raspberry Pi) "
            "use an x86_64 machine to build the data, then copy the built folder and set MUSICTEXT_DATA") from e
    if RENDER_RATE % sample_rate:
        raise ValueError(f"sample_rate must divide {RENDER_RATE}, got {sample_rate}")
    if isinstance(midi, pretty_midi.PrettyMIDI):
        midi = midi_bytes(midi)
    wav = midirenderer.render_wave_from(_soundfont_bytes(), midi)
    x, sr = sf.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    assert sr == RENDER_RATE, sr
    x = x.mean(axis=1)
    x = resample_poly(x, 1, RENDER_RATE // sample_rate)
    n = int(round(seconds * sample_rate))
    x = x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))
    return soft_limit(GAIN * x).astype(np.float32)
