"""The LR range test ("LR finder") of fastai's ``lr_find`` and torch-lr-finder, on real torch objects.

Written here rather than depending on fastai (a whole training framework, its own ``Learner`` and data
pipeline, matplotlib) or torch-lr-finder (its own loop and plotting, no fastai suggestions): lrlab
needs the sweep as data, with each step's raw and smoothed loss and fastai's four suggestions, on a
plain ``nn.Module`` and optimizer.

The sweep (Smith 2017, "Cyclical Learning Rates", §3.3; fastai ``LRFinder``):

- the lr grows exponentially, ``lr_i = start · (end/start)^(i/(N−1))`` for i = 0 … N−1, set by a real
  :class:`torch.optim.lr_scheduler.LambdaLR` stepped after every optimizer step. (fastai evaluates
  ``start · (end/start)^(i/N)``, so its last lr falls one step short of ``end``; lrlab ends on it.)
- the loss is smoothed by an exponential moving average with bias correction, as fastai's
  ``AvgSmoothLoss``: ``m_i = β m_{i−1} + (1−β) loss_i`` (m_{−1} = 0), ``smoothed_i = m_i / (1 − β^{i+1})``,
  β = 0.98;
- it stops after the first step whose smoothed loss exceeds 4× the lowest smoothed loss so far (that
  step is recorded), or at a non-finite loss, or after N steps;
- the model's weights and the optimizer's state (its lr included) are restored afterwards.

Suggestions follow fastai 2.8 (``fastai/callback/schedule.py``): computed on the smoothed losses from
step ``N // 10`` to five steps before the last recorded one, cut at the first NaN:

- ``minimum``: the lr at the lowest loss, divided by 10;
- ``steep``: the lr where the loss falls fastest per unit of log-lr (``Δloss/Δlog lr`` is lowest);
- ``valley``: the longest strictly decreasing subsequence of the loss; the lr about halfway down it
  (fastai's default);
- ``slide``: walking left from the end of the curve, the first lr where the loss's gradient (numpy's
  ``gradient``) at two points 15 steps apart differs by no more than 0.005.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from lrlab.datasets import load
from lrlab.specs import ScheduleConfig, invalid
from lrlab.training import TrainSetup, batch_order, build_model, build_optimizer, one_thread

BETA = 0.98
DIVERGE_FACTOR = 4.0
SUGGESTIONS = ("valley", "minimum", "steep", "slide")
EXPLAIN = {
    "valley": "about halfway down the longest stretch where the loss keeps falling (fastai's default)",
    "minimum": "one tenth of the lr at the lowest loss (the minimum itself is already too high)",
    "steep": "where the loss falls fastest per unit of log-lr",
    "slide": "where the loss curve stops bending, walking back from where it blows up",
}
LIMITS = {"num_it": (10, 1000), "start_lr": (1e-10, 1.0), "end_lr": (1e-8, 100.0)}


@dataclass(frozen=True)
class Suggestion:
    """A suggested lr, and the point on the smoothed loss curve that marks it on the plot."""

    name: str
    lr: float
    point_lr: float  # where fastai draws its marker (for `minimum`: at the minimum, 10× the suggestion)
    point_loss: float


@dataclass
class FinderResult:
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    num_it: int = 100
    start_lr: float = 1e-7
    end_lr: float = 10.0
    stop_reason: str = "completed"  # "completed" | "diverged" (4× the best) | "not finite"
    seconds: float = 0.0
    suggestions: dict[str, Suggestion | None] = field(default_factory=dict)
    # fastai's own Learner.lr_find on the same model, data and batch order (lrlab.lr_find(fastai=True)):
    # a lrlab.fastai_finder.FastaiSweep, with fastai's SuggestedLRs under the same four names
    fastai: Any = None

    def to_dict(self) -> dict[str, Any]:
        out = self._own_dict()
        if self.fastai is not None:
            out["fastai"] = self.fastai.to_dict()
        return out

    def _own_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "loss": self.loss,
            "smoothed": self.smoothed,
            "suggestions": {k: (s.lr if s else None) for k, s in self.suggestions.items()},
            "stop_reason": self.stop_reason,
            "num_it": self.num_it,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "seconds": self.seconds,
        }


def sweep_lrs(start_lr: float, end_lr: float, num_it: int) -> np.ndarray:
    """The sweep's lrs: exponential from ``start_lr`` (step 0) to ``end_lr`` (step ``num_it − 1``)."""
    return start_lr * (end_lr / start_lr) ** (np.arange(num_it) / (num_it - 1))


def smooth(losses: Any, beta: float = BETA) -> np.ndarray:
    """Bias-corrected exponential moving average of the losses (fastai's ``AvgSmoothLoss``)."""
    out = np.empty(len(losses))
    m = 0.0
    for i, value in enumerate(losses):
        m = beta * m + (1 - beta) * float(value)
        out[i] = m / (1 - beta ** (i + 1))
    return out


def stop_index(smoothed: Any, factor: float = DIVERGE_FACTOR) -> int | None:
    """The first step whose smoothed loss exceeds ``factor`` × the lowest one so far (None: never)."""
    best = math.inf
    for i, value in enumerate(smoothed):
        best = min(best, value)
        if value > factor * best:
            return i
    return None


def minimum(lrs: np.ndarray, losses: np.ndarray) -> Suggestion:
    i = int(np.argmin(losses))
    return Suggestion("minimum", float(lrs[i]) / 10, float(lrs[i]), float(losses[i]))


