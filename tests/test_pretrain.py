"""Discovery: a new chapter module is found by ``pretrain``, a new command module
by the command line, and a new notebook in ``_toc.yml`` by the benchmark, with
no list to edit."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import musictext.cli
import musictext.models
from musictext import pretrain
from musictext.__main__ import build_parser
from musictext.book import notebooks

ROOT = Path(__file__).resolve().parent.parent

CHAPTER = '''
CHECKPOINT = "toy"
from pathlib import Path
def pretrain(out_dir, cfg=None):
    out = Path(out_dir) / "toy.safetensors"
    out.write_bytes(b"toy")
    return out
'''
COMMAND = '''
from . import add_command
def register(sub):
    add_command(sub, "toy", "a toy command", ["toy"], lambda args: 0)
'''


@pytest.fixture()
def extra_modules(tmp_path, monkeypatch):
    """A temporary chapter module and command module, on the packages' search paths."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "toychapter.py").write_text(CHAPTER)
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "toycmd.py").write_text(COMMAND)
    monkeypatch.setattr(musictext.models, "__path__", [*musictext.models.__path__, str(tmp_path / "models")])
    monkeypatch.setattr(musictext.cli, "__path__", [*musictext.cli.__path__, str(tmp_path / "cli")])
    yield tmp_path
    for name in ("musictext.models.toychapter", "musictext.cli.toycmd"):
        sys.modules.pop(name, None)


def test_the_shipped_chapters_and_commands_are_found():
    assert set(musictext.models.chapter_modules()) == {"tagging", "retrieval", "generation"}
    assert set(musictext.cli.commands()) == {"data", "embed", "generate", "search", "tag"}


def test_a_new_chapter_module_reaches_pretrain(extra_modules, capsys, tmp_path):
    assert "toychapter" in musictext.models.chapter_modules()
    with pytest.raises(SystemExit):
        pretrain.main(["--help"])
    assert "toychapter" in capsys.readouterr().out
    assert pretrain.main(["toy", "--out", str(tmp_path)]) == 0
    assert "toy: " in capsys.readouterr().out and (tmp_path / "toy.safetensors").exists()


def test_a_new_command_module_reaches_the_command_line(extra_modules, capsys):
    parser = build_parser()
    assert parser.parse_args(["toy"]).func(None) == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    assert "toy" in capsys.readouterr().out


def test_a_new_notebook_in_the_toc_reaches_the_benchmark(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: new/toy\n")
    (tmp_path / "intro.md").write_text("# intro\n")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "toy.ipynb").write_text("{}")
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert "toy" in bench.items(tmp_path)
    assert [p.name for p in notebooks(tmp_path)] == ["toy.ipynb"]
    assert set(bench.items(ROOT)) >= {"data_build", "dataset", "tagging", "captioning", "retrieval",
                                      "generation"}


def test_pretrain_rejects_unknown_names(capsys):
    with pytest.raises(SystemExit):
        pretrain.main(["nonsense"])
    assert "unknown model" in capsys.readouterr().err


def test_pretrain_help_runs_in_a_fresh_process():
    r = subprocess.run([sys.executable, "-m", "musictext.pretrain", "--help"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "generator" in r.stdout and "tagger" in r.stdout
