"""Translate a schedule into every library (:func:`translate`); see :mod:`lrlab.translating.engine`.

Nothing here imports a library's package before a translation into it is asked for.
"""

from lrlab.translating.engine import Counterpart, Translation, analyse, translate

__all__ = ["Counterpart", "Translation", "analyse", "translate"]
