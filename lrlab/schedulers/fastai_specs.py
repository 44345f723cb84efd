"""Registry entries for fastai 2.8's schedules (``fastai.callback.schedule``): how a ``Learner`` fits with them.

``fastai:fit_one_cycle``, ``fastai:fit_flat_cos``, ``fastai:fit_sgdr`` and ``fastai:fine_tune`` are the
``Learner`` methods; ``fastai:combine_scheds`` is ``learn.fit(n_epoch, cbs=ParamScheduler({'lr':
combine_scheds(pcts, scheds)}))`` with fastai's annealers (SchedLin, SchedCos, SchedNo, SchedExp,
SchedPoly), which also covers an annealer alone (one phase of pct 1).

Row ``t`` is the lr fastai's ``ParamScheduler`` sets before training batch ``t``: the real method is
called on a real (tiny) Learner, and its schedule functions are evaluated at the ``pct_train`` the
training loop would pass (:mod:`lrlab.schedulers._fastai_drive`); tests/test_lib_fastai.py proves that
equal to what ``learn.recorder.lrs`` records in a real fit. How runs map onto fastai's epochs:

- ``n_iter`` (batches per epoch) is the run's ``steps_per_epoch``;
- fit_one_cycle, fit_flat_cos and combine_scheds fit ``n_epoch = ⌈steps / steps_per_epoch⌉`` epochs
  (fastai trains whole epochs): where steps is not a multiple, the run stops inside the last epoch,
  before the schedule's end, and a note says so;
- fit_sgdr's length is its own: ``n_epoch = cycle_len·(cycle_mult^n_cycles − 1)/(cycle_mult − 1)``;
  a shorter run shows its first steps, a longer one ends where the fit ends (NaN after, said);
- fine_tune fits ``freeze_epochs`` epochs, then ``epochs = ⌈steps / steps_per_epoch⌉ − freeze_epochs``.

Param groups: lrlab's group 0 is fastai's *last* group (the head: what ``recorder.lrs`` and
``recorder.hps`` record), group 1 the one before it, and so on. fastai is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lrlab.explaining import Part, Step, num
from lrlab.schedulers import _fastai_math as M
from lrlab.specs import (
    MAX_CHILDREN,
    MAX_LR,
    MAX_STEPS,
    Driven,
    FrozenMap,
    LrlabError,
    ParamSpec,
    RunContext,
    ScheduleConfig,
    SchedulerSpec,
    invalid,
)

DOCS = "https://docs.fast.ai/callback.schedule.html#{}"
INSTALL = (
    "pip install fastcore fasttransform fastprogress fastdownload plum-dispatch matplotlib cloudpickle && "
    "pip install --no-deps fastai==2.8.12 (a plain `pip install fastai` pulls torchvision and spacy, which can "
    "replace a CPU torch with a CUDA build)"
)
P = Mapping[str, Any]
NOTE_FLOAT32 = (
    "fastai's combine_scheds finds the phase and the position u within it in float32 tensors; the closed form "
    "does the same float32 arithmetic, then the annealer in float64, and equals fastai to the bit. A float64 u "
    "would be off by float32 rounding: ~1e-7 of the lr mid-curve, and far more relative to an lr near 0 "
    "(the end of an SGDR cycle: 8e-15 against 0)."
)


# ---- parameters ---------------------------------------------------------------------------------------


def _lr(name: str, help: str) -> ParamSpec:
    return ParamSpec(name, "float", 0.01, help, low=0.0, high=MAX_LR, low_open=True, log=True, symbol="M")


def _pct(default: float, help: str) -> ParamSpec:
    return ParamSpec("pct_start", "float", default, help, low=0.0, high=1.0, symbol="p")


def _div(default: float, help: str) -> ParamSpec:
    return ParamSpec("div", "float", default, help, low=1.0, high=1e6, log=True, symbol="d")


DIV_FINAL = ParamSpec(
    "div_final", "float", 1e5, "The lr ends at its top / div_final.", low=1.0, high=1e9, log=True, symbol="f"
)
MOMS = (
    ParamSpec(
        "moms_start",
        "float",
        0.95,
        "moms[0]: momentum (SGD) or beta1 (Adam) at the start; fastai's moms=(start, middle, end).",
        low=0.0,
        high=1.0,
        high_open=True,
        symbol=r"\mu_0",
    ),
    ParamSpec(
        "moms_middle",
        "float",
        0.85,
        "moms[1]: momentum at the lr's peak.",
        low=0.0,
        high=1.0,
        high_open=True,
        symbol=r"\mu_1",
    ),
    ParamSpec(
        "moms_end", "float", 0.95, "moms[2]: momentum at the end.", low=0.0, high=1.0, high_open=True, symbol=r"\mu_2"
    ),
)
MOMS_LEGEND = ((r"\mu_0", "moms_start"), (r"\mu_1", "moms_middle"), (r"\mu_2", "moms_end"))
RUN_LEGEND = (
    ("N", "batches in the fit: n_epoch × steps_per_epoch"),
    ("x", "pct_train = t / N, the share of the fit done before batch t"),
)
COS_FORMULA = r"\operatorname{cos}(a, b, u) &= a + \tfrac{b - a}{2}\left(1 + \cos \pi (1 - u)\right)"


def _moms(p: P) -> tuple[float, float, float]:
    return (p["moms_start"], p["moms_middle"], p["moms_end"])


def _lr_arg(ctx: RunContext) -> float | list[float]:
    """The lr argument fastai gets: one value, or one per param group in fastai's order (body → head)."""
    return ctx.base_lr if len(ctx.group_lrs) == 1 else list(reversed(ctx.group_lrs))


