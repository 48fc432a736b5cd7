"""Tags -> captions, in the spirit of LP-MusicCaps pseudo captions but with
templates instead of a language model, and the reverse: which tags a caption
mentions (used by the tag-F1 caption metric)."""
from __future__ import annotations

import re

import numpy as np

from .vocab import EVERYDAY_WORDS, GROUP_OF, HELDOUT_WORDS, TAGS, TRAIN_WORDS


def _word(tag: str, rng: np.random.Generator, heldout: bool, canonical: bool = False) -> str:
    if heldout and tag in HELDOUT_WORDS:
        ws = HELDOUT_WORDS[tag]
        return ws[int(rng.integers(0, len(ws)))]
    ws = TRAIN_WORDS[tag]
    return ws[0] if canonical else ws[int(rng.integers(0, len(ws)))]


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def tag_list_caption(tags: list[str], rng: np.random.Generator) -> str:
    """Caption 1: the tags as a comma-separated list, in random order."""
    order = rng.permutation(len(tags))
    return ", ".join(_word(tags[i], rng, False, canonical=True) for i in order)


def _groups(tags: list[str]) -> dict[str, list[str]]:
    g: dict[str, list[str]] = {}
    for t in tags:
        g.setdefault(GROUP_OF[t], []).append(t)
    return g


def sentence_caption(tags: list[str], rng: np.random.Generator, heldout: bool = False,
                     canonical: bool = True) -> str:
    """A templated sentence that mentions every tag once."""
    g = _groups(tags)

    def w(t):
        return _word(t, rng, heldout, canonical)

    genre = [w(t) for t in g.get("genre", [])]
    instr = [w(t) for t in g.get("instrument", [])]
    mood = [w(t) for t in g.get("mood", [])]
    tempo = [w(t) for t in g.get("tempo", [])]
    mode = [w(t) for t in g.get("mode", [])]
    dyn = [w(t) for t in g.get("dynamics", [])]
    drums = g.get("drums", [])
    parts_adj = dyn + tempo
    genre_s = " ".join(genre) if genre else "music"
    lead = ", ".join(parts_adj + [genre_s]) if parts_adj else genre_s
    lead = lead.replace(", " + genre_s, " " + genre_s)
    noun = ["piece", "track", "tune", "recording"][int(rng.integers(0, 4))]
    first = f"{_article(lead)} {lead} {noun}"
    if mode:
        first += f" in a {mode[0].replace(' key', '')} key"
    bits = []
    if instr:
        bits.append(f"featuring {_join(instr)}")
    if drums:
        dw = w(drums[0])
        bits.append(f"with {dw}" if drums[0] == "drums" else dw.replace("no ", "with no ")
                    if dw.startswith("no ") else dw)
    sent = first + (" " + ", ".join(bits) if bits else "") + "."
    if mood:
        tail = [f"The mood is {mood[0]}.", f"It feels {mood[0]}.", f"It has a {mood[0]} character."]
        sent += " " + tail[int(rng.integers(0, len(tail)))]
    return sent[0].upper() + sent[1:]


def paraphrase_caption(tags: list[str], rng: np.random.Generator, heldout: bool = False) -> str:
    """A freer sentence with synonyms and another word order."""
    g = _groups(tags)

    def w(t):
        return _word(t, rng, heldout, canonical=False)

    out = []
    if g.get("instrument"):
        instr = [w(t) for t in g["instrument"]]
        verb = ["carry", "lead", "play"][int(rng.integers(0, 3))]
        out.append(f"{_join(instr)} {verb if len(instr) > 1 else verb + 's'} this")
    else:
        out.append("this is")
    desc = [w(t) for t in g.get("mood", []) + g.get("dynamics", [])]
    genre = [w(t) for t in g.get("genre", [])]
    out.append(" ".join(desc + genre + ["song"]) if out[0] != "this is"
               else _article(desc[0] if desc else "s") + " " + " ".join(desc + genre + ["song"]))
    s = " ".join(out)
    extra = []
    if g.get("tempo"):
        tw = w(g["tempo"][0])
        extra.append(f"at {_article(tw)} {tw}" + ("" if tw.endswith("tempo") else " pace"))
    if g.get("mode"):
        extra.append(f"in {w(g['mode'][0]).replace(' key', '')}")
    if g.get("drums"):
        d = g["drums"][0]
        dw = w(d)
        extra.append(f"with {dw}" if d == "drums" else (dw if not dw.startswith("no ") else dw.replace("no ", "with no ")))
    if extra:
        s += ", " + ", ".join(extra)
    s += "."
    return s[0].upper() + s[1:]


