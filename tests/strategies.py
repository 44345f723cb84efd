"""Random *valid* scheduler parameters, drawn from the specs' own ParamSpecs.

Every draw respects the declared bounds (open or closed, absolute or relative to the run length),
``optional`` (sometimes ``None``) and ``choices``. Where a spec's full range would give a degenerate
curve over thousands of steps (``gamma = 2`` for ExponentialLR overflows to ``inf``), the draw keeps
to a sensible sub-range listed in :data:`SUB_RANGES`; the edges of that sub-range are drawn on
purpose now and then. A draw the spec's cross-parameter rules reject is simply drawn again.

Plain :class:`random.Random` rather than hypothesis: the parity tests want a fixed number of
seeded cases per scheduler and a fast, reproducible run.
"""

from __future__ import annotations

import math
import random
from typing import Any

from lrlab import LrlabError, ParamSpec, SchedulerSpec
from lrlab.schedulers import SCHEDULERS
from lrlab.specs import MAX_LR, RunContext

#: Expressions for LambdaLR: multipliers of the initial lr, finite and positive-or-zero at every step.
LAMBDA_EXPRESSIONS = (
    "0.95 ** epoch",
    "1 / (1 + 0.01 * epoch)",
    "min(1, (epoch + 1) / 10)",
    "0.5 * (1 + cos(pi * epoch / 200))",
    "exp(-epoch / 300)",
    "1 if epoch < 100 else 0.1",
    "max(0.1, 1 - epoch / 1000)",
    "sqrt(1 / (epoch + 1))",
    "0.9 ** floor(epoch / 30)",
    "abs(sin(epoch / 50)) + 0.01",
    "min(1, epoch / 20) * 0.5 ** (epoch / 500)",
)
#: Expressions for MultiplicativeLR: per-step factors whose product stays finite over 3000 steps.
MULTIPLICATIVE_EXPRESSIONS = (
    "0.95",
    "0.999",
    "1 - 0.5 / (epoch + 10)",
    "0.9 if epoch % 10 == 0 else 1",
    "max(0.99, 1 - epoch / 10000)",
    "1.001 if epoch < 100 else 0.995",
    "exp(-0.001)",
    "1 + 0.01 * sin(epoch / 7)",
)

#: (scheduler or None for any, param) -> (low, high): where the full range is not sensible.
SUB_RANGES: dict[tuple[str | None, str], tuple[float, float]] = {
    # γ^t over thousands of steps: keep it a decay (γ > 1 overflows to inf, which lrlab rejects)
    ("ExponentialLR", "gamma"): (0.5, 1.0),
    ("ChainedScheduler", "gamma"): (0.5, 1.0),
    ("StepLR", "gamma"): (0.0, 1.0),
    # at most 5 milestones are drawn, so γ ≤ 2 grows at most 32×
    ("MultiStepLR", "gamma"): (0.0, 2.0),
    (None, "eta_min"): (0.0, 1.0),
    (None, "max_lr"): (0.0, 10.0),
    (None, "swa_lr"): (0.0, 1.0),
    (None, "lr_end"): (0.0, 1.0),
    (None, "min_lr"): (0.0, 1.0),
    (None, "num_cycles"): (0.0, 5.0),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", "num_cycles"): (1, 10),
    (None, "threshold"): (0.0, 0.1),
    (None, "window_size"): (1, 100),
    # optax computes in float32: a power or exponent below 1 near the end of a transition, or a decay_rate
    # stored as 0.99989998 for 0.9999 over 20k steps, drift beyond its tolerance by float32 rounding alone
    # (both measured and pinned in tests/test_lib_optax.py)
    ("optax:polynomial_schedule", "power"): (1.0, 10.0),
    ("optax:cosine_decay_schedule", "exponent"): (1.0, 10.0),
    ("optax:warmup_cosine_decay_schedule", "exponent"): (1.0, 10.0),
    ("optax:exponential_decay", "decay_rate"): (0.01, 0.99),
    ("optax:warmup_exponential_decay_schedule", "decay_rate"): (0.01, 0.99),
}
#: How far past the run length a step-count parameter may be drawn (a schedule longer than the run).
STEP_COUNT_SLACK = 1.5
#: An absolute lr (a spec's ``high`` is MAX_LR: any finite one) is drawn up to this, the range the parity
#: bounds were measured on; an lr above it is tested against each library by hand (test_values_kept.py).
DRAWN_LR_MAX = 1e3


