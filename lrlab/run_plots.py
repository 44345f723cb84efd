"""The My run page's figures, and the example logs it offers to a visitor without a log of their own.

:func:`run_figure` sets a logged run beside its plan: the plan's real curve over every step, the
logged lr as markers at the logged rows, and (optionally) each cause's corrected plan at those rows;
under it, the relative difference from the log at each logged row — the plan's, and each corrected
plan's *remaining error* — on a log axis, with the log's precision as a dotted line.
:func:`resume_figure` draws a schedule interrupted at step r and resumed each way beside the
uninterrupted run (:mod:`lrlab.resume`). Pure functions: no Streamlit here.

:data:`EXAMPLES` are logs written the way the tools write them (a ``trainer_state.json``, a
Lightning ``metrics.csv``, a CSV export), each with a known mistake injected, their learning rates
stepped by the real schedulers through lrlab (:func:`example_log`). Nothing is shipped as a file.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrlab.diagnosing import Cause, Diagnosis, relative_diff
from lrlab.plots import HOVER_LABEL, LIBRARY_COLORS, MARGIN, STEP_SHAPE, decimate
from lrlab.specs import LrlabError, ScheduleConfig

#: Where a relative difference of exactly 0 is drawn on the log axis (below float64's epsilon).
ZERO_DRAWN_AT = 1e-17
PLAN_COLOR = "#9e9e9e"
LOG_COLOR = "#111111"
#: Colours of the corrected plans (a cause's colour is the same on both panels).
CAUSE_COLORS = LIBRARY_COLORS[1:]
#: The resume simulator's ways, with how each is named on the chart.
RESUME_LABELS = {
    "load_state_dict": "resumed with load_state_dict (correct)",
    "last_epoch": "rebuilt with last_epoch=r",
    "new_total": "resumed with a new total",
}


def resume_label(how: str) -> str:
    """How the resume simulator names a way of resuming (a widget's format function: module level, so
    that session state stays picklable)."""
    return {
        "load_state_dict": "load_state_dict (correct)",
        "last_epoch": "rebuild with last_epoch=r",
        "new_total": "a new total",
    }.get(how, how)


RESUME_COLORS = {"load_state_dict": "#2ca02c", "last_epoch": "#d62728", "new_total": "#ff7f0e"}
RESUME_DASHES = {"load_state_dict": "dash", "last_epoch": "solid", "new_total": "dot"}


# ---- the log beside its plan ----------------------------------------------------------------------


def cause_label(cause: Cause) -> str:
    """``corrected: accumulation (remaining 0)``: a corrected plan's legend name."""
    remaining = "0" if cause.remaining == 0 else f"{cause.remaining:.2g}"
    return f"corrected: {cause.name} (remaining {remaining})"


def _line(x: np.ndarray, y: np.ndarray, **kwargs: Any) -> go.Scatter:
    keep = decimate(x, y)
    return go.Scatter(x=x[keep].astype(np.int64), y=y[keep], **kwargs)


def _rel_drawn(rel: np.ndarray) -> np.ndarray:
    rel = np.where(np.isfinite(rel), rel, np.nan)
    return np.where(rel == 0, ZERO_DRAWN_AT, rel)


