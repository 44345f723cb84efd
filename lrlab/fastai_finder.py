"""fastai's own LR finder, ``Learner.lr_find``, on the training lab's model and data (fastai imported on use).

:mod:`lrlab.finder` re-implements the range test on plain torch objects; this module runs fastai's
real one on the same task, so that the two can be drawn side by side: the same model (the training
lab's, with the same initial weights for the same seed), the same training split, fed in the same
seeded batch order (:func:`lrlab.training.batch_order`) through a fastai ``DataLoader``, with fastai's
SGD or Adam set to the lab's hyper-parameters. fastai returns its ``SuggestedLRs`` named tuple; here
with all four suggestion functions, named as lrlab's finder names them: valley, slide, minimum, steep.

Where fastai's finder differs from lrlab's: its lr before batch i is ``start · (end/start)^(i/num_it)``
(it never reaches ``end_lr``), it smooths the loss in float32 (``AvgSmoothLoss``), and it goes on
through NaN losses (the suggestions are cut at the first one).
"""

from __future__ import annotations

import math
import tempfile
import time
import warnings
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from lrlab.datasets import load
from lrlab.finder import SUGGESTIONS, _check
from lrlab.specs import ScheduleConfig, invalid
from lrlab.training import TrainSetup, batch_order, build_model, one_thread

#: fastai's suggestion functions, in the order of its SuggestionMethod (and of the SuggestedLRs fields)
FASTAI_SUGGESTIONS = ("valley", "slide", "minimum", "steep")
#: fastai's SuggestedLRs fields, in a class of lrlab's: fastai builds its own inside a function, which pickle
#: can't find (Streamlit keeps a sweep in session state, and the cache pickles it)
SuggestedLRs = namedtuple("SuggestedLRs", FASTAI_SUGGESTIONS)


@dataclass(frozen=True)
class FastaiSweep:
    """What ``learn.lr_find`` returned and recorded: its ``SuggestedLRs``, and the sweep it made."""

    suggested: Any  # fastai's SuggestedLRs(valley=…, slide=…, minimum=…, steep=…)
    lr: tuple[float, ...]  # learn.recorder.lrs: the lr of each batch
    loss: tuple[float, ...]  # learn.recorder.losses: fastai's smoothed loss after each batch
    num_it: int
    start_lr: float
    end_lr: float
    seconds: float
    problem: str | None = None  # fastai's own error where its lr_find raised (its slide on too few points)

    @property
    def suggestions(self) -> dict[str, float]:
        """The suggested lrs by name, in lrlab's finder's order."""
        return {name: float(getattr(self.suggested, name)) for name in SUGGESTIONS}

    @property
    def stop_reason(self) -> str:
        """ "completed" (num_it batches) or "diverged" (fastai stopped at 4× the best smoothed loss)."""
        return "completed" if len(self.lr) >= self.num_it else "diverged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lr": list(self.lr),
            "smoothed": list(self.loss),
            "suggestions": self.suggestions,
            "stop_reason": self.stop_reason,
            "num_it": self.num_it,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "seconds": self.seconds,
        }


def _imports() -> dict[str, Any]:
    with warnings.catch_warnings():  # fastai's import-time deprecation warnings (torch.jit.script, pandas)
        warnings.simplefilter("ignore")
        from fastai.callback import schedule
        from fastai.data.core import DataLoaders
        from fastai.data.load import DataLoader
        from fastai.learner import Learner
        from fastai.optimizer import SGD, Adam
    return {"schedule": schedule, "DataLoaders": DataLoaders, "DataLoader": DataLoader, "Learner": Learner,
            "SGD": SGD, "Adam": Adam}  # fmt: skip


def lab_order_loader(dataset: Any, batch_size: int, seed: int) -> Any:
    """A fastai ``DataLoader`` over ``dataset`` that yields the training lab's batches: epoch e is the
    permutation ``batch_order(n, batch_size, e, seed)`` cut into batches (the last one may be short)."""
    base = _imports()["DataLoader"]

    class LabOrder(base):
        def get_idxs(self):
            epoch = getattr(self, "_epoch", 0)
            self._epoch = epoch + 1
            return torch.cat(batch_order(self.n, self.bs, epoch, seed)).tolist()

    return LabOrder(dataset, bs=batch_size, shuffle=False, drop_last=False, num_workers=0)


