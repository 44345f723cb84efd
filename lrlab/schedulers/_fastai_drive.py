"""Driving fastai's schedules the way a fastai ``Learner`` drives them (fastai is imported on first use).

A fastai ``fit_*`` method builds its schedule functions and hands them to ``Learner.fit`` in a
``ParamScheduler``. lrlab calls the real method on a real (tiny) ``Learner`` whose ``fit`` records what
it is given instead of training (:func:`capture_fits`), then evaluates those schedule functions at the
positions the training loop would give them (:func:`drive_fits`):

- ``TrainEvalCallback`` sets ``pct_train = epoch / n_epoch`` before each epoch and adds
  ``1 / (n_iter · n_epoch)`` after each batch, in float64 (:func:`pct_train`);
- ``ParamScheduler.before_batch`` sets every hyper-parameter to ``sched(pct_train)``; the recorder
  logs the last param group's value (``opt.hypers[-1]``).

``combine_scheds``' function does its phase arithmetic in float32 tensors, ~40–90 µs a call; lrlab runs
that same arithmetic on all rows at once with torch, on the function's own edge tensor, and calls the
function's own annealers row by row (:func:`evaluate`, proven equal to calling the function in
tests/test_lib_fastai.py). Rows are fastai's param groups in lrlab's order: lrlab's group 0 is fastai's
last group (the head, the one ``recorder.lrs`` shows).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

Schedules = dict[str, Callable[[float], Any]]


@dataclass(frozen=True)
class Fit:
    """One ``Learner.fit`` call a fastai method made: its epochs and its ParamScheduler's schedules."""

    n_epoch: int
    scheds: Schedules


