"""Explain mode on a page (Streamlit): step through a curve with a marker and the formula in numbers.

:func:`toggle` draws the "Explain mode" switch; :func:`view` draws, inside one fragment, the step
(typed exactly, or moved on a slider beside it) with Play/Pause and a speed choice, the page's chart with a marker at that step, and beside
it what :func:`lrlab.explain.explain` says: the formula with the step's numbers substituted, the
recursive update torch performs, and what ``scheduler.step()`` just did.

The animation is ``st.fragment(run_every=…)``: while playing only the fragment reruns; it moves the
marker of a figure built once per full run (no re-simulation, no new figure). The timer is
registered by a full run, so Play and Pause rerun the whole page once (Streamlit clears the timers
of a finished full run and registers them again). Callbacks and format functions are module-level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lrlab.explain import add_marker, explain, move_marker
from lrlab.plots import x_values
from lrlab.simulate import Curve
from lrlab.ui.text import plain

#: Seconds between two animation frames while playing.
TICK_SECONDS = 0.5
#: Colour of the marker on a single-curve chart (the Playground).
MARKER_COLOR = "#d62728"
#: Speed choices: share of the run the marker moves per frame ("1 step" moves one step).
SPEEDS = ("1 step", "0.5 % of the run", "1 % of the run", "2 % of the run", "5 % of the run")
_SHARE = {
    "1 step": None,
    "0.5 % of the run": 0.005,
    "1 % of the run": 0.01,
    "2 % of the run": 0.02,
    "5 % of the run": 0.05,
}


@dataclass(frozen=True)
class Explained:
    """One curve of the chart: its label on the page, its marker colour, the curve."""

    label: str
    color: str
    curve: Curve


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.explain.{name}"


def toggle(prefix: str) -> bool:
    """The "Explain mode" switch; turning it off also stops a running animation."""
    on = st.toggle(
        "Explain mode",
        key=_key(prefix, "on"),
        help="Step through the curve: a marker on the chart, the formula with that step's numbers, the recursive "
        "update torch performs, and what scheduler.step() just did. Play animates it.",
    )
    if not on:
        st.session_state[_key(prefix, "playing")] = False
    return bool(on)


def link_values(prefix: str) -> dict[str, int]:
    """``{"explain": step}`` for the page's link while explain mode is on (written on full reruns only,
    so the address bar does not change with every frame of the animation)."""
    if not st.session_state.get(_key(prefix, "on")):
        return {}
    return {"explain": int(st.session_state.get(_key(prefix, "t"), 0))}


def apply_link(prefix: str, query: dict[str, str], steps: int, ignored: list[str]) -> None:
    """Open explain mode at the linked step (``?explain=37``), if it is a step of the run."""
    if "explain" not in query:
        return
    raw = query["explain"]
    if raw.isdigit() and int(raw) < steps:
        st.session_state[_key(prefix, "on")] = True
        st.session_state[_key(prefix, "t")] = st.session_state[_key(prefix, "step")] = int(raw)
    else:
        ignored.append(f"explain={raw!s:.30} (a step from 0 to {steps - 1})")


def stride(speed: str | None, steps: int) -> int:
    """Steps the marker moves per frame at ``speed`` in a run of ``steps`` steps (at least 1)."""
    share = _SHARE.get(speed or "", 0.01)
    return 1 if share is None else max(1, round(share * steps))


# ---- callbacks (module-level: session state stays picklable) ---------------------------------------


def play_pause(prefix: str, last: int) -> None:
    """Play from the current step (from 0 when at the end), or pause; then a full rerun (re)sets the timer."""
    playing = _key(prefix, "playing")
    if st.session_state.get(playing):
        st.session_state[playing] = False
    else:
        if st.session_state.get(_key(prefix, "t"), 0) >= last:
            st.session_state[_key(prefix, "t")] = 0
        st.session_state[playing] = True
    st.rerun()  # in a callback: escalates to a full-app rerun, which registers or clears the timer


def slid(prefix: str) -> None:
    """The user moved the step slider: keep its value; pause a running animation."""
    st.session_state[_key(prefix, "t")] = int(st.session_state[_key(prefix, "step")])
    if st.session_state.get(_key(prefix, "playing")):
        st.session_state[_key(prefix, "playing")] = False
        st.rerun()


def typed(prefix: str, last: int) -> None:
    """The user typed a step: go there (pause a running animation), or say which steps there are."""
    value = st.session_state.get(_key(prefix, "typed"))
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or float(value).is_integer())
        and 0 <= value <= last
    ):
        st.session_state[_key(prefix, "t")] = int(value)
        if st.session_state.get(_key(prefix, "playing")):
            st.session_state[_key(prefix, "playing")] = False
            st.rerun()
        return
    st.session_state[_key(prefix, "typed_error")] = (
        f"Step {value} is not a step of this run: type a whole step from 0 to {last} (the marker stays at step "
        f"{st.session_state.get(_key(prefix, 't'), 0)})."
    )


def unique_names(items: Sequence[Explained]) -> dict[str, Explained]:
    """The chooser's options: each curve's label, numbered where two curves share one."""
    names: dict[str, Explained] = {}
    for item in items:
        name, n = item.label, 1
        while name in names:
            n += 1
            name = f"{item.label} ({n})"
        names[name] = item
    return names


# ---- the view ----------------------------------------------------------------------------------


def view(
    prefix: str,
    figure: go.Figure,
    items: Sequence[Explained],
    *,
    chart_key: str,
    chart_config: dict[str, Any] | None = None,
    x_axis: str = "step",
    samples_per_step: int = 1,
    seq_len: int | None = None,
    on_step: Callable[[int], None] | None = None,
) -> None:
    """Draw the explain panel: controls, ``figure`` with a marker on every item's curve at the chosen
    step, and the explanation of one item (a chooser appears when there are several).

    ``on_step(t)`` is called inside the panel with the explained step after every move (e.g. to
    redraw the page's values table, in a container the page made before calling this)."""
    if not items:
        st.plotly_chart(figure, width="stretch", key=chart_key, config=chart_config)
        return
    playing = bool(st.session_state.get(_key(prefix, "playing")))
    st.session_state[_key(prefix, "timer")] = playing  # what this full run registers
    add_marker(figure)
    frame = st.fragment(_panel, run_every=TICK_SECONDS if playing else None)
    frame(prefix, figure, tuple(items), chart_key, chart_config, (x_axis, samples_per_step, seq_len), on_step)


def _panel(
    prefix: str,
    figure: go.Figure,
    items: tuple[Explained, ...],
    chart_key: str,
    chart_config: dict[str, Any] | None,
    x_params: tuple[str, int, int | None],
    on_step: Callable[[int], None] | None = None,
) -> None:
    ss = st.session_state
    steps = max(len(i.curve.frame) for i in items)
    last = steps - 1
    t = min(max(int(ss.get(_key(prefix, "t"), 0)), 0), last)
    playing = bool(ss.get(_key(prefix, "playing")))
    if playing:
        t = min(t + stride(ss.get(_key(prefix, "speed")), steps), last)
        if t >= last:
            playing = ss[_key(prefix, "playing")] = False
    ss[_key(prefix, "t")] = t
    if ss.get(_key(prefix, "timer")) and not playing:
        ss[_key(prefix, "timer")] = False
        st.rerun()  # the timer was registered by a full run: only a full run clears it
    if ss.get(_key(prefix, "step")) != t:  # the slider follows the animation (set before it is drawn; only on a
        ss[_key(prefix, "step")] = t  # change, so that a value being dragged in the browser is not pushed back)
    typed_error = ss.pop(_key(prefix, "typed_error"), None)
    if ss.get(_key(prefix, "typed")) != t and typed_error is None:  # the typed box too (a refused value stays shown)
        ss[_key(prefix, "typed")] = t

    controls = st.columns([1.6, 5, 1.3, 2.2], vertical_alignment="bottom")
    controls[0].number_input(
        "Explained step",
        step=1,
        key=_key(prefix, "typed"),
        on_change=typed,
        args=(prefix, last),
        help=f"Type the exact step to explain (0 to {last}); the slider beside it moves there too.",
    )
    controls[1].slider(
        "Explained step",
        min_value=0,
        max_value=max(last, 1),
        key=_key(prefix, "step"),
        on_change=slid,
        args=(prefix,),
        label_visibility="collapsed",
        help="The optimizer step to explain (row t of the curve). Moving it pauses the animation.",
    )
    controls[2].button(
        "Pause" if playing else "Play",
        key=_key(prefix, "play"),
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=play_pause,
        args=(prefix, last),
        width="stretch",
    )
    ss.setdefault(_key(prefix, "speed"), "1 % of the run")
    controls[3].selectbox(
        "Speed (per frame)", SPEEDS, key=_key(prefix, "speed"), help=f"A frame every {TICK_SECONDS} s."
    )

    if typed_error:
        st.caption(f":material/error: {plain(typed_error)}")

    chosen = items[0]
    if len(items) > 1:
        names = unique_names(items)
        if ss.get(_key(prefix, "curve")) not in names:
            ss[_key(prefix, "curve")] = next(iter(names))
        chosen = names[st.selectbox("Explain", list(names), key=_key(prefix, "curve"), help="The curve to explain.")]

    x_axis, samples_per_step, seq_len = x_params
    points = []
    for item in items:
        frame = item.curve.frame
        if t < len(frame):
            row = frame.iloc[t : t + 1]
            points.append(
                (float(x_values(row, x_axis, samples_per_step, seq_len)[0]), float(row["lr"].iloc[0]), item.color)
            )
    move_marker(figure, points)
    st.plotly_chart(figure, width="stretch", key=chart_key, config=chart_config)
    _explanation(chosen, min(t, len(chosen.curve.frame) - 1))
    if on_step is not None:
        on_step(t)


def _explanation(item: Explained, t: int) -> None:
    ex = explain(item.curve, t)
    epoch = float(item.curve.frame["epoch"].iloc[t])
    lr = "no lr (the library stopped)" if not math.isfinite(ex.lr) else f"**{ex.lr:.6g}**"
    st.markdown(f"**Step {t}** · epoch {epoch:.4g} · {plain(item.label)}: the library's lr is {lr}")
    st.markdown(ex.sentence)
    st.caption("The formula with this step's numbers")
    st.latex(ex.latex)
    if ex.value is not None and math.isfinite(ex.lr):
        if ex.matches:
            st.caption(f"= the library's lr ({ex.lr:.10g}) ✓")
        else:
            rel = abs(ex.value - ex.lr) / max(abs(ex.lr), 1e-300)
            st.caption(
                f"The library's lr is {ex.lr:.10g} (relative difference {rel:.2g}): torch steps the recursive "
                "update below, whose rounding drifts from the closed form."
            )
    if ex.recursive_latex:
        st.caption("What torch computes at this step: the recursive update from the previous lr")
        st.latex(ex.recursive_latex)
    for note in ex.notes:
        st.caption(note)
