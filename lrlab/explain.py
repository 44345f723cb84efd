r"""Explain mode: one step of a curve in numbers and in words.

:func:`explain` takes a simulated :class:`~lrlab.simulate.Curve` and an optimizer step ``t`` and
returns an :class:`Explanation`: the scheduler's closed form with that step's numbers substituted
and evaluated (e.g. ``T_cur = 37, T_max = 100 ⇒ η = 0.001 + ½(0.1 − 0.001)(1 + cos(37π/100)) =
0.07016``), the recursive update the library actually performs (``η_t = γ·η_{t−1} = 0.9 × 0.0531``)
for torch's recursive ("chainable") schedulers, and one sentence on what ``scheduler.step()`` just
did (decayed by γ at a milestone, restarted a cycle, ended the warm-up, reduced on a plateau, …).

Each scheduler has its own explainer here, written from the library source (torch 2.13
``lr_scheduler.py``, transformers 5.23 ``optimization.py``) with the same arithmetic in the same
order, so the value evaluated from the substituted numbers equals the library's lr (the tests hold
every registry entry to 1e-12 relative). Compositions are explained through the active child on its
local time (SequentialLR) or as a product of the children's factors (ChainedScheduler); metric-driven
schedulers from the decisions recorded in ``curve.events``. Only param group 0 is explained.

This module also owns the "explained step" marker trace added to the charts of :mod:`lrlab.plots`.
It never imports streamlit (the component is :mod:`lrlab.ui.explain`).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go

from lrlab import compose
from lrlab import formulas as F
from lrlab.explaining import Part, Step, num
from lrlab.expr import parse, to_latex
from lrlab.schedulers.hf_specs import inverse_sqrt_timescale, min_lr_rate_of, wsd_stable_steps
from lrlab.simulate import Curve, rounding
from lrlab.specs import RunContext, SchedulerSpec, invalid

#: Name of the marker trace that shows the explained step on a chart.
MARKER = "explained step"
#: Relative difference within which an evaluated value "equals" the library's lr.
MATCH_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Explanation:
    """One step of a curve explained (param group 0).

    ``value`` is computed here from the numbers shown in ``latex`` by the formula written out in
    this module; it equals ``lr`` (the library's value) where the scheduler has a closed form.
    ``recursive_latex`` / ``recursive_value`` show the update torch's recursive schedulers perform
    from the previous lr. ``scheduler_step`` is the ``t`` of the formulas: how many times
    ``scheduler.step()`` has run (once per epoch when the curve's interval is "epoch").
    """

    step: int
    scheduler_step: int
    lr: float
    value: float | None
    latex: str
    sentence: str
    event: str
    recursive_latex: str | None = None
    recursive_value: float | None = None
    notes: tuple[str, ...] = ()
    tolerance: float = MATCH_TOLERANCE  # float32 libraries (Keras, optax, fastai): the spec's tolerance
    noise: float = 0.0  # the absolute difference that is the library's float32 rounding (the spec's rounding)

    @property
    def matches(self) -> bool:
        """Whether the evaluated value equals the library's lr (within :attr:`tolerance`, or :attr:`noise`)."""
        if self.value is None:
            return False
        if math.isfinite(self.value) and math.isfinite(self.lr) and abs(self.value - self.lr) <= self.noise:
            return True
        return _close(self.value, self.lr, max(self.tolerance, MATCH_TOLERANCE))


def _close(a: float, b: float, rel: float = MATCH_TOLERANCE) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# ---- LaTeX numbers ------------------------------------------------------------------------------


def _p(x: float) -> str:
    """A number, in parentheses when negative (so that ``a - (-b)`` reads right)."""
    return rf"\left({num(x)}\right)" if x < 0 else num(x)


def _scaled(lr0: float, expr: str) -> str:
    r"""``η₀ × expr`` with η₀ as a number, or ``expr`` alone when η₀ is 1 (a chained child's factor)."""
    return expr if lr0 == 1 else rf"{num(lr0)} \times {expr}"


def _given(pairs: Sequence[tuple[str, Any]], per_line: int = 4) -> str:
    r"""``t = 37,\ T_{\max} = 100, …``: the inputs of a step, ``per_line`` to a line."""
    items = [f"{sym} = {v if isinstance(v, str) else num(v)}" for sym, v in pairs]
    return r" \\ ".join(r",\ ".join(items[i : i + per_line]) for i in range(0, len(items), per_line))


def tidy(latex: str) -> str:
    """Drop a repeated ``= x = x`` (a substitution that is already the number, such as ``g = 1 = 1``)."""
    lines = []
    for line in latex.split(r" \\ "):
        tokens = re.split(r" (&?=) ", line)  # segment, separator, segment, …
        kept = tokens[:1]
        for sep, segment in zip(tokens[1::2], tokens[2::2], strict=True):
            if segment != kept[-1]:
                kept += [sep, segment]
        lines.append(" ".join(kept))
    return r" \\ ".join(lines)


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---- what an explainer sees and returns --------------------------------------------------------


def _eta(s: Step) -> str:
    return f"{s.lhs}_{{{s.k}}}"


def _prev_sym(s: Step) -> str:
    return f"{s.lhs}_{{{s.k - 1}}}" if s.k > 0 else rf"{s.lhs}_{{\text{{before}}}}"


def _rec(s: Step, symbolic: str, numeric: str, value: float, *, first: str = "") -> str:
    r"""A recursive update on aligned lines: ``η_t = symbolic`` then ``= numbers = value``
    (``first``: a line computed before it, such as :math:`\lambda(t)`)."""
    head = rf"{first} \\ " if first else ""
    return rf"\begin{{aligned}} {head}{_eta(s)} &= {symbolic} \\ &= {numeric} = {num(value)} \end{{aligned}}"


def _unchanged(s: Step, why: str) -> tuple[str, float]:
    return rf"{_eta(s)} = {_prev_sym(s)} = {num(s.prev)} \quad \text{{({why})}}", s.prev


def _direction(before: float, after: float) -> str:
    if after > before:
        return "raised"
    return "lowered" if after < before else "kept"


# ---- torch: recursive schedulers --------------------------------------------------------------


def _step_lr(s: Step) -> Part:
    size, gamma = s.params["step_size"], s.params["gamma"]
    k, lr0 = s.k, s.lr0
    n = k // size
    value = lr0 * gamma**n  # torch's _get_closed_form_lr
    lines = (
        rf"\left\lfloor {k} / {size} \right\rfloor = {n}",
        rf"{_eta(s)} = {_scaled(lr0, rf'{_p(gamma)}^{{{n}}}')} = {num(value)}",
    )
    if k == 0 or k % size:
        recursive, rec_value = _unchanged(s, f"{k} is not a positive multiple of {size}")
    else:
        rec_value = s.prev * gamma
        recursive = rf"{_eta(s)} = \gamma \cdot {_prev_sym(s)} = {num(gamma)} \times {num(s.prev)} = {num(rec_value)}"
    if k == 0:
        sentence, event = _constructed("StepLR", "the lr starts at the initial lr"), "start"
    elif k % size == 0:
        sentence = (
            f"step() decayed the lr by γ = {gamma:g}: step {k} is a multiple of step_size = {size} (decay number {n})."
        )
        event = "decay"
    else:
        sentence = f"step() kept the lr: the next decay by γ comes at step {(n + 1) * size}."
        event = "hold"
    return Part(
        value,
        (("t", k), ("s", size), (r"\gamma", gamma), (r"\eta_0", lr0)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


def _constructed(name: str, what: str) -> str:
    return f"Constructing {name} already performed its first step (t = 0): {what}."


def _milestone_text(ms: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(m) for m in ms[:limit])
    return r"\{" + shown + (r", \dots" if len(ms) > limit else "") + r"\}"


def _multistep_lr(s: Step) -> Part:
    ms, gamma = sorted(s.params["milestones"]), s.params["gamma"]
    k, lr0 = s.k, s.lr0
    count = bisect.bisect_right(ms, k)
    value = lr0 * gamma**count  # torch's _get_closed_form_lr
    lines = (
        rf"\#\{{m \in {_milestone_text(ms)} : m \le {k}\}} = {count}",
        rf"{_eta(s)} = {_scaled(lr0, rf'{_p(gamma)}^{{{count}}}')} = {num(value)}",
    )
    here = Counter(ms)[k]
    if here:
        rec_value = s.prev * gamma**here
        power = "" if here == 1 else f"^{{{here}}}"
        recursive = rf"{_eta(s)} = \gamma{power} \cdot {_prev_sym(s)} = {_p(gamma)}{power} \times {num(s.prev)} = {num(rec_value)}"
        times = "" if here == 1 else f" {here} times (it is listed {here} times)"
        sentence = f"step() decayed the lr by γ = {gamma:g}{times} at milestone {k}."
        event = "milestone"
    else:
        recursive, rec_value = _unchanged(s, f"{k} is not a milestone")
        upcoming = [m for m in ms if m > k]
        if k == 0:
            sentence = _constructed("MultiStepLR", "the lr starts at the initial lr")
            event = "start"
        else:
            after = f"the next milestone is {upcoming[0]}" if upcoming else "no milestones are left"
            sentence = f"step() kept the lr: {after}."
            event = "hold"
    return Part(
        value,
        (("t", k), ("M", _milestone_text(ms)), (r"\gamma", gamma), (r"\eta_0", lr0)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


def _constant_lr(s: Step) -> Part:
    f, total = s.params["factor"], s.params["total_iters"]
    k, lr0 = s.k, s.lr0
    value = lr0 * (f + (k >= total) * (1 - f))  # torch's _get_closed_form_lr
    case = rf"{num(f)}" if k < total else "1"
    relation = "<" if k < total else r"\ge"
    lines = (rf"{k} {relation} T = {total}:\quad {_eta(s)} = {_scaled(lr0, case)} = {num(value)}",)
    if k == 0:
        rec_value = s.prev * f
        recursive = rf"{_eta(s)} = f \cdot {_prev_sym(s)} = {num(f)} \times {num(s.prev)} = {num(rec_value)}"
        sentence, event = (
            _constructed("ConstantLR", f"the lr is multiplied by factor = {f:.4g} until step {total}"),
            "start",
        )
    elif k == total:
        rec_value = s.prev * (1.0 / f)
        recursive = rf"{_eta(s)} = \tfrac{{1}}{{f}} \cdot {_prev_sym(s)} = \tfrac{{1}}{{{num(f)}}} \times {num(s.prev)} = {num(rec_value)}"
        sentence = f"step() restored the full lr: total_iters = {total} reached, so the factor {f:.4g} is undone (lr × 1/{f:.4g})."
        event = "restore"
    else:
        recursive, rec_value = _unchanged(s, f"only t = 0 and t = {total} change the lr")
        sentence = (
            f"step() kept the reduced lr (factor {f:.4g} until step {total})."
            if k < total
            else f"step() kept the lr: ConstantLR's reduction ended at step {total}."
        )
        event = "hold"
    return Part(
        value, (("t", k), ("f", f), ("T", total), (r"\eta_0", lr0)), lines, sentence, event, recursive, rec_value
    )


def _linear_lr(s: Step) -> Part:
    a, b, total = s.params["start_factor"], s.params["end_factor"], s.params["total_iters"]
    k, lr0 = s.k, s.lr0
    value = lr0 * (a + (b - a) * min(total, k) / total)  # torch's _get_closed_form_lr
    ramp = rf"\left({num(a)} + ({num(b)} - {num(a)})\,\frac{{\min({k}, {total})}}{{{total}}}\right)"
    lines = (rf"{_eta(s)} = {_scaled(lr0, ramp)} = {num(value)}",)
    if k == 0:
        rec_value = s.prev * a
        recursive = rf"{_eta(s)} = s \cdot {_prev_sym(s)} = {num(a)} \times {num(s.prev)} = {num(rec_value)}"
    elif k > total:
        recursive, rec_value = _unchanged(s, f"t > T = {total}")
    else:
        ratio = 1.0 + (b - a) / (total * a + (k - 1) * (b - a))
        rec_value = s.prev * ratio
        recursive = _rec(
            s,
            rf"{_prev_sym(s)}\left(1 + \frac{{e - s}}{{T s + (t - 1)(e - s)}}\right)",
            rf"{num(s.prev)} \times \left(1 + \frac{{{_p(b - a)}}}{{{total} \times {num(a)} + {k - 1} \times {_p(b - a)}}}\right)",
            rec_value,
        )
    factor = a + (b - a) * min(total, k) / total
    if k == 0:
        sentence, event = _constructed("LinearLR", f"the multiplier starts at start_factor = {a:.4g}"), "start"
    elif k < total:
        sentence = (
            f"step() moved the multiplier linearly to {factor:.4g} ({k} of {total} steps from {a:.4g} to {b:.4g})."
        )
        event = "ramp"
    elif k == total:
        sentence = (
            f"step() ended the linear ramp: the multiplier reached end_factor = {b:.4g} at total_iters = {total}."
        )
        event = "ramp end"
    else:
        sentence = f"step() kept the lr: the ramp ended at step {total} and LinearLR holds end_factor = {b:.4g}."
        event = "hold"
    return Part(
        value,
        (("t", k), ("s", a), ("e", b), ("T", total), (r"\eta_0", lr0)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


def _exponential_lr(s: Step) -> Part:
    gamma = s.params["gamma"]
    k, lr0 = s.k, s.lr0
    value = lr0 * gamma**k  # torch's _get_closed_form_lr
    lines = (rf"{_eta(s)} = {_scaled(lr0, rf'{_p(gamma)}^{{{k}}}')} = {num(value)}",)
    if k == 0:
        recursive, rec_value = _unchanged(s, "the construction step leaves the lr")
        sentence, event = _constructed("ExponentialLR", "the lr starts at the initial lr"), "start"
    else:
        rec_value = s.prev * gamma
        recursive = rf"{_eta(s)} = \gamma \cdot {_prev_sym(s)} = {num(gamma)} \times {num(s.prev)} = {num(rec_value)}"
        sentence = f"step() multiplied the lr by γ = {gamma:g}, as it does at every step."
        event = "decay"
    return Part(value, (("t", k), (r"\gamma", gamma), (r"\eta_0", lr0)), lines, sentence, event, recursive, rec_value)


def _polynomial_lr(s: Step) -> Part:
    total, power = s.params["total_iters"], s.params["power"]
    k, lr0 = s.k, s.lr0
    value = lr0 * (1.0 - min(total, k) / total) ** power  # torch's _get_closed_form_lr
    shape = rf"\left(1 - \frac{{\min({k}, {total})}}{{{total}}}\right)^{{{num(power)}}}"
    lines = (rf"{_eta(s)} = {_scaled(lr0, shape)} = {num(value)}",)
    if k == 0 or k > total:
        recursive, rec_value = _unchanged(s, "the construction step" if k == 0 else f"t > T = {total}")
    else:
        ratio = ((1.0 - k / total) / (1.0 - (k - 1) / total)) ** power
        rec_value = s.prev * ratio
        recursive = _rec(
            s,
            rf"{_prev_sym(s)}\left(\frac{{1 - t/T}}{{1 - (t-1)/T}}\right)^{{p}}",
            rf"{num(s.prev)} \times \left(\frac{{1 - {k}/{total}}}{{1 - {k - 1}/{total}}}\right)^{{{num(power)}}}",
            rec_value,
        )
    if k == 0:
        sentence, event = _constructed("PolynomialLR", "the lr starts at the initial lr"), "start"
    elif k < total:
        sentence = f"step() decayed the lr along (1 − t/T)^{power:g}: {k} of {total} steps done."
        event = "decay"
    elif k == total:
        sentence = f"step() brought the lr to 0: total_iters = {total} reached."
        event = "end"
    else:
        sentence = f"step() kept the lr at 0 (it reached 0 at total_iters = {total})."
        event = "hold"
    return Part(
        value, (("t", k), ("T", total), ("p", power), (r"\eta_0", lr0)), lines, sentence, event, recursive, rec_value
    )


def _cosine_annealing_lr(s: Step) -> Part:
    tmax, eta_min = s.params["T_max"], s.params["eta_min"]
    k, lr0 = s.k, s.lr0
    value = eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * k / tmax)) / 2  # torch's _get_closed_form_lr
    lines = (
        rf"{_eta(s)} = {num(eta_min)} + \tfrac{{1}}{{2}}\left({num(lr0)} - {num(eta_min)}\right)"
        rf"\left(1 + \cos\frac{{{k}\pi}}{{{tmax}}}\right) = {num(value)}",
    )
    if k == 0:
        recursive, rec_value = _unchanged(s, "the construction step leaves the lr")
    elif (k - 1 - tmax) % (2 * tmax) == 0:
        rec_value = s.prev + (lr0 - eta_min) * (1 - math.cos(math.pi / tmax)) / 2
        recursive = _rec(
            s,
            rf"{_prev_sym(s)} + (\eta_0 - \eta_{{\min}})\,\frac{{1 - \cos(\pi / T_{{\max}})}}{{2}}"
            r" \quad \text{(just after a trough, where the ratio would divide by 0)}",
            rf"{num(s.prev)} + \left({num(lr0)} - {num(eta_min)}\right)\frac{{1 - \cos(\pi/{tmax})}}{{2}}",
            rec_value,
        )
    else:
        ratio_top, ratio_bottom = 1 + math.cos(math.pi * k / tmax), 1 + math.cos(math.pi * (k - 1) / tmax)
        rec_value = ratio_top / ratio_bottom * (s.prev - eta_min) + eta_min
        recursive = _rec(
            s,
            rf"\eta_{{\min}} + ({_prev_sym(s)} - \eta_{{\min}})\,\frac{{1 + \cos(\pi t/T_{{\max}})}}"
            rf"{{1 + \cos(\pi (t-1)/T_{{\max}})}}",
            rf"{num(eta_min)} + \left({num(s.prev)} - {num(eta_min)}\right) \times \frac{{{num(ratio_top)}}}{{{num(ratio_bottom)}}}",
            rec_value,
        )
    phase = k % (2 * tmax)
    if k == 0:
        sentence, event = (
            _constructed("CosineAnnealingLR", "the lr starts at the initial lr, the top of the cosine"),
            "start",
        )
    elif phase == 0:
        sentence = f"step() brought the lr back to the initial lr: a full cosine period of 2·T_max = {2 * tmax} steps is over (torch never stops at T_max)."
        event = "top"
    elif phase < tmax:
        sentence = f"step() annealed the lr along the cosine toward eta_min = {eta_min:g} ({phase} of {tmax} steps of the half period)."
        event = "anneal"
    elif phase == tmax:
        sentence = f"step() reached eta_min = {eta_min:g}, the bottom of the cosine, at T_cur = T_max = {tmax}."
        event = "bottom"
    else:
        sentence = f"step() raised the lr: past T_max = {tmax} torch keeps following the cosine, which climbs back to the initial lr at 2·T_max = {2 * tmax}."
        event = "rise"
    return Part(
        value,
        (("t", k), (r"T_{\max}", tmax), (r"\eta_0", lr0), (r"\eta_{\min}", eta_min)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


def _swa_lr(s: Step) -> Part:
    swa, anneal, strategy = s.params["swa_lr"], s.params["anneal_epochs"], s.params["anneal_strategy"]
    k, lr0 = s.k, s.lr0

    def alpha_of(x: float) -> float:
        return x if strategy == "linear" else (1 - math.cos(math.pi * x)) / 2  # SWALR's anneal functions

    frac = min(1.0, k / max(1, anneal)) if anneal > 0 else 1.0
    alpha = alpha_of(frac)
    value = swa * alpha + lr0 * (1 - alpha)
    a_text = r"\tfrac{1 - \cos(\pi x)}{2}" if strategy == "cos" else "x"
    lines = (
        rf"x = \min\left(1, \tfrac{{{k}}}{{\max(1, {anneal})}}\right) = {num(frac)},\quad \alpha = {a_text} = {num(alpha)}",
        rf"{_eta(s)} = {num(alpha)} \times {num(swa)} + (1 - {num(alpha)}) \times {num(lr0)} = {num(value)}",
    )
    # SWALR.get_lr: undo the previous α from the current lr, then apply this step's α
    step = max(1, k) if anneal == 0 else k
    prev_alpha = alpha_of(max(0, min(1, (step - 1) / max(1, anneal))))
    start = swa if prev_alpha == 1 else (s.prev - prev_alpha * swa) / (1 - prev_alpha)
    cur_alpha = alpha_of(max(0, min(1, step / max(1, anneal))))
    rec_value = swa * cur_alpha + start * (1 - cur_alpha)
    recursive = (
        _rec(
            s,
            r"\alpha_t \eta_{\text{swa}} + (1 - \alpha_t)\hat\eta",
            rf"{num(cur_alpha)} \times {num(swa)} + (1 - {num(cur_alpha)}) \times {num(start)}",
            rec_value,
            first=rf"\hat\eta &= \frac{{{_prev_sym(s)} - \alpha_{{t-1}}\eta_{{\text{{swa}}}}}}{{1 - \alpha_{{t-1}}}} = "
            rf"\frac{{{num(s.prev)} - {num(prev_alpha)} \times {num(swa)}}}{{1 - {num(prev_alpha)}}} = {num(start)}",
        )
        if prev_alpha != 1
        else rf"{_eta(s)} = \eta_{{\text{{swa}}}} = {num(swa)} \quad (\alpha_{{t-1}} = 1)"
    )
    if anneal == 0:
        sentence, event = f"SWALR holds swa_lr = {swa:g} (anneal_epochs = 0: it jumped there at once).", "hold"
    elif k == 0:
        sentence, event = _constructed("SWALR", "α = 0, the lr is still the optimizer's"), "start"
    elif k < anneal:
        sentence = f"step() annealed the lr toward swa_lr = {swa:g} ({strategy}, {k} of {anneal} steps)."
        event = "anneal"
    elif k == anneal:
        sentence, event = (
            f"step() finished the annealing: the lr reached swa_lr = {swa:g} and stays there.",
            "anneal end",
        )
    else:
        sentence, event = f"step() kept the lr at swa_lr = {swa:g}.", "hold"
    return Part(
        value,
        (("t", k), (r"\eta_{\text{swa}}", swa), ("A", anneal), (r"\eta_0", lr0)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


# ---- torch: lambdas ----------------------------------------------------------------------------


def _lambda_text(p: Mapping[str, Any], ctx: RunContext) -> str:
    return ctx.pick(p["lr_lambda"])


def _lambda_lr(s: Step) -> Part:
    expr = parse(_lambda_text(s.params, s.ctx))
    k, lr0 = s.k, s.lr0
    lam = expr(k)
    value = lr0 * lam  # LambdaLR.get_lr: base_lr * lmbda(last_epoch)
    lines = (
        rf"\lambda({k}) = {to_latex(expr, variable=str(k))} = {num(lam)}",
        rf"{_eta(s)} = {_scaled(lr0, num(lam))} = {num(value)}",
    )
    if k == 0:
        sentence, event = _constructed("LambdaLR", f"the lr is already η₀·λ(0) = {value:.4g}"), "start"
    else:
        change = _direction(s.prev, value)
        sentence = f"step() {change} the lr: LambdaLR sets η₀·λ({k}) from scratch (it ignores the previous lr)."
        event = "set"
    return Part(
        value, (("t", k), (r"\lambda(t)", to_latex(expr, variable="t")), (r"\eta_0", lr0)), lines, sentence, event
    )


def _multiplicative_lr(s: Step) -> Part:
    expr = parse(_lambda_text(s.params, s.ctx))
    k, lr0 = s.k, s.lr0
    factors = expr.over(np.arange(1, k + 1))
    value = float(np.cumprod(np.concatenate([[lr0], factors]))[-1])  # the same multiplication order as step()
    product = value / lr0 if lr0 else math.nan
    lines = (
        rf"{_eta(s)} = \eta_{{\text{{base}}}} \prod_{{k=1}}^{{{k}}} \lambda(k) = {_scaled(lr0, num(product))} = {num(value)}",
    )
    if k == 0:
        recursive, rec_value = _unchanged(s, "λ(0) is never applied")
        sentence, event = _constructed("MultiplicativeLR", "it keeps the lr (λ(0) is never applied)"), "start"
    else:
        lam = expr(k)
        rec_value = s.prev * lam
        recursive = _rec(
            s,
            rf"\lambda({k}) \cdot {_prev_sym(s)}",
            rf"{num(lam)} \times {num(s.prev)}",
            rec_value,
            first=rf"\lambda({k}) &= {to_latex(expr, variable=str(k))} = {num(lam)}",
        )
        sentence = f"step() multiplied the current lr by λ({k}) = {lam:.4g}."
        event = "multiply"
    return Part(
        value,
        (("t", k), (r"\lambda(t)", to_latex(expr, variable="t")), (r"\eta_{\text{base}}", lr0)),
        lines,
        sentence,
        event,
        recursive,
        rec_value,
    )


# ---- torch: closed forms in get_lr -----------------------------------------------------------------


def _cyclic_lr(s: Step) -> Part:
    p, k = s.params, s.k
    base, top = s.ctx.base_lr, p["max_lr"]
    up = float(p["step_size_up"])
    down = float(p["step_size_down"]) if p["step_size_down"] is not None else up
    total = up + down
    ratio = up / total
    cycle = math.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
    mode, gamma = p["mode"], p["gamma"]
    if mode == "triangular":
        g, g_text = 1.0, "1"
    elif mode == "triangular2":
        g, g_text = 1 / (2.0 ** (cycle - 1)), rf"2^{{-({cycle} - 1)}}"
    else:
        g, g_text = gamma**k, rf"{num(gamma)}^{{{k}}}"
    value = base + (top - base) * scale * g  # CyclicLR.get_lr, same order
    s_text = r"\tfrac{x}{r}" if x <= ratio else r"\tfrac{x - 1}{r - 1}"
    lines = (
        rf"c = \left\lfloor 1 + \tfrac{{{k}}}{{{num(total)}}} \right\rfloor = {cycle},\quad x = 1 + \tfrac{{{k}}}{{{num(total)}}} - {cycle} = {num(x)},"
        rf"\quad r = \tfrac{{{num(up)}}}{{{num(total)}}} = {num(ratio)}",
        rf"s = {s_text} = {num(scale)},\quad g = {g_text} = {num(g)}",
        rf"{_eta(s)} = {num(base)} + ({num(top)} - {num(base)}) \times {num(scale)} \times {num(g)} = {num(value)}",
    )
    if k == 0:
        sentence, event = _constructed("CyclicLR", f"the lr starts at base_lr = {base:g}"), "start"
    elif x == 0:
        extra = f"; triangular2 halved the amplitude to {g:.4g} of max_lr − base_lr" if mode == "triangular2" else ""
        sentence, event = f"step() started cycle {cycle}: the lr is back at base_lr = {base:g}{extra}.", "restart"
    elif scale == 1:
        sentence, event = f"step() reached the peak of cycle {cycle} (max_lr scaled by {g:.4g}).", "peak"
    elif x < ratio:
        sentence, event = f"step() raised the lr: rising half of cycle {cycle}.", "rise"
    else:
        sentence, event = f"step() lowered the lr: falling half of cycle {cycle}.", "fall"
    return Part(
        value,
        (("t", k), ("b", base), ("M", top), ("u", num(up)), ("d", num(down))),
        lines,
        sentence,
        event,
        notes=("CyclicLR recomputes the lr from base_lr and max_lr at every step (no recursion).",),
    )


def _one_cycle_lr(s: Step) -> Part:
    p, k = s.params, s.k
    top, n = p["max_lr"], p["total_steps"]
    initial = top / p["div_factor"]
    values = {"initial": initial, "max": top, "min": initial / p["final_div_factor"]}
    names = {"initial": r"\eta_{\text{init}}", "max": "M", "min": r"\eta_{\min}"}
    phases = F.one_cycle_phases(n, p["pct_start"], p["three_phase"])
    i = next(j for j, phase in enumerate(phases) if k <= phase[0] or j == len(phases) - 1)
    end, a, b = phases[i]
    start = phases[i - 1][0] if i else 0.0
    pct = (k - start) / (end - start)
    lo, hi = values[a], values[b]
    if p["anneal_strategy"] == "cos":
        value = hi + (lo - hi) / 2.0 * (math.cos(math.pi * pct) + 1)  # OneCycleLR._annealing_cos
        curve = rf"{num(hi)} + \tfrac{{{num(lo)} - {num(hi)}}}{{2}}\left(1 + \cos({num(pct)}\,\pi)\right)"
    else:
        value = (hi - lo) * pct + lo  # OneCycleLR._annealing_linear
        curve = rf"{num(lo)} + ({num(hi)} - {num(lo)}) \times {num(pct)}"
    lines = (
        rf"\text{{phase {i + 1}: }} {names[a]} \to {names[b]},\quad x = \frac{{{k} - {num(start)}}}{{{num(end)} - {num(start)}}} = {num(pct)}",
        rf"{_eta(s)} = {curve} = {num(value)}",
    )
    peak = phases[0][0]
    if k == 0:
        sentence, event = _constructed("OneCycleLR", f"the lr starts at max_lr / div_factor = {initial:.4g}"), "start"
    elif k == n:
        sentence = f"step() extrapolated one step past the end (t = total_steps = {n}): torch allows exactly one such step and refuses the next."
        event = "extrapolate"
    elif k == n - 1:
        sentence, event = f"step() reached the final lr {values['min']:.4g} at the last step of the cycle.", "end"
    elif i == 0:
        sentence = (
            f"step() raised the lr: warm-up phase from {initial:.4g} to max_lr = {top:g} (until step {num(peak)})."
        )
        event = "warmup"
    elif k - 1 <= peak:
        sentence = f"step() ended the warm-up at max_lr = {top:g}: the annealing phase begins."
        event = "warmup end"
    elif a == "max" and b == "initial":
        sentence, event = f"step() lowered the lr back toward {initial:.4g} (phase 2 of three).", "anneal"
    else:
        sentence, event = f"step() annealed the lr toward {values['min']:.4g} (the final phase).", "anneal"
    return Part(
        value,
        (
            ("t", k),
            ("M", top),
            ("N", n),
            ("p", p["pct_start"]),
            (r"\eta_{\text{init}}", initial),
            (r"\eta_{\min}", values["min"]),
        ),
        lines,
        sentence,
        event,
        notes=("OneCycleLR recomputes the lr from its phases at every step (no recursion).",),
    )


def warm_restart_position(k: int, t0: int, t_mult: int) -> tuple[int, int, int]:
    """(cycle index, T_cur, T_i) after ``k`` calls of CosineAnnealingWarmRestarts.step(), in exact
    integer arithmetic as ``step()`` counts them."""
    cycle, t_cur, t_i = 0, k, t0
    if t_mult == 1:
        return k // t0, k % t0, t0
    while t_cur >= t_i:
        t_cur -= t_i
        t_i *= t_mult
        cycle += 1
    return cycle, t_cur, t_i


def _warm_restarts(s: Step) -> Part:
    t0, t_mult, eta_min = s.params["T_0"], s.params["T_mult"], s.params["eta_min"]
    k, lr0 = s.k, s.lr0
    cycle, t_cur, t_i = warm_restart_position(k, t0, t_mult)
    value = eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2  # get_lr via T_cur
    lines = (
        rf"{_eta(s)} = {num(eta_min)} + \tfrac{{1}}{{2}}\left({num(lr0)} - {num(eta_min)}\right)"
        rf"\left(1 + \cos\frac{{{t_cur}\pi}}{{{t_i}}}\right) = {num(value)}",
    )
    if k == 0:
        sentence, event = (
            _constructed("CosineAnnealingWarmRestarts", "T_cur = 0, the lr starts at the initial lr"),
            "start",
        )
    elif t_cur == 0:
        sentence = (
            f"step() restarted a cycle: T_cur reached T_i and went back to 0, so the lr jumped back to the initial lr; "
            f"cycle {cycle + 1} lasts T_i = {t_i} steps."
        )
        event = "restart"
    else:
        sentence = f"step() counted T_cur = {t_cur} of T_i = {t_i} in cycle {cycle + 1}: the lr anneals toward eta_min = {eta_min:g}."
        event = "anneal"
    return Part(
        value,
        (("t", k), (r"T_{cur}", t_cur), ("T_i", t_i), (r"\eta_0", lr0), (r"\eta_{\min}", eta_min)),
        lines,
        sentence,
        event,
        notes=(
            f"step() only counts: T_cur ← T_cur + 1, and when T_cur ≥ T_i: T_cur ← T_cur − T_i, T_i ← {t_mult}·T_i.",
        ),
    )


# ---- compositions --------------------------------------------------------------------------------


def _sequential_lr(s: Step) -> Part:
    kids = compose.children(s.params)
    ms = list(s.params["milestones"])
    k = s.k
    i = bisect.bisect_right(ms, k)
    start = ms[i - 1] if i else 0
    local = k - start
    spec, params = kids[i]
    child_ctx = compose.child_context(spec, params, s.ctx)
    sub = EXPLAINERS[spec.name](replace(s, k=local, params=params, ctx=child_ctx, prev=s.prev if local else s.lr0))
    where = (("i", i), (f"m_{{{i}}}", start), ("t", k), (rf"t - m_{{{i}}}", local)) if i else (("i", 0), ("t", k))
    switched = i > 0 and local == 0
    head = f"child {i + 1} of {len(kids)} ({spec.name})"
    if switched:
        sentence = (
            f"SequentialLR switched to {head} at milestone {start}, restarting it at its own step 0: "
            + _lower_first(sub.sentence)
        )
        event = "switch"
    else:
        sentence = f"SequentialLR runs {head} at its local step {local}: " + _lower_first(sub.sentence)
        event = sub.event
    if spec.name in compose.NOT_JOINABLE:
        return Part(
            None,
            where,
            (rf"\text{{{spec.name} inside SequentialLR has no closed form here: the lr is the library's}}",),
            sentence,
            event,
            notes=(
                "A MultiplicativeLR, OneCycleLR, CyclicLR or SWALR child continues from the current lr or rewrites initial_lr.",
            ),
        )
    recursive, rec_value = sub.recursive, sub.recursive_value
    notes = list(sub.notes)
    if switched and recursive is not None:
        recursive, rec_value = None, None
        notes.append("At a milestone SequentialLR evaluates the child's closed form at its step 0, not its recursion.")
    return Part(sub.value, where + sub.given[1:], sub.lines, sentence, event, recursive, rec_value, tuple(notes))


def _chained_scheduler(s: Step) -> Part:
    kids = compose.children(s.params)
    k, lr0 = s.k, s.lr0
    parts = []
    multiplicative = True
    for j, (spec, params) in enumerate(kids, start=1):
        child_ctx = compose.child_context(spec, params, s.ctx)
        unit = replace(s, lr0=1.0, params=params, ctx=replace(child_ctx, base_lr=1.0), prev=1.0, lhs=f"f^{{({j})}}")
        parts.append((spec, params, child_ctx, EXPLAINERS[spec.name](unit)))
        multiplicative &= spec.name in compose.MULTIPLICATIVE or (
            spec.name == "CosineAnnealingLR" and params["eta_min"] == 0
        )
    sentence = (
        "ChainedScheduler stepped every child: "
        + "; ".join(f"{spec.name}: {_lower_first(part.sentence).rstrip('.')}" for spec, _, _, part in parts)
        + "."
    )
    event = "+".join(dict.fromkeys(part.event for *_, part in parts))
    if not multiplicative:
        return Part(
            None,
            (("t", k),),
            (r"\text{This chain has a child that overwrites the lr: no closed form, the lr is the library's}",),
            sentence,
            event,
        )
    product = np.ones(1)
    for *_, part in parts:
        product = product * part.value  # the order of lrlab's closed form
    value = float(lr0 * product[0])
    factors = r" \times ".join(num(part.value) for *_, part in parts)
    lines = (
        *(part.lines[-1] for *_, part in parts),
        rf"{_eta(s)} = \eta_0 \prod_i f^{{(i)}} = {num(lr0)} \times {factors} = {num(value)}",
    )
    # what torch does: each child's recursive update, in order, on the same lr
    lr = s.prev
    ratios = []
    for spec, params, child_ctx, _ in parts:
        before = lr
        lr = EXPLAINERS[spec.name](replace(s, params=params, ctx=child_ctx, prev=lr)).recursive_value
        ratios.append(lr / before if before else math.nan)
    recursive = _rec(
        s, rf"{_prev_sym(s)} \prod_i r^{{(i)}}", num(s.prev) + r" \times " + r" \times ".join(map(num, ratios)), lr
    )
    return Part(value, (("t", k), (r"\eta_0", lr0)), lines, sentence, event, recursive, lr)


# ---- transformers: multipliers of the initial lr --------------------------------------------------


def _hf(
    s: Step, lam: float, lam_lines: Sequence[str], sentence: str, event: str, given: Sequence[tuple[str, Any]]
) -> Part:
    value = s.lr0 * lam  # LambdaLR.get_lr: base_lr * lmbda(last_epoch)
    lines = (*lam_lines, rf"{_eta(s)} = \eta_0\,\lambda = {_scaled(s.lr0, num(lam))} = {num(value)}")
    return Part(value, (("t", s.k), *given, (r"\eta_0", s.lr0)), lines, sentence, event)


def _hf_warmup(s: Step, name: str) -> tuple[float, tuple[str, ...], str, str] | None:
    """The shared linear warm-up (t < W): multiplier, lines, sentence, event; None after it."""
    k, w = s.k, s.params["num_warmup_steps"]
    if k >= w:
        return None
    lam = float(k) / float(max(1, w))
    lines = (rf"{k} < W:\quad \lambda = \frac{{t}}{{\max(1, W)}} = \frac{{{k}}}{{{max(1, w)}}} = {num(lam)}",)
    if k == 0:
        sentence = _constructed(name, "the warm-up starts at lr 0, so the first optimizer update is wasted")
        return lam, lines, sentence, "start"
    return lam, lines, f"step() continued the warm-up: the lr rises linearly, {k} of {w} steps done.", "warmup"


def _warmup_ended(s: Step, rest: str) -> tuple[str, str] | None:
    w = s.params["num_warmup_steps"]
    if w > 0 and s.k == w:
        return f"step() ended the warm-up at num_warmup_steps = {w}: {rest}.", "warmup end"
    return None


def _hf_constant(s: Step) -> Part:
    if s.k == 0:
        sentence = _constructed("get_constant_schedule", "the multiplier is 1")
        return _hf(s, 1.0, (r"\lambda = 1",), sentence, "start", ())
    return _hf(s, 1.0, (r"\lambda = 1",), "step() kept the lr: the multiplier is always 1.", "hold", ())


def _hf_constant_warmup(s: Step) -> Part:
    w = s.params["num_warmup_steps"]
    given = (("W", w),)
    warm = _hf_warmup(s, "get_constant_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    ended = _warmup_ended(s, "the full lr is reached and held from now on")
    sentence, event = ended or ("step() kept the full lr (the warm-up is over).", "hold")
    return _hf(s, 1.0, (rf"{s.k} \ge W = {w}:\quad \lambda = 1",), sentence, event, given)


def _hf_progress(s: Step) -> tuple[float, str]:
    k, w, n = s.k, s.params["num_warmup_steps"], s.params["num_training_steps"]
    progress = float(k - w) / float(max(1, n - w))
    return progress, rf"p = \frac{{t - W}}{{\max(1, N - W)}} = \frac{{{k} - {w}}}{{{max(1, n - w)}}} = {num(progress)}"


def _hf_linear(s: Step) -> Part:
    k, w, n = s.k, s.params["num_warmup_steps"], s.params["num_training_steps"]
    given = (("W", w), ("N", n))
    warm = _hf_warmup(s, "get_linear_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    lam = max(0.0, float(n - k) / float(max(1, n - w)))
    lines = (
        rf"\lambda = \max\left(0, \frac{{N - t}}{{\max(1, N - W)}}\right) = \max\left(0, \frac{{{n - k}}}{{{max(1, n - w)}}}\right) = {num(lam)}",
    )
    ended = _warmup_ended(s, "the lr is at its peak and the linear decay to 0 begins")
    if ended:
        sentence, event = ended
    elif k < n:
        sentence, event = (
            f"step() lowered the lr linearly toward 0 at step N = {n} ({k - w} of {n - w} decay steps).",
            "decay",
        )
    elif k == n:
        sentence, event = f"step() brought the lr to 0 at num_training_steps = {n}.", "end"
    else:
        sentence, event = "step() kept the lr at 0 (past num_training_steps).", "hold"
    return _hf(s, lam, lines, sentence, event, given)


def _cosine_tail(s: Step, rate: float) -> tuple[float, tuple[str, ...]]:
    """transformers' cosine multiplier with a floor (rate 0: the plain cosine), same arithmetic."""
    c = s.params["num_cycles"]
    progress, p_line = _hf_progress(s)
    factor = 0.5 * (1.0 + math.cos(math.pi * float(c) * 2.0 * progress))
    factor = factor * (1 - rate) + rate
    lam = max(0, factor)
    floor = rf"(1 - {num(rate)}) + {num(rate)}" if rate else ""
    return lam, (
        p_line,
        rf"\lambda = \max\left(0,\ \tfrac{{1}}{{2}}\left(1 + \cos(2\pi \cdot {num(c)} \cdot {num(progress)})\right){floor}\right) = {num(lam)}",
    )


def _cosine_sentence(s: Step, lam: float, floor_text: str) -> tuple[str, str]:
    k, n = s.k, s.params["num_training_steps"]
    ended = _warmup_ended(s, "the lr is at its peak and the cosine decay begins")
    if ended:
        return ended
    if k <= n:
        prev_lam = s.prev / s.lr0 if s.lr0 else lam
        if lam > prev_lam and k > s.params["num_warmup_steps"]:
            return "step() raised the lr: with num_cycles > 0.5 the cosine comes back up.", "rise"
        return f"step() annealed the lr along the cosine{floor_text}.", "anneal"
    return f"step() raised the lr again: past num_training_steps = {n} the cosine is not clamped.", "rise"


def _hf_cosine(s: Step) -> Part:
    given = (("W", s.params["num_warmup_steps"]), ("N", s.params["num_training_steps"]), ("c", s.params["num_cycles"]))
    warm = _hf_warmup(s, "get_cosine_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    lam, lines = _cosine_tail(s, 0.0)
    return _hf(s, lam, lines, *_cosine_sentence(s, lam, " toward 0"), given)


def _hf_cosine_min_lr(s: Step) -> Part:
    rate = min_lr_rate_of(s.params, s.ctx)
    given = (
        ("W", s.params["num_warmup_steps"]),
        ("N", s.params["num_training_steps"]),
        ("c", s.params["num_cycles"]),
        ("r", rate),
    )
    warm = _hf_warmup(s, "get_cosine_with_min_lr_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    lam, lines = _cosine_tail(s, rate)
    return _hf(s, lam, lines, *_cosine_sentence(s, lam, f" toward the floor {rate:.4g} × η₀"), given)


def _hf_hard_restarts(s: Step) -> Part:
    k, w, n, c = s.k, s.params["num_warmup_steps"], s.params["num_training_steps"], s.params["num_cycles"]
    given = (("W", w), ("N", n), ("c", c))
    warm = _hf_warmup(s, "get_cosine_with_hard_restarts_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    progress, p_line = _hf_progress(s)
    if progress >= 1.0:
        lam = 0.0
        lines = (p_line, r"p \ge 1:\quad \lambda = 0")
    else:
        wrapped = (float(c) * progress) % 1.0
        lam = max(0.0, 0.5 * (1.0 + math.cos(math.pi * wrapped)))
        lines = (
            p_line,
            rf"(c\,p) \bmod 1 = ({num(c)} \times {num(progress)}) \bmod 1 = {num(wrapped)}",
            rf"\lambda = \max\left(0,\ \tfrac{{1}}{{2}}\left(1 + \cos({num(wrapped)}\,\pi)\right)\right) = {num(lam)}",
        )
    ended = _warmup_ended(s, f"the lr is at its peak and the first of {c} cosine cycles begins")
    cycle_now = math.floor(float(c) * progress)
    cycle_before = math.floor(float(c) * float(k - 1 - w) / float(max(1, n - w)))
    if ended:
        sentence, event = ended
    elif progress >= 1.0:
        sentence, event = (
            (f"step() set the lr to 0: num_training_steps = {n} reached.", "end")
            if k == n
            else ("step() kept the lr at 0.", "hold")
        )
    elif cycle_now > cycle_before:
        sentence, event = (
            f"step() restarted the cosine: cycle {cycle_now + 1} of {c} begins at the full lr (a hard restart).",
            "restart",
        )
    else:
        sentence, event = f"step() annealed the lr along cycle {cycle_now + 1} of {c}.", "anneal"
    return _hf(s, lam, lines, sentence, event, given)


def _hf_polynomial(s: Step) -> Part:
    p, k = s.params, s.k
    w, n, lr_end, power = p["num_warmup_steps"], p["num_training_steps"], p["lr_end"], p["power"]
    lr_init = s.ctx.base_lr  # transformers divides by the optimizer's default lr
    given = (("W", w), ("N", n), (r"\eta_e", lr_end), ("P", power), (r"\eta_i", lr_init))
    warm = _hf_warmup(s, "get_polynomial_decay_schedule_with_warmup")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    if k > n:
        lam = lr_end / lr_init
        lines = (
            rf"t > N:\quad \lambda = \frac{{\eta_e}}{{\eta_i}} = \frac{{{num(lr_end)}}}{{{num(lr_init)}}} = {num(lam)}",
        )
        return _hf(
            s, lam, lines, f"step() kept the lr at lr_end = {lr_end:g} (past num_training_steps).", "hold", given
        )
    remaining = 1 - (k - w) / (n - w)
    lam = ((lr_init - lr_end) * remaining**power + lr_end) / lr_init
    lines = (
        rf"1 - \frac{{t - W}}{{N - W}} = 1 - \frac{{{k - w}}}{{{n - w}}} = {num(remaining)}",
        rf"\lambda = \frac{{({num(lr_init)} - {num(lr_end)}) \times {num(remaining)}^{{{num(power)}}} + {num(lr_end)}}}{{{num(lr_init)}}} = {num(lam)}",
    )
    ended = _warmup_ended(s, "the polynomial decay to lr_end begins")
    if ended:
        sentence, event = ended
    elif k == n:
        sentence, event = f"step() brought the lr to lr_end = {lr_end:g} at num_training_steps = {n}.", "end"
    else:
        sentence, event = f"step() decayed the lr along (1 − progress)^{power:g} toward lr_end = {lr_end:g}.", "decay"
    return _hf(s, lam, lines, sentence, event, given)


def _hf_inverse_sqrt(s: Step) -> Part:
    k, w = s.k, s.params["num_warmup_steps"]
    tau = inverse_sqrt_timescale(s.params)
    given = (("W", w), (r"\tau", tau))
    warm = _hf_warmup(s, "get_inverse_sqrt_schedule")
    if warm:
        return _hf(s, warm[0], warm[1], warm[2], warm[3], given)
    shift = tau - w
    lam = 1.0 / math.sqrt((k + shift) / tau)
    lines = (
        rf"\lambda = \left(\frac{{t + \tau - W}}{{\tau}}\right)^{{-1/2}} = \left(\frac{{{k + shift}}}{{{tau}}}\right)^{{-1/2}} = {num(lam)}",
    )
    ended = _warmup_ended(s, "the 1/√t decay begins")
    sentence, event = ended or (
        "step() decayed the lr in proportion to 1/√(t + τ − W); it never reaches a floor.",
        "decay",
    )
    return _hf(s, lam, lines, sentence, event, given)


def _hf_cosine_warmup_min_lr(s: Step) -> Part:
    p = s.params
    k, w, n, c = float(s.k), float(p["num_warmup_steps"]), float(p["num_training_steps"]), p["num_cycles"]
    rate, w0 = min_lr_rate_of(p, s.ctx), p["warmup_lr_rate"]
    given = (("W", p["num_warmup_steps"]), ("N", p["num_training_steps"]), ("c", c), ("r", rate))
    if k < w:
        if w0 is None:
            lam = (k + 1.0) / max(1.0, w)
            lines = (
                rf"t < W:\quad \lambda = \frac{{t + 1}}{{\max(1, W)}} = \frac{{{s.k + 1}}}{{{num(max(1.0, w))}}} = {num(lam)}",
            )
        else:
            lam = float(w0) + (1.0 - float(w0)) * k / max(1, w - 1)
            lines = (
                rf"t < W:\quad \lambda = w_0 + (1 - w_0)\frac{{t}}{{\max(1, W - 1)}} = {num(w0)} + (1 - {num(w0)})\frac{{{s.k}}}{{{num(max(1, w - 1))}}} = {num(lam)}",
            )
        if s.k == 0:
            sentence, event = (
                _constructed(
                    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
                    f"the warm-up starts at {lam:.4g} × η₀, not 0",
                ),
                "start",
            )
        else:
            sentence, event = f"step() continued the warm-up: {s.k} of {p['num_warmup_steps']} steps done.", "warmup"
        return _hf(s, lam, lines, sentence, event, given)
    progress = (k - w + 1.0) / max(1.0, n - w)
    factor = 0.5 * (1.0 + math.cos(math.pi * c * 2.0 * progress))
    factor = factor * (1 - rate) + rate
    lam = max(0, factor)
    lines = (
        rf"p' = \frac{{t - W + 1}}{{\max(1, N - W)}} = \frac{{{num(k - w + 1.0)}}}{{{num(max(1.0, n - w))}}} = {num(progress)}",
        rf"\lambda = \max\left(0,\ \tfrac{{1}}{{2}}\left(1 + \cos(2\pi \cdot {num(c)} \cdot {num(progress)})\right)(1 - {num(rate)}) + {num(rate)}\right) = {num(lam)}",
    )
    if p["num_warmup_steps"] > 0 and s.k == p["num_warmup_steps"]:
        sentence, event = (
            f"step() ended the warm-up at num_warmup_steps = {p['num_warmup_steps']}: the cosine decay to the floor begins.",
            "warmup end",
        )
    elif s.k == p["num_training_steps"] - 1:
        sentence, event = f"step() reached the floor {rate:.4g} × η₀ at t = N − 1.", "floor"
    elif s.k >= p["num_training_steps"]:
        sentence, event = "step() raised the lr again: past the end the cosine is not clamped.", "rise"
    else:
        sentence, event = f"step() annealed the lr along the cosine toward the floor {rate:.4g} × η₀.", "anneal"
    return _hf(s, lam, lines, sentence, event, given)


def _hf_wsd(s: Step) -> Part:
    p, k = s.params, s.k
    w, d, m = p["num_warmup_steps"], p["num_decay_steps"], p["min_lr_ratio"]
    stable = wsd_stable_steps(p)
    given = (("W", w), ("S", stable), ("D", d), ("m", m))
    if k < w:
        progress = float(k) / float(max(1, w))
        kind = p["warmup_type"]
        if kind == "linear":
            factor, f_text = progress, num(progress)
        elif kind == "cosine":
            factor, f_text = (
                0.5 * (1.0 - math.cos(math.pi * progress)),
                rf"\tfrac{{1}}{{2}}(1 - \cos({num(progress)}\,\pi))",
            )
        else:
            factor, f_text = 1.0 - math.sqrt(1.0 - progress), rf"1 - \sqrt{{1 - {num(progress)}}}"
        lam = max(0.0, factor * (1.0 - m) + m)
        lines = (
            rf"t < W:\quad x = \frac{{{k}}}{{{max(1, w)}}} = {num(progress)},\quad f_w = {f_text} = {num(factor)}",
            rf"\lambda = \max(0,\ f_w (1 - m) + m) = {num(factor)} \times (1 - {num(m)}) + {num(m)} = {num(lam)}",
        )
        if k == 0:
            sentence, event = (
                _constructed("get_wsd_schedule", f"the warm-up starts at min_lr_ratio × η₀ = {m:g} × η₀"),
                "start",
            )
        else:
            sentence, event = f"step() continued the {kind} warm-up: {k} of {w} steps done.", "warmup"
        return _hf(s, lam, lines, sentence, event, given)
    if k < w + stable:
        ended = _warmup_ended(s, "the stable phase at the full lr begins")
        sentence, event = ended or (f"step() kept the full lr: stable phase, {k - w + 1} of {stable} steps.", "stable")
        return _hf(s, 1.0, (rf"W \le t < W + S = {w + stable}:\quad \lambda = 1",), sentence, event, given)
    if k < w + stable + d:
        progress = float(k - w - stable) / float(max(1, d))
        kind = p["decay_type"]
        if kind == "linear":
            factor, f_text = 1.0 - progress, rf"1 - {num(progress)}"
        elif kind == "cosine":
            c = p["num_cycles"]
            factor = 0.5 * (1.0 + math.cos(math.pi * float(c) * 2.0 * progress))
            f_text = rf"\tfrac{{1}}{{2}}(1 + \cos(2\pi \cdot {num(c)} \cdot {num(progress)}))"
        else:
            factor, f_text = 1.0 - math.sqrt(progress), rf"1 - \sqrt{{{num(progress)}}}"
        lam = max(0.0, factor * (1.0 - m) + m)
        lines = (
            rf"q = \frac{{t - W - S}}{{\max(1, D)}} = \frac{{{k - w - stable}}}{{{max(1, d)}}} = {num(progress)},\quad f_d = {f_text} = {num(factor)}",
            rf"\lambda = \max(0,\ f_d (1 - m) + m) = {num(factor)} \times (1 - {num(m)}) + {num(m)} = {num(lam)}",
        )
        if k == w + stable and k > 0:
            sentence, event = (
                f"step() ended the stable phase at step W + S = {w + stable}: the {kind} decay begins.",
                "decay start",
            )
        else:
            sentence, event = f"step() decayed the lr ({kind}), {k - w - stable} of {d} decay steps.", "decay"
        return _hf(s, lam, lines, sentence, event, given)
    sentence, event = (
        (f"step() ended the decay at W + S + D = {w + stable + d}: the lr stays at min_lr_ratio × η₀.", "end")
        if k == w + stable + d
        else (f"step() kept the lr at min_lr_ratio × η₀ = {m:g} × η₀.", "hold")
    )
    return _hf(s, m, (rf"t \ge W + S + D = {w + stable + d}:\quad \lambda = m = {num(m)}",), sentence, event, given)


#: One explainer per scheduler with a formula; the metric-driven ones are explained from ``curve.events``.
EXPLAINERS: dict[str, Callable[[Step], Part]] = {
    "LambdaLR": _lambda_lr,
    "MultiplicativeLR": _multiplicative_lr,
    "StepLR": _step_lr,
    "MultiStepLR": _multistep_lr,
    "ConstantLR": _constant_lr,
    "LinearLR": _linear_lr,
    "ExponentialLR": _exponential_lr,
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "CyclicLR": _cyclic_lr,
    "OneCycleLR": _one_cycle_lr,
    "CosineAnnealingWarmRestarts": _warm_restarts,
    "SWALR": _swa_lr,
    "SequentialLR": _sequential_lr,
    "ChainedScheduler": _chained_scheduler,
    "get_constant_schedule": _hf_constant,
    "get_constant_schedule_with_warmup": _hf_constant_warmup,
    "get_linear_schedule_with_warmup": _hf_linear,
    "get_cosine_schedule_with_warmup": _hf_cosine,
    "get_cosine_with_hard_restarts_schedule_with_warmup": _hf_hard_restarts,
    "get_polynomial_decay_schedule_with_warmup": _hf_polynomial,
    "get_inverse_sqrt_schedule": _hf_inverse_sqrt,
    "get_cosine_with_min_lr_schedule_with_warmup": _hf_cosine_min_lr,
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate": _hf_cosine_warmup_min_lr,
    "get_wsd_schedule": _hf_wsd,
}


# ---- metric-driven schedulers: from the recorded decisions -----------------------------------------


def _better_text(mode: str, threshold_mode: str, best: float, theta: float) -> tuple[str, float]:
    """The bar a metric must beat, as LaTeX and as a number (the library's is_better rule)."""
    if not math.isfinite(best):
        return (r"+\infty" if mode == "min" else r"-\infty"), best
    if mode == "min":
        if threshold_mode == "rel":
            return rf"\text{{best}}\,(1 - \theta) = {num(best, 6)} \times (1 - {num(theta)})", best * (1.0 - theta)
        return rf"\text{{best}} - \theta = {num(best, 6)} - {num(theta)}", best - theta
    if threshold_mode == "rel":
        return rf"\text{{best}}\,(1 + \theta) = {num(best, 6)} \times (1 + {num(theta)})", best * (1.0 + theta)
    return rf"\text{{best}} + \theta = {num(best, 6)} + {num(theta)}", best + theta


def _explain_metric(curve: Curve, t: int, lr: float, notes: list[str], start: float | None = None) -> Explanation:
    events, p = curve.events, curve.params
    greedy = curve.spec.name == "get_greedy_schedule"
    lr0 = float(curve.config.base_lr) if start is None else start  # start: the lr a warm-up left
    steps = events["step"].to_numpy() if events is not None else np.array([], dtype=np.int64)
    if steps.size >= 2:
        every = int(steps[1] - steps[0])
        when = "every optimizer step" if every == 1 else f"every {every} optimizer steps"
        notes.append(
            f"scheduler.step(metric) is called after every evaluation ({when} here); the lr changes only when "
            "the metric's history says so."
        )
    row = int(np.searchsorted(steps, t))
    here = row < steps.size and steps[row] == t
    evaluations = row + (1 if here else 0)
    if not here:
        before = float(events["lr_after"].iloc[row - 1]) if row > 0 else lr0
        sentence = (
            (
                "No metric has been seen yet: the lr is the optimizer's initial lr."
                if start is None
                else "The plateau has seen no metric yet: the lr is the one the warm-up left."
            )
            if row == 0
            else "scheduler.step(metric) was not called before this optimizer step: the lr stays as the last evaluation left it."
        )
        latex = rf"\eta = {num(before)} \quad \text{{(unchanged)}}"
        return Explanation(
            t, evaluations, lr, before, latex, sentence, "start" if row == 0 else "no step", notes=tuple(notes)
        )
    ev = events.iloc[row]
    metric, kind = float(ev["metric"]), str(ev["event"])
    lr_before = float(ev["lr_before"])
    prev_best = float(events["best"].iloc[row - 1]) if row > 0 else (math.inf if p["mode"] == "min" else -math.inf)
    bar_text, bar = _better_text(p["mode"], p["threshold_mode"], prev_best, p["threshold"])
    cmp = "<" if p["mode"] == "min" else ">"
    factor = p["factor"]
    min_lr = p["min_lr"][0] if isinstance(p["min_lr"], tuple) else p["min_lr"]
    smoothed = " (smoothed)" if greedy and p.get("smooth") else ""
    head = rf"m = {num(metric, 6)}{smoothed},\quad \text{{bar}} = {bar_text} = {num(bar, 6)}"
    if kind == "reduced":
        candidate = max(lr_before * factor, min_lr)  # _reduce_lr: max(old_lr * factor, min_lr) if the drop > eps
        value = candidate if lr_before - candidate > p.get("eps", 1e-8) else lr_before
        body = rf"\text{{bad}} > P = {p['patience']} \;\Rightarrow\; \eta = \max(f\,\eta,\ \eta_{{\min}}) = \max({num(factor)} \times {num(lr_before)},\ {num(min_lr)}) = {num(value)}"
        event, verb = "reduce", "reduced the lr"
    elif kind == "increased":
        candidate = min(lr_before / factor, p["max_lr"])  # GreedyLR._increase_lr
        if _close(candidate, float(ev["lr_after"])):
            value = candidate
            body = rf"\text{{good}} > P = {p['patience']} \;\Rightarrow\; \eta = \min(\eta / f,\ \eta_{{\max}}) = \min({num(lr_before)} / {num(factor)},\ {num(p['max_lr'])}) = {num(value)}"
            event, verb = "increase", "raised the lr"
        else:
            value = lr0
            body = rf"\text{{reset}} \;\Rightarrow\; \eta = \eta_0 = {num(lr0)}"
            event, verb = (
                "reset",
                "reset the lr to its initial value (GreedyLR's reset after many reductions at min_lr)",
            )
    else:
        value = lr_before
        body = rf"\eta = {num(lr_before)} \quad \text{{(unchanged)}}"
        event = {"improved": "improve", "cooldown": "cooldown", "reduction skipped": "skip"}.get(kind, "wait")
        verb = {
            "improved": "kept the lr (the metric improved)",
            "cooldown": "kept the lr (cooldown)",
            "reduction skipped": "would have reduced the lr but skipped it",
        }.get(kind, "kept the lr (no improvement)")
    relation = rf"m {cmp} \text{{bar}}" if kind == "improved" else rf"m \not{cmp} \text{{bar}}"
    latex = rf"\begin{{gathered}} {head} \;\Rightarrow\; {relation} \\ {body} \end{{gathered}}"
    sentence = f"scheduler.step(metric = {metric:.6g}) {verb} — {ev['explanation']}."
    return Explanation(t, evaluations, lr, value, latex, sentence, event, notes=tuple(notes))


# ---- the entry point ---------------------------------------------------------------------------


def _context(curve: Curve) -> RunContext:
    config = curve.config
    return RunContext(
        steps=config.steps,
        base_lr=float(config.base_lr),
        group_lrs=(float(config.base_lr), *map(float, config.group_lrs)),
        steps_per_epoch=config.steps_per_epoch,
    )


def _explain_warmup_then_plateau(curve: Curve, t: int, lr: float, notes: list[str]) -> Explanation:
    """The hand-written switch: the warm-up child's own formula up to warmup_steps, then the plateau's
    decisions from the lr the warm-up left."""
    from lrlab.compose import child_context, children

    k = int(curve.params["warmup_steps"])
    lrs = curve.frame["lr"].to_numpy()
    if t > k:
        return _explain_metric(curve, t, lr, notes, start=float(lrs[k]))
    ((spec, params),) = children(curve.params, "warmup")
    ctx = child_context(spec, params, _context(curve))
    lr0 = ctx.group_lrs[0]
    part = EXPLAINERS[spec.name](Step(k=t, lr0=lr0, params=params, ctx=ctx, prev=float(lrs[t - 1]) if t else lr0))
    notes.append(
        f"warmup.step() ({spec.name}) runs after each of the first {k} optimizer steps; from then on "
        "ReduceLROnPlateau takes over with scheduler.step(metric)."
    )
    latex = tidy(r"\begin{gathered} " + _given(part.given) + r" \\ " + r" \\ ".join(part.lines) + r" \end{gathered}")
    return Explanation(
        step=t,
        scheduler_step=t,
        lr=lr,
        value=part.value,
        latex=latex,
        sentence=f"Warm-up ({spec.name}, step {t} of {k}): {part.sentence}",
        event=part.event,
        recursive_latex=tidy(part.recursive) if part.recursive else None,
        recursive_value=part.recursive_value,
        notes=(*notes, *part.notes),
        tolerance=spec.tolerance if spec.tolerance > 1e-9 else MATCH_TOLERANCE,
        noise=rounding(spec, curve.params, _context(curve)),
    )


def _explain_fractional(curve: Curve, t: int, lr: float, notes: list[str]) -> Explanation:
    """A curve stepped as ``scheduler.step(epoch + i / steps_per_epoch)``: the scheduler's time is a
    fractional epoch, and the formula is the library's closed form for that call, at that epoch."""
    from lrlab.simulate import scheduler_time

    spe = curve.config.steps_per_epoch
    epoch = float(scheduler_time(curve.config)[t])
    e, i = divmod(max(t - 1, 0), spe)
    call = "construction (epoch 0)" if t == 0 else f"scheduler.step({e} + {i}/{spe}) after optimizer step {t - 1}"
    value = None
    if curve.closed is not None and math.isfinite(float(curve.closed["lr"].iloc[t])):
        value = float(curve.closed["lr"].iloc[t])
    sentence = (
        f"Stepped with fractional epochs: the last call was {call}, so the scheduler is at epoch {epoch:.6g} "
        f"and the lr is its formula at that epoch: {lr:.6g}."
    )
    if not math.isfinite(lr):
        sentence = f"The library refused to step here ({curve.spec.name} stops at step {curve.stopped_at})."
    notes.append(
        "As in torch's docs, the call after batch i passes epoch + i / steps_per_epoch: the schedule runs one batch "
        "behind step / steps_per_epoch."
    )
    latex = rf"\eta = S(e),\quad e = {epoch:.6g}"
    return Explanation(t, t, lr, value, latex, sentence, "fractional epoch", notes=tuple(notes))


def explain(curve: Curve, t: int) -> Explanation:
    """Explain optimizer step ``t`` of ``curve`` (param group 0): see :class:`Explanation`."""
    frame = curve.frame
    n = len(frame)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < n:
        raise invalid("step", t, f"must be an integer in [0, {n - 1}]")
    t = int(t)
    lrs = frame["lr"].to_numpy()
    lr = float(lrs[t])
    spec: SchedulerSpec = curve.spec
    config = curve.config
    notes: list[str] = []
    if len(curve.lr_columns) > 1:
        notes.append(
            f"Param group 0 of {len(curve.lr_columns)} is explained; the others follow the same rule from their own initial lr."
        )
    if spec.name == "WarmupThenPlateau":
        return _explain_warmup_then_plateau(curve, t, lr, notes)
    if spec.needs_metric:
        return _explain_metric(curve, t, lr, notes)
    if config.interval == "epoch_fraction":
        return _explain_fractional(curve, t, lr, notes)
    every = config.steps_per_epoch if config.interval in ("epoch", "epoch_arg") else 1
    k = t // every
    if every > 1:
        notes.append(
            f"scheduler.step() is called once per epoch (every {every} optimizer steps): optimizer step {t} is in "
            f"epoch {k}, after {_plural(k, 'scheduler step')}; t in the formula counts scheduler steps."
        )
    if not math.isfinite(lr):
        stop = curve.stopped_at if curve.stopped_at is not None else t
        sentence = f"The library refused to step here ({spec.name} stops at step {stop}): there is no lr at this step."
        return Explanation(
            t, k, lr, None, r"\text{no learning rate: the library stopped}", sentence, "stopped", notes=tuple(notes)
        )
    ctx = _context(curve)
    lr0 = ctx.group_lrs[0]
    prev = float(lrs[(k - 1) * every]) if k > 0 else lr0
    try:
        explainer = spec.explainer or EXPLAINERS[spec.name]
        part = explainer(Step(k=k, lr0=lr0, params=curve.params, ctx=ctx, prev=prev))
    except (OverflowError, ZeroDivisionError):  # Python floats raise where the library's arithmetic did not
        sentence = (
            f"The formula cannot be evaluated in floating point at this step (an intermediate value overflows "
            f"or divides by zero), although {spec.name}'s own arithmetic gives {lr:.6g}."
        )
        return Explanation(
            t, k, lr, None, r"\text{the formula overflows here}", sentence, "overflow", notes=tuple(notes)
        )
    sentence, event = part.sentence, part.event
    if every > 1 and t % every:
        sentence = (
            f"scheduler.step() was not called before this optimizer step (it runs once per epoch, next after optimizer "
            f"step {(k + 1) * every - 1}): the lr is still the one its call number {k} set."
        )
        event = "no step"
    latex = tidy(r"\begin{gathered} " + _given(part.given) + r" \\ " + r" \\ ".join(part.lines) + r" \end{gathered}")
    return Explanation(
        step=t,
        scheduler_step=k,
        lr=lr,
        value=part.value,
        latex=latex,
        sentence=sentence,
        event=event,
        recursive_latex=tidy(part.recursive) if part.recursive else None,
        recursive_value=part.recursive_value,
        notes=(*notes, *part.notes),
        tolerance=spec.tolerance if spec.tolerance > 1e-9 else MATCH_TOLERANCE,
        noise=rounding(spec, curve.params, _context(curve)),
    )


# ---- the marker on a chart -------------------------------------------------------------------------


def add_marker(fig: go.Figure) -> go.Figure:
    """Add the (empty) "explained step" marker trace to a figure of :mod:`lrlab.plots`; returns ``fig``.

    It goes on the first subplot's axes (the lr axes); :func:`move_marker` places its points.
    """
    fig.add_trace(
        go.Scatter(
            x=[],
            y=[],
            mode="markers",
            name=MARKER,
            showlegend=False,
            marker={"size": 15, "symbol": "circle", "color": [], "line": {"width": 2, "color": "white"}},
            hovertemplate="explained step %{x}<br>lr %{y:.6g}<extra></extra>",
        )
    )
    return fig


def move_marker(fig: go.Figure, points: Sequence[tuple[float, float, str]]) -> go.Figure:
    """Put the marker trace at ``points`` — ``(x, lr, colour)`` each; non-finite lrs are left out."""
    kept = [(x, y, c) for x, y, c in points if math.isfinite(x) and math.isfinite(y)]
    marker = next(trace for trace in fig.data if trace.name == MARKER)
    marker.update(x=[x for x, _, _ in kept], y=[y for _, y, _ in kept], marker={"color": [c for _, _, c in kept]})
    return fig


# ---- Play in the browser: the marker animated by Plotly.js --------------------------------------------
#
# Play is a Plotly animation: the chart carries one frame per position of the marker (its points and a
# caption with that step's numbers as plain text), Plotly's own Play/Pause buttons and a scrubber. The
# browser plays it; the server only builds it, once per chosen step (the captions, the costly part, are
# cached by the caller per configuration). Verified in Chromium with Streamlit 1.67: st.plotly_chart hands
# `frames`, `updatemenus` and `sliders` to Plotly.js unchanged, and playing sends nothing to the server.

#: The most frames an animated chart carries: a run of any length plays in at most this many.
MAX_FRAMES = 400
#: Name of the annotation that shows the explained step in numbers on an animated chart.
CAPTION = "explained step in numbers"
#: Pixels added under the chart for Play/Pause, the caption and the scrubber.
CONTROLS_HEIGHT = 120


def frame_grid(steps: int, stride: int, *, cap: int = MAX_FRAMES) -> tuple[int, ...]:
    """The steps Play stops at in a run of ``steps`` steps: every ``stride``-th step from 0, and the last
    one. The stride is widened until at most ``cap - 1`` steps remain, leaving room for the chosen step
    (which the caller adds), so that a 1,000,000-step run still plays in at most ``cap`` frames."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise invalid("steps", steps, "must be a positive integer")
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 4:
        raise invalid("cap", cap, "must be an integer of at least 4")
    last = int(steps) - 1
    if last == 0:
        return (0,)
    every = max(int(stride), 1, math.ceil(last / (cap - 3)))  # floor(last / every) + 2 ≤ cap − 1 steps
    grid = list(range(0, last + 1, every))
    if grid[-1] != last:
        grid.append(last)
    return tuple(grid)


_SUPERSCRIPT = dict(
    zip("0123456789+-=()abcdefghijklmnoprstuvwxyz", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True)
)
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
#: LaTeX words written as a character (or a word) in plain text.
_WORDS = {
    **{g: c for g, c in zip(
        "alpha beta gamma delta epsilon varepsilon zeta eta theta kappa lambda mu nu xi pi rho sigma tau phi "
        "varphi chi psi omega Gamma Delta Theta Lambda Pi Sigma Phi Omega".split(),
        "αβγδεεζηθκλμνξπρστφφχψωΓΔΘΛΠΣΦΩ",
        strict=True,
    )},
    "times": "×", "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…", "pm": "±", "mp": "∓", "div": "÷",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "equiv": "≡",
    "lt": "<", "gt": ">", "to": "→", "rightarrow": "→", "Rightarrow": "⇒", "implies": "⇒", "leftarrow": "←",
    "mapsto": "↦", "in": "∈", "notin": "∉", "infty": "∞", "sum": "Σ", "prod": "∏", "partial": "∂",
    "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨", "neg": "¬", "lnot": "¬", "circ": "∘", "prime": "′",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "lvert": "|", "rvert": "|", "vert": "|",
    "mid": "|", "langle": "⟨", "rangle": "⟩", "bmod": "mod", "mod": "mod", "quad": " ", "qquad": " ",
    "displaystyle": "", "textstyle": "", "limits": "", "nolimits": "",
}  # fmt: skip
#: Functions: a fraction right after one is put in parentheses (``cos\frac{πt}{T}`` → ``cos(πt/T)``).
_FUNCTIONS = frozenset("cos sin tan cot sec csc tanh sinh cosh arccos arcsin arctan exp log ln lg min max".split())
_FRACTIONS = frozenset(("frac", "tfrac", "dfrac", "cfrac"))
_TEXT = frozenset(
    "text textrm textit textbf textsf texttt mathrm mathit mathbf mathsf mathcal boldsymbol operatorname mbox".split()
)
_SIZES = frozenset("left right bigl bigr Bigl Bigr big Big bigg Bigg biggl biggr Biggl Biggr middle".split())
_CONTROL_SYMBOLS = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "{": "{", "}": "}", "#": "#", "%": "%",
                    "&": "&", "_": "_", "$": "$", "|": "‖", "\\": " "}  # fmt: skip
_NEGATED = {"<": "≮", ">": "≯", "=": "≠", "≤": "≰", "≥": "≱", "∈": "∉"}
_COMMAND = re.compile(r"[A-Za-z]+")
_SIMPLE = re.compile(r"[\w.·π∞′⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻₀₁₂₃₄₅₆₇₈₉ᵃ-ᶻₐ-ₜ]+")


def _closing(s: str, i: int) -> int:
    """Index of the ``}`` that closes the ``{`` at ``s[i]`` (the end of ``s`` if it is never closed)."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "\\":
            continue
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and (j == 0 or s[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j
    return len(s)


def _wrap(text: str) -> str:
    """``text`` as one factor: as it is when it is a number or a symbol, else in parentheses."""
    text = text.strip()
    return text if _SIMPLE.fullmatch(text) else f"({text})"


def _script(text: str, table: Mapping[str, str], mark: str) -> str:
    text = text.strip()
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return mark + _wrap(text)


def _atom(s: str, i: int) -> tuple[str, int]:
    """Plain text of the atom at ``s[i:]`` (a ``{group}``, a command with its arguments, or one character)
    and the index after it."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        j = _closing(s, i)
        return _plain_run(s[i + 1 : j]), j + 1
    if s[i] != "\\":
        return s[i], i + 1
    m = _COMMAND.match(s, i + 1)
    if m is None:
        symbol = s[i + 1 : i + 2]
        return _CONTROL_SYMBOLS.get(symbol, symbol), i + 2
    name, j = m.group(), m.end()
    if name in _FRACTIONS:
        top, j = _atom(s, j)
        bottom, j = _atom(s, j)
        if (top.strip(), bottom.strip()) == ("1", "2"):
            return "½", j
        text = f"{_wrap(top)}/{_wrap(bottom)}"
        k = j
        while k < len(s) and s[k] == " ":
            k += 1
        followed = k < len(s) and (s[k] == "(" or s[k].isalnum() or s.startswith("\\left", k))
        return (f"({text})" if followed and not _SIMPLE.fullmatch(text.replace("/", "")) else text), j
    if name == "sqrt":
        inner, j = _atom(s, j)
        return "√" + _wrap(inner), j
    if name in _TEXT:
        inner, j = _atom(s, j)
        return inner, j
    if name in _SIZES:  # \left( … \right): the delimiter itself ("." is none)
        delimiter, j = _atom(s, j)
        return ("" if delimiter == "." else delimiter), j
    if name in ("begin", "end"):
        _, j = _atom(s, j)
        return "", j
    if name == "not":
        negated, j = _atom(s, j)
        return _NEGATED.get(negated, "¬" + negated), j
    if name in _FUNCTIONS:
        k = j
        while k < len(s) and s[k] == " ":
            k += 1
        m = _COMMAND.match(s, k + 1) if s.startswith("\\", k) else None
        if m is not None and m.group() in _FRACTIONS:  # cos\frac{370\pi}{1000} → cos(370π/1000)
            argument, j = _atom(s, k)
            return f"{name}({argument})", j
        return name, j
    return _WORDS.get(name, name), j


def _plain_run(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c in "^_":
            argument, i = _atom(s, i + 1)
            out.append(_script(argument, *((_SUPERSCRIPT, "^") if c == "^" else (_SUBSCRIPT, "_"))))
        elif c in " ~":
            out.append(" ")
            i += 1
        elif c in "&{}" and c != "{":  # alignment marks and a stray closing brace
            i += 1
        else:
            text, i = _atom(s, i)
            out.append(text)
    return "".join(out)


def plain_math(latex: str) -> str:
    r"""One line of LaTeX as plain Unicode text, for places that draw no LaTeX (a Plotly chart without
    MathJax): ``\eta_{37} = 0 + \tfrac{1}{2}\left(0.1 - 0\right)\left(1 + \cos\frac{37\pi}{100}\right)`` →
    ``η₃₇ = 0 + ½(0.1 - 0)(1 + cos(37π/100))``. Covers what the explainers write (fractions, roots,
    sub- and superscripts, Greek letters, operators, delimiters, ``\text``); an unknown command is
    written as its name. Line breaks (``\\``) become spaces: pass one line."""
    return re.sub(r"\s+", " ", _plain_run(latex)).strip()


def _last_line(latex: str) -> str:
    body = re.sub(r"\\(?:begin|end)\{[a-z*]+\}", "", latex)
    lines = [line for line in re.split(r"\\\\", body) if line.strip()]
    return lines[-1] if lines else ""


def _html_text(text: str) -> str:
    """Plotly reads annotation text as a little HTML: keep ``<``, ``>`` and ``&`` literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def step_caption(curve: Curve, t: int, label: str | None = None) -> str:
    """Step ``t`` of ``curve`` in numbers as plain text for the chart (Plotly annotation text, lines
    joined by ``<br>``): the step and the library's lr, then the last line of :func:`explain`'s
    substitution with its evaluated value, e.g. ``step 37 · lr = 0.0976318`` /
    ``η₃₇ = 0 + ½(0.1 - 0)(1 + cos(37π/1000)) = 0.09663``. ``label`` names the curve when a chart has
    several. A step past the curve's end (a shorter curve on a chart of several) says so."""
    head = f"{label} · " if label else ""
    if isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= len(curve.frame) > 0:
        return _html_text(f"{head}step {t}: past the last step of this curve ({len(curve.frame) - 1})")
    ex = explain(curve, t)
    lr = f"lr = {ex.lr:.6g}" if math.isfinite(ex.lr) else "no lr (the library stopped)"
    return _html_text(f"{head}step {t} · {lr}") + "<br>" + _html_text(plain_math(_last_line(ex.latex)))


@dataclass(frozen=True)
class MarkerFrame:
    """One position of the animated marker: the step, its points ``(x, lr, colour)`` (one per curve,
    as for :func:`move_marker`), and the caption shown with it (:func:`step_caption`)."""

    step: int
    points: tuple[tuple[float, float, str], ...]
    caption: str


#: The caption's style, kept once in the figure's template: each frame's annotation names it and carries
#: only its text (``templateitemname``), ≈ 250 bytes less per frame.
_CAPTION_STYLE = {
    "name": CAPTION,
    "xref": "paper",
    "yref": "paper",
    "x": 0,
    "y": 0,
    "xanchor": "left",
    "yanchor": "top",
    "xshift": 150,  # right of the Play / Pause buttons
    "yshift": -58,  # under the x axis and its title
    "align": "left",
    "showarrow": False,
    "font": {"size": 13},
}


def _caption_annotation(text: str) -> dict[str, Any]:
    return {"templateitemname": CAPTION, "text": text}


def _kept(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    return [(x, y, c) for x, y, c in points if math.isfinite(x) and math.isfinite(y)]


def animated(fig: go.Figure, frames: Sequence[MarkerFrame], *, start: int, frame_ms: int) -> dict[str, Any]:
    """``fig`` (with :func:`add_marker`'s trace) as plain figure data whose marker Plotly.js animates in the
    browser: the marker and the caption at step ``start``, one Plotly frame per item of ``frames`` (sorted
    by step; ``start`` must be one of them), Plotly's own Play / Pause buttons and a scrubber under the
    chart. Play runs from ``start`` (resumes where Pause left it; from ``start`` again at the end), one
    frame every ``frame_ms`` ms, with no transition and a redraw per frame (annotations are drawn only on
    a redraw). Returns a dict (``to_dict()`` form): plotly.py would validate every frame again (≈ 0.25 ms
    each); ``fig`` itself gets the marker at ``start``.

    A frame replaces the layout's whole ``annotations`` list (Plotly merges frames without merging
    arrays), so every frame repeats the figure's own annotations before the caption."""
    if not frames:
        raise invalid("frames", "[]", "must hold at least the frame of the chosen step")
    steps = [f.step for f in frames]
    if steps != sorted(set(steps)):
        raise invalid("frames", steps[:5], "must be sorted by step, one frame per step")
    if start not in steps:
        raise invalid("start", start, "must be the step of one of the frames")
    first = steps.index(start)
    move_marker(fig, frames[first].points)
    index = next(i for i, trace in enumerate(fig.data) if trace.name == MARKER)
    spec = fig.to_dict()
    layout = spec.setdefault("layout", {})
    template = layout.setdefault("template", {})
    template_layout = template.setdefault("layout", {})
    template_layout["annotations"] = [*template_layout.get("annotations", []), _CAPTION_STYLE]
    own = list(layout.get("annotations", []))
    layout["annotations"] = [*own, _caption_annotation(frames[first].caption)]
    kept = [_kept(f.points) for f in frames]
    recolour = len({tuple(c for _, _, c in k) for k in kept}) > 1  # else the marker keeps the colours it has
    spec["frames"] = []
    for f, points in zip(frames, kept, strict=True):
        data: dict[str, Any] = {"x": [x for x, _, _ in points], "y": [y for _, y, _ in points]}
        if recolour:
            data["marker"] = {"color": [c for _, _, c in points]}
        spec["frames"].append(
            {
                "name": str(f.step),
                "traces": [index],
                "data": [data],
                "layout": {"annotations": [*own, _caption_annotation(f.caption)]},
            }
        )
    immediately = {"mode": "immediate", "transition": {"duration": 0}}
    play = {**immediately, "frame": {"duration": int(frame_ms), "redraw": True}, "fromcurrent": True}
    pause = {**immediately, "frame": {"duration": 0, "redraw": False}}
    layout["updatemenus"] = [
        {
            "type": "buttons",
            "direction": "left",
            "showactive": False,
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 58, "r": 10},
            "buttons": [
                {"label": "▶ Play", "method": "animate", "args": [[str(s) for s in steps[first:]], play]},
                {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
            ],
        }
    ]
    layout["sliders"] = [
        {
            "active": first,
            "x": 0,
            "y": 0,
            "xanchor": "left",
            "yanchor": "top",
            "len": 1,
            "pad": {"t": 100, "b": 0},
            "currentvalue": {"visible": False},
            "steps": [{"label": str(s), "method": "animate", "args": [[str(s)], immediately]} for s in steps],
        }
    ]
    layout["height"] = int(layout.get("height") or 450) + CONTROLS_HEIGHT
    return spec


__all__ = [
    "CAPTION",
    "EXPLAINERS",
    "MARKER",
    "MAX_FRAMES",
    "Explanation",
    "MarkerFrame",
    "add_marker",
    "animated",
    "explain",
    "frame_grid",
    "move_marker",
    "num",
    "plain_math",
    "step_caption",
]