def _epochs(ctx: RunContext) -> int:
    """n_epoch of a fit sized by the run: whole epochs covering it."""
    return M.run_epochs(ctx.steps, ctx.steps_per_epoch)


# ---- the fastai calls (driven here, written out by the export) -----------------------------------------

Call = tuple[str, tuple[Any, ...], dict[str, Any]]  # (Learner method, args, kwargs)


def _one_cycle_call(p: P, ctx: RunContext) -> Call:
    kwargs = {"lr_max": _lr_arg(ctx), "div": p["div"], "div_final": p["div_final"], "pct_start": p["pct_start"]}
    return "fit_one_cycle", (M.run_epochs(ctx.steps, ctx.steps_per_epoch),), {**kwargs, "moms": _moms(p)}


def _flat_cos_call(p: P, ctx: RunContext) -> Call:
    kwargs = {"lr": _lr_arg(ctx), "div_final": p["div_final"], "pct_start": p["pct_start"]}
    return "fit_flat_cos", (M.run_epochs(ctx.steps, ctx.steps_per_epoch),), kwargs


def _sgdr_call(p: P, ctx: RunContext) -> Call:
    return "fit_sgdr", (p["n_cycles"], p["cycle_len"]), {"lr_max": _lr_arg(ctx), "cycle_mult": p["cycle_mult"]}


def _fine_tune_epochs(p: P, ctx: RunContext) -> int:
    return max(0, M.run_epochs(ctx.steps, ctx.steps_per_epoch) - p["freeze_epochs"])


def _fine_tune_call(p: P, ctx: RunContext) -> Call:
    kwargs = {
        "base_lr": ctx.base_lr,
        "freeze_epochs": p["freeze_epochs"],
        "lr_mult": p["lr_mult"],
        "pct_start": p["pct_start"],
        "div": p["div"],
        "div_final": p["div_final"],
        "moms": _moms(p),
    }
    return "fine_tune", (_fine_tune_epochs(p, ctx),), kwargs


def _phases_of(p: P) -> list[dict[str, Any]]:
    return [c.to_dict() if isinstance(c, FrozenMap) else dict(c) for c in p["scheds"]]


def _annealer_args(phase: Mapping[str, Any]) -> tuple[float, ...]:
    args = (phase["start"], phase["end"])
    return (*args, phase["power"]) if phase["name"] == "SchedPoly" else args


def _combine_call(p: P, ctx: RunContext) -> Call:
    """``learn.fit(n_epoch, cbs=ParamScheduler({'lr': combine_scheds(pcts, scheds)}))``; the schedule is built
    by :func:`_combine_sched` at drive time (it needs fastai)."""
    return "fit", (M.run_epochs(ctx.steps, ctx.steps_per_epoch),), {"scheds": _phases_of(p)}


def _combine_sched(phases: list[dict[str, Any]]) -> Any:
    from fastai.callback import schedule as fs

    annealers = [getattr(fs, ph["name"])(*_annealer_args(ph)) for ph in phases]
    return fs.combine_scheds([ph["pct"] for ph in phases], annealers)


def _fastai_call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[Any], None]:
    """The call on a Learner: ``learn.<method>(*args, **kwargs)``, or combine_scheds' ``learn.fit(n_epoch,
    cbs=ParamScheduler({'lr': combine_scheds(...)}))``."""

    def call(learn: Any) -> None:
        if method == "fit":
            from fastai.callback.schedule import ParamScheduler

            learn.fit(*args, cbs=ParamScheduler({"lr": _combine_sched(kwargs["scheds"])}))
        else:
            getattr(learn, method)(*args, **kwargs)

    return call


def _driver(call_of: Callable[[P, RunContext], Call]) -> Callable[[P, RunContext, ScheduleConfig], Driven]:
    def drive(p: P, ctx: RunContext, config: ScheduleConfig) -> Driven:
        from lrlab.schedulers import _fastai_drive as D

        method, args, kwargs = call_of(p, ctx)
        D.load()
        opt = D.opt_func(config.optimizer, config.momentum, config.betas)
        try:
            fits = D.capture_fits(_fastai_call(method, args, kwargs), len(ctx.group_lrs), opt)
        except KeyError as exc:  # ParamScheduler.before_batch: opt.set_hyper('mom', …) on torch's Adagrad
            if config.optimizer != "adagrad":
                raise
            raise invalid(
                "optimizer",
                config.optimizer,
                f"fastai's {method} schedules {exc} (momentum or beta1), which torch's Adagrad does not have "
                f"(fastai raises KeyError: {exc} in ParamScheduler.before_batch); use 'sgd', 'adam' or 'adamw'",
            ) from None
        done = D.drive_fits(fits, ctx.steps, ctx.steps_per_epoch, len(ctx.group_lrs))
        notes, stopped_at, refusal = [], None, None
        what = f"learn.{method} trains {sum(f.n_epoch for f in fits)} epoch(s) × {ctx.steps_per_epoch} batch(es)"
        if done.fit_rows < ctx.steps:
            stopped_at = done.fit_rows
            refusal = f"the fit is over: {what} = {done.fit_rows} updates"
        elif done.fit_rows > ctx.steps:
            notes.append(
                f"{what} = {done.fit_rows} updates (fastai trains whole epochs): this run of {ctx.steps} steps stops "
                f"{done.fit_rows - ctx.steps} batch(es) before the fit's schedule ends."
            )
        return Driven(lrs=done.lrs, momentum=done.momentum, stopped_at=stopped_at, refusal=refusal, notes=tuple(notes))

    return drive


