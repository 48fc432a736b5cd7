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


# Everyday words: how listeners talk about a tag, informally or figuratively.
# They appear in no caption of the build; the reference joint embedding trains
# on short query-like sentences made of them (``captions.everyday_caption``),
# so that it understands words beyond the captions' templates. None is a
# training or held-out word of another tag.
EVERYDAY_WORDS: dict[str, list[str]] = {
    "rock": ["guitar-driven", "riff-heavy", "arena anthem", "garage band"],
    "jazz": ["swinging", "cocktail lounge", "bebop", "speakeasy"],
    "blues": ["barrelhouse", "roadhouse", "juke joint", "down-home"],
    "classical": ["concert hall", "symphonic", "baroque", "conservatory"],
    "electronic": ["synth-heavy", "club", "edm", "computer-made"],
    "folk": ["hootenanny", "rustic", "old-time", "village dance"],
    "ambient": ["spacey", "weightless", "drifting textures", "dreamlike"],
    "hip hop": ["boom bap", "turntablism", "sampled loops", "breakbeat"],
    "piano": ["keys", "grand", "ivories", "concert grand"],
    "electric piano": ["wurlitzer", "electric keys", "seventies keys", "suitcase keys"],
    "vibraphone": ["metal bars", "shimmering mallets", "vibe bells", "bell-like mallets"],
    "marimba": ["wooden bars", "tuned wood", "xylophone", "woody mallets"],
    "organ": ["hammond", "b3", "cathedral pipes", "tonewheel"],
    "accordion": ["concertina", "bellows", "musette", "polka box"],
    "harmonica": ["tin sandwich", "pocket wailer", "blow-and-draw reeds", "chromatic mouthpiece"],
    "acoustic guitar": ["strummed six-string", "unplugged guitar", "fingerpicked guitar",
                        "nylon guitar"],
    "electric guitar": ["twangy guitar", "jangly guitar", "chiming guitar", "surf guitar"],
    "distorted guitar": ["fuzz guitar", "crunchy guitar", "heavy riffs", "shredding"],
    "acoustic bass": ["double bass", "standup bass", "contrabass", "slapped upright"],
    "electric bass": ["fender bass", "four-string", "slap bass", "bass player"],
    "synth bass": ["wobbly bass", "sub bass", "808 bass", "analog bass"],
    "violin": ["bowed melody", "solo bow", "violinist", "concerto soloist"],
    "cello": ["cellist", "low bowed line", "deep bow", "bowed low voice"],
    "harp": ["harpist", "glissando", "angelic plucking", "plucked lyre"],
    "strings": ["orchestra", "violins", "string quartet", "lush orchestration"],
    "choir": ["singers", "chorus", "vocal ensemble", "chanting"],
    "trumpet": ["brass", "fanfare", "bugle", "mariachi brass"],
    "saxophone": ["saxophonist", "tenor solo", "alto solo", "honking tenor"],
    "clarinet": ["klezmer", "licorice stick", "clarinettist", "single-reed solo"],
    "flute": ["piccolo", "flutist", "breathy pipe", "pan pipes"],
    "synth lead": ["chiptune", "8-bit melody", "screaming synth", "synth solo"],
    "synth pad": ["synth wash", "sustained synth chords", "cloud of synth", "warm pads"],
    "banjo": ["frailing", "clawhammer", "hillbilly", "country plucking"],
    "happy": ["feel-good", "merry", "bouncy", "carefree"],
    "calm": ["chill", "relaxing", "soothing", "tranquil"],
    "sad": ["heartbroken", "tearjerker", "wistful", "bittersweet"],
    "tense": ["creepy", "suspenseful", "edgy", "menacing"],
    "slow": ["lazy", "crawling", "leisurely", "slow-burning"],
    "medium": ["middling pace", "ambling pace", "mid-tempo", "comfortable pace"],
    "fast": ["energetic", "breakneck", "speedy", "racing"],
    "major": ["bright harmony", "bright chords", "uplifting harmony", "happy-sounding chords"],
    "minor": ["moody harmony", "melancholy chords", "brooding chords", "sad-sounding chords"],
    "soft": ["delicate", "subdued", "low-volume", "whispery"],
    "loud": ["ear-splitting", "cranked up", "full volume", "thunderous"],
    "drums": ["a drummer", "a backbeat", "a kit", "a pulse"],
    "no drums": ["beatless", "no pulse", "unaccompanied by any rhythm", "no rhythm section"],
}


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
    assert set(EVERYDAY_WORDS) == set(TAGS)


_check()