def load() -> None:
    """Import fastai's modules once, without their import-time deprecation warnings (``torch.jit.script``,
    pandas options): those are not warnings about the schedule being drawn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import fastai.callback.schedule
        import fastai.learner  # noqa: F401


def opt_func(optimizer: str, momentum: float, betas: tuple[float, float]) -> Callable[..., Any]:
    """fastai's optimizer for lrlab's ``optimizer`` setting: its SGD and Adam; torch's Adagrad wrapped (fastai has
    none), which has no momentum for fit_one_cycle to schedule."""
    import torch
    from fastai.optimizer import SGD, Adam, OptimWrapper

    if optimizer == "sgd":
        return partial(SGD, mom=momentum)
    if optimizer in ("adam", "adamw"):
        return partial(Adam, mom=betas[0], sqr_mom=betas[1], decouple_wd=optimizer == "adamw")
    return partial(OptimWrapper, opt=torch.optim.Adagrad)


def tiny_learner(n_groups: int, opt: Callable[..., Any] | None = None) -> Any:
    """A fastai ``Learner`` over ``n_groups`` one-weight Linear layers, one param group each (CPU)."""
    import torch
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import Adam
    from torch import nn
    from torch.utils.data import TensorDataset

    load()

    x = torch.zeros(2, 1)
    data = TensorDataset(x, x)
    dls = DataLoaders.from_dsets(data, data, bs=1, device="cpu", num_workers=0)
    model = nn.Sequential(*[nn.Linear(1, 1) for _ in range(n_groups)])
    return Learner(
        dls,
        model,
        loss_func=nn.MSELoss(),
        opt_func=opt or Adam,
        splitter=lambda m: [list(layer.parameters()) for layer in m],
    )


def capture_fits(call: Callable[[Any], None], n_groups: int, opt: Callable[..., Any] | None = None) -> list[Fit]:
    """The ``Learner.fit`` calls that ``call(learn)`` makes (e.g. ``learn.fit_one_cycle(...)``), not trained.

    Each fit's schedules are applied once, at the fit's start, through the learner's real optimizer
    (``opt.set_hyper``, as ``ParamScheduler.before_batch`` does), so that what fastai refuses there is
    raised here with its own error (torch's Adagrad has no ``mom`` for fit_one_cycle: KeyError)."""
    from fastai.callback.schedule import ParamScheduler
    from fastcore.foundation import L

    learn = tiny_learner(n_groups, opt)
    fits: list[Fit] = []

    def fit(n_epoch: int, lr: Any = None, wd: Any = None, cbs: Any = None, reset_opt: bool = False, start_epoch=0):
        schedulers = [cb for cb in L(cbs) if isinstance(cb, ParamScheduler)]
        scheds = dict(schedulers[0].scheds) if schedulers else {}
        if learn.opt is None:
            learn.create_opt()
        for name, sched in scheds.items():
            learn.opt.set_hyper(name, sched(0.0))
        fits.append(Fit(int(n_epoch) - int(start_epoch), scheds))

    learn.fit = fit
    call(learn)
    return fits


def pct_train(n_epoch: int, n_iter: int, rows: int) -> np.ndarray:
    """``learn.pct_train`` before each of the first ``rows`` batches of a fit (TrainEvalCallback's float64 sums)."""
    epochs = -(-rows // n_iter)
    grid = np.full((epochs, n_iter), 1.0 / (n_iter * n_epoch))
    grid[:, 0] = np.arange(epochs) / n_epoch
    return np.cumsum(grid, axis=1).ravel()[:rows]  # cumsum adds in order, as += after each batch does


def _closure(fn: Any) -> dict[str, Any]:
    code, cells = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
    if code is None or cells is None:
        return {}
    return dict(zip(code.co_freevars, (c.cell_contents for c in cells), strict=True))


def evaluate(sched: Callable[[float], Any], pos: np.ndarray) -> np.ndarray:
    """``sched(p)`` for every ``p`` in ``pos``: rows, or rows × param groups where the values are per group.

    A ``combine_scheds`` function is evaluated on all rows at once: its float32 phase arithmetic run by
    torch on its own ``pcts`` edge tensor, then its own annealers at each row's position. Any other
    function is called row by row."""
    import torch

    cells = _closure(sched)
    edges, limit, annealers = cells.get("pcts"), cells.get("pct_lim"), cells.get("scheds")
    if isinstance(edges, torch.Tensor) and isinstance(limit, int) and annealers is not None:
        p = torch.from_numpy(np.ascontiguousarray(pos, dtype=np.float64)).to(edges.dtype)
        # (pos >= pcts).nonzero().max(): edges ascend, so that is the number of edges <= pos, minus one
        idx = torch.clamp(torch.searchsorted(edges, p, right=True) - 1, max=limit)
        x = ((p - edges[idx]) / (edges[idx + 1] - edges[idx])).tolist()
        which = idx.numpy()
        out: list[Any] = [None] * len(x)
        for i, annealer in enumerate(annealers):
            for row in np.flatnonzero(which == i).tolist():
                out[row] = annealer(x[row])
    else:
        out = [sched(p) for p in np.asarray(pos, dtype=np.float64).tolist()]
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class Drive:
    """What the fits produced for lrlab's rows: lrs (rows × groups, lrlab's group order), momentum (or None),
    and how many batches the fits have in all."""

    lrs: np.ndarray
    momentum: np.ndarray | None
    fit_rows: int


def drive_fits(fits: list[Fit], steps: int, steps_per_epoch: int, n_groups: int) -> Drive:
    """The lr (and momentum) ParamScheduler sets before each of the first ``steps`` batches of ``fits``,
    trained one after another with ``steps_per_epoch`` batches per epoch; NaN past the last fit."""
    lrs = np.full((steps, n_groups), np.nan)
    has_mom = any("mom" in f.scheds for f in fits)
    moms = np.full(steps, np.nan) if has_mom else None
    row = 0
    for fit in fits:
        rows = min(fit.n_epoch * steps_per_epoch, steps - row)
        if rows <= 0:
            continue
        pos = pct_train(fit.n_epoch, steps_per_epoch, rows)
        lr = evaluate(fit.scheds["lr"], pos)
        lr = np.broadcast_to(lr.reshape(rows, -1), (rows, n_groups))  # a single value is set on every group
        lrs[row : row + rows] = lr[:, ::-1]  # fastai's last group is lrlab's group 0
        if moms is not None and "mom" in fit.scheds:
            mom = evaluate(fit.scheds["mom"], pos)
            moms[row : row + rows] = mom.reshape(rows, -1)[:, -1]  # what recorder.hps['mom'] logs
        row += rows
    return Drive(lrs, moms, sum(f.n_epoch * steps_per_epoch for f in fits))
