"""Rendering variety: several soundfonts, the effects chain, the varied build,
the SF3 converter and the shifted test sets."""
from __future__ import annotations

import json
import struct

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from musictext.audio import SAMPLE_RATE
from musictext.data import build_dataset, read_manifest
from musictext.data import effects as fx
from musictext.data import render
from musictext.data.sf3 import SoundfontError, sf3_to_sf2
from musictext.data.shifted import bach_chorales, chorale_clips, chorale_midi, rerendered, shifted_split
from musictext.data.vocab import INSTRUMENTS, PROGRAM_OF


def _notes(program: int = 0, drums: bool = True) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    for k, p in enumerate([60, 64, 67, 72]):
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=p, start=0.4 * k, end=0.4 * k + 0.5))
    pm.instruments.append(inst)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes += [pretty_midi.Note(velocity=90, pitch=36, start=0.5 * k, end=0.5 * k + 0.1)
                      for k in range(4)]
        pm.instruments.append(kit)
    return pm


def _neutral(**kw) -> fx.Effects:
    base = dict(detune_cents=0.0, tilt_db_per_octave=0.0, reverb_mix=0.0, reverb_seconds=0.5,
                compress_ratio=1.0, noise_dbfs=-400.0, gain_db=0.0, seed=1)
    return fx.Effects(**{**base, **kw})


def test_every_listed_soundfont_is_installed_and_general_midi():
    assert render.DEFAULT_SOUNDFONT in render.TRAIN_SOUNDFONTS
    assert render.HELDOUT_SOUNDFONT not in render.TRAIN_SOUNDFONTS
    for name, font in render.SOUNDFONTS.items():
        assert font.licence, name
        data = render._soundfont_bytes(name)
        assert data[:4] == b"RIFF" and data[8:12] == b"sfbk", name
        # the preset headers (phdr) list bank 0 programs 0..127 and a drum kit in bank 128
        i = data.index(b"phdr")
        size = struct.unpack("<I", data[i + 4:i + 8])[0]
        presets = {struct.unpack("<HH", data[i + 8 + k + 20:i + 8 + k + 24])
                   for k in range(0, size - 38, 38)}
        assert {(p, 0) for p in range(128)} <= presets, name
        assert any(bank == 128 for _, bank in presets), name


def test_unknown_soundfont_is_named():
    with pytest.raises(ValueError, match="unknown soundfont 'nope'"):
        render.render_midi(_notes(), seconds=1.0, soundfont="nope")


def test_soundfonts_sound_different_and_equally_loud():
    out = {n: render.render_midi(_notes(40), seconds=2.0, soundfont=n) for n in render.SOUNDFONTS}
    rms = {n: float(np.sqrt(np.mean(x ** 2))) for n, x in out.items()}
    names = list(out)
    for a in names:
        assert out[a].shape == (2 * SAMPLE_RATE,) and np.abs(out[a]).max() < 1.0
        for b in names[names.index(a) + 1:]:
            assert np.abs(out[a] - out[b]).mean() > 0.2 * (rms[a] + rms[b]) / 2, (a, b)
    assert max(rms.values()) / min(rms.values()) < 2.5, rms


def test_sf3_converter_keeps_an_sf2_and_rejects_other_files():
    tim = render._soundfont_bytes("TimGM6mb")
    again = sf3_to_sf2(tim)
    import midirenderer

    midi = render.midi_bytes(_notes(73))
    assert midirenderer.render_wave_from(again, midi) == midirenderer.render_wave_from(tim, midi)
    with pytest.raises(SoundfontError, match="not a SoundFont"):
        sf3_to_sf2(b"RIFF\0\0\0\0WAVEfmt ")
    with pytest.raises(SoundfontError, match="INFO, sdta and pdta"):
        sf3_to_sf2(b"RIFF\4\0\0\0sfbk")