# Where each kind of caption sits in the list ``make_captions`` returns.
CAPTION_TAG_LIST = 0      # "jazz, piano, calm, slow, ..."
CAPTION_SENTENCE = 1      # the templated sentence
CAPTION_PARAPHRASE = 2    # the first free paraphrase (the others follow it)


def make_captions(tags: list[str], rng: np.random.Generator, n_paraphrases: int = 2) -> list[str]:
    """Training-safe captions: a tag list, a templated sentence and paraphrases,
    at the positions ``CAPTION_TAG_LIST``, ``CAPTION_SENTENCE`` and
    ``CAPTION_PARAPHRASE`` onwards. None of them uses a held-out word."""
    caps = [tag_list_caption(tags, rng), sentence_caption(tags, rng)]
    caps += [paraphrase_caption(tags, rng) for _ in range(n_paraphrases)]
    return caps


def heldout_caption(tags: list[str], rng: np.random.Generator) -> str:
    """A paraphrase that prefers held-out words wherever a tag has one."""
    return paraphrase_caption(tags, rng, heldout=True)


_EVERYDAY_FRAMES = ["{}", "something {}", "I want {}", "play me {}", "looking for {}",
                    "any {}?", "{} please", "put on {}"]
_EVERYDAY_NOUNS = ["music", "songs", "tracks", "stuff", "tunes", "sounds"]


def everyday_caption(tags: list[str], rng: np.random.Generator, max_tags: int = 3) -> str:
    """A short, query-like request for one to ``max_tags`` of the clip's tags,
    mostly in everyday words (``EVERYDAY_WORDS``), sometimes in training
    words: "something chill with keys", "play me speedy club music". Never a
    held-out word. Not part of the build: the reference joint embedding draws
    these while it trains."""
    k = int(rng.integers(1, min(max_tags, len(tags)) + 1))
    chosen = [tags[i] for i in sorted(rng.choice(len(tags), k, replace=False))]

    def w(t: str) -> str:
        ws = EVERYDAY_WORDS[t] if rng.random() < 0.75 else TRAIN_WORDS[t]
        return ws[int(rng.integers(0, len(ws)))]

    adjectives = [w(t) for t in chosen if GROUP_OF[t] not in ("instrument", "mode", "drums")]
    phrase = " ".join(adjectives + [_EVERYDAY_NOUNS[int(rng.integers(0, len(_EVERYDAY_NOUNS)))]])
    instruments = [w(t) for t in chosen if GROUP_OF[t] in ("instrument", "mode")]
    if instruments:
        phrase += " with " + _join(instruments)
    for t in chosen:
        if GROUP_OF[t] == "drums":
            word = w(t)
            phrase += (" and " if instruments else " with ") + word if t == "drums" else ", " + word
    frame = _EVERYDAY_FRAMES[int(rng.integers(0, len(_EVERYDAY_FRAMES)))]
    return frame.format(phrase)


# ---- caption -> tags -------------------------------------------------------
def _phrase_table() -> list[tuple[str, str]]:
    table = []
    for tag in TAGS:
        for wd in TRAIN_WORDS[tag] + HELDOUT_WORDS.get(tag, []):
            table.append((wd.lower(), tag))
        table.append((tag.lower(), tag))
    extra = {"with no drums": "no drums", "with no percussion": "no drums", "without drums": "no drums"}
    table += list(extra.items())
    # longest phrases first so "electric piano" wins over "piano"
    return sorted(set(table), key=lambda p: (-len(p[0]), p[0]))


_PHRASES = _phrase_table()
_PATTERN = re.compile("|".join(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])" for p, _ in _PHRASES))
_TAG_OF = {p: t for p, t in _PHRASES}


def tags_in_text(text: str) -> set[str]:
    """The tags a caption mentions, through the tag names, their training
    words and their held-out synonyms (longest phrase wins)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a caption string, got {type(text).__name__}")
    return {_TAG_OF[m.group(0)] for m in _PATTERN.finditer(text.lower())}
