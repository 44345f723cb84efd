"""Explain mode on a page (Streamlit): step through a curve with a marker and the formula in numbers.

:func:`toggle` draws the "Explain mode" switch; :func:`view` draws, inside one fragment, the step
(typed exactly, or moved on a slider beside it) and a speed choice, the page's chart with a marker at that
step, and beside it what :func:`lrlab.explain.explain` says: the formula with the step's numbers
substituted, the recursive update torch performs, and what ``scheduler.step()`` just did.

Play runs in the browser: the chart is a Plotly animation (:func:`lrlab.explain.animated`) with one frame
per position of the marker at the chosen speed (at most :data:`lrlab.explain.MAX_FRAMES`), each with the
step's numbers as plain text, and Plotly's own Play / Pause buttons and scrubber. Playing costs the server
nothing: no timer, no rerun per frame (issue 17; the e2e test counts the messages the page sends). The
captions, one :func:`~lrlab.explain.explain` per frame, are computed once per curve and speed (cached);
picking a step reruns the fragment once, which redraws the LaTeX explanation and the values table.
Callbacks and format functions are module-level.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from lrlab.explain import MAX_FRAMES, MarkerFrame, add_marker, animated, explain, frame_grid, step_caption
from lrlab.plots import x_values
from lrlab.simulate import Curve
from lrlab.ui import safety
from lrlab.ui.text import plain

#: Seconds between two animation frames while playing (in the browser).
FRAME_SECONDS = 0.25
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
    """The "Explain mode" switch."""
    on = st.toggle(
        "Explain mode",
        key=_key(prefix, "on"),
        help="Step through the curve: a marker on the chart, the formula with that step's numbers, the recursive "
        "update torch performs, and what scheduler.step() just did. ▶ Play under the chart animates it in your "
        "browser.",
    )
    return bool(on)


def link_values(prefix: str) -> dict[str, int]:
    """``{"explain": step}`` for the page's link while explain mode is on: the chosen step (written on full
    reruns; Play in the chart never changes it: it runs in the browser)."""
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
    """Steps the marker moves per frame at ``speed`` in a run of ``steps`` steps (at least 1), before the
    frame cap (:func:`lrlab.explain.frame_grid` widens it for long runs)."""
    share = _SHARE.get(speed or "", 0.01)
    return 1 if share is None else max(1, round(share * steps))


# ---- callbacks (module-level: session state stays picklable) ---------------------------------------


def slid(prefix: str) -> None:
    """The user moved the step slider: keep its value."""
    st.session_state[_key(prefix, "t")] = int(st.session_state[_key(prefix, "step")])


def typed(prefix: str, last: int) -> None:
    """The user typed a step: go there, or say which steps there are."""
    value = st.session_state.get(_key(prefix, "typed"))
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (isinstance(value, int) or float(value).is_integer())
        and 0 <= value <= last
    ):
        st.session_state[_key(prefix, "t")] = int(value)
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


# ---- the animation: built on the server once per chosen step, played in the browser ---------------------


class PreparedFigure(go.Figure):
    """A figure handed to ``st.plotly_chart`` as plain data: ``to_dict()`` (what Streamlit and plotly.io
    serialise) returns ``spec`` as it is. st.plotly_chart validates a dict figure through plotly.py, which
    costs ≈ 0.25 ms per animation frame (100 ms for 400 frames, on every step chosen); the frames of
    :func:`lrlab.explain.animated` are plain numbers and strings built by lrlab."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self._prepared = spec

    def to_dict(self) -> dict[str, Any]:
        return self._prepared

    def to_plotly_json(self) -> dict[str, Any]:
        return self._prepared


def curve_key(curve: Curve, steps: Sequence[int]) -> str:
    """What the explanations of ``steps`` of ``curve`` depend on, as a cache key: its configuration, how it
    was computed, its length, the steps, and a digest of its lrs at those steps (and of its recorded metrics,
    for a metric-driven scheduler). Cheap for a 1,000,000-step curve: only the explained rows are read."""
    at = np.asarray(steps, dtype=np.int64)
    digest = hashlib.blake2b(at.tobytes(), digest_size=16)
    digest.update(np.ascontiguousarray(curve.frame["lr"].to_numpy()[at], dtype=np.float64).tobytes())
    if curve.events is not None and "metric" in curve.events:
        digest.update(np.ascontiguousarray(curve.events["metric"].to_numpy(dtype=np.float64)).tobytes())
    return f"{curve.config.to_json()}|{curve.source}|{len(curve.frame)}|{digest.hexdigest()}"


@st.cache_data(max_entries=32, show_spinner=False)
def _captions(key: str, label: str | None, _curve: Curve, _steps: tuple[int, ...]) -> tuple[str, ...]:
    """The captions of ``_steps`` (one :func:`~lrlab.explain.explain` each), per curve and steps (``key``,
    from :func:`curve_key`) and label. The curve and the steps are in the key, not hashed again
    (Streamlit's hasher takes ≈ 50 µs per element of a tuple)."""
    return tuple(step_caption(_curve, t, label) for t in _steps)


def captions(curve: Curve, steps: Sequence[int], label: str | None = None) -> tuple[str, ...]:
    """The chart captions of ``steps`` of ``curve``, computed once per curve, steps and label (cached)."""
    steps = tuple(int(t) for t in steps)
    return _captions(curve_key(curve, steps), label, curve, steps)


