"""Streamlit inputs generated from :class:`~lrlab.specs.ParamSpec` records.

One function, :func:`render_params`, turns a spec into widgets. Keys are ``<prefix>.<scheduler>.<param>``
so each page and each scheduler keeps its own values; defaults go through
``st.session_state.setdefault`` (never ``value=`` together with a key).
"""

from __future__ import annotations

import json
import math
from typing import Any

import streamlit as st

from lrlab.specs import ParamSpec, SchedulerSpec, parse_value

MANTISSAS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)


def log_grid(low: float, high: float, *, include: tuple[float, ...] = ()) -> list[float]:
    """Values 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 × 10^k within [low, high] (0 first if low is 0),
    plus the values in ``include``, sorted — the options of a log-scale slider."""
    lo = max(low, 1e-8)
    values = {
        float(f"{m * 10.0**k:.6g}")
        for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(high)) + 1)
        for m in MANTISSAS
        if lo <= m * 10.0**k <= high
    }
    if low <= 0:
        values.add(0.0)
    values.update(float(v) for v in include if v is not None and low <= v <= high)
    return sorted(values)


def fmt_number(value: Any, digits: int = 6) -> str:
    """Short, exact-enough display of a parameter value."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def scheduler_label(name: str) -> str:
    """``torch · StepLR — decay by γ every step_size steps``: how a picker shows a scheduler.

    Widgets' format functions live here, not in page scripts: session state must stay picklable.
    """
    from lrlab.schedulers import SCHEDULERS

    spec = SCHEDULERS[name]
    return f"{spec.library} · {spec.title}"


OPTIMIZER_LABELS = {
    "sgd": "SGD (momentum)",
    "adam": "Adam (beta1)",
    "adamw": "AdamW (beta1)",
    "adagrad": "Adagrad (neither)",
}


def optimizer_label(kind: str) -> str:
    return OPTIMIZER_LABELS[kind]


def interval_label(kind: str) -> str:
    return {"step": "per optimizer step", "epoch": "per epoch"}[kind]


def lr_slider(where: Any, label: str, *, key: str, **kwargs: Any) -> float:
    """A learning rate on a log-scale slider (1e-6 … 10, the current value always an option)."""
    options = log_grid(1e-6, 10.0, include=(st.session_state[key],))
    return where.select_slider(label, options=options, key=key, format_func=fmt_number, **kwargs)


def number(where: Any, label: str, low: float, high: float, default: float, *, key: str, **kwargs: Any) -> Any:
    """``where.number_input`` with its default set through session state (never ``value=`` with a key)."""
    st.session_state.setdefault(key, default)
    return where.number_input(label, min_value=low, max_value=high, key=key, **kwargs)


def copy_value(src_key: str, dst_key: str) -> None:
    """Widget callback: put the value of one widget into another (e.g. an example into a text box)."""
    if st.session_state.get(src_key):
        st.session_state[dst_key] = st.session_state[src_key]


def key_for(prefix: str, spec: SchedulerSpec, param: ParamSpec) -> str:
    return f"{prefix}.{spec.name}.{param.name}"


def reset_params(prefix: str, spec: SchedulerSpec) -> None:
    """Forget the stored values of a scheduler's widgets so they come back with their defaults."""
    for param in spec.params:
        for suffix in ("", ".text", "._last", "._range"):
            st.session_state.pop(key_for(prefix, spec, param) + suffix, None)


def seed_params(spec: SchedulerSpec, prefix: str, params: dict[str, Any]) -> None:
    """Put parameter values into the widgets' session state (from a link, a duplicate, a preset)."""
    for param in spec.params:
        if param.name not in params or param.name == spec.base_lr_param:
            continue
        value = params[param.name]
        key = key_for(prefix, spec, param)
        if param.kind == "int_list":
            st.session_state[key + ".text"] = ", ".join(str(v) for v in value)
        elif param.kind == "children":
            st.session_state[key + ".text"] = json.dumps(_plain(value), indent=1)
        elif isinstance(value, tuple):  # a per-group value: the widget shows group 0's
            st.session_state[key] = st.session_state[key + "._last"] = value[0]
        else:
            st.session_state[key] = st.session_state[key + "._last"] = value


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def render_params(spec: SchedulerSpec, key_prefix: str, steps: int) -> dict[str, Any]:
    """Draw one input per parameter and return ``{name: value}`` (values not yet validated)."""
    values: dict[str, Any] = {}
    for param in spec.params:
        if param.name == spec.base_lr_param:
            continue
        values[param.name] = _render(param, key_for(key_prefix, spec, param), steps)
    return values