def spec_bounds(p: ParamSpec, steps: int) -> tuple[float | None, float | None]:
    """The spec's bounds, an unbounded lr's top read as :data:`DRAWN_LR_MAX`."""
    low, high = p.bounds_for(steps)
    return low, (DRAWN_LR_MAX if high == MAX_LR else high)


def sub_range(spec: SchedulerSpec, p: ParamSpec, steps: int) -> tuple[float | None, float | None]:
    """The range draws come from: the spec's bounds, narrowed to a sensible sub-range."""
    low, high = spec_bounds(p, steps)
    narrow = SUB_RANGES.get((spec.name, p.name), SUB_RANGES.get((None, p.name)))
    if narrow is not None:
        low = narrow[0] if low is None else max(low, narrow[0])
        high = narrow[1] if high is None else min(high, narrow[1])
    elif p.kind in ("int", "int_list") and high is not None and high > 10 * steps + 10:
        high = max(low if low is not None else 0, int(STEP_COUNT_SLACK * steps) + 2)  # a count of steps
    return low, high


def _draw_float(rng: random.Random, p: ParamSpec, low: float, high: float, at_spec_low: bool, at_spec_high: bool):
    # the closed edges of the spec's own range are worth drawing on purpose
    roll = rng.random()
    if roll < 0.08 and at_spec_low and not p.low_open:
        return float(low)
    if roll < 0.16 and at_spec_high and not p.high_open:
        return float(high)
    while True:
        if p.log and high > 0:
            lo = max(low, high * 1e-6) if low <= 0 else low
            value = math.exp(rng.uniform(math.log(lo), math.log(high)))
        else:
            value = rng.uniform(low, high)
        value = min(max(value, low), high)
        if (p.low_open and value == low) or (p.high_open and value == high):
            continue
        return value


def _draw_int(rng: random.Random, low: int, high: int) -> int:
    roll = rng.random()
    if roll < 0.1:
        return low
    if roll < 0.35:  # small values: the degenerate-but-valid corner (1-step cycles, 0 warm-up, …)
        return rng.randint(low, min(high, low + 10))
    return rng.randint(low, high)


def draw_value(spec: SchedulerSpec, p: ParamSpec, steps: int, rng: random.Random, groups: int = 1) -> Any:
    """One valid value of ``p`` for a run of ``steps`` steps (before the cross-parameter rules); for a
    per-group parameter and several param groups, half of the time a list with one value per group."""
    if getattr(p, "per_group", False) and groups > 1 and rng.random() < 0.5:
        return [draw_value(spec, p, steps, rng) for _ in range(groups)]
    if p.optional and rng.random() < 0.3:
        return None
    if p.kind == "bool":
        return rng.random() < 0.5
    if p.kind == "choice":
        return rng.choice(p.choices)
    if p.kind == "expr":
        return rng.choice(MULTIPLICATIVE_EXPRESSIONS if spec.name == "MultiplicativeLR" else LAMBDA_EXPRESSIONS)
    if p.kind == "children":
        if spec.library not in ("torch", "transformers"):
            # optax's join_schedules / sgdr, fastai's combine_scheds: the library's own test file draws
            # random children (tests/test_lib_*.py); here, its default children sized to the run
            return p.default_for(steps)
        return draw_children(spec.name, steps, rng)
    spec_low, spec_high = spec_bounds(p, steps)
    low, high = sub_range(spec, p, steps)
    assert low is not None and high is not None, f"{spec.name}.{p.name}: give it a sub-range in SUB_RANGES"
    if p.kind == "int":
        lo = math.ceil(low) + (1 if p.low_open and math.ceil(low) == low else 0)
        hi = math.floor(high) - (1 if p.high_open and math.floor(high) == high else 0)
        return _draw_int(rng, lo, hi)
    if p.kind == "int_list":  # increasing (a repeated milestone is allowed: it decays twice)
        values = sorted(_draw_int(rng, int(low), int(high)) for _ in range(rng.randint(0, 5)))
        return values
    if p.kind == "float_list":  # Keras' PiecewiseConstantDecay values: the cross rule wants one per boundary + 1
        return [_draw_float(rng, p, float(low), float(high), False, False) for _ in range(rng.randint(1, 6))]
    return _draw_float(rng, p, float(low), float(high), low == spec_low, high == spec_high)


