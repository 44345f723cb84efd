"""Routing guard for deep links, and the sidebar's library versions.

Because a ``pages/`` directory sits next to ``app.py``, Streamlit starts every server in its old
(v1) multipage mode: until some session has run ``st.navigation``, a deep link such as ``/plateau``
executes ``pages/plateau.py`` directly, bypassing ``app.py`` (no page config, a raw file list in the
sidebar). The flag that selects the mode is process-wide and flips for good as soon as
``st.navigation`` runs once, so a page that finds itself run in v1 mode flips it and reruns: the
rerun goes through ``app.py`` and lands on the same page.
"""

from __future__ import annotations

import functools
from importlib import metadata

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    """Call first in every page script: reroute a v1-mode run through ``app.py``'s navigation."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


#: The distributions whose version the sidebar names, in the order the pickers show the libraries.
_DISTRIBUTIONS = (
    ("torch", "torch"),
    ("transformers", "transformers"),
    ("timm", "timm"),
    ("keras", "Keras"),
    ("optax", "optax"),
    ("jax", "jax"),
    ("fastai", "fastai"),
)


@functools.lru_cache(maxsize=1)
def library_versions() -> tuple[str, ...]:
    """``torch 2.13.0+cpu``, ``Keras 3.15.1``, …, read from the installed packages' metadata (nothing is
    imported: the libraries load on first use); a library that is not installed says so."""
    out = []
    for dist, label in _DISTRIBUTIONS:
        try:
            out.append(f"{label} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{label} not installed")
    return tuple(out)