def _builder(call_of: Callable[[P, RunContext], Call]) -> Callable[[Any, P, RunContext], Any]:
    """``build``: the fits fastai's call makes, with the real schedule functions it hands to each (the torch
    optimizer lrlab passes is unused)."""

    def build(optimizer: Any, p: P, ctx: RunContext) -> Any:
        from lrlab.schedulers import _fastai_drive as D

        D.load()
        return D.capture_fits(_fastai_call(*call_of(p, ctx)), len(ctx.group_lrs))

    return build


def _export(call_of: Callable[[P, RunContext], Call], title: str) -> Callable[[ScheduleConfig, P, RunContext], str]:
    def export(config: ScheduleConfig, p: P, ctx: RunContext) -> str:
        from lrlab.schedulers._fastai_export import script

        return script(config, *call_of(p, ctx), title=title)

    return export


def _spec(name: str, call_of: Callable[[P, RunContext], Call], **fields: Any) -> SchedulerSpec:
    title = fields.pop("title")
    return SchedulerSpec(
        name=f"fastai:{name}",
        library="fastai",
        title=title,
        build=_builder(call_of),
        drive=_driver(call_of),
        export=_export(call_of, title),
        requires=("fastai",),
        install=INSTALL,
        intervals=("step",),
        groups=True,
        reference=DOCS.format(fields.pop("anchor")),
        **fields,
    )


# ---- explain mode -------------------------------------------------------------------------------------


def _explain_phase(
    s: Step,
    *,
    n_epoch: int,
    pcts: list[float],
    scheds: list[tuple],
    labels: list[tuple[str, str]],
    offset: int = 0,
) -> tuple[float, tuple[str, ...], int, float]:
    """(value, LaTeX lines, phase, u) of batch ``s.k − offset`` of a combine_scheds fit of ``n_epoch`` epochs."""
    k, spe = s.k - offset, s.ctx.steps_per_epoch
    rows = n_epoch * spe
    pos, i, u = M.position(k, n_epoch, spe, pcts)
    kind, start, end, *power = scheds[i]
    value = float(M.anneal(kind, start, end, np.array([u]), *power)[0])
    edge = float(np.float32(sum(np.float32(pcts[:i]).astype(np.float64))))
    a, b = labels[i]
    lines = [rf"x = \frac{{t}}{{N}} = \frac{{{k}}}{{{rows}}} = {num(pos)}"]
    if len(pcts) > 1:
        lines.append(rf"\text{{phase {i + 1}: }} u = \frac{{x - {num(edge)}}}{{{num(pcts[i])}}} = {num(u)}")
    else:
        lines.append(rf"u = x = {num(u)}")
    if kind == "SchedCos":
        body = M.cos_text(num(start), num(end), num(u))
        symbolic = rf"\operatorname{{cos}}\!\left({a},\, {b},\, u\right)"
    elif kind == "SchedLin":
        body = rf"{num(start)} + {num(u)}\,({num(end)} - {num(start)})"
        symbolic = rf"\operatorname{{lin}}\!\left({a},\, {b},\, u\right)"
    elif kind == "SchedExp":
        body = rf"{num(start)} \cdot \left(\tfrac{{{num(end)}}}{{{num(start)}}}\right)^{{{num(u)}}}"
        symbolic = rf"\operatorname{{exp}}\!\left({a},\, {b},\, u\right)"
    elif kind == "SchedPoly":
        body = rf"{num(start)} + ({num(end)} - {num(start)})\,{num(u)}^{{{num(power[0])}}}"
        symbolic = rf"\operatorname{{poly}}\!\left({a},\, {b},\, u\right)"
    else:
        body = num(start)
        symbolic = rf"\operatorname{{no}}\!\left({a}\right)"
    lines.append(rf"\eta_{{{s.k}}} = {symbolic} = {body} = {num(value)}")
    return value, tuple(lines), i, u


def _peak_row(k: int, n_epoch: int, spe: int, pct: float) -> bool:
    """Whether batch k is the first of the annealing phase (the previous batch was still warming up)."""
    return k > 0 and M.position(k - 1, n_epoch, spe, [pct, 1 - pct])[1] == 0


def _one_cycle_sentence(k: int, rows: int, i: int, peak: bool, top: str, low: str, end: str) -> tuple[str, str]:
    if k == 0 and i == 0:
        return f"Before the first batch, ParamScheduler set the lr to {low}: the cosine warm-up starts.", "start"
    if k == rows - 1:
        return f"The fit's last batch: the lr is almost down to {end}.", "end"
    if i == 0:
        return f"Warm-up: the lr climbs along a cosine from {low} to {top}.", "warmup"
    if peak or k == 0:
        return f"The warm-up is over: the annealing from {top} down to {end} begins.", "peak"
    return f"Annealing: the lr falls along a cosine from {top} to {end}.", "anneal"


def _explain_one_cycle(s: Step) -> Part:
    p, spe = s.params, s.ctx.steps_per_epoch
    n_epoch, top, pct = _epochs(s.ctx), s.lr0, p["pct_start"]
    value, lines, i, _ = _explain_phase(
        s,
        n_epoch=n_epoch,
        pcts=[pct, 1 - pct],
        scheds=[("SchedCos", top / p["div"], top), ("SchedCos", top, top / p["div_final"])],
        labels=[(r"\tfrac{M}{d}", "M"), ("M", r"\tfrac{M}{f}")],
    )
    sentence, event = _one_cycle_sentence(
        s.k,
        n_epoch * spe,
        i,
        _peak_row(s.k, n_epoch, spe, pct),
        f"lr_max = {top:.4g}",
        f"lr_max/div = {top / p['div']:.4g}",
        f"{top / p['div_final']:.4g}",
    )
    given = (("t", s.k), ("N", n_epoch * spe), ("M", top), ("d", p["div"]), ("f", p["div_final"]), ("p", pct))
    return Part(value, given, lines, sentence, event, notes=(NOTE_FLOAT32,))


