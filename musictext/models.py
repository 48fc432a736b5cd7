"""Architectures that several notebooks or the command line share: the
reference tagger and joint embedding (used as evaluators elsewhere in the book)
and the small generator behind ``python -m musictext generate``.

The models each chapter *teaches* are defined in that chapter's notebook."""
from .reference.generator import *  # noqa: F401,F403
from .reference.joint import *  # noqa: F401,F403
from .reference.tagger import *  # noqa: F401,F403
