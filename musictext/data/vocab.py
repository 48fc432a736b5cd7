"""The tag vocabulary of SynthCaps and the words used to talk about each tag.

Every tag belongs to one group (genre, instrument, mood, tempo, mode (major or
minor), dynamics, drums). Each tag has *training words* (the first one is the canonical tag name
used in tag-list captions) and possibly *held-out words*: synonyms that never
appear in any training caption, kept back for zero-shot experiments.
"""
from __future__ import annotations

GENRES = ["rock", "jazz", "blues", "classical", "electronic", "folk", "ambient", "hip hop"]

# General MIDI program (0-based) -> instrument tag. One program per tag, so the
# tags can be checked against the rendered MIDI file.
INSTRUMENTS: dict[int, str] = {
    0: "piano",
    4: "electric piano",
    11: "vibraphone",
    12: "marimba",
    16: "organ",
    21: "accordion",
    22: "harmonica",
    25: "acoustic guitar",
    27: "electric guitar",
    30: "distorted guitar",
    32: "acoustic bass",
    33: "electric bass",
    38: "synth bass",
    40: "violin",
    42: "cello",
    46: "harp",
    48: "strings",
    52: "choir",
    56: "trumpet",
    65: "saxophone",
    71: "clarinet",
    73: "flute",
    81: "synth lead",
    89: "synth pad",
    105: "banjo",
}
PROGRAM_OF = {tag: prog for prog, tag in INSTRUMENTS.items()}

MOODS = ["happy", "calm", "sad", "tense"]
TEMPOS = ["slow", "medium", "fast"]
MODES = ["major", "minor"]
DYNAMICS = ["soft", "loud"]
DRUMS = ["drums", "no drums"]

TAG_GROUPS: dict[str, list[str]] = {
    "genre": GENRES,
    "instrument": list(INSTRUMENTS.values()),
    "mood": MOODS,
    "tempo": TEMPOS,
    "mode": MODES,
    "dynamics": DYNAMICS,
    "drums": DRUMS,
}
TAGS: list[str] = [t for group in TAG_GROUPS.values() for t in group]
GROUP_OF: dict[str, str] = {t: g for g, ts in TAG_GROUPS.items() for t in ts}

# Tempo boundaries in beats per minute: slow < 80 <= medium < 120 <= fast.
SLOW_BELOW = 80
FAST_FROM = 120

# Words a caption may use for a tag. TRAIN_WORDS may appear in any caption;
# HELDOUT_WORDS appear only in the held-out paraphrases of the valid and test
# splits. For three tags ("vibraphone", "tense", "accordion") even the tag name
# itself is held out: training captions call them by another word.
TRAIN_WORDS: dict[str, list[str]] = {
    "rock": ["rock", "rock and roll"],
    "jazz": ["jazz", "jazzy"],
    "blues": ["blues", "bluesy"],
    "classical": ["classical", "chamber music"],
    "electronic": ["electronic", "electro"],
    "folk": ["folk", "folk song"],
    "ambient": ["ambient", "atmospheric"],
    "hip hop": ["hip hop", "hip-hop"],
    "piano": ["piano", "acoustic piano"],
    "electric piano": ["electric piano", "rhodes"],
    "vibraphone": ["vibes", "mallet vibes"],
    "marimba": ["marimba", "wooden mallets"],
    "organ": ["organ", "drawbar organ"],
    "accordion": ["squeezebox", "button box"],
    "harmonica": ["harmonica", "mouth organ"],
    "acoustic guitar": ["acoustic guitar", "steel-string guitar"],
    "electric guitar": ["electric guitar", "clean guitar"],
    "distorted guitar": ["distorted guitar", "overdriven guitar"],
    "acoustic bass": ["acoustic bass", "upright bass"],
    "electric bass": ["electric bass", "bass guitar"],
    "synth bass": ["synth bass", "synthesizer bass"],
    "violin": ["violin", "fiddle"],
    "cello": ["cello", "violoncello"],
    "harp": ["harp", "concert harp"],
    "strings": ["strings", "string section"],
    "choir": ["choir", "voices"],
    "trumpet": ["trumpet", "horn"],
    "saxophone": ["saxophone", "sax"],
    "clarinet": ["clarinet", "reed"],
    "flute": ["flute", "woodwind"],
    "synth lead": ["synth lead", "lead synthesizer"],
    "synth pad": ["synth pad", "pad"],
    "banjo": ["banjo", "five-string banjo"],
    "happy": ["happy", "joyful"],
    "calm": ["calm", "peaceful"],
    "sad": ["sad", "sorrowful"],
    "tense": ["dark", "restless"],
    "slow": ["slow", "laid-back"],
    "medium": ["medium tempo", "moderate"],
    "fast": ["fast", "quick"],
    "major": ["major", "major key"],
    "minor": ["minor", "minor key"],
    "soft": ["soft", "quiet"],
    "loud": ["loud", "forceful"],
    "drums": ["drums", "a drum kit"],
    "no drums": ["no drums", "drum-free"],
}
HELDOUT_WORDS: dict[str, list[str]] = {
    "rock": ["guitar rock"],
    "electronic": ["techno"],
    "classical": ["orchestral"],
    "folk": ["traditional"],
    "vibraphone": ["vibraphone"],
    "accordion": ["accordion"],
    "tense": ["tense", "ominous"],
    "happy": ["cheerful", "upbeat"],
    "calm": ["mellow", "serene"],
    "sad": ["melancholic", "gloomy"],
    "slow": ["unhurried", "sluggish"],
    "fast": ["rapid", "brisk"],
    "soft": ["gentle", "hushed"],
    "loud": ["powerful", "booming"],
    "piano": ["keyboard"],
    "strings": ["string orchestra"],
    "drums": ["percussion"],
    "no drums": ["drumless"],
}
HELDOUT_TAG_NAMES = sorted(t for t in TAGS if t in HELDOUT_WORDS and t in HELDOUT_WORDS[t])


def heldout_vocabulary() -> set[str]:
    """All words and phrases that never appear in a training caption."""
    return {w for words in HELDOUT_WORDS.values() for w in words}


def tempo_tag(bpm: float) -> str:
    """The tempo tag of a tempo in beats per minute."""
    if bpm < SLOW_BELOW:
        return "slow"
    return "medium" if bpm < FAST_FROM else "fast"


def mood_tag(mode: str, bpm: float) -> str:
    """Mood follows mode and tempo: major+lively is happy, major+slow calm,
    minor+slow sad, minor+lively tense (threshold 100 BPM)."""
    lively = bpm >= 100
    if mode == "major":
        return "happy" if lively else "calm"
    return "tense" if lively else "sad"


def _check() -> None:
    assert len(set(TAGS)) == len(TAGS)
    for t in TAGS:
        assert t in TRAIN_WORDS, t
    import re

    train = {w for ws in TRAIN_WORDS.values() for w in ws}
    for h in heldout_vocabulary():
        pat = re.compile(r"(?<![\w-])" + re.escape(h) + r"(?![\w-])")
        clash = [w for w in train if pat.search(w)]
        assert not clash, (h, clash)


_check()
