"""Cached simulation at the edge of the app: the core keeps no state, Streamlit caches its results."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from lrlab.schedulers import get_spec
from lrlab.simulate import Curve, simulate
from lrlab.specs import ScheduleConfig


@st.cache_data(max_entries=128, show_spinner=False)
def _simulate_parts(config_json: str) -> dict[str, Any]:
    curve = simulate(ScheduleConfig.from_dict(json.loads(config_json)))
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
    }


def cached_curve(config: ScheduleConfig) -> Curve:
    """:func:`lrlab.simulate.simulate`, cached per configuration (bounded number of entries)."""
    parts = _simulate_parts(config.to_json())
    return Curve(config=config, spec=get_spec(config.scheduler), **parts)
