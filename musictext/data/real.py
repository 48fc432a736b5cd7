"""Real music-caption sets on disk, served in the record shape of SynthCaps,
behind one switch: ``open_splits(spec)``.

``spec`` is ``"synthcaps"`` (the default; ``synthcaps:FOLDER`` for a built copy
elsewhere) or ``NAME:FOLDER`` for a set you downloaded, in its published layout:

- ``song-describer:FOLDER``: the Song Describer Dataset (``song_describer.csv``
  and its ``audio/`` folder of ``.2min.mp3`` files; the optional
  ``song_describer.mtg-jamendo.tsv`` adds the MTG-Jamendo tags).
- ``musiccaps:FOLDER``: ``musiccaps-public.csv`` plus whatever clips you have,
  anywhere under FOLDER, named by their YouTube id (``ytid.wav``,
  ``ytid_30000-40000.wav`` or ``[ytid]-[30-40].wav``).
- ``lp-musiccaps-mtt:FOLDER``: the LP-MusicCaps-MTT parquet files
  (``train-*.parquet``, ``valid-*.parquet``, ``test-*.parquet``) and the
  MagnaTagATune mp3 tree at FOLDER, ``FOLDER/mp3`` or ``FOLDER/audio``.
- ``folder:FOLDER``: your own clips with a ``captions.csv`` or
  ``captions.jsonl`` (columns ``path``, ``caption``; optional ``tags``, separated
  by ``;`` in CSV, and ``split``). Several rows for one path are several captions.

Without ``spec`` the environment variable ``MUSICTEXT_DATASET`` decides.

How a real set is made to fit the chapters, which were written for SynthCaps:

- every clip becomes one ``CLIP_SECONDS`` window from the middle of its file,
  at 16 kHz mono, whatever the file's length, rate and channels;
- ``tags`` are the book's tags (``TAGS``) that the clip's captions and published
  tags mention, found by ``tags_in_text``, so every tag metric keeps its meaning;
  the published tags themselves are kept as ``source_tags``;
- ``captions`` are the published tags as one tag list (slot
  ``CAPTION_TAG_LIST``) followed by the human captions, repeated in turn to fill
  three sentence slots; ``heldout_captions`` is the last human caption, and
  ``style`` the first genre tag found (or ``"unknown"``);
- splits: LP-MusicCaps-MTT and the folder's ``split`` column are used as
  published; MusicCaps' AudioSet evaluation clips are the test split; everything
  else is split 70/10/20 by a hash of the track id, so the split of a track
  never changes when clips are added.

Clips that are listed but absent, or present but unreadable, are left out and
counted in one warning line; a malformed row is an error naming file and row.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import torch

from ..audio import CLIP_SECONDS, SAMPLE_RATE, AudioError, LogMel, load_audio, pad_or_trim
from ..paths import cache_root, display_path
from .captions import tags_in_text
from .datasets import LP_CAPTION_FIELDS, SPLIT_NAMES, CaptionSet, SynthCaps, list_audio_files
from .vocab import GROUP_OF, TAGS

__all__ = ["DATASET_ENV", "READERS", "RealCaptions", "open_splits", "read_caption_folder",
           "read_lp_musiccaps", "read_musiccaps", "read_song_describer"]

DATASET_ENV = "MUSICTEXT_DATASET"
SENTENCE_SLOTS = 3          # as many sentence-like captions per clip as SynthCaps has


class MissingClipsWarning(UserWarning):
    """Some clips a real set lists are absent or unreadable and were left out."""


def _hash_split(key: str) -> str:
    """70/10/20 train/valid/test by a hash of ``key`` (stable across machines)."""
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 10
    return "valid" if h == 0 else "test" if h <= 2 else "train"


def _read_table(path: Path, required: tuple[str, ...]):
    import pandas as pd

    if not path.exists():
        raise FileNotFoundError(f"'{display_path(path)}' not found")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)
    except Exception as e:
        raise ValueError(f"'{display_path(path)}' cannot be read as a table ({type(e).__name__}: {e})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"'{display_path(path)}' lacks the column(s) {missing} of its published schema "
                         f"(it has {list(df.columns)})")
    return df


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: the caption is empty or not text ({value!r})")
    return " ".join(value.split())


def _first(root: Path, candidates: list[str]) -> Path | None:
    return next((root / c for c in candidates if (root / c).is_file()), None)


# ---- the four published layouts -------------------------------------------------
def read_song_describer(root: str | os.PathLike) -> list[dict]:
    """One item per track of the Song Describer Dataset: ``id``, ``audio`` (a
    Path, or None when the file is absent), ``captions``, ``source_tags``,
    ``split`` (None: the set has one evaluation split)."""
    root = Path(root)
    csv = root / "song_describer.csv"
    df = _read_table(csv, ("caption_id", "track_id", "caption", "path"))
    tags = _jamendo_tags(root / "song_describer.mtg-jamendo.tsv")
    tracks: dict[int, dict] = {}
    for i, row in enumerate(df.itertuples(index=False), start=2):
        where = f"'{display_path(csv)}', row {i}"
        try:
            track = int(row.track_id)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: track_id {row.track_id!r} is not an integer") from None
        rel = str(row.path)
        if not re.fullmatch(r"\d\d/\d+\.(2min\.)?mp3", rel):
            raise ValueError(f"{where}: path {rel!r} is not of the form 'NN/TRACK.mp3'")
        item = tracks.setdefault(track, {
            "id": f"sdd-{track}", "captions": [], "source_tags": tags.get(track, []), "split": None,
            "audio": _first(root / "audio", [rel, rel.replace(".2min", "")[:-4] + ".2min.mp3",
                                             "audio/" + rel.replace(".2min", "")[:-4] + ".2min.mp3"])})
        item["captions"].append(_text(row.caption, where))
    return list(tracks.values())


def _jamendo_tags(path: Path) -> dict[int, list[str]]:
    """{track id: tags} from an MTG-Jamendo style TSV (TRACK_ID ... TAGS, with
    tags such as ``genre---rock``); empty when the file is absent."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        digits = re.sub(r"\D", "", cols[0])
        if digits:
            out[int(digits)] = [c.split("---")[-1] for c in cols[5:] if c.strip()]
    return out


