"""Audio in and out: load, validate, resample, mono, pad/trim; the log-mel
front end as an ``nn.Module``; compact audio players for notebooks."""
from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

SAMPLE_RATE = 16000          # Hz, everywhere in the book
CLIP_SECONDS = 5.0           # length of a SynthCaps clip and of one model window
MAX_INPUT_SECONDS = 30.0     # the most audio a command reads from one file
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".aiff", ".aif")


class AudioError(ValueError):
    """Bad audio input; the message names the file (if any) and the problem."""


def _name(source) -> str:
    return f"'{source}'" if source is not None else "the waveform"


def validate_waveform(x, sample_rate: int | None = None, min_seconds: float = 0.0,
                      source=None, expected_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Check a mono waveform and return it as a float32 tensor of shape (T,).

    Raises ``AudioError`` for a wrong shape, an empty or too-short clip, NaN or
    infinite samples, or a sample rate other than ``expected_rate``.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise AudioError(f"{_name(source)}: expected a numpy array or torch tensor, got {type(x).__name__}")
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise AudioError(f"{_name(source)}: expected a mono waveform of shape (samples,), got shape "
                         f"{tuple(x.shape)}; use to_mono() first")
    if sample_rate is not None and sample_rate != expected_rate:
        raise AudioError(f"{_name(source)}: sample rate is {sample_rate} Hz but {expected_rate} Hz is "
                         f"needed; use load_audio() or resample()")
    if x.numel() == 0:
        raise AudioError(f"{_name(source)}: the audio is empty (0 samples)")
    x = x.to(torch.float32)
    if not torch.isfinite(x).all():
        raise AudioError(f"{_name(source)}: the audio has NaN or infinite samples")
    need = int(round(min_seconds * expected_rate))
    if x.numel() < need:
        raise AudioError(f"{_name(source)}: the clip is {x.numel() / expected_rate:.2f} s long, "
                         f"shorter than the {min_seconds:.2f} s the model needs")
    return x


def waveform_list(x, expected: str) -> list[torch.Tensor]:
    """A waveform (T,), a batch (N, T) or a list of waveforms -> a list of checked
    (T,) tensors; anything else is an AudioError saying ``expected``."""
    if isinstance(x, torch.Tensor) and x.ndim == 1:
        x = [x]
    elif isinstance(x, torch.Tensor) and x.ndim == 2:
        x = list(x)
    if not isinstance(x, (list, tuple)) or len(x) == 0:
        raise AudioError(f"expected {expected}")
    return [validate_waveform(w) for w in x]


def to_mono(x: np.ndarray) -> np.ndarray:
    """(T,) or (T, C) -> (T,) by averaging channels."""
    return x if x.ndim == 1 else x.mean(axis=1)


def resample(x: torch.Tensor, orig_rate: int, new_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Band-limited resampling of a (T,) or (C, T) tensor."""
    if orig_rate == new_rate:
        return x
    return torchaudio.functional.resample(x, orig_rate, new_rate)


def pad_or_trim(x: torch.Tensor, length: int) -> torch.Tensor:
    """Cut or zero-pad the last axis to ``length`` samples."""
    n = x.shape[-1]
    if n >= length:
        return x[..., :length]
    return torch.nn.functional.pad(x, (0, length - n))


def windows(wave: torch.Tensor, seconds: float = CLIP_SECONDS, min_seconds: float = 0.0,
            sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """The one rule by which the book's models read audio longer than a clip.

    A mono waveform (T,) becomes windows (W, n) of ``seconds`` each: a shorter
    clip is zero-padded to one window; a longer one is cut with 50% overlap,
    and a last window aligned to the end covers the tail. A clip shorter than
    ``min_seconds`` raises ``AudioError``.
    """
    n = int(round(seconds * sample_rate))
    if wave.ndim != 1:
        raise AudioError(f"expected a mono waveform (T,), got shape {tuple(wave.shape)}")
    if wave.numel() < int(round(min_seconds * sample_rate)):
        raise AudioError(f"the clip is {wave.numel() / sample_rate:.2f} s long; the model needs at "
                         f"least {min_seconds:.1f} s")
    if wave.numel() <= n:
        return pad_or_trim(wave, n).unsqueeze(0)
    starts = list(range(0, wave.numel() - n + 1, n // 2))
    if starts[-1] + n < wave.numel():
        starts.append(wave.numel() - n)
    return torch.stack([wave[s:s + n] for s in starts])


def load_audio(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, min_seconds: float = 0.0,
               seconds: float | None = None) -> torch.Tensor:
    """Read an audio file (wav, flac, mp3, ogg, aiff; any rate and channel
    count) as a float32 mono tensor of shape (T,) at ``sample_rate``.

    ``seconds`` pads or trims the result to that length; ``min_seconds`` makes
    a shorter file an error instead.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"audio file not found: '{p}'")
    if p.is_dir():
        raise AudioError(f"'{p}' is a folder, not an audio file")
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile could not read it: try librosa/audioread
        try:
            import warnings

            import librosa

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data, sr = librosa.load(str(p), sr=None, mono=False)
            data = np.atleast_2d(data).T.astype(np.float32)
        except Exception:
            raise AudioError(f"'{p}' is not a readable audio file ({type(e).__name__}: {e})") from None
    if data.size == 0:
        raise AudioError(f"'{p}': the audio is empty (0 samples)")
    x = torch.from_numpy(np.ascontiguousarray(to_mono(data)))
    if not torch.isfinite(x).all():
        raise AudioError(f"'{p}': the audio has NaN or infinite samples")
    x = resample(x, int(sr), sample_rate)
    x = validate_waveform(x, sample_rate, min_seconds=min_seconds, source=p, expected_rate=sample_rate)
    if seconds is not None:
        x = pad_or_trim(x, int(round(seconds * sample_rate)))
    return x


class LogMel(torch.nn.Module):
    """Waveform (B, T) or (T,) at 16 kHz -> log-mel spectrogram (B, n_mels, frames).

    ``log(mel + eps)`` of a power mel spectrogram (Hann window ``n_fft``,
    hop ``hop_length``), so silence sits near ``log(eps)``.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_fft: int = 1024, hop_length: int = 256,
                 n_mels: int = 64, f_min: float = 20.0, f_max: float | None = 8000.0, eps: float = 1e-5):
        super().__init__()
        self.sample_rate, self.n_fft, self.hop_length, self.n_mels, self.eps = sample_rate, n_fft, hop_length, n_mels, eps
        self.f_min, self.f_max = f_min, f_max
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=f_max, power=2.0)

    def settings(self) -> dict:
        """The front-end settings, in the form checkpoints store them."""
        return {"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop_length": self.hop_length,
                "n_mels": self.n_mels, "f_min": self.f_min, "f_max": self.f_max, "eps": self.eps}

    def frames(self, n_samples: int) -> int:
        """Number of frames for a waveform of ``n_samples`` samples."""
        return n_samples // self.hop_length + 1

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim not in (1, 2):
            raise AudioError(f"LogMel expects a waveform of shape (T,) or (batch, T), got {tuple(wave.shape)}")
        if wave.shape[-1] < self.n_fft:
            raise AudioError(f"LogMel needs at least {self.n_fft} samples, got {wave.shape[-1]}")
        return torch.log(self.mel(wave) + self.eps)


# ---- players ---------------------------------------------------------------
def wav_bytes(x, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A waveform as the bytes of a 16-bit PCM WAV file (deterministic)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.clip(np.asarray(x, dtype=np.float32).reshape(-1), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, x, sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def mp3_bytes(x, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A waveform as MP3 bytes (about ten times smaller than WAV; deterministic)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.clip(np.asarray(x, dtype=np.float32).reshape(-1), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, x, sample_rate, format="MP3")
    return buf.getvalue()


def player_html(x, sample_rate: int = SAMPLE_RATE, label: str | None = None, fmt: str = "mp3") -> str:
    """HTML for one compact ``<audio>`` player with an optional label.
    ``fmt`` is "mp3" (small, the default) or "wav" (lossless)."""
    if fmt == "mp3":
        src = "data:audio/mpeg;base64," + base64.b64encode(mp3_bytes(x, sample_rate)).decode("ascii")
    elif fmt == "wav":
        src = "data:audio/wav;base64," + base64.b64encode(wav_bytes(x, sample_rate)).decode("ascii")
    else:
        raise ValueError(f"fmt must be 'mp3' or 'wav', got {fmt!r}")
    lab = (f'<div style="font-size:0.85em;line-height:1.3;margin-bottom:2px">{html.escape(label)}</div>'
           if label else "")
    return (f'<div class="musictext-player" style="display:inline-block;margin:4px 12px 8px 0;'
            f'vertical-align:top;max-width:300px">{lab}<audio controls preload="none" '
            f'style="width:280px;height:32px" src="{src}"></audio></div>')


class Players:
    """A row of labelled audio players that renders in notebooks and in the book."""

    def __init__(self, items, sample_rate: int = SAMPLE_RATE, fmt: str = "mp3"):
        self.items = [(x, lab) for x, lab in items]
        self.sample_rate, self.fmt = sample_rate, fmt

    def _repr_html_(self) -> str:
        return "<div>" + "".join(player_html(x, self.sample_rate, lab, self.fmt) for x, lab in self.items) + "</div>"

    def __repr__(self) -> str:  # the plain-text form stored beside the HTML: no memory address
        return f"<{len(self.items)} audio player(s): " + "; ".join(str(lab) for _, lab in self.items) + ">"


def players(items, sample_rate: int = SAMPLE_RATE, fmt: str = "mp3") -> Players:
    """``players([(wave, "label"), ...])``: show a few clips side by side (MP3 by default)."""
    return Players(items, sample_rate, fmt)


def player(x, sample_rate: int = SAMPLE_RATE, label: str | None = None, fmt: str = "mp3") -> Players:
    """One labelled player."""
    return Players([(x, label)], sample_rate, fmt)
