"""Streamlit inputs generated from :class:`~lrlab.specs.ParamSpec` records.

One function, :func:`render_params`, turns a spec into widgets. Keys are ``<prefix>.<scheduler>.<param>``
so each page and each scheduler keeps its own values; defaults go through
``st.session_state.setdefault`` (never ``value=`` together with a key).
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import streamlit as st

from lrlab.specs import MAX_LR, ParamSpec, SchedulerSpec, parse_value
from lrlab.ui.text import plain

MANTISSAS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
#: The span of a learning rate's helper slider (:func:`lr_slider`, and a parameter whose ``high`` is
#: ``MAX_LR``): an lr has no upper bound, so the slider covers the usual ones and widens to hold the value.
LR_SLIDER = (1e-6, 10.0)


def log_grid(low: float, high: float, *, include: tuple[float, ...] = ()) -> list[float]:
    """Values 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 × 10^k within [low, high] (0 first if low is 0),
    plus the values in ``include``, sorted — the options of a log-scale slider."""
    values = set(_decades(max(low, 1e-8), high))
    if low <= 0:
        values.add(0.0)
    values.update(float(v) for v in include if v is not None and low <= v <= high)
    return sorted(values)


@functools.lru_cache(maxsize=64)
def _decades(lo: float, high: float) -> tuple[float, ...]:
    """:func:`log_grid`'s mantissas × powers of ten within [lo, high] (the same few ranges on every rerun
    of every visitor: computed once)."""
    return tuple(
        float(f"{m * 10.0**k:.6g}")
        for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(high)) + 1)
        for m in MANTISSAS
        if lo <= m * 10.0**k <= high
    )


def fmt_number(value: Any, digits: int = 6) -> str:
    """Short, exact-enough display of a parameter value."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def scheduler_label(name: str) -> str:
    """``torch · StepLR — decay by γ every step_size steps``: how a picker shows a scheduler (a library
    that is not installed here says so).

    Widgets' format functions live here, not in page scripts: session state must stay picklable.
    """
    from lrlab.schedulers import SCHEDULERS

    spec = SCHEDULERS[name]
    missing = " (not installed)" if _library_missing(spec.library) else ""
    return f"{spec.library} · {spec.title}{missing}"


@functools.lru_cache(maxsize=16)
def _library_missing(library: str) -> bool:
    from lrlab.schedulers import SCHEDULERS

    spec = next(s for s in SCHEDULERS.values() if s.library == library)
    return spec.unavailable() is not None


ALL_LIBRARIES = "all"


def library_label(library: str) -> str:
    if library == ALL_LIBRARIES:
        return "All libraries"
    return library + (" (not installed)" if _library_missing(library) else "")


def _library_changed(library_key: str, scheduler_key: str, names: tuple[str, ...]) -> None:
    """Library filter callback: a scheduler of another library gives way to the first of the chosen one."""
    from lrlab.schedulers import SCHEDULERS

    library = st.session_state[library_key]
    if library == ALL_LIBRARIES or SCHEDULERS[st.session_state.get(scheduler_key, names[0])].library == library:
        return
    st.session_state[scheduler_key] = next(n for n in names if SCHEDULERS[n].library == library)


def scheduler_picker(
    library_where: Any, where: Any, *, library_key: str, key: str, names: Any = None, **kwargs: Any
) -> str:
    """A library filter and the scheduler picker under it, grouped by library (torch, transformers, timm,
    Keras, optax, fastai). Choosing a library moves the scheduler to that library's first one; a linked or
    imported scheduler of another library switches the filter to its library (shown, never replaced)."""
    from lrlab.schedulers import SCHEDULERS
    from lrlab.specs import LIBRARIES

    names = tuple(names or SCHEDULERS)
    libraries = [lib for lib in LIBRARIES if any(SCHEDULERS[n].library == lib for n in names)]
    st.session_state.setdefault(library_key, ALL_LIBRARIES)
    st.session_state.setdefault(key, names[0])
    current = st.session_state[key]
    chosen = st.session_state[library_key]
    if chosen not in (ALL_LIBRARIES, *libraries) or (
        current in SCHEDULERS and chosen != ALL_LIBRARIES and SCHEDULERS[current].library != chosen
    ):
        st.session_state[library_key] = SCHEDULERS[current].library if current in SCHEDULERS else ALL_LIBRARIES
    library = library_where.selectbox(
        "Library",
        [ALL_LIBRARIES, *libraries],
        key=library_key,
        format_func=library_label,
        on_change=_library_changed,
        args=(library_key, key, names),
        help="Show the schedules of one library only.",
    )
    order = {lib: i for i, lib in enumerate(LIBRARIES)}
    shown = sorted(
        (n for n in names if library == ALL_LIBRARIES or SCHEDULERS[n].library == library),
        key=lambda n: order[SCHEDULERS[n].library],
    )
    return where.selectbox("Scheduler", shown, key=key, format_func=scheduler_label, **kwargs)


