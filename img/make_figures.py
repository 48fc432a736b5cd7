"""Draw the book's front-page figures: the overview, the logo and the favicon.

Run from the repository root::

    python img/make_figures.py

Everything is drawn with matplotlib from fixed numbers and a seeded random
generator, so the output is the same on every run and needs no network.
Files written next to this script: ``overview.png``, ``overview.svg``,
``logo.png`` and ``favicon.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon  # noqa: E402

HERE = Path(__file__).resolve().parent

# Colour-blind-safe palette (Okabe & Ito).
AUDIO = "#0072B2"  # blue: the music side
TEXT = "#D55E00"  # vermillion: the language side
DESCRIBE = "#009E73"  # green: audio -> text
RETRIEVE = "#CC79A7"  # purple: text <-> audio
GENERATE = "#E69F00"  # orange: text -> audio
INK = "#222222"
# Darker shades of the bridge colours for small text (contrast on a light tint).
RETRIEVE_INK = "#8C3B6E"
GENERATE_INK = "#9A5B00"
DESCRIBE_INK = "#00694D"
PAPER = "#FFFFFF"

# Fixed metadata keeps the PNG and SVG bytes identical between runs.
PNG_META = {"Software": None}
SVG_META = {"Creator": None, "Date": None}

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 12,
        "svg.hashsalt": "musictext",
        "svg.fonttype": "path",
    }
)


def toy_music(sr: int = 8000, seconds: float = 2.0, seed: int = 7) -> np.ndarray:
    """A short chord-and-drum sketch (float64, shape [samples]) used only for drawing."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = np.zeros_like(t)
    notes = [(0.0, [220.0, 277.2, 329.6]), (0.5, [196.0, 246.9, 293.7]),
             (1.0, [174.6, 220.0, 261.6]), (1.5, [196.0, 246.9, 329.6])]
    for onset, chord in notes:
        env = np.where(t >= onset, np.exp(-(t - onset) * 3.0), 0.0)
        for k, f in enumerate(chord):
            y += env * np.sin(2 * np.pi * f * t) / (k + 1.5)
            y += 0.3 * env * np.sin(2 * np.pi * 2 * f * t) / (k + 1.5)
    for onset in np.arange(0.0, seconds, 0.25):  # hi-hat style noise bursts
        env = np.where(t >= onset, np.exp(-(t - onset) * 40.0), 0.0)
        y += 0.25 * env * rng.standard_normal(t.shape)
    return y / np.abs(y).max()


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)


def log_mel_spectrogram(y: np.ndarray, sr: int = 8000, n_fft: int = 256, hop: int = 64,
                        n_mels: int = 48) -> np.ndarray:
    """Log-mel spectrogram in dB, shape [n_mels, frames]; numpy only (HTK mel scale)."""
    win = np.hanning(n_fft)
    frames = np.stack([y[i:i + n_fft] * win for i in range(0, len(y) - n_fft, hop)], axis=1)
    power = np.abs(np.fft.rfft(frames, axis=0)) ** 2  # [n_fft // 2 + 1, frames]
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(30.0), hz_to_mel(sr / 2), n_mels + 2))
    fb = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rise = (bins - lo) / (mid - lo)
        fall = (hi - bins) / (hi - mid)
        fb[m] = np.clip(np.minimum(rise, fall), 0.0, None)
    return 10 * np.log10(fb @ power + 1e-6)


def rounded_box(ax, xy, w, h, color, alpha=0.10, lw=2.0):
    box = FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.0,rounding_size=0.035",
                         linewidth=lw, edgecolor=color,
                         facecolor=matplotlib.colors.to_rgba(color, alpha), zorder=1)
    ax.add_patch(box)
    return box


def arrow(ax, start, end, color, both=False, lw=3.0):
    style = "<|-|>" if both else "-|>"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=22,
                                 linewidth=lw, color=color, zorder=3))