def read_musiccaps(root: str | os.PathLike) -> list[dict]:
    """One item per row of ``musiccaps-public.csv``; ``audio`` is the clip found
    under ``root`` by its YouTube id, or None."""
    root = Path(root)
    csv = root / "musiccaps-public.csv"
    df = _read_table(csv, ("ytid", "start_s", "end_s", "aspect_list", "caption", "is_audioset_eval"))
    found = {}
    for p in list_audio_files(root):
        stem = p.stem.removeprefix("[")
        found.setdefault(stem[:11], p)
    items = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        where = f"'{display_path(csv)}', row {i}"
        try:
            aspects = ast.literal_eval(row.aspect_list)
        except (ValueError, SyntaxError):
            aspects = None
        if not isinstance(aspects, list) or not all(isinstance(a, str) for a in aspects):
            raise ValueError(f"{where}: aspect_list {row.aspect_list!r} is not a list of strings")
        flag = str(row.is_audioset_eval).strip().lower()
        if flag not in ("true", "false"):
            raise ValueError(f"{where}: is_audioset_eval must be True or False, got {row.is_audioset_eval!r}")
        ytid = str(row.ytid)
        items.append({"id": ytid, "audio": found.get(ytid), "captions": [_text(row.caption, where)],
                      "source_tags": aspects,
                      "split": "test" if flag == "true" else ("valid" if _hash_split(ytid) == "valid"
                                                               else "train")})
    return items


def read_lp_musiccaps(root: str | os.PathLike) -> list[dict]:
    """One item per row of the LP-MusicCaps-MTT parquet files under ``root``
    (their split is the file's); ``audio`` is the MagnaTagATune mp3, or None."""
    root = Path(root)
    files = {s: sorted(root.rglob(f"{s}-*.parquet")) + sorted(root.rglob(f"{s}.parquet")) for s in SPLIT_NAMES}
    if not any(files.values()):
        raise FileNotFoundError(f"no LP-MusicCaps parquet files (train-*.parquet, valid-*.parquet, "
                                f"test-*.parquet) under '{display_path(root)}'")
    bases = [b for b in (root, root / "mp3", root / "audio") if b.is_dir()]
    items = []
    for split, paths in files.items():
        for path in paths:
            df = _read_table(path, ("track_id", "caption_writing", "path"))
            for i, row in enumerate(df.to_dict("records")):
                where = f"'{display_path(path)}', row {i}"
                caps = [_text(row[c], where) for c in LP_CAPTION_FIELDS if isinstance(row.get(c), str)
                        and row[c].strip()]
                if not caps:
                    raise ValueError(f"{where}: no caption in {list(LP_CAPTION_FIELDS)}")
                tags = row.get("tag_top50")
                items.append({"id": f"mtt-{row['track_id']}", "captions": caps, "split": split,
                              "source_tags": [str(t) for t in tags] if tags is not None else [],
                              "audio": next((b / row["path"] for b in bases if (b / row["path"]).is_file()),
                                            None)})
    return items