def run_figure(
    plan_lr: np.ndarray | None,
    logged_steps: np.ndarray | None = None,
    logged_lr: np.ndarray | None = None,
    *,
    diagnosis: Diagnosis | None = None,
    causes: Sequence[Cause] = (),
    plan_name: str = "plan",
    height: int = 620,
) -> go.Figure:
    """The plan's curve (every step), the logged lr (markers at the logged rows) and each of ``causes``
    (its corrected plan at the logged rows, dashed); with a ``diagnosis``, a lower panel of the relative
    difference from the log at each logged row: the plan's and each cause's remaining error.

    ``plan_lr``: the plan's real lr per step (None: no plan to draw). Without a log, the plan alone."""
    with_log = logged_steps is not None and logged_lr is not None and len(logged_steps) > 0
    panels = with_log and diagnosis is not None
    if panels:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    else:
        fig = go.Figure()
    top = {"row": 1, "col": 1} if panels else {}
    if plan_lr is not None and len(plan_lr):
        y = np.asarray(plan_lr, dtype=np.float64)
        fig.add_trace(
            _line(
                np.arange(y.size),
                y,
                name=plan_name,
                mode="lines",
                line={"color": PLAN_COLOR, "width": 5, "shape": STEP_SHAPE},
                hovertemplate="step %{x}<br>lr %{y:.6g}<extra>plan</extra>",
            ),
            **top,
        )
    if with_log:
        x = np.asarray(logged_steps, dtype=np.int64)
        y = np.asarray(logged_lr, dtype=np.float64)
        fig.add_trace(
            _line(
                x,
                y,
                name="logged lr",
                mode="lines+markers",
                line={"color": LOG_COLOR, "width": 1},
                marker={"color": LOG_COLOR, "size": 5, "symbol": "circle"},
                hovertemplate="step %{x}<br>logged lr %{y:.6g}<extra>log</extra>",
            ),
            **top,
        )
        for i, cause in enumerate(causes):
            style = {"color": CAUSE_COLORS[i % len(CAUSE_COLORS)], "width": 2, "dash": "dash"}
            fig.add_trace(
                _line(
                    np.asarray(diagnosis.steps if diagnosis is not None else x, dtype=np.int64),
                    np.asarray(cause.corrected_lr, dtype=np.float64),
                    name=cause_label(cause),
                    legendgroup=cause.name,
                    mode="lines",
                    line=style,
                    hovertemplate="step %{x}<br>corrected lr %{y:.6g}<extra>" + cause.name + "</extra>",
                ),
                **top,
            )
    if panels:
        _difference_panel(fig, diagnosis, causes)
        fig.update_yaxes(title_text="learning rate", exponentformat="e", row=1, col=1)
        fig.update_xaxes(title_text="optimizer step (lrlab's row: 0-based update)", row=2, col=1)
    else:
        fig.update_yaxes(title_text="learning rate", exponentformat="e")
        fig.update_xaxes(title_text="optimizer step (lrlab's row: 0-based update)")
    fig.update_layout(
        height=height if panels else int(height * 0.7),
        margin=dict(MARGIN),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
        uirevision="my-run",
    )
    return fig


