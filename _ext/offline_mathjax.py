"""Serve MathJax from the built book itself, so equations render offline.

MathJax 2.7 ships in the pip package ``jupyter-server-mathjax``; this Sphinx
extension copies it to ``_static/mathjax`` in the HTML output and points
Sphinx's ``mathjax_path`` at it. Without the package, the default CDN copy is
used.
"""
from __future__ import annotations

import shutil
from pathlib import Path

# The pip package ships only the "-full" build of this combined configuration.
CONFIG = "TeX-AMS-MML_HTMLorMML-full"


def _source() -> Path | None:
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    return src if (src / "MathJax.js").exists() and (src / "config" / f"{CONFIG}.js").exists() else None


def _config_inited(app, config):
    if _source() is not None:
        config.mathjax_path = f"mathjax/MathJax.js?config={CONFIG}"
        config.mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]],
                                              "displayMath": [["\\[", "\\]"]],
                                              "processEscapes": True,
                                              # MyST marks page bodies "tex2jax_ignore"; typeset only
                                              # the math nodes (and notebook outputs) inside them
                                              "processClass": "tex2jax_process|mathjax_process|math|output_area"},
                                  # the package ships only the STIX-Web fonts (no TeX fonts)
                                  "HTML-CSS": {"availableFonts": [], "preferredFont": None,
                                               "webFont": "STIX-Web", "imageFont": None},
                                  "SVG": {"font": "STIX-Web"},
                                  "showMathMenu": False,
                                  "messageStyle": "none"}


def _copy(app, exception):
    src = _source()
    if exception is not None or src is None or app.builder.format != "html":
        return
    dst = Path(app.outdir) / "_static" / "mathjax"
    if not (dst / "MathJax.js").exists():
        shutil.copytree(src, dst, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.md", "__pycache__"))


def setup(app):
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