def _explain_flat_cos(s: Step) -> Part:
    p, spe = s.params, s.ctx.steps_per_epoch
    n_epoch, top, pct = _epochs(s.ctx), s.lr0, p["pct_start"]
    value, lines, i, _ = _explain_phase(
        s,
        n_epoch=n_epoch,
        pcts=[pct, 1 - pct],
        scheds=[("SchedCos", top, top), ("SchedCos", top, top / p["div_final"])],
        labels=[("M", "M"), ("M", r"\tfrac{M}{f}")],
    )
    low = top / p["div_final"]
    if i == 0:
        sentence, event = f"Flat: the lr stays at lr = {top:.4g} for the first pct_start of the fit.", "flat"
    elif s.k == n_epoch * spe - 1:
        sentence, event = f"The fit's last batch: the lr is almost down to {low:.4g}.", "end"
    elif _peak_row(s.k, n_epoch, spe, pct):
        sentence, event = (
            f"The flat part is over: the cosine annealing to lr/div_final = {low:.4g} begins.",
            "anneal start",
        )
    else:
        sentence, event = f"Annealing: the lr falls along a cosine to lr/div_final = {low:.4g}.", "anneal"
    given = (("t", s.k), ("N", n_epoch * spe), ("M", top), ("f", p["div_final"]), ("p", pct))
    return Part(value, given, lines, sentence, event, notes=(NOTE_FLOAT32,))


def _sgdr_epochs(p: P) -> int:
    return M.sgdr_epochs(p["n_cycles"], p["cycle_len"], p["cycle_mult"])


def _explain_sgdr(s: Step) -> Part:
    p, spe = s.params, s.ctx.steps_per_epoch
    n_epoch, top, n = _sgdr_epochs(p), s.lr0, p["n_cycles"]
    pcts = M.sgdr_pcts(n, p["cycle_len"], p["cycle_mult"])
    value, lines, i, _ = _explain_phase(
        s, n_epoch=n_epoch, pcts=pcts, scheds=[("SchedCos", top, 0.0)] * n, labels=[("M", "0")] * n
    )
    epoch, batch = divmod(s.k, spe)
    starts = [M.sgdr_epochs(j, p["cycle_len"], p["cycle_mult"]) for j in range(n)]  # epochs before cycle j
    if batch == 0 and epoch in starts[1:] and starts.index(epoch) == i + 1:
        sentence = (
            f"Epoch {epoch} starts cycle {i + 2}, but fastai's float32 phase arithmetic places its first batch at the "
            f"end of cycle {i + 1} (pct_train = {epoch}/{n_epoch} rounds below the cycle's float32 edge): the lr is "
            "~0 and the restart comes one batch late."
        )
        event = "late restart"
    elif s.k == 0:
        sentence, event = f"Before the first batch the lr is lr_max = {top:.4g}: cycle 1 of {n} begins.", "start"
    elif batch == 0 and epoch == starts[i]:
        sentence, event = f"Restart: cycle {i + 1} of {n} begins at lr_max = {top:.4g}.", "restart"
    else:
        length = p["cycle_len"] * p["cycle_mult"] ** i
        sentence, event = f"Cycle {i + 1} of {n} ({length} epochs): the lr falls along a cosine toward 0.", "anneal"
    given = (("t", s.k), ("N", n_epoch * spe), ("M", top), ("n", n), ("c", p["cycle_len"]), ("m", p["cycle_mult"]))
    return Part(value, given, lines, sentence, event, notes=(NOTE_FLOAT32,))


def _explain_fine_tune(s: Step) -> Part:
    p, ctx = s.params, s.ctx
    spe, n = ctx.steps_per_epoch, len(ctx.group_lrs)
    first_epochs, second_epochs = p["freeze_epochs"], _fine_tune_epochs(p, ctx)
    first = first_epochs * spe
    lr1, lr2 = M.fine_tune_stages(ctx.base_lr, p["lr_mult"], n)
    j = M.fastai_group(ctx.group, n)
    f, pct = p["div_final"], p["pct_start"]
    if s.k < first:
        top = lr1[j]
        value, lines, i, _ = _explain_phase(
            s,
            n_epoch=first_epochs,
            pcts=[0.99, 1 - 0.99],
            scheds=[("SchedCos", top / 25.0, top), ("SchedCos", top, top / f)],
            labels=[(r"\tfrac{M_1}{25}", "M_1"), ("M_1", r"\tfrac{M_1}{f}")],
        )
        lines = (rf"\text{{stage 1 (frozen): }} N = {first},\ M_1 = {num(top)}", *lines)
        peak = _peak_row(s.k, first_epochs, spe, 0.99)
        sentence, event = _one_cycle_sentence(s.k, first, i, peak, f"{top:.4g}", f"{top / 25:.4g}", f"{top / f:.4g}")
        sentence = "Stage 1 (body frozen; fit_one_cycle with pct_start=0.99): " + sentence
    else:
        top = lr2[j]
        value, lines, i, _ = _explain_phase(
            s,
            n_epoch=second_epochs,
            pcts=[pct, 1 - pct],
            scheds=[("SchedCos", top / p["div"], top), ("SchedCos", top, top / f)],
            labels=[(r"\tfrac{M_2}{d}", "M_2"), ("M_2", r"\tfrac{M_2}{f}")],
            offset=first,
        )
        lines = (rf"\text{{stage 2 (unfrozen): }} t - {first},\ N = {second_epochs * spe},\ M_2 = {num(top)}", *lines)
        if s.k == first:
            sentence = f"Stage 2 begins (unfrozen; base_lr halved): the lr restarts at {top / p['div']:.4g}."
            event = "stage 2"
        else:
            sentence, event = _one_cycle_sentence(
                s.k - first,
                second_epochs * spe,
                i,
                _peak_row(s.k - first, second_epochs, spe, pct),
                f"{top:.4g}",
                f"{top / p['div']:.4g}",
                f"{top / f:.4g}",
            )
            sentence = "Stage 2 (unfrozen, discriminative lrs): " + sentence
    given = (("t", s.k), ("b", ctx.base_lr), (r"\lambda", p["lr_mult"]), ("F", first_epochs), ("f", f))
    return Part(value, given, lines, sentence, event, notes=(NOTE_FLOAT32,))


