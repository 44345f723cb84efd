"""Composed schedules: torch's ``SequentialLR`` and ``ChainedScheduler`` with children from the registry,
and the warm-up → ``ReduceLROnPlateau`` switch that people write by hand (torch can't put
ReduceLROnPlateau in a SequentialLR, pytorch#68978).

A child is a mapping ``{"name": <scheduler>, <its own params>…}``; each is validated by its own
spec and built on the same optimizer, then wrapped by the real torch class. The closed form of a
sequence is a join on local time (each child sees ``t - milestone``, as ``SequentialLR`` resets it);
a chain multiplies its children's factors. Where torch's behaviour is not such a join or product
(children that continue from the current lr or rewrite the groups' ``initial_lr``), there is no
closed form and the library curve stands alone.

A ``ChainedScheduler`` may be the *first* child of a ``SequentialLR`` (torch builds and steps it; at a
later position torch raises NotImplementedError when it switches to it, so lrlab refuses that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lrlab.codegen import constructor
from lrlab.schedulers.torch_specs import PLATEAU_FORMULA, PLATEAU_LEGEND, PLATEAU_PARAMS, REDUCE_ON_PLATEAU
from lrlab.specs import LR_RULE, MAX_STEPS, FrozenMap, LrlabError, ParamSpec, RunContext, SchedulerSpec, invalid, is_lr

P = Mapping[str, Any]
MAX_CHILDREN = 6
COMPOSITES = ("SequentialLR", "ChainedScheduler")
WARMUP_THEN_PLATEAU = "WarmupThenPlateau"
# children whose value at a milestone is not their closed form at local step 0
NOT_JOINABLE = frozenset({"MultiplicativeLR", "OneCycleLR", "CyclicLR", "SWALR"})
# children that multiply the current lr by their own ratio, so that a chain multiplies them
MULTIPLICATIVE = frozenset({"StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR"})
DOCS = "https://docs.pytorch.org/docs/2.13/generated/torch.optim.lr_scheduler.{}.html"


def _registry() -> dict[str, SchedulerSpec]:
    from lrlab.schedulers import SCHEDULERS  # the registry includes this module's specs

    return SCHEDULERS


def _child_spec(name: Any, where: str, *, in_sequence: bool = False) -> SchedulerSpec:
    from lrlab.schedulers import get_spec

    try:
        spec = get_spec(name)
    except LrlabError:
        raise LrlabError(f"Invalid {where}.name ({name!r}): not a known scheduler", field=f"{where}.name") from None
    if spec.name == "ChainedScheduler" and in_sequence and where == "schedulers[0]":
        return spec
    if spec.name == "ChainedScheduler" and in_sequence:
        raise LrlabError(
            f"Invalid {where}.name ('ChainedScheduler'): in a SequentialLR a ChainedScheduler can only be the first "
            "child (schedulers[0]): when SequentialLR switches to a later child it calls its _update_lr(0), and "
            "torch raises NotImplementedError for a ChainedScheduler there (it has no get_lr)",
            field=f"{where}.name",
        )
    if spec.library not in ("torch", "transformers"):
        raise LrlabError(
            f"Invalid {where}.name ({spec.name!r}): a child must be a torch LRScheduler; a {spec.library} schedule "
            "is composed in its own library"
            + (" (optax:join_schedules)" if spec.library == "optax" else "")
            + (" (fastai:combine_scheds)" if spec.library == "fastai" else ""),
            field=f"{where}.name",
        )
    if spec.name in COMPOSITES or spec.name == WARMUP_THEN_PLATEAU or spec.needs_metric:
        raise LrlabError(
            f"Invalid {where}.name ({spec.name!r}): a child must be a plain scheduler "
            "(not SequentialLR/ChainedScheduler, not a metric-driven one: torch refuses ReduceLROnPlateau here)",
            field=f"{where}.name",
        )
    return spec


def child_context(spec: SchedulerSpec, params: P, ctx: RunContext) -> RunContext:
    """The run context a child sees: its own base_lr where it has one (CyclicLR)."""
    if spec.base_lr_param and params.get(spec.base_lr_param) is not None:
        return replace(ctx, base_lr=float(params[spec.base_lr_param]))
    return ctx


def children(values: P, key: str = "schedulers") -> list[tuple[SchedulerSpec, dict[str, Any]]]:
    """The validated children of a composite: (spec, params without ``name``)."""
    out = []
    for child in values[key]:
        data = dict(child.to_dict() if isinstance(child, FrozenMap) else child)
        out.append((_registry()[data.pop("name")], data))
    return out


def _validate_children(
    values: dict[str, Any], ctx: RunContext, *, key: str = "schedulers", chain_first: bool = False
) -> None:
    validated = []
    for i, child in enumerate(values[key]):
        where = f"{key}[{i}]"
        data = child.to_dict() if isinstance(child, FrozenMap) else dict(child)
        spec = _child_spec(data.pop("name", None), where, in_sequence=chain_first)
        own_base = data.pop(spec.base_lr_param, None) if spec.base_lr_param else None
        if own_base is not None and not is_lr(own_base):  # the child's own base lr: what a run's base lr may be
            raise invalid(f"{where}.{spec.base_lr_param}", own_base, LR_RULE)
        try:
            params = spec.validate(data, child_context(spec, {spec.base_lr_param: own_base} if own_base else {}, ctx))
        except LrlabError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise LrlabError(f"{where} ({spec.name}): {exc}", field=field) from None
        if own_base is not None:
            params[spec.base_lr_param] = float(own_base)
        validated.append(FrozenMap(sorted({"name": spec.name, **params}.items())))
    values[key] = tuple(validated)


def _sequential_rule(values: dict[str, Any], ctx: RunContext) -> None:
    _validate_children(values, ctx, chain_first=True)
    ms, n = list(values["milestones"]), len(values["schedulers"])
    if len(ms) != n - 1:
        raise invalid(
            "milestones",
            ms,
            f"needs {n - 1} milestone(s) for {n} schedulers (torch: Sequential Schedulers expects number of schedulers "
            "provided to be one more than the number of milestone points)",
        )
    if ms != sorted(ms):
        raise invalid("milestones", ms, "must be in increasing order (torch does not check, and bisects nonsense)")


def _build_children(opt: Any, p: P, ctx: RunContext) -> list[Any]:
    return [spec.build(opt, params, child_context(spec, params, ctx)) for spec, params in children(p)]


def _sequential_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    kids = children(p)
    if any(spec.closed_form is None or spec.name in NOT_JOINABLE for spec, _ in kids):
        return np.full(np.shape(t), np.nan)
    t = np.asarray(t)
    starts = [0, *p["milestones"]]
    which = np.searchsorted(np.asarray(p["milestones"], dtype=np.int64), t, side="right")  # = bisect_right
    out = np.full(t.shape, np.nan)
    for i, (spec, params) in enumerate(kids):
        mask = which == i
        if mask.any():
            closed = _chain_in_sequence_closed if spec.name == "ChainedScheduler" else spec.closed_form
            out[mask] = closed(t[mask] - starts[i], lr0, params, child_context(spec, params, ctx))
    return out


def _chain_in_sequence_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    """A ChainedScheduler as SequentialLR's first child: SequentialLR resets the lr, sets its children's
    last_epoch back to -1 and steps the chain once, outside torch's "initial" mode. Then the children
    that skip their construction step in that mode take one more step: ExponentialLR gives γ^(t+1),
    PolynomialLR an extra (T/(T+1))^p; StepLR, MultiStepLR, ConstantLR and LinearLR are unchanged.
    Other children: no closed form."""
    product = np.ones(np.shape(t))
    for spec, params in children(p):
        unit = replace(ctx, base_lr=1.0)
        if spec.name in ("StepLR", "MultiStepLR", "ConstantLR", "LinearLR"):
            factor = spec.closed_form(t, 1.0, params, unit)
        elif spec.name == "ExponentialLR":
            factor = params["gamma"] ** (np.asarray(t, dtype=np.float64) + 1)
        elif spec.name == "PolynomialLR":
            n, power = params["total_iters"], params["power"]
            factor = spec.closed_form(t, 1.0, params, unit) * (n / (n + 1)) ** power
        else:
            return np.full(np.shape(t), np.nan)
        product = product * factor
    return lr0 * product


def _chained_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    kids = children(p)
    product = np.ones(np.shape(t))
    for spec, params in kids:
        multiplicative = spec.name in MULTIPLICATIVE or (spec.name == "CosineAnnealingLR" and params["eta_min"] == 0)
        if not multiplicative:
            return np.full(np.shape(t), np.nan)
        product = product * spec.closed_form(t, 1.0, params, replace(ctx, base_lr=1.0))
    return lr0 * product


def _children_code(p: P, ctx: RunContext, prefix: str = "s", key: str = "schedulers") -> tuple[list[str], list[str]]:
    lines, names = [], []
    for i, (spec, params) in enumerate(children(p, key)):
        name = f"{prefix}{i}"
        if spec.name == "ChainedScheduler":  # a chain as SequentialLR's first child: its children are s0_0, s0_1, …
            lines.append(_chained_code(params, ctx, prefix=f"{name}_").replace("scheduler = ", f"{name} = ", 1))
            names.append(name)
            continue
        own = {k: v for k, v in params.items() if k != spec.base_lr_param}
        code = constructor(spec, own, child_context(spec, params, ctx))
        lines.append(code.replace("scheduler = ", f"{name} = ", 1))
        names.append(name)
    return lines, names


def _sequential_code(p: P, ctx: RunContext) -> str:
    lines, names = _children_code(p, ctx)
    return "\n".join(
        [
            *lines,
            f"scheduler = lr_scheduler.SequentialLR(optimizer, schedulers=[{', '.join(names)}], "
            f"milestones={list(p['milestones'])!r})",
        ]
    )


def _chained_code(p: P, ctx: RunContext, prefix: str = "s") -> str:
    lines, names = _children_code(p, ctx, prefix)
    return "\n".join([*lines, f"scheduler = lr_scheduler.ChainedScheduler([{', '.join(names)}])"])


CHILDREN_HELP = (
    'A list of child schedulers, each {"name": ..., <its params>}; children are built on the same '
    "optimizer in this order."
)


def _warmup(n: int) -> int:
    return max(1, n // 10)


SEQUENTIAL_LR = SchedulerSpec(
    name="SequentialLR",
    library="torch",
    title="SequentialLR — schedulers one after another (e.g. warm-up, then cosine)",
    summary="Runs child schedulers one after another, switching at milestones; each child restarts from its "
    "own step 0. By default: a LinearLR warm-up followed by a cosine decay.",
    params=(
        ParamSpec(
            "schedulers",
            "children",
            lambda n: [
                {"name": "LinearLR", "start_factor": 0.01, "end_factor": 1.0, "total_iters": _warmup(n)},
                {"name": "CosineAnnealingLR", "T_max": max(1, n - _warmup(n)), "eta_min": 0.0},
            ],
            CHILDREN_HELP,
        ),
        ParamSpec(
            "milestones",
            "int_list",
            lambda n: [_warmup(n)],
            "Steps at which the next child takes over (one fewer than children), increasing.",
            low=0,
            high=MAX_STEPS,
            symbol="m",
        ),
    ),
    build=lambda opt, p, ctx: tls.SequentialLR(
        opt, schedulers=_build_children(opt, p, ctx), milestones=list(p["milestones"])
    ),
    closed_form=_sequential_closed,
    rules=(_sequential_rule,),
    formula=r"\eta_t = S_i\!\left(t - m_i\right),\qquad i = \#\{\, j \ge 1 : m_j \le t \,\},\ m_0 = 0",
    legend=(("S_i", "the i-th child's own schedule"), ("m", "milestones"), ("t", "step index")),
    notes=(
        "At a milestone SequentialLR resets the next child to its local step 0 (its closed form there), so each "
        "child sees t − milestone.",
        "A MultiplicativeLR child continues from the current lr instead, and OneCycleLR rewrites the groups' "
        "initial_lr that later children start from: no closed form is drawn for those sequences.",
        "torch does not check that milestones increase; lrlab does.",
        "A ChainedScheduler may be the first child (torch steps it once more at construction: an ExponentialLR "
        "in it starts one γ lower); at a later position torch raises NotImplementedError at the switch.",
    ),
    reference=DOCS.format("SequentialLR"),
    code=_sequential_code,
)

CHAINED_SCHEDULER = SchedulerSpec(
    name="ChainedScheduler",
    library="torch",
    title="ChainedScheduler — children stepped together, factors multiply",
    summary="Steps several schedulers together on one optimizer; multiplicative children's factors multiply. "
    "By default: a reduced lr for a while, combined with an exponential decay.",
    params=(
        ParamSpec(
            "schedulers",
            "children",
            lambda n: [
                {"name": "ConstantLR", "factor": 0.5, "total_iters": _warmup(n)},
                {"name": "ExponentialLR", "gamma": 0.995},
            ],
            CHILDREN_HELP,
        ),
    ),
    build=lambda opt, p, ctx: tls.ChainedScheduler(_build_children(opt, p, ctx)),
    closed_form=_chained_closed,
    rules=(_validate_children,),
    formula=r"\eta_t = \eta_0 \prod_i f_i(t)\qquad (f_i \text{ the multiplicative children's factors})",
    legend=((r"\eta_0", "initial lr"), ("f_i", "the i-th child's factor η_i(t)/η₀")),
    notes=(
        "Chaining multiplies only for recursive children (StepLR, MultiStepLR, ConstantLR, LinearLR, "
        "ExponentialLR, PolynomialLR, CosineAnnealingLR with eta_min = 0); a LambdaLR, CyclicLR, OneCycleLR or "
        "transformers child overwrites whatever came before it: no closed form is drawn for those chains.",
        "torch's docstring example values do not match its code (real: 0.005, 0.0045, 0.00405 …).",
    ),
    reference=DOCS.format("ChainedScheduler"),
    code=_chained_code,
)

# ---- warm-up, then ReduceLROnPlateau: the switch written by hand --------------------------------

PLATEAU_NAMES = tuple(p.name for p in PLATEAU_PARAMS)


class WarmupThenPlateau:
    """The loop people write because SequentialLR refuses ReduceLROnPlateau (pytorch#68978):
    ``warmup.step()`` after each of the first ``warmup_steps`` optimizer steps, then
    ``plateau.step(metric)`` after each evaluation. Both are the real torch objects."""

    def __init__(self, warmup: Any, plateau: Any, warmup_steps: int):
        self.warmup, self.plateau, self.warmup_steps = warmup, plateau, warmup_steps
        self.optimizer = plateau.optimizer


def _warmup_plateau_rule(values: dict[str, Any], ctx: RunContext) -> None:
    if len(values["warmup"]) != 1:
        raise invalid("warmup", [c.to_dict() for c in values["warmup"]], "must be a list of exactly one scheduler")
    _validate_children(values, ctx, key="warmup")
    REDUCE_ON_PLATEAU.validate({k: values[k] for k in PLATEAU_NAMES}, ctx)  # per-group min_lr and the rest


def _warmup_plateau_build(opt: Any, p: P, ctx: RunContext) -> WarmupThenPlateau:
    ((spec, params),) = children(p, "warmup")
    warmup = spec.build(opt, params, child_context(spec, params, ctx))
    plateau = REDUCE_ON_PLATEAU.build(opt, {k: p[k] for k in PLATEAU_NAMES}, ctx)
    return WarmupThenPlateau(warmup, plateau, p["warmup_steps"])


def _warmup_plateau_code(p: P, ctx: RunContext) -> str:
    ((spec, params),) = children(p, "warmup")
    own = {k: v for k, v in params.items() if k != spec.base_lr_param}
    warm = constructor(spec, own, child_context(spec, params, ctx)).replace("scheduler = ", "warmup = ", 1)
    plateau = constructor(REDUCE_ON_PLATEAU, {k: p[k] for k in PLATEAU_NAMES}, ctx).replace(
        "scheduler = ", "plateau = ", 1
    )
    return "\n".join(
        [
            warm,
            plateau,
            f"warmup_steps = {p['warmup_steps']}  # warmup.step() for the first {p['warmup_steps']} optimizer steps, "
            "then plateau.step(val_loss)",
        ]
    )


WARMUP_PLATEAU = SchedulerSpec(
    name=WARMUP_THEN_PLATEAU,
    library="torch",
    title="WarmupThenPlateau — a warm-up, then ReduceLROnPlateau (the hand-written switch)",
    summary="torch can't put ReduceLROnPlateau in a SequentialLR (pytorch#68978), so the switch is written by hand: "
    "a warm-up scheduler stepped after each of the first warmup_steps optimizer steps, then "
    "ReduceLROnPlateau stepped with the metric after each evaluation.",
    params=(
        ParamSpec(
            "warmup",
            "children",
            lambda n: [{"name": "LinearLR", "start_factor": 0.01, "end_factor": 1.0, "total_iters": _warmup(n)}],
            'The warm-up scheduler, as a list of one {"name": ..., <its params>} (any plain scheduler).',
        ),
        ParamSpec(
            "warmup_steps",
            "int",
            _warmup,
            "Optimizer steps after which warmup.step() is called; from then on plateau.step(metric).",
            low=1,
            high=MAX_STEPS,
            symbol="k",
        ),
        *PLATEAU_PARAMS,
    ),
    build=_warmup_plateau_build,
    rules=(_warmup_plateau_rule,),
    formula=r"\begin{gathered} \eta_t = W(t) \text{ for } t \le k, \text{ then ReduceLROnPlateau from } W(k): \\ "
    + PLATEAU_FORMULA
    + r" \end{gathered}",
    legend=(("W", "the warm-up child's own schedule"), ("k", "warmup_steps"), *PLATEAU_LEGEND),
    notes=(
        "No closed form: after the warm-up the lr depends on the metric. Evaluations during the warm-up are not "
        "passed to the plateau (it only sees the metric from step warmup_steps on), as in the hand-written loop.",
        "The plateau starts from the lr the warm-up left (its reductions multiply the current lr).",
        "Both objects are built on the optimizer up front, warm-up first: the warm-up's construction sets the "
        "first lr (LinearLR: base lr × start_factor), ReduceLROnPlateau's changes nothing.",
    ),
    needs_metric=True,
    reference="https://github.com/pytorch/pytorch/issues/68978",
    code=_warmup_plateau_code,
)

SPECS = (SEQUENTIAL_LR, CHAINED_SCHEDULER, WARMUP_PLATEAU)
