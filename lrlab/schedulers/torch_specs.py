"""Registry entries for ``torch.optim.lr_scheduler`` (torch 2.13) and ``torch.optim.swa_utils.SWALR``.

One :class:`~lrlab.specs.SchedulerSpec` per scheduler. Parameter names are torch's own; sizes that
naturally follow the run length (``T_max``, ``total_steps``, …) default to a share of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls
from torch.optim.swa_utils import SWALR

from lrlab import formulas as F
from lrlab.expr import parse, to_python
from lrlab.specs import MAX_LR, MAX_STEPS, ParamSpec, RunContext, SchedulerSpec, invalid

DOCS = "https://docs.pytorch.org/docs/2.13/generated/torch.optim.lr_scheduler.{}.html"
P = Mapping[str, Any]


def _steps_param(name: str, default, help: str, *, low: int = 1, symbol: str = "") -> ParamSpec:
    return ParamSpec(name, "int", default, help, low=low, high=MAX_STEPS, symbol=symbol)


def _gamma(default: float, help: str) -> ParamSpec:
    return ParamSpec("gamma", "float", default, help, low=0.0, high=2.0, symbol=r"\gamma")


def _eta_min(help: str = "Lower bound of the lr (absolute value, not a factor).") -> ParamSpec:
    return ParamSpec("eta_min", "float", 0.0, help, low=0.0, high=MAX_LR, log=True, symbol=r"\eta_{\min}")


def _lambda_param(default: str) -> ParamSpec:
    return ParamSpec(
        "lr_lambda",
        "expr",
        default,
        "An expression in `epoch` (the scheduler's step index), e.g. `0.95 ** epoch`; "
        "allowed: + - * / ** %, comparisons, `a if c else b`, min max abs floor ceil sqrt exp log "
        "log2 log10 sin cos tan tanh, pi, e.",
        per_group=True,
        symbol=r"\lambda",
    )


def _expr_rule(values: P, ctx: RunContext) -> None:
    texts = values["lr_lambda"]
    for g, text in enumerate(texts if isinstance(texts, tuple) else (texts,)):
        parse(text, field="lr_lambda" if not isinstance(texts, tuple) else f"lr_lambda[{g}]")


def _lambdas(p: P) -> Any:
    """The callable torch receives: one parsed expression, or a list with one per param group."""
    texts = p["lr_lambda"]
    return [parse(t) for t in texts] if isinstance(texts, tuple) else parse(texts)


def _group_lambda(p: P, ctx: RunContext) -> Any:
    return parse(ctx.pick(p["lr_lambda"]))


def _lambda_code(cls: str) -> Any:
    """Exported code for LambdaLR / MultiplicativeLR: the expression as a real Python lambda."""

    def code(p: P, ctx: RunContext) -> str:
        texts = p["lr_lambda"]
        lambdas = [f"lambda epoch: {to_python(parse(t))}" for t in (texts if isinstance(texts, tuple) else (texts,))]
        arg = lambdas[0] if len(lambdas) == 1 else "[\n    " + ",\n    ".join(lambdas) + ",\n]"
        return f"scheduler = lr_scheduler.{cls}(optimizer, lr_lambda={arg})"

    return code


def _momentum_params(base: float, top: float) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("cycle_momentum", "bool", True, "Cycle momentum (SGD) or beta1 (Adam) inversely to the lr."),
        ParamSpec("base_momentum", "float", base, "Momentum at the lr peak.", low=0.0, high=1.0, symbol=r"\mu_b"),
        ParamSpec("max_momentum", "float", top, "Momentum at the lr low.", low=0.0, high=1.0, symbol=r"\mu_{\max}"),
    )


# ---- LambdaLR / MultiplicativeLR ----------------------------------------------------------------

LAMBDA_LR = SchedulerSpec(
    name="LambdaLR",
    library="torch",
    title="LambdaLR — base lr × your function of the step",
    summary="Sets each group's lr to its initial lr times a function of the step index. "
    "Transformers' warm-up schedules are LambdaLRs underneath.",
    params=(_lambda_param("0.95 ** epoch"),),
    build=lambda opt, p, ctx: tls.LambdaLR(opt, lr_lambda=_lambdas(p)),
    closed_form=lambda t, lr0, p, ctx: lr0 * _group_lambda(p, ctx).over(t),
    rules=(_expr_rule,),
    formula=r"\eta_t = \eta_0 \, \lambda(t)",
    legend=((r"\eta_0", "the group's initial lr"), (r"\lambda", "lr_lambda, your expression"), ("t", "step index")),
    notes=("λ(0) is applied at construction: the very first lr is already η₀·λ(0).",),
    reference=DOCS.format("LambdaLR"),
    code=_lambda_code("LambdaLR"),
)


def _multiplicative_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    ti = np.asarray(t, dtype=np.int64)
    upto = int(ti.max()) if ti.size else 0
    factors = _group_lambda(p, ctx).over(np.arange(1, upto + 1))
    running = np.cumprod(np.concatenate([[lr0], factors]))  # same multiplication order as step()
    return running[ti]


MULTIPLICATIVE_LR = SchedulerSpec(
    name="MultiplicativeLR",
    library="torch",
    title="MultiplicativeLR — multiply the lr by your function each step",
    summary="Each step multiplies the current lr by a factor λ(t); a recursive schedule.",
    params=(_lambda_param("0.95"),),
    build=lambda opt, p, ctx: tls.MultiplicativeLR(opt, lr_lambda=_lambdas(p)),
    closed_form=_multiplicative_closed,
    rules=(_expr_rule,),
    formula=r"\eta_0 = \eta_{\text{base}}, \qquad \eta_t = \eta_{t-1}\,\lambda(t) = \eta_{\text{base}}\prod_{k=1}^{t}\lambda(k)",
    legend=(
        (r"\eta_{\text{base}}", "the group's initial lr"),
        (r"\lambda", "lr_lambda, your expression"),
        ("t", "step index"),
    ),
    notes=("λ(0) is never applied: the construction step keeps the initial lr, the product starts at k = 1.",),
    reference=DOCS.format("MultiplicativeLR"),
    code=_lambda_code("MultiplicativeLR"),
)

# ---- step-shaped decays ----------------------------------------------------------------------

STEP_LR = SchedulerSpec(
    name="StepLR",
    library="torch",
    title="StepLR — decay by γ every step_size steps",
    summary="Multiplies the lr by γ every `step_size` steps: the classic staircase.",
    params=(
        _steps_param("step_size", lambda n: max(1, n // 4), "Steps between two decays.", symbol="s"),
        _gamma(0.1, "Factor applied at every decay (below 1 decays, above 1 grows)."),
    ),
    build=lambda opt, p, ctx: tls.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"]),
    closed_form=lambda t, lr0, p, ctx: F.step_decay(t, base_lr=lr0, step_size=p["step_size"], gamma=p["gamma"]),
    formula=r"\eta_t = \eta_0\,\gamma^{\lfloor t / s \rfloor}",
    legend=((r"\eta_0", "initial lr"), (r"\gamma", "gamma"), ("s", "step_size"), ("t", "step index")),
    reference=DOCS.format("StepLR"),
)


def _milestones_rule(values: P, ctx: RunContext) -> None:
    ms = values["milestones"]
    if list(ms) != sorted(ms):
        raise invalid("milestones", list(ms), "must be in increasing order")


MULTISTEP_LR = SchedulerSpec(
    name="MultiStepLR",
    library="torch",
    title="MultiStepLR — decay by γ at chosen milestones",
    summary="Multiplies the lr by γ at each milestone step (ResNet-style 30/60/90 decays).",
    params=(
        ParamSpec(
            "milestones",
            "int_list",
            lambda n: [n // 2, (3 * n) // 4],
            "Steps at which the lr is multiplied by γ, increasing. A milestone listed twice decays twice.",
            low=0,
            high=MAX_STEPS,
            symbol="M",
        ),
        _gamma(0.1, "Factor applied at every milestone."),
    ),
    build=lambda opt, p, ctx: tls.MultiStepLR(opt, milestones=list(p["milestones"]), gamma=p["gamma"]),
    closed_form=lambda t, lr0, p, ctx: F.multistep_decay(t, base_lr=lr0, milestones=p["milestones"], gamma=p["gamma"]),
    rules=(_milestones_rule,),
    formula=r"\eta_t = \eta_0\,\gamma^{\,\#\{m \in M \,:\, m \le t\}}",
    legend=((r"\eta_0", "initial lr"), (r"\gamma", "gamma"), ("M", "milestones (a multiset)"), ("t", "step index")),
    notes=("torch stores milestones in a Counter: a duplicated milestone applies γ twice.",),
    reference=DOCS.format("MultiStepLR"),
)

CONSTANT_LR = SchedulerSpec(
    name="ConstantLR",
    library="torch",
    title="ConstantLR — a reduced lr for the first iterations",
    summary="Holds the lr at factor × initial lr until `total_iters`, then the initial lr.",
    params=(
        ParamSpec(
            "factor", "float", 1 / 3, "Multiplier until total_iters.", low=0.0, high=1.0, low_open=True, symbol="f"
        ),
        _steps_param("total_iters", lambda n: max(1, n // 4), "Steps at the reduced lr.", symbol="T"),
    ),
    build=lambda opt, p, ctx: tls.ConstantLR(opt, factor=p["factor"], total_iters=p["total_iters"]),
    closed_form=lambda t, lr0, p, ctx: F.constant_factor(
        t, base_lr=lr0, factor=p["factor"], total_iters=p["total_iters"]
    ),
    formula=r"\eta_t = \eta_0 \cdot \begin{cases} f, & t < T \\ 1, & t \ge T \end{cases}",
    legend=((r"\eta_0", "initial lr"), ("f", "factor"), ("T", "total_iters"), ("t", "step index")),
    notes=(
        "torch accepts factor = 0 but then divides by it at t = total_iters (ZeroDivisionError); lrlab asks for factor > 0.",
    ),
    reference=DOCS.format("ConstantLR"),
)

LINEAR_LR = SchedulerSpec(
    name="LinearLR",
    library="torch",
    title="LinearLR — linear ramp between two factors",
    summary="Moves the multiplier linearly from start_factor to end_factor over total_iters steps, "
    "then holds it. The usual torch warm-up.",
    params=(
        ParamSpec(
            "start_factor", "float", 1 / 3, "Multiplier at step 0.", low=0.0, high=1.0, low_open=True, symbol="s"
        ),
        ParamSpec("end_factor", "float", 1.0, "Multiplier from total_iters on.", low=0.0, high=1.0, symbol="e"),
        _steps_param("total_iters", lambda n: max(1, n // 4), "Steps of the ramp.", symbol="T"),
    ),
    build=lambda opt, p, ctx: tls.LinearLR(
        opt, start_factor=p["start_factor"], end_factor=p["end_factor"], total_iters=p["total_iters"]
    ),
    closed_form=lambda t, lr0, p, ctx: F.linear_factor(
        t, base_lr=lr0, start_factor=p["start_factor"], end_factor=p["end_factor"], total_iters=p["total_iters"]
    ),
    formula=r"\eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)",
    legend=(
        (r"\eta_0", "initial lr"),
        ("s", "start_factor"),
        ("e", "end_factor"),
        ("T", "total_iters"),
        ("t", "step index"),
    ),
    notes=(
        "torch computes this recursively (each step multiplies the current lr), so values drift from the "
        "closed form by ~1e-16 relative.",
        "The docstring example in torch is shifted by one step: the real first value is η₀·s.",
    ),
    reference=DOCS.format("LinearLR"),
)

EXPONENTIAL_LR = SchedulerSpec(
    name="ExponentialLR",
    library="torch",
    title="ExponentialLR — multiply by γ every step",
    summary="Decays the lr by γ every step.",
    params=(_gamma(0.99, "Multiplier per step (torch requires it; no default)."),),
    build=lambda opt, p, ctx: tls.ExponentialLR(opt, gamma=p["gamma"]),
    closed_form=lambda t, lr0, p, ctx: F.exponential(t, base_lr=lr0, gamma=p["gamma"]),
    formula=r"\eta_t = \eta_0\,\gamma^{t}",
    legend=((r"\eta_0", "initial lr"), (r"\gamma", "gamma"), ("t", "step index")),
    notes=("torch multiplies the current lr by γ each step (recursive form); the drift from γᵗ is ~1e-15 relative.",),
    reference=DOCS.format("ExponentialLR"),
)

POLYNOMIAL_LR = SchedulerSpec(
    name="PolynomialLR",
    library="torch",
    title="PolynomialLR — polynomial decay to zero",
    summary="Decays the lr to 0 over total_iters steps along (1 − t/T)^power.",
    params=(
        _steps_param("total_iters", lambda n: n, "Steps until the lr reaches 0.", symbol="T"),
        ParamSpec(
            "power", "float", 1.0, "Exponent of the decay (1 = linear).", low=0.0, high=10.0, low_open=True, symbol="p"
        ),
    ),
    build=lambda opt, p, ctx: tls.PolynomialLR(opt, total_iters=p["total_iters"], power=p["power"]),
    closed_form=lambda t, lr0, p, ctx: F.polynomial(t, base_lr=lr0, total_iters=p["total_iters"], power=p["power"]),
    formula=r"\eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}",
    legend=((r"\eta_0", "initial lr"), ("T", "total_iters"), ("p", "power"), ("t", "step index")),
    notes=("The docstring example in torch is shifted by one step (it omits the value at t = 0).",),
    reference=DOCS.format("PolynomialLR"),
)

COSINE_ANNEALING_LR = SchedulerSpec(
    name="CosineAnnealingLR",
    library="torch",
    title="CosineAnnealingLR — half a cosine from the lr to eta_min",
    summary="Cosine from the initial lr down to eta_min over T_max steps. Past T_max it does not "
    "stop: it climbs back up (period 2·T_max).",
    params=(
        _steps_param("T_max", lambda n: n, "Steps of the half cosine (to eta_min).", symbol=r"T_{\max}"),
        _eta_min(),
    ),
    build=lambda opt, p, ctx: tls.CosineAnnealingLR(opt, T_max=p["T_max"], eta_min=p["eta_min"]),
    closed_form=lambda t, lr0, p, ctx: F.cosine_annealing(t, base_lr=lr0, T_max=p["T_max"], eta_min=p["eta_min"]),
    formula=r"\eta_t = \eta_{\min} + \tfrac{1}{2}\left(\eta_0 - \eta_{\min}\right)\left(1 + \cos\frac{\pi t}{T_{\max}}\right)",
    legend=((r"\eta_0", "initial lr"), (r"\eta_{\min}", "eta_min"), (r"T_{\max}", "T_max"), ("t", "step index")),
    notes=(
        "Past T_max torch keeps following the cosine: the lr rises back to η₀ at 2·T_max (no clamping).",
        "torch steps a recursive form (ratio of successive cosines around eta_min): it drifts from the closed "
        "form by ~1e-15 relative, more after each trough of the cosine and where eta_min is far above the lr "
        "(an inverted curve), where it can pass 1e-9 over long runs.",
    ),
    reference=DOCS.format("CosineAnnealingLR"),
)

# ---- cyclic -----------------------------------------------------------------------------------


def _cyclic_kwargs(p: P) -> dict[str, Any]:
    return {k: p[k] for k in ("step_size_up", "step_size_down", "mode", "gamma")}


def _cyclic_build(opt: Any, p: P, ctx: RunContext) -> Any:
    return tls.CyclicLR(
        opt,
        base_lr=ctx.base_lr,
        max_lr=p["max_lr"],
        cycle_momentum=p["cycle_momentum"],
        base_momentum=p["base_momentum"],
        max_momentum=p["max_momentum"],
        **_cyclic_kwargs(p),
    )


CYCLIC_LR = SchedulerSpec(
    name="CyclicLR",
    library="torch",
    title="CyclicLR — triangular cycles between base_lr and max_lr",
    summary="Cyclical learning rates (Smith 2017): the lr bounces between base_lr and max_lr; "
    "triangular2 halves the amplitude every cycle, exp_range shrinks it by γ per step.",
    params=(
        ParamSpec(
            "base_lr",
            "float",
            0.1,
            "Lower lr of the cycle (the curve's base lr).",
            low=0.0,
            high=MAX_LR,
            low_open=True,  # it is the run's base lr, which must be > 0
            log=True,
            symbol="b",
        ),
        ParamSpec("max_lr", "float", 0.5, "Upper lr of the cycle.", low=0.0, high=MAX_LR, log=True, symbol="M"),
        _steps_param("step_size_up", lambda n: max(1, n // 8), "Steps from base_lr up to max_lr.", symbol="u"),
        ParamSpec(
            "step_size_down",
            "int",
            None,
            "Steps back down (empty: same as step_size_up; 0 gives a sawtooth).",
            low=0,
            high=MAX_STEPS,
            optional=True,
            symbol="d",
        ),
        ParamSpec(
            "mode", "choice", "triangular", "Amplitude policy.", choices=("triangular", "triangular2", "exp_range")
        ),
        ParamSpec(
            "gamma",
            "float",
            1.0,
            "exp_range only: amplitude × γ^t (try 0.999).",
            low=0.0,
            high=1.0,
            low_open=True,
            symbol=r"\gamma",
        ),
        *_momentum_params(0.8, 0.9),
    ),
    build=_cyclic_build,
    closed_form=lambda t, lr0, p, ctx: F.cyclic(t, base_lr=ctx.base_lr, max_lr=p["max_lr"], **_cyclic_kwargs(p)),
    closed_momentum=lambda t, lr0, p, ctx: F.cyclic_momentum(
        t, base_momentum=p["base_momentum"], max_momentum=p["max_momentum"], **_cyclic_kwargs(p)
    ),
    cycles_momentum=lambda p: bool(p["cycle_momentum"]),
    base_lr_param="base_lr",
    formula=(
        r"\begin{aligned} c &= \left\lfloor 1 + \tfrac{t}{u+d} \right\rfloor,\quad x = 1 + \tfrac{t}{u+d} - c,"
        r"\quad r = \tfrac{u}{u+d} \\ s(t) &= \begin{cases} x / r, & x \le r \\ (x-1)/(r-1), & x > r \end{cases} \\"
        r" \eta_t &= b + (M - b)\,s(t)\,g, \qquad g = \begin{cases} 1 & \text{triangular} \\ 2^{-(c-1)} & "
        r"\text{triangular2} \\ \gamma^{t} & \text{exp\_range} \end{cases} \\"
        r" \mu_t &= \mu_{\max} - (\mu_{\max} - \mu_b)\,s(t)\,g \end{aligned}"
    ),
    legend=(
        ("b", "base_lr"),
        ("M", "max_lr"),
        ("u, d", "step_size_up, step_size_down"),
        ("c", "cycle number"),
        (r"\gamma", "gamma"),
        (r"\mu", "momentum (or Adam's beta1)"),
    ),
    notes=(
        "CyclicLR overwrites the optimizer's lr with base_lr at construction: the optimizer's own lr is ignored.",
        "With cycle_momentum (the default) it also sets momentum, switching it on for a plain SGD with momentum 0.",
        "scale_mode is ignored for the built-in modes (triangular/triangular2 use the cycle, exp_range the step).",
        "It never ends: cycles continue for as long as you step it; except triangular2, where torch's "
        "2.0 ** (cycle − 1) overflows (OverflowError) in cycle 1025 and the curve stops there.",
    ),
    reference=DOCS.format("CyclicLR"),
    code=lambda p, ctx: (
        "scheduler = lr_scheduler.CyclicLR(optimizer, "
        + ", ".join(f"{k}={v!r}" for k, v in {"base_lr": ctx.base_lr, **p}.items() if v is not None)
        + ")"
    ),
)


def _one_cycle_kwargs(p: P) -> dict[str, Any]:
    return {k: p[k] for k in ("total_steps", "pct_start", "anneal_strategy", "three_phase")}


def _one_cycle_rule(values: P, ctx: RunContext) -> None:
    n, pct = values["total_steps"], values["pct_start"]
    ends = [float(pct * n) - 1]
    if values["three_phase"]:
        ends.append(float(2 * pct * n) - 2)
    ends.append(n - 1)
    starts = [0.0, *ends[:-1]]
    if any(end == start for start, end in zip(starts, ends, strict=False)):
        raise invalid(
            "pct_start",
            pct,
            f"gives a phase of length 0 with total_steps={n} (pct_start × total_steps must not be "
            f"{'1 or (total_steps+1)/2' if values['three_phase'] else '1 or total_steps'}); "
            "torch would raise ZeroDivisionError",
        )


ONE_CYCLE_LR = SchedulerSpec(
    name="OneCycleLR",
    library="torch",
    title="OneCycleLR — the 1cycle policy (super-convergence)",
    summary="Warm up from max_lr/div_factor to max_lr over pct_start of the run, then anneal to "
    "max_lr/(div_factor·final_div_factor); momentum moves the other way (Smith & Topin 2018).",
    params=(
        ParamSpec(
            "max_lr",
            "float",
            0.1,
            "Peak lr (the optimizer's lr is ignored).",
            low=0.0,
            high=MAX_LR,
            low_open=True,
            log=True,
            symbol="M",
        ),
        _steps_param(
            "total_steps", lambda n: n, "Length of the cycle in steps; torch refuses to step past it.", symbol="N"
        ),
        ParamSpec(
            "pct_start", "float", 0.3, "Share of the cycle spent increasing the lr.", low=0.0, high=1.0, symbol="p"
        ),
        ParamSpec("anneal_strategy", "choice", "cos", "Shape of each phase.", choices=("cos", "linear")),
        ParamSpec(
            "div_factor", "float", 25.0, "Initial lr = max_lr / div_factor.", low=1.0, high=1e6, log=True, symbol="d"
        ),
        ParamSpec(
            "final_div_factor",
            "float",
            1e4,
            "Final lr = initial lr / final_div_factor.",
            low=1.0,
            high=1e12,
            log=True,
            symbol="f",
        ),
        ParamSpec(
            "three_phase", "bool", False, "Add a symmetric descent back to the initial lr before the final annealing."
        ),
        *_momentum_params(0.85, 0.95),
    ),
    build=lambda opt, p, ctx: tls.OneCycleLR(
        opt,
        max_lr=p["max_lr"],
        div_factor=p["div_factor"],
        final_div_factor=p["final_div_factor"],
        cycle_momentum=p["cycle_momentum"],
        base_momentum=p["base_momentum"],
        max_momentum=p["max_momentum"],
        **_one_cycle_kwargs(p),
    ),
    closed_form=lambda t, lr0, p, ctx: F.one_cycle(
        t,
        max_lr=p["max_lr"],
        div_factor=p["div_factor"],
        final_div_factor=p["final_div_factor"],
        **_one_cycle_kwargs(p),
    ),
    closed_momentum=lambda t, lr0, p, ctx: F.one_cycle_momentum(
        t, base_momentum=p["base_momentum"], max_momentum=p["max_momentum"], **_one_cycle_kwargs(p)
    ),
    cycles_momentum=lambda p: bool(p["cycle_momentum"]),
    rules=(_one_cycle_rule,),
    formula=(
        r"\begin{aligned} \eta_{\text{init}} &= M/d, \quad \eta_{\min} = \eta_{\text{init}}/f, \quad e_1 = pN - 1, \quad e_2 = N - 1 \\"
        r" \eta_t &= \begin{cases} A\!\left(\eta_{\text{init}},\, M,\, \tfrac{t}{e_1}\right), & t \le e_1 \\"
        r" A\!\left(M,\, \eta_{\min},\, \tfrac{t - e_1}{e_2 - e_1}\right), & t > e_1 \end{cases} \\"
        r" A_{\cos}(a, b, x) &= b + \tfrac{a-b}{2}\left(1 + \cos \pi x\right), \quad A_{\text{lin}}(a, b, x) = a + (b - a)\,x"
        r" \end{aligned}"
    ),
    legend=(
        ("M", "max_lr"),
        ("N", "total_steps"),
        ("p", "pct_start"),
        ("d", "div_factor"),
        ("f", "final_div_factor"),
        ("A", "anneal_strategy: cos or linear"),
    ),
    notes=(
        "The formula shown is the two-phase cycle; three_phase inserts M → η_init (ending at 2pN − 2) before η_init → η_min.",
        "torch allows exactly one step past the end (t = N) and extrapolates there (with 'linear' the lr can go "
        "negative); the next step raises ValueError. The curve stops where torch stops.",
        "OneCycleLR ignores the optimizer's lr and rewrites the groups' initial_lr to max_lr / div_factor.",
        "With cycle_momentum (the default) it switches momentum on for SGD and cycles Adam's beta1.",
    ),
    reference=DOCS.format("OneCycleLR"),
)

COSINE_WARM_RESTARTS = SchedulerSpec(
    name="CosineAnnealingWarmRestarts",
    library="torch",
    title="CosineAnnealingWarmRestarts — SGDR cosine cycles with restarts",
    summary="Cosine from the lr to eta_min over T_0 steps, then restart; each cycle T_mult times longer "
    "(Loshchilov & Hutter 2017).",
    params=(
        _steps_param("T_0", lambda n: max(1, n // 4), "Length of the first cycle.", symbol="T_0"),
        ParamSpec(
            "T_mult",
            "int",
            1,
            "Each cycle is T_mult times longer than the last.",
            low=1,
            high=10,
            symbol=r"T_{\text{mult}}",
        ),
        _eta_min(),
    ),
    build=lambda opt, p, ctx: tls.CosineAnnealingWarmRestarts(
        opt, T_0=p["T_0"], T_mult=p["T_mult"], eta_min=p["eta_min"]
    ),
    closed_form=lambda t, lr0, p, ctx: F.warm_restarts(
        t, base_lr=lr0, T_0=p["T_0"], T_mult=p["T_mult"], eta_min=p["eta_min"]
    ),
    formula=(
        r"\begin{aligned} T_i &= T_0\,T_{\text{mult}}^{\,i}, \quad T_{cur} = t - \textstyle\sum_{k<i} T_k"
        r" \quad (i \text{ the current cycle}) \\"
        r" \eta_t &= \eta_{\min} + \tfrac{1}{2}\left(\eta_0 - \eta_{\min}\right)\left(1 + \cos\frac{\pi\,T_{cur}}{T_i}\right) \end{aligned}"
    ),
    legend=(
        (r"\eta_0", "initial lr"),
        (r"\eta_{\min}", "eta_min"),
        ("T_0", "T_0"),
        (r"T_{\text{mult}}", "T_mult"),
        (r"T_{cur}", "steps since the last restart"),
    ),
    notes=(
        "At integer steps the lr never reaches eta_min: the restart to η₀ comes one step before.",
        "Stepping with step(epoch) (fractional epochs) can land a restart point on the wrong cycle by float "
        "truncation in torch (e.g. T_0=1, T_mult=3 at epoch 121); lrlab steps with step().",
    ),
    reference=DOCS.format("CosineAnnealingWarmRestarts"),
)

# ---- metric-driven ----------------------------------------------------------------------------

PLATEAU_PARAMS = (
    ParamSpec(
        "mode",
        "choice",
        "min",
        "min: the metric should fall (a loss); max: rise (an accuracy).",
        choices=("min", "max"),
    ),
    ParamSpec("factor", "float", 0.1, "Multiplier at each reduction.", low=0.0, high=1.0, high_open=True, symbol="f"),
    ParamSpec(
        "patience", "int", 10, "Non-improving evaluations tolerated before reducing.", low=0, high=MAX_STEPS, symbol="P"
    ),
    ParamSpec(
        "threshold", "float", 1e-4, "Minimum change that counts as improvement.", low=0.0, high=1e3, symbol=r"\theta"
    ),
    ParamSpec("threshold_mode", "choice", "rel", "rel: best·(1 ∓ θ); abs: best ∓ θ.", choices=("rel", "abs")),
    ParamSpec("cooldown", "int", 0, "Evaluations to wait after a reduction.", low=0, high=MAX_STEPS),
    ParamSpec(
        "min_lr",
        "float",
        0.0,
        "The lr never goes below this (one value, or one per param group).",
        low=0.0,
        high=MAX_LR,
        log=True,
        per_group=True,
        symbol=r"\eta_{\min}",
    ),
    ParamSpec("eps", "float", 1e-8, "Reductions smaller than this are skipped.", low=0.0, high=1.0, symbol=r"\epsilon"),
)
PLATEAU_FORMULA = (
    r"\begin{aligned} \text{better}(m) &= \begin{cases} m < \text{best}\,(1 - \theta) & \text{min, rel} \\"
    r" m < \text{best} - \theta & \text{min, abs} \\ m > \text{best}\,(1 + \theta) & \text{max, rel} \\"
    r" m > \text{best} + \theta & \text{max, abs} \end{cases} \\"
    r" \text{bad} > P \;&\Rightarrow\; \eta \leftarrow \max(f\,\eta,\ \eta_{\min}) \text{ if the drop} > \epsilon \end{aligned}"
)
PLATEAU_LEGEND = (
    ("m", "the metric observed at this step"),
    (r"\theta", "threshold"),
    ("P", "patience"),
    ("f", "factor"),
    (r"\eta_{\min}", "min_lr"),
    (r"\epsilon", "eps"),
)
PLATEAU_NOTES = (
    "No closed form: the lr depends on the metric. Here it reacts to a deterministic synthetic loss observed "
    "every step; feed it your own metric on the Plateau page.",
    "The first reduction needs patience + 1 consecutive non-improving evaluations; `best` starts at ±inf.",
)

REDUCE_ON_PLATEAU = SchedulerSpec(
    name="ReduceLROnPlateau",
    library="torch",
    title="ReduceLROnPlateau — cut the lr when the metric stalls",
    summary="Multiplies the lr by factor when the metric has not improved for patience evaluations.",
    params=PLATEAU_PARAMS,
    build=lambda opt, p, ctx: tls.ReduceLROnPlateau(opt, **p),
    formula=PLATEAU_FORMULA,
    legend=PLATEAU_LEGEND,
    notes=PLATEAU_NOTES,
    needs_metric=True,
    reference=DOCS.format("ReduceLROnPlateau"),
)

# ---- SWA ---------------------------------------------------------------------------------------

SWA_LR = SchedulerSpec(
    name="SWALR",
    library="torch",
    title="SWALR — anneal to a constant SWA lr (torch.optim.swa_utils)",
    summary="Anneals each group's lr to swa_lr over anneal_epochs steps, then holds it; used for "
    "stochastic weight averaging.",
    params=(
        ParamSpec(
            "swa_lr",
            "float",
            0.05,
            "The lr to anneal to and hold.",
            low=0.0,
            high=MAX_LR,
            log=True,
            symbol=r"\eta_{\text{swa}}",
        ),
        _steps_param(
            "anneal_epochs", lambda n: max(1, n // 10), "Steps of the annealing (0: jump at once).", low=0, symbol="A"
        ),
        ParamSpec("anneal_strategy", "choice", "cos", "Shape of the annealing.", choices=("cos", "linear")),
    ),
    build=lambda opt, p, ctx: SWALR(
        opt, swa_lr=p["swa_lr"], anneal_epochs=p["anneal_epochs"], anneal_strategy=p["anneal_strategy"]
    ),
    closed_form=lambda t, lr0, p, ctx: F.swa_anneal(
        t, start_lr=lr0, swa_lr=p["swa_lr"], anneal_epochs=p["anneal_epochs"], anneal_strategy=p["anneal_strategy"]
    ),
    formula=(
        r"\eta_t = \alpha\,\eta_{\text{swa}} + (1 - \alpha)\,\eta_0,\quad \alpha = a\!\left(\min\!\left(1, \tfrac{t}{\max(1, A)}\right)\right),"
        r"\quad a_{\cos}(x) = \tfrac{1 - \cos \pi x}{2},\ a_{\text{lin}}(x) = x"
    ),
    legend=(
        (r"\eta_0", "the lr when SWALR was built"),
        (r"\eta_{\text{swa}}", "swa_lr"),
        ("A", "anneal_epochs"),
        ("t", "step index"),
    ),
    notes=(
        "SWALR counts its own step() calls (_step_count), not last_epoch, and computes each lr from the "
        "previous one by undoing the previous α; the drift from the closed form is ~1e-16 relative.",
        "anneal_epochs = 0 jumps to swa_lr at once.",
    ),
    reference="https://docs.pytorch.org/docs/2.13/optim.html#weight-averaging-swa-and-ema",
    code=lambda p, ctx: "scheduler = SWALR(optimizer, " + ", ".join(f"{k}={v!r}" for k, v in p.items()) + ")",
)

SPECS = (
    LAMBDA_LR,
    MULTIPLICATIVE_LR,
    STEP_LR,
    MULTISTEP_LR,
    CONSTANT_LR,
    LINEAR_LR,
    EXPONENTIAL_LR,
    POLYNOMIAL_LR,
    COSINE_ANNEALING_LR,
    CYCLIC_LR,
    ONE_CYCLE_LR,
    COSINE_WARM_RESTARTS,
    REDUCE_ON_PLATEAU,
    SWA_LR,
)
