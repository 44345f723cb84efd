"""Cached simulation at the edge of the app: the core keeps no state, Streamlit caches its results."""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from cachetools import LRUCache

from lrlab.metrics import synthetic_loss
from lrlab.schedulers import get_spec
from lrlab.simulate import Curve, fast, has_fast_path, simulate
from lrlab.specs import LrlabError, ScheduleConfig

#: Above this many steps, pages draw the fast path (the proven closed form) and offer to verify it.
FAST_THRESHOLD = 20_000
#: Above this many steps a curve is "large": stepping it shows a spinner.
LARGE = 100_000
#: The most steps the app steps a scheduler that has no closed form (a metric-driven one, a composition
#: that is not a join): ≈ 3.6 µs a step of pure Python holding the GIL every visitor's rerun needs —
#: 200,000 steps ≈ 1 s; ReduceLROnPlateau over 1M steps took 17 s of CPU (docs/load-report.md).
MAX_STEPPED = 200_000


#: Bytes of curves the app keeps for all its visitors (least recently used first out past it): a 1,000-step
#: curve counts ~57 KB, a 20,000-step one ~1.1 MB, a 1M-step fast-path curve 32 MB (more with momentum or
#: several param groups). With the st.cache_data budget of .streamlit/config.toml (the other caches) it
#: bounds what caching adds to a server's memory.
CURVE_CACHE_BYTES = 256 * 1024**2
#: ... and at most this many curves: a cached curve is ~85 objects the garbage collector scans on every
#: full collection (holding the GIL), ~0.06 ms per curve here; bytes alone would let 4,600 curves of
#: 1,000 steps in (+270 ms per collection). Each curve counts as at least CURVE_CACHE_BYTES / MAX_CURVES.
MAX_CURVES = 128


class CurveCache:
    """Curves shared by every session of the server, bounded in bytes and in number, least recently
    used out first.

    Why not ``st.cache_data``: it pickles a result when it stores it and unpickles it on every hit, so each
    visitor gets a private copy. A Compare rerun over 5 curves of 1M steps (one changed, four hits) spent
    64% of its time holding the GIL pickling and unpickling frames (py-spy; 301 ms of CPU per input,
    bench/profile_rerun.py).
    ``st.cache_resource`` shares without copying but bounds only the number of entries, and a 1M-step
    curve weighs as much as 600 of 1,000 steps. Here a hit costs a shallow copy: each visitor's Curve holds
    its own DataFrames whose columns are the cached ones until written to (pandas' copy-on-write; the
    arrays a frame hands out are read-only), so no visitor can change another's curve. The bytes are
    counted by ``cachetools.LRUCache``, and so are the curves (``max_curves``: each counts as at least
    ``max_bytes / max_curves``); a lock per key makes concurrent visitors who ask for the same new curve
    compute it once."""

    def __init__(self, max_bytes: int, max_curves: int = MAX_CURVES) -> None:
        floor = max_bytes // max_curves
        self._lru: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=lambda parts: max(_nbytes(parts), floor))
        self._lock = threading.Lock()
        self._computing: dict[tuple[str, str], threading.Lock] = {}

    def get(self, kind: str, config_json: str, compute: Callable[[], Curve]) -> dict[str, Any]:
        """Parts of the curve ``compute`` builds for ``(kind, config_json)``: computed once, then shared."""
        key = (kind, config_json)
        with self._lock:
            parts = self._lru.get(key)
            if parts is not None:
                return _view(parts)
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                parts = self._lru.get(key)
            if parts is None:
                try:
                    parts = _parts(compute())
                except BaseException:
                    with self._lock:
                        self._computing.pop(key, None)
                    raise
                with self._lock:  # kept before the key's lock goes: a visitor arriving now finds the curve
                    with contextlib.suppress(ValueError):  # larger than the whole budget: not kept
                        self._lru[key] = parts
                    self._computing.pop(key, None)
        return _view(parts)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    @property
    def bytes(self) -> int:
        return int(self._lru.currsize)

    def __len__(self) -> int:
        return len(self._lru)


def _nbytes(parts: dict[str, Any]) -> int:
    """What one cached curve holds in memory: its frames' columns and index (event text included)."""
    return 1024 + sum(_frame_bytes(parts[name]) for name in ("frame", "closed", "events") if parts[name] is not None)


def _frame_bytes(frame: pd.DataFrame) -> int:
    """A frame's bytes: rows × (its numeric columns' item sizes + 8 for the index), an upper bound for a
    RangeIndex; ``memory_usage(deep=True)`` where a column holds something else (an event's text), as it
    is ~20× slower."""
    dtypes = list(frame.dtypes)
    if all(isinstance(d, np.dtype) and d.kind in "biuf" for d in dtypes):
        return len(frame) * (8 + sum(d.itemsize for d in dtypes))
    return int(frame.memory_usage(index=True, deep=True).sum())


def _view(parts: dict[str, Any]) -> dict[str, Any]:
    """One visitor's parts of a cached curve: frames copied shallowly (copy-on-write), params deeply."""
    own = dict(parts)
    for name in ("frame", "closed", "events"):
        if own[name] is not None:
            own[name] = own[name].copy(deep=False)
    own["params"] = copy.deepcopy(parts["params"])
    return own


CURVES = CurveCache(CURVE_CACHE_BYTES, MAX_CURVES)


def _simulated(config_json: str) -> Curve:
    return simulate(ScheduleConfig.from_dict(json.loads(config_json)))


def _fast(config_json: str) -> Curve:
    return fast(ScheduleConfig.from_dict(json.loads(config_json)))


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
        "memo": curve.memo,  # shared by every view of the cached curve, as its frames' columns are
    }


def cached_curve(config: ScheduleConfig) -> Curve:
    """The curve a page draws, cached per configuration (:data:`CURVES`, bounded in bytes): the stepped
    library up to :data:`FAST_THRESHOLD` steps, the proven closed form above it (where there is one),
    the stepped library otherwise (a few seconds per million steps)."""
    key = config.to_json()
    spec = get_spec(config.scheduler)
    if config.steps > FAST_THRESHOLD and has_fast_path(config):
        try:
            return Curve(config=config, spec=spec, **CURVES.get("fast", key, partial(_fast, key)))
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
    compute = partial(_simulated, key)
    if config.steps > LARGE:  # seconds: say what is happening (only when it is computed)
        compute = partial(_with_spinner, "Stepping the real scheduler…", compute)
    return Curve(config=config, spec=spec, **CURVES.get("stepped", key, compute))


def _with_spinner(text: str, compute: Callable[[], Curve]) -> Curve:
    with st.spinner(text):
        return compute()


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
