"""The frozen set of everyday queries (tests/everyday_queries.json): music searches
in words people use, none of which any caption template or synonym of the book
uses, each with the tags that a right answer must carry. It is written before
any model is tuned on it and must not change afterwards; ``precision_at_10``
scores a ranking against it."""
from __future__ import annotations

import json
import re
from pathlib import Path

from musictext.data import EVERYDAY_WORDS, HELDOUT_WORDS, TAGS, TRAIN_WORDS, tags_in_text

QUERIES = json.loads((Path(__file__).parent / "everyday_queries.json").read_text(encoding="utf-8"))


def precision_at_10(ranked_tags: list[list[list[str]]], queries=QUERIES) -> float:
    """Mean over queries of the share of the first ten results that carry every
    tag the query asks for; ``ranked_tags[q]`` are the result tags, best first."""
    shares = [sum(set(q["tags"]) <= set(tags) for tags in ranked[:10]) / 10
              for q, ranked in zip(queries, ranked_tags, strict=True)]
    return sum(shares) / len(shares)


def test_at_least_thirty_distinct_queries_with_known_tags():
    assert len(QUERIES) >= 30
    assert len({q["query"].lower() for q in QUERIES}) == len(QUERIES)
    for q in QUERIES:
        assert q["query"].strip() and 1 <= len(q["tags"]) <= 2, q
        assert set(q["tags"]) <= set(TAGS), q


def test_no_query_uses_a_word_of_the_caption_vocabulary():
    """Nor a word of the everyday lexicon that the joint embedding trains on:
    the queries measure transfer to words the model has never seen."""
    words = {w for ws in TRAIN_WORDS.values() for w in ws} | {w for ws in HELDOUT_WORDS.values() for w in ws}
    words |= {w for ws in EVERYDAY_WORDS.values() for w in ws}
    words |= set(TAGS)
    for q in QUERIES:
        assert not tags_in_text(q["query"]), q
        text = " " + re.sub(r"[^a-z-]+", " ", q["query"].lower()) + " "
        assert not [w for w in words if f" {w} " in text], q


def test_precision_at_10_counts_results_that_carry_every_asked_tag():
    two = [{"query": "x", "tags": ["calm", "soft"]}, {"query": "y", "tags": ["fast"]}]
    ranked = [[["calm", "soft", "piano"]] * 3 + [["calm"]] * 7, [["fast"]] * 10]
    assert precision_at_10(ranked, two) == (0.3 + 1.0) / 2


def test_everyday_lexicon_is_new_words_only():
    """Every everyday word is outside the caption vocabulary (no tag name,
    training or held-out word inside it), and every tag has some."""
    assert set(EVERYDAY_WORDS) == set(TAGS)
    for tag, words in EVERYDAY_WORDS.items():
        assert len(words) >= 3, tag
        for w in words:
            assert not tags_in_text(w), (tag, w)


def test_everyday_captions_name_only_the_clip_tags():
    import numpy as np

    from musictext.data.captions import everyday_caption

    clip = ["jazz", "piano", "saxophone", "calm", "slow", "major", "soft", "drums"]
    a = [everyday_caption(clip, np.random.default_rng(7)) for _ in range(3)]
    assert a == [everyday_caption(clip, np.random.default_rng(7)) for _ in range(3)]
    rng = np.random.default_rng(0)
    caps = [everyday_caption(clip, rng) for _ in range(300)]
    assert len(set(caps)) > 250
    for c in caps:
        assert tags_in_text(c) <= set(clip), c
    # most requests use everyday words only, so the caption vocabulary finds nothing
    assert sum(not tags_in_text(c) for c in caps) > 100