def _explain_combine(s: Step) -> Part:
    phases = _phases_of(s.params)
    n_epoch = _epochs(s.ctx)
    value, lines, i, _ = _explain_phase(
        s,
        n_epoch=n_epoch,
        pcts=[ph["pct"] for ph in phases],
        scheds=[(ph["name"], *_annealer_args(ph)) for ph in phases],
        labels=[(num(ph["start"]), num(ph["end"])) for ph in phases],
    )
    ph = phases[i]
    sentence = (
        f"Phase {i + 1} of {len(phases)}: {ph['name']}({ph['start']:g}, {ph['end']:g}) over pct = {ph['pct']:g} "
        "of the fit."
    )
    event = "start" if s.k == 0 else f"phase {i + 1}"
    return Part(
        value, (("t", s.k), ("N", n_epoch * s.ctx.steps_per_epoch)), lines, sentence, event, notes=(NOTE_FLOAT32,)
    )


# ---- fit_one_cycle ---------------------------------------------------------------------------------------


FIT_ONE_CYCLE = _spec(
    "fit_one_cycle",
    _one_cycle_call,
    title="fit_one_cycle — fastai's 1cycle: cosine warm-up to lr_max, cosine annealing to lr_max/div_final",
    anchor="learner.fit_one_cycle",
    summary="learn.fit_one_cycle(n_epoch, lr_max): the lr rises along a cosine from lr_max/div to lr_max over "
    "pct_start of the fit, then falls along a cosine to lr_max/div_final; momentum moves the other way (moms).",
    params=(
        _lr("lr_max", "The peak lr: the run's base lr (one per param group)."),
        _div(25.0, "The lr starts at lr_max / div."),
        DIV_FINAL,
        _pct(0.25, "Share of the fit spent warming up."),
        *MOMS,
    ),
    base_lr_param="lr_max",
    closed_form=lambda t, lr0, p, ctx: M.combined_cos(
        t, _epochs(ctx), ctx.steps_per_epoch, p["pct_start"], lr0 / p["div"], lr0, lr0 / p["div_final"]
    ),
    closed_momentum=lambda t, lr0, p, ctx: M.combined_cos(
        t, _epochs(ctx), ctx.steps_per_epoch, p["pct_start"], *_moms(p)
    ),
    cycles_momentum=lambda p: True,
    formula=(
        r"\begin{aligned} x &= t / N \\ \eta_t &= \begin{cases}"
        r" \operatorname{cos}\!\left(\tfrac{M}{d},\, M,\, \tfrac{x}{p}\right), & x < p \\"
        r" \operatorname{cos}\!\left(M,\, \tfrac{M}{f},\, \tfrac{x - p}{1 - p}\right), & x \ge p \end{cases} \\"
        r" \mu_t &= \text{the same with } (\mu_0, \mu_1, \mu_2) \text{ for } \left(\tfrac{M}{d}, M, \tfrac{M}{f}\right) \\ "
        + COS_FORMULA
        + r" \end{aligned}"
    ),
    legend=(
        ("M", "lr_max"),
        ("d", "div"),
        ("f", "div_final"),
        ("p", "pct_start"),
        *MOMS_LEGEND,
        *RUN_LEGEND,
    ),
    notes=(
        "fastai's phases end at pct_start·N and N (torch's OneCycleLR at pct_start·N − 1 and N − 1): with 20 steps "
        "fastai peaks at row 5, torch at row 4; 19 of the 20 rows differ.",
        "n_epoch = ⌈steps / steps_per_epoch⌉: fastai trains whole epochs, so a run that is not a whole number of "
        "epochs stops before the cycle ends.",
        "Both annealing phases are cosines (torch's default too); fastai's defaults differ from torch's: div 25, "
        "div_final 1e5 (torch 1e4), pct_start 0.25 (torch 0.3), moms (0.95, 0.85, 0.95).",
        "moms is scheduled as 'mom': SGD's momentum, Adam's beta1 (fastai's SGD created with mom=0 has the value "
        "set but ignores it). learn.recorder.hps['mom'] logs it per batch; recorder.moms does not.",
        "With several param groups lr_max is a list (fastai's groups run body → head); recorder.lrs logs the last "
        "group, which is lrlab's group 0.",
        NOTE_FLOAT32,
    ),
    explainer=_explain_one_cycle,
)

