"""musictext.pretrained and the ``--model clap`` / ``--model musicgen`` command lines,
offline: tiny random-weight CLAP and MusicGen models (and their tokenizers, built
from a few words) are saved with save_pretrained once per session and loaded
from those folders. Also the one-line error when weights are absent."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import assert_one_line_error, tone

from musictext import pretrained
from musictext.data import GROUP_OF, TAG_GROUPS, TAGS
from musictext.search import INDEX_FILE, SearchIndex
from musictext.text import TextError

WORDS = ["music", "with", "a", "in", "at", "key", "tempo", "piano", "jazz", "rock", "calm", "slow",
         "fast", "drums", "no", "low", "hum"]


@pytest.fixture(scope="session")
def tiny_clap(tmp_path_factory):
    """A tiny CLAP folder: a 48 kHz processor with a 2 s window, a character-level
    RoBERTa tokenizer and random weights (about 100 kB)."""
    import transformers as hf

    chars = sorted(set("".join(WORDS)))
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    for c in chars + ["Ġ" + c for c in chars]:
        vocab.setdefault(c, len(vocab))
    tokenizer = hf.RobertaTokenizer(vocab=vocab, merges=[], model_max_length=32)
    text = hf.ClapTextConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                             num_attention_heads=2, intermediate_size=37, max_position_embeddings=40,
                             projection_dim=16)
    audio = hf.ClapAudioConfig(num_mel_bins=16, spec_size=32, window_size=4, patch_size=2,
                               patch_stride=2, hidden_size=16, patch_embeds_hidden_size=8,
                               projection_dim=16, depths=[1, 1], num_attention_heads=[2, 2],
                               num_hidden_layers=2, intermediate_size=16)
    torch.manual_seed(0)
    model = hf.ClapModel(hf.ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(),
                                       projection_dim=16))
    features = hf.ClapFeatureExtractor(feature_size=16, sampling_rate=48000, hop_length=4800,
                                       max_length_s=2, truncation="rand_trunc", padding="repeatpad")
    folder = tmp_path_factory.mktemp("pretrained") / "tiny-clap"
    model.save_pretrained(folder)
    hf.ClapProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_musicgen(tmp_path_factory):
    """A tiny MusicGen folder: a 32 kHz codec at 50 frames/s with 4 codebooks, a T5
    encoder with a word-level unigram tokenizer, random weights (about 300 kB)."""
    import transformers as hf
    from transformers.utils import logging as hf_logging

    vocab = ([("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [("▁" + w, -1.0) for w in WORDS]
             + [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz▁,"])
    text = hf.T5Config(vocab_size=len(vocab), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
    codec = hf.EncodecConfig(audio_channels=1, sampling_rate=32000, num_filters=2,
                             num_residual_layers=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=32,
                             codebook_dim=8, hidden_size=8, num_lstm_layers=1, target_bandwidths=[1.0])
    special = codec.codebook_size                       # pad / start token, as in MusicGen
    before = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()                    # it warns that the special id is past the codebook
    try:
        decoder = hf.MusicgenDecoderConfig(vocab_size=codec.codebook_size, hidden_size=16,
                                           num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
                                           num_codebooks=codec.num_quantizers,
                                           max_position_embeddings=512, audio_channels=1,
                                           pad_token_id=special, bos_token_id=special,
                                           decoder_start_token_id=special)
        torch.manual_seed(0)
        model = hf.MusicgenForConditionalGeneration(hf.MusicgenConfig(
            text_encoder=text.to_dict(), audio_encoder=codec.to_dict(), decoder=decoder.to_dict()))
    finally:
        hf_logging.set_verbosity(before)
    for layer in model.audio_encoder.quantizer.layers:  # codebooks start at zero: all codes sound alike
        layer.codebook.embed.normal_()
    folder = tmp_path_factory.mktemp("pretrained") / "tiny-musicgen"
    model.save_pretrained(folder)
    features = hf.EncodecFeatureExtractor(feature_size=1, sampling_rate=32000)
    hf.MusicgenProcessor(feature_extractor=features,
                         tokenizer=hf.T5Tokenizer(vocab=vocab, extra_ids=0)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def clap(tiny_clap):
    return pretrained.load_clap(tiny_clap)


@pytest.fixture(scope="session")
def musicgen(tiny_musicgen):
    return pretrained.load_musicgen(tiny_musicgen)


def _wave(freq: float, seconds: float, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(tone(freq, seconds, 16000, seed=seed))


# ---- CLAP ----------------------------------------------------------------------------------
def test_clap_embeds_text_and_audio_as_unit_rows(clap, tiny_clap):
    assert (clap.sampling_rate, clap.window_seconds, clap.dim) == (48000, 2.0, 16)
    assert clap.index_id.startswith("clap:") and str(tiny_clap.resolve()) in clap.index_id
    t = clap.embed_text(["calm slow piano", "fast rock with drums"])
    assert t.shape == (2, clap.dim) and torch.allclose(t.norm(dim=1), torch.ones(2), atol=1e-5)
    assert torch.allclose(clap.embed_text("calm slow piano")[0], t[0], atol=1e-5)
    with pytest.raises(TextError, match="empty"):
        clap.embed_text("  ")
    # a short clip (repeat-padded) and a 5 s one (cut into 2 s windows, averaged)
    short, long = _wave(220, 0.5), _wave(880, 5.0, seed=1)
    a = clap.embed_audio([short, long])
    assert a.shape == (2, clap.dim) and a.dtype == torch.float32
    assert torch.allclose(a.norm(dim=1), torch.ones(2), atol=1e-5)
    # a clip's embedding does not depend on its batch, nor on the batch size
    assert torch.allclose(clap.embed_audio(long)[0], a[1], atol=1e-5)
    assert torch.allclose(clap.embed_audio([short, long], batch_size=1), a, atol=1e-5)
    assert torch.allclose(clap.embed_audio(torch.stack([long, long])), a[[1, 1]], atol=1e-5)


def test_clap_zero_shot_tags_are_a_softmax_per_group(clap):
    assert list(pretrained.TAG_PROMPTS) == list(TAG_GROUPS)
    prompts = pretrained.tag_prompts()
    assert len(prompts) == len(TAGS) and prompts[TAGS.index("no drums")] == "music with no drums"
    waves = [_wave(220, 3.0), _wave(660, 1.5, seed=2)]
    probs = pretrained.clap_tag_probabilities(clap, waves)
    assert probs.shape == (2, len(TAGS))
    for tags in TAG_GROUPS.values():
        idx = [TAGS.index(t) for t in tags]
        assert torch.allclose(probs[:, idx].sum(dim=1), torch.ones(2), atol=1e-5)
    groups = pretrained.clap_tags_by_group(clap, waves[0])
    assert list(groups) == list(TAG_GROUPS)
    for g, ranked in groups.items():
        assert {t for t, _ in ranked} == set(TAG_GROUPS[g])
        assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
        assert dict(ranked) == pytest.approx({t: float(probs[0, TAGS.index(t)]) for t, _ in ranked},
                                             abs=1e-5)


def test_search_index_with_clap_has_its_own_cache(clap, wav_folder):
    index = SearchIndex.build(wav_folder, model=clap)
    assert index.embeddings.shape == (3, clap.dim) and index.stats["embedded"] == 3
    cache = SearchIndex.cache_path(wav_folder, clap.index_id)
    assert cache.exists() and cache.name != INDEX_FILE and not (wav_folder / INDEX_FILE).exists()
    again = SearchIndex.build(wav_folder, model=clap)
    assert again.stats["from_cache"] == 3 and again.stats["embedded"] == 0
    assert torch.allclose(again.embeddings, index.embeddings)
    rows = again.search("a low hum", top=2)
    assert len(rows) == 2 and rows[0]["score"] >= rows[1]["score"]


# ---- MusicGen ----------------------------------------------------------------------------
def test_musicgen_generates_16k_mono_reproducibly(musicgen):
    assert (musicgen.sampling_rate, musicgen.frame_rate) == (32000, 50.0)
    assert musicgen.tokens_for(0.5) == 25 + musicgen.num_codebooks - 1      # frames + the delay
    state = torch.random.get_rng_state()
    a = pretrained.generate_musicgen("calm slow piano", seconds=0.5, seed=1, model=musicgen)
    assert torch.equal(torch.random.get_rng_state(), state)         # the global generator is untouched
    assert a.shape == (8000,) and a.dtype == torch.float32 and a.abs().max() <= 1.0
    b = pretrained.generate_musicgen("calm slow piano", seconds=0.5, seed=1, model=musicgen)
    c = pretrained.generate_musicgen("calm slow piano", seconds=0.5, seed=2, guidance=1.0, model=musicgen)
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ValueError, match="seconds"):
        pretrained.generate_musicgen("jazz", seconds=31, model=musicgen)
    with pytest.raises(TextError):
        pretrained.generate_musicgen("", model=musicgen)


# ---- command line ----------------------------------------------------------------------------
def test_cli_search_with_clap(cli, tiny_clap, wav_folder):
    code, out, _ = cli("search", "a low hum", "--index", wav_folder, "--model", "clap",
                       "--weights", tiny_clap, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3] and all(set(r) == {"rank", "path", "score"} for r in rows)
    code, out, _ = cli("search", "--audio", wav_folder / "a_low.wav", "--index", wav_folder,
                       "--model", "clap", "--weights", tiny_clap, "--top", "1")
    assert code == 0 and out.strip().endswith("a_low.wav") and float(out.split()[1]) > 0.99
    assert_one_line_error(*cli("search", "piano", "--index", wav_folder, "--weights", tiny_clap),
                          "--weights goes with --model clap")


def test_cli_tag_with_clap(cli, tiny_clap, tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, tone(440, 3.0, 22050), 22050)
    code, out, _ = cli("tag", "--audio", path, "--model", "clap", "--weights", tiny_clap,
                       "--top", len(TAGS), "--json")
    assert code == 0
    rows = json.loads(out)
    assert sorted(r["tag"] for r in rows) == sorted(TAGS)
    assert all(set(r) == {"group", "tag", "probability"} and GROUP_OF[r["tag"]] == r["group"] for r in rows)
    for g in TAG_GROUPS:
        assert sum(r["probability"] for r in rows if r["group"] == g) == pytest.approx(1, abs=1e-3)
    code, out, _ = cli("tag", "--audio", path, "--model", "clap", "--weights", tiny_clap, "--top", "2")
    assert code == 0 and [line.split()[0] for line in out.strip().splitlines()] == list(TAG_GROUPS)


def test_cli_generate_with_musicgen(cli, tiny_musicgen, tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    args = ["generate", "calm slow piano", "--model", "musicgen", "--weights", tiny_musicgen,
            "--seconds", "0.6", "--seed", "4"]
    code, out, _ = cli(*args, "--out", a, "--json")
    assert code == 0
    assert json.loads(out) == [{"path": str(a), "seconds": 0.6, "seed": 4, "guidance": 3.0,
                                "model": str(tiny_musicgen)}]
    code, out, _ = cli(*args, "--out", b)
    assert code == 0 and "MusicGen" in out and a.read_bytes() == b.read_bytes()
    info = sf.info(str(a))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 9600)
    for extra, message in [(["--steps", "8"], "--steps is for the book's generator"),
                           (["--seconds", "31"], "--seconds must be in (0, 30]")]:
        assert_one_line_error(*cli(*args, "--out", tmp_path / "x.wav", *extra), message)
    assert_one_line_error(*cli("generate", "jazz", "--out", tmp_path / "x.wav", "--weights", tiny_musicgen),
                          "--weights goes with --model musicgen")
    assert not (tmp_path / "x.wav").exists()


# ---- absent or wrong weights ---------------------------------------------------------------
def _commands(tmp_path, wav_folder, weights: str) -> list[list]:
    clip = wav_folder / "a_low.wav"
    return [["search", "piano", "--index", wav_folder, "--model", "clap", "--weights", weights],
            ["tag", "--audio", clip, "--model", "clap", "--weights", weights],
            ["generate", "jazz", "--out", tmp_path / "x.wav", "--model", "musicgen", "--weights", weights]]


def test_absent_weights_are_one_clear_line(cli, tmp_path, wav_folder):
    missing = tmp_path / "no" / "such" / "folder"
    for argv in _commands(tmp_path, wav_folder, str(missing)):
        assert_one_line_error(*cli(*argv), f"weights folder not found: '{missing}'")
    hub_id = "musictext-tests/not-a-model"                 # never in any cache
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    for argv in _commands(tmp_path, wav_folder, hub_id):
        code, out, err = cli(*argv)
        assert_one_line_error(code, out, err, f"weights '{hub_id}' are not on this machine")
        assert "HF_HUB_OFFLINE is set" in err and f"`hf download {hub_id}`" in err
        assert "save_pretrained" in err
    with pytest.raises(pretrained.PretrainedError, match="not on this machine"):
        pretrained.load_musicgen(hub_id)
    with pytest.raises(pretrained.PretrainedError, match="not found"):
        pretrained.load_clap(missing)


def test_wrong_folders_are_one_clear_line(cli, tmp_path, wav_folder, tiny_clap, tiny_musicgen):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(*cli(*_commands(tmp_path, wav_folder, str(tmp_path / "empty"))[1]),
                          "has no config.json")
    assert_one_line_error(*cli(*_commands(tmp_path, wav_folder, str(tiny_musicgen))[0]),
                          "holds a 'musicgen' model, not CLAP")
    assert_one_line_error(*cli(*_commands(tmp_path, wav_folder, str(tiny_clap))[2]),
                          "holds a 'clap' model, not MusicGen")
    assert_one_line_error(*cli(*_commands(tmp_path, wav_folder, str(tiny_clap / "config.json"))[1]),
                          "is a file")


def test_default_hub_id_offline_in_a_subprocess(tmp_path, wav_folder):
    """The real default id, with an empty hub cache: exit code 2 and one line."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "1"}
    argv = ["tag", "--audio", str(wav_folder / "a_low.wav"), "--model", "clap"]
    r = subprocess.run([sys.executable, "-m", "musictext", *argv], capture_output=True, text=True,
                       timeout=120, env=env, check=False)
    assert r.returncode == 2 and r.stdout == ""
    hub_id = pretrained.DEFAULT_CLAP
    assert r.stderr.strip().splitlines() == [(
        f"error: CLAP weights '{hub_id}' are not on this machine (HF_HUB_OFFLINE is set): download "
        f"them once while online with `hf download {hub_id}`, or pass a folder made by "
        "save_pretrained (--weights FOLDER on the command line)")]


