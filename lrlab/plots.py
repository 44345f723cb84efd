"""Plotly figures of curves. Pure functions: a :class:`~lrlab.simulate.Curve` in, a figure out.

Charts never carry more points than a screen can show: long curves are decimated with
tsdownsample's MinMax, which keeps the minimum and the maximum of every x bucket (plain striding
would alias a fast cyclic schedule into a false pattern; MinMaxLTTB, tried first, dropped the
extremes of 2 of 2000 buckets of a period-10 CyclicLR over 1M steps). Every point drawn is an exact value of the curve.

Row t's lr is what the whole of optimizer step t uses, so an lr is drawn as a step line
(``line.shape = "hv"``: flat through the step, vertical at the change), on every chart the same way;
a curve that changes at few steps (StepLR, a per-epoch schedule) keeps every change point when decimated,
so its steps are drawn exactly. Hover labels are dark text on white (:data:`HOVER_LABEL`) on every figure.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.subplots import make_subplots
from tsdownsample import MinMaxDownsampler

from lrlab.simulate import Curve

#: Points per trace above which a curve is decimated: the min and max of 1000 buckets, about one
#: bucket per pixel of a wide chart (≈ 43 KB of chart data per trace).
MAX_POINTS = 2000

LIBRARY_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
CLOSED_COLOR = "#111111"
HOVER = "step %{x}<br>epoch %{customdata:.4g}<br>lr %{y:.6g}<extra>%{fullData.name}</extra>"
#: How an lr (or anything held for a whole step) is drawn: flat until the next step, then vertical.
STEP_SHAPE = "hv"
#: Hover labels of every figure: near-black on white with a dark border (contrast ≈ 19:1); Streamlit's
#: chart theme otherwise draws them in its faded grey.
HOVER_LABEL = {"bgcolor": "#ffffff", "bordercolor": "#333333", "font": {"color": "#111111", "size": 13}}
#: Chart margins (px), a little wider than the room Plotly's automargin takes for the usual tick labels,
#: axis titles and the legend above the chart (measured in Chromium: left 74–86, top 46, bottom 65, right
#: 10–17). Plotly still widens a margin that a label needs (``margin.autoexpand`` stays on), but where
#: the margins given already hold everything it doesn't draw the chart a second time: in Chromium an
#: updated chart is drawn in ~40 ms instead of ~65 (bench/bench_browser.py). With margins of 10 px (as
#: before) every update paid for that second drawing.
MARGIN = {"l": 90, "r": 20, "t": 50, "b": 70}
#: ... with a metric's axis on the right (automargin took 49–50 px there)
MARGIN_RIGHT_AXIS = {**MARGIN, "r": 60}


def decimate(x: np.ndarray, y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Indices of the points of (x, y) to draw: all of them up to ``n_out``; beyond, the min and the
    max of each of ``n_out / 2`` equal-width x buckets (so the envelope is exact at any zoom-out), plus
    the first and last points, plus every point where y changes when there are at most ``n_out`` such
    points (so a step line through the kept points equals the curve at every step).

    Non-finite values (a curve that stopped) are dropped first; x must be increasing.
    """
    finite = np.isfinite(y)
    if finite.all():  # the usual case: x and y as they are, no copies of 1M values (~8 ms)
        idx, xs, ys = None, x, y
    else:
        idx = np.flatnonzero(finite)
        if idx.size <= n_out:
            return idx
        xs, ys = x[idx], y[idx]
    n = ys.size
    if n <= n_out:
        return np.arange(n)
    if xs.dtype not in (np.int64, np.float64):
        xs = xs.astype(np.float64)
    picked = np.asarray(
        MinMaxDownsampler().downsample(
            np.ascontiguousarray(xs), np.ascontiguousarray(ys, dtype=np.float64), n_out=n_out
        ),
        dtype=np.int64,
    )
    # the chart spans the whole run: the first and last points are always drawn
    parts = [np.array([0, n - 1]), picked]
    changes = np.flatnonzero(ys[1:] != ys[:-1]) + 1
    if changes.size <= n_out:  # step-shaped (StepLR, per-epoch stepping): keep where each step starts
        parts.append(changes)
    kept = np.unique(np.concatenate(parts))
    return kept if idx is None else idx[kept]


