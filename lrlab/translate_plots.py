"""The Translate page's views of a :class:`~lrlab.translating.Translation`: one figure and one table.

:func:`translation_figure` draws the source's real curve and each counterpart's real curve (stepped
in its own library) on one chart, and under it each counterpart's relative difference from the
source, step by step, on a log axis with the tolerance "exact" is held to. :func:`verdict_table` is
the verdict per library with the measured error. Pure functions: no Streamlit here.

The relative difference is the engine's own (:func:`lrlab.translating.engine.relative`: against the
source, floored at 1e-12 of its peak), so the chart shows the number the verdict was decided on.
A difference of exactly 0 has no place on a log axis: it is drawn at :data:`ZERO_DRAWN_AT`, and its
hover says 0.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrlab.plots import HOVER_LABEL, LIBRARY_COLORS, MARGIN, STEP_SHAPE, decimate
from lrlab.specs import LIBRARIES
from lrlab.translating.engine import Counterpart, Translation, relative

#: Where a relative difference of exactly 0 is drawn on the log axis (below float64's epsilon, 2.2e-16).
ZERO_DRAWN_AT = 1e-17
#: Each library's colour, the same on every Translate chart.
COLORS = dict(zip(LIBRARIES, LIBRARY_COLORS, strict=False))
#: Each library's dash, so that exact counterparts drawn over one another stay visible.
DASHES = dict(zip(LIBRARIES, ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot"), strict=False))
SOURCE_COLOR = "#c7c7c7"
#: How each verdict is shown in the table (a sign and the word; signs every font has, unlike emoji).
VERDICT_LABELS = {"exact": "✓ exact", "closest": "≈ closest", "none": "✗ none"}


def short_name(scheduler: str) -> str:
    """``optax:warmup_cosine_decay_schedule`` → ``warmup_cosine_decay_schedule`` (the library is named beside it)."""
    return scheduler.split(":", 1)[-1]


def counterpart_label(counterpart: Counterpart) -> str:
    """A counterpart's legend name: ``optax: warmup_cosine_decay_schedule (exact)``."""
    name = short_name(counterpart.scheduler) if counterpart.scheduler else "no counterpart"
    return f"{counterpart.library}: {name} ({counterpart.verdict})"


def source_label(translation: Translation) -> str:
    from lrlab.schedulers import get_spec

    spec = get_spec(translation.source.scheduler)
    return f"source: {spec.library} {short_name(spec.name)}"


def difference_label(counterpart: Counterpart) -> str:
    return f"{counterpart.library}: relative difference"


def counterpart_curves(translation: Translation) -> dict[str, np.ndarray]:
    """Each counterpart's lr per step, stepped in its real library (those with a config)."""
    from lrlab.simulate import curve

    return {
        c.library: c.lr if c.lr is not None else curve(config=c.config)["lr"].to_numpy(dtype=np.float64)
        for c in drawn(translation)
    }


def drawn(translation: Translation) -> list[Counterpart]:
    """The counterparts that have a curve (a verdict of "none" has no config)."""
    return [c for c in translation.counterparts if c.config is not None]


def _scatter(y: np.ndarray, *, hover_values: np.ndarray | None = None, **kwargs) -> go.Scatter:
    x = np.arange(y.size)
    keep = decimate(x, y)
    shown = hover_values[keep] if hover_values is not None else y[keep]
    kwargs["line"] = {**kwargs.get("line", {}), "shape": STEP_SHAPE}
    return go.Scatter(x=x[keep].astype(np.int32), y=y[keep], customdata=shown, mode="lines", **kwargs)