def test_a_cached_hub_id_loads_offline(tmp_path, tiny_clap):
    """A hub id whose snapshot is in the hub cache loads with HF_HUB_OFFLINE set, and
    its index id names the commit."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf-home" / "hub" / "models--musictext-tests--tiny-clap"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(tiny_clap, repo / "snapshots" / commit)
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "1"}
    code = ("from musictext.pretrained import load_clap; c = load_clap('musictext-tests/tiny-clap'); "
            "print(c.index_id, tuple(c.embed_text('jazz').shape))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [f"clap:musictext-tests/tiny-clap@{commit}", "(1,", "16)"]


def test_tiny_folders_stay_small(tiny_clap, tiny_musicgen):
    for folder in (tiny_clap, tiny_musicgen):
        assert sum(p.stat().st_size for p in folder.iterdir()) < 2_000_000
    assert np.isfinite(pretrained.load_clap(tiny_clap).logit_scale)


def test_an_unreachable_hub_fails_at_once_without_asking_it(monkeypatch):
    from musictext import pretrained

    asked = []
    monkeypatch.setattr(pretrained, "_offline", lambda: False)          # as on a laptop with no network
    monkeypatch.setattr(pretrained, "_in_cache", lambda source: False)
    monkeypatch.setattr(pretrained, "_hub_reachable", lambda timeout=3.0: asked.append(timeout) or False)
    with pytest.raises(pretrained.PretrainedError, match="cannot be reached and the weights are not in the cache"):
        pretrained.load_clap("nobody/no-such-clap")
    with pytest.raises(pretrained.PretrainedError, match="hf download nobody/no-such-musicgen"):
        pretrained.load_musicgen("nobody/no-such-musicgen")
    assert len(asked) == 2
