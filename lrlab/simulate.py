"""Build the real optimizer and scheduler, step it, and return the curve it produced.

The library object is the truth: the lr of every row is read from ``optimizer.param_groups`` after
``t`` calls of ``scheduler.step()``. The spec's closed form is computed beside it, and the two are
compared so that the UI can say where they differ.

What the library says reaches the package user as a Python warning with the library's own text:
:class:`~lrlab.specs.LibraryRefusal` where it refused a step (the rows from there on are NaN),
:class:`~lrlab.specs.LibraryWarning` where it warned. lrlab's own remarks (a negative lr, no closed
form, unused metric values) stay in :attr:`Curve.notes`.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from lrlab.metrics import synthetic_loss
from lrlab.optimizers import throwaway
from lrlab.schedulers import get_spec
from lrlab.specs import (
    INTERVALS,
    MAX_STEPS,
    LibraryRefusal,
    LibraryWarning,
    LrlabError,
    RunContext,
    ScheduleConfig,
    SchedulerSpec,
    from_lrlab,
    invalid,
    validate_optimizer,
    validate_run,
)

if TYPE_CHECKING:  # pandas loads on the first curve: `import lrlab` stays torch's import alone
    import pandas as pd

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
    events: pd.DataFrame | None = None  # metric-driven schedulers: one row per evaluation, explained
    source: str = "library"  # "library": the stepped object; "closed form": the fast path (lrlab.simulate.fast)
    refusal: str | None = None  # the library's error where it refused, "ValueError: …" (emitted as LibraryRefusal)
    library_warnings: tuple[str, ...] = ()  # what the library warned (emitted as LibraryWarning)
    # what is derived from these frames and costly at 1M steps (the chart's decimation, lrlab.plots), kept
    # with them: the views of one cached curve (lrlab.ui.cache) share it
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

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


#: Schedulers whose ``step()`` can't take an explicit epoch (torch 2.13, lr_scheduler.py / swa_utils.py).
EPOCH_REFUSED = {
    "SWALR": "SWALR ignores the epoch: its lr follows its own count of step() calls (_step_count)",
    "SequentialLR": "SequentialLR.step() takes no epoch argument (TypeError)",
    "ChainedScheduler": "ChainedScheduler.step() takes no epoch argument (TypeError)",
}
#: Where the explicit-epoch closed form differs from the one of ``step()`` (torch's own formula for step(epoch)).
EPOCH_CLOSED_FORMS = {"CosineAnnealingWarmRestarts": "warm_restarts_explicit"}
#: Recursive schedulers without a closed form for fractional epochs (each call multiplies by λ(epoch)).
NO_FRACTIONAL_CLOSED_FORM = frozenset({"MultiplicativeLR"})


def stepping_call(interval: str) -> str:
    """How the training loop calls the scheduler under ``interval``, as code."""
    return {
        "step": "scheduler.step()",
        "epoch": "scheduler.step()",
        "epoch_fraction": "scheduler.step(epoch + i / steps_per_epoch)",
        "epoch_arg": "scheduler.step(epoch + 1)",
    }[interval]


def check_interval(spec: SchedulerSpec, interval: str) -> None:
    """Refuse, naming the field, a stepping pattern the library refuses or ignores for this scheduler."""
    if spec.intervals:
        if interval not in spec.intervals:
            allowed = ", ".join(repr(i) for i in spec.intervals)
            raise invalid(
                "interval",
                interval,
                f"{spec.name} is driven as {spec.library} drives it: the interval must be one of {allowed}",
            )
        return
    if interval in ("step", "epoch"):
        return
    why = None
    if spec.needs_metric:
        why = (
            f"{spec.name} is stepped with the metric, scheduler.step(metric), after each evaluation "
            "(an epoch passed to it only sets last_epoch)"
        )
    elif spec.name in EPOCH_REFUSED:
        why = EPOCH_REFUSED[spec.name]
    elif spec.library == "transformers" and interval == "epoch_fraction":
        why = "transformers' schedules are functions of the integer optimizer step count, not of fractional epochs"
    if why is not None:
        raise invalid(
            "interval",
            interval,
            f"{spec.name} can't be stepped as {stepping_call(interval)}: {why}; use 'step' or 'epoch'",
        )


def intervals_for(spec: SchedulerSpec) -> tuple[str, ...]:
    """The stepping patterns (:data:`~lrlab.specs.INTERVALS`) this scheduler can be driven with."""
    allowed = []
    for interval in INTERVALS:
        try:
            check_interval(spec, interval)
        except LrlabError:
            continue
        allowed.append(interval)
    return tuple(allowed)


def resolve(config: ScheduleConfig) -> tuple[SchedulerSpec, dict[str, Any], RunContext]:
    """Validate a config: its spec, its complete params, and its run context (or :class:`LrlabError`)."""
    validate_run(config.steps, config.base_lr, config.steps_per_epoch, config.group_lrs)
    validate_optimizer(config)
    spec = get_spec(config.scheduler)
    missing = spec.unavailable()
    if missing is not None:
        raise LrlabError(missing, field="scheduler")
    check_interval(spec, config.interval)
    if config.group_lrs and not spec.groups:
        raise LrlabError(
            f"Invalid group_lrs ({len(config.group_lrs)} extra groups): a {spec.library} schedule is one function "
            "of the step, one learning rate; give no extra param groups",
            field="group_lrs",
        )
    params = dict(config.params_dict)
    if spec.base_lr_param and spec.base_lr_param in params:
        # CyclicLR's own base_lr *is* the curve's base lr; accept it under either name
        raise LrlabError(
            f"Invalid {spec.base_lr_param}: for {spec.name} pass it as the run's base_lr", field=spec.base_lr_param
        )
    ctx = _context(config)
    return spec, spec.validate(params, ctx), ctx


def _library_error(spec: SchedulerSpec, exc: BaseException, params: dict[str, Any]) -> LrlabError:
    text = str(exc).strip() or type(exc).__name__
    named = next((name for name in params if name in text), None)
    return LrlabError(f"{spec.qualified_name} rejected these settings: {type(exc).__name__}: {text}", field=named)


def simulate(config: ScheduleConfig, *, metrics: Any = None, eval_every: int = 1, progress: Any = None) -> Curve:
    """Step the real scheduler through ``config.steps`` rows and return the :class:`Curve`.

    ``config.interval`` says how it is stepped after each optimizer step ``t`` (batch ``i`` of epoch
    ``e``): ``step`` — ``scheduler.step()``; ``epoch`` — ``scheduler.step()`` after the epoch's last
    batch; ``epoch_fraction`` — ``scheduler.step(e + i / steps_per_epoch)`` (torch's
    CosineAnnealingWarmRestarts docs); ``epoch_arg`` — ``scheduler.step(e + 1)`` after the epoch's last
    batch.

    Where the library refuses a step (OneCycleLR past ``total_steps``), the rows from there on are
    NaN, ``stopped_at`` says where, and a :class:`~lrlab.specs.LibraryRefusal` warning carries the
    library's own message; what the library warned is re-emitted as
    :class:`~lrlab.specs.LibraryWarning`.

    Metric-driven schedulers (ReduceLROnPlateau, GreedyLR) are stepped with
    ``scheduler.step(metrics[i])`` after every ``eval_every`` optimizer steps; ``metrics`` holds one
    value per evaluation and defaults to :func:`lrlab.metrics.synthetic_loss`. The curve then also
    has an ``events`` table explaining what the scheduler did at each evaluation, read from its state.
    ``progress(fraction)`` is called every 20,000 steps of a long run (it may raise to cancel).
    """
    result = _simulate(config, metrics=metrics, eval_every=eval_every, progress=progress)
    emit_warnings(result, stacklevel=3)
    return result


def emit_warnings(curve: Curve, stacklevel: int = 2) -> None:
    """Re-emit what the library said for ``curve``: its library warnings, then its refusal."""
    for message in curve.library_warnings:
        warnings.warn(f"{curve.spec.qualified_name} warned: {message}", LibraryWarning, stacklevel=stacklevel)
    if curve.refusal is not None and curve.stopped_at is not None:
        message = refusal_message(curve.spec.name, curve.stopped_at, curve.refusal, len(curve.frame))
        warnings.warn(message, LibraryRefusal, stacklevel=stacklevel)


def _simulate(config: ScheduleConfig, *, metrics: Any = None, eval_every: int = 1, progress: Any = None) -> Curve:
    import pandas as pd

    spec, params, ctx = resolve(config)
    steps = config.steps
    n_groups = len(ctx.group_lrs)
    notes: list[str] = []
    if spec.needs_metric:
        metrics, eval_every = _metric_stream(metrics, eval_every, steps, notes)
    momentum = spec.cycles_momentum is not None and spec.cycles_momentum(params)
    uses_betas = config.optimizer in ("adam", "adamw")
    mom_name = "beta1" if uses_betas else "momentum"

    lrs = np.full((steps, n_groups), np.nan)
    moms = np.full(steps, np.nan) if momentum else None
    metric_col = np.full(steps, np.nan) if spec.needs_metric else None
    states: list[dict[str, Any]] = []
    stopped_at: int | None = None
    refusal: str | None = None
    extra_columns: tuple[tuple[str, np.ndarray], ...] = ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if spec.drive is not None:  # a library adapter drives its own objects (timm, Keras, optax, fastai)
            if metrics is not None:  # never ignored silently: the adapters drive with their own (synthetic) metric
                raise LrlabError(
                    f"Invalid metrics: {spec.name} is driven by its adapter with lrlab's synthetic metric, one value "
                    "per epoch; your own metric values reach torch's and transformers' plateau schedulers only",
                    field="metrics",
                )
            try:
                driven = spec.drive(params, ctx, config)
            except LrlabError:
                raise
            except Exception as exc:  # the library's own validation: show its message
                raise _library_error(spec, exc, params) from None
            lrs = np.asarray(driven.lrs, dtype=np.float64).reshape(steps, n_groups)
            if driven.momentum is not None:
                moms = np.asarray(driven.momentum, dtype=np.float64)
            stopped_at, refusal, extra_columns = driven.stopped_at, driven.refusal, driven.columns
            notes.extend(driven.notes)
            if refusal is not None and stopped_at is not None:
                notes.append(f"{spec.name} refused step {stopped_at} ({refusal}); the library curve stops there.")
        else:
            stopped_at, refusal = _step_torch(
                spec, params, ctx, config, lrs, moms, metric_col, states, metrics, eval_every, progress, notes
            )
    library_warnings = tuple(dict.fromkeys(str(w.message) for w in caught))
    for message in library_warnings:
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
    # within a few ulps of the largest lr a negative value is rounding (LinearLR's decay to 0 leaves -1e-18)
    noise = 4 * np.finfo(np.float64).eps * float(np.max(np.abs(lrs[:end])))
    negative = np.flatnonzero((lrs[:end] < -noise).any(axis=1))
    if negative.size:
        notes.append(
            f"The learning rate is negative from step {int(negative[0])} on ({lrs[negative[0]].min():.4g}); "
            "an optimizer would then step uphill."
        )

    t = np.arange(steps)
    lr_cols = ("lr", *[f"lr_{g}" for g in range(1, n_groups)])
    data: dict[str, Any] = {"step": t, "epoch": t / config.steps_per_epoch}
    data.update({name: lrs[:, g] for g, name in enumerate(lr_cols)})
    if moms is not None:
        data[mom_name] = moms
    if metric_col is not None:
        data["metric"] = metric_col
    for name, column in extra_columns:
        data[name] = np.asarray(column, dtype=np.float64)
    frame = pd.DataFrame(data)

    closed = None
    max_rel = first_diff = None
    if spec.closed_form is not None:
        closed = _closed_frame(spec, params, ctx, config, lr_cols, mom_name if moms is not None else None)
        if closed is None:  # e.g. a composition that is not a join or a product
            notes.append(f"No closed form for this {spec.name} configuration: only the library curve is drawn.")
        else:
            max_rel, first_diff = compare(
                lrs,
                lr_matrix(closed, lr_cols),
                tolerance=spec.tolerance,
                noise=rounding(spec, params, ctx),
            )
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
        events=explain_events(states, params, lr_cols, frame) if spec.needs_metric else None,
        refusal=refusal,
        library_warnings=library_warnings,
    )


def _step_torch(
    spec: SchedulerSpec,
    params: dict[str, Any],
    ctx: RunContext,
    config: ScheduleConfig,
    lrs: np.ndarray,
    moms: np.ndarray | None,
    metric_col: np.ndarray | None,
    states: list[dict[str, Any]],
    metrics: Any,
    eval_every: int,
    progress: Any,
    notes: list[str],
) -> tuple[int | None, str | None]:
    """Build a torch LRScheduler (torch, transformers) and step it as the training loop does, filling
    ``lrs`` / ``moms`` / ``metric_col`` / ``states`` in place; returns (stopped_at, refusal)."""
    steps, n_groups = config.steps, len(ctx.group_lrs)
    uses_betas = config.optimizer in ("adam", "adamw")
    interval, spe = config.interval, config.steps_per_epoch
    optimizer = throwaway(config, ctx.group_lrs)
    groups = optimizer.param_groups
    stopped_at: int | None = None
    refusal: str | None = None
    try:
        scheduler = spec.build(optimizer, params, ctx)
    except Exception as exc:  # the library's own validation: show its message
        raise _library_error(spec, exc, params) from None
    optimizer.step()  # an optimizer step first, as in a training loop (no order warning; lrlab.optimizers)
    plateau = getattr(scheduler, "plateau", scheduler)  # WarmupThenPlateau: the metric goes to its plateau
    warmup = getattr(scheduler, "warmup", None)
    warmup_steps = getattr(scheduler, "warmup_steps", 0)
    step = plateau.step
    read_state = _state_reader(plateau) if spec.needs_metric else None
    for t in range(steps):
        if progress is not None and t % 20_000 == 0 and t:
            progress(t / steps)
        for g in range(n_groups):
            lrs[t, g] = groups[g]["lr"]
        if moms is not None:
            moms[t] = groups[0]["betas"][0] if uses_betas else groups[0]["momentum"]
        if t == steps - 1:
            break
        try:
            if spec.needs_metric:
                if warmup is not None and t < warmup_steps:
                    warmup.step()  # the hand-written switch: the warm-up first, then the plateau
                elif (t + 1) % eval_every == 0:
                    value = float(metrics[(t + 1) // eval_every - 1])
                    metric_col[t] = value
                    # nothing but this step changes the state between two evaluations: the state after one
                    # is the state before the next (read once: 20k evaluations on a long run)
                    before = states[-1]["after"] if states else read_state()
                    step(value)
                    states.append({"step": t + 1, "metric": value, "before": before, "after": read_state()})
            elif interval == "step":
                step()
            elif interval == "epoch_fraction":
                epoch, i = divmod(t, spe)
                step(epoch + i / spe)
            elif (t + 1) % spe == 0:
                step() if interval == "epoch" else step((t + 1) // spe)
        except Exception as exc:
            stopped_at = t + 1
            notes.append(
                f"{spec.name} refused step {t + 1} ({type(exc).__name__}: {exc}); the library curve stops there."
            )
            refusal = f"{type(exc).__name__}: {exc}"
            break
    return stopped_at, refusal


def refusal_message(name: str, step: int, reason: str, steps: int) -> str:
    """The :class:`LibraryRefusal` text: where, the library's own error (``reason``), which rows are NaN."""
    rows = f"row {step} is NaN" if step == steps - 1 else f"rows {step} to {steps - 1} are NaN"
    return f"{name} refused step {step} ({reason}); the library curve stops there: {rows}"


