"""Small stand-ins for the real music-caption sets, written in each set's exact
published layout (file names, column names, id formats, path conventions), with
synthetic audio. The loader tests and the notebook-switch tests read them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from musictext.data import TAG_GROUPS

SDD_COLUMNS = ["caption_id", "track_id", "caption", "is_valid_subset", "familiarity", "artist_id",
               "album_id", "path", "duration"]
MUSICCAPS_COLUMNS = ["ytid", "start_s", "end_s", "audioset_positive_labels", "aspect_list", "caption",
                     "author_id", "is_balanced_subset", "is_audioset_eval"]
YTID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


def describe(rng: np.random.Generator, k: int | None = None) -> tuple[list[str], str]:
    """Tags (one per group, three instruments) and a caption that says them in plain
    words: random, or for ``k`` = 0, 1, 2, ... a cycle that meets every tag of every
    group within a few clips."""
    def take(ts, n=1, step=1):
        if k is None:
            return [str(t) for t in rng.choice(ts, n, replace=False)]
        return [ts[(k * n * step + j) % len(ts)] for j in range(n)]

    pick = {g: take(ts, 3 if g == "instrument" else 1) for g, ts in TAG_GROUPS.items()}
    one = {g: v[0] for g, v in pick.items()}
    caption = (f"A {one['mood']} {one['genre']} track led by {', '.join(pick['instrument'][:2])} and "
               f"{pick['instrument'][2]}, {one['tempo']} tempo, in a {one['mode']} key, {one['dynamics']}, "
               f"{'with drums' if one['drums'] == 'drums' else 'with no drums'}.")
    return [t for v in pick.values() for t in v], caption


def tone(rng: np.random.Generator, seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """A few seconds of harmonic tones (and noise bursts), float32 (T, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 110 * 2 ** (rng.integers(0, 24) / 12)
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 5)) * 0.2
    x = x + 0.05 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 2 * t) > 0.9)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def write_song_describer(root: Path, tracks: int = 40, seconds: float = 7.0, seed: int = 0) -> Path:
    """song_describer.csv + audio/NN/TRACK.2min.mp3 + song_describer.mtg-jamendo.tsv."""
    from musictext.data.real import _hash_split

    rng = np.random.default_rng(seed)
    rows, tsv, seen = [], ["TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"], {}
    for k in range(tracks):
        track = int(rng.integers(1000, 1_200_000))
        split = _hash_split(f"sdd-{track}")             # the split the loader will give it
        seen[split] = seen.get(split, -1) + 1
        sub = f"{track % 100:02d}"
        (root / "audio" / sub).mkdir(parents=True, exist_ok=True)
        sf.write(root / "audio" / sub / f"{track}.2min.mp3", tone(rng, seconds, 44100, 2), 44100, format="MP3")
        tags, _ = describe(rng)
        for _ in range(1 + k % 2):                        # one or two captions per track
            rows.append({"caption_id": len(rows) + 1, "track_id": track, "caption": describe(rng, seen[split])[1],
                         "is_valid_subset": bool(rng.random() < 0.7), "familiarity": int(rng.integers(0, 3)),
                         "artist_id": int(rng.integers(1, 9999)), "album_id": int(rng.integers(1, 9999)),
                         "path": f"{sub}/{track}.mp3", "duration": float(rng.uniform(120, 400))})
        tsv.append(f"track_{track:07d}\tartist_1\talbum_1\t{sub}/{track}.mp3\t200.0\t"
                   f"genre---{tags[0]}\tinstrument---{tags[1]}")
    pd.DataFrame(rows, columns=SDD_COLUMNS).to_csv(root / "song_describer.csv", index=False)
    (root / "song_describer.mtg-jamendo.tsv").write_text("\n".join(tsv) + "\n", encoding="utf-8")
    return root


def write_musiccaps(root: Path, clips: int = 30, missing: int = 3, unreadable: int = 1,
                    seed: int = 0) -> Path:
    """musiccaps-public.csv + clips named by YouTube id in the usual downloader styles
    (the last ``missing`` rows have no file, the ``unreadable`` before them a broken one)."""
    rng = np.random.default_rng(seed)
    rows = []
    (root / "clips").mkdir(parents=True, exist_ok=True)
    for k in range(clips):
        ytid = "".join(rng.choice(list(YTID_CHARS), 11))
        start = int(rng.integers(0, 200)) * 10
        tags, caption = describe(rng)
        rows.append({"ytid": ytid, "start_s": start, "end_s": start + 10,
                     "audioset_positive_labels": "/m/04rlf", "aspect_list": repr([t for t in tags]),
                     "caption": caption, "author_id": int(rng.integers(0, 10)),
                     "is_balanced_subset": bool(k % 3 == 0), "is_audioset_eval": bool(k % 4 == 0)})
        if k >= clips - missing:
            continue
        name = [f"{ytid}.wav", f"[{ytid}]-[{start}-{start + 10}].wav", f"{ytid}_{start}000-{start + 10}000.flac"][k % 3]
        if k >= clips - missing - unreadable:
            (root / "clips" / name).write_bytes(b"RIFF not really a wave file")
        else:
            sf.write(root / "clips" / name, tone(rng, 10.0, 48000), 48000)
    pd.DataFrame(rows, columns=MUSICCAPS_COLUMNS).to_csv(root / "musiccaps-public.csv", index=False)
    return root


def write_lp_musiccaps(root: Path, per_split: dict | None = None, seed: int = 0) -> Path:
    """data/{split}-00000-of-00001.parquet in the LP-MusicCaps schema + an MTT mp3 tree."""
    from musictext.data.datasets import LP_MUSICCAPS_COLUMNS

    rng = np.random.default_rng(seed)
    (root / "data").mkdir(parents=True, exist_ok=True)
    for split, n in (per_split or {"train": 14, "valid": 4, "test": 6}).items():
        rows = []
        for _ in range(n):
            track = int(rng.integers(1, 60000))
            tags, caption = describe(rng)
            rel = f"{'0123456789abcdef'[track % 16]}/artist-album-{track:02d}-song-30-59.mp3"
            (root / "mp3" / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(root / "mp3" / rel, tone(rng, 6.0, 16000), 16000, format="MP3")
            rows.append({"track_id": track, "title": "song", "artist_name": "artist", "release": "album",
                         "tag_top50": tags[:3], "tag_top188": tags, "caption_writing": caption,
                         "caption_summary": caption.split(",")[0] + ".", "caption_paraphrase": caption,
                         "caption_attribute_prediction": caption, "pseudo_attribute": tags, "path": rel})
        pd.DataFrame(rows, columns=list(LP_MUSICCAPS_COLUMNS)).to_parquet(
            root / "data" / f"{split}-00000-of-00001.parquet")
    return root


def write_caption_folder(root: Path, clips: int = 24, fmt: str = "csv", seed: int = 0) -> Path:
    """Audio files plus captions.csv (tags separated by ';') or captions.jsonl."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(clips):
        rel = f"songs/clip{k:02d}.wav"
        (root / "songs").mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, tone(rng, 4.0, 22050), 22050)
        tags, caption = describe(rng)
        rows.append({"path": rel, "caption": caption, "tags": ";".join(tags[:2]) if fmt == "csv" else tags[:2]})
    if fmt == "csv":
        pd.DataFrame(rows).to_csv(root / "captions.csv", index=False)
    else:
        (root / "captions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root