# children whose sequence (SequentialLR) or product (ChainedScheduler) has a closed form
JOINABLE_CHILDREN = (
    "LinearLR",
    "ConstantLR",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "PolynomialLR",
    "LambdaLR",
    "CosineAnnealingWarmRestarts",
    "get_cosine_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
)
MULTIPLYING_CHILDREN = ("LinearLR", "ConstantLR", "StepLR", "ExponentialLR", "PolynomialLR", "MultiStepLR")


def draw_children(name: str, steps: int, rng: random.Random) -> list[dict[str, Any]]:
    """2-3 children for a composite, each with its own valid draw."""
    pool = JOINABLE_CHILDREN if name in ("SequentialLR", "WarmupThenPlateau") else MULTIPLYING_CHILDREN
    kids = []
    count = 1 if name == "WarmupThenPlateau" else rng.randint(2, 3)  # WarmupThenPlateau: its one warm-up child
    for child in rng.sample(pool, count):
        child_spec = SCHEDULERS[child]
        kids.append({"name": child, **draw_params(child_spec, context(steps, 0.1), rng)})
    return kids


def draw_params(spec: SchedulerSpec, ctx: RunContext, rng: random.Random, *, attempts: int = 200) -> dict[str, Any]:
    """A complete, valid parameter dict for ``spec`` (cross rules included), or AssertionError."""
    for _ in range(attempts):
        groups = len(ctx.group_lrs)
        params = {
            p.name: draw_value(spec, p, ctx.steps, rng, groups) for p in spec.params if p.name != spec.base_lr_param
        }
        if spec.name == "SequentialLR":  # one milestone fewer than children, increasing
            params["milestones"] = sorted(rng.randint(0, ctx.steps) for _ in range(len(params["schedulers"]) - 1))
        try:
            spec.validate(params, ctx)
        except LrlabError:
            continue
        return params
    raise AssertionError(f"no valid draw for {spec.name} with {ctx} in {attempts} attempts")


def groups_of(spec: SchedulerSpec, group_lrs: tuple[float, ...]) -> tuple[float, ...]:
    """``group_lrs`` where the library schedules param groups; none for a Keras or optax schedule (one lr)."""
    return tuple(group_lrs) if spec.groups else ()


def interval_of(spec: SchedulerSpec, wanted: str) -> str:
    """``wanted`` where the library can be stepped that way, else ``"step"`` (timm, Keras, optax, fastai are
    driven their own way)."""
    from lrlab.simulate import intervals_for

    return wanted if wanted in intervals_for(spec) else "step"


def draw_run(rng: random.Random, *, max_steps: int = 3000) -> tuple[int, float, tuple[float, ...]]:
    """(steps, base_lr, group_lrs) for one run: steps in [1, max_steps] (half log-uniform, half uniform),
    lrs log-uniform in [1e-4, 10], a second param group half of the time."""
    roll = rng.random()
    if roll < 0.05:
        steps = 1
    elif roll < 0.5:  # short runs, where the edges of every schedule are close together
        steps = round(math.exp(rng.uniform(0, math.log(max_steps))))
    else:  # long runs, where recursive schedulers drift most
        steps = rng.randint(1, max_steps)
    base_lr = 10 ** rng.uniform(-4, 1)
    group_lrs = (10 ** rng.uniform(-4, 1),) if rng.random() < 0.5 else ()
    return steps, base_lr, group_lrs


def context(steps: int, base_lr: float, group_lrs: tuple[float, ...] = ()) -> RunContext:
    """The RunContext lrlab builds for these run settings (for drawing params against the cross rules)."""
    return RunContext(steps=steps, base_lr=float(base_lr), group_lrs=(float(base_lr), *group_lrs))
