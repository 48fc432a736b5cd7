"""Training plumbing: seeding, device choice, a small fit loop with plain-text
progress, and checkpoints in safetensors."""
from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch


def seed_everything(seed: int = 0, threads: int | None = None) -> torch.Generator:
    """Seed Python, NumPy and torch (and make torch deterministic where it can).
    Returns a seeded ``torch.Generator`` for data loaders."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads:
        torch.set_num_threads(threads)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else CUDA when present, else CPU. The book's numbers are CPU numbers."""
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class Progress:
    """Plain-text progress lines (tqdm widgets render blank in a static book)."""

    def __init__(self, total: int, every: int | None = None, prefix: str = ""):
        self.total, self.prefix, self.t0 = total, prefix, time.time()
        self.every = every or max(total // 10, 1)

    def __call__(self, step: int, **values) -> None:
        if step % self.every == 0 or step == self.total:
            vals = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
            print(f"{self.prefix}{step:>5}/{self.total}  {vals}  ({time.time() - self.t0:.0f} s)", flush=True)


def fit(model: torch.nn.Module, loss_fn, loader, epochs: int = 1, lr: float = 1e-3,
        weight_decay: float = 1e-4, optimizer: torch.optim.Optimizer | None = None,
        scheduler: str | None = "cosine", log_every: int | None = None, clip_grad: float | None = 1.0,
        eval_fn=None) -> list[float]:
    """Train ``model`` by minimising ``loss_fn(model, batch)`` over ``loader``.

    AdamW with an optional cosine learning-rate schedule; prints a line every
    ``log_every`` steps (default: ten lines in all) and, after each epoch, the
    dict returned by ``eval_fn()`` if given. Returns the per-step losses.
    """
    opt = optimizer or torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                         lr=lr, weight_decay=weight_decay)
    total = epochs * len(loader)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.1) \
        if scheduler == "cosine" else None
    prog = Progress(total, log_every, prefix="step ")
    losses: list[float] = []
    step = 0
    for ep in range(epochs):
        model.train()
        for batch in loader:
            loss = loss_fn(model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            opt.step()
            if sched:
                sched.step()
            step += 1
            losses.append(float(loss))
            prog(step, epoch=ep + 1, loss=float(np.mean(losses[-20:])))
        if eval_fn is not None:
            model.eval()
            with torch.no_grad():
                res = eval_fn()
            print(f"epoch {ep + 1}: " + "  ".join(f"{k} {v:.4f}" for k, v in res.items()), flush=True)
    model.eval()
    return losses


def save_checkpoint(model: torch.nn.Module, path: str | os.PathLike, config: dict | None = None) -> Path:
    """Save the weights as safetensors and ``config`` as JSON metadata inside the file."""
    from safetensors.torch import save_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, str(path), metadata={"config": json.dumps(config or {})})
    return path


def load_checkpoint(model: torch.nn.Module, path: str | os.PathLike, sha256: str | None = None) -> dict:
    """Load safetensors weights into ``model`` (strictly) and return the stored config.
    With ``sha256``, refuse a file whose digest differs."""
    from safetensors import safe_open
    from safetensors.torch import load_model

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: '{path}'")
    if sha256 is not None:
        from .text import sha256_file

        got = sha256_file(path)
        if got != sha256:
            raise RuntimeError(f"checkpoint '{path}' has SHA-256 {got}, expected {sha256}")
    load_model(model, str(path), strict=True)
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    return json.loads(meta.get("config", "{}"))


def read_checkpoint_config(path: str | os.PathLike) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    return json.loads(meta.get("config", "{}"))


def verified_checkpoint_config(path: str | os.PathLike, sha256: str | None, name: str) -> tuple[dict, str]:
    """Check a shipped checkpoint before loading it and return (config, SHA-256).

    Raises FileNotFoundError for a missing file (saying how to reproduce it
    with ``python -m musictext.pretrain NAME``), IsADirectoryError for a
    folder, RuntimeError when ``sha256`` is given and differs, or when the file
    is not a readable safetensors checkpoint.
    """
    from .text import sha256_file

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{name} checkpoint not found: '{path}'; reproduce it with "
                                f"python -m musictext.pretrain {name}")
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a folder, not a checkpoint file")
    digest = sha256_file(path)
    if sha256 is not None and digest != sha256:
        raise RuntimeError(f"{name} checkpoint '{path}' has SHA-256 {digest}, expected {sha256}: the file is "
                           f"corrupted or was changed; reproduce it with python -m musictext.pretrain {name}")
    try:
        cfg = read_checkpoint_config(path)
    except Exception as e:
        raise RuntimeError(f"'{path}' is not a readable safetensors checkpoint ({e})") from None
    return cfg, digest
