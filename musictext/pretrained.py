"""Real pretrained models through ``transformers``: CLAP for search and zero-shot
tagging, MusicGen for generation.

The book's own models are small and ship with the package; these are the
large public models the chapters describe, for readers who are online or have
the weights cached. Each loader takes ``source``: a hub id (the default) or a
local folder written by ``save_pretrained``. Nothing is downloaded when
``HF_HUB_OFFLINE`` is set; missing weights are one ``PretrainedError`` that
says how to get them (``hf download ID`` while online).

- ``load_clap(source)`` -> ``PretrainedClap``, with the interface of the
  book's joint embedding (``embed_text``, ``embed_audio``; 16 kHz waveforms in,
  unit rows out), so ``SearchIndex.build(folder, model=load_clap())`` searches
  with CLAP. Its ``index_id`` names the weights, so its search-index cache is
  kept apart from the book model's.
- ``clap_tag_probabilities(clap, wave)`` and ``clap_tags_by_group(clap, wave)``:
  zero-shot tagging with the book's tags (``musictext.data.TAGS``), one text
  prompt per tag (``TAG_PROMPTS``). The "probability" of a tag is CLAP's
  zero-shot classification within its group: a softmax over the tags of the
  group of ``logit_scale * cosine(audio, prompt)``, so the tags of a group sum
  to 1. It answers "which of these fits best", not "is this present"
  (the book's tagger gives independent sigmoid probabilities instead).
- ``load_musicgen(source)`` -> ``PretrainedMusicgen`` and
  ``generate_musicgen(prompt, seconds, seed, guidance)`` -> 16 kHz mono (T,).

>>> clap = load_clap()                                  # laion/larger_clap_music
>>> clap.embed_text(["calm solo piano"]).shape          # (1, 512)
>>> clap_tags_by_group(clap, wave)["genre"][:3]         # [(tag, probability), ...]
>>> wave = generate_musicgen("calm solo piano", seconds=5, model=load_musicgen())

Importing this module is cheap (the command line reads its defaults for
``--help``): torch, the book's audio code and ``transformers`` load on first use.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

__all__ = ["DEFAULT_CLAP", "DEFAULT_MUSICGEN", "MUSICGEN_MAX_SECONDS", "TAG_PROMPTS", "PretrainedClap",
           "PretrainedError", "PretrainedMusicgen", "clap_tag_probabilities",
           "clap_tags_by_group", "generate_musicgen", "load_clap", "load_musicgen", "tag_prompts"]

DEFAULT_CLAP = "laion/larger_clap_music"       # LAION CLAP (HTSAT + RoBERTa) trained on music
DEFAULT_MUSICGEN = "facebook/musicgen-small"   # 300 M parameters, 32 kHz mono, 50 codec frames/s
MUSICGEN_MAX_SECONDS = 30.0                    # MusicGen was trained on 30 s excerpts

# One prompt per tag, by group: "{}" is the tag name.
TAG_PROMPTS: dict[str, str] = {
    "genre": "{} music",
    "instrument": "music with {}",
    "mood": "{} music",
    "tempo": "music at a {} tempo",
    "mode": "music in a {} key",
    "dynamics": "{} music",
    "drums": "music with {}",
}

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class PretrainedError(RuntimeError):
    """Pretrained weights that cannot be found or loaded; the message is one line
    that says how to get them."""


# ---- finding and loading weights ---------------------------------------------------------
def _offline() -> bool:
    from huggingface_hub import is_offline_mode

    flag = os.environ.get("TRANSFORMERS_OFFLINE", "").lower()
    return bool(is_offline_mode()) or flag in ("1", "true", "yes")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0].strip() if text else type(e).__name__


def _check_source(label: str, source: str) -> bool:
    """True if ``source`` is a local folder (with a config.json), False if it is a
    hub id; a PretrainedError for anything else."""
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise PretrainedError(f"'{source}' has no config.json: it is not a {label} folder made "
                                  "by save_pretrained")
        return True
    if path.exists():
        raise PretrainedError(f"'{source}' is a file; give a {label} folder made by save_pretrained "
                              "or a hub id (owner/name)")
    if not _HUB_ID.match(str(source)):
        raise PretrainedError(f"{label} weights folder not found: '{source}' (give a folder made by "
                              "save_pretrained or a hub id such as owner/name)")
    return False


def _in_cache(source: str) -> bool:
    """True if the hub cache holds a snapshot of ``source`` with its config.json."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(source, "config.json"), str)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """True if huggingface.co answers on port 443 within ``timeout`` seconds."""
    import socket

    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def _missing(label: str, source: str, e: BaseException) -> PretrainedError:
    how = (f"download them once while online with `hf download {source}`, or pass a folder made "
           "by save_pretrained (--weights FOLDER on the command line)")
    if _offline():
        return PretrainedError(f"{label} weights '{source}' are not on this machine "
                               f"(HF_HUB_OFFLINE is set): {how}")
    return PretrainedError(f"could not get {label} weights '{source}' from the hub "
                           f"({_first_line(e)}): check the id and the network, or {how}")


def _load(label: str, model_type: str, source, model_cls, processor_cls, device):
    """(model in eval mode with gradients off, processor, index id) from a folder or hub id,
    with the library's logging quiet while it loads."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()      # no progress bars on stderr or in stored notebook outputs
    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()       # e.g. MusicGen's configs warn that its start token id is
    try:                                   # past the codebook, which is so by design
        return _load_quietly(label, model_type, str(source), model_cls, processor_cls, device)
    finally:
        hf_logging.set_verbosity(before)