def _closed_frame(
    spec: SchedulerSpec,
    params: dict[str, Any],
    ctx: RunContext,
    config: ScheduleConfig,
    lr_cols: tuple[str, ...],
    mom_name: str | None,
) -> pd.DataFrame | None:
    """The closed form at every row (step, lr per group, momentum), or None where it is undefined."""
    import pandas as pd

    t = np.arange(config.steps)
    local = scheduler_time(config)  # what the scheduler's last_epoch is at each optimizer step
    closed_form = spec.closed_form
    if config.interval in ("epoch_fraction", "epoch_arg") and spec.name in EPOCH_CLOSED_FORMS:
        closed_form = _explicit_closed_form(spec)
    if config.interval == "epoch_fraction" and spec.name in NO_FRACTIONAL_CLOSED_FORM:
        return None
    data: dict[str, Any] = {"step": t}
    with np.errstate(all="ignore"):
        for g, name in enumerate(lr_cols):
            gctx = replace(ctx, group=g)
            data[name] = np.asarray(closed_form(local, ctx.group_lrs[g], params, gctx), dtype=np.float64)
        if mom_name is not None and spec.closed_momentum is not None:
            data[mom_name] = np.asarray(spec.closed_momentum(local, ctx.base_lr, params, ctx), dtype=np.float64)
    closed = pd.DataFrame(data)
    if np.isnan(lr_matrix(closed, lr_cols)).all():
        return None
    return closed


