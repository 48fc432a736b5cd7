"""musictext.models.retrieval: checkpoint integrity, unit embeddings for every
input form, one windowing rule, bad inputs, and a reproducible pretrain."""
from __future__ import annotations


import pytest
import torch

from musictext.audio import AudioError, LogMel, windows
from musictext.models import retrieval
from musictext.paths import checkpoint_path
from musictext.text import TextError, sha256_file


@pytest.fixture(scope="module")
def joint():
    return retrieval.load()


def test_checkpoint_is_small_frozen_and_without_encoder_weights(joint):
    assert checkpoint_path(retrieval.CHECKPOINT).stat().st_size < 5e6
    assert all(not p.requires_grad for p in joint.parameters())
    # only the trainable parts are stored: no sentence-encoder weights in the state dict
    assert not any("encoder" in k for k in joint.state_dict())
    assert float(joint.logit_scale) <= retrieval.MAX_LOGIT_SCALE


def test_embeddings_are_unit_vectors_and_match_across_inputs(joint):
    dim = joint.config["embed_dim"]
    t = joint.embed_text(["calm solo piano", "fast loud rock with drums"])
    assert t.shape == (2, dim)
    assert torch.allclose(t.norm(dim=1), torch.ones(2), atol=1e-5)
    g = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(3, 80000, generator=g)
    a = joint.embed_audio(waves)
    assert a.shape == (3, dim)
    assert torch.allclose(a.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(joint.embed_audio(LogMel()(waves)), a, atol=1e-5)
    # other lengths: padded (short) or averaged over the package's windows (long)
    long = torch.cat([waves[1]] * 3)
    varied = joint.embed_audio([waves[0, :20000], long])
    assert varied.shape == (2, dim)
    by_hand = joint.audio_from_logmel(LogMel()(windows(long))).sum(0)
    assert torch.allclose(varied[1], by_hand / by_hand.norm(), atol=1e-5)


def test_text_query_prefers_matching_clips(joint, tiny16):
    from musictext.data import CAPTION_SENTENCE, SynthCaps

    ds = SynthCaps(tiny16, None)
    a = joint.embed_audio(ds.logmel)
    t = joint.embed_text([r["captions"][CAPTION_SENTENCE] for r in ds.records])
    sim = t @ a.T
    # the matching clip scores above the average clip for most captions
    assert (sim.diag() > sim.mean(dim=1)).float().mean() >= 0.75


def test_bad_model_inputs(joint):
    with pytest.raises(TextError, match="empty"):
        joint.embed_text("   ")
    with pytest.raises(TextError, match="limit"):
        joint.embed_text("piano " * 400)
    with pytest.raises(AudioError):
        joint.embed_audio(torch.zeros(2, 32, 100))  # wrong number of mel bands
    with pytest.raises(AudioError, match="NaN"):
        joint.embed_audio(torch.full((80000,), float("nan")))
    with pytest.raises(AudioError):
        joint.embed_audio([])


def test_pretrain_repeats_on_a_tiny_build(tiny_data, tmp_path):
    cfg = retrieval.Config(steps=6, batch=8)
    a = retrieval.pretrain(tmp_path / "a", cfg, root=tiny_data, verbose=False)
    b = retrieval.pretrain(tmp_path / "b", cfg, root=tiny_data, verbose=False)
    assert sha256_file(a) == sha256_file(b)
    model = retrieval.load(a, sha256=None)
    assert 0 <= float(model.logit_scale) <= retrieval.MAX_LOGIT_SCALE
