"""Explain mode for timm's schedules: one row's value computed as timm computes it, written out in LaTeX.

The value of each row is evaluated here with timm's own arithmetic (Python floats, ``math``), from the
keyword arguments the timm class received; the tests hold it equal to the library's lr. PlateauLRScheduler
has no formula: its decisions are replayed by the documented rules on the same synthetic metric.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from lrlab.explaining import Part, Step, num
from lrlab.schedulers._timm_formulas import KW, epoch_metrics, noise_applies, run_epochs
from lrlab.specs import RunContext

# ---- explain mode: timm's arithmetic for one row, written out ------------------------------------------


@dataclass(frozen=True)
class Point:
    """One evaluation of a timm schedule at its time T: the value, the substituted lines, what happened."""

    value: float
    lines: tuple[str, ...]
    event: str
    what: str  # what the call did, to follow "step(5) …" / "step_update(num_updates=5) …"
    given: tuple[tuple[str, Any], ...] = ()


def plateau_note(mode: str, ctx: RunContext) -> str:
    """What lrlab feeds PlateauLRScheduler, said wherever its curve is shown."""
    return (
        f"The metric passed to step(epoch + 1, metric) is synthetic: lrlab.metrics.synthetic_loss over the run's "
        f"{run_epochs(ctx)} epochs (a noisy decreasing loss; mode={mode!r}), one value per epoch; "
        "your validation metric would give another curve."
    )


def _n(x: float) -> str:
    """A number as LaTeX, in parentheses when negative."""
    return rf"\left({num(x)}\right)" if x < 0 else num(x)


def _start(lr0: float, kw: KW, extra: str = "") -> Point:
    w, w0 = kw["warmup_t"], kw["warmup_lr_init"]
    if w:
        line = rf"T = 0:\quad \eta = \eta_w = {num(w0)}"
        what = f"the lr is warmup_lr_init = {w0:g}, where the warm-up starts"
        return Point(w0, (line,), "start", what + extra)
    return Point(
        lr0, (rf"T = 0:\quad \eta = \eta_0 = {num(lr0)}",), "start", "the lr is the group's initial lr" + extra
    )


def _warm(T: int, lr0: float, kw: KW, target: float | None = None, le: bool = False) -> Point:
    w, w0 = kw["warmup_t"], kw["warmup_lr_init"]
    goal = lr0 if target is None else target
    value = w0 + T * ((goal - w0) / w)  # timm: warmup_lr_init + t * warmup_step, warmup_step = (v - init) / warmup_t
    top = r"\eta_0" if target is None else r"\eta(W)"
    rel = r"\le" if le else "<"
    line = (
        rf"T = {T} {rel} W = {w}:\quad \eta = \eta_w + T\,\frac{{{top} - \eta_w}}{{W}}"
        rf" = {num(w0)} + {T} \times \frac{{{num(goal)} - {num(w0)}}}{{{w}}} = {num(value)}"
    )
    if le and T == w:
        return Point(value, (line,), "warmup end", f"ended the warm-up at warmup_t = {w}: the lr is the full lr")
    return Point(value, (line,), "warmup", f"continued the linear warm-up from warmup_lr_init ({T} of warmup_t = {w})")


def cycle_point(tt: int, kw: KW) -> tuple[int, float, float, str] | None:
    """(i, T_i, t_c, the LaTeX line) as timm computes the cycle at time tt, or None where its math.log raises."""
    t0, m = kw["t_initial"], kw["cycle_mul"]
    if m == 1.0:
        i = tt // t0
        t_c = tt - t0 * i
        line = rf"i = \lfloor t' / T_0 \rfloor = \lfloor {tt} / {t0} \rfloor = {i},\quad t_c = t' - i\,T_0 = {t_c},\quad T_i = T_0 = {t0}"
        return i, t0, t_c, line
    x = 1 - tt / t0 * (1 - m)
    if x <= 0:
        return None
    i = math.floor(math.log(x, m))
    t_i = m**i * t0
    t_c = tt - (1 - m**i) / (1 - m) * t0
    line = (
        rf"i = \left\lfloor \log_{{m}}\!\left(1 - \tfrac{{t'}}{{T_0}}(1 - m)\right)\right\rfloor"
        rf" = \left\lfloor \log_{{{num(m)}}} {num(x)} \right\rfloor = {i},\quad T_i = m^i\,T_0 = {num(t_i)},"
        rf"\quad t_c = t' - \tfrac{{1 - m^i}}{{1 - m}}\,T_0 = {num(t_c)}"
    )
    return i, t_i, t_c, line


def _shifted(T: int, kw: KW) -> tuple[int, tuple[str, ...]]:
    w = kw["warmup_t"]
    if kw["warmup_prefix"] and w:
        return T - w, (rf"t' = T - W = {T} - {w} = {T - w}",)
    return T, (rf"t' = T = {T}",)


def _cycle_event(T: int, kw: KW, i: int, t_c: float, lr_max: float, shape: str) -> tuple[str, str]:
    w = kw["warmup_t"]
    if w and T == w:
        if kw["warmup_prefix"]:
            return (
                "warmup end",
                f"ended the warm-up at warmup_t = {w}: the {shape} starts from the peak (warmup_prefix=True)",
            )
        return "warmup end", (
            f"ended the warm-up at warmup_t = {w}: the lr is the {shape} at T = {w}, already below the peak "
            "(warmup_prefix=False: the warm-up overlaps the schedule)"
        )
    if t_c == 0 and i >= 1:
        return "restart", f"restarted: cycle {i + 1} begins at {lr_max:.4g} (cycle_decay^{i} × the initial lr)"
    return "anneal", f"moved the lr along the {shape} of cycle {i + 1}"


def _cycled_point(T: int, lr0: float, kw: KW, shape: str, tail: Callable[..., tuple[float, tuple[str, ...]]]) -> Point:
    tt, shift = _shifted(T, kw)
    cycle = cycle_point(tt, kw)
    if cycle is None:
        line = r"1 - \tfrac{t'}{T_0}(1 - m) \le 0:\ \text{timm's math.log raises (ValueError: math domain error)}"
        return Point(math.nan, (*shift, line), "refused", "raised: the cycles of cycle_mul < 1 have ended")
    i, t_i, t_c, line = cycle
    given = (("i", i),)
    if i >= kw["cycle_limit"]:
        floor = rf"i = {i} \ge L = {kw['cycle_limit']}:\quad \eta = \eta_{{\min}} = {num(kw['lr_min'])}"
        what = (
            f"held the lr at lr_min: {i} cycle(s) done, cycle_limit = {kw['cycle_limit']} (no restart after the last)"
        )
        return Point(kw["lr_min"], (*shift, line, floor), "floor", what, given)
    gamma = kw["cycle_decay"] ** i
    lr_max = lr0 * gamma
    value, lines = tail(lr_max, t_c, t_i)
    event, what = _cycle_event(T, kw, i, t_c, lr_max, shape)
    if event == "anneal":
        what += f" (t_c = {num(t_c)} of T_i = {num(t_i)})"
    peak = () if i == 0 else (rf"d^{{i}}\,\eta_0 = {num(kw['cycle_decay'])}^{{{i}}} \times {num(lr0)} = {num(lr_max)}",)
    return Point(value, (*shift, line, *peak, *lines), event, what, given)


def _pow_text(base: str, k: float) -> str:
    return base if k == 1.0 else f"{{{base}}}^{{{num(k)}}}"


def cosine_point(T: int, lr0: float, kw: KW) -> Point:
    if T == 0:
        return _start(lr0, kw)
    if T < kw["warmup_t"]:
        return _warm(T, lr0, kw)
    k, lr_min = kw["k_decay"], kw["lr_min"]

    def tail(lr_max: float, t_c: float, t_i: float) -> tuple[float, tuple[str, ...]]:
        value = lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t_c**k / t_i**k))
        line = (
            rf"\eta = \eta_{{\min}} + \tfrac{{1}}{{2}}\left(\eta_{{\max}} - \eta_{{\min}}\right)"
            rf"\left(1 + \cos\frac{{\pi\,{_pow_text('t_c', k)}}}{{{_pow_text('T_i', k)}}}\right)"
            rf" = {num(lr_min)} + \tfrac{{1}}{{2}}\left({num(lr_max)} - {_n(lr_min)}\right)"
            rf"\left(1 + \cos\frac{{{_pow_text(num(t_c), k)}\,\pi}}{{{_pow_text(num(t_i), k)}}}\right) = {num(value)}"
        )
        return value, (line,)

    return _cycled_point(T, lr0, kw, "cosine", tail)


def tanh_shape(lr_max: float, t_c: float, t_i: float, kw: KW) -> float:
    tr = t_c / t_i
    return kw["lr_min"] + 0.5 * (lr_max - kw["lr_min"]) * (1 - math.tanh(kw["lb"] * (1.0 - tr) + kw["ub"] * tr))


def tanh_warm_target(lr0: float, kw: KW) -> float:
    """Where TanhLRScheduler's warm-up climbs to without warmup_prefix: its curve at warmup_t (``_get_lr(warmup_t)``)."""
    return tanh_point(kw["warmup_t"], lr0, {**kw, "warmup_t": 0}).value


