"""Keras in translation: ``keras.optimizers.schedules`` read as a :class:`~lrlab.translating.shape.Shape`, and
a shape written in Keras's parameters.

Row ``t`` is ``schedule(t)``: a Keras optimizer reads ``schedule(optimizer.iterations)`` before its
(t+1)-th update, and lrlab's Keras driver does the same (float32: exact here means within the spec's
tolerance, 1e-6, and its rounding noise). The base lr is ``initial_learning_rate`` (the run's base lr,
not in the params). What Keras's schedules are, as segments:

- CosineDecay: a linear warm-up of ``warmup_steps`` from initial_learning_rate to ``warmup_target``
  (only with warmup_target set), a cosine from the peak down to ``alpha`` × peak over ``decay_steps``,
  that floor held after;
- CosineDecayRestarts: back-to-back cosine cycles, each ``t_mul`` × longer, its height above the floor
  ``m_mul`` × lower, never held;
- ExponentialDecay: ``lr · r^(t/D)`` (an "exp" segment), or stairs every ``decay_steps`` with staircase;
- PolynomialDecay: a polynomial from the lr to ``end_learning_rate`` over ``decay_steps`` then held (with
  ``cycle`` each later cycle is the tail of a longer polynomial, again a polynomial segment);
- PiecewiseConstantDecay: ``values[i]`` for ``boundaries[i−1] < t ≤ boundaries[i]`` (a value starts one row
  after its boundary);
- InverseTimeDecay: ``lr / (1 + r t / D)`` is no segment kind: no shape.

Keras warms up only in CosineDecay, and only from initial_learning_rate, which lrlab keeps > 0: a
warm-up from 0 starts from 1e-20 of the peak (below Keras's float32 rounding of the peak).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lrlab.specs import MAX_LIST_LEN, MAX_LR, RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.lib_timm import (
    MAX_STAIRS,
    Outline,
    Stairs,
    change_rows,
    landmarks,
    num,
    outline,
    ratios,
    same,
    stairs,
    whole,
)
from lrlab.translating.shape import Segment, Shape, constant, merge

LIMIT = MAX_LR  # Keras's lrs as lrlab bounds them: any finite one (>= 0; initial_learning_rate > 0)
#: ExponentialDecay's decay_rate as lrlab bounds it (a factor per decay_steps, not an lr).
RATE_LIMIT = 1e3
#: A warm-up from 0 starts here, relative to the peak: lrlab's base lr (Keras's initial_learning_rate) is > 0.
ZERO_START = 1e-20
NO_SUBCLASS = "needs a LearningRateSchedule subclass"


# ---- analysing Keras configs ------------------------------------------------------------------------


def _cosine_decay(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    lr0, big_d, alpha, target, w = ctx.base_lr, p["decay_steps"], p["alpha"], p["warmup_target"], p["warmup_steps"]
    if target is None:
        peak, pieces = lr0, []
        w = 0
    else:
        peak = target
        pieces = [Segment("linear", 0.0, float(w), lr0, target)] if w else []
    pieces += [Segment("cosine", float(w), float(big_d), peak, alpha * peak), constant(w + big_d, alpha * peak)]
    return Shape(ctx.steps, merge(pieces))


def _restarts(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    lr0, d1, t_mul, m_mul, alpha = ctx.base_lr, p["first_decay_steps"], p["t_mul"], p["m_mul"], p["alpha"]
    floor = alpha * lr0
    pieces, start, i = [], 0.0, 0
    while start < ctx.steps:
        length = d1 * t_mul**i
        pieces.append(Segment("cosine", start, length, floor + m_mul**i * (1 - alpha) * lr0, floor))
        start += length
        i += 1
    return Shape(ctx.steps, tuple(pieces))


def _exponential(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    lr0, big_d, rate = ctx.base_lr, p["decay_steps"], p["decay_rate"]
    if not p["staircase"]:
        if rate == 0:
            return Shape(ctx.steps, merge([constant(0, lr0), constant(1, 0.0)]))
        return Shape(ctx.steps, (Segment("exp", 0.0, float(big_d), lr0, lr0 * rate),))
    pieces = [constant(k * big_d, lr0 * rate**k) for k in range(-(-ctx.steps // big_d))]
    return Shape(ctx.steps, merge(pieces))


def _polynomial(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    lr0, big_d, end, power = ctx.base_lr, p["decay_steps"], p["end_learning_rate"], p["power"]
    if power == 0:  # (1 − s/D)^0 = 1 at every step, also at s = D
        return Shape(ctx.steps, (constant(0, lr0),))
    kind = "linear" if power == 1 else "poly"
    if not p["cycle"]:
        return Shape(ctx.steps, merge([Segment(kind, 0.0, float(big_d), lr0, end, power), constant(big_d, end)]))
    # cycle k ≥ 2 spans the rows (k−1)·D + 1 … k·D of a decay over k·D from row 0: its tail, a polynomial again
    pieces = [Segment(kind, 0.0, float(big_d), lr0, end, power)]
    k = 2
    while (k - 1) * big_d + 1 < ctx.steps:
        start, span = (k - 1) * big_d + 1, k * big_d
        left = span - start
        if left <= 0:
            pieces.append(constant(start, end))
        else:
            v0 = end + (lr0 - end) * (left / span) ** power
            pieces.append(Segment(kind, float(start), float(left), v0, end, power))
        k += 1
    return Shape(ctx.steps, merge(pieces))


def _piecewise(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    values, boundaries = p["values"], p["boundaries"]
    pieces = [constant(0, values[0])] + [constant(b + 1, v) for b, v in zip(boundaries, values[1:], strict=True)]
    return Shape(ctx.steps, merge(pieces))


def _inverse_time(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    return None  # lr / (1 + r·t/D) is no segment kind; staircase: a new value every D steps
    # (left to the fit: a staircase of ratios that are not equal has no Step counterpart either)


ANALYZERS: dict[str, Callable[[dict, RunContext, ScheduleConfig], Shape | None]] = {
    "keras:CosineDecay": _cosine_decay,
    "keras:CosineDecayRestarts": _restarts,
    "keras:ExponentialDecay": _exponential,
    "keras:PolynomialDecay": _polynomial,
    "keras:PiecewiseConstantDecay": _piecewise,
    "keras:InverseTimeDecay": _inverse_time,
}


# ---- expressing a shape in Keras ----------------------------------------------------------------------


def _lr_ok(*values: float) -> bool:
    return all(0.0 <= v <= LIMIT for v in values)


def _start(o: Outline | Stairs, peak: float) -> tuple[float, str]:
    """initial_learning_rate for a warm-up from ``o.warmup_start`` (> 0 in lrlab)."""
    if o.warmup_start > 0:
        return o.warmup_start, f"initial_learning_rate = {num(o.warmup_start)} (the warm-up's start)"
    tiny = peak * ZERO_START
    return tiny, (
        f"initial_learning_rate = {num(tiny)} for the warm-up's start at 0 (lrlab's base lr must be > 0; "
        "1e-20 of the peak is below Keras's float32 rounding)"
    )


def _warmup_reason(kind: str, flat: bool = False) -> str:
    if flat:
        return (
            "Keras's built-in schedules delay a decay only in CosineDecay (a warm-up from the peak to itself); a "
            f"{kind} decay after a constant start {NO_SUBCLASS}"
        )
    return f"Keras's built-in schedules warm up only in CosineDecay; a {kind} decay after a warm-up {NO_SUBCLASS}"


def _cosine(o: Outline, run: Run) -> tuple[list[Candidate], list[str]]:
    peak, floor, seg = o.peak, o.body[0].v1, o.body[0]
    if not 0 <= floor <= peak:
        return [], [f"its cosine ends at {num(floor)}, above its start: Keras's alpha (the floor / peak) is at most 1"]
    alpha = floor / peak if peak else 0.0
    big_d = round(seg.length)
    if o.warmup:
        initial, start_text = _start(o, peak)
        params = {"decay_steps": big_d, "alpha": alpha, "warmup_target": peak, "warmup_steps": o.warmup}
        warm = f"{start_text}; warmup_target = {num(peak)} (the peak) after warmup_steps = {o.warmup}; "
    else:
        initial, params, warm = peak, {"decay_steps": big_d, "alpha": alpha}, f"initial_learning_rate = {num(peak)}; "
    how = (
        f"CosineDecay: {warm}decay_steps = {big_d} (the cosine's length, after the warm-up); alpha = "
        f"{num(floor)} / {num(peak)} = {num(alpha)} (the floor as a fraction of the peak), held after the decay"
    )
    return [Candidate(run.config("keras:CosineDecay", params, initial), how)], []


def _restart_candidates(o: Outline, run: Run) -> tuple[list[Candidate], list[str]]:
    body, peak = o.body, o.peak
    floor = body[0].v1
    if o.warmup:
        return [], [_warmup_reason("cosine-restarts", same(o.warmup_start, peak, peak))]
    if o.hold is not None:
        return [], ["Keras's CosineDecayRestarts never stops restarting; the source holds after its last cycle"]
    if any(not same(s.v1, floor, peak) for s in body) or not 0 <= floor <= peak:
        return [], ["its cosine cycles end at different floors (Keras's all end at alpha × the lr)"]
    t_mul = body[1].length / body[0].length
    m_mul = (body[1].v0 - floor) / (peak - floor) if peak != floor else 1.0
    for k, s in enumerate(body):
        if not same(s.length, body[0].length * t_mul**k, body[0].length):
            return [], ["its cosine cycles do not grow by one factor (Keras's t_mul)"]
        if not same(s.v0 - floor, (peak - floor) * m_mul**k, peak):
            return [], ["the heights of its cycles above the floor do not fall by one factor (Keras's m_mul)"]
    first = whole(body[0].length)
    if first is None or not 1 <= t_mul <= 100 or not 0 <= m_mul <= 1:
        return [], [f"its cycles grow × {num(t_mul)} with heights × {num(m_mul)}: outside CosineDecayRestarts' bounds"]
    alpha = floor / peak
    params = {"first_decay_steps": first, "t_mul": t_mul, "m_mul": m_mul, "alpha": alpha}
    how = (
        f"CosineDecayRestarts: initial_learning_rate = {num(peak)}; first_decay_steps = {first}; t_mul = {num(t_mul)} "
        f"(each cycle's length over the one before); m_mul = {num(m_mul)} (each cycle's height above the floor over "
        f"the one before); alpha = {num(alpha)} (the floor / peak)"
    )
    return [Candidate(run.config("keras:CosineDecayRestarts", params, peak), how)], []


def _exp_candidate(seg: Segment, run: Run) -> Candidate | str:
    v0, v1 = seg.v0, seg.v1
    if not v0 > 0 or not v1 >= 0:
        return f"its exponential runs from {num(v0)} to {num(v1)}"
    length = whole(seg.length)
    big_d = length if length is not None and length >= 1 else run.steps
    rate = (v1 / v0) ** (big_d / seg.length)
    while not 0 <= rate <= RATE_LIMIT and big_d > 1:
        big_d = max(1, big_d // 10)
        rate = (v1 / v0) ** (big_d / seg.length)
    if not 0 <= rate <= RATE_LIMIT:
        return f"its exponential's rate {num(rate)} is outside ExponentialDecay's bounds"
    how = (
        f"ExponentialDecay: initial_learning_rate = {num(v0)}; decay_steps = {big_d}; decay_rate = ({num(v1)} / "
        f"{num(v0)})^({big_d} / {seg.length:g}) = {rate:.10g}; staircase=False"
    )
    return Candidate(run.config("keras:ExponentialDecay", {"decay_steps": big_d, "decay_rate": rate}, v0), how)


def _decay_candidates(o: Outline, run: Run) -> tuple[list[Candidate], list[str]]:
    kinds = {s.kind for s in o.body}
    last = o.body[-1]
    if o.runs_on and kinds != {"exp"}:
        return [], [
            f"the source's {last.kind} goes on past its end (step {last.end:g}) and the run continues to step "
            f"{run.steps - 1}; Keras's schedules hold their final lr (or restart)"
        ]
    if not 0 < o.peak <= LIMIT or not _lr_ok(last.v1, o.warmup_start):
        return [], [
            f"its lrs ({num(o.warmup_start)}, {num(o.peak)}, {num(last.v1)}) are outside Keras's bounds (finite, ≥ 0)"
        ]
    if kinds == {"cosine"}:
        return _cosine(o, run) if len(o.body) == 1 else _restart_candidates(o, run)
    if len(o.body) > 1:
        what = " then ".join(s.kind for s in o.body)
        return [], [f"Keras's schedules have one kind of decay, not {what}: it {NO_SUBCLASS}"]
    if o.warmup:
        kind = {"poly": "polynomial", "exp": "exponential"}.get(last.kind, last.kind)
        return [], [_warmup_reason(kind, same(o.warmup_start, o.peak, o.peak))]
    if last.kind == "exp":
        if o.hold is not None:
            return [], ["Keras's ExponentialDecay never stops decaying; the source holds after its exponential decay"]
        found = _exp_candidate(last, run)
        return ([found], []) if isinstance(found, Candidate) else ([], [found])
    power = last.power if last.kind == "poly" else 1.0
    if not 0 <= power <= 10:
        return [], [f"its power {num(power)} is outside PolynomialDecay's bounds [0, 10]"]
    big_d = round(last.length)
    params = {"decay_steps": big_d, "end_learning_rate": last.v1, "power": power, "cycle": False}
    how = (
        f"PolynomialDecay: initial_learning_rate = {num(o.peak)}; decay_steps = {big_d}; end_learning_rate = "
        f"{num(last.v1)} (held after the decay); power = {num(power)}{' (linear)' if power == 1 else ''}; cycle=False"
    )
    return [Candidate(run.config("keras:PolynomialDecay", params, o.peak), how)], []


def _stair_candidates(s: Stairs, run: Run) -> tuple[list[Candidate], list[str]]:
    rows = [r for r, _ in s.steps]
    values = [v for _, v in s.steps]
    if not _lr_ok(*values, s.warmup_start) or not max(values) > 0:
        return [], [f"its lrs ({', '.join(num(v) for v in values[:4])}) are outside Keras's bounds (finite, ≥ 0)"]
    if s.warmup:
        if len(values) > 1:
            return [], [f"Keras's built-in schedules warm up only in CosineDecay; stairs after a warm-up {NO_SUBCLASS}"]
        peak = values[0]
        initial, start_text = _start(s, peak)
        params = {"decay_steps": run.steps, "alpha": 1.0, "warmup_target": peak, "warmup_steps": s.warmup}
        how = (
            f"CosineDecay with alpha = 1 (a cosine to 100 % of the peak: flat): {start_text}; warmup_target = "
            f"{num(peak)} after warmup_steps = {s.warmup}, then constant"
        )
        return [Candidate(run.config("keras:CosineDecay", params, initial), how)], []
    out: list[Candidate] = []
    found = ratios(values, max(values))
    if found is not None and all(c == 1 for c in found[1]):
        size = rows[1]
        gamma = found[0]
        if all(r == k * size for k, r in enumerate(rows)) and rows[-1] + size > run.steps - 1 and gamma <= RATE_LIMIT:
            params = {"decay_steps": size, "decay_rate": gamma, "staircase": True}
            how = (
                f"ExponentialDecay with staircase=True: initial_learning_rate = {num(values[0])}; decay_steps = {size} "
                f"(the stairs' width); decay_rate = {num(gamma)} (each stair over the one before)"
            )
            out.append(Candidate(run.config("keras:ExponentialDecay", params, values[0]), how))
    boundaries = [r - 1 for r in rows[1:]] or [run.steps]
    if len(boundaries) > MAX_LIST_LEN:
        return out, ([] if out else [f"its {len(boundaries)} stairs are more than lrlab's lists hold ({MAX_LIST_LEN})"])
    lrs = values if len(values) > 1 else values * 2
    how = (
        f"PiecewiseConstantDecay: values = {[float(num(v)) for v in lrs]}; boundaries = {boundaries} (Keras switches "
        "after the boundary: one step before each change)"
    )
    config = run.config("keras:PiecewiseConstantDecay", {"boundaries": boundaries, "values": lrs}, max(values))
    out.append(Candidate(config, how))
    return out, []


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    """Keras schedules that should reproduce ``shape`` (native first), or why there is none."""
    stair = stairs(shape)
    if stair is not None:
        candidates, reasons = _stair_candidates(stair, run)
    else:
        o = outline(shape)
        if isinstance(o, str):
            candidates, reasons = [], [f"Keras's schedules are one warm-up-less decay (or CosineDecay's warm-up): {o}"]
        else:
            candidates, reasons = _decay_candidates(o, run)
    fits = [] if candidates else fit_templates(shape, run, source, shape.values(), reasons)
    return Expressed(candidates, reasons, fits)


# ---- fitting: the nearest Keras schedules --------------------------------------------------------------


def fit_templates(
    shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray, reasons: list[str] | None = None
) -> list[FitTemplate]:
    """CosineDecay (with the warm-up where the curve peaks after row 0), PolynomialDecay and ExponentialDecay,
    and PiecewiseConstantDecay for stairs: phase lengths fixed from the curve's peak and lowest row, lrs,
    alpha, power and decay_rate free."""
    lr = np.asarray(lr, dtype=np.float64)
    m = landmarks(lr)
    peak = max(m.peak, 1e-12)
    top = min(LIMIT, 4 * peak)
    why = (reasons or [None])[0] or (
        "lrlab has no segment description of the source, so Keras's nearest schedules are fitted to its curve"
        if shape is None
        else "Keras has no schedule of this form"
    )
    templates: list[FitTemplate] = []
    warm = m.peak_row
    alpha0 = float(np.clip(m.low / peak, 0.0, 1.0))
    if warm:

        def cosine_warm(x: np.ndarray) -> ScheduleConfig:
            params = {"decay_steps": m.decay, "alpha": float(x[2]), "warmup_target": float(x[1]), "warmup_steps": warm}
            return run.config("keras:CosineDecay", params, float(x[0]))

        templates.append(
            FitTemplate(
                "keras:CosineDecay",
                ("initial_learning_rate", "warmup_target", "alpha"),
                (max(m.start, peak * 1e-6), peak, alpha0),
                (peak * ZERO_START, peak * 1e-3, 0.0),
                (top, top, 1.0),
                cosine_warm,
                why,
            )
        )
    else:

        def cosine(x: np.ndarray) -> ScheduleConfig:
            return run.config("keras:CosineDecay", {"decay_steps": m.decay, "alpha": float(x[1])}, float(x[0]))

        templates.append(
            FitTemplate(
                "keras:CosineDecay",
                ("initial_learning_rate", "alpha"),
                (peak, alpha0),
                (peak * 1e-3, 0.0),
                (top, 1.0),
                cosine,
                why,
            )
        )
    decay_steps = max(1, m.low_row)  # from row 0: these schedules can't warm up

    def poly(x: np.ndarray) -> ScheduleConfig:
        params = {"decay_steps": decay_steps, "end_learning_rate": float(x[1]), "power": float(x[2]), "cycle": False}
        return run.config("keras:PolynomialDecay", params, float(x[0]))

    first = float(lr[0]) if lr[0] > 0 else peak
    templates.append(
        FitTemplate(
            "keras:PolynomialDecay",
            ("initial_learning_rate", "end_learning_rate", "power"),
            (first, max(m.low, 0.0), 1.0),
            (first * 1e-3, 0.0, 0.0),
            (top, top, 10.0),
            poly,
            why,
        )
    )

    def exponential(x: np.ndarray) -> ScheduleConfig:
        return run.config("keras:ExponentialDecay", {"decay_steps": run.steps, "decay_rate": float(x[1])}, float(x[0]))

    end = float(lr[-1]) if np.isfinite(lr[-1]) else first
    rate0 = float(np.clip(end / first, 1e-6, 10.0)) if first else 0.5
    templates.append(
        FitTemplate(
            "keras:ExponentialDecay",
            ("initial_learning_rate", "decay_rate"),
            (first, rate0),
            (first * 1e-3, 0.0),
            (top, 100.0),
            exponential,
            why,
        )
    )
    changes = change_rows(lr)
    if 0 < len(changes) <= min(MAX_STAIRS, lr.size // 4):  # stairs, not a sampled curve
        boundaries = [r - 1 for r in changes]
        levels = [float(v) for v in lr[[0, *changes]]]

        def piecewise(x: np.ndarray) -> ScheduleConfig:
            values = [float(v) for v in x]
            return run.config(
                "keras:PiecewiseConstantDecay", {"boundaries": boundaries, "values": values}, max(max(values), 1e-12)
            )

        templates.append(
            FitTemplate(
                "keras:PiecewiseConstantDecay",
                tuple(f"values[{i}]" for i in range(len(levels))),
                tuple(max(v, 0.0) for v in levels),
                tuple(0.0 for _ in levels),
                tuple(top for _ in levels),
                piecewise,
                why,
            )
        )
    return templates


__all__ = ["ANALYZERS", "express", "fit_templates"]