def _render(p: ParamSpec, key: str, steps: int) -> Any:
    default = p.default_for(steps)
    label = p.name
    help_text = f"{p.help} Allowed: {p.allowed_text(steps)}. Default: {fmt_number(default)}."
    if p.kind == "bool":
        st.session_state.setdefault(key, bool(default))
        return st.toggle(label, key=key, help=help_text)
    if p.kind == "choice":
        st.session_state.setdefault(key, default)
        return st.selectbox(label, p.choices, key=key, help=help_text)
    if p.kind == "expr":
        st.session_state.setdefault(key, default)
        return st.text_input(label, key=key, help=help_text, max_chars=500)
    if p.kind == "int_list":
        return _int_list(p, key, default, help_text)
    if p.kind == "children":
        return _children_json(p, key, default, help_text)
    low, high = p.bounds_for(steps)
    if p.optional:
        st.session_state.setdefault(key, default)
        return st.number_input(
            label,
            min_value=low,
            max_value=high,
            step=1 if p.kind == "int" else None,
            format=None if p.kind == "int" else "%g",
            key=key,
            help=help_text + " Leave empty for the library's default.",
            placeholder="library default",
        )
    st.session_state.setdefault(key, default)
    current = st.session_state[key]
    if p.kind == "int":
        if callable(p.default) or callable(p.high):
            # a size that follows the run length: a slider over [low, 2 × steps] (past the run too,
            # to show what happens when a schedule is sized longer or shorter than the run)
            top = int(max(2 * steps, default, current if isinstance(current, int) else 0, (low or 0) + 1))
            if high is not None:
                top = min(top, int(high))  # e.g. T_max at 1M steps: the slider ends where the spec does
            lo = int(low or 0)
            _keep_across_range_change(key, (lo, top), lambda v: min(max(v, lo), top))
            value = st.slider(label, min_value=lo, max_value=top, key=key, help=help_text)
            st.session_state[key + "._last"] = value
            return value
        return st.number_input(label, min_value=int(low), max_value=int(high), step=1, key=key, help=help_text)
    if p.log:
        options = log_grid(low, high, include=(default, current))
        _keep_across_range_change(key, tuple(options), lambda v: v if v in options else default)
        value = st.select_slider(label, options=options, key=key, help=help_text, format_func=fmt_number)
        st.session_state[key + "._last"] = value
        return value
    if low is not None and high is not None and high - low <= 10:
        lo = float(low) if not p.low_open else float(low) + _step(low, high)
        hi = float(high) if not p.high_open else float(high) - _step(low, high)
        if isinstance(current, (int, float)) and not lo <= current <= hi:
            st.session_state[key] = float(min(max(current, lo), hi))
        elif isinstance(current, int):
            st.session_state[key] = float(current)
        return st.slider(
            label, min_value=lo, max_value=hi, step=_step(low, high), key=key, help=help_text, format="%.4g"
        )
    return st.number_input(label, min_value=low, max_value=high, key=key, help=help_text, format="%g")


def _keep_across_range_change(key: str, signature: tuple, fit: Any) -> None:
    """Streamlit forgets a keyed slider's value when its range changes (it becomes a new widget and
    starts at its minimum). Remember the last value and the range; when the range changes, put the
    last value (fitted into the new range) back before the widget is drawn."""
    last, range_key = key + "._last", key + "._range"
    if st.session_state.get(range_key) not in (None, signature) and last in st.session_state:
        st.session_state[key] = fit(st.session_state[last])
    st.session_state[range_key] = signature


def _step(low: float, high: float) -> float:
    span = high - low
    return 0.001 if span <= 2 else 0.01


def _int_list(p: ParamSpec, key: str, default: Any, help_text: str) -> Any:
    """A list of integers typed as ``5, 15`` (or JSON). Returns the list, or the raw text when it
    does not parse so that validation names the parameter and shows the value."""
    text_key = key + ".text"
    st.session_state.setdefault(text_key, ", ".join(str(v) for v in default))
    text = st.text_input(p.name, key=text_key, help=help_text + " Comma-separated, e.g. 5, 15.")
    cleaned = text.strip().strip("[]")
    if not cleaned:
        return []
    parsed = parse_value(f"[{cleaned}]")  # deep nesting or junk stays text
    if not isinstance(parsed, list):
        return text
    return [int(v) if isinstance(v, float) and v.is_integer() else v for v in parsed]


def _children_json(p: ParamSpec, key: str, default: Any, help_text: str) -> Any:
    """Child schedulers as editable JSON (the Compose page has a full editor). Returns the parsed list,
    or the raw text when it is not JSON, so that validation names the parameter."""
    text_key = key + ".text"
    st.session_state.setdefault(text_key, json.dumps(default, indent=1))
    text = st.text_area(p.name, key=text_key, help=help_text + " Edit them one by one on the Compose page.", height=180)
    return parse_value(text)


def legend_rows(spec: SchedulerSpec, params: dict[str, Any], base_lr: float) -> list[dict[str, str]]:
    """The formula's symbol legend with the current value of each parameter where it has one."""
    symbols = {p.symbol: p.name for p in spec.params if p.symbol}
    rows = []
    for symbol, meaning in spec.legend:
        name = symbols.get(symbol)
        if name is not None and name == spec.base_lr_param:
            value = base_lr
        else:
            value = params.get(name) if name else (base_lr if symbol in (r"\eta_0", r"\eta_{\text{base}}") else None)
        if isinstance(value, (list, tuple)):  # a per-group value: group 0's, as the widget shows
            value = value[0] if value else None
        rows.append(
            {"symbol": f"${symbol}$", "meaning": meaning, "value": fmt_number(value) if value is not None else ""}
        )
    return rows
