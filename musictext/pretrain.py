"""Reproduce the reference checkpoints in ``musictext/checkpoints/`` from the
built-in data: ``python -m musictext.pretrain [tagger] [joint] [generator]``
(all three when none is named). Prints each checkpoint's SHA-256."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

NAMES = ["tagger", "joint", "generator"]
CHECKPOINT_DIR = Path(__file__).parent / "checkpoints"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m musictext.pretrain", description=__doc__)
    ap.add_argument("models", nargs="*", choices=NAMES + [[]], default=[],
                    help="which reference models to train (default: all)")
    ap.add_argument("--out", type=Path, default=CHECKPOINT_DIR, help="output folder")
    args = ap.parse_args(argv)
    for name in args.models or NAMES:
        mod = importlib.import_module(f"musictext.reference.{name}")
        if not hasattr(mod, "pretrain"):
            print(f"{name}: no pretrain() in this version, skipped")
            continue
        t0 = time.time()
        path = mod.pretrain(args.out)
        from .text import sha256_file

        print(f"{name}: {path} sha256 {sha256_file(path)} ({time.time() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
