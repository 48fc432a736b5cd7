"""A procedural composer: musical styles -> pretty_midi scores.

Each clip is a short ensemble (melody, harmony, bass, optional drums) in one of
eight styles. Styles share instruments on purpose, so a model cannot read the
genre off a single instrument: it has to hear rhythm, harmony and tempo too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pretty_midi

from .vocab import INSTRUMENTS, PROGRAM_OF, mood_tag, tempo_tag

PITCH_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11]
MINOR_SCALE = [0, 2, 3, 5, 7, 8, 10]

# Chord progressions as (root in semitones above the tonic, quality).
PROGRESSIONS = {
    "pop_major": [[(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],
                  [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")],
                  [(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")]],
    "pop_minor": [[(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")],
                  [(0, "min"), (10, "maj"), (8, "maj"), (10, "maj")],
                  [(0, "min"), (5, "min"), (7, "min"), (0, "min")]],
    "jazz_major": [[(2, "min7"), (7, "dom7"), (0, "maj7"), (9, "min7")],
                   [(0, "maj7"), (9, "min7"), (2, "min7"), (7, "dom7")]],
    "jazz_minor": [[(2, "m7b5"), (7, "dom7"), (0, "min7"), (0, "min7")],
                   [(0, "min7"), (5, "min7"), (10, "dom7"), (3, "maj7")]],
    "blues_major": [[(0, "dom7"), (5, "dom7"), (0, "dom7"), (7, "dom7")],
                    [(0, "dom7"), (0, "dom7"), (5, "dom7"), (0, "dom7")]],
    "blues_minor": [[(0, "min7"), (5, "min7"), (0, "min7"), (7, "dom7")]],
    "classical_major": [[(0, "maj"), (5, "maj"), (7, "dom7"), (0, "maj")],
                        [(0, "maj"), (2, "min"), (7, "dom7"), (0, "maj")]],
    "classical_minor": [[(0, "min"), (5, "min"), (7, "dom7"), (0, "min")],
                        [(0, "min"), (8, "maj"), (2, "dim"), (7, "dom7")]],
    "modal_major": [[(0, "maj"), (5, "maj")], [(0, "maj7"), (2, "min7")]],
    "modal_minor": [[(0, "min"), (10, "maj")], [(0, "min7"), (8, "maj7")]],
}
CHORD_SHAPES = {
    "maj": [0, 4, 7], "min": [0, 3, 7], "dim": [0, 3, 6],
    "maj7": [0, 4, 7, 11], "min7": [0, 3, 7, 10], "dom7": [0, 4, 7, 10], "m7b5": [0, 3, 6, 10],
}

# Drum patterns: (position in beats within a 4-beat bar, GM percussion note, relative velocity).
KICK, SNARE, RIM, CLAP, HAT, OPEN_HAT, RIDE, CRASH, TAMB, SHAKER = 36, 38, 37, 39, 42, 46, 51, 49, 54, 70
SW = 2 / 3  # swung off-beat
DRUM_PATTERNS = {
    "rock": [(0, KICK, 1.0), (2, KICK, 1.0), (2.5, KICK, 0.8), (1, SNARE, 1.0), (3, SNARE, 1.0)]
    + [(i / 2, HAT, 0.7) for i in range(8)],
    "swing": [(0, RIDE, 0.8), (1, RIDE, 0.9), (1 + SW, RIDE, 0.6), (2, RIDE, 0.8), (3, RIDE, 0.9),
              (3 + SW, RIDE, 0.6), (1, HAT, 0.6), (3, HAT, 0.6), (0, KICK, 0.5)],
    "shuffle": [(0, KICK, 1.0), (2, KICK, 1.0), (1, SNARE, 0.9), (3, SNARE, 0.9)]
    + [(b + o, HAT, 0.6 if o else 0.8) for b in range(4) for o in (0, SW)],
    "four_on_floor": [(b, KICK, 1.0) for b in range(4)] + [(1, CLAP, 0.9), (3, CLAP, 0.9)]
    + [(b + 0.5, OPEN_HAT, 0.7) for b in range(4)] + [(i / 4, HAT, 0.4) for i in range(16) if i % 2],
    "boom_bap": [(0, KICK, 1.0), (0.75, KICK, 0.7), (2.5, KICK, 0.9), (1, SNARE, 1.0), (3, SNARE, 1.0)]
    + [(b + o, HAT, 0.6) for b in range(4) for o in (0, SW)],
    "folk": [(0, KICK, 0.6), (2, KICK, 0.6), (1, TAMB, 0.7), (3, TAMB, 0.7), (1.5, TAMB, 0.4), (3.5, TAMB, 0.4)],
    "shaker": [(i / 2, SHAKER, 0.5 if i % 2 else 0.7) for i in range(8)] + [(0, KICK, 0.4)],
}


@dataclass
class Style:
    name: str
    tempo: tuple[int, int]
    p_major: float
    p_loud: float
    p_drums: float
    drum_patterns: list[str]
    melody: list[str]
    harmony: list[str]
    bass: list[str]
    progressions: tuple[str, str]  # (major family, minor family)
    comping: list[str]             # harmony rhythms
    bass_line: list[str]           # bass rhythms
    melody_rhythm: str             # "straight", "swing", "long", "folk"
    p_melody: float = 0.9
    p_bass: float = 0.9
    swing: bool = False


STYLES: dict[str, Style] = {s.name: s for s in [
    Style("rock", (100, 165), 0.6, 0.8, 0.95, ["rock"],
          ["distorted guitar", "electric guitar", "synth lead", "organ", "piano"],
          ["distorted guitar", "electric guitar", "organ", "piano"],
          ["electric bass", "synth bass"], ("pop_major", "pop_minor"),
          ["power", "block8"], ["eighths"], "straight"),
    Style("jazz", (80, 180), 0.6, 0.4, 0.85, ["swing"],
          ["saxophone", "trumpet", "piano", "vibraphone", "electric guitar", "clarinet", "flute"],
          ["piano", "electric piano", "electric guitar", "vibraphone", "organ"],
          ["acoustic bass", "electric bass"], ("jazz_major", "jazz_minor"),
          ["comp"], ["walking"], "swing", swing=True),
    Style("blues", (60, 125), 0.7, 0.5, 0.85, ["shuffle"],
          ["harmonica", "electric guitar", "saxophone", "piano", "organ", "trumpet"],
          ["piano", "organ", "electric guitar", "acoustic guitar"],
          ["electric bass", "acoustic bass"], ("blues_major", "blues_minor"),
          ["shuffle_comp", "block"], ["boogie"], "swing", swing=True),
    Style("classical", (50, 140), 0.5, 0.35, 0.0, [],
          ["violin", "flute", "clarinet", "piano", "cello", "trumpet", "harp"],
          ["strings", "piano", "harp", "organ"],
          ["cello", "acoustic bass"], ("classical_major", "classical_minor"),
          ["arpeggio", "sustain", "alberti"], ["sustain", "quarters"], "straight", p_bass=0.7),
    Style("electronic", (115, 150), 0.5, 0.7, 0.92, ["four_on_floor"],
          ["synth lead", "electric piano", "marimba", "vibraphone", "piano"],
          ["synth pad", "electric piano", "organ", "strings"],
          ["synth bass"], ("pop_major", "pop_minor"),
          ["sustain", "offbeat", "arpeggio16"], ["offbeat8"], "straight"),
    Style("folk", (80, 140), 0.75, 0.35, 0.3, ["folk"],
          ["flute", "violin", "accordion", "harmonica", "banjo", "clarinet", "acoustic guitar"],
          ["acoustic guitar", "accordion", "banjo", "harp", "piano"],
          ["acoustic bass", "cello"], ("classical_major", "classical_minor"),
          ["strum", "arpeggio"], ["root_fifth"], "folk"),
    Style("ambient", (50, 90), 0.5, 0.15, 0.12, ["shaker"],
          ["flute", "piano", "electric piano", "vibraphone", "choir", "harp", "marimba"],
          ["synth pad", "strings", "choir", "organ"],
          ["synth bass", "cello"], ("modal_major", "modal_minor"),
          ["sustain"], ["sustain"], "long", p_melody=0.8, p_bass=0.5),
    Style("hip hop", (75, 100), 0.3, 0.6, 0.95, ["boom_bap"],
          ["electric piano", "piano", "synth lead", "saxophone", "vibraphone", "trumpet", "flute"],
          ["electric piano", "synth pad", "piano", "strings"],
          ["synth bass", "electric bass"], ("pop_major", "pop_minor"),
          ["stabs", "sustain"], ["syncopated"], "swing", swing=True),
]}
STYLE_NAMES = list(STYLES)


@dataclass
class Composition:
    """A composed clip: the MIDI score and the parameters that made it."""

    midi: pretty_midi.PrettyMIDI
    style: str
    tempo: float
    key: str
    mode: str
    programs: list[int]
    drums: bool
    dynamics: str
    melody_source: str
    params: dict = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        tags = [self.style]
        tags += [INSTRUMENTS[p] for p in self.programs]
        tags += [mood_tag(self.mode, self.tempo), tempo_tag(self.tempo), self.mode, self.dynamics]
        tags.append("drums" if self.drums else "no drums")
        return tags


def _note(inst, pitch, start, dur, vel, clip_end):
    if start >= clip_end:
        return
    pitch = int(pitch)
    while pitch < 24:
        pitch += 12
    while pitch > 100:
        pitch -= 12
    vel = int(np.clip(round(vel), 1, 127))
    inst.notes.append(pretty_midi.Note(velocity=vel, pitch=pitch, start=float(start),
                                       end=float(min(start + max(dur, 0.05), clip_end + 0.5))))


def _swing(pos: float, swing: bool) -> float:
    """Delay off-beat eighth notes to the last triplet of the beat."""
    if swing and abs((pos % 1.0) - 0.5) < 1e-6:
        return pos - 0.5 + SW
    return pos


def _place(center: int, pc: int) -> int:
    """The pitch of pitch class ``pc`` closest to ``center``."""
    base = center - ((center - pc) % 12)
    return base if center - base <= 6 else base + 12


def compose(style_name: str, rng: np.random.Generator, seconds: float = 5.0,
            melodies: list[dict] | None = None) -> Composition:
    """Compose one clip of ``style_name``; all randomness comes from ``rng``."""
    st = STYLES[style_name]
    tempo = float(rng.integers(st.tempo[0], st.tempo[1] + 1))
    spb = 60.0 / tempo
    n_beats = int(math.ceil(seconds / spb)) + 1
    tonic = int(rng.integers(0, 12))
    mode = "major" if rng.random() < st.p_major else "minor"
    loud = rng.random() < st.p_loud
    dynamics = "loud" if loud else "soft"
    base_vel = 100 if loud else 48
    has_drums = rng.random() < st.p_drums
    melody_source = "composed"

    tune = None
    if st.melody_rhythm == "folk" and melodies:
        tune = melodies[int(rng.integers(0, len(melodies)))]
        mode = tune["mode"]  # the tune decides the mode that is heard
        melody_source = f"music21:{tune['title'] or 'untitled'}"

    fam = st.progressions[0] if mode == "major" else st.progressions[1]
    prog_list = PROGRESSIONS[fam]
    progression = prog_list[int(rng.integers(0, len(prog_list)))]
    beats_per_chord = 2 if tempo < 90 else 4
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE

    # Instruments: melody and harmony are different programs.
    use_melody = rng.random() < st.p_melody or tune is not None
    use_bass = rng.random() < st.p_bass
    harmony_name = st.harmony[int(rng.integers(0, len(st.harmony)))]
    melody_pool = [m for m in st.melody if m != harmony_name]
    melody_name = melody_pool[int(rng.integers(0, len(melody_pool)))] if use_melody else None
    bass_pool = [b for b in st.bass if b not in (harmony_name, melody_name)]
    bass_name = bass_pool[int(rng.integers(0, len(bass_pool)))] if use_bass and bass_pool else None

    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    clip_end = seconds

    def t(beat: float) -> float:
        return beat * spb

    def chord_at(beat: float):
        idx = int(beat // beats_per_chord) % len(progression)
        return progression[idx]

    def chords(center: int):
        """(first beat, root pitch placed near ``center``, chord shape) of each chord."""
        for b0 in range(0, n_beats, beats_per_chord):
            root, quality = chord_at(b0)
            yield b0, _place(center, (tonic + root) % 12), CHORD_SHAPES[quality]

    # ---- harmony
    harm = pretty_midi.Instrument(program=PROGRAM_OF[harmony_name], name=harmony_name)
    comp_style = st.comping[int(rng.integers(0, len(st.comping)))]
    for b0, root_pitch, shape in chords(55):
        pitches = [root_pitch + s for s in shape]
        span = beats_per_chord
        v = base_vel * 0.8
        if comp_style == "power":
            for b in range(span):
                for p in (root_pitch - 12, root_pitch - 5, root_pitch):
                    _note(harm, p, t(b0 + b), spb * 0.9, v + rng.normal(0, 4), clip_end)
        elif comp_style == "block8":
            for i in range(span * 2):
                for p in pitches[:3]:
                    _note(harm, p, t(b0 + i / 2), spb * 0.45, v * (1.0 if i % 2 == 0 else 0.8), clip_end)
        elif comp_style == "block":
            for b in range(span):
                for p in pitches:
                    _note(harm, p, t(b0 + b), spb * 0.8, v, clip_end)
        elif comp_style == "comp":
            hits = [0.0] + ([1.5] if rng.random() < 0.7 else []) + ([2.5 + SW - 0.5] if span > 2 else [])
            for h in hits:
                if h < span:
                    for p in pitches:
                        _note(harm, p, t(b0 + h), spb * 0.6, v * 0.9, clip_end)
        elif comp_style == "shuffle_comp":
            for b in range(span):
                for o in (0, SW):
                    for p in pitches[:3]:
                        _note(harm, p, t(b0 + b + o), spb * 0.3, v * (0.9 if o == 0 else 0.7), clip_end)
        elif comp_style in ("arpeggio", "arpeggio16"):
            step = 0.5 if comp_style == "arpeggio" else 0.25
            seq = pitches + [pitches[0] + 12] + pitches[1:][::-1]
            for i in range(int(span / step)):
                _note(harm, seq[i % len(seq)], t(b0 + i * step), spb * step * 1.5, v * 0.8, clip_end)
        elif comp_style == "alberti":
            lo, mid, hi = pitches[0], pitches[2 % len(pitches)], pitches[1]
            for i, p in enumerate([lo, mid, hi, mid] * span):
                if i * 0.5 < span:
                    _note(harm, p, t(b0 + i * 0.5), spb * 0.5, v * 0.75, clip_end)
        elif comp_style == "strum":
            for b in range(0, span, 1):
                for j, p in enumerate(pitches + [pitches[0] + 12]):
                    _note(harm, p, t(b0 + b) + j * 0.015, spb * 0.9, v * (1.0 if b % 2 == 0 else 0.75), clip_end)
        elif comp_style == "offbeat":
            for b in range(span):
                for p in pitches:
                    _note(harm, p, t(b0 + b + 0.5), spb * 0.4, v, clip_end)
        elif comp_style == "stabs":
            for h in (0.0, 1.5 + (SW - 0.5)):
                if h < span:
                    for p in pitches:
                        _note(harm, p, t(b0 + h), spb * 0.5, v, clip_end)
        else:  # sustain
            for p in pitches:
                _note(harm, p, t(b0), t(span) * 0.98, v * 0.8, clip_end)
    pm.instruments.append(harm)

    # ---- bass
    if bass_name:
        bass = pretty_midi.Instrument(program=PROGRAM_OF[bass_name], name=bass_name)
        line = st.bass_line[int(rng.integers(0, len(st.bass_line)))]
        for b0, r, shape in chords(40):
            v = base_vel * 0.9
            if line == "eighths":
                for i in range(beats_per_chord * 2):
                    _note(bass, r, t(b0 + i / 2), spb * 0.45, v, clip_end)
            elif line == "walking":
                tones = [r, r + shape[1], r + shape[2], r + shape[1] + (1 if rng.random() < 0.5 else -1)]
                for b in range(beats_per_chord):
                    _note(bass, tones[b % 4], t(b0 + b), spb * 0.9, v, clip_end)
            elif line == "boogie":
                pat = [r, r + 7, r + 9, r + 7]
                for b in range(beats_per_chord):
                    _note(bass, pat[b % 4], t(b0 + b), spb * 0.6, v, clip_end)
                    _note(bass, pat[b % 4], t(b0 + b + SW), spb * 0.3, v * 0.7, clip_end)
            elif line == "quarters":
                for b in range(beats_per_chord):
                    _note(bass, r if b % 2 == 0 else r + 7, t(b0 + b), spb * 0.9, v * 0.8, clip_end)
            elif line == "root_fifth":
                for b in range(beats_per_chord):
                    _note(bass, r if b % 2 == 0 else r + 7 - 12, t(b0 + b), spb * 0.8, v * 0.8, clip_end)
            elif line == "offbeat8":
                for b in range(beats_per_chord):
                    _note(bass, r, t(b0 + b + 0.5), spb * 0.4, v, clip_end)
            elif line == "syncopated":
                for h, d in ((0, 1.2), (1.75, 0.5), (2.5, 1.0)):
                    if h < beats_per_chord:
                        _note(bass, r, t(b0 + h), spb * d, v, clip_end)
            else:  # sustain
                _note(bass, r, t(b0), t(beats_per_chord) * 0.98, v * 0.8, clip_end)
        pm.instruments.append(bass)

    # ---- melody
    if melody_name:
        mel = pretty_midi.Instrument(program=PROGRAM_OF[melody_name], name=melody_name)
        v = base_vel * (1.0 if loud else 1.1)
        if tune is not None:
            shift = (tonic - tune["final_pc"]) % 12
            pitches = [p + shift for p, _, _ in tune["notes"]]
            # Move the whole tune into a comfortable octave for the instrument.
            center = 76 if melody_name in ("flute", "violin") else 70
            octave = int(round((center - float(np.mean(pitches))) / 12.0))
            beat_scale = 1.0 if tempo < 110 else 2.0  # fast tempos: quarter note = half beat
            start_q = tune["notes"][0][1]
            for (p, o, d) in tune["notes"]:
                beat = (o - start_q) / beat_scale
                if t(beat) >= clip_end:
                    break
                _note(mel, p + shift + 12 * octave, t(beat), t(d / beat_scale) * 0.95,
                      v + rng.normal(0, 5), clip_end)
        else:
            rhythm = st.melody_rhythm if st.melody_rhythm != "folk" else "straight"
            durations = {"straight": [0.5, 0.5, 1.0, 1.0, 0.25, 0.25, 1.5, 2.0],
                         "swing": [0.5, 0.5, 0.5, 1.0, 1.0, 1.5],
                         "long": [2.0, 3.0, 4.0, 1.0]}[rhythm]
            degree = int(rng.integers(0, 7))
            octave_base = _place(67, tonic) if melody_name not in ("cello",) else _place(55, tonic)
            beat = 0.0
            while t(beat) < clip_end:
                d = float(durations[int(rng.integers(0, len(durations)))])
                # On strong beats, lean towards a chord tone.
                root, quality = chord_at(beat)
                if abs(beat - round(beat)) < 1e-6 and rng.random() < 0.6:
                    chord_pcs = [(root + s) % 12 for s in CHORD_SHAPES[quality]]
                    cands = [i for i in range(-3, 10) if scale[i % 7] in chord_pcs]
                    degree = min(cands, key=lambda i: abs(i - degree) + rng.random())
                else:
                    degree += int(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3]))
                degree = int(np.clip(degree, -3, 9))
                pitch = octave_base + scale[degree % 7] + 12 * (degree // 7)
                if rng.random() < 0.1:  # a rest
                    beat += d
                    continue
                start = t(_swing(beat, st.swing))
                _note(mel, pitch, start, t(d) * 0.9, v + rng.normal(0, 6), clip_end)
                beat += d
        pm.instruments.append(mel)

    # ---- drums
    pattern_name = None
    if has_drums:
        pattern_name = st.drum_patterns[int(rng.integers(0, len(st.drum_patterns)))]
        kit = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
        pattern = DRUM_PATTERNS[pattern_name]
        for bar in range(0, n_beats, 4):
            for pos, note, rel in pattern:
                _note(kit, note, t(bar + pos), 0.1, base_vel * rel + rng.normal(0, 4), clip_end)
        if rng.random() < 0.3:
            _note(kit, CRASH, 0.0, 0.5, base_vel * 0.8, clip_end)
        pm.instruments.append(kit)

    programs = sorted({i.program for i in pm.instruments if not i.is_drum and i.notes})
    pm.instruments = [i for i in pm.instruments if i.notes]
    return Composition(
        midi=pm, style=style_name, tempo=tempo, key=PITCH_NAMES[tonic], mode=mode,
        programs=programs, drums=has_drums and any(i.is_drum for i in pm.instruments),
        dynamics=dynamics, melody_source=melody_source,
        params={"progression": fam, "comping": comp_style, "drum_pattern": pattern_name},
    )
