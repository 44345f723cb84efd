"""fastai's schedules as formulas in numpy: the closed forms and explain mode of the fastai specs.

fastai's ``ParamScheduler`` sets each hyper-parameter before every training batch to ``f(pct_train)``,
``pct_train`` being the share of the fit done (``t / N`` for batch ``t`` of ``N = n_epoch × n_iter``,
accumulated in float64 as ``TrainEvalCallback`` does: :func:`pct_train`). ``combine_scheds(pcts,
scheds)`` splits ``[0, 1]`` into phases of widths ``pcts`` and runs annealer ``i`` over phase ``i`` at
the position ``u`` within it.

fastai computes the phase and ``u`` in float32 tensors. These closed forms do the same float32
arithmetic (:func:`phases`) and then fastai's annealer formulas in float64 with the ``math`` calls fastai
makes, element by element, so that they equal fastai's values to the bit. A float64 ``u`` would not:
it differs by float32 rounding, ~1e-7 of the lr mid-curve and without bound relative to an lr near 0
(the end of an SGDR cycle, or a restart that fastai's float32 edges put one batch late).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: fastai's annealers (fastai.callback.schedule), the names combine_scheds phases take.
ANNEALERS = ("SchedLin", "SchedCos", "SchedNo", "SchedExp", "SchedPoly")


def run_epochs(steps: int, steps_per_epoch: int) -> int:
    """The epochs a fit needs to cover a run of ``steps`` updates: fastai trains whole epochs."""
    return -(-steps // steps_per_epoch)


def sgdr_epochs(n_cycles: int, cycle_len: int, cycle_mult: int) -> int:
    """fit_sgdr's n_epoch: ``cycle_len · (cycle_mult^n_cycles − 1) // (cycle_mult − 1)`` (fastai's own formula)."""
    return cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)


def sgdr_pcts(n_cycles: int, cycle_len: int, cycle_mult: int) -> list[float]:
    """fit_sgdr's phase widths: cycle i lasts ``cycle_len · cycle_mult^i`` of its n_epoch epochs."""
    n_epoch = sgdr_epochs(n_cycles, cycle_len, cycle_mult)
    return [cycle_len * cycle_mult**i / n_epoch for i in range(n_cycles)]


