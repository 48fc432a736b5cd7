"""``python -m musictext generate "PROMPT" --out FILE.wav [--seconds S] [--seed N] [--guidance G]``"""
from __future__ import annotations

import math
import os
from pathlib import Path

from . import CommandError


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a short 16 kHz wav from a text prompt with the reference "
                                        "flow-matching generator")
    p.add_argument("prompt", help='a description of the music, e.g. "calm solo piano, slow, major key"')
    p.add_argument("--out", type=Path, required=True, help="output .wav file")
    p.add_argument("--seconds", type=float, default=5.0, help="length in seconds, in (0, 10] (default 5)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same file (default 0)")
    p.add_argument("--guidance", type=float, default=3.0,
                   help="classifier-free guidance scale in [0, 20] (default 3; 1 = no guidance)")
    p.add_argument("--steps", type=int, default=16, help="sampler steps in [1, 200] (default 16)")
    p.set_defaults(func=_generate)


def _check_out(out: Path) -> Path:
    if str(out).strip() == "":
        raise CommandError("--out is empty; name a .wav file")
    if out.is_dir():
        raise CommandError(f"--out '{out}' is a folder; name a .wav file")
    if out.suffix.lower() != ".wav":
        raise CommandError(f"--out '{out}' must end in .wav")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        raise CommandError(f"cannot write '{out}': the folder '{parent}' does not exist")
    if not parent.is_dir():
        raise CommandError(f"cannot write '{out}': '{parent}' is not a folder")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CommandError(f"cannot write '{out}': permission denied")
    return out


def _generate(args) -> int:
    import soundfile as sf

    from ..audio import SAMPLE_RATE
    from ..reference.generator import MAX_GUIDANCE, MAX_SECONDS

    prompt = args.prompt.strip()
    if not prompt:
        raise CommandError('the prompt is empty; describe the music, e.g. "calm piano jazz, slow"')
    if len(prompt) > 1000:
        raise CommandError(f"the prompt is {len(prompt)} characters long; use at most 1000")
    if not math.isfinite(args.seconds) or not 0 < args.seconds <= MAX_SECONDS:
        raise CommandError(f"--seconds must be in (0, {MAX_SECONDS:g}], got {args.seconds:g}")
    if not math.isfinite(args.guidance) or not 0 <= args.guidance <= MAX_GUIDANCE:
        raise CommandError(f"--guidance must be in [0, {MAX_GUIDANCE:g}], got {args.guidance:g}")
    if not 0 <= args.seed < 2 ** 63:
        raise CommandError(f"--seed must be in [0, 2^63), got {args.seed}")
    if not 1 <= args.steps <= 200:
        raise CommandError(f"--steps must be in [1, 200], got {args.steps}")
    out = _check_out(args.out)

    import torch

    from ..reference.generator import generate_audio, load_reference_generator

    torch.set_num_threads(min(2, torch.get_num_threads()))
    try:
        model = load_reference_generator()
    except RuntimeError as e:
        raise CommandError(str(e)) from None
    wave = generate_audio(prompt, seconds=args.seconds, seed=args.seed, guidance=args.guidance,
                          steps=args.steps, model=model)
    try:
        sf.write(str(out), wave.numpy(), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    except (OSError, RuntimeError) as e:
        raise CommandError(f"cannot write '{out}': {e}") from None
    print(f"{out}  ({wave.numel() / SAMPLE_RATE:.2f} s, 16 kHz mono, seed {args.seed}, guidance {args.guidance:g})")
    return 0