def draw_overview(path_png: Path, path_svg: Path) -> None:
    fig = plt.figure(figsize=(10, 5.6), dpi=160, facecolor=PAPER)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")

    ax.text(0.5, 0.955, "Connecting music audio and natural language",
            ha="center", va="center", fontsize=17, weight="bold", color=INK)

    # ---- left: music audio -------------------------------------------------
    rounded_box(ax, (0.02, 0.06), 0.24, 0.80, AUDIO)
    ax.text(0.14, 0.815, "Music audio", ha="center", va="center", fontsize=15,
            weight="bold", color=AUDIO)
    y = toy_music()
    wav_ax = fig.add_axes([0.04, 0.55, 0.20, 0.20])
    wav_ax.plot(np.linspace(0, 2, len(y)), y, color=AUDIO, linewidth=0.4)
    wav_ax.set_xlim(0, 2)
    wav_ax.set_ylim(-1.05, 1.05)
    wav_ax.axis("off")
    ax.text(0.14, 0.53, "waveform", ha="center", va="top", fontsize=11, color=INK)
    spec_ax = fig.add_axes([0.04, 0.16, 0.20, 0.29])
    spec = log_mel_spectrogram(y)
    spec_ax.imshow(spec, origin="lower", aspect="auto", cmap="magma",
                   vmin=spec.max() - 70, vmax=spec.max())
    spec_ax.set_xticks([])
    spec_ax.set_yticks([])
    for side in spec_ax.spines.values():
        side.set_color(AUDIO)
    ax.text(0.14, 0.14, "log-mel spectrogram", ha="center", va="top", fontsize=11,
            color=INK)

    # ---- right: natural language ---------------------------------------------
    rounded_box(ax, (0.74, 0.06), 0.24, 0.80, TEXT)
    ax.text(0.86, 0.815, "Natural language", ha="center", va="center", fontsize=15,
            weight="bold", color=TEXT)
    snippets = [
        ("tags", "jazz, piano, calm,\nslow, minor"),
        ("caption", "\u201ca slow, calm jazz\ntune with piano\nin a minor key\u201d"),
        ("query", "\u201csomething gentle\nfor a rainy night\u201d"),
    ]
    ys = [0.69, 0.48, 0.22]
    for (label, body), yy in zip(snippets, ys):
        ax.text(0.765, yy + 0.04, label, ha="left", va="center", fontsize=11,
                color=TEXT, weight="bold")
        ax.text(0.765, yy, body, ha="left", va="top", fontsize=11.5, color=INK,
                linespacing=1.25)

    # ---- middle: three bridges ----------------------------------------------
    # Description (top): audio -> text
    rounded_box(ax, (0.30, 0.635), 0.40, 0.20, DESCRIBE, alpha=0.08, lw=1.5)
    ax.text(0.50, 0.80, "Description", ha="center", va="center", fontsize=14,
            weight="bold", color=DESCRIBE_INK)
    ax.text(0.50, 0.755, "tagging and captioning", ha="center", va="center",
            fontsize=11.5, color=INK)
    arrow(ax, (0.27, 0.69), (0.73, 0.69), DESCRIBE)
    ax.text(0.50, 0.665, "audio \u2192 text", ha="center", va="top", fontsize=11.5,
            color=DESCRIBE_INK)

    # Retrieval (middle): joint embedding space
    rounded_box(ax, (0.30, 0.335), 0.40, 0.27, RETRIEVE, alpha=0.08, lw=1.5)
    ax.text(0.50, 0.575, "Retrieval", ha="center", va="center", fontsize=14,
            weight="bold", color=RETRIEVE_INK)
    ax.text(0.50, 0.535, "a joint embedding space", ha="center", va="center",
            fontsize=11.5, color=INK)
    rng = np.random.default_rng(3)
    centres = np.array([[0.40, 0.45], [0.50, 0.39], [0.60, 0.46]])
    for c in centres:
        a = c + rng.normal(0, 0.012, size=2)
        t = c + rng.normal(0, 0.012, size=2) + np.array([0.025, 0.012])
        ax.plot(*a, marker="o", markersize=9, color=AUDIO, zorder=4)
        ax.plot(*t, marker="s", markersize=8, color=TEXT, zorder=4)
        ax.plot([a[0], t[0]], [a[1], t[1]], color=RETRIEVE, linewidth=1.6, zorder=3)
    arrow(ax, (0.27, 0.42), (0.34, 0.42), RETRIEVE, both=True, lw=2.5)
    arrow(ax, (0.66, 0.42), (0.73, 0.42), RETRIEVE, both=True, lw=2.5)
    ax.plot([], [], "o", color=AUDIO, label="audio clip")
    ax.plot([], [], "s", color=TEXT, label="text")
    ax.text(0.50, 0.352, "text \u2194 audio: nearest neighbours", ha="center",
            va="center", fontsize=11.5, color=RETRIEVE_INK)

    # Generation (bottom): text -> audio
    rounded_box(ax, (0.30, 0.06), 0.40, 0.245, GENERATE, alpha=0.08, lw=1.5)
    ax.text(0.50, 0.27, "Generation", ha="center", va="center", fontsize=14,
            weight="bold", color=GENERATE_INK)
    ax.text(0.50, 0.225, "language models and diffusion", ha="center",
            va="center", fontsize=11.5, color=INK)
    arrow(ax, (0.73, 0.15), (0.27, 0.15), GENERATE)
    ax.text(0.50, 0.125, "text \u2192 audio", ha="center", va="top", fontsize=11.5,
            color=GENERATE_INK)

    fig.savefig(path_png, dpi=160, facecolor=PAPER, metadata=PNG_META)
    fig.savefig(path_svg, facecolor=PAPER, metadata=SVG_META)
    plt.close(fig)