def test_sf3_samples_decode_with_loops_inside_them():
    """GeneralUser GS ships as SF3; its converted sample headers point inside
    the new sample data and keep every loop inside its sample."""
    data = render._soundfont_bytes("GeneralUserGS")
    i = data.index(b"shdr")
    size = struct.unpack("<I", data[i + 4:i + 8])[0]
    j = data.index(b"smpl")
    frames = struct.unpack("<I", data[j + 4:j + 8])[0] // 2
    n_bad = 0
    for k in range(0, size - 46, 46):
        start, end, ls, le, rate = struct.unpack("<5I", data[i + 8 + k + 20:i + 8 + k + 40])
        kind = struct.unpack("<H", data[i + 8 + k + 44:i + 8 + k + 46])[0]
        assert not kind & 0x10 and 0 <= start < end <= frames and 8000 <= rate <= 96000
        n_bad += not (start <= ls <= le <= end + 1)
    assert size // 46 > 500 and n_bad == 0


def test_effects_are_seeded_and_recorded():
    a, b = fx.draw_effects(np.random.default_rng(3)), fx.draw_effects(np.random.default_rng(3))
    assert a == b and a != fx.draw_effects(np.random.default_rng(4))
    d = a.to_dict()
    assert set(d) == {"detune_cents", "tilt_db_per_octave", "reverb_mix", "reverb_seconds",
                      "compress_ratio", "noise_dbfs", "gain_db", "seed"}
    assert fx.DETUNE_CENTS[0] <= d["detune_cents"] <= fx.DETUNE_CENTS[1]
    x = render.render_midi(_notes(), seconds=2.0)
    assert np.array_equal(fx.apply_effects(x, a, SAMPLE_RATE), fx.apply_effects(x, a, SAMPLE_RATE))


def test_each_effect_does_what_it_says():
    x = render.render_midi(_notes(), seconds=2.0).astype(np.float64)
    assert np.allclose(fx.apply_effects(x, _neutral(), SAMPLE_RATE), x, atol=1e-9)
    assert np.allclose(fx.apply_effects(x, _neutral(gain_db=-6.0), SAMPLE_RATE), x * 10 ** (-0.3))
    spec = lambda y: np.abs(np.fft.rfft(y)) ** 2           # noqa: E731
    f = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    hi = lambda y: spec(y)[f > 2000].sum() / spec(y)[f < 500].sum()   # noqa: E731
    assert hi(fx.apply_effects(x, _neutral(tilt_db_per_octave=1.0), SAMPLE_RATE)) > 1.5 * hi(x)
    wet = fx.apply_effects(x, _neutral(reverb_mix=0.3, reverb_seconds=0.8), SAMPLE_RATE)
    tail = slice(int(1.7 * SAMPLE_RATE), None)                # after the last note has died
    assert np.abs(wet[tail]).mean() > 2 * np.abs(x[tail]).mean()
    hot = 3 * x                                               # peaks at about -0.5 dBFS
    loud = fx.apply_effects(hot, _neutral(compress_ratio=3.0), SAMPLE_RATE)
    assert np.abs(loud).max() < 0.8 * np.abs(hot).max()
    assert np.allclose(fx.apply_effects(0.1 * x, _neutral(compress_ratio=3.0), SAMPLE_RATE), 0.1 * x)
    noisy = fx.apply_effects(np.zeros(16000), _neutral(noise_dbfs=-60.0), SAMPLE_RATE)
    assert 20 * np.log10(np.sqrt(np.mean(noisy ** 2))) == pytest.approx(-60.0, abs=0.3)


def test_detune_bends_melodic_parts_only():
    pm = fx.detune(_notes(), 25.0)
    melodic, kit = pm.instruments
    assert [b.pitch for b in melodic.pitch_bends] == [1024] and kit.pitch_bends == []
    with pytest.raises(ValueError, match="within"):
        fx.detune(_notes(), 250.0)


