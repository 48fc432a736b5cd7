"""musictext.metrics against the libraries the field uses.

The captions are SynthCaps captions (``musictext.data.make_captions`` on seeded
tag sets, no audio is built) with seeded word drops, swaps, substitutions,
repeats and truncations, one to four references each, plus hand-made edge
cases. Every library is fed the same ``caption_tokens`` joined by spaces, so a
difference is the metric's, not the tokeniser's; where the numbers must differ
the test pins the documented difference.

Reference implementations (pinned in requirements.txt):
  BLEU      pycocoevalcap.bleu (COCO caption toolkit), sacrebleu (tokenize="none", smooth_method="none")
  ROUGE-L   pycocoevalcap.rouge (beta 1.2), rouge-score (Google, F1 per reference)
  CIDEr-D   pycocoevalcap.cider (sigma 6, clipping, length penalty, x10)
  METEOR    nltk.translate.meteor_score with stemming and WordNet switched off (exact stage)
  tokens    rouge-score's tokenizer (Lin's ROUGE tokenisation)
  retrieval torchmetrics.retrieval
pycocoevalcap's PTB tokenizer, METEOR and SPICE need Java and are not used.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from nltk.translate.meteor_score import meteor_score as nltk_meteor
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge
from rouge_score import rouge_scorer, tokenizers
from rouge_score import tokenize as rouge_tokenize
from sacrebleu.metrics import BLEU
from torchmetrics.functional.retrieval import retrieval_average_precision, retrieval_reciprocal_rank
from torchmetrics.retrieval import RetrievalHitRate, RetrievalMAP, RetrievalMRR, RetrievalRecall

from musictext.data import TAG_GROUPS, TRAIN_WORDS, heldout_caption, make_captions
from musictext.metrics import bleu, caption_tokens, cider_d, meteor_exact, retrieval_scores, rouge_l

TOL = 1e-9   # float64 libraries: only summation order differs
TOL32 = 1e-6  # torchmetrics computes in float32

# ---- the captions -------------------------------------------------------------------------------------
_WORDS = sorted({w for ws in TRAIN_WORDS.values() for phrase in ws for w in phrase.split()}
                | {"song", "track", "with", "and", "the", "a", "slowly", "guitar"})

EDGE = [  # (prediction, references): the cases a random corpus rarely hits
    ("xylophone quartet zzz", ["a calm jazz piece featuring piano", "jazzy piano, calm"]),  # no overlap
    ("piano", ["a calm jazz piece featuring piano", "piano and bass carry this calm jazz song"]),  # 1 word
    ("calm piano", ["a slow calm piano piece in a minor key"]),  # brevity penalty
    ("piano piano piano piano piano", ["piano, cello", "a piano piece with piano"]),  # clipped unigrams
    ("a rock a rock a rock song", ["a rock song", "a loud rock song with drums"]),  # repeated bigrams
    ("...", ["a loud rock track", "rock, loud"]),  # no tokens at all
    ("It's a calm, slow piece.", ["it's a calm slow piece", "calm and slow"]),  # apostrophe, exact match
    ("one two three four five", ["one two three four", "one two three four five six"]),  # length tie
    ("a fast folk song", ["!!!", "a fast folk song with banjo"]),  # a reference with no tokens
    ("Hip-hop, LOUD: drums & synth bass", ["loud hip hop with drums and synth bass"]),
]


def _tags(rng: np.random.Generator) -> list[str]:
    pick = [str(rng.choice(TAG_GROUPS[g])) for g in ("genre", "mood", "tempo", "mode", "dynamics", "drums")]
    k = int(rng.integers(1, 4))
    instr = [str(t) for t in rng.choice(TAG_GROUPS["instrument"], size=k, replace=False)]
    return pick[:1] + instr + pick[1:]


def _perturb(caption: str, rng: np.random.Generator) -> str:
    """1 to 3 seeded edits on the whitespace words of a caption (punctuation stays)."""
    w = caption.split()
    for op in rng.choice(["drop", "swap", "sub", "repeat", "cut"], size=int(rng.integers(1, 4))):
        if op == "drop" and len(w) > 1:
            w = [x for x in w if rng.random() > 0.2] or w[:1]
        elif op == "swap" and len(w) > 1:
            i = int(rng.integers(0, len(w) - 1))
            w[i], w[i + 1] = w[i + 1], w[i]
        elif op == "sub":
            w = [str(rng.choice(_WORDS)) if rng.random() < 0.15 else x for x in w]
        elif op == "repeat":
            i = int(rng.integers(0, len(w)))
            w = w[:i + 1] + w[max(0, i - 2):i + 1] + w[i + 1:]
        elif op == "cut":
            w = w[:int(rng.integers(1, 5))]
    return " ".join(w)


@functools.cache
def caption_corpus(n: int = 300, seed: int = 2024) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """n (prediction, 1-4 references) pairs from SynthCaps captions, then the edge cases."""
    rng = np.random.default_rng(seed)
    clips = [make_captions(_tags(rng), rng, n_paraphrases=3) for _ in range(n)]
    preds, refs = [], []
    for i, caps in enumerate(clips):
        caps = caps + [heldout_caption(_tags(rng), rng)] if rng.random() < 0.1 else caps
        order = [int(j) for j in rng.permutation(len(caps))]
        src, rest = caps[order[0]], [caps[j] for j in order[1:]]
        roll = rng.random()
        if roll < 0.08:      # another clip's caption: little overlap
            pred = clips[(i + 1) % n][int(rng.integers(0, 4))]
        elif roll < 0.14:    # a copy of a reference
            pred = rest[0]
        else:
            pred = _perturb(src, rng)
        preds.append(pred)
        refs.append(tuple(rest[:int(rng.integers(1, 5))]))
    for p, r in EDGE:
        preds.append(p)
        refs.append(tuple(r))
    return tuple(preds), tuple(refs)


def _joined(preds, refs):
    """The corpus as the COCO scorers want it, in caption_tokens joined by spaces."""
    res = {i: [" ".join(caption_tokens(p))] for i, p in enumerate(preds)}
    gts = {i: [" ".join(caption_tokens(x)) for x in r] for i, r in enumerate(refs)}
    return gts, res


CORPORA = {  # name -> (predictions, references)
    "synthcaps": caption_corpus,
    "small": lambda: tuple(x[:37] for x in caption_corpus()),
    "edge": lambda: (tuple(p for p, _ in EDGE), tuple(tuple(r) for _, r in EDGE)),
}


# ---- the tokeniser ------------------------------------------------------------------------------------
def test_caption_tokens_are_rouge_score_tokens_except_apostrophes():
    """rouge-score's tokenizer (lower-case, every non-[a-z0-9] character a separator) gives the same
    tokens, except that caption_tokens keeps an apostrophe and the letters after it on the word ("it's"):
    the same characters, only the boundaries at apostrophes differ."""
    rng = np.random.default_rng(7)
    preds, refs = caption_corpus()
    texts = list(preds) + [x for r in refs for x in r]
    alphabet = list("abcXYZ019 '-,.!?&:;\"/()é’\t")
    texts += ["".join(rng.choice(alphabet, size=int(rng.integers(0, 30)))) for _ in range(400)]
    with_apostrophe = 0
    for t in texts:
        theirs = rouge_tokenize.tokenize(t, None)
        assert caption_tokens(t.replace("'", " ")) == theirs, t
        assert "".join(caption_tokens(t)).replace("'", "") == "".join(theirs), t
        with_apostrophe += caption_tokens(t) != theirs
    assert with_apostrophe > 0
    # the pinned difference
    assert caption_tokens("It's rock'n'roll") == ["it's", "rock'n", "roll"]
    assert rouge_tokenize.tokenize("It's rock'n'roll", None) == ["it", "s", "rock", "n", "roll"]


# ---- BLEU ---------------------------------------------------------------------------------------------
def _streams(refs, text=lambda r: " ".join(caption_tokens(r))):
    """sacrebleu's reference layout: stream j holds every caption's j-th reference, or None."""
    width = max(len(r) for r in refs)
    return [[text(r[j]) if j < len(r) else None for r in refs] for j in range(width)]


def _sacrebleu(preds, refs, k, **kw):
    """Corpus BLEU-k from sacrebleu on caption_tokens, in [0, 1]."""
    hyps = [" ".join(caption_tokens(p)) for p in preds]
    opts = {"tokenize": "none", "smooth_method": "none", **kw}
    return BLEU(max_ngram_order=k, **opts).corpus_score(hyps, _streams(refs)).score / 100


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_bleu_matches_coco_toolkit_and_sacrebleu(corpus):
    preds, refs = CORPORA[corpus]()
    ours = bleu(list(preds), [list(r) for r in refs])
    coco, _ = Bleu(4).compute_score(*_joined(preds, refs), verbose=0)
    for k in range(1, 5):
        assert ours[f"bleu{k}"] > 0.05  # all orders have matches: no smoothing is involved
        assert ours[f"bleu{k}"] == pytest.approx(coco[k - 1], abs=TOL)
        assert ours[f"bleu{k}"] == pytest.approx(_sacrebleu(preds, refs, k), abs=TOL)
    # BLEU-k with n=k is the k-th entry of n=4
    assert bleu(list(preds), [list(r) for r in refs], n=2)["bleu2"] == ours["bleu2"]


def test_bleu_of_each_caption_matches_coco_sentence_bleu():
    """One caption at a time (its own brevity penalty): the toolkit's sentence scores, except where a
    caption has no matching k-gram. musictext then gives 0; the toolkit computes
    p_k = (matches + 1e-15) / (k-grams + 1e-9), which is at most 1e-15 when the caption has k-grams and
    1e-6 when it is shorter than k words, so its BLEU-k stays below (1e-15)^(1/k) or (1e-6)^(1/k)."""
    preds, refs = caption_corpus()
    _, coco = Bleu(4).compute_score(*_joined(preds, refs), verbose=0)
    seen = {"equal": 0, "no match": 0, "too short": 0}
    for i, (p, r) in enumerate(zip(preds, refs)):
        ours = bleu([p], [list(r)])
        for k in range(1, 5):
            if ours[f"bleu{k}"] > 0:
                seen["equal"] += 1
                assert ours[f"bleu{k}"] == pytest.approx(coco[k - 1][i], abs=TOL), (p, r, k)
            else:
                why = "too short" if len(caption_tokens(p)) < k else "no match"
                seen[why] += 1
                assert coco[k - 1][i] < (1e-6 if why == "too short" else 1e-15) ** (1 / k), (p, r, k)
    assert all(seen.values()) and seen["equal"] > 2 * len(preds)


def test_bleu_brevity_penalty_matches():
    """Predictions cut to 1-3 words: BLEU-1 is the brevity penalty times the unigram precision."""
    preds, refs = caption_corpus()
    short = [" ".join(caption_tokens(p)[:1 + i % 3]) or "piano" for i, p in enumerate(preds)]
    ours = bleu(short, [list(r) for r in refs], n=2)
    coco, _ = Bleu(2).compute_score(*_joined(short, refs), verbose=0)
    sacre = BLEU(tokenize="none", smooth_method="none", max_ngram_order=1).corpus_score(short, _streams(refs))
    assert sacre.bp < 0.01
    assert ours["bleu1"] == pytest.approx(sacre.bp * sacre.precisions[0] / 100, abs=TOL)
    assert ours["bleu1"] == pytest.approx(coco[0], abs=TOL)
    assert ours["bleu2"] == pytest.approx(coco[1], abs=TOL)


def test_bleu_pinned_differences_zero_matches_and_sacrebleu_defaults():
    """Documented in ``bleu``: no k-gram match gives exactly 0, where the COCO toolkit's 1e-15 smoothing
    leaves a tiny positive number and sacrebleu's default "exp" smoothing a small one; sacrebleu's
    default tokeniser (13a, case-sensitive) keeps punctuation as tokens, so it scores other text."""
    preds, refs = caption_corpus()
    two = [" ".join(caption_tokens(p)[:2]) or "piano" for p in preds]  # 2-word captions: no 3-grams
    ours = bleu(two, [list(r) for r in refs])
    coco, _ = Bleu(4).compute_score(*_joined(two, refs), verbose=0)
    assert ours["bleu2"] == pytest.approx(coco[1], abs=TOL)
    assert ours["bleu3"] == ours["bleu4"] == 0.0 == _sacrebleu(two, refs, 4)
    assert 0.0 < coco[3] < 2e-4     # (1e-15 / guesses)^(1/4) at most
    # 2- to 4-grams guessed but never matched: a filler word between the first four words
    apart = [" zzz ".join(caption_tokens(p)[:4]) or "zzz" for p in preds]
    ours = bleu(apart, [list(r) for r in refs])
    coco, _ = Bleu(4).compute_score(*_joined(apart, refs), verbose=0)
    assert ours["bleu1"] == pytest.approx(coco[0], abs=TOL) and ours["bleu1"] > 0.1
    assert ours["bleu2"] == ours["bleu4"] == 0.0 == _sacrebleu(apart, refs, 4)
    assert 0.0 < coco[1] < 1e-6 and 0.0 < coco[3] < 2e-4
    assert _sacrebleu(apart, refs, 4, smooth_method="exp") > 1e-5  # 1 / (2^j guesses) for each empty order

    preds, refs = CORPORA["synthcaps"]()
    raw = BLEU().corpus_score(list(preds), _streams(refs, text=str))
    tokens = sum(len(caption_tokens(p)) for p in preds)
    assert raw.sys_len > tokens     # commas and full stops count as words
    assert abs(raw.score / 100 - bleu(list(preds), [list(r) for r in refs])["bleu4"]) > 1e-3


# ---- ROUGE-L ------------------------------------------------------------------------------------------
class _CaptionTokenizer(tokenizers.Tokenizer):
    def tokenize(self, text):
        return caption_tokens(text)


_ROUGE = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_CaptionTokenizer())


def _f(p: float, r: float, beta: float) -> float:
    return (1 + beta ** 2) * p * r / (r + beta ** 2 * p) if p > 0 and r > 0 else 0.0


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_rouge_l_matches_coco_toolkit_per_caption(corpus):
    preds, refs = CORPORA[corpus]()
    coco_mean, coco = Rouge().compute_score(*_joined(preds, refs))
    ours = [rouge_l([p], [list(r)]) for p, r in zip(preds, refs)]
    np.testing.assert_allclose(ours, coco, rtol=0, atol=TOL)
    assert rouge_l(list(preds), [list(r) for r in refs]) == pytest.approx(coco_mean, abs=TOL)
    assert len(set(np.round(ours, 6))) > min(5, len(preds) - 2)  # not a constant


def test_rouge_l_against_rouge_score():
    """rouge-score gives LCS precision and recall per reference; musictext (like the COCO toolkit) takes
    the best P and the best R over the references, possibly from different ones, and combines them with
    beta = 1.2. rouge-score's rougeL is F1 (beta = 1) and score_multi keeps the reference of best F1, so
    with one reference and beta = 1 the two agree, and with several musictext's is never smaller."""
    preds, refs = caption_corpus()
    larger = 0
    for p, rs in zip(preds, refs):
        per_ref = [_ROUGE.score(r, p)["rougeL"] for r in rs]
        best_p, best_r = max(s.precision for s in per_ref), max(s.recall for s in per_ref)
        assert rouge_l([p], [list(rs)]) == pytest.approx(_f(best_p, best_r, 1.2), abs=TOL)
        assert rouge_l([p], [[rs[0]]], beta=1.0) == pytest.approx(per_ref[0].fmeasure, abs=TOL)
        multi = _ROUGE.score_multi(list(rs), p)["rougeL"].fmeasure
        ours_f1 = rouge_l([p], [list(rs)], beta=1.0)
        assert ours_f1 >= multi - TOL
        larger += ours_f1 > multi + 1e-6
    assert larger > 0   # the difference is real on this corpus, not only in principle