def tanh_point(T: int, lr0: float, kw: KW) -> Point:
    if T == 0:
        quirk = ""
        if not kw["warmup_t"]:
            f0 = tanh_shape(lr0, 0, kw["t_initial"], kw) if kw["cycle_limit"] > 0 else kw["lr_min"]
            quirk = f": the constructor sets it, not the tanh formula at T = 0 (which gives {f0:.6g})"
        return _start(lr0, kw, quirk)
    if T < kw["warmup_t"]:
        target = None if kw["warmup_prefix"] else tanh_warm_target(lr0, kw)
        return _warm(T, lr0, kw, target)

    def tail(lr_max: float, t_c: float, t_i: float) -> tuple[float, tuple[str, ...]]:
        tr = t_c / t_i
        value = tanh_shape(lr_max, t_c, t_i, kw)
        lines = (
            rf"r = t_c / T_i = {num(t_c)} / {num(t_i)} = {num(tr)}",
            rf"\eta = \eta_{{\min}} + \tfrac{{1}}{{2}}\left(\eta_{{\max}} - \eta_{{\min}}\right)\left(1 - \tanh\left(l_b(1 - r) + u_b\,r\right)\right)"
            rf" = {num(kw['lr_min'])} + \tfrac{{1}}{{2}}\left({num(lr_max)} - {_n(kw['lr_min'])}\right)"
            rf"\left(1 - \tanh\left({_n(kw['lb'])} \times {_n(1.0 - tr)} + {_n(kw['ub'])} \times {num(tr)}\right)\right) = {num(value)}",
        )
        return value, lines

    return _cycled_point(T, lr0, kw, "tanh curve", tail)