def draw_mark(ax) -> None:
    """The logo mark: a speech bubble whose inside is a row of level bars."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.axis("off")
    bubble = FancyBboxPatch((0.08, 0.26), 0.84, 0.64,
                            boxstyle="round,pad=0.0,rounding_size=0.16",
                            facecolor=AUDIO, edgecolor="none")
    ax.add_patch(bubble)
    ax.add_patch(Polygon([[0.24, 0.30], [0.44, 0.30], [0.16, 0.07]], closed=True,
                         facecolor=AUDIO, edgecolor="none"))
    heights = [0.16, 0.34, 0.48, 0.28, 0.42, 0.22, 0.12]
    xs = np.linspace(0.22, 0.78, len(heights))
    for x, h in zip(xs, heights):
        colour = GENERATE if h == max(heights) else PAPER
        ax.add_patch(FancyBboxPatch((x - 0.03, 0.58 - h / 2), 0.06, h,
                                    boxstyle="round,pad=0.0,rounding_size=0.03",
                                    facecolor=colour, edgecolor="none"))


def draw_logo(path: Path) -> None:
    fig = plt.figure(figsize=(2.56, 2.56), dpi=100)
    fig.patch.set_alpha(0.0)
    draw_mark(fig.add_axes([0, 0, 1, 1]))
    fig.savefig(path, dpi=100, transparent=True, metadata=PNG_META)
    plt.close(fig)


def draw_favicon(path: Path) -> None:
    fig = plt.figure(figsize=(0.64, 0.64), dpi=100)
    fig.patch.set_alpha(0.0)
    draw_mark(fig.add_axes([0, 0, 1, 1]))
    fig.savefig(path, dpi=100, transparent=True, metadata=PNG_META)
    plt.close(fig)


def main() -> None:
    draw_overview(HERE / "overview.png", HERE / "overview.svg")
    draw_logo(HERE / "logo.png")
    draw_favicon(HERE / "favicon.png")
    for name in ("overview.png", "overview.svg", "logo.png", "favicon.png"):
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
