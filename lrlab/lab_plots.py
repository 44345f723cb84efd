"""Plotly figures of the training lab: the LR finder's loss-vs-lr curve and a comparison's training.

Data comes from :mod:`lrlab.finder` and :mod:`lrlab.training` results; the per-step traces are
decimated like every other chart (:func:`lrlab.plots.decimate`), the applied lr is a step line like
every lr (:data:`lrlab.plots.STEP_SHAPE`), and hover labels are :data:`lrlab.plots.HOVER_LABEL`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrlab.finder import EXPLAIN, FinderResult
from lrlab.plots import HOVER_LABEL, LIBRARY_COLORS, STEP_SHAPE, decimate
from lrlab.training import Run

SUGGESTION_STYLE = {
    "valley": ("#d62728", "circle"),
    "minimum": ("#2ca02c", "diamond"),
    "steep": ("#9467bd", "triangle-down"),
    "slide": ("#ff7f0e", "square"),
}


def finder_figure(result: FinderResult, chosen: str | None = None) -> go.Figure:
    """Loss against lr on a log axis: raw loss (faint), smoothed loss, and the suggestions marked."""
    fig = go.Figure()
    lr = np.asarray(result.lr)
    fig.add_trace(
        go.Scatter(
            x=lr,
            y=result.loss,
            name="loss (raw)",
            mode="lines",
            line={"color": "#9ecae1", "width": 1},
            hovertemplate="lr %{x:.3g}<br>loss %{y:.4g}<extra>raw</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=lr,
            y=result.smoothed,
            name="loss (smoothed, β = 0.98)",
            mode="lines",
            line={"color": "#1f77b4", "width": 2.5},
            hovertemplate="lr %{x:.3g}<br>smoothed loss %{y:.4g}<extra>smoothed</extra>",
        )
    )
    for name, s in result.suggestions.items():
        if s is None:
            continue
        color, symbol = SUGGESTION_STYLE[name]
        size = 16 if name == chosen else 11
        fig.add_trace(
            go.Scatter(
                x=[s.point_lr],
                y=[s.point_loss],
                name=f"{name}: {s.lr:.3g}",
                mode="markers",
                marker={"color": color, "symbol": symbol, "size": size, "line": {"width": 1, "color": "white"}},
                hovertemplate=f"{name}: suggests lr {s.lr:.3g}<br>{EXPLAIN[name]}<extra></extra>",
            )
        )
    if result.fastai is not None:  # fastai's own lr_find on the same model and data, beside lrlab's
        theirs = result.fastai
        fig.add_trace(
            go.Scatter(
                x=np.asarray(theirs.lr),
                y=theirs.loss,
                name="fastai lr_find (smoothed)",
                mode="lines",
                line={"color": "#ff7f0e", "width": 2, "dash": "dot"},
                hovertemplate="lr %{x:.3g}<br>fastai's smoothed loss %{y:.4g}<extra>fastai</extra>",
            )
        )
        their_loss = np.asarray(theirs.loss, dtype=float)
        for name, lr_value in theirs.suggestions.items():
            if not np.isfinite(lr_value) or not len(theirs.lr):
                continue
            color, symbol = SUGGESTION_STYLE[name]
            y = float(np.interp(np.log10(lr_value), np.log10(np.asarray(theirs.lr)), their_loss))
            fig.add_trace(
                go.Scatter(
                    x=[lr_value],
                    y=[y],
                    name=f"fastai {name}: {lr_value:.3g}",
                    mode="markers",
                    marker={"color": color, "symbol": symbol + "-open", "size": 12, "line": {"width": 2}},
                    hovertemplate=f"fastai's {name}: suggests lr {lr_value:.3g}<extra></extra>",
                )
            )
    finite = np.asarray(result.smoothed, dtype=float)
    finite = finite[np.isfinite(finite)]
    layout: dict = {}
    if finite.size:  # the blow-up at the end would flatten everything else
        low, high = float(finite.min()), float(np.quantile(finite, 0.95))
        pad = 0.1 * (high - low or 1.0)
        layout["yaxis_range"] = [low - pad, max(high, float(finite[0])) + pad]
    fig.update_layout(
        xaxis={"type": "log", "title": "learning rate (log scale)"},
        yaxis_title="training loss",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 30, "l": 60, "r": 20, "b": 40},
        height=430,
        hoverlabel=HOVER_LABEL,
        **layout,
    )
    return fig


def training_figure(runs: Sequence[Run], *, log_loss: bool = False) -> go.Figure:
    """Four panels sharing colours: lr applied per step, training loss per step, validation loss and
    accuracy per epoch."""
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=(
            "learning rate applied (read from the optimizer)",
            "training loss (per step)",
            "validation loss (per epoch)",
            "validation accuracy (per epoch)",
        ),
        horizontal_spacing=0.09,
        vertical_spacing=0.16,
    )
    for i, run in enumerate(runs):
        color = LIBRARY_COLORS[i % len(LIBRARY_COLORS)]
        group = f"run{i}"
        if run.lr:
            lr = np.asarray(run.lr)  # the list first, its steps from it: one snapshot of a run in progress
            steps = np.arange(len(lr))
            keep = decimate(steps, lr)
            fig.add_trace(
                go.Scatter(
                    x=steps[keep], y=lr[keep], name=run.label, legendgroup=group, mode="lines",
                    line={"color": color, "shape": STEP_SHAPE},
                    hovertemplate="step %{x}<br>lr %{y:.4g}<extra>%{fullData.name}</extra>",
                ),
                row=1, col=1,
            )  # fmt: skip
        if run.train_loss:
            loss = np.asarray(run.train_loss, dtype=float)
            steps = np.arange(len(loss))
            keep = decimate(steps, loss)
            fig.add_trace(
                go.Scatter(
                    x=steps[keep], y=loss[keep], name=run.label, legendgroup=group, showlegend=False, mode="lines",
                    line={"color": color, "width": 1}, opacity=0.8,
                    hovertemplate="step %{x}<br>loss %{y:.4g}<extra>%{fullData.name}</extra>",
                ),
                row=1, col=2,
            )  # fmt: skip
        if run.val_loss:
            epochs = np.arange(1, len(run.val_loss) + 1)
            fig.add_trace(
                go.Scatter(
                    x=epochs, y=run.val_loss, name=run.label, legendgroup=group, showlegend=False,
                    mode="lines+markers", line={"color": color},
                    hovertemplate="epoch %{x}<br>val loss %{y:.4g}<extra>%{fullData.name}</extra>",
                ),
                row=2, col=1,
            )  # fmt: skip
            fig.add_trace(
                go.Scatter(
                    x=epochs, y=run.val_accuracy, name=run.label, legendgroup=group, showlegend=False,
                    mode="lines+markers", line={"color": color},
                    hovertemplate="epoch %{x}<br>val accuracy %{y:.2%}<extra>%{fullData.name}</extra>",
                ),
                row=2, col=2,
            )  # fmt: skip
    fig.update_xaxes(title_text="optimizer step", row=1, col=1)
    fig.update_xaxes(title_text="optimizer step", row=1, col=2)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=2)
    fig.update_yaxes(tickformat=".0%", row=2, col=2)
    if log_loss:
        fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(
        height=620,
        margin={"t": 40, "l": 60, "r": 20, "b": 40},
        legend={"orientation": "h", "y": -0.1},
        hoverlabel=HOVER_LABEL,
    )
    return fig
