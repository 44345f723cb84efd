"""The last safety net: no traceback reaches a visitor.

app.py runs every page inside :func:`safety_net`. A fragment needs its own: Streamlit's fragment wrapper
catches what the fragment raises and draws the traceback itself before app.py's net can catch anything
(on a fragment rerun app.py does not run at all). :func:`fragment` is ``st.fragment`` with the net inside.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

#: What a visitor sees instead of a traceback.
MESSAGE = (
    "Something went wrong on this page. Your settings are kept: change the last input back, or use "
    '"Reset to defaults". If it happens again, please report the link from "Share this view".'
)


@contextlib.contextmanager
def safety_net(where: str) -> Iterator[None]:
    """Log an exception raised inside and show :data:`MESSAGE` in its place; with ``LRLAB_DEBUG`` set
    (the test suite sets it, so that a crash fails the tests) let it through. Streamlit's reruns and
    ``st.stop()`` are not ``Exception``\\ s: they pass."""
    try:
        yield
    except Exception:
        if os.environ.get("LRLAB_DEBUG"):
            raise
        logging.getLogger("lrlab").exception("%s failed", where)
        st.error(MESSAGE, icon=":material/error:")


def fragment(func: Callable[..., Any]) -> Callable[..., Any]:
    """``st.fragment(func)`` whose runs are inside :func:`safety_net` (the fragment keeps ``func``'s
    module and qualified name, from which Streamlit derives its id)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with safety_net(f"fragment {func.__qualname__}"):
            return func(*args, **kwargs)
        return None

    return st.fragment(guarded)
