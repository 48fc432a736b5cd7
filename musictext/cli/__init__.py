"""Sub-commands of ``python -m musictext``.

Every module in this package that defines ``register(subparsers)`` is a
command; ``commands()`` finds them, so adding one is adding its module. All
commands share one style:

- audio is given as ``--audio PATH`` (``tag PATH`` still works, with a note);
- ``--json`` prints a JSON list of objects, one per result, and nothing else;
- each module's handler is ``run(args) -> int``, registered through
  ``add_command``, whose ``--help`` ends with examples;
- the command line runs torch on at most ``THREADS`` threads;
- input is checked by the validators here and in ``musictext.text``, so a bad
  value is a one-line error (exit code 2), never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
from pathlib import Path
from types import ModuleType

THREADS = 2


class CommandError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def commands() -> dict[str, ModuleType]:
    """{name: module} of every command module in this package, sorted by name."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(mod, "register", None)):
            found[info.name] = mod
    return found


def add_command(sub, name: str, summary: str, examples: list[str], run,
                description: str | None = None) -> argparse.ArgumentParser:
    """Add command ``name`` with one-line ``summary``, a ``--help`` that ends
    with ``examples`` (command lines after ``python -m musictext``), and
    ``run`` as its handler."""
    epilog = "examples:\n" + "\n".join(f"  python -m musictext {e}" for e in examples)
    p = sub.add_parser(name, help=summary, description=description or summary, epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=run)
    return p


def add_json_flag(p: argparse.ArgumentParser, fields: str) -> None:
    p.add_argument("--json", action="store_true",
                   help=f"print a JSON list of objects with {fields} instead of text")


def print_json(rows: list[dict]) -> None:
    """The one ``--json`` format: a list of objects, indented by one space."""
    print(json.dumps(list(rows), indent=1, ensure_ascii=False))


def add_model_flags(parser, name: str, book: str, pretrained: str) -> None:
    """Add ``--model {book,NAME}`` (default book) and ``--weights PATH_OR_HUB_ID`` to a
    command's parser; ``book`` and ``pretrained`` say what each choice does."""
    from ..pretrained import DEFAULT_CLAP, DEFAULT_MUSICGEN

    default = {"clap": DEFAULT_CLAP, "musicgen": DEFAULT_MUSICGEN}[name]
    parser.add_argument("--model", choices=["book", name], default="book",
                        help=f"book: {book} (default); {name}: {pretrained}")
    parser.add_argument("--weights", metavar="PATH_OR_HUB_ID", default=None,
                        help=f"with --model {name}: a folder made by save_pretrained or a hub id "
                             f"(default {default})")


def positive_int(name: str, value: int) -> int:
    if value < 1:
        raise CommandError(f"{name} must be at least 1, got {value}")
    return value


def audio_path(value) -> Path:
    """An existing audio file (not a folder), or a CommandError naming the problem."""
    if value is None or not str(value).strip():
        raise CommandError("--audio needs a file path")
    path = Path(value)
    if not path.exists():
        raise CommandError(f"audio file not found: '{path}'")
    if path.is_dir():
        raise CommandError(f"'{path}' is a folder; give one audio file")
    return path


def wav_out_path(out: Path) -> Path:
    """A .wav file path whose folder exists and is writable."""
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


def read_audio(path: Path, min_seconds: float = 0.0):
    """Read a command's audio input (at most ``MAX_INPUT_SECONDS``) as a 16 kHz
    mono waveform; decoder warnings are silenced because an unreadable file
    raises one clear ``AudioError`` instead."""
    import warnings

    from ..audio import MAX_INPUT_SECONDS, SAMPLE_RATE, load_audio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wave = load_audio(path, min_seconds=min_seconds)
    return wave[:int(MAX_INPUT_SECONDS * SAMPLE_RATE)]
