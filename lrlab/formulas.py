r"""Closed forms of every scheduler: pure, vectorised functions of the step index.

Each function takes ``t``, a numpy array of scheduler step indices (row ``t`` of a curve: the lr
after ``t`` calls of ``scheduler.step()``), and keyword-only parameters named as the library names
them, and returns the learning rate at each ``t`` as float64. They are written from the formulas in
the libraries' documentation and source (torch 2.13 ``torch/optim/lr_scheduler.py``, transformers
5.23 ``optimization.py``); the parity tests prove them equal to the stepped library objects.

Conventions: :math:`\eta_0` is the group's initial lr, :math:`t` the step index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Array = np.ndarray


def _f(t: Array) -> Array:
    return np.asarray(t, dtype=np.float64)


def cosann(start: Array | float, end: Array | float, pct: Array) -> Array:
    r"""Cosine interpolation :math:`e + \tfrac{s-e}{2}(1+\cos\pi p)`: from ``start`` at p=0 to ``end`` at p=1."""
    return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)


def linear_interp(start: Array | float, end: Array | float, pct: Array) -> Array:
    r""":math:`s + (e-s)p`, written as torch's OneCycleLR writes it."""
    return (end - start) * pct + start


# ---- torch -----------------------------------------------------------------------------------


def step_decay(t: Array, *, base_lr: float, step_size: int, gamma: float) -> Array:
    r""":math:`\eta_t = \eta_0\,\gamma^{\lfloor t/s\rfloor}` (StepLR)."""
    return base_lr * gamma ** np.floor_divide(np.asarray(t), step_size).astype(np.float64)


def multistep_decay(t: Array, *, base_lr: float, milestones: Sequence[int], gamma: float) -> Array:
    r""":math:`\eta_t = \eta_0\,\gamma^{\#\{m\le t\}}`, milestones counted with multiplicity (MultiStepLR)."""
    count = np.searchsorted(np.sort(np.asarray(milestones, dtype=np.int64)), np.asarray(t), side="right")
    return base_lr * gamma ** count.astype(np.float64)


def constant_factor(t: Array, *, base_lr: float, factor: float, total_iters: int) -> Array:
    r""":math:`\eta_t = \eta_0 \cdot (\text{factor if } t<T \text{ else } 1)` (ConstantLR)."""
    return np.where(np.asarray(t) < total_iters, base_lr * factor, base_lr)


def linear_factor(t: Array, *, base_lr: float, start_factor: float, end_factor: float, total_iters: int) -> Array:
    r""":math:`\eta_t = \eta_0\,(s + (e-s)\min(t,T)/T)` (LinearLR)."""
    frac = np.minimum(_f(t), total_iters) / total_iters
    return base_lr * (start_factor + (end_factor - start_factor) * frac)


def exponential(t: Array, *, base_lr: float, gamma: float) -> Array:
    r""":math:`\eta_t = \eta_0\,\gamma^t` (ExponentialLR)."""
    return base_lr * gamma ** _f(t)


def polynomial(t: Array, *, base_lr: float, total_iters: int, power: float) -> Array:
    r""":math:`\eta_t = \eta_0\,(1-\min(t,T)/T)^p` (PolynomialLR)."""
    return base_lr * (1.0 - np.minimum(_f(t), total_iters) / total_iters) ** power


def cosine_annealing(t: Array, *, base_lr: float, T_max: int, eta_min: float) -> Array:
    r""":math:`\eta_t = \eta_{\min} + \tfrac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T_{\max}))`, periodic past T_max."""
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * _f(t) / T_max)) / 2


def cyclic(
    t: Array,
    *,
    base_lr: float,
    max_lr: float,
    step_size_up: int,
    step_size_down: int | None,
    mode: str,
    gamma: float,
) -> Array:
    r"""Triangular cycles between ``base_lr`` and ``max_lr`` (CyclicLR), scaled per mode.

    .. math:: \eta_t = b + (M-b)\,s(t)\,g(t)

    where :math:`s` is the triangle wave with rising part ``step_size_up`` and :math:`g` is 1
    (triangular), :math:`2^{-(c-1)}` for cycle :math:`c` (triangular2) or :math:`\gamma^t` (exp_range).
    triangular2 is NaN from cycle 1025 on, where torch's ``2.0 ** (c - 1)`` overflows and it refuses to step.
    """
    scale, g = _cyclic_shape(t, step_size_up, step_size_down, mode, gamma)
    return base_lr + (max_lr - base_lr) * scale * g


