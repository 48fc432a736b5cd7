"""musictext.train: seeding, the one training loop, section timing and checkpoints."""
from __future__ import annotations

import pytest
import torch

from musictext.train import Stopwatch, fit, load_checkpoint, save_checkpoint, seed_everything


def test_checkpoints_round_trip_and_hash_check(tmp_path):
    seed_everything(1)
    m = torch.nn.Linear(4, 3)
    path = save_checkpoint(m, tmp_path / "m.safetensors", {"in": 4})
    m2 = torch.nn.Linear(4, 3)
    assert load_checkpoint(m2, path) == {"in": 4}
    assert torch.equal(m.weight, m2.weight)
    with pytest.raises(RuntimeError, match="SHA-256"):
        load_checkpoint(m2, path, sha256="0" * 64)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(m2, tmp_path / "missing.safetensors")


def test_seeding_is_repeatable():
    seed_everything(3)
    a = torch.randn(5)
    seed_everything(3)
    assert torch.equal(a, torch.randn(5))


def _toy_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    return x, y


def _draw(x, y):
    def batches(step, g):
        idx = torch.randint(0, len(x), (16,), generator=g)
        return x[idx], y[idx]
    return batches


def _mse(m, b):
    return torch.nn.functional.mse_loss(m(b[0]).squeeze(-1), b[1])


def test_fit_learns_repeats_and_keeps_an_ema(capsys):
    x, y = _toy_problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = torch.nn.Linear(3, 1)
        runs.append(fit(model, _mse, _draw(x, y), 200, lr=0.05, ema_decay=0.9, seed=3, log_every=50))
    a, b = runs
    assert a.losses == b.losses                                   # seeded: the same run twice
    assert a.losses[-1] < 0.05 * a.losses[0]                      # it learns
    assert a.model is not None and not a.model.training and a.seconds > 0
    assert capsys.readouterr().out.count("step ") == 8            # 4 lines a run


def test_fit_hooks_threads_and_silence(capsys):
    x, y = _toy_problem()
    seen, clamps = [], []
    before = torch.get_num_threads()
    fit(torch.nn.Linear(3, 1), _mse, _draw(x, y), 10, threads=1, log_every=0,
        after_step=lambda m: clamps.append(1), on_step=lambda s, m, losses: seen.append((s, len(losses))),
        on_steps={4, 10})
    assert seen == [(4, 4), (10, 10)] and len(clamps) == 10
    assert torch.get_num_threads() == before and capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="steps"):
        fit(torch.nn.Linear(3, 1), _mse, _draw(x, y), 0)


def test_fit_takes_a_list_of_batches_and_a_generator():
    x, y = _toy_problem()
    batches = [(x[:32], y[:32]), (x[32:], y[32:])]
    g = torch.Generator().manual_seed(0)
    res = fit(torch.nn.Linear(3, 1), _mse, batches, 6, generator=g, log_every=0, fused=False)
    assert len(res.losses) == 6


def test_stopwatch_adds_laps(capsys):
    clock = Stopwatch()
    clock.lap("a")
    clock.lap("b")
    clock.lap("a")
    assert list(clock.laps) == ["a", "b"] and clock.total >= 0
    clock.report()
    assert capsys.readouterr().out.splitlines()[-1].startswith("total")
