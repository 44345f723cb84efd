"""Closed forms of optax's schedules: numpy float64, vectorised over an integer array of counts.

Each follows the code of ``optax/schedules/_schedule.py`` (optax 0.2.8), not its docstrings: where the two
differ the code wins (the specs' notes say where). Pure numpy, no jax: the fast path and explain mode use
them without loading optax. optax itself computes in float32; tests/test_lib_optax.py measures how far
apart the two are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Pairs = Sequence[tuple[int, float]]  # boundaries_and_scales, sorted by step


def _t(t: np.ndarray) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def constant(t: np.ndarray, *, value: float) -> np.ndarray:
    return np.full(np.shape(t), float(value))


def polynomial(
    t: np.ndarray, *, init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int
) -> np.ndarray:
    """(I − E)(1 − c/T)^P + E with c = clip(t − B, 0, T)."""
    count = np.clip(_t(t) - transition_begin, 0, transition_steps)
    return (init_value - end_value) * (1.0 - count / transition_steps) ** power + end_value


def linear(t: np.ndarray, *, init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0):
    return polynomial(
        t,
        init_value=init_value,
        end_value=end_value,
        power=1.0,
        transition_steps=transition_steps,
        transition_begin=transition_begin,
    )


def exponential_decay(
    t: np.ndarray,
    *,
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int,
    staircase: bool,
    end_value: float | None,
) -> np.ndarray:
    """I·r^p with p = (t − B)/T (floored with staircase), I up to B; clipped at E (a floor for r < 1, a
    ceiling for r ≥ 1)."""
    t = np.asarray(t)
    decreased = _t(t) - transition_begin
    p = np.floor_divide(decreased, transition_steps) if staircase else decreased / transition_steps
    with np.errstate(over="ignore"):
        value = np.where(decreased <= 0, float(init_value), init_value * np.power(float(decay_rate), p))
    if end_value is not None:
        value = np.maximum(value, end_value) if decay_rate < 1.0 else np.minimum(value, end_value)
    return value


def cosine_decay(t: np.ndarray, *, init_value: float, decay_steps: int, alpha: float, exponent: float) -> np.ndarray:
    """I·((1 − α)·(½(1 + cos(π·min(t, T)/T)))^e + α)."""
    count = np.minimum(_t(t), decay_steps)
    cosine = 0.5 * (1.0 + np.cos(np.pi * count / decay_steps))
    return init_value * ((1.0 - alpha) * cosine**exponent + alpha)


def warmup_cosine_decay(
    t: np.ndarray,
    *,
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float,
    exponent: float,
) -> np.ndarray:
    """A linear warm-up over W steps joined at W to a cosine decay over decay_steps − W steps."""
    t = np.asarray(t)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    decay = cosine_decay(
        t - warmup_steps, init_value=peak_value, decay_steps=decay_steps - warmup_steps, alpha=alpha, exponent=exponent
    )
    if warmup_steps <= 0:
        return decay
    warm = linear(t, init_value=init_value, end_value=peak_value, transition_steps=warmup_steps)
    return np.where(t < warmup_steps, warm, decay)


def warmup_exponential_decay(
    t: np.ndarray,
    *,
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int,
    staircase: bool,
    end_value: float | None,
) -> np.ndarray:
    t = np.asarray(t)
    decay = exponential_decay(
        t - warmup_steps,
        init_value=peak_value,
        transition_steps=transition_steps,
        decay_rate=decay_rate,
        transition_begin=transition_begin,
        staircase=staircase,
        end_value=end_value,
    )
    if warmup_steps <= 0:
        return decay
    warm = linear(t, init_value=init_value, end_value=peak_value, transition_steps=warmup_steps)
    return np.where(t < warmup_steps, warm, decay)


def piecewise_constant(t: np.ndarray, *, init_value: float, boundaries_and_scales: Pairs) -> np.ndarray:
    """I times the product of the scales of every boundary b ≤ t (the switch happens AT the boundary)."""
    t = np.asarray(t)
    value = np.full(t.shape, float(init_value))
    for boundary, scale in sorted(boundaries_and_scales):
        value = np.where(t >= boundary, value * scale, value)
    return value


def interpolation_knots(init_value: float, boundaries_and_scales: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """The knots optax interpolates between: steps (0, b₁, …, b_k) and values (I, I·s₁, I·s₁·s₂, …)."""
    pairs = sorted(boundaries_and_scales)
    bounds = np.array([0, *(b for b, _ in pairs)], dtype=np.int64)
    values = np.cumprod([float(init_value), *(float(s) for _, s in pairs)])
    return bounds, values


def piecewise_interpolate(
    t: np.ndarray, *, interpolate_type: str, init_value: float, boundaries_and_scales: Pairs
) -> np.ndarray:
    """Between knots i and i+1: linear or cosine from v_i to v_{i+1} over max(b_{i+1} − b_i, 1) steps;
    from the last boundary on, the last value."""
    t = np.asarray(t)
    tf = _t(t)
    bounds, values = interpolation_knots(init_value, boundaries_and_scales)
    out = np.where(t >= bounds[-1], values[-1], 0.0)
    for i in range(len(bounds) - 1):
        inside = (bounds[i] <= t) & (t < bounds[i + 1])
        pct = (tf - bounds[i]) / max(int(bounds[i + 1] - bounds[i]), 1)
        start, end = values[i], values[i + 1]
        if interpolate_type == "linear":
            between = (end - start) * pct + start
        else:
            between = end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1.0)
        out = np.where(inside, between, out)
    return out


def linear_onecycle_knots(
    transition_steps: int,
    peak_value: float,
    pct_start: float,
    pct_final: float,
    div_factor: float,
    final_div_factor: float,
) -> tuple[float, list[tuple[int, float]]]:
    """(init value, boundaries and scales) exactly as optax builds them: ``int(pct · T)`` truncates."""
    return peak_value / div_factor, [
        (int(pct_start * transition_steps), div_factor),
        (int(pct_final * transition_steps), 1.0 / div_factor),
        (transition_steps, 1.0 / final_div_factor),
    ]


def cosine_onecycle_knots(
    transition_steps: int, peak_value: float, pct_start: float, div_factor: float, final_div_factor: float
) -> tuple[float, list[tuple[int, float]]]:
    return peak_value / div_factor, [
        (int(pct_start * transition_steps), div_factor),
        (int(transition_steps), 1.0 / (div_factor * final_div_factor)),
    ]


def join(t: np.ndarray, pieces: Sequence, boundaries: Sequence[int]) -> np.ndarray:
    """``join_schedules``: piece i (a function of local time) from boundary i − 1 on, seeing t − b_{i−1}.
    With boundaries in order, the last boundary ≤ t picks the piece (optax's chain of ``where``)."""
    t = np.asarray(t)
    which = np.searchsorted(np.asarray(boundaries, dtype=np.int64), t, side="right")
    starts = [0, *boundaries]
    out = np.full(t.shape, np.nan)
    for i, piece in enumerate(pieces):
        mask = which == i
        if mask.any():
            out[mask] = piece(t[mask] - starts[i])
    return out


def sgdr_boundaries(decay_steps: Sequence[int]) -> list[int]:
    """Where each cycle of ``sgdr_schedule`` starts after the first: the running sums of decay_steps."""
    return [int(b) for b in np.cumsum(decay_steps)[:-1]]