def _difference_panel(fig: go.Figure, diagnosis: Diagnosis, causes: Sequence[Cause]) -> None:
    x = np.asarray(diagnosis.steps, dtype=np.int64)
    logged = np.asarray(diagnosis.logged_lr, dtype=np.float64)
    rel = relative_diff(diagnosis.plan_lr, logged)
    fig.add_trace(
        _line(
            x,
            _rel_drawn(rel),
            name="plan vs log",
            mode="lines+markers",
            line={"color": PLAN_COLOR, "width": 2},
            marker={"size": 4},
            showlegend=False,
            hovertemplate="step %{x}<br>plan vs log: relative difference %{y:.3g}<extra>plan</extra>",
        ),
        row=2,
        col=1,
    )
    for i, cause in enumerate(causes):
        rel_c = relative_diff(cause.corrected_lr, logged)
        fig.add_trace(
            _line(
                x,
                _rel_drawn(rel_c),
                name=f"{cause.name}: remaining error",
                legendgroup=cause.name,
                showlegend=False,
                mode="lines",
                line={"color": CAUSE_COLORS[i % len(CAUSE_COLORS)], "width": 2, "dash": "dash"},
                hovertemplate="step %{x}<br>remaining relative difference %{y:.3g}<extra>" + cause.name + "</extra>",
            ),
            row=2,
            col=1,
        )
    fig.add_hline(y=diagnosis.precision, row=2, col=1, line={"color": "#555555", "dash": "dot", "width": 1})
    fig.add_annotation(
        x=0.01,
        xref="x2 domain",
        y=float(np.log10(diagnosis.precision)),
        yref="y2",
        text=f"the log's precision {diagnosis.precision:.0e}",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        font={"size": 11, "color": "#333333"},
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_yaxes(
        title_text=f"relative difference<br>from the log (0 at {ZERO_DRAWN_AT:.0e})",
        type="log",
        exponentformat="e",
        row=2,
        col=1,
    )


# ---- identified candidates ----------------------------------------------------------------------


def _short(value: Any) -> str:
    """A parameter value in a table cell: floats to 6 significant digits, lists element by element."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def candidates_table(identification: Any) -> pd.DataFrame:
    """One row per candidate of an :class:`~lrlab.identifying.Identification`, best first: its library,
    schedule, verdict, residuals at the logged rows, parameters and the schedules drawing the same curve."""
    rows = [
        {
            "#": i + 1,
            "library": c.library,
            "schedule": c.scheduler.split(":", 1)[-1],
            "verdict": "✓ exact" if c.exact else "≈ closest",
            "max rel. diff": c.max_rel_diff,
            "mean rel. diff": c.mean_rel_diff,
            "parameters": ", ".join(f"{k}={_short(v)}" for k, v in c.config.params_dict.items()),
            "same curve": ", ".join(e.scheduler for e in c.equivalents),
        }
        for i, c in enumerate(identification.candidates)
    ]
    columns = ["#", "library", "schedule", "verdict", "max rel. diff", "mean rel. diff", "parameters", "same curve"]
    return pd.DataFrame(rows, columns=columns)


# ---- the resume simulator -------------------------------------------------------------------------


def resume_figure(results: Mapping[str, Any], *, chosen: str | None = None, height: int = 460) -> go.Figure:
    """The uninterrupted run and, per way of resuming (``results``: how → :class:`~lrlab.resume.ResumeResult`),
    the interrupted-and-resumed run, with the step where it was interrupted marked. ``chosen`` is drawn
    thicker; a resume the library refused stops where it refused."""
    fig = go.Figure()
    first = next(iter(results.values()), None)
    if first is None:
        return fig
    base = np.asarray(first.uninterrupted, dtype=np.float64)
    fig.add_trace(
        _line(
            np.arange(base.size),
            base,
            name="uninterrupted",
            mode="lines",
            line={"color": PLAN_COLOR, "width": 7, "shape": STEP_SHAPE},
            hovertemplate="step %{x}<br>lr %{y:.6g}<extra>uninterrupted</extra>",
        )
    )
    for how, result in results.items():
        y = np.asarray(result.resumed, dtype=np.float64)
        width = 3.5 if how == chosen else 2
        fig.add_trace(
            _line(
                np.arange(y.size),
                y,
                name=RESUME_LABELS.get(how, how),
                mode="lines",
                line={
                    "color": RESUME_COLORS.get(how, "#444444"),
                    "width": width,
                    "dash": RESUME_DASHES.get(how, "solid"),
                    "shape": STEP_SHAPE,
                },
                opacity=1.0 if chosen in (None, how) else 0.55,
                hovertemplate="step %{x}<br>lr %{y:.6g}<extra>" + how + "</extra>",
            )
        )
    fig.add_vline(x=first.at, line={"color": "#555555", "dash": "dot", "width": 1})
    fig.add_annotation(
        x=first.at,
        y=1,
        yref="paper",
        text=f"interrupted after {first.at} steps",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"size": 11, "color": "#333333"},
        bgcolor="rgba(255,255,255,0.8)",
    )
    fig.update_yaxes(title_text="learning rate", exponentformat="e")
    fig.update_xaxes(title_text="optimizer step")
    fig.update_layout(
        height=height,
        margin=dict(MARGIN),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
        uirevision="my-run-resume",
    )
    return fig


# ---- example logs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A log with a known mistake: the plan the user meant, and how the run went instead."""

    title: str
    story: str  # what happened, in a sentence or two
    file_name: str
    plan: ScheduleConfig
    #: the cause :func:`lrlab.diagnosing.diagnose` must name, and its numbers
    cause: str
    numbers: dict[str, Any] = field(default_factory=dict)


def example_label(key: str) -> str:
    """An example's name on its button (a widget's format function)."""
    return EXAMPLES[key].title if key in EXAMPLES else str(key)


def _plan(name: str, params: dict[str, Any], **run: Any) -> ScheduleConfig:
    return ScheduleConfig.make(name, params, **run)


EXAMPLES: dict[str, Example] = {
    "accumulation": Example(
        title="HF Trainer, gradient accumulation 4",
        story=(
            "A transformers Trainer run planned as 400 steps with 40 warm-up steps — counted in micro-batches — "
            "trained with gradient_accumulation_steps=4: 100 optimizer updates, logged every 5 steps "
            "(logging_steps=5) in its trainer_state.json."
        ),
        file_name="trainer_state.json",
        plan=_plan(
            "get_cosine_schedule_with_warmup",
            {"num_warmup_steps": 40, "num_training_steps": 400},
            steps=400,
            base_lr=5e-5,
            steps_per_epoch=200,
        ),
        cause="accumulation",
        numbers={"k": 4, "direction": "k times per step"},
    ),
    "resume": Example(
        title="Lightning, resumed with last_epoch",
        story=(
            "A CosineAnnealingLR over 300 steps, interrupted after 120 and resumed by rebuilding the scheduler "
            "with last_epoch=120 (pytorch#60265), logged by Lightning's LearningRateMonitor every 5 steps "
            "into metrics.csv."
        ),
        file_name="metrics.csv",
        plan=_plan("CosineAnnealingLR", {"T_max": 300}, steps=300, base_lr=0.1, steps_per_epoch=50),
        cause="resume_last_epoch",
        numbers={"at": 120},
    ),
    "per_epoch": Example(
        title="W&B export, stepped per epoch",
        story=(
            "A CosineAnnealingLR sized in optimizer steps (T_max 1000, 10 epochs of 100 steps) but stepped once "
            "per epoch, exported from W&B as a CSV of the learning rate every 10 steps."
        ),
        file_name="wandb_export.csv",
        plan=_plan("CosineAnnealingLR", {"T_max": 1000}, steps=1000, base_lr=0.1, steps_per_epoch=100),
        cause="per_epoch",
        numbers={"steps_per_epoch": 100},
    ),
}


def _real_lr(config: ScheduleConfig) -> np.ndarray:
    from lrlab.simulate import curve

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return curve(config=config)["lr"].to_numpy(dtype=np.float64)


def example_log(key: str) -> tuple[bytes, str]:
    """The example ``key`` (of :data:`EXAMPLES`) as the file its tool writes: ``(bytes, file name)``.

    Every lr is the real library's: the plan stepped by lrlab (:func:`lrlab.simulate.curve`) and, for
    the resume, the real objects interrupted and rebuilt (:func:`lrlab.resume.simulate_resume`)."""
    if key not in EXAMPLES:
        raise LrlabError(f"Invalid example ({key!r}): one of " + ", ".join(EXAMPLES), field="example")
    example = EXAMPLES[key]
    if key == "accumulation":
        return _trainer_state(_real_lr(example.plan)[::4], logging_steps=5, epochs=2), example.file_name
    if key == "resume":
        from lrlab.resume import simulate_resume

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lrs = simulate_resume(example.plan, 120, "last_epoch").resumed
        return _lightning_metrics(lrs, every=5, steps_per_epoch=50), example.file_name
    from dataclasses import replace

    lrs = _real_lr(replace(example.plan, interval="epoch"))
    return _wandb_export(lrs, every=10), example.file_name


def _loss(t: int) -> float:
    """A plausible training loss (deterministic: the same bytes every time, so a cache keeps them)."""
    return round(2.2 * math.exp(-t / 60) + 0.35 + 0.04 * math.sin(t * 1.7), 4)


def _trainer_state(lrs: np.ndarray, *, logging_steps: int, epochs: int) -> bytes:
    """A ``trainer_state.json`` as transformers' Trainer saves it: the entry at ``"step": s`` holds the
    lr of the s-th update (row s − 1), then the final train summary."""
    updates = len(lrs)
    history: list[dict[str, Any]] = []
    for s in range(logging_steps, updates + 1, logging_steps):
        history.append(
            {
                "epoch": round(epochs * s / updates, 4),
                "grad_norm": round(1.5 * math.exp(-s / 80) + 0.2, 4),
                "learning_rate": float(lrs[s - 1]),
                "loss": _loss(s),
                "step": s,
            }
        )
    history.append(
        {
            "epoch": float(epochs),
            "step": updates,
            "total_flos": 1.2e13,
            "train_loss": 0.61,
            "train_runtime": 48.3,
            "train_samples_per_second": 66.2,
            "train_steps_per_second": 2.07,
        }
    )
    state = {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": float(epochs),
        "eval_steps": 500,
        "global_step": updates,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": history,
        "logging_steps": logging_steps,
        "max_steps": updates,
        "num_input_tokens_seen": 0,
        "num_train_epochs": epochs,
        "save_steps": 500,
        "stateful_callbacks": {},
        "total_flos": 1.2e13,
        "train_batch_size": 8,
        "trial_name": None,
        "trial_params": None,
    }
    return (json.dumps(state, indent=2) + "\n").encode()


def _lightning_metrics(lrs: np.ndarray, *, every: int, steps_per_epoch: int) -> bytes:
    """A Lightning ``CSVLogger`` ``metrics.csv`` with ``LearningRateMonitor``'s ``lr-SGD`` column, logged
    every ``every`` steps (at steps k − 1, 2k − 1, …: row = step), a loss on the same rows."""
    lines = ["epoch,lr-SGD,step,train_loss"]
    for s in range(every - 1, len(lrs), every):
        lines.append(f"{s // steps_per_epoch},{float(lrs[s])!r},{s},{_loss(s)}")
    return ("\n".join(lines) + "\n").encode()


def _wandb_export(lrs: np.ndarray, *, every: int) -> bytes:
    """W&B's CSV export of one run's ``train/lr`` panel (with its MIN/MAX band columns), x axis the
    0-based update index."""
    run = "glowing-sun-12"
    lines = [f'"Step","{run} - train/lr","{run} - train/lr__MIN","{run} - train/lr__MAX"']
    for s in range(0, len(lrs), every):
        v = repr(float(lrs[s]))
        lines.append(f'"{s}","{v}","{v}","{v}"')
    return ("\n".join(lines) + "\n").encode()
