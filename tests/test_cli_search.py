"""``python -m musictext search``: a dataset folder, a plain folder, search by
example, both output forms, and every bad-input path."""
from __future__ import annotations

import json
import os

import pytest
from conftest import assert_one_line_error


def test_dataset_folder_json_and_text(cli, tiny16):
    code, out, _ = cli("search", "slow sad blues with no drums", "--index", tiny16, "--top", "5", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    ids = {json.loads(line)["id"] for line in (tiny16 / "manifest.jsonl").read_text().splitlines()}
    for r in rows:
        assert set(r) >= {"rank", "id", "path", "score", "tags"} and r["id"] in ids
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    code, out, _ = cli("search", "slow sad blues", "--index", tiny16, "--top", "3")
    assert code == 0 and len(out.strip().splitlines()) == 3
    code, out, _ = cli("search", "piano", "--index", tiny16, "--top", "100", "--json")
    assert len(json.loads(out)) == 16                  # every clip once


def test_search_by_example_finds_itself(cli, tiny16):
    rec = json.loads((tiny16 / "manifest.jsonl").read_text().splitlines()[4])
    code, out, _ = cli("search", "--audio", tiny16 / rec["audio"], "--index", tiny16, "--json", "--top", "3")
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["id"] == rec["id"] and rows[0]["score"] > 0.99


def test_plain_folder(cli, wav_folder):
    code, out, _ = cli("search", "a low hum", "--index", wav_folder, "--json")
    assert code == 0
    rows = json.loads(out)
    assert all(set(r) == {"rank", "path", "score"} for r in rows)
    assert {os.path.basename(r["path"]) for r in rows} == {"a_low.wav", "b_high.wav", "c_long.flac"}


def test_unreadable_files(cli, wav_folder):
    (wav_folder / "broken.wav").write_bytes(b"RIFF....WAVEnot really audio")
    assert_one_line_error(*cli("search", "piano", "--index", wav_folder), "broken.wav")
    code, out, err = cli("search", "piano", "--index", wav_folder, "--json", "--skip-unreadable")
    assert code == 0 and len(json.loads(out)) == 3 and "skipped 1" in err


@pytest.mark.parametrize("argv, message", [
    (["search", "", "--index", "{folder}"], "empty"),
    (["search", "y" * 1500, "--index", "{folder}"], "limit"),
    (["search", "piano", "--index", "{empty}"], "no audio files"),
    (["search", "piano", "--index", "{missing}"], "not found"),
    (["search", "piano", "--index", "{folder}/a_low.wav"], "not a folder"),
    (["search", "piano", "--index", "{folder}", "--top", "0"], "--top"),
    (["search", "--index", "{folder}"], "either a text query or --audio"),
    (["search", "piano", "--audio", "{folder}/a_low.wav", "--index", "{folder}"], "either a text query"),
    (["search", "--audio", "{folder}/nope.wav", "--index", "{folder}"], "not found"),
    (["search", "--audio", "{folder}/notes.txt", "--index", "{folder}"], "not a readable audio file"),
])
def test_bad_inputs(cli, tmp_path, wav_folder, argv, message):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.md").write_text("no audio here")
    subst = {"{folder}": str(wav_folder), "{empty}": str(tmp_path / "empty"),
             "{missing}": str(tmp_path / "missing")}
    for k, v in subst.items():
        argv = [a.replace(k, v) for a in argv]
    assert_one_line_error(*cli(*argv), message)
