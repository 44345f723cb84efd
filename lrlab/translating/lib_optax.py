"""optax in translations: its schedules analysed into a :class:`~lrlab.translating.shape.Shape`, and a shape
expressed as optax schedules (native ones first, then ``join_schedules`` of one child per segment).

optax's schedules are pure functions of the 0-based update count, so row ``t`` of lrlab's curve is
``schedule(t)``: a phase that starts at count ``b`` starts at row ``b``. Every analysis here follows the
code lrlab's closed forms follow (:mod:`lrlab.schedulers._optax_formulas`):

- ``polynomial_schedule`` / ``linear_schedule``: init_value held until ``B``, then
  :math:`E + (I - E)(1 - x)^p` over ``T`` rows, then ``E``;
- ``exponential_decay``: :math:`I\\,r^{(t - B)/T}` from ``B`` on (a staircase is one constant per
  ``T`` rows); ``end_value`` clips it, which is a constant from the row where the decay crosses it;
- ``cosine_decay_schedule`` (exponent 1): a cosine from ``I`` to ``αI`` over ``decay_steps``, then held;
- ``warmup_cosine_decay_schedule``: ``decay_steps`` counts the warm-up, so the cosine runs ``D − W`` rows;
- ``piecewise_*`` and the one-cycles: constants, lines or cosines between knots;
- ``join_schedules`` / ``sgdr_schedule``: each child analysed on its own clock and moved to its boundary.

optax computes in float32, so a shape is checked within its rounding (``spec.tolerance``, 2e-6 of the
schedule's largest lr). optax schedules the lr only: where the shape cycles momentum, a candidate carries a
second optax schedule for it (``momentum_config``, used with ``optax.inject_hyperparams``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from lrlab.specs import MAX_LR, RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.shape import Segment, Shape, constant, merge

P = Mapping[str, Any]
Segments = list[Segment]
#: A staircase (or piecewise) with more steps than this is not analysed (no library but optax writes it).
MAX_STAIRS = 200
#: Relative agreement of two values that the shape says are the same (a phase's end and the next one's start).
SAME = 1e-9
#: optax's value parameters (init/peak/end values: lrs) as lrlab bounds them: any finite number >= 0.
MAX_VALUE = MAX_LR
#: A scale of boundaries_and_scales (a factor, not an lr) as lrlab bounds it: [0, 1000]; decay_rate (0, 10].
MAX_SCALE = 1e3


# ---- analysing optax schedules ---------------------------------------------------------------------------


def _poly(init: float, end: float, power: float, steps: int, begin: int) -> Segments:
    """polynomial_schedule: init held until ``begin``, then (I − E)(1 − x)^p + E over ``steps`` rows, then E."""
    out: Segments = [constant(0, init)] if begin > 0 else []
    kind = "linear" if power == 1.0 else "poly"
    out.append(Segment(kind, float(begin), float(steps), float(init), float(end), float(power)))
    out.append(constant(begin + steps, end))
    return out


def _exponential(init: float, p: P, steps: int) -> Segments | None:
    """exponential_decay from ``init``: held up to transition_begin, then init · r^((t − B)/T), clipped at end_value."""
    begin, every, rate = int(p["transition_begin"]), int(p["transition_steps"]), float(p["decay_rate"])
    end = p.get("end_value")
    decays = rate < 1.0

    def clip(value: float) -> float:
        if end is None:
            return value
        return max(value, end) if decays else min(value, end)

    if end is not None and clip(init) != init:
        return [constant(0, clip(init))]  # clipped from the first row on (optax clips the held init_value too)
    out: Segments = [constant(0, init)] if begin > 0 else []
    if p["staircase"] and every > 1:
        stairs = math.ceil(max(steps - begin, 1) / every) + 1
        if stairs > MAX_STAIRS:
            return None
        for k in range(stairs):
            value = clip(init * rate**k)
            out.append(constant(begin + k * every, value))
            if value != init * rate**k:
                break
        return list(merge(out))
    if rate == 1.0:
        return [constant(0, clip(init))]
    out.append(Segment("exp", float(begin), float(every), float(init), float(init * rate)))
    if end is not None and end > 0:
        crossing = begin + every * math.log(end / init) / math.log(rate)  # where init · r^x meets end_value
        out.append(constant(crossing, end))
    return out


def _cosine(init: float, end: float, length: int, start: int = 0) -> Segments:
    return [Segment("cosine", float(start), float(length), float(init), float(end)), constant(start + length, end)]


def _warmup(init: float, peak: float, steps: int) -> Segments:
    return [Segment("linear", 0.0, float(steps), float(init), float(peak))] if steps > 0 else []


def _interpolate(kind: str, init: float, pairs: Any) -> Segments:
    """piecewise_interpolate_schedule: from knot to knot (0, I), (b_i, I·s_1⋯s_i) linearly or along a cosine."""
    knots = [(0, float(init))]
    for boundary, scale in sorted(pairs):
        knots.append((int(boundary), knots[-1][1] * float(scale)))
    out: Segments = []
    for (b0, v0), (b1, v1) in itertools.pairwise(knots):
        if b1 > b0:
            out.append(Segment(kind, float(b0), float(b1 - b0), v0, v1))
    out.append(constant(knots[-1][0], knots[-1][1]))
    return out


def _segments(name: str, p: P, lr: float, steps: int) -> Segments | None:
    """The segments of optax schedule ``name`` (validated params ``p``, base value ``lr``), or None."""
    from lrlab.schedulers._optax_args import child_lr, children, cycle_args, onecycle_knots

    short = name.split(":", 1)[-1]
    if short == "constant_schedule":
        return [constant(0, lr)]
    if short == "linear_schedule":
        return _poly(lr, p["end_value"], 1.0, p["transition_steps"], p["transition_begin"])
    if short == "polynomial_schedule":
        return _poly(lr, p["end_value"], float(p["power"]), p["transition_steps"], p["transition_begin"])
    if short == "exponential_decay":
        return _exponential(lr, p, steps)
    if short == "cosine_decay_schedule":
        if p["exponent"] != 1.0:
            return None
        return _cosine(lr, lr * p["alpha"], p["decay_steps"])
    if short == "warmup_cosine_decay_schedule":
        if p["exponent"] != 1.0:
            return None
        w = p["warmup_steps"]
        return _warmup(p["init_value"], lr, w) + _cosine(lr, p["end_value"], p["decay_steps"] - w, start=w)
    if short == "warmup_constant_schedule":
        return [*_warmup(p["init_value"], lr, p["warmup_steps"]), constant(p["warmup_steps"], lr)]
    if short == "warmup_exponential_decay_schedule":
        w = p["warmup_steps"]
        decay = _exponential(lr, p, max(steps - w, 1))
        return None if decay is None else _warmup(p["init_value"], lr, w) + _shift(decay, w)
    if short == "piecewise_constant_schedule":
        pairs = p["boundaries_and_scales"]
        if len(pairs) > MAX_STAIRS:
            return None
        out, value = [constant(0, lr)], lr
        for boundary, scale in sorted(pairs):
            value *= float(scale)
            out.append(constant(boundary, value))
        return out
    if short == "piecewise_interpolate_schedule":
        return _interpolate(p["interpolate_type"], lr, p["boundaries_and_scales"])
    if short in ("linear_onecycle_schedule", "cosine_onecycle_schedule"):
        kind = short.split("_", 1)[0]
        init, pairs = onecycle_knots(kind, p, lr)
        return _interpolate(kind, init, pairs)
    if short == "sgdr_schedule":
        cycles = [cycle_args(c, lr) for c in p["cosine_kwargs"]]
        if any(c["exponent"] != 1.0 for c in cycles):
            return None
        pieces = [
            _warmup(c["init_value"], c["peak_value"], c["warmup_steps"])
            + _cosine(c["peak_value"], c["end_value"], c["decay_steps"] - c["warmup_steps"], start=c["warmup_steps"])
            for c in cycles
        ]
        bounds = [int(b) for b in np.cumsum([c["decay_steps"] for c in cycles])[:-1]]
        return _join(pieces, bounds, steps)
    if short == "join_schedules":
        pieces = []
        bounds = list(p["boundaries"])
        starts = [0, *bounds]
        for i, (spec, params) in enumerate(children(p)):
            local = max(steps - starts[i], 1)
            kid = _segments(spec.name, params, child_lr(spec, params, lr), local)
            if kid is None:
                return None
            pieces.append(kid)
        return _join(pieces, bounds, steps)
    return None


def _shift(segments: Segments, by: float) -> Segments:
    return [replace(s, start=s.start + by) for s in segments]


def _join(pieces: list[Segments], bounds: list[int], steps: int) -> Segments | None:
    """Children one after another, child i on its own clock from ``starts[i]`` (optax's join_schedules)."""
    starts = [0, *bounds]
    ends = [*bounds, max(steps, (bounds[-1] if bounds else 0) + 1)]
    out: Segments = []
    for piece, start, stop in zip(pieces, starts, ends, strict=True):
        if stop <= start or start >= steps:
            continue  # the child has no row: a later one takes over at the same count
        first = piece[0]
        if first.start > 0:
            if first.kind != "constant":
                return None
            piece = [replace(first, start=0.0), *piece[1:]]
        local = [s for i, s in enumerate(piece) if i == 0 or s.start < stop - start]
        moved = _shift(local, start)
        moved[0] = replace(moved[0], start=float(start)) if moved[0].kind == "constant" else moved[0]
        out.extend(moved)
    return list(merge(out))


def _analyser(name: str) -> Callable[[dict, RunContext, ScheduleConfig], Shape | None]:
    def analyse(params: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
        segments = _segments(name, params, ctx.base_lr, ctx.steps)
        if segments is None:
            return None
        return Shape(ctx.steps, merge(segments), notes=("optax computes in float32",))

    return analyse


ANALYZERS: dict[str, Callable[[dict, RunContext, ScheduleConfig], Shape | None]] = {
    f"optax:{short}": _analyser(f"optax:{short}")
    for short in (
        "constant_schedule",
        "linear_schedule",
        "polynomial_schedule",
        "exponential_decay",
        "cosine_decay_schedule",
        "warmup_cosine_decay_schedule",
        "warmup_constant_schedule",
        "warmup_exponential_decay_schedule",
        "piecewise_constant_schedule",
        "piecewise_interpolate_schedule",
        "linear_onecycle_schedule",
        "cosine_onecycle_schedule",
        "sgdr_schedule",
        "join_schedules",
    )
}


# ---- expressing a shape in optax ---------------------------------------------------------------------


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-9


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME * max(abs(a), abs(b), 1e-300)


def _spans(shape: Shape) -> list[tuple[Segment, int, int]]:
    """Each segment that owns a row, with its first row and the row after its last (within the run)."""
    segments = shape.within()
    out = []
    for i, s in enumerate(segments):
        first = 0 if i == 0 else math.ceil(s.start - 1e-9)
        stop = math.ceil(segments[i + 1].start - 1e-9) if i + 1 < len(segments) else shape.steps
        stop = min(stop, shape.steps)
        if stop > first:
            out.append((s, first, stop))
    return out


def _holds(segment: Segment, stop: int) -> bool:
    """Whether the segment's rows stay within its length (x ≤ 1): an optax schedule holds its end value after."""
    return segment.kind == "constant" or stop - 1 <= segment.end + 1e-9


def _n(x: float) -> str:
    return f"{x:.6g}"


def _value_ok(*values: float) -> bool:
    return all(0 <= v <= MAX_VALUE and math.isfinite(v) for v in values)


def _native(shape: Shape, run: Run) -> tuple[list[Candidate], list[str]]:
    """optax's own schedules whose form is the whole shape."""
    spans = _spans(shape)
    kinds = [s.kind for s, _, _ in spans]
    out: list[Candidate] = []
    reasons: list[str] = []

    def add(name: str, params: dict[str, Any], base: float, how: str) -> None:
        if base > 0 and _value_ok(base):
            out.append(Candidate(run.config(f"optax:{name}", params, base), how))

    tail = spans[-1]
    ends_held = _holds(tail[0], tail[2]) or (len(spans) >= 2 and tail[0].kind == "constant")
    body = spans[:-1] if len(spans) >= 2 and tail[0].kind == "constant" else spans
    held = None if body is spans else tail[0].v0
    if held is not None and not _same(held, body[-1][0].v1):
        body = spans  # the constant after is not where the last phase ends: only a join says that
        held = None
    b_kinds = [s.kind for s, _, _ in body]

    if kinds == ["constant"]:
        add("constant_schedule", {}, spans[0][0].v0, f"value = {_n(spans[0][0].v0)}: the lr never changes")
        return out, reasons
    if not ends_held and held is None and tail[0].kind != "constant":
        reasons.append(
            f"the last phase ({tail[0].describe()}) keeps going past its length within the run, and every optax "
            "schedule holds its end value there"
        )
    lead = 0
    if len(body) >= 2 and body[0][0].kind == "constant" and body[1][0].kind != "constant":
        lead = body[1][1]  # held before the transition: transition_begin
        if not _same(body[0][0].v0, body[1][0].v0) or not _whole(body[1][0].start):
            lead = -1
    rest = body[1:] if lead > 0 else body
    r_kinds = [s.kind for s, _, _ in rest]
    s0 = rest[0][0]
    integer = all(_whole(s.start) and _whole(s.length) for s, _, _ in rest)
    if lead >= 0 and len(rest) == 1 and integer and (ends_held or held is not None):
        begin, steps = round(s0.start), round(s0.length)
        if s0.kind in ("linear", "poly") and _value_ok(s0.v1):
            name = "linear_schedule" if s0.kind == "linear" or s0.power == 1 else "polynomial_schedule"
            params: dict[str, Any] = {"end_value": s0.v1, "transition_steps": steps, "transition_begin": begin}
            if name == "polynomial_schedule":
                params["power"] = s0.power
            add(
                name,
                params,
                s0.v0,
                f"init_value = {_n(s0.v0)}, end_value = {_n(s0.v1)}, transition_steps = {steps}"
                + (f", power = {_n(s0.power)}" if name == "polynomial_schedule" else "")
                + f", transition_begin = {begin}: the transition runs rows {begin}–{begin + steps}",
            )
        if s0.kind == "cosine" and begin == 0:
            if s0.v1 <= s0.v0:
                alpha = s0.v1 / s0.v0
                add(
                    "cosine_decay_schedule",
                    {"decay_steps": steps, "alpha": alpha, "exponent": 1.0},
                    s0.v0,
                    f"decay_steps = {steps}, alpha = {_n(alpha)}: the end value {_n(s0.v1)} as a share of "
                    f"init_value {_n(s0.v0)}",
                )
            add(
                "warmup_cosine_decay_schedule",
                {"init_value": s0.v0, "warmup_steps": 0, "decay_steps": steps, "end_value": s0.v1, "exponent": 1.0},
                s0.v0,
                f"warmup_steps = 0, decay_steps = {steps}, end_value = {_n(s0.v1)}",
            )
    if lead >= 0 and len(rest) == 1 and s0.kind == "exp" and _whole(s0.start) and _whole(s0.length):
        begin, steps = round(s0.start), round(s0.length)
        rate = s0.v1 / s0.v0
        params = {"transition_steps": steps, "decay_rate": rate, "transition_begin": begin, "staircase": False}
        if held is not None:
            params["end_value"] = held
        if 0 < rate <= 10:
            add(
                "exponential_decay",
                params,
                s0.v0,
                f"transition_steps = {steps}, decay_rate = {_n(rate)} (the factor over {steps} step(s)), "
                f"transition_begin = {begin}" + (f", end_value = {_n(held)} (the floor it is held at)" if held else ""),
            )
    # a linear warm-up, then a cosine or an exponential decay
    if (
        len(rest) == 2
        and lead == 0
        and rest[0][0].kind == "linear"
        and r_kinds[1] in ("cosine", "exp")
        and integer
        and _same(rest[0][0].v1, rest[1][0].v0)
        and _same(rest[0][0].end, rest[1][0].start)
        and rest[0][0].start == 0
    ):
        warm, decay = rest[0][0], rest[1][0]
        w, length = round(warm.length), round(decay.length)
        if decay.kind == "cosine" and (ends_held or held is not None) and _value_ok(warm.v0, decay.v1):
            add(
                "warmup_cosine_decay_schedule",
                {
                    "init_value": warm.v0,
                    "warmup_steps": w,
                    "decay_steps": w + length,
                    "end_value": decay.v1,
                    "exponent": 1.0,
                },
                decay.v0,
                f"init_value = {_n(warm.v0)}, warmup_steps = {w}, decay_steps = {w + length}: optax counts the {w} "
                f"warm-up steps in decay_steps, so {w} + {length}; end_value = {_n(decay.v1)}",
            )
        if decay.kind == "exp" and 0 < decay.v1 / decay.v0 <= 10 and _value_ok(warm.v0):
            rate = decay.v1 / decay.v0
            params = {
                "init_value": warm.v0,
                "warmup_steps": w,
                "transition_steps": length,
                "decay_rate": rate,
                "transition_begin": 0,
                "staircase": False,
            }
            if held is not None:
                params["end_value"] = held
            add(
                "warmup_exponential_decay_schedule",
                params,
                decay.v0,
                f"init_value = {_n(warm.v0)}, warmup_steps = {w}, transition_steps = {length}, decay_rate = "
                f"{_n(rate)}: the decay counts from the end of the warm-up",
            )
    # held, then a cosine: a warm-up from the peak to the peak is flat
    if (
        lead > 0
        and len(rest) == 1
        and s0.kind == "cosine"
        and integer
        and (ends_held or held is not None)
        and _value_ok(s0.v1)
    ):
        w, length = round(s0.start), round(s0.length)
        add(
            "warmup_cosine_decay_schedule",
            {"init_value": s0.v0, "warmup_steps": w, "decay_steps": w + length, "end_value": s0.v1, "exponent": 1.0},
            s0.v0,
            f"init_value = peak_value = {_n(s0.v0)}: a warm-up from the peak to itself holds it for warmup_steps = {w}; "
            f"decay_steps = {w} + {length} = {w + length} (optax counts the warm-up in it), end_value = {_n(s0.v1)}",
        )
    if lead >= 0 and len(rest) == 2 and r_kinds[0] == "linear" and r_kinds[1] == "constant":
        warm = rest[0][0]
        if warm.start == 0 and _whole(warm.length) and _same(warm.v1, rest[1][0].v0) and _value_ok(warm.v0):
            w = round(warm.length)
            add(
                "warmup_constant_schedule",
                {"init_value": warm.v0, "warmup_steps": w},
                warm.v1,
                f"init_value = {_n(warm.v0)}, warmup_steps = {w}, then peak_value {_n(warm.v1)} held",
            )
    # every phase a constant: piecewise_constant_schedule
    if all(k == "constant" for k in kinds) and spans[0][0].v0 > 0:
        pairs, previous, ok = {}, spans[0][0].v0, True
        for s, first, _ in spans[1:]:
            if previous <= 0:
                ok = False
                break
            pairs[str(first)] = s.v0 / previous
            previous = s.v0
        if ok and all(0 <= v <= MAX_SCALE for v in pairs.values()):
            add(
                "piecewise_constant_schedule",
                {"boundaries_and_scales": pairs},
                spans[0][0].v0,
                "boundaries_and_scales = {"
                + ", ".join(f"{k}: {_n(v)}" for k, v in pairs.items())
                + "}: each value divided by the one before, at the first step it applies",
            )
    # one-cycles: knots at whole steps, linear or cosine between them
    contiguous = all(_same(a.end, b.start) and _same(a.v1, b.v0) for (a, _, _), (b, _, _) in itertools.pairwise(body))
    if lead == 0 and contiguous and len(body) in (2, 3) and integer and body[0][0].start == 0:
        kind = body[0][0].kind
        vals = [s.v0 for s, _, _ in body] + [body[-1][0].v1]
        knots = [0] + [round(s.end) for s, _, _ in body]
        t = knots[-1]
        if kind in ("linear", "cosine") and all(k == kind for k in b_kinds) and vals[0] > 0 and t > 0:
            peak = vals[1]
            div = peak / vals[0]
            final = vals[0] / vals[-1] if vals[-1] > 0 else math.inf
            pct_start = _pct_for(knots[1], t)
            if kind == "cosine" and len(body) == 2 and pct_start is not None and math.isfinite(final):
                add(
                    "cosine_onecycle_schedule",
                    {"transition_steps": t, "pct_start": pct_start, "div_factor": div, "final_div_factor": final},
                    peak,
                    f"transition_steps = {t}, pct_start = {_n(pct_start)} (int(pct_start · {t}) = {knots[1]}), "
                    f"div_factor = {_n(div)}, final_div_factor = {_n(final)}",
                )
            if kind == "linear" and len(body) == 3 and _same(vals[2], vals[0]) and math.isfinite(final):
                final = vals[2] / vals[3] if vals[3] > 0 else math.inf
                pct_final = _pct_for(knots[2], t)
                if pct_start is not None and pct_final is not None and math.isfinite(final):
                    add(
                        "linear_onecycle_schedule",
                        {
                            "transition_steps": t,
                            "pct_start": pct_start,
                            "pct_final": pct_final,
                            "div_factor": div,
                            "final_div_factor": final,
                        },
                        peak,
                        f"transition_steps = {t}, pct_start = {_n(pct_start)}, pct_final = {_n(pct_final)} "
                        f"(knots at {knots[1]} and {knots[2]}), div_factor = {_n(div)}, final_div_factor = {_n(final)}",
                    )
    sgdr = _sgdr(body, ends_held or held is not None)
    if sgdr is not None:
        add("sgdr_schedule", {"cosine_kwargs": sgdr[0]}, shape.peak, sgdr[1])
    return out, reasons


def _sgdr(body: list[tuple[Segment, int, int]], held: bool) -> tuple[list[dict[str, Any]], str] | None:
    """sgdr_schedule's cycles for back-to-back (linear warm-up +) cosine cycles at whole steps, or None."""
    cycles: list[dict[str, Any]] = []
    i, segs = 0, [s for s, _, _ in body]
    while i < len(segs):
        warm = segs[i] if segs[i].kind == "linear" else None
        cos = segs[i + 1] if warm is not None and i + 1 < len(segs) else segs[i]
        if cos.kind != "cosine" or cos.v1 > cos.v0 or not (_whole(cos.start) and _whole(cos.length)):
            return None
        start = warm.start if warm is not None else cos.start
        if warm is not None and not (_same(warm.end, cos.start) and _same(warm.v1, cos.v0) and _whole(warm.length)):
            return None
        if cycles and not _same(start, cycles[-1]["_end"]):
            return None
        w = round(warm.length) if warm is not None else 0
        cycles.append(
            {
                "init_value": warm.v0 if warm is not None else cos.v0,
                "peak_value": cos.v0,
                "warmup_steps": w,
                "decay_steps": w + round(cos.length),
                "end_value": cos.v1,
                "exponent": 1.0,
                "_end": cos.end,
            }
        )
        i += 2 if warm is not None else 1
    if len(cycles) < 2 or segs[0].start != 0 or not held:
        return None
    if not all(_value_ok(c["init_value"], c["peak_value"], c["end_value"]) for c in cycles):
        return None
    for c in cycles:
        c.pop("_end")
    how = "cosine_kwargs: one warmup_cosine_decay_schedule per cycle, " + "; ".join(
        f"peak {_n(c['peak_value'])}, warmup_steps {c['warmup_steps']}, decay_steps {c['decay_steps']} (warm-up "
        "included)"
        for c in cycles
    )
    return cycles, how


def _pct_for(row: int, total: int) -> float | None:
    """A pct with int(pct · total) == row (optax truncates): the middle of the row, as a share."""
    for pct in ((row + 0.5) / total, row / total):
        if 0 <= pct <= 1 and int(pct * total) == row:
            return pct
    return None


def _child(segment: Segment, first: int, stop: int, last: bool) -> tuple[dict[str, Any] | None, str]:
    """A join child that reproduces ``segment`` on rows [first, stop) on its own clock (count − first), or the
    reason it can't."""
    s = segment
    rows = stop - first
    if s.kind == "constant":
        return {"name": "optax:constant_schedule", "value": s.v0}, f"constant {_n(s.v0)}"
    if s.kind in ("linear", "exp"):
        at = s.at(np.array([first, stop], dtype=np.float64))
        if s.kind == "linear":
            a, b, n = float(at[0]), float(at[1]), rows
            if b < 0:  # the line crosses 0 after the segment's last row: end one row earlier and hold
                n = max(rows - 1, 1)
                b = float(s.at(np.array([first + n], dtype=np.float64))[0])
            if not _value_ok(a, b):
                return None, f"a line from {_n(a)} to {_n(b)} is outside optax's values (finite, ≥ 0)"
            return (
                {"name": "optax:linear_schedule", "init_value": a, "end_value": b, "transition_steps": n},
                f"linear {_n(a)} → {_n(b)} over {n}",
            )
        if s.v0 <= 0 or s.v1 <= 0:
            return None, "an exponential through 0"
        a = float(at[0])
        if _whole(s.length) and _whole(s.start - first):
            every, rate = round(s.length), s.v1 / s.v0
        else:
            every, rate = 1, (s.v1 / s.v0) ** (1 / s.length)
        if not (0 < rate <= 10 and _value_ok(a)):
            return None, f"a decay rate of {_n(rate)} is outside optax's (0, 10]"
        return (
            {
                "name": "optax:exponential_decay",
                "init_value": a,
                "transition_steps": every,
                "decay_rate": rate,
                "transition_begin": 0,
                "staircase": False,
            },
            f"exponential ×{_n(rate)} every {every}",
        )
    if not _whole(s.start - first):
        return None, (
            f"its {s.kind} phase starts at step {s.start:g}, between two updates: optax's join_schedules starts each "
            "child at a whole step, and a curve that is not a line or an exponential can't be shifted by a fraction"
        )
    if not last and stop - 1 > s.end + 1e-9:
        return None, f"its {s.kind} phase runs past its length before the next phase: optax's children hold there"
    if last and not _holds(s, stop):
        return None, f"its last {s.kind} phase keeps going past its length, and optax's children hold there"
    if not _whole(s.length):
        return None, f"its {s.kind} phase lasts {s.length:g} steps, not a whole number: optax's lengths are integers"
    n = round(s.length)
    if s.kind == "cosine":
        if s.v0 > 0 and s.v1 <= s.v0:
            return (
                {
                    "name": "optax:cosine_decay_schedule",
                    "init_value": s.v0,
                    "decay_steps": n,
                    "alpha": s.v1 / s.v0,
                    "exponent": 1.0,
                },
                f"cosine {_n(s.v0)} → {_n(s.v1)} over {n}",
            )
        if s.v0 > 0 and s.v1 / s.v0 <= MAX_SCALE:
            return (
                {
                    "name": "optax:piecewise_interpolate_schedule",
                    "interpolate_type": "cosine",
                    "init_value": s.v0,
                    "boundaries_and_scales": {str(n): s.v1 / s.v0},
                },
                f"cosine rise {_n(s.v0)} → {_n(s.v1)} over {n}",
            )
        return None, "a cosine rising from 0: optax's cosine knots multiply init_value"
    # poly
    if not _value_ok(s.v0, s.v1) or s.v0 <= 0 or not 0 < s.power <= 10:
        return None, "a polynomial outside optax's bounds"
    return (
        {
            "name": "optax:polynomial_schedule",
            "init_value": s.v0,
            "end_value": s.v1,
            "power": s.power,
            "transition_steps": n,
        },
        f"polynomial {_n(s.v0)} → {_n(s.v1)} (power {_n(s.power)}) over {n}",
    )


def _joined(shape: Shape, run: Run) -> tuple[Candidate | None, str | None]:
    """join_schedules with one child per segment, each on its own clock from the first row it owns."""
    spans = _spans(shape)
    children: list[dict[str, Any]] = []
    bounds: list[int] = []
    parts: list[str] = []
    for i, (segment, first, stop) in enumerate(spans):
        child, what = _child(segment, first, stop, i == len(spans) - 1)
        if child is None:
            return None, f"optax can't join this shape exactly: {what}"
        if children and segment.kind == "constant" and _held_by(children[-1], segment.v0, first - _last_start(bounds)):
            continue  # the previous child holds this value already
        if children:
            bounds.append(first)
        children.append(child)
        parts.append(f"{what} from step {first}")
    if len(children) == 1:
        return None, None  # one child: the native schedule says it better
    if len(children) > 6:
        return None, f"optax's join would need {len(children)} children (lrlab joins at most 6)"
    config = run.config("optax:join_schedules", {"schedules": children, "boundaries": bounds}, shape.peak)
    how = "join_schedules of " + "; ".join(parts) + f" (boundaries {bounds}: each child counts from its boundary)"
    return Candidate(config, how), None


def _last_start(bounds: list[int]) -> int:
    return bounds[-1] if bounds else 0


def _held_by(child: dict[str, Any], value: float, local: int) -> bool:
    """Whether a join child already holds ``value`` from its local count ``local`` on."""
    name = child["name"]
    if name == "optax:constant_schedule":
        return _same(child["value"], value)
    if name in ("optax:linear_schedule", "optax:polynomial_schedule"):
        return _same(child["end_value"], value) and local >= child["transition_steps"]
    if name == "optax:cosine_decay_schedule":
        return _same(child["init_value"] * child["alpha"], value) and local >= child["decay_steps"]
    return False


def _momentum(shape: Shape, run: Run) -> ScheduleConfig | None:
    """An optax schedule whose values are the shape's momentum (for optax.inject_hyperparams), or None."""
    if not shape.momentum:
        return None
    mom = Shape(shape.steps, shape.momentum)
    found, _ = _native(mom, run)
    if found:
        return found[0].config
    joined, _ = _joined(mom, run)
    return joined.config if joined is not None else None


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    """optax candidates for ``shape``: its native schedules, then join_schedules of one child per segment."""
    natives, reasons = _native(shape, run)
    joined, why = _joined(shape, run)
    candidates = natives + ([joined] if joined is not None else [])
    if why:
        reasons.append(why)
    momentum = _momentum(shape, run)
    if shape.momentum and momentum is None:
        reasons.append("optax schedules the lr only, and the momentum's phases can't be written as an optax schedule")
    if momentum is not None:
        candidates = [replace(c, momentum_config=momentum) for c in candidates]
    if not candidates and not reasons:
        reasons.append("optax has no schedule of this form")
    return Expressed(candidates, reasons, fit_templates(shape, run, source, shape.values()))


# ---- fitting -------------------------------------------------------------------------------------------


def _peak_row(lr: np.ndarray) -> int:
    finite = np.where(np.isfinite(lr), lr, -np.inf)
    return int(np.argmax(finite))


def fit_templates(shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray) -> list[FitTemplate]:
    """The nearest optax schedules, lengths fixed from the curve, values fitted."""
    lr = np.asarray(lr, dtype=np.float64)
    finite = lr[np.isfinite(lr)]
    if finite.size == 0:
        return []
    steps = run.steps
    peak = max(float(finite.max()), 1e-12)
    first = float(finite[0])
    last = float(finite[-1])
    w = _peak_row(lr)
    if shape is not None and shape.segments and shape.segments[0].kind == "linear":
        w = round(shape.segments[0].length)
    w = min(max(w, 0), steps - 1)
    lo = 1e-12 * peak
    top = min(MAX_VALUE, 1e3 * peak)
    templates = [
        FitTemplate(
            "optax:warmup_cosine_decay_schedule",
            ("init_value", "peak_value", "end_value", "exponent"),
            (first if w > 0 else 0.0, peak, max(last, 0.0), 1.0),
            (0.0, lo, 0.0, 0.05),
            (top, top, top, 10.0),
            lambda x, w=w: run.config(
                "optax:warmup_cosine_decay_schedule",
                {
                    "init_value": x[0],
                    "warmup_steps": w,
                    "decay_steps": max(steps, w + 1),
                    "end_value": x[2],
                    "exponent": x[3],
                },
                x[1],
            ),
            f"the nearest optax form is a linear warm-up over {w} steps and a cosine over the rest of the run",
        ),
        FitTemplate(
            "optax:linear_schedule",
            ("init_value", "end_value"),
            (max(first, lo), max(last, 0.0)),
            (lo, 0.0),
            (top, top),
            lambda x: run.config(
                "optax:linear_schedule",
                {"end_value": x[1], "transition_steps": max(steps - 1, 1), "transition_begin": 0},
                x[0],
            ),
            "the nearest optax form is a straight line over the run",
        ),
    ]
    if first > 0 and last > 0:
        rate0 = min(max((last / first) ** (1 / max(steps - 1, 1)), 1e-6), 10.0)
        templates.append(
            FitTemplate(
                "optax:exponential_decay",
                ("init_value", "decay_rate"),
                (first, rate0),
                (lo, 1e-6),
                (top, 10.0),
                lambda x: run.config(
                    "optax:exponential_decay",
                    {"transition_steps": 1, "decay_rate": x[1], "transition_begin": 0, "staircase": False},
                    x[0],
                ),
                "the nearest optax form is an exponential decay",
            )
        )
    if 0 < w < steps - 1 and first > 0:
        pct = (w + 0.5) / steps
        templates.append(
            FitTemplate(
                "optax:cosine_onecycle_schedule",
                ("peak_value", "div_factor", "final_div_factor"),
                (peak, max(peak / first, 1.0), max(first / max(last, lo), 1.0)),
                (lo, 1e-3, 1e-3),
                (top, 1e6, 1e9),
                lambda x, pct=pct: run.config(
                    "optax:cosine_onecycle_schedule",
                    {"transition_steps": steps, "pct_start": pct, "div_factor": x[1], "final_div_factor": x[2]},
                    x[0],
                ),
                f"the nearest optax form is a one-cycle peaking at step {w}",
            )
        )
    return templates


__all__ = ["ANALYZERS", "express", "fit_templates"]
