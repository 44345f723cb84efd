"""A curve's values as a table a reader can check by eye: which rows to show, each number exact.

The chart shows the shape; this table shows the numbers, the way the reference articles print
them (``20, 20, 20, 20, 20, 10, …``). :func:`row_steps` chooses the rows — all of a short run,
the steps around an explained step, or else the first and the last rows — and
:func:`values_table` writes them out, one column per param group (and the momentum / beta1 or the
metric where the curve has one), every number in full precision: the shortest text that reads back
as the very float the library produced (``repr``), never rounded to a few digits.
:func:`compare_table` does the same for several curves, one column per curve. Pure functions of
a curve's frame; the pages draw the result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

#: A run of at most this many rows is shown whole.
ALL_ROWS_UP_TO = 25
#: Otherwise: the first HEAD and the last TAIL rows ...
HEAD = 10
TAIL = 5
#: ... or, around an explained step, AROUND rows on either side of it.
AROUND = 5
#: The text of the row that stands for the rows left out.
GAP = "⋮"
#: The text of a value the library did not produce (it stopped stepping: a NaN row).
MISSING = "—"
#: The marker of the explained step's row.
CURSOR = "▶"

_EXTRA_COLUMNS = {"momentum": "momentum", "beta1": "beta1 (Adam's momentum)", "metric": "metric"}


def exact(value: Any) -> str:
    """``value`` as the shortest text that reads back as the same float (integers without ``.0``).

    ``0.1 * 0.5**3`` is ``0.0125``, ``100 * 0.95**2`` is ``90.25``, ``cos`` gives every digit
    (``0.08535533905932738``); a NaN (no value: the library stopped) is ``—``.
    """
    if value is None:
        return MISSING
    number = float(value)
    if math.isnan(number):
        return MISSING
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def row_steps(
    n: int,
    cursor: int | None = None,
    *,
    all_up_to: int = ALL_ROWS_UP_TO,
    head: int = HEAD,
    tail: int = TAIL,
    around: int = AROUND,
) -> list[int]:
    """The rows (0-based steps) to show of a curve of ``n`` rows, in order.

    With a ``cursor`` (explain mode's step): the ``around`` steps either side of it, clipped to the
    run. Without one: every row of a run of at most ``all_up_to`` rows, else the first ``head``
    and the last ``tail`` rows.
    """
    if n <= 0:
        return []
    if cursor is not None:
        t = min(max(int(cursor), 0), n - 1)
        return list(range(max(0, t - around), min(n, t + around + 1)))
    if n <= all_up_to:
        return list(range(n))
    return [*range(min(head, n)), *range(max(head, n - tail), n)]


def value_columns(frame: pd.DataFrame) -> dict[str, str]:
    """The frame's value columns and their headings: ``lr`` (or ``lr · group g`` for each param
    group when there are several), then momentum / beta1 and the metric where present."""
    groups = ["lr", *sorted((c for c in frame.columns if c.startswith("lr_") and c[3:].isdigit()), key=_group)]
    if len(groups) == 1:
        columns = {"lr": "lr"}
    else:
        columns = {c: f"lr · group {_group(c)}" for c in groups}
    columns.update({c: label for c, label in _EXTRA_COLUMNS.items() if c in frame.columns})
    return columns


def _group(column: str) -> int:
    return 0 if column == "lr" else int(column[3:])


def _with_gaps(steps: Sequence[int]) -> list[int | None]:
    """``steps`` with a None wherever rows were left out between two shown ones."""
    out: list[int | None] = []
    for i, t in enumerate(steps):
        if i and t != steps[i - 1] + 1:
            out.append(None)
        out.append(t)
    return out


def values_table(frame: pd.DataFrame, cursor: int | None = None, **rows: int) -> pd.DataFrame:
    """The rows :func:`row_steps` chooses of a curve's ``frame``, every value as exact text.

    Columns: ``step``, ``epoch``, then :func:`value_columns`; with a ``cursor``, a first column
    marks its row with ``▶``. Rows left out are one ``⋮`` row. ``rows`` passes on
    :func:`row_steps`' keyword arguments.
    """
    return pd.DataFrame(values_columns(frame, cursor, **rows))


def values_columns(frame: pd.DataFrame, cursor: int | None = None, **rows: int) -> dict[str, list[str]]:
    """:func:`values_table` as ``{heading: texts}`` in column order, without pandas: what a page hands
    to Streamlit as an Arrow table (a pandas frame of text costs ~0.6 ms more per run to build and convert)."""
    columns = value_columns(frame)
    chosen = _with_gaps(row_steps(len(frame), cursor, **rows))
    t_mark = None if cursor is None else min(max(int(cursor), 0), len(frame) - 1)
    out: dict[str, list[str]] = {}
    if cursor is not None:
        out[""] = [CURSOR if t == t_mark else "" for t in chosen]
    # whole columns as arrays, indexed per row (frame.iloc[t] builds a Series per row: ~10x slower)
    step, epoch = frame["step"].to_numpy(), frame["epoch"].to_numpy()
    out["step"] = [GAP if t is None else str(int(step[t])) for t in chosen]
    out["epoch"] = [GAP if t is None else exact(epoch[t]) for t in chosen]
    for c, label in columns.items():
        values = frame[c].to_numpy()
        out[label] = [GAP if t is None else exact(values[t]) for t in chosen]
    return out


def compare_table(curves: Sequence[tuple[str, pd.DataFrame]], cursor: int | None = None, **rows: int) -> pd.DataFrame:
    """Several curves side by side: ``step``, then one column per curve (its group 0 lr) headed
    by its label; the rows as in :func:`values_table`, over the longest curve (``—`` past the end
    of a shorter one). Labels that repeat get `` (2)``, `` (3)``, … so that every column has its own."""
    return pd.DataFrame(compare_columns(curves, cursor, **rows))


def compare_columns(
    curves: Sequence[tuple[str, pd.DataFrame]], cursor: int | None = None, **rows: int
) -> dict[str, list[str]]:
    """:func:`compare_table` as ``{heading: texts}`` in column order, without pandas (see :func:`values_columns`)."""
    n = max((len(frame) for _, frame in curves), default=0)
    chosen = _with_gaps(row_steps(n, cursor, **rows))
    t_mark = None if cursor is None or n == 0 else min(max(int(cursor), 0), n - 1)
    labels: list[str] = []
    for label, _ in curves:
        name, k = label, 1
        while name in labels or name in ("", "step"):
            k += 1
            name = f"{label} ({k})"
        labels.append(name)
    out: dict[str, list[str]] = {}
    if cursor is not None:
        out[""] = [CURSOR if t == t_mark else "" for t in chosen]
    out["step"] = [GAP if t is None else str(t) for t in chosen]
    for name, (_, frame) in zip(labels, curves, strict=True):
        lr = frame["lr"].to_numpy()
        out[name] = [GAP if t is None else exact(lr[t]) if t < len(lr) else MISSING for t in chosen]
    return out


__all__ = [
    "ALL_ROWS_UP_TO",
    "AROUND",
    "CURSOR",
    "GAP",
    "HEAD",
    "MISSING",
    "TAIL",
    "compare_columns",
    "compare_table",
    "exact",
    "row_steps",
    "value_columns",
    "values_columns",
    "values_table",
]
