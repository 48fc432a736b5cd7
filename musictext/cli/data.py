"""``python -m musictext data build|info``: build the built-in SynthCaps set or
summarise a built folder."""
from __future__ import annotations

from pathlib import Path

from . import CommandError, add_command, add_json_flag, positive_int, print_json


def register(sub) -> None:
    p = add_command(sub, "data", "build or inspect the built-in SynthCaps dataset",
                    ["data build --out synthcaps --clips 2000 --seed 0", "data info synthcaps --json"],
                    None)
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    b = dsub.add_parser("build", help="compose, render and label clips into a folder")
    b.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the cache, $MUSICTEXT_CACHE or ~/.cache/musictext)")
    b.add_argument("--clips", type=int, default=2000, help="number of clips (default 2000)")
    b.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    b.add_argument("--label-noise", type=float, default=0.0,
                   help="probability of dropping each tag, as in crowd-sourced labels (default 0)")
    b.add_argument("--varied", action="store_true",
                   help="render through several soundfonts with a seeded effects chain "
                        "(the same music, tags and captions)")
    b.add_argument("--workers", type=int, default=None, help="processes (default: all cores, at most 8)")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    add_json_flag(b, '"folder" and "clips"')
    b.set_defaults(func=run)
    i = dsub.add_parser("info", help="summarise a built folder")
    i.add_argument("folder", type=Path)
    add_json_flag(i, '"folder", "clips", "splits" and "tags" (tag counts)')
    i.set_defaults(func=run)


def run(args) -> int:
    return _build(args) if args.data_cmd == "build" else _info(args)


def _build(args) -> int:
    from ..data import build_dataset, default_root

    positive_int("--clips", args.clips)
    if args.workers is not None:
        positive_int("--workers", args.workers)
    if not 0 <= args.label_noise < 1:
        raise CommandError(f"--label-noise must be in [0, 1), got {args.label_noise}")
    out = args.out or default_root(args.clips, args.seed, args.label_noise, args.varied)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out '{out}' exists and is not a folder")
    build_dataset(out, clips=args.clips, seed=args.seed, label_noise=args.label_noise,
                  workers=args.workers, progress=not (args.quiet or args.json), varied=args.varied)
    if args.json:
        print_json([{"folder": str(out), "clips": args.clips}])
    else:
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
    row = {"folder": str(args.folder), "clips": len(recs), "splits": splits,
           "tags": dict(sorted(tags.items(), key=lambda kv: -kv[1]))}
    if args.json:
        print_json([row])
        return 0
    print(f"{row['folder']}: {row['clips']} clips ("
          + ", ".join(f"{k} {v}" for k, v in splits.items()) + ")")
    for t, n in row["tags"].items():
        print(f"  {t:<18} {n}")
    return 0
