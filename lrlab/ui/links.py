"""The settings of a view that a share link carries besides the schedule: switches, choices, names.

A page lists these settings as :class:`Field` records, one per link key: the widget's session-state
key, its default and what is allowed. :func:`restore` seeds the widgets from a link (each value
checked: a bad one is dropped and reported, the rest still restores); :func:`values` gives what the
link carries. A value equal to its default is left out of the link, so every default here must be
what the page shows when the key is absent. Values travel as flat text (``log_y=true``,
``diff_mode=ratio``, ``color=#d62728``), read with :func:`lrlab.specs.parse_value`; never pickle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lrlab.specs import MAX_LR, parse_value

#: A colour as the colour picker gives it.
COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Field:
    """One setting a link may carry: a widget's session-state ``key``, its ``default``, and what is
    allowed — one of ``choices``; else a number in ``[low, high]`` (int or float, as the default;
    ``low_open``: above ``low``, as a learning rate is above 0); a bool; or text of at most ``max_len``
    characters. The bounds are what the widget and the run accept, so that every value a user can
    type and see drawn comes back from a link."""

    key: str
    default: Any
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    max_len: int = 500
    low_open: bool = False

    def allowed(self) -> str:
        """What a link may give, in words (for the "ignored" notice)."""
        if self.choices:
            shown = [repr(c) if c == "" else str(c) for c in self.choices[:8]]
            return "one of " + ", ".join(shown) + ("…" if len(self.choices) > 8 else "")
        if isinstance(self.default, bool):
            return "true or false"
        if isinstance(self.default, (int, float)):
            noun = "an integer" if isinstance(self.default, int) else "a number"
            if self.low_open and self.low is not None:
                if self.high is None or self.high >= MAX_LR:  # a learning rate: any finite one > 0
                    return f"{'a finite number' if isinstance(self.default, float) else noun} > {self.low:g}"
                return f"{noun} in ({self.low:g}, {self.high:g}]"
            if self.high is not None and self.high >= MAX_LR and self.low is not None:  # an lr that may be 0
                return f"{'a finite number' if isinstance(self.default, float) else noun} ≥ {self.low:g}"
            low = "" if self.low is None else f" from {self.low:g}"
            high = "" if self.high is None else f" to {self.high:g}"
            return noun + low + high
        return f"text of at most {self.max_len} characters"

    def check(self, raw: str) -> tuple[bool, Any]:
        """``(True, value)`` for an allowed link value, else ``(False, None)``."""
        parsed = parse_value(raw)
        if self.choices:
            for choice in self.choices:  # "3" is the choice 3, "true" is True, '"1"' and "1" the text "1"
                if (type(parsed) is type(choice) and parsed == choice) or (isinstance(choice, str) and raw == choice):
                    return True, choice
            return False, None
        if isinstance(self.default, bool):
            return (True, parsed) if isinstance(parsed, bool) else (False, None)
        if isinstance(self.default, (int, float)):
            value = parsed
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not (isinstance(value, int) or math.isfinite(value))
            ):
                return False, None
            if isinstance(self.default, int) and not (isinstance(value, int) or float(value).is_integer()):
                return False, None
            if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
                return False, None
            if self.low_open and value == self.low:
                return False, None
            return True, type(self.default)(value)
        text = parsed if isinstance(parsed, str) else raw  # text that reads as JSON travels quoted
        return (True, text) if len(text) <= self.max_len else (False, None)


def restore(fields: Mapping[str, Field], query: Mapping[str, str], ignored: list[str]) -> dict[str, Any]:
    """Put the allowed linked values into their widgets; report the others in ``ignored``.
    Returns what was applied, by link key."""
    applied = {}
    for name, field in fields.items():
        if name not in query:
            continue
        ok, value = field.check(query[name])
        if ok:
            st.session_state[field.key] = applied[name] = value
        else:
            ignored.append(f"{name}={query[name]!s:.30} ({field.allowed()})")
    return applied


def values(fields: Mapping[str, Field], only: set[str] | None = None) -> dict[str, Any]:
    """What the link carries for ``fields`` (those in ``only``, if given): each value that differs
    from its default, as the widget holds it now."""
    out = {}
    for name, field in fields.items():
        if only is not None and name not in only:
            continue
        value = st.session_state.get(field.key, field.default)
        if value is not None and value != field.default:
            out[name] = value
    return out


#: The export panel's chart-image choice (one setting for the whole app, shown on each page's export).
IMAGE = {"image": Field("chart_image_format", "png", choices=("png", "svg"))}


def explain_fields(prefix: str, *, several: bool = False) -> dict[str, Field]:
    """Explain mode's speed and, on a page with ``several`` curves, the curve explained (by its name;
    the page checks it against the curves shown). The mode and its step travel as ``explain``
    (:mod:`lrlab.ui.explain`)."""
    from lrlab.ui.explain import SPEEDS

    fields = {"explain_speed": Field(f"{prefix}.explain.speed", "1 % of the run", choices=SPEEDS)}
    if several:
        fields["explain_curve"] = Field(f"{prefix}.explain.curve", "", max_len=80)
    return fields


# ---- the Train & compare page's schedules ---------------------------------------------------------


def _plain_params(spec: Any, params: Mapping[str, Any], steps: int) -> dict[str, Any]:
    """A schedule item's parameters as a link carries them: those that differ from their default, and
    every run-sized one it holds (it holds one only when the user set it: a set value stays set, even
    where it equals the run's default today)."""
    from lrlab.ui.widgets import run_sized

    defaults = {p.name: p.default_for(steps) for p in spec.params}
    sized = {p.name for p in spec.params if run_sized(p)}
    return {k: v for k, v in params.items() if k not in defaults or k in sized or v != defaults[k]}


def schedules_link(items: list[dict[str, Any]], steps: int) -> list[dict[str, Any]]:
    """The schedules of Train & compare as a link carries them (no ids: they are re-issued on load)."""
    from lrlab.schedulers import SCHEDULERS

    out = []
    for item in items:
        params = item.get("params") or {}
        if item["kind"] == "scheduler" and item["key"] in SCHEDULERS:
            params = _plain_params(SCHEDULERS[item["key"]], params, steps)
        entry = {"label": item["label"], "kind": item["kind"], "key": item["key"], "params": params}
        if item.get("interval", "step") != "step":
            entry["interval"] = item["interval"]
        out.append(entry)
    return out


def schedules_from_link(raw: str, ignored: list[str], steps: int) -> list[dict[str, Any]] | None:
    """Train & compare's schedules from a link's ``schedules`` value, each checked (a bad one is
    dropped and reported); None when nothing usable is left."""
    from lrlab.presets import PRESETS
    from lrlab.schedulers import SCHEDULERS
    from lrlab.specs import INTERVALS, LrlabError
    from lrlab.ui.lab import MAX_ITEMS

    data = parse_value(raw)
    if not isinstance(data, list) or not data:
        ignored.append("schedules (not a list of schedules)")
        return None
    out = []
    for i, item in enumerate(data[:MAX_ITEMS]):
        where = f"schedules[{i}]"
        kind = item.get("kind") if isinstance(item, dict) else None
        key = item.get("key") if isinstance(item, dict) and isinstance(item.get("key"), str) else None
        if kind == "preset" and key in PRESETS:
            params: dict[str, Any] = {}
        elif (
            kind == "scheduler"
            and key in SCHEDULERS
            and (not SCHEDULERS[key].needs_metric or key == "ReduceLROnPlateau")
        ):
            spec = SCHEDULERS[key]
            params = {}
            given = item.get("params") if isinstance(item.get("params"), dict) else {}
            for name, value in given.items():
                param = next((p for p in spec.params if p.name == name), None)
                if param is None:
                    ignored.append(f"{where}.{name} (not a parameter of {spec.name})")
                    continue
                try:
                    param.coerce(value, steps)
                except LrlabError as exc:
                    ignored.append(f"{where}: {exc}")
                    continue
                params[name] = value
        else:
            shown = f"{kind!s:.20}:{key!s:.40}" if kind or key else "no kind and key"
            ignored.append(
                f"{where} ({shown}: a schedule is kind 'preset' with a paper's key, or kind 'scheduler' with a "
                "scheduler's name; of the metric-driven ones only ReduceLROnPlateau)"
            )
            continue
        label = item.get("label")
        entry = {"kind": kind, "key": key, "params": params, "label": str(label)[:60] if label else str(key)}
        if "interval" in item:
            if item["interval"] in INTERVALS:
                entry["interval"] = item["interval"]
            else:
                ignored.append(
                    f"{where}.interval={item['interval']!s:.20} (one of {', '.join(repr(i) for i in INTERVALS)})"
                )
        out.append(entry)
    if len(data) > MAX_ITEMS:
        ignored.append(f"schedules beyond the first {MAX_ITEMS}")
    return out or None
