"""Reference tagger: a short-chunk residual CNN on log-mel spectrograms.

It predicts the 46 SynthCaps tags (``musictext.data.TAGS``) and exposes its
penultimate layer as a clip embedding, which other chapters use as an
evaluator (for example the Fréchet distance of generated audio).

- ``ReferenceTagger``: the architecture (log-mel in, tag logits out).
- ``load_reference_tagger()``: the shipped checkpoint, checked by SHA-256.
- ``tag_probabilities(model, x)``: probabilities and embeddings for a batch of
  waveforms (B, T) or log-mels (B, n_mels, frames).
- ``tag_waveform(model, wave)``: one waveform of any length >= 1 s, averaged
  over 5 s windows.
- ``pretrain(out_dir)``: reproduce the checkpoint from the SynthCaps train split.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["ReferenceTagger", "TAGGER_CHECKPOINT", "TAGGER_SHA256", "load_reference_tagger",
           "tag_probabilities", "tag_waveform", "TaggerOutput"]

TAGGER_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "tagger.safetensors"
TAGGER_SHA256 = "2fac239b4e0e74a7536a3ea9802eb565c69ae2352c0c92b185797b34be6cfc9a"

# Front-end settings (must match musictext.audio.LogMel defaults used for training).
FRONTEND = {"sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "n_mels": 64,
            "f_min": 20.0, "f_max": 8000.0, "eps": 1e-5}
WINDOW_SECONDS = 5.0
MIN_SECONDS = 1.0


class ResBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a skip path, then 2x2 max pooling.
    (B, c_in, F, T) -> (B, c_out, F/2, T/2)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = (nn.Identity() if c_in == c_out else
                     nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.max_pool2d(F.relu(h + self.skip(x)), 2)


class ReferenceTagger(nn.Module):
    """Short-chunk residual CNN tagger (after Won et al., 2020).

    ``forward(logmel)``: (B, n_mels, frames) -> logits (B, n_tags).
    ``embed(logmel)``: (B, n_mels, frames) -> penultimate features (B, emb_dim).
    """

    def __init__(self, n_tags: int = 46, stem: int = 8, channels: tuple[int, ...] = (16, 32, 64, 128),
                 emb_dim: int = 128, dropout: float = 0.3):
        super().__init__()
        self.config = {"n_tags": n_tags, "stem": stem, "channels": list(channels), "emb_dim": emb_dim,
                       "dropout": dropout}
        self.input_norm = nn.BatchNorm2d(1)
        # a cheap full-resolution stem, then residual blocks that halve both axes
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, padding=1, bias=False), nn.BatchNorm2d(stem),
                                  nn.ReLU(), nn.MaxPool2d(2))
        blocks, c_in = [], stem
        for c in channels:
            blocks.append(ResBlock(c_in, c))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.proj = nn.Linear(2 * c_in, emb_dim)
        self.bn_emb = nn.BatchNorm1d(emb_dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(emb_dim, n_tags)

    def embed(self, logmel: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(self.input_norm(logmel.unsqueeze(1))))  # (B, C, F', T')
        h = h.mean(dim=2)                                      # (B, C, T'): average over frequency
        h = torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1)   # (B, 2C): mean and max over time
        return F.relu(self.bn_emb(self.proj(h)))               # (B, emb_dim)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(logmel)))


class TaggerOutput(dict):
    """``{"probabilities": (B, n_tags), "embedding": (B, emb_dim)}`` (also as attributes)."""

    __getattr__ = dict.__getitem__


_FRONTEND_CACHE: dict = {}


def _frontend():
    from ..audio import LogMel

    if "m" not in _FRONTEND_CACHE:
        _FRONTEND_CACHE["m"] = LogMel(**FRONTEND)
    return _FRONTEND_CACHE["m"]


@torch.no_grad()
def tag_probabilities(model: ReferenceTagger, x: torch.Tensor, batch_size: int = 64) -> TaggerOutput:
    """Tag probabilities and penultimate-layer embeddings for a batch.

    ``x`` is either waveforms (B, T) at 16 kHz or log-mels (B, n_mels, frames)
    from ``musictext.audio.LogMel`` with the defaults. Returns a ``TaggerOutput``
    with ``probabilities`` (B, n_tags) and ``embedding`` (B, emb_dim).
    """
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    x = x.float()
    if x.ndim == 1:
        x = x.unsqueeze(0)
    if x.ndim == 2:
        x = _frontend()(x)
    if x.ndim != 3 or x.shape[1] != FRONTEND["n_mels"]:
        raise ValueError(f"expected waveforms (B, T) or log-mels (B, {FRONTEND['n_mels']}, frames), "
                         f"got shape {tuple(x.shape)}")
    was_training = model.training
    model.eval()
    probs, embs = [], []
    for i in range(0, len(x), batch_size):
        e = model.embed(x[i:i + batch_size])
        probs.append(torch.sigmoid(model.head(e)))
        embs.append(e)
    model.train(was_training)
    return TaggerOutput(probabilities=torch.cat(probs), embedding=torch.cat(embs))


def windows(wave: torch.Tensor, sample_rate: int = 16000, seconds: float = WINDOW_SECONDS,
            min_seconds: float = MIN_SECONDS) -> torch.Tensor:
    """Cut a mono waveform (T,) into 5 s windows (W, window) for the tagger:
    shorter clips are zero-padded, longer ones split with 50% overlap (the last
    window is aligned to the end). Clips shorter than ``min_seconds`` are refused."""
    from ..audio import AudioError, pad_or_trim

    n = int(round(seconds * sample_rate))
    if wave.ndim != 1:
        raise AudioError(f"expected a mono waveform (T,), got shape {tuple(wave.shape)}")
    if wave.numel() < int(round(min_seconds * sample_rate)):
        raise AudioError(f"the clip is {wave.numel() / sample_rate:.2f} s long; the tagger needs at "
                         f"least {min_seconds:.1f} s")
    if wave.numel() <= n:
        return pad_or_trim(wave, n).unsqueeze(0)
    hop = n // 2
    starts = list(range(0, wave.numel() - n + 1, hop))
    if starts[-1] + n < wave.numel():
        starts.append(wave.numel() - n)
    return torch.stack([wave[s:s + n] for s in starts])


@torch.no_grad()
def tag_waveform(model: ReferenceTagger, wave: torch.Tensor) -> torch.Tensor:
    """Tag probabilities (n_tags,) for one 16 kHz mono waveform of any length
    >= 1 s: the mean over 5 s windows."""
    return tag_probabilities(model, windows(wave))["probabilities"].mean(dim=0)


def load_reference_tagger(path: str | os.PathLike | None = None, sha256: str | None = TAGGER_SHA256
                          ) -> ReferenceTagger:
    """The shipped reference tagger in eval mode.

    The checkpoint's SHA-256 must equal ``TAGGER_SHA256`` (pass ``sha256=None``
    to load a checkpoint you trained yourself with ``pretrain``). The tag list
    and front-end settings are in ``model.tags`` and ``model.frontend``.
    """
    from ..train import load_checkpoint, verified_checkpoint_config

    path = Path(path) if path is not None else TAGGER_CHECKPOINT
    cfg, _ = verified_checkpoint_config(path, sha256, "tagger")
    model = ReferenceTagger(**cfg["model"])
    load_checkpoint(model, path)
    model.tags = list(cfg["tags"])
    model.frontend = dict(cfg["frontend"])
    return model.eval()


def pretrain(out_dir: str | os.PathLike, epochs: int = 10, seed: int = 0, root=None,
             verbose: bool = True) -> Path:
    """Train the reference tagger on the SynthCaps train split and write
    ``out_dir/tagger.safetensors`` (weights plus a config with the tag list and
    front-end settings as metadata). Runs on one thread, so the result is the
    same for a given seed whatever the number of cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same result on any machine size, and no idle spinning
    try:
        return _pretrain(out_dir, epochs, seed, root, verbose)
    finally:
        torch.set_num_threads(threads)


