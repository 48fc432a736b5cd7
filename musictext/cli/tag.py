"""``python -m musictext tag --audio PATH [--top K] [--json]``: the reference
tagger's best tags for an audio file, group by group; with ``--model clap
[--weights PATH_OR_HUB_ID]``, pretrained CLAP's zero-shot scores of the same tags."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import (CommandError, add_command, add_json_flag, add_model_flags, audio_path, positive_int,
               print_json, read_audio)


def register(sub) -> None:
    p = add_command(
        sub, "tag", "print the best tags of an audio file, group by group (reference tagger)",
        ["tag --audio song.wav", "tag --audio song.flac --top 5 --json",
         "tag --audio song.wav --model clap", "tag --audio song.wav --model clap --weights my_clap/"], run,
        description="Tag an audio file (wav, flac, mp3, ogg, aiff; any sample rate or channel "
                    "count, at least 1 s) with the book's reference tagger. Longer clips are "
                    "tagged in overlapping 5 s windows and averaged. For every tag group "
                    "(genre, instrument, mood, tempo, mode, dynamics, drums) the best tags are "
                    "printed with their probabilities. With --model clap, pretrained CLAP scores "
                    "the same tags zero-shot from text prompts; its probabilities are a softmax "
                    "over the tags of each group (they sum to 1 per group), not independent "
                    "probabilities as the reference tagger's are.")
    p.add_argument("--audio", type=Path, help="the audio file")
    p.add_argument("path", type=Path, nargs="?", help=argparse.SUPPRESS)   # the old spelling
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help="at most K tags per group, best first (default 3)")
    add_json_flag(p, '"group", "tag" and "probability"')
    add_model_flags(p, "clap", "the book's reference tagger",
                    "zero-shot tagging with pretrained CLAP through transformers")


def run(args) -> int:
    from .. import pretrained
    from ..models import tagging

    if args.path is not None and args.audio is not None:
        raise CommandError("give the audio file once, as --audio PATH")
    if args.path is not None:
        print("note: 'tag PATH' is deprecated; use 'tag --audio PATH'", file=sys.stderr)
    path = audio_path(args.audio if args.audio is not None else args.path)
    top = positive_int("--top", args.top)
    if args.model == "book" and args.weights is not None:
        raise CommandError("--weights goes with --model clap")
    wave = read_audio(path, min_seconds=tagging.MIN_SECONDS)
    if args.model == "clap":
        try:
            clap = pretrained.load_clap(args.weights)
        except pretrained.PretrainedError as e:
            raise CommandError(str(e)) from None
        groups = pretrained.clap_tags_by_group(clap, wave)
    else:
        model = tagging.load()
        groups = tagging.tags_by_group(model.tags, tagging.tag_waveform(model, wave))
    rows = [{"group": g, "tag": t, "probability": round(p, 4)}
            for g, ranked in groups.items() for t, p in ranked[:top]]
    if args.json:
        print_json(rows)
        return 0
    width = max(len(g) for g in groups)
    for g, ranked in groups.items():
        print(f"{g:<{width}}  " + "   ".join(f"{t} {p:.2f}" for t, p in ranked[:top]))
    return 0
