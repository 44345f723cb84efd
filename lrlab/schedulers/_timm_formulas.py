"""timm's schedules as closed forms: numpy float64 over arrays of rows, bit for bit timm's arithmetic.

Each closed form takes the keyword arguments a timm class receives (sizes resolved, as
:mod:`lrlab.schedulers.timm_specs` builds them) and evaluates, for the scheduler's count T of each row,
what that class's ``_get_lr(T)`` computes, in the same order of operations. Where a numpy ufunc could
round differently from the ``math`` call timm makes (``math.cos``, ``math.tanh``, ``math.log`` near a
whole number, ``**``), the ``math`` call is made element by element (once per distinct value). No timm
import: these are pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from lrlab.specs import RunContext

KW = dict[str, Any]  # keyword arguments of a timm class, as timm names them, sizes resolved


# ---- the run: epochs, and the scheduler's own time ------------------------------------------------


def run_epochs(ctx: RunContext) -> int:
    """Epochs the run reaches: ``steps / steps_per_epoch`` rounded up (the last one may be partial)."""
    return -(-ctx.steps // ctx.steps_per_epoch)


def run_length(in_epochs: bool, ctx: RunContext) -> int:
    """The run's length in the unit ``t_in_epochs`` picks: epochs, or optimizer updates."""
    return run_epochs(ctx) if in_epochs else ctx.steps


def scheduler_time(t: np.ndarray, in_epochs: bool, spe: int) -> np.ndarray:
    """The count timm last received at row ``t``: epochs done (``step(epoch + 1)`` after each epoch)
    with ``t_in_epochs``, else updates done (``step_update(num_updates)`` after each update)."""
    t = np.asarray(t, dtype=np.int64)
    return t // spe if in_epochs else t


def noise_applies(noise_range: Any, u: np.ndarray) -> np.ndarray:
    """timm's ``_is_apply_noise`` over times ``u``."""
    if noise_range is None:
        return np.zeros(u.shape, dtype=bool)
    if isinstance(noise_range, (list, tuple)):
        return (noise_range[0] <= u) & (u < noise_range[1])
    return u >= noise_range


def epoch_metrics(ctx: RunContext) -> np.ndarray:
    """The metric PlateauLRScheduler receives after each epoch: lrlab's synthetic loss over the run's epochs."""
    from lrlab.metrics import synthetic_loss

    return synthetic_loss(run_epochs(ctx))


# ---- closed forms: timm's arithmetic over numpy arrays of times -----------------------------------------