# ---- CIDEr-D ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_cider_d_matches_coco_toolkit(corpus):
    preds, refs = CORPORA[corpus]()
    coco, _ = Cider().compute_score(*_joined(preds, refs))
    ours = cider_d(list(preds), [list(r) for r in refs])
    assert ours > 0.1
    assert ours == pytest.approx(coco, abs=TOL * max(1.0, coco))


def test_cider_d_document_frequencies_come_from_the_scored_corpus():
    """Both scorers take document frequencies from the references of the corpus being scored, so one
    caption's score depends on the other captions: the same first 40 pairs score differently inside
    corpora of different sizes, and musictext follows the COCO toolkit in each."""
    preds, refs = caption_corpus()
    seen = []
    for size in (40, 120, len(preds)):
        p, r = list(preds[:size]), [list(x) for x in refs[:size]]
        ours_all = cider_d(p, r)
        coco_all, coco_each = Cider().compute_score(*_joined(p, r))
        assert ours_all == pytest.approx(coco_all, abs=TOL)
        seen.append(float(np.mean(coco_each[:40])))
    assert max(seen) - min(seen) > 1e-3
    # a corpus of one caption: every n-gram is in all (one) reference sets, idf = log(1/1) = 0
    coco_one, _ = Cider().compute_score(*_joined(preds[:1], refs[:1]))
    assert cider_d([preds[0]], [list(refs[0])]) == 0.0 == coco_one


