"""The generator: sampler and guidance math on tiny models, the shipped
checkpoint's SHA-256 check, and the ``generate`` command."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from musictext.__main__ import main
from musictext.reference import generator as gen
from musictext.text import sha256_file

HAVE_CKPT = gen.GENERATOR_CHECKPOINT.exists()
needs_ckpt = pytest.mark.skipif(not HAVE_CKPT, reason="generator checkpoint not built")


class ConstantDenoiser(torch.nn.Module):
    """Predicts the clean signal `a` when it sees the text and `b` when the text is dropped."""

    def __init__(self, a: float, b: float, n_mels: int = 4):
        super().__init__()
        self.a, self.b = a, b
        self.config = {"n_mels": n_mels}

    def text_context(self, tokens, mask, drop=None):
        B = tokens.shape[0]
        dropped = torch.zeros(B, dtype=torch.bool) if drop is None else drop
        return tokens, mask, dropped.float()[:, None]

    def forward(self, x, t, keys, key_pad, pooled):
        dropped = pooled[:, :1, None]
        return torch.where(dropped > 0, torch.full_like(x, self.b), torch.full_like(x, self.a))


def test_guidance_combination():
    c, u = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 1.0])
    assert torch.equal(gen.guided_prediction(c, u, 1.0), c)
    assert torch.equal(gen.guided_prediction(c, u, 0.0), u)
    assert torch.allclose(gen.guided_prediction(c, u, 3.0), torch.tensor([4.0, -5.0]))


@pytest.mark.parametrize("steps", [1, 4, 16])
@pytest.mark.parametrize("w", [0.0, 1.0, 3.0])
def test_euler_sampler_lands_on_guided_prediction(steps, w):
    # With clean-signal prediction the last Euler step (from t = 1 - dt to 1) moves x
    # exactly onto the guided prediction, whatever the noise was.
    model = ConstantDenoiser(a=2.0, b=0.5)
    tokens, mask = torch.zeros(3, 5, 8), torch.ones(3, 5, dtype=torch.bool)
    x = gen.sample(model, tokens, mask, frames=6, steps=steps, guidance=w,
                   generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 4, 6)
    assert torch.allclose(x, torch.full_like(x, 0.5 + w * (2.0 - 0.5)), atol=1e-5)


def test_euler_sampler_intermediate_step():
    # One step from t=0 to 0.5: x <- x + 0.5 * (x1_hat - x) = 0.5 * (x + x1_hat).
    model = ConstantDenoiser(a=1.0, b=1.0, n_mels=2)
    g = torch.Generator().manual_seed(3)
    noise = torch.randn(1, 2, 4, generator=torch.Generator().manual_seed(3))
    tokens, mask = torch.zeros(1, 2, 8), torch.ones(1, 2, dtype=torch.bool)
    # two steps: after the first step x = (noise + 1) / 2, the second lands on 1
    x1 = gen.sample(model, tokens, mask, frames=4, steps=2, guidance=1.0, generator=g)
    assert torch.allclose(x1, torch.ones_like(x1))
    assert noise.abs().sum() > 0


def test_tiny_unet_shapes_loss_and_condition_dropout():
    torch.manual_seed(0)
    model = gen.GeneratorUNet(n_mels=8, stack=2, channels=(16, 16), text_dim=12, cond_dim=16, heads=2)
    frames = 3 * model.frame_multiple
    x1 = torch.randn(4, 8, frames)
    tokens, mask = torch.randn(4, 5, 12), torch.ones(4, 5, dtype=torch.bool)
    mask[0, 3:] = False
    loss = gen.flow_matching_loss(model, x1, tokens, mask, p_drop=0.5, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert model.null_text.grad is not None
    keys, pad, pooled = model.text_context(tokens, mask, drop=torch.tensor([False, True, False, False]))
    assert keys.shape == (4, 6, 12) and pad.shape == (4, 6)
    assert not pad[:, 0].any()                       # the null token is always visible
    assert pad[1, 1:].all() and not pad[2, 1:].any()  # dropped row sees only the null token
    assert pad[0, 4:].all()                          # padding stays hidden
    out = gen.sample(model.eval(), tokens, mask, frames=frames, steps=2, guidance=2.0,
                     generator=torch.Generator().manual_seed(0))
    assert out.shape == (4, 8, frames) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="multiple"):
        model(torch.randn(1, 8, frames + 1), torch.zeros(1), keys[:1], pad[:1], pooled[:1])


def test_mel_to_audio_shape_and_range():
    from musictext.audio import LogMel

    t = torch.arange(16000) / 16000
    wave = 0.3 * torch.sin(2 * torch.pi * 440 * t)
    logmel = LogMel()(wave)
    y = gen.mel_to_audio(logmel, n_iter=4, length=16000)
    assert y.shape == (16000,) and y.abs().max() <= 1.0
    spec = torch.fft.rfft(y).abs()
    assert abs(int(spec.argmax()) - 440) < 20          # the pitch survives the inversion


@needs_ckpt
def test_checkpoint_sha_is_checked(tmp_path):
    assert sha256_file(gen.GENERATOR_CHECKPOINT) == gen.GENERATOR_SHA256
    bad = tmp_path / "generator.safetensors"
    shutil.copy(gen.GENERATOR_CHECKPOINT, bad)
    with open(bad, "r+b") as f:
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    with pytest.raises(RuntimeError, match="SHA-256"):
        gen.load_reference_generator(bad)
    with pytest.raises(FileNotFoundError, match="pretrain generator"):
        gen.load_reference_generator(tmp_path / "missing.safetensors")


@needs_ckpt
def test_generate_command_is_deterministic_and_writes_16k_wav(tmp_path, capsys):
    a, b, c = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    args = ["generate", "calm solo piano, slow", "--seconds", "1.5", "--steps", "4"]
    assert main(args + ["--out", str(a)]) == 0
    assert main(args + ["--out", str(b)]) == 0
    assert main(args + ["--out", str(c), "--seed", "1"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    info = sf.info(str(a))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 24000)
    data, _ = sf.read(str(a))
    assert np.abs(data).max() > 1e-3                 # not silence
    assert "a.wav" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--seconds", "0"], "--seconds must be in (0, 10]"),
    (["--seconds", "10.5"], "--seconds must be in (0, 10]"),
    (["--seconds", "nan"], "--seconds must be in (0, 10]"),
    (["--guidance", "-1"], "--guidance must be in [0, 20]"),
    (["--guidance", "25"], "--guidance must be in [0, 20]"),
    (["--seed", "-3"], "--seed must be in"),
    (["--steps", "0"], "--steps must be in [1, 200]"),
])
def test_generate_rejects_out_of_range_arguments(tmp_path, capsys, extra, message):
    assert main(["generate", "jazz trio", "--out", str(tmp_path / "x.wav")] + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("prompt", ["", "   "])
def test_generate_rejects_empty_prompt(tmp_path, capsys, prompt):
    assert main(["generate", prompt, "--out", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "prompt is empty" in err and err.count("\n") == 1


def test_generate_rejects_unwritable_outputs(tmp_path, capsys):
    cases = [(tmp_path / "no" / "such" / "dir" / "x.wav", "does not exist"),
             (tmp_path, "is a folder"),
             (tmp_path / "x.mp3", "must end in .wav")]
    for out, message in cases:
        assert main(["generate", "rock with drums", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
