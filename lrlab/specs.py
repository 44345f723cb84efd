"""Declarative scheduler specs: what a parameter is, what a scheduler is, and one run's config.

Everything downstream (widgets, validation, formulas, the CLI, the tests) is generated from these
records. A spec holds no state; building and stepping the real scheduler lives in
:mod:`lrlab.simulate`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

Library = Literal["torch", "transformers", "timm", "keras", "optax", "fastai"]
#: Every library lrlab drives, in the order pickers show them.
LIBRARIES: tuple[str, ...] = ("torch", "transformers", "timm", "keras", "optax", "fastai")
#: The module a library's schedules live in (for qualified names in messages and docs).
LIBRARY_MODULES = {
    "torch": "torch.optim.lr_scheduler",
    "transformers": "transformers",
    "timm": "timm.scheduler",
    "keras": "keras.optimizers.schedules",
    "optax": "optax.schedules",
    "fastai": "fastai.callback.schedule",
}
ParamKind = Literal["int", "float", "bool", "choice", "int_list", "float_list", "expr", "children"]
Default = Any  # a value, or a callable ``(steps) -> value`` for sizes that follow the run length

#: Upper bound on the number of steps one curve may have (a visitor can't hold the server).
MAX_STEPS = 1_000_000
#: Longest list a list-valued parameter may hold (e.g. MultiStepLR milestones).
MAX_LIST_LEN = 100
#: Longest expression text (LambdaLR / MultiplicativeLR).
MAX_EXPR_LEN = 500
#: Most param groups one simulated optimizer may have.
MAX_GROUPS = 8
#: The largest learning rate a run takes: the largest finite float (:func:`is_lr`, :data:`LR_RULE`).
MAX_LR = sys.float_info.max
#: Most children a SequentialLR / ChainedScheduler may have.
MAX_CHILDREN = 6
#: lists/mappings nest at most this deep in a config (a composition's children are 3 levels down)
MAX_DEPTH = 16
#: The version of lrlab's own config schema (``lrlab export --target yaml|json`` writes it).
SCHEMA_VERSION = 1


class LibraryWarning(UserWarning):
    """The library (torch / transformers) warned while lrlab built or stepped its scheduler.

    The message is the library's own text: the same warning your training loop would print.
    """


class LibraryRefusal(LibraryWarning):
    """The library refused a ``scheduler.step()`` (it raised): the curve's rows from there on are NaN.

    The message names the scheduler, the step, and the library's own error (e.g. ``ValueError: Tried
    to step 11 times. The specified number of total steps is 10``).
    """


class LrlabError(ValueError):
    """The one error lrlab raises for bad input. Its message names the field and what is allowed.

    ``field`` is the parameter name (or ``None`` for errors about the whole configuration) so that a
    UI can point at the offending input.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def invalid(name: str, value: Any, allowed: str) -> LrlabError:
    """``Invalid T_max (0): must be a positive integer`` — the house format for a bad value."""
    return LrlabError(f"Invalid {name} ({_show(value)}): {allowed}", field=name)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a scheduler, named as the library names it.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``; either may be a callable of
    the run length (``steps``), like ``default``. ``high`` = :data:`MAX_LR` marks an absolute learning
    rate (``eta_min``, ``max_lr``, ``lr_end`` …): any finite value from ``low`` up, as the libraries take
    it; a dimensionless factor keeps a bound of its own. ``optional`` admits ``None`` ("not set"), which
    is what the library's own default means for e.g. ``step_size_down`` or ``timescale``.
    """

    name: str
    kind: ParamKind
    default: Default
    help: str
    low: float | Callable[[int], float] | None = None
    high: float | Callable[[int], float] | None = None
    low_open: bool = False
    high_open: bool = False
    log: bool = False
    choices: tuple[Any, ...] = ()
    optional: bool = False
    per_group: bool = False  # also accepts a list with one value per param group
    symbol: str = ""  # LaTeX symbol used in the formula, for the legend

    def default_for(self, steps: int) -> Any:
        return self.default(steps) if callable(self.default) else self.default

    def bounds_for(self, steps: int) -> tuple[float | None, float | None]:
        low = self.low(steps) if callable(self.low) else self.low
        high = self.high(steps) if callable(self.high) else self.high
        return low, high

    def allowed_text(self, steps: int) -> str:
        """What values are allowed, in words, for error messages and help texts."""
        if self.kind == "bool":
            text = "must be true or false"
        elif self.kind == "choice":
            text = "must be one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "expr":
            text = f"must be an expression in `epoch` of at most {MAX_EXPR_LEN} characters"
        elif self.kind == "children":
            text = f'must be a list of 1 to {MAX_CHILDREN} schedulers, each {{"name": ..., <its params>}}'
        else:
            noun = {
                "int": "an integer",
                "float": "a number",
                "int_list": f"a list of at most {MAX_LIST_LEN} integers, each",
                "float_list": f"a list of at most {MAX_LIST_LEN + 1} numbers, each",
            }[self.kind]
            low, high = self.bounds_for(steps)
            if self.kind == "float" and high == MAX_LR:  # a learning rate: any finite one (LR_RULE)
                noun, high = "a finite number", None
            elif self.kind == "float_list" and high == MAX_LR:  # learning rates (Keras' values)
                noun, high = f"a list of at most {MAX_LIST_LEN + 1} finite numbers, each", None
            text = f"must be {noun}{_range_text(low, high, self.low_open, self.high_open)}"
        if self.per_group:
            text += ", or a list of such values, one per param group"
        return text + (" (or null for the library's default)" if self.optional else "")

    def parse(self, raw: str) -> Any:
        """A text value of this parameter (a link, ``--set``): :func:`parse_value`, except that an
        expression stays the text typed (``lr_lambda=0.8`` is the expression ``0.8``, not a number)."""
        value = parse_value(raw)
        if self.kind == "expr" and not isinstance(value, (str, list)):
            return raw.strip()
        return value

    def coerce(self, value: Any, steps: int) -> Any:
        """Return ``value`` converted to this parameter's type, or raise a named :class:`LrlabError`."""
        if value is None:
            if self.optional:
                return None
            raise invalid(self.name, value, self.allowed_text(steps))
        if self.per_group and isinstance(value, (list, tuple)):
            if not 1 <= len(value) <= MAX_GROUPS:
                raise invalid(self.name, value, self.allowed_text(steps))
            single = ParamSpec(
                self.name,
                self.kind,
                self.default,
                self.help,
                self.low,
                self.high,
                self.low_open,
                self.high_open,
                self.log,
                self.choices,
            )
            return tuple(single.coerce(v, steps) for v in value)
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise invalid(self.name, value, self.allowed_text(steps))
        if kind == "choice":
            if value in self.choices and type(value) is type(self.choices[0]):
                return value
            raise invalid(self.name, value, self.allowed_text(steps))
        if kind == "expr":
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_EXPR_LEN:
                raise invalid(self.name, value, self.allowed_text(steps))
            return value.strip()
        if kind == "children":
            if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_CHILDREN:
                raise invalid(self.name, value, self.allowed_text(steps))
            items = [c.to_dict() if isinstance(c, FrozenMap) else c for c in value]
            if not all(isinstance(c, Mapping) and isinstance(c.get("name"), str) for c in items):
                raise invalid(self.name, value, self.allowed_text(steps))
            return tuple(_freeze(c) for c in items)
        if kind == "int_list":
            if not isinstance(value, (list, tuple)) or len(value) > MAX_LIST_LEN:
                raise invalid(self.name, value, self.allowed_text(steps))
            return tuple(self._number(v, steps, as_int=True, shown=value) for v in value)
        if kind == "float_list":  # Keras' PiecewiseConstantDecay values: one more than its boundaries
            if not isinstance(value, (list, tuple)) or len(value) > MAX_LIST_LEN + 1:
                raise invalid(self.name, value, self.allowed_text(steps))
            return tuple(float(self._number(v, steps, as_int=False, shown=value)) for v in value)
        return self._number(value, steps, as_int=kind == "int", shown=value)

    def _number(self, value: Any, steps: int, *, as_int: bool, shown: Any) -> int | float:
        bad = invalid(self.name, shown, self.allowed_text(steps))
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad
        number = float(value)
        if not math.isfinite(number):
            raise bad
        if as_int:
            if not number.is_integer():
                raise bad
            number = int(number)
        low, high = self.bounds_for(steps)
        if low is not None and (number < low or (self.low_open and number == low)):
            raise bad
        if high is not None and (number > high or (self.high_open and number == high)):
            raise bad
        return number


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if low_open else '≥'} {_num(low)}"
    if low is None:
        return f" {'<' if high_open else '≤'} {_num(high)}"
    return f" in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"


