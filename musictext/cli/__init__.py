"""Sub-commands of ``python -m musictext``. Each module in ``COMMANDS`` defines
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed args and returning an exit code)."""

COMMANDS = ["data", "tag", "embed", "search", "generate"]


class CommandError(Exception):
    """A user-facing error: printed as one line, exit code 2."""