def opt_func(optimizer: str, *, momentum: float = 0.9, weight_decay: float = 0.0, betas=(0.9, 0.999)) -> Callable:
    """fastai's optimizer with the lab's settings: its SGD (momentum) or its Adam with decoupled weight decay
    (AdamW) and torch's eps."""
    fa = _imports()
    if optimizer == "sgd":
        return partial(fa["SGD"], mom=momentum, wd=weight_decay)
    if optimizer == "adamw":
        return partial(fa["Adam"], mom=betas[0], sqr_mom=betas[1], eps=1e-8, wd=weight_decay, decouple_wd=True)
    raise invalid("optimizer", optimizer, "must be 'sgd' or 'adamw'")


def fastai_find_lr(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int = 64,
    seed: int = 0,
    opt: Callable | None = None,
    loss_func: Callable | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_it: int = 100,
    stop_div: bool = True,
) -> FastaiSweep:
    """``Learner(...).lr_find(start_lr, end_lr, num_it, stop_div, suggest_funcs=(valley, slide, minimum, steep))``
    on ``model`` with the training data ``(x, y)`` in the lab's batch order (loss: cross-entropy unless given). The model is restored afterwards
    (fastai saves and reloads it); nothing is written outside a temporary directory; no plot, no output."""
    _check(start_lr, end_lr, num_it)
    fa = _imports()
    schedule = fa["schedule"]
    data = torch.utils.data.TensorDataset(x, y)
    train = lab_order_loader(data, batch_size, seed)
    valid = fa["DataLoader"](data, bs=batch_size, num_workers=0)  # never run: LRFinder cancels validation
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as path, one_thread(), warnings.catch_warnings():
        # fastai's own numpy deprecations (np.core in Learner.load, __array_wrap__ in slide): not about this run
        warnings.simplefilter("ignore", DeprecationWarning)
        learn = fa["Learner"](
            fa["DataLoaders"](train, valid),
            model,
            loss_func=loss_func or nn.CrossEntropyLoss(),
            opt_func=opt or opt_func("sgd"),
            path=path,
        )
        problem = None
        with learn.no_bar():
            try:
                suggested = SuggestedLRs(
                    *learn.lr_find(
                        start_lr=start_lr,
                        end_lr=end_lr,
                        num_it=num_it,
                        stop_div=stop_div,
                        show_plot=False,
                        suggest_funcs=tuple(getattr(schedule, name) for name in FASTAI_SUGGESTIONS),
                    )
                )
            except (IndexError, ValueError, RuntimeError) as exc:  # fastai's suggestions on too few points
                problem = f"fastai's lr_find raised {type(exc).__name__}: {exc}"
                suggested = SuggestedLRs(*([math.nan] * len(FASTAI_SUGGESTIONS)))
    return FastaiSweep(
        problem=problem,
        suggested=suggested,
        lr=tuple(float(v) for v in learn.recorder.lrs),
        loss=tuple(float(v) for v in learn.recorder.losses),
        num_it=num_it,
        start_lr=start_lr,
        end_lr=end_lr,
        seconds=time.perf_counter() - began,
    )


def fastai_lr_find(
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
) -> FastaiSweep:
    """fastai's ``lr_find`` on the task of ``lrlab.lr_find(...)`` with the same arguments: the same model and
    initial weights, the same training batches in the same order, fastai's SGD/Adam with the same settings."""
    setup = TrainSetup(
        dataset=dataset, model=model, optimizer=optimizer, seed=seed, batch_size=batch_size, hidden=hidden,
        layers=layers, momentum=momentum,
    ).validate()  # fmt: skip
    _check(start_lr, end_lr, num_it)
    data = load(dataset)
    net = build_model(setup, data)
    betas = ScheduleConfig.make("ConstantLR").betas  # the betas lrlab.lr_find's AdamW gets
    opt = opt_func(optimizer, momentum=momentum, weight_decay=setup.weight_decay, betas=betas)
    return fastai_find_lr(
        net, data.x_train, data.y_train, batch_size=batch_size, seed=seed, opt=opt, start_lr=start_lr,
        end_lr=end_lr, num_it=num_it,
    )  # fmt: skip


__all__ = ["FASTAI_SUGGESTIONS", "FastaiSweep", "fastai_find_lr", "fastai_lr_find", "lab_order_loader", "opt_func"]
