"""Build everything the chapter notebooks read from the cache, once, before
any notebook runs (the test suite and the benchmark call it)."""
from __future__ import annotations

import os
import time

from .build import default_root, ensure_dataset, is_built
from .datasets import SPLIT_NAMES, SynthCaps
from .shifted import bach_chorales, shifted_split


def prepare_caches(progress: bool = False) -> dict:
    """Build everything the chapter notebooks read from the cache, so that no
    notebook builds (and prints) anything itself: the default SynthCaps set
    (with the parsed folk melodies it needs), the log-mel features of each
    of its splits, its test split through the held-out soundfont and the
    parsed Bach chorales (see ``shifted``). Returns what was done: ``root``,
    ``built`` (bool) and ``seconds``."""
    t0 = time.time()
    built = not os.environ.get("MUSICTEXT_DATA") and not is_built(default_root())
    root = ensure_dataset(progress=progress)
    for split in SPLIT_NAMES:
        SynthCaps(root, split)                       # computes and caches the features once
    SynthCaps(shifted_split(root), "test")
    bach_chorales()
    return {"root": root, "built": built, "seconds": time.time() - t0}
