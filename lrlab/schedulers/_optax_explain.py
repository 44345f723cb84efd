"""Explain mode for optax's schedules: the formula at one update count, with the numbers substituted.

Each explainer takes a :class:`~lrlab.explaining.Step` (``k`` is the update count t) and returns a
:class:`~lrlab.explaining.Part` whose value is the closed form of :mod:`lrlab.schedulers._optax_formulas`
at t, so that the last number shown is the value checked against optax's own (float32) lr. The
composite schedules (the warm-up ones, the one-cycles, sgdr, join_schedules) explain the piece that is
active at t on its own clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lrlab.explaining import Part, Step, num
from lrlab.schedulers import _optax_formulas as F
from lrlab.schedulers._optax_args import child_lr, children, cycle_args, onecycle_knots

FLOAT32 = "optax evaluates this in float32; the formula here is float64 (they agree to about 1e-7 of the peak)."


@dataclass(frozen=True)
class Piece:
    """One formula evaluated at one count: its value, LaTeX lines, sentence and event."""

    value: float
    lines: tuple[str, ...]
    sentence: str
    event: str


def _at(fn: Any, k: int, **kwargs: Any) -> float:
    return float(np.asarray(fn(np.array([k]), **kwargs))[0])


def _p(x: float) -> str:
    return rf"\left({num(x)}\right)" if x < 0 else num(x)


def _eta(s: Step) -> str:
    return f"{s.lhs}_{{{s.k}}}"


def _part(s: Step, piece: Piece, given: Sequence[tuple[str, Any]], notes: Sequence[str] = ()) -> Part:
    return Part(piece.value, (("t", s.k), *given), piece.lines, piece.sentence, piece.event, notes=(*notes, FLOAT32))


# ---- the building blocks ---------------------------------------------------------------------------------


def poly_piece(
    k: int, lhs: str, *, init: float, end: float, power: float, steps: int, begin: int = 0, what: str = "transition"
) -> Piece:
    value = _at(
        F.polynomial, k, init_value=init, end_value=end, power=power, transition_steps=steps, transition_begin=begin
    )
    if k < begin:
        line = rf"t = {k} < B = {begin}:\quad {lhs} = I = {num(value)}"
        return Piece(value, (line,), f"Before transition_begin = {begin}: the schedule holds init_value.", "hold")
    if k - begin < steps:
        c = k - begin
        frac = 1.0 - c / steps
        shift = (
            rf"\frac{{t - B}}{{T}} = \frac{{{c}}}{{{steps}}}"
            if begin
            else rf"\frac{{t}}{{T}} = \frac{{{c}}}{{{steps}}}"
        )
        lines = (
            rf"1 - {shift},\quad 1 - \frac{{{c}}}{{{steps}}} = {num(frac)}",
            rf"{lhs} = (I - E)\,(\cdot)^{{{num(power)}}} + E = ({num(init)} - {_p(end)}) \times {num(frac)}^{{{num(power)}}} + {_p(end)} = {num(value)}",
        )
        if c == 0:
            return Piece(value, lines, f"The {what} starts at t = {k}: the value is still init_value.", "start")
        verb = "rises" if end > init else "falls"
        return Piece(
            value,
            lines,
            f"In the {what}: {c} of {steps} steps done; the value {verb} toward end_value.",
            "decay" if end < init else "warmup",
        )
    line = rf"t \ge B + T = {begin + steps}:\quad {lhs} = E = {num(value)}"
    event = "end" if k == begin + steps else "hold"
    return Piece(value, (line,), f"The {what} is over (t ≥ {begin + steps}): the schedule holds end_value.", event)


def exp_piece(
    k: int, lhs: str, *, init: float, steps: int, rate: float, begin: int, staircase: bool, end: float | None
) -> Piece:
    value = _at(
        F.exponential_decay,
        k,
        init_value=init,
        transition_steps=steps,
        decay_rate=rate,
        transition_begin=begin,
        staircase=staircase,
        end_value=end,
    )
    d = k - begin
    if d <= 0:
        line = rf"t - B = {d} \le 0:\quad {lhs} = I = {num(value)}"
        return Piece(
            value,
            (line,),
            f"Up to transition_begin = {begin} the schedule holds init_value.",
            "start" if k == 0 else "hold",
        )
    q = d // steps if staircase else d / steps
    q_line = (
        rf"q = \left\lfloor \frac{{t - B}}{{T}} \right\rfloor = \left\lfloor \frac{{{d}}}{{{steps}}} \right\rfloor = {q}"
        if staircase
        else rf"q = \frac{{t - B}}{{T}} = \frac{{{d}}}{{{steps}}} = {num(q)}"
    )
    raw = init * rate**q
    if end is None or (rate < 1 and raw >= end) or (rate >= 1 and raw <= end):
        lines = (q_line, rf"{lhs} = I\,r^{{q}} = {num(init)} \times {num(rate)}^{{{num(q)}}} = {num(value)}")
        if staircase and d % steps == 0:
            return Piece(
                value, lines, f"A staircase step: t − B = {d} is a multiple of transition_steps = {steps}.", "decay"
            )
        return Piece(
            value,
            lines,
            "The value decays by decay_rate per transition_steps."
            if rate < 1
            else "The value grows by decay_rate per transition_steps.",
            "hold" if staircase else "decay",
        )
    bound = "max" if rate < 1 else "min"
    lines = (q_line, rf"{lhs} = \{bound}(I\,r^{{q}},\ E) = \{bound}({num(raw)},\ {num(end)}) = {num(value)}")
    return Piece(value, lines, f"The decay has reached end_value = {end:g}, which bounds it.", "hold")


def cos_piece(k: int, lhs: str, *, init: float, steps: int, alpha: float, exponent: float) -> Piece:
    value = _at(F.cosine_decay, k, init_value=init, decay_steps=steps, alpha=alpha, exponent=exponent)
    c = min(k, steps)
    factor = 0.5 * (1.0 + math.cos(math.pi * c / steps))
    power = "" if exponent == 1 else f"^{{{num(exponent)}}}"
    lines = (
        rf"\tfrac{{1}}{{2}}\left(1 + \cos\frac{{\pi \min(t, T)}}{{T}}\right) = \tfrac{{1}}{{2}}\left(1 + \cos\frac{{{c}\pi}}{{{steps}}}\right) = {num(factor)}",
        rf"{lhs} = I\left[(1 - \alpha)(\cdot){power} + \alpha\right] = {num(init)} \times \left[{num(1 - alpha)} \times {num(factor)}{power} + {num(alpha)}\right] = {num(value)}",
    )
    if k == 0:
        return Piece(value, lines, "The cosine starts at its top: the value is init_value.", "start")
    if k < steps:
        return Piece(value, lines, f"Along the cosine: {k} of {steps} decay steps done.", "anneal")
    if k == steps:
        return Piece(value, lines, f"The cosine ends at decay_steps = {steps}: the value is alpha × init_value.", "end")
    return Piece(
        value,
        lines,
        f"Past decay_steps = {steps} the cosine is clamped: the value stays at alpha × init_value.",
        "hold",
    )


def interpolate_piece(k: int, lhs: str, *, kind: str, init: float, pairs: Sequence[tuple[int, float]]) -> Piece:
    bounds, values = F.interpolation_knots(init, pairs)
    value = _at(F.piecewise_interpolate, k, interpolate_type=kind, init_value=init, boundaries_and_scales=pairs)
    if k >= bounds[-1]:
        last = len(bounds) - 1
        line = rf"t \ge b_{{{last}}} = {bounds[-1]}:\quad {lhs} = v_{{{last}}} = {num(value)}"
        event = "end" if k == bounds[-1] else "hold"
        return Piece(
            value, (line,), f"Past the last boundary ({bounds[-1]}) the value stays at the last knot's.", event
        )
    i = int(np.searchsorted(bounds, k, side="right")) - 1
    size = max(int(bounds[i + 1] - bounds[i]), 1)
    pct = (k - int(bounds[i])) / size
    start, stop = float(values[i]), float(values[i + 1])
    head = rf"b_{{{i}}} = {bounds[i]} \le t < b_{{{i + 1}}} = {bounds[i + 1]}:\quad p = \frac{{{k - int(bounds[i])}}}{{{size}}} = {num(pct)}"
    if kind == "linear":
        body = rf"{lhs} = v_{{{i}}} + (v_{{{i + 1}}} - v_{{{i}}})\,p = {num(start)} + ({num(stop)} - {num(start)}) \times {num(pct)} = {num(value)}"
    else:
        body = (
            rf"{lhs} = v_{{{i + 1}}} + \frac{{v_{{{i}}} - v_{{{i + 1}}}}}{{2}}(1 + \cos \pi p) = {num(stop)} + "
            rf"\frac{{{num(start)} - {num(stop)}}}{{2}} \times (1 + \cos({num(pct)}\pi)) = {num(value)}"
        )
    if pct == 0:
        sentence, event = (
            f"At knot {i} (t = {bounds[i]}) the value is v_{i} = {start:.6g}.",
            "boundary" if i else "start",
        )
    else:
        direction = "up" if stop > start else "down"
        sentence, event = (
            f"Between knots {i} and {i + 1}: {kind} {direction} from {start:.6g} to {stop:.6g}.",
            "rise" if stop > start else "anneal",
        )
    return Piece(value, (head, body), sentence, event)


# ---- one explainer per schedule -------------------------------------------------------------------------


def constant(s: Step) -> Part:
    piece = Piece(
        s.lr0,
        (rf"{_eta(s)} = \eta_0 = {num(s.lr0)}",),
        "A constant schedule: every count gives value.",
        "start" if s.k == 0 else "hold",
    )
    return _part(s, piece, ((r"\eta_0", s.lr0),))


def _poly_given(s: Step, power: bool = True) -> tuple[tuple[str, Any], ...]:
    p = s.params
    given = (("I", s.lr0), ("E", p["end_value"]), ("T", p["transition_steps"]), ("B", p["transition_begin"]))
    return (*given, ("p", p["power"])) if power else given


def linear(s: Step) -> Part:
    p = s.params
    piece = poly_piece(
        s.k,
        _eta(s),
        init=s.lr0,
        end=p["end_value"],
        power=1.0,
        steps=p["transition_steps"],
        begin=p["transition_begin"],
    )
    return _part(s, piece, _poly_given(s, power=False))


def polynomial(s: Step) -> Part:
    p = s.params
    piece = poly_piece(
        s.k,
        _eta(s),
        init=s.lr0,
        end=p["end_value"],
        power=p["power"],
        steps=p["transition_steps"],
        begin=p["transition_begin"],
    )
    return _part(s, piece, _poly_given(s))


def exponential(s: Step) -> Part:
    p = s.params
    piece = exp_piece(
        s.k,
        _eta(s),
        init=s.lr0,
        steps=p["transition_steps"],
        rate=p["decay_rate"],
        begin=p["transition_begin"],
        staircase=p["staircase"],
        end=p["end_value"],
    )
    given = (("I", s.lr0), ("T", p["transition_steps"]), ("r", p["decay_rate"]), ("B", p["transition_begin"]))
    return _part(s, piece, (*given, ("E", "none" if p["end_value"] is None else p["end_value"])))


def cosine(s: Step) -> Part:
    p = s.params
    piece = cos_piece(s.k, _eta(s), init=s.lr0, steps=p["decay_steps"], alpha=p["alpha"], exponent=p["exponent"])
    return _part(s, piece, (("I", s.lr0), ("T", p["decay_steps"]), (r"\alpha", p["alpha"]), ("e", p["exponent"])))


def _warmup(s: Step, init: float, peak: float, w: int) -> Piece:
    piece = poly_piece(s.k, _eta(s), init=init, end=peak, power=1.0, steps=w, what="warm-up")
    if s.k == 0:
        return replace(piece, sentence=f"The warm-up starts at init_value = {init:g} (t = 0).", event="start")
    return replace(
        piece, sentence=f"Warm-up: {s.k} of {w} steps done, linearly from init_value toward peak_value.", event="warmup"
    )


def _local(s: Step, start: int, symbol: str) -> str:
    return rf"t - {symbol} = {s.k} - {start} = {s.k - start}"


def warmup_cosine(s: Step) -> Part:
    p = s.params
    w, d, peak = p["warmup_steps"], p["decay_steps"], s.lr0
    given = (("I", p["init_value"]), ("P", peak), ("W", w), ("D", d), ("E", p["end_value"]), ("e", p["exponent"]))
    if s.k < w:
        return _part(s, _warmup(s, p["init_value"], peak, w), given)
    alpha = 0.0 if peak == 0 else p["end_value"] / peak
    inner = cos_piece(s.k - w, _eta(s), init=peak, steps=d - w, alpha=alpha, exponent=p["exponent"])
    lines = (
        rf"t \ge W:\quad {_local(s, w, 'W')},\quad D - W = {d - w},\quad \alpha = E / P = {num(alpha)}",
        *inner.lines,
    )
    sentence = inner.sentence
    if s.k == w and w > 0:
        sentence = f"The warm-up ended at warmup_steps = {w}: the value is peak_value and the cosine decay over decay_steps − warmup_steps = {d - w} steps begins."
    return _part(
        s,
        replace(inner, lines=lines, sentence=sentence, event="warmup end" if s.k == w and w else inner.event),
        given,
        ("decay_steps includes the warm-up.",),
    )


def warmup_constant(s: Step) -> Part:
    p = s.params
    given = (("I", p["init_value"]), ("P", s.lr0), ("W", p["warmup_steps"]))
    if s.k < p["warmup_steps"]:
        return _part(s, _warmup(s, p["init_value"], s.lr0, p["warmup_steps"]), given)
    piece = poly_piece(
        s.k, _eta(s), init=p["init_value"], end=s.lr0, power=1.0, steps=p["warmup_steps"], what="warm-up"
    )
    sentence = "The warm-up is over: the schedule holds peak_value."
    return _part(
        s, replace(piece, sentence=sentence, event="warmup end" if s.k == p["warmup_steps"] else "hold"), given
    )


def warmup_exponential(s: Step) -> Part:
    p = s.params
    w, peak = p["warmup_steps"], s.lr0
    given = (
        ("I", p["init_value"]),
        ("P", peak),
        ("W", w),
        ("T", p["transition_steps"]),
        ("r", p["decay_rate"]),
        ("B", p["transition_begin"]),
    )
    if s.k < w:
        return _part(s, _warmup(s, p["init_value"], peak, w), given)
    inner = exp_piece(
        s.k - w,
        _eta(s),
        init=peak,
        steps=p["transition_steps"],
        rate=p["decay_rate"],
        begin=p["transition_begin"],
        staircase=p["staircase"],
        end=p["end_value"],
    )
    lines = (rf"t \ge W:\quad \text{{the decay's clock}}\ {_local(s, w, 'W')}", *inner.lines)
    return _part(s, replace(inner, lines=lines), given)


def piecewise_constant(s: Step) -> Part:
    pairs = s.params["boundaries_and_scales"]
    value = _at(F.piecewise_constant, s.k, init_value=s.lr0, boundaries_and_scales=pairs)
    active = [(b, sc) for b, sc in pairs if b <= s.k]
    if active:
        shown = r" \times ".join(num(sc) for _, sc in active[:8]) + (r" \times \dots" if len(active) > 8 else "")
        steps = ", ".join(str(b) for b, _ in active[:8]) + (r", \dots" if len(active) > 8 else "")
        lines = (
            rf"\{{b_i \le {s.k}\}} = \{{{steps}\}}",
            rf"{_eta(s)} = I \prod s_i = {num(s.lr0)} \times {shown} = {num(value)}",
        )
    else:
        lines = (rf"\text{{no boundary}} \le {s.k}:\quad {_eta(s)} = I = {num(value)}",)
    hit = [sc for b, sc in pairs if b == s.k]
    if hit:
        sentence, event = (
            f"A boundary: at t = {s.k} the value is multiplied by {hit[0]:g} (optax switches AT the boundary).",
            "decay",
        )
    else:
        nxt = [b for b, _ in pairs if b > s.k]
        sentence = (
            f"The value holds; the next boundary is at {nxt[0]}." if nxt else "Past the last boundary: the value holds."
        )
        event = "start" if s.k == 0 else "hold"
    return _part(s, Piece(value, lines, sentence, event), (("I", s.lr0), ("b_i, s_i", _pairs_text(pairs))))


def _pairs_text(pairs: Sequence[tuple[int, float]]) -> str:
    shown = ", ".join(f"{b}: {num(sc)}" for b, sc in pairs[:6])
    return r"\{" + shown + (r", \dots" if len(pairs) > 6 else "") + r"\}"


def piecewise_interpolate(s: Step) -> Part:
    p = s.params
    pairs = p["boundaries_and_scales"]
    piece = interpolate_piece(s.k, _eta(s), kind=p["interpolate_type"], init=s.lr0, pairs=pairs)
    return _part(s, piece, (("I", s.lr0), ("b_i, s_i", _pairs_text(pairs))))


def _onecycle(s: Step, kind: str) -> Part:
    p = s.params
    init, pairs = onecycle_knots(kind, p, s.lr0)
    knots = sorted(dict(pairs).items())
    bounds, values = F.interpolation_knots(init, knots)
    knot_line = r"\text{knots}\ " + r",\ ".join(f"({b}, {num(v)})" for b, v in zip(bounds, values, strict=True))
    piece = interpolate_piece(s.k, _eta(s), kind=kind, init=init, pairs=knots)
    given = [("P", s.lr0), ("T", p["transition_steps"]), ("p_s", p["pct_start"])]
    if kind == "linear":
        given.append(("p_f", p["pct_final"]))
    given += [("d", p["div_factor"]), ("f", p["final_div_factor"])]
    return _part(s, replace(piece, lines=(knot_line, *piece.lines)), tuple(given))


def linear_onecycle(s: Step) -> Part:
    return _onecycle(s, "linear")


def cosine_onecycle(s: Step) -> Part:
    return _onecycle(s, "cosine")


def sgdr(s: Step) -> Part:
    cycles = [cycle_args(c, s.lr0) for c in s.params["cosine_kwargs"]]
    starts = [0, *F.sgdr_boundaries([c["decay_steps"] for c in cycles])]
    i = int(np.searchsorted(np.asarray(starts[1:], dtype=np.int64), s.k, side="right"))
    c = cycles[i]
    local = s.k - starts[i]
    sub = warmup_cosine(
        replace(
            s,
            k=local,
            lr0=c["peak_value"],
            params={k: v for k, v in c.items() if k != "peak_value"},
        )
    )
    head = rf"\text{{cycle}}\ {i + 1}\ \text{{of}}\ {len(cycles)}:\quad S_{{{i}}} = {starts[i]},\quad t - S_{{{i}}} = {local}"
    lines = tuple(line.replace(f"{s.lhs}_{{{local}}}", f"{s.lhs}_{{{s.k}}}") for line in sub.lines)
    if local == 0 and i > 0:
        sentence, event = f"A warm restart: cycle {i + 1} starts at t = {starts[i]}: " + sub.sentence, "restart"
    else:
        sentence, event = f"Cycle {i + 1} of {len(cycles)}, its step {local}: " + sub.sentence, sub.event
    return Part(
        sub.value,
        (("t", s.k), ("i", i + 1), ("S_i", starts[i]), *sub.given[1:]),
        (head, *lines),
        sentence,
        event,
        notes=sub.notes,
    )


def join(s: Step) -> Part:
    kids = children(s.params)
    bounds = list(s.params["boundaries"])
    i = int(np.searchsorted(np.asarray(bounds, dtype=np.int64), s.k, side="right"))
    start = bounds[i - 1] if i else 0
    spec, params = kids[i]
    lr = child_lr(spec, params, s.lr0)
    ctx = replace(s.ctx, base_lr=lr, group_lrs=(lr,))
    sub = spec.explainer(replace(s, k=s.k - start, lr0=lr, params=params, ctx=ctx))
    local = s.k - start
    head = rf"i = {i},\ b_{{{i}}} = {start},\ t - b_{{{i}}} = {local}" if i else r"i = 0"
    lines = tuple(line.replace(f"{s.lhs}_{{{local}}}", f"{s.lhs}_{{{s.k}}}") for line in sub.lines)
    name = f"child {i + 1} of {len(kids)} ({spec.name})"
    if i and local == 0:
        sentence, event = (
            f"join_schedules switched to {name} at boundary {start}; it starts on its own clock at 0: " + sub.sentence,
            "switch",
        )
    else:
        sentence, event = f"join_schedules runs {name} at its own count {local}: " + sub.sentence, sub.event
    return Part(sub.value, (("t", s.k), ("i", i), *sub.given[1:]), (head, *lines), sentence, event, notes=sub.notes)
