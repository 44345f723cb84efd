"""transformers' schedules in translations: their shapes, and a shape as a transformers schedule.

Every ``get_*_schedule_with_warmup`` warms up linearly from 0 (``lr · t / W`` at row ``t``) and then
follows one decay relative to the optimizer's lr (transformers 5.23, ``optimization.py``). So a
shape is expressible in transformers when it is: nothing or a linear warm-up from 0, then constant,
linear to 0, cosine to 0 or to a floor, polynomial to a floor, or (WSD) a plateau and a decay to a
floor that the warm-up also starts from. Anything else gets the nearest of those fitted, and the
reason; a torch scheduler can always be given to the Trainer instead (``optimizers=(opt, sched)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrlab.specs import RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.shape import Segment, Shape, constant, merge

TRAINER_HINT = "the Trainer also takes any torch scheduler: Trainer(..., optimizers=(optimizer, scheduler)) with the torch counterpart"


def _warm(p: Mapping[str, Any], base: float) -> list[Segment]:
    w = int(p.get("num_warmup_steps") or 0)
    return [Segment("linear", 0, w, 0.0, base)] if w > 0 else []


def _body_start(p: Mapping[str, Any]) -> int:
    return int(p.get("num_warmup_steps") or 0)


def _constant(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    return Shape(ctx.steps, merge([*_warm(p, ctx.base_lr), constant(_body_start(p), ctx.base_lr)]))


def _linear(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, t = _body_start(p), int(p["num_training_steps"])
    if t <= w:
        return None
    return Shape(
        ctx.steps, merge([*_warm(p, ctx.base_lr), Segment("linear", w, t - w, ctx.base_lr, 0.0), constant(t, 0.0)])
    )


def _cosine(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, t = _body_start(p), int(p["num_training_steps"])
    if t <= w:
        return None
    # 0.5 · (1 + cos(2π c · progress)): a cosine whose half period is (T − W) / 2c, which keeps going
    # after num_training_steps (the lr rises again)
    return Shape(ctx.steps, merge([*_warm(p, ctx.base_lr), _cos(w, t - w, p, ctx.base_lr, 0.0)]))


def _cos(start: float, span: float, p: Mapping[str, Any], v0: float, v1: float) -> Segment:
    """transformers' cosine over ``span`` steps with ``num_cycles`` c: half a period is span / 2c."""
    cycles = float(p.get("num_cycles", 0.5))
    if cycles <= 0:
        return constant(start, v0)
    return Segment("cosine", start, span / (2 * cycles), v0, v1)