def _load_quietly(label: str, model_type: str, source: str, model_cls, processor_cls, device):
    from transformers import AutoConfig

    local = _check_source(label, source)
    # a hub id already in the cache loads without asking the hub; one that is not is
    # fetched only when the hub answers, so a machine without network fails at once
    cached = local or _offline() or _in_cache(source)
    if not cached and not _hub_reachable():
        raise _missing(label, source, OSError("huggingface.co cannot be reached and the weights are not "
                                              "in the cache")) from None
    only_local = {} if local or not cached else {"local_files_only": True}
    try:
        config = AutoConfig.from_pretrained(source, **only_local)
    except OSError as e:
        if local:
            raise PretrainedError(f"cannot read the {label} config in '{source}': {_first_line(e)}") from None
        raise _missing(label, source, e) from None
    if config.model_type != model_type:
        raise PretrainedError(f"'{source}' holds a '{config.model_type}' model, not {label} "
                              f"(model_type '{model_type}')")
    try:
        model = model_cls.from_pretrained(source, config=config, **only_local)
        processor = processor_cls.from_pretrained(source, **only_local)
    except (OSError, ValueError) as e:
        if local or not _offline():
            raise PretrainedError(f"cannot load {label} from '{source}': {_first_line(e)}") from None
        raise _missing(label, source, e) from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if device is not None:
        model.to(device)
    return model, processor, _weights_id(model_type, source, config, local)


def _weights_id(kind: str, source: str, config, local: bool) -> str:
    """A name for these exact weights: the hub commit of the cached snapshot, or the
    files of a local folder (names, sizes, modification times)."""
    if local:
        folder = Path(source).expanduser().resolve()
        stamp = [[p.name, p.stat().st_size, p.stat().st_mtime_ns]
                 for p in sorted(folder.iterdir()) if p.is_file()]
        digest = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
        return f"{kind}:{folder}:{digest}"
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(source, "config.json")       # .../snapshots/<commit>/config.json
    commit = Path(cached).parent.name if isinstance(cached, str) else None
    return f"{kind}:{source}@{commit or getattr(config, '_commit_hash', None) or 'unknown'}"


