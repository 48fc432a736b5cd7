"""Audio I/O and features, the sentence encoder, metrics and training plumbing."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from musictext import audio, metrics, text
from musictext.audio import AudioError, LogMel, load_audio, validate_waveform
from musictext.train import load_checkpoint, save_checkpoint, seed_everything


def test_load_audio_converts_rate_and_channels(tmp_path):
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (48000, 2))
    sf.write(tmp_path / "s.wav", x, 48000)
    y = load_audio(tmp_path / "s.wav")
    assert y.shape == (16000,) and y.dtype == torch.float32
    assert load_audio(tmp_path / "s.wav", seconds=2.0).shape == (32000,)


def test_audio_errors_name_file_and_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav"):
        load_audio(tmp_path / "nothing.wav")
    (tmp_path / "fake.wav").write_text("this is not audio")
    with pytest.raises(AudioError, match="fake.wav.*not a readable audio file"):
        load_audio(tmp_path / "fake.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_audio(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1] * 100), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav.*NaN"):
        load_audio(tmp_path / "nan.wav")
    sf.write(tmp_path / "short.wav", np.zeros(800), 16000)
    with pytest.raises(AudioError, match="short.wav.*shorter than the 1.00 s"):
        load_audio(tmp_path / "short.wav", min_seconds=1.0)
    with pytest.raises(AudioError, match="folder"):
        load_audio(tmp_path)


def test_validate_waveform_errors():
    with pytest.raises(AudioError, match="shape"):
        validate_waveform(torch.zeros(2, 3, 4))
    with pytest.raises(AudioError, match="22050 Hz"):
        validate_waveform(torch.zeros(100), sample_rate=22050)
    with pytest.raises(AudioError, match="numpy array or torch tensor"):
        validate_waveform([0.0, 1.0])
    assert validate_waveform(np.zeros((1, 50))).shape == (50,)


def test_logmel_shapes_and_errors():
    fe = LogMel()
    y = fe(torch.randn(3, 80000) * 0.1)
    assert y.shape == (3, fe.n_mels, fe.frames(80000))
    assert fe(torch.zeros(16000)).max() <= np.log(1e-5) + 1e-3  # silence sits at log(eps)
    with pytest.raises(AudioError, match="shape"):
        fe(torch.zeros(1, 1, 16000))
    with pytest.raises(AudioError, match="at least 1024"):
        fe(torch.zeros(100))


def test_players_render_wav_html():
    p = audio.players([(np.zeros(1600), "silence <1>"), (torch.zeros(1600), None)])
    html = p._repr_html_()
    assert html.count("<audio") == 2 and "data:audio/mpeg;base64," in html and "silence &lt;1&gt;" in html
    assert "data:audio/wav;base64," in audio.players([(np.zeros(1600), "x")], fmt="wav")._repr_html_()
    assert audio.wav_bytes(np.zeros(10))[:4] == b"RIFF"
    tone = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * 0.5
    assert audio.mp3_bytes(tone) == audio.mp3_bytes(tone)  # deterministic, so notebooks compare under nbval
    with pytest.raises(ValueError, match="fmt"):
        audio.player_html(tone, fmt="aac")


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


def test_tagging_and_retrieval_metrics():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    perfect = metrics.tagging_scores(y, y.astype(float), ["a", "b"])
    assert perfect["roc_auc"] == 1.0 and perfect["pr_auc"] == 1.0
    flipped = metrics.tagging_scores(y, 1.0 - y, ["a", "b"])
    assert flipped["roc_auc"] == 0.0
    groups = metrics.group_scores(perfect["per_tag"], {"a": "g1", "b": "g2"})
    assert groups == {"g1": {"roc_auc": 1.0, "pr_auc": 1.0}, "g2": {"roc_auc": 1.0, "pr_auc": 1.0}}
    with pytest.raises(ValueError):
        metrics.tagging_scores(y, y[:, :1], ["a"])
    r = metrics.retrieval_scores(np.eye(5))
    assert r["R@1"] == 1.0 and r["medr"] == 1.0 and r["mAP@10"] == 1.0
    sim = np.array([[0.1, 0.9, 0.0], [0.9, 0.1, 0.0], [0.0, 0.2, 0.5]])
    r = metrics.retrieval_scores(sim)  # ranks 2, 2, 1
    assert list(r["ranks"]) == [2, 2, 1] and r["R@1"] == pytest.approx(1 / 3) and r["medr"] == 2
    assert r["mAP@10"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    with pytest.raises(ValueError, match="square"):
        metrics.retrieval_scores(np.zeros((2, 3)))


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    assert metrics.frechet_distance(a, b) < 0.1
    assert metrics.frechet_distance(a, b + 2.0) == pytest.approx(16.0, rel=0.1)
    with pytest.raises(ValueError):
        metrics.frechet_distance(a, b[:, :3])


def test_caption_tag_f1():
    res = metrics.caption_tag_f1(["A calm piano piece", "loud rock"], [["calm", "piano"], ["rock", "fast"]])
    assert res["precision"] == pytest.approx(3 / 4) and res["recall"] == pytest.approx(3 / 4)
    with pytest.raises(ValueError):
        metrics.caption_tag_f1(["x"], [])


def test_checkpoints_round_trip_and_hash_check(tmp_path):
    seed_everything(1)
    m = torch.nn.Linear(4, 3)
    path = save_checkpoint(m, tmp_path / "m.safetensors", {"in": 4})
    m2 = torch.nn.Linear(4, 3)
    assert load_checkpoint(m2, path) == {"in": 4}
    assert torch.equal(m.weight, m2.weight)
    with pytest.raises(RuntimeError, match="SHA-256"):
        load_checkpoint(m2, path, sha256="0" * 64)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(m2, tmp_path / "missing.safetensors")


def test_seeding_is_repeatable():
    seed_everything(3)
    a = torch.randn(5)
    seed_everything(3)
    assert torch.equal(a, torch.randn(5))


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
