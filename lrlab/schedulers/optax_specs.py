"""Registry entries for ``optax.schedules`` (optax 0.2.8, jax 0.10.2): every schedule it exports.

An optax schedule is a pure function of the update count; the optimizer reads it through
``optax.inject_hyperparams`` (or ``optax.sgd(learning_rate=schedule)``) with an int32 count, 0 for the
first update. lrlab draws two columns from the real schedule (see :mod:`lrlab.schedulers._optax_jax`):
``lr``, row t = ``schedule(t)`` called eagerly on the int32 count t, and ``lr_jit``, the same call
compiled by ``jax.jit`` as a train step compiles it; a note names every step where they differ.

Parameter names are optax's own. The parameter that holds the lr itself (``init_value`` / ``peak_value`` /
``value``) is the run's base lr (``base_lr_param``). Where optax would silently fall back to something
else (a constant schedule for ``transition_steps <= 0``, a dict whose keys collide), lrlab refuses the
value and says what optax would have done. ``join_schedules`` takes its children as
``{"name": "optax:...", <that schedule's params>}``; ``sgdr_schedule`` takes optax's ``cosine_kwargs``;
``boundaries_and_scales`` is optax's ``{step: scale}`` mapping (JSON keys are strings: ``{"100": 0.1}``).

Nothing here imports jax or optax at import time: :mod:`lrlab.schedulers._optax_jax` does, when a
schedule is first driven.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lrlab.schedulers import _optax_explain as X
from lrlab.schedulers import _optax_formulas as F
from lrlab.schedulers._optax_args import CYCLE_KEYS, _registry, child_lr, children, cycle_args, onecycle_knots
from lrlab.specs import (
    MAX_LIST_LEN,
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

P = Mapping[str, Any]
DOCS = "https://optax.readthedocs.io/en/latest/api/optimizer_schedules.html#optax.schedules.{}"
REQUIRES = ("optax", "jax")
INSTALL = "pip install optax  (installs jax and a CPU jaxlib)"
#: optax computes in float32: the float64 closed forms agree within this, relative to the curve's largest
#: lr (measured in tests/test_lib_optax.py over random configs: see FLOAT32_NOTE).
TOLERANCE = 2e-6
FLOAT32_NOTE = (
    "optax computes in float32: lrlab's float64 closed form agrees within 2e-6 of the schedule's scale (its largest "
    "lr or init/peak/end value; measured ≤ 4.4e-7 over 1,400 random configurations with powers and exponents ≥ 1 "
    "and decay rates ≤ 0.99). float32 departs further where rounding is amplified: a power or exponent below 1 "
    "near the end of a transition (1 − t/T or 1 + cos(πt/T) keep few digits there: exponent 0.1 over 3,000 steps "
    "≈ 1e-4), and a decay_rate close to 1 raised to a large power (0.9999 is 0.99989998 in float32: ≈ 4e-5 after "
    "20,000 steps); lrlab then reports the difference."
)
EAGER_NOTE = (
    "lr: schedule(t) called eagerly on the int32 count t, as an un-jitted update step calls it; lr_jit: "
    "jax.jit(schedule)(t), as a jitted train step applies it. Both are float32."
)
MAX_CYCLES = 20


# ---- parameters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptaxParam(ParamSpec):
    """A parameter whose refusal also says what optax itself would have done with the refused value."""

    why: str = ""

    def allowed_text(self, steps: int) -> str:
        text = super().allowed_text(steps)
        return f"{text} ({self.why})" if self.why else text


def _number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(float(value))
    )


def _step_key(key: Any) -> int | None:
    """A boundary step given as an int or as the text of one (JSON object keys are strings)."""
    if isinstance(key, bool):
        return None
    if isinstance(key, (int, np.integer)):
        return int(key)
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key.strip())
    if isinstance(key, float) and key.is_integer():
        return int(key)
    return None


@dataclass(frozen=True)
class BoundariesAndScales(ParamSpec):
    """optax's ``boundaries_and_scales``: ``{step: scale}``, shown and edited as JSON (kind ``children``:
    the JSON editor). Validated to a tuple of ``(step, scale)`` pairs sorted by step; ``[[step, scale], …]``
    (that tuple's JSON form) is accepted too."""

    def allowed_text(self, steps: int) -> str:
        return (
            f"must be a mapping {{step: scale}} of 1 to {MAX_LIST_LEN} boundaries, each step an integer in "
            f"[0, {MAX_STEPS}] and each scale a number in [0, 1000] (optax refuses a negative scale), "
            'e.g. {"100": 0.1, "200": 0.1}'
        )

    def coerce(self, value: Any, steps: int) -> Any:
        bad = invalid(self.name, value, self.allowed_text(steps))
        data = value.to_dict() if isinstance(value, FrozenMap) else value
        if isinstance(data, Mapping):
            items = list(data.items())
        elif isinstance(data, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in data):
            items = [tuple(p) for p in data]
        else:
            raise bad
        if not 1 <= len(items) <= MAX_LIST_LEN:
            raise bad
        pairs: dict[int, float] = {}
        for key, scale in items:
            step = _step_key(key)
            if step is None or not 0 <= step <= MAX_STEPS or step in pairs:
                raise bad
            if not _number(scale) or not 0 <= float(scale) <= 1e3:
                raise bad
            pairs[step] = float(scale)
        return tuple(sorted(pairs.items()))


CYCLE_REQUIRED = ("init_value", "warmup_steps", "decay_steps")


@dataclass(frozen=True)
class CosineKwargs(ParamSpec):
    """``sgdr_schedule``'s ``cosine_kwargs``: one mapping of ``warmup_cosine_decay_schedule`` arguments per
    cycle. A cycle without ``peak_value`` peaks at the run's base lr; ``end_value`` defaults to 0 and
    ``exponent`` to 1, as in optax. Validated to a tuple of complete mappings (peak_value None = base lr)."""

    def allowed_text(self, steps: int) -> str:
        return (
            f"must be a list of 1 to {MAX_CYCLES} cycles, each a mapping of warmup_cosine_decay_schedule's "
            "arguments: init_value, warmup_steps and decay_steps (required), peak_value (default: the run's "
            "base lr), end_value (default 0.0), exponent (default 1.0)"
        )

    def coerce(self, value: Any, steps: int) -> Any:
        bad = invalid(self.name, value, self.allowed_text(steps))
        if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_CYCLES:
            raise bad
        cycles = []
        for i, raw in enumerate(value):
            cycle = raw.to_dict() if isinstance(raw, FrozenMap) else raw
            if not isinstance(cycle, Mapping) or not set(cycle) <= set(CYCLE_KEYS):
                raise bad
            if any(cycle.get(k) is None for k in CYCLE_REQUIRED):
                raise bad
            full = {"peak_value": None, "end_value": 0.0, "exponent": 1.0, **cycle}
            cycles.append(FrozenMap(sorted(_cycle_values(full, f"{self.name}[{i}]").items())))
        return tuple(cycles)


def _cycle_values(cycle: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in cycle.items():
        name = f"{where}.{key}"
        if key in ("warmup_steps", "decay_steps"):
            low = 0 if key == "warmup_steps" else 1
            if (
                not _number(value)
                or not (isinstance(value, int) or float(value).is_integer())
                or not low <= value <= MAX_STEPS
            ):
                raise invalid(name, value, f"must be an integer in [{low}, {MAX_STEPS}]")
            out[key] = int(value)
        elif key == "peak_value" and value is None:
            out[key] = None
        elif key == "exponent":
            if not _number(value) or not 0 < value <= 10:
                raise invalid(name, value, "must be a number in (0, 10]")
            out[key] = float(value)
        else:
            if not _number(value) or not 0 <= value:  # an lr: any finite one >= 0, as a value parameter
                raise invalid(name, value, "must be a finite number ≥ 0")
            out[key] = float(value)
    if out["decay_steps"] <= out["warmup_steps"]:
        raise invalid(
            f"{where}.decay_steps",
            out["decay_steps"],
            f"must be greater than warmup_steps ({out['warmup_steps']}): decay_steps includes the warm-up, and "
            "optax's cosine_decay_schedule refuses decay_steps − warmup_steps ≤ 0 (ValueError)",
        )
    return out


def _int(name: str, default: Any, help: str, *, low: int = 0, why: str = "", symbol: str = "") -> ParamSpec:
    return OptaxParam(name, "int", default, help, low=low, high=MAX_STEPS, symbol=symbol, why=why)


def _value(name: str, default: Any, help: str, *, symbol: str, optional: bool = False) -> ParamSpec:
    return ParamSpec(name, "float", default, help, low=0.0, high=MAX_LR, log=True, optional=optional, symbol=symbol)


def _base(name: str, help: str, symbol: str) -> ParamSpec:
    """The parameter that holds the lr itself: the run's base lr (never a widget of its own)."""
    return ParamSpec(
        name, "float", 0.1, help + " (the run's base lr)", low=0.0, high=MAX_LR, low_open=True, log=True, symbol=symbol
    )


NO_CONSTANT = "optax would silently return a constant schedule at init_value instead"
TRANSITION_STEPS = _int(
    "transition_steps",
    lambda n: n,
    "Steps over which the value moves from init_value to end_value.",
    low=1,
    why=f"for transition_steps ≤ 0 {NO_CONSTANT}",
    symbol="T",
)
TRANSITION_BEGIN = _int(
    "transition_begin",
    0,
    "Steps to hold init_value before the transition starts.",
    why="optax would silently use 0 for a negative transition_begin",
    symbol="B",
)
END_VALUE = _value("end_value", 0.0, "The value after the transition (absolute).", symbol="E")
POWER = OptaxParam(
    "power",
    "float",
    2.0,
    "Power of the polynomial (1 = linear).",
    low=0.0,
    high=10.0,
    low_open=True,
    symbol="p",
)
EXP_TRANSITION_STEPS = _int(
    "transition_steps",
    lambda n: max(1, n // 10),
    "Steps per factor decay_rate (the time scale of the decay).",
    low=1,
    why=f"for transition_steps ≤ 0 {NO_CONSTANT}",
    symbol="T",
)
DECAY_RATE = OptaxParam(
    "decay_rate",
    "float",
    0.5,
    "Factor per transition_steps (above 1 it grows).",
    low=0.0,
    high=10.0,
    low_open=True,
    why=f"for decay_rate 0 {NO_CONSTANT}; a negative one gives NaN",
    symbol="r",
)
STAIRCASE = ParamSpec("staircase", "bool", False, "Decay in whole steps of transition_steps (floor of the exponent).")
EXP_END_VALUE = _value(
    "end_value",
    None,
    "Floor of the decay (a ceiling when decay_rate > 1); empty: none.",
    symbol="E",
    optional=True,
)
EXPONENT = ParamSpec(
    "exponent",
    "float",
    1.0,
    "Exponent of the cosine factor (1 = the plain cosine).",
    low=0.0,
    high=10.0,
    low_open=True,
    symbol="e",
)
INIT_VALUE = _value("init_value", 0.0, "The value the warm-up starts from (absolute).", symbol="I")
WARMUP_STEPS = _int(
    "warmup_steps", lambda n: n // 10, "Steps of linear warm-up from init_value to peak_value.", symbol="W"
)
BOUNDARIES_AND_SCALES = BoundariesAndScales(
    "boundaries_and_scales",
    "children",
    lambda n: {max(1, n // 2): 0.1, max(2, 3 * n // 4): 0.1},
    "{step: scale}: from each step on, the value is multiplied by its scale (JSON keys are strings).",
    symbol="b_i, s_i",
)


# ---- how the real schedule is built: optax's own arguments --------------------------------------------

BASE_PARAM = {
    "constant_schedule": "value",
    "linear_schedule": "init_value",
    "polynomial_schedule": "init_value",
    "exponential_decay": "init_value",
    "cosine_decay_schedule": "init_value",
    "warmup_cosine_decay_schedule": "peak_value",
    "warmup_constant_schedule": "peak_value",
    "warmup_exponential_decay_schedule": "peak_value",
    "piecewise_constant_schedule": "init_value",
    "piecewise_interpolate_schedule": "init_value",
    "linear_onecycle_schedule": "peak_value",
    "cosine_onecycle_schedule": "peak_value",
    "sgdr_schedule": None,
    "join_schedules": None,
}


def call_args(short: str, p: P, base_lr: float) -> dict[str, Any]:
    """The keyword arguments of ``optax.schedules.<short>`` for these validated params (join_schedules:
    ``schedules`` holds each child as ``(name, its arguments)``)."""
    if short == "join_schedules":
        kids = [
            (spec.short_name, call_args(spec.short_name, params, child_lr(spec, params, base_lr)))
            for spec, params in children(p)
        ]
        return {"schedules": kids, "boundaries": list(p["boundaries"])}
    if short == "sgdr_schedule":
        return {"cosine_kwargs": [cycle_args(c, base_lr) for c in p["cosine_kwargs"]]}
    base = BASE_PARAM[short]
    lr = float(p[base]) if p.get(base) is not None else float(base_lr)  # a join child's own value, else the run's
    order = [q.name for q in _registry()[f"optax:{short}"].params]  # optax's own argument order
    args = {name: (lr if name == base else p[name]) for name in order}
    if "boundaries_and_scales" in args:
        args["boundaries_and_scales"] = dict(args["boundaries_and_scales"])
    return args


def _build(short: str):
    def build(optimizer: Any, p: P, ctx: RunContext) -> Any:
        from lrlab.schedulers import _optax_jax

        return _optax_jax.build(short, call_args(short, p, ctx.base_lr))

    return build


#: The parameters that are lrs (optax's own names), wherever they sit (a join's children, sgdr's cycles).
_LR_VALUES = frozenset({"init_value", "peak_value", "end_value", "value"})


def rounding_noise(p: P, ctx: RunContext) -> float:
    """The absolute difference that is optax's float32 rounding: :data:`TOLERANCE` of the largest lr the
    schedule handles (the run's lr and every init/peak/end value in its parameters). Near 0 — the end of a
    cosine or a linear decay to 0 — float32 cancellation makes any purely relative bound fail."""
    found = [abs(ctx.base_lr)]

    def walk(value: Any, key: Any = None) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key)
        elif key in _LR_VALUES and isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(abs(float(value)))

    walk(p)
    return TOLERANCE * max(found)


def _drive(short: str):
    def drive(p: P, ctx: RunContext, config: ScheduleConfig) -> Driven:
        from lrlab.schedulers import _optax_jax

        schedule = _optax_jax.build(short, call_args(short, p, ctx.base_lr))
        eager = _optax_jax.eager(schedule, ctx.steps)
        jit = _optax_jax.jitted(schedule, ctx.steps)
        return Driven(
            lrs=eager.astype(np.float64)[:, None],
            columns=(("lr_jit", jit.astype(np.float64)),),
            notes=_optax_jax.jit_notes(eager, jit),
        )

    return drive


# ---- join_schedules' children ------------------------------------------------------------------------


def _child_spec(name: Any, where: str) -> SchedulerSpec:
    from lrlab.schedulers import get_spec

    try:
        spec = get_spec(name)
    except LrlabError:
        spec = None
    if spec is None or spec.library != "optax" or spec.name == "optax:join_schedules":
        raise LrlabError(
            f"Invalid {where}.name ({name!r}): must be an optax schedule other than join_schedules "
            "(optax:constant_schedule, optax:cosine_decay_schedule, …)",
            field=f"{where}.name",
        )
    return spec


def _join_rule(values: dict[str, Any], ctx: RunContext) -> None:
    validated = []
    for i, child in enumerate(values["schedules"]):
        where = f"schedules[{i}]"
        data = child.to_dict() if isinstance(child, FrozenMap) else dict(child)
        spec = _child_spec(data.pop("name", None), where)
        base = spec.base_lr_param
        own = data.pop(base, None) if base else None
        if own is not None and (not _number(own) or not 0 <= own):
            raise invalid(f"{where}.{base}", own, "must be a finite number ≥ 0 (or left out: the run's base lr)")
        lr = float(own) if own is not None else ctx.base_lr
        try:
            params = spec.validate(data, replace(ctx, base_lr=lr, group_lrs=(lr,)))
        except LrlabError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            text = str(exc).replace(f"Invalid {exc.field} ", f"Invalid {field} ", 1) if exc.field else f"{where}: {exc}"
            raise LrlabError(f"{text} (in {spec.name})", field=field) from None
        if own is not None:
            params[base] = float(own)
        validated.append(FrozenMap(sorted({"name": spec.name, **params}.items())))
    values["schedules"] = tuple(validated)
    bounds, n = list(values["boundaries"]), len(validated)
    if len(bounds) != n - 1:
        raise invalid(
            "boundaries",
            bounds,
            f"needs {n - 1} boundar{'y' if n == 2 else 'ies'} for {n} schedules (optax does not check: zip() drops "
            "the schedules or boundaries left over)",
        )
    if bounds != sorted(bounds):
        raise invalid(
            "boundaries",
            bounds,
            "must be in increasing order (optax does not check: a later child then hides an earlier one)",
        )


def _join_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    pieces = []
    for spec, params in children(p):
        lr = child_lr(spec, params, lr0)
        kid_ctx = replace(ctx, base_lr=lr, group_lrs=(lr,))
        pieces.append(
            lambda local, spec=spec, params=params, lr=lr, kid_ctx=kid_ctx: spec.closed_form(local, lr, params, kid_ctx)
        )
    return F.join(t, pieces, list(p["boundaries"]))


# ---- cross-parameter rules ---------------------------------------------------------------------------


def _warmup_cosine_rule(values: P, ctx: RunContext) -> None:
    w, d = values["warmup_steps"], values["decay_steps"]
    if d <= w:
        raise invalid(
            "decay_steps",
            d,
            f"must be greater than warmup_steps ({w}): optax's decay_steps includes the warm-up (the cosine runs "
            "decay_steps − warmup_steps steps), and cosine_decay_schedule refuses a length ≤ 0 (ValueError)",
        )


def _linear_onecycle_rule(values: P, ctx: RunContext) -> None:
    n = values["transition_steps"]
    start, final = int(values["pct_start"] * n), int(values["pct_final"] * n)
    if not start < final:
        raise invalid(
            "pct_final",
            values["pct_final"],
            f"must put the end of the decay after the peak: int(pct_final · transition_steps) = {final} is not after "
            f"int(pct_start · transition_steps) = {start} (optax builds {{{start}: …, {final}: …}}: the keys collide "
            "or come out of order, and the peak silently disappears)",
        )
    if not final < n:
        raise invalid(
            "pct_final",
            values["pct_final"],
            f"must end the decay before transition_steps ({n}): int(pct_final · transition_steps) = {final} collides "
            "with the last boundary in optax's {step: scale} dict, which silently drops one of the two",
        )


def _cosine_onecycle_rule(values: P, ctx: RunContext) -> None:
    n = values["transition_steps"]
    start = int(values["pct_start"] * n)
    if not start < n:
        raise invalid(
            "pct_start",
            values["pct_start"],
            f"must put the peak before transition_steps ({n}): int(pct_start · transition_steps) = {start} collides "
            "with the last boundary in optax's {step: scale} dict, and the peak silently disappears",
        )


# ---- closed forms, in the shape the engine calls them ---------------------------------------------------


def _closed(fn, short: str, *names: str):
    base = BASE_PARAM[short]

    def closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
        return fn(t, **{base: lr0}, **{k: p[k] for k in names})

    return closed


#: The one-cycles' start and final divisors (linear_onecycle_schedule and cosine_onecycle_schedule share them).
ONECYCLE_DIVS = (
    ParamSpec(
        "div_factor",
        "float",
        25.0,
        "Start value = peak_value / div_factor.",
        low=0.0,
        high=1e6,
        low_open=True,
        log=True,
        symbol="d",
    ),
    ParamSpec(
        "final_div_factor",
        "float",
        1e4,
        "Final value = start value / final_div_factor.",
        low=0.0,
        high=1e9,
        low_open=True,
        log=True,
        symbol="f",
    ),
)


def _onecycle_closed(kind: str):
    def closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
        init, pairs = onecycle_knots(kind, p, lr0)
        return F.piecewise_interpolate(
            t, interpolate_type=kind, init_value=init, boundaries_and_scales=dict(pairs).items()
        )

    return closed


def _sgdr_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    cycles = [cycle_args(c, lr0) for c in p["cosine_kwargs"]]
    pieces = [lambda local, c=c: F.warmup_cosine_decay(local, **c) for c in cycles]
    return F.join(t, pieces, F.sgdr_boundaries([c["decay_steps"] for c in cycles]))


# ---- export: optax's own idiom ---------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _call(short: str, args: Mapping[str, Any], indent: str = "") -> str:
    items = [f"{k}={_literal(v)}" for k, v in args.items()]
    one_line = f"optax.schedules.{short}({', '.join(items)})"
    if len(indent) + len(one_line) <= 100:
        return one_line
    inner = "".join(f"\n{indent}    {item}," for item in items)
    return f"optax.schedules.{short}({inner}\n{indent})"


def schedule_code(short: str, p: P, base_lr: float) -> str:
    """Python that builds the schedule as ``schedule`` (a join builds its children first)."""
    args = call_args(short, p, base_lr)
    if short != "join_schedules":
        return f"schedule = {_call(short, args)}"
    lines = [f"child_{i} = {_call(name, kid)}" for i, (name, kid) in enumerate(args["schedules"])]
    names = ", ".join(f"child_{i}" for i in range(len(args["schedules"])))
    lines.append(f"schedule = optax.schedules.join_schedules([{names}], boundaries={args['boundaries']!r})")
    return "\n".join(lines)


SCRIPT = '''"""optax.schedules.{short} driving optax.sgd through inject_hyperparams (written by lrlab).

{title}.
"""

import jax
import jax.numpy as jnp
import optax

{schedule}
# inject_hyperparams keeps the lr in the optimizer state: hyperparams["learning_rate"] is schedule(count),
# with count the number of updates done before this one (0 for the first update)
optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
TRUE_W = jnp.array([1.0, -2.0, 0.5, 3.0])


def batch(epoch, i):
    """Your data: batch i of an epoch (the schedule only sees the update count)."""
    x = jnp.sin(jnp.arange(32.0).reshape(8, 4) + 0.1 * i + epoch)
    return x, x @ TRUE_W


def loss_fn(params, x, y):
    return jnp.mean((x @ params - y) ** 2)


# A jitted train step, as optax training loops are written: the schedule runs compiled, on the int32 count.
# So the lrs below are lrlab's lr_jit column; without @jax.jit the update runs eagerly and gives its lr column.
@jax.jit
def train_step(params, opt_state, x, y):
    grads = jax.grad(loss_fn)(params, x, y)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def train(steps={steps}, steps_per_epoch={spe}):
    """Runs `steps` updates; returns the learning rate each update used."""
    params = jnp.zeros(4)
    opt_state = optimizer.init(params)
    lrs = []
    for step in range(steps):
        epoch, i = divmod(step, steps_per_epoch)
        params, opt_state = train_step(params, opt_state, *batch(epoch, i))
        lrs.append(float(opt_state.hyperparams["learning_rate"]))  # the lr this update used
    return lrs


if __name__ == "__main__":
    lrs = train()
    print(f"trained {{len(lrs)}} steps, final lr {{lrs[-1]:.6g}}")
'''


def _export(short: str, title: str):
    def export(config: ScheduleConfig, p: P, ctx: RunContext) -> str:
        return SCRIPT.format(
            title=title.split(" — ", 1)[-1][:1].upper() + title.split(" — ", 1)[-1][1:],
            short=short,
            schedule=schedule_code(short, p, ctx.base_lr),
            steps=config.steps,
            spe=config.steps_per_epoch,
        )

    return export


# ---- the specs ---------------------------------------------------------------------------------------

COMMON_NOTES = (FLOAT32_NOTE, EAGER_NOTE)
WARMUP_NOTE = "The warm-up starts at init_value (0 by default) at t = 0: with 0 the first update is wasted."


def _spec(short: str, **fields: Any) -> SchedulerSpec:
    fields["notes"] = (*fields.get("notes", ()), *COMMON_NOTES)
    fields.setdefault("reference", DOCS.format(short))
    fields.setdefault("base_lr_param", BASE_PARAM[short])
    return SchedulerSpec(
        name=f"optax:{short}",
        library="optax",
        build=_build(short),
        drive=_drive(short),
        export=_export(short, fields["title"]),
        tolerance=TOLERANCE,
        rounding=rounding_noise,
        requires=REQUIRES,
        install=INSTALL,
        intervals=("step",),
        groups=False,
        aliases=(f"optax.schedules.{short}", f"optax.{short}"),
        **fields,
    )


POLY_CASES = (
    r"\eta_t = \begin{cases} I, & t < B \\ (I - E)\left(1 - \frac{t - B}{T}\right)^{p} + E, & B \le t < B + T \\"
    r" E, & t \ge B + T \end{cases}"
)
JIT_POLY_NOTE = (
    "Jitted, polynomial_schedule with a power that is not an integer returns NaN from the end of its transition "
    "(t ≥ B + T) on, where the eager call returns end_value: XLA computes count / T as count · (1/T) and fuses "
    "1 − count · (1/T) into one multiply-add, which leaves 1 − t/T at −1.5e-8 instead of 0, and a negative "
    "number to a fractional power is NaN. The lr_jit column shows it; a jitted train step would write NaN "
    "into the parameters."
)
JIT_LINEAR_NOTE = (
    "Jitted, the end of the transition is off by float32 rounding: with end_value 0 the jitted lr is about "
    "−3e-9 (negative) from t = B + T on, where the eager call gives exactly 0 (XLA's count · (1/T) again)."
)
JIT_STAIRCASE_NOTE = (
    "Jitted, staircase=True decays one step late at some multiples of transition_steps (for transition_steps "
    "41, 47, 55, 61, 82, 83, 94, 97, … at t − B = k·transition_steps): XLA computes (t − B) / transition_steps "
    "as (t − B) · (1/transition_steps), which lands just below the integer k, and floor() takes k − 1. The eager "
    "call, and a plain division, decay on time; lr_jit shows where the compiled one does not."
)
NO_FALLBACK = (
    "optax returns a constant schedule at init_value, without an error, for transition_steps ≤ 0 (and, "
    "in exponential_decay, for decay_rate = 0), and uses 0 for a negative transition_begin; lrlab refuses "
    "those values instead."
)
# Where optax's docstrings and its code disagree: lrlab follows the code.
BEGIN_DOCS_NOTE = (
    'optax\'s docs say transition_begin "must be positive"; the code takes 0 (its own default: the transition starts '
    "at once) and treats a negative value as 0 (it only logs); lrlab follows the code for 0 and refuses a negative "
    "value by name."
)
KNOTS_NOTE = (
    "optax interpolates between accumulated values: the value at boundary b_i is init_value times the product "
    "of the scales up to it, reached AT b_i (the next segment starts there)."
)

SPECS: tuple[SchedulerSpec, ...] = (
    _spec(
        "constant_schedule",
        title="constant_schedule — the lr never changes",
        summary="A constant: schedule(count) returns value for every count.",
        params=(_base("value", "The value held at every step.", r"\eta_0"),),
        closed_form=_closed(F.constant, "constant_schedule"),
        formula=r"\eta_t = \eta_0",
        legend=((r"\eta_0", "value"), ("t", "update count (0 for the first update)")),
        notes=("optax returns value itself (a Python float): the optimizer casts it to its float32 parameters.",),
        explainer=X.constant,
    ),
    _spec(
        "linear_schedule",
        title="linear_schedule — straight from init_value to end_value",
        summary="Holds init_value for transition_begin steps, then moves linearly to end_value over "
        "transition_steps steps, and holds it. optax builds it as polynomial_schedule with power 1.",
        params=(
            _base("init_value", "The value before and at the start of the transition.", "I"),
            END_VALUE,
            TRANSITION_STEPS,
            TRANSITION_BEGIN,
        ),
        closed_form=_closed(F.linear, "linear_schedule", "end_value", "transition_steps", "transition_begin"),
        formula=r"\eta_t = \begin{cases} I, & t < B \\ I + \frac{t - B}{T}\,(E - I), & B \le t < B + T \\ E, & t \ge B + T \end{cases}",
        legend=(
            ("I", "init_value"),
            ("E", "end_value"),
            ("T", "transition_steps"),
            ("B", "transition_begin"),
            ("t", "update count"),
        ),
        notes=(
            "Equivalent to polynomial_schedule with power=1 (optax builds it that way); warmup_constant_schedule "
            "is this schedule from init_value to peak_value.",
            NO_FALLBACK,
            BEGIN_DOCS_NOTE,
            JIT_LINEAR_NOTE,
        ),
        explainer=X.linear,
    ),
    _spec(
        "polynomial_schedule",
        title="polynomial_schedule — (1 − progress)^power from init_value to end_value",
        summary="Holds init_value for transition_begin steps, then follows (I − E)(1 − progress)^power + E to "
        "end_value over transition_steps steps, and holds it.",
        params=(
            _base("init_value", "The value before the transition.", "I"),
            END_VALUE,
            POWER,
            TRANSITION_STEPS,
            TRANSITION_BEGIN,
        ),
        closed_form=_closed(
            F.polynomial, "polynomial_schedule", "end_value", "power", "transition_steps", "transition_begin"
        ),
        formula=POLY_CASES,
        legend=(
            ("I", "init_value"),
            ("E", "end_value"),
            ("p", "power"),
            ("T", "transition_steps"),
            ("B", "transition_begin"),
            ("t", "update count"),
        ),
        notes=(NO_FALLBACK, BEGIN_DOCS_NOTE, JIT_POLY_NOTE),
        explainer=X.polynomial,
    ),
    _spec(
        "exponential_decay",
        title="exponential_decay — ×decay_rate every transition_steps (smooth or staircase)",
        summary="init_value · decay_rate^((t − transition_begin) / transition_steps) after transition_begin; "
        "staircase floors the exponent; end_value bounds it (a floor for decay_rate < 1, a ceiling above).",
        params=(
            _base("init_value", "The value up to transition_begin.", "I"),
            EXP_TRANSITION_STEPS,
            DECAY_RATE,
            TRANSITION_BEGIN,
            STAIRCASE,
            EXP_END_VALUE,
        ),
        closed_form=_closed(
            F.exponential_decay,
            "exponential_decay",
            "transition_steps",
            "decay_rate",
            "transition_begin",
            "staircase",
            "end_value",
        ),
        formula=(
            r"\eta_t = \begin{cases} I, & t \le B \\ \operatorname{clip}_E\!\left(I\,r^{\,q}\right),\ q = \frac{t - B}{T}"
            r"\ (\lfloor q \rfloor \text{ with staircase}), & t > B \end{cases}"
        ),
        legend=(
            ("I", "init_value"),
            ("T", "transition_steps"),
            ("r", "decay_rate"),
            ("B", "transition_begin"),
            ("E", "end_value"),
            (r"\operatorname{clip}_E", "max(·, E) for r < 1, min(·, E) for r ≥ 1; none without E"),
            ("t", "update count"),
        ),
        notes=(NO_FALLBACK, BEGIN_DOCS_NOTE, JIT_STAIRCASE_NOTE),
        explainer=X.exponential,
    ),
    _spec(
        "cosine_decay_schedule",
        title="cosine_decay_schedule — half a cosine from init_value down to alpha · init_value",
        summary="A cosine decay over decay_steps steps to alpha × init_value, held from then on; exponent bends "
        "the cosine factor.",
        params=(
            _base("init_value", "The value at t = 0.", "I"),
            OptaxParam(
                "decay_steps",
                "int",
                lambda n: n,
                "Steps of the decay.",
                low=1,
                high=MAX_STEPS,
                symbol="T",
                why="optax raises ValueError for decay_steps ≤ 0",
            ),
            ParamSpec(
                "alpha", "float", 0.0, "Final value as a share of init_value.", low=0.0, high=1.0, symbol=r"\alpha"
            ),
            EXPONENT,
        ),
        closed_form=_closed(F.cosine_decay, "cosine_decay_schedule", "decay_steps", "alpha", "exponent"),
        formula=r"\eta_t = I\left[(1 - \alpha)\left(\tfrac{1}{2}\left(1 + \cos\frac{\pi \min(t, T)}{T}\right)\right)^{e} + \alpha\right]",
        legend=(
            ("I", "init_value"),
            ("T", "decay_steps"),
            (r"\alpha", "alpha"),
            ("e", "exponent"),
            ("t", "update count"),
        ),
        notes=("Past decay_steps it holds alpha · init_value (torch's CosineAnnealingLR climbs back up).",),
        explainer=X.cosine,
    ),
    _spec(
        "warmup_cosine_decay_schedule",
        title="warmup_cosine_decay_schedule — linear warm-up, then cosine decay (decay_steps includes the warm-up)",
        summary="Rises linearly from init_value to peak_value over warmup_steps, then a cosine decay to end_value; "
        "decay_steps is the TOTAL length, warm-up included.",
        params=(
            INIT_VALUE,
            _base("peak_value", "The value at the end of the warm-up.", "P"),
            WARMUP_STEPS,
            OptaxParam(
                "decay_steps",
                "int",
                lambda n: n,
                "Total length of warm-up plus decay (the cosine runs decay_steps − warmup_steps).",
                low=1,
                high=MAX_STEPS,
                symbol="D",
            ),
            _value("end_value", 0.0, "The value at the end of the decay (absolute).", symbol="E"),
            EXPONENT,
        ),
        closed_form=_closed(
            F.warmup_cosine_decay,
            "warmup_cosine_decay_schedule",
            "init_value",
            "warmup_steps",
            "decay_steps",
            "end_value",
            "exponent",
        ),
        rules=(_warmup_cosine_rule,),
        formula=(
            r"\eta_t = \begin{cases} I + (P - I)\,\frac{t}{W}, & t < W \\"
            r" P\left[(1 - \alpha)\left(\tfrac{1}{2}\left(1 + \cos\frac{\pi \min(t - W,\ D - W)}{D - W}\right)\right)^{e} + \alpha\right],"
            r"\ \alpha = \frac{E}{P}, & t \ge W \end{cases}"
        ),
        legend=(
            ("I", "init_value"),
            ("P", "peak_value"),
            ("W", "warmup_steps"),
            ("D", "decay_steps"),
            ("E", "end_value"),
            ("e", "exponent"),
            (r"\alpha", "end_value / peak_value"),
            ("t", "update count"),
        ),
        notes=(
            "decay_steps includes the warm-up: warmup_steps=100, decay_steps=1000 is 100 steps up and 900 down "
            "(Keras' CosineDecay counts its decay_steps after the warm-up).",
            WARMUP_NOTE,
            "optax joins a linear_schedule and a cosine_decay_schedule at warmup_steps (join_schedules).",
            "optax's docs for exponent write the cosine as 0.5·(1 + cos(π·t/T)) with T = decay_steps; the code runs it on "
            "the local time t − warmup_steps over decay_steps − warmup_steps (warm-up 10, decay_steps 100: 0.5 at "
            "t = 55, not 0.42); lrlab follows the code.",
        ),
        explainer=X.warmup_cosine,
    ),
    _spec(
        "warmup_constant_schedule",
        title="warmup_constant_schedule — linear warm-up, then constant",
        summary="Rises linearly from init_value to peak_value over warmup_steps and holds peak_value.",
        params=(
            INIT_VALUE,
            _base("peak_value", "The value reached at the end of the warm-up and held.", "P"),
            _int(
                "warmup_steps",
                lambda n: max(1, n // 10),
                "Steps of linear warm-up.",
                low=1,
                symbol="W",
                why="optax's linear warm-up over 0 steps silently holds init_value forever: the lr never reaches peak_value",
            ),
        ),
        closed_form=lambda t, lr0, p, ctx: F.linear(
            t, init_value=p["init_value"], end_value=lr0, transition_steps=p["warmup_steps"]
        ),
        formula=r"\eta_t = \begin{cases} I + (P - I)\,\frac{t}{W}, & t < W \\ P, & t \ge W \end{cases}",
        legend=(("I", "init_value"), ("P", "peak_value"), ("W", "warmup_steps"), ("t", "update count")),
        notes=(
            "It is linear_schedule(init_value, peak_value, warmup_steps).",
            WARMUP_NOTE,
            JIT_LINEAR_NOTE.replace("end_value 0", "peak_value 0"),
        ),
        explainer=X.warmup_constant,
    ),
    _spec(
        "warmup_exponential_decay_schedule",
        title="warmup_exponential_decay_schedule — linear warm-up, then exponential decay",
        summary="Rises linearly from init_value to peak_value over warmup_steps, then exponential_decay from "
        "peak_value, on its own clock that starts at warmup_steps.",
        params=(
            INIT_VALUE,
            _base("peak_value", "The value at the end of the warm-up.", "P"),
            WARMUP_STEPS,
            EXP_TRANSITION_STEPS,
            DECAY_RATE,
            TRANSITION_BEGIN,
            STAIRCASE,
            EXP_END_VALUE,
        ),
        closed_form=_closed(
            F.warmup_exponential_decay,
            "warmup_exponential_decay_schedule",
            "init_value",
            "warmup_steps",
            "transition_steps",
            "decay_rate",
            "transition_begin",
            "staircase",
            "end_value",
        ),
        formula=(
            r"\eta_t = \begin{cases} I + (P - I)\,\frac{t}{W}, & t < W \\ P, & W \le t \le W + B \\"
            r" \operatorname{clip}_E\!\left(P\,r^{\,q}\right),\ q = \frac{t - W - B}{T}\ (\lfloor q \rfloor \text{ with staircase}), & t > W + B \end{cases}"
        ),
        legend=(
            ("I", "init_value"),
            ("P", "peak_value"),
            ("W", "warmup_steps"),
            ("T", "transition_steps"),
            ("r", "decay_rate"),
            ("B", "transition_begin"),
            ("E", "end_value"),
            (r"\operatorname{clip}_E", "max(·, E) for r < 1, min(·, E) for r ≥ 1"),
            ("t", "update count"),
        ),
        notes=(
            "transition_begin counts from the end of the warm-up (the decay child sees t − warmup_steps).",
            WARMUP_NOTE,
            NO_FALLBACK,
            BEGIN_DOCS_NOTE,
            JIT_STAIRCASE_NOTE,
        ),
        explainer=X.warmup_exponential,
    ),
    _spec(
        "piecewise_constant_schedule",
        title="piecewise_constant_schedule — multiply by a scale at each boundary",
        summary="init_value times the scales of every boundary reached so far: {step: scale}, like MultiStepLR "
        "with a factor per milestone.",
        params=(_base("init_value", "The value before the first boundary.", "I"), BOUNDARIES_AND_SCALES),
        closed_form=lambda t, lr0, p, ctx: F.piecewise_constant(
            t, init_value=lr0, boundaries_and_scales=p["boundaries_and_scales"]
        ),
        formula=r"\eta_t = I \prod_{i:\ b_i \le t} s_i",
        legend=(("I", "init_value"), ("b_i, s_i", "boundaries_and_scales"), ("t", "update count")),
        notes=(
            "The scale applies AT its boundary: at t = b the lr is already multiplied (Keras' PiecewiseConstantDecay "
            "switches one step later, after the boundary).",
            "Scales multiply: {100: 0.1, 200: 0.1} gives 0.01 × init_value from step 200.",
        ),
        explainer=X.piecewise_constant,
    ),
    _spec(
        "piecewise_interpolate_schedule",
        title="piecewise_interpolate_schedule — linear or cosine between scaled knots",
        summary="Knots at the boundaries hold init_value times the scales so far; between two knots the value moves "
        "linearly or along a half cosine.",
        params=(
            ParamSpec(
                "interpolate_type", "choice", "linear", "How to move between knots.", choices=("linear", "cosine")
            ),
            _base("init_value", "The value of the first knot (t = 0).", "I"),
            BOUNDARIES_AND_SCALES,
        ),
        closed_form=lambda t, lr0, p, ctx: F.piecewise_interpolate(
            t, interpolate_type=p["interpolate_type"], init_value=lr0, boundaries_and_scales=p["boundaries_and_scales"]
        ),
        formula=(
            r"v_0 = I,\ v_i = v_{i-1}\,s_i;\quad \eta_t = \begin{cases} v_i + (v_{i+1} - v_i)\,p & \text{linear} \\"
            r" v_{i+1} + \frac{v_i - v_{i+1}}{2}\left(1 + \cos \pi p\right) & \text{cosine} \end{cases},"
            r"\ p = \frac{t - b_i}{\max(b_{i+1} - b_i,\ 1)},\ b_i \le t < b_{i+1};\quad \eta_t = v_k,\ t \ge b_k"
        ),
        legend=(
            ("I", "init_value"),
            ("b_i, s_i", "boundaries_and_scales"),
            ("v_i", "the value at knot b_i"),
            ("t", "update count"),
        ),
        notes=(KNOTS_NOTE,),
        explainer=X.piecewise_interpolate,
    ),
    _spec(
        "linear_onecycle_schedule",
        title="linear_onecycle_schedule — one cycle with three linear phases",
        summary="Up from peak/div_factor to peak_value, back down to peak/div_factor by pct_final, then down to "
        "peak/(div_factor·final_div_factor) at transition_steps.",
        params=(
            OptaxParam(
                "transition_steps",
                "int",
                lambda n: max(2, n),
                "Length of the cycle.",
                low=1,
                high=MAX_STEPS,
                symbol="T",
                why="optax raises ValueError for transition_steps ≤ 0",
            ),
            _base("peak_value", "The top of the cycle.", "P"),
            ParamSpec("pct_start", "float", 0.3, "Share of the cycle spent rising.", low=0.0, high=1.0, symbol=r"p_s"),
            ParamSpec(
                "pct_final",
                "float",
                0.85,
                "Share of the cycle at which the descent to the start value ends.",
                low=0.0,
                high=1.0,
                symbol=r"p_f",
            ),
            *ONECYCLE_DIVS,
        ),
        closed_form=_onecycle_closed("linear"),
        rules=(_linear_onecycle_rule,),
        formula=(
            r"\text{knots } (0, \tfrac{P}{d}),\ (\lfloor p_s T \rfloor, P),\ (\lfloor p_f T \rfloor, \tfrac{P}{d}),\ "
            r"(T, \tfrac{P}{d f});\quad \eta_t \text{ linear between knots},\ \tfrac{P}{d f} \text{ from } T \text{ on}"
        ),
        legend=(
            ("P", "peak_value"),
            ("T", "transition_steps"),
            (r"p_s", "pct_start"),
            (r"p_f", "pct_final"),
            ("d", "div_factor"),
            ("f", "final_div_factor"),
            ("t", "update count"),
        ),
        notes=(
            "optax builds it as piecewise_interpolate_schedule('linear', P/d, {int(p_s·T): d, int(p_f·T): 1/d, T: 1/f}); "
            "int() truncates (0.29 · 100 is 28.999…: the peak comes at step 28).",
            "Where two of those keys would be equal, the dict keeps only the last and the peak silently disappears: "
            "lrlab refuses such pct_start / pct_final.",
            "optax's docs say phase 3 goes down to peak_value / final_div_factor; the code ends at "
            "peak_value / (div_factor · final_div_factor), which is init_value / final_div_factor as its argument docs "
            "say (4e-6, not 1e-4, for peak 1 with the defaults); lrlab follows the code.",
        ),
        explainer=X.linear_onecycle,
    ),
    _spec(
        "cosine_onecycle_schedule",
        title="cosine_onecycle_schedule — one cycle: cosine up to the peak, cosine down",
        summary="A cosine rise from peak/div_factor to peak_value over pct_start of the cycle, then a cosine fall to "
        "peak/(div_factor·final_div_factor) at transition_steps.",
        params=(
            OptaxParam(
                "transition_steps",
                "int",
                lambda n: n,
                "Length of the cycle.",
                low=1,
                high=MAX_STEPS,
                symbol="T",
                why="optax raises ValueError for transition_steps ≤ 0",
            ),
            _base("peak_value", "The top of the cycle.", "P"),
            ParamSpec("pct_start", "float", 0.3, "Share of the cycle spent rising.", low=0.0, high=1.0, symbol=r"p_s"),
            *ONECYCLE_DIVS,
        ),
        closed_form=_onecycle_closed("cosine"),
        rules=(_cosine_onecycle_rule,),
        formula=(
            r"\text{knots } (0, \tfrac{P}{d}),\ (\lfloor p_s T \rfloor, P),\ (T, \tfrac{P}{d f});\quad "
            r"\eta_t = v_{i+1} + \frac{v_i - v_{i+1}}{2}\left(1 + \cos \pi p\right) \text{ between knots},\ \tfrac{P}{d f} \text{ from } T \text{ on}"
        ),
        legend=(
            ("P", "peak_value"),
            ("T", "transition_steps"),
            (r"p_s", "pct_start"),
            ("d", "div_factor"),
            ("f", "final_div_factor"),
            ("v_i, p", "the knots' values, the share of the segment done"),
            ("t", "update count"),
        ),
        notes=(
            "optax builds it as piecewise_interpolate_schedule('cosine', P/d, {int(p_s·T): d, T: 1/(d·f)}); torch's "
            "OneCycleLR ends its phases one step earlier (at pct·N − 1 and N − 1).",
        ),
        explainer=X.cosine_onecycle,
    ),
    _spec(
        "sgdr_schedule",
        title="sgdr_schedule — warm restarts: warm-up + cosine cycles one after another",
        summary="SGDR (Loshchilov & Hutter): a warmup_cosine_decay_schedule per cycle, each starting when the previous "
        "one's decay_steps are done.",
        params=(
            CosineKwargs(
                "cosine_kwargs",
                "children",
                lambda n: (
                    [{"init_value": 0.0, "warmup_steps": max(1, n // 3) // 10, "decay_steps": max(1, n // 3)}] * 3
                ),
                "One mapping of warmup_cosine_decay_schedule arguments per cycle; a cycle without peak_value peaks at the "
                "run's base lr.",
                symbol="c",
            ),
        ),
        closed_form=_sgdr_closed,
        formula=(
            r"\eta_t = C_i\!\left(t - S_i\right),\quad S_i = \sum_{j < i} D_j \le t < S_{i+1},\quad C_i = "
            r"\text{warmup\_cosine\_decay}(I_i, P_i, W_i, D_i, E_i, e_i)"
        ),
        legend=(
            ("c", "cosine_kwargs"),
            ("C_i", "cycle i's warm-up + cosine"),
            ("S_i", "where cycle i starts"),
            ("D_i", "cycle i's decay_steps"),
        ),
        notes=(
            "Each cycle's decay_steps includes its warm-up (warmup_cosine_decay_schedule's convention).",
            "After the last cycle the lr stays at that cycle's end_value.",
            "peak_value of a cycle defaults to the run's base lr in lrlab (optax requires it: the exported code writes it).",
        ),
        explainer=X.sgdr,
    ),
    _spec(
        "join_schedules",
        title="join_schedules — optax schedules one after another, each on its own clock",
        summary="Runs child schedules one after another, switching at boundaries; child i sees count − boundary. "
        "By default: a linear warm-up (warmup_constant_schedule), then cosine_decay_schedule.",
        params=(
            ParamSpec(
                "schedules",
                "children",
                lambda n: [
                    {"name": "optax:warmup_constant_schedule", "init_value": 0.0, "warmup_steps": max(1, n // 10)},
                    {"name": "optax:cosine_decay_schedule", "decay_steps": max(1, n - max(1, n // 10))},
                ],
                'Child schedules, each {"name": "optax:...", <its params>}; a child without its own init_value / '
                "peak_value / value uses the run's base lr.",
                symbol="S_i",
            ),
            ParamSpec(
                "boundaries",
                "int_list",
                lambda n: [max(1, n // 10)],
                "Counts at which the next child takes over (one fewer than children), in order.",
                low=0,
                high=MAX_STEPS,
                symbol="b",
            ),
        ),
        closed_form=_join_closed,
        rules=(_join_rule,),
        formula=r"\eta_t = S_i\!\left(t - b_i\right),\qquad i = \#\{\, j \ge 1 : b_j \le t \,\},\ b_0 = 0",
        legend=(("S_i", "schedules"), ("b", "boundaries"), ("t", "update count")),
        notes=(
            "Each child sees the count minus its boundary (its own clock starts at 0), as torch's SequentialLR resets it.",
            "optax does not check the boundaries: zip() silently drops extra schedules or boundaries, and out of order "
            "a later child hides an earlier one; lrlab refuses both.",
        ),
        explainer=X.join,
        base_lr_param=None,
    ),
)

__all__ = ["SPECS", "call_args", "children", "schedule_code"]
