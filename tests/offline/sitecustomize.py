# Put on PYTHONPATH by tests/conftest.py so that every Python process the tests
# start (notebook kernels, the data-build command) refuses network access.
import os

if os.environ.get("MUSICTEXT_OFFLINE_GUARD") == "1":
    try:
        from musictext import _offline

        _offline.install()
    except Exception:  # pragma: no cover
        pass