# ---- METEOR (exact stage) -----------------------------------------------------------------------------
class _NoStem:
    def stem(self, word):
        return word


class _NoWordNet:
    def synsets(self, word):
        return []


def _nltk_exact(hyp: list[str], refs: list[list[str]]) -> float:
    return nltk_meteor(refs, hyp, stemmer=_NoStem(), wordnet=_NoWordNet())


def test_meteor_exact_matches_nltk_exact_stage():
    """NLTK's METEOR with stemming and WordNet switched off is its exact-match stage. It aligns a repeated
    word right to left (the last copy first), musictext left to right; P, R and the chunk count are the
    same on both sentences reversed, so musictext equals NLTK on the reversed sentences always, and on
    the sentences as written whenever no word repeats."""
    preds, refs = caption_corpus()
    differ = 0
    for p, rs in zip(preds, refs):
        hyp, toks = caption_tokens(p), [caption_tokens(r) for r in rs]
        ours = meteor_exact([p], [list(rs)])
        assert ours == pytest.approx(_nltk_exact(hyp[::-1], [t[::-1] for t in toks]), abs=TOL)
        forward = _nltk_exact(hyp, toks)
        if all(len(set(t)) == len(t) for t in toks + [hyp]):
            assert ours == pytest.approx(forward, abs=TOL)
        differ += abs(ours - forward) > 1e-6
    assert differ > 0
    # the pinned difference: "the" repeated. Both match 2 of 3 words (P = 2/3, R = 1); musictext aligns
    # the first "the" (one chunk, penalty 0.5 (1/2)^3), NLTK the last one (two chunks, penalty 0.5)
    f = (2 / 3) / (0.9 * 2 / 3 + 0.1 * 1)
    assert meteor_exact(["the piano the"], [["the piano"]]) == pytest.approx(f * (1 - 0.5 / 8))
    assert _nltk_exact(["the", "piano", "the"], [["the", "piano"]]) == pytest.approx(f * (1 - 0.5))


