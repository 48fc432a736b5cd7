"""``python -m musictext embed --text TEXT | --audio PATH [--json]``: print the
128-d joint embedding of a text or an audio file (reference joint model)."""
from __future__ import annotations

import json

from . import CommandError


def register(sub) -> None:
    p = sub.add_parser("embed", help="print the joint text-audio embedding of a text or an audio file")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="a text query, e.g. \"calm solo piano\"")
    src.add_argument("--audio", help="an audio file (wav, flac, mp3, ogg, aiff; any rate)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of plain numbers")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..audio import load_audio
    from ..reference.joint import load_reference_joint
    from ..search import MAX_SECONDS
    from ..text import check_texts

    if args.text is not None:
        check_texts(args.text)  # empty / over-long text: clear error before loading the model
        vec = load_reference_joint().embed_text(args.text)[0]
    else:
        if not args.audio.strip():
            raise CommandError("--audio needs a file path")
        wave = load_audio(args.audio)[:int(MAX_SECONDS * 16000)]
        vec = load_reference_joint().embed_audio([wave])[0]
    values = [round(float(v), 6) for v in vec]
    print(json.dumps(values) if args.json else " ".join(f"{v:.6f}" for v in values))
    return 0