def scheduler_time(config: ScheduleConfig) -> np.ndarray:
    """The scheduler's own time (its ``last_epoch``) at every optimizer step under ``config.interval``.

    ``step``: t; ``epoch`` / ``epoch_arg``: the epochs done, t // steps_per_epoch; ``epoch_fraction``:
    the value of the last ``step(epoch + i / steps_per_epoch)`` call — 0 at t = 0 (construction) and
    at t = 1, then ``e + i / steps_per_epoch`` for optimizer step t - 1 (batch i of epoch e): as in
    torch's docs the call after a batch passes that batch's own position, so the schedule runs one
    batch behind t / steps_per_epoch.
    """
    t = np.arange(config.steps)
    spe = config.steps_per_epoch
    if config.interval == "step":
        return t
    if config.interval == "epoch_fraction":
        e, i = np.divmod(np.maximum(t - 1, 0), spe)
        return e + i / spe  # the same float operations as the loop's `epoch + i / steps_per_epoch`
    return t // spe


def _explicit_closed_form(spec: SchedulerSpec) -> Any:
    from lrlab import formulas

    fn = getattr(formulas, EPOCH_CLOSED_FORMS[spec.name])
    return lambda t, lr0, p, ctx: fn(t, base_lr=lr0, **p)


def has_fast_path(config: ScheduleConfig) -> bool:
    """Whether :func:`fast` can compute this config (a closed form that is defined for it)."""
    spec = get_spec(config.scheduler)
    if config.interval == "epoch_fraction" and spec.name in NO_FRACTIONAL_CLOSED_FORM:
        return False
    return spec.closed_form is not None and not spec.needs_metric


