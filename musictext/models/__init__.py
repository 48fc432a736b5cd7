"""The reference models that chapters and the command line share, one module
per chapter: ``tagging`` (the reference tagger), ``retrieval`` (the joint
text-audio embedding) and ``generation`` (the shipped generator).

Every module has the same shape:

- ``Config``, a dataclass with the architecture and the training recipe;
- the ``nn.Module`` and its loss;
- ``load(path=None, sha256=SHA256)``, which verifies the checkpoint;
- ``pretrain(out_dir, cfg=None)``, which reproduces it on ``musictext.train.fit``;
- ``CHECKPOINT``, the name of its file in ``musictext/checkpoints/``.

The model each chapter *teaches* is written out in that chapter's notebook.
``chapter_modules()`` finds these modules, so no list of them is kept anywhere.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["chapter_modules"]


def chapter_modules() -> dict[str, ModuleType]:
    """{module name: module} for every module of this package that has a
    ``pretrain`` function and a ``CHECKPOINT`` name, sorted by name."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(mod, "pretrain", None)) and isinstance(getattr(mod, "CHECKPOINT", None), str):
            found[info.name] = mod
    return found
