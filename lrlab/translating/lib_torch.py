"""torch.optim.lr_scheduler in translations: the shape of a torch config, and a shape as torch configs.

Analysis follows torch 2.13's closed forms (``../shared/reference/schedulers.md``) for a scheduler
stepped after every optimizer step (``interval="step"``); other intervals are fitted, not analysed.
Expression tries the native schedulers first (CosineAnnealingLR, LinearLR, ExponentialLR,
PolynomialLR, MultiStepLR/StepLR, OneCycleLR, CosineAnnealingWarmRestarts, SequentialLR of a
LinearLR warm-up and a decay), then LambdaLR with the shape written as an expression of ``epoch``
(lrlab's safe expression language): torch can write any shape of these segment kinds exactly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrlab.specs import RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.shape import Segment, Shape, constant, merge, shifted

MAX_SEGMENTS = 400  # a shape with more pieces (a StepLR of step_size 1 over a long run) is fitted, not analysed


def _first(value: Any) -> float:
    return float(value[0] if isinstance(value, (tuple, list)) else value)


def _step_interval(config: ScheduleConfig) -> bool:
    return config.interval == "step"


# ---- analysis -----------------------------------------------------------------------------------------


def _steplr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    size, gamma, base = int(p["step_size"]), float(p["gamma"]), ctx.base_lr
    starts = range(0, ctx.steps, size)
    if len(starts) > MAX_SEGMENTS or not _step_interval(config):
        return None
    return Shape(ctx.steps, merge([constant(s, base * gamma ** (s // size), size) for s in starts]))


def _multisteplr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    base, gamma = ctx.base_lr, float(p["gamma"])
    marks = sorted(int(m) for m in p["milestones"])
    pieces = [constant(0, base)]
    for m in sorted(set(marks)):
        if m < ctx.steps:
            pieces.append(constant(m, base * gamma ** sum(1 for x in marks if x <= m)))
    return Shape(ctx.steps, merge(pieces))


def _constantlr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    total, base = int(p["total_iters"]), ctx.base_lr
    return Shape(ctx.steps, merge([constant(0, base * float(p["factor"]), total), constant(total, base)]))


def _linearlr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    total, base = int(p["total_iters"]), ctx.base_lr
    v0, v1 = base * float(p["start_factor"]), base * float(p["end_factor"])
    return Shape(ctx.steps, merge([Segment("linear", 0, total, v0, v1), constant(total, v1)]))


def _exponentiallr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    gamma, base = float(p["gamma"]), ctx.base_lr
    if not _step_interval(config) or gamma <= 0:
        return None
    if gamma == 1:
        return Shape(ctx.steps, (constant(0, base),))
    length = max(1, ctx.steps)
    return Shape(ctx.steps, (Segment("exp", 0, length, base, base * gamma**length),))


def _polynomiallr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    total = int(p["total_iters"])
    return Shape(
        ctx.steps,
        merge([Segment("poly", 0, total, ctx.base_lr, 0.0, float(p["power"])), constant(total, 0.0)]),
    )


def _cosinelr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    # torch's recursive form follows the periodic closed form: after T_max the lr rises again
    return Shape(ctx.steps, (Segment("cosine", 0, int(p["T_max"]), ctx.base_lr, float(p["eta_min"])),))


def _warm_restarts(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config):
        return None
    t0, mult, floor = int(p["T_0"]), int(p["T_mult"]), float(p["eta_min"])
    pieces, start, length = [], 0, t0
    while start < ctx.steps:
        pieces.append(Segment("cosine", start, length, ctx.base_lr, floor))
        start, length = start + length, length * mult
        if len(pieces) > MAX_SEGMENTS:
            return None
    return Shape(ctx.steps, tuple(pieces))


def _onecycle(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    total = int(p["total_steps"])
    if not _step_interval(config) or ctx.steps > total:
        return None  # torch refuses the steps past total_steps (NaN rows): nothing to translate there
    peak = _first(p["max_lr"])
    initial = peak / float(p["div_factor"])
    floor = initial / float(p["final_div_factor"])
    kind = "cosine" if p["anneal_strategy"] == "cos" else "linear"
    pct = float(p["pct_start"])
    end1 = pct * total - 1
    hi, lo = _first(p["max_momentum"]), _first(p["base_momentum"])
    if p["three_phase"]:
        end2 = 2 * pct * total - 2
        bounds = [(0.0, end1, initial, peak), (end1, end2, peak, initial), (end2, total - 1.0, initial, floor)]
        moms = [(hi, lo), (lo, hi), (hi, hi)]
    else:
        bounds = [(0.0, end1, initial, peak), (end1, total - 1.0, peak, floor)]
        moms = [(hi, lo), (lo, hi)]
    if any(b <= a for a, b, *_ in bounds):
        return None
    lr = tuple(Segment(kind, a, b - a, v0, v1) for a, b, v0, v1 in bounds)
    momentum: tuple[Segment, ...] = ()
    if p["cycle_momentum"]:
        momentum = tuple(Segment(kind, a, b - a, m0, m1) for (a, b, *_), (m0, m1) in zip(bounds, moms, strict=True))
    name = "beta1" if config.optimizer in ("adam", "adamw") else "momentum"
    return Shape(ctx.steps, lr, momentum, name)


def _cycliclr(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if not _step_interval(config) or p["mode"] == "exp_range":
        return None
    up = int(p["step_size_up"])
    down = int(p["step_size_down"]) if p["step_size_down"] is not None else up
    if up <= 0 or down <= 0:
        return None
    base, top = ctx.base_lr, _first(p["max_lr"])
    lr, mom, start, cycle = [], [], 0, 0
    hi, lo = _first(p["max_momentum"]), _first(p["base_momentum"])
    while start < ctx.steps:
        scale = 1 / (2**cycle if p["mode"] == "triangular2" else 1)
        amplitude, dip = (top - base) * scale, (hi - lo) * scale
        lr += [
            Segment("linear", start, up, base, base + amplitude),
            Segment("linear", start + up, down, base + amplitude, base),
        ]
        mom += [Segment("linear", start, up, hi, hi - dip), Segment("linear", start + up, down, hi - dip, hi)]
        start, cycle = start + up + down, cycle + 1
        if len(lr) > MAX_SEGMENTS:
            return None
    name = "beta1" if config.optimizer in ("adam", "adamw") else "momentum"
    return Shape(ctx.steps, tuple(lr), tuple(mom) if p["cycle_momentum"] else (), name)


def _sequential(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    from dataclasses import replace

    from lrlab.schedulers import get_spec

    if not _step_interval(config):
        return None
    children = [dict(c) for c in p["schedulers"]]
    marks = [0, *(int(m) for m in p["milestones"])]
    pieces: list[Segment] = []
    for i, child in enumerate(children):
        start = marks[i]
        if start >= ctx.steps:
            break
        stop = marks[i + 1] if i + 1 < len(marks) else ctx.steps
        name = child.pop("name")
        analyser = ANALYZERS.get(name)
        if analyser is None:
            return None
        spec = get_spec(name)
        local = replace(ctx, steps=max(1, stop - start))
        shape = analyser(spec.validate(child, local), local, config)
        if shape is None:
            return None
        pieces += shifted(shape.within(), start)
    return Shape(ctx.steps, merge(pieces))


ANALYZERS = {
    "StepLR": _steplr,
    "MultiStepLR": _multisteplr,
    "ConstantLR": _constantlr,
    "LinearLR": _linearlr,
    "ExponentialLR": _exponentiallr,
    "PolynomialLR": _polynomiallr,
    "CosineAnnealingLR": _cosinelr,
    "CosineAnnealingWarmRestarts": _warm_restarts,
    "OneCycleLR": _onecycle,
    "CyclicLR": _cycliclr,
    "SequentialLR": _sequential,
}


# ---- expression ---------------------------------------------------------------------------------------


def _integer(value: float) -> int | None:
    rounded = round(value)
    return int(rounded) if abs(value - rounded) < 1e-9 and rounded >= 0 else None


def _num(value: float) -> str:
    return repr(float(value))


def _affine(offset: float, scale: float, term: str) -> str:
    """``offset + scale * term`` without the parts that are 0 or 1."""
    scaled = term if scale == 1 else f"{_num(scale)} * {term}"
    if offset == 0:
        return scaled
    return f"{_num(offset)} + {scaled}" if scale > 0 or scale == 1 else f"{_num(offset)} - {_num(-scale)} * {term}"


def _segment_text(s: Segment, base: float) -> str:
    """One segment as a multiplier of ``base``, in lrlab's expression language (variable ``epoch``)."""
    a, b = s.v0 / base, s.v1 / base
    x = f"(epoch - {_num(s.zero)}) / {_num(s.length)}" if s.zero else f"epoch / {_num(s.length)}"
    if s.kind == "constant":
        return _num(a)
    if s.kind == "linear":
        return _affine(a, b - a, f"({x})")
    if s.kind == "cosine":
        return _affine(b, (a - b) / 2, f"(1 + cos(pi * {x}))")
    if s.kind == "poly":
        return _affine(b, a - b, f"max(0, 1 - {x}) ** {_num(s.power)}")
    if a <= 0 or b <= 0:
        raise ValueError("an exponential segment needs positive values")
    return f"{_num(a)} * {_num(b / a)} ** ({x})"


