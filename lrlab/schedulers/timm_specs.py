"""Registry entries for ``timm.scheduler`` (timm 1.0.31): its six scheduler classes and ``create_scheduler_v2``.

timm's schedulers are stateless functions of a count the training loop passes in. They are driven
here exactly as timm's ``train.py`` drives them: after every optimizer update
``lr_scheduler.step_update(num_updates=num_updates)``, after every epoch ``lr_scheduler.step(epoch + 1)``
(``step(epoch + 1, metric)`` for PlateauLRScheduler). ``t_in_epochs`` (``step_on_epochs`` of
``create_scheduler_v2``) decides which of the two calls changes the lr; the other does nothing.
Row ``t`` of a curve is the lr the (t+1)-th update used, read from ``optimizer.param_groups``.

Sizes that timm takes in epochs (or in updates with ``t_in_epochs=False``) follow the run where
they are left empty: ``t_initial`` is the run's length in that unit, and so on (see each help).

timm is imported on first use (:mod:`lrlab.schedulers._timm_loader`, which also works where
``import timm`` fails for want of torchvision). The closed forms (:mod:`~lrlab.schedulers._timm_formulas`)
and explain mode (:mod:`~lrlab.schedulers._timm_explain`) are timm's arithmetic written out, no import of
timm; this module owns the parameters, their sizing, the rules, the driver and the exported script.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrlab.explaining import Part, Step
from lrlab.optimizers import throwaway
from lrlab.schedulers._timm_explain import explain_class, plateau_note
from lrlab.schedulers._timm_formulas import (
    KW,
    VALUES,
    class_closed_form,
    epoch_metrics,
    run_epochs,
    run_length,
)
from lrlab.specs import (
    MAX_LR,
    MAX_STEPS,
    Driven,
    ParamSpec,
    RunContext,
    ScheduleConfig,
    SchedulerSpec,
    invalid,
)

DOCS = "https://huggingface.co/docs/timm/reference/schedulers#timm.scheduler.{}"
INSTALL = (
    "pip install huggingface_hub safetensors && pip install --no-deps timm==1.0.31 "
    "(a plain `pip install timm` pulls torchvision, which can replace a CPU torch with a CUDA build)"
)
P = Mapping[str, Any]

#: timm's own defaults (the signatures of timm 1.0.31), for exported code that writes only what differs.
NOISE_DEFAULTS = {"noise_range_t": None, "noise_pct": 0.67, "noise_std": 1.0, "noise_seed": 42}
WARMUP_DEFAULTS = {"warmup_t": 0, "warmup_lr_init": 0.0}
CYCLE_DEFAULTS = {"lr_min": 0.0, "cycle_mul": 1.0, "cycle_decay": 1.0, "cycle_limit": 1}
TIMM_DEFAULTS: dict[str, dict[str, Any]] = {
    "CosineLRScheduler": {
        **CYCLE_DEFAULTS,
        **WARMUP_DEFAULTS,
        "warmup_prefix": False,
        "t_in_epochs": True,
        **NOISE_DEFAULTS,
        "k_decay": 1.0,
    },
    "TanhLRScheduler": {
        "lb": -7.0,
        "ub": 3.0,
        **CYCLE_DEFAULTS,
        **WARMUP_DEFAULTS,
        "warmup_prefix": False,
        "t_in_epochs": True,
        **NOISE_DEFAULTS,
    },
    "StepLRScheduler": {
        "decay_rate": 1.0,
        **WARMUP_DEFAULTS,
        "warmup_prefix": True,
        "t_in_epochs": True,
        **NOISE_DEFAULTS,
    },
    "MultiStepLRScheduler": {
        "decay_rate": 1.0,
        **WARMUP_DEFAULTS,
        "warmup_prefix": True,
        "t_in_epochs": True,
        **NOISE_DEFAULTS,
    },
    "PlateauLRScheduler": {
        "decay_rate": 0.1,
        "patience_t": 10,
        "threshold": 1e-4,
        "cooldown_t": 0,
        **WARMUP_DEFAULTS,
        "lr_min": 0.0,
        "mode": "max",
        "noise_range_t": None,
        "noise_type": "normal",
        "noise_pct": 0.67,
        "noise_std": 1.0,
        "noise_seed": None,
    },
    "PolyLRScheduler": {
        "power": 0.5,
        **CYCLE_DEFAULTS,
        **WARMUP_DEFAULTS,
        "warmup_prefix": False,
        "t_in_epochs": True,
        **NOISE_DEFAULTS,
        "k_decay": 1.0,
    },
    "create_scheduler_v2": {
        "sched": "cosine",
        "num_epochs": 300,
        "decay_epochs": None,
        "decay_milestones": (90, 180, 270),
        "cooldown_epochs": 0,
        "patience_epochs": 10,
        "decay_rate": 0.1,
        "min_lr": 0.0,
        "warmup_lr": 1e-5,
        "warmup_epochs": 0,
        "warmup_prefix": False,
        "noise": None,
        "noise_pct": 0.67,
        "noise_std": 1.0,
        "noise_seed": 42,
        "cycle_mul": 1.0,
        "cycle_decay": 0.1,
        "cycle_limit": 1,
        "k_decay": 1.0,
        "plateau_mode": "max",
        "step_on_epochs": True,
        "updates_per_epoch": 0,
    },
}
#: The ``sched`` names of create_scheduler_v2 lrlab offers, and the class each builds.
SCHED_CLASSES = {
    "cosine": "CosineLRScheduler",
    "tanh": "TanhLRScheduler",
    "step": "StepLRScheduler",
    "multistep": "MultiStepLRScheduler",
    "plateau": "PlateauLRScheduler",
    "poly": "PolyLRScheduler",
}
#: How far timm's noise may spread before its redraw loop (``while abs(noise) >= noise_pct``) runs for ever.
NOISE_SPREAD = 10


def _noise_range(value: Any) -> Any:
    """lrlab's noise_range_t (a list of 0, 1 or 2 ints) as timm takes it: None, ``s`` (from s on) or ``[s, e]``."""
    if value is None or len(value) == 0:
        return None
    return int(value[0]) if len(value) == 1 else [int(value[0]), int(value[1])]


# ---- sizes resolved: the keyword arguments timm receives ---------------------------------------------


def _noise_kw(p: P) -> KW:
    return {
        "noise_range_t": _noise_range(p["noise_range_t"]),
        "noise_pct": p["noise_pct"],
        "noise_std": p["noise_std"],
        "noise_seed": p["noise_seed"],
    }


def _warmup_kw(p: P) -> KW:
    return {"warmup_t": p["warmup_t"], "warmup_lr_init": p["warmup_lr_init"], "warmup_prefix": p["warmup_prefix"]}


def _t_initial(p: P, ctx: RunContext) -> int:
    return p["t_initial"] if p["t_initial"] is not None else run_length(p["t_in_epochs"], ctx)


def _cycle_kw(p: P, ctx: RunContext) -> KW:
    return {
        "t_initial": _t_initial(p, ctx),
        "lr_min": p["lr_min"],
        "cycle_mul": p["cycle_mul"],
        "cycle_decay": p["cycle_decay"],
        "cycle_limit": p["cycle_limit"],
    }


def cosine_kwargs(p: P, ctx: RunContext) -> KW:
    return {
        **_cycle_kw(p, ctx),
        **_warmup_kw(p),
        "t_in_epochs": p["t_in_epochs"],
        **_noise_kw(p),
        "k_decay": p["k_decay"],
    }


def tanh_kwargs(p: P, ctx: RunContext) -> KW:
    cycle = _cycle_kw(p, ctx)
    return {
        "t_initial": cycle.pop("t_initial"),
        "lb": p["lb"],
        "ub": p["ub"],
        **cycle,
        **_warmup_kw(p),
        "t_in_epochs": p["t_in_epochs"],
        **_noise_kw(p),
    }