def cyclic_momentum(
    t: Array,
    *,
    base_momentum: float,
    max_momentum: float,
    step_size_up: int,
    step_size_down: int | None,
    mode: str,
    gamma: float,
) -> Array:
    r"""CyclicLR's momentum, moving inversely to the lr: :math:`\mu_t = \mu_{\max} - (\mu_{\max}-\mu_b)\,s(t)\,g(t)`."""
    scale, g = _cyclic_shape(t, step_size_up, step_size_down, mode, gamma)
    return max_momentum - (max_momentum - base_momentum) * scale * g


def _cyclic_shape(t: Array, up: int, down: int | None, mode: str, gamma: float) -> tuple[Array, Array]:
    down = up if down is None else down
    total = float(up + down)
    ratio = up / total
    tf = _f(t)
    cycle = np.floor(1 + tf / total)
    x = 1.0 + tf / total - cycle
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
    if mode == "triangular":
        g = np.ones_like(tf)
    elif mode == "triangular2":
        # torch computes 2.0 ** (cycle - 1) with Python floats: OverflowError from cycle 1025 on, and
        # the library curve stops there; so does the closed form (NaN), as OneCycleLR's does past N
        with np.errstate(over="ignore"):
            g = np.where(cycle <= 1024, 1 / (2.0 ** (cycle - 1)), np.nan)
    else:  # exp_range scales by iterations
        g = gamma**tf
    return scale, g


def one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[tuple[float, str, str]]:
    """(end_step, start key, end key) for each phase, exactly as torch's OneCycleLR lays them out."""
    if three_phase:
        return [
            (float(pct_start * total_steps) - 1, "initial", "max"),
            (float(2 * pct_start * total_steps) - 2, "max", "initial"),
            (total_steps - 1, "initial", "min"),
        ]
    return [(float(pct_start * total_steps) - 1, "initial", "max"), (total_steps - 1, "max", "min")]


def one_cycle(
    t: Array,
    *,
    max_lr: float,
    total_steps: int,
    pct_start: float,
    anneal_strategy: str,
    div_factor: float,
    final_div_factor: float,
    three_phase: bool,
) -> Array:
    r"""The 1cycle policy (OneCycleLR): warm up from :math:`M/d` to :math:`M`, anneal to :math:`M/(d\,f)`.

    Defined for :math:`0\le t\le N` (torch extrapolates one step at :math:`t=N`, then refuses);
    NaN beyond.
    """
    initial = max_lr / div_factor
    values = {"initial": initial, "max": max_lr, "min": initial / final_div_factor}
    return _one_cycle(t, values, total_steps, pct_start, anneal_strategy, three_phase)


def one_cycle_momentum(
    t: Array,
    *,
    total_steps: int,
    pct_start: float,
    anneal_strategy: str,
    three_phase: bool,
    base_momentum: float,
    max_momentum: float,
) -> Array:
    r"""OneCycleLR's momentum: :math:`\mu_{\max}\to\mu_{b}` while the lr rises, then back."""
    values = {"initial": max_momentum, "max": base_momentum, "min": max_momentum}
    return _one_cycle(t, values, total_steps, pct_start, anneal_strategy, three_phase)


def _one_cycle(
    t: Array, values: dict[str, float], total_steps: int, pct_start: float, anneal: str, three_phase: bool
) -> Array:
    tf = _f(t)
    out = np.full(tf.shape, np.nan)
    interp = cosann if anneal == "cos" else linear_interp
    phases = one_cycle_phases(total_steps, pct_start, three_phase)
    done = tf > total_steps  # torch raises past N
    start = 0.0
    for i, (end, a, b) in enumerate(phases):
        last = i == len(phases) - 1
        mask = ~done & (np.ones_like(done) if last else tf <= end)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[mask] = interp(values[a], values[b], (tf[mask] - start) / (end - start))
        done |= mask
        start = end
    return out


