"""Retrieval: the reference joint text-audio embedding.

A log-mel CNN (audio tower) and the frozen, bundled all-MiniLM-L6-v2 sentence
encoder (text tower), each followed by a projection into a shared space of
``embed_dim`` (128) dimensions, trained with the symmetric InfoNCE loss on the
built-in SynthCaps training captions. Only the trainable parts (audio tower,
projections, temperature) are stored in the checkpoint; the sentence encoder
comes from its own SHA-256-checked package.

>>> from musictext.models import retrieval
>>> joint = retrieval.load()
>>> t = joint.embed_text(["calm solo piano"])          # (1, 128), unit length
>>> a = joint.embed_audio(waves)                       # (N, 128), unit length
>>> scores = a @ t.T                                   # cosine similarities
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..audio import AudioError, LogMel, waveform_list, windows
from ..paths import checkpoint_path

__all__ = ["CHECKPOINT", "SHA256", "MAX_LOGIT_SCALE", "Config", "JointAudioTower", "ReferenceJoint",
           "infonce_loss", "load", "pretrain"]

CHECKPOINT = "joint"
SHA256 = "bee44f35d7b3db615d4a2b5569772ee6c3b40b6577367a414c4d5e639790a16a"
MAX_LOGIT_SCALE = math.log(100.0)     # the temperature never falls below 1/100


@dataclass
class Config:
    """The reference joint embedding: architecture, then training recipe.
    (``max_windows`` is kept for the stored checkpoint metadata; long audio is
    read by the package's one windowing rule, ``musictext.audio.windows``.)"""

    n_mels: int = 64
    channels: tuple[int, ...] = (128, 128, 192)
    time_pool: int = 4
    text_dim: int = 384
    text_hidden: int = 256
    embed_dim: int = 128
    window_seconds: float = 5.0
    max_windows: int = 6
    seed: int = 0
    steps: int = 500
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup: float = 0.1
    init_temperature: float = 0.07
    everyday: int = 4                # query-like captions per clip (captions.everyday_caption)
    everyday_share: float = 0.25     # the share of training pairs that use one of them
    threads: int = 2

    def architecture(self) -> dict:
        return {"n_mels": self.n_mels, "channels": list(self.channels), "time_pool": self.time_pool,
                "text_dim": self.text_dim, "text_hidden": self.text_hidden,
                "embed_dim": self.embed_dim, "window_seconds": self.window_seconds,
                "max_windows": self.max_windows}


class JointAudioTower(nn.Module):
    """Log-mel (B, n_mels, frames) -> audio embedding (B, embed_dim).

    Per-bin input normalisation and average pooling over ``time_pool`` frames,
    then 1-D convolutions along time with the mel bins as input channels
    (3-wide kernels, batch norm, ReLU, max pooling by 2), mean- and
    max-pooling over time, and a two-layer projection.
    """

    def __init__(self, n_mels: int = 64, channels=(128, 128, 192), embed_dim: int = 128,
                 time_pool: int = 4):
        super().__init__()
        self.norm = nn.BatchNorm1d(n_mels)
        self.time_pool = time_pool
        blocks, c_in = [], n_mels
        for c in channels:
            blocks += [nn.Conv1d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm1d(c), nn.ReLU(),
                       nn.MaxPool1d(2)]
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.proj = nn.Sequential(nn.Linear(2 * c_in, 2 * c_in), nn.ReLU(), nn.Linear(2 * c_in, embed_dim))

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool1d(self.norm(logmel), self.time_pool)        # (B, n_mels, frames / time_pool)
        h = self.blocks(x)                                         # (B, C, T')
        h = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=-1)    # (B, 2C)
        return self.proj(h)                                        # (B, embed_dim)