OPTIMIZER_LABELS = {
    "sgd": "SGD (momentum)",
    "adam": "Adam (beta1)",
    "adamw": "AdamW (beta1)",
    "adagrad": "Adagrad (neither)",
}


def optimizer_label(kind: str) -> str:
    return OPTIMIZER_LABELS[kind]


def interval_label(kind: str) -> str:
    return {
        "step": "per optimizer step",
        "epoch": "per epoch",
        "epoch_fraction": "step(epoch + i / steps_per_epoch) per optimizer step",
        "epoch_arg": "step(epoch + 1) per epoch",
    }[kind]


def lr_slider(where: Any, label: str, *, key: str, **kwargs: Any) -> float:
    """A learning rate typed exactly (any number; validation names what is allowed), with a log-scale
    slider under it as a helper (:data:`LR_SLIDER`, widened to hold the current value, which is always an option).

    The typed box holds the truth under ``key``; the slider (``key + ".slider"``) only mirrors it, so a
    value the slider can't hold (20, 1.234e-7) is kept as typed, linked or imported.
    """
    st.session_state.setdefault(key, 0.1)
    value = where.number_input(label, key=key, format="%g", step=None, on_change=mark_set, args=(key,), **kwargs)
    if _is_number(value) and value > 0:
        options = log_grid(min(LR_SLIDER[0], value), max(LR_SLIDER[1], value), include=(value,))
        st.session_state[key + ".slider"] = value
        where.select_slider(
            label,
            options=options,
            key=key + ".slider",
            format_func=fmt_number,
            label_visibility="collapsed",
            on_change=_from_slider,
            args=(key,),
        )
    return value


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )


def mark_set(key: str) -> None:
    """Widget callback: the user set this value (it no longer follows the run)."""
    st.session_state[key + "._set"] = True


def _from_slider(key: str) -> None:
    """Slider callback: the helper slider moved, so the typed box (the truth) takes its value.

    Another callback of the same rerun may have forgotten the slider already (a reset, a new scheduler):
    then there is nothing to take."""
    if key + ".slider" not in st.session_state:
        return
    st.session_state[key] = st.session_state[key + ".slider"]
    mark_set(key)


def follow_run(key: str) -> None:
    """Button callback: forget a set value so that it follows the run again."""
    for suffix in ("", "._set", ".slider"):
        st.session_state.pop(key + suffix, None)


def is_set(key: str) -> bool:
    return bool(st.session_state.get(key + "._set"))


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
        for suffix in ("", ".text", "._last", "._range", "._set", ".slider"):
            st.session_state.pop(key_for(prefix, spec, param) + suffix, None)


def seed_params(spec: SchedulerSpec, prefix: str, params: dict[str, Any]) -> None:
    """Put parameter values into the widgets' session state (from a link, a duplicate, a preset)."""
    for param in spec.params:
        if param.name not in params or param.name == spec.base_lr_param:
            continue
        value = params[param.name]
        key = key_for(prefix, spec, param)
        if param.kind in ("int_list", "float_list"):
            st.session_state[key + ".text"] = ", ".join(str(v) for v in value)
        elif param.kind == "children":
            st.session_state[key + ".text"] = json.dumps(_plain(value), indent=1)
        elif isinstance(value, tuple):  # a per-group value: the widget shows group 0's
            st.session_state[key] = value[0]
        else:
            st.session_state[key] = value
        st.session_state[key + "._set"] = True  # a linked, imported, preset or copied value stays as given


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


def run_sized(p: ParamSpec) -> bool:
    """A parameter whose default is a function of the run length (T_max, total_steps, warmup, …)."""
    return callable(p.default)


