"""A seeded audio effects chain that makes rendered clips sound less alike:
small detuning, an EQ tilt, a room reverb, a compressor, a little noise and a
gain change, in that order. Every setting is drawn from ranges that keep the
clip's tags true (the dynamics tags survive: the gain range is far smaller
than the 12 to 14 dB between soft and loud clips, and the compressor only
acts above a level that soft clips do not reach), and the settings are stored in the manifest so that a clip
can be rendered again exactly.

Detuning is applied before rendering, as a MIDI pitch bend on every melodic
part (drums keep their pitch); :func:`apply_effects` does the rest on the
16 kHz waveform.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pretty_midi
from scipy.signal import fftconvolve, lfilter

# Ranges of the drawn settings: (low, high), uniform.
DETUNE_CENTS = (-25.0, 25.0)
TILT_DB_PER_OCTAVE = (-1.0, 1.0)
REVERB_MIX = (0.0, 0.25)
REVERB_SECONDS = (0.2, 0.8)
COMPRESS_RATIO = (1.0, 3.0)
NOISE_DBFS = (-78.0, -58.0)
GAIN_DB = (-3.0, 3.0)

COMPRESS_THRESHOLD_DBFS = -20.0     # loud passages only: soft clips play near -30 dBFS
TILT_PIVOT_HZ = 1000.0
BEND_RANGE_CENTS = 200.0            # the General MIDI default: +-2 semitones


@dataclass(frozen=True)
class Effects:
    """One clip's settings (see the module's ranges)."""

    detune_cents: float
    tilt_db_per_octave: float
    reverb_mix: float
    reverb_seconds: float
    compress_ratio: float
    noise_dbfs: float
    gain_db: float
    seed: int                       # for the reverb's impulse response and the noise

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def draw_effects(rng: np.random.Generator) -> Effects:
    """Draw one clip's settings; all randomness comes from ``rng``."""
    def u(lo_hi):
        return float(rng.uniform(*lo_hi))

    return Effects(detune_cents=u(DETUNE_CENTS), tilt_db_per_octave=u(TILT_DB_PER_OCTAVE),
                   reverb_mix=u(REVERB_MIX), reverb_seconds=u(REVERB_SECONDS),
                   compress_ratio=u(COMPRESS_RATIO), noise_dbfs=u(NOISE_DBFS),
                   gain_db=u(GAIN_DB), seed=int(rng.integers(0, 2**31 - 1)))


def detune(pm: pretty_midi.PrettyMIDI, cents: float) -> pretty_midi.PrettyMIDI:
    """Add a pitch bend of ``cents`` at time 0 to every non-drum part, in place."""
    if not -BEND_RANGE_CENTS < cents < BEND_RANGE_CENTS:
        raise ValueError(f"detune must be within +-{BEND_RANGE_CENTS:g} cents, got {cents}")
    bend = int(round(cents / BEND_RANGE_CENTS * 8192))
    if bend:
        for inst in pm.instruments:
            if not inst.is_drum:
                inst.pitch_bends.insert(0, pretty_midi.PitchBend(pitch=bend, time=0.0))
    return pm


def _tilt(x: np.ndarray, db_per_octave: float, sample_rate: int) -> np.ndarray:
    """A linear-phase EQ tilt: ``db_per_octave`` dB per octave above the pivot
    (and minus that below), flat under 60 Hz."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1.0 / sample_rate)
    octaves = np.log2(np.maximum(f, 60.0) / TILT_PIVOT_HZ)
    spec *= 10.0 ** (db_per_octave * octaves / 20.0)
    return np.fft.irfft(spec, n=len(x))


def _room(x: np.ndarray, mix: float, seconds: float, rng: np.random.Generator,
          sample_rate: int) -> np.ndarray:
    """A synthetic room: noise decaying by 60 dB over ``seconds`` after a
    10 ms pre-delay, scaled to the dry signal's energy and mixed in."""
    if mix <= 0:
        return x
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / seconds)
    ir = np.concatenate([np.zeros(int(0.01 * sample_rate)), ir / np.sqrt(np.sum(ir ** 2))])
    wet = fftconvolve(x, ir)[:len(x)]
    return (1.0 - mix) * x + mix * wet


def _compress(x: np.ndarray, ratio: float, sample_rate: int) -> np.ndarray:
    """A feed-forward compressor on a 20 ms RMS envelope: above the threshold
    the level rises by only 1/``ratio`` dB per dB."""
    if ratio <= 1.0:
        return x
    a = np.exp(-1.0 / (0.02 * sample_rate))
    env = np.sqrt(np.maximum(lfilter([1 - a], [1, -a], x ** 2), 1e-12))
    level = 20 * np.log10(env)
    over = np.maximum(level - COMPRESS_THRESHOLD_DBFS, 0.0)
    return x * 10.0 ** (-over * (1 - 1 / ratio) / 20.0)


def apply_effects(x: np.ndarray, fx: Effects, sample_rate: int) -> np.ndarray:
    """EQ tilt, room, compressor, noise and gain on a mono waveform (float64
    out; the caller limits it). Deterministic given ``fx``."""
    rng = np.random.default_rng(fx.seed)
    y = _tilt(np.asarray(x, dtype=np.float64), fx.tilt_db_per_octave, sample_rate)
    y = _room(y, fx.reverb_mix, fx.reverb_seconds, rng, sample_rate)
    y = _compress(y, fx.compress_ratio, sample_rate)
    y = y + 10.0 ** (fx.noise_dbfs / 20.0) * rng.standard_normal(len(y))
    return y * 10.0 ** (fx.gain_db / 20.0)
