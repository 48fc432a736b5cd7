"""The one data switch of the chapter notebooks, run end to end on a real-format
fixture: each notebook that reads its data through ``open_splits()`` runs top to
bottom with ``MUSICTEXT_DATASET`` pointing at a small Song Describer Dataset
stand-in (synthetic audio, the published file layout and columns).

Nothing is left out: the cell tagged ``guard`` checks its quality bars only
when the data is SynthCaps (a model trained on eighty synthetic tones cannot
meet them), so a reader who switches sets can still run every cell, and a change
that ties a notebook to SynthCaps fails here.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from real_fixtures import write_song_describer

ROOT = Path(__file__).resolve().parent.parent
SWITCHED = ["description/tagging.ipynb", "description/captioning.ipynb", "retrieval/retrieval.ipynb"]


@pytest.fixture(scope="module")
def sdd(tmp_path_factory):
    return write_song_describer(tmp_path_factory.mktemp("sdd"), tracks=80)


def test_the_switched_notebooks_read_data_through_open_splits():
    for rel in SWITCHED:
        src = "\n".join("".join(c["source"]) for c in json.loads((ROOT / rel).read_text(encoding="utf-8"))["cells"]
                        if c["cell_type"] == "code")
        assert "open_splits(" in src, rel
        assert "SynthCaps(" not in src and "ensure_dataset(" not in src, f"{rel} bypasses the switch"
        nb = nbformat.read(ROOT / rel, as_version=4)
        guards = [c for c in nb.cells if "guard" in c.metadata.get("tags", [])]
        assert len(guards) == 1 and '.name == "synthcaps"' in guards[0].source, f"{rel}: one guard cell"


@pytest.mark.parametrize("rel", SWITCHED)
def test_notebook_runs_on_a_real_format_set(rel, sdd, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICTEXT_DATASET", f"song-describer:{sdd}")
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path / "cache"))     # nothing from a SynthCaps build
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    path = ROOT / rel
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    from musictext.data import open_splits

    train, test = open_splits(splits=("train", "test"))                # what the notebook should have read
    data_cell = next(c for c in nb.cells if c.cell_type == "code" and "open_splits(" in c.source
                     and "import" not in c.source.split("open_splits(")[0].splitlines()[-1])
    shown = "".join(o.get("text", "") for o in data_cell.outputs)
    assert str(len(train)) in shown and len(train) < 80, shown
    assert not (tmp_path / "cache" / "synthcaps-v1-n2000-s0").exists(), "the notebook built SynthCaps"