def _trace(
    x: np.ndarray, y: np.ndarray, epoch: np.ndarray, *, keep: np.ndarray | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A step-line scatter trace as plain data (see :func:`figure`), decimated to :data:`MAX_POINTS`
    (``keep``: the indices :func:`decimate` gave for these x and y)."""
    if keep is None:
        keep = decimate(x, y)
    xs = x[keep]
    if np.issubdtype(xs.dtype, np.integer) and xs.size and xs.max() < 2**31:
        xs = xs.astype(np.int32)  # steps: 4 bytes each on the wire
    # y stays float64 (hover shows exact values); epoch is for display only
    line = {**kwargs.pop("line", {}), "shape": STEP_SHAPE}  # the value holds for the whole step
    return {
        "type": "scatter",
        "x": xs,
        "y": y[keep],
        "customdata": epoch[keep].astype(np.float32),
        "mode": "lines",
        "hovertemplate": HOVER,
        "line": line,
        **kwargs,
    }


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A :class:`plotly.graph_objects.Figure` around figure data built as plain dicts, without
    Plotly's property validation.

    Validating a figure walks every property through Plotly's object tree: ~19 ms for the Playground's
    chart, and Streamlit's ``st.plotly_chart`` validates a plain dict again (~12 ms), on every rerun
    of every visitor. The figures here are built from a fixed set of properties, so the check belongs
    in the tests (``tests/test_presentation.py`` validates every figure of this module with Plotly's
    own validators); at run time the figure is wrapped as is (< 1 ms) and keeps the whole
    ``go.Figure`` API (``fig.data[0].y``, ``add_trace``, ``to_dict``).
    """
    return _Figure({"data": data, "layout": layout}, _validate=False)


class _Figure(go.Figure):
    """A ``go.Figure`` whose :meth:`to_dict` is cheaper and gives the same dict. ``st.plotly_chart`` calls
    ``to_dict()`` on every rerun, and Plotly's deep-copies the whole tree and then walks all of it
    for numpy arrays to encode, the 7 KB layout template included: 1.3 ms of the Playground chart's
    2.7 ms. Here only the containers (dicts, lists) are copied, the arrays are shared (read, never
    written: ``convert_to_base64`` replaces them in the copied containers), and the template, which
    holds no arrays, is not walked. ``tests/test_presentation.py`` compares the result with Plotly's."""

    def to_dict(self) -> dict[str, Any]:
        layout = _containers(self._layout)
        rest = {k: v for k, v in layout.items() if k != "template"}  # the template holds no arrays
        result = {"data": _containers(self._data), "layout": rest}
        frames = [_containers(frame._props) for frame in self._frame_objs]
        if frames:
            result["frames"] = frames
        convert_to_base64(result)
        result["layout"] = {k: rest.get(k, v) for k, v in layout.items()}  # in Plotly's order
        return result


def _containers(value: Any) -> Any:
    """``value`` with every dict and list copied (recursively) and every other object shared."""
    if isinstance(value, dict):
        return {k: _containers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_containers(v) for v in value]
    return value


@lru_cache(maxsize=8)
def _grid(rows: int, secondary: bool) -> tuple[str, dict[str, tuple[str, str]]]:
    """The axes layout of :func:`lr_figure`'s subplots, computed once by Plotly's ``make_subplots``:
    (layout as JSON, the (xaxis, yaxis) of each panel: "lr", "metric", "momentum")."""
    grid = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.72, 0.28] if rows == 2 else [1.0],
        vertical_spacing=0.06,
        specs=[[{"secondary_y": secondary}]] + ([[{}]] if rows == 2 else []),
    )
    panels = {"lr": (1, False)}
    if secondary:
        panels["metric"] = (1, True)
    if rows == 2:
        panels["momentum"] = (2, False)
    refs = {}
    for panel, (row, sec) in panels.items():
        grid.add_scatter(x=[0], y=[0], row=row, col=1, secondary_y=sec)
        refs[panel] = (grid.data[-1].xaxis, grid.data[-1].yaxis)
    layout = grid.to_dict()["layout"]
    layout.pop("template", None)
    return json.dumps(layout), refs


def _axis_key(ref: str) -> str:
    """ "y3" → "yaxis3"."""
    return ref[0] + "axis" + ref[1:]


def _vline(layout: dict[str, Any], x: float, color: str, text: str, *, bottom: bool = False) -> None:
    """A dotted vertical line across the lr panel, labelled at its top (or bottom) right."""
    layout.setdefault("shapes", []).append(
        {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
         "line": {"color": color, "dash": "dot"}}
    )  # fmt: skip
    layout.setdefault("annotations", []).append(
        {"text": text, "showarrow": False, "x": x, "xref": "x", "xanchor": "left", "y": 0 if bottom else 1,
         "yref": "y domain", "yanchor": "bottom" if bottom else "top"}
    )  # fmt: skip


