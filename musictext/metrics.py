"""Metrics for every chapter, all computed offline.

Sections: tagging, retrieval, captioning, generation.
"""
from __future__ import annotations

import numpy as np
import torch


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


# ---- tagging ----------------------------------------------------------------
def tagging_scores(y_true, y_score, tags: list[str] | None = None) -> dict:
    """Per-tag and macro ROC-AUC and PR-AUC (average precision).

    Args:
        y_true: (N, K) multi-hot ground truth.
        y_score: (N, K) scores (probabilities or logits).
        tags: K names; tags with no positive or no negative example in
            ``y_true`` are skipped (their AUCs are undefined).
    Returns:
        {"roc_auc": macro, "pr_auc": macro, "per_tag": {tag: {"roc_auc", "pr_auc", "support"}}}
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, s = _np(y_true), _np(y_score)
    if y.shape != s.shape or y.ndim != 2:
        raise ValueError(f"y_true and y_score must both be (N, K); got {y.shape} and {s.shape}")
    tags = tags or [str(i) for i in range(y.shape[1])]
    per = {}
    for k, t in enumerate(tags):
        pos = int(y[:, k].sum())
        if pos == 0 or pos == len(y):
            continue
        per[t] = {"roc_auc": float(roc_auc_score(y[:, k], s[:, k])),
                  "pr_auc": float(average_precision_score(y[:, k], s[:, k])), "support": pos}
    if not per:
        raise ValueError("no tag has both positive and negative examples")
    return {"roc_auc": float(np.mean([v["roc_auc"] for v in per.values()])),
            "pr_auc": float(np.mean([v["pr_auc"] for v in per.values()])), "per_tag": per}


def group_scores(per_tag: dict, group_of: dict[str, str]) -> dict[str, dict]:
    """Average per-tag scores inside each tag group (genre, instrument, ...)."""
    out: dict[str, dict] = {}
    for t, v in per_tag.items():
        g = out.setdefault(group_of[t], {"roc_auc": [], "pr_auc": []})
        g["roc_auc"].append(v["roc_auc"])
        g["pr_auc"].append(v["pr_auc"])
    return {g: {k: float(np.mean(vs)) for k, vs in d.items()} for g, d in out.items()}


def rank_hits(scores, truth: list[str], names: list[str], ks=(1, 3)) -> dict[int, float]:
    """For each k in ``ks``, the share of items whose true name (``truth[i]``,
    one of ``names``) is among the ``k`` best-scored names; ``scores`` is
    (N, len(names)). For example the instrument of a clip among the
    instrument tags: ``rank_hits(probs[:, cols], instruments, names)``."""
    s = _np(scores)
    if s.ndim != 2 or s.shape != (len(truth), len(names)):
        raise ValueError(f"scores must be ({len(truth)}, {len(names)}), got {s.shape}")
    unknown = sorted(set(truth) - set(names))
    if unknown:
        raise ValueError(f"true names {unknown} are not among the {len(names)} names")
    order = np.argsort(-s, axis=1, kind="stable")
    target = np.array([names.index(t) for t in truth])[:, None]
    return {k: float((order[:, :k] == target).any(axis=1).mean()) for k in ks}


# ---- retrieval ----------------------------------------------------------------
def retrieval_scores(sim, relevant=None, ks=(1, 5, 10)) -> dict:
    """Recall@K, mAP@10 and median rank for a query-by-item similarity matrix.

    Args:
        sim: (Q, N) similarity of each query to each item (higher is closer).
        relevant: (Q, N) boolean matrix of relevant items; default: the
            diagonal (query i belongs to item i, needs Q == N).
        ks: cut-offs for Recall@K.
    Returns:
        {"R@1", "R@5", "R@10", "mAP@10", "medr", "ranks"}: Recall@K is the share of
        queries with a relevant item in the top K; the rank of a query is the
        1-based position of its first relevant item; mAP@10 averages precision
        at each relevant hit within the top 10, divided by min(#relevant, 10).
        Tied similarities rank the lower item index first.

    Against torchmetrics (tests/test_metrics_crosscheck.py): R@K is
    ``RetrievalHitRate(top_k=K)`` and mean(1 / ranks) is ``RetrievalMRR``. With
    one relevant item per query R@K is also ``RetrievalRecall(top_k=K)`` and
    mAP@10 ``RetrievalMAP(top_k=10)``; with several, RetrievalRecall is the share
    of a query's relevant items found (lower), and RetrievalMAP divides by the
    relevant items found in the top 10 instead of min(#relevant, 10) (higher).
    torchmetrics 1.9's MAP, MRR and recall also count an item scored <= 0 as not
    relevant, so compare on similarities shifted above 0 (these scores depend
    on the order only).
    """
    s = _np(sim).astype(np.float64)
    if s.ndim != 2:
        raise ValueError(f"sim must be (queries, items), got shape {s.shape}")
    if relevant is None:
        if s.shape[0] != s.shape[1]:
            raise ValueError("without `relevant`, sim must be square (query i matches item i)")
        rel = np.eye(s.shape[0], dtype=bool)
    else:
        rel = _np(relevant).astype(bool)
        if rel.shape != s.shape:
            raise ValueError(f"relevant has shape {rel.shape}, sim {s.shape}")
    if not rel.any(axis=1).all():
        raise ValueError("every query needs at least one relevant item")
    order = np.argsort(-s, axis=1, kind="stable")
    hits = np.take_along_axis(rel, order, axis=1)
    first = hits.argmax(axis=1) + 1
    out = {f"R@{k}": float((first <= k).mean()) for k in ks}
    top = hits[:, :10].astype(np.float64)
    prec = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    denom = np.minimum(rel.sum(axis=1), 10)
    out["mAP@10"] = float(((prec * top).sum(axis=1) / denom).mean())
    out["medr"] = float(np.median(first))
    out["ranks"] = first
    return out


# ---- generation -----------------------------------------------------------------
def frechet_distance(a, b, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians fitted to two embedding sets.

    d^2 = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with a, b of
    shape (N_a, D) and (N_b, D). This is the Fréchet audio distance when the
    embeddings come from an audio model.
    """
    from scipy import linalg

    a, b = _np(a).astype(np.float64), _np(b).astype(np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two (N, D) arrays with the same D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("need at least two embeddings on each side")
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings

    with warnings.catch_warnings():   # covariances of fewer points than dimensions are singular;
        warnings.simplefilter("ignore", linalg.LinAlgWarning)   # the product still has a root
        covmean = linalg.sqrtm(sa @ sb)
        if not np.isfinite(covmean).all():
            off = np.eye(sa.shape[0]) * eps
            covmean = linalg.sqrtm((sa + off) @ (sb + off))
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(sa + sb - 2 * covmean))


ADHERENCE_GROUPS = ("instrument", "genre", "tempo", "mood")


def prompt_adherence(probs, prompt_tags: list, groups=ADHERENCE_GROUPS) -> dict:
    """How often a judge hears what each prompt asked for.

    For every attribute group g, the judge's most probable tag within g for
    clip i must be one of the tags prompt i names:
    adh_g = (1/N) sum_i 1[argmax_{y in g} p(y | a_i) in T_i]. ``probs`` is
    (N, n_tags) over ``musictext.data.TAGS``; ``prompt_tags`` holds N sets of
    tag names. Returns each group's accuracy and their mean under ``"all"``.
    """
    from .data.vocab import TAG_GROUPS, TAGS

    p = _np(probs)
    if p.ndim != 2 or p.shape[1] != len(TAGS):
        raise ValueError(f"probs must be (N, {len(TAGS)}), got {p.shape}")
    if len(prompt_tags) != len(p):
        raise ValueError(f"{len(p)} clips but {len(prompt_tags)} prompts")
    unknown = [g for g in groups if g not in TAG_GROUPS]
    if unknown:
        raise ValueError(f"unknown tag groups {unknown}; choose from {list(TAG_GROUPS)}")
    out = {}
    for g in groups:
        names = TAG_GROUPS[g]
        best = p[:, [TAGS.index(t) for t in names]].argmax(1)
        out[g] = float(np.mean([names[j] in set(tags) for j, tags in zip(best, prompt_tags)]))
    out["all"] = float(np.mean([out[g] for g in groups]))
    return out


# ---- captioning -------------------------------------------------------------------
def caption_tag_f1(predictions: list[str], true_tags: list[list[str]]) -> dict:
    """Tag F1 of generated captions: the tags a caption mentions (through the tag
    vocabulary and its synonyms, ``musictext.data.tags_in_text``) against the
    clip's true tags, micro-averaged over all clips.

    precision = correct mentions / all mentions; recall = correct mentions / true tags.
    """
    from .data.captions import tags_in_text

    if len(predictions) != len(true_tags):
        raise ValueError(f"{len(predictions)} captions but {len(true_tags)} tag lists")
    tp = fp = fn = 0
    for cap, tags in zip(predictions, true_tags):
        said, true = tags_in_text(cap), set(tags)
        tp += len(said & true)
        fp += len(said - true)
        fn += len(true - said)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


# ---- captioning: n-gram and embedding metrics ------------------------------------
# Text normalisation shared by BLEU, ROUGE-L, CIDEr-D and METEOR: lower-case,
# punctuation dropped, split on whitespace (close to the PTB tokenisation the
# COCO caption toolkit applies before scoring, but with no external tool).
# tests/test_metrics_crosscheck.py feeds these same tokens, joined by spaces, to
# pycocoevalcap, sacrebleu, rouge-score and NLTK and compares the numbers.
import math  # noqa: E402
import re  # noqa: E402

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def caption_tokens(text: str) -> list[str]:
    """Lower-cased word tokens of a caption, punctuation removed
    ("Hip-hop, loud." -> ["hip", "hop", "loud"]).

    A token is a run of ASCII letters and digits, optionally followed by an
    apostrophe and letters. These are the tokens of rouge-score's tokenizer
    (Lin's ROUGE: every other character separates), except that an apostrophe
    suffix stays on its word: "it's" is one token here, "it" and "s" there.
    It is not the Java PTB tokenizer the COCO toolkit runs, which, for one,
    splits "it's" into "it" and "'s" and keeps hyphenated words whole, so
    scores on such text can differ slightly from published toolkit numbers.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a caption string, got {type(text).__name__}")
    return _WORD_RE.findall(text.lower())


def _check_caption_pairs(preds, refs) -> tuple[list[list[str]], list[list[list[str]]]]:
    """Validate (candidates, references) and tokenise them.

    preds: list of N strings; refs: list of N non-empty lists of strings (or
    N strings, one reference each)."""
    if isinstance(preds, str) or not isinstance(preds, (list, tuple)):
        raise TypeError("preds must be a list of caption strings")
    if isinstance(refs, str) or not isinstance(refs, (list, tuple)):
        raise TypeError("refs must be a list with one list of reference captions per prediction")
    if len(preds) == 0:
        raise ValueError("no captions to score")
    if len(preds) != len(refs):
        raise ValueError(f"{len(preds)} predictions but {len(refs)} reference lists")
    refs = [[r] if isinstance(r, str) else list(r) for r in refs]
    for i, r in enumerate(refs):
        if not r:
            raise ValueError(f"prediction {i} has no reference caption")
    return [caption_tokens(p) for p in preds], [[caption_tokens(x) for x in r] for r in refs]


def _ngrams(words: list[str], n: int) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for i in range(len(words) - n + 1):
        g = tuple(words[i:i + n])
        out[g] = out.get(g, 0) + 1
    return out


def bleu(preds: list[str], refs: list[list[str]], n: int = 4) -> dict:
    """Corpus BLEU-1..n (Papineni et al., 2002).

    p_k = sum over captions of clipped k-gram matches / sum of candidate k-grams,
    where a k-gram's count is clipped at its largest count in any one reference;
    BLEU-k = BP * exp(mean_{j<=k} log p_j), with brevity penalty
    BP = 1 if c > r else exp(1 - r / c) (c: total candidate length, r: sum of the
    reference lengths closest to each candidate's length, the shorter on ties).

    Returns {"bleu1": ..., ..., f"bleu{n}": ...}, each in [0, 1].

    On ``caption_tokens`` joined by spaces this is the COCO caption toolkit's
    Bleu (pycocoevalcap, "closest" reference length) and sacrebleu's corpus BLEU
    with ``tokenize="none", smooth_method="none"`` (which reports x100), to
    rounding. Where the corpus has no matching k-gram, BLEU-k (and every higher
    order) is exactly 0; the toolkit's p_k = (matches + 1e-15) / (k-grams + 1e-9)
    leaves a small positive number instead: below (1e-15)^(1/k) (< 2e-4), or
    (1e-6)^(1/k) (up to 0.03 for BLEU-4) when the captions are shorter than k
    words. Not sacrebleu's default signature: its 13a tokenizer keeps
    punctuation as tokens and is case-sensitive, and its default "exp" smoothing
    scores empty orders above 0. Sentence BLEU is this function on one caption
    (no smoothing, so often 0 at the higher orders).
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    hyps, refss = _check_caption_pairs(preds, refs)
    match = np.zeros(n)
    total = np.zeros(n)
    c = r = 0
    for h, rs in zip(hyps, refss):
        c += len(h)
        r += min((abs(len(x) - len(h)), len(x)) for x in rs)[1]
        for k in range(1, n + 1):
            hc = _ngrams(h, k)
            best: dict[tuple, int] = {}
            for x in rs:
                for g, cnt in _ngrams(x, k).items():
                    best[g] = max(best.get(g, 0), cnt)
            match[k - 1] += sum(min(cnt, best.get(g, 0)) for g, cnt in hc.items())
            total[k - 1] += max(len(h) - k + 1, 0)
    bp = 1.0 if c > r else (math.exp(1 - r / c) if c > 0 else 0.0)
    out, logsum = {}, 0.0
    for k in range(1, n + 1):
        p = match[k - 1] / total[k - 1] if total[k - 1] > 0 else 0.0
        logsum += math.log(p) if p > 0 else -math.inf
        out[f"bleu{k}"] = float(bp * math.exp(logsum / k)) if logsum > -math.inf else 0.0
    return out


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(preds: list[str], refs: list[list[str]], beta: float = 1.2) -> float:
    """ROUGE-L (Lin, 2004) as in the COCO caption toolkit.

    For each caption: P = max_r LCS(c, r) / |c|, R = max_r LCS(c, r) / |r| over its
    references r, F = (1 + beta^2) P R / (R + beta^2 P); the corpus score is the
    mean F.

    Equal to pycocoevalcap's Rouge (beta 1.2) on ``caption_tokens`` joined by
    spaces. P and R are each the best over the references, possibly from two
    different ones, as in the toolkit. Google's rouge-score reports F1 (beta 1)
    for one reference and, over several, keeps the reference with the best F1:
    with ``beta=1.0`` and one reference the two agree; with several this score
    is greater or equal. A caption with no tokens scores 0.
    """
    hyps, refss = _check_caption_pairs(preds, refs)
    scores = []
    for h, rs in zip(hyps, refss):
        if not h:
            scores.append(0.0)
            continue
        lcs = [_lcs(h, x) for x in rs]
        p = max(l / len(h) for l in lcs)
        rec = max(l / len(x) if x else 0.0 for l, x in zip(lcs, rs))
        scores.append((1 + beta ** 2) * p * rec / (rec + beta ** 2 * p) if p > 0 and rec > 0 else 0.0)
    return float(np.mean(scores))


def cider_d(preds: list[str], refs: list[list[str]], n: int = 4, sigma: float = 6.0) -> float:
    """CIDEr-D (Vedantam et al., 2015) as in the COCO caption toolkit.

    Each sentence becomes, for k = 1..n, a TF-IDF vector g_k with entries
    tf(w) * log(N / max(1, df(w))): N captions-with-references in the corpus and
    df(w) the number of them whose references contain the k-gram w (document
    frequencies come from the reference corpus only). For a candidate c and
    reference r:

        s_k(c, r) = exp(-(l_c - l_r)^2 / (2 sigma^2)) * sum_w min(g_k(c)_w, g_k(r)_w) g_k(r)_w / (|g_k(c)| |g_k(r)|)

    (Gaussian length penalty on the word counts l, candidate counts clipped at
    the reference's), CIDEr-D(c) = 10 / n * sum_k mean_r s_k(c, r), and the
    corpus score is the mean over candidates.

    Equal to pycocoevalcap's Cider (n = 4, sigma = 6) on ``caption_tokens``
    joined by spaces. Like it, the score depends on the corpus: the document
    frequencies come from the references of the captions scored together, so a
    caption scores differently inside another test set, and a corpus of one
    caption scores 0 (log(N / df) = log(1 / 1)). The toolkit measures the length
    in the penalty as the number of bigrams (words - 1); the difference of two
    lengths is the same except when one side has no words, where s_k is 0 anyway.
    """
    hyps, refss = _check_caption_pairs(preds, refs)
    counts = [[_ngrams_all(x, n) for x in rs] for rs in refss]
    df: dict[tuple, int] = {}
    for rs in counts:
        for g in set(g for x in rs for g in x):
            df[g] = df.get(g, 0) + 1
    log_n = math.log(float(len(refss)))

    def vec(cnts: dict[tuple, int]):
        v = [dict() for _ in range(n)]
        norm = np.zeros(n)
        for g, tf in cnts.items():
            w = tf * (log_n - math.log(max(1.0, df.get(g, 0.0))))
            v[len(g) - 1][g] = w
            norm[len(g) - 1] += w * w
        return v, np.sqrt(norm)

    scores = []
    for h, rs in zip(hyps, counts):
        hv, hn = vec(_ngrams_all(h, n))
        lh = len(h)
        acc = np.zeros(n)
        for x in rs:
            rv, rn = vec(x)
            lr = sum(c for g, c in x.items() if len(g) == 1)
            for k in range(n):
                if hn[k] == 0 or rn[k] == 0:
                    continue
                dot = sum(min(w, rv[k].get(g, 0.0)) * rv[k].get(g, 0.0) for g, w in hv[k].items())
                acc[k] += dot / (hn[k] * rn[k]) * math.exp(-((lh - lr) ** 2) / (2 * sigma ** 2))
        scores.append(10.0 * acc.mean() / len(rs))
    return float(np.mean(scores))


def _ngrams_all(words: list[str], n: int) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for k in range(1, n + 1):
        out.update(_ngrams(words, k))
    return out


def meteor_exact(preds: list[str], refs: list[list[str]], alpha: float = 0.9, beta: float = 3.0,
                 gamma: float = 0.5) -> float:
    """METEOR with **exact word matches only** (Banerjee and Lavie, 2005).

    Real METEOR also matches stems and WordNet synonyms (and paraphrases in
    later versions); without those resources this is the exact-match stage
    alone, so its values are lower than, and not comparable with, published
    METEOR scores. Per candidate c and reference r, with m exactly matched
    unigrams (one-to-one, aligned left to right, each candidate word to the
    first unused identical reference word), P = m / |c|, R = m / |r|:

        F = P R / (alpha P + (1 - alpha) R),  Pen = gamma (chunks / m)^beta,
        score = F (1 - Pen),

    where chunks is the number of runs of matches that are adjacent and in the
    same order in both sentences. A candidate takes its best reference; the
    corpus score is the mean.

    The greedy alignment is not METEOR's search for the alignment with fewest
    chunks. NLTK's ``meteor_score`` with stemming and WordNet switched off is
    the same exact stage but aligns a repeated word from the right (its last
    copy first): it gives these numbers on both sentences reversed, and on the
    sentences as written whenever no word repeats.
    """
    hyps, refss = _check_caption_pairs(preds, refs)
    scores = []
    for h, rs in zip(hyps, refss):
        best = 0.0
        for x in rs:
            used = [False] * len(x)
            align = []
            for i, wd in enumerate(h):
                for j, y in enumerate(x):
                    if not used[j] and y == wd:
                        used[j] = True
                        align.append((i, j))
                        break
            m = len(align)
            if m == 0:
                continue
            p, rec = m / len(h), m / len(x)
            f = p * rec / (alpha * p + (1 - alpha) * rec)
            chunks = 1 + sum(1 for (i0, j0), (i1, j1) in zip(align, align[1:]) if not (i1 == i0 + 1 and j1 == j0 + 1))
            best = max(best, f * (1 - gamma * (chunks / m) ** beta))
        scores.append(best)
    return float(np.mean(scores))


def caption_similarity(preds: list[str], refs: list[list[str]], encoder=None) -> float:
    """Mean cosine similarity between each generated caption and its reference
    captions in a sentence-embedding space (default: the bundled
    all-MiniLM-L6-v2, ``musictext.text.load_sentence_encoder``):
    (1/N) sum_i (1/|R_i|) sum_{r in R_i} cos(e(c_i), e(r))."""
    if isinstance(preds, str) or not isinstance(preds, (list, tuple)) or not preds:
        raise ValueError("preds must be a non-empty list of caption strings")
    _check_caption_pairs(preds, refs)
    refs = [[r] if isinstance(r, str) else list(r) for r in refs]
    if encoder is None:
        from .text import load_sentence_encoder

        encoder = load_sentence_encoder()
    flat = [x for r in refs for x in r]
    e_c = _np(encoder.encode(list(preds))).astype(np.float64)
    e_r = _np(encoder.encode(flat)).astype(np.float64)
    e_c /= np.linalg.norm(e_c, axis=1, keepdims=True).clip(1e-12)
    e_r /= np.linalg.norm(e_r, axis=1, keepdims=True).clip(1e-12)
    sims, k = [], 0
    for i, r in enumerate(refs):
        sims.append(float((e_r[k:k + len(r)] @ e_c[i]).mean()))
        k += len(r)
    return float(np.mean(sims))
