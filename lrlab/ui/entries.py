"""The Compare page's list of curves, kept in session state as plain (picklable, JSON-able) dicts.

An entry is ``{"id", "label", "scheduler", "params", "base_lr", "interval", "hidden"}``; its colour
follows its id, so a curve keeps its colour while others are added or removed. The button callbacks
live here (not in the page script) so that session state stays picklable.
"""

from __future__ import annotations

import copy
from typing import Any

import streamlit as st

from lrlab.schedulers import SCHEDULERS
from lrlab.specs import INTERVALS, LR_RULE, LrlabError, is_lr, parse_value
from lrlab.ui.links import COLOR

KEY = "cmp.entries"
MAX_ENTRIES = 12
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a",
)  # fmt: skip

DEFAULTS: list[dict[str, Any]] = [
    {"label": "HF linear warm-up", "scheduler": "get_linear_schedule_with_warmup", "params": {}},
    {"label": "torch OneCycleLR", "scheduler": "OneCycleLR", "params": {}},
    {"label": "WSD", "scheduler": "get_wsd_schedule", "params": {}},
    {
        "label": "cosine with restarts",
        "scheduler": "get_cosine_with_hard_restarts_schedule_with_warmup",
        "params": {"num_cycles": 3},
    },
]


def color(entry: dict[str, Any]) -> str:
    """The curve's colour: the one chosen for it (or carried by a link), else its id's palette colour."""
    return entry.get("color") or PALETTE[entry["id"] % len(PALETTE)]


