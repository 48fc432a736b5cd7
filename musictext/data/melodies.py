"""Real folk melodies from the music21 corpus (the Essen folk song collection).

Parsing the corpus takes several seconds, so the extracted melodies are cached
as JSON the first time and read from the cache afterwards.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..paths import cache_root

CORPUS = "essenFolksong/altdeu10"
_CACHE_VERSION = 1


def _extract(corpus: str) -> list[dict]:
    from music21 import corpus as m21corpus

    opus = m21corpus.parse(corpus)
    scores = getattr(opus, "scores", [opus])
    tunes = []
    for score in scores:
        notes = []
        for n in score.flatten().notes:
            if not n.isNote:  # skip chords, folk tunes are monophonic
                continue
            notes.append((int(n.pitch.midi), float(n.offset), float(n.quarterLength)))
        if len(notes) < 8:
            continue
        final_pc = notes[-1][0] % 12
        # Mode from the third above the final note (the tonic of most folk tunes).
        pcs = [p % 12 for p, _, _ in notes]
        minor3 = pcs.count((final_pc + 3) % 12)
        major3 = pcs.count((final_pc + 4) % 12)
        mode = "minor" if minor3 > major3 else "major"
        title = str(score.metadata.title) if score.metadata and score.metadata.title else ""
        tunes.append({"title": title, "final_pc": final_pc, "mode": mode,
                      "notes": [[p, round(o, 4), round(d, 4)] for p, o, d in notes]})
    return tunes


def folk_melodies(corpus: str = CORPUS) -> list[dict]:
    """Melodies of one music21 corpus collection: a list of dicts with
    ``notes`` ([midi pitch, onset in quarter notes, duration in quarter notes]),
    ``final_pc`` (pitch class of the last note) and ``mode`` ("major"/"minor")."""
    path = cache_root() / f"melodies-{corpus.replace('/', '_')}-v{_CACHE_VERSION}.json"
    if path.exists():
        return json.loads(path.read_text())
    tunes = _extract(corpus)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(tunes))
    os.replace(tmp, path)
    return tunes
