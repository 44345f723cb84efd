"""Import: the configs people have, turned into one validated :class:`~lrlab.specs.ScheduleConfig`.

Five formats, told apart by their fields (:func:`detect_format`):

- lrlab's own YAML/JSON (``lrlab export --target yaml|json``): a ``scheduler`` field;
- a Hugging Face ``training_args.json`` / TrainingArguments dict: ``lr_scheduler_type``;
- timm's ``args.yaml`` (``train.py`` writes ``yaml.safe_dump(args.__dict__)``): ``sched``;
- a Lightning CLI config (``--print_config``): ``lr_scheduler`` / ``optimizer`` with a ``class_path``;
- a serialized Keras schedule (``keras.optimizers.schedules.serialize``): ``class_name`` and ``config``.

Text is parsed as plain data only — JSON with :mod:`json`, YAML with ``yaml.safe_load`` (no tags,
no objects) — size-limited, and every value is validated through the scheduler specs. Nothing in a
file is imported or executed: a Lightning ``class_path`` is a name looked up in lrlab's registry, a
Keras ``class_name`` too. Problems are reported as :class:`~lrlab.specs.LrlabError` naming the field.

What an import read, derived (with the formula) and ignored goes to the ``notes`` list a caller
passes, as sentences. A value that does not take effect as written (``warmup_ratio`` beside
``warmup_steps``, a kwarg transformers drops) is also warned as a :class:`ConfigWarning` when no
list is passed; the other sentences are then dropped.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import warnings
from collections.abc import Mapping
from typing import Any

import yaml

from lrlab.schedulers import get_spec
from lrlab.simulate import resolve
from lrlab.specs import (
    MAX_DEPTH,
    MAX_STEPS,
    LrlabError,
    RunContext,
    ScheduleConfig,
    from_lrlab,
    invalid,
    is_lr,
    too_deep,
)

MAX_CONFIG_BYTES = 200_000
# TrainingArguments.lr_scheduler_type -> the transformers function lrlab simulates
_TRAINER_FIELDS = {
    "learning_rate", "lr_scheduler_type", "warmup_steps", "warmup_ratio", "max_steps", "num_train_epochs",
    "lr_scheduler_kwargs", "gradient_accumulation_steps", "per_device_train_batch_size", "dataloader_drop_last",
}  # fmt: skip
#: The formats :func:`import_config` reads, as :func:`detect_format` names them.
FORMATS = ("lrlab", "transformers", "timm", "lightning", "keras")


class ConfigWarning(UserWarning):
    """An imported config was read, but one of its values does not take effect as written."""


def _note(notes: list[str] | None, message: str) -> None:
    """A value that does not take effect as written: into ``notes``, else warned."""
    if notes is None:
        warnings.warn(message, ConfigWarning, stacklevel=3)
    else:
        notes.append(message)


def _tell(notes: list[str] | None, message: str) -> None:
    """What was read, derived or ignored: into ``notes`` when the caller keeps them."""
    if notes is not None:
        notes.append(message)


def _refuse_aliases(text: str, field: str) -> None:
    """Refuse YAML aliases (``*name``) before loading: an alias is a reference to an anchored node, and a
    few hundred bytes of nested aliases stand for billions of nodes once walked ("billion laughs"); a
    config never needs one. Scanning the parser's events builds nothing."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise LrlabError(
                f"Invalid {field}: aliases (*name) are not allowed: write the value out at line {mark.line + 1}, "
                f"column {mark.column + 1}",
                field=field,
            )


def load_text(text: str | bytes, *, field: str = "config") -> Any:
    """Parse JSON or YAML text into plain data (JSON first; YAML through the safe loader)."""
    if isinstance(text, bytes):
        if len(text) > MAX_CONFIG_BYTES:
            raise LrlabError(
                f"Invalid {field}: {len(text):,} bytes, at most {MAX_CONFIG_BYTES:,} are allowed", field=field
            )
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LrlabError(f"Invalid {field}: not UTF-8 text", field=field) from None
    if len(text) > MAX_CONFIG_BYTES:
        raise LrlabError(f"Invalid {field}: {len(text):,} characters, at most {MAX_CONFIG_BYTES:,}", field=field)
    if not text.strip():
        raise LrlabError(f"Invalid {field}: empty", field=field)
    try:
        data = json.loads(text)
    except RecursionError:
        raise LrlabError(f"Invalid {field}: nested too deeply", field=field) from None
    except ValueError:
        pass
    else:
        return _shallow(data, field)
    try:
        _refuse_aliases(text, field)
        return _shallow(yaml.safe_load(text), field)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "not valid YAML or JSON"
        raise LrlabError(f"Invalid {field}: {problem}{where}", field=field) from None
    except RecursionError:
        raise LrlabError(f"Invalid {field}: nested too deeply", field=field) from None


def _shallow(data: Any, field: str) -> Any:
    if too_deep(data):
        raise LrlabError(f"Invalid {field}: lists or mappings nested more than {MAX_DEPTH} deep", field=field)
    return data


def detect_format(data: Mapping[str, Any]) -> str:
    """Which of :data:`FORMATS` a parsed config is, from its fields (lrlab's own when none fits)."""
    if "scheduler" in data:
        return "lrlab"
    if "lr_scheduler_type" in data:
        return "transformers"
    if "class_name" in data and isinstance(data.get("config"), Mapping):
        return "keras"
    if "sched" in data:
        return "timm"
    for section in ("lr_scheduler", "optimizer"):
        if isinstance(data.get(section), Mapping) and "class_path" in data[section]:
            return "lightning"
    if isinstance(data.get("trainer"), Mapping) and ("lr_scheduler" in data or "model" in data):
        return "lightning"
    return "lrlab"


