"""``python -m musictext tag``: output per group, JSON, windowing of other
rates and lengths, the old spelling, and every bad-input path."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf
from conftest import assert_one_line_error

from musictext.data import GROUP_OF, TAG_GROUPS, TAGS, read_manifest


def _pairs_in_order(probs: dict[str, float], truth: set[str]) -> float:
    """Share of (true tag, false tag) pairs where the true tag scores higher."""
    pos = [p for t, p in probs.items() if t in truth]
    neg = [p for t, p in probs.items() if t not in truth]
    return float(np.mean([a > b for a in pos for b in neg]))


def test_tags_built_clips_correctly(tiny_data, cli):
    recs = read_manifest(tiny_data, "test") or read_manifest(tiny_data)
    scores = []
    for rec in recs[:3]:
        code, out, _ = cli("tag", "--audio", tiny_data / rec["audio"], "--top", len(TAGS), "--json")
        assert code == 0
        rows = json.loads(out)
        probs = {r["tag"]: r["probability"] for r in rows}
        assert set(probs) == set(TAGS)
        assert all(GROUP_OF[r["tag"]] == r["group"] for r in rows)
        scores.append(_pairs_in_order(probs, set(rec["tags"])))
        genres = [r["tag"] for r in rows if r["group"] == "genre"]
        assert genres[0] == rec["style"], (rec["style"], genres[:3])  # the top genre is the true one
    assert np.mean(scores) > 0.85, scores


def test_text_is_one_line_per_group_and_json_a_list(tiny_data, tmp_path, cli):
    rec = read_manifest(tiny_data)[0]
    x, sr = sf.read(str(tiny_data / rec["audio"]), dtype="float32")
    stereo = tmp_path / "stereo_44k.wav"  # another rate, two channels, 7 s: windows are averaged
    x44 = np.interp(np.arange(int(len(x) * 44100 / sr)) * sr / 44100, np.arange(len(x)), x)
    x44 = np.concatenate([x44, x44[: int(2 * 44100)]])
    sf.write(str(stereo), np.stack([x44, 0.5 * x44], axis=1), 44100)
    code, out, _ = cli("tag", "--audio", stereo, "--top", "2")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(TAG_GROUPS)
    code, out, _ = cli("tag", "--audio", stereo, "--top", "1", "--json")
    rows = json.loads(out)
    assert isinstance(rows, list) and [r["group"] for r in rows] == list(TAG_GROUPS)
    assert all(set(r) == {"group", "tag", "probability"} and 0 <= r["probability"] <= 1 for r in rows)


def test_the_old_positional_spelling_still_works(tiny_data, cli):
    path = tiny_data / read_manifest(tiny_data)[0]["audio"]
    code, out, err = cli("tag", path, "--top", "1")
    assert code == 0 and "deprecated" in err and len(out.strip().splitlines()) == len(TAG_GROUPS)
    assert_one_line_error(*cli("tag", path, "--audio", path), "once")


def test_bad_inputs(tmp_path, cli):
    assert_one_line_error(*cli("tag", "--audio", tmp_path / "nope.wav"), "not found")
    assert_one_line_error(*cli("tag", "--audio", tmp_path), "folder")
    assert_one_line_error(*cli("tag"), "--audio needs a file path")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    assert_one_line_error(*cli("tag", "--audio", junk), "junk.wav")
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), 16000)
    assert_one_line_error(*cli("tag", "--audio", empty), "empty")
    short = tmp_path / "short.wav"
    sf.write(str(short), 0.1 * np.ones(8000, dtype=np.float32), 16000)
    assert_one_line_error(*cli("tag", "--audio", short), "shorter")
    ok = tmp_path / "ok.wav"
    sf.write(str(ok), 0.1 * np.ones(32000, dtype=np.float32), 16000)
    assert_one_line_error(*cli("tag", "--audio", ok, "--top", "0"), "--top")


def test_exit_code_in_a_subprocess(tmp_path):
    r = subprocess.run([sys.executable, "-m", "musictext", "tag", "--audio", str(tmp_path / "missing.flac")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"error: audio file not found: '{tmp_path / 'missing.flac'}'"]
