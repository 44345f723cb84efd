"""fastai in translations: its fits analysed into a :class:`~lrlab.translating.shape.Shape`, and a shape
expressed as fastai fits (fit_one_cycle, fit_flat_cos, fit_sgdr, then combine_scheds as the general form).

fastai's ``ParamScheduler`` sets the lr before batch ``t`` of a fit of ``N = n_epoch × n_iter`` batches to
``f(t / N)`` (``pct_train``, float64 sums), and ``combine_scheds(pcts, scheds)`` runs annealer ``i`` over
:math:`[P_i, P_i + \\text{pct}_i)` at :math:`u = (t/N - P_i)/\\text{pct}_i`. In rows, phase ``i`` is a
segment starting at :math:`P_i N` of length :math:`\\text{pct}_i N`, and the annealers are the shape's
curves:

- ``SchedLin(a, b)`` = :math:`a + u(b - a)`: linear;
- ``SchedCos(a, b)`` = :math:`a + (1 + \\cos \\pi(1 - u))(b - a)/2`, which is
  :math:`b + (a - b)(1 + \\cos \\pi u)/2` since :math:`\\cos \\pi(1 - u) = -\\cos \\pi u`: the shape's cosine;
- ``SchedExp(a, b)`` = :math:`a (b/a)^u`: exp; ``SchedNo(a)``: constant;
- ``SchedPoly(a, b, k)`` = :math:`a + (b - a) u^k` rises in ``u``: the shape's poly is
  :math:`b + (a - b)(1 - u)^k`, the same only for ``k = 1`` (linear).

fastai finds the phase and ``u`` in float32: a row that lies exactly on a phase edge can land in the phase
before (fit_sgdr's late restarts); the analysis asks fastai's own arithmetic (:func:`M.phases`) which phase
each row is in and moves a segment's start by a hair where fastai puts its first row one later. The
values themselves carry float32 rounding of ``u`` (~1e-7 relative).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from lrlab.schedulers import _fastai_math as M
from lrlab.specs import MAX_CHILDREN, MAX_LR, RunContext, ScheduleConfig
from lrlab.translating.engine import Candidate, Expressed, FitTemplate, Run
from lrlab.translating.shape import Segment, Shape, constant, merge

KIND_OF = {"SchedNo": "constant", "SchedLin": "linear", "SchedCos": "cosine", "SchedExp": "exp"}
SCHED_OF = {kind: name for name, kind in KIND_OF.items()}
#: How far a segment's start is moved past a phase edge where fastai's float32 puts the edge's row in the
#: phase before (a share of the segment's length: x moves by this much).
NUDGE = 1e-9


def _momentum_name(optimizer: str) -> str:
    return "momentum" if optimizer == "sgd" else "beta1"


# ---- analysing fastai fits -------------------------------------------------------------------------------


def _phase_segments(
    pcts: Sequence[float], scheds: Sequence[tuple], n_epoch: int, n_iter: int, rows: int, offset: int = 0
) -> list[Segment] | None:
    """The segments of ``combine_scheds(pcts, scheds)`` over a fit of ``n_epoch × n_iter`` batches, its
    first ``rows`` rows placed from row ``offset``; None where an annealer has no shape curve."""
    n = n_epoch * n_iter
    rows = min(rows, n)
    idx, u = M.phases(M.pct_train(np.arange(rows), n_epoch, n_iter), pcts)
    out: list[Segment] = []
    edge = 0.0
    for i, (pct, sched) in enumerate(zip(pcts, scheds, strict=True)):
        start, length = edge * n, pct * n
        edge += pct
        name, a, b, *power = sched
        if name == "SchedPoly":
            if power[0] != 1.0 and a != b:
                return None
            name = "SchedLin"
        kind = KIND_OF[name]
        mine = np.flatnonzero(idx == i)
        if mine.size == 0 or length <= 0:
            continue
        first = int(mine[0])
        if first > math.ceil(start - 1e-9):  # fastai's float32 edge puts that row in the phase before
            start = max(start, first - 1) + NUDGE * max(length, 1.0)
            before = out[-1] if out else None
            if before is not None and u[first - 1] > 0 and before.kind != "constant":
                # ... at its own float32 u, just past 1: the phase before ends there
                out[-1] = replace(before, length=(first - 1 - (before.start - offset)) / float(u[first - 1]))
        elif first < math.ceil(start - 1e-9):  # ... or in this one, a rounding early
            start = float(first)
        out.append(Segment(kind, offset + start, length, float(a), float(b) if kind != "constant" else float(a)))
    return out


def _one_cycle(top: float, p: dict, n_epoch: int, n_iter: int, rows: int, offset: int = 0, values=None):
    values = values or (top / p["div"], top, top / p["div_final"])
    pct = p["pct_start"]
    return _phase_segments(
        [pct, 1 - pct],
        [("SchedCos", values[0], values[1]), ("SchedCos", values[1], values[2])],
        n_epoch,
        n_iter,
        rows,
        offset,
    )


def _shape(ctx: RunContext, config: ScheduleConfig, lr: list[Segment] | None, mom: list[Segment] | None = None):
    if not lr:
        return None
    return Shape(
        ctx.steps,
        merge(lr),
        momentum=merge(mom) if mom else (),
        momentum_name=_momentum_name(config.optimizer),
        notes=("fastai computes the phase positions in float32",),
    )


def _fit_one_cycle(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    n_epoch = M.run_epochs(ctx.steps, ctx.steps_per_epoch)
    lr = _one_cycle(ctx.base_lr, p, n_epoch, ctx.steps_per_epoch, ctx.steps)
    moms = (p["moms_start"], p["moms_middle"], p["moms_end"])
    mom = _one_cycle(0.0, p, n_epoch, ctx.steps_per_epoch, ctx.steps, values=moms)
    return _shape(ctx, config, lr, mom)


def _fit_flat_cos(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    n_epoch, lr = M.run_epochs(ctx.steps, ctx.steps_per_epoch), ctx.base_lr
    pct = p["pct_start"]
    scheds = [("SchedNo", lr, lr), ("SchedCos", lr, lr / p["div_final"])]
    return _shape(ctx, config, _phase_segments([pct, 1 - pct], scheds, n_epoch, ctx.steps_per_epoch, ctx.steps))


def _fit_sgdr(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    n_epoch = M.sgdr_epochs(p["n_cycles"], p["cycle_len"], p["cycle_mult"])
    if n_epoch * ctx.steps_per_epoch < ctx.steps:
        return None  # the fit is over before the run: lrlab's curve stops there
    pcts = M.sgdr_pcts(p["n_cycles"], p["cycle_len"], p["cycle_mult"])
    scheds = [("SchedCos", ctx.base_lr, 0.0)] * p["n_cycles"]
    return _shape(ctx, config, _phase_segments(pcts, scheds, n_epoch, ctx.steps_per_epoch, ctx.steps))


def _combine_scheds(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    phases = [c.to_dict() if hasattr(c, "to_dict") else dict(c) for c in p["scheds"]]
    scheds = [(ph["name"], ph["start"], ph["end"], *([ph["power"]] if "power" in ph else [])) for ph in phases]
    n_epoch = M.run_epochs(ctx.steps, ctx.steps_per_epoch)
    segments = _phase_segments([ph["pct"] for ph in phases], scheds, n_epoch, ctx.steps_per_epoch, ctx.steps)
    return _shape(ctx, config, segments)


def _fine_tune(p: dict, ctx: RunContext, config: ScheduleConfig) -> Shape | None:
    if len(ctx.group_lrs) != 1:
        return None
    spe, freeze = ctx.steps_per_epoch, p["freeze_epochs"]
    epochs = max(0, M.run_epochs(ctx.steps, spe) - freeze)
    first = freeze * spe
    moms = (p["moms_start"], p["moms_middle"], p["moms_end"])
    stage1 = {"div": 25.0, "div_final": p["div_final"], "pct_start": 0.99}
    lr: list[Segment] = []
    mom: list[Segment] = []
    if freeze > 0:
        lr += _one_cycle(ctx.base_lr, stage1, freeze, spe, min(ctx.steps, first)) or []
        mom += _one_cycle(0.0, stage1, freeze, spe, min(ctx.steps, first), values=moms) or []
    if epochs > 0 and ctx.steps > first:
        lr += _one_cycle(ctx.base_lr / 2, p, epochs, spe, ctx.steps - first, offset=first) or []
        mom += _one_cycle(0.0, p, epochs, spe, ctx.steps - first, offset=first, values=moms) or []
    return _shape(ctx, config, lr, mom)


ANALYZERS: dict[str, Callable[[dict, RunContext, ScheduleConfig], Shape | None]] = {
    "fastai:fit_one_cycle": _fit_one_cycle,
    "fastai:fit_flat_cos": _fit_flat_cos,
    "fastai:fit_sgdr": _fit_sgdr,
    "fastai:combine_scheds": _combine_scheds,
    "fastai:fine_tune": _fine_tune,
}


# ---- expressing a shape in fastai ------------------------------------------------------------------------


def _n(x: float) -> str:
    return f"{x:.6g}"


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-6


def _fit_run(run: Run, n: int) -> dict[str, int]:
    """steps_per_epoch for a fit of exactly ``n`` batches over this run (fastai trains whole epochs of the run's
    steps_per_epoch; otherwise one epoch of n batches)."""
    if n % run.steps_per_epoch == 0 and M.run_epochs(run.steps, run.steps_per_epoch) * run.steps_per_epoch == n:
        return {}
    return {"steps_per_epoch": n}


def _pcts(lengths: Sequence[float], n: float) -> list[float] | None:
    """Shares of ``n`` that add up to exactly 1.0 (fastai asserts ``sum(pcts) == 1.``)."""
    pcts = [length / n for length in lengths]
    pcts[-1] = 1.0 - sum(pcts[:-1])
    for _ in range(4):
        total = sum(pcts)
        if total == 1.0:
            return pcts if all(0 <= p <= 1 for p in pcts) else None
        pcts[-1] += 1.0 - total
    return None


def _moms(shape: Shape, run: Run, n: float, pct_rows: float) -> tuple[tuple[float, float, float], str]:
    """fit_one_cycle's moms for the shape's momentum (two cosines meeting at the lr's peak), or constant."""
    still = run.momentum if run.optimizer == "sgd" else run.betas[0]
    m = [s for s in shape.momentum if s.start < shape.steps]
    if len(m) == 2 and all(s.kind == "cosine" for s in m) and _same(m[0].v1, m[1].v0):
        if abs(m[1].start - pct_rows) < 1e-6 * max(n, 1) and abs(m[1].end - n) < 1e-6 * max(n, 1):
            return (m[0].v0, m[0].v1, m[1].v1), (
                f"moms = ({_n(m[0].v0)}, {_n(m[0].v1)}, {_n(m[1].v1)}): the momentum's cosines meet at the lr's peak"
            )
    if len(m) == 1 and m[0].kind == "constant":
        still = m[0].v0
    return (still, still, still), f"moms = ({_n(still)},)×3: the momentum stays at {_n(still)}"


def _phases(shape: Shape) -> list[Segment]:
    return [s for i, s in enumerate(shape.within()) if i == 0 or s.start < shape.steps]


def _one_cycles(shape: Shape, run: Run) -> list[Candidate]:
    segs = _phases(shape)
    out: list[Candidate] = []
    flats = _flat_cos(shape, run, segs)
    if len(segs) == 1 and segs[0].kind == "cosine" and not shape.momentum:
        out.extend(flats)  # a lone cosine down: fit_flat_cos(pct_start=0) says it without a momentum cycle
        flats = []
    if not segs or (segs[0].start > 1e-9 and segs[0].kind != "constant"):
        return out + flats
    # fit_one_cycle: cosine up, cosine down (either may be missing: pct_start 0 or 1)
    if all(s.kind == "cosine" for s in segs) and len(segs) <= 2:
        if len(segs) == 2 and not (_same(segs[0].v1, segs[1].v0) and abs(segs[0].end - segs[1].start) < 1e-6):
            return out + flats
        n = segs[-1].end
        rise = segs[0].length if len(segs) == 2 else (n if segs[0].v1 > segs[0].v0 else 0.0)
        if len(segs) == 1:
            values = (segs[0].v0, segs[0].v1, segs[0].v1) if rise else (segs[0].v0, segs[0].v0, segs[0].v1)
        else:
            values = (segs[0].v0, segs[0].v1, segs[1].v1)
        lo, top, end = values
        if _whole(n) and round(n) >= shape.steps and lo > 0 and end > 0 and top >= max(lo, end):
            n = round(n)
            pct = _pcts([rise, n - rise], n)
            if pct is not None:
                moms, why = _moms(shape, run, n, rise)
                params = {
                    "div": top / lo,
                    "div_final": top / end,
                    "pct_start": pct[0],
                    "moms_start": moms[0],
                    "moms_middle": moms[1],
                    "moms_end": moms[2],
                }
                if 1 <= params["div"] <= 1e6 and 1 <= params["div_final"] <= 1e9:
                    fit = _fit_run(run, n)
                    out.append(
                        Candidate(
                            run.config("fastai:fit_one_cycle", params, top, **fit),
                            f"a fit of N = {n} batches{' (one epoch)' if fit else ''}: pct_start = {_n(rise)}/{n} = "
                            f"{_n(pct[0])}, div = {_n(top)}/{_n(lo)} = {_n(params['div'])}, div_final = "
                            f"{_n(params['div_final'])}; {why}",
                        )
                    )
    return out + flats


def _flat_cos(shape: Shape, run: Run, segs: list[Segment]) -> list[Candidate]:
    """fit_flat_cos: the lr held, then a cosine down to lr / div_final."""
    out: list[Candidate] = []
    if not segs:
        return out
    flat = len(segs) == 2 and segs[0].kind == "constant" and segs[1].kind == "cosine"
    if (flat and _same(segs[0].v0, segs[1].v0)) or (len(segs) == 1 and segs[0].kind == "cosine"):
        cos = segs[-1]
        n, hold = cos.end, cos.start if flat else 0.0
        if (
            _whole(n)
            and round(n) >= shape.steps
            and cos.v1 > 0
            and 1 <= cos.v0 / cos.v1 <= 1e9
            and (flat or cos.start == 0)
        ):
            n = round(n)
            pct = _pcts([hold, n - hold], n)
            if pct is not None:
                fit = _fit_run(run, n)
                out.append(
                    Candidate(
                        run.config(
                            "fastai:fit_flat_cos", {"div_final": cos.v0 / cos.v1, "pct_start": pct[0]}, cos.v0, **fit
                        ),
                        f"a fit of N = {n} batches: pct_start = {_n(hold)}/{n} = {_n(pct[0])}, div_final = "
                        f"{_n(cos.v0)}/{_n(cos.v1)} = {_n(cos.v0 / cos.v1)}",
                    )
                )
    return out


def _sgdr(shape: Shape, run: Run) -> list[Candidate]:
    """fit_sgdr: cosines from lr_max to 0, back to back, each cycle_mult times longer than the one before."""
    segs = _phases(shape)
    if len(segs) < 1 or not all(s.kind == "cosine" and s.v1 == 0 and _same(s.v0, segs[0].v0) for s in segs):
        return []
    first = segs[0].length
    if segs[0].start != 0 or not _whole(first):
        return []
    mult = 2
    if len(segs) >= 2:
        ratio = segs[1].length / first
        if not _whole(ratio) or round(ratio) < 2:
            return []
        mult = round(ratio)
    for i, s in enumerate(segs):
        expected = first * (mult**i - 1) // (mult - 1) if i else 0
        if abs(s.start - expected) > 1e-6 or abs(s.length - first * mult**i) > 1e-6:
            return []
    n_cycles = len(segs)
    spe = round(first)
    total = spe * (mult**n_cycles - 1) // (mult - 1)
    if total < shape.steps:
        return []
    config = run.config(
        "fastai:fit_sgdr",
        {"n_cycles": n_cycles, "cycle_len": 1, "cycle_mult": mult},
        segs[0].v0,
        steps_per_epoch=spe,
    )
    return [
        Candidate(
            config,
            f"n_cycles = {n_cycles}, cycle_len = 1 epoch of {spe} batches (the first cycle's length), cycle_mult = "
            f"{mult}: the fit lasts {total} batches",
        )
    ]


def _combined(shape: Shape, run: Run) -> tuple[Candidate | None, str | None]:
    """combine_scheds with one phase per segment: pct = the segment's share of the fit."""
    segs = _phases(shape)
    if len(segs) > MAX_CHILDREN:
        return None, f"fastai's combine_scheds would need {len(segs)} phases (lrlab allows at most {MAX_CHILDREN})"
    if segs[0].start > 1e-9 and segs[0].kind not in ("constant", "linear", "exp"):
        return None, "the first phase starts after step 0"
    last = segs[-1]
    if last.kind == "constant":
        n: float = float(shape.steps)
    elif last.kind in ("linear", "exp"):
        n = float(shape.steps)
    else:
        n = last.end
        if shape.steps - 1 - 1e-9 <= n < shape.steps:  # it ends on the last row: a SchedNo phase holds its end
            segs = [*segs, constant(n, last.v1)]
            n = float(shape.steps)
    if not _whole(n) or round(n) < shape.steps:
        return None, (
            f"the last phase ends at step {n:g}: a fastai fit has a whole number of batches, at least the run's "
            f"{shape.steps}"
        )
    n = float(round(n))
    starts = [0.0] + [s.start for s in segs[1:]]
    spans = [b - a for a, b in zip(starts, [*starts[1:], n], strict=True)]
    phases = []
    for s, start, span in zip(segs, starts, spans, strict=True):
        if span <= 0:
            continue
        if s.kind == "poly" and s.power != 1.0:
            return None, (
                f"fastai's SchedPoly rises as u^power from its start (a + (b − a)·u^k), not (1 − u)^power towards its "
                f"end as the shape's polynomial phase (power {s.power:g}) does"
            )
        kind = "linear" if s.kind == "poly" else s.kind
        a, b = s.v0, s.v1
        if kind in ("linear", "exp"):  # a line or an exponential restarts anywhere: re-anchor it on its span
            a, b = (float(v) for v in s.at(np.array([start, start + span])))
        elif abs(span - s.length) > 1e-6 * max(n, 1) and kind == "cosine":
            return None, (
                f"its cosine phase from step {s.start:g} lasts {s.length:g} steps but runs {span:g} before the next "
                "one: a fastai phase's curve spans exactly its pct"
            )
        if kind == "exp" and (a <= 0 or b <= 0):
            return None, "an exponential phase through 0 (SchedExp needs start and end > 0)"
        if not (0 <= a <= MAX_LR and 0 <= b <= MAX_LR):  # NaN and ±inf fail too
            return None, "a phase value outside fastai's lrs (finite, ≥ 0)"
        phases.append({"name": SCHED_OF[kind], "start": a, "end": b, "span": span})
    pcts = _pcts([ph["span"] for ph in phases], n)
    if pcts is None:
        return None, "the phases' shares can't be made to add up to exactly 1 (fastai asserts it)"
    scheds = [
        {"name": ph["name"], "pct": pct, "start": ph["start"], "end": ph["end"]}
        for ph, pct in zip(phases, pcts, strict=True)
    ]
    for ph in scheds:
        if ph["name"] == "SchedNo":
            ph["end"] = ph["start"]
    fit = _fit_run(run, int(n))
    config = run.config("fastai:combine_scheds", {"scheds": scheds}, shape.peak, **fit)
    how = (
        f"combine_scheds over a fit of {int(n)} batches, pcts = segment lengths / {int(n)} = ["
        + ", ".join(_n(p) for p in pcts)
        + "]: "
        + ", ".join(f"{ph['name']}({_n(ph['start'])}, {_n(ph['end'])})" for ph in scheds)
    )
    return Candidate(config, how), None


def express(shape: Shape, run: Run, source: ScheduleConfig) -> Expressed:
    """fastai candidates for ``shape``: its fit methods first, then combine_scheds of one phase per segment."""
    candidates, reasons = _candidates(shape, run)
    fits = [_as_template(c, shape) for c in candidates] + fit_templates(shape, run, source, shape.values())
    return Expressed(candidates, reasons, fits)


def _candidates(shape: Shape, run: Run) -> tuple[list[Candidate], list[str]]:
    candidates = _one_cycles(shape, run) + _sgdr(shape, run)
    reasons: list[str] = []
    combined, why = _combined(shape, run)
    if combined is not None:
        candidates.append(combined)
    if why:
        reasons.append(f"fastai can't write it exactly: {why}")
    if shape.momentum and not any(c.config.scheduler == "fastai:fit_one_cycle" for c in candidates):
        reasons.append(
            "only fastai's fit_one_cycle cycles momentum, and no fit_one_cycle reproduces this lr (its phases end at "
            "pct_start·N and N, with N at least the run's steps)"
        )
    if run.optimizer == "adagrad":
        candidates = [c for c in candidates if c.config.scheduler not in ("fastai:fit_one_cycle",)]
    return candidates, reasons


def _as_template(candidate: Candidate, shape: Shape) -> FitTemplate:
    """A candidate as a fit with nothing left to fit: when the source library's tolerance is tighter than
    fastai's float32 phase arithmetic, the computed candidate is the closest fastai gets."""
    from lrlab.simulate import compare, fast, has_fast_path

    why = f"{candidate.config.scheduler} computed from the shape ({candidate.how}) is not within tolerance"
    if has_fast_path(candidate.config):
        values = fast(candidate.config).frame["lr"].to_numpy(dtype=np.float64)
        off = compare(values, shape.values(), 0.0)[0]
        if off < 1e-4:
            why = (
                f"fastai finds each batch's phase and position in float32 (combine_scheds' tensors): "
                f"{candidate.config.scheduler} computed from the shape is the same curve up to that rounding "
                f"({off:.1g} relative here), which the source library's tolerance does not allow"
            )
    return FitTemplate(candidate.config.scheduler, (), (), (), (), lambda x: candidate.config, why)


# ---- fitting -------------------------------------------------------------------------------------------


def fit_templates(shape: Shape | None, run: Run, source: ScheduleConfig, lr: np.ndarray) -> list[FitTemplate]:
    """fit_one_cycle and fit_flat_cos over the run, their values fitted (lengths are the run's)."""
    lr = np.asarray(lr, dtype=np.float64)
    finite = lr[np.isfinite(lr)]
    if finite.size == 0 or finite.max() <= 0:
        return []
    peak, steps = float(finite.max()), run.steps
    first = max(float(finite[0]), peak * 1e-6)
    last = max(float(finite[-1]), peak * 1e-9)
    w = int(np.argmax(np.where(np.isfinite(lr), lr, -np.inf)))
    pct0 = min(max(w / steps, 0.0), 0.99)
    momentum = run.momentum if run.optimizer == "sgd" else run.betas[0]
    hi = max(1e3, 4 * peak)  # the fitted lr's upper bound holds the curve's peak, however high

    def one_cycle(x: np.ndarray) -> ScheduleConfig:
        params: dict[str, Any] = {
            "div": float(x[1]),
            "div_final": float(x[2]),
            "pct_start": float(x[3]),
            "moms_start": momentum,
            "moms_middle": momentum,
            "moms_end": momentum,
        }
        return run.config("fastai:fit_one_cycle", params, float(x[0]))

    def flat_cos(x: np.ndarray) -> ScheduleConfig:
        return run.config("fastai:fit_flat_cos", {"div_final": float(x[1]), "pct_start": float(x[2])}, float(x[0]))

    templates = [
        FitTemplate(
            "fastai:fit_one_cycle",
            ("lr_max", "div", "div_final", "pct_start"),
            (peak, min(max(peak / first, 1.0), 1e6), min(max(peak / last, 1.0), 1e9), pct0),
            (peak * 1e-6, 1.0, 1.0, 0.0),
            (hi, 1e6, 1e9, 1.0),
            one_cycle,
            "the nearest fastai form is a one-cycle (cosine up, cosine down) over the whole fit",
        ),
        FitTemplate(
            "fastai:fit_flat_cos",
            ("lr", "div_final", "pct_start"),
            (float(finite[0]) if finite[0] > 0 else peak, min(max(peak / last, 1.0), 1e9), pct0),
            (peak * 1e-6, 1.0, 0.0),
            (hi, 1e9, 1.0),
            flat_cos,
            "the nearest fastai form is a flat lr then a cosine annealing",
        ),
    ]
    if shape is not None and shape.momentum:
        templates = [replace(t, why=t.why + " (momentum kept constant)") for t in templates]
    return templates


__all__ = ["ANALYZERS", "express", "fit_templates"]
