"""Build SynthCaps: compose, render and label a set of clips, streaming each
clip to disk so memory stays flat whatever the size."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf

from ..paths import cache_root, display_path
from .captions import heldout_caption, make_captions
from .composer import STYLE_NAMES, compose
from ..audio import CLIP_SECONDS, SAMPLE_RATE
from .effects import detune, draw_effects
from .render import DEFAULT_SOUNDFONT, TRAIN_SOUNDFONTS, midi_bytes, render_midi

DATASET_NAME = "SynthCaps"
DATASET_VERSION = 1
DEFAULT_CLIPS = 2000
DEFAULT_SEED = 0
SPLITS = {"train": 0.7, "valid": 0.1, "test": 0.2}
_DONE = "BUILD_COMPLETE.json"


def default_root(clips: int = DEFAULT_CLIPS, seed: int = DEFAULT_SEED, label_noise: float = 0.0,
                 varied: bool = False) -> Path:
    """The cached folder of the default build (or of the given settings)."""
    name = f"synthcaps-v{DATASET_VERSION}-n{clips}-s{seed}"
    if label_noise:
        name += f"-noise{label_noise:g}"
    if varied:
        name += "-varied"
    return cache_root() / name


def _plan(clips: int, seed: int) -> tuple[list[str], list[str]]:
    """Balanced styles, and splits stratified by style, shuffled by the seed.

    Each style gets its share of every split (largest remainders first, under
    the global 70/10/20 totals), so even a small build has all three splits.
    """
    rng = np.random.default_rng([seed, 12345])
    styles = [STYLE_NAMES[i % len(STYLE_NAMES)] for i in range(clips)]
    styles = [styles[i] for i in rng.permutation(clips)]
    names = list(SPLITS)
    fracs = [SPLITS[n] for n in names]
    n_train = int(round(clips * SPLITS["train"]))
    n_valid = int(round(clips * SPLITS["valid"]))
    left = [n_train, n_valid, clips - n_train - n_valid]
    members = {s: [i for i in range(clips) if styles[i] == s] for s in STYLE_NAMES}
    alloc = {}
    for s, idx in members.items():
        alloc[s] = [int(len(idx) * f) for f in fracs]
        for k in range(3):
            left[k] -= alloc[s][k]
    for s, idx in members.items():
        for _ in range(len(idx) - sum(alloc[s])):
            k = max((k for k in range(3) if left[k] > 0), key=lambda k: len(idx) * fracs[k] - alloc[s][k])
            alloc[s][k] += 1
            left[k] -= 1
    out = [""] * clips
    for s, idx in members.items():
        rng_s = np.random.default_rng([seed, STYLE_NAMES.index(s), 777])
        order = rng_s.permutation(len(idx))
        share = [n for n, a in zip(names, alloc[s]) for _ in range(a)]
        for k, j in enumerate(order):
            out[idx[j]] = share[k]
    return styles, out


_MELODIES: list[dict] | None = None


def _init_worker(melodies):
    global _MELODIES
    _MELODIES = melodies


def _make_clip(args) -> dict:
    index, style, split, seed, out, label_noise, varied = args
    melodies = _MELODIES
    clip_seed = int(np.random.default_rng([seed, index]).integers(0, 2**31 - 1))
    rng = np.random.default_rng(clip_seed)
    comp = compose(style, rng, seconds=CLIP_SECONDS, melodies=melodies)
    cid = f"sc{seed:02d}-{index:05d}"
    render = {"soundfont": DEFAULT_SOUNDFONT}
    fx = None
    if varied:
        var_rng = np.random.default_rng([clip_seed, 3])
        render["soundfont"] = TRAIN_SOUNDFONTS[int(var_rng.integers(len(TRAIN_SOUNDFONTS)))]
        fx = draw_effects(var_rng)
        detune(comp.midi, fx.detune_cents)
        render["effects"] = fx.to_dict()
    mid = midi_bytes(comp.midi)
    audio = render_midi(mid, seconds=CLIP_SECONDS, sample_rate=SAMPLE_RATE,
                        soundfont=render["soundfont"], effects=fx)
    sf.write(os.path.join(out, "audio", cid + ".wav"), audio, SAMPLE_RATE, subtype="PCM_16")
    with open(os.path.join(out, "midi", cid + ".mid"), "wb") as f:
        f.write(mid)
    true_tags = comp.tags
    tags = list(true_tags)
    cap_rng = np.random.default_rng([clip_seed, 1])
    if label_noise > 0:
        noise_rng = np.random.default_rng([clip_seed, 2])
        kept = [t for t in tags if noise_rng.random() >= label_noise]
        tags = kept if kept else [tags[0]]
    rec = {
        "id": cid, "split": split, "audio": f"audio/{cid}.wav", "midi": f"midi/{cid}.mid",
        "tags": tags, "captions": make_captions(tags, cap_rng),
    }
    if split != "train":
        rec["heldout_captions"] = [heldout_caption(tags, cap_rng)]
    if label_noise > 0:
        rec["true_tags"] = true_tags
    if varied:
        rec["render"] = render
    rec.update({
        "style": comp.style, "tempo": comp.tempo, "key": comp.key, "mode": comp.mode,
        "programs": comp.programs, "drums": comp.drums, "dynamics": comp.dynamics,
        "melody_source": comp.melody_source, "seed": clip_seed, **comp.params,
    })
    return rec


def build_dataset(out: str | os.PathLike, clips: int = DEFAULT_CLIPS, seed: int = DEFAULT_SEED,
                  label_noise: float = 0.0, workers: int | None = None,
                  progress: bool = True, varied: bool = False) -> Path:
    """Compose, render and label ``clips`` clips into ``out``.

    Writes ``manifest.jsonl`` (one clip a line), ``audio/<id>.wav`` (16 kHz mono
    PCM-16, 5 s) and ``midi/<id>.mid``. The same ``clips``, ``seed``,
    ``label_noise`` and ``varied`` always give the same bytes.

    ``varied=True`` renders each clip through a soundfont drawn from
    ``render.TRAIN_SOUNDFONTS`` and a seeded effects chain (``effects``),
    recorded under ``render`` in the clip's manifest line; the compositions,
    tags and captions are those of the plain build with the same seed.
    """
    if not isinstance(clips, int) or clips < 1:
        raise ValueError(f"clips must be a positive integer, got {clips!r}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise!r}")
    out = Path(out)
    if (out / "manifest.jsonl").exists() and not (out / _DONE).exists():
        shutil.rmtree(out)  # an interrupted build
    out.mkdir(parents=True, exist_ok=True)
    (out / "audio").mkdir(exist_ok=True)
    (out / "midi").mkdir(exist_ok=True)
    from .melodies import folk_melodies

    melodies = folk_melodies()
    styles, splits = _plan(clips, seed)
    jobs = [(i, styles[i], splits[i], seed, str(out), label_noise, varied) for i in range(clips)]
    _init_worker(melodies)
    workers = workers or min(os.cpu_count() or 1, 8)
    t0 = time.time()
    tmp = out / "manifest.jsonl.part"
    with open(tmp, "w", encoding="utf-8") as mf:
        if workers > 1 and clips > 8:
            # spawn on every platform: the workers get all they need from the
            # initializer, so Linux runs the same path as Windows and macOS
            ctx = get_context("spawn")
            with ctx.Pool(workers, initializer=_init_worker, initargs=(melodies,)) as pool:
                recs = pool.imap(_make_clip, jobs, chunksize=4)
                _write_all(recs, mf, clips, progress, t0)
        else:
            _write_all(map(_make_clip, jobs), mf, clips, progress, t0)
    os.replace(tmp, out / "manifest.jsonl")
    digest = hashlib.sha256((out / "manifest.jsonl").read_bytes()).hexdigest()
    (out / _DONE).write_text(json.dumps({"name": DATASET_NAME, "version": DATASET_VERSION,
                                         "clips": clips, "seed": seed, "label_noise": label_noise,
                                         **({"varied": True} if varied else {}),
                                         "manifest_sha256": digest}, indent=1))
    if progress:
        print(f"{DATASET_NAME}: {clips} clips in {time.time() - t0:.0f} s -> {display_path(out)}", flush=True)
    return out


def _write_all(recs, mf, total, progress, t0):
    step = max(total // 10, 1)
    for k, rec in enumerate(recs, 1):
        mf.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if progress and (k % step == 0 or k == total):
            print(f"  rendered {k}/{total} clips ({time.time() - t0:.0f} s)", flush=True)


def is_built(root: str | os.PathLike) -> bool:
    return (Path(root) / _DONE).exists()


def ensure_dataset(clips: int = DEFAULT_CLIPS, seed: int = DEFAULT_SEED, label_noise: float = 0.0,
                   root: str | os.PathLike | None = None, progress: bool = True,
                   varied: bool = False) -> Path:
    """Return the folder of a built dataset, building it first if needed.
    ``$MUSICTEXT_DATA`` (if set) names an existing built folder to use instead
    of the plain default build."""
    if root is None and os.environ.get("MUSICTEXT_DATA") and not varied:
        root = Path(os.environ["MUSICTEXT_DATA"]).expanduser()
        if not is_built(root):
            raise FileNotFoundError(f"MUSICTEXT_DATA={root} is not a built SynthCaps folder "
                                    f"(no {_DONE}); build it with python -m musictext data build --out {root}")
        return root
    root = Path(root) if root is not None else default_root(clips, seed, label_noise, varied)
    if not is_built(root):
        build_dataset(root, clips=clips, seed=seed, label_noise=label_noise, progress=progress,
                      varied=varied)
    return root
