"""The values table on a page (Streamlit): a curve's numbers, exact, as :mod:`lrlab.tables` chooses them."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st

from lrlab import tables
from lrlab.ui.text import plain

#: The heading of the values table on every page that shows one.
TITLE = "Values"


def caption(n: int, cursor: int | None = None, *, explainable: bool = True, source: str = "library") -> str:
    """What the table under it shows: which of the ``n`` steps, and that the numbers are exact."""
    exactly = (
        "every number exactly as the library produced it"
        if source == "library"
        else "every number exactly as the closed form computes it (see the note above)"
    )
    if cursor is not None:
        t = min(max(cursor, 0), n - 1)
        low, high = max(0, t - tables.AROUND), min(n - 1, t + tables.AROUND)
        return f"Steps {low}–{high} around the explained step (▶ {t}), {exactly}."
    if n <= tables.ALL_ROWS_UP_TO:
        return f"All {n} steps, {exactly} (not rounded)."
    text = f"The first {tables.HEAD} and the last {tables.TAIL} of {n:,} steps, {exactly} (not rounded)."
    return text + (" Turn on Explain mode to see the steps around any step." if explainable else "")


def _place(where: Any) -> Any:
    return contextlib.nullcontext() if where is None else where


def show(
    where: Any, frame: pd.DataFrame, cursor: int | None = None, *, explainable: bool = True, source: str = "library"
) -> None:
    """Draw the heading and :func:`lrlab.tables.values_table` of ``frame`` (handed over as an Arrow
    table) into ``where`` (a container; None: where the page is drawing, e.g. inside explain mode's
    panel, which passes the ``cursor``)."""
    with _place(where):
        st.subheader(TITLE)
        st.table(pa.table(tables.values_columns(frame, cursor)), hide_index=True, width="content")
        st.caption(caption(len(frame), cursor, explainable=explainable, source=source))


def show_compare(
    where: Any, curves: Sequence[tuple[str, pd.DataFrame]], cursor: int | None = None, *, explainable: bool = True
) -> None:
    """Draw the heading and :func:`lrlab.tables.compare_table` (one column per curve) into ``where``
    (None: in place); the curves' labels are the visitor's text, and a table's headings are Markdown:
    they are shown literally."""
    n = max((len(frame) for _, frame in curves), default=0)
    columns = tables.compare_columns(curves, cursor)
    with _place(where):
        st.subheader(TITLE)
        st.table(pa.table({plain(c): texts for c, texts in columns.items()}), hide_index=True, width="content")
        st.caption(caption(n, cursor, explainable=explainable))