FIT_FLAT_COS = _spec(
    "fit_flat_cos",
    _flat_cos_call,
    title="fit_flat_cos — fastai's flat lr, then a cosine annealing",
    anchor="learner.fit_flat_cos",
    summary="learn.fit_flat_cos(n_epoch, lr): the lr stays at lr for pct_start of the fit, then falls along a cosine "
    "to lr/div_final (the schedule of the Ranger optimizer's recipe).",
    params=(
        _lr("lr", "The flat lr: the run's base lr (one per param group)."),
        DIV_FINAL,
        _pct(0.75, "Share of the fit at the flat lr."),
    ),
    base_lr_param="lr",
    closed_form=lambda t, lr0, p, ctx: M.combined_cos(
        t, _epochs(ctx), ctx.steps_per_epoch, p["pct_start"], lr0, lr0, lr0 / p["div_final"]
    ),
    formula=(
        r"\begin{aligned} x &= t / N \\ \eta_t &= \begin{cases} M, & x < p \\"
        r" \operatorname{cos}\!\left(M,\, \tfrac{M}{f},\, \tfrac{x - p}{1 - p}\right), & x \ge p \end{cases} \\ "
        + COS_FORMULA
        + r" \end{aligned}"
    ),
    legend=(("M", "lr"), ("f", "div_final"), ("p", "pct_start"), *RUN_LEGEND),
    notes=(
        "fastai's argument is lr, not lr_max; it schedules no momentum.",
        "fit_flat_cos takes start_epoch, and fastai's docs say passing start_epoch resumes \"with properly scheduled "
        'lr"; the code passes start_epoch=0 to fit, so fit_flat_cos(4, start_epoch=2) runs all 4 epochs from the '
        "start of the schedule (fit_one_cycle runs the last 2); lrlab follows the code (the schedule from epoch 0).",
        "n_epoch = ⌈steps / steps_per_epoch⌉ (whole epochs).",
        NOTE_FLOAT32,
    ),
    explainer=_explain_flat_cos,
)


def _sgdr_rule(values: P, ctx: RunContext) -> None:
    if values["cycle_mult"] == 1:
        raise invalid(
            "cycle_mult",
            1,
            "must be at least 2: fastai's fit_sgdr computes n_epoch = cycle_len·(cycle_mult^n_cycles − 1) // "
            "(cycle_mult − 1) and raises ZeroDivisionError for 1",
        )