def step_kwargs(p: P, ctx: RunContext) -> KW:
    decay_t = p["decay_t"]
    if decay_t is None:
        decay_t = float(max(1, run_length(p["t_in_epochs"], ctx) // 4))
    return {
        "decay_t": decay_t,
        "decay_rate": p["decay_rate"],
        **_warmup_kw(p),
        "t_in_epochs": p["t_in_epochs"],
        **_noise_kw(p),
    }


def run_milestones(length: int) -> list[int]:
    """lrlab's run-sized milestones: half and three quarters of ``length`` (at least 1)."""
    return [max(1, length // 2), max(1, (3 * length) // 4)]


def multistep_kwargs(p: P, ctx: RunContext) -> KW:
    milestones = list(p["decay_t"]) or run_milestones(run_length(p["t_in_epochs"], ctx))
    return {
        "decay_t": milestones,
        "decay_rate": p["decay_rate"],
        **_warmup_kw(p),
        "t_in_epochs": p["t_in_epochs"],
        **_noise_kw(p),
    }


def plateau_kwargs(p: P, ctx: RunContext) -> KW:
    return {
        "decay_rate": p["decay_rate"],
        "patience_t": p["patience_t"],
        "threshold": p["threshold"],
        "cooldown_t": p["cooldown_t"],
        "warmup_t": p["warmup_t"],
        "warmup_lr_init": p["warmup_lr_init"],
        "lr_min": p["lr_min"],
        "mode": p["mode"],
        "noise_range_t": _noise_range(p["noise_range_t"]),
        "noise_type": p["noise_type"],
        "noise_pct": p["noise_pct"],
        "noise_std": p["noise_std"],
        "noise_seed": p["noise_seed"],
    }


def poly_kwargs(p: P, ctx: RunContext) -> KW:
    cycle = _cycle_kw(p, ctx)
    return {
        "t_initial": cycle.pop("t_initial"),
        "power": p["power"],
        **cycle,
        **_warmup_kw(p),
        "t_in_epochs": p["t_in_epochs"],
        **_noise_kw(p),
        "k_decay": p["k_decay"],
    }


def factory_num_epochs(p: P, ctx: RunContext) -> int:
    return p["num_epochs"] if p["num_epochs"] is not None else run_epochs(ctx)


def factory_call(p: P, ctx: RunContext) -> KW:
    """The keyword arguments of the ``create_scheduler_v2`` call (sizes resolved), as exported."""
    n = factory_num_epochs(p, ctx)
    decay_epochs = p["decay_epochs"] if p["decay_epochs"] is not None else float(max(1, n // 4))
    milestones = list(p["decay_milestones"]) or run_milestones(n)
    return {
        "sched": p["sched"],
        "num_epochs": n,
        "decay_epochs": decay_epochs,
        "decay_milestones": milestones,
        "cooldown_epochs": p["cooldown_epochs"],
        "patience_epochs": p["patience_epochs"],
        "decay_rate": p["decay_rate"],
        "min_lr": p["min_lr"],
        "warmup_lr": p["warmup_lr"],
        "warmup_epochs": p["warmup_epochs"],
        "warmup_prefix": p["warmup_prefix"],
        "noise": p["noise"],
        "noise_pct": p["noise_pct"],
        "noise_std": p["noise_std"],
        "noise_seed": p["noise_seed"],
        "cycle_mul": p["cycle_mul"],
        "cycle_decay": p["cycle_decay"],
        "cycle_limit": p["cycle_limit"],
        "k_decay": p["k_decay"],
        "plateau_mode": p["plateau_mode"],
        "step_on_epochs": p["step_on_epochs"],
        "updates_per_epoch": ctx.steps_per_epoch,
    }


def factory_class(p: P, ctx: RunContext) -> tuple[str, KW]:
    """The class ``create_scheduler_v2`` builds and its keyword arguments, as timm 1.0.31's
    ``scheduler_factory.py`` maps them (sizes × updates_per_epoch when stepping per update; the
    noise fractions × t_initial; poly's power is decay_rate; plateau's cooldown_t is 0)."""
    c = factory_call(p, ctx)
    upe = c["updates_per_epoch"]
    on_epochs = c["step_on_epochs"]
    scale = 1 if on_epochs else upe
    t_initial = c["num_epochs"] * scale
    warmup = {"warmup_lr_init": c["warmup_lr"], "warmup_t": c["warmup_epochs"] * scale}
    noise = None if c["noise"] is None else c["noise"] * t_initial
    noise_kw = {
        "noise_range_t": noise,
        "noise_pct": c["noise_pct"],
        "noise_std": c["noise_std"],
        "noise_seed": c["noise_seed"],
    }
    cycles = {"cycle_mul": c["cycle_mul"], "cycle_decay": c["cycle_decay"], "cycle_limit": c["cycle_limit"]}
    name = SCHED_CLASSES[c["sched"]]
    prefix = {"warmup_prefix": c["warmup_prefix"]}
    if name == "CosineLRScheduler":
        kw = {"t_initial": t_initial, "lr_min": c["min_lr"], **cycles, **warmup, **prefix}
        kw |= {"t_in_epochs": on_epochs, **noise_kw, "k_decay": c["k_decay"]}
    elif name == "TanhLRScheduler":
        kw = {"t_initial": t_initial, "lb": -7.0, "ub": 3.0, "lr_min": c["min_lr"], **cycles, **warmup, **prefix}
        kw |= {"t_in_epochs": on_epochs, **noise_kw}
    elif name == "StepLRScheduler":
        kw = {"decay_t": c["decay_epochs"] * scale, "decay_rate": c["decay_rate"], **warmup, **prefix}
        kw |= {"t_in_epochs": on_epochs, **noise_kw}
    elif name == "MultiStepLRScheduler":
        kw = {"decay_t": [d * scale for d in c["decay_milestones"]], "decay_rate": c["decay_rate"], **warmup}
        kw |= {**prefix, "t_in_epochs": on_epochs, **noise_kw}
    elif name == "PlateauLRScheduler":
        kw = {"decay_rate": c["decay_rate"], "patience_t": c["patience_epochs"], "threshold": 1e-4, "cooldown_t": 0}
        kw |= {**warmup, "lr_min": c["min_lr"], "mode": c["plateau_mode"], "noise_type": "normal", **noise_kw}
    else:
        kw = {"t_initial": t_initial, "power": c["decay_rate"], "lr_min": c["min_lr"], **cycles, **warmup, **prefix}
        kw |= {"t_in_epochs": on_epochs, **noise_kw, "k_decay": c["k_decay"]}
    return name, kw


def cycle_length(kw: KW) -> int:
    """timm's ``get_cycle_length()`` of a cosine / tanh / poly scheduler (warm-up added with warmup_prefix)."""
    cycles = max(1, kw["cycle_limit"])
    m, t0 = kw["cycle_mul"], kw["t_initial"]
    length = t0 * cycles if m == 1.0 else math.floor(-t0 * (m**cycles - 1) / (1 - m))
    return length + kw["warmup_t"] if kw["warmup_prefix"] else length


def returned_epochs(p: P, ctx: RunContext) -> tuple[int, str]:
    """The num_epochs create_scheduler_v2 returns, and how it adds up (timm's rules, written out)."""
    c = factory_call(p, ctx)
    name, kw = factory_class(p, ctx)
    n, warm, cool, upe = c["num_epochs"], c["warmup_epochs"], c["cooldown_epochs"], c["updates_per_epoch"]
    if name in ("CosineLRScheduler", "TanhLRScheduler", "PolyLRScheduler"):
        cycles = max(1, kw["cycle_limit"])
        parts = [str(n) if cycles == 1 else f"{n} × {cycles} cycles"]
        if kw["cycle_mul"] != 1.0 and cycles > 1:
            parts = [f"{cycles} cycles of {n} growing × {kw['cycle_mul']:g}"]
        if c["warmup_prefix"] and warm:
            parts.append(f"warm-up {warm}")
        if cool:
            parts.append(f"cooldown {cool}")
        total_t = cycle_length(kw) + (cool if c["step_on_epochs"] else cool * upe)
        how = " + ".join(parts) if len(parts) > 1 or cycles > 1 else ""
        if c["step_on_epochs"]:
            return total_t, how
        return total_t // upe, f"{how or n} epochs as {total_t} updates, // {upe} updates per epoch"
    how = f"{n} + warm-up {warm}" if c["warmup_prefix"] and warm else ""
    if cool:
        how += ("; " if how else "") + f"cooldown_epochs ({cool}) is not counted for sched={c['sched']!r}"
    return n + (warm if c["warmup_prefix"] else 0), how


def _closed(name: str, kwargs_of: Callable[[P, RunContext], KW]) -> Callable[..., np.ndarray]:
    def closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
        return class_closed_form(name, t, lr0, kwargs_of(p, ctx), ctx.steps_per_epoch)

    return closed


def _factory_closed(t: np.ndarray, lr0: float, p: P, ctx: RunContext) -> np.ndarray:
    name, kw = factory_class(p, ctx)
    return class_closed_form(name, t, lr0, kw, ctx.steps_per_epoch)


# ---- driving the real objects as timm's train.py does -----------------------------------------------


def _timm() -> Any:
    from lrlab.schedulers._timm_loader import scheduler_module

    return scheduler_module()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _construct(make: Callable[[], Any]) -> Any:
    """Build a timm object; what timm logs as a warning (``_logger.warning``) is re-issued as a Python
    warning, so that lrlab reports it in timm's words like any library warning."""
    logger = logging.getLogger("timm")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        built = make()
    finally:
        logger.removeHandler(handler)
    for message in handler.messages:
        warnings.warn(message, UserWarning, stacklevel=2)
    return built


@dataclass(frozen=True)
class Trained:
    """What :func:`train_loop` recorded: lrs (rows × groups), where timm refused, the metric column."""

    lrs: np.ndarray
    stopped_at: int | None
    refusal: str | None
    metric: np.ndarray | None


def train_loop(scheduler: Any, optimizer: Any, steps: int, spe: int, metrics: np.ndarray | None = None) -> Trained:
    """timm's train.py loop: per epoch, per batch, read the lr, (the update), ``num_updates += 1``,
    ``step_update(num_updates=num_updates)``; after the epoch ``step(epoch + 1)`` (with the epoch's
    metric where one is given). Calls after the run's last update are not made (no row uses their lr).
    ``optimizer.step()`` is left out: timm's schedulers read nothing of the optimizer but its lrs.
    A call timm raises in stops the curve there (NaN rows, ``stopped_at``, timm's error)."""
    groups = optimizer.param_groups
    rows: list[list[float]] = []
    metric_col = np.full(steps, np.nan) if metrics is not None else None
    num_updates, epoch = 0, 0
    stopped_at = refusal = None
    try:
        while num_updates < steps:
            for _ in range(spe):
                rows.append([g["lr"] for g in groups])
                num_updates += 1
                if num_updates == steps:
                    break
                scheduler.step_update(num_updates=num_updates)
            if num_updates == steps:
                break
            if metrics is None:
                scheduler.step(epoch + 1)
            else:
                metric_col[num_updates - 1] = metrics[epoch]
                scheduler.step(epoch + 1, float(metrics[epoch]))
            epoch += 1
    except Exception as exc:  # timm refused this call: the lrs from here on are unknown
        stopped_at, refusal = num_updates, f"{type(exc).__name__}: {exc}"
    lrs = np.full((steps, len(groups)), np.nan)
    lrs[: len(rows)] = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(groups))
    return Trained(lrs, stopped_at, refusal, metric_col)


def _timing_note(in_epochs: bool, spe: int, flag: str = "t_in_epochs") -> str:
    if in_epochs:
        return (
            f"{flag}=True: the lr changes only at lr_scheduler.step(epoch + 1), after each epoch's last update "
            f"(every {spe} updates); step_update() leaves it."
        )
    return f"{flag}=False: the lr changes at every lr_scheduler.step_update(num_updates); step(epoch + 1) leaves it."


def _drive_class(name: str, kwargs_of: Callable[[P, RunContext], KW]) -> Callable[..., Driven]:
    def drive(p: P, ctx: RunContext, config: ScheduleConfig) -> Driven:
        kw = kwargs_of(p, ctx)
        optimizer = throwaway(config, ctx.group_lrs)
        scheduler = _construct(lambda: getattr(_timm(), name)(optimizer, **kw))
        return _driven(name, kw, scheduler, optimizer, ctx, config)

    return drive


def _driven(
    name: str,
    kw: KW,
    scheduler: Any,
    optimizer: Any,
    ctx: RunContext,
    config: ScheduleConfig,
    notes: tuple[str, ...] = (),
    flag: str = "t_in_epochs",
) -> Driven:
    plateau = name == "PlateauLRScheduler"
    done = train_loop(scheduler, optimizer, config.steps, ctx.steps_per_epoch, epoch_metrics(ctx) if plateau else None)
    said = [
        *notes,
        plateau_note(kw["mode"], ctx) if plateau else _timing_note(kw["t_in_epochs"], ctx.steps_per_epoch, flag),
    ]
    if kw["noise_range_t"] is not None:
        said.append(
            "Noise: timm multiplies the lr by 1 + n, n drawn from torch.Generator().manual_seed(noise_seed + t) "
            "and redrawn until |n| < noise_pct: no formula, so no closed form is drawn for this configuration."
        )
    columns = (("metric", done.metric),) if done.metric is not None else ()
    return Driven(lrs=done.lrs, stopped_at=done.stopped_at, refusal=done.refusal, notes=tuple(said), columns=columns)


def factory_notes(p: P, ctx: RunContext, returned: int) -> tuple[str, ...]:
    """What create_scheduler_v2 returned, and how the run compares with it."""
    mine, how = returned_epochs(p, ctx)
    text = f"create_scheduler_v2 returned num_epochs = {returned}"
    if mine == returned and how:
        text += f" ({how})"
    text += f": timm's train.py trains {returned} epochs."
    epochs = ctx.steps / ctx.steps_per_epoch
    shown = f"{epochs:g}" if float(epochs).is_integer() else f"{epochs:.3g}"
    run = f"This run is {shown} epochs ({ctx.steps} updates of {ctx.steps_per_epoch} per epoch)"
    if epochs < returned:
        run += f": it stops {returned - epochs:.3g} epochs before the end of what train.py would train."
    elif epochs > returned:
        run += f": {epochs - returned:.3g} epochs longer than train.py would train (it stops after {returned})."
    else:
        run += ": exactly those epochs."
    return (text, run)


def _drive_factory(p: P, ctx: RunContext, config: ScheduleConfig) -> Driven:
    call = factory_call(p, ctx)
    name, kw = factory_class(p, ctx)
    optimizer = throwaway(config, ctx.group_lrs)
    scheduler, returned = _construct(lambda: _timm().create_scheduler_v2(optimizer, **call))
    notes = factory_notes(p, ctx, returned)
    if not call["step_on_epochs"]:
        notes += (f"updates_per_epoch = {ctx.steps_per_epoch}, the run's steps per epoch.",)
    return _driven(name, kw, scheduler, optimizer, ctx, config, notes, "step_on_epochs")


def _build_class(name: str, kwargs_of: Callable[[P, RunContext], KW]) -> Callable[..., Any]:
    def build(optimizer: Any, p: P, ctx: RunContext) -> Any:
        kw = kwargs_of(p, ctx)
        return _construct(lambda: getattr(_timm(), name)(optimizer, **kw))

    return build


def _build_factory(optimizer: Any, p: P, ctx: RunContext) -> Any:
    call = factory_call(p, ctx)
    return _construct(lambda: _timm().create_scheduler_v2(optimizer, **call))[0]


# ---- exported code: timm's train.py loop ------------------------------------------------------------------

IMPORT_FALLBACK = """try:
    from timm.scheduler import {names}
except (ImportError, RuntimeError):
    # `import timm` runs timm/__init__.py, which imports torchvision (through timm.layers). Where torchvision
    # is missing or does not load with your torch, load timm.scheduler alone: it needs only torch.
    import importlib
    import importlib.util
    import sys

    for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
        del sys.modules[name]  # what the failed import left half-imported
    sys.modules["timm"] = importlib.util.module_from_spec(importlib.util.find_spec("timm"))  # __init__ not run
    {assign} = importlib.import_module("timm.scheduler").{names}
"""

VALIDATION_LOSS = '''

def validation_loss(epochs):
    """lrlab's synthetic validation loss, one value per epoch: use your validate()'s metric instead."""
    e = np.arange(epochs, dtype=np.float64)
    noise = 0.01 * np.random.default_rng(0).standard_normal(epochs)
    return 0.3 + (2.0 - 0.3) * np.exp(-e / max(1.0, epochs / 5)) + noise
'''

#: The create_scheduler_v2 arguments each ``sched`` uses (the others it ignores, so the export leaves them out).
_WARMUP_ARGS = {"warmup_lr", "warmup_epochs", "warmup_prefix", "cooldown_epochs"}
_NOISE_ARGS = {"noise", "noise_pct", "noise_std", "noise_seed"}
_CYCLE_ARGS = {"min_lr", "cooldown_epochs", "cycle_mul", "cycle_decay", "cycle_limit"}
FACTORY_USES = {
    "cosine": _WARMUP_ARGS | _NOISE_ARGS | _CYCLE_ARGS | {"k_decay"},
    "tanh": _WARMUP_ARGS | _NOISE_ARGS | _CYCLE_ARGS,
    "poly": _WARMUP_ARGS | _NOISE_ARGS | _CYCLE_ARGS | {"k_decay", "decay_rate"},
    "step": _WARMUP_ARGS | _NOISE_ARGS | {"decay_epochs", "decay_rate"},
    "multistep": _WARMUP_ARGS | _NOISE_ARGS | {"decay_milestones", "decay_rate"},
    "plateau": _WARMUP_ARGS | _NOISE_ARGS | {"decay_rate", "patience_epochs", "min_lr", "plateau_mode"},
}


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _optimizer_lines(config: ScheduleConfig, ctx: RunContext) -> list[str]:
    n = len(ctx.group_lrs)
    cls, extra = {
        "adam": ("Adam", f"betas={tuple(config.betas)!r}"),
        "adamw": ("AdamW", f"betas={tuple(config.betas)!r}"),
        "adagrad": ("Adagrad", ""),
    }.get(config.optimizer, ("SGD", f"momentum={config.momentum!r}"))
    tail = f", {extra}" if extra else ""
    if n == 1:
        return [
            "model = torch.nn.Linear(10, 10)",
            f"optimizer = torch.optim.{cls}(model.parameters(), lr={ctx.base_lr!r}{tail})",
        ]
    groups = "".join(
        f'        {{"params": model[{g}].parameters(), "lr": {lr!r}}},\n' for g, lr in enumerate(ctx.group_lrs)
    )
    return [
        f"model = torch.nn.Sequential(*[torch.nn.Linear(10, 10) for _ in range({n})])",
        f"optimizer = torch.optim.{cls}(\n    [\n{groups}    ],\n    lr={ctx.base_lr!r}{tail},\n)"
        "  # each group's lr is its peak: timm schedules every group from its own initial lr",
    ]


def _call(head: str, kwargs: list[tuple[str, Any, str]]) -> str:
    lines = [f"{head}(", "    optimizer,"]
    for name, value, comment in kwargs:
        lines.append(
            f"    {name}={value if isinstance(value, str) and name == 'updates_per_epoch' else _literal(value)},"
        )
        if comment:
            lines[-1] += f"  # {comment}"
    return "\n".join([*lines, ")"])


def _stop_row(name: str, kw: KW, ctx: RunContext) -> int | None:
    """The first row (≤ steps) whose lr would come from a call timm raises in (cycle_mul < 1 past its
    last cycle: ValueError: math domain error), over the run and the call after its last update."""
    if name not in VALUES or kw.get("cycle_mul", 1.0) >= 1.0:
        return None
    values = class_closed_form(name, np.arange(ctx.steps + 1), 1.0, {**kw, "noise_range_t": None}, ctx.steps_per_epoch)
    missing = np.flatnonzero(np.isnan(values))
    return int(missing[0]) if missing.size else None


def _script(
    config: ScheduleConfig,
    ctx: RunContext,
    *,
    title: str,
    import_name: str,
    build: str,
    in_epochs: bool,
    flag: str,
    stop: int | None,
    plateau: bool = False,
    after_build: str = "",
) -> str:
    spe = config.steps_per_epoch
    if plateau:
        when = "the lr changes only after an epoch, by the metric"
    else:
        when = f"with {flag}={in_epochs} " + (
            "the lr changes once per epoch, at step(epoch + 1)" if in_epochs else "it changes at every step_update()"
        )
    doc = (
        f'"""{title}, driven as timm\'s train.py drives it (exported by lrlab).\n\n'
        "After every optimizer update lr_scheduler.step_update(num_updates=...), after every epoch\n"
        f"lr_scheduler.step(epoch + 1{', metric' if plateau else ''}); {when}.\n"
        '"""'
    )
    imports = ["import numpy as np", "import torch"] if plateau else ["import torch"]
    steps = config.steps if stop is None else stop
    loop_guard = stop is not None
    head = [
        doc,
        "",
        *imports,
        "",
        IMPORT_FALLBACK.format(names=import_name, assign=import_name).rstrip(),
        "",
        f"STEPS_PER_EPOCH = {spe}  # batches per epoch: optimizer updates per epoch",
        "",
        *_optimizer_lines(config, ctx),
        build,
    ]
    if after_build:
        head.append(after_build)
    body = []
    if plateau:
        body.append(VALIDATION_LOSS.rstrip())
    body += ["", ""]
    if loop_guard:
        body += [
            f"# timm raises in its scheduler call after update {stop} (ValueError: math domain error: with",
            "# cycle_mul < 1 the cycles end at t_initial / (1 - cycle_mul)); this loop stops there.",
        ]
    body += [
        f"def train(steps={steps}, steps_per_epoch=STEPS_PER_EPOCH):",
        '    """timm\'s train.py loop; returns the learning rate each optimizer update used."""',
        "    lrs = []",
        "    num_updates = 0",
        "    epochs = (steps + steps_per_epoch - 1) // steps_per_epoch",
    ]
    if plateau:
        body.append("    val_loss = validation_loss(epochs)")
    inner = "            "
    body += [
        "    for epoch in range(epochs):",
        "        for batch in range(min(steps_per_epoch, steps - num_updates)):",
        '            lrs.append(optimizer.param_groups[0]["lr"])',
        "            loss = model(torch.randn(8, 10)).pow(2).mean()  # your forward pass and loss",
        "            optimizer.zero_grad()",
        "            loss.backward()",
        "            optimizer.step()",
        "            num_updates += 1",
    ]
    update = "lr_scheduler.step_update(num_updates=num_updates)"
    epoch_call = "lr_scheduler.step(epoch + 1, float(val_loss[epoch]))" if plateau else "lr_scheduler.step(epoch + 1)"
    if loop_guard:
        body += [f"{inner}if num_updates < steps:", f"{inner}    {update}", "        if num_updates < steps:"]
        body.append(f"            {epoch_call}  # end of the epoch: the lr of the next one")
    else:
        body.append(f"{inner}{update}")
        body.append(f"        {epoch_call}  # end of the epoch: the lr of the next one")
    body += [
        "    return lrs",
        "",
        "",
        'if __name__ == "__main__":',
        "    lrs = train()",
        '    print(f"{len(lrs)} updates: lr {lrs[0]:.6g} first, {min(lrs):.6g} lowest, {lrs[-1]:.6g} last")',
    ]
    return "\n".join(head + body) + "\n"


def _class_kwargs_code(name: str, kw: KW, in_epochs: bool) -> list[tuple[str, Any, str]]:
    defaults = TIMM_DEFAULTS[name]
    unit = "epochs" if in_epochs else "optimizer updates"
    out = []
    for key, value in kw.items():
        if key.startswith("_"):
            continue
        noisy = key.startswith("noise_") and key != "noise_range_t"
        if noisy and kw["noise_range_t"] is None:
            continue
        if key not in defaults or key == "t_in_epochs" or value != defaults[key]:
            comment = ""
            if key in ("t_initial", "decay_t", "warmup_t"):
                comment = unit
            if key == "t_in_epochs":
                comment = "True: the lr changes at step(epoch + 1); False: at step_update()"
            out.append((key, value, comment))
    return out


def _export_class(name: str, kwargs_of: Callable[[P, RunContext], KW]) -> Callable[..., str]:
    def export(config: ScheduleConfig, p: P, ctx: RunContext) -> str:
        kw = kwargs_of(p, ctx)
        plateau = name == "PlateauLRScheduler"
        in_epochs = True if plateau else kw["t_in_epochs"]
        build = _call(f"lr_scheduler = {name}", _class_kwargs_code(name, kw, in_epochs))
        return _script(
            config,
            ctx,
            title=f"timm.scheduler.{name}",
            import_name=name,
            build=build,
            in_epochs=in_epochs,
            flag="t_in_epochs",
            stop=_stop_row(name, kw, ctx),
            plateau=plateau,
        )

    return export


def _export_factory(config: ScheduleConfig, p: P, ctx: RunContext) -> str:
    call = factory_call(p, ctx)
    name, kw = factory_class(p, ctx)
    defaults = TIMM_DEFAULTS["create_scheduler_v2"]
    uses = FACTORY_USES[call["sched"]]
    args: list[tuple[str, Any, str]] = [("sched", call["sched"], ""), ("num_epochs", call["num_epochs"], "")]
    for key, value in call.items():
        if key in ("sched", "num_epochs", "updates_per_epoch"):
            continue
        if key in _NOISE_ARGS - {"noise"} and call["noise"] is None:
            continue
        default = defaults[key]
        if key in uses and (value != (list(default) if isinstance(default, tuple) else default)):
            args.append((key, value, ""))
        elif key == "step_on_epochs" and not value:
            args.append((key, value, "False: the lr changes at every step_update()"))
    args.append(("updates_per_epoch", "STEPS_PER_EPOCH", ""))
    returned, how = returned_epochs(p, ctx)
    build = _call("lr_scheduler, num_epochs = create_scheduler_v2", args)
    note = (
        f"# num_epochs = {returned}{f' ({how})' if how else ''}: train.py trains `for epoch in range(num_epochs)`;\n"
        f"# this loop trains the lrlab run: {config.steps} updates ({config.steps / config.steps_per_epoch:.3g} epochs)."
    )
    return _script(
        config,
        ctx,
        title=f"timm.scheduler.create_scheduler_v2(sched={call['sched']!r})",
        import_name="create_scheduler_v2",
        build=build,
        in_epochs=call["step_on_epochs"],
        flag="step_on_epochs",
        stop=_stop_row(name, kw, ctx),
        plateau=name == "PlateauLRScheduler",
        after_build=note,
    )


def _explainer(name: str, kwargs_of: Callable[[P, RunContext], KW]) -> Callable[[Step], Part]:
    def explainer(s: Step) -> Part:
        return explain_class(s, name, kwargs_of(s.params, s.ctx))

    return explainer


def _explain_factory(s: Step) -> Part:
    name, kw = factory_class(s.params, s.ctx)
    return explain_class(s, name, kw, via=f"create_scheduler_v2(sched={s.params['sched']!r})'s ")


# ---- parameters, rules ----------------------------------------------------------------------------------


def _size_help(what: str) -> str:
    return (
        f"{what}, in the unit t_in_epochs picks: epochs (True) or optimizer updates (False). Empty: the run's "
        "length in that unit, ⌈steps / steps_per_epoch⌉ epochs or steps updates"
    )


T_IN_EPOCHS = ParamSpec(
    "t_in_epochs",
    "bool",
    True,
    "Which train.py call changes the lr: True (timm's default) step(epoch + 1) after each epoch, so t_initial, "
    "warmup_t, … count epochs; False step_update(num_updates) after each update, so they count updates.",
)
T_INITIAL = ParamSpec(
    "t_initial",
    "int",
    None,
    _size_help("Length of the first cycle") + " (timm itself requires a value).",
    low=1,
    high=MAX_STEPS,
    optional=True,
    symbol="T_0",
)
LR_MIN = ParamSpec(
    "lr_min",
    "float",
    0.0,
    "Floor of the decay, an absolute lr shared by every param group.",
    low=0.0,
    high=MAX_LR,
    log=True,
    symbol=r"\eta_{\min}",
)
CYCLE_PARAMS = (
    ParamSpec(
        "cycle_mul",
        "float",
        1.0,
        "Each cycle is cycle_mul times longer than the one before. Below 1 the cycles shrink and end at "
        "t_initial / (1 − cycle_mul), where timm raises (ValueError: math domain error).",
        low=0.0,
        high=10.0,
        low_open=True,
        symbol="m",
    ),
    ParamSpec(
        "cycle_decay",
        "float",
        1.0,
        "Each restart peaks at cycle_decay^i × the initial lr.",
        low=0.0,
        high=1.0,
        symbol="d",
    ),
    ParamSpec(
        "cycle_limit",
        "int",
        1,
        "Number of cycles; after them the lr stays at lr_min (1: no restart at all).",
        low=0,
        high=1000,
        symbol="L",
    ),
)
WARMUP_T = ParamSpec(
    "warmup_t",
    "int",
    0,
    "Linear warm-up length, in the unit of t_in_epochs (0: none).",
    low=0,
    high=MAX_STEPS,
    symbol="W",
)
WARMUP_LR_INIT = ParamSpec(
    "warmup_lr_init",
    "float",
    0.0,
    "lr at the start of the warm-up (absolute, shared by every group).",
    low=0.0,
    high=MAX_LR,
    log=True,
    symbol=r"\eta_w",
)


def _prefix(default: bool) -> ParamSpec:
    return ParamSpec(
        "warmup_prefix",
        "bool",
        default,
        "True: the schedule starts after the warm-up (t − warmup_t); False: the warm-up overlaps its first "
        f"warmup_t steps (timm's default here: {default}).",
    )


NOISE_PARAMS = (
    ParamSpec(
        "noise_range_t",
        "int_list",
        [],
        "Noise on the lr: empty for none; one value s: from t = s on; two values [s, e]: for s ≤ t < e "
        "(t in the unit of t_in_epochs). No closed form with noise.",
        low=0,
        high=MAX_STEPS,
    ),
    ParamSpec(
        "noise_pct",
        "float",
        0.67,
        "Noise limit: timm redraws the noise until |n| < noise_pct.",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    ParamSpec(
        "noise_std",
        "float",
        1.0,
        f"Standard deviation of the noise (at most {NOISE_SPREAD} × noise_pct, else timm's redraw loop spins).",
        low=0.0,
        high=10.0,
    ),
    ParamSpec(
        "noise_seed", "int", 42, "Seed: the noise at time t is drawn with seed noise_seed + t.", low=0, high=2**31 - 1
    ),
)
K_DECAY = ParamSpec(
    "k_decay",
    "float",
    1.0,
    "k-decay (arXiv:2004.05909): the cycle's time enters as t_c^k / T_i^k.",
    low=0.0,
    high=10.0,
    low_open=True,
    symbol="k",
)


def _noise_rule(values: P, ctx: RunContext) -> None:
    noise_on = values.get("noise_range_t", values.get("noise"))
    if "noise_range_t" in values and len(values["noise_range_t"]) > 2:
        raise invalid(
            "noise_range_t",
            list(values["noise_range_t"]),
            "must be empty (no noise), one start [s] or a range [s, e]",
        )
    if noise_on is None or (isinstance(noise_on, tuple) and not noise_on):
        return
    if values["noise_std"] > NOISE_SPREAD * values["noise_pct"]:
        name = "noise_std" if values["noise_std"] != 1.0 else "noise_pct"
        raise invalid(
            name,
            values[name],
            f"noise_std ({values['noise_std']:g}) must be at most {NOISE_SPREAD} × noise_pct ({values['noise_pct']:g}): "
            "timm redraws the noise until |n| < noise_pct, so a wider spread would redraw almost for ever",
        )


def _sorted_rule(name: str) -> Callable[[P, RunContext], None]:
    def rule(values: P, ctx: RunContext) -> None:
        ms = list(values[name])
        if ms != sorted(ms):
            raise invalid(name, ms, "must be in increasing order (timm bisects them as a sorted list)")

    return rule


def _tanh_rule(values: P, ctx: RunContext) -> None:
    if not values["lb"] < values["ub"]:
        name = "lb" if values["lb"] != -7.0 else "ub"
        raise invalid(
            name, values[name], f"lb ({values['lb']:g}) must be below ub ({values['ub']:g}) (timm asserts lb < ub)"
        )


def _tanh_warmup_domain(name: str, kw: KW) -> None:
    """TanhLRScheduler evaluates its curve at warmup_t when built (warmup_prefix=False): past the end of
    shrinking cycles (cycle_mul < 1) that raises in math.log, so the construction would fail."""
    w, t0, m = kw["warmup_t"], kw["t_initial"], kw["cycle_mul"]
    if w and not kw["warmup_prefix"] and m < 1 and not 1 - w / t0 * (1 - m) > 0:
        raise invalid(
            name,
            w,
            f"must be below t_initial / (1 − cycle_mul) = {t0 / (1 - m):g} with cycle_mul < 1 and warmup_prefix=False: "
            "TanhLRScheduler evaluates its curve at warmup_t when it is built, and timm's math.log raises there",
        )


def _tanh_class_rule(values: P, ctx: RunContext) -> None:
    _tanh_warmup_domain("warmup_t", tanh_kwargs(values, ctx))


# ---- create_scheduler_v2's parameters ------------------------------------------------------------------


def _factory_rule(values: P, ctx: RunContext) -> None:
    sched = values["sched"]
    if sched == "plateau" and not values["step_on_epochs"]:
        raise invalid(
            "step_on_epochs",
            False,
            "must be true for sched='plateau' (timm: Plateau LR only supports step per epoch.)",
        )
    rate = values["decay_rate"]
    if sched == "plateau" and not rate < 1:
        raise invalid(
            "decay_rate",
            rate,
            "must be below 1 for sched='plateau' (torch's ReduceLROnPlateau: Factor should be < 1.0.)",
        )
    if sched == "step" and rate > 1:
        raise invalid("decay_rate", rate, "must be at most 1 for sched='step' (a growing staircase overflows)")
    if sched == "multistep" and rate > 2:
        raise invalid("decay_rate", rate, "must be at most 2 for sched='multistep'")
    if sched == "tanh":
        _tanh_warmup_domain("warmup_epochs", factory_class(values, ctx)[1])
    m, cycles = values["cycle_mul"], max(1, values["cycle_limit"])
    if sched in ("cosine", "tanh", "poly") and m > 1 and cycles * math.log(m) >= math.log(sys.float_info.max):
        name = "cycle_limit" if values["cycle_limit"] != 1 else "cycle_mul"
        raise invalid(
            name,
            values[name],
            f"cycle_mul ** cycle_limit ({m:g} ** {cycles}) must be a float: create_scheduler_v2 computes it to count "
            "the epochs it returns, and Python raises OverflowError",
        )


FACTORY_PARAMS = (
    ParamSpec(
        "sched",
        "choice",
        "cosine",
        "The schedule: cosine, tanh, step, multistep, plateau or poly (timm 1.0.31 also has wsd, rsqrt, constant).",
        choices=tuple(SCHED_CLASSES),
    ),
    ParamSpec(
        "num_epochs",
        "int",
        None,
        "Epochs of the schedule (t_initial; without warm-up with warmup_prefix, without cooldown). Empty: the run's "
        "epochs, ⌈steps / steps_per_epoch⌉ (timm's own default is 300).",
        low=1,
        high=MAX_STEPS,
        optional=True,
        symbol="N",
    ),
    ParamSpec(
        "decay_epochs",
        "float",
        None,
        "step: epochs between decays (may be fractional: 2.4 in timm's EfficientNet recipe). Empty: a quarter of "
        "num_epochs (timm's own None means 90).",
        low=0.01,
        high=MAX_STEPS,
        optional=True,
        symbol="s",
    ),
    ParamSpec(
        "decay_milestones",
        "int_list",
        [],
        "multistep: epochs to decay at, increasing. Empty: half and three quarters of num_epochs "
        "(timm's own default is 90, 180, 270).",
        low=0,
        high=MAX_STEPS,
        symbol="M",
    ),
    ParamSpec(
        "cooldown_epochs",
        "int",
        0,
        "cosine / tanh / poly: epochs at min_lr after the cycles, added to the returned num_epochs (the lr is "
        "already at min_lr there: cycle_limit stops the schedule).",
        low=0,
        high=MAX_STEPS,
        symbol="C",
    ),
    ParamSpec(
        "patience_epochs",
        "int",
        10,
        "plateau: epochs without improvement before a decay.",
        low=0,
        high=MAX_STEPS,
        symbol="P",
    ),
    ParamSpec(
        "decay_rate",
        "float",
        0.1,
        "step / multistep / plateau: the decay factor; poly: the polynomial's power (timm overloads it).",
        low=0.0,
        high=10.0,
        symbol=r"\gamma",
    ),
    ParamSpec(
        "min_lr",
        "float",
        0.0,
        "Floor of cosine / tanh / poly / plateau (absolute).",
        low=0.0,
        high=MAX_LR,
        log=True,
        symbol=r"\eta_{\min}",
    ),
    ParamSpec(
        "warmup_lr",
        "float",
        1e-5,
        "lr at the start of the warm-up (the classes' default warmup_lr_init is 0).",
        low=0.0,
        high=MAX_LR,
        log=True,
        symbol=r"\eta_w",
    ),
    ParamSpec("warmup_epochs", "int", 0, "Epochs of linear warm-up.", low=0, high=MAX_STEPS, symbol="W"),
    ParamSpec(
        "warmup_prefix",
        "bool",
        False,
        "True: the schedule starts after the warm-up and the warm-up is added to the returned num_epochs; False: "
        "the warm-up overlaps the schedule's first epochs.",
    ),
    ParamSpec(
        "noise",
        "float",
        None,
        "Noise on from this fraction of num_epochs on (timm also takes [start, end] fractions; lrlab the start). "
        "Empty: no noise.",
        low=0.0,
        high=1.0,
        optional=True,
    ),
    *NOISE_PARAMS[1:],
    ParamSpec(
        "cycle_mul",
        "float",
        1.0,
        "cosine / tanh / poly: each cycle is cycle_mul times longer (below 1 the cycles end, and timm raises there).",
        low=0.0,
        high=10.0,
        low_open=True,
        symbol="m",
    ),
    ParamSpec(
        "cycle_decay",
        "float",
        0.1,
        "cosine / tanh / poly: each restart peaks at cycle_decay^i × the lr (the classes' default is 1).",
        low=0.0,
        high=1.0,
        symbol="d",
    ),
    ParamSpec("cycle_limit", "int", 1, "cosine / tanh / poly: number of cycles.", low=0, high=1000, symbol="L"),
    K_DECAY,
    ParamSpec(
        "plateau_mode",
        "choice",
        "min",
        "plateau: 'min' for a loss (lrlab feeds a synthetic loss), 'max' for an accuracy (timm's default; its "
        "train.py passes 'min' when the eval metric is a loss).",
        choices=("min", "max"),
    ),
    ParamSpec(
        "step_on_epochs",
        "bool",
        True,
        "True: the lr changes at step(epoch + 1) (timm's default); False: at every step_update(), with every epoch "
        "count × updates_per_epoch (= the run's steps_per_epoch).",
    ),
)


# ---- formulas and legends --------------------------------------------------------------------------------

START = r"\eta_0 \text{ (}\eta_w\text{ with a warm-up: set by the constructor)}, & T = 0 \\"
WARM = r" \eta_w + T\,\frac{\eta_0 - \eta_w}{W}, & 0 < T < W \\"
CYCLES = (
    r" \\[4pt] t' = T - W \text{ (warmup\_prefix) else } T;\quad m = 1:\ i = \lfloor t'/T_0 \rfloor,\ T_i = T_0,\ "
    r"t_c = t' - i\,T_0;\quad m \ne 1:\ i = \left\lfloor \log_m\!\left(1 - \tfrac{t'}{T_0}(1 - m)\right)\right\rfloor,"
    r"\ T_i = m^i T_0,\ t_c = t' - \tfrac{1 - m^i}{1 - m}\,T_0"
)
TIME = r" \\[4pt] T = \lfloor t / K \rfloor \text{ (epochs done, t\_in\_epochs) or } T = t \text{ (updates done)}"
TIME_LEGEND = (
    ("t", "row: the optimizer update (0-based)"),
    ("K", "steps_per_epoch (batches per epoch)"),
    ("T", "the count timm last received: epochs done (t_in_epochs) or updates done"),
    (r"\eta_0", "the group's initial lr (timm's base value)"),
)
CYCLE_LEGEND = (
    ("T_0", "t_initial"),
    (r"\eta_{\min}", "lr_min"),
    ("m", "cycle_mul"),
    ("d", "cycle_decay"),
    ("L", "cycle_limit"),
    ("W", "warmup_t"),
    (r"\eta_w", "warmup_lr_init"),
    ("i, T_i, t_c", "the cycle, its length, the time into it"),
)
COMMON_NOTES = (
    "Driven as timm's train.py drives it: step_update(num_updates) after every update, step(epoch + 1) after every "
    "epoch; t_in_epochs decides which call changes the lr (the other does nothing).",
    "Row 0 is the lr the constructor set (warmup_lr_init with a warm-up, else the group's lr), before any call.",
    "Each param group is scheduled from its own initial lr (timm's base values: param_group['initial_lr'], set to "
    "the group's lr at construction); warmup_lr_init and lr_min are absolute values shared by all groups.",
    "With noise (noise_range_t) timm multiplies the lr by 1 + n, n drawn from torch's generator seeded noise_seed + t: "
    "there is no closed form for such a configuration.",
)
CYCLE_NOTES = (
    "cycle_limit = 1 (timm's default): after t_initial the lr stays at lr_min for good (torch's CosineAnnealingLR "
    "climbs back instead).",
    "cycle_mul < 1: the cycles shrink and end at t_initial / (1 − cycle_mul); from there timm's math.log gets a "
    "number ≤ 0 and raises ValueError: math domain error, and the curve stops.",
)
OVERLAP_NOTE = (
    "warmup_prefix=False (timm's default): the warm-up overlaps the schedule, so at T = warmup_t the lr is the "
    "schedule's value there, already below the initial lr (pytorch-image-models#1242; warmup_t = 3, t_initial = 10: 0.0794 "
    "for 0.1); warmup_prefix=True starts the schedule after the warm-up."
)
# Where timm's docs (the "Learning Rate Schedulers" page) and its code disagree: lrlab follows the code.
WARMUP_DOCS_NOTE = (
    'timm\'s docs say the warm-up is linear "from warmup_lr to the base lr"; without warmup_prefix the code never '
    "reaches the base lr: the warm-up stops one step short of it and the schedule takes over below it (lr 0.1, "
    "t_initial 10, warmup_t 3: the highest lr is 0.0794 for the cosine, 0.0837 for the polynomial); lrlab follows "
    "the code."
)


def _formula(shape: str) -> str:
    return (
        r"\eta(T) = \begin{cases} "
        + START
        + WARM
        + shape
        + r", & i < L \\ \eta_{\min}, & i \ge L \end{cases}"
        + CYCLES
        + TIME
    )


COSINE_FORMULA = _formula(
    r" \eta_{\min} + \tfrac{1}{2}\left(d^{\,i}\eta_0 - \eta_{\min}\right)\left(1 + \cos\frac{\pi\,t_c^{\,k}}{T_i^{\,k}}\right)"
)
TANH_FORMULA = _formula(
    r" \eta_{\min} + \tfrac{1}{2}\left(d^{\,i}\eta_0 - \eta_{\min}\right)\left(1 - \tanh\left(l_b\,(1 - r) + u_b\,r\right)\right),"
    r"\ r = t_c / T_i"
).replace(r"\frac{\eta_0 - \eta_w}{W}", r"\frac{\eta(W) - \eta_w}{W}")
POLY_FORMULA = _formula(
    r" \eta_{\min} + \left(d^{\,i}\eta_0 - \eta_{\min}\right)\left(1 - \frac{t_c^{\,k}}{T_i^{\,k}}\right)^{p}"
)
STEP_FORMULA = (
    r"\eta(T) = \begin{cases} " + START + WARM + r" \eta_0\,\gamma^{\lfloor t' / s \rfloor}, & T \ge W \end{cases}"
    r" \\[4pt] t' = T - W \text{ (warmup\_prefix, the default here) else } T" + TIME
)
MULTISTEP_FORMULA = (
    r"\eta(T) = \begin{cases} "
    + START
    + WARM
    + r" \eta_0\,\gamma^{\,\#\{m \in M\,:\,m \le t' + 1\}}, & T \ge W \end{cases}"
    r" \\[4pt] t' = T - W \text{ (warmup\_prefix, the default here) else } T" + TIME
)
PLATEAU_FORMULA = (
    r"\eta(e) = \begin{cases} \eta_w + e\,\frac{\eta_0 - \eta_w}{W}, & e \le W \\"
    r" \max(f\,\eta,\ \eta_{\min}) \text{ after more than } P \text{ epochs without a better metric}, & e > W \\"
    r" \eta \text{ otherwise (and for } C \text{ epochs after a decay)} \end{cases}"
    r" \\[4pt] \text{better (mode min): } m_e < \text{best}\,(1 - \theta);\ \text{(max): } m_e > \text{best}\,(1 + \theta)"
)


# ---- the registry entries ----------------------------------------------------------------------------------


def _spec(name: str, kwargs_of: Callable[[P, RunContext], KW], **fields: Any) -> SchedulerSpec:
    closed = fields.pop("closed_form", _closed(name, kwargs_of))
    return SchedulerSpec(
        name=f"timm:{name}",
        library="timm",
        build=_build_class(name, kwargs_of),
        drive=_drive_class(name, kwargs_of),
        export=_export_class(name, kwargs_of),
        explainer=_explainer(name, kwargs_of),
        closed_form=closed,
        reference=DOCS.format(name),
        requires=("timm",),
        install=INSTALL,
        intervals=("step",),
        groups=True,
        tolerance=1e-12,
        **fields,
    )


COSINE = _spec(
    "CosineLRScheduler",
    cosine_kwargs,
    title="CosineLRScheduler — timm's cosine with warm-up, restarts and k-decay",
    summary="Cosine decay from each group's lr to lr_min over t_initial (epochs by default), with an optional "
    "linear warm-up, restarts (cycle_limit), growing cycles and decaying peaks.",
    params=(
        T_INITIAL,
        LR_MIN,
        *CYCLE_PARAMS,
        WARMUP_T,
        WARMUP_LR_INIT,
        _prefix(False),
        T_IN_EPOCHS,
        *NOISE_PARAMS,
        K_DECAY,
    ),
    formula=COSINE_FORMULA,
    legend=(*TIME_LEGEND, *CYCLE_LEGEND, ("k", "k_decay")),
    notes=(*COMMON_NOTES, OVERLAP_NOTE, WARMUP_DOCS_NOTE, *CYCLE_NOTES),
    rules=(_noise_rule,),
)

TANH = _spec(
    "TanhLRScheduler",
    tanh_kwargs,
    title="TanhLRScheduler — hyperbolic-tangent decay (timm)",
    summary="The lr follows ½(1 − tanh) from lb to ub over each cycle (arXiv:1806.01593), with warm-up and restarts.",
    params=(
        T_INITIAL,
        ParamSpec(
            "lb",
            "float",
            -7.0,
            "Lower bound of the tanh's argument (the start of each cycle).",
            low=-50.0,
            high=50.0,
            symbol="l_b",
        ),
        ParamSpec(
            "ub",
            "float",
            3.0,
            "Upper bound of the tanh's argument (the end of each cycle).",
            low=-50.0,
            high=50.0,
            symbol="u_b",
        ),
        LR_MIN,
        *CYCLE_PARAMS,
        WARMUP_T,
        WARMUP_LR_INIT,
        _prefix(False),
        T_IN_EPOCHS,
        *NOISE_PARAMS,
    ),
    formula=TANH_FORMULA,
    legend=(*TIME_LEGEND, *CYCLE_LEGEND, ("l_b", "lb"), ("u_b", "ub"), (r"\eta(W)", "the tanh curve at warmup_t")),
    notes=(
        *COMMON_NOTES,
        "Row 0 is the optimizer's lr, not the formula at T = 0: ½(1 − tanh(lb)) is slightly below 1 "
        "(0.99999834 of the lr for lb = −7), and timm only applies its formula from the first step on.",
        "Without warmup_prefix the warm-up climbs to the tanh curve's value at warmup_t (timm evaluates it when it "
        "is built), so there is no jump after it, unlike the cosine.",
        'timm\'s docs say the warm-up goes "from warmup_lr to the base lr"; without warmup_prefix the code aims it at '
        "the tanh curve's value at warmup_t instead (0.0999665 for lr 0.1, t_initial 10, warmup_t 3), so every "
        "warm-up step is a little smaller; lrlab follows the code.",
        *CYCLE_NOTES,
    ),
    rules=(_tanh_rule, _tanh_class_rule, _noise_rule),
)

STEP = _spec(
    "StepLRScheduler",
    step_kwargs,
    title="StepLRScheduler — decay by decay_rate every decay_t (timm)",
    summary="A staircase: the lr is multiplied by decay_rate every decay_t epochs (or updates), after an optional warm-up.",
    params=(
        ParamSpec(
            "decay_t",
            "float",
            None,
            _size_help("Interval between decays (may be fractional: 2.4 epochs in timm's EfficientNet recipe)")
            + " divided by 4.",
            low=0.01,
            high=MAX_STEPS,
            optional=True,
            symbol="s",
        ),
        ParamSpec(
            "decay_rate",
            "float",
            0.1,
            "Factor at every decay (timm's class default is 1.0, no decay; 0.1 is train.py's default).",
            low=0.0,
            high=1.0,
            symbol=r"\gamma",
        ),
        WARMUP_T,
        WARMUP_LR_INIT,
        _prefix(True),
        T_IN_EPOCHS,
        *NOISE_PARAMS,
    ),
    formula=STEP_FORMULA,
    legend=(
        *TIME_LEGEND,
        ("s", "decay_t"),
        (r"\gamma", "decay_rate"),
        ("W", "warmup_t"),
        (r"\eta_w", "warmup_lr_init"),
    ),
    notes=(
        *COMMON_NOTES,
        "warmup_prefix defaults to True here (False for the cosine): the staircase starts after the warm-up.",
        "decay_t may be fractional: ⌊t' / 2.4⌋ decays at t' = 3, 5, 8, 10, …",
    ),
    rules=(_noise_rule,),
)

MULTISTEP = _spec(
    "MultiStepLRScheduler",
    multistep_kwargs,
    title="MultiStepLRScheduler — decay by decay_rate at milestones (timm)",
    summary="The lr is multiplied by decay_rate at each milestone in decay_t, one step earlier than torch's MultiStepLR.",
    params=(
        ParamSpec(
            "decay_t",
            "int_list",
            [],
            "Milestones, increasing, in the unit of t_in_epochs. Empty: half and three quarters of the run's "
            "length in that unit. A milestone listed twice decays twice.",
            low=0,
            high=MAX_STEPS,
            symbol="M",
        ),
        ParamSpec(
            "decay_rate",
            "float",
            0.1,
            "Factor at every milestone (timm's class default is 1.0, no decay).",
            low=0.0,
            high=2.0,
            symbol=r"\gamma",
        ),
        WARMUP_T,
        WARMUP_LR_INIT,
        _prefix(True),
        T_IN_EPOCHS,
        *NOISE_PARAMS,
    ),
    formula=MULTISTEP_FORMULA,
    legend=(
        *TIME_LEGEND,
        ("M", "decay_t"),
        (r"\gamma", "decay_rate"),
        ("W", "warmup_t"),
        (r"\eta_w", "warmup_lr_init"),
    ),
    notes=(
        *COMMON_NOTES,
        "timm decays one step early: milestone m applies at t' + 1 ≥ m, i.e. at t' = m − 1 (row 9 for milestone 10, "
        "where torch's MultiStepLR decays at row 10); timm keeps this on purpose (#2745, #2753, #2806).",
        'timm\'s docs say the lr is multiplied by decay_rate "at each of the decay_milestones epochs"; the code (and the '
        "class's own docstring) applies milestone m at t = m − 1 (decay_t [3, 6] stepped per epoch: from epochs 2 and 5, "
        "not 3 and 6); lrlab follows the code.",
    ),
    rules=(_sorted_rule("decay_t"), _noise_rule),
)

POLY = _spec(
    "PolyLRScheduler",
    poly_kwargs,
    title="PolyLRScheduler — polynomial decay with warm-up and restarts (timm)",
    summary="The lr falls as (1 − t/t_initial)^power from each group's lr to lr_min, with warm-up, restarts and k-decay.",
    params=(
        T_INITIAL,
        ParamSpec(
            "power", "float", 0.5, "Power of the decay (1: linear; timm's default 0.5).", low=0.0, high=10.0, symbol="p"
        ),
        LR_MIN,
        *CYCLE_PARAMS,
        WARMUP_T,
        WARMUP_LR_INIT,
        _prefix(False),
        T_IN_EPOCHS,
        *NOISE_PARAMS,
        K_DECAY,
    ),
    formula=POLY_FORMULA,
    legend=(*TIME_LEGEND, *CYCLE_LEGEND, ("p", "power"), ("k", "k_decay")),
    notes=(*COMMON_NOTES, OVERLAP_NOTE, WARMUP_DOCS_NOTE, *CYCLE_NOTES),
    rules=(_noise_rule,),
)

PLATEAU = _spec(
    "PlateauLRScheduler",
    plateau_kwargs,
    closed_form=None,
    title="PlateauLRScheduler — decay when the epoch metric stops improving (timm, deprecated)",
    summary="timm's wrapper of torch's ReduceLROnPlateau with a warm-up by epoch: step(epoch + 1, metric) after "
    "each epoch; here the metric is lrlab's synthetic loss.",
    params=(
        ParamSpec(
            "decay_rate",
            "float",
            0.1,
            "Factor of a decay (torch's factor: below 1).",
            low=0.0,
            high=1.0,
            high_open=True,
            symbol="f",
        ),
        ParamSpec(
            "patience_t", "int", 10, "Epochs without improvement before a decay.", low=0, high=MAX_STEPS, symbol="P"
        ),
        ParamSpec(
            "threshold",
            "float",
            1e-4,
            "Relative improvement that counts as better.",
            low=0.0,
            high=1.0,
            symbol=r"\theta",
        ),
        ParamSpec("cooldown_t", "int", 0, "Epochs to wait after a decay.", low=0, high=MAX_STEPS, symbol="C"),
        ParamSpec(
            "warmup_t",
            "int",
            0,
            "Epochs of linear warm-up (the metric is ignored during it).",
            low=0,
            high=MAX_STEPS,
            symbol="W",
        ),
        WARMUP_LR_INIT,
        ParamSpec(
            "lr_min",
            "float",
            0.0,
            "Floor of the decays (absolute).",
            low=0.0,
            high=MAX_LR,
            log=True,
            symbol=r"\eta_{\min}",
        ),
        ParamSpec(
            "mode",
            "choice",
            "min",
            "'min' for a loss (lrlab feeds a synthetic loss), 'max' for an accuracy (timm's default).",
            choices=("min", "max"),
        ),
        ParamSpec(
            "noise_range_t",
            "int_list",
            [],
            "Noise on the lr, in epochs: empty for none; [s]: from s on; [s, e]: for s ≤ epoch < e.",
            low=0,
            high=MAX_STEPS,
        ),
        ParamSpec(
            "noise_type",
            "choice",
            "normal",
            "normal: Gaussian, redrawn until |n| < noise_pct; uniform.",
            choices=("normal", "uniform"),
        ),
        *NOISE_PARAMS[1:3],
        ParamSpec(
            "noise_seed",
            "int",
            None,
            "Seed: the noise of epoch e is drawn with seed noise_seed + e (empty: timm's 42).",
            low=0,
            high=2**31 - 1,
            optional=True,
        ),
    ),
    formula=PLATEAU_FORMULA,
    legend=(
        ("e", "epochs done (the count passed to step)"),
        (r"\eta_0", "the group's initial lr"),
        ("f", "decay_rate"),
        ("P", "patience_t"),
        (r"\theta", "threshold"),
        ("C", "cooldown_t"),
        ("W", "warmup_t"),
        (r"\eta_w", "warmup_lr_init"),
        (r"\eta_{\min}", "lr_min"),
        ("m_e", "the metric of epoch e (synthetic here)"),
    ),
    notes=(
        "Deprecated in timm (a FutureWarning at construction): its state is not saved in checkpoints.",
        "timm's step(epoch + 1, metric) after each epoch drives it; step_update() does nothing. The metric is "
        "synthetic here (lrlab.metrics.synthetic_loss, one value per epoch): no closed form, only the library curve.",
        "Warm-up by epoch with epoch ≤ warmup_t: at epoch warmup_t the lr is the full lr and that metric is not seen.",
        "Wraps torch's ReduceLROnPlateau (threshold_mode 'rel', eps 1e-8: a decay smaller than 1e-8 is skipped).",
        "timm's default mode is 'max' (top-1 accuracy); its train.py passes 'min' for a loss metric, as lrlab does here.",
        "Noise is added on top of the epoch's lr and removed before the next step, so it does not accumulate.",
    ),
    rules=(_noise_rule,),
)

FACTORY = SchedulerSpec(
    name="timm:create_scheduler_v2",
    library="timm",
    title="create_scheduler_v2 — timm's factory: a scheduler by name, sized in epochs",
    summary="What timm's train.py calls: a cosine / tanh / step / multistep / plateau / poly scheduler from epoch "
    "counts, and the number of epochs to train (with warm-up and cooldown).",
    params=FACTORY_PARAMS,
    build=_build_factory,
    drive=_drive_factory,
    export=_export_factory,
    explainer=_explain_factory,
    closed_form=_factory_closed,
    formula=(
        r"\text{sched}(T)\ \text{with}\ T_0 = N\,u,\ W_t = W\,u,\ s_t = s\,u,\ M_t = M\,u,\quad"
        r" u = \begin{cases} 1, & \text{step\_on\_epochs} \\ K, & \text{otherwise (updates\_per\_epoch)} \end{cases}"
        r" \\[4pt] \text{returned epochs} = \begin{cases} \text{cycle length} + C, & \text{cosine, tanh, poly} \\"
        r" N + W\,[\text{warmup\_prefix}], & \text{step, multistep, plateau} \end{cases},\quad"
        r" \text{cycle length} = N\,L' + W\,[\text{warmup\_prefix}]\ (m = 1),\ L' = \max(1, L)"
    ),
    legend=(
        ("T", "the count timm last received: epochs or updates done"),
        ("K", "steps_per_epoch (passed as updates_per_epoch)"),
        ("N", "num_epochs"),
        ("W", "warmup_epochs"),
        ("s", "decay_epochs"),
        ("M", "decay_milestones"),
        ("C", "cooldown_epochs"),
        ("L", "cycle_limit"),
        ("m", "cycle_mul"),
        ("d", "cycle_decay"),
        (r"\gamma", "decay_rate"),
        (r"\eta_w", "warmup_lr"),
        (r"\eta_{\min}", "min_lr"),
        ("k", "k_decay"),
        ("P", "patience_epochs"),
    ),
    notes=(
        "It returns (scheduler, num_epochs): num_epochs includes the warm-up when warmup_prefix=True and, for "
        "cosine / tanh / poly, the cycles and cooldown_epochs; train.py trains that many epochs.",
        "Its defaults differ from the classes': warmup_lr 1e-5 (not 0), cycle_decay 0.1 (not 1: a restart peaks at a "
        "tenth), and poly's power is decay_rate (0.1 by default, a steep early drop).",
        "step_on_epochs=False multiplies every epoch count by updates_per_epoch (the run's steps_per_epoch) and "
        "steps the lr at every update.",
        "cooldown_epochs changes only the returned count (the lr is at min_lr after the last cycle anyway); step, "
        "multistep and plateau ignore it. plateau requires step_on_epochs and uses cooldown_t = 0.",
        "noise is a fraction of the schedule length (noise × t_initial): no closed form with noise, nor for plateau "
        "(its metric is synthetic here).",
        OVERLAP_NOTE,
    ),
    rules=(_sorted_rule("decay_milestones"), _factory_rule, _noise_rule),
    reference=DOCS.format("create_scheduler_v2"),
    requires=("timm",),
    install=INSTALL,
    intervals=("step",),
    groups=True,
    tolerance=1e-12,
)

SPECS: tuple[SchedulerSpec, ...] = (COSINE, TANH, STEP, MULTISTEP, PLATEAU, POLY, FACTORY)

__all__ = ["SPECS", "TIMM_DEFAULTS", "factory_call", "factory_class", "returned_epochs", "train_loop"]
