"""timm in translation: its configs read as a :class:`~lrlab.translating.shape.Shape`, and a shape written
in timm's parameters.

Rows are lrlab's (row ``t`` = the lr of the ``t``-th update). lrlab drives timm as its ``train.py``
does, so with ``t_in_epochs=False`` row ``t`` is ``_get_lr(t)`` (``step_update(num_updates=t)`` after
the ``t``-th update; row 0 is what the constructor set: ``warmup_lr_init`` with a warm-up, else the
lr); with ``t_in_epochs=True`` it is ``_get_lr(t // steps_per_epoch)``, the same rows when an epoch is
one update. Every candidate written here steps per update (``t_in_epochs=False``).

What a timm schedule is, as segments:

- a linear warm-up of ``warmup_t`` rows from ``warmup_lr_init`` to the lr (row 0 is warmup_lr_init);
- then, with ``warmup_prefix=True``, the cycles from row ``warmup_t`` (cycle ``i`` lasts
  ``t_initial · cycle_mul^i`` rows, from ``lr · cycle_decay^i`` to ``lr_min``), and ``lr_min`` held after
  ``cycle_limit`` cycles; with ``warmup_prefix=False`` the cycles count from row 0 and the warm-up hides
  their first ``warmup_t`` rows (a polynomial's tail is again a polynomial; a cosine's tail is not a
  cosine segment, so that case has no shape);
- Step / MultiStep: constant stairs of ``lr · decay_rate^k`` (MultiStep decays at ``t + 1 ≥ m``: row
  ``m − 1`` after the warm-up).

The reading of a shape as warm-up, decay and hold (:func:`outline`, :func:`stairs`) is shared with
:mod:`lrlab.translating.lib_keras`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrlab.specs import MAX_LIST_LEN, MAX_LR, RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.shape import Segment, Shape, constant, merge

#: Two lrs of a shape are the same where they differ by less than this, relative to the shape's peak.
SAME = 1e-9
#: The most stairs a staircase fit template takes (more changes than this is a curve, not stairs).
MAX_STAIRS = 50


# ---- reading a shape: warm-up, decay, hold ------------------------------------------------------------


def num(x: float) -> str:
    return f"{x:.6g}"


def same(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= SAME * max(abs(scale), abs(a), abs(b), 1e-300)


def whole(x: float) -> int | None:
    """``x`` as an int where it is one (to 1e-9), else None."""
    r = round(x)
    return int(r) if abs(x - r) <= 1e-9 * max(1.0, abs(x)) else None


@dataclass(frozen=True)
class Outline:
    """A shape read as: a linear lead-in of ``warmup`` rows from ``warmup_start`` to ``peak`` (a flat one
    when they are equal; ``warmup`` 0: none), the decay segments back to back from row ``warmup``, and
    the lr held after them (``hold``; None where the run ends inside the decay). ``runs_on``: the
    last decay segment keeps its formula past its end inside the run (torch's cosine rises again)."""

    warmup: int
    warmup_start: float
    peak: float
    body: tuple[Segment, ...]
    hold: float | None
    runs_on: bool


def _segments_text(shape: Shape, most: int = 4) -> str:
    said = shape.describe()
    return "; ".join(said[:most]) + (f"; … {len(said) - most} more" if len(said) > most else "")


def outline(shape: Shape) -> Outline | str:
    """The shape as warm-up + decay + hold, or one sentence on why it is not one."""
    segs = list(shape.within())
    scale = shape.peak
    i, warmup, start = 0, 0, None
    if len(segs) >= 2 and segs[0].kind in ("linear", "constant") and segs[1].kind != "constant":
        w = whole(segs[1].start)
        if w is None or w <= 0:
            return f"its decay starts at step {segs[1].start:g}, between two updates (timm and Keras count whole steps)"
        lead_end = float(segs[0].at(np.array([float(w)]))[0])
        if not same(lead_end, segs[1].v0, scale):
            return (
                f"its warm-up reaches {num(lead_end)} at step {w} but the decay starts from {num(segs[1].v0)} there "
                "(a jump a linear warm-up into the decay can't make)"
            )
        warmup, start, i = w, segs[0].v0, 1
    body: list[Segment] = []
    while i < len(segs) and segs[i].kind != "constant":
        body.append(segs[i])
        i += 1
    holds = segs[i:]
    if not body:
        return "it has no decay phase"
    if len(body) > 1 and body[0].v1 > body[0].v0 and not same(body[0].v1, body[0].v0, scale):
        return f"it warms up along a {body[0].kind} curve (timm's and Keras's warm-ups are linear)"
    if any(s.kind != "constant" for s in holds) or len(holds) > 1:
        return f"it has phases after its decay ({_segments_text(shape)})"
    at = float(warmup)
    for s in body:
        if whole(s.start) is None or whole(s.length) is None:
            return f"its phases start or end between two updates ({_segments_text(shape)})"
        if not same(s.start, at, 1.0):
            return f"its phases are not back to back ({_segments_text(shape)})"
        at = s.end
    last = body[-1]
    hold = None
    if holds:
        if not same(holds[0].start, last.end, 1.0) or not same(holds[0].v0, last.v1, scale):
            return (
                f"it holds {num(holds[0].v0)} from step {holds[0].start:g} where its decay ends at "
                f"{num(last.v1)} (step {last.end:g})"
            )
        hold = holds[0].v0
    beyond = last.end < shape.steps - 1 - 1e-9
    runs_on = not holds and beyond and last.kind != "poly"  # a poly segment holds v1 after its end
    if not holds and beyond and last.kind == "poly":
        hold = last.v1
    return Outline(warmup, start if start is not None else body[0].v0, body[0].v0, tuple(body), hold, runs_on)


@dataclass(frozen=True)
class Stairs:
    """An all-constant shape after an optional linear warm-up: ``(row, lr)`` of each stair."""

    warmup: int
    warmup_start: float
    steps: tuple[tuple[int, float], ...]


def stairs(shape: Shape) -> Stairs | None:
    """The shape as constant stairs (after a linear warm-up to the first stair), or None."""
    segs = list(shape.within())
    warmup, start = 0, segs[0].v0
    if len(segs) == 1 and segs[0].kind == "linear" and segs[0].v1 >= segs[0].v0:
        w = whole(segs[0].length)  # a warm-up as long as the run (or longer: the rest is a flat lr)
        if w is not None and w > 0 and segs[0].end >= shape.steps - 1 - 1e-9:
            return Stairs(w, segs[0].v0, ((w, segs[0].v1),))
    if segs[0].kind == "linear" and len(segs) >= 2 and segs[0].v1 >= segs[0].v0:  # a warm-up, not a decay
        w = whole(segs[1].start)
        lead_end = float(segs[0].at(np.array([float(w or 0)]))[0])
        if w is None or w <= 0 or not same(lead_end, segs[1].v0, shape.peak):
            return None
        warmup, segs = w, segs[1:]
    if any(s.kind != "constant" for s in segs):
        return None
    rows = [0 if not warmup and k == 0 else whole(s.start) for k, s in enumerate(segs)]
    if any(r is None for r in rows):
        return None
    merged = [(int(r), s.v0) for r, s in zip(rows, segs, strict=True) if r is not None]
    out: list[tuple[int, float]] = []
    for row, value in merged:
        if out and same(out[-1][1], value, 0.0):
            continue
        out.append((row, value))
    return Stairs(warmup, start, tuple(out))


def ratios(values: list[float], scale: float) -> tuple[float, list[int]] | None:
    """(γ, n): each stair is the one before × γ^n_k (n_k ≥ 1 whole), or None where the ratios differ."""
    if len(values) < 2:
        return None
    if values[0] == 0:
        return None
    gamma = values[1] / values[0]
    counts = [1]
    for a, b in itertools.pairwise(values[1:]):
        if a == 0 or gamma in (0.0, 1.0):
            return None
        n = round(math.log(b / a) / math.log(gamma)) if b > 0 and b / a > 0 else 0
        if n < 1 or not same(a * gamma**n, b, 0.0):
            return None
        counts.append(n)
    return gamma, counts


# ---- analysing timm configs -----------------------------------------------------------------------


def _steps_per_update(kw: Mapping[str, Any], ctx: RunContext) -> bool:
    """Whether timm's count is the update count here (t_in_epochs=False, or one update per epoch)."""
    return not kw["t_in_epochs"] or ctx.steps_per_epoch == 1


def _warmup_segments(kw: Mapping[str, Any], lr0: float) -> list[Segment]:
    w = kw["warmup_t"]
    return [Segment("linear", 0.0, float(w), float(kw["warmup_lr_init"]), lr0)] if w else []


def _cycled_shape(kind: str, kw: Mapping[str, Any], lr0: float, ctx: RunContext, power: float = 1.0) -> Shape | None:
    """Cosine or poly cycles (see the module docstring)."""
    if kw["noise_range_t"] is not None or kw["k_decay"] != 1.0 or not _steps_per_update(kw, ctx):
        return None
    w, prefix, steps = kw["warmup_t"], kw["warmup_prefix"], ctx.steps
    t0, mul, decay, limit, floor = kw["t_initial"], kw["cycle_mul"], kw["cycle_decay"], kw["cycle_limit"], kw["lr_min"]
    if mul < 1.0 and (w if prefix else 0) + t0 / (1 - mul) <= steps:
        return None  # timm raises (math domain error) once the shrinking cycles add up
    pieces = _warmup_segments(kw, lr0)
    origin = float(w if prefix else 0)
    if limit == 0:
        first = float(max(w, 1))
        return Shape(steps, merge([*pieces, *([] if w else [constant(0, lr0)]), constant(first, floor)]))
    done, i = 0.0, 0
    segment_kind = "linear" if kind == "poly" and power == 1.0 else kind
    while i < limit and origin + done < steps:
        length = t0 * mul**i
        if not length > 0:
            return None
        peak = lr0 * decay**i
        start = origin + done
        if w and not prefix and start < w:
            end = start + length
            if end > w and kind == "cosine":  # the cosine the warm-up leaves: its clock started at `start`
                pieces.append(Segment("cosine", float(w), length, peak, floor, origin=start))
            elif end > w:  # the part of this polynomial the warm-up leaves: a polynomial from row w
                left = end - w
                v0 = floor + (peak - floor) * (left / length) ** power
                pieces.append(Segment(segment_kind, float(w), left, v0, floor, power))
        else:
            pieces.append(Segment(segment_kind, start, length, peak, floor, power))
        done += length
        i += 1
    if i == limit and origin + done < steps:
        pieces.append(constant(max(origin + done, float(w)), floor))
    if not pieces:
        return None
    return Shape(steps, merge(pieces))


def _stair_shape(kw: Mapping[str, Any], lr0: float, ctx: RunContext, exponent: Callable[[np.ndarray], Any]) -> Shape:
    """Step / MultiStep: the warm-up, then a constant for each run of rows with the same exponent."""
    w, steps = kw["warmup_t"], ctx.steps
    pieces = _warmup_segments(kw, lr0)
    first = max(w, 1)
    if not w:
        pieces.append(constant(0, lr0))
    rows = np.arange(first, steps)
    if rows.size:
        tt = rows - w if kw["warmup_prefix"] else rows
        e = np.asarray(exponent(tt), dtype=np.int64)
        change = np.flatnonzero(np.diff(e)) + 1
        for at in [0, *change.tolist()]:
            pieces.append(constant(int(rows[at]), lr0 * kw["decay_rate"] ** int(e[at])))
    return Shape(steps, merge(pieces))


def _class_shape(name: str, kw: Mapping[str, Any], lr0: float, ctx: RunContext) -> Shape | None:
    if name == "CosineLRScheduler":
        return _cycled_shape("cosine", kw, lr0, ctx)
    if name == "PolyLRScheduler":
        return _cycled_shape("poly", kw, lr0, ctx, float(kw["power"]))
    if name not in ("StepLRScheduler", "MultiStepLRScheduler"):
        return None
    if kw["noise_range_t"] is not None or not _steps_per_update(kw, ctx):
        return None
    if name == "StepLRScheduler":
        return _stair_shape(kw, lr0, ctx, lambda tt: np.floor_divide(tt.astype(np.float64), kw["decay_t"]))
    milestones = np.asarray(kw["decay_t"], dtype=np.int64)
    return _stair_shape(kw, lr0, ctx, lambda tt: np.searchsorted(milestones, tt + 1, side="right"))


def _analyser(name: str) -> Callable[[dict, RunContext, ScheduleConfig], Shape | None]:
    def analyse(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
        from lrlab.schedulers import timm_specs

        kwargs_of = {
            "CosineLRScheduler": timm_specs.cosine_kwargs,
            "PolyLRScheduler": timm_specs.poly_kwargs,
            "StepLRScheduler": timm_specs.step_kwargs,
            "MultiStepLRScheduler": timm_specs.multistep_kwargs,
        }[name]
        return _class_shape(name, kwargs_of(p, ctx), ctx.base_lr, ctx)

    return analyse


def _factory(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    from lrlab.schedulers.timm_specs import factory_class

    name, kw = factory_class(p, ctx)
    if name in ("TanhLRScheduler", "PlateauLRScheduler"):
        return None
    return _class_shape(name, kw, ctx.base_lr, ctx)


ANALYZERS: dict[str, Callable[[dict, RunContext, ScheduleConfig], Shape | None]] = {
    "timm:CosineLRScheduler": _analyser("CosineLRScheduler"),
    "timm:PolyLRScheduler": _analyser("PolyLRScheduler"),
    "timm:StepLRScheduler": _analyser("StepLRScheduler"),
    "timm:MultiStepLRScheduler": _analyser("MultiStepLRScheduler"),
    "timm:create_scheduler_v2": _factory,
}


# ---- expressing a shape in timm ---------------------------------------------------------------------

LIMIT = MAX_LR  # timm's lrs (lr_min, warmup_lr_init, the lr): any finite one (>= 0; the lr > 0)
PER_UPDATE = "stepped per update (t_in_epochs=False)"


def _lr_ok(*values: float) -> bool:
    return all(0.0 <= v <= LIMIT for v in values)


def _warmup_params(o: Outline | Stairs, peak: float) -> tuple[dict[str, Any], str]:
    if not o.warmup:
        return {"warmup_t": 0}, ""
    flat = same(o.warmup_start, peak, peak)
    text = (
        f"warmup_t = {o.warmup} steps at the peak (warmup_lr_init = {num(o.warmup_start)}: a flat warm-up) and "
        if flat
        else f"warmup_t = {o.warmup} warm-up steps from warmup_lr_init = {num(o.warmup_start)} to the peak, "
    )
    text += f"warmup_prefix=True so that the decay starts after the {o.warmup} warm-up steps; "
    return {"warmup_t": o.warmup, "warmup_lr_init": o.warmup_start, "warmup_prefix": True}, text


def _cosine_cycles(o: Outline) -> tuple[dict[str, Any], str] | str:
    """cycle_mul / cycle_decay / cycle_limit of back-to-back cosine cycles, all down to one floor."""
    body, floor, peak = o.body, o.body[0].v1, o.peak
    if any(not same(s.v1, floor, peak) for s in body):
        return "its cosine cycles end at different floors (timm's cycles all end at lr_min)"
    if len(body) == 1:
        return {}, ""
    mul = body[1].length / body[0].length
    decay = body[1].v0 / body[0].v0
    for k, s in enumerate(body):
        if not same(s.length, body[0].length * mul**k, body[0].length) or not same(s.v0, peak * decay**k, peak):
            return "its cosine cycles do not grow by one factor (timm's cycle_mul) or fall by one (cycle_decay)"
    if not 0 < mul <= 10 or not 0 <= decay <= 1 or len(body) > 1000:
        return f"its cycles grow × {num(mul)} and peak × {num(decay)}: outside timm's cycle_mul / cycle_decay"
    params = {"cycle_mul": mul, "cycle_decay": decay, "cycle_limit": len(body)}
    text = (
        f"{len(body)} cycles (cycle_limit), each × {num(mul)} longer (cycle_mul) and peaking × {num(decay)} "
        "lower (cycle_decay); "
    )
    return params, text


def _decay_candidates(o: Outline, run: Run) -> tuple[list[Candidate], list[str]]:
    kinds = {s.kind for s in o.body}
    peak, floor, last = o.peak, o.body[-1].v1, o.body[-1]
    if o.runs_on:
        return [], [
            f"the source's {last.kind} goes on past its end (step {last.end:g}) and the run continues to step "
            f"{run.steps - 1}; timm holds lr_min after its last cycle"
        ]
    if o.hold is not None and not same(o.hold, floor, peak):
        return [], [f"the source holds {num(o.hold)} after its decay to {num(floor)}"]
    if not 0 < peak <= LIMIT or not _lr_ok(floor, o.warmup_start):
        return [], [
            f"its lrs ({num(o.warmup_start)}, {num(peak)}, {num(floor)}) are outside timm's bounds (finite, ≥ 0)"
        ]
    warm, warm_text = _warmup_params(o, peak)
    base = {**warm, "t_in_epochs": False, "lr_min": floor}
    t0 = round(o.body[0].length)
    hold_text = f", held after the decay (cycle_limit={len(o.body)})" if o.hold is not None else ""
    if kinds == {"cosine"}:
        cycles = _cosine_cycles(o)
        if isinstance(cycles, str):
            return [], [cycles]
        params, cycle_text = cycles
        config = run.config("timm:CosineLRScheduler", {**base, "t_initial": t0, **params}, peak)
        how = (
            f"CosineLRScheduler {PER_UPDATE}: {warm_text}{cycle_text}t_initial = {t0} decay steps; lr_min = "
            f"{num(floor)} (the source's floor){hold_text}; the peak {num(peak)} is the optimizer's lr"
        )
        return [Candidate(config, how)], []
    if len(o.body) == 1 and kinds <= {"poly", "linear"}:
        power = last.power if last.kind == "poly" else 1.0
        if not 0 <= power <= 10:
            return [], [f"its power {num(power)} is outside timm's PolyLRScheduler bounds [0, 10]"]
        config = run.config("timm:PolyLRScheduler", {**base, "t_initial": t0, "power": power}, peak)
        how = (
            f"PolyLRScheduler {PER_UPDATE}: {warm_text}t_initial = {t0} decay steps; power = {num(power)}"
            f"{' (a linear decay)' if power == 1 else ''}; lr_min = {num(floor)} (the source's end){hold_text}; "
            f"the peak {num(peak)} is the optimizer's lr"
        )
        return [Candidate(config, how)], []
    what = " then ".join(dict.fromkeys(s.kind for s in o.body))
    if "exp" in kinds:
        return [], [
            "timm has no continuous exponential decay (its StepLRScheduler decays in stairs; PolyLRScheduler and "
            "CosineLRScheduler reach lr_min at a set step)"
        ]
    return [], [f"timm's schedulers have one kind of decay after the warm-up, not {what}"]


def _stair_candidates(s: Stairs, run: Run) -> tuple[list[Candidate], list[str]]:
    values = [v for _, v in s.steps]
    rows = [r for r, _ in s.steps]
    peak = max(max(values), s.warmup_start)
    first = values[0]
    if not 0 < first <= LIMIT or not _lr_ok(*values, s.warmup_start):
        return [], [f"its lrs ({', '.join(num(v) for v in values[:4])}) are outside timm's bounds (finite, ≥ 0)"]
    warm, warm_text = _warmup_params(s, first)
    base = {**warm, "t_in_epochs": False}
    if len(values) == 1:
        config = run.config("timm:StepLRScheduler", {**base, "decay_t": float(run.steps), "decay_rate": 1.0}, first)
        how = f"StepLRScheduler {PER_UPDATE}: {warm_text}decay_rate = 1 (no decay): the lr {num(first)} throughout"
        return [Candidate(config, how)], []
    found = ratios(values, peak)
    if found is None:
        return [], [
            "its stairs do not fall by one factor (timm's Step / MultiStep schedulers multiply by one decay_rate)"
        ]
    gamma, counts = found
    out: list[Candidate] = []
    gaps = [b - a for a, b in itertools.pairwise(rows)]
    size = rows[1] - s.warmup
    last_next = rows[-1] + size
    if all(c == 1 for c in counts) and size > 0 and all(g == size for g in gaps) and 0 <= gamma <= 1:
        if last_next > run.steps - 1:
            config = run.config("timm:StepLRScheduler", {**base, "decay_t": float(size), "decay_rate": gamma}, first)
            how = (
                f"StepLRScheduler {PER_UPDATE}: {warm_text}decay_t = {size} steps between decays; decay_rate = "
                f"{num(gamma)}; starts at {num(first)} (the optimizer's lr)"
            )
            out.append(Candidate(config, how))
    milestones = [r - s.warmup + 1 for r, c in zip(rows[1:], counts, strict=True) for _ in range(c)]
    if len(milestones) > MAX_LIST_LEN:
        return out, ([] if out else [f"its {len(milestones)} decays are more than lrlab's lists hold ({MAX_LIST_LEN})"])
    if 0 <= gamma <= 2:
        config = run.config("timm:MultiStepLRScheduler", {**base, "decay_t": milestones, "decay_rate": gamma}, first)
        how = (
            f"MultiStepLRScheduler {PER_UPDATE}: {warm_text}decay_t = {milestones} (timm decays at t + 1 ≥ m: "
            f"milestone m = the source's step of change {'− warm-up ' if s.warmup else ''}+ 1); decay_rate = "
            f"{num(gamma)}; starts at {num(first)} (the optimizer's lr)"
        )
        out.append(Candidate(config, how))
    return out, ([] if out else [f"its stairs fall × {num(gamma)}: outside timm's decay_rate bounds"])


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    """timm configs that should reproduce ``shape`` (native schedules first), or why there is none."""
    stair = stairs(shape)
    if stair is not None:
        candidates, reasons = _stair_candidates(stair, run)
    else:
        o = outline(shape)
        if isinstance(o, str):
            candidates, reasons = [], [f"timm has a linear warm-up then one decay (or stairs); the source: {o}"]
        else:
            candidates, reasons = _decay_candidates(o, run)
    fits = [] if candidates else fit_templates(shape, run, source, shape.values(), reasons)
    return Expressed(candidates, reasons, fits)


# ---- fitting: the nearest timm schedules ----------------------------------------------------------------


@dataclass(frozen=True)
class Landmarks:
    """Where a curve peaks and bottoms out: the integer phase lengths of a fit, and its x0."""

    start: float
    peak_row: int
    peak: float
    low_row: int
    low: float

    @property
    def decay(self) -> int:
        return max(1, self.low_row - self.peak_row)


def landmarks(lr: np.ndarray) -> Landmarks:
    lr = np.where(np.isfinite(lr), lr, 0.0)
    top = int(np.argmax(lr))
    bottom = top + int(np.argmin(lr[top:]))
    return Landmarks(float(lr[0]), top, float(lr[top]), bottom, float(lr[bottom]))


def change_rows(lr: np.ndarray) -> list[int]:
    """The rows where a stair curve changes (first row of each new value)."""
    scale = float(np.nanmax(np.abs(lr))) or 1.0
    return (np.flatnonzero(np.abs(np.diff(lr)) > SAME * scale) + 1).tolist()


def fit_templates(
    shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray, reasons: list[str] | None = None
) -> list[FitTemplate]:
    """timm's cosine and polynomial schedules (and MultiStep for stairs) with the phase lengths fixed from
    the curve's peak and lowest row, the lrs (and power, decay_rate) free."""
    lr = np.asarray(lr, dtype=np.float64)
    m = landmarks(lr)
    peak = max(m.peak, 1e-12)
    top = min(LIMIT, 4 * peak)
    why = (reasons or [None])[0] or (
        "lrlab has no segment description of the source, so timm's nearest schedules are fitted to its curve"
        if shape is None
        else "timm has no schedule of this form"
    )
    warm = m.peak_row
    templates: list[FitTemplate] = []

    def decayed(scheduler: str, extra_names: tuple[str, ...], extra_x0: tuple[float, ...], extra_lo, extra_hi, fixed):
        names = ("base_lr", "lr_min", *(("warmup_lr_init",) if warm else ()), *extra_names)
        x0 = (peak, max(m.low, 0.0), *((max(m.start, 0.0),) if warm else ()), *extra_x0)
        lower = (peak * 1e-3, 0.0, *((0.0,) if warm else ()), *extra_lo)
        upper = (top, top, *((top,) if warm else ()), *extra_hi)

        def build(x: np.ndarray) -> ScheduleConfig:
            params: dict[str, Any] = {"t_initial": m.decay, "lr_min": float(x[1]), "t_in_epochs": False, **fixed}
            k = 2
            if warm:
                params |= {"warmup_t": warm, "warmup_lr_init": float(x[2]), "warmup_prefix": True}
                k = 3
            for j, name in enumerate(extra_names):
                params[name] = float(x[k + j])
            return run.config(scheduler, params, float(x[0]))

        return FitTemplate(scheduler, names, x0, lower, upper, build, why)

    templates.append(decayed("timm:CosineLRScheduler", (), (), (), (), {}))
    templates.append(decayed("timm:PolyLRScheduler", ("power",), (1.0,), (0.0,), (10.0,), {}))
    changes = change_rows(lr)
    if 0 < len(changes) <= min(MAX_STAIRS, lr.size // 4):  # stairs, not a sampled curve
        first = float(lr[0]) if lr[0] > 0 else peak
        milestones = [r + 1 for r in changes]

        def stairs_build(x: np.ndarray) -> ScheduleConfig:
            params = {"decay_t": milestones, "decay_rate": float(x[1]), "t_in_epochs": False}
            return run.config("timm:MultiStepLRScheduler", params, float(x[0]))

        ratio = float(np.clip(lr[changes[0]] / first, 0.0, 2.0)) if first else 0.5
        templates.append(
            FitTemplate(
                "timm:MultiStepLRScheduler",
                ("base_lr", "decay_rate"),
                (first, ratio),
                (first * 1e-3, 0.0),
                (min(LIMIT, 4 * first), 2.0),
                stairs_build,
                why,
            )
        )
    return templates


__all__ = ["ANALYZERS", "Outline", "Stairs", "express", "fit_templates", "outline", "stairs"]
