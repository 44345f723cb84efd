"""Loading ``timm.scheduler``: the normal import where timm imports, else the scheduler package alone.

``import timm`` runs ``timm/__init__.py``, which imports ``timm.layers`` and ``timm.models``;
``timm/layers/create_norm.py`` imports torchvision at module level. Where torchvision is missing (or
is a build that does not load with the installed torch: ``operator torchvision::nms does not
exist``), that import fails, although the scheduler modules themselves need only torch and numpy.

:func:`load` then registers a bare package module for ``timm`` (from its import spec, so its
``__path__`` is the installed timm folder, but ``timm/__init__.py`` is never executed) and imports
``timm.scheduler`` from it. The package must be named ``timm``: ``multistep_lr.py`` imports
``timm.scheduler.scheduler`` absolutely. Nothing of timm is copied or vendored: these are the
installed modules.

Caveat: in a process where this fallback ran, ``sys.modules["timm"]`` is that bare package, so a
later ``import timm`` there sees no ``timm.create_model`` (it would have failed anyway without
torchvision).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import time
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Loaded:
    """``timm.scheduler`` and how it was loaded."""

    module: ModuleType
    how: str  # "import timm.scheduler", or why timm/__init__.py was skipped
    seconds: float  # wall time of the load (the failed attempt included)


_LOCK = threading.Lock()
_CACHE: list[Loaded] = []  # the one load of this process (sys.modules holds the modules themselves)


def _purge() -> None:
    """Forget what a failed ``import timm…`` left half-imported, so that the next import starts clean."""
    for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
        del sys.modules[name]


def _bare_package() -> ModuleType:
    """A ``timm`` package module whose ``__path__`` is the installed timm folder; its ``__init__`` is not run."""
    spec = importlib.util.find_spec("timm")  # locating the package does not execute it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("No module named 'timm'")
    package = importlib.util.module_from_spec(spec)  # sets __path__, __spec__, __loader__; runs nothing
    sys.modules["timm"] = package
    return package


def load() -> Loaded:
    """``timm.scheduler``, loaded once per process (thread-safe).

    Tries ``import timm.scheduler`` first (with torch already imported, the failing attempt costs
    about 20 ms here: it gets through ~30 ``timm.layers`` modules before torchvision is missing).
    Where it fails, its half-imported ``timm*`` modules are removed and the scheduler package is
    loaded without ``timm/__init__.py`` (about 6 ms).
    """
    with _LOCK:
        if _CACHE:
            return _CACHE[0]
        start = time.perf_counter()
        loaded = sys.modules.get("timm.scheduler")
        if loaded is not None and hasattr(loaded, "CosineLRScheduler"):  # someone imported it already
            result = Loaded(loaded, "import timm.scheduler (already imported)", 0.0)
        else:
            why = None
            try:
                module = importlib.import_module("timm.scheduler")
            except Exception as exc:  # ImportError, or a torchvision build that fails to load (RuntimeError)
                why = f"import timm failed: {type(exc).__name__}: {exc}"
                _purge()
            if why is None:
                how = "import timm.scheduler"
            else:
                _bare_package()
                try:
                    module = importlib.import_module("timm.scheduler")
                except BaseException:
                    _purge()
                    raise
                how = f"timm.scheduler loaded without timm/__init__.py ({why})"
            result = Loaded(module, how, time.perf_counter() - start)
        _CACHE.append(result)
        return result


def scheduler_module() -> ModuleType:
    """The ``timm.scheduler`` module (see :func:`load`)."""
    return load().module


__all__ = ["Loaded", "load", "scheduler_module"]