def read_caption_folder(root: str | os.PathLike) -> list[dict]:
    """Your own clips: ``captions.csv`` or ``captions.jsonl`` in ``root``, with
    ``path`` (relative to ``root``) and ``caption``, optional ``tags`` and
    ``split``. Rows with the same path are one clip with several captions."""
    root = Path(root)
    tables = [p for p in (root / "captions.csv", root / "captions.jsonl") if p.exists()]
    if len(tables) != 1:
        raise FileNotFoundError(f"'{display_path(root)}' needs exactly one captions.csv or captions.jsonl "
                                f"(found {len(tables)})")
    table = tables[0]
    if table.suffix == ".csv":
        rows = _read_table(table, ("path", "caption")).to_dict("records")
    else:
        rows = []
        for i, line in enumerate(table.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"'{display_path(table)}', line {i}: not JSON ({e})") from None
                if not isinstance(rows[-1], dict) or "path" not in rows[-1] or "caption" not in rows[-1]:
                    raise ValueError(f"'{display_path(table)}', line {i}: needs \"path\" and \"caption\"")
    clips: dict[str, dict] = {}
    for i, row in enumerate(rows, start=2 if table.suffix == ".csv" else 1):
        where = f"'{display_path(table)}', {'row' if table.suffix == '.csv' else 'line'} {i}"
        rel = str(row["path"])
        split = row.get("split") or None
        if split is not None and split not in SPLIT_NAMES:
            raise ValueError(f"{where}: split must be one of {SPLIT_NAMES}, got {split!r}")
        tags = row.get("tags") or []
        tags = [t.strip() for t in (tags.split(";") if isinstance(tags, str) else tags) if str(t).strip()]
        p = root / rel
        clip = clips.setdefault(rel, {"id": Path(rel).with_suffix("").as_posix(), "captions": [],
                                      "source_tags": [], "split": split or _hash_split(rel),
                                      "audio": p if p.is_file() else None})
        clip["captions"].append(_text(row["caption"], where))
        clip["source_tags"] += [t for t in tags if t not in clip["source_tags"]]
    return list(clips.values())


READERS = {"song-describer": read_song_describer, "musiccaps": read_musiccaps,
           "lp-musiccaps-mtt": read_lp_musiccaps, "folder": read_caption_folder}


# ---- from published items to the book's records -----------------------------------
def book_record(item: dict, root: Path) -> dict:
    """A published item in the record shape of SynthCaps (see the module docstring)."""
    human = item["captions"]
    found = set().union(*(tags_in_text(t) for t in human + item["source_tags"]))
    tags = [t for t in TAGS if t in found]
    tag_list = ", ".join(item["source_tags"]) or ", ".join(tags) or human[0]
    audio = Path(item["audio"])
    return {"id": item["id"], "split": item["split"] or _hash_split(item["id"]),
            "audio": audio.relative_to(root).as_posix() if audio.is_relative_to(root) else str(audio),
            "tags": tags, "source_tags": list(item["source_tags"]),
            "captions": [tag_list] + [human[k % len(human)] for k in range(SENTENCE_SLOTS)],
            "heldout_captions": [human[-1]],
            "style": next((t for t in tags if GROUP_OF[t] == "genre"), "unknown")}


