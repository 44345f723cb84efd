"""Registry entries for the schedules of ``transformers.optimization`` (transformers 5.23).

Every ``get_*`` function the installed version exports as a schedule is here, except
``get_adafactor_schedule``: it is not a schedule but a read-out of Adafactor's internal relative
step size, which needs the Adafactor optimizer and real gradients.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrlab import formulas as F
from lrlab.schedulers.torch_specs import PLATEAU_FORMULA, PLATEAU_LEGEND, PLATEAU_NOTES, PLATEAU_PARAMS
from lrlab.specs import MAX_LR, MAX_STEPS, LrlabError, ParamSpec, RunContext, SchedulerSpec, invalid

DOCS = "https://huggingface.co/docs/transformers/main_classes/optimizer_schedules#transformers.{}"
P = Mapping[str, Any]

WARMUP = ParamSpec(
    "num_warmup_steps",
    "int",
    lambda n: n // 10,
    "Steps of linear warm-up from 0.",
    low=0,
    high=MAX_STEPS,
    symbol="W",
)
TRAINING = ParamSpec(
    "num_training_steps",
    "int",
    lambda n: n,
    "Total training steps the schedule is sized for.",
    low=1,
    high=MAX_STEPS,
    symbol="N",
)
CYCLES = ParamSpec(
    "num_cycles",
    "float",
    0.5,
    "Number of cosine waves over the decay (0.5 = half a cosine down to 0).",
    low=0.0,
    high=1000.0,
    symbol="c",
)
WARMUP_FORMULA = r"\tfrac{t}{\max(1, W)}, & t < W"
WARMUP_NOTE = "Warm-up starts at lr 0 (t = 0): the first optimizer update uses lr = 0 and is wasted."
COMMON_LEGEND = (
    (r"\eta_0", "the group's initial lr"),
    ("W", "num_warmup_steps"),
    ("N", "num_training_steps"),
    ("t", "step index"),
)


def _lambda(fn):
    """Multiply a transformers multiplier closed form by the group's initial lr."""

    def closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
        return lr0 * fn(t, **p)

    return closed


def _hf(name: str) -> Any:
    """``transformers.optimization.<name>``, imported on first use: transformers takes ~1 s to import,
    and ``import lrlab`` must cost no more than torch."""
    return getattr(importlib.import_module("transformers.optimization"), name)


def _schedule(name: str, **spec: Any) -> SchedulerSpec:
    spec.setdefault("build", lambda opt, p, ctx: _hf(name)(opt, **p))
    spec.setdefault("reference", DOCS.format(name))
    return SchedulerSpec(name=name, library="transformers", **spec)


def min_lr_rate_of(p: P, ctx: RunContext) -> float:
    """min_lr_rate as transformers derives it: min_lr is divided by the optimizer's default lr."""
    return p["min_lr_rate"] if p["min_lr_rate"] is not None else p["min_lr"] / ctx.base_lr


def _min_lr_rule(values: P, ctx: RunContext) -> None:
    if values["min_lr"] is not None and values["min_lr_rate"] is not None:
        raise LrlabError(
            f"Invalid min_lr ({values['min_lr']}): set only one of min_lr or min_lr_rate (min_lr_rate is "
            f"{values['min_lr_rate']}, its default unless set: set it to null to use min_lr; "
            "transformers: Only one of min_lr or min_lr_rate should be set)",
            field="min_lr",
        )
    if values["min_lr"] is None and values["min_lr_rate"] is None:
        raise LrlabError(
            "Invalid min_lr_rate (None): set one of min_lr or min_lr_rate (transformers: One of min_lr or "
            "min_lr_rate should be set through the `lr_scheduler_kwargs`)",
            field="min_lr_rate",
        )


MIN_LR_PARAMS = (
    ParamSpec(
        "min_lr",
        "float",
        None,
        "Floor as an absolute lr (divided by the optimizer's lr).",
        low=0.0,
        high=MAX_LR,
        optional=True,
        log=True,
    ),
    ParamSpec(
        "min_lr_rate", "float", 0.1, "Floor as a share of the initial lr.", low=0.0, high=1.0, optional=True, symbol="r"
    ),
)


def _polynomial_rule(values: P, ctx: RunContext) -> None:
    if not ctx.base_lr > values["lr_end"]:
        raise invalid(
            "lr_end",
            values["lr_end"],
            f"must be smaller than the initial lr ({ctx.base_lr}) (transformers: lr_end ({values['lr_end']}) "
            f"must be smaller than initial lr ({ctx.base_lr}))",
        )
    if values["num_training_steps"] <= values["num_warmup_steps"]:
        raise invalid(
            "num_training_steps",
            values["num_training_steps"],
            f"must be greater than num_warmup_steps ({values['num_warmup_steps']}); "
            "transformers divides by their difference (ZeroDivisionError)",
        )


