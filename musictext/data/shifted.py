"""Test sets from outside the training domain, for the question "does it
transfer?".

- :func:`shifted_split` re-renders one split of a built SynthCaps folder
  through another soundfont (by default ``render.HELDOUT_SOUNDFONT``, which no
  training path uses), with the same MIDI, tags and captions. It is built once
  and cached beside the data, and read with ``SynthCaps(folder, split)``;
  :func:`rerendered` does both for a SynthCaps split you already hold.
- :func:`chorale_clips` renders Bach chorales from the ``music21`` corpus,
  music nobody here composed, with all four voices on one known instrument.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from ..audio import CLIP_SECONDS, SAMPLE_RATE
from ..paths import cache_root
from .build import _DONE, DATASET_NAME, DATASET_VERSION, is_built
from .render import HELDOUT_SOUNDFONT, SOUNDFONTS, render_midi
from .vocab import INSTRUMENTS, PROGRAM_OF

CHORALES = 150                     # chorales in the set: each instrument tag six times
CHORALE_QUARTERS = 12              # the opening this many quarter notes is kept
CHORALE_VELOCITY = 80              # between the build's soft (48) and loud (100)
CHORALE_TEMPO = (66, 100)          # quarter notes a minute, drawn per chorale
LOW_INSTRUMENTS = ("acoustic bass", "electric bass", "synth bass")   # played an octave down
_CHORALE_CACHE_VERSION = 1


def shifted_root(root: str | os.PathLike, split: str = "test",
                 soundfont: str = HELDOUT_SOUNDFONT) -> Path:
    """The cached folder of ``split`` of the build ``root`` rendered through ``soundfont``."""
    return cache_root() / f"{Path(root).name}-{split}-{soundfont}"


def shifted_split(root: str | os.PathLike, split: str = "test",
                  soundfont: str = HELDOUT_SOUNDFONT, progress: bool = False) -> Path:
    """Re-render ``split`` of the built folder ``root`` through ``soundfont``
    (no effects) into its own folder, once; returns the folder. Its manifest
    keeps every record of the split, with ``render`` saying what was used."""
    from .datasets import read_manifest

    root = Path(root)
    if soundfont not in SOUNDFONTS:
        raise ValueError(f"unknown soundfont {soundfont!r}; known: {sorted(SOUNDFONTS)}")
    if not is_built(root):
        raise FileNotFoundError(f"{root} is not a built SynthCaps folder (no {_DONE})")
    out = shifted_root(root, split, soundfont)
    if is_built(out):
        return out
    if out.exists():
        shutil.rmtree(out)                     # an interrupted build
    (out / "audio").mkdir(parents=True)
    records = read_manifest(root, split)
    lines = []
    for k, rec in enumerate(records, 1):
        midi = (root / rec["midi"]).read_bytes()
        audio = render_midi(midi, seconds=CLIP_SECONDS, sample_rate=SAMPLE_RATE, soundfont=soundfont)
        sf.write(out / rec["audio"], audio, SAMPLE_RATE, subtype="PCM_16")
        new = {k2: v for k2, v in rec.items() if k2 != "midi"}
        new["render"] = {"soundfont": soundfont}
        lines.append(json.dumps(new, ensure_ascii=False))
        if progress and k % 100 == 0:
            print(f"  re-rendered {k}/{len(records)} clips", flush=True)
    text = "\n".join(lines) + "\n"
    (out / "manifest.jsonl").write_text(text, encoding="utf-8")
    (out / _DONE).write_text(json.dumps({
        "name": DATASET_NAME, "version": DATASET_VERSION, "clips": len(records),
        "shifted_from": root.name, "split": split, "soundfont": soundfont,
        "manifest_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}, indent=1))
    return out


def rerendered(ds, soundfont: str = HELDOUT_SOUNDFONT):
    """The SynthCaps split ``ds`` with every clip rendered through
    ``soundfont`` instead (see :func:`shifted_split`), as a ``SynthCaps``."""
    from .datasets import SynthCaps

    if getattr(ds, "name", None) != "synthcaps" or not getattr(ds, "split", None):
        raise ValueError("rerendered() needs one split of a SynthCaps build, got "
                         f"{type(ds).__name__} {getattr(ds, 'name', '')!r}".rstrip())
    return SynthCaps(shifted_split(ds.root, ds.split, soundfont), ds.split)


def bach_chorales(n: int = CHORALES) -> list[dict]:
    """The openings of the first ``n`` Bach chorales in the music21 corpus
    (sorted by file name), cached as JSON: ``name`` and ``notes`` as
    [midi pitch, onset and duration in quarter notes]."""
    path = cache_root() / f"chorales-n{n}-q{CHORALE_QUARTERS}-v{_CHORALE_CACHE_VERSION}.json"
    if path.exists():
        return json.loads(path.read_text())
    from music21 import corpus

    chorales = []
    for p in sorted(corpus.getComposer("bach"), key=lambda p: Path(p).name):
        score = corpus.parse(p)
        if len(score.parts) != 4:
            continue
        notes = [[int(x.pitch.midi), round(float(x.offset), 4), round(float(x.quarterLength), 4)]
                 for part in score.parts for x in part.flatten().notes
                 if x.isNote and float(x.offset) < CHORALE_QUARTERS]
        chorales.append({"name": Path(p).name.split(".mxl")[0], "notes": notes})
        if len(chorales) == n:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(chorales))
    os.replace(tmp, path)
    return chorales


def chorale_midi(notes: list, instrument: str, tempo: float) -> pretty_midi.PrettyMIDI:
    """All voices of ``notes`` on the General MIDI program of ``instrument``."""
    if instrument not in PROGRAM_OF:
        raise ValueError(f"{instrument!r} is not an instrument tag; choose from {list(PROGRAM_OF)}")
    spq = 60.0 / tempo
    shift = -12 if instrument in LOW_INSTRUMENTS else 0
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    inst = pretty_midi.Instrument(program=PROGRAM_OF[instrument])
    for pitch, onset, dur in notes:
        inst.notes.append(pretty_midi.Note(velocity=CHORALE_VELOCITY, pitch=pitch + shift,
                                           start=onset * spq, end=(onset + dur) * spq))
    pm.instruments.append(inst)
    return pm


def chorale_clips(soundfont: str = HELDOUT_SOUNDFONT, n: int = CHORALES, seed: int = 0) -> dict:
    """``n`` chorale openings, the k-th played by the k-th instrument tag (in
    turn), at a seeded tempo, rendered through ``soundfont``.

    Returns ``audio`` (n, samples) float32 at 16 kHz, ``instrument`` (the tag
    of each clip), ``name`` (the chorale) and ``tempo``."""
    chorales = bach_chorales(n)
    instruments = list(INSTRUMENTS.values())
    rng = np.random.default_rng([seed, 2024])
    tempos = rng.integers(CHORALE_TEMPO[0], CHORALE_TEMPO[1] + 1, len(chorales))
    tags = [instruments[k % len(instruments)] for k in range(len(chorales))]
    audio = np.stack([render_midi(chorale_midi(c["notes"], t, float(bpm)), seconds=CLIP_SECONDS,
                                  sample_rate=SAMPLE_RATE, soundfont=soundfont)
                      for c, t, bpm in zip(chorales, tags, tempos)])
    return {"audio": audio, "instrument": tags, "name": [c["name"] for c in chorales],
            "tempo": [int(b) for b in tempos]}
