"""musictext.paths: one cache root, and paths printed without home folders."""
from __future__ import annotations

from pathlib import Path

from musictext.paths import cache_root, display_path


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("MUSICTEXT_CACHE")
    assert cache_root() == Path.home() / ".cache" / "musictext"


def test_display_path_hides_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MUSICTEXT_CACHE", raising=False)
    default = Path.home() / ".cache" / "musictext" / "synthcaps-v1-n2000-s0"
    assert display_path(default) == "~/.cache/musictext/synthcaps-v1-n2000-s0"
    assert display_path(Path.home() / "music" / "a.wav") == "~/music/a.wav"
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path))
    assert display_path(tmp_path / "x" / "y") == "<cache>/x/y"
    assert display_path(tmp_path) == "<cache>"
    assert str(Path.home()) not in display_path(tmp_path / "x")


def test_the_data_modules_share_the_cache_root():
    from musictext import search
    from musictext.data import build, melodies

    assert build.cache_root is cache_root and melodies.cache_root is cache_root
    assert search.cache_root is cache_root
