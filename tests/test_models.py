"""musictext.models: every chapter module's shipped checkpoint, found by discovery,
is the file its SHA256 names, and load() refuses a changed or a missing file with a
message that says how to rebuild it."""
from __future__ import annotations

import shutil

import pytest

from musictext.models import chapter_modules
from musictext.paths import checkpoint_path
from musictext.text import sha256_file

MODULES = chapter_modules()


def test_every_chapter_with_a_checkpoint_is_found():
    assert {"tagging", "retrieval", "generation"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_shipped_checkpoint_matches_its_sha256_and_loads_in_eval_mode(name):
    mod = MODULES[name]
    assert sha256_file(checkpoint_path(mod.CHECKPOINT)) == mod.SHA256
    assert not mod.load().training


@pytest.mark.parametrize("name", sorted(MODULES))
def test_changed_or_missing_checkpoint_is_refused(name, tmp_path):
    mod = MODULES[name]
    bad = tmp_path / f"{mod.CHECKPOINT}.safetensors"
    shutil.copy(checkpoint_path(mod.CHECKPOINT), bad)
    data = bytearray(bad.read_bytes())
    data[-10] ^= 0xFF                        # flip bits inside the last weight tensor
    bad.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="SHA-256"):
        mod.load(bad)
    with pytest.raises(FileNotFoundError, match=f"pretrain {mod.CHECKPOINT}"):
        mod.load(tmp_path / "missing.safetensors")
