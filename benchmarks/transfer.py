"""How the reference models hold up outside their training domain.

    python benchmarks/transfer.py [--tagger FILE] [--joint FILE] [--out FILE]

Scores the reference tagger (the shipped checkpoint, or FILE) on the default
test split (TimGM6mb, "in-domain") and on the same split re-rendered through
the held-out soundfont, per tag group, and ranks the instrument of the Bach
chorale clips through each soundfont (top-1 and top-3 among the instrument
tags). Scores the reference joint embedding (shipped, or FILE) on the frozen
everyday queries of ``tests/everyday_queries.json``: precision@10 over the
whole default build, against chance (the mean share of clips that carry a
query's tags). Prints a table and writes ``benchmarks/transfer.json`` (or FILE).
Offline; about two minutes on two cores once the data is built.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "everyday_queries.json"


def tagger_report(path: str | None) -> dict:
    from musictext.audio import LogMel
    from musictext.data import (HELDOUT_SOUNDFONT, TAGS, TRAIN_SOUNDFONTS, SynthCaps, chorale_clips,
                                ensure_dataset, shifted_split)
    from musictext.data.vocab import GROUP_OF
    from musictext.data import INSTRUMENTS
    from musictext.metrics import group_scores, rank_hits, tagging_scores
    from musictext.models import tagging

    model = tagging.load(path, sha256=None) if path else tagging.load()
    root = ensure_dataset()
    out = {"checkpoint": Path(path).name if path else "shipped", "test_split": {}, "chorales": {}}
    for font, ds in (("TimGM6mb", SynthCaps(root, "test")),
                     (HELDOUT_SOUNDFONT, SynthCaps(shifted_split(root), "test"))):
        s = tagging_scores(ds.targets, tagging.tag_probabilities(model, ds.logmel)["probabilities"], TAGS)
        groups = group_scores(s["per_tag"], GROUP_OF)
        out["test_split"][font] = {"macro_pr_auc": s["pr_auc"], "macro_roc_auc": s["roc_auc"],
                                   **{f"{g}_pr_auc": v["pr_auc"] for g, v in groups.items()}}
    to_logmel = LogMel()
    names = list(INSTRUMENTS.values())
    for font in dict.fromkeys(["TimGM6mb", *TRAIN_SOUNDFONTS, HELDOUT_SOUNDFONT]):
        clips = chorale_clips(font)
        probs = tagging.tag_probabilities(model, to_logmel(torch.from_numpy(clips["audio"])))
        hits = rank_hits(probs["probabilities"][:, [TAGS.index(t) for t in names]],
                         clips["instrument"], names)
        out["chorales"][font] = {"top1": hits[1], "top3": hits[3]}
    return out


def joint_report(path: str | None) -> dict:
    from musictext.data import SynthCaps, ensure_dataset
    from musictext.models import retrieval

    model = retrieval.load(path, sha256=None) if path else retrieval.load()
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))
    root = ensure_dataset()
    sets = [SynthCaps(root, split) for split in ("train", "valid", "test")]
    tags = [set(r["tags"]) for ds in sets for r in ds.records]
    with torch.no_grad():
        audio = torch.cat([model.audio_from_logmel(ds.logmel) for ds in sets])
        text = model.embed_text([q["query"] for q in queries])
        top = (text @ audio.T).topk(10, dim=1).indices
    hits = [np.mean([set(q["tags"]) <= tags[i] for i in top[k].tolist()]) for k, q in enumerate(queries)]
    chance = [np.mean([set(q["tags"]) <= t for t in tags]) for q in queries]
    return {"checkpoint": Path(path).name if path else "shipped", "queries": len(queries),
            "clips": len(tags), "p_at_10": float(np.mean(hits)), "chance": float(np.mean(chance))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tagger", default=None, help="a tagger checkpoint (default: the shipped one)")
    ap.add_argument("--joint", default=None, help="a joint checkpoint (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "transfer.json")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    res = {"tagger": tagger_report(args.tagger), "joint": joint_report(args.joint)}
    t = res["tagger"]
    for font, s in t["test_split"].items():
        groups = "  ".join(f"{k[:-7]} {v:.3f}" for k, v in s.items() if k.endswith("_pr_auc")
                           and not k.startswith("macro"))
        print(f"tagger, test split through {font:13s} macro PR-AUC {s['macro_pr_auc']:.3f}  ({groups})")
    for font, s in t["chorales"].items():
        print(f"tagger, chorales through {font:15s} instrument top-1 {s['top1']:.2f}  top-3 {s['top3']:.2f}")
    j = res["joint"]
    print(f"joint, {j['queries']} everyday queries over {j['clips']} clips: P@10 {j['p_at_10']:.3f} "
          f"(chance {j['chance']:.3f})")
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