def warm_restarts(t: Array, *, base_lr: float, T_0: int, T_mult: int, eta_min: float) -> Array:
    r"""SGDR (CosineAnnealingWarmRestarts): cosine over cycles of length :math:`T_0 T_{\text{mult}}^n`.

    The cycle index and position are found in exact integer arithmetic, as ``step()`` counts them.
    """
    ti = np.asarray(t, dtype=np.int64)
    if T_mult == 1:
        t_cur = ti % T_0
        t_i = np.full(ti.shape, T_0, dtype=np.int64)
    else:
        t_cur = ti.copy()
        t_i = np.full(ti.shape, T_0, dtype=np.int64)
        active = t_cur >= t_i
        while active.any():  # at most log_{T_mult}(t/T_0) passes
            t_cur[active] -= t_i[active]
            t_i[active] *= T_mult
            active = t_cur >= t_i
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t_cur / t_i)) / 2


def warm_restarts_explicit(epoch: Array, *, base_lr: float, T_0: int, T_mult: int, eta_min: float) -> Array:
    r"""CosineAnnealingWarmRestarts stepped as ``step(epoch)`` (an explicit, possibly fractional epoch).

    torch's own formula for that call: :math:`T_{cur} = e \bmod T_0` for :math:`T_{\text{mult}} = 1`,
    else :math:`n = \lfloor \log_{T_{\text{mult}}}(e/T_0\,(T_{\text{mult}}-1) + 1) \rfloor`,
    :math:`T_{cur} = e - T_0 (T_{\text{mult}}^n - 1)/(T_{\text{mult}} - 1)`,
    :math:`T_i = T_0 T_{\text{mult}}^n`. The logarithm is Python's ``math.log(x, base)``, as in torch, so
    that a float truncation at a restart lands on the same cycle as there (e.g. T_0=1, T_mult=3 at
    epoch 121, one cycle early).
    """
    e = _f(epoch)
    if T_mult == 1:
        t_cur = np.where(e >= T_0, np.mod(e, T_0), e)
        t_i = np.full(e.shape, float(T_0))
    else:
        x = e / T_0 * (T_mult - 1) + 1
        n = np.fromiter((int(math.log(v, T_mult)) for v in x.ravel()), dtype=np.int64, count=x.size).reshape(e.shape)
        later = e >= T_0
        n = np.where(later, n, 0)
        t_cur = np.where(later, e - (T_0 * (T_mult**n - 1)) / (T_mult - 1), e)
        t_i = (T_0 * T_mult**n).astype(np.float64)
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t_cur / t_i)) / 2


def swa_anneal(t: Array, *, start_lr: float, swa_lr: float, anneal_epochs: int, anneal_strategy: str) -> Array:
    r"""SWALR: anneal from the optimizer's lr to ``swa_lr`` over ``anneal_epochs`` steps, then hold."""
    k = _f(t)  # SWALR's own count: _step_count - 1, which is t
    frac = np.minimum(1.0, k / max(1, anneal_epochs)) if anneal_epochs > 0 else np.ones_like(k)
    alpha = frac if anneal_strategy == "linear" else (1 - np.cos(np.pi * frac)) / 2
    return swa_lr * alpha + start_lr * (1 - alpha)


# ---- transformers (multipliers of the group's initial lr) ------------------------------------


def hf_warmup(t: Array, num_warmup_steps: int) -> Array:
    r"""The linear warm-up ramp :math:`t/\max(1,W)` shared by the transformers schedules."""
    return _f(t) / float(max(1, num_warmup_steps))


def hf_constant_with_warmup(t: Array, *, num_warmup_steps: int) -> Array:
    return np.where(np.asarray(t) < num_warmup_steps, hf_warmup(t, num_warmup_steps), 1.0)