def translation_figure(
    translation: Translation, curves: Mapping[str, np.ndarray] | None = None, *, height: int = 680
) -> go.Figure:
    """Top: the source's curve and each counterpart's; bottom: each counterpart's relative difference
    from the source (log axis) with the tolerance of "exact" as a dotted line per tolerance.

    ``curves`` maps a library to its counterpart's real lr per step (:func:`counterpart_curves` when
    not given). One trace per drawn counterpart in each panel, plus the source's in the top panel."""
    curves = counterpart_curves(translation) if curves is None else curves
    source = np.asarray(translation.lr, dtype=np.float64)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.56, 0.44],
        vertical_spacing=0.06,
    )
    fig.add_trace(
        _scatter(
            source,
            name=source_label(translation),
            line={"color": SOURCE_COLOR, "width": 7},
            hovertemplate="step %{x}<br>lr %{customdata:.6g}<extra>source</extra>",
        ),
        row=1,
        col=1,
    )
    tolerances: dict[float, list[str]] = {}
    for counterpart in drawn(translation):
        library = counterpart.library
        lr = np.asarray(curves[library], dtype=np.float64)
        n = min(lr.size, source.size)
        style = {"color": COLORS.get(library, "#444444"), "width": 2, "dash": DASHES.get(library, "solid")}
        fig.add_trace(
            _scatter(
                lr,
                name=counterpart_label(counterpart),
                legendgroup=library,
                line=style,
                hovertemplate="step %{x}<br>lr %{customdata:.6g}<extra>" + library + "</extra>",
            ),
            row=1,
            col=1,
        )
        rel = relative(lr[:n], source[:n])
        rel = np.where(np.isfinite(rel), rel, np.nan)
        fig.add_trace(
            _scatter(
                np.where(rel == 0, ZERO_DRAWN_AT, rel),
                hover_values=rel,
                name=difference_label(counterpart),
                legendgroup=library,
                showlegend=False,
                line=style,
                hovertemplate="step %{x}<br>relative difference %{customdata:.3g}<extra>" + library + "</extra>",
            ),
            row=2,
            col=1,
        )
        tolerances.setdefault(float(counterpart.tolerance), []).append(library)
    for i, (tolerance, libraries) in enumerate(sorted(tolerances.items())):
        fig.add_hline(y=tolerance, row=2, col=1, line={"color": "#555555", "dash": "dot", "width": 1})
        fig.add_annotation(  # on a log axis an annotation's y is the exponent (a shape's is the value)
            x=(0.02 + 0.34 * i) % 1,  # side by side: 1e-6 and 2e-6 are a hair apart on a log axis
            xref="x2 domain",
            y=float(np.log10(tolerance)),
            yref="y2",
            text=f"tolerance {tolerance:.0e} ({', '.join(libraries)})",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"size": 11, "color": "#333333"},
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.update_yaxes(title_text="learning rate", exponentformat="e", row=1, col=1)
    fig.update_yaxes(
        title_text=f"relative difference<br>(0 drawn at {ZERO_DRAWN_AT:.0e})",
        type="log",
        exponentformat="e",
        row=2,
        col=1,
    )
    fig.update_xaxes(title_text="optimizer step", row=2, col=1)
    fig.update_layout(
        height=height,
        margin=dict(MARGIN),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
        uirevision="translate",
    )
    return fig


def why(counterpart: Counterpart) -> str:
    """The table's short "why": the reason where there is no exact counterpart, else the momentum note."""
    if counterpart.verdict != "exact":
        return counterpart.reason or ""
    return counterpart.momentum_note or ""


def verdict_table(translation: Translation) -> pd.DataFrame:
    """One row per library: its verdict (with an icon), the counterpart, the errors measured between
    the two real libraries over the whole run, the tolerance of "exact", and why."""
    rows = [
        {
            "library": c.library,
            "verdict": VERDICT_LABELS[c.verdict],
            "counterpart": short_name(c.scheduler) if c.scheduler else "—",
            "max rel. diff": c.max_rel_diff,
            "tolerance": c.tolerance,
            "mean rel. diff": c.mean_rel_diff,
            "why": why(c),
        }
        for c in translation.counterparts
    ]
    columns = ["library", "verdict", "counterpart", "max rel. diff", "tolerance", "mean rel. diff", "why"]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "counterpart_curves",
    "counterpart_label",
    "translation_figure",
    "verdict_table",
]
