"""musictext.text: the bundled sentence encoder and tokenizer training."""
from __future__ import annotations

import shutil

import pytest
import torch

from musictext import text


def test_sentence_encoder_is_verified_and_meaningful(tmp_path, monkeypatch):
    enc = text.load_sentence_encoder()
    v = enc.encode(["calm solo piano", "a peaceful piano piece", "loud distorted guitar rock with drums"])
    assert v.shape == (3, enc.dim) and torch.allclose(v.norm(dim=1), torch.ones(3), atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    h, mask = enc.token_embeddings(["calm piano", "a much longer query about jazz"])
    assert h.shape[:2] == mask.shape and h.shape[2] == enc.dim and mask[0].sum() < mask[1].sum()
    for bad in ("", "   ", [], ["ok", ""], "x" * 5000, 42):
        with pytest.raises(text.TextError):
            enc.encode(bad)
    # a corrupted copy of the bundled weights is refused
    copy = tmp_path / "model"
    shutil.copytree(text.bundled_minilm_dir(), copy)
    with open(copy / "model.safetensors", "r+b") as f:
        f.seek(5000)
        b = f.read(1)
        f.seek(5000)
        f.write(bytes([b[0] ^ 0xFF]))
    monkeypatch.setattr(text, "bundled_minilm_dir", lambda: copy)
    text.load_sentence_encoder.cache_clear()
    with pytest.raises(RuntimeError, match="SHA-256"):
        text.load_sentence_encoder()
    text.load_sentence_encoder.cache_clear()


def test_train_tokenizer_round_trip():
    caps = ["a calm piano piece in a major key", "loud rock with distorted guitar and drums"] * 20
    for kind in ("wordpiece", "bpe"):
        tok = text.train_tokenizer(caps, vocab_size=120, kind=kind)
        ids = tok("a calm rock piece")["input_ids"]
        assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
        assert tok.decode(ids, skip_special_tokens=True).replace(" ", "") == "acalmrockpiece"
    with pytest.raises(ValueError, match="kind"):
        text.train_tokenizer(caps, kind="unigramx")


def test_train_tokenizer_gives_the_same_ids_in_every_process():
    import subprocess
    import sys

    code = ("from musictext.text import train_tokenizer\n"
            "caps = ['a calm piano piece in a major key', 'loud rock with distorted guitar and drums',"
            " 'a sad slow folk song with a fiddle'] * 5\n"
            "for k in ('wordpiece', 'bpe'):\n"
            "    t = train_tokenizer(caps, vocab_size=80, kind=k)\n"
            "    print(sorted(t.get_vocab().items()))\n")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(3)}
    assert len(runs) == 1