def steep(lrs: np.ndarray, losses: np.ndarray) -> Suggestion:
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    i = int(np.argmin(slopes))
    return Suggestion("steep", float(lrs[i]), float(lrs[i]), float(losses[i]))


def valley(lrs: np.ndarray, losses: np.ndarray) -> Suggestion:
    n = len(losses)
    run = np.ones(n, dtype=np.int64)  # length of the longest strictly decreasing subsequence ending at i
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            run[i] = run[:i][higher].max() + 1
    end = int(np.argmax(run))  # the first index where the longest run ends
    start = end - int(run[end])
    third = (end - start) / 3
    i = start + int(third) + int(third / 2)
    return Suggestion("valley", float(lrs[i]), float(lrs[i]), float(losses[i]))


def slide(
    lrs: np.ndarray, losses: np.ndarray, lr_diff: int = 15, thresh: float = 0.005, adjust_value: float = 1.0
) -> Suggestion | None:
    n = len(losses)
    if n <= lr_diff:
        return None
    grad = np.gradient(losses)
    right, left = n - 1, n - 1 - lr_diff
    lr = float(lrs[left])
    while left >= 0 and abs(grad[right] - grad[left]) > thresh:
        lr = float(lrs[left])
        right -= 1
        left -= 1
    lr *= adjust_value
    loss = float(np.interp(np.log10(lr), np.log10(lrs), losses))
    return Suggestion("slide", lr, lr, loss)


def suggest(lrs: Any, smoothed: Any, num_it: int) -> dict[str, Suggestion | None]:
    """fastai's four suggestions on the recorded sweep (None where too few steps were recorded)."""
    lrs = np.asarray(lrs, dtype=np.float64)[num_it // 10 : -5 or None]
    losses = np.asarray(smoothed, dtype=np.float64)[num_it // 10 : -5 or None]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        lrs, losses = lrs[: bad[0]], losses[: bad[0]]
    if len(losses) < 2:
        return dict.fromkeys(SUGGESTIONS)
    return {"valley": valley(lrs, losses), "minimum": minimum(lrs, losses), "steep": steep(lrs, losses),
            "slide": slide(lrs, losses)}  # fmt: skip


def _check(start_lr: float, end_lr: float, num_it: int) -> None:
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        low, high = LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise invalid(name, value, f"must be a number from {low:g} to {high:g}")
    if not end_lr > start_lr:
        raise invalid("end_lr", end_lr, f"must be greater than start_lr ({start_lr:g})")
    low, high = LIMITS["num_it"]
    if isinstance(num_it, bool) or not isinstance(num_it, int) or not low <= num_it <= high:
        raise invalid("num_it", num_it, f"must be an integer from {low} to {high}")


def find_lr(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = nn.functional.cross_entropy,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_it: int = 100,
    beta: float = BETA,
    stop_div: bool = True,
    progress: Callable[[FinderResult], None] | None = None,
) -> FinderResult:
    """Run the range test on any model and optimizer; both are restored to their state before it.

    ``batches`` yields (inputs, targets) at least ``num_it`` times. ``progress(result)`` is called
    after every step with the result so far (it may raise to stop; the model is restored even then).
    """
    _check(start_lr, end_lr, num_it)
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    result = FinderResult(num_it=num_it, start_lr=start_lr, end_lr=end_lr)
    ratio = end_lr / start_lr
    began = time.perf_counter()
    try:
        for group in optimizer.param_groups:
            group["lr"] = start_lr
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: ratio ** (i / (num_it - 1)))
        model.train()
        m = 0.0
        best = math.inf
        for i in range(num_it):
            x, y = next(batches)
            result.lr.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            value = loss.item()
            result.loss.append(value)
            m = beta * m + (1 - beta) * value
            smoothed = m / (1 - beta ** (i + 1))
            result.smoothed.append(smoothed)
            if not math.isfinite(value):
                result.stop_reason = "not finite"
                break
            best = min(best, smoothed)
            if stop_div and smoothed > DIVERGE_FACTOR * best:
                result.stop_reason = "diverged"
                break
            loss.backward()
            optimizer.step()
            scheduler.step()
            if progress is not None:
                progress(result)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        result.seconds = time.perf_counter() - began
    result.suggestions = suggest(result.lr, result.smoothed, num_it)
    return result


def _batches(setup: TrainSetup, x: torch.Tensor, y: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    epoch = 0
    while True:
        for idx in batch_order(len(x), setup.batch_size, epoch, setup.seed):
            yield x[idx], y[idx]
        epoch += 1


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
) -> FinderResult:
    """The range test on a built-in task: ``lrlab.lr_find(dataset="digits", model="mlp")``.

    The model is the training lab's (same initial weights for the same seed), batches are the
    training split in the training lab's seeded order. (``lrlab.lr_find`` adds fastai's own beside it:
    :func:`lrlab.finding.lr_find`.)
    """
    setup = TrainSetup(
        dataset=dataset, model=model, optimizer=optimizer, seed=seed, batch_size=batch_size, hidden=hidden,
        layers=layers, momentum=momentum,
    ).validate()  # fmt: skip
    _check(start_lr, end_lr, num_it)
    data = load(dataset)
    net = build_model(setup, data)
    opt = build_optimizer(setup, ScheduleConfig.make("ConstantLR", base_lr=start_lr), net.parameters())
    with one_thread():
        result = find_lr(
            net, opt, _batches(setup, data.x_train, data.y_train), start_lr=start_lr, end_lr=end_lr, num_it=num_it,
            progress=progress,
        )  # fmt: skip
    return result