def fast(config: ScheduleConfig) -> Curve:
    """The curve from the vectorised closed form alone, without stepping the library.

    The closed forms are proven equal to the stepped library by the parity tests (relative error
    ≤ 1e-12 for every closed-form scheduler, except the documented rounding drift of torch's
    recursive CosineAnnealingLR, which :func:`verify` measures for a given config). A 1M-step curve
    takes milliseconds instead of seconds. Where the closed form is undefined (a torch scheduler that
    refuses to step further), the rows are NaN, ``stopped_at`` says where, and a
    :class:`~lrlab.specs.LibraryRefusal` warning carries the library's own message (the refused call
    is made on the real scheduler, fast-forwarded to it where possible).
    """
    result = _fast(config)
    emit_warnings(result, stacklevel=3)
    return result


def _fast(config: ScheduleConfig) -> Curve:
    spec, params, ctx = resolve(config)
    if not has_fast_path(config):
        raise LrlabError(f"{spec.name} has no closed form for this configuration: step the library", field="scheduler")
    momentum = spec.cycles_momentum is not None and spec.cycles_momentum(params)
    if momentum and config.optimizer == "adagrad":
        simulate(replace(config, steps=1))  # the library's own refusal (no momentum to cycle)
    mom_name = ("beta1" if config.optimizer in ("adam", "adamw") else "momentum") if momentum else None
    lr_cols = ("lr", *[f"lr_{g}" for g in range(1, len(ctx.group_lrs))])
    closed = _closed_frame(spec, params, ctx, config, lr_cols, mom_name)
    if closed is None:
        raise LrlabError(f"{spec.name} has no closed form for this configuration: step the library", field="scheduler")
    lr_values = lr_matrix(closed, lr_cols)
    missing = np.flatnonzero(np.isnan(lr_values).any(axis=1))
    stopped_at = int(missing[0]) if missing.size else None
    notes = []
    refusal = None
    if stopped_at is not None:
        notes.append(f"{spec.name} refuses to step past step {stopped_at - 1} (the closed form ends there too).")
        refusal = _library_refusal(config, spec, params, ctx, stopped_at)
    values = lr_values[: stopped_at if stopped_at is not None else None]
    if not np.all(np.isfinite(values)):
        raise LrlabError(f"{spec.name} produces a non-finite learning rate: check the parameters")
    frame = closed.copy()
    frame.insert(1, "epoch", frame["step"] / config.steps_per_epoch)
    frame.attrs["notes"] = notes
    return Curve(
        config=config,
        spec=spec,
        params=params,
        frame=frame,
        closed=None,
        notes=tuple(notes),
        stopped_at=stopped_at,
        lr_columns=lr_cols,
        source="closed form",
        refusal=refusal,
    )


