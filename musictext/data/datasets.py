"""Loaders: the built-in SynthCaps set, a folder of your own audio files, and
public music-caption sets in their published schema (for online users)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..audio import AUDIO_EXTENSIONS, SAMPLE_RATE, AudioError, LogMel, load_audio
from .vocab import TAGS

SPLIT_NAMES = ("train", "valid", "test")


def read_manifest(root: str | os.PathLike, split: str | None = None) -> list[dict]:
    """The records of ``root/manifest.jsonl`` (optionally one split only)."""
    path = Path(root) / "manifest.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"no manifest.jsonl in '{root}': build the data first with "
                                f"python -m musictext data build --out {root}")
    if split is not None and split not in SPLIT_NAMES:
        raise ValueError(f"split must be one of {SPLIT_NAMES}, got {split!r}")
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in recs if split is None or r["split"] == split]


def multi_hot(tags: list[str], vocab: list[str] = TAGS) -> torch.Tensor:
    """Tags -> float tensor of shape (len(vocab),) with ones at the given tags."""
    index = {t: i for i, t in enumerate(vocab)}
    y = torch.zeros(len(vocab))
    for t in tags:
        if t not in index:
            raise KeyError(f"unknown tag {t!r}; the vocabulary is musictext.data.TAGS")
        y[index[t]] = 1.0
    return y


def _load_features(root: Path, recs: list[dict], frontend: LogMel) -> torch.Tensor:
    """Log-mel of every record, cached in ``root/features`` as safetensors."""
    from safetensors.torch import load_file, save_file

    key = json.dumps([frontend.sample_rate, frontend.n_fft, frontend.hop_length, frontend.n_mels,
                      frontend.f_min, frontend.f_max, frontend.eps, [r["id"] for r in recs]])
    h = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = root / "features" / f"logmel-{h}.safetensors"
    if path.exists():
        return load_file(str(path))["logmel"]
    feats = []
    with torch.no_grad():
        for i in range(0, len(recs), 64):
            waves = torch.stack([load_audio(root / r["audio"]) for r in recs[i:i + 64]])
            feats.append(frontend(waves))
    x = torch.cat(feats).contiguous()
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file({"logmel": x}, str(tmp))
    os.replace(tmp, path)
    return x


class CaptionSet(Dataset):
    """Clips with captions and tags, in the record shape every chapter reads.

    Each item is a dict with ``id``, ``audio`` (waveform (T,) at 16 kHz) or
    ``logmel`` (n_mels, frames) when ``features="logmel"``, ``tags`` (the tag
    names, as in every loader), ``targets`` (their multi-hot vector (n_tags,)
    over ``vocab``), ``captions`` (list of str) and ``index``.
    ``records`` holds the full record of each clip. Subclasses say where the
    records come from (``SynthCaps``, or a real set through
    ``musictext.data.open_splits``); ``name`` says which set it is
    (``"synthcaps"``, or the name of a real set such as ``"song-describer"``).
    """

    name = "custom"

    def __init__(self, records: list[dict], audio_root: str | os.PathLike, split: str | None,
                 features: str = "logmel", frontend: LogMel | None = None, vocab: list[str] = TAGS):
        if features not in ("logmel", "wave"):
            raise ValueError(f"features must be 'logmel' or 'wave', got {features!r}")
        if not records:
            raise ValueError(f"split {split!r} of '{audio_root}' is empty")
        self.root, self.records = Path(audio_root), records
        self.split, self.features, self.vocab = split, features, list(vocab)
        self.frontend = frontend or LogMel()
        self.targets = torch.stack([multi_hot(r["tags"], self.vocab) for r in self.records])
        self._mel = self._features() if features == "logmel" else None

    def _features(self) -> torch.Tensor:
        return _load_features(self.root, self.records, self.frontend)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def logmel(self) -> torch.Tensor:
        """All log-mel features as one tensor (N, n_mels, frames)."""
        if self._mel is None:
            self._mel = self._features()
        return self._mel

    def wave(self, i: int) -> torch.Tensor:
        return load_audio(self.root / self.records[i]["audio"])

    def __getitem__(self, i: int) -> dict:
        r = self.records[i]
        item = {"index": i, "id": r["id"], "tags": list(r["tags"]), "targets": self.targets[i],
                "captions": r["captions"]}
        if self.features == "logmel":
            item["logmel"] = self._mel[i]
        else:
            item["audio"] = self.wave(i)
        return item


class SynthCaps(CaptionSet):
    """The built-in music-caption set, read from a built folder's
    ``manifest.jsonl`` (see ``CaptionSet`` for the items). Log-mel features
    are computed once and cached beside the data."""

    name = "synthcaps"

    def __init__(self, root: str | os.PathLike, split: str | None = "train", features: str = "logmel",
                 frontend: LogMel | None = None, vocab: list[str] = TAGS):
        super().__init__(read_manifest(root, split), root, split, features, frontend, vocab)


def collate(batch: list[dict]) -> dict:
    """Stack tensors, keep lists (captions, ids) as lists."""
    out = {}
    for k in batch[0]:
        vals = [b[k] for b in batch]
        out[k] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return out


def list_audio_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursively), sorted."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: '{folder}'")
    if not folder.is_dir():
        raise NotADirectoryError(f"'{folder}' is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    return files


class AudioFolder(Dataset):
    """Your own audio: every wav/flac/mp3/ogg/aiff file under a folder, any
    sample rate or channel count, served as 16 kHz mono clips of ``seconds``
    (cut or zero-padded; ``seconds=None`` keeps the full length)."""

    def __init__(self, folder: str | os.PathLike, seconds: float | None = 5.0, sample_rate: int = SAMPLE_RATE):
        self.folder = Path(folder)
        self.files = list_audio_files(self.folder)
        if not self.files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in '{self.folder}'")
        self.seconds, self.sample_rate = seconds, sample_rate

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        p = self.files[i]
        return {"index": i, "path": str(p), "audio": load_audio(p, self.sample_rate, seconds=self.seconds)}


# ---- public caption sets ----------------------------------------------------
LP_MUSICCAPS_COLUMNS = ("track_id", "title", "artist_name", "release", "tag_top50", "tag_top188",
                        "caption_writing", "caption_summary", "caption_paraphrase",
                        "caption_attribute_prediction", "pseudo_attribute", "path")
LP_CAPTION_FIELDS = ("caption_writing", "caption_summary", "caption_paraphrase", "caption_attribute_prediction")


class PublicCaptions(Dataset):
    """A public music-caption set in the LP-MusicCaps schema (for example
    ``seungheondoh/LP-MusicCaps-MTT`` on the Hugging Face hub).

    ``source`` is a hub id (needs the network and the ``datasets`` package) or
    local parquet/json/jsonl files in the same schema. The audio is not part of
    the published set: pass ``audio_root`` (e.g. your MagnaTagATune mp3 folder)
    to get waveforms; without it items carry text and tags only.
    """

    def __init__(self, source: str | os.PathLike | list, split: str = "train",
                 audio_root: str | os.PathLike | None = None, seconds: float | None = 10.0):
        self.rows = self._read(source, split)
        if not self.rows:
            raise ValueError(f"no rows for split {split!r} in {source}")
        missing = [c for c in ("track_id", "caption_writing", "path") if c not in self.rows[0]]
        if missing:
            raise ValueError(f"{source} is not in the LP-MusicCaps schema: missing columns {missing}")
        self.audio_root = Path(audio_root) if audio_root is not None else None
        self.seconds = seconds

    @staticmethod
    def _read(source, split) -> list[dict]:
        import datasets

        files = source if isinstance(source, list) else [source]
        files = [str(f) for f in files]
        if all(os.path.exists(f) for f in files):
            ext = Path(files[0]).suffix.lower()
            builder = {".parquet": "parquet", ".json": "json", ".jsonl": "json"}.get(ext)
            if builder is None:
                raise ValueError(f"unsupported file type {ext!r}: use parquet, json or jsonl")
            ds = datasets.load_dataset(builder, data_files={split: files}, split=split)
        else:
            if len(files) == 1 and (os.sep in files[0] and not files[0].count("/") == 1):
                raise FileNotFoundError(f"caption file not found: '{files[0]}'")
            ds = datasets.load_dataset(files[0], split=split)  # hub id: needs the network
        return [dict(r) for r in ds]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        r = self.rows[i]
        caps = [r[c] for c in LP_CAPTION_FIELDS if r.get(c)]
        item = {"index": i, "id": r["track_id"], "captions": caps,
                "tags": list(r.get("tag_top50") or r.get("tag") or []), "path": r.get("path")}
        if self.audio_root is not None:
            item["audio"] = load_audio(self.audio_root / r["path"], seconds=self.seconds)
        return item
