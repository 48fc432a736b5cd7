"""Plots used across the book: spectrograms, tag bars and embedding maps. Each function draws on a given (or new) matplotlib axis and
returns it; axes are labelled and sized for the book's page width."""
from __future__ import annotations

import numpy as np
import torch

from .audio import SAMPLE_RATE


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _ax(ax, figsize=(7, 2.6)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def spectrogram(logmel, ax=None, title: str | None = None, hop_length: int = 256,
                sample_rate: int = SAMPLE_RATE, colorbar: bool = False):
    """Draw a log-mel spectrogram (n_mels, frames) with time in seconds."""
    ax = _ax(ax)
    m = _np(logmel)
    dur = m.shape[1] * hop_length / sample_rate
    im = ax.imshow(m, origin="lower", aspect="auto", cmap="magma", extent=[0, dur, 0, m.shape[0]])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="log power")
    return ax


def tag_bars(tags: list[str], scores, truth=None, ax=None, top: int = 12, title: str | None = None):
    """Horizontal bars of the ``top`` highest scores; true tags drawn in a second colour."""
    s = _np(scores).astype(float)
    order = np.argsort(-s)[:top][::-1]
    ax = _ax(ax, figsize=(4, 0.25 * top + 0.8))
    t = set() if truth is None else set(truth)
    colors = ["#2b8cbe" if tags[i] in t else "#bdbdbd" for i in order]
    ax.barh([tags[i] for i in order], s[order], color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("predicted probability")
    if title:
        ax.set_title(title, fontsize=10)
    if truth is not None:
        ax.text(0.99, 0.01, "blue: true tag", transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
    return ax


def embedding_map(points, groups: list[str], ax=None, markers=None, title: str | None = None,
                  s: float = 12):
    """Scatter 2-D points coloured by group (e.g. genre); ``markers`` (same length)
    distinguishes kinds of point (e.g. "audio" vs "text")."""
    import matplotlib.pyplot as plt

    ax = _ax(ax, figsize=(6, 5))
    p = _np(points)
    names = sorted(set(groups))
    cmap = plt.get_cmap("tab10")
    kinds = sorted(set(markers)) if markers is not None else [None]
    shapes = ["o", "^", "s", "x"]
    for ki, kind in enumerate(kinds):
        for gi, g in enumerate(names):
            idx = [i for i in range(len(p)) if groups[i] == g and (kind is None or markers[i] == kind)]
            if idx:
                ax.scatter(p[idx, 0], p[idx, 1], s=s, color=cmap(gi % 10), marker=shapes[ki % 4],
                           label=g if ki == 0 else None, alpha=0.75, linewidths=0.5)
    ax.legend(fontsize=8, markerscale=1.5, loc="best", ncol=2)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return ax