def poly_point(T: int, lr0: float, kw: KW) -> Point:
    if T == 0:
        return _start(lr0, kw)
    if T < kw["warmup_t"]:
        return _warm(T, lr0, kw)
    k, power, lr_min = kw["k_decay"], kw["power"], kw["lr_min"]

    def tail(lr_max: float, t_c: float, t_i: float) -> tuple[float, tuple[str, ...]]:
        value = lr_min + (lr_max - lr_min) * (1 - t_c**k / t_i**k) ** power
        line = (
            rf"\eta = \eta_{{\min}} + \left(\eta_{{\max}} - \eta_{{\min}}\right)\left(1 - \frac{{{_pow_text('t_c', k)}}}{{{_pow_text('T_i', k)}}}\right)^{{p}}"
            rf" = {num(lr_min)} + \left({num(lr_max)} - {_n(lr_min)}\right)\left(1 - \frac{{{_pow_text(num(t_c), k)}}}{{{_pow_text(num(t_i), k)}}}\right)^{{{num(power)}}}"
            rf" = {num(value)}"
        )
        return value, (line,)

    return _cycled_point(T, lr0, kw, "polynomial decay", tail)


def step_point(T: int, lr0: float, kw: KW) -> Point:
    if T == 0:
        return _start(lr0, kw)
    if T < kw["warmup_t"]:
        return _warm(T, lr0, kw)
    tt, shift = _shifted(T, kw)
    d, rate = kw["decay_t"], kw["decay_rate"]
    n = tt // d
    value = lr0 * (rate**n)
    lines = (
        *shift,
        rf"n = \lfloor t' / s \rfloor = \lfloor {tt} / {num(d)} \rfloor = {num(n)}",
        rf"\eta = \eta_0\,\gamma^{{n}} = {num(lr0)} \times {_n(rate)}^{{{num(n)}}} = {num(value)}",
    )
    w = kw["warmup_t"]
    before = (tt - 1) // d if tt >= 1 else None
    if w and T == w:
        event, what = "warmup end", f"ended the warm-up at warmup_t = {w}: the staircase starts"
    elif before is not None and n > before:
        event, what = (
            "decay",
            f"decayed the lr by decay_rate = {rate:g}: t' = {tt} reached {num(n)} × decay_t = {num(n * d)}",
        )
    else:
        event, what = "hold", f"kept the lr: the next decay comes at t' = {num((n + 1) * d)} (rounded up)"
    return Point(value, lines, event, what, (("n", n),))