def _num(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


# A closed form: (steps array, the group's initial lr, validated params, run context) -> lr array.
ClosedForm = Callable[[np.ndarray, float, Mapping[str, Any], "RunContext"], np.ndarray]
# A builder: (optimizer, validated params, run context) -> the real scheduler object.
Builder = Callable[[Any, Mapping[str, Any], "RunContext"], Any]
# A cross-parameter rule: raises LrlabError naming the field, or returns None.
Rule = Callable[[Mapping[str, Any], "RunContext"], None]
# A driver: (validated params, run context, config) -> what the real library produced (:class:`Driven`).
Driver = Callable[[Mapping[str, Any], "RunContext", "ScheduleConfig"], "Driven"]
# An exporter: (config, validated params, run context) -> a runnable script in the library's own idiom.
Exporter = Callable[["ScheduleConfig", Mapping[str, Any], "RunContext"], str]


@dataclass(frozen=True)
class Driven:
    """What a library adapter's driver produced for one run: the engine's input.

    ``lrs`` has one row per optimizer step and one column per param group (NaN from ``stopped_at`` on,
    where the library refused to go on, with its own error in ``refusal``); ``momentum`` is the momentum
    (SGD) or beta1 (Adam) the library set at each step where it schedules one; ``columns`` holds extra
    per-step columns the library has (optax: the lr of the jitted schedule, ``lr_jit``).
    """

    lrs: np.ndarray
    momentum: np.ndarray | None = None
    stopped_at: int | None = None
    refusal: str | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    columns: tuple[tuple[str, np.ndarray], ...] = ()


@dataclass(frozen=True)
class RunContext:
    """What a builder or closed form may know about the run besides the scheduler's own params."""

    steps: int
    base_lr: float  # the optimizer's lr (its ``defaults["lr"]``; group 0's initial lr)
    group_lrs: tuple[float, ...]  # initial lr of every param group (group 0 first)
    steps_per_epoch: int = 1
    group: int = 0  # the param group a closed form is being evaluated for

    def pick(self, value: Any) -> Any:
        """This group's entry of a per-group value (a tuple), or the value itself."""
        return value[self.group] if isinstance(value, tuple) else value


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported here, found without importing it.

    ``importlib.util.find_spec`` raises ValueError for a module in ``sys.modules`` whose ``__spec__``
    is None (a package a notebook or test registered by hand): such a module is there, so it counts
    as installed, and no page fails on it."""
    import importlib.util
    import sys

    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:
        return sys.modules.get(module) is not None


@dataclass(frozen=True)
class SchedulerSpec:
    """One scheduler of one library: everything lrlab needs to build, explain and draw it."""

    name: str  # torch class / transformers function name; ``library:Name`` for the other libraries
    library: Library
    title: str  # one line shown in pickers
    summary: str  # a sentence or two on what it does and when to use it
    params: tuple[ParamSpec, ...]
    build: Builder
    formula: str  # LaTeX, piecewise where needed
    legend: tuple[tuple[str, str], ...]  # (LaTeX symbol, meaning) pairs
    closed_form: ClosedForm | None = None
    closed_momentum: ClosedForm | None = None  # momentum / beta1 where the scheduler cycles it
    rules: tuple[Rule, ...] = ()
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # where the library differs from the textbook formula
    cycles_momentum: Callable[[Mapping[str, Any]], bool] | None = None
    needs_metric: bool = False  # stepped with ``scheduler.step(metric)``
    base_lr_param: str | None = None  # a param that *is* the curve's base lr (CyclicLR's base_lr)
    reference: str = ""  # URL of the library's documentation
    # Python source that builds this scheduler as ``scheduler`` from ``optimizer`` (for exported code);
    # None: ``<class or function>(optimizer, **params)`` with the non-null params.
    code: Callable[[Mapping[str, Any], RunContext], str] | None = None
    # How the library produces the curve. None: ``build`` returns a torch LRScheduler that the engine
    # steps after every optimizer step (torch, transformers); otherwise the library adapter's driver
    # (timm's step_update/step, a pure function of the step for Keras and optax, fastai's ParamScheduler).
    drive: Driver | None = None
    # A runnable script in the library's own idiom (timm's loop, a Keras optimizer, optax, a fastai
    # Learner), defining ``train(steps, steps_per_epoch)`` that returns the lr of every update.
    export: Exporter | None = None
    # Largest relative difference between the closed form (float64) and the library that is rounding:
    # float64 libraries 1e-9; float32 ones (Keras, optax, fastai's phase positions) more, said in the UI.
    tolerance: float = 1e-9
    # Modules the library needs (found without importing them) and the command that installs them.
    requires: tuple[str, ...] = ()
    install: str = ""
    # The stepping patterns (:data:`INTERVALS`) the library can be driven with; () = all torch allows.
    intervals: tuple[str, ...] = ()
    # Explain mode for this schedule: (:class:`lrlab.explaining.Step`) -> :class:`lrlab.explaining.Part`;
    # None: the explainer of :data:`lrlab.explain.EXPLAINERS` under the spec's name.
    explainer: Callable[[Any], Any] | None = None
    # The absolute difference between the library and the closed form that is the library's own rounding,
    # for these params and run ((params, ctx) -> float): where float32 arithmetic cancels near 0 (Keras'
    # 1 + cos, 1 − t/D), a relative tolerance alone can't hold. None: 0.
    rounding: Callable[[Mapping[str, Any], RunContext], float] | None = None
    # Whether the library schedules several param groups (torch optimizers, fastai); a Keras or optax
    # schedule is one function of the step, one learning rate.
    groups: bool = True

    def __post_init__(self) -> None:
        # The param that *is* the run's base lr (CyclicLR's base_lr, Keras' initial_learning_rate …) takes
        # the run's range, whatever its record says: one rule for what a learning rate may be (is_lr).
        if self.base_lr_param:
            params = tuple(
                replace(p, low=0.0, high=MAX_LR, low_open=True, high_open=False) if p.name == self.base_lr_param else p
                for p in self.params
            )
            object.__setattr__(self, "params", params)

    @property
    def qualified_name(self) -> str:
        short = self.name.split(":", 1)[-1]
        return f"{LIBRARY_MODULES[self.library]}.{short}"

    @property
    def short_name(self) -> str:
        """The library's own name of the schedule (``CosineDecay`` for ``keras:CosineDecay``)."""
        return self.name.split(":", 1)[-1]

    def unavailable(self) -> str | None:
        """Why this schedule can't run here (its library is not installed, with the command that
        installs it), or None. Looks for the modules without importing them."""
        missing = [m for m in self.requires if not _installed(m)]
        if not missing:
            return None
        return f"{self.library} is not installed here ({', '.join(missing)} missing): {self.install}"

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self, steps: int) -> dict[str, Any]:
        return {p.name: p.default_for(steps) for p in self.params if p.name != self.base_lr_param}

    def validate(self, params: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
        """Complete ``params`` with defaults, coerce each, apply the cross-parameter rules.

        Raises :class:`LrlabError` naming the first offending parameter. Unknown names are errors
        too (a typo must not silently fall back to a default).
        """
        known = {p.name for p in self.params if p.name != self.base_lr_param}
        unknown = sorted(set(params) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise LrlabError(
                f"Unknown parameter {unknown[0]!r} for {self.name}: allowed are {allowed}",
                field=unknown[0],
            )
        values: dict[str, Any] = {}
        for p in self.params:
            if p.name == self.base_lr_param:
                continue
            raw = params[p.name] if p.name in params else p.default_for(ctx.steps)
            values[p.name] = p.coerce(raw, ctx.steps)
            if p.per_group and isinstance(values[p.name], tuple) and len(values[p.name]) != len(ctx.group_lrs):
                raise LrlabError(
                    f"Invalid {p.name}: {len(values[p.name])} values given for {len(ctx.group_lrs)} param group(s); "
                    "give one value, or one per group",
                    field=p.name,
                )
        for rule in self.rules:
            rule(values, ctx)
        return values


def validate_run(steps: Any, base_lr: Any, steps_per_epoch: Any, group_lrs: Any = ()) -> None:
    """Check the run-level inputs every curve has, with the same named messages as parameters."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise invalid("steps", steps, f"must be an integer in [1, {MAX_STEPS}]")
    if (
        isinstance(steps_per_epoch, bool)
        or not isinstance(steps_per_epoch, (int, np.integer))
        or not 1 <= steps_per_epoch <= MAX_STEPS
    ):
        raise invalid("steps_per_epoch", steps_per_epoch, f"must be an integer in [1, {MAX_STEPS}]")
    if len(group_lrs) > MAX_GROUPS - 1:
        raise LrlabError(
            f"Invalid group_lrs ({len(group_lrs)} extra groups): at most {MAX_GROUPS - 1} are allowed",
            field="group_lrs",
        )
    for name, lr in [("base_lr", base_lr)] + [(f"lr_{i + 1}", v) for i, v in enumerate(group_lrs)]:
        if not is_lr(lr):
            raise invalid(name, lr, LR_RULE)


#: What a learning rate may be (the run's base lr and each group's lr). torch's SGD, Adam, AdamW and
#: Adagrad take any lr >= 0 (even inf; SGD even nan) and refuse a negative one ("Invalid learning rate:
#: -1.0"); lrlab draws every positive finite one. 0 is left out: the curves are drawn on a log axis and
#: a warm-up "from 0" is written as a factor, not as a base lr of 0.
LR_RULE = "must be a finite number > 0"


def is_lr(value: Any) -> bool:
    """Whether ``value`` is a learning rate a run takes: a real number (not a bool), finite as a float
    (``10**400`` is not), above 0."""
    if not _is_number(value):
        return False
    try:
        return math.isfinite(float(value)) and value > 0
    except OverflowError:  # an int too big for a float
        return False


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and (isinstance(value, (int, np.integer)) or math.isfinite(value))
    )


def validate_optimizer(config: ScheduleConfig) -> None:
    """Check the optimizer settings of a config (momentum for SGD, betas for Adam/AdamW)."""
    if config.optimizer not in OPTIMIZERS:
        raise invalid("optimizer", config.optimizer, "must be one of " + ", ".join(map(repr, OPTIMIZERS)))
    if config.interval not in INTERVALS:
        raise invalid("interval", config.interval, INTERVALS_TEXT)
    if not _is_number(config.momentum) or not 0 <= config.momentum < 1:
        raise invalid("momentum", config.momentum, "must be a number in [0, 1)")
    betas = config.betas
    if len(betas) != 2 or not all(_is_number(b) and 0 <= b < 1 for b in betas):
        raise invalid("betas", list(betas), "must be two numbers in [0, 1)")


Optimizer = Literal["sgd", "adam", "adamw", "adagrad"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw", "adagrad")
Interval = Literal["step", "epoch", "epoch_fraction", "epoch_arg"]
#: How the training loop calls ``scheduler.step()``:
#: ``step`` — ``scheduler.step()`` after every optimizer step; ``epoch`` — ``scheduler.step()`` once per
#: epoch; ``epoch_fraction`` — ``scheduler.step(epoch + i / steps_per_epoch)`` after every optimizer
#: step (batch ``i`` of epoch ``epoch``, torch's CosineAnnealingWarmRestarts docs);
#: ``epoch_arg`` — ``scheduler.step(epoch + 1)`` once per epoch, the explicit number of epochs done.
INTERVALS: tuple[str, ...] = ("step", "epoch", "epoch_fraction", "epoch_arg")
INTERVALS_TEXT = "must be one of " + ", ".join(repr(i) for i in INTERVALS)
RUN_FIELDS = ("base_lr", "steps", "steps_per_epoch", "optimizer", "group_lrs", "momentum", "betas", "interval")


@dataclass(frozen=True)
class ScheduleConfig:
    """One configured schedule: the unit that flows through URL, compare list, export and cache.

    Frozen and hashable: ``params`` is stored as a sorted tuple of ``(name, value)`` pairs with
    lists turned into tuples and mappings into :class:`FrozenMap`. :meth:`to_dict` /
    :meth:`from_dict` give its JSON form. ``interval`` says how the training loop calls
    ``scheduler.step()`` (:data:`INTERVALS`): after every optimizer step, once per epoch (every
    ``steps_per_epoch`` optimizer steps), or with an explicit epoch: ``step(epoch + i / steps_per_epoch)``
    after every optimizer step, ``step(epoch + 1)`` once per epoch.
    """

    scheduler: str
    params: tuple[tuple[str, Any], ...] = ()
    base_lr: float = 0.1
    steps: int = 1000
    steps_per_epoch: int = 1
    optimizer: Optimizer = "sgd"
    group_lrs: tuple[float, ...] = ()  # initial lrs of extra param groups (group 1, 2, …)
    momentum: float = 0.9  # SGD's momentum
    betas: tuple[float, float] = (0.9, 0.999)  # Adam / AdamW
    interval: Interval = "step"

    @classmethod
    def make(cls, scheduler: str, params: Mapping[str, Any] | None = None, **run: Any) -> ScheduleConfig:
        frozen = tuple(sorted((k, _freeze(v)) for k, v in (params or {}).items()))
        for name in ("group_lrs", "betas"):
            if name in run and isinstance(run[name], (list, tuple)):
                run[name] = tuple(run[name])
        return cls(scheduler=scheduler, params=frozen, **run)

    @property
    def params_dict(self) -> dict[str, Any]:
        return {k: _thaw(v) for k, v in self.params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheduler": self.scheduler,
            "params": self.params_dict,
            "base_lr": self.base_lr,
            "steps": self.steps,
            "steps_per_epoch": self.steps_per_epoch,
            "optimizer": self.optimizer,
            "group_lrs": list(self.group_lrs),
            "momentum": self.momentum,
            "betas": list(self.betas),
            "interval": self.interval,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleConfig:
        """Build from plain data (JSON, YAML, a URL), checking the shape; values are checked when resolved."""
        if not isinstance(data, Mapping):
            raise LrlabError("A schedule config must be a mapping of fields", field=None)
        if too_deep(data):
            raise LrlabError(f"Invalid config: lists or mappings nested more than {MAX_DEPTH} deep", field=None)
        allowed = {"scheduler", "params", *RUN_FIELDS}
        unknown = sorted(str(k) for k in set(data) - allowed)
        if unknown:
            raise LrlabError(
                f"Unknown config field {unknown[0]!r}: allowed are {', '.join(sorted(allowed))}", field=unknown[0]
            )
        if not isinstance(data.get("scheduler"), str):
            raise invalid("scheduler", data.get("scheduler"), "must be a scheduler name")
        params = data.get("params", {})
        if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
            raise invalid("params", params, "must be a mapping of parameter names to values")
        run = {k: data[k] for k in RUN_FIELDS if k in data}
        if "optimizer" in run and run["optimizer"] not in OPTIMIZERS:
            raise invalid("optimizer", run["optimizer"], "must be one of " + ", ".join(map(repr, OPTIMIZERS)))
        if "interval" in run and run["interval"] not in INTERVALS:
            raise invalid("interval", run["interval"], INTERVALS_TEXT)
        for name in ("group_lrs", "betas"):
            if name in run and not isinstance(run[name], (list, tuple)):
                raise invalid(name, run[name], "must be a list of numbers")
        try:
            return cls.make(data["scheduler"], params, **run)
        except TypeError as exc:
            raise LrlabError(f"Invalid config: {exc}") from None


def parse_value(raw: str) -> Any:
    """A flat text value (``--set`` on the command line, a URL query value): a JSON literal
    (``[5, 15]``, ``0.5``, ``null``, ``true``) when it is one, else the text itself (``triangular2``).

    JSON nested deeper than :data:`MAX_DEPTH` stays text (json itself raises RecursionError near
    1,000 levels; no lrlab value nests more than a few)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    return raw if too_deep(value) else value


def too_deep(value: Any, limit: int | None = None) -> bool:
    """True if lists/mappings in ``value`` nest deeper than ``limit`` (default :data:`MAX_DEPTH`)."""
    limit = MAX_DEPTH if limit is None else limit
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def format_value(value: Any) -> str:
    """The inverse of :func:`parse_value`: text that parses back to ``value``."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value)  # text that would read as JSON (e.g. "1") keeps its quotes
    return json.dumps(_thaw(value), separators=(",", ":"))


class FrozenMap(tuple):
    """A mapping frozen into a hashable tuple of sorted ``(key, value)`` pairs (for configs)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: _thaw(v) for k, v in self}


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenMap(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)) and not isinstance(value, FrozenMap):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, FrozenMap):
        return value.to_dict()
    return [_thaw(v) for v in value] if isinstance(value, tuple) else value


__all__ = [
    "INTERVALS",
    "MAX_STEPS",
    "FrozenMap",
    "LibraryRefusal",
    "LibraryWarning",
    "LrlabError",
    "ParamSpec",
    "RunContext",
    "ScheduleConfig",
    "SchedulerSpec",
    "format_value",
    "invalid",
    "parse_value",
    "validate_optimizer",
    "validate_run",
]


def from_lrlab(data: Mapping[str, Any]) -> ScheduleConfig:
    """A config in lrlab's own schema (``lrlab.export.config_dict``: ``version`` and the config's fields)."""
    if not isinstance(data, Mapping):
        raise LrlabError("A schedule config must be a mapping of fields", field=None)
    version = data.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise invalid("version", version, f"this lrlab reads config version {SCHEMA_VERSION}")
    body = {k: v for k, v in data.items() if k != "version"}
    if "scheduler" not in body:
        raise LrlabError(
            "Invalid config: missing field 'scheduler' (e.g. scheduler: CosineAnnealingLR)", field="scheduler"
        )
    return ScheduleConfig.from_dict(body)
