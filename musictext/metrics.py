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
    covmean, _ = linalg.sqrtm(sa @ sb, disp=False)
    if not np.isfinite(covmean).all():
        off = np.eye(sa.shape[0]) * eps
        covmean = linalg.sqrtm((sa + off) @ (sb + off))
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(sa + sb - 2 * covmean))


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
