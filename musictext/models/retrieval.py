"""Reference joint text-audio embedding: architecture, checkpoint loader and pretrain().

A log-mel CNN (audio tower) and the frozen, bundled all-MiniLM-L6-v2 sentence
encoder (text tower), each followed by a projection into a shared space of
``embed_dim`` (128) dimensions, trained with the symmetric InfoNCE loss on the
built-in SynthCaps training captions. Only the trainable parts (audio tower,
projections, temperature) are stored in the checkpoint; the sentence encoder
comes from its own SHA-256-checked package.

>>> from musictext.models import load_reference_joint
>>> joint = load_reference_joint()
>>> t = joint.embed_text(["calm solo piano"])          # (1, 128), unit length
>>> a = joint.embed_audio(waves)                       # (N, 128), unit length
>>> scores = a @ t.T                                   # cosine similarities
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..audio import SAMPLE_RATE, AudioError, LogMel, pad_or_trim, validate_waveform

__all__ = ["JOINT_CHECKPOINT", "JOINT_SHA256", "JOINT_CONFIG", "JointAudioTower", "ReferenceJoint",
           "infonce_loss", "load_reference_joint", "pretrain_joint"]

JOINT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "joint.safetensors"
JOINT_SHA256 = "36743010e7a267b1b6b77e864cb105fb9994743f50c881e056333826dce7fc9b"
JOINT_CONFIG = {"n_mels": 64, "channels": [128, 128, 192], "time_pool": 4, "text_dim": 384, "text_hidden": 256,
                "embed_dim": 128, "window_seconds": 5.0, "max_windows": 6}

# training recipe of pretrain()
PRETRAIN = {"seed": 0, "steps": 500, "batch_size": 128, "lr": 3e-3, "weight_decay": 1e-4,
            "init_temperature": 0.07, "threads": 2}


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
        self.config = dict(JOINT_CONFIG, **(config or {}))
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

    def _windows(self, wave: torch.Tensor) -> torch.Tensor:
        """(T,) -> (W, window) evenly spaced windows (at most max_windows; short clips padded)."""
        win = int(round(self.config["window_seconds"] * SAMPLE_RATE))
        n = wave.shape[0]
        if n <= win:
            return pad_or_trim(wave, win)[None]
        count = min(self.config["max_windows"], -(-n // win))
        starts = torch.linspace(0, n - win, count).round().long().tolist()
        return torch.stack([wave[s:s + win] for s in starts])

    @torch.no_grad()
    def embed_audio(self, x, batch_size: int = 64) -> torch.Tensor:
        """Audio -> (N, embed_dim) unit vectors.

        ``x`` is a log-mel tensor (N, n_mels, frames); a waveform batch (N, T) at
        16 kHz; one waveform (T,); or a list of 1-D waveforms of any lengths.
        Waveforms are cut into ``window_seconds`` windows (at most
        ``max_windows``, evenly spaced; shorter clips are zero-padded) whose
        embeddings are averaged.
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
            if isinstance(x, torch.Tensor) and x.ndim == 1:
                x = [x]
            elif isinstance(x, torch.Tensor) and x.ndim == 2:
                x = list(x)
            if not isinstance(x, (list, tuple)) or len(x) == 0:
                raise AudioError("expected a log-mel batch, a waveform batch or a non-empty list of waveforms")
            wins, owner = [], []
            for i, w in enumerate(x):
                w = validate_waveform(w)
                ws = self._windows(w)
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

    def score(self, audio_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """Cosine similarities (N_audio, N_text) of unit vectors."""
        return audio_emb @ text_emb.T


def load_reference_joint(path: str | os.PathLike | None = None,
                         sha256: str | None = JOINT_SHA256) -> ReferenceJoint:
    """The pretrained reference joint embedding, in eval mode with gradients off.

    ``path=None`` loads the shipped ``musictext/checkpoints/joint.safetensors``.
    The file is refused unless its SHA-256 equals ``sha256`` (by default the
    shipped checkpoint's digest); pass ``sha256=None`` for a checkpoint you
    trained yourself with ``pretrain_joint``.
    """
    from ..train import load_checkpoint, verified_checkpoint_config

    path = Path(path) if path is not None else JOINT_CHECKPOINT
    cfg, digest = verified_checkpoint_config(path, sha256, "joint")
    model = ReferenceJoint(cfg)
    load_checkpoint(model, path)
    model.checkpoint_sha256 = digest  # identifies the model in search-index caches
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def pretrain_joint(out_dir: str | os.PathLike, root=None, steps: int | None = None,
                   log: bool = True) -> Path:
    """Train the reference joint embedding on SynthCaps (seeded, deterministic
    on a given machine and thread count) and write ``out_dir/joint.safetensors``."""
    from ..data import SynthCaps, ensure_dataset
    from ..metrics import retrieval_scores
    from ..text import load_sentence_encoder
    from ..train import Progress, save_checkpoint, seed_everything

    rec = dict(PRETRAIN, **({"steps": steps} if steps else {}))
    threads = torch.get_num_threads()
    torch.set_num_threads(rec["threads"])
    try:
        g = seed_everything(rec["seed"])
        root = root or ensure_dataset()
        train, test = SynthCaps(root, "train"), SynthCaps(root, "test")
        enc = load_sentence_encoder()
        caps = [c for r in train.records for c in r["captions"]]
        n_caps = len(train.records[0]["captions"])
        sent = enc.encode(caps).reshape(len(train), n_caps, -1)        # (N, captions, text_dim)
        model = ReferenceJoint({"text_dim": enc.dim})
        model.logit_scale.data.fill_(float(torch.log(torch.tensor(1 / rec["init_temperature"]))))
        opt = torch.optim.AdamW(model.parameters(), lr=rec["lr"], weight_decay=rec["weight_decay"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=rec["lr"], total_steps=rec["steps"],
                                                    pct_start=0.1)
        mel = train.logmel
        prog = Progress(rec["steps"], prefix="joint step ") if log else None
        model.train()
        perm, pos = torch.randperm(len(train), generator=g), 0
        for step in range(1, rec["steps"] + 1):
            if pos + rec["batch_size"] > len(train):
                perm, pos = torch.randperm(len(train), generator=g), 0
            idx = perm[pos:pos + rec["batch_size"]]
            pos += rec["batch_size"]
            which = torch.randint(n_caps, (len(idx),), generator=g)
            a = model.audio_from_logmel(mel[idx])
            t = model.text_from_sentence(sent[idx, which])
            loss = infonce_loss(a, t, model.logit_scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, 4.6052)
            if prog:
                prog(step, loss=loss.item(), temperature=float(1 / model.logit_scale.detach().exp()))
        model.eval()
        if log:
            with torch.no_grad():
                a = model.embed_audio(test.logmel)
                t = model.text_from_sentence(enc.encode([r["captions"][1] for r in test.records]))
            s = retrieval_scores(t @ a.T)
            print(f"test sentence->audio  R@1 {s['R@1']:.3f}  R@10 {s['R@10']:.3f}  medr {s['medr']:.0f}")
        out = Path(out_dir) / "joint.safetensors"
        save_checkpoint(model, out, model.config)
        return out
    finally:
        torch.set_num_threads(threads)


def pretrain(out_dir: str | os.PathLike) -> Path:
    """Entry point of ``python -m musictext.pretrain joint``."""
    return pretrain_joint(out_dir)