def _base_layout(height: int, *, right_axis: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": dict(MARGIN_RIGHT_AXIS if right_axis else MARGIN),
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hovermode": "x unified",
        "hoverlabel": HOVER_LABEL,
        **extra,
    }


EVENT_STYLE = {
    "reduced": ("triangle-down", "#d62728"),
    "increased": ("triangle-up", "#2ca02c"),
    "reduction skipped": ("x", "#ff7f0e"),
}


def _events(curve: Curve, axes: dict[str, str]) -> list[dict[str, Any]]:
    """Markers where a metric-driven scheduler changed (or declined to change) the lr, explained on hover."""
    events = curve.events
    traces = []
    for kind, (symbol, color) in EVENT_STYLE.items():
        rows = events[events["event"] == kind]
        if rows.empty:
            continue
        traces.append(
            {
                "type": "scatter",
                "x": rows["step"].to_numpy(),
                "y": rows["lr_after"].to_numpy(),
                "mode": "markers",
                "name": kind,
                "marker": {"symbol": symbol, "size": 11, "color": color, "line": {"width": 1, "color": "white"}},
                "customdata": np.stack([rows["evaluation"], rows["metric"], rows["explanation"]], axis=-1),
                "hovertemplate": "step %{x}: " + kind + "<br>evaluation %{customdata[0]}, metric %{customdata[1]:.6g}"
                "<br>%{customdata[2]}<br>lr → %{y:.6g}<extra></extra>",
                **axes,
            }
        )
    return traces


X_TITLES = {"step": "optimizer step", "epoch": "epoch", "samples": "samples seen", "tokens": "tokens seen"}


def _kept(curve: Curve, table: str, column: str, x: np.ndarray, x_key: tuple) -> np.ndarray:
    """:func:`decimate` of ``column`` of the curve's ``table`` ("frame" or "closed") over ``x`` (which
    ``x_key`` names), remembered with the curve (:attr:`Curve.memo`). A cached curve is drawn again on
    every rerun of every visitor (Compare redraws its four unchanged curves when one changes), and
    decimating 1M points takes ~16 ms; up to :data:`MAX_POINTS` rows there is nothing to remember."""
    y = getattr(curve, table)[column].to_numpy()
    if len(y) <= MAX_POINTS:
        return decimate(x, y)
    key = ("decimate", table, column, x_key)
    keep = curve.memo.get(key)
    if keep is None:
        keep = curve.memo[key] = decimate(x, y)
    return keep


def x_values(frame, x_axis: str = "step", samples_per_step: int = 1, seq_len: int | None = None) -> np.ndarray:
    """The x coordinate of every row: optimizer steps, epochs, or samples / tokens seen before it."""
    step = frame["step"].to_numpy()
    if x_axis == "epoch":
        return frame["epoch"].to_numpy()
    if x_axis == "samples":
        return step * samples_per_step
    if x_axis == "tokens":
        return step * samples_per_step * (seq_len or 1)
    return step


