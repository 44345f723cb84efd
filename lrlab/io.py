"""Import: lrlab's own YAML/JSON configs and Hugging Face ``training_args.json`` / TrainingArguments.

Text is parsed as plain data only — JSON with :mod:`json`, YAML with ``yaml.safe_load`` (no tags,
no objects) — size-limited, and every value is validated through the scheduler specs. Problems are
reported as :class:`~lrlab.specs.LrlabError` naming the field. A value that is read but does not take
effect as written (``warmup_ratio`` beside ``warmup_steps``) is reported as a note: appended to the
``notes`` list a caller passes, else warned as a :class:`ConfigWarning`.
"""

from __future__ import annotations

import json
import math
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
    ScheduleConfig,
    from_lrlab,
    invalid,
    too_deep,
)

MAX_CONFIG_BYTES = 200_000
# TrainingArguments.lr_scheduler_type -> the transformers function lrlab simulates
_TRAINER_FIELDS = {
    "learning_rate", "lr_scheduler_type", "warmup_steps", "warmup_ratio", "max_steps", "num_train_epochs",
    "lr_scheduler_kwargs", "gradient_accumulation_steps", "per_device_train_batch_size",
}  # fmt: skip


class ConfigWarning(UserWarning):
    """An imported config was read, but one of its values does not take effect as written."""


def _note(notes: list[str] | None, message: str) -> None:
    if notes is None:
        warnings.warn(message, ConfigWarning, stacklevel=3)
    else:
        notes.append(message)


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


def import_config(
    text: str | bytes, *, dataset_size: int | None = None, notes: list[str] | None = None
) -> ScheduleConfig:
    """A validated :class:`ScheduleConfig` from lrlab YAML/JSON or a transformers TrainingArguments dict;
    what did not take effect as written goes to ``notes`` (else a :class:`ConfigWarning`)."""
    data = load_text(text)
    if not isinstance(data, Mapping):
        raise LrlabError(f"Invalid config: expected a mapping of fields, got {type(data).__name__}", field="config")
    if "lr_scheduler_type" in data:
        config = from_training_args(data, dataset_size=dataset_size, notes=notes)
    else:
        config = from_lrlab(data)
    resolve(config)  # every value through the specs; raises naming the field
    return config


def _int(data: Mapping[str, Any], key: str, low: int = 0) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer() or value < low:
        raise invalid(key, value, f"must be an integer ≥ {low}")
    return int(value)


def from_training_args(
    data: Mapping[str, Any], *, dataset_size: int | None = None, notes: list[str] | None = None
) -> ScheduleConfig:
    """The schedule the Hugging Face Trainer would build from these TrainingArguments.

    Follows ``Trainer.create_scheduler``: ``get_scheduler(lr_scheduler_type, num_warmup_steps=
    args.get_warmup_steps(max_steps), num_training_steps=max_steps, scheduler_specific_kwargs=
    args.lr_scheduler_kwargs)``, where ``warmup_steps`` ≥ 1 counts steps (``int(warmup_steps)``) and a
    value in [0, 1) is a share of the run, rounded up (transformers 5.23 ``get_warmup_steps``).
    ``warmup_ratio`` is the field of transformers 4 (removed in 5, which reads the ratio from
    ``warmup_steps``): a share in [0, 1] as 4.x required ("warmup_ratio must lie in range [0,1]"), used
    when ``warmup_steps`` is 0 ("warmup_steps will override any effect of warmup_ratio"). Without
    ``max_steps`` the run length is ``num_train_epochs × ceil(ceil(dataset_size / batch) /
    gradient_accumulation_steps)``.
    """
    unknown_type = data.get("lr_scheduler_type")
    try:
        spec = get_spec(str(unknown_type.value if hasattr(unknown_type, "value") else unknown_type))
    except LrlabError:
        raise invalid("lr_scheduler_type", unknown_type, "must be one of the Trainer's SchedulerType values") from None
    if spec.library != "transformers" or not spec.aliases:
        raise invalid("lr_scheduler_type", unknown_type, "must be one of the Trainer's SchedulerType values")
    lr = data.get("learning_rate", 5e-5)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise invalid("learning_rate", lr, "must be a number")
    steps = _int(data, "max_steps", low=-1)
    if steps is None or steps <= 0:
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
        per_epoch = max(1, math.ceil(math.ceil(dataset_size / batch) / accum))
        steps = math.ceil(epochs * per_epoch)
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
    elif ratio:
        num_warmup = math.ceil(steps * ratio)
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
    if not isinstance(kwargs, Mapping):
        raise invalid("lr_scheduler_kwargs", kwargs, "must be a mapping of keyword arguments")
    names = {p.name for p in spec.params}
    params: dict[str, Any] = dict(kwargs)
    if "num_warmup_steps" in names:
        params["num_warmup_steps"] = num_warmup
    if "num_training_steps" in names:
        params.setdefault("num_training_steps", steps)
    return ScheduleConfig.make(spec.name, params, steps=steps, base_lr=float(lr))
