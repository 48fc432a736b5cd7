"""``python -m musictext tag PATH [--top K] [--json]``: tag an audio file with the reference tagger."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from . import CommandError


def register(sub) -> None:
    p = sub.add_parser("tag", help="print the top tags of an audio file (reference tagger)",
                       description="Tag an audio file (wav, flac, mp3, ogg, aiff; any sample rate or "
                                   "channel count, at least 1 s) with the book's reference tagger. "
                                   "Clips longer than 5 s are tagged in 5 s windows and averaged.")
    p.add_argument("path", type=Path, help="audio file")
    p.add_argument("--top", type=int, default=10, metavar="K", help="how many tags to print (default 10)")
    p.add_argument("--json", action="store_true",
                   help='print a JSON list of {"tag", "probability"} instead of a table')
    p.set_defaults(func=run)


def run(args) -> int:
    from ..audio import SAMPLE_RATE, load_audio
    from ..reference.tagger import MIN_SECONDS, load_reference_tagger, tag_waveform

    path: Path = args.path
    if args.top < 1:
        raise CommandError(f"--top must be at least 1, got {args.top}")
    if not path.exists():
        raise CommandError(f"audio file not found: '{path}'")
    if path.is_dir():
        raise CommandError(f"'{path}' is a folder; give one audio file")
    with warnings.catch_warnings():  # decoders warn on unreadable files; the error below says it once
        warnings.simplefilter("ignore")
        wave = load_audio(path, SAMPLE_RATE, min_seconds=MIN_SECONDS)
    model = load_reference_tagger()
    probs = tag_waveform(model, wave)
    k = min(args.top, len(model.tags))
    top = probs.topk(k)
    rows = [{"tag": model.tags[int(i)], "probability": round(float(v), 4)} for v, i in zip(top.values, top.indices)]
    if args.json:
        print(json.dumps(rows))
    else:
        width = max(len(r["tag"]) for r in rows)
        for r in rows:
            print(f"{r['tag']:<{width}}  {r['probability']:.3f}")
    return 0
