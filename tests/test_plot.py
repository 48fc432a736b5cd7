"""musictext.plot: each figure draws on a labelled axis and takes tensors or arrays."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from musictext import plot  # noqa: E402


def test_spectrogram_axes_are_in_seconds_and_mel_bins():
    ax = plot.spectrogram(torch.zeros(64, 313), title="x")
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "mel bin"
    assert abs(ax.get_xlim()[1] - 313 * 256 / 16000) < 1e-6
    plt.close("all")


def test_tag_bars_and_embedding_map_draw():
    ax = plot.tag_bars(["a", "b", "c"], np.array([0.2, 0.9, 0.5]), truth=["b"], top=2)
    assert len(ax.patches) == 2
    pts = np.random.default_rng(0).normal(size=(20, 2))
    ax = plot.embedding_map(pts, ["x"] * 10 + ["y"] * 10)
    assert ax.get_legend() is not None
    plt.close("all")