def test_meteor_exact_corpus_score_is_the_mean():
    preds, refs = caption_corpus()
    each = [_nltk_exact(caption_tokens(p)[::-1], [caption_tokens(r)[::-1] for r in rs])
            for p, rs in zip(preds, refs)]
    assert meteor_exact(list(preds), [list(r) for r in refs]) == pytest.approx(np.mean(each), abs=TOL)


# ---- retrieval ----------------------------------------------------------------------------------------
def _ranked_scores(rel: np.ndarray, rng: np.random.Generator, signal: float) -> np.ndarray:
    """(Q, N) scores 1..N, distinct in each row (exact in float32, so torchmetrics sees the same order),
    higher for relevant items on average."""
    noisy = rng.standard_normal(rel.shape) + signal * rel
    return (np.argsort(np.argsort(noisy, axis=1), axis=1) + 1).astype(np.float32)


def _tm(metric, scores, rel) -> float:
    q, n = scores.shape
    idx = torch.arange(q).repeat_interleave(n)
    return float(metric(torch.from_numpy(scores).reshape(-1), torch.from_numpy(rel).reshape(-1), indexes=idx))


@functools.cache
def _retrieval_cases():
    rng = np.random.default_rng(11)
    diag = np.eye(200, dtype=bool)
    multi = np.zeros((150, 240), dtype=bool)
    for q in range(len(multi)):   # 1 to 15 relevant items: some queries have more than 10
        multi[q, rng.choice(multi.shape[1], size=int(rng.integers(1, 16)), replace=False)] = True
    return {"one relevant": (_ranked_scores(diag, rng, 2.0), diag),
            "several relevant": (_ranked_scores(multi, rng, 1.5), multi)}


