"""lrlab: see, understand and choose learning-rate schedules.

The real ``torch.optim.lr_scheduler`` / ``transformers`` schedulers, stepped; their closed forms
beside them; one declarative spec per scheduler (:data:`SCHEDULERS`).

>>> import lrlab
>>> lrlab.curve("ExponentialLR", steps=3, base_lr=20, gamma=0.4)["lr"].round(6).tolist()
[20.0, 8.0, 3.2]
"""

from lrlab.schedulers import SCHEDULERS, get_spec
from lrlab.simulate import Curve, curve, fast, simulate, summary
from lrlab.specs import LibraryRefusal, LibraryWarning, LrlabError, ParamSpec, ScheduleConfig, SchedulerSpec

__version__ = "0.1.0"

# The training lab (scikit-learn's datasets, models) loads on first use: `import lrlab` costs torch only.
# fastai's own lr_find (fastai_lr_find) loads fastai on first use too.
_LAZY = {
    "lr_find": "lrlab.finding",
    "TrainSetup": "lrlab.training",
    "train": "lrlab.training",
    "fastai_lr_find": "lrlab.fastai_finder",
    "translate": "lrlab.translating",
    "diagnose": "lrlab.diagnosing",
    "identify": "lrlab.identifying",
    "simulate_resume": "lrlab.resume",
}


def __getattr__(name: str):
    if name == "logs":  # lrlab.logs.read(...) without importing lrlab.logs first
        import importlib

        return importlib.import_module("lrlab.logs")
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lrlab' has no attribute {name!r}")


__all__ = [
    "SCHEDULERS",
    "Curve",
    "LibraryRefusal",
    "LibraryWarning",
    "LrlabError",
    "ParamSpec",
    "ScheduleConfig",
    "SchedulerSpec",
    "TrainSetup",
    "curve",
    "diagnose",
    "fast",
    "fastai_lr_find",
    "get_spec",
    "identify",
    "lr_find",
    "simulate",
    "simulate_resume",
    "summary",
    "train",
    "translate",
]
