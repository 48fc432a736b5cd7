"""``python -m musictext generate "PROMPT" --out FILE.wav [--seconds S] [--seed N]
[--guidance G] [--steps N] [--json]``: text to music with the shipped generator."""
from __future__ import annotations

import math
from pathlib import Path

from . import CommandError, add_command, add_json_flag, print_json, wav_out_path


def register(sub) -> None:
    p = add_command(sub, "generate", "generate a short 16 kHz wav from a text prompt with the "
                                     "shipped flow-matching generator",
                    ['generate "a calm piano piece, slow" --out calm.wav',
                     'generate "fast electronic music with synth bass" --out f.wav --seed 3'], run)
    p.add_argument("prompt", help='a description of the music, e.g. "calm solo piano, slow, major key"')
    p.add_argument("--out", type=Path, required=True, help="output .wav file")
    p.add_argument("--seconds", type=float, default=5.0, help="length in seconds, in (0, 10] (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same file (default 0)")
    p.add_argument("--guidance", type=float, default=3.0,
                   help="classifier-free guidance scale in [0, 20] (default 3; 1 = no guidance)")
    p.add_argument("--steps", type=int, default=16, help="sampler steps in [1, 200] (default 16)")
    add_json_flag(p, '"path", "seconds", "seed" and "guidance"')


def run(args) -> int:
    from ..models.generation import MAX_GENERATE_SECONDS, MAX_GUIDANCE
    from ..text import check_texts

    prompt = check_texts(args.prompt)[0]
    if not math.isfinite(args.seconds) or not 0 < args.seconds <= MAX_GENERATE_SECONDS:
        raise CommandError(f"--seconds must be in (0, {MAX_GENERATE_SECONDS:g}], got {args.seconds:g}")
    if not math.isfinite(args.guidance) or not 0 <= args.guidance <= MAX_GUIDANCE:
        raise CommandError(f"--guidance must be in [0, {MAX_GUIDANCE:g}], got {args.guidance:g}")
    if not 0 <= args.seed < 2 ** 63:
        raise CommandError(f"--seed must be in [0, 2^63), got {args.seed}")
    if not 1 <= args.steps <= 200:
        raise CommandError(f"--steps must be in [1, 200], got {args.steps}")
    out = wav_out_path(args.out)

    import soundfile as sf

    from ..audio import SAMPLE_RATE
    from ..models import generation

    try:
        model = generation.load()
    except RuntimeError as e:
        raise CommandError(str(e)) from None
    wave = generation.generate_audio(prompt, seconds=args.seconds, seed=args.seed,
                                     guidance=args.guidance, steps=args.steps, model=model)
    try:
        sf.write(str(out), wave.numpy(), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    except (OSError, RuntimeError) as e:
        raise CommandError(f"cannot write '{out}': {e}") from None
    row = {"path": str(out), "seconds": round(wave.numel() / SAMPLE_RATE, 3), "seed": args.seed,
           "guidance": args.guidance}
    if args.json:
        print_json([row])
    else:
        print(f"{out}  ({row['seconds']:.2f} s, 16 kHz mono, seed {args.seed}, "
              f"guidance {args.guidance:g})")
    return 0
