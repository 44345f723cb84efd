"""A shape read off a curve, for sources no analyser describes (a LambdaLR, MultiplicativeLR, …).

Tried in order, each checked against the curve by the engine (a shape that does not reproduce the
real curve to :data:`~lrlab.translating.engine.SHAPE_CHECK` is not used, so a wrong guess costs only
time):

1. an optional warm-up from row 0 up to the curve's first maximum (linear or cosine), an optional
   plateau at the peak (warm-up–stable–decay), then one decay
   (constant, linear, cosine, polynomial or exponential) to a floor that is either reached and held
   (the floor and the decay's length read off the curve) or not reached within the run (the floor
   and the length fitted by :func:`scipy.optimize.least_squares` on the decay's rows);
2. steps: a piecewise-constant curve of at most :data:`MAX_STAIRS` runs (``0.9 ** floor(epoch / 30)``).

This is how ``LambdaLR(lambda s: min(1, s / 10) * …)`` — warm-up and cosine written by hand, as the
tutorials do — translates exactly into the libraries that have that schedule built in.
"""

from __future__ import annotations

import itertools

import numpy as np

from lrlab.translating.shape import Segment, Shape, constant, merge

MAX_STAIRS = 60
CLOSE = 1e-9  # relative: two rows of a float64 library "hold" the same value


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= CLOSE * max(abs(a), abs(b), 1e-300)


def _stairs(lr: np.ndarray) -> Shape | None:
    change = [0] + [t for t in range(1, len(lr)) if not _same(lr[t], lr[t - 1])]
    if len(change) < 2 or len(change) > MAX_STAIRS:
        return None
    if any(b - a < 2 for a, b in itertools.pairwise(change)):
        return None  # a value held for one row only is a curve sampled, not a stair
    return Shape(len(lr), merge([constant(t, float(lr[t])) for t in change]))


def _warmups(lr: np.ndarray, top: int) -> list[list[Segment]]:
    if top == 0:
        return [[]]
    return [[Segment(kind, 0.0, float(top), float(lr[0]), float(lr[top]))] for kind in ("linear", "cosine")]


def _decays(lr: np.ndarray, top: int) -> list[list[Segment]]:
    """One decay from row ``top``: reached-and-held floors read off the curve, open ones fitted."""
    from scipy.optimize import least_squares

    steps = len(lr)
    peak = float(lr[top])
    tail = lr[top:]
    if all(_same(v, peak) for v in tail):
        return [[constant(top, peak)]]
    final = float(lr[-1])
    hold = steps - 1
    while hold > top and _same(lr[hold - 1], final):
        hold -= 1
    out: list[list[Segment]] = []
    rows = np.arange(top, steps, dtype=np.float64)
    if hold < steps - 1 and hold > top:  # reached at row `hold` and held
        length = float(hold - top)
        for kind in ("linear", "cosine", "exp"):
            if kind == "exp" and not (peak > 0 and final > 0):
                continue
            out.append([Segment(kind, float(top), length, peak, final), constant(hold, final)])
        x = (np.arange(top, hold) - top) / length
        inside = (lr[top:hold] - final) / (peak - final) if peak != final else None
        if inside is not None and np.all(inside[1:] > 0):
            with np.errstate(all="ignore"):
                powers = np.log(inside[1:]) / np.log(1 - x[1:])
            power = float(np.median(powers[np.isfinite(powers)])) if np.isfinite(powers).any() else 1.0
            out.append([Segment("poly", float(top), length, peak, final, power), constant(hold, final)])
        return out
    # still decaying at the last row: fit the floor and the length (and a power) for each kind
    for kind in ("cosine", "linear", "poly", "exp"):

        def curve(x: np.ndarray, kind: str = kind) -> np.ndarray:
            power = x[2] if kind == "poly" else 1.0
            v1 = x[0] if kind != "exp" else max(x[0], 1e-300)
            return Segment(kind, float(top), float(x[1]), peak, v1, power).at(rows)

        scale = np.maximum(np.abs(tail), 1e-3 * abs(peak))
        x0 = [final * 0.5 if kind != "linear" else 0.0, float(steps - top) * 1.2, 1.0]
        lower = [-abs(peak) if kind in ("linear", "cosine", "poly") else 1e-300, 1.0, 0.05]
        upper = [abs(peak), float(steps) * 1e3, 20.0]
        if kind != "poly":
            x0, lower, upper = x0[:2], lower[:2], upper[:2]
        try:
            fit = least_squares(
                lambda x, curve=curve, scale=scale: (curve(x) - tail) / scale,
                x0,
                bounds=(lower, upper),
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                max_nfev=400,
            )
        except ValueError:
            continue
        floor, length = float(fit.x[0]), float(fit.x[1])
        power = float(fit.x[2]) if kind == "poly" else 1.0
        # what the fit finds only up to its own precision: a floor of 0 and whole lengths and powers
        # (the check against the curve decides whether the rounded values are the curve)
        floor = 0.0 if abs(floor) < 1e-9 * abs(peak) else floor
        length = float(round(length)) if abs(length - round(length)) < 1e-6 * max(1.0, length) else length
        power = float(round(power)) if abs(power - round(power)) < 1e-6 else power
        out.append([Segment(kind, float(top), length, peak, floor, power)])
    return out


def infer(lr: np.ndarray) -> list[Shape]:
    """Candidate shapes for the curve ``lr`` (best guesses first); the engine keeps the first that fits."""
    lr = np.asarray(lr, dtype=np.float64)
    if lr.size < 2 or not np.all(np.isfinite(lr)):
        return []
    shapes: list[Shape] = []
    top = int(np.argmax(lr))
    # a plateau at the peak before the decay (warm-up–stable–decay, fastai's fit_flat_cos): the decay
    # starts where the plateau ends
    flat = top
    while flat + 1 < lr.size and _same(lr[flat + 1], lr[top]):
        flat += 1
    starts = [top] if flat in (top, lr.size - 1) else [flat, top]
    for warm in _warmups(lr, top):
        for start in starts:
            plateau = [constant(top, float(lr[top]))] if start > top else []
            for decay in _decays(lr, start):
                shapes.append(Shape(len(lr), merge(warm + plateau + decay), notes=("read off the curve",)))
    stairs = _stairs(lr)  # last: a smooth curve sampled coarsely also looks like stairs
    if stairs is not None:
        shapes.append(stairs)
    return shapes


__all__ = ["MAX_STAIRS", "infer"]