def lambda_text(segments: tuple[Segment, ...], base: float) -> str:
    """The shape as LambdaLR's ``lr_lambda``: nested ``a if epoch < s else …`` over the segments."""
    text = _segment_text(segments[-1], base)
    for i in range(len(segments) - 2, -1, -1):
        text = f"{_segment_text(segments[i], base)} if epoch < {_num(segments[i + 1].start)} else {text}"
    return text


def _single(seg: Segment, rest: tuple[Segment, ...], run: Run) -> list[tuple[str, dict[str, Any], float, str]]:
    """Native torch schedulers for one decay segment from row 0 (``rest``: what follows it)."""
    out: list[tuple[str, dict[str, Any], float, str]] = []
    length = _integer(seg.length)
    holds = not rest or (len(rest) == 1 and rest[0].kind == "constant" and rest[0].v0 == seg.v1)
    if seg.kind == "cosine" and length and seg.v0 > seg.v1 and (not rest or run.steps <= length + 1):
        out.append(
            (
                "CosineAnnealingLR",
                {"T_max": length, "eta_min": seg.v1},
                seg.v0,
                f"T_max = {length} steps of decay, eta_min = {seg.v1:.6g}",
            )
        )
    if seg.kind == "linear" and length and holds:
        base = max(seg.v0, seg.v1)
        if seg.v0 > 0:
            out.append(
                (
                    "LinearLR",
                    {"start_factor": seg.v0 / base, "end_factor": seg.v1 / base, "total_iters": length},
                    base,
                    f"factors of the peak {base:.6g}: {seg.v0 / base:.6g} → {seg.v1 / base:.6g} over {length} steps",
                )
            )
    if seg.kind == "poly" and length and seg.v1 == 0 and holds:
        out.append(
            (
                "PolynomialLR",
                {"total_iters": length, "power": seg.power},
                seg.v0,
                f"total_iters = {length}, power = {seg.power:g}",
            )
        )
    if seg.kind == "exp" and not rest and seg.v0 > 0:
        gamma = (seg.v1 / seg.v0) ** (1 / seg.length)
        out.append(
            (
                "ExponentialLR",
                {"gamma": gamma},
                seg.v0,
                f"gamma = ({seg.v1:.6g} / {seg.v0:.6g})^(1/{seg.length:g}) = {gamma:.10g} per step",
            )
        )
    return out


