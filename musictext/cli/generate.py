"""``python -m musictext generate "PROMPT" --out FILE.wav [--seconds S] [--seed N]
[--guidance G] [--steps N] [--json]``: text to music with the shipped generator, or
with ``--model musicgen [--weights PATH_OR_HUB_ID]`` with pretrained MusicGen."""
from __future__ import annotations

import math
from pathlib import Path

from ..pretrained import MUSICGEN_MAX_SECONDS
from . import CommandError, add_command, add_json_flag, add_model_flags, print_json, wav_out_path


def register(sub) -> None:
    p = add_command(sub, "generate", "generate a short 16 kHz wav from a text prompt with the "
                                     "shipped flow-matching generator",
                    ['generate "a calm piano piece, slow" --out calm.wav',
                     'generate "fast electronic music with synth bass" --out f.wav --seed 3',
                     ('generate "a calm piano piece, slow" --out calm.wav --model musicgen '
                      '--seconds 8')], run)
    p.add_argument("prompt", help='a description of the music, e.g. "calm solo piano, slow, major key"')
    p.add_argument("--out", type=Path, required=True, help="output .wav file")
    p.add_argument("--seconds", type=float, default=5.0,
                   help=f"length in seconds, in (0, 10] (default 5; with --model musicgen in "
                        f"(0, {MUSICGEN_MAX_SECONDS:g}])")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same file (default 0)")
    p.add_argument("--guidance", type=float, default=3.0,
                   help="classifier-free guidance scale in [0, 20] (default 3; 1 = no guidance)")
    p.add_argument("--steps", type=int, default=None,
                   help="sampler steps in [1, 200] (default 16; not for --model musicgen, which "
                        "samples one step per codec frame)")
    add_json_flag(p, '"path", "seconds", "seed", "guidance" (and "model" with --model musicgen)')
    add_model_flags(p, "musicgen", "the shipped flow-matching generator",
                    "pretrained MusicGen through transformers (its output is resampled to 16 kHz)")


def run(args) -> int:
    from ..models.generation import MAX_GENERATE_SECONDS, MAX_GUIDANCE
    from ..text import check_texts

    prompt = check_texts(args.prompt)[0]
    musicgen = args.model == "musicgen"
    max_seconds = MUSICGEN_MAX_SECONDS if musicgen else MAX_GENERATE_SECONDS
    if not math.isfinite(args.seconds) or not 0 < args.seconds <= max_seconds:
        raise CommandError(f"--seconds must be in (0, {max_seconds:g}], got {args.seconds:g}")
    if not math.isfinite(args.guidance) or not 0 <= args.guidance <= MAX_GUIDANCE:
        raise CommandError(f"--guidance must be in [0, {MAX_GUIDANCE:g}], got {args.guidance:g}")
    if not 0 <= args.seed < 2 ** 63:
        raise CommandError(f"--seed must be in [0, 2^63), got {args.seed}")
    if musicgen and args.steps is not None:
        raise CommandError("--steps is for the book's generator; MusicGen samples one step per "
                           "codec frame")
    if not musicgen and args.weights is not None:
        raise CommandError("--weights goes with --model musicgen")
    steps = 16 if args.steps is None else args.steps
    if not 1 <= steps <= 200:
        raise CommandError(f"--steps must be in [1, 200], got {steps}")
    out = wav_out_path(args.out)

    import soundfile as sf

    from .. import pretrained
    from ..audio import SAMPLE_RATE
    from ..models import generation

    if musicgen:
        try:
            mg = pretrained.load_musicgen(args.weights)
        except pretrained.PretrainedError as e:
            raise CommandError(str(e)) from None
        wave = pretrained.generate_musicgen(prompt, seconds=args.seconds, seed=args.seed,
                                            guidance=args.guidance, model=mg)
    else:
        try:
            model = generation.load()
        except RuntimeError as e:
            raise CommandError(str(e)) from None
        wave = generation.generate_audio(prompt, seconds=args.seconds, seed=args.seed,
                                         guidance=args.guidance, steps=steps, model=model)
    try:
        sf.write(str(out), wave.numpy(), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    except (OSError, RuntimeError) as e:
        raise CommandError(f"cannot write '{out}': {e}") from None
    row = {"path": str(out), "seconds": round(wave.numel() / SAMPLE_RATE, 3), "seed": args.seed,
           "guidance": args.guidance}
    if musicgen:
        row["model"] = mg.source
    if args.json:
        print_json([row])
    else:
        print(f"{out}  ({row['seconds']:.2f} s, 16 kHz mono, seed {args.seed}, "
              f"guidance {args.guidance:g}" + (f", MusicGen {mg.source})" if musicgen else ")"))
    return 0
