"""Text-to-music search over a folder of audio with the reference joint embedding.

``SearchIndex.build(folder)`` embeds every clip once and caches the embeddings
in ``folder/.musictext-index.npz`` (or, when the folder is read-only, under the
musictext cache). Each entry is keyed by relative path, size and modification
time, so a later build re-embeds only the files that were added or changed.

A folder built by ``python -m musictext data build`` (it has a
``manifest.jsonl``) is indexed by its clip ids and knows each clip's tags; any
other folder is searched recursively for audio files.

Any model with ``embed_text`` and ``embed_audio`` can index a folder, e.g.
pretrained CLAP (``musictext.pretrained.load_clap()``). A model that names
itself with an ``index_id`` (the pretrained ones do) gets a cache file of its
own, ``.musictext-index-<hash of index_id>.npz``, so the indexes of different
models never mix and switching models does not re-embed.

>>> index = SearchIndex.build("my_music/")
>>> index.search("calm solo piano", top=5)      # [{"path", "score"}, ...]
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .audio import AUDIO_EXTENSIONS, MAX_INPUT_SECONDS, SAMPLE_RATE, AudioError, load_audio
from .paths import cache_root

__all__ = ["SearchIndex", "INDEX_FILE", "top_matches"]

INDEX_FILE = ".musictext-index.npz"
INDEX_VERSION = 2          # 2: long files read by musictext.audio.windows


def _fingerprint(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def top_matches(embeddings: torch.Tensor, query: torch.Tensor, top: int) -> list[tuple[int, float]]:
    """(index, cosine score) of the ``top`` rows of unit ``embeddings`` (N, D)
    nearest to a unit ``query`` (D,), best first."""
    scores = embeddings @ query.reshape(-1)                          # (N,)
    best = torch.topk(scores, min(int(top), len(scores)))
    return list(zip(best.indices.tolist(), best.values.tolist()))


def _fallback_cache(folder: Path, index_id: str | None = None) -> Path:
    base = cache_root()
    h = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return base / "search-index" / (f"{h}.npz" if index_id is None else f"{h}-{_short_hash(index_id)}.npz")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _model_id(model) -> str:
    """What a search-index cache records as its model: the model's ``index_id``
    (pretrained models), else its checkpoint's SHA-256 (the book's joint model),
    else "custom" (not cached)."""
    return getattr(model, "index_id", None) or getattr(model, "checkpoint_sha256", None) or "custom"


@dataclass
class SearchIndex:
    """Embeddings (N, D) of the clips of a folder plus what is known of each clip."""

    folder: Path
    items: list[dict]                  # {"path": relative path, "id"?: str, "tags"?: [str]}
    embeddings: torch.Tensor           # (N, D), unit rows
    model: object = field(repr=False, default=None)
    stats: dict = field(default_factory=dict)

    # -- discovery --------------------------------------------------------------------
    @staticmethod
    def discover(folder: str | os.PathLike) -> list[dict]:
        """The clips of ``folder``: from its manifest.jsonl when it has one, else every
        audio file under it (recursively, sorted)."""
        from .data import list_audio_files, read_manifest

        folder = Path(folder)
        if not folder.exists():
            raise FileNotFoundError(f"index folder not found: '{folder}'")
        if not folder.is_dir():
            raise NotADirectoryError(f"'{folder}' is not a folder")
        if (folder / "manifest.jsonl").exists():
            items = [{"path": r["audio"], "id": r["id"], "tags": list(r["tags"])}
                     for r in read_manifest(folder)]
            for it in items:
                if not (folder / it["path"]).is_file():
                    raise FileNotFoundError(f"'{folder / it['path']}' is listed in the manifest but missing")
        else:
            items = [{"path": p.relative_to(folder).as_posix()} for p in list_audio_files(folder)]
        if not items:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in '{folder}'")
        return items

    # -- cache --------------------------------------------------------------------------
    @staticmethod
    def cache_path(folder: Path, index_id: str | None = None) -> Path:
        """Where the index of ``folder`` is cached: inside it if writable, else in the cache
        dir. The book's joint model uses ``INDEX_FILE``; a model with an ``index_id``
        gets a file of its own."""
        name = INDEX_FILE if index_id is None else f".musictext-index-{_short_hash(index_id)}.npz"
        return folder / name if os.access(folder, os.W_OK) else _fallback_cache(folder, index_id)

    @staticmethod
    def _read_cache(path: Path, model_id: str) -> dict[tuple, np.ndarray]:
        if not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                emb = z["embeddings"]
        except Exception:
            return {}  # unreadable or old cache: rebuild
        if meta.get("version") != INDEX_VERSION or meta.get("model") != model_id:
            return {}
        return {tuple(k): emb[i] for i, k in enumerate(meta["keys"])}

    @staticmethod
    def _write_cache(path: Path, model_id: str, keys: list[tuple], emb: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"version": INDEX_VERSION, "model": model_id, "keys": [list(k) for k in keys]})
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-index-", suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, meta=np.array(meta), embeddings=emb.astype(np.float32))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    # -- build --------------------------------------------------------------------------
    @classmethod
    def build(cls, folder: str | os.PathLike, model=None, batch_files: int = 64,
              skip_unreadable: bool = False, use_cache: bool = True) -> "SearchIndex":
        """Index ``folder`` (cached; only new or changed files are embedded).

        Unreadable audio files raise ``AudioError`` naming the file, unless
        ``skip_unreadable`` (then they are left out and listed in ``stats``).
        """
        import time

        from .models import retrieval

        t0 = time.perf_counter()
        folder = Path(folder)
        items = cls.discover(folder)
        model = model or retrieval.load()
        mid = _model_id(model)
        keys = [(it["path"], *_fingerprint(folder / it["path"])) for it in items]
        cpath = cls.cache_path(folder, getattr(model, "index_id", None))
        cached = cls._read_cache(cpath, mid) if use_cache and mid != "custom" else {}
        todo = [i for i, k in enumerate(keys) if k not in cached]
        new: dict[int, np.ndarray] = {}
        skipped: list[str] = []
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="embedding", unit="file", disable=None, leave=False)
        for s in range(0, len(todo), batch_files):
            waves, idx = [], []
            for i in todo[s:s + batch_files]:
                try:
                    waves.append(load_audio(folder / items[i]["path"]))
                    idx.append(i)
                except AudioError:
                    if not skip_unreadable:
                        raise
                    skipped.append(items[i]["path"])
            if waves:
                waves = [w[:int(MAX_INPUT_SECONDS * SAMPLE_RATE)] for w in waves]
                emb = model.embed_audio(waves).numpy()
                new.update(zip(idx, emb))
            bar.update(len(todo[s:s + batch_files]))
        bar.close()
        keep = [i for i in range(len(items)) if keys[i] in cached or i in new]
        if not keep:
            raise AudioError(f"none of the {len(items)} audio files in '{folder}' could be read")
        emb = np.stack([cached[keys[i]] if keys[i] in cached else new[i] for i in keep])
        if todo and mid != "custom" and use_cache:
            try:
                cls._write_cache(cpath, mid, [keys[i] for i in keep], emb)
            except OSError:
                pass  # a cache that cannot be written only costs time
        stats = {"clips": len(keep), "embedded": len(new), "from_cache": len(keep) - len(new),
                 "skipped": skipped, "cache": str(cpath), "seconds": time.perf_counter() - t0}
        return cls(folder, [items[i] for i in keep], torch.from_numpy(emb), model, stats)

    # -- search -------------------------------------------------------------------------
    def rank(self, q: torch.Tensor, top: int = 10) -> list[dict]:
        """The ``top`` clips nearest to a query embedding q (D,), best first."""
        if top < 1:
            raise ValueError(f"top must be at least 1, got {top}")
        out = []
        for i, s in top_matches(self.embeddings, q, top):
            it = self.items[i]
            row = {"id": it["id"]} if "id" in it else {}
            row["path"] = str(self.folder / it["path"])
            row["score"] = round(float(s), 6)
            if "tags" in it:
                row["tags"] = it["tags"]
            out.append(row)
        return out

    def search(self, query: str, top: int = 10) -> list[dict]:
        """Rank the clips by cosine similarity to a text query (best first)."""
        return self.rank(self.model.embed_text(query)[0], top)

    def search_audio(self, path: str | os.PathLike, top: int = 10) -> list[dict]:
        """Query by example: rank the clips by similarity to an audio file."""
        wave = load_audio(path)[:int(MAX_INPUT_SECONDS * SAMPLE_RATE)]
        return self.rank(self.model.embed_audio([wave])[0], top)