def test_varied_build_same_music_other_sound(tiny_data, tmp_path):
    varied = build_dataset(tmp_path / "v", clips=24, seed=5, workers=1, progress=False, varied=True)
    plain, other = read_manifest(tiny_data), read_manifest(varied)
    assert all("render" not in r for r in plain)
    keys = ("id", "split", "tags", "captions", "programs")
    assert [[r[k] for k in keys] for r in plain] == [[r[k] for k in keys] for r in other]
    fonts = {r["render"]["soundfont"] for r in other}
    assert fonts <= set(render.TRAIN_SOUNDFONTS) and len(fonts) > 1
    assert all(set(r["render"]["effects"]) >= {"reverb_mix", "detune_cents"} for r in other)
    a, _ = sf.read(tiny_data / plain[0]["audio"])
    b, _ = sf.read(varied / other[0]["audio"])
    assert a.shape == b.shape and not np.allclose(a, b)
    again = build_dataset(tmp_path / "w", clips=24, seed=5, workers=2, progress=False, varied=True)
    assert (again / "manifest.jsonl").read_bytes() == (varied / "manifest.jsonl").read_bytes()
    assert (again / other[3]["audio"]).read_bytes() == (varied / other[3]["audio"]).read_bytes()


def test_shifted_split_rerenders_once(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path / "cache"))
    out = shifted_split(tiny_data, "test")
    recs, orig = read_manifest(out, "test"), read_manifest(tiny_data, "test")
    assert [r["id"] for r in recs] == [r["id"] for r in orig] and len(recs) > 0
    assert all(r["render"] == {"soundfont": render.HELDOUT_SOUNDFONT} for r in recs)
    assert [r["tags"] for r in recs] == [r["tags"] for r in orig]
    a, _ = sf.read(out / recs[0]["audio"])
    b, _ = sf.read(tiny_data / orig[0]["audio"])
    assert a.shape == b.shape and not np.allclose(a, b)
    stamp = (out / recs[0]["audio"]).stat().st_mtime_ns
    assert shifted_split(tiny_data, "test") == out
    assert (out / recs[0]["audio"]).stat().st_mtime_ns == stamp
    assert json.loads((out / "BUILD_COMPLETE.json").read_text())["soundfont"] == render.HELDOUT_SOUNDFONT
    from musictext.data import SynthCaps

    again = rerendered(SynthCaps(tiny_data, "test"))
    assert again.root == out and [r["id"] for r in again.records] == [r["id"] for r in recs]
    with pytest.raises(ValueError, match="needs one split of a SynthCaps build"):
        rerendered(SynthCaps(tiny_data, None))
    with pytest.raises(ValueError, match="unknown soundfont"):
        shifted_split(tiny_data, "test", soundfont="nope")
    with pytest.raises(FileNotFoundError, match="not a built SynthCaps folder"):
        shifted_split(tmp_path, "test")


def test_chorales_one_known_instrument_each(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICTEXT_CACHE", str(tmp_path / "cache"))
    chorales = bach_chorales(3)
    assert len(chorales) == 3 and all(len(c["notes"]) > 20 for c in chorales)
    assert bach_chorales(3) == chorales
    clips = chorale_clips("TimGM6mb", n=3)
    assert clips["audio"].shape == (3, 5 * SAMPLE_RATE)
    assert clips["instrument"] == list(INSTRUMENTS.values())[:3]
    assert all(np.sqrt(np.mean(a ** 2)) > 0.01 for a in clips["audio"])
    pm = chorale_midi(chorales[0]["notes"], "acoustic bass", 80.0)
    (inst,) = pm.instruments
    assert inst.program == PROGRAM_OF["acoustic bass"]
    assert [n.pitch for n in inst.notes] == [p - 12 for p, _, _ in chorales[0]["notes"]]
    with pytest.raises(ValueError, match="not an instrument tag"):
        chorale_midi(chorales[0]["notes"], "kazoo", 80.0)