@pytest.mark.parametrize("case", ["one relevant", "several relevant"])
def test_retrieval_matches_torchmetrics(case):
    """R@K is torchmetrics' hit rate, mean(1 / rank) its MRR, rank its reciprocal rank inverted."""
    scores, rel = _retrieval_cases()[case]
    relevant = None if case == "one relevant" else rel   # None: the default, query i matches item i
    ours = retrieval_scores(scores, relevant, ks=(1, 5, 10, 50))
    assert 0.05 < ours["R@1"] < 0.9 and ours["R@50"] < 1.0   # a spread of ranks, not a trivial case
    for k in (1, 5, 10, 50):
        assert ours[f"R@{k}"] == pytest.approx(_tm(RetrievalHitRate(top_k=k), scores, rel), abs=TOL32)
    assert np.mean(1.0 / ours["ranks"]) == pytest.approx(_tm(RetrievalMRR(), scores, rel), abs=TOL32)
    rr = np.array([float(retrieval_reciprocal_rank(torch.from_numpy(s), torch.from_numpy(t)))
                   for s, t in zip(scores, rel)])
    np.testing.assert_allclose(1.0 / ours["ranks"], rr, rtol=0, atol=TOL32)
    assert ours["medr"] == float(np.median(np.rint(1.0 / rr)))


