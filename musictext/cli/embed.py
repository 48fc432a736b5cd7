"""``python -m musictext embed --text TEXT | --audio PATH [--json]``: the
128-d joint embedding of a text or an audio file (reference joint model)."""
from __future__ import annotations

from . import add_command, add_json_flag, audio_path, print_json, read_audio


def register(sub) -> None:
    p = add_command(sub, "embed", "print the joint text-audio embedding of a text or an audio file",
                    ['embed --text "calm solo piano"', "embed --audio song.wav --json"], run)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help='a text query, e.g. "calm solo piano"')
    src.add_argument("--audio", help="an audio file (wav, flac, mp3, ogg, aiff; any rate)")
    add_json_flag(p, '"text" or "audio" and "embedding"')


def run(args) -> int:
    from ..models import retrieval
    from ..text import check_texts

    if args.text is not None:
        text = check_texts(args.text)[0]      # a clear error before the model loads
        vec, row = retrieval.load().embed_text(text)[0], {"text": text}
    else:
        path = audio_path(args.audio)
        vec, row = retrieval.load().embed_audio([read_audio(path)])[0], {"audio": str(path)}
    values = [round(float(v), 6) for v in vec]
    if args.json:
        print_json([{**row, "embedding": values}])
    else:
        print(" ".join(f"{v:.6f}" for v in values))
    return 0
