"""Tagging: the reference tagger, a residual CNN on log-mel spectrograms.

It predicts the 46 SynthCaps tags (``musictext.data.TAGS``) and exposes its
penultimate layer as a clip embedding, which other chapters use as a judge
(prompt adherence and the Fréchet distance of generated audio).

- ``Config``: architecture and training recipe.
- ``ReferenceTagger`` and ``tagging_loss`` (binary cross-entropy).
- ``load()``: the shipped checkpoint, checked by SHA-256.
- ``tag_probabilities(model, x)``: probabilities and embeddings of a batch of
  waveforms (B, T) or log-mels (B, n_mels, frames).
- ``tag_waveform(model, wave)``: one waveform of any length of at least
  ``MIN_SECONDS``, averaged over windows (``musictext.audio.windows``).
- ``tags_by_group(tags, probs)``: the same probabilities arranged per tag group.
- ``pretrain(out_dir, cfg)``: reproduce the checkpoint on ``musictext.train.fit``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..audio import CLIP_SECONDS, LogMel, windows
from ..data.vocab import GROUP_OF, TAG_GROUPS, TAGS
from ..paths import checkpoint_path

__all__ = ["CHECKPOINT", "SHA256", "MIN_SECONDS", "Config", "ReferenceTagger", "TaggerOutput",
           "tagging_loss", "load", "pretrain", "tag_probabilities", "tag_waveform", "tags_by_group"]

CHECKPOINT = "tagger"
SHA256 = "806eed736e8aa03d147c015cab0728acd3d073c945adba512d7ff42e1be8d124"
MIN_SECONDS = 1.0            # the shortest audio the tagger accepts


@dataclass
class Config:
    """The reference tagger: architecture, then training recipe."""

    n_tags: int = len(TAGS)
    stem: int = 8
    channels: tuple[int, ...] = (16, 32, 64, 128)
    emb_dim: int = 128
    dropout: float = 0.3
    epochs: int = 10
    batch: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup: float = 0.15             # fraction of the steps with a rising learning rate
    chunk: float = 0.6               # training crops: this fraction of a clip (3 s)
    seed: int = 0
    threads: int = 1                 # one thread: the same result on any machine size

    def architecture(self) -> dict:
        return {"n_tags": self.n_tags, "stem": self.stem, "channels": list(self.channels),
                "emb_dim": self.emb_dim, "dropout": self.dropout}


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
    """Residual CNN tagger in the style of the short-chunk CNN (Won et al., 2020).

    ``forward(logmel)``: (B, n_mels, frames) -> logits (B, n_tags).
    ``embed(logmel)``: (B, n_mels, frames) -> penultimate features (B, emb_dim).
    """

    def __init__(self, n_tags: int = len(TAGS), stem: int = 8,
                 channels: tuple[int, ...] = (16, 32, 64, 128), emb_dim: int = 128,
                 dropout: float = 0.3):
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

    def feature_map(self, logmel: torch.Tensor, blocks: int | None = None) -> torch.Tensor:
        """The convolutional feature map after the stem and the first ``blocks``
        residual blocks (all of them by default): (B, n_mels, frames) -> (B, C, F', T').

        ``embed`` pools the full map over frequency and time; a captioner can
        attend to its frames instead (``.mean(dim=2)``: (B, C, T')), and
        ``self.blocks[blocks:]`` continues from a partial map (to fine-tune
        only the top blocks, say)."""
        n = len(self.blocks)
        if blocks is not None and not 0 <= blocks <= n:
            raise ValueError(f"blocks must be between 0 and {n}, got {blocks}")
        h = self.stem(self.input_norm(logmel.unsqueeze(1)))
        return self.blocks[:n if blocks is None else blocks](h)


def tagging_loss(model: ReferenceTagger, logmel: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of every tag: logmel (B, n_mels, frames), targets (B, n_tags) in {0, 1}."""
    return F.binary_cross_entropy_with_logits(model(logmel), targets)


class TaggerOutput(dict):
    """``{"probabilities": (B, n_tags), "embedding": (B, emb_dim)}`` (also as attributes)."""

    __getattr__ = dict.__getitem__


_FRONTEND: list = []


def _frontend() -> LogMel:
    if not _FRONTEND:
        _FRONTEND.append(LogMel())
    return _FRONTEND[0]


@torch.no_grad()
def tag_probabilities(model: ReferenceTagger, x: torch.Tensor, batch_size: int = 64) -> TaggerOutput:
    """Tag probabilities and penultimate-layer embeddings for a batch.

    ``x`` is either waveforms (B, T) at 16 kHz or log-mels (B, n_mels, frames)
    from ``musictext.audio.LogMel`` with its defaults. Returns a
    ``TaggerOutput`` with ``probabilities`` (B, n_tags) and ``embedding``
    (B, emb_dim).
    """
    x = torch.as_tensor(x).float()
    if x.ndim == 1:
        x = x.unsqueeze(0)
    if x.ndim == 2:
        x = _frontend()(x)
    n_mels = _frontend().n_mels
    if x.ndim != 3 or x.shape[1] != n_mels:
        raise ValueError(f"expected waveforms (B, T) or log-mels (B, {n_mels}, frames), "
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


@torch.no_grad()
def tag_waveform(model: ReferenceTagger, wave: torch.Tensor) -> torch.Tensor:
    """Tag probabilities (n_tags,) for one 16 kHz mono waveform of at least
    ``MIN_SECONDS``: the mean over its windows."""
    return tag_probabilities(model, windows(wave, min_seconds=MIN_SECONDS))["probabilities"].mean(dim=0)


def tags_by_group(tags: list[str], probs) -> dict[str, list[tuple[str, float]]]:
    """Probabilities (n_tags,) over ``tags`` -> {group: [(tag, probability), ...]},
    the groups in the vocabulary's order and each group's tags best first."""
    out: dict[str, list[tuple[str, float]]] = {g: [] for g in TAG_GROUPS}
    for tag, p in zip(tags, [float(v) for v in probs]):
        out[GROUP_OF[tag]].append((tag, p))
    return {g: sorted(rows, key=lambda r: -r[1]) for g, rows in out.items() if rows}


def load(path: str | os.PathLike | None = None, sha256: str | None = SHA256) -> ReferenceTagger:
    """The shipped reference tagger in eval mode.

    The checkpoint's SHA-256 must equal ``SHA256`` (pass ``sha256=None`` to
    load one you trained yourself with ``pretrain``). The tag list and
    front-end settings are in ``model.tags`` and ``model.frontend``.
    """
    from ..train import load_checkpoint, verified_checkpoint_config

    path = Path(path) if path is not None else checkpoint_path(CHECKPOINT)
    cfg, _ = verified_checkpoint_config(path, sha256, CHECKPOINT)
    model = ReferenceTagger(**cfg["model"])
    load_checkpoint(model, path)
    model.tags = list(cfg["tags"])
    model.frontend = dict(cfg["frontend"])
    return model.eval()


def pretrain(out_dir: str | os.PathLike, cfg: Config | None = None, root=None,
             verbose: bool = True) -> Path:
    """Train the reference tagger on the train splits of the plain SynthCaps
    build and of the varied one (the same music through several soundfonts
    and an effects chain, see ``musictext.data.build_dataset``), or on
    ``root``'s alone, and write ``out_dir/tagger.safetensors`` (weights, plus
    the tag list and front-end settings as metadata). Each step trains on
    random ``cfg.chunk`` crops."""
    from ..data import SynthCaps, ensure_dataset
    from ..metrics import tagging_scores
    from ..train import fit, save_checkpoint, seed_everything

    cfg = cfg or Config()
    roots = [Path(root)] if root else [ensure_dataset(), ensure_dataset(varied=True)]
    trains = [SynthCaps(r, "train") for r in roots]
    valid = SynthCaps(roots[-1], "valid")
    g = seed_everything(cfg.seed)
    model = ReferenceTagger(**cfg.architecture())
    x = torch.cat([t.logmel for t in trains])     # (N, n_mels, frames)
    y = torch.cat([t.targets for t in trains])    # (N, n_tags)
    chunk = int(x.shape[-1] * cfg.chunk)
    per_epoch = -(-len(x) // cfg.batch)
    order: list = []

    def batches(step: int, g: torch.Generator):
        if (step - 1) % per_epoch == 0:           # a new epoch: a new order of the clips
            order[:] = [torch.randperm(len(x), generator=g)]
        i = (step - 1) % per_epoch * cfg.batch
        idx = order[0][i:i + cfg.batch]
        off = torch.randint(0, x.shape[-1] - chunk + 1, (1,), generator=g).item()
        return x[idx, :, off:off + chunk], y[idx]

    done = fit(model, lambda m, b: tagging_loss(m, *b), batches, cfg.epochs * per_epoch, lr=cfg.lr,
               weight_decay=cfg.weight_decay, warmup=cfg.warmup, clip_grad=None, generator=g,
               threads=cfg.threads, fused=False, log_every=per_epoch if verbose else 0)
    model = done.model
    if verbose:
        s = tagging_scores(valid.targets, tag_probabilities(model, valid.logmel)["probabilities"], TAGS)
        print(f"valid macro ROC-AUC {s['roc_auc']:.4f}  PR-AUC {s['pr_auc']:.4f}", flush=True)
    config = {"model": model.config, "tags": list(TAGS), "frontend": _frontend().settings(),
              "window_seconds": CLIP_SECONDS, "min_seconds": MIN_SECONDS,
              "trained_on": f"SynthCaps train split ({' + '.join(r.name for r in roots)})",
              "epochs": cfg.epochs, "seed": cfg.seed}
    out = Path(out_dir) / f"{CHECKPOINT}.safetensors"
    save_checkpoint(model, out, config)
    return out
