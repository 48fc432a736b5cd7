"""Static checks of the chapter notebooks as stored: what the book lists is what
exists, and nothing in them ties a reader to one platform or one machine."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from musictext.book import notebooks, toc_files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = notebooks(ROOT)
UNIX_ONLY = re.compile(r"^\s*(import\s+(resource|fcntl|termios|pwd|grp)\b|from\s+(resource|fcntl|termios|pwd|grp)\s+import)",
                       re.M)
HOME_PATH = re.compile(r"(/root/|/home/[^/\s]+/|/Users/[^/\s]+/|[A-Za-z]:\\\\?Users\\\\?)")
SHELL_LINE = re.compile(r"^\s*(!|%(cd|env|sx|system)\b|%%(bash|sh|script)\b)", re.M)


def _code_cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _output_text(cell: dict) -> str:
    parts = []
    for o in cell.get("outputs", []):
        parts.append("".join(o.get("text", "")))
        for value in o.get("data", {}).values():
            parts.append(value if isinstance(value, str) else "".join(value) if isinstance(value, list) else "")
    return "\n".join(parts)


def test_every_chapter_notebook_is_in_the_book():
    listed = {p.resolve() for p in NOTEBOOKS}
    on_disk = {p.resolve() for p in ROOT.glob("*/*.ipynb") if not p.parts[-2].startswith((".", "_"))}
    assert on_disk <= listed, f"notebooks not in _toc.yml: {sorted(map(str, on_disk - listed))}"
    assert len(toc_files(ROOT)) > len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_unix_only_imports_or_shell_commands(path):
    for cell in _code_cells(path):
        src = "".join(cell["source"])
        assert not UNIX_ONLY.search(src), f"{path.name}: Unix-only import in\n{src[:300]}"
        assert not SHELL_LINE.search(src), f"{path.name}: shell command in\n{src[:300]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_stored_outputs_show_no_home_paths(path):
    for i, cell in enumerate(_code_cells(path)):
        hit = HOME_PATH.search(_output_text(cell))
        assert not hit, f"{path.name}, code cell {i}: stored output shows an absolute home path {hit.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_stored_as_run_top_to_bottom_in_python3(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    counts = [c.get("execution_count") for c in _code_cells(path) if "".join(c["source"]).strip()]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts}"


def test_the_checks_catch_what_they_look_for():
    assert UNIX_ONLY.search("x = 1\nimport resource\n")
    assert UNIX_ONLY.search("from resource import getrusage")
    assert not UNIX_ONLY.search("import resources_of_mine")
    assert HOME_PATH.search("2000 clips in /home/ana/.cache/musictext")
    assert HOME_PATH.search(r"C:\Users\ana\data")
    assert not HOME_PATH.search("2000 clips in ~/.cache/musictext/synthcaps-v1-n2000-s0")
    assert SHELL_LINE.search("!pip install musictext")
    assert not SHELL_LINE.search('print("done!")')


def test_package_has_no_unix_only_calls():
    bad = []
    for p in (ROOT / "musictext").rglob("*.py"):
        src = p.read_text(encoding="utf-8")
        if UNIX_ONLY.search(src) or re.search(r"get_context\(\s*[\"']fork", src) or re.search(r"[\"']/tmp\b", src):
            bad.append(p.relative_to(ROOT).as_posix())
    assert not bad, f"Unix-only calls in {bad}"