def lr_figure(
    curve: Curve,
    *,
    log_y: bool = False,
    show_closed: bool = True,
    height: int = 460,
    x_axis: str = "step",
    samples_per_step: int = 1,
    seq_len: int | None = None,
) -> go.Figure:
    """The library curve (solid, one per param group), the closed form over it (dashed), the
    momentum below it where the scheduler cycles it, and the metric where it drives the lr."""
    frame = curve.frame
    x = x_values(frame, x_axis, samples_per_step, seq_len)
    epoch = frame["epoch"].to_numpy()
    momentum = curve.momentum_column
    rows = 2 if momentum else 1
    grid, refs = _grid(rows, curve.spec.needs_metric)
    layout = json.loads(grid)

    def on(panel: str) -> dict[str, str]:
        xref, yref = refs[panel]
        return {"xaxis": xref, "yaxis": yref}

    data = []
    many = len(curve.lr_columns) > 1
    x_key = (x_axis, samples_per_step, seq_len)
    for g, column in enumerate(curve.lr_columns):
        name = f"library · group {g}" if many else "library"
        color = LIBRARY_COLORS[g % len(LIBRARY_COLORS)]
        keep = _kept(curve, "frame", column, x, x_key)
        data.append(
            _trace(
                x, frame[column].to_numpy(), epoch, keep=keep, name=name, line={"color": color, "width": 3}, **on("lr")
            )
        )
        if show_closed and curve.closed is not None:
            data.append(
                _trace(
                    x,
                    curve.closed[column].to_numpy(),
                    epoch,
                    keep=_kept(curve, "closed", column, x, x_key),
                    name=f"closed form · group {g}" if many else "closed form",
                    line={"color": CLOSED_COLOR, "width": 1.5, "dash": "dash"},
                    **on("lr"),
                )
            )
    if curve.spec.needs_metric:
        data.append(
            _trace(
                x, frame["metric"].to_numpy(), epoch, name="metric", line={"color": "#999999", "width": 1},
                opacity=0.8, **on("metric"),
            )
        )  # fmt: skip
        layout[_axis_key(refs["metric"][1])].update(title={"text": "metric"}, showgrid=False)
    if curve.events is not None and len(curve.events):
        data.extend(_events(curve, on("lr")))
    if momentum:
        data.append(
            _trace(
                x, frame[momentum].to_numpy(), epoch, keep=_kept(curve, "frame", momentum, x, x_key), name=momentum,
                line={"color": "#2ca02c", "width": 2}, **on("momentum"),
            )
        )  # fmt: skip
        layout[_axis_key(refs["momentum"][1])]["title"] = {"text": momentum}

    def to_x(step: int, default: float) -> float:  # row t is step t
        return float(x[step]) if 0 <= step < len(x) else default

    if curve.stopped_at is not None:
        _vline(layout, to_x(curve.stopped_at, curve.stopped_at), "#d62728", "library stops")
    if curve.first_diff_step is not None:
        _vline(
            layout, to_x(curve.first_diff_step, curve.first_diff_step), "#ff7f0e", "closed form differs", bottom=True
        )
    layout[_axis_key(refs["lr"][1])].update(
        title={"text": "learning rate"}, type="log" if log_y else "linear", exponentformat="e"
    )
    bottom_x = refs["momentum" if momentum else "lr"][0]
    layout[_axis_key(bottom_x)]["title"] = {"text": X_TITLES.get(x_axis, x_axis)}
    layout.update(
        _base_layout(height, right_axis=curve.spec.needs_metric, uirevision=curve.spec.name)
    )  # uirevision: keep the user's zoom
    return figure(data, layout)


def compare_figure(
    curves: list[tuple[str, str, Curve]],
    *,
    log_y: bool = False,
    height: int = 480,
    x_axis: str = "step",
    samples_per_step: int = 1,
    seq_len: int | None = None,
) -> go.Figure:
    """Several library curves on one chart: ``(label, colour, curve)``; group 0 of each."""
    data = []
    x_key = (x_axis, samples_per_step, seq_len)
    for label, color, curve in curves:
        frame = curve.frame
        x = x_values(frame, x_axis, samples_per_step, seq_len)
        keep = _kept(curve, "frame", "lr", x, x_key)
        data.append(
            _trace(
                x, frame["lr"].to_numpy(), frame["epoch"].to_numpy(), keep=keep, name=label,
                line={"color": color, "width": 2.5},
            )
        )  # fmt: skip
    layout = _base_layout(
        height,
        xaxis={"title": {"text": X_TITLES.get(x_axis, x_axis)}},
        yaxis={"title": {"text": "learning rate"}, "type": "log" if log_y else "linear", "exponentformat": "e"},
        uirevision="compare",
    )
    return figure(data, layout)


def difference_figure(
    a: tuple[str, Curve], b: tuple[str, Curve], *, mode: str = "minus", height: int = 300
) -> go.Figure:
    """Curve A minus (or divided by) curve B, step by step over their common length."""
    (name_a, ca), (name_b, cb) = a, b
    n = min(len(ca.frame), len(cb.frame))
    ya, yb = ca.frame["lr"].to_numpy()[:n], cb.frame["lr"].to_numpy()[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = ya - yb if mode == "minus" else np.where(yb != 0, ya / yb, np.nan)
    y = np.where(np.isfinite(y), y, np.nan)
    x = np.arange(n)
    label = f"{name_a} − {name_b}" if mode == "minus" else f"{name_a} ÷ {name_b}"
    trace = _trace(x, y, x.astype(np.float64), name=label, line={"color": "#444", "width": 2})
    level = 0.0 if mode == "minus" else 1.0
    layout = {
        "height": height,
        "margin": dict(MARGIN),
        "title": {"text": label},
        "showlegend": False,
        "hoverlabel": HOVER_LABEL,
        "xaxis": {"title": {"text": "optimizer step"}},
        "shapes": [
            {"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": level, "y1": level, "yref": "y",
             "line": {"color": "#999", "dash": "dot"}}
        ],
    }  # fmt: skip
    return figure([trace], layout)
