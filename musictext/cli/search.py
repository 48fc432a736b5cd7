"""``python -m musictext search "QUERY" --index DIR [--top K] [--json]`` (or
``--audio PATH`` instead of a text query): rank the clips of a folder by their
similarity to the query in the reference joint embedding space."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import CommandError


def register(sub) -> None:
    p = sub.add_parser("search", help="search a folder of audio with a text query or an example clip")
    p.add_argument("query", nargs="?", default=None, help="a text query, e.g. \"calm solo piano\"")
    p.add_argument("--audio", default=None, help="search by example: an audio file instead of a text query")
    p.add_argument("--index", required=True, type=Path,
                   help="a folder of audio files (searched recursively) or a built dataset folder")
    p.add_argument("--top", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {id|path, score, tags}")
    p.add_argument("--skip-unreadable", action="store_true",
                   help="leave out audio files that cannot be read instead of stopping")
    p.add_argument("--timing", action="store_true", help="print index and query times to stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    import time

    from ..search import SearchIndex
    from ..text import check_texts

    if (args.query is None) == (args.audio is None):
        raise CommandError("give either a text query or --audio PATH (not both)")
    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    if args.query is not None:
        check_texts(args.query)
    else:
        from ..audio import load_audio

        load_audio(args.audio)  # a missing or unreadable example fails before any indexing
    index = SearchIndex.build(args.index, skip_unreadable=args.skip_unreadable)
    t0 = time.perf_counter()
    if args.query is not None:
        index.model.sentence_encoder  # load the text tower before timing the query
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = index.search(args.query, args.top) if args.query is not None \
        else index.search_audio(args.audio, args.top)
    t_query = time.perf_counter() - t0
    if index.stats["skipped"]:
        print(f"note: skipped {len(index.stats['skipped'])} unreadable file(s)", file=sys.stderr)
    if args.timing:
        st = index.stats
        print(f"index: {st['clips']} clips ({st['embedded']} embedded, {st['from_cache']} from cache) "
              f"in {st['seconds']:.2f} s; text encoder loaded in {t_load:.2f} s; query {1000 * t_query:.1f} ms",
              file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for rank, r in enumerate(rows, 1):
        name = r.get("id") or r["path"]
        tags = ", ".join(r.get("tags", []))
        print(f"{rank:>3}  {r['score']:.3f}  {name}" + (f"  [{tags}]" if tags else ""))
    return 0