def _new(label: str, scheduler: str, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    st.session_state.setdefault("cmp.next_id", 0)
    entry = {
        "id": st.session_state["cmp.next_id"],
        "label": label,
        "scheduler": scheduler,
        "params": params,
        "base_lr": 0.1,
        "interval": "step",
        "hidden": False,
    }
    entry.update(extra)
    st.session_state["cmp.next_id"] += 1
    return entry


def entries() -> list[dict[str, Any]]:
    if KEY not in st.session_state:
        st.session_state[KEY] = [_new(**copy.deepcopy(d)) for d in DEFAULTS]
    return st.session_state[KEY]


def find(entry_id: int) -> dict[str, Any] | None:
    return next((e for e in entries() if e["id"] == entry_id), None)


def add_entry() -> None:
    if len(entries()) < MAX_ENTRIES:
        entry = _new(f"curve {st.session_state.get('cmp.next_id', 0) + 1}", "CosineAnnealingLR", {})
        entries().append(entry)
        st.session_state["cmp.selected"] = entry["id"]


def duplicate_entry(entry_id: int, *, flip_interval: bool = False) -> None:
    """Copy a curve (optionally stepped the other way: per step ↔ per epoch)."""
    source = find(entry_id)
    if source is None or len(entries()) >= MAX_ENTRIES:
        return
    extra = {k: copy.deepcopy(source[k]) for k in ("base_lr", "interval", "hidden")}
    label = f"{source['label']} (copy)"
    if flip_interval:
        extra["interval"] = "epoch" if source["interval"] == "step" else "step"
        label = f"{source['label']} — stepped per {extra['interval']}"
    entry = _new(label, source["scheduler"], copy.deepcopy(source["params"]), **extra)
    entries().append(entry)
    st.session_state["cmp.selected"] = entry["id"]


def remove_entry(entry_id: int) -> None:
    remaining = [e for e in entries() if e["id"] != entry_id]
    if remaining:
        st.session_state[KEY] = remaining
        st.session_state["cmp.selected"] = remaining[0]["id"]


def to_link(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a shared link carries for each curve (no ids: they are re-issued on load, so the colour travels)."""
    return [
        {**{k: e[k] for k in ("label", "scheduler", "params", "base_lr", "interval", "hidden")}, "color": color(e)}
        for e in items
    ]


def from_link(raw: str, ignored: list[str], steps: int = 1000) -> list[dict[str, Any]] | None:
    """Entries from a link's ``curves`` value, each checked; bad ones are dropped and reported."""
    data = parse_value(raw)
    if not isinstance(data, list) or not data:
        ignored.append("curves (not a list of curves)")
        return None
    out = []
    for i, item in enumerate(data[:MAX_ENTRIES]):
        where = f"curves[{i}]"
        if not isinstance(item, dict) or item.get("scheduler") not in SCHEDULERS:
            ignored.append(f"{where} (unknown scheduler)")
            continue
        spec = SCHEDULERS[item["scheduler"]]
        params = item.get("params") if isinstance(item.get("params"), dict) else {}
        kept = {}
        for name, value in params.items():
            param = next((p for p in spec.params if p.name == name and p.name != spec.base_lr_param), None)
            if param is None:
                ignored.append(f"{where}.{name} (not a parameter of {spec.name})")
                continue
            try:
                param.coerce(value, steps)
            except LrlabError as exc:
                ignored.append(f"{where}: {exc}")
                continue
            kept[name] = value
        base_lr = item.get("base_lr", 0.1)
        if not is_lr(base_lr):
            ignored.append(f"{where}.base_lr={base_lr!s:.20} ({LR_RULE})")
            base_lr = 0.1
        interval = item.get("interval") if item.get("interval") in INTERVALS else "step"
        if "interval" in item and item["interval"] not in INTERVALS:
            ignored.append(f"{where}.interval")
        label = str(item.get("label") or spec.name)[:60]
        extra = {}
        if "color" in item:
            if isinstance(item["color"], str) and COLOR.fullmatch(item["color"]):
                extra["color"] = item["color"].lower()
            else:
                ignored.append(f"{where}.color={item['color']!s:.20} (a colour is #rrggbb)")
        out.append(
            _new(
                label,
                spec.name,
                kept,
                base_lr=float(base_lr),
                interval=interval,
                hidden=bool(item.get("hidden", False)),
                **extra,
            )
        )
    if len(data) > MAX_ENTRIES:
        ignored.append(f"curves beyond the first {MAX_ENTRIES}")
    return out or None


def replace_all(loaded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make ``loaded`` (a link's curves) the page's curves, numbered from 0 as on a first visit (a
    link then gives the same widget keys, and added curves the same palette colours); the widget
    values of the curves they replace are forgotten."""
    for key in [k for k in st.session_state if k.split(".")[0] == "cmp" and k.split(".")[1].isdigit()]:
        del st.session_state[key]
    st.session_state.pop("cmp.editing", None)
    for i, entry in enumerate(loaded):
        entry["id"] = i
    st.session_state["cmp.next_id"] = len(loaded)
    st.session_state[KEY] = loaded
    return loaded


def import_entry(config: Any) -> list[str]:
    """Add an imported config as a new curve (the page's run length and units stay as they are)."""
    if len(entries()) >= MAX_ENTRIES:
        raise LrlabError(f"Invalid import: at most {MAX_ENTRIES} curves")
    entry = _new(
        config.scheduler, config.scheduler, config.params_dict, base_lr=config.base_lr, interval=config.interval
    )
    entries().append(entry)
    st.session_state["cmp.selected"] = entry["id"]
    return [
        f"Added {config.scheduler} as a new curve; it uses this page's run length ({config.steps} steps in the file)."
    ]


def add_preset(steps: int) -> None:
    """Widget callback: add the chosen schedule from the literature, sized to the page's run."""
    from lrlab.presets import PRESETS

    key = st.session_state.get("cmp.preset")
    if not key or len(entries()) >= MAX_ENTRIES:
        return
    preset = PRESETS[key]
    config = preset.config(steps)
    entry = _new(preset.title, config.scheduler, config.params_dict, base_lr=config.base_lr)
    entries().append(entry)
    st.session_state["cmp.selected"] = entry["id"]
    st.session_state["cmp.preset"] = ""


def add_one_cycle(max_lr: float) -> None:
    """Add a OneCycleLR curve peaking at ``max_lr`` (what the LR finder sends), if there is room."""
    if len(entries()) >= MAX_ENTRIES:
        return
    entry = _new(f"OneCycleLR, max_lr {max_lr:g} (LR finder)", "OneCycleLR", {"max_lr": max_lr}, base_lr=max_lr)
    entries().append(entry)
    st.session_state["cmp.selected"] = entry["id"]