def _library_refusal(
    config: ScheduleConfig, spec: SchedulerSpec, params: dict[str, Any], ctx: RunContext, stopped_at: int
) -> str:
    """The real library's error (``"ValueError: …"``) for its refusal of the scheduler.step() after optimizer step ``stopped_at``.

    The refused call is made on a fresh scheduler fast-forwarded to just before it (its ``last_epoch``
    set), which is how torch counts for the schedulers that refuse (OneCycleLR); where that does not
    raise, the library is stepped up to that call."""
    t = stopped_at - 1  # the optimizer step after which the refused call is made
    interval, spe = config.interval, config.steps_per_epoch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scheduler = spec.build(throwaway(config, ctx.group_lrs), params, ctx)
            if spec.name not in EPOCH_REFUSED and hasattr(scheduler, "last_epoch"):
                if interval == "epoch_fraction":
                    epoch, i = divmod(t, spe)
                    scheduler.step(epoch + i / spe)
                elif interval == "epoch_arg":
                    scheduler.step((t + 1) // spe)
                else:
                    scheduler.last_epoch = (t + 1) // (1 if interval == "step" else spe) - 1
                    scheduler.step()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    stepped = _simulate(replace(config, steps=min(config.steps, stopped_at + 1)))
    return stepped.refusal or "the closed form is undefined from here on"


def verify(curve: Curve, progress: Any = None) -> tuple[float, int | None]:
    """Step the real library for a fast-path curve: (max relative difference, first differing step)."""
    library = _simulate(curve.config, progress=progress)
    cols = list(curve.lr_columns)
    return compare(
        library.frame[cols].to_numpy(),
        curve.frame[cols].to_numpy(),
        tolerance=curve.spec.tolerance,
        noise=rounding(curve.spec, curve.params, _context(curve.config)),
    )


def _metric_stream(metrics: Any, eval_every: Any, steps: int, notes: list[str]) -> tuple[np.ndarray, int]:
    """Check the metric values and the evaluation interval of a metric-driven run."""
    if isinstance(eval_every, bool) or not isinstance(eval_every, (int, np.integer)) or not 1 <= eval_every <= steps:
        raise LrlabError(
            f"Invalid eval_every ({eval_every}): must be an integer in [1, {steps}] (the run length)",
            field="eval_every",
        )
    needed = (steps - 1) // eval_every
    if metrics is None:
        return synthetic_loss(max(1, needed)), int(eval_every)
    try:
        values = np.asarray(metrics, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise LrlabError("Invalid metrics: must be a list of numbers, one per evaluation", field="metrics") from None
    if values.size < needed:
        raise LrlabError(
            f"Invalid metrics: {values.size} values given, but {steps} steps evaluated every {eval_every} step(s) "
            f"need {needed} (one per scheduler.step(metric) call)",
            field="metrics",
        )
    if not np.all(np.isfinite(values[:needed])):
        i = int(np.flatnonzero(~np.isfinite(values[:needed]))[0])
        raise LrlabError(f"Invalid metrics: value {i + 1} ({values[i]}) is not a finite number", field="metrics")
    if values.size > needed:
        notes.append(f"{values.size - needed} metric value(s) beyond the run were not used.")
    return values, int(eval_every)


_STATE_ATTRS = ("best", "num_bad_epochs", "num_good_epochs", "cooldown_counter", "warmup_counter")


def _state_reader(scheduler: Any) -> Callable[[], dict[str, Any]]:
    """A function reading the decision state of a metric-driven scheduler from the real object. Which
    attributes it has is looked up once (a missing one costs an AttributeError per ``hasattr``: that
    was 4× torch's own ReduceLROnPlateau.step per evaluation)."""
    attrs = tuple(a for a in _STATE_ATTRS if hasattr(scheduler, a))
    groups = scheduler.optimizer.param_groups

    def read() -> dict[str, Any]:
        state = {a: getattr(scheduler, a) for a in attrs}
        state["lrs"] = [float(g["lr"]) for g in groups]
        return state

    return read


def lr_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The float64 columns ``columns`` of ``frame`` as one (rows, columns) array. Column by column: with
    pandas 3's Arrow-backed column labels, ``frame[list(columns)]`` costs ~0.4 ms where this costs ~20 µs."""
    return np.column_stack([frame[c].to_numpy(dtype=np.float64) for c in columns])


def explain_events(
    states: list[dict[str, Any]], params: dict[str, Any], lr_cols: tuple[str, ...], frame: pd.DataFrame
) -> pd.DataFrame:
    """One row per evaluation: the metric, the scheduler's state before and after, and in words what
    it did (improved, waited, reduced, skipped a reduction, cooled down). The lr values are the real
    scheduler's; the words interpret its state changes with the documented decision rule.

    Written for speed (a 20k-evaluation run builds 20k rows): one list per column, appended through
    bound methods, and the state read once per row."""
    import pandas as pd

    patience, cooldown = params.get("patience", 0), params.get("cooldown", 0)
    factor, eps = params.get("factor", 0.1), params.get("eps", 1e-8)
    floor = params["min_lr"][0] if isinstance(params.get("min_lr"), tuple) else params.get("min_lr", 0.0)
    cooldown_note = f"; cooldown for {cooldown} evaluations" if cooldown else ""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    columns["evaluation"] = list(range(1, len(states) + 1))
    add_step, add_metric, add_best = columns["step"].append, columns["metric"].append, columns["best"].append
    add_bad, add_cool = columns["bad_evaluations"].append, columns["cooldown_left"].append
    add_lr_b, add_lr_a = columns["lr_before"].append, columns["lr_after"].append
    add_event, add_why = columns["event"].append, columns["explanation"].append
    lt, gt = operator.lt, operator.gt
    for s in states:
        b, a = s["before"], s["after"]
        lrs_b, lrs_a = b["lrs"], a["lrs"]
        lr_b, lr_a = lrs_b[0], lrs_a[0]
        best, bad, cool = a.get("best"), a.get("num_bad_epochs"), a.get("cooldown_counter")
        bad_before = b.get("num_bad_epochs", 0)
        in_cooldown = b.get("cooldown_counter", 0) > 0
        if any(map(lt, lrs_a, lrs_b)):  # map: no generator frame per group
            event = "reduced"
            why = (
                f"{bad_before + 1} evaluations without improvement > patience {patience}: lr × {factor:g} → {lr_a:.4g}"
                + cooldown_note
            )
        elif any(map(gt, lrs_a, lrs_b)):
            event = "increased"
            why = f"{b.get('num_good_epochs', 0) + 1} improving evaluations > patience {patience}: lr ÷ {factor:g} → {lr_a:.4g}"
        elif "num_good_epochs" not in a and best == b.get("best") and not in_cooldown and bad_before + 1 > patience:
            event = "reduction skipped"
            target = max(lr_b * factor, floor)
            why = (
                f"patience {patience} exhausted, but the lr is already at min_lr ({floor:g})"
                if target == floor
                else f"patience {patience} exhausted, but the change {lr_b - target:.3g} ≤ eps {eps:g}"
            )
        elif in_cooldown:
            event = "cooldown"
            why = f"cooldown: {a.get('cooldown_counter', 0)} evaluation(s) left; bad evaluations are not counted"
        elif best != b.get("best"):
            event = "improved"
            why = f"new best {best:.6g}"
        else:
            event = "no improvement"
            why = f"{a.get('num_bad_epochs', 0)} evaluation(s) without improvement (patience {patience})"
        add_step(s["step"])
        add_metric(s["metric"])
        add_best(best)
        add_bad(bad)
        add_cool(cool)
        add_lr_b(lr_b)
        add_lr_a(lr_a)
        add_event(event)
        add_why(why)
    # column lists, not a list of row dicts: pandas reads 20k rows of dicts ~10× slower
    return pd.DataFrame(columns, columns=list(EVENT_COLUMNS))


#: The columns of :func:`explain_events`, in order.
EVENT_COLUMNS = (
    "evaluation",
    "step",
    "metric",
    "best",
    "bad_evaluations",
    "cooldown_left",
    "lr_before",
    "lr_after",
    "event",
    "explanation",
)


def rounding(spec: SchedulerSpec, params: Mapping[str, Any], ctx: RunContext) -> float:
    """The absolute difference that is the library's own rounding for this run (0 for float64 libraries)."""
    return float(spec.rounding(params, ctx)) if spec.rounding is not None else 0.0


def compare(
    library: np.ndarray, closed: np.ndarray, tolerance: float = DIFF_TOLERANCE, noise: float = 0.0
) -> tuple[float, int | None]:
    """Max relative difference of two curves and the first row where it exceeds :data:`DIFF_TOLERANCE`.

    ``tolerance`` is the spec's (float32 libraries round more). Relative to the closed form's value, floored at 1e-12 of the curve's largest magnitude, so that
    a curve passing through 0 is not judged by its rounding noise there; a difference within a few
    ulps of that largest magnitude is rounding noise and counts as 0 (torch's recursive LinearLR
    leaves ~1e-18 where the closed form of a decay to 0 is exactly 0). A value present in one curve
    and missing (NaN) in the other counts as an infinite difference.
    """
    library = np.atleast_2d(np.asarray(library, dtype=np.float64))
    closed = np.atleast_2d(np.asarray(closed, dtype=np.float64))
    finite = np.isfinite(closed)
    scale = np.max(np.abs(closed[finite])) if finite.any() else 1.0
    floor = max(1e-12 * scale, np.finfo(np.float64).tiny)
    noise = max(4 * np.finfo(np.float64).eps * scale, noise)  # and the library's own rounding (float32)
    with np.errstate(invalid="ignore"):
        difference = np.abs(library - closed)
        rel = np.where(difference <= noise, 0.0, difference / np.maximum(np.abs(closed), floor))
    both_nan = np.isnan(library) & np.isnan(closed)
    rel = np.where(both_nan, 0.0, rel)
    rel = np.where(np.isnan(rel), np.inf, rel)
    row_max = rel.max(axis=1) if rel.ndim == 2 else rel
    over = np.flatnonzero(row_max > tolerance)
    return float(row_max.max()) if row_max.size else 0.0, (int(over[0]) if over.size else None)


def curve(
    name: str | None = None,
    *,
    steps: int | None = None,
    config: ScheduleConfig | Mapping[str, Any] | None = None,
    base_lr: float = 0.1,
    steps_per_epoch: int = 1,
    optimizer: str = "sgd",
    group_lrs: tuple[float, ...] | list[float] = (),
    param_groups: list[dict[str, float]] | None = None,
    momentum: float = 0.9,
    betas: tuple[float, float] | list[float] = (0.9, 0.999),
    interval: str = "step",
    metrics: np.ndarray | list[float] | None = None,
    eval_every: int = 1,
    **params: Any,
) -> pd.DataFrame:
    """The learning rate the real scheduler gives at each step, as a DataFrame.

    Columns ``step`` (0 … steps-1), ``epoch`` (step / steps_per_epoch) and ``lr``; row ``t`` is the
    lr the (t+1)-th ``optimizer.step()`` uses. Extra param groups (``group_lrs``) add ``lr_1``, … ;
    schedulers that cycle momentum add ``momentum`` (SGD) or ``beta1`` (Adam); metric-driven ones
    take ``metrics`` (one value per ``scheduler.step(metric)`` call, made after every ``eval_every``
    optimizer steps) and add a ``metric`` column. ``name`` is a torch
    class name, a transformers function name or an alias such as ``"cosine"``; ``params`` use the
    library's own names. A scheduler with its own ``base_lr`` parameter (CyclicLR) takes ``base_lr``.

    >>> curve("StepLR", steps=6, base_lr=1.0, step_size=2, gamma=0.5)["lr"].tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]

    ``config`` instead of the arguments: a :class:`ScheduleConfig`, or an exported lrlab config
    (the mapping that ``lrlab.export.render(config, "json")`` writes).

    ``interval`` is how ``scheduler.step()`` is called: ``"step"`` (after every optimizer step),
    ``"epoch"`` (once per epoch), ``"epoch_fraction"`` (``scheduler.step(epoch + i / steps_per_epoch)``
    after every optimizer step) or ``"epoch_arg"`` (``scheduler.step(epoch + 1)`` once per epoch).

    Where the library refuses a step (OneCycleLR past ``total_steps``), the frame keeps its rows,
    NaN from the refused step on, and a :class:`~lrlab.specs.LibraryRefusal` warning says so in the
    library's own words; the library's own warnings come as :class:`~lrlab.specs.LibraryWarning`.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     frame = curve("OneCycleLR", steps=14, total_steps=10)
    >>> int(frame["lr"].isna().sum()), said[0].category.__name__
    (3, 'LibraryRefusal')
    """
    if config is not None:
        if name is not None or steps is not None or params:
            raise LrlabError(
                "Invalid config: give either config=… or a scheduler name with its settings", field="config"
            )
        if not isinstance(config, ScheduleConfig):
            config = from_lrlab(config)
        result = _simulate(config, metrics=metrics, eval_every=eval_every)
        emit_warnings(result, stacklevel=3)
        return result.frame
    if name is None:
        raise LrlabError("Invalid curve(): give a scheduler name and steps=…, or config=…", field="scheduler")
    if steps is None:
        raise invalid("steps", None, f"must be an integer in [1, {MAX_STEPS}] (or pass config=…)")
    if param_groups is not None:
        base_lr, group_lrs = _from_param_groups(param_groups, group_lrs)
    try:
        config = ScheduleConfig.make(
            name,
            params,
            steps=steps,
            base_lr=base_lr,
            steps_per_epoch=steps_per_epoch,
            optimizer=optimizer,
            group_lrs=tuple(group_lrs),
            momentum=momentum,
            betas=tuple(betas),
            interval=interval,
        )
    except TypeError as exc:  # unhashable parameter values
        raise LrlabError(f"Invalid parameters: {exc}") from None
    result = _simulate(config, metrics=metrics, eval_every=eval_every)
    emit_warnings(result, stacklevel=3)
    return result.frame


def _from_param_groups(groups: Any, group_lrs: Any) -> tuple[float, tuple[float, ...]]:
    """``param_groups=[{"lr": 0.1}, {"lr": 0.2}]`` → (base lr, extra groups' lrs)."""
    if group_lrs:
        raise LrlabError("Invalid param_groups: give param_groups or group_lrs, not both", field="param_groups")
    if not isinstance(groups, (list, tuple)) or not groups:
        raise LrlabError(
            "Invalid param_groups: must be a non-empty list like [{'lr': 0.1}, {'lr': 0.2}]", field="param_groups"
        )
    lrs = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or set(group) != {"lr"}:
            raise LrlabError(
                f"Invalid param_groups[{i}] ({group!r}): must be a mapping with exactly the key 'lr'",
                field="param_groups",
            )
        lrs.append(group["lr"])
    return lrs[0], tuple(lrs[1:])


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
