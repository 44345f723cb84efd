"""``lrlab.lr_find``: lrlab's LR range test and, on request, fastai's own ``Learner.lr_find`` beside it.

:mod:`lrlab.finder` runs the range test on plain torch objects; :mod:`lrlab.fastai_finder` runs fastai's on
the same model, weights, data and batch order. This module joins the two (neither imports the other).
"""

from __future__ import annotations

from collections.abc import Callable

from lrlab.finder import FinderResult
from lrlab.finder import lr_find as lrlab_lr_find


def lr_find(
    *,
    dataset: str = "digits",
    model: str = "mlp",
    optimizer: str = "sgd",
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_it: int = 100,
    seed: int = 0,
    batch_size: int = 64,
    hidden: int = 64,
    layers: int = 1,
    momentum: float = 0.9,
    progress: Callable[[FinderResult], None] | None = None,
    fastai: bool = False,
) -> FinderResult:
    """The range test on a built-in task: ``lrlab.lr_find(dataset="digits", model="mlp")``.

    With ``fastai=True``, fastai's own ``Learner.lr_find`` also runs on the same model, initial weights,
    data and batch order; its sweep and its ``SuggestedLRs`` (valley, slide, minimum, steep) are in the
    result's ``fastai`` (fastai is imported then, on first use).
    """
    task = {
        "dataset": dataset, "model": model, "optimizer": optimizer, "start_lr": start_lr, "end_lr": end_lr,
        "num_it": num_it, "seed": seed, "batch_size": batch_size, "hidden": hidden, "layers": layers,
        "momentum": momentum,
    }  # fmt: skip
    result = lrlab_lr_find(**task, progress=progress)
    if fastai:
        from lrlab.fastai_finder import fastai_lr_find

        result.fastai = fastai_lr_find(**task)
    return result
