"""musictext.audio: loading, validation, the log-mel front end, the one
windowing rule and the players."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from musictext import audio
from musictext.audio import AudioError, LogMel, load_audio, validate_waveform, windows


def test_load_audio_converts_rate_and_channels(tmp_path):
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (48000, 2))
    sf.write(tmp_path / "s.wav", x, 48000)
    y = load_audio(tmp_path / "s.wav")
    assert y.shape == (16000,) and y.dtype == torch.float32
    assert load_audio(tmp_path / "s.wav", seconds=2.0).shape == (32000,)


def test_audio_errors_name_file_and_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.wav"):
        load_audio(tmp_path / "nothing.wav")
    (tmp_path / "fake.wav").write_text("this is not audio")
    with pytest.raises(AudioError, match="fake.wav.*not a readable audio file"):
        load_audio(tmp_path / "fake.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_audio(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1] * 100), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav.*NaN"):
        load_audio(tmp_path / "nan.wav")
    sf.write(tmp_path / "short.wav", np.zeros(800), 16000)
    with pytest.raises(AudioError, match="short.wav.*shorter than the 1.00 s"):
        load_audio(tmp_path / "short.wav", min_seconds=1.0)
    with pytest.raises(AudioError, match="folder"):
        load_audio(tmp_path)


def test_validate_waveform_errors():
    with pytest.raises(AudioError, match="shape"):
        validate_waveform(torch.zeros(2, 3, 4))
    with pytest.raises(AudioError, match="22050 Hz"):
        validate_waveform(torch.zeros(100), sample_rate=22050)
    with pytest.raises(AudioError, match="numpy array or torch tensor"):
        validate_waveform([0.0, 1.0])
    assert validate_waveform(np.zeros((1, 50))).shape == (50,)


def test_logmel_shapes_and_errors():
    fe = LogMel()
    y = fe(torch.randn(3, 80000) * 0.1)
    assert y.shape == (3, fe.n_mels, fe.frames(80000))
    assert fe(torch.zeros(16000)).max() <= np.log(1e-5) + 1e-3  # silence sits at log(eps)
    with pytest.raises(AudioError, match="shape"):
        fe(torch.zeros(1, 1, 16000))
    with pytest.raises(AudioError, match="at least 1024"):
        fe(torch.zeros(100))


def test_players_render_wav_html():
    p = audio.players([(np.zeros(1600), "silence <1>"), (torch.zeros(1600), None)])
    html = p._repr_html_()
    assert html.count("<audio") == 2 and "data:audio/mpeg;base64," in html and "silence &lt;1&gt;" in html
    assert "data:audio/wav;base64," in audio.players([(np.zeros(1600), "x")], fmt="wav")._repr_html_()
    assert audio.wav_bytes(np.zeros(10))[:4] == b"RIFF"
    tone = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32) * 0.5
    assert audio.mp3_bytes(tone) == audio.mp3_bytes(tone)  # deterministic, so notebooks compare under nbval
    with pytest.raises(ValueError, match="fmt"):
        audio.player_html(tone, fmt="aac")


def test_windows_pad_short_clips_and_overlap_long_ones():
    short = windows(torch.ones(16000))
    assert short.shape == (1, 80000) and short[0, 16000:].abs().sum() == 0
    w = windows(torch.arange(16000 * 12, dtype=torch.float32))        # 12 s
    assert w.shape == (4, 80000)                                       # 0, 2.5, 5 and 7 s (end-aligned)
    assert w[1, 0] == 40000 and w[-1, -1] == 16000 * 12 - 1
    assert windows(torch.ones(80000)).shape == (1, 80000)
    with pytest.raises(AudioError, match="at least 1.0 s"):
        windows(torch.ones(8000), min_seconds=1.0)
    with pytest.raises(AudioError, match="mono"):
        windows(torch.ones(2, 16000))


def test_logmel_settings_are_its_defaults():
    s = LogMel().settings()
    assert s == {"sample_rate": audio.SAMPLE_RATE, "n_fft": 1024, "hop_length": 256, "n_mels": 64,
                 "f_min": 20.0, "f_max": 8000.0, "eps": 1e-5}
    assert LogMel(n_mels=32).settings()["n_mels"] == 32
