"""Picking a schedule from the literature on any page that chooses a schedule."""

from __future__ import annotations

import streamlit as st

from lrlab.presets import PRESETS
from lrlab.schedulers import SCHEDULERS
from lrlab.ui.widgets import seed_params


def preset_label(key: str) -> str:
    return "—" if not key else f"{PRESETS[key].title} ({PRESETS[key].citation.split(' — ')[0]})"


def apply_to_page(prefix: str, steps: int, max_steps: int) -> None:
    """Widget callback: put the chosen preset, sized to the page's run length, into a page's widgets."""
    key = st.session_state.get(f"{prefix}.preset")
    if not key:
        return
    config = PRESETS[key].config(min(steps, max_steps))
    spec = SCHEDULERS[config.scheduler]
    st.session_state[f"{prefix}.scheduler"] = spec.name
    st.session_state[f"{prefix}.base_lr"] = config.base_lr
    st.session_state[f"{prefix}.optimizer"] = config.optimizer
    seed_params(spec, prefix, config.params_dict)
    st.session_state[f"{prefix}.preset_shown"] = key


def citation(prefix: str, scheduler: str) -> None:
    """The citation of the preset in use, while the page still shows it."""
    key = st.session_state.get(f"{prefix}.preset_shown")
    if not key or PRESETS[key].config(10).scheduler != scheduler:
        return
    p = PRESETS[key]
    text = f"**{p.title}** — {p.citation}. [{p.url}]({p.url})  \nAs published: {p.published}"
    if p.note:
        text += f"  \n*lrlab's choice:* {p.note}"
    st.info(text, icon=":material/menu_book:")


def compose_option(key: str) -> str:
    """Label of the Compose page's preset box: its own compositions by name, papers' as "paper:<key>"."""
    if key.startswith("paper:") and key[6:] in PRESETS:
        return f"{PRESETS[key[6:]].title} (paper)"
    return key or "—"
