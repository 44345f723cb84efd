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

import numpy as np
import plotly.graph_objects as go
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


def decimate(x: np.ndarray, y: np.ndarray, n_out: int = MAX_POINTS) -> np.ndarray:
    """Indices of the points of (x, y) to draw: all of them up to ``n_out``; beyond, the min and the
    max of each of ``n_out / 2`` equal-width x buckets (so the envelope is exact at any zoom-out), plus
    the first and last points, plus every point where y changes when there are at most ``n_out`` such
    points (so a step line through the kept points equals the curve at every step).

    Non-finite values (a curve that stopped) are dropped first; x must be increasing.
    """
    idx = np.flatnonzero(np.isfinite(y))
    if idx.size <= n_out:
        return idx
    picked = MinMaxDownsampler().downsample(
        np.ascontiguousarray(x[idx], dtype=np.float64), np.ascontiguousarray(y[idx], dtype=np.float64), n_out=n_out
    )
    kept = idx[np.asarray(picked, dtype=np.int64)]
    # the chart spans the whole run: the first and last points are always drawn
    parts = [[idx[0]], kept, [idx[-1]]]
    finite = y[idx]
    changes = idx[1:][finite[1:] != finite[:-1]]
    if changes.size <= n_out:  # step-shaped (StepLR, per-epoch stepping): keep where each step starts
        parts.append(changes)
    return np.unique(np.concatenate(parts))


def _trace(x: np.ndarray, y: np.ndarray, epoch: np.ndarray, **kwargs) -> go.Scatter:
    keep = decimate(x, y)
    xs = x[keep]
    if np.issubdtype(xs.dtype, np.integer) and xs.size and xs.max() < 2**31:
        xs = xs.astype(np.int32)  # steps: 4 bytes each on the wire
    # y stays float64 (hover shows exact values); epoch is for display only
    kwargs["line"] = {**kwargs.get("line", {}), "shape": STEP_SHAPE}  # the value holds for the whole step
    return go.Scatter(
        x=xs, y=y[keep], customdata=epoch[keep].astype(np.float32), mode="lines", hovertemplate=HOVER, **kwargs
    )


EVENT_STYLE = {
    "reduced": ("triangle-down", "#d62728"),
    "increased": ("triangle-up", "#2ca02c"),
    "reduction skipped": ("x", "#ff7f0e"),
}


def _add_events(fig: go.Figure, curve: Curve) -> None:
    """Markers where a metric-driven scheduler changed (or declined to change) the lr, explained on hover."""
    events = curve.events
    for kind, (symbol, color) in EVENT_STYLE.items():
        rows = events[events["event"] == kind]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["step"],
                y=rows["lr_after"],
                mode="markers",
                name=kind,
                marker={"symbol": symbol, "size": 11, "color": color, "line": {"width": 1, "color": "white"}},
                customdata=np.stack([rows["evaluation"], rows["metric"], rows["explanation"]], axis=-1),
                hovertemplate="step %{x}: " + kind + "<br>evaluation %{customdata[0]}, metric %{customdata[1]:.6g}"
                "<br>%{customdata[2]}<br>lr → %{y:.6g}<extra></extra>",
            ),
            row=1,
            col=1,
        )


X_TITLES = {"step": "optimizer step", "epoch": "epoch", "samples": "samples seen", "tokens": "tokens seen"}


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
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.72, 0.28] if rows == 2 else [1.0],
        vertical_spacing=0.06,
        specs=[[{"secondary_y": curve.spec.needs_metric}]] + ([[{}]] if rows == 2 else []),
    )
    many = len(curve.lr_columns) > 1
    for g, column in enumerate(curve.lr_columns):
        name = f"library · group {g}" if many else "library"
        color = LIBRARY_COLORS[g % len(LIBRARY_COLORS)]
        fig.add_trace(
            _trace(x, frame[column].to_numpy(), epoch, name=name, line={"color": color, "width": 3}),
            row=1,
            col=1,
        )
        if show_closed and curve.closed is not None:
            fig.add_trace(
                _trace(
                    x,
                    curve.closed[column].to_numpy(),
                    epoch,
                    name=f"closed form · group {g}" if many else "closed form",
                    line={"color": CLOSED_COLOR, "width": 1.5, "dash": "dash"},
                ),
                row=1,
                col=1,
            )
    if curve.spec.needs_metric:
        fig.add_trace(
            _trace(
                x, frame["metric"].to_numpy(), epoch, name="metric", line={"color": "#999999", "width": 1}, opacity=0.8
            ),
            row=1,
            col=1,
            secondary_y=True,
        )
        fig.update_yaxes(title_text="metric", secondary_y=True, row=1, col=1, showgrid=False)
    if curve.events is not None and len(curve.events):
        _add_events(fig, curve)
    if momentum:
        fig.add_trace(
            _trace(x, frame[momentum].to_numpy(), epoch, name=momentum, line={"color": "#2ca02c", "width": 2}),
            row=2,
            col=1,
        )
        fig.update_yaxes(title_text=momentum, row=2, col=1)

    def to_x(step: int, default: float) -> float:  # row t is step t
        return float(x[step]) if 0 <= step < len(x) else default

    if curve.stopped_at is not None:
        fig.add_vline(
            x=to_x(curve.stopped_at, curve.stopped_at),
            line={"color": "#d62728", "dash": "dot"},
            annotation_text="library stops",
            row=1,
            col=1,
        )
    if curve.first_diff_step is not None:
        fig.add_vline(
            x=to_x(curve.first_diff_step, curve.first_diff_step),
            line={"color": "#ff7f0e", "dash": "dot"},
            annotation_text="closed form differs",
            annotation_position="bottom right",
            row=1,
            col=1,
        )
    fig.update_yaxes(
        title_text="learning rate",
        type="log" if log_y else "linear",
        exponentformat="e",
        row=1,
        col=1,
        secondary_y=False,
    )
    fig.update_xaxes(title_text=X_TITLES.get(x_axis, x_axis), row=rows, col=1)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
        uirevision=curve.spec.name,  # keep the user's zoom while sliders move
    )
    return fig


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
    fig = go.Figure()
    for label, color, curve in curves:
        frame = curve.frame
        x = x_values(frame, x_axis, samples_per_step, seq_len)
        fig.add_trace(
            _trace(
                x, frame["lr"].to_numpy(), frame["epoch"].to_numpy(), name=label, line={"color": color, "width": 2.5}
            )
        )
    fig.update_yaxes(title_text="learning rate", type="log" if log_y else "linear", exponentformat="e")
    fig.update_xaxes(title_text=X_TITLES.get(x_axis, x_axis))
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
        uirevision="compare",
    )
    return fig


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
    fig = go.Figure(_trace(x, y, x.astype(np.float64), name=label, line={"color": "#444", "width": 2}))
    fig.add_hline(y=0.0 if mode == "minus" else 1.0, line={"color": "#999", "dash": "dot"})
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=label,
        showlegend=False,
        hoverlabel=HOVER_LABEL,
    )
    fig.update_xaxes(title_text="optimizer step")
    return fig
