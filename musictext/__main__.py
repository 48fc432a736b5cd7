"""Command line: ``python -m musictext COMMAND ...``; ``--help`` lists the commands."""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from .cli import commands

    parser = argparse.ArgumentParser(
        prog="python -m musictext",
        description="Tools of the book 'Connecting Music Audio and Natural Language'. Audio is "
                    "given as --audio PATH; --json prints a list of objects.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in commands().values():
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .audio import AudioError
    from .cli import THREADS, CommandError
    from .text import TextError

    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(min(THREADS, torch.get_num_threads()))
    try:
        return int(args.func(args) or 0)
    except (CommandError, AudioError, TextError, FileNotFoundError, NotADirectoryError,
            PermissionError, IsADirectoryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
