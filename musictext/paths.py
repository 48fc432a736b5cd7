"""Where the book's caches live. Nothing else in the package decides a path.

``cache_root()`` is ``$MUSICTEXT_CACHE`` when set, else ``~/.cache/musictext``.
Built datasets, parsed melodies and search indexes of read-only folders all go
below it. ``display_path`` writes a path for a reader: relative to the cache
root (as ``<cache>/...``) or to the home folder (as ``~/...``), so printed
output never shows a user name or an absolute home path.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CHECKPOINT_DIR", "cache_root", "checkpoint_path", "display_path"]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"   # shipped with the package


def cache_root() -> Path:
    """The cache folder: ``$MUSICTEXT_CACHE`` (``~`` expanded) or ``~/.cache/musictext``."""
    env = os.environ.get("MUSICTEXT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "musictext"


def checkpoint_path(name: str) -> Path:
    """The shipped checkpoint ``name`` (e.g. "tagger"): ``musictext/checkpoints/<name>.safetensors``."""
    return CHECKPOINT_DIR / f"{name}.safetensors"


def display_path(path: str | os.PathLike) -> str:
    """``path`` as a reader should see it printed.

    Below the cache root it becomes ``<cache>/rest`` (``~/.cache/musictext/rest``
    for the default root); below the home folder ``~/rest``; anything else is
    returned as given. Separators are always ``/``.
    """
    p = Path(path).expanduser()
    try:
        p = p.resolve()
    except OSError:
        pass
    roots = []
    cache = cache_root()
    default = Path.home() / ".cache" / "musictext"
    label = "~/.cache/musictext" if _same(cache, default) else "<cache>"
    roots.append((cache, label))
    roots.append((Path.home(), "~"))
    for root, name in roots:
        try:
            rel = p.relative_to(root.expanduser().resolve())
        except (ValueError, OSError):
            continue
        return name if str(rel) == "." else f"{name}/{rel.as_posix()}"
    return str(path)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.expanduser().resolve() == b.expanduser().resolve()
    except OSError:
        return False
