"""musictext: the helper package of the book "Connecting Music Audio and Natural Language".

Rooms: ``musictext.data`` (SynthCaps: composer, renderer, captions, loaders;
``data.real`` reads real caption sets behind ``open_splits``; ``data.effects``
and several soundfonts make the varied build; ``data.shifted`` makes test sets
from a held-out soundfont and Bach chorales), ``audio`` (I/O,
log-mel, players), ``text`` (tokenizers, sentence encoder), ``metrics``,
``train``, ``plot``, ``models`` (reference models shared by chapters and the
command line), ``pretrained`` (CLAP and MusicGen through ``transformers``).
"""
from __future__ import annotations

import json
import os

__version__ = "0.1.0"

if os.environ.get("MUSICTEXT_OFFLINE_GUARD") == "1":  # set by the test suite
    from . import _offline

    _offline.install()


def report_metrics(**metrics) -> dict:
    """Record a notebook's headline numbers.

    When ``$MUSICTEXT_METRICS_FILE`` is set (the benchmark runner sets it), the
    numbers are merged into that JSON file; the dict is returned either way.
    """
    clean = {k: (float(v) if hasattr(v, "__float__") else v) for k, v in metrics.items()}
    path = os.environ.get("MUSICTEXT_METRICS_FILE")
    if path:
        old = {}
        if os.path.exists(path):
            with open(path) as f:
                old = json.load(f)
        old.update(clean)
        with open(path, "w") as f:
            json.dump(old, f, indent=1)
    return clean
