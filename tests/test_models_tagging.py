"""musictext.models.tagging: checkpoint integrity, outputs, windowing, grouping,
and a reproducible pretrain on a tiny build."""
from __future__ import annotations


import pytest
import torch

from musictext.audio import AudioError, LogMel
from musictext.data import GROUP_OF, TAG_GROUPS, TAGS
from musictext.models import tagging
from musictext.paths import checkpoint_path
from musictext.text import sha256_file


@pytest.fixture(scope="module")
def tagger() -> tagging.ReferenceTagger:
    return tagging.load()


def test_checkpoint_is_small_and_uses_the_book_tags_and_front_end(tagger):
    assert checkpoint_path(tagging.CHECKPOINT).stat().st_size < 5e6
    assert tagger.tags == TAGS
    assert tagger.frontend == LogMel().settings()          # the one front end


def test_probabilities_and_embedding_for_waves_and_logmels(tagger):
    g = torch.Generator().manual_seed(0)
    waves = 0.1 * torch.randn(3, 80000, generator=g)
    out = tagging.tag_probabilities(tagger, waves)
    assert out["probabilities"].shape == (3, len(TAGS))
    assert out.embedding.shape == (3, tagger.config["emb_dim"])
    assert ((out.probabilities > 0) & (out.probabilities < 1)).all()
    same = tagging.tag_probabilities(tagger, LogMel()(waves))
    assert torch.allclose(same.probabilities, out.probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="log-mels"):
        tagging.tag_probabilities(tagger, torch.zeros(2, 32, 100))


def test_long_and_short_waveforms(tagger):
    g = torch.Generator().manual_seed(1)
    long = 0.1 * torch.randn(16000 * 12, generator=g)
    assert tagging.tag_waveform(tagger, long).shape == (len(TAGS),)
    assert tagging.tag_waveform(tagger, long[:32000]).shape == (len(TAGS),)
    with pytest.raises(AudioError, match="at least 1.0 s"):
        tagging.tag_waveform(tagger, torch.zeros(8000))


def test_tags_by_group_keeps_every_tag_once_best_first():
    probs = torch.linspace(0.01, 0.99, len(TAGS))
    groups = tagging.tags_by_group(TAGS, probs)
    assert list(groups) == list(TAG_GROUPS)
    assert sorted(t for rows in groups.values() for t, _ in rows) == sorted(TAGS)
    for g, rows in groups.items():
        assert all(GROUP_OF[t] == g for t, _ in rows)
        assert [p for _, p in rows] == sorted((p for _, p in rows), reverse=True)


def test_pretrain_repeats_and_learns_on_a_tiny_build(tiny_data, tmp_path):
    cfg = tagging.Config(epochs=2, batch=6)        # 17 training clips: no batch of one
    a = tagging.pretrain(tmp_path / "a", cfg, root=tiny_data, verbose=False)
    b = tagging.pretrain(tmp_path / "b", cfg, root=tiny_data, verbose=False)
    assert sha256_file(a) == sha256_file(b)                 # same seed, same bytes
    model = tagging.load(a, sha256=None)
    assert model.tags == TAGS and not model.training
    assert torch.get_num_threads() >= 1                     # the thread count is restored


def test_feature_map_continues_into_the_embedding(tagger):
    x = LogMel()(0.1 * torch.randn(2, 80000, generator=torch.Generator().manual_seed(2)))
    n, channels = len(tagger.blocks), tagger.config["channels"]
    with torch.no_grad():
        full = tagger.feature_map(x)                         # (B, C, F', T')
        low = tagger.feature_map(x, blocks=n - 1)
        assert full.shape[:2] == (2, channels[-1]) and low.shape[:2] == (2, channels[-2])
        assert torch.allclose(tagger.blocks[n - 1:](low), full, atol=1e-6)
        f = full.mean(dim=2)                                 # (B, C, T'): the frames
        pooled = torch.cat([f.mean(dim=2), f.amax(dim=2)], dim=1)
        emb = torch.relu(tagger.bn_emb(tagger.proj(pooled)))
        assert torch.allclose(emb, tagger.embed(x), atol=1e-5)
    with pytest.raises(ValueError, match="blocks"):
        tagger.feature_map(x, blocks=n + 1)