def _staircase(segments: tuple[Segment, ...]) -> tuple[str, dict[str, Any], float, str] | None:
    if len(segments) < 2 or any(s.kind != "constant" for s in segments) or segments[0].v0 <= 0:
        return None
    starts = [_integer(s.start) for s in segments[1:]]
    ratios = [b.v0 / a.v0 for a, b in itertools.pairwise(segments)]
    if None in starts or any(not math.isclose(r, ratios[0], rel_tol=1e-12) for r in ratios):
        return None
    gaps = {b - a for a, b in zip([0, *starts], starts, strict=False)}
    if len(gaps) == 1:
        size = gaps.pop()
        return (
            "StepLR",
            {"step_size": size, "gamma": ratios[0]},
            segments[0].v0,
            f"every {size} steps × {ratios[0]:.6g}",
        )
    return (
        "MultiStepLR",
        {"milestones": starts, "gamma": ratios[0]},
        segments[0].v0,
        f"milestones {starts}, each × {ratios[0]:.6g}",
    )


def _onecycle_candidate(shape: Shape, run: Run) -> tuple[str, dict[str, Any], float, str] | None:
    segs = shape.within()
    kinds = {s.kind for s in segs}
    if len(segs) not in (2, 3) or len(kinds) != 1 or kinds.pop() not in ("cosine", "linear") or segs[0].start != 0:
        return None
    first, last = segs[0], segs[-1]
    total = first.length + sum(s.length for s in segs[1:]) + 1
    total_i = _integer(total)
    if total_i is None or total_i < run.steps:
        return None
    peak, initial, floor = first.v1, first.v0, last.v1
    if not (initial > 0 and floor > 0 and peak > initial):
        return None
    three = len(segs) == 3
    if three and not (math.isclose(segs[1].v1, initial) and math.isclose(segs[1].length, first.length)):
        return None
    pct = (first.length + 1) / total_i
    params: dict[str, Any] = {
        "max_lr": peak,
        "total_steps": total_i,
        "pct_start": pct,
        "anneal_strategy": "cos" if segs[0].kind == "cosine" else "linear",
        "div_factor": peak / initial,
        "final_div_factor": initial / floor,
        "three_phase": three,
        "cycle_momentum": False,
    }
    if shape.momentum and len(shape.momentum) == len(segs):
        params.update(cycle_momentum=True, max_momentum=shape.momentum[0].v0, base_momentum=shape.momentum[0].v1)
    how = (
        f"total_steps = {total_i} (torch's last phase ends at total_steps − 1), pct_start = ({first.length:g} + 1) / "
        f"{total_i} = {pct:.10g}, div_factor = {peak / initial:.6g}, final_div_factor = {initial / floor:.6g}"
    )
    return ("OneCycleLR", params, peak, how)