def infonce_loss(a: torch.Tensor, t: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched pairs.

    a, t: (B, D) L2-normalised audio and text embeddings (row i of each is a pair);
    logit_scale: scalar log(1/temperature). Returns the mean of the audio->text
    and text->audio cross-entropies of the (B, B) similarity logits.
    """
    logits = logit_scale.exp() * a @ t.T                     # (B, B)
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


class ReferenceJoint(nn.Module):
    """Audio tower + (frozen sentence encoder ->) text projection, both into a
    shared ``embed_dim`` space, and a learnable temperature.

    The sentence encoder is not a registered sub-module, so ``state_dict()``
    (and the checkpoint) holds only the trainable parts.
    """

    def __init__(self, config: dict | None = None):
        super().__init__()
        self.config = dict(Config().architecture(), **(config or {}))
        c = self.config
        # the log-mel front end has no trainable parts: kept out of state_dict() (and the checkpoint)
        object.__setattr__(self, "frontend", LogMel(n_mels=c["n_mels"]))
        self.audio = JointAudioTower(c["n_mels"], c["channels"], c["embed_dim"], c["time_pool"])
        self.text_proj = nn.Sequential(nn.Linear(c["text_dim"], c["text_hidden"]), nn.GELU(),
                                       nn.Linear(c["text_hidden"], c["embed_dim"]))
        self.logit_scale = nn.Parameter(torch.tensor(0.0))
        object.__setattr__(self, "_encoder", None)

    # -- towers on precomputed inputs (used in training) ----------------------------
    def audio_from_logmel(self, logmel: torch.Tensor) -> torch.Tensor:
        """(B, n_mels, frames) -> (B, embed_dim), L2-normalised."""
        return F.normalize(self.audio(logmel), dim=-1)

    def text_from_sentence(self, sent: torch.Tensor) -> torch.Tensor:
        """(B, text_dim) sentence-encoder outputs -> (B, embed_dim), L2-normalised."""
        return F.normalize(self.text_proj(sent), dim=-1)

    # -- public API -------------------------------------------------------------------
    @property
    def sentence_encoder(self):
        if self._encoder is None:
            from ..text import load_sentence_encoder

            enc = load_sentence_encoder()
            if enc.dim != self.config["text_dim"]:
                raise RuntimeError(f"sentence encoder gives {enc.dim}-d vectors, the joint model "
                                   f"expects {self.config['text_dim']}")
            object.__setattr__(self, "_encoder", enc)  # not a sub-module: kept out of state_dict()
        return self._encoder

    @torch.no_grad()
    def embed_text(self, texts) -> torch.Tensor:
        """A str or list of str -> (N, embed_dim) unit vectors. Raises TextError on
        empty or over-long text."""
        was = self.training
        self.eval()
        out = self.text_from_sentence(self.sentence_encoder.encode(texts))
        self.train(was)
        return out

    @torch.no_grad()
    def embed_audio(self, x, batch_size: int = 64) -> torch.Tensor:
        """Audio -> (N, embed_dim) unit vectors.

        ``x`` is a log-mel tensor (N, n_mels, frames); a waveform batch (N, T) at
        16 kHz; one waveform (T,); or a list of 1-D waveforms of any lengths.
        Waveforms are cut into windows by ``musictext.audio.windows`` (shorter
        clips are zero-padded) whose embeddings are averaged.
        """
        was = self.training
        self.eval()
        try:
            if isinstance(x, torch.Tensor) and x.ndim == 3:
                if x.shape[1] != self.config["n_mels"]:
                    raise AudioError(f"expected log-mel of shape (N, {self.config['n_mels']}, frames), "
                                     f"got {tuple(x.shape)}")
                return torch.cat([self.audio_from_logmel(x[i:i + batch_size].float())
                                  for i in range(0, len(x), batch_size)])
            waves = waveform_list(x, "a log-mel batch, a waveform batch or a non-empty list of waveforms")
            wins, owner = [], []
            for i, w in enumerate(waves):
                ws = windows(w, self.config["window_seconds"])
                wins.append(ws)
                owner += [i] * len(ws)
            wins = torch.cat(wins)
            emb = torch.cat([self.audio_from_logmel(self.frontend(wins[i:i + batch_size]))
                             for i in range(0, len(wins), batch_size)])
            owner = torch.tensor(owner)
            pooled = torch.zeros(len(x), emb.shape[1]).index_add_(0, owner, emb)
            return F.normalize(pooled, dim=-1)
        finally:
            self.train(was)


def load(path: str | os.PathLike | None = None, sha256: str | None = SHA256) -> ReferenceJoint:
    """The pretrained reference joint embedding, in eval mode with gradients off.

    ``path=None`` loads the shipped ``musictext/checkpoints/joint.safetensors``.
    The file is refused unless its SHA-256 equals ``sha256`` (by default the
    shipped checkpoint's digest); pass ``sha256=None`` for a checkpoint you
    trained yourself with ``pretrain``.
    """
    from ..train import load_checkpoint, verified_checkpoint_config

    path = Path(path) if path is not None else checkpoint_path(CHECKPOINT)
    cfg, digest = verified_checkpoint_config(path, sha256, CHECKPOINT)
    model = ReferenceJoint(cfg)
    load_checkpoint(model, path)
    model.checkpoint_sha256 = digest  # identifies the model in search-index caches
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def pretrain(out_dir: str | os.PathLike, cfg: Config | None = None, root=None,
             verbose: bool = True) -> Path:
    """Train the reference joint embedding on SynthCaps (seeded, deterministic
    on a given machine and thread count) and write ``out_dir/joint.safetensors``.
    Each step takes the next ``cfg.batch`` clips of a shuffled order, each in
    one of its two renderings (the plain build or the varied one, see
    ``musictext.data.build_dataset``; only the plain one when ``root`` is
    given), and one random caption of each: a caption of the build or, for a
    share ``cfg.everyday_share`` of the pairs, one of ``cfg.everyday``
    query-like requests in everyday words
    (``musictext.data.captions.everyday_caption``), drawn once."""
    import numpy as np

    from ..data import CAPTION_SENTENCE, SynthCaps, ensure_dataset
    from ..data.captions import everyday_caption
    from ..metrics import retrieval_scores
    from ..text import load_sentence_encoder
    from ..train import fit, save_checkpoint, seed_everything

    cfg = cfg or Config()
    g = seed_everything(cfg.seed)
    both = root is None
    root = Path(root or ensure_dataset())
    train, test = SynthCaps(root, "train"), SynthCaps(root, "test")
    renderings = [train, SynthCaps(ensure_dataset(varied=True), "train")] if both else [train]
    if [r["id"] for r in renderings[-1].records] != [r["id"] for r in train.records]:
        raise ValueError("the varied build does not hold the clips of the plain build")
    enc = load_sentence_encoder()
    rng = np.random.default_rng([cfg.seed, 31])
    caps = [c for r in train.records
            for c in r["captions"] + [everyday_caption(r["tags"], rng) for _ in range(cfg.everyday)]]
    n_build = len(train.records[0]["captions"])
    n_caps = n_build + cfg.everyday
    before = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)          # the sentence encoder too runs on cfg.threads
    try:
        sent = enc.encode(caps).reshape(len(train), n_caps, -1)        # (N, captions, text_dim)
    finally:
        torch.set_num_threads(before)
    model = ReferenceJoint(dict(cfg.architecture(), text_dim=enc.dim))
    model.logit_scale.data.fill_(float(torch.log(torch.tensor(1 / cfg.init_temperature))))
    mels = torch.stack([r.logmel for r in renderings])                 # (renderings, N, M, T)
    order = {"perm": None, "pos": len(train)}

    def batches(step: int, g: torch.Generator):
        if order["pos"] + cfg.batch > len(train):                      # a new pass over the clips
            order["perm"], order["pos"] = torch.randperm(len(train), generator=g), 0
        idx = order["perm"][order["pos"]:order["pos"] + cfg.batch]
        order["pos"] += cfg.batch
        which = torch.randint(n_build, (len(idx),), generator=g)
        if cfg.everyday:
            pick = torch.rand(len(idx), generator=g) < cfg.everyday_share
            which = torch.where(pick, n_build + torch.randint(cfg.everyday, (len(idx),), generator=g),
                                which)
        rendering = torch.randint(len(mels), (len(idx),), generator=g)
        return mels[rendering, idx], sent[idx, which]

    def loss_fn(m: ReferenceJoint, batch) -> torch.Tensor:
        return infonce_loss(m.audio_from_logmel(batch[0]), m.text_from_sentence(batch[1]),
                            m.logit_scale)

    def clamp(m: ReferenceJoint) -> None:
        with torch.no_grad():
            m.logit_scale.clamp_(0, MAX_LOGIT_SCALE)

    model = fit(model, loss_fn, batches, cfg.steps, lr=cfg.lr, weight_decay=cfg.weight_decay,
                warmup=cfg.warmup, clip_grad=None, generator=g, threads=cfg.threads, fused=False,
                after_step=clamp, log_every=None if verbose else 0).model
    if verbose:
        with torch.no_grad():
            a = model.embed_audio(test.logmel)
            t = model.text_from_sentence(enc.encode([r["captions"][CAPTION_SENTENCE]
                                                     for r in test.records]))
        s = retrieval_scores(t @ a.T)
        print(f"test sentence->audio  R@1 {s['R@1']:.3f}  R@10 {s['R@10']:.3f}  medr {s['medr']:.0f}")
    out = Path(out_dir) / f"{CHECKPOINT}.safetensors"
    save_checkpoint(model, out, model.config)
    return out