def multistep_point(T: int, lr0: float, kw: KW) -> Point:
    if T == 0:
        return _start(lr0, kw)
    if T < kw["warmup_t"]:
        return _warm(T, lr0, kw)
    tt, shift = _shifted(T, kw)
    ms, rate = list(kw["decay_t"]), kw["decay_rate"]
    n = bisect.bisect_right(ms, tt + 1)
    value = lr0 * (rate**n)
    lines = (
        *shift,
        rf"n = \#\{{m \in M : m \le t' + 1\}} = \#\{{m \le {tt + 1}\}} = {n}",
        rf"\eta = \eta_0\,\gamma^{{n}} = {num(lr0)} \times {_n(rate)}^{{{n}}} = {num(value)}",
    )
    w = kw["warmup_t"]
    earlier = bisect.bisect_right(ms, tt) if tt >= 1 else n
    if w and T == w:
        event, what = "warmup end", f"ended the warm-up at warmup_t = {w}"
    elif n > earlier:
        m = ms[n - 1]
        event = "milestone"
        what = (
            f"decayed the lr by decay_rate = {rate:g} for milestone {m}: timm counts milestones m ≤ t' + 1, "
            f"so it decays at t' = {m - 1}, one step before torch's MultiStepLR would"
        )
        if ms.count(m) > 1:
            what += f" (milestone {m} is listed {ms.count(m)} times: it decays that many times)"
    else:
        nxt = next((m for m in ms if m > tt + 1), None)
        event = "hold"
        what = "kept the lr" + (f": the next milestone is {nxt} (applied at t' = {nxt - 1})" if nxt is not None else "")
    return Point(value, lines, event, what, (("n", n),))


POINTS: dict[str, Callable[[int, float, KW], Point]] = {
    "CosineLRScheduler": cosine_point,
    "TanhLRScheduler": tanh_point,
    "StepLRScheduler": step_point,
    "MultiStepLRScheduler": multistep_point,
    "PolyLRScheduler": poly_point,
}


def _freeze(kw: KW) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items()))


@lru_cache(maxsize=32)
def plateau_replay(frozen: tuple[tuple[str, Any], ...], lr0: float, steps: int, spe: int) -> tuple[dict[str, Any], ...]:
    """PlateauLRScheduler's decisions per epoch for one group, replayed by the documented rules (timm's
    warm-up by epoch, then torch's ReduceLROnPlateau: relative threshold, eps 1e-8) on the synthetic
    metric: entry e is the lr during epoch e and why. Noise is left out (timm restores the lr it
    perturbed before the next step, so it does not carry over)."""
    kw = dict(frozen)
    ctx = RunContext(steps=steps, base_lr=lr0, group_lrs=(lr0,), steps_per_epoch=spe)
    metric = epoch_metrics(ctx)
    w, w0 = kw["warmup_t"], kw["warmup_lr_init"]
    lr = w0 if w else lr0
    worse = math.inf if kw["mode"] == "min" else -math.inf
    best, bad, cooldown = worse, 0, 0
    rows: list[dict[str, Any]] = [{"lr": lr, "event": "start"}]
    for e in range(1, run_epochs(ctx)):
        if e <= w:  # timm: `if epoch <= self.warmup_t` (the metric is not seen)
            lr = w0 + e * ((lr0 - w0) / w)
            rows.append({"lr": lr, "event": "warmup end" if e == w else "warmup", "metric": float(metric[e - 1])})
            continue
        m = float(metric[e - 1])
        before = {"best": best, "bad": bad, "cooldown": cooldown, "lr": lr}
        if kw["mode"] == "min":
            better = m < best * (1.0 - kw["threshold"])
        else:
            better = m > best * (kw["threshold"] + 1.0)
        best, bad = (m, 0) if better else (best, bad + 1)
        in_cooldown = cooldown > 0
        if in_cooldown:
            cooldown -= 1
            bad = 0
        event = "improve" if better else ("cooldown" if in_cooldown else "wait")
        if bad > kw["patience_t"]:
            new = max(lr * kw["decay_rate"], kw["lr_min"])
            if lr - new > 1e-8:
                lr, event = new, "reduce"
            else:
                event = "skip"
            cooldown, bad = kw["cooldown_t"], 0
        rows.append({"lr": lr, "event": event, "metric": m, "before": before, "best": best, "bad": bad})
    return tuple(rows)


