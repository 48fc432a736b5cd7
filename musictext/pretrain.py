"""Reproduce the reference checkpoints in ``musictext/checkpoints/`` from the
built-in data: ``python -m musictext.pretrain [NAME ...]`` (all when none is
named). NAME is a chapter module of ``musictext.models`` or its checkpoint's
name. Prints each checkpoint's SHA-256.

Examples:
  python -m musictext.pretrain tagger             # the reference tagger, a few minutes
  python -m musictext.pretrain generator --out ckpt   # the generator, about an hour
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .paths import CHECKPOINT_DIR


def _choices() -> dict:
    """{name: module}, under both the module name and the checkpoint name."""
    from .models import chapter_modules

    out = {}
    for name, mod in chapter_modules().items():
        out[name] = out[mod.CHECKPOINT] = mod
    return out


def build_parser(choices: dict) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m musictext.pretrain", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", metavar="NAME",
                    help=f"which reference models to train: {', '.join(sorted(choices))} "
                         "(default: all)")
    ap.add_argument("--out", type=Path, default=CHECKPOINT_DIR, help="output folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    from .text import sha256_file

    choices = _choices()
    ap = build_parser(choices)
    args = ap.parse_args(argv)
    unknown = [n for n in args.models if n not in choices]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; choose from {sorted(choices)}")
    mods = list(dict.fromkeys(choices[n] for n in args.models)) if args.models else \
        list(dict.fromkeys(choices.values()))
    for mod in mods:
        t0 = time.time()
        path = mod.pretrain(args.out)
        print(f"{mod.CHECKPOINT}: {path} sha256 {sha256_file(path)} ({time.time() - t0:.0f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