def import_config(
    text: str | bytes,
    *,
    dataset_size: int | None = None,
    notes: list[str] | None = None,
    batch_size: int | None = None,
    devices: int | None = None,
    steps_per_epoch: int | None = None,
    steps: int | None = None,
) -> ScheduleConfig:
    """A validated :class:`ScheduleConfig` from any of :data:`FORMATS` (told apart by their fields).

    ``dataset_size`` (samples in one epoch), ``devices`` (processes training in parallel) and
    ``batch_size`` fill in what a file does not record, where the run length depends on them;
    ``steps_per_epoch`` gives the optimizer steps per epoch directly (Lightning), ``steps`` the run
    length of a Keras schedule. What was read, derived and ignored goes to ``notes``."""
    data = load_text(text)
    if not isinstance(data, Mapping):
        raise LrlabError(f"Invalid config: expected a mapping of fields, got {type(data).__name__}", field="config")
    for name, value in (
        ("dataset_size", dataset_size),
        ("batch_size", batch_size),
        ("devices", devices),
        ("steps_per_epoch", steps_per_epoch),
        ("steps", steps),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise invalid(name, value, "must be a positive integer")
    kind = detect_format(data)
    if kind == "transformers":
        config = from_training_args(data, dataset_size=dataset_size, notes=notes, devices=devices)
    elif kind == "timm":
        config = from_timm_args(data, dataset_size=dataset_size, devices=devices, notes=notes)
    elif kind == "lightning":
        config = from_lightning_cli(
            data,
            dataset_size=dataset_size,
            batch_size=batch_size,
            devices=devices,
            steps_per_epoch=steps_per_epoch,
            notes=notes,
        )
    elif kind == "keras":
        config = from_keras(data, steps=steps, notes=notes)
    else:
        config = from_lrlab(data)
    resolve(config)  # every value through the specs; raises naming the field
    return config


def _is_num(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(data: Mapping[str, Any], key: str, default: Any = None, *, name: str | None = None) -> Any:
    """``data[key]`` if it is a finite number (or absent: ``default``), else a named refusal."""
    value = data.get(key, default)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (isinstance(value, int) or math.isfinite(value))
    ):
        raise invalid(name or key, value, "must be a number")
    return value


def _listed(names: Any, limit: int = 8) -> str:
    names = sorted(str(n) for n in names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _int(data: Mapping[str, Any], key: str, low: int = 0, *, name: str | None = None) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (isinstance(value, int) or float(value).is_integer())
        or value < low
    ):
        raise invalid(name or key, value, f"must be an integer ≥ {low}")
    return int(value)


# ---- Hugging Face TrainingArguments ---------------------------------------------------------------------

#: How ``transformers.get_scheduler`` (5.23, optimization.py) passes what the Trainer gives it, by
#: SchedulerType: the types that drop ``scheduler_specific_kwargs``, the warm-up, the training steps.
HF_DROPS_KWARGS = frozenset({"constant", "constant_with_warmup"})
HF_DROPS_WARMUP = frozenset({"constant", "reduce_lr_on_plateau", "greedy"})
HF_DROPS_TRAINING_STEPS = frozenset(
    {"constant", "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "greedy"}
)
#: What transformers says when a kwarg's name does not fit the function (the kwarg is named in the quotes).
_NAME_REFUSAL = re.compile(r"unexpected keyword argument '(\w+)'|multiple values for keyword argument '(\w+)'")


def _scheduler_types() -> dict[str, Any]:
    """SchedulerType value -> lrlab's spec of the function the Trainer calls for it."""
    from lrlab.schedulers import SCHEDULERS

    return {s.aliases[0]: s for s in SCHEDULERS.values() if s.library == "transformers" and s.aliases}


def _hf_accepts(kind: str, spec: Any) -> list[str]:
    """The keyword arguments the transformers function for ``kind`` takes besides the optimizer and the
    two counts the Trainer passes (from its signature; the spec's names where it takes ``**kwargs``)."""
    from transformers.optimization import TYPE_TO_SCHEDULER_FUNCTION
    from transformers.trainer_utils import SchedulerType

    fixed = {"optimizer", "num_warmup_steps", "num_training_steps"}
    params = inspect.signature(TYPE_TO_SCHEDULER_FUNCTION[SchedulerType(kind)]).parameters.values()
    names = [p.name for p in params if p.kind is not p.VAR_KEYWORD and p.name not in fixed]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        names += [p.name for p in spec.params]
    return names


def _hf_refusal(kind: str, kwargs: Mapping[str, Any], num_warmup: int, steps: int) -> Exception | None:
    """What ``transformers.get_scheduler`` raises for these arguments, run on a throwaway optimizer
    (the Trainer's own call: ``scheduler_specific_kwargs=args.lr_scheduler_kwargs``), or None."""
    import torch
    from transformers import get_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            get_scheduler(
                kind,
                optimizer,
                num_warmup_steps=num_warmup,
                num_training_steps=steps,
                scheduler_specific_kwargs=dict(kwargs),
            )
        except Exception as exc:  # the library's refusal, reported in its own words
            return exc
    return None


def _library_words(exc: Exception) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return f"{type(exc).__name__}: {str(text).splitlines()[0]}"


def _check_hf_kwargs(
    kind: str, spec: Any, kwargs: Mapping[str, Any], num_warmup: int, steps: int, notes: list[str] | None
) -> Exception | None:
    """Refuse the ``lr_scheduler_kwargs`` transformers refuses, in its words; note the ones it drops.

    Returns an exception transformers raised on a *value* (e.g. arithmetic on a string), for the
    caller to raise if lrlab's own validation does not name the field first."""
    function = spec.name
    if kind in HF_DROPS_KWARGS:
        for key, value in kwargs.items():
            _note(
                notes,
                f"lr_scheduler_kwargs {key}={value!r} is not used: for lr_scheduler_type {kind!r} transformers' "
                f"get_scheduler calls {function} without the scheduler_specific_kwargs.",
            )
        return None
    accepts = _hf_accepts(kind, spec)
    exc = _hf_refusal(kind, kwargs, num_warmup, steps)
    if exc is None:
        return None
    words = _library_words(exc)
    takes = f"{function} takes {', '.join(accepts) or 'no keyword arguments'}"
    if not (kind in HF_DROPS_WARMUP or kind in HF_DROPS_TRAINING_STEPS):
        takes += " (num_warmup_steps and num_training_steps come from the TrainingArguments)"
    named = _NAME_REFUSAL.search(str(exc)) if isinstance(exc, TypeError) else None
    if named:
        key = named.group(1) or named.group(2)
        raise invalid(f"lr_scheduler_kwargs.{key}", kwargs.get(key), f'transformers refuses it ("{words}"): {takes}')
    if isinstance(exc, KeyError) and "last_epoch" in kwargs:
        raise invalid(
            "lr_scheduler_kwargs.last_epoch",
            kwargs["last_epoch"],
            f'lrlab draws a run from its start, and transformers refuses a last_epoch ≥ 0 on a fresh optimizer ("{words}")',
        )
    if isinstance(exc, (ValueError, KeyError)) or "required positional argument" in str(exc):
        raise invalid("lr_scheduler_kwargs", dict(kwargs), f'transformers refuses them ("{words}"): {takes}')
    return exc


def from_training_args(
    data: Mapping[str, Any],
    *,
    dataset_size: int | None = None,
    notes: list[str] | None = None,
    devices: int | None = None,
) -> ScheduleConfig:
    """The schedule the Hugging Face Trainer would build from these TrainingArguments.

    Follows ``Trainer.create_scheduler``: ``get_scheduler(lr_scheduler_type, num_warmup_steps=
    args.get_warmup_steps(max_steps), num_training_steps=max_steps, scheduler_specific_kwargs=
    args.lr_scheduler_kwargs)``, where ``warmup_steps`` ≥ 1 counts steps (``int(warmup_steps)``) and a
    value in [0, 1) is a share of the run, rounded up (transformers 5.23 ``get_warmup_steps``).
    ``warmup_ratio`` is the field of transformers 4 (removed in 5, which reads the ratio from
    ``warmup_steps``): a share in [0, 1] as 4.x required ("warmup_ratio must lie in range [0,1]"), used
    when ``warmup_steps`` is 0 ("warmup_steps will override any effect of warmup_ratio"). Without
    ``max_steps`` the run length is ``num_train_epochs × ceil(batches / gradient_accumulation_steps)``
    (``Trainer.set_initial_training_values``), ``batches = ceil(dataset_size / (batch × devices))``
    (``floor`` with ``dataloader_drop_last``).

    ``lr_scheduler_kwargs`` go to the real ``transformers.get_scheduler`` first (on a throwaway
    optimizer): what it refuses is refused in its words (``get_cosine_schedule_with_warmup() got an
    unexpected keyword argument 'eta_min'``, ``Only one of min_lr or min_lr_rate should be set``);
    what it drops (every kwarg of ``constant`` / ``constant_with_warmup``) is noted.
    """
    given = data.get("lr_scheduler_type")
    kind = str(given.value if hasattr(given, "value") else given)
    types = _scheduler_types()
    if kind not in types:
        raise invalid(
            "lr_scheduler_type", given, "must be one of the Trainer's SchedulerType values: " + ", ".join(types)
        )
    spec = types[kind]
    lr = data.get("learning_rate", 5e-5)
    if not _is_num(lr):
        raise invalid("learning_rate", lr, "must be a number")
    derived: list[str] = []
    steps = _int(data, "max_steps", low=-1)
    derived_steps = steps is None or steps <= 0
    if derived_steps:
        epochs = data.get("num_train_epochs", 3.0)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or epochs <= 0:
            raise invalid("num_train_epochs", epochs, "must be a positive number")
        if dataset_size is None:
            raise LrlabError(
                "Invalid max_steps: not set (or -1), so the run length comes from num_train_epochs and the "
                "dataset size: give the dataset size",
                field="dataset_size",
            )
        batch = _int(data, "per_device_train_batch_size", low=1) or 8
        accum = _int(data, "gradient_accumulation_steps", low=1) or 1
        n_dev = devices or 1
        drop_last = data.get("dataloader_drop_last") is True
        rounding = "floor" if drop_last else "ceil"
        batches = dataset_size // (batch * n_dev) if drop_last else math.ceil(dataset_size / (batch * n_dev))
        per_epoch = max(1, math.ceil(batches / accum))
        steps = math.ceil(epochs * per_epoch)
        derived.append(
            f"steps = ceil({epochs:g} epochs × ceil({rounding}({dataset_size} / ({batch} per device × {n_dev} "
            f"device{'s' if n_dev != 1 else ''})) / {accum} accumulation)) = {steps} (max_steps is not set; "
            f"{per_epoch} optimizer steps per epoch, as the Trainer counts them)."
        )
    if not 1 <= steps <= MAX_STEPS:
        raise invalid("max_steps", steps, f"must give a run of 1 to {MAX_STEPS:,} steps")
    warmup = data.get("warmup_steps", 0) or 0
    ratio = data.get("warmup_ratio")
    share = "an integer counts warm-up steps, a number in [0, 1) is a share of the run"
    if isinstance(warmup, bool) or not isinstance(warmup, (int, float)) or not math.isfinite(warmup):
        raise invalid("warmup_steps", warmup, f"must be a number ≥ 0: {share}")
    if warmup < 0:  # transformers' own words: TrainingArguments.__post_init__
        raise invalid(
            "warmup_steps", warmup, f'must be ≥ 0: {share} (transformers: "Expected value warmup_steps >= 0")'
        )
    if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1):
        raise invalid(
            "warmup_ratio",
            ratio,
            "must be a number in [0, 1], the share of the run spent warming up (transformers 4: "
            '"warmup_ratio must lie in range [0,1]"; transformers 5 has no warmup_ratio: it reads a '
            "warmup_steps below 1 as the share)",
        )
    if warmup >= 1:
        num_warmup = int(warmup)
        if num_warmup != warmup:
            _note(notes, f"warmup_steps {warmup:g} counts steps: the Trainer warms up int({warmup:g}) = {num_warmup}.")
    elif warmup > 0:
        num_warmup = math.ceil(steps * warmup)
        derived.append(
            f"warm-up = ceil({steps} × {warmup:g}) = {num_warmup} steps (warmup_steps below 1 is a share of the "
            "run in transformers 5)."
        )
    elif ratio:
        num_warmup = math.ceil(steps * ratio)
        derived.append(f"warm-up = ceil({steps} × warmup_ratio {ratio:g}) = {num_warmup} steps (transformers 4).")
    else:
        num_warmup = 0
    if ratio and warmup > 0:
        _note(
            notes,
            f"warmup_ratio {ratio:g} is not used: warmup_steps {warmup:g} is set too and overrides it, as in the "
            f"Trainer ({num_warmup} warm-up steps).",
        )
    kwargs = data.get("lr_scheduler_kwargs") or {}
    if isinstance(kwargs, str):
        kwargs = load_text(kwargs, field="lr_scheduler_kwargs")
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise invalid("lr_scheduler_kwargs", kwargs, "must be a mapping of keyword arguments")
    value_refusal = _check_hf_kwargs(kind, spec, kwargs, num_warmup, steps, notes)
    if num_warmup and kind in HF_DROPS_WARMUP:
        _note(
            notes,
            f"The warm-up ({num_warmup} steps) is not used: for lr_scheduler_type {kind!r} transformers' "
            f"get_scheduler does not pass num_warmup_steps to {spec.name}.",
        )
    names = {p.name for p in spec.params}
    params: dict[str, Any] = {} if kind in HF_DROPS_KWARGS else dict(kwargs)
    if params.get("last_epoch") == -1:  # transformers' default: a run from its start, as lrlab draws it
        del params["last_epoch"]
    if "num_warmup_steps" in names:
        params["num_warmup_steps"] = num_warmup
    if "num_training_steps" in names and kind not in HF_DROPS_TRAINING_STEPS:
        params["num_training_steps"] = steps
    if num_warmup == 0:
        warm = "no warm-up"
    elif warmup >= 1:
        warm = f"{num_warmup} warm-up steps (warmup_steps)"
    else:
        warm = (
            f"{num_warmup} warm-up steps (warmup_{'steps' if warmup > 0 else 'ratio'} {warmup or ratio:g} of the run)"
        )
    ignored = sorted(str(k) for k in data if k not in _TRAINER_FIELDS)
    _tell(
        notes,
        f"Read a Hugging Face TrainingArguments ({kind!r} → {spec.name}): learning_rate {float(lr):g}"
        + ("" if "learning_rate" in data else " (transformers' default)")
        + f", {warm}, {steps} steps ("
        + (f"max_steps {steps}" if not derived_steps else "from num_train_epochs, as below")
        + ")"
        + (f"; ignored {len(ignored)} fields that do not shape the schedule ({_listed(ignored, 6)})" if ignored else "")
        + ".",
    )
    for line in derived:
        _tell(notes, line)
    config = ScheduleConfig.make(spec.name, params, steps=steps, base_lr=float(lr))
    if value_refusal is not None:
        resolve(config)  # lrlab names the field where it can
        raise LrlabError(
            f"Invalid lr_scheduler_kwargs ({_listed(kwargs)}): transformers refuses them "
            f'("{_library_words(value_refusal)}")',
            field="lr_scheduler_kwargs",
        )
    return config


# ---- timm's args.yaml ----------------------------------------------------------------------------------

#: args.yaml key -> (create_scheduler_v2 argument, the value timm's ``scheduler_kwargs`` takes when the
#: key is missing: ``getattr(cfg, key, default)``, timm 1.0.31 scheduler_factory.py).
TIMM_ARGS: dict[str, tuple[str, Any]] = {
    "sched": ("sched", None),
    "epochs": ("num_epochs", 100),
    "decay_epochs": ("decay_epochs", 30),
    "decay_milestones": ("decay_milestones", [30, 60]),
    "warmup_epochs": ("warmup_epochs", 5),
    "cooldown_epochs": ("cooldown_epochs", 0),
    "patience_epochs": ("patience_epochs", 10),
    "decay_rate": ("decay_rate", 0.1),
    "min_lr": ("min_lr", 0.0),
    "warmup_lr": ("warmup_lr", 1e-5),
    "warmup_prefix": ("warmup_prefix", False),
    "lr_noise": ("noise", None),
    "lr_noise_pct": ("noise_pct", 0.67),
    "lr_noise_std": ("noise_std", 1.0),
    "seed": ("noise_seed", 42),
    "lr_cycle_mul": ("cycle_mul", 1.0),
    "lr_cycle_decay": ("cycle_decay", 0.1),
    "lr_cycle_limit": ("cycle_limit", 1),
    "lr_k_decay": ("k_decay", 1.0),
}
#: Keys of args.yaml that shape the run (the rest — model, data_dir, aug… — are reported as ignored).
TIMM_RUN_KEYS = frozenset(
    {"sched_on_updates", "lr", "lr_base", "lr_base_size", "lr_base_scale", "opt", "momentum", "batch_size",
     "grad_accum_steps", "eval_metric", "epoch_repeats", "start_epoch", "lr_decay_fn", "lr_stable_timescale"}
)  # fmt: skip


def _timm_lr(data: Mapping[str, Any], batch: int, accum: int, n_dev: int, notes: list[str] | None) -> float:
    """train.py's lr: ``args.lr``, else ``lr_base × (global batch / lr_base_size)`` (square root of the ratio
    for ``lr_base_scale='sqrt'``, and by default for optimizers named ada* / lamb)."""
    lr = _number(data, "lr")
    if lr:
        return float(lr)
    base = _number(data, "lr_base", 0.1)
    size = _int(data, "lr_base_size", low=1) or 256
    scale = data.get("lr_base_scale") or ""
    if not isinstance(scale, str) or scale not in ("", "linear", "sqrt"):
        raise invalid("lr_base_scale", scale, "must be 'linear', 'sqrt' or empty")
    opt = str(data.get("opt") or "sgd").lower()
    how = scale or ("sqrt" if any(o in opt for o in ("ada", "lamb")) else "linear")
    ratio = batch * n_dev * accum / size
    lr = base * (ratio**0.5 if how == "sqrt" else ratio)
    root = "sqrt" if how == "sqrt" else ""
    _tell(
        notes,
        f"lr = lr_base {base:g} × {root}({batch} batch × {n_dev} device{'s' if n_dev != 1 else ''} × {accum} "
        f"accumulation / lr_base_size {size}) = {lr:g} (lr is not set: train.py scales lr_base, {how} for opt "
        f"{opt!r}).",
    )
    return float(lr)


def from_timm_args(
    data: Mapping[str, Any],
    *,
    dataset_size: int | None = None,
    devices: int | None = None,
    notes: list[str] | None = None,
) -> ScheduleConfig:
    """The schedule timm's ``train.py`` builds from its saved ``args.yaml``, as lrlab's ``timm:create_scheduler_v2``.

    train.py calls ``create_scheduler_v2(optimizer, **scheduler_kwargs(args), updates_per_epoch=
    (len(loader_train) + grad_accum_steps - 1) // grad_accum_steps)`` and trains the ``num_epochs`` it
    returns. The training loader drops its last incomplete batch (``drop_last=is_training`` in
    ``timm.data.create_loader``) and, on several devices, each gets ``ceil(samples / devices)``
    (``DistributedSampler``): ``len(loader_train) = floor(ceil(dataset_size / devices) / batch_size)``.
    args.yaml holds neither the dataset size nor the number of devices (it is written before
    ``world_size`` is known): both come from the caller. With ``sched_on_updates`` false the lr changes
    once per epoch only; without a dataset size each step of the curve is then one epoch.
    """
    sched = data.get("sched")
    later: list[str] = []  # said after what was read
    from lrlab.schedulers.timm_specs import SCHED_CLASSES, returned_epochs

    if not isinstance(sched, str) or sched not in SCHED_CLASSES:
        raise invalid(
            "sched",
            sched,
            "must be one of " + ", ".join(map(repr, SCHED_CLASSES)) + " (timm's wsd, rsqrt, constant and none are "
            "not drawn by lrlab)",
        )
    on_updates = data.get("sched_on_updates", False)
    if not isinstance(on_updates, bool):
        raise invalid("sched_on_updates", on_updates, "must be true or false")
    batch = _int(data, "batch_size", low=1) or 128
    accum = max(1, _int(data, "grad_accum_steps", low=0) or 1)  # train.py: max(1, args.grad_accum_steps)
    n_dev = devices or 1
    spec = get_spec("timm:create_scheduler_v2")
    names = {p.name for p in spec.params}
    params: dict[str, Any] = {}
    for key, (name, default) in TIMM_ARGS.items():
        value = data.get(key, default)
        if name == "noise" and isinstance(value, (list, tuple)):
            if len(value) == 2:
                raise invalid("lr_noise", value, "lrlab draws noise from a start fraction on: give one value (no end)")
            value = value[0] if value else None
        if name in names:
            params[name] = value
    params["step_on_epochs"] = not on_updates
    metric = data.get("eval_metric", "top1")
    params["plateau_mode"] = "min" if metric == "loss" else "max"
    lr = _timm_lr(data, batch, accum, n_dev, later)
    optimizer = _timm_optimizer(data, later)
    epochs_note = "sched_on_updates is false: the lr changes once per epoch"
    if dataset_size is None:
        if on_updates:
            raise LrlabError(
                "Invalid dataset_size: not given, and sched_on_updates is true, so the lr changes at every update "
                "and the updates per epoch come from the dataset size (args.yaml does not record it): give the "
                "dataset size",
                field="dataset_size",
            )
        per_epoch = 1
        _tell(
            notes, f"{epochs_note}; without a dataset size each step of the curve is one epoch (steps_per_epoch = 1)."
        )
        spe_text = "1 step per epoch"
    else:
        batches = math.ceil(dataset_size / n_dev) // batch
        if batches < 1:
            raise invalid(
                "dataset_size",
                dataset_size,
                f"must fill at least one batch of {batch} on each of {n_dev} device(s): timm's training loader "
                "drops the last incomplete batch, so an epoch would have no update",
            )
        per_epoch = math.ceil(batches / accum)
        spe_text = (
            f"ceil(floor(ceil({dataset_size} / {n_dev} device{'s' if n_dev != 1 else ''}) / {batch} batch) / "
            f"{accum} accumulation) = {per_epoch} updates per epoch"
        )
        if devices is None:
            _tell(later, "1 device assumed: args.yaml does not record how many processes trained (give devices).")
        if not on_updates:
            _tell(later, f"{epochs_note}.")
    values = spec.validate(params, RunContext(steps=per_epoch, base_lr=lr, group_lrs=(lr,), steps_per_epoch=per_epoch))
    epochs, how = returned_epochs(values, RunContext(per_epoch, lr, (lr,), per_epoch))
    steps = epochs * per_epoch
    if not 1 <= steps <= MAX_STEPS:
        raise invalid("epochs", data.get("epochs"), f"must give a run of 1 to {MAX_STEPS:,} steps (here {steps:,})")
    _tell(
        notes,
        f"Read timm's args.yaml: sched {sched!r}, {data.get('epochs', 100)} epochs, lr {lr:g}. steps = {epochs} "
        f"epochs{f' ({how})' if how else ''} × {spe_text} = {steps} (the num_epochs create_scheduler_v2 returns, "
        "which train.py trains).",
    )
    for line in later:
        _tell(notes, line)
    if data.get("epoch_repeats"):
        _tell(notes, "epoch_repeats is set: give the dataset size of one repeated epoch.")
    if data.get("start_epoch"):
        _tell(notes, f"start_epoch {data['start_epoch']} is ignored: the curve shows the run from its start.")
    used = set(TIMM_ARGS) | TIMM_RUN_KEYS | ({"opt_betas"} if optimizer["optimizer"] in ("adam", "adamw") else set())
    ignored = [k for k in data if k not in used]
    if ignored:
        _tell(notes, f"Ignored {len(ignored)} keys that do not shape the schedule ({_listed(ignored, 6)}).")
    return ScheduleConfig.make(spec.name, params, steps=steps, steps_per_epoch=per_epoch, base_lr=lr, **optimizer)


#: timm's optimizer names (``create_optimizer_v2``'s ``opt``, after a ``lookahead_`` prefix) lrlab draws as
#: they are; every other name is drawn as SGD, with a note. timm's ``sgd`` and ``nesterov`` are SGD with
#: Nesterov momentum, ``momentum`` plain SGD with momentum.
TIMM_OPTIMIZERS = {"sgd": "sgd", "nesterov": "sgd", "momentum": "sgd", "adam": "adam", "adamw": "adamw",
                   "adagrad": "adagrad"}  # fmt: skip


def _timm_optimizer(data: Mapping[str, Any], notes: list[str] | None) -> dict[str, Any]:
    """lrlab's optimizer settings for args.yaml's ``opt``, ``momentum`` and ``opt_betas`` (timm's train.py
    defaults: sgd, 0.9, torch's betas). The scheduler's lr does not depend on them; the momentum and beta1
    columns and the exported code do."""
    opt = data.get("opt", "sgd")
    if not isinstance(opt, str) or not opt.strip():
        raise invalid("opt", opt, "must be the name of a timm optimizer, e.g. 'sgd', 'adamw' (create_optimizer_v2)")
    parts = opt.lower().split("_")  # timm: opt.split('_'), the last part names the optimizer
    name = TIMM_OPTIMIZERS.get(parts[-1])
    if len(parts) > 1:
        _tell(notes, f"opt {opt!r}: lrlab draws the {parts[-1]} optimizer without the {'_'.join(parts[:-1])} wrapper.")
    momentum = data.get("momentum", 0.9)
    momentum_ok = _is_num(momentum) and 0 <= momentum < 1
    if name is None:
        used = float(momentum) if momentum_ok else 0.9
        _tell(
            notes,
            f"opt {opt!r} is drawn as SGD with momentum {used:g}: lrlab models SGD, Adam, AdamW and Adagrad "
            "(the lr timm's scheduler sets does not depend on the optimizer).",
        )
        return {"optimizer": "sgd", "momentum": used}
    if name == "sgd":
        if not momentum_ok:
            raise invalid(
                "momentum", momentum, f"must be a number in [0, 1): SGD's momentum (opt {opt!r}; timm's default 0.9)"
            )
        if parts[-1] in ("sgd", "nesterov"):
            _tell(notes, f"opt {opt!r} is timm's SGD with Nesterov momentum: lrlab draws SGD (the same lr curve).")
        if "momentum" not in data:
            _tell(notes, "momentum is not set: train.py's default, 0.9.")
        return {"optimizer": "sgd", "momentum": float(momentum)}
    if name in ("adam", "adamw"):
        betas = data.get("opt_betas")
        if betas is None:
            return {"optimizer": name}
        if not (isinstance(betas, list) and len(betas) == 2 and all(_is_num(b) and 0 <= b < 1 for b in betas)):
            raise invalid("opt_betas", betas, f"must be null (torch's default) or two numbers in [0, 1) for {opt!r}")
        return {"optimizer": name, "betas": tuple(float(b) for b in betas)}
    return {"optimizer": name}


# ---- Lightning CLI config ------------------------------------------------------------------------------

#: The class paths a Lightning CLI config may name for its scheduler besides ``torch.optim.lr_scheduler.X``
#: and the short ``X`` (jsonargparse resolves both to torch's class): lightning's own subclass.
LIGHTNING_ALIASES = {
    "lightning.pytorch.cli.ReduceLROnPlateau": "ReduceLROnPlateau",
    "pytorch_lightning.cli.ReduceLROnPlateau": "ReduceLROnPlateau",
}
#: Torch schedulers whose arguments are functions or other schedulers: a config file can't hold them.
NOT_IN_A_FILE = frozenset({"LambdaLR", "MultiplicativeLR", "SequentialLR", "ChainedScheduler"})
#: torch.optim class -> lrlab's optimizer, and torch's default lr for it.
TORCH_OPTIMIZERS = {
    "SGD": ("sgd", 1e-3),
    "Adam": ("adam", 1e-3),
    "AdamW": ("adamw", 1e-3),
    "Adagrad": ("adagrad", 1e-2),
}


def _class_of(section: Any, where: str) -> tuple[str, dict[str, Any]]:
    """(class_path, init_args) of a ``{class_path, init_args}`` mapping (or a bare class path string)."""
    if isinstance(section, str):
        return section, {}
    if not isinstance(section, Mapping) or not isinstance(section.get("class_path"), str):
        raise invalid(f"{where}.class_path", None if not isinstance(section, Mapping) else section.get("class_path"),
                      "must be a class path, e.g. torch.optim.lr_scheduler.StepLR")  # fmt: skip
    init = section.get("init_args") or {}
    if not isinstance(init, Mapping) or not all(isinstance(k, str) for k in init):
        raise invalid(f"{where}.init_args", init, "must be a mapping of argument names to values")
    return section["class_path"], dict(init)


def _lightning_scheduler(path: str) -> str:
    name = LIGHTNING_ALIASES.get(path)
    if name is None:
        module, _, short = path.rpartition(".")
        if module in ("", "torch.optim.lr_scheduler"):
            name = short
    spec = None
    if name is not None:
        try:
            spec = get_spec(name)
        except LrlabError:
            spec = None
    if spec is None or spec.library != "torch" or name in NOT_IN_A_FILE or spec.name != name:
        from lrlab.schedulers import SCHEDULERS

        usable = [s.name for s in SCHEDULERS.values() if s.library == "torch" and s.name not in NOT_IN_A_FILE]
        usable = [n for n in usable if n != "WarmupThenPlateau"]
        raise invalid(
            "lr_scheduler.class_path",
            path,
            "must be a scheduler of torch.optim.lr_scheduler (or lightning.pytorch.cli.ReduceLROnPlateau): "
            + ", ".join(usable)
            + " (lrlab reads the name only: nothing is imported from the file)",
        )
    return name


def from_lightning_cli(
    data: Mapping[str, Any],
    *,
    dataset_size: int | None = None,
    batch_size: int | None = None,
    devices: int | None = None,
    steps_per_epoch: int | None = None,
    notes: list[str] | None = None,
) -> ScheduleConfig:
    """The schedule of a Lightning CLI config (``LightningCLI`` ``--print_config``, or written by hand).

    ``optimizer`` / ``lr_scheduler`` are ``{class_path, init_args}``; the scheduler class must be one of
    torch's (lrlab looks its name up; nothing is imported). LightningCLI's ``configure_optimizers``
    returns the scheduler without a config, so Lightning steps it once per epoch (``interval: epoch``)
    unless the file says otherwise (``interval`` / ``frequency`` beside ``class_path`` or in an
    ``lr_scheduler_config`` mapping). The run is ``trainer.max_steps`` optimizer steps when set, else
    ``trainer.max_epochs`` (Lightning's default 1000) epochs of ``ceil(batches / accumulate_grad_batches)``
    steps (whichever ends first when both are set), ``batches = ceil(dataset_size / (batch_size × world))``
    (``limit_train_batches`` applied), ``world = trainer.devices × trainer.num_nodes`` — or ``devices``
    when the caller gives it (the processes in all); ``devices: auto`` / -1 count as 1, with a note.
    A ``frequency`` other than 1 is drawn exactly where Lightning's steps are one in every k optimizer
    steps of the run (:func:`_lightning_frequency`), and refused, saying why, where they are not.
    """
    trainer = data.get("trainer") or {}
    if not isinstance(trainer, Mapping):
        raise invalid("trainer", trainer, "must be a mapping of Trainer arguments")
    section = data.get("lr_scheduler")
    if section is None:
        raise LrlabError(
            "Invalid lr_scheduler: the config has none (LightningCLI's lr_scheduler: {class_path: "
            "torch.optim.lr_scheduler.StepLR, init_args: {step_size: 30}})",
            field="lr_scheduler",
        )
    path, init = _class_of(section, "lr_scheduler")
    name = _lightning_scheduler(path)
    spec = get_spec(name)
    # the optimizer: lr and the settings lrlab models
    opt_path, opt_init = _class_of(data.get("optimizer") or "torch.optim.SGD", "optimizer")
    opt_name = opt_path.rpartition(".")[2]
    optimizer, default_lr = TORCH_OPTIMIZERS.get(opt_name, ("sgd", 1e-3))
    if opt_name not in TORCH_OPTIMIZERS:
        _tell(notes, f"optimizer {opt_path} is drawn as SGD: lrlab models SGD, Adam, AdamW and Adagrad.")
    lr = _number(opt_init, "lr", None, name="optimizer.init_args.lr")
    if lr is None:
        lr = default_lr
        _tell(notes, f"optimizer.init_args.lr is not set: torch's default for {opt_name}, {lr:g}.")
    run: dict[str, Any] = {"optimizer": optimizer, "base_lr": float(lr)}
    if optimizer == "sgd" and _number(opt_init, "momentum", name="optimizer.init_args.momentum") is not None:
        run["momentum"] = float(opt_init["momentum"])
    if optimizer in ("adam", "adamw") and isinstance(opt_init.get("betas"), (list, tuple)):
        run["betas"] = tuple(opt_init["betas"])
    # the scheduler's arguments, as lrlab's spec names them
    params: dict[str, Any] = {}
    dropped: list[str] = []
    known = {p.name: p for p in spec.params}
    for key, value in init.items():
        if key == "last_epoch":
            if value not in (-1, None):
                raise invalid(
                    "lr_scheduler.init_args.last_epoch", value, "must be -1: lrlab draws a run from its start"
                )
        elif key in ("verbose", "monitor"):
            dropped.append(f"{key}={value!r}")
        elif key in ("epochs", "steps_per_epoch") and name == "OneCycleLR":
            continue  # total_steps = epochs × steps_per_epoch, below
        elif key == "scale_fn" and name == "CyclicLR":
            if value is not None:
                raise invalid(
                    "lr_scheduler.init_args.scale_fn", value, "must be null: a function can't be read from a file"
                )
        elif key == spec.base_lr_param:
            run["base_lr"] = value
            _tell(notes, f"{name}'s {key} ({value}) is the curve's starting lr: the optimizer's lr is not used.")
        elif value is None and key in known and not known[key].optional:
            continue  # torch's None means "derived from the run": lrlab's default follows the run too
        else:
            params[key] = value
    one_cycle = [_int(init, k, low=1, name=f"lr_scheduler.init_args.{k}") for k in ("epochs", "steps_per_epoch")
                 if name == "OneCycleLR"]  # fmt: skip
    if one_cycle and init.get("total_steps") is None and all(one_cycle):
        params["total_steps"] = one_cycle[0] * one_cycle[1]  # torch: total_steps, else epochs × steps_per_epoch
        _tell(
            notes,
            f"total_steps = epochs {init['epochs']} × steps_per_epoch {init['steps_per_epoch']}, as torch sets it.",
        )
    if dropped:
        _tell(notes, f"Not used: {', '.join(dropped)} (lrlab feeds ReduceLROnPlateau a synthetic metric).")
    # how Lightning steps it
    where = data.get("lr_scheduler_config")
    if where is not None and not isinstance(where, Mapping):
        raise invalid("lr_scheduler_config", where, "must be a mapping of Lightning's interval and frequency")
    extra = where if isinstance(where, Mapping) else section if isinstance(section, Mapping) else {}
    interval = extra.get("interval", "epoch")
    if not isinstance(interval, str) or interval not in ("step", "epoch"):
        raise invalid("interval", interval, "must be 'step' or 'epoch' (Lightning's lr_scheduler_config)")
    frequency = extra.get("frequency", 1)
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise invalid(
            "frequency",
            frequency,
            f"must be a positive integer: Lightning steps the scheduler every frequency {interval}s",
        )
    if frequency != 1 and spec.needs_metric:
        raise invalid(
            "frequency",
            frequency,
            f"must be 1 for {name}: lrlab steps a metric-driven scheduler at each evaluation (eval_every), not by "
            "Lightning's interval and frequency",
        )
    if "interval" not in extra:
        _tell(
            notes,
            "interval 'epoch': LightningCLI returns the scheduler without a config, so Lightning steps it once per epoch.",
        )
    # the run length
    max_steps = _int(trainer, "max_steps", low=-1, name="trainer.max_steps")
    max_epochs = _int(trainer, "max_epochs", low=-1, name="trainer.max_epochs")
    accum = _int(trainer, "accumulate_grad_batches", low=1, name="trainer.accumulate_grad_batches") or 1
    nodes = _int(trainer, "num_nodes", low=1, name="trainer.num_nodes") or 1
    per_device = _lightning_devices(trainer.get("devices", "auto"))
    limit = trainer.get("limit_train_batches")
    if limit is not None and not (
        (isinstance(limit, float) and 0 < limit <= 1)
        or (isinstance(limit, int) and not isinstance(limit, bool) and limit > 0)
    ):
        raise invalid(
            "trainer.limit_train_batches",
            limit,
            "must be a share of the batches in (0, 1.0] or a number of batches ≥ 1",
        )
    read_trainer = {"max_steps", "max_epochs"}
    read_from: list[str] = []  # fields read outside optimizer, lr_scheduler and trainer
    per_epoch, how = steps_per_epoch, f"steps_per_epoch {steps_per_epoch} (given)"
    batches: int | None = steps_per_epoch if steps_per_epoch is not None and accum == 1 else None
    if per_epoch is None and dataset_size is not None:
        read_trainer |= {"accumulate_grad_batches", "devices", "num_nodes", "limit_train_batches"}
        batch, batch_from = (batch_size, "given") if batch_size else _lightning_batch_size(data)
        if batch is None:
            raise LrlabError(
                "Invalid batch_size: not given and not in the config's data or model init_args: give the batch size",
                field="batch_size",
            )
        if batch_from != "given":
            read_from.append(batch_from)
            _tell(notes, f"batch_size {batch} from {batch_from}.")
        if devices is not None:
            world, dev_text = devices, f"{devices} device{'s' if devices != 1 else ''}"
            if "devices" in trainer or "num_nodes" in trainer:
                _tell(
                    notes,
                    f"devices {devices} (given) is the number of processes in all: it replaces the file's "
                    f"trainer.devices {trainer.get('devices')!r} × trainer.num_nodes {nodes}.",
                )
        else:
            if per_device is None:
                _tell(
                    notes,
                    f"trainer.devices {trainer.get('devices', 'auto')!r} depends on the machine that trains: counted "
                    "as 1 device per node; give devices (the processes in all) to count yours.",
                )
            n = per_device or 1
            world = n * nodes
            dev_text = f"{n} device{'s' if n != 1 else ''}" + (f" × {nodes} nodes" if nodes != 1 else "")
            if nodes != 1:
                _tell(notes, f"world size = trainer.devices {n} × trainer.num_nodes {nodes} = {world} processes.")
        batches = math.ceil(dataset_size / (batch * world))
        how = f"ceil(ceil({dataset_size} / ({batch} batch × {dev_text}))"
        if isinstance(limit, float) and limit < 1:
            batches, how = int(batches * limit), f"ceil(int(ceil({dataset_size} / ({batch} × {world})) × {limit:g})"
        elif isinstance(limit, int):
            batches, how = min(batches, limit), f"ceil(min(ceil({dataset_size} / ({batch} × {world})), {limit})"
        per_epoch = max(1, math.ceil(batches / accum))
        how += f" / {accum} accumulation) = {per_epoch} optimizer steps per epoch"
    if max_steps is not None and max_steps > 0:
        steps = max_steps
        if per_epoch is None:
            if interval == "epoch" or frequency != 1:
                raise LrlabError(
                    "Invalid dataset_size: not given, and "
                    + (
                        "the scheduler steps once per epoch"
                        if interval == "epoch"
                        else f"Lightning counts frequency {frequency} in batches of each epoch (batch_idx restarts "
                        "every epoch)"
                    )
                    + f" of a run of trainer.max_steps {max_steps}: give the dataset size (or the steps per epoch)",
                    field="dataset_size",
                )
            per_epoch, how = 1, "1 (not needed: the scheduler steps every optimizer step)"
        elif max_epochs is not None and max_epochs > 0 and max_epochs * per_epoch < max_steps:
            steps = max_epochs * per_epoch
            _tell(
                notes,
                f"trainer.max_epochs {max_epochs} ends the run before trainer.max_steps {max_steps}: Lightning stops at "
                "whichever comes first.",
            )
        _tell(notes, f"steps = {'trainer.max_steps' if steps == max_steps else 'trainer.max_epochs'} = {steps}; "
                     f"steps per epoch: {how}.")  # fmt: skip
    else:
        epochs = max_epochs if max_epochs is not None and max_epochs > 0 else 1000
        src = "trainer.max_epochs" if max_epochs is not None and max_epochs > 0 else "Lightning's default max_epochs"
        if per_epoch is None:
            if interval == "step":
                raise LrlabError(
                    "Invalid dataset_size: not given, and the scheduler steps every optimizer step of a run of "
                    f"{epochs} epochs: give the dataset size (or the steps per epoch)",
                    field="dataset_size",
                )
            per_epoch, how = 1, "1 (no dataset size: each step of the curve is one epoch)"
        steps = epochs * per_epoch
        _tell(notes, f"steps = {epochs} epochs ({src}) × {how} = {steps}.")
    stepping, every = _lightning_frequency(interval, frequency, per_epoch, batches, accum, notes)
    # what was read and what was not
    ignored = [str(k) for k in data if k not in ("optimizer", "lr_scheduler", "lr_scheduler_config", "trainer")]
    for field in read_from:
        top = field.partition(".")[0]
        if top in ignored:
            ignored[ignored.index(top)] = f"{top} (all but {field})"
    ignored += [f"trainer.{k}" for k in trainer if k not in read_trainer]
    _tell(
        notes,
        f"Read a Lightning CLI config: {path} stepped every "
        + (f"{frequency} {interval}s" if frequency != 1 else interval)
        + f", {opt_path} lr {float(run['base_lr']):g}"
        + (f", {', '.join(read_from)}" if read_from else "")
        + (f"; ignored {_listed(ignored)}" if ignored else "")
        + ".",
    )
    return ScheduleConfig.make(name, params, steps=steps, steps_per_epoch=every, interval=stepping, **run)


def _lightning_devices(value: Any) -> int | None:
    """The devices per node ``trainer.devices`` asks for, or None where the machine decides (``auto``, -1)."""
    if isinstance(value, str):
        text = value.strip()
        if text in ("auto", "-1"):
            return None
        if "," in text:  # Lightning: "0,1" lists device indices
            value = [p.strip() for p in text.split(",") if p.strip()]
            if value and all(p.isdigit() for p in value):
                return len(value)
        elif text.isdigit() and int(text) > 0:
            return int(text)
    elif value is None or (isinstance(value, int) and not isinstance(value, bool) and value == -1):
        return None
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return len(value)
    raise invalid(
        "trainer.devices", value, "must be a number of devices ≥ 1, a list of device indices, 'auto' or -1 (all)"
    )


def _lightning_frequency(
    interval: str, frequency: int, per_epoch: int, batches: int | None, accum: int, notes: list[str] | None
) -> tuple[str, int]:
    """lrlab's (interval, steps_per_epoch) that step the scheduler when Lightning does with ``frequency``.

    Lightning steps it when ``(current_epoch + 1) % frequency == 0`` after an epoch (``interval: epoch``),
    or ``(batch_idx + 1) % frequency == 0`` after an optimizer step (``interval: step``; ``batch_idx``
    restarts every epoch and counts batches, not optimizer steps). lrlab steps once every
    ``steps_per_epoch`` optimizer steps (``interval: epoch``): the same when the steps Lightning picks
    are every k-th of the run."""
    if frequency == 1:
        return interval, per_epoch
    if interval == "epoch":
        every = frequency * per_epoch
        _tell(
            notes,
            f"frequency {frequency}: Lightning steps the scheduler after epochs {frequency}, {2 * frequency}, …; "
            f"lrlab steps it once every {frequency} × {per_epoch} = {every} optimizer steps (steps_per_epoch "
            f"{every}): the lr at every optimizer step is Lightning's, and the curve's epoch column counts periods "
            f"of {frequency} epochs.",
        )
        return "epoch", every
    if batches is None:
        raise invalid(
            "frequency",
            frequency,
            f"can't be placed without the batches per epoch: with interval 'step' Lightning steps the scheduler "
            f"after batches {frequency}, {2 * frequency}, … of each epoch, and with accumulate_grad_batches {accum} "
            "steps_per_epoch does not say how many batches an epoch has: give the dataset size and batch size",
        )
    ends = [b for b in range(1, batches + 1) if b % accum == 0 or b == batches]  # the optimizer steps
    stepped = [j for j, b in enumerate(ends, start=1) if b % frequency == 0]
    k = stepped[0] if stepped else 0
    if stepped and per_epoch % k == 0 and stepped == list(range(k, per_epoch + 1, k)):
        if k == 1:
            _tell(notes, f"frequency {frequency} with accumulate_grad_batches {accum}: every optimizer step ends on "
                         f"a batch number divisible by {frequency}, so the scheduler steps every optimizer step.")  # fmt: skip
            return "step", per_epoch
        _tell(
            notes,
            f"frequency {frequency}: Lightning steps the scheduler after batches {frequency}, {2 * frequency}, … of "
            f"each epoch, every {k}th of the {per_epoch} optimizer steps; lrlab steps it once every {k} optimizer "
            f"steps (interval 'epoch', steps_per_epoch {k}): the lr at every optimizer step is Lightning's, and the "
            f"curve's epoch column counts periods of {k} optimizer steps.",
        )
        return "epoch", k
    if not stepped:
        why = f"it is more than the {batches} batches of an epoch, so Lightning would never step the scheduler"
    else:
        why = (
            f"Lightning steps the scheduler after batches {frequency}, {2 * frequency}, … of each epoch (batch_idx "
            f"restarts every epoch), which with {batches} batches per epoch is optimizer step "
            f"{', '.join(map(str, stepped[:4]))}{', …' if len(stepped) > 4 else ''} of each of its {per_epoch}: not "
            "one step in every k of the run, which is what lrlab can draw"
        )
    raise invalid(
        "frequency",
        frequency,
        f"{why}. Use a frequency that divides the {batches} batches per epoch"
        + (f" and is a multiple of accumulate_grad_batches {accum}" if accum > 1 else "")
        + " (or frequency 1)",
    )


def _lightning_batch_size(data: Mapping[str, Any]) -> tuple[int | None, str]:
    """``batch_size`` from the data module's or the model's init_args (where LightningCLI examples keep it),
    and the field it came from."""
    for section in ("data", "model"):
        part = data.get(section)
        if isinstance(part, Mapping):
            args = part.get("init_args") if isinstance(part.get("init_args"), Mapping) else part
            field = f"{section}.init_args.batch_size" if args is not part else f"{section}.batch_size"
            value = args.get("batch_size")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise invalid(field, value, "must be a positive integer (or give batch_size)")
            return value, field
    return None, ""


# ---- a serialized Keras schedule ----------------------------------------------------------------------

#: Keras 3.15's defaults of the arguments a config may leave out (the others are required).
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "CosineDecay": {"alpha": 0.0, "warmup_target": None, "warmup_steps": 0},
    "CosineDecayRestarts": {"t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0},
    "ExponentialDecay": {"staircase": False},
    "InverseTimeDecay": {"staircase": False},
    "PolynomialDecay": {"end_learning_rate": 0.0001, "power": 1.0, "cycle": False},
    "PiecewiseConstantDecay": {},
}
#: Where a Keras schedule's own decay ends, for the note on the run length.
_KERAS_SPAN = {
    "CosineDecay": "decay_steps",
    "CosineDecayRestarts": "first_decay_steps",
    "ExponentialDecay": "decay_steps",
    "InverseTimeDecay": "decay_steps",
    "PolynomialDecay": "decay_steps",
}
DEFAULT_STEPS = ScheduleConfig.steps  # lrlab's default run length
#: The type each Keras schedule argument takes (Keras 3.15's constructors); the rest are numbers.
_KERAS_KINDS: dict[str, str] = {
    "warmup_target": "number or null",
    "staircase": "true or false",
    "cycle": "true or false",
    "boundaries": "a list of numbers",
    "values": "a list of numbers",
}


def _check_keras_types(name: str, config: Mapping[str, Any]) -> None:
    """Each argument of a serialized Keras schedule has the type Keras's constructor takes, or a named refusal."""
    for key, value in config.items():
        kind = _KERAS_KINDS.get(key, "a number")
        ok = {
            "a number": _is_num(value),
            "number or null": value is None or _is_num(value),
            "true or false": isinstance(value, bool),
            "a list of numbers": isinstance(value, list) and all(_is_num(v) for v in value),
        }[kind]
        if not ok:
            raise invalid(f"config.{key}", value, f"must be {kind} ({name}'s {key} in Keras)")
    if name == "PiecewiseConstantDecay" and len(config["values"]) != len(config["boundaries"]) + 1:
        raise invalid(
            "config.values",
            config["values"],
            f"must hold one more value than boundaries ({len(config['boundaries'])}): the value before the first "
            'boundary, then one after each (Keras: "The length of boundaries should be 1 less than the length of '
            'values")',
        )


def from_keras(data: Mapping[str, Any], *, steps: int | None = None, notes: list[str] | None = None) -> ScheduleConfig:
    """A schedule serialized by ``keras.optimizers.schedules.serialize`` (``{"module":
    "keras.optimizers.schedules", "class_name": "CosineDecay", "config": {...}, "registered_name": null}``),
    or a serialized optimizer whose ``learning_rate`` is one. ``initial_learning_rate`` becomes the run's
    base lr. The file holds no run length: ``steps`` when given, else lrlab's default run."""
    from lrlab.schedulers.keras_specs import KERAS_ARGS

    config = data["config"]
    if isinstance(config.get("learning_rate"), Mapping) and "class_name" in config["learning_rate"]:
        _tell(notes, f"Read the learning_rate schedule of a serialized Keras optimizer ({data.get('class_name')}).")
        data = config["learning_rate"]
        config = data.get("config")
        if not isinstance(config, Mapping):
            raise invalid("learning_rate.config", config, "must be the schedule's mapping of arguments")
    name = data.get("class_name")
    module = data.get("module")
    if not isinstance(name, str) or name not in KERAS_ARGS or data.get("registered_name") not in (None, name):
        raise invalid(
            "class_name",
            name if data.get("registered_name") in (None, name) else data.get("registered_name"),
            "must be one of Keras's built-in schedules: " + ", ".join(KERAS_ARGS) + " (a registered custom schedule "
            "is code lrlab does not run)",
        )
    if module is not None and module != "keras.optimizers.schedules" and not str(module).startswith("keras"):
        raise invalid("module", module, "must be keras.optimizers.schedules (the module serialize() writes)")
    takes = list(KERAS_ARGS[name]) + ([] if name == "PiecewiseConstantDecay" else ["initial_learning_rate"])
    unknown = sorted(str(k) for k in config if k not in takes and k != "name")
    if unknown:
        raise invalid(f"config.{unknown[0]}", config[unknown[0]], f"{name} takes {', '.join(takes)} (and name)")
    defaults = KERAS_DEFAULTS[name]
    missing = [k for k in takes if k not in config and k not in defaults]
    if missing:
        raise LrlabError(
            f"Invalid config: {name} needs {missing[0]} (Keras: missing a required argument)",
            field=f"config.{missing[0]}",
        )
    _check_keras_types(name, {k: v for k, v in config.items() if k != "name"})
    params = {k: config.get(k, defaults.get(k)) for k in KERAS_ARGS[name]}
    run: dict[str, Any] = {}
    if name == "PiecewiseConstantDecay":
        values = config.get("values")
        first = values[0] if isinstance(values, list) and values else None
        if is_lr(first):
            run["base_lr"] = float(first)
    else:
        lr = _number(config, "initial_learning_rate", name="config.initial_learning_rate")
        if lr == 0 and params.get("warmup_target"):
            lr = 1e-8
            _tell(notes, "initial_learning_rate 0 (a warm-up from 0) is drawn from 1e-8: lrlab's base lr must be > 0.")
        run["base_lr"] = float(lr)
    shown = ", ".join(f"{k}={config[k]!r}" for k in takes if k in config)
    left = [k for k in takes if k not in config]
    _tell(
        notes,
        f"Read keras.optimizers.schedules.{name}({shown})"
        + (f"; Keras's defaults for {', '.join(left)}" if left else "")
        + (f"; ignored name {config['name']!r}" if "name" in config else "")
        + ".",
    )
    if steps is None:
        steps = DEFAULT_STEPS
        span = _KERAS_SPAN.get(name)
        end = ""
        if span is not None:
            end = f"; its {span} is {config.get(span)}"
        elif config.get("boundaries"):
            end = f"; its last boundary is step {config['boundaries'][-1]}"
        _tell(notes, f"steps = {steps}, lrlab's default run: a serialized Keras schedule holds no run length{end}.")
    else:
        _tell(notes, f"steps = {steps} (given): a serialized Keras schedule holds no run length.")
    return ScheduleConfig.make(f"keras:{name}", params, steps=steps, **run)