# ---- CLAP ----------------------------------------------------------------------------------
class PretrainedClap:
    """A ``transformers`` CLAP model behind the interface of the book's joint embedding.

    ``embed_text(texts)`` -> (N, D) and ``embed_audio(waves)`` -> (N, D), unit rows.
    Audio is 16 kHz mono, resampled to the processor's rate (48 kHz for LAION
    CLAP). A clip longer than the processor's window (``window_seconds``, 10 s)
    is cut by ``musictext.audio.windows`` and its window embeddings averaged; a
    shorter one is repeat-padded by the processor, as CLAP was trained.
    """

    def __init__(self, model, processor, source: str, index_id: str):
        self.model, self.processor, self.source, self.index_id = model, processor, source, index_id
        self.name = f"CLAP ({source})"
        fe = processor.feature_extractor
        self.sampling_rate = int(fe.sampling_rate)
        self.window_samples = int(fe.nb_max_samples)            # at sampling_rate
        self.window_seconds = self.window_samples / self.sampling_rate
        self.dim = int(model.config.projection_dim)

    @property
    def logit_scale(self) -> float:
        """exp(logit_scale_a): CLAP's scale of audio-to-text cosine logits."""
        return float(self.model.logit_scale_a.exp())

    def __repr__(self) -> str:
        return f"PretrainedClap({self.source!r}, dim={self.dim})"

    def embed_text(self, texts, batch_size: int = 64):
        """A str or list of str -> (N, D) unit vectors. Raises TextError on empty or
        over-long text."""
        import torch

        from .text import check_texts

        texts = check_texts(texts)
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                enc = self.processor.tokenizer(texts[i:i + batch_size], padding=True, truncation=True,
                                               return_tensors="pt").to(self.model.device)
                out.append(self.model.get_text_features(
                    input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output)
        return torch.nn.functional.normalize(torch.cat(out).float().cpu(), dim=-1)

    def embed_audio(self, x, batch_size: int = 8):
        """16 kHz mono audio -> (N, D) unit vectors: ``x`` is one waveform (T,), a batch
        (N, T) or a list of 1-D waveforms of any lengths."""
        import torch

        from .audio import SAMPLE_RATE, resample, windows

        from .audio import waveform_list

        waves = waveform_list(x, "a 16 kHz waveform (T,), a batch (N, T) or a non-empty list of waveforms")
        n_win = round(self.window_seconds * SAMPLE_RATE)
        pieces, owner = [], []
        for i, w in enumerate(waves):
            for piece in (windows(w, self.window_seconds) if w.numel() > n_win else [w]):
                pieces.append(resample(piece, SAMPLE_RATE, self.sampling_rate)[:self.window_samples])
                owner.append(i)
        emb = []
        with torch.no_grad():
            for s in range(0, len(pieces), batch_size):
                feats = self.processor.feature_extractor([p.numpy() for p in pieces[s:s + batch_size]],
                                                         sampling_rate=self.sampling_rate,
                                                         return_tensors="pt")
                # no window is longer than the processor's: say so (for fusion models the
                # processor would flag a random clip of an all-short batch as "longer")
                is_longer = torch.zeros_like(feats["is_longer"])
                emb.append(self.model.get_audio_features(
                    input_features=feats["input_features"].to(self.model.device),
                    is_longer=is_longer.to(self.model.device)).pooler_output.float().cpu())
        emb = torch.cat(emb)                                                   # (windows, D)
        pooled = torch.zeros(len(waves), emb.shape[1]).index_add_(0, torch.tensor(owner), emb)
        return torch.nn.functional.normalize(pooled, dim=-1)                  # (N, D)


def load_clap(source: str | os.PathLike | None = DEFAULT_CLAP, device=None) -> PretrainedClap:
    """CLAP (``ClapModel`` + ``ClapProcessor``) from a hub id or a folder made by
    ``save_pretrained``, in eval mode; ``None`` means ``DEFAULT_CLAP``. Raises
    ``PretrainedError`` when the weights are absent (offline) or are not CLAP."""
    from transformers import ClapModel, ClapProcessor

    source = str(source or DEFAULT_CLAP)
    model, processor, index_id = _load("CLAP", "clap", source, ClapModel, ClapProcessor, device)
    return PretrainedClap(model, processor, source, index_id)


def tag_prompts(tags: list[str] | None = None) -> list[str]:
    """The text prompt of each tag (default: every tag, in ``TAGS`` order), from the
    ``TAG_PROMPTS`` template of its group."""
    from .data.vocab import GROUP_OF, TAGS

    return [TAG_PROMPTS[GROUP_OF[t]].format(t) for t in (TAGS if tags is None else tags)]


def clap_tag_probabilities(clap: PretrainedClap, waves):
    """Zero-shot probabilities of the book's tags, in ``TAGS`` order: (n_tags,) for one
    waveform (T,), (N, n_tags) for a batch or a list. Within each tag group they
    are softmax(logit_scale * cosine(audio, tag prompt)) over the group's tags,
    so each group sums to 1."""
    import torch

    from .data.vocab import TAG_GROUPS, TAGS

    single = isinstance(waves, torch.Tensor) and waves.ndim == 1
    logits = clap.logit_scale * clap.embed_audio(waves) @ clap.embed_text(tag_prompts()).T  # (N, n_tags)
    probs = torch.empty_like(logits)
    for tags in TAG_GROUPS.values():
        idx = torch.tensor([TAGS.index(t) for t in tags])
        probs[:, idx] = logits[:, idx].softmax(dim=-1)
    return probs[0] if single else probs


def clap_tags_by_group(clap: PretrainedClap, wave) -> dict[str, list[tuple[str, float]]]:
    """One 16 kHz waveform (T,) -> {group: [(tag, probability), ...]}, best first: the
    shape of ``musictext.models.tagging.tags_by_group``."""
    from .audio import validate_waveform
    from .data.vocab import TAGS
    from .models.tagging import tags_by_group

    return tags_by_group(TAGS, clap_tag_probabilities(clap, validate_waveform(wave)))


# ---- MusicGen ----------------------------------------------------------------------------
class PretrainedMusicgen:
    """``MusicgenForConditionalGeneration`` and its processor (T5 tokenizer), with the
    codec's sampling rate, frame rate and number of codebooks."""

    def __init__(self, model, processor, source: str, index_id: str):
        self.model, self.processor, self.source, self.index_id = model, processor, source, index_id
        self.name = f"MusicGen ({source})"
        codec = model.config.audio_encoder
        self.sampling_rate = int(codec.sampling_rate)
        self.frame_rate = float(codec.frame_rate)
        self.num_codebooks = int(model.config.decoder.num_codebooks)

    def __repr__(self) -> str:
        return f"PretrainedMusicgen({self.source!r}, {self.sampling_rate} Hz)"

    def tokens_for(self, seconds: float) -> int:
        """Decoder steps that cover ``seconds``: one per codec frame, plus the
        ``num_codebooks - 1`` steps the delay pattern adds."""
        return math.ceil(seconds * self.frame_rate) + self.num_codebooks - 1


def load_musicgen(source: str | os.PathLike | None = DEFAULT_MUSICGEN, device=None) -> PretrainedMusicgen:
    """MusicGen (``MusicgenForConditionalGeneration`` + ``AutoProcessor``) from a hub id
    or a folder made by ``save_pretrained``, in eval mode; ``None`` means
    ``DEFAULT_MUSICGEN``. Raises ``PretrainedError`` when the weights are absent."""
    from transformers import AutoProcessor, MusicgenForConditionalGeneration

    source = str(source or DEFAULT_MUSICGEN)
    model, processor, index_id = _load("MusicGen", "musicgen", source, MusicgenForConditionalGeneration,
                                       AutoProcessor, device)
    return PretrainedMusicgen(model, processor, source, index_id)


def generate_musicgen(prompt: str, seconds: float = 5.0, seed: int = 0, guidance: float = 3.0,
                      model: PretrainedMusicgen | None = None):
    """Sample ``seconds`` of music for ``prompt`` with MusicGen and return it as 16 kHz
    mono (T,), T = round(seconds * 16000). ``guidance`` is the classifier-free
    guidance scale (values up to 1 mean none); the same seed gives the same audio
    on the same machine. The global random state is left as it was."""
    import torch

    from .audio import SAMPLE_RATE, pad_or_trim, resample
    from .models.generation import MAX_GUIDANCE
    from .text import check_texts

    prompt = check_texts(prompt)[0]
    if not 0 < seconds <= MUSICGEN_MAX_SECONDS:
        raise ValueError(f"seconds must be in (0, {MUSICGEN_MAX_SECONDS:g}], got {seconds}")
    if not 0 <= guidance <= MAX_GUIDANCE:
        raise ValueError(f"guidance must be in [0, {MAX_GUIDANCE:g}], got {guidance}")
    mg = model or load_musicgen()
    device = mg.model.device
    inputs = mg.processor(text=[prompt], padding=True, return_tensors="pt").to(device)
    with torch.no_grad(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(seed))
        audio = mg.model.generate(**inputs, do_sample=True, guidance_scale=float(guidance),
                                  max_new_tokens=mg.tokens_for(seconds))       # (1, channels, T')
    wave = resample(audio[0].float().mean(dim=0).cpu(), mg.sampling_rate, SAMPLE_RATE)
    return pad_or_trim(wave, round(seconds * SAMPLE_RATE)).clamp(-1.0, 1.0)