def _pretrain(out_dir, epochs: int, seed: int, root, verbose: bool) -> Path:
    import numpy as np

    from ..data import TAGS, SynthCaps, ensure_dataset
    from ..metrics import tagging_scores
    from ..train import Progress, save_checkpoint, seed_everything

    root = root or ensure_dataset()
    train = SynthCaps(root, "train")
    valid = SynthCaps(root, "valid")
    g = seed_everything(seed)
    model = ReferenceTagger(n_tags=len(TAGS))
    x, y = train.logmel, train.targets            # (N, n_mels, frames), (N, n_tags)
    chunk = int(x.shape[-1] * 0.6)                 # short chunks (3 s) for training
    batch = 32
    steps_per_epoch = (len(x) + batch - 1) // batch
    total = epochs * steps_per_epoch
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=total, pct_start=0.15)
    prog = Progress(total, every=steps_per_epoch, prefix="step ")
    step, losses = 0, []
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            off = torch.randint(0, x.shape[-1] - chunk + 1, (1,), generator=g).item()
            logits = model(x[idx, :, off:off + chunk])
            loss = F.binary_cross_entropy_with_logits(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.item())
            if verbose:
                prog(step, epoch=ep + 1, loss=float(np.mean(losses[-steps_per_epoch:])))
    model.eval()
    if verbose:
        s = tagging_scores(valid.targets, tag_probabilities(model, valid.logmel)["probabilities"], TAGS)
        print(f"valid macro ROC-AUC {s['roc_auc']:.4f}  PR-AUC {s['pr_auc']:.4f}", flush=True)
    config = {"model": model.config, "tags": list(TAGS), "frontend": FRONTEND,
              "window_seconds": WINDOW_SECONDS, "min_seconds": MIN_SECONDS,
              "trained_on": "SynthCaps train split (synthcaps-v1-n2000-s0)", "epochs": epochs, "seed": seed}
    out = Path(out_dir) / "tagger.safetensors"
    save_checkpoint(model, out, config)
    return out