def hf_linear(t: Array, *, num_warmup_steps: int, num_training_steps: int) -> Array:
    tf = _f(t)
    decay = np.maximum(0.0, (num_training_steps - tf) / float(max(1, num_training_steps - num_warmup_steps)))
    return np.where(tf < num_warmup_steps, hf_warmup(t, num_warmup_steps), decay)


def hf_cosine(
    t: Array, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float, min_lr_rate: float = 0.0
) -> Array:
    tf = _f(t)
    progress = (tf - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + np.cos(np.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return np.where(tf < num_warmup_steps, hf_warmup(t, num_warmup_steps), np.maximum(0, factor))


def hf_cosine_hard_restarts(t: Array, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int) -> Array:
    tf = _f(t)
    progress = (tf - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    value = np.maximum(0.0, 0.5 * (1.0 + np.cos(np.pi * ((float(num_cycles) * progress) % 1.0))))
    value = np.where(progress >= 1.0, 0.0, value)
    return np.where(tf < num_warmup_steps, hf_warmup(t, num_warmup_steps), value)


def hf_polynomial(
    t: Array, *, num_warmup_steps: int, num_training_steps: int, lr_end: float, power: float, lr_init: float
) -> Array:
    tf = _f(t)
    decay_steps = num_training_steps - num_warmup_steps
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_remaining = 1 - (tf - num_warmup_steps) / decay_steps
        decay = ((lr_init - lr_end) * pct_remaining**power + lr_end) / lr_init
    return np.where(
        tf < num_warmup_steps,
        hf_warmup(t, num_warmup_steps),
        np.where(tf > num_training_steps, lr_end / lr_init, decay),
    )


def hf_inverse_sqrt(t: Array, *, num_warmup_steps: int, timescale: int) -> Array:
    tf = _f(t)
    shift = timescale - num_warmup_steps
    with np.errstate(divide="ignore", invalid="ignore"):
        decay = 1.0 / np.sqrt((tf + shift) / timescale)
    return np.where(tf < num_warmup_steps, hf_warmup(t, num_warmup_steps), decay)


def hf_cosine_min_lr_rate(
    t: Array,
    *,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float,
    min_lr_rate: float,
    warmup_lr_rate: float | None,
) -> Array:
    tf = _f(t)
    w = float(num_warmup_steps)
    if warmup_lr_rate is None:
        warm = (tf + 1.0) / max(1.0, w)
    else:
        warm = warmup_lr_rate + (1.0 - warmup_lr_rate) * tf / max(1, w - 1)
    progress = (tf - w + 1.0) / max(1.0, float(num_training_steps) - w)
    factor = 0.5 * (1.0 + np.cos(np.pi * num_cycles * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return np.where(tf < w, warm, np.maximum(0, factor))


def hf_wsd(
    t: Array,
    *,
    num_warmup_steps: int,
    num_stable_steps: int,
    num_decay_steps: int,
    warmup_type: str,
    decay_type: str,
    min_lr_ratio: float,
    num_cycles: float,
) -> Array:
    tf = _f(t)
    m = min_lr_ratio
    with np.errstate(invalid="ignore"):
        p = tf / float(max(1, num_warmup_steps))
        warm = {"linear": p, "cosine": 0.5 * (1.0 - np.cos(np.pi * p)), "1-sqrt": 1.0 - np.sqrt(1.0 - p)}[warmup_type]
        q = (tf - num_warmup_steps - num_stable_steps) / float(max(1, num_decay_steps))
        decay = {
            "linear": 1.0 - q,
            "cosine": 0.5 * (1.0 + np.cos(np.pi * float(num_cycles) * 2.0 * q)),
            "1-sqrt": 1.0 - np.sqrt(q),
        }[decay_type]
    stable_end = num_warmup_steps + num_stable_steps
    return np.select(
        [tf < num_warmup_steps, tf < stable_end, tf < stable_end + num_decay_steps],
        [np.maximum(0.0, warm * (1.0 - m) + m), 1.0, np.maximum(0.0, decay * (1.0 - m) + m)],
        default=m,
    )