def _hard_restarts(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, t, cycles = _body_start(p), int(p["num_training_steps"]), float(p.get("num_cycles", 1))
    if t <= w or cycles != int(cycles) or cycles < 1 or cycles > 200:
        return None
    length = (t - w) / cycles
    body = [Segment("cosine", w + i * length, length, ctx.base_lr, 0.0) for i in range(int(cycles))]
    return Shape(ctx.steps, merge([*_warm(p, ctx.base_lr), *body, constant(t, 0.0)]))


def _polynomial(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, t, end = _body_start(p), int(p["num_training_steps"]), float(p["lr_end"])
    if t <= w:
        return None
    body = [Segment("poly", w, t - w, ctx.base_lr, end, float(p["power"])), constant(t, end)]
    return Shape(ctx.steps, merge([*_warm(p, ctx.base_lr), *body]))


def _min_rate(p: Mapping[str, Any], base: float) -> float | None:
    if p.get("min_lr") is not None:
        return float(p["min_lr"]) / base
    if p.get("min_lr_rate") is not None:
        return float(p["min_lr_rate"])
    return None


def _cosine_min(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, t = _body_start(p), int(p["num_training_steps"])
    rate = _min_rate(p, ctx.base_lr)
    if t <= w or rate is None:
        return None
    return Shape(ctx.steps, merge([*_warm(p, ctx.base_lr), _cos(w, t - w, p, ctx.base_lr, rate * ctx.base_lr)]))


def _cosine_min_lr_rate(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    # transformers 5.23: warm-up reaches the peak at row W − 1 ((t + 1) / W, or warmup_lr_rate + … t / (W − 1)),
    # and the cosine's progress is (t − W + 1) / (T − W): it starts at row W − 1
    w, t = _body_start(p), int(p["num_training_steps"])
    rate = _min_rate(p, ctx.base_lr) or 0.0
    if t <= w or w < 2:
        return None
    base = ctx.base_lr
    start = float(p["warmup_lr_rate"]) * base if p.get("warmup_lr_rate") is not None else base / w
    return Shape(
        ctx.steps,
        merge([Segment("linear", 0, w - 1, start, base), _cos(w - 1, t - w, p, base, rate * base)]),
    )


def _wsd(p: Mapping[str, Any], ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    w, decay = int(p["num_warmup_steps"]), int(p["num_decay_steps"])
    stable = p.get("num_stable_steps")
    if stable is None:
        stable = int(p["num_training_steps"]) - w - decay
    stable = int(stable)
    if stable < 0:
        return None  # the decay's clock starts inside the warm-up (W + S < W): no piecewise description
    ratio, base = float(p["min_lr_ratio"]), ctx.base_lr
    floor = ratio * base
    if p["warmup_type"] not in ("linear", "cosine") or p["decay_type"] not in ("linear", "cosine"):
        return None  # 1-sqrt is not one of the shape's curves
    if p["decay_type"] == "cosine" and float(p.get("num_cycles", 0.5)) != 0.5:
        return None
    pieces = []
    if w > 0:
        pieces.append(Segment(p["warmup_type"], 0, w, floor, base))
    if stable > 0:
        pieces.append(constant(w, base, stable))
    if decay > 0:
        pieces.append(Segment(p["decay_type"], w + stable, decay, base, floor))
    pieces.append(constant(w + stable + decay, floor))
    return Shape(ctx.steps, merge(pieces))


ANALYZERS = {
    "get_constant_schedule": _constant,
    "get_constant_schedule_with_warmup": _constant,
    "get_linear_schedule_with_warmup": _linear,
    "get_cosine_schedule_with_warmup": _cosine,
    "get_cosine_with_hard_restarts_schedule_with_warmup": _hard_restarts,
    "get_polynomial_decay_schedule_with_warmup": _polynomial,
    "get_cosine_with_min_lr_schedule_with_warmup": _cosine_min,
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": _cosine_min_lr_rate,
    "get_wsd_schedule": _wsd,
}


# ---- expression ---------------------------------------------------------------------------------------


def _int(value: float) -> int | None:
    rounded = round(value)
    return int(rounded) if abs(value - rounded) < 1e-9 and rounded >= 0 else None


def _split(shape: Shape) -> tuple[int | None, float, float, tuple[Segment, ...]] | None:
    """(warm-up steps, warm-up start, peak, the rest re-based to start at row 0) of a shape, or None."""
    segs = shape.within()
    first = segs[0]
    if first.start != 0:
        return None
    if first.kind in ("linear", "cosine") and first.v1 > first.v0 and len(segs) > 1:
        return _int(first.length), first.v0, first.v1, segs[1:]
    return 0, first.v0, first.v0, segs


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    split = _split(shape)
    reasons: list[str] = []
    candidates: list[Candidate] = []
    if split is None:
        return Expressed([], ["the shape does not start at step 0"], [])
    warm, start, peak, body = split
    warm_kind = shape.within()[0].kind if warm else "linear"
    if warm is None:
        reasons.append(f"the warm-up lasts {shape.within()[0].length:g} steps: transformers counts whole steps")
        return Expressed([], reasons, _templates(shape, run, reasons))
    from_zero = warm == 0 or (start == 0 and warm_kind == "linear")

    def add(name: str, params: dict[str, Any], how: str) -> None:
        candidates.append(Candidate(run.config(name, params, peak), how))

    first = body[0]
    rest = body[1:]
    holds = not rest or (len(rest) == 1 and rest[0].kind == "constant" and math.isclose(rest[0].v0, first.v1))
    w = warm
    warm_how = f"num_warmup_steps = {w} (from 0, as every transformers warm-up)" if w else "no warm-up"
    if from_zero:
        if len(body) == 1 and first.kind == "constant":
            if w:
                add("get_constant_schedule_with_warmup", {"num_warmup_steps": w}, warm_how)
            else:
                add("get_constant_schedule", {}, "a constant lr")
        decay = _int(first.length) if first.kind != "constant" else None
        if decay:
            total = w + decay
            how = f"{warm_how}; num_training_steps = {w} + {decay} decay steps = {total}"
            if first.kind == "linear" and first.v1 == 0 and holds:
                add("get_linear_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": total}, how)
            if first.kind == "cosine" and first.v1 == 0:
                add("get_cosine_schedule_with_warmup", {"num_warmup_steps": w, "num_training_steps": total}, how)
            if first.kind == "cosine" and first.v1 > 0:
                add(
                    "get_cosine_with_min_lr_schedule_with_warmup",
                    {"num_warmup_steps": w, "num_training_steps": total, "min_lr_rate": first.v1 / peak},
                    f"{how}; min_lr_rate = {first.v1:.6g} / {peak:.6g} = {first.v1 / peak:.6g}",
                )
            if first.kind in ("poly", "linear") and holds and first.v1 < peak:
                add(
                    "get_polynomial_decay_schedule_with_warmup",
                    {"num_warmup_steps": w, "num_training_steps": total, "lr_end": first.v1, "power": first.power},
                    f"{how}; lr_end = {first.v1:.6g}, power = {first.power:g}",
                )
    # WSD: warm-up from the floor (linear or cosine), a plateau, a decay to the floor, held
    plateau = body[0] if body and body[0].kind == "constant" and len(body) > 1 else None
    decay_seg = body[1] if plateau else body[0]
    tail = body[2:] if plateau else body[1:]
    floor = decay_seg.v1
    if (
        decay_seg.kind in ("linear", "cosine")
        and _int(decay_seg.length)
        and (not tail or (len(tail) == 1 and tail[0].kind == "constant" and math.isclose(tail[0].v0, floor)))
        and (w == 0 or (warm_kind in ("linear", "cosine") and math.isclose(start, floor, rel_tol=1e-6, abs_tol=0)))
        and peak > 0
    ):
        stable = _int(decay_seg.start - plateau.start) if plateau else 0  # a constant lasts until the next piece
        if stable is not None:
            decay = _int(decay_seg.length)
            params = {
                "num_warmup_steps": w,
                "num_stable_steps": stable,
                "num_decay_steps": decay,
                "warmup_type": warm_kind if w else "linear",
                "decay_type": decay_seg.kind,
                "min_lr_ratio": floor / peak,
            }
            add(
                "get_wsd_schedule",
                params,
                f"warm-up {w}, stable {stable}, {decay_seg.kind} decay over {decay} steps to min_lr_ratio = {floor / peak:.6g}",
            )
    if not from_zero:
        reasons.append(
            f"every transformers warm-up starts at 0; this one starts at {start:.4g} (only WSD starts at its floor)"
        )
    kinds = {s.kind for s in body}
    if len({s.v0 for s in body if s.kind == "constant"}) > 1:
        reasons.append("transformers has no step decay: its schedules change the lr at every step")
    if "exp" in kinds:
        reasons.append("transformers has no exponential decay")
    if len([s for s in body if s.kind != "constant"]) > 1:
        reasons.append("a transformers schedule has one decay (cosine restarts aside)")
    if shape.momentum:
        reasons.append("transformers' schedules leave momentum alone")
    if not candidates and not reasons:
        reasons.append("no transformers schedule has this form")
    reasons.append(TRAINER_HINT)
    return Expressed(candidates, reasons, _templates(shape, run, reasons))


def _templates(shape: Shape | None, run: Run, reasons: list[str], lr: np.ndarray | None = None) -> list[FitTemplate]:
    """Cosine with a floor and polynomial with warm-up, warm-up length fixed where the curve peaks."""
    values = shape.values() if shape is not None else lr
    peak = float(np.nanmax(values))
    w = int(np.nanargmax(values))
    total = run.steps
    final = float(values[-1])
    why = reasons[0] if reasons else "no transformers schedule has this form"

    def cosine(x: np.ndarray) -> ScheduleConfig:
        return run.config(
            "get_cosine_with_min_lr_schedule_with_warmup",
            {"num_warmup_steps": w, "num_training_steps": total, "min_lr_rate": float(x[0])},
            peak,
        )

    def poly(x: np.ndarray) -> ScheduleConfig:
        return run.config(
            "get_polynomial_decay_schedule_with_warmup",
            {"num_warmup_steps": w, "num_training_steps": total, "lr_end": float(x[0]), "power": float(x[1])},
            peak,
        )

    floor = min(max(final, 0.0), peak * 0.999)
    return [
        FitTemplate(
            "get_cosine_with_min_lr_schedule_with_warmup",
            ("min_lr_rate",),
            (floor / peak if peak > 0 else 0.0,),
            (0.0,),
            (1.0,),
            cosine,
            why,
        ),
        FitTemplate(
            "get_polynomial_decay_schedule_with_warmup",
            ("lr_end", "power"),
            (floor, 1.0),
            (0.0, 0.1),
            (peak * 0.999, 10.0),
            poly,
            why,
        ),
    ]


def fit_templates(shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray) -> list[FitTemplate]:
    return _templates(shape, run, [], lr)


__all__ = ["ANALYZERS", "express", "fit_templates"]