def middle_window(path: str | os.PathLike, seconds: float = CLIP_SECONDS) -> torch.Tensor:
    """``seconds`` of audio (T,) from the middle of a file, 16 kHz mono, zero-padded if shorter."""
    x = load_audio(path)
    n = int(round(seconds * SAMPLE_RATE))
    start = max(0, (x.numel() - n) // 2)
    return pad_or_trim(x[start:], n)


class RealCaptions(CaptionSet):
    """One split of a real set, made by ``open_splits``. Log-mel features of the
    middle window of each clip are cached under the musictext cache, keyed by the
    files' paths, sizes and modification times; unreadable files are left out
    (``unreadable`` lists them)."""

    def __init__(self, records: list[dict], root: str | os.PathLike, split: str, name: str,
                 frontend: LogMel | None = None, seconds: float = CLIP_SECONDS):
        self.name, self.seconds = name, seconds
        frontend = frontend or LogMel()
        self._cached, keep, self.unreadable = _window_features(Path(root), records, frontend, seconds)
        super().__init__([r for r, k in zip(records, keep) if k], root, split, "logmel", frontend, TAGS)

    def _features(self) -> torch.Tensor:
        return self._cached

    def wave(self, i: int) -> torch.Tensor:
        return middle_window(self.root / self.records[i]["audio"], self.seconds)


def _window_features(root: Path, records: list[dict], frontend: LogMel, seconds: float):
    from safetensors.torch import load_file, save_file
    from tqdm.auto import tqdm

    files = [root / r["audio"] for r in records]
    stats = [(str(p.resolve()), st.st_size, st.st_mtime_ns) for p, st in ((p, p.stat()) for p in files)]
    key = json.dumps([frontend.settings(), seconds, stats])
    path = cache_root() / "features" / f"real-{hashlib.sha256(key.encode()).hexdigest()[:16]}.safetensors"
    if path.exists():
        saved = load_file(str(path))
        keep = saved["keep"].bool().tolist()
        return saved["logmel"], keep, [str(f) for f, k in zip(files, keep) if not k]
    mels, keep = [], []
    with torch.no_grad():
        for f in tqdm(files, desc="reading clips", unit="file", disable=None if len(files) > 50 else True,
                      leave=False):
            try:
                mels.append(frontend(middle_window(f, seconds)[None])[0])
                keep.append(True)
            except (AudioError, OSError, RuntimeError):
                keep.append(False)
    x = torch.stack(mels) if mels else torch.zeros(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file({"logmel": x.contiguous(), "keep": torch.tensor(keep, dtype=torch.uint8)}, str(tmp))
    os.replace(tmp, path)
    return x, keep, [str(f) for f, k in zip(files, keep) if not k]


def open_splits(spec: str | None = None, splits: tuple[str, ...] = SPLIT_NAMES) -> tuple[CaptionSet, ...]:
    """The ``splits`` of the set ``spec`` names (default ``$MUSICTEXT_DATASET``,
    else ``"synthcaps"``), as ``CaptionSet`` objects in one record shape."""
    from .build import ensure_dataset

    spec = spec or os.environ.get(DATASET_ENV) or "synthcaps"
    name, _, folder = spec.partition(":")
    if name == "synthcaps":
        root = ensure_dataset(root=Path(folder).expanduser() if folder else None)
        return tuple(SynthCaps(root, s) for s in splits)
    if name not in READERS:
        raise ValueError(f"unknown data set {name!r} in {spec!r}: use synthcaps or one of "
                         f"{', '.join(f'{n}:FOLDER' for n in READERS)}")
    if not folder:
        raise ValueError(f"{spec!r} names no folder: write {name}:FOLDER")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{name}: folder '{display_path(root)}' not found")
    items = READERS[name](root)
    present = [it for it in items if it["audio"] is not None]
    if not present:
        raise FileNotFoundError(f"{name}: none of the {len(items)} listed clips is under "
                                f"'{display_path(root)}' (see musictext.data.real for the layout)")
    records = [book_record(it, root) for it in present]
    out = []
    for s in splits:
        recs = [r for r in records if r["split"] == s]
        if not recs:
            raise ValueError(f"{name} in '{display_path(root)}' has no {s} clips")
        out.append(RealCaptions(recs, root, s, name))
    unreadable = sum(len(ds.unreadable) for ds in out)
    if len(present) < len(items) or unreadable:
        warnings.warn(f"{name}: using {sum(map(len, out))} of {len(items)} listed clips "
                      f"({len(items) - len(present)} missing, {unreadable} unreadable)",
                      MissingClipsWarning, stacklevel=2)
    return tuple(out)
