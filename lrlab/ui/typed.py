"""A number typed exactly, with a slider under it as a helper, for inputs that are not scheduler parameters.

Scheduler parameters get this pattern from :mod:`lrlab.ui.widgets` (``lr_slider``, ``render_params``);
:func:`typed_slider` gives it to the other sliders of the app (a lesson's knobs, the explained step,
the hidden units of a model, a group's min_lr): the typed box holds the truth under ``key`` with no
min/max (a value out of range is kept as typed, and the page's validation names the allowed range),
and the slider under it (``key + ".slider"``) only mirrors it. The slider's range always holds the
current value, so a value it can't reach (0.375 on a 0.05 grid, 3 hidden units) is never clamped.

Callbacks are module-level (session state stays picklable).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

SLIDER = ".slider"


def is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _take(key: str, then: Callable[..., None] | None, args: tuple) -> None:
    """Slider callback: the helper moved, so the typed box (the truth) takes its value."""
    if key + SLIDER not in st.session_state:  # another callback of this rerun forgot it (a reset)
        return
    st.session_state[key] = st.session_state[key + SLIDER]
    if then is not None:
        then(*args)


def typed_slider(
    where: Any,
    label: str,
    *,
    key: str,
    low: float | None = None,
    high: float | None = None,
    step: float | None = None,
    options: Sequence[float] | None = None,
    is_int: bool = False,
    help: str | None = None,
    on_change: Callable[..., None] | None = None,
    args: tuple = (),
    slider_label: str | None = None,
    slider_where: Any = None,
    slider_format: str | None = None,
) -> Any:
    """Draw a number input (the truth, under ``key``) and a helper slider under it; return the typed value.

    The helper is a select slider over ``options`` (plus the current value), else a slider from ``low``
    to ``high`` by ``step`` (widened to hold the current value). ``on_change(*args)`` runs after either
    moves. The slider is labelled ``slider_label`` (default: ``label``; its label is hidden), drawn in
    ``slider_where`` (default: ``where``), its numbers shown with ``slider_format`` (e.g. ``"%.2f"``)."""
    current = st.session_state.get(key)
    if is_number(current):  # the box's type is the input's (a link may give 64.0 for 64, 1 for 1.0)
        if is_int and float(current).is_integer():
            st.session_state[key] = int(current)
        elif not is_int:
            st.session_state[key] = float(current)
    value = where.number_input(
        label,
        key=key,
        step=1 if is_int else None,
        format="%d" if is_int else "%g",
        help=help,
        on_change=on_change,
        args=args,
    )
    if not is_number(value):
        return value
    skey = key + SLIDER
    common = {
        "key": skey,
        "label_visibility": "collapsed",
        "on_change": _take,
        "args": (key, on_change, args),
    }
    place = where if slider_where is None else slider_where
    name = slider_label or label
    if options is not None:
        shown = sorted({*options, value})
        st.session_state[skey] = value
        place.select_slider(name, options=shown, format_func=_short, **common)
        return value
    if low is None or high is None:
        return value
    if is_int:
        lo, hi = int(min(low, value)), int(max(high, value))
        st.session_state[skey] = int(value)
        place.slider(name, min_value=lo, max_value=max(hi, lo + 1), step=int(step or 1), **common)
    else:
        lo, hi = float(min(low, value)), float(max(high, value))
        st.session_state[skey] = float(value)
        fmt = {"format": slider_format} if slider_format else {}
        step = float(step or (hi - lo) / 100 or 0.01)
        place.slider(name, min_value=lo, max_value=max(hi, lo + step), step=step, **fmt, **common)
    return value
