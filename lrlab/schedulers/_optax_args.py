"""optax arguments lrlab derives from a spec's params: sgdr's cycles, a join's children and the lr each
holds, the one-cycles' knots. Shared by the specs (:mod:`lrlab.schedulers.optax_specs`) and their explainers
(:mod:`lrlab.schedulers._optax_explain`), so that neither imports the other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrlab.schedulers import _optax_formulas as F
from lrlab.specs import FrozenMap, SchedulerSpec

P = Mapping[str, Any]
#: warmup_cosine_decay_schedule's arguments: one sgdr cycle
CYCLE_KEYS = ("init_value", "peak_value", "warmup_steps", "decay_steps", "end_value", "exponent")


def cycle_args(cycle: Any, base_lr: float) -> dict[str, Any]:
    """One sgdr cycle as optax's warmup_cosine_decay_schedule arguments (peak_value None: the base lr)."""
    data = cycle.to_dict() if isinstance(cycle, FrozenMap) else dict(cycle)
    if data.get("peak_value") is None:
        data["peak_value"] = float(base_lr)
    return {k: data[k] for k in CYCLE_KEYS}


def child_lr(spec: SchedulerSpec, params: P, base_lr: float) -> float:
    """The lr a join child holds: its own value of its base parameter where given, else the run's."""
    own = params.get(spec.base_lr_param) if spec.base_lr_param else None
    return float(own) if own is not None else float(base_lr)


def _registry() -> dict[str, SchedulerSpec]:
    from lrlab.schedulers import SCHEDULERS

    return SCHEDULERS


def children(p: P) -> list[tuple[SchedulerSpec, dict[str, Any]]]:
    """The validated children of a join: (spec, params without ``name``; with its own base value if given)."""
    out = []
    for child in p["schedules"]:
        data = dict(child.to_dict() if isinstance(child, FrozenMap) else child)
        out.append((_registry()[data.pop("name")], data))
    return out


def onecycle_knots(kind: str, p: P, peak: float) -> tuple[float, list[tuple[int, float]]]:
    if kind == "linear":
        return F.linear_onecycle_knots(
            p["transition_steps"], peak, p["pct_start"], p["pct_final"], p["div_factor"], p["final_div_factor"]
        )
    return F.cosine_onecycle_knots(p["transition_steps"], peak, p["pct_start"], p["div_factor"], p["final_div_factor"])