def test_retrieval_one_relevant_item_recall_and_map_are_torchmetrics():
    scores, rel = _retrieval_cases()["one relevant"]
    ours = retrieval_scores(scores)
    for k in (1, 5, 10):
        assert ours[f"R@{k}"] == pytest.approx(_tm(RetrievalRecall(top_k=k), scores, rel), abs=TOL32)
    assert ours["mAP@10"] == pytest.approx(_tm(RetrievalMAP(top_k=10), scores, rel), abs=TOL32)


def test_retrieval_several_relevant_items_pinned_differences():
    """Documented in ``retrieval_scores``: with several relevant items, R@K counts a query as found when
    any relevant item is in the top K (torchmetrics' RetrievalRecall is the share of its relevant items
    found instead), and mAP@10 divides by min(#relevant, 10) where torchmetrics' RetrievalMAP(top_k=10)
    divides by the relevant items found in the top 10; per query the two differ by exactly that ratio."""
    scores, rel = _retrieval_cases()["several relevant"]
    ours = retrieval_scores(scores, rel)
    for k in (5, 10):
        assert ours[f"R@{k}"] > _tm(RetrievalRecall(top_k=k), scores, rel) + 0.05
    order = np.argsort(-scores, axis=1)
    found = np.take_along_axis(rel, order, axis=1)[:, :10].sum(axis=1)
    ap = np.array([float(retrieval_average_precision(torch.from_numpy(s), torch.from_numpy(t), top_k=10))
                   for s, t in zip(scores, rel)])
    rescaled = ap * found / np.minimum(rel.sum(axis=1), 10)
    assert ours["mAP@10"] == pytest.approx(rescaled.mean(), abs=TOL32)
    assert _tm(RetrievalMAP(top_k=10), scores, rel) > ours["mAP@10"] + 0.05


def test_retrieval_pinned_torchmetrics_ignores_items_scored_at_most_zero():
    """torchmetrics 1.9 treats an item scored <= 0 as not relevant (MAP, MRR, recall), so cosine
    similarities must be shifted positive before comparing; musictext only uses the order."""
    scores, rel = _retrieval_cases()["one relevant"]
    shifted = scores - float(scores.shape[1] // 2)   # exact in float32; half the scores <= 0
    ours = retrieval_scores(shifted)
    assert ours["mAP@10"] == retrieval_scores(scores)["mAP@10"]
    rr = np.array([float(retrieval_reciprocal_rank(torch.from_numpy(s), torch.from_numpy(t)))
                   for s, t in zip(shifted, rel)])
    lost = shifted[rel] <= 0          # the relevant item's score, one per query
    assert 0 < lost.sum() < len(lost)
    assert (rr[lost] == 0).all()
    np.testing.assert_allclose(rr[~lost], 1.0 / ours["ranks"][~lost], rtol=0, atol=TOL32)


def test_retrieval_ties_go_to_the_lower_item_index():
    """torchmetrics leaves the order of tied scores to torch.topk; musictext documents its own rule."""
    r = retrieval_scores(np.zeros((40, 40)))   # all tied: query i's item ranks i + 1
    assert list(r["ranks"]) == list(range(1, 41))
    assert r["mAP@10"] == pytest.approx(sum(1 / k for k in range(1, 11)) / 40)
    assert math.isclose(r["R@1"], 1 / 40) and r["medr"] == 20.5