def inverse_sqrt_timescale(p: P) -> int:
    return p["timescale"] if p["timescale"] is not None else (p["num_warmup_steps"] or 10_000)


def wsd_stable_steps(p: P) -> int:
    if p["num_stable_steps"] is not None:
        return p["num_stable_steps"]
    return p["num_training_steps"] - p["num_warmup_steps"] - p["num_decay_steps"]


def _wsd_rule(values: P, ctx: RunContext) -> None:
    if values["num_training_steps"] is None and values["num_stable_steps"] is None:
        raise LrlabError(
            "Invalid num_stable_steps (None): set num_training_steps or num_stable_steps "
            "(transformers: Either num_training_steps or num_stable_steps must be specified.)",
            field="num_stable_steps",
        )


SPECS = (
    _schedule(
        "get_constant_schedule",
        title="constant — the lr never changes",
        summary="A LambdaLR with multiplier 1.",
        params=(),
        closed_form=lambda t, lr0, p, ctx: np.full(np.shape(t), float(lr0)),
        formula=r"\eta_t = \eta_0",
        legend=((r"\eta_0", "initial lr"),),
        aliases=("constant",),
    ),
    _schedule(
        "get_constant_schedule_with_warmup",
        title="constant_with_warmup — linear warm-up, then constant",
        summary="Ramps from 0 to the lr over num_warmup_steps, then holds it.",
        params=(WARMUP,),
        closed_form=_lambda(F.hf_constant_with_warmup),
        formula=r"\eta_t = \eta_0 \cdot \begin{cases} " + WARMUP_FORMULA + r" \\ 1, & t \ge W \end{cases}",
        legend=COMMON_LEGEND[:2] + COMMON_LEGEND[3:],
        notes=(WARMUP_NOTE,),
        aliases=("constant_with_warmup",),
    ),
    _schedule(
        "get_linear_schedule_with_warmup",
        title="linear — warm-up, then linear decay to 0",
        summary="The Trainer's default: ramp from 0 to the lr, then straight down to 0 at num_training_steps.",
        params=(WARMUP, TRAINING),
        closed_form=_lambda(F.hf_linear),
        formula=r"\eta_t = \eta_0 \cdot \begin{cases} "
        + WARMUP_FORMULA
        + r" \\ \max\!\left(0, \frac{N - t}{\max(1, N - W)}\right), & t \ge W \end{cases}",
        legend=COMMON_LEGEND,
        notes=(WARMUP_NOTE, "With W > N it ramps to (W−1)/W and then drops straight to 0 (no error)."),
        aliases=("linear",),
    ),
    _schedule(
        "get_cosine_schedule_with_warmup",
        title="cosine — warm-up, then cosine decay",
        summary="Ramp from 0, then a cosine decay over the rest of training (num_cycles waves).",
        params=(WARMUP, TRAINING, CYCLES),
        closed_form=_lambda(F.hf_cosine),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} " + WARMUP_FORMULA + r" \\"
            r" \max\!\left(0, \tfrac{1}{2}\left(1 + \cos(2\pi c\,p)\right)\right), \ p = \frac{t - W}{\max(1, N - W)}, & t \ge W \end{cases}"
        ),
        legend=(*COMMON_LEGEND, ("c", "num_cycles")),
        notes=(WARMUP_NOTE, "Past num_training_steps the cosine is not clamped: the lr rises again."),
        aliases=("cosine",),
    ),
    _schedule(
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        title="cosine_with_restarts — warm-up, then cosine with hard restarts",
        summary="Ramp from 0, then num_cycles cosine decays, each restarting at the full lr.",
        params=(
            WARMUP,
            TRAINING,
            ParamSpec("num_cycles", "int", 1, "Number of hard restarts (cosine waves).", low=1, high=1000, symbol="c"),
        ),
        closed_form=_lambda(F.hf_cosine_hard_restarts),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} " + WARMUP_FORMULA + r" \\"
            r" \tfrac{1}{2}\left(1 + \cos\left(\pi\,((c\,p) \bmod 1)\right)\right), \ p = \frac{t - W}{\max(1, N - W)}, & p < 1 \\"
            r" 0, & p \ge 1 \end{cases}"
        ),
        legend=(*COMMON_LEGEND, ("c", "num_cycles")),
        notes=(WARMUP_NOTE, "Stays at 0 from num_training_steps on."),
        aliases=("cosine_with_restarts",),
    ),
    _schedule(
        "get_polynomial_decay_schedule_with_warmup",
        title="polynomial — warm-up, then polynomial decay to lr_end",
        summary="Ramp from 0, then (1 − progress)^power from the lr down to lr_end (absolute), then hold lr_end.",
        params=(
            WARMUP,
            TRAINING,
            ParamSpec(
                "lr_end", "float", 1e-7, "Final lr (absolute).", low=0.0, high=MAX_LR, log=True, symbol=r"\eta_e"
            ),
            ParamSpec(
                "power", "float", 1.0, "Power of the decay (1 = linear).", low=0.0, high=10.0, low_open=True, symbol="P"
            ),
        ),
        closed_form=lambda t, lr0, p, ctx: (
            lr0
            * F.hf_polynomial(
                t,
                lr_init=ctx.base_lr,
                **{k: p[k] for k in ("num_warmup_steps", "num_training_steps", "lr_end", "power")},
            )
        ),
        rules=(_polynomial_rule,),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} " + WARMUP_FORMULA + r" \\"
            r" \dfrac{(\eta_i - \eta_e)\left(1 - \frac{t - W}{N - W}\right)^{P} + \eta_e}{\eta_i}, & W \le t \le N \\"
            r" \eta_e / \eta_i, & t > N \end{cases}"
        ),
        legend=(*COMMON_LEGEND, (r"\eta_i", "the optimizer's default lr"), (r"\eta_e", "lr_end"), ("P", "power")),
        notes=(
            WARMUP_NOTE,
            "transformers divides by the optimizer's *default* lr: a param group with a different lr does not end at lr_end.",
        ),
        aliases=("polynomial",),
    ),
    _schedule(
        "get_inverse_sqrt_schedule",
        title="inverse_sqrt — warm-up, then 1/√t decay",
        summary="Ramp from 0, then decay proportional to the inverse square root of the step (the Transformer paper's schedule).",
        params=(
            WARMUP,
            ParamSpec(
                "timescale",
                "int",
                None,
                "Decay timescale τ (empty: num_warmup_steps, or 10000 without warm-up).",
                low=1,
                high=MAX_STEPS,
                optional=True,
                symbol=r"\tau",
            ),
        ),
        closed_form=lambda t, lr0, p, ctx: (
            lr0 * F.hf_inverse_sqrt(t, num_warmup_steps=p["num_warmup_steps"], timescale=inverse_sqrt_timescale(p))
        ),
        formula=r"\eta_t = \eta_0 \cdot \begin{cases} "
        + WARMUP_FORMULA
        + r" \\ \left(\frac{t + \tau - W}{\tau}\right)^{-1/2}, & t \ge W \end{cases}",
        legend=(*COMMON_LEGEND[:2], (r"\tau", "timescale"), ("t", "step index")),
        notes=(WARMUP_NOTE, "It never reaches a floor: the lr keeps decaying for as long as training runs."),
        aliases=("inverse_sqrt",),
    ),
    _schedule(
        "get_cosine_with_min_lr_schedule_with_warmup",
        title="cosine_with_min_lr — warm-up, then cosine decay to a floor",
        summary="Like cosine, but the decay ends at min_lr (or min_lr_rate × lr) instead of 0.",
        params=(WARMUP, TRAINING, CYCLES, *MIN_LR_PARAMS),
        closed_form=lambda t, lr0, p, ctx: (
            lr0
            * F.hf_cosine(
                t,
                num_warmup_steps=p["num_warmup_steps"],
                num_training_steps=p["num_training_steps"],
                num_cycles=p["num_cycles"],
                min_lr_rate=min_lr_rate_of(p, ctx),
            )
        ),
        rules=(_min_lr_rule,),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} " + WARMUP_FORMULA + r" \\"
            r" \max\!\left(0,\ \tfrac{1}{2}\left(1 + \cos(2\pi c\,p)\right)(1 - r) + r\right), \ p = \frac{t - W}{\max(1, N - W)}, & t \ge W \end{cases}"
        ),
        legend=(*COMMON_LEGEND, ("c", "num_cycles"), ("r", "min_lr_rate, or min_lr / the optimizer's default lr")),
        notes=(WARMUP_NOTE, "Past num_training_steps the cosine is not clamped: the lr rises again above the floor."),
        aliases=("cosine_with_min_lr",),
    ),
    _schedule(
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        title="cosine_warmup_with_min_lr — warm-up that doesn't start at 0, cosine to a floor",
        summary="Variant of cosine_with_min_lr whose warm-up starts at lr/W (or warmup_lr_rate × lr) and whose cosine reaches the floor exactly at the last step.",
        params=(
            WARMUP,
            TRAINING,
            CYCLES,
            *MIN_LR_PARAMS,
            ParamSpec(
                "warmup_lr_rate",
                "float",
                None,
                "Warm-up start as a share of the lr (empty: 1/W).",
                low=0.0,
                high=1.0,
                optional=True,
                symbol="w_0",
            ),
        ),
        closed_form=lambda t, lr0, p, ctx: (
            lr0
            * F.hf_cosine_min_lr_rate(
                t,
                num_warmup_steps=p["num_warmup_steps"],
                num_training_steps=p["num_training_steps"],
                num_cycles=p["num_cycles"],
                min_lr_rate=min_lr_rate_of(p, ctx),
                warmup_lr_rate=p["warmup_lr_rate"],
            )
        ),
        rules=(_min_lr_rule,),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} \frac{t + 1}{\max(1, W)} \text{ or } w_0 + (1 - w_0)\frac{t}{\max(1, W - 1)}, & t < W \\"
            r" \max\!\left(0,\ \tfrac{1}{2}\left(1 + \cos(2\pi c\,p')\right)(1 - r) + r\right), \ p' = \frac{t - W + 1}{\max(1, N - W)}, & t \ge W \end{cases}"
        ),
        legend=(*COMMON_LEGEND, ("c", "num_cycles"), ("r", "min_lr_rate"), ("w_0", "warmup_lr_rate")),
        notes=(
            "Unlike the other warm-ups this one does not start at 0.",
            "It reaches the floor at t = N − 1, then rises again.",
        ),
        aliases=("cosine_warmup_with_min_lr",),
    ),
    _schedule(
        "get_wsd_schedule",
        title="warmup_stable_decay — warm-up, stable plateau, decay (WSD)",
        summary="Three phases: warm-up, a long constant plateau, then a short decay to min_lr_ratio (MiniCPM, 2024).",
        params=(
            WARMUP,
            ParamSpec(
                "num_decay_steps",
                "int",
                lambda n: n // 5,
                "Steps of the final decay.",
                low=0,
                high=MAX_STEPS,
                symbol="D",
            ),
            ParamSpec(
                "num_training_steps",
                "int",
                lambda n: n,
                "Total steps (stable = N − W − D).",
                low=1,
                high=MAX_STEPS,
                optional=True,
                symbol="N",
            ),
            ParamSpec(
                "num_stable_steps",
                "int",
                None,
                "Stable steps (overrides num_training_steps when set).",
                low=0,
                high=MAX_STEPS,
                optional=True,
                symbol="S",
            ),
            ParamSpec(
                "warmup_type", "choice", "linear", "Shape of the warm-up.", choices=("linear", "cosine", "1-sqrt")
            ),
            ParamSpec("decay_type", "choice", "cosine", "Shape of the decay.", choices=("linear", "cosine", "1-sqrt")),
            ParamSpec(
                "min_lr_ratio",
                "float",
                0.0,
                "Floor (and warm-up start) as a share of the lr.",
                low=0.0,
                high=1.0,
                symbol="m",
            ),
            ParamSpec(
                "num_cycles",
                "float",
                0.5,
                "Cosine decay only: number of waves (0.5 = half a cosine).",
                low=0.0,
                high=1000.0,
                symbol="c",
            ),
        ),
        closed_form=lambda t, lr0, p, ctx: (
            lr0
            * F.hf_wsd(
                t,
                num_warmup_steps=p["num_warmup_steps"],
                num_stable_steps=wsd_stable_steps(p),
                num_decay_steps=p["num_decay_steps"],
                warmup_type=p["warmup_type"],
                decay_type=p["decay_type"],
                min_lr_ratio=p["min_lr_ratio"],
                num_cycles=p["num_cycles"],
            )
        ),
        rules=(_wsd_rule,),
        formula=(
            r"\eta_t = \eta_0 \cdot \begin{cases} \max\!\left(0, f_w\!\left(\tfrac{t}{\max(1,W)}\right)(1 - m) + m\right), & t < W \\"
            r" 1, & W \le t < W + S \\ \max\!\left(0, f_d(q)(1 - m) + m\right),\ q = \tfrac{t - W - S}{\max(1, D)}, & W + S \le t < W + S + D \\"
            r" m, & \text{after} \end{cases} \\[4pt]"
            r" f_w(p) \in \{p,\ \tfrac{1}{2}(1 - \cos\pi p),\ 1 - \sqrt{1 - p}\},\quad"
            r" f_d(q) \in \{1 - q,\ \tfrac{1}{2}(1 + \cos 2\pi c q),\ 1 - \sqrt{q}\}"
        ),
        legend=(
            *COMMON_LEGEND[:2],
            ("S", "num_stable_steps (or N − W − D)"),
            ("D", "num_decay_steps"),
            ("m", "min_lr_ratio"),
            ("f_w, f_d", "warmup_type, decay_type"),
        ),
        notes=(
            "Warm-up starts at min_lr_ratio × lr, not 0.",
            "When both num_training_steps and num_stable_steps are set, transformers warns and uses num_stable_steps.",
        ),
        aliases=("warmup_stable_decay", "wsd"),
    ),
    _schedule(
        "get_reduce_on_plateau_schedule",
        title="reduce_lr_on_plateau — torch ReduceLROnPlateau via transformers",
        summary="transformers' wrapper: returns torch's ReduceLROnPlateau with the given kwargs.",
        params=PLATEAU_PARAMS,
        formula=PLATEAU_FORMULA,
        legend=PLATEAU_LEGEND,
        notes=PLATEAU_NOTES,
        needs_metric=True,
        aliases=("reduce_lr_on_plateau",),
    ),
    _schedule(
        "get_greedy_schedule",
        title="greedy — GreedyLR: raise the lr while the metric improves, cut it when it stalls",
        summary="transformers' GreedyLR: lr ÷ factor after more than patience improving steps, × factor after more than patience bad ones, within [min_lr, max_lr].",
        params=(
            ParamSpec("mode", "choice", "min", "min: the metric should fall; max: rise.", choices=("min", "max")),
            ParamSpec(
                "factor",
                "float",
                0.95,
                "Multiplier (and divisor) per change.",
                low=0.0,
                high=1.0,
                low_open=True,
                high_open=True,
                symbol="f",
            ),
            ParamSpec(
                "patience", "int", 10, "Consecutive evaluations before a change.", low=0, high=MAX_STEPS, symbol="P"
            ),
            ParamSpec(
                "threshold",
                "float",
                1e-6,
                "Minimum change that counts as improvement.",
                low=0.0,
                high=1e3,
                symbol=r"\theta",
            ),
            ParamSpec("threshold_mode", "choice", "abs", "rel or abs threshold.", choices=("rel", "abs")),
            ParamSpec("cooldown", "int", 0, "Evaluations to wait after a decrease.", low=0, high=MAX_STEPS),
            ParamSpec("warmup", "int", 0, "Evaluations to wait after an increase.", low=0, high=MAX_STEPS),
            ParamSpec(
                "min_lr", "float", 1e-3, "Lower bound of the lr.", low=0.0, high=MAX_LR, log=True, symbol=r"\eta_{\min}"
            ),
            ParamSpec(
                "max_lr", "float", 1.0, "Upper bound of the lr.", low=0.0, high=MAX_LR, log=True, symbol=r"\eta_{\max}"
            ),
            ParamSpec("smooth", "bool", False, "Smooth the metric with a rolling average."),
            ParamSpec("window_size", "int", 50, "Rolling-average window (smooth only).", low=1, high=10_000),
            ParamSpec(
                "reset_start",
                "int",
                500,
                "Reset to the initial lr after this many reductions at min_lr.",
                low=1,
                high=MAX_STEPS,
            ),
        ),
        formula=(
            r"\begin{aligned} \text{good} > P &\Rightarrow \eta \leftarrow \min(\eta / f,\ \eta_{\max}) \\"
            r" \text{bad} > P &\Rightarrow \eta \leftarrow \max(f\,\eta,\ \eta_{\min}) \end{aligned}"
        ),
        legend=(
            ("f", "factor"),
            ("P", "patience"),
            (r"\eta_{\min}, \eta_{\max}", "min_lr, max_lr"),
            (r"\theta", "threshold"),
        ),
        notes=(
            "No closed form: the lr depends on the metric (a deterministic synthetic loss here).",
            "GreedyLR is not a torch LRScheduler: it does not touch the lr at construction and has no warm-up from 0.",
        ),
        needs_metric=True,
        aliases=("greedy",),
    ),
)
