# Put on PYTHONPATH by tests/conftest.py so that every Python process the tests
# start (notebook kernels, command-line runs) refuses network access, whether
# or not it imports musictext.
import os

if os.environ.get("MUSICTEXT_OFFLINE_GUARD") == "1":
    import importlib.util

    _path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "musictext", "_offline.py")
    _spec = importlib.util.spec_from_file_location("musictext_offline_guard", _path)
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    _mod.install()
