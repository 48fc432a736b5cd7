"""musictext.metrics on hand-computed cases: tagging, retrieval, generation
(Fréchet distance, prompt adherence) and captioning."""
import math

import numpy as np
import pytest
import torch

from musictext import metrics
from musictext.metrics import bleu, caption_similarity, caption_tokens, cider_d, meteor_exact, rouge_l

CAND = "The cat sat on the mat."
REF = "the cat is on the mat"


def test_tokens_lowercase_and_drop_punctuation():
    assert caption_tokens("Hip-hop, LOUD drums.") == ["hip", "hop", "loud", "drums"]
    with pytest.raises(TypeError):
        caption_tokens(3)


def test_bleu_perfect_and_disjoint():
    assert bleu([CAND], [[CAND]]) == {"bleu1": 1.0, "bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0}
    assert bleu(["a b c d"], [["e f g h"]])["bleu1"] == 0.0


def test_bleu_hand_computed():
    # unigrams 5/6 (the x2, cat, on, mat), bigrams 3/5, trigrams 1/4, 4-grams 0/3; equal lengths -> BP 1
    s = bleu([CAND], [[REF]])
    assert s["bleu1"] == pytest.approx(5 / 6)
    assert s["bleu2"] == pytest.approx(math.sqrt(5 / 6 * 3 / 5))
    assert s["bleu3"] == pytest.approx(0.5)
    assert s["bleu4"] == 0.0


def test_bleu_brevity_penalty_and_clipping():
    # 2 words against 6: all unigrams match, BP = exp(1 - 6/2)
    assert bleu(["the cat"], [[REF]], n=1)["bleu1"] == pytest.approx(math.exp(-2))
    # "the the the" may only count "the" twice (its count in the reference)
    assert bleu(["the the the the the the"], [[REF]], n=1)["bleu1"] == pytest.approx(2 / 6)


def test_bleu_takes_best_reference_and_closest_length():
    s = bleu([CAND], [["a dog", CAND]])
    assert s["bleu4"] == pytest.approx(1.0)


def test_rouge_l():
    assert rouge_l([CAND], [[CAND]]) == pytest.approx(1.0)
    assert rouge_l(["a b"], [["c d"]]) == 0.0
    # LCS("a b c d", "a c e") = 2: P = 1/2, R = 2/3, beta = 1.2
    p, r, b2 = 0.5, 2 / 3, 1.44
    assert rouge_l(["a b c d"], [["a c e"]]) == pytest.approx((1 + b2) * p * r / (r + b2 * p))


def test_cider_d_identical_corpus_is_ten_and_disjoint_zero():
    caps = ["a loud rock song with drums and guitar", "a calm jazz tune with piano and bass",
            "a sad folk song with a banjo"]
    assert cider_d(caps, [[c] for c in caps]) == pytest.approx(10.0)
    assert cider_d(["x y z w"] * 3, [[c] for c in caps]) == 0.0


def test_cider_d_length_penalty_and_idf():
    caps = ["a loud rock song with drums and guitar", "a calm jazz tune with piano and bass"]
    refs = [[c] for c in caps]
    longer = [caps[0] + " and more and more words", caps[1]]
    assert cider_d(longer, refs) < 10.0
    # an n-gram found in every reference carries no weight: "with" alone scores 0
    assert cider_d(["with", "with"], refs) == 0.0


def test_meteor_exact():
    # perfect match: F = 1, one chunk of 6 matches -> 1 - 0.5 (1/6)^3
    assert meteor_exact([CAND], [[CAND]]) == pytest.approx(1 - 0.5 / 216)
    assert meteor_exact(["a b"], [["c d"]]) == 0.0
    # "b a" vs "a b": P = R = 1, two chunks of 2 matches -> 1 - 0.5 * 1
    assert meteor_exact(["b a"], [["a b"]]) == pytest.approx(0.5)


class _FakeEncoder:
    def encode(self, texts):
        return torch.tensor([[1.0, 0.0] if "rock" in t else [0.0, 1.0] for t in texts])


def test_caption_similarity():
    enc = _FakeEncoder()
    assert caption_similarity(["rock"], [["rock song"]], encoder=enc) == pytest.approx(1.0)
    assert caption_similarity(["jazz"], [["rock song", "jazz"]], encoder=enc) == pytest.approx(0.5)


@pytest.mark.parametrize("fn", [bleu, rouge_l, cider_d, meteor_exact])
def test_bad_inputs(fn):
    with pytest.raises(ValueError, match="2 predictions but 1"):
        fn(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="no reference"):
        fn(["a"], [[]])
    with pytest.raises(ValueError, match="no captions"):
        fn([], [])
    with pytest.raises(TypeError):
        fn("a caption", [["a caption"]])
    with pytest.raises(TypeError):
        fn([1], [["a"]])


def test_bleu_bad_order():
    with pytest.raises(ValueError, match="positive"):
        bleu(["a"], [["a"]], n=0)


def test_scores_are_plain_floats():
    assert isinstance(cider_d([CAND], [[REF]]), float)
    assert np.isfinite(rouge_l([CAND], [[REF]]))


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


def test_prompt_adherence_counts_the_best_tag_of_each_group():
    from musictext.data import TAGS

    probs = np.zeros((2, len(TAGS)))
    for i, tags in enumerate([["piano", "jazz", "slow", "calm"], ["violin", "rock", "fast", "sad"]]):
        for t in tags:
            probs[i, TAGS.index(t)] = 0.9
    prompts = [{"piano", "jazz", "slow", "happy"}, {"violin", "folk", "fast", "sad"}]
    adh = metrics.prompt_adherence(probs, prompts)
    assert adh == {"instrument": 1.0, "genre": 0.5, "tempo": 1.0, "mood": 0.5, "all": 0.75}
    with pytest.raises(ValueError, match="prompts"):
        metrics.prompt_adherence(probs, prompts[:1])
    with pytest.raises(ValueError, match="probs"):
        metrics.prompt_adherence(probs[:, :5], prompts)
    with pytest.raises(ValueError, match="unknown tag groups"):
        metrics.prompt_adherence(probs, prompts, groups=["colour"])


def test_rank_hits_counts_the_true_name_among_the_best():
    from musictext.metrics import rank_hits

    names = ["piano", "violin", "cello", "flute"]
    scores = np.array([[0.9, 0.8, 0.7, 0.1]] * 3)       # the same ranking for every item
    assert rank_hits(scores, ["piano", "cello", "flute"], names) == {1: 1 / 3, 3: 2 / 3}
    assert rank_hits(scores, ["violin"] * 3, names, ks=(1, 2)) == {1: 0.0, 2: 1.0}
    with pytest.raises(ValueError, match="scores must be"):
        rank_hits(scores[:, :3], ["piano"] * 3, names)
    with pytest.raises(ValueError, match="not among"):
        rank_hits(scores, ["piano", "kazoo", "flute"], names)
