"""The book's own layout, read from its table of contents (``_toc.yml``).

The benchmark runner and the tests take the list of chapter notebooks from
here, so they cannot disagree with the book about which notebooks exist.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["toc_files", "notebooks"]


def toc_files(book_root: str | os.PathLike) -> list[Path]:
    """Every file ``_toc.yml`` lists (root page first), as paths that exist on disk.

    A name in the TOC has no extension; the file is the ``.md`` or ``.ipynb``
    beside it. Raises FileNotFoundError for a missing TOC or a listed page
    with no file.
    """
    import yaml

    root = Path(book_root)
    toc_path = root / "_toc.yml"
    if not toc_path.exists():
        raise FileNotFoundError(f"no _toc.yml in '{root}'")
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    names: list[str] = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                names.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    out = []
    for name in names:
        hits = [root / f"{name}{ext}" for ext in (".ipynb", ".md") if (root / f"{name}{ext}").exists()]
        if not hits:
            raise FileNotFoundError(f"_toc.yml lists '{name}', but there is no {name}.md or {name}.ipynb")
        out.append(hits[0])
    return out


def notebooks(book_root: str | os.PathLike) -> list[Path]:
    """The chapter notebooks in the order the book shows them."""
    return [p for p in toc_files(book_root) if p.suffix == ".ipynb"]
