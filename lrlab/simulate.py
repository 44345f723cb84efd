"""Build the real optimizer and scheduler, step it, and return the curve it produced.

The library object is the truth: the lr of every row is read from ``optimizer.param_groups`` after
``t`` calls of ``scheduler.step()``. The spec's closed form is computed beside it, and the two are
compared so that the UI can say where they differ.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from lrlab.metrics import synthetic_loss
from lrlab.schedulers import get_spec
from lrlab.specs import LrlabError, RunContext, ScheduleConfig, SchedulerSpec, validate_run

#: Relative difference above which the closed form and the library are reported as different.
DIFF_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Curve:
    """One simulated schedule: the library's values, the closed form's, and what to say about them."""

    config: ScheduleConfig
    spec: SchedulerSpec
    params: dict[str, Any]  # validated, complete (defaults filled in)
    frame: pd.DataFrame  # step, epoch, lr[, lr_1, …][, momentum | beta1][, metric]
    closed: pd.DataFrame | None  # step, lr[, lr_1, …][, momentum | beta1]; None without a closed form
    notes: tuple[str, ...] = ()  # what happened at run time: library warnings, where stepping stopped
    stopped_at: int | None = None  # first row the library refused to produce
    max_rel_diff: float | None = None  # max relative difference library vs closed form
    first_diff_step: int | None = None  # first step where they differ by more than DIFF_TOLERANCE
    lr_columns: tuple[str, ...] = field(default=("lr",))

    @property
    def momentum_column(self) -> str | None:
        for name in ("momentum", "beta1"):
            if name in self.frame.columns:
                return name
        return None


def _context(config: ScheduleConfig) -> RunContext:
    return RunContext(
        steps=config.steps,
        base_lr=float(config.base_lr),
        group_lrs=(float(config.base_lr), *map(float, config.group_lrs)),
        steps_per_epoch=config.steps_per_epoch,
    )


def resolve(config: ScheduleConfig) -> tuple[SchedulerSpec, dict[str, Any], RunContext]:
    """Validate a config: its spec, its complete params, and its run context (or :class:`LrlabError`)."""
    validate_run(config.steps, config.base_lr, config.steps_per_epoch, config.group_lrs)
    if len(config.group_lrs) > 7:
        raise LrlabError(
            f"Invalid group_lrs ({len(config.group_lrs)} extra groups): at most 7 are allowed", field="group_lrs"
        )
    spec = get_spec(config.scheduler)
    params = dict(config.params_dict)
    if spec.base_lr_param and spec.base_lr_param in params:
        # CyclicLR's own base_lr *is* the curve's base lr; accept it under either name
        raise LrlabError(
            f"Invalid {spec.base_lr_param}: for {spec.name} pass it as the run's base_lr", field=spec.base_lr_param
        )
    ctx = _context(config)
    return spec, spec.validate(params, ctx), ctx


def _optimizer(kind: str, lrs: tuple[float, ...]) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=lrs[0], betas=(0.9, 0.999))
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _library_error(spec: SchedulerSpec, exc: BaseException, params: dict[str, Any]) -> LrlabError:
    text = str(exc).strip() or type(exc).__name__
    named = next((name for name in params if name in text), None)
    return LrlabError(f"{spec.qualified_name} rejected these settings: {type(exc).__name__}: {text}", field=named)


def simulate(config: ScheduleConfig, *, metric: np.ndarray | None = None) -> Curve:
    """Step the real scheduler ``config.steps`` times' worth and return the :class:`Curve`.

    ``metric`` feeds metric-driven schedulers (one value per step, observed after that step); it
    defaults to :func:`lrlab.metrics.synthetic_loss`.
    """
    spec, params, ctx = resolve(config)
    steps = config.steps
    n_groups = len(ctx.group_lrs)
    if spec.needs_metric:
        metric = synthetic_loss(steps) if metric is None else np.asarray(metric, dtype=np.float64)
        if metric.shape != (steps,) or not np.all(np.isfinite(metric)):
            raise LrlabError(f"Invalid metric: must be {steps} finite values, one per step", field="metric")
    momentum = spec.cycles_momentum is not None and spec.cycles_momentum(params)
    mom_name = "beta1" if config.optimizer == "adam" else "momentum"

    optimizer = _optimizer(config.optimizer, ctx.group_lrs)
    groups = optimizer.param_groups
    lrs = np.full((steps, n_groups), np.nan)
    moms = np.full(steps, np.nan) if momentum else None
    stopped_at: int | None = None
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scheduler = spec.build(optimizer, params, ctx)
        except Exception as exc:  # the library's own validation: show its message
            raise _library_error(spec, exc, params) from None
        optimizer.step()  # one real optimizer step first, as in a training loop (no order warning)
        step = scheduler.step
        for t in range(steps):
            for g in range(n_groups):
                lrs[t, g] = groups[g]["lr"]
            if moms is not None:
                moms[t] = groups[0]["betas"][0] if config.optimizer == "adam" else groups[0]["momentum"]
            if t == steps - 1:
                break
            try:
                step(float(metric[t])) if spec.needs_metric else step()
            except Exception as exc:
                stopped_at = t + 1
                notes.append(
                    f"{spec.name} refused step {t + 1} ({type(exc).__name__}: {exc}); the library curve stops there."
                )
                break
    for message in dict.fromkeys(str(w.message) for w in caught):
        notes.append(f"{spec.library} warned: {message}")

    end = steps if stopped_at is None else stopped_at
    bad = ~np.isfinite(lrs[:end])
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        field_name = "lr_lambda" if any(p.kind == "expr" for p in spec.params) else None
        raise LrlabError(
            f"{spec.name} produced a non-finite learning rate ({lrs[row][bad[row]][0]}) at step {row}; "
            "check the parameters (an overflowing growth factor, or a division by zero in an expression)",
            field=field_name,
        )

    t = np.arange(steps)
    lr_cols = ("lr", *[f"lr_{g}" for g in range(1, n_groups)])
    data: dict[str, Any] = {"step": t, "epoch": t / config.steps_per_epoch}
    data.update({name: lrs[:, g] for g, name in enumerate(lr_cols)})
    if moms is not None:
        data[mom_name] = moms
    if spec.needs_metric:
        data["metric"] = metric
    frame = pd.DataFrame(data)

    closed = None
    max_rel = first_diff = None
    if spec.closed_form is not None:
        with np.errstate(all="ignore"):
            cdata: dict[str, Any] = {"step": t}
            for g, name in enumerate(lr_cols):
                cdata[name] = np.asarray(spec.closed_form(t, ctx.group_lrs[g], params, ctx), dtype=np.float64)
            if moms is not None and spec.closed_momentum is not None:
                cdata[mom_name] = np.asarray(spec.closed_momentum(t, ctx.base_lr, params, ctx), dtype=np.float64)
        closed = pd.DataFrame(cdata)
        max_rel, first_diff = compare(frame[list(lr_cols)].to_numpy(), closed[list(lr_cols)].to_numpy())
    frame.attrs["notes"] = list(notes)
    return Curve(
        config=config,
        spec=spec,
        params=params,
        frame=frame,
        closed=closed,
        notes=tuple(notes),
        stopped_at=stopped_at,
        max_rel_diff=max_rel,
        first_diff_step=first_diff,
        lr_columns=lr_cols,
    )


def compare(library: np.ndarray, closed: np.ndarray) -> tuple[float, int | None]:
    """Max relative difference of two curves and the first row where it exceeds :data:`DIFF_TOLERANCE`.

    Relative to the closed form's value, floored at 1e-12 of the curve's largest magnitude, so that
    a curve passing through 0 is not judged by its rounding noise there. A value present in one curve
    and missing (NaN) in the other counts as an infinite difference.
    """
    library = np.atleast_2d(np.asarray(library, dtype=np.float64))
    closed = np.atleast_2d(np.asarray(closed, dtype=np.float64))
    finite = np.isfinite(closed)
    scale = np.max(np.abs(closed[finite])) if finite.any() else 1.0
    floor = max(1e-12 * scale, np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore"):
        rel = np.abs(library - closed) / np.maximum(np.abs(closed), floor)
    both_nan = np.isnan(library) & np.isnan(closed)
    rel = np.where(both_nan, 0.0, rel)
    rel = np.where(np.isnan(rel), np.inf, rel)
    row_max = rel.max(axis=1) if rel.ndim == 2 else rel
    over = np.flatnonzero(row_max > DIFF_TOLERANCE)
    return float(row_max.max()) if row_max.size else 0.0, (int(over[0]) if over.size else None)


def curve(
    name: str,
    *,
    steps: int,
    base_lr: float = 0.1,
    steps_per_epoch: int = 1,
    optimizer: str = "sgd",
    group_lrs: tuple[float, ...] | list[float] = (),
    metric: np.ndarray | list[float] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """The learning rate the real scheduler gives at each step, as a DataFrame.

    Columns ``step`` (0 … steps-1), ``epoch`` (step / steps_per_epoch) and ``lr``; row ``t`` is the
    lr the (t+1)-th ``optimizer.step()`` uses. Extra param groups (``group_lrs``) add ``lr_1``, … ;
    schedulers that cycle momentum add ``momentum`` (SGD) or ``beta1`` (Adam). ``name`` is a torch
    class name, a transformers function name or an alias such as ``"cosine"``; ``params`` use the
    library's own names. A scheduler with its own ``base_lr`` parameter (CyclicLR) takes ``base_lr``.

    >>> curve("StepLR", steps=6, base_lr=1.0, step_size=2, gamma=0.5)["lr"].tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    if optimizer not in ("sgd", "adam"):
        raise LrlabError(f"Invalid optimizer ({optimizer!r}): must be 'sgd' or 'adam'", field="optimizer")
    try:
        config = ScheduleConfig.make(
            name,
            params,
            steps=steps,
            base_lr=base_lr,
            steps_per_epoch=steps_per_epoch,
            optimizer=optimizer,
            group_lrs=tuple(group_lrs),
        )
    except TypeError as exc:  # unhashable parameter values
        raise LrlabError(f"Invalid parameters: {exc}") from None
    result = simulate(config, metric=None if metric is None else np.asarray(metric, dtype=np.float64))
    return result.frame


def summary(frame: pd.DataFrame, column: str = "lr") -> dict[str, float | int]:
    """Key figures of a curve: first lr, peak lr and its step, final lr, min lr (NaN rows ignored)."""
    values = frame[column].to_numpy()
    valid = np.flatnonzero(np.isfinite(values))
    if valid.size == 0:
        nan = math.nan
        return {"first": nan, "peak": nan, "peak_step": -1, "final": nan, "min": nan, "min_step": -1}
    v = values[valid]
    steps = frame["step"].to_numpy()[valid]
    return {
        "first": float(v[0]),
        "peak": float(v.max()),
        "peak_step": int(steps[int(np.argmax(v))]),
        "final": float(v[-1]),
        "min": float(v.min()),
        "min_step": int(steps[int(np.argmin(v))]),
    }
