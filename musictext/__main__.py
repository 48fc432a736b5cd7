"""Command line: ``python -m musictext {data,tag,embed,search,generate} ...``"""
from __future__ import annotations

import argparse
import importlib
import sys


def build_parser() -> argparse.ArgumentParser:
    from .cli import COMMANDS

    parser = argparse.ArgumentParser(prog="python -m musictext",
                                     description="Tools of the book 'Connecting Music Audio and Natural Language'.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"musictext.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"musictext.cli.{name}":
                continue  # command not available in this version
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .audio import AudioError
    from .cli import CommandError
    from .text import TextError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CommandError, AudioError, TextError, FileNotFoundError, NotADirectoryError,
            PermissionError, IsADirectoryError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
