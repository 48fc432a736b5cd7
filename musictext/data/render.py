"""Render MIDI to 16 kHz mono audio through General MIDI soundfonts that pip
packages ship, using the pip-only ``midirenderer`` synthesiser.

``SOUNDFONTS`` lists every soundfont the package knows, with the package that
ships it and its licence. The default SynthCaps build uses only ``TimGM6mb``;
the varied build draws from ``TRAIN_SOUNDFONTS``; ``HELDOUT_SOUNDFONT`` is
never used by any training path and renders the shifted test sets.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Soundfont:
    """A General MIDI soundfont inside an installed pip package."""

    name: str
    package: str          # the pip package (import name) that ships the file
    file: str             # path inside that package's folder
    licence: str
    gain: float = 1.0     # relative to TimGM6mb, so that the fonts play equally loud


SOUNDFONTS: dict[str, Soundfont] = {s.name: s for s in [
    Soundfont("TimGM6mb", "pretty_midi", "TimGM6mb.sf2",
              "GPL-2.0 (Tim Brechbill); shipped by pretty_midi (MIT)"),
    Soundfont("GeneralUserGS", "fileviewer", "plugins/midi/soundfonts/GeneralUserGS.sf3",
              "GeneralUser GS License v2.0 (S. Christian Collins): free use, private or "
              "commercial, and may be modified; shipped by fileviewer (Apache-2.0)", gain=1.25),
    Soundfont("Merlin", "scamp", "soundfonts/Merlin.sf2",
              "'Only for personal use. Not commercial.' (stated in the file); shipped by "
              "scamp (GPL-3.0). Used only to test, never to train or to build training data",
              gain=0.9),
]}
DEFAULT_SOUNDFONT = "TimGM6mb"
TRAIN_SOUNDFONTS = ["TimGM6mb", "GeneralUserGS"]
HELDOUT_SOUNDFONT = "Merlin"


def soundfont_path(name: str = DEFAULT_SOUNDFONT) -> str:
    """Path of the soundfont ``name`` (see ``SOUNDFONTS``)."""
    if name not in SOUNDFONTS:
        raise ValueError(f"unknown soundfont {name!r}; known: {sorted(SOUNDFONTS)}")
    font = SOUNDFONTS[name]
    spec = importlib.util.find_spec(font.package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the soundfont {name} comes with the pip package "
                                f"{font.package!r}, which is not installed; "
                                "pip install -r requirements.txt")
    path = os.path.join(list(spec.submodule_search_locations)[0], font.file)
    if not os.path.exists(path):
        raise FileNotFoundError(f"the soundfont {path} is missing; reinstall {font.package}")
    return path


@lru_cache(maxsize=None)
def _soundfont_bytes(name: str = DEFAULT_SOUNDFONT) -> bytes:
    """The soundfont as SF2 bytes. An SF3 file (compressed samples) is
    converted once and the SF2 kept in the cache, named by the source's hash."""
    path = soundfont_path(name)
    with open(path, "rb") as f:
        data = f.read()
    if not path.endswith(".sf3"):
        return data
    from ..paths import cache_root
    from .sf3 import sf3_to_sf2

    digest = hashlib.sha256(data).hexdigest()[:16]
    cached = cache_root() / "soundfonts" / f"{name}-{digest}.sf2"
    if cached.exists():
        return cached.read_bytes()
    sf2 = sf3_to_sf2(data)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(sf2)
    os.replace(tmp, cached)
    return sf2


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
                sample_rate: int = SAMPLE_RATE, soundfont: str = DEFAULT_SOUNDFONT,
                effects=None) -> np.ndarray:
    """Render a MIDI score to a mono float32 waveform of exactly ``seconds``.

    Args:
        midi: a ``PrettyMIDI`` object or the bytes of a standard MIDI file.
        seconds: length of the output (cut or zero-padded).
        sample_rate: output rate; must divide 48000.
        soundfont: a name in ``SOUNDFONTS``.
        effects: an ``effects.Effects`` to apply after rendering (its detune
            must already be in the MIDI, see ``effects.detune``), or None.
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
    font = _soundfont_bytes(soundfont)          # checks the name before any work
    wav = midirenderer.render_wave_from(font, midi)
    x, sr = sf.read(io.BytesIO(wav), dtype="float64", always_2d=True)
    assert sr == RENDER_RATE, sr
    x = x.mean(axis=1)
    x = resample_poly(x, 1, RENDER_RATE // sample_rate)
    n = int(round(seconds * sample_rate))
    x = x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))
    x = GAIN * SOUNDFONTS[soundfont].gain * x
    if effects is not None:
        from .effects import apply_effects

        x = apply_effects(soft_limit(x), effects, sample_rate)
    return soft_limit(x).astype(np.float32)