def _each(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``fn`` (a ``math`` function timm calls) element by element: the same libm call, bit for bit."""
    return np.array([fn(v) for v in x.tolist()], dtype=np.float64).reshape(x.shape)


def _power(x: np.ndarray, k: float) -> np.ndarray:
    """``x ** k`` with Python floats, as timm computes it (NaN where Python would give a complex number)."""
    if k == 1.0:
        return x.astype(np.float64)  # pow(x, 1) is x exactly
    out = []
    for v in x.tolist():
        r = v**k
        out.append(r if isinstance(r, float) else math.nan)
    return np.array(out, dtype=np.float64).reshape(x.shape)


def _power_of(base: float, exponents: np.ndarray) -> np.ndarray:
    """``base ** e`` for integer (or float) exponents, once per distinct exponent."""
    values, inverse = np.unique(exponents, return_inverse=True)
    out = []
    for e in values.tolist():
        try:
            out.append(base ** (int(e) if float(e).is_integer() else e))
        except (OverflowError, ZeroDivisionError):
            out.append(math.nan)
    return np.array(out, dtype=np.float64)[inverse].reshape(exponents.shape)


def _cycles(tt: np.ndarray, t0: int, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i, T_i, t_c, ok) as timm's cosine / tanh / poly compute them for times ``tt`` (ints ≥ 0): the
    cycle index, its length, the time into it; ``ok`` is False where timm's ``math.log`` gets a number
    ≤ 0 (cycle_mul < 1, past t_initial / (1 − cycle_mul)) and raises ValueError."""
    if m == 1.0:
        i = tt // t0
        return i, np.full(tt.shape, float(t0)), (tt - t0 * i).astype(np.float64), np.ones(tt.shape, dtype=bool)
    x = 1 - tt / t0 * (1 - m)
    ok = x > 0
    with np.errstate(all="ignore"):
        q = np.where(ok, np.log(np.where(ok, x, 1.0)) / math.log(m), 0.0)
    i = np.floor(q).astype(np.int64)
    # near a whole number an ulp decides the cycle: there, timm's own call decides (math.log(x, m))
    near = np.flatnonzero(ok & (np.abs(q - np.round(q)) <= 1e-9 * np.maximum(1.0, np.abs(q))))
    i[near] = [math.floor(math.log(v, m)) for v in x[near].tolist()]
    mi = _power_of(m, i)
    return i, mi * t0, tt - (1 - mi) / (1 - m) * t0, ok


def _schedule(u: np.ndarray, lr0: float, kw: KW, tail: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """The lr at scheduler times ``u``: the construction lr at 0, the linear warm-up below warmup_t,
    then ``tail(times after the warm-up, their indices)``; NaN where timm raises."""
    w, w0 = kw["warmup_t"], kw["warmup_lr_init"]
    out = np.full(u.shape, np.nan)
    out[u == 0] = w0 if w else lr0  # set by the constructor (update_groups), before any step
    warm = (u > 0) & (u < w)
    if warm.any():
        out[warm] = w0 + u[warm] * ((kw.get("_warm_target", lr0) - w0) / w)
    rest = (u > 0) & (u >= w)
    if rest.any():
        tt = u[rest] - w if kw["warmup_prefix"] else u[rest]
        out[rest] = tail(tt, np.flatnonzero(rest))
    return out


def _cycled(u: np.ndarray, lr0: float, kw: KW, shape: Callable[..., np.ndarray]) -> np.ndarray:
    """Cosine / tanh / poly: the cycle bookkeeping, then ``shape(lr_max, t_c, T_i)`` within cycle_limit cycles."""

    def tail(tt: np.ndarray, _: np.ndarray) -> np.ndarray:
        i, t_i, t_c, ok = _cycles(tt, kw["t_initial"], kw["cycle_mul"])
        lr_max = lr0 * _power_of(kw["cycle_decay"], i)
        lr_min = kw["lr_min"]
        with np.errstate(all="ignore"):
            values = np.where(i < kw["cycle_limit"], shape(lr_max, t_c, t_i), lr_min)
        return np.where(ok, values, np.nan)

    return _schedule(u, lr0, kw, tail)


def cosine_values(u: np.ndarray, lr0: float, kw: KW) -> np.ndarray:
    k, lr_min = kw["k_decay"], kw["lr_min"]

    def shape(lr_max: np.ndarray, t_c: np.ndarray, t_i: np.ndarray) -> np.ndarray:
        angle = math.pi * _power(t_c, k) / _power(t_i, k)
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + _each(math.cos, angle))

    return _cycled(u, lr0, kw, shape)


def tanh_values(u: np.ndarray, lr0: float, kw: KW) -> np.ndarray:
    lb, ub, lr_min = kw["lb"], kw["ub"], kw["lr_min"]

    def shape(lr_max: np.ndarray, t_c: np.ndarray, t_i: np.ndarray) -> np.ndarray:
        tr = t_c / t_i
        return lr_min + 0.5 * (lr_max - lr_min) * (1 - _each(math.tanh, lb * (1.0 - tr) + ub * tr))

    if kw["warmup_t"] and not kw["warmup_prefix"]:  # the warm-up climbs to the tanh curve's value at warmup_t
        kw = {**kw, "_warm_target": float(_cycled(np.array([kw["warmup_t"]]), lr0, {**kw, "warmup_t": 0}, shape)[0])}
    return _cycled(u, lr0, kw, shape)


def poly_values(u: np.ndarray, lr0: float, kw: KW) -> np.ndarray:
    k, power, lr_min = kw["k_decay"], kw["power"], kw["lr_min"]

    def shape(lr_max: np.ndarray, t_c: np.ndarray, t_i: np.ndarray) -> np.ndarray:
        return lr_min + (lr_max - lr_min) * _power(1 - _power(t_c, k) / _power(t_i, k), power)

    return _cycled(u, lr0, kw, shape)


def step_values(u: np.ndarray, lr0: float, kw: KW) -> np.ndarray:
    def tail(tt: np.ndarray, _: np.ndarray) -> np.ndarray:
        return lr0 * _power_of(kw["decay_rate"], tt.astype(np.float64) // kw["decay_t"])

    return _schedule(u, lr0, kw, tail)


def multistep_values(u: np.ndarray, lr0: float, kw: KW) -> np.ndarray:
    milestones = np.asarray(kw["decay_t"], dtype=np.int64)

    def tail(tt: np.ndarray, _: np.ndarray) -> np.ndarray:  # timm counts milestones m ≤ t + 1
        return lr0 * _power_of(kw["decay_rate"], np.searchsorted(milestones, tt + 1, side="right"))

    return _schedule(u, lr0, kw, tail)


VALUES: dict[str, Callable[[np.ndarray, float, KW], np.ndarray]] = {
    "CosineLRScheduler": cosine_values,
    "TanhLRScheduler": tanh_values,
    "StepLRScheduler": step_values,
    "MultiStepLRScheduler": multistep_values,
    "PolyLRScheduler": poly_values,
}


def class_closed_form(name: str, t: np.ndarray, lr0: float, kw: KW, spe: int) -> np.ndarray:
    """The lr of rows ``t`` for timm class ``name`` built with ``kw``; all NaN where there is no closed
    form for the configuration (noise during the run, PlateauLRScheduler)."""
    t = np.asarray(t, dtype=np.int64)
    if name not in VALUES:
        return np.full(t.shape, np.nan)
    times = scheduler_time(t, kw["t_in_epochs"], spe)
    u, inverse = np.unique(times, return_inverse=True)
    if noise_applies(kw["noise_range_t"], u[u > 0]).any():  # torch's RNG, seeded noise_seed + t: no formula
        return np.full(t.shape, np.nan)
    return VALUES[name](u, float(lr0), kw)[inverse].reshape(t.shape)
