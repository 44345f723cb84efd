"""Cached simulation at the edge of the app: the core keeps no state, Streamlit caches its results."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import streamlit as st

from lrlab.metrics import synthetic_loss
from lrlab.schedulers import get_spec
from lrlab.simulate import Curve, fast, has_fast_path, simulate
from lrlab.specs import LrlabError, ScheduleConfig

#: Above this many steps, pages draw the fast path (the proven closed form) and offer to verify it.
FAST_THRESHOLD = 20_000
#: Above this many steps a curve is "large": kept in a smaller cache (memory stays bounded).
LARGE = 100_000
#: The most steps the app steps a scheduler that has no closed form (a metric-driven one, a composition
#: that is not a join): ≈ 3.6 µs a step of pure Python holding the GIL every visitor's rerun needs —
#: 200,000 steps ≈ 1 s; ReduceLROnPlateau over 1M steps took 17 s of CPU (docs/load-report.md).
MAX_STEPPED = 200_000


@st.cache_data(max_entries=128, show_spinner=False)
def _simulate_parts(config_json: str) -> dict[str, Any]:
    return _parts(simulate(ScheduleConfig.from_dict(json.loads(config_json))))


@st.cache_data(max_entries=6, show_spinner="Stepping the real scheduler…")
def _large_parts(config_json: str) -> dict[str, Any]:
    return _parts(simulate(ScheduleConfig.from_dict(json.loads(config_json))))


@st.cache_data(max_entries=12, show_spinner=False)
def _fast_parts(config_json: str) -> dict[str, Any]:
    return _parts(fast(ScheduleConfig.from_dict(json.loads(config_json))))


def _parts(curve: Curve) -> dict[str, Any]:
    # a Curve holds its spec (with functions); cache only plain data and rebuild around it
    return {
        "params": curve.params,
        "frame": curve.frame,
        "closed": curve.closed,
        "notes": curve.notes,
        "stopped_at": curve.stopped_at,
        "max_rel_diff": curve.max_rel_diff,
        "first_diff_step": curve.first_diff_step,
        "lr_columns": curve.lr_columns,
        "events": curve.events,
        "source": curve.source,
    }


def cached_curve(config: ScheduleConfig) -> Curve:
    """The curve a page draws, cached per configuration, with memory bounded by entry counts:
    the stepped library up to :data:`FAST_THRESHOLD` steps, the proven closed form above it
    (where there is one), the stepped library otherwise (a few seconds per million steps)."""
    key = config.to_json()
    if config.steps > FAST_THRESHOLD and has_fast_path(config):
        try:
            return Curve(config=config, spec=get_spec(config.scheduler), **_fast_parts(key))
        except LrlabError:  # no closed form for this configuration (timm's noise): step the library instead
            if config.steps > MAX_STEPPED:
                raise
    if config.steps > MAX_STEPPED:
        raise LrlabError(
            f"Invalid steps ({config.steps:,}): {config.scheduler} has no closed form here, so the app steps the "
            f"real scheduler — up to {MAX_STEPPED:,} steps on this shared server; the package and the CLI take "
            "up to 1,000,000",
            field="steps",
        )
    parts = _large_parts(key) if config.steps > LARGE else _simulate_parts(key)
    return Curve(config=config, spec=get_spec(config.scheduler), **parts)


@st.cache_data(max_entries=64, show_spinner=False)
def synthetic_metric(n: int, **kwargs: Any) -> np.ndarray:
    """:func:`lrlab.metrics.synthetic_loss`, cached."""
    return synthetic_loss(n, **kwargs)


@st.cache_data(max_entries=64, show_spinner=False)
def _metric_parts(config_json: str, metrics: tuple[float, ...], eval_every: int) -> dict[str, Any]:
    curve = simulate(
        ScheduleConfig.from_dict(json.loads(config_json)), metrics=np.asarray(metrics), eval_every=eval_every
    )
    return _parts(curve)


def cached_metric_curve(config: ScheduleConfig, metrics: tuple[float, ...], eval_every: int) -> Curve:
    """A metric-driven run, cached per (configuration, metric values, evaluation interval)."""
    return Curve(config=config, spec=get_spec(config.scheduler), **_metric_parts(config.to_json(), metrics, eval_every))


@st.cache_data(max_entries=64, show_spinner="Stepping the real schedulers…")
def cached_demo(pitfall_id: str, values_json: str) -> Any:
    """A Pitfalls demo (:func:`lrlab.pitfalls.run`) for its settings as JSON."""
    from lrlab.pitfalls import run

    return run(pitfall_id, json.loads(values_json))
