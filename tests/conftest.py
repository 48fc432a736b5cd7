"""Test-suite settings: everything runs offline.

Every Python process the tests start (notebook kernels, command-line runs)
gets a network guard through ``tests/offline/sitecustomize.py``: connecting to
a non-loopback address or resolving a remote host raises and is logged, and
any logged attempt fails the test during which it happened.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_LOG = Path(tempfile.gettempdir()) / f"musictext-netlog-{os.getpid()}.txt"

os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "MUSICTEXT_OFFLINE_GUARD": "1",
    "MUSICTEXT_NET_LOG": str(_LOG),
    "PYTHONPATH": os.pathsep.join([str(_HERE / "offline")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
    "MPLBACKEND": "Agg",
})
_LOG.write_text("")

from musictext import _offline  # noqa: E402

_offline.install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    before = _LOG.stat().st_size if _LOG.exists() else 0
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or "allow_network_log" in item.keywords:
        return
    text = _LOG.read_text() if _LOG.exists() else ""
    if text:
        _LOG.write_text("")
        report.outcome = "failed"
        report.longrepr = f"network access was attempted while running {item.nodeid}:\n{text[:4000]}"
    del before


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_network_log: the test provokes the network guard on purpose")


def pytest_collection_finish(session):
    """Before any notebook runs, build what the notebooks read from the cache
    (the default SynthCaps set, its melodies and features), quietly, and say so
    in one line. A notebook then prints the same on a new machine as on one
    that already had the cache. Skipped when no notebook was collected."""
    if session.config.option.collectonly or not any(
            str(item.fspath).endswith(".ipynb") for item in session.items):
        return
    from musictext.data import prepare_caches
    from musictext.paths import display_path

    done = prepare_caches(progress=False)
    what = "built" if done["built"] else "found"
    line = (f"musictext: {what} the notebooks' data in {display_path(done['root'])} "
            f"({done['seconds']:.0f} s)")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """A 24-clip SynthCaps build shared by the unit tests."""
    from musictext.data import build_dataset

    root = tmp_path_factory.mktemp("synthcaps") / "tiny"
    build_dataset(root, clips=24, seed=5, workers=2, progress=False)
    return root


@pytest.fixture(scope="session")
def tiny16(tmp_path_factory) -> Path:
    """A 16-clip SynthCaps build (a folder with manifest.jsonl) for search tests."""
    from musictext.data import build_dataset

    root = tmp_path_factory.mktemp("retrieval") / "tiny16"
    build_dataset(root, clips=16, seed=3, workers=2, progress=False)
    return root


def tone(freq: float, seconds: float, rate: int, channels: int = 1, seed: int = 0):
    """A sine tone with a little noise: (T,) or (T, channels) float32."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * np.random.default_rng(seed).standard_normal(len(t))
    return np.stack([x] * channels, axis=1).astype(np.float32) if channels > 1 else x.astype(np.float32)


@pytest.fixture()
def wav_folder(tmp_path) -> Path:
    """Plain audio files: different rates, channels and lengths, in nested folders."""
    import soundfile as sf

    folder = tmp_path / "my music"
    (folder / "sub" / "deeper").mkdir(parents=True)
    sf.write(folder / "a_low.wav", tone(110, 5.0, 16000), 16000)
    sf.write(folder / "sub" / "b_high.wav", tone(1760, 3.0, 44100, channels=2, seed=1), 44100)
    sf.write(folder / "sub" / "deeper" / "c_long.flac", tone(440, 12.0, 22050, seed=2), 22050)
    (folder / "notes.txt").write_text("not audio")
    return folder


@pytest.fixture()
def cli(capsys):
    """Run ``python -m musictext ARGS`` in-process: returns (exit code, stdout, stderr)."""
    from musictext.__main__ import main

    def run(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    """A bad input is exit code 2 and one 'error: ...' line that says what is wrong."""
    assert code == 2 and out == "", (code, out)
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err
