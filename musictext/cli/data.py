"""``python -m musictext data build|info``"""
from __future__ import annotations

import json
from pathlib import Path

from . import CommandError


def register(sub) -> None:
    p = sub.add_parser("data", help="build or inspect the built-in SynthCaps dataset")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    b = dsub.add_parser("build", help="compose, render and label clips into a folder")
    b.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the cache, $MUSICTEXT_CACHE or ~/.cache/musictext)")
    b.add_argument("--clips", type=int, default=2000, help="number of clips (default 2000)")
    b.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    b.add_argument("--label-noise", type=float, default=0.0,
                   help="probability of dropping each tag, as in crowd-sourced labels (default 0)")
    b.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_build)
    i = dsub.add_parser("info", help="summarise a built folder")
    i.add_argument("folder", type=Path)
    i.set_defaults(func=_info)


def _build(args) -> int:
    from ..data import build_dataset, default_root

    if args.clips < 1:
        raise CommandError(f"--clips must be at least 1, got {args.clips}")
    if not 0 <= args.label_noise < 1:
        raise CommandError(f"--label-noise must be in [0, 1), got {args.label_noise}")
    out = args.out or default_root(args.clips, args.seed, args.label_noise)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out '{out}' exists and is not a folder")
    build_dataset(out, clips=args.clips, seed=args.seed, label_noise=args.label_noise,
                  workers=args.workers, progress=not args.quiet)
    print(out)
    return 0


def _info(args) -> int:
    from ..data import read_manifest

    try:
        recs = read_manifest(args.folder)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None
    splits: dict[str, int] = {}
    tags: dict[str, int] = {}
    for r in recs:
        splits[r["split"]] = splits.get(r["split"], 0) + 1
        for t in r["tags"]:
            tags[t] = tags.get(t, 0) + 1
    print(json.dumps({"clips": len(recs), "splits": splits,
                      "tags": dict(sorted(tags.items(), key=lambda kv: -kv[1]))}, indent=1))
    return 0
