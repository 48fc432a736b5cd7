"""``python -m musictext search "QUERY" --index DIR [--top K] [--json]`` (or
``--audio PATH`` instead of a text query): rank the clips of a folder by their
similarity to the query in the reference joint embedding space, or, with
``--model clap [--weights PATH_OR_HUB_ID]``, in pretrained CLAP's."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from . import (CommandError, add_command, add_json_flag, add_model_flags, audio_path, positive_int,
               print_json, read_audio)


def register(sub) -> None:
    p = add_command(sub, "search", "search a folder of audio with a text query or an example clip",
                    ['search "calm solo piano" --index my_music/',
                     "search --audio song.wav --index my_music/ --top 5 --json",
                     'search "calm solo piano" --index my_music/ --model clap',
                     'search "calm solo piano" --index my_music/ --model clap --weights my_clap/'], run)
    p.add_argument("query", nargs="?", default=None, help='a text query, e.g. "calm solo piano"')
    p.add_argument("--audio", default=None, help="search by example: an audio file instead of a text query")
    p.add_argument("--index", required=True, type=Path,
                   help="a folder of audio files (searched recursively) or a built dataset folder")
    p.add_argument("--top", type=int, default=10, help="how many results (default 10)")
    add_json_flag(p, '"rank", "id" (for a dataset), "path", "score" and "tags" (for a dataset)')
    p.add_argument("--skip-unreadable", action="store_true",
                   help="leave out audio files that cannot be read instead of stopping")
    p.add_argument("--timing", action="store_true", help="print index and query times to stderr")
    add_model_flags(p, "clap", "the book's reference joint embedding",
                    "pretrained CLAP through transformers (each model keeps its own index cache)")


def run(args) -> int:
    from ..pretrained import PretrainedError, load_clap
    from ..search import SearchIndex
    from ..text import check_texts

    if (args.query is None) == (args.audio is None):
        raise CommandError("give either a text query or --audio PATH (not both)")
    top = positive_int("--top", args.top)
    # a bad query or example fails before any indexing
    query = check_texts(args.query)[0] if args.query is not None else read_audio(audio_path(args.audio))
    model = None
    if args.model == "clap":
        SearchIndex.discover(args.index)               # a bad folder fails before the model loads
        try:
            model = load_clap(args.weights)
        except PretrainedError as e:
            raise CommandError(str(e)) from None
    elif args.weights is not None:
        raise CommandError("--weights goes with --model clap")
    index = SearchIndex.build(args.index, model=model, skip_unreadable=args.skip_unreadable)
    t0 = time.perf_counter()
    q = index.model.embed_text(query) if isinstance(query, str) else index.model.embed_audio([query])
    rows = index.rank(q[0], top)
    t_query = time.perf_counter() - t0
    if index.stats["skipped"]:
        print(f"note: skipped {len(index.stats['skipped'])} unreadable file(s)", file=sys.stderr)
    if args.timing:
        st = index.stats
        print(f"index: {st['clips']} clips ({st['embedded']} embedded, {st['from_cache']} from cache) "
              f"in {st['seconds']:.2f} s; query {1000 * t_query:.1f} ms (model loading included)",
              file=sys.stderr)
    if args.json:
        print_json([{"rank": k, **r} for k, r in enumerate(rows, 1)])
        return 0
    for rank, r in enumerate(rows, 1):
        name = r.get("id") or r["path"]
        tags = ", ".join(r.get("tags", []))
        print(f"{rank:>3}  {r['score']:.3f}  {name}" + (f"  [{tags}]" if tags else ""))
    return 0