def _restarts_candidate(segs: tuple[Segment, ...]) -> tuple[str, dict[str, Any], float, str] | None:
    if len(segs) < 2 or any(s.kind != "cosine" for s in segs) or segs[0].start != 0:
        return None
    if len({(s.v0, s.v1) for s in segs}) != 1:
        return None
    t0 = _integer(segs[0].length)
    mult = _integer(segs[1].length / segs[0].length) if segs[0].length else None
    if not t0 or not mult:
        return None
    return (
        "CosineAnnealingWarmRestarts",
        {"T_0": t0, "T_mult": mult, "eta_min": segs[0].v1},
        segs[0].v0,
        f"T_0 = {t0}, T_mult = {mult}, eta_min = {segs[0].v1:.6g}",
    )


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    segs = shape.within()
    natives: list[tuple[str, dict[str, Any], float, str]] = []
    if len(segs) == 1 and segs[0].kind == "constant":
        natives.append(("LambdaLR", {"lr_lambda": "1"}, segs[0].v0, "a constant lr: lr_lambda = 1"))
    if segs[0].start == 0:
        natives += _single(segs[0], segs[1:], run)
    for found in (_staircase(segs), _onecycle_candidate(shape, run), _restarts_candidate(segs)):
        if found:
            natives.append(found)
    # a warm-up (linear from a value above 0) then one native decay: SequentialLR
    if len(segs) >= 2 and segs[0].kind == "linear" and segs[0].v1 > segs[0].v0 > 0:
        warm = _integer(segs[0].length)
        body = tuple(Segment(s.kind, s.start - segs[0].length, s.length, s.v0, s.v1, s.power) for s in segs[1:])
        if warm and math.isclose(body[0].v0, segs[0].v1):
            peak = segs[0].v1
            for name, params, base, how in _single(body[0], body[1:], run):
                if not math.isclose(base, peak):
                    continue
                child = {"name": name, **params}
                warm_child = {
                    "name": "LinearLR",
                    "start_factor": segs[0].v0 / peak,
                    "end_factor": 1.0,
                    "total_iters": warm,
                }
                natives.append(
                    (
                        "SequentialLR",
                        {"schedulers": [warm_child, child], "milestones": [warm]},
                        peak,
                        f"LinearLR warm-up over {warm} steps from {segs[0].v0 / peak:.6g} × the peak, then {name} ({how}) from milestone {warm}",
                    )
                )
    candidates = [Candidate(run.config(name, params, base), how) for name, params, base, how in natives]
    reasons = []
    if shape.momentum:
        reasons.append("LambdaLR leaves momentum alone: only OneCycleLR and CyclicLR cycle it in torch")
    base = shape.peak
    if base > 0:
        try:
            from lrlab.expr import parse

            text = lambda_text(segs, base)
            parse(text)
        except Exception:
            reasons.append(f"the shape has {len(segs)} pieces: too many for one lr_lambda expression")
        else:
            candidates.append(
                Candidate(
                    run.config("LambdaLR", {"lr_lambda": text}, base),
                    f"LambdaLR with the {len(segs)} piece(s) written as a multiplier of the peak {base:.6g}",
                )
            )
    return Expressed(candidates, reasons, [])


def fit_templates(shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray) -> list[FitTemplate]:
    """Without a shape: a warm-up (up to the curve's peak) and a cosine to a fitted floor, as SequentialLR."""
    peak = float(np.nanmax(lr))
    top = int(np.nanargmax(lr))
    why = "the source is not a combination of the curve pieces torch's schedulers draw"
    templates = []
    rest = max(1, run.steps - top)

    def cosine(x: np.ndarray) -> ScheduleConfig:
        if top == 0:
            return run.config("CosineAnnealingLR", {"T_max": rest, "eta_min": float(x[0])}, peak)
        return run.config(
            "SequentialLR",
            {
                "schedulers": [
                    {"name": "LinearLR", "start_factor": float(x[1]), "end_factor": 1.0, "total_iters": top},
                    {"name": "CosineAnnealingLR", "T_max": rest, "eta_min": float(x[0])},
                ],
                "milestones": [top],
            },
            peak,
        )

    floor = float(np.nanmin(lr[top:]))
    templates.append(
        FitTemplate(
            "SequentialLR",
            ("eta_min", "start_factor"),
            (floor, max(1e-3, lr[0] / peak)),
            (0.0, 1e-8),
            (peak, 1.0),
            cosine,
            why,
        )
    )
    return templates


__all__ = ["ANALYZERS", "express", "fit_templates", "lambda_text"]