def pct_train(t: np.ndarray, n_epoch: int, n_iter: int) -> np.ndarray:
    """``learn.pct_train`` before batch ``t`` of a fit: ``epoch / n_epoch`` at each epoch's start, then
    ``+= 1 / (n_iter · n_epoch)`` after each batch, in float64 (TrainEvalCallback)."""
    t = np.asarray(t, dtype=np.int64)
    rows = int(t.max()) + 1 if t.size else 0
    epochs = -(-rows // n_iter)
    grid = np.full((max(epochs, 1), n_iter), 1.0 / (n_iter * n_epoch) if n_epoch else 0.0)
    grid[:, 0] = np.arange(max(epochs, 1)) / max(n_epoch, 1)
    return np.cumsum(grid, axis=1).ravel()[np.clip(t, 0, None)]  # in order, as the += after each batch


def phases(pos: np.ndarray, pcts: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(phase index, position u within it) of ``combine_scheds(pcts, …)`` at fit positions ``pos``, in
    fastai's float32 arithmetic: the edges are ``float32(cumsum(float32(pcts)))`` (torch's CPU cumsum adds
    in double), the phase is the last edge ≤ ``float32(pos)`` (at most the last phase), and
    ``u = (pos − edge_i) / (edge_{i+1} − edge_i)`` in float32."""
    pcts32 = np.asarray(pcts, dtype=np.float64).astype(np.float32)
    edges = np.concatenate([[0.0], np.cumsum(pcts32.astype(np.float64))]).astype(np.float32)
    p = np.asarray(pos, dtype=np.float64).astype(np.float32)
    idx = np.minimum(np.searchsorted(edges, p, side="right") - 1, len(pcts32) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (p - edges[idx]) / (edges[idx + 1] - edges[idx])
    return idx, u.astype(np.float64)


def _each(fn, x: np.ndarray) -> np.ndarray:
    return np.fromiter((fn(v) for v in x.tolist()), dtype=np.float64, count=len(x))


def anneal(kind: str, start: float, end: float, x: np.ndarray, power: float = 1.0) -> np.ndarray:
    """fastai's annealer ``kind`` from ``start`` to ``end`` at positions ``x``: its formulas, with its float
    operations in its order (``math.cos`` and ``**`` element by element, as fastai calls them)."""
    x = np.asarray(x, dtype=np.float64)
    if kind == "SchedLin":
        return start + x * (end - start)
    if kind == "SchedCos":
        return start + (1 + _each(lambda v: math.cos(math.pi * (1 - v)), x)) * (end - start) / 2
    if kind == "SchedNo":
        return np.full(len(x), float(start))
    if kind == "SchedExp":
        return start * _each(lambda v: (end / start) ** v, x)
    if kind == "SchedPoly":
        return start + (end - start) * _each(lambda v: v**power, x)
    raise ValueError(kind)


def combined(t: np.ndarray, n_epoch: int, n_iter: int, pcts: Sequence[float], scheds: Sequence[tuple]) -> np.ndarray:
    """``combine_scheds(pcts, scheds)`` at batches ``t`` of a fit of ``n_epoch × n_iter`` batches (NaN outside
    it). ``scheds`` holds ``(kind, start, end[, power])`` per phase."""
    t = np.asarray(t, dtype=np.int64)
    inside = (t >= 0) & (t < n_epoch * n_iter)
    out = np.full(len(t), np.nan)
    if not inside.any():
        return out
    idx, u = phases(pct_train(t[inside], n_epoch, n_iter), pcts)
    values = np.full(len(idx), np.nan)
    for i, sched in enumerate(scheds):
        here = idx == i
        if here.any():
            kind, start, end, *power = sched
            values[here] = anneal(kind, start, end, u[here], *power)
    out[inside] = values
    return out


def combined_cos(
    t: np.ndarray, n_epoch: int, n_iter: int, pct: float, start: float, middle: float, end: float
) -> np.ndarray:
    """``combined_cos(pct, start, middle, end)``: cosine start → middle over ``pct``, then middle → end."""
    return combined(t, n_epoch, n_iter, [pct, 1 - pct], [("SchedCos", start, middle), ("SchedCos", middle, end)])


def slice_lrs(lr: float, n: int) -> list[float]:
    """What fastai's ``set_hyper('lr', slice(lr))`` gives ``n`` param groups: lr/10 for all but the last."""
    return [lr / 10] * (n - 1) + [lr]


def even_mults(start: float, stop: float, n: int) -> list[float]:
    """fastcore's ``even_mults`` (``slice(start, stop)``): ``n`` lrs log-spaced from start to stop."""
    if n == 1:
        return [stop]
    step = (stop / start) ** (1 / (n - 1))
    return [start * (step**i) for i in range(n)]


def fine_tune_stages(base_lr: float, lr_mult: float, n_groups: int) -> tuple[list[float], list[float]]:
    """The per-group ``lr_max`` of fine_tune's two fit_one_cycle stages, in fastai's group order (body → head):
    ``slice(base_lr)``, then ``slice(base_lr / 2 / lr_mult, base_lr / 2)`` (fine_tune halves base_lr)."""
    half = base_lr / 2
    return slice_lrs(base_lr, n_groups), even_mults(half / lr_mult, half, n_groups)


def fastai_group(ctx_group: int, n_groups: int) -> int:
    """fastai's index of lrlab's param group ``ctx_group``: lrlab's group 0 is fastai's last group (the head,
    which ``learn.recorder.lrs`` records), group 1 the one before it, and so on."""
    return n_groups - 1 - ctx_group


def fine_tune_curve(
    t: np.ndarray,
    *,
    n_iter: int,
    freeze_epochs: int,
    epochs: int,
    lr_max: tuple[float, float],
    div: float,
    div_final: float,
    pct_start: float,
    values: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """fine_tune's curve at batches ``t``: fit_one_cycle(freeze_epochs, lr_max[0], pct_start=0.99, div=25), then
    fit_one_cycle(epochs, lr_max[1], pct_start, div) on its own batch count. ``values`` = (start, middle, end)
    gives the momentum curve instead (moms, the same in both stages)."""
    t = np.asarray(t, dtype=np.int64)
    first = freeze_epochs * n_iter
    one_values = values or (lr_max[0] / 25.0, lr_max[0], lr_max[0] / div_final)
    two_values = values or (lr_max[1] / div, lr_max[1], lr_max[1] / div_final)
    one = combined_cos(t, freeze_epochs, n_iter, 0.99, *one_values)
    two = combined_cos(t - first, epochs, n_iter, pct_start, *two_values)
    return np.where(t < first, one, two)


def cos_text(start: str, end: str, x: str) -> str:
    r"""LaTeX of fastai's SchedCos at x: ``a + \tfrac{b-a}{2}(1 + \cos\pi(1-x))``."""
    return rf"{start} + \tfrac{{{end} - {start}}}{{2}}\left(1 + \cos \pi (1 - {x})\right)"


def position(k: int, n_epoch: int, n_iter: int, pcts: Sequence[float]) -> tuple[float, int, float]:
    """(pct_train, phase, u within it) before batch ``k`` of a fit, as :func:`phases` decides them."""
    pos = pct_train(np.array([k]), n_epoch, n_iter)
    idx, u = phases(pos, pcts)
    return float(pos[0]), int(idx[0]), float(u[0])