def _plateau_point(s: Step, kw: KW) -> Point:
    spe = s.ctx.steps_per_epoch
    e = s.k // spe
    rows = plateau_replay(_freeze(kw), float(s.lr0), s.ctx.steps, spe)
    row = rows[e]
    if e == 0:
        return _start(s.lr0, kw)
    if row["event"] in ("warmup", "warmup end"):
        return _warm(e, s.lr0, kw, le=True)
    b = row["before"]
    f, p = kw["decay_rate"], kw["patience_t"]
    if math.isfinite(b["best"]):
        factor = 1.0 - kw["threshold"] if kw["mode"] == "min" else kw["threshold"] + 1.0
        bar = rf"\text{{best}} \times {num(factor, 6)} = {num(b['best'] * factor, 6)}"
    else:
        bar = r"+\infty" if kw["mode"] == "min" else r"-\infty"
    head = rf"m = {num(row['metric'], 6)},\quad \text{{bar}} = {bar}"
    event = row["event"]
    if event == "reduce":
        body = (
            rf"\text{{bad}} = {b['bad'] + 1} > P = {p}:\quad \eta = \max(f\,\eta,\ \eta_{{\min}})"
            rf" = \max({num(f)} \times {num(b['lr'])},\ {num(kw['lr_min'])}) = {num(row['lr'])}"
        )
        what = f"reduced the lr: more than patience_t = {p} epochs without improvement, so lr × {f:g}"
    else:
        body = rf"\eta = {num(row['lr'])} \quad \text{{(unchanged)}}"
        what = {
            "improve": "kept the lr: the metric improved (a new best)",
            "cooldown": "kept the lr: cooldown after a reduction",
            "skip": f"kept the lr: patience ran out but the reduction is below eps (or the lr is at lr_min = {kw['lr_min']:g})",
        }.get(event, f"kept the lr: {row['bad']} epoch(s) without improvement, patience_t = {p}")
    return Point(row["lr"], (head, body), event, what)


def _in_noise(kw: KW, T: int) -> bool:
    return T > 0 and bool(noise_applies(kw["noise_range_t"], np.array([T]))[0])


def explain_class(s: Step, name: str, kw: KW, via: str = "") -> Part:
    """Explain row ``s.k`` of timm class ``name`` built with ``kw`` (group 0)."""
    plateau = name == "PlateauLRScheduler"
    in_epochs = True if plateau else kw["t_in_epochs"]
    spe, t = s.ctx.steps_per_epoch, s.k
    T = t // spe if in_epochs else t
    time_line = rf"T = \lfloor t / K \rfloor = \lfloor {t} / {spe} \rfloor = {T}" if in_epochs else rf"T = t = {t}"
    if plateau:
        point = _plateau_point(s, kw)
    else:
        point = POINTS[name](T, s.lr0, kw)
    value: float | None = point.value
    notes = []
    if _in_noise(kw, T) and (not plateau or T > kw["warmup_t"]):
        value = None
        notes.append(
            f"Noise applies at T = {T}: timm multiplies this value by 1 + n, n from torch.Generator seeded "
            f"noise_seed + {T} (redrawn until |n| < noise_pct); the library's lr includes it."
        )
    elif value is not None and math.isnan(value):
        value = None
    who = f"{via}{name}"
    flag = "PlateauLRScheduler" if plateau else f"{'step_on_epochs' if via else 't_in_epochs'}=True"
    if T == 0:
        late = f"; step_update() leaves it with {flag}" if t else ""
        sentence, event = f"Constructing {who} set the lr: {point.what}{late}.", "start"
    elif in_epochs and t % spe:
        sentence = (
            f"The lr is still the one step({T}) set at the end of epoch {T - 1}, which {point.what}; "
            f"step_update() leaves it with {flag}."
        )
        event = "hold"
    elif in_epochs:
        sentence = f"step({T}{', metric' if plateau else ''}) at the end of epoch {T - 1} {point.what}."
        event = point.event
    else:
        sentence, event = f"step_update(num_updates={T}) after update {T} {point.what}.", point.event
    given = (("t", t), *((("K", spe),) if in_epochs else ()), *point.given, (r"\eta_0", s.lr0))
    if plateau:
        notes.append(plateau_note(kw["mode"], s.ctx))
    return Part(value, given, (time_line, *point.lines), sentence, event, notes=tuple(notes))
