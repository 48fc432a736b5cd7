"""musictext.models.generation: sampler and guidance math on tiny models, the
text statistics, the vocoder round trip, the shipped checkpoint's SHA-256 check
and a reproducible pretrain."""
from __future__ import annotations


import pytest
import torch

from musictext.models import generation as gen
from musictext.paths import checkpoint_path
from musictext.text import sha256_file

CHECKPOINT = checkpoint_path(gen.CHECKPOINT)


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
    model = gen.GeneratorUNet(n_mels=8, stack=2, channels=(16, 16), text_dim=12, cond_dim=16, heads=2,
                              blocks=2, io_kernel=3)
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


def test_checkpoint_is_small_and_carries_its_history():
    assert CHECKPOINT.stat().st_size < 30e6
    model = gen.load()
    cfg = model.training_config
    assert cfg["model"] == gen.Config().architecture() and cfg["steps"] == gen.Config().steps
    steps = [h["step"] for h in cfg["history"]]
    assert steps == sorted(steps) and steps[-1] == cfg["steps"]
    assert cfg["history"][-1]["all"] > cfg["history"][0]["all"]   # it learned the prompts




def test_text_statistics_ignore_padding():
    tokens = torch.tensor([[[1.0, 2.0], [3.0, 2.0], [99.0, 99.0]]])
    mask = torch.tensor([[True, True, False]])
    mean, std = gen.text_statistics(tokens, mask, floor=0.5)
    assert torch.allclose(mean, torch.tensor([2.0, 2.0]))
    assert torch.allclose(std, torch.tensor([2 ** 0.5, 0.5]))          # the second is floored
    with pytest.raises(ValueError, match="two real tokens"):
        gen.text_statistics(tokens, torch.tensor([[True, False, False]]))


def test_generate_logmels_is_seeded_and_batched():
    torch.manual_seed(0)
    model = gen.GeneratorUNet(n_mels=8, stack=2, channels=(16, 16), text_dim=12, cond_dim=16,
                              heads=2).eval()
    tokens, mask = torch.randn(5, 3, 12), torch.ones(5, 3, dtype=torch.bool)
    a = gen.generate_logmels(model, tokens, mask, frames=10, steps=2, seed=4, batch=2)
    b = gen.generate_logmels(model, tokens, mask, frames=10, steps=2, seed=4, batch=2)
    assert a.shape == (5, 8, 10) and torch.equal(a, b)
    assert not torch.equal(a, gen.generate_logmels(model, tokens, mask, frames=10, steps=2, seed=5))


def test_vocoder_roundtrip_keeps_the_shape_and_the_sound():
    from musictext.audio import LogMel

    t = torch.arange(32000) / 16000
    logmel = LogMel()(0.3 * torch.sin(2 * torch.pi * 440 * t))[None]   # (1, 64, frames)
    back = gen.vocoder_roundtrip(logmel, n_iter=8)
    assert back.shape == logmel.shape
    assert back[0].mean(1).argmax() == logmel[0].mean(1).argmax()      # the same loudest band


def test_pretrain_repeats_on_a_tiny_build(tiny_data, tmp_path):
    cfg = gen.Config(steps=4, batch=4, history_steps=(2,), judge_prompts=3)
    a = gen.pretrain(tmp_path / "a", cfg, root=tiny_data, verbose=False)
    b = gen.pretrain(tmp_path / "b", cfg, root=tiny_data, verbose=False)
    assert sha256_file(a) == sha256_file(b)
    history = gen.load(a, sha256=None).training_config["history"]
    assert [h["step"] for h in history] == [2, 4]
    assert all(0 <= h["all"] <= 1 for h in history)
