"""Composed schedules: torch's ``SequentialLR`` and ``ChainedScheduler`` with children from the registry.

A child is a mapping ``{"name": <scheduler>, <its own params>…}``; each is validated by its own
spec and built on the same optimizer, then wrapped by the real torch class. The closed form of a
sequence is a join on local time (each child sees ``t - milestone``, as ``SequentialLR`` resets it);
a chain multiplies its children's factors. Where torch's behaviour is not such a join or product
(children that continue from the current lr or rewrite the groups' ``initial_lr``), there is no
closed form and the library curve stands alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from torch.optim import lr_scheduler as tls

from lrlab.specs import MAX_STEPS, FrozenMap, LrlabError, ParamSpec, RunContext, SchedulerSpec, invalid

P = Mapping[str, Any]
MAX_CHILDREN = 6
COMPOSITES = ("SequentialLR", "ChainedScheduler")
# children whose value at a milestone is not their closed form at local step 0
NOT_JOINABLE = frozenset({"MultiplicativeLR", "OneCycleLR", "CyclicLR", "SWALR"})
# children that multiply the current lr by their own ratio, so that a chain multiplies them
MULTIPLICATIVE = frozenset({"StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR"})
DOCS = "https://docs.pytorch.org/docs/2.13/generated/torch.optim.lr_scheduler.{}.html"


def _registry() -> dict[str, SchedulerSpec]:
    from lrlab.schedulers import SCHEDULERS  # the registry includes this module's specs

    return SCHEDULERS


def _child_spec(name: Any, where: str) -> SchedulerSpec:
    from lrlab.schedulers import get_spec

    try:
        spec = get_spec(name)
    except LrlabError:
        raise LrlabError(f"Invalid {where}.name ({name!r}): not a known scheduler", field=f"{where}.name") from None
    if spec.name in COMPOSITES or spec.needs_metric:
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


def children(values: P) -> list[tuple[SchedulerSpec, dict[str, Any]]]:
    """The validated children of a composite: (spec, params without ``name``)."""
    out = []
    for child in values["schedulers"]:
        data = dict(child.to_dict() if isinstance(child, FrozenMap) else child)
        out.append((_registry()[data.pop("name")], data))
    return out


def _validate_children(values: dict[str, Any], ctx: RunContext) -> None:
    validated = []
    for i, child in enumerate(values["schedulers"]):
        where = f"schedulers[{i}]"
        data = child.to_dict() if isinstance(child, FrozenMap) else dict(child)
        spec = _child_spec(data.pop("name", None), where)
        own_base = data.pop(spec.base_lr_param, None) if spec.base_lr_param else None
        try:
            params = spec.validate(data, child_context(spec, {spec.base_lr_param: own_base} if own_base else {}, ctx))
        except LrlabError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise LrlabError(f"{where} ({spec.name}): {exc}", field=field) from None
        if own_base is not None:
            if not isinstance(own_base, (int, float)) or isinstance(own_base, bool) or not 0 < own_base <= 1e3:
                raise invalid(f"{where}.{spec.base_lr_param}", own_base, "must be a number in (0, 1000]")
            params[spec.base_lr_param] = float(own_base)
        validated.append(FrozenMap(sorted({"name": spec.name, **params}.items())))
    values["schedulers"] = tuple(validated)


def _sequential_rule(values: dict[str, Any], ctx: RunContext) -> None:
    _validate_children(values, ctx)
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
            out[mask] = spec.closed_form(t[mask] - starts[i], lr0, params, child_context(spec, params, ctx))
    return out


def _chained_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    kids = children(p)
    product = np.ones(np.shape(t))
    for spec, params in kids:
        multiplicative = spec.name in MULTIPLICATIVE or (spec.name == "CosineAnnealingLR" and params["eta_min"] == 0)
        if not multiplicative:
            return np.full(np.shape(t), np.nan)
        product = product * spec.closed_form(t, 1.0, params, replace(ctx, base_lr=1.0))
    return lr0 * product


def _children_code(p: P, ctx: RunContext) -> tuple[list[str], list[str]]:
    from lrlab.export import constructor

    lines, names = [], []
    for i, (spec, params) in enumerate(children(p)):
        own = {k: v for k, v in params.items() if k != spec.base_lr_param}
        code = constructor(spec, own, child_context(spec, params, ctx))
        name = f"s{i}"
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


def _chained_code(p: P, ctx: RunContext) -> str:
    lines, names = _children_code(p, ctx)
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

SPECS = (SEQUENTIAL_LR, CHAINED_SCHEDULER)