def chosen_params(spec: SchedulerSpec, key_prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the run-sized parameters the user never set: what a link, a stored curve or
    a copy carries (an absent run-sized value follows the run it is used with)."""
    return {
        name: value
        for name, value in values.items()
        if not run_sized(p := spec.param(name)) or is_set(key_for(key_prefix, spec, p))
    }


def fit_note(p: ParamSpec, value: Any, steps: int, scheduler: str = "") -> str | None:
    """Why a set run-sized value no longer fits a run of ``steps`` steps, or None when it fits."""
    if not run_sized(p) or not _is_number(value) or isinstance(value, bool):
        return None
    default = p.default_for(steps)
    if default == steps and value < steps:  # a length meant to cover the run
        if scheduler == "OneCycleLR" and p.name == "total_steps":
            return (
                f"total_steps = {value:g} is shorter than the run's {steps} steps: OneCycleLR will refuse "
                f"step {int(value) + 1}"
            )
        return f"{p.name} = {value:g} is shorter than the run's {steps} steps: the schedule ends before the run does"
    if default == steps and value > steps:
        return f"{p.name} = {value:g} is longer than the run's {steps} steps: the run stops before the schedule ends"
    if value > steps:
        return f"{p.name} = {value:g} is past the end of the run ({steps} steps)"
    return None


def _fit_notice(p: ParamSpec, key: str, steps: int) -> None:
    """A note under a set run-sized value that no longer fits the run, with a button to follow it again."""
    scheduler = key.split(".")[-2] if key.count(".") >= 2 else ""
    note = fit_note(p, st.session_state.get(key), steps, scheduler)
    if note is None:
        return
    st.caption(f":material/info: {note}.")
    st.button(
        f"Follow the run ({fmt_number(p.default_for(steps))})",
        key=key + ".follow",
        on_click=follow_run,
        args=(key,),
        help=f"Set {p.name} from the run length again (its default), and keep following it.",
    )


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
    if p.kind in ("int_list", "float_list"):
        return _int_list(p, key, default, help_text)
    if p.kind == "children":
        return _children_json(p, key, default, help_text)
    low, high = p.bounds_for(steps)
    if run_sized(p) and not is_set(key):
        st.session_state[key] = default  # never set by the user: it follows the run
    st.session_state.setdefault(key, default)
    current = st.session_state[key]
    if _is_number(current):  # the box's type is the parameter's (a link may give 1 for 1.0)
        if p.kind == "int" and float(current).is_integer():
            st.session_state[key] = int(current)
        elif p.kind == "float":
            st.session_state[key] = float(current)
    if p.optional:
        return st.number_input(
            label,
            step=1 if p.kind == "int" else None,
            format="%d" if p.kind == "int" else "%g",
            key=key,
            help=help_text + " Leave empty for the library's default.",
            placeholder="library default",
            on_change=mark_set,
            args=(key,),
        )
    # The typed box is the truth (no min/max: a value out of bounds is kept and validation names the
    # allowed range); a slider under it is a helper whose range always holds the current value.
    value = st.number_input(
        label,
        step=1 if p.kind == "int" else None,
        format="%d" if p.kind == "int" else "%g",
        key=key,
        help=help_text,
        on_change=mark_set,
        args=(key,),
    )
    _helper_slider(p, key, value, low, high, default, steps)
    if is_set(key):
        _fit_notice(p, key, steps)
    return value


def _helper_slider(p: ParamSpec, key: str, value: Any, low: Any, high: Any, default: Any, steps: int) -> None:
    """The slider under a typed number. Its own key, synced from the truth on every run: when its range
    changes (Steps changed) it becomes a new widget, and that is harmless as it holds no truth."""
    if not _is_number(value):
        return
    skey = key + ".slider"
    common = {"key": skey, "label_visibility": "collapsed", "on_change": _from_slider, "args": (key,)}
    if p.kind == "int":
        if not (run_sized(p) or callable(p.high)):
            return  # a plain integer (T_mult, a cycle count): the box is enough
        top = int(max(2 * steps, default, (low or 0) + 1))
        if high is not None:
            top = min(top, int(high))  # e.g. T_max at 1M steps: the slider ends where the spec does
        lo, top = int(min(low or 0, value)), int(max(top, value))
        st.session_state[skey] = int(value)
        st.slider(p.name, min_value=lo, max_value=top, step=1, **common)
        return
    if p.log:
        if high == MAX_LR:  # an absolute lr: no upper bound, so the helper spans the usual lrs, as lr_slider's does
            high = max(LR_SLIDER[1], default or 0.0)
        options = log_grid(min(low, value), max(high, value), include=(default, value))
        st.session_state[skey] = float(value)
        st.select_slider(p.name, options=options, format_func=fmt_number, **common)
        return
    if low is not None and high is not None and high - low <= 10:
        lo = float(low) if not p.low_open else float(low) + _step(low, high)
        hi = float(high) if not p.high_open else float(high) - _step(low, high)
        lo, hi = min(lo, float(value)), max(hi, float(value))
        st.session_state[skey] = float(value)
        st.slider(p.name, min_value=lo, max_value=hi, step=_step(low, high), format="%.4g", **common)


def _step(low: float, high: float) -> float:
    span = high - low
    return 0.001 if span <= 2 else 0.01


def _int_list(p: ParamSpec, key: str, default: Any, help_text: str) -> Any:
    """A list of integers typed as ``5, 15`` (or JSON), or of numbers (``float_list``: ``0.1, 0.01``).
    Returns the list, or the raw text when it does not parse so that validation names the parameter
    and shows the value."""
    text_key = key + ".text"
    if run_sized(p) and not is_set(key):  # milestones never typed follow the run
        st.session_state[text_key] = ", ".join(str(v) for v in default)
    st.session_state.setdefault(text_key, ", ".join(str(v) for v in default))
    text = st.text_input(
        p.name, key=text_key, help=help_text + " Comma-separated, e.g. 5, 15.", on_change=mark_set, args=(key,)
    )
    cleaned = text.strip().strip("[]")
    if not cleaned:
        return []
    parsed = parse_value(f"[{cleaned}]")  # deep nesting or junk stays text
    if not isinstance(parsed, list):
        return text
    if p.kind == "float_list":
        return parsed
    return [int(v) if isinstance(v, float) and v.is_integer() else v for v in parsed]


def _children_json(p: ParamSpec, key: str, default: Any, help_text: str) -> Any:
    """Child schedulers as editable JSON (the Compose page has a full editor). Returns the parsed list,
    or the raw text when it is not JSON, so that validation names the parameter."""
    text_key = key + ".text"
    if not is_set(key):  # children never edited are the defaults for this run length: they follow the run
        st.session_state[text_key] = json.dumps(default, indent=1)
    st.session_state.setdefault(text_key, json.dumps(default, indent=1))
    text = st.text_area(
        p.name,
        key=text_key,
        help=help_text + " Edit them one by one on the Compose page.",
        height=180,
        on_change=mark_set,  # edited children are the user's: they stay, and links and copies carry them
        args=(key,),
    )
    return parse_value(text)


def legend_rows(spec: SchedulerSpec, params: dict[str, Any], base_lr: float) -> list[dict[str, str]]:
    """The formula's symbol legend with the current value of each parameter where it has one."""
    symbols = {p.symbol: p.name for p in spec.params if p.symbol}
    lists = {p.name for p in spec.params if p.kind in ("int_list", "float_list")}  # a list is the value itself
    rows = []
    for symbol, meaning in spec.legend:
        name = symbols.get(symbol)
        if name is not None and name == spec.base_lr_param:
            value = base_lr
        else:
            value = params.get(name) if name else (base_lr if symbol in (r"\eta_0", r"\eta_{\text{base}}") else None)
        if isinstance(value, (list, tuple)) and name in lists:
            shown = "[" + ", ".join(fmt_number(v) for v in value) + "]"
        else:
            if isinstance(value, (list, tuple)):  # a per-group value: group 0's, as the widget shows
                value = value[0] if value else None
            shown = fmt_number(value) if value is not None else ""
        rows.append({"symbol": f"${symbol}$", "meaning": meaning, "value": plain(shown)})  # user text, escaped
    return rows


def schedule_inputs(
    spec: SchedulerSpec, key_prefix: str, steps: int, *, optimizer_help: str, interval_help: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """A schedule's parameters, then the optimizer (where the schedule cycles momentum) and how
    ``scheduler.step()`` is called: (values, optimizer, interval). One place for the Playground,
    Translate and My run."""
    from lrlab.simulate import intervals_for
    from lrlab.specs import INTERVALS

    values = render_params(spec, key_prefix, steps)
    optimizer = "sgd"
    if spec.cycles_momentum is not None:
        optimizer = st.radio(
            "Optimizer",
            ["sgd", "adam", "adamw", "adagrad"],
            key=f"{key_prefix}.optimizer",
            format_func=optimizer_label,
            horizontal=True,
            help=optimizer_help,
        )
    current = st.session_state[f"{key_prefix}.interval"]
    interval = st.radio(
        "scheduler.step() is called",
        # the patterns this scheduler takes, and the current one (an error names it if it does not fit)
        [i for i in INTERVALS if i in intervals_for(spec) or i == current],
        key=f"{key_prefix}.interval",
        horizontal=True,
        format_func=interval_label,
        help=interval_help,
    )
    return values, optimizer, interval