def _points(
    item: Explained, steps: np.ndarray, x_params: tuple[str, int, int | None]
) -> list[tuple[float, float, str] | None]:
    """The marker point of ``item`` at each of ``steps`` (None past the end of its curve)."""
    frame = item.curve.frame
    inside = steps[steps < len(frame)]
    rows = frame.iloc[inside]
    xs = x_values(rows, *x_params).astype(float)
    ys = rows["lr"].to_numpy(dtype=float)
    points: list[tuple[float, float, str] | None] = [
        (float(x), float(y), item.color) for x, y in zip(xs, ys, strict=True)
    ]
    return points + [None] * (len(steps) - len(inside))


def animation(
    figure: go.Figure,
    items: Sequence[Explained],
    chosen: Explained,
    t: int,
    speed: str | None,
    x_params: tuple[str, int, int | None] = ("step", 1, None),
    *,
    label: str | None = None,
) -> dict[str, Any]:
    """``figure`` as an animation of the marker (:func:`lrlab.explain.animated`): the marker of every item
    at each step of the speed's grid and at ``t`` (where ``t`` is, Play starts), the captions of ``chosen``."""
    steps = max(len(i.curve.frame) for i in items)
    grid = frame_grid(steps, stride(speed, steps))
    at = sorted({*grid, t})
    positions = np.asarray(at, dtype=np.int64)
    points = [_points(item, positions, x_params) for item in items]
    n = len(chosen.curve.frame)
    shown = [s for s in grid if s < n]
    cached = dict(zip(shown, captions(chosen.curve, shown, label), strict=True))
    if t < n and t not in cached:
        cached[t] = step_caption(chosen.curve, t, label)
    frames = [
        MarkerFrame(
            step=s,
            points=tuple(p[k] for p in points if p[k] is not None),
            caption=cached[s] if s in cached else step_caption(chosen.curve, s, label),  # past its end: says so
        )
        for k, s in enumerate(at)
    ]
    return animated(figure, frames, start=t, frame_ms=round(FRAME_SECONDS * 1000))


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
    step (and Play / Pause in the chart, which animate it in the browser), and the explanation of one
    item (a chooser appears when there are several).

    ``on_step(t)`` is called inside the panel with the chosen step after every move (e.g. to redraw the
    page's values table, in a container the page made before calling this)."""
    if not items:
        st.plotly_chart(figure, width="stretch", key=chart_key, config=chart_config)
        return
    add_marker(figure)
    panel = safety.fragment(_panel)  # no timer: choosing a step reruns the panel only, playing reruns nothing
    panel(prefix, figure, tuple(items), chart_key, chart_config, (x_axis, samples_per_step, seq_len), on_step)


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
    ss[_key(prefix, "t")] = t
    if ss.get(_key(prefix, "step")) != t:  # the slider follows a typed step (set before it is drawn; only on a
        ss[_key(prefix, "step")] = t  # change, so that a value being dragged in the browser is not pushed back)
    typed_error = ss.pop(_key(prefix, "typed_error"), None)
    if ss.get(_key(prefix, "typed")) != t and typed_error is None:  # the typed box too (a refused value stays shown)
        ss[_key(prefix, "typed")] = t

    controls = st.columns([1.6, 5, 2.2], vertical_alignment="bottom")
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
        help="The optimizer step to explain (row t of the curve); ▶ Play under the chart starts from it.",
    )
    ss.setdefault(_key(prefix, "speed"), "1 % of the run")
    speed = controls[2].selectbox(
        "Speed (per frame)",
        SPEEDS,
        key=_key(prefix, "speed"),
        help=f"How far ▶ Play moves the marker per frame, a frame every {FRAME_SECONDS} s (at most "
        f"{MAX_FRAMES} frames over the run).",
    )

    if typed_error:
        st.caption(f":material/error: {plain(typed_error)}")

    chosen = items[0]
    label = None
    if len(items) > 1:
        names = unique_names(items)
        if ss.get(_key(prefix, "curve")) not in names:
            ss[_key(prefix, "curve")] = next(iter(names))
        label = st.selectbox("Explain", list(names), key=_key(prefix, "curve"), help="The curve to explain.")
        chosen = names[label]

    spec = animation(figure, items, chosen, t, speed, x_params, label=label)
    st.plotly_chart(PreparedFigure(spec), width="stretch", key=chart_key, config=chart_config)
    every = _frame_stride(spec)
    st.caption(
        f"▶ Play under the chart runs in your browser from step {t}, {every} step{'s' if every != 1 else ''} a "
        f"frame; ❚❚ Pause stops it. The numbers of each frame are written on the chart; for the full formula of "
        "a step, choose it above."
    )
    _explanation(chosen, min(t, len(chosen.curve.frame) - 1))
    if on_step is not None:
        on_step(t)


def _frame_stride(spec: dict[str, Any]) -> int:
    """Steps between two frames of the grid (the speed after the frame cap)."""
    names = [int(f["name"]) for f in spec.get("frames", [])]
    gaps = [b - a for a, b in itertools.pairwise(names) if b > a]
    return max(gaps, default=1)


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