FIT_SGDR = _spec(
    "fit_sgdr",
    _sgdr_call,
    title="fit_sgdr — fastai's SGDR: cosine cycles from lr_max to 0, each cycle_mult times longer",
    anchor="learner.fit_sgdr",
    summary="learn.fit_sgdr(n_cycles, cycle_len, lr_max, cycle_mult=2): n_cycles cosines from lr_max to 0, the first "
    "cycle_len epochs long, each next one cycle_mult times longer (Loshchilov & Hutter 2017). Its fit length is "
    "its own: cycle_len·(cycle_mult^n_cycles − 1)/(cycle_mult − 1) epochs.",
    params=(
        _lr("lr_max", "The lr at every restart: the run's base lr (one per param group)."),
        ParamSpec("n_cycles", "int", 3, "How many cosine cycles.", low=1, high=12, symbol="n"),
        ParamSpec(
            "cycle_len",
            "int",
            lambda n: -(-n // 7),
            "Epochs of the first cycle (the default: 3 cycles, 1 + 2 + 4 = 7 × cycle_len epochs, cover the run at "
            "1 batch per epoch).",
            low=1,
            high=MAX_STEPS,
            symbol="c",
        ),
        ParamSpec("cycle_mult", "int", 2, "Each cycle is cycle_mult times longer.", low=1, high=10, symbol="m"),
    ),
    base_lr_param="lr_max",
    rules=(_sgdr_rule,),
    closed_form=lambda t, lr0, p, ctx: M.combined(
        t,
        _sgdr_epochs(p),
        ctx.steps_per_epoch,
        M.sgdr_pcts(p["n_cycles"], p["cycle_len"], p["cycle_mult"]),
        [("SchedCos", lr0, 0.0)] * p["n_cycles"],
    ),
    formula=(
        r"\begin{aligned} E &= c\,\frac{m^{n} - 1}{m - 1},\quad N = E K,\quad x = t / N,"
        r"\quad P_i = \frac{c\,(m^{i} - 1)}{(m - 1)\,E} \\"
        r" \eta_t &= \tfrac{M}{2}\left(1 + \cos \pi\, \frac{x - P_i}{P_{i+1} - P_i}\right),"
        r"\quad P_i \le x < P_{i+1} \end{aligned}"
    ),
    legend=(
        ("M", "lr_max"),
        ("n", "n_cycles"),
        ("c", "cycle_len"),
        ("m", "cycle_mult"),
        ("E", "n_epoch of the fit"),
        ("K", "steps_per_epoch (batches per epoch)"),
        *RUN_LEGEND,
    ),
    notes=(
        "The fit's length is fit_sgdr's own (E epochs × steps_per_epoch batches), not the run's: a shorter run shows "
        "its first steps, a longer one ends where the fit ends.",
        "fastai's float32 phase arithmetic can place the first batch of a cycle at the end of the previous one: "
        "fit_sgdr(3, 1) (cycle_mult 2, 7 epochs) starts its third cycle one batch late, at lr ≈ 0 (3/7 in float32 "
        "is below the float32 sum 1/7 + 2/7). fastai's own test skips that batch ('The start of a cycle can be "
        "mixed with the 0 of the previous cycle with rounding errors').",
        "cycle_mult = 1 divides by zero in fastai (ZeroDivisionError): lrlab refuses it by name.",
        'fastai\'s docstring says "Fit self.model for n_cycles of cycle_len"; the code makes cycle i '
        "cycle_len · cycle_mult^i epochs long (fit_sgdr(3, 1) trains 1 + 2 + 4 = 7 epochs, as its docs' prose says); "
        "lrlab follows the code.",
        NOTE_FLOAT32,
    ),
    explainer=_explain_sgdr,
)

FINE_TUNE = _spec(
    "fine_tune",
    _fine_tune_call,
    title="fine_tune — fastai's transfer learning: a frozen one-cycle, then an unfrozen one with discriminative lrs",
    anchor="learner.fine_tune",
    summary="learn.fine_tune(epochs, base_lr): fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99) with the "
    "body frozen, then base_lr /= 2 and fit_one_cycle(epochs, slice(base_lr/lr_mult, base_lr), pct_start, div) on "
    "the whole model; the groups' lrs are spread from body to head.",
    params=(
        ParamSpec(
            "base_lr",
            "float",
            2e-3,
            "The head's lr: the run's base lr.",
            low=0.0,
            high=MAX_LR,
            low_open=True,
            log=True,
            symbol="b",
        ),
        ParamSpec("freeze_epochs", "int", 1, "Epochs of stage 1 (body frozen).", low=0, high=MAX_STEPS, symbol="F"),
        ParamSpec(
            "lr_mult",
            "float",
            100.0,
            "Stage 2: the first group's lr is the head's / lr_mult.",
            low=1.0,
            high=1e6,
            log=True,
            symbol=r"\lambda",
        ),
        _pct(0.3, "Stage 2's share of warm-up (stage 1 uses 0.99)."),
        _div(5.0, "Stage 2 starts at its lr / div (stage 1 uses fit_one_cycle's 25)."),
        DIV_FINAL,
        *MOMS,
    ),
    base_lr_param="base_lr",
    closed_form=lambda t, lr0, p, ctx: M.fine_tune_curve(
        t,
        n_iter=ctx.steps_per_epoch,
        freeze_epochs=p["freeze_epochs"],
        epochs=_fine_tune_epochs(p, ctx),
        lr_max=tuple(
            stage[M.fastai_group(ctx.group, len(ctx.group_lrs))]
            for stage in M.fine_tune_stages(ctx.base_lr, p["lr_mult"], len(ctx.group_lrs))
        ),
        div=p["div"],
        div_final=p["div_final"],
        pct_start=p["pct_start"],
    ),
    closed_momentum=lambda t, lr0, p, ctx: M.fine_tune_curve(
        t,
        n_iter=ctx.steps_per_epoch,
        freeze_epochs=p["freeze_epochs"],
        epochs=_fine_tune_epochs(p, ctx),
        lr_max=(0.0, 0.0),
        div=p["div"],
        div_final=p["div_final"],
        pct_start=p["pct_start"],
        values=_moms(p),
    ),
    cycles_momentum=lambda p: True,
    formula=(
        r"\begin{aligned} N_1 &= F K,\quad N_2 = (E - F) K,\quad E = \lceil \text{steps} / K \rceil \\"
        r" \eta_t &= \begin{cases} \operatorname{onecycle}\!\left(t;\ N_1,\ M_1 = b_g,\ d = 25,\ p = 0.99\right), "
        r"& t < N_1 \\ \operatorname{onecycle}\!\left(t - N_1;\ N_2,\ M_2 = \tfrac{b}{2\lambda}\,\lambda^{g/(G-1)},"
        r"\ d,\ p\right), & t \ge N_1 \end{cases} \\"
        r" b_g &= \begin{cases} b, & \text{head} \\ b / 10, & \text{other groups} \end{cases}"
        r"\quad \text{(stage 1: slice(b)); stage 2: slice}\left(\tfrac{b}{2\lambda}, \tfrac{b}{2}\right) \end{aligned}"
    ),
    legend=(
        ("b", "base_lr"),
        ("F", "freeze_epochs"),
        (r"\lambda", "lr_mult"),
        ("d", "div"),
        ("p", "pct_start"),
        ("f", "div_final"),
        *MOMS_LEGEND,
        ("K", "steps_per_epoch (batches per epoch)"),
        ("g, G", "fastai's group index (0 = body) and the number of groups"),
    ),
    notes=(
        "fine_tune halves base_lr before stage 2: stage 2 peaks at base_lr/2, not base_lr.",
        "Stage 1 is fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99) with fit_one_cycle's div = 25; the "
        "div parameter is stage 2's. div_final and moms (fine_tune's **kwargs) apply to both.",
        "slice(base_lr) gives every group but the head base_lr/10; slice(a, b) spreads the groups' lrs evenly on a "
        "log scale (even_mults). The run's extra groups' own lrs are not used: fastai's slices set them.",
        "epochs = ⌈steps / steps_per_epoch⌉ − freeze_epochs: stage 2 fills the rest of the run.",
        NOTE_FLOAT32,
    ),
    explainer=_explain_fine_tune,
)


# ---- combine_scheds ------------------------------------------------------------------------------------

PHASE_KEYS = {"name", "pct", "start", "end", "power"}


def _phase_number(where: str, key: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """A phase's number in [low, high] ((low, high] with ``low_open``); ``high`` = MAX_LR: an lr, any finite one."""
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )
    if not ok or value < low or value > high or (low_open and value == low):
        if high == MAX_LR:
            allowed = f"must be a finite number {'>' if low_open else '≥'} {low:g}"
        else:
            allowed = f"must be a number in {f'({low:g}, {high:g}]' if low_open else f'[{low:g}, {high:g}]'}"
        raise invalid(f"{where}.{key}", value, allowed)
    return float(value)


def _combine_rule(values: dict[str, Any], ctx: RunContext) -> None:
    phases = []
    for i, child in enumerate(values["scheds"]):
        where = f"scheds[{i}]"
        data = child.to_dict() if isinstance(child, FrozenMap) else dict(child)
        name = data.get("name")
        if name not in M.ANNEALERS:
            raise invalid(f"{where}.name", name, "must be one of " + ", ".join(repr(a) for a in M.ANNEALERS))
        allowed = PHASE_KEYS if name == "SchedPoly" else PHASE_KEYS - {"power"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise LrlabError(
                f"Unknown key {unknown[0]!r} in {where} ({name}): allowed are {', '.join(sorted(allowed))}",
                field=f"{where}.{unknown[0]}",
            )
        positive = name == "SchedExp"  # start · (end/start)^x: both must be > 0
        phase = {
            "name": name,
            "pct": _phase_number(where, "pct", data.get("pct"), 0.0, 1.0),
            "start": _phase_number(where, "start", data.get("start"), 0.0, MAX_LR, low_open=positive),
            "end": _phase_number(
                where,
                "end",
                data.get("end", data.get("start") if name == "SchedNo" else None),
                0.0,
                MAX_LR,
                low_open=positive,
            ),
        }
        if name == "SchedPoly":
            phase["power"] = _phase_number(where, "power", data.get("power"), 0.0, 10.0, low_open=True)
        phases.append(phase)
    total = sum(ph["pct"] for ph in phases)
    if total != 1.0:
        raise invalid(
            "scheds",
            [ph["pct"] for ph in phases],
            f"the phases' pct must add up to exactly 1 (they add up to {total!r}; fastai asserts sum(pcts) == 1.)",
        )
    values["scheds"] = tuple(FrozenMap(sorted(ph.items())) for ph in phases)


def _combine_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    phases = _phases_of(p)
    return M.combined(
        t,
        _epochs(ctx),
        ctx.steps_per_epoch,
        [ph["pct"] for ph in phases],
        [(ph["name"], *_annealer_args(ph)) for ph in phases],
    )


COMBINE_SCHEDS = _spec(
    "combine_scheds",
    _combine_call,
    title="combine_scheds — fastai's annealers (SchedLin, SchedCos, SchedExp, SchedPoly, SchedNo) in phases",
    anchor="combine_scheds",
    summary="learn.fit(n_epoch, cbs=ParamScheduler({'lr': combine_scheds(pcts, scheds)})): each phase takes its "
    "pct of the fit and runs one annealer from start to end. One phase of pct 1 is an annealer alone.",
    params=(
        ParamSpec(
            "scheds",
            "children",
            (
                {"name": "SchedLin", "pct": 0.25, "start": 0.001, "end": 0.01},
                {"name": "SchedCos", "pct": 0.75, "start": 0.01, "end": 1e-5},
            ),
            'The phases, each {"name": SchedLin | SchedCos | SchedExp | SchedPoly | SchedNo, "pct": share of the fit, '
            '"start": lr, "end": lr[, "power": SchedPoly\'s]}; the pcts (fastai\'s pcts list) must add up to 1. '
            f"At most {MAX_CHILDREN} phases.",
        ),
    ),
    rules=(_combine_rule,),
    closed_form=_combine_closed,
    formula=(
        r"\begin{aligned} x &= t / N,\quad P_i = \textstyle\sum_{j<i} \text{pct}_j,"
        r"\quad u = \frac{x - P_i}{\text{pct}_i}\ \ (P_i \le x < P_{i+1}) \\"
        r" \eta_t &= S_i(a_i, b_i, u):\quad \begin{cases} \text{lin}: & a + u\,(b - a) \\"
        r" \text{cos}: & a + \tfrac{b - a}{2}\left(1 + \cos \pi (1 - u)\right) \\"
        r" \text{exp}: & a\,(b / a)^{u} \\ \text{poly}: & a + (b - a)\,u^{k} \\ \text{no}: & a \end{cases}"
        r" \end{aligned}"
    ),
    legend=(
        ("S_i", "phase i's annealer (SchedLin, SchedCos, SchedExp, SchedPoly, SchedNo)"),
        ("a_i, b_i", "its start and end"),
        (r"\text{pct}_i", "its share of the fit"),
        ("k", "SchedPoly's power"),
        *RUN_LEGEND,
    ),
    notes=(
        "The annealers' start and end are the lr itself: the run's base lr and the groups' own lrs are not used, "
        "and every param group gets the same value (scalars in fastai set every group).",
        "fastai's pcts list is written as each phase's pct; fastai asserts that they add up to exactly 1.",
        "fastai's docs say ParamScheduler takes, per hyper-parameter, a scheduler or a list of schedulers (one per "
        "param group); the code calls the value as a function, so a list raises TypeError ('list' object is not "
        "callable) in before_batch: per-group values go into the annealers' start and end as arrays; lrlab follows "
        "the code (one schedule, the same value for every group).",
        "An annealer alone is combine_scheds with one phase (pct 1). ParamScheduler({'lr': SchedCos(a, b)}) without "
        "combine_scheds evaluates it at the float64 pct_train: the same curve within float32 rounding.",
        "n_epoch = ⌈steps / steps_per_epoch⌉ (whole epochs).",
        NOTE_FLOAT32,
    ),
    explainer=_explain_combine,
)

SPECS: tuple[SchedulerSpec, ...] = (FIT_ONE_CYCLE, FIT_FLAT_COS, FIT_SGDR, FINE_TUNE, COMBINE_SCHEDS)
