"""Metric streams for the schedulers that react to a metric (ReduceLROnPlateau, GreedyLR).

Three sources: a deterministic synthetic loss (:func:`synthetic_loss`), a CSV export of a logged
metric (:func:`parse_metric_csv`: TensorBoard's ``Wall time,Step,Value``, W&B's ``Step,<run> -
val/loss,…``, or plain ``step,value``), and a pasted list of numbers (:func:`parse_metric_list`).
All input is bounded in size and every problem is reported as :class:`~lrlab.specs.LrlabError`
naming the field. The CSV splitting (:func:`read_csv_table`, :func:`step_column`) is shared with
:mod:`lrlab.logs`, which reads logged learning rates from the same exports.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrlab.specs import MAX_STEPS, LrlabError

#: Largest CSV accepted (bytes) and most values kept from any source.
MAX_CSV_BYTES = 2_000_000
MAX_METRIC_VALUES = 200_000


def synthetic_loss(
    steps: int,
    *,
    start: float = 2.0,
    floor: float = 0.3,
    decay_steps: float | None = None,
    plateaus: Sequence[int] = (),
    plateau_length: int = 0,
    bump_at: int | None = None,
    bump_height: float = 0.0,
    bump_width: float = 10.0,
    noise: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    r"""A loss curve :math:`\ell_t = f + (s-f)\,e^{-\tau(t)/T} + b(t) + \epsilon_t`.

    :math:`T` (``decay_steps``) defaults to a fifth of the run. :math:`\tau(t)` is the time spent
    *outside* plateaus: at each step in ``plateaus`` the decay pauses for ``plateau_length`` steps,
    so the loss stays flat there. :math:`b(t)` is an optional Gaussian bump of ``bump_height`` at
    ``bump_at`` (width ``bump_width``), and :math:`\epsilon_t \sim \mathcal N(0, \text{noise}^2)`
    is drawn from a generator seeded with ``seed``: the same arguments always give the same values.
    """
    if not 1 <= steps <= MAX_STEPS:
        raise LrlabError(f"Invalid steps ({steps}): must be an integer in [1, {MAX_STEPS}]", field="steps")
    tau_scale = max(1.0, steps / 5) if decay_steps is None else float(decay_steps)
    if not tau_scale > 0:
        raise LrlabError(f"Invalid decay_steps ({decay_steps}): must be positive", field="decay_steps")
    t = np.arange(steps, dtype=np.float64)
    paused = np.zeros(steps, dtype=bool)
    for start_step in plateaus:
        paused[int(start_step) : int(start_step) + int(plateau_length)] = True
    elapsed = np.concatenate([[0.0], np.cumsum(~paused[:-1])]) if steps > 1 else np.zeros(1)
    loss = floor + (start - floor) * np.exp(-elapsed / tau_scale)
    if bump_at is not None and bump_height:
        loss = loss + bump_height * np.exp(-0.5 * ((t - bump_at) / max(bump_width, 1e-9)) ** 2)
    rng = np.random.default_rng(seed)
    return loss + noise * rng.standard_normal(steps)


@dataclass(frozen=True)
class MetricSeries:
    """Metric values read from a file or a paste, with the logged step of each (when known)."""

    values: np.ndarray
    steps: np.ndarray | None = None  # the logged step of each value, increasing
    notes: tuple[str, ...] = ()  # what was skipped or assumed while reading

    @property
    def interval(self) -> int | None:
        """The evaluation interval when the logged steps are evenly spaced (e.g. every 100 steps)."""
        if self.steps is None or len(self.steps) < 2:
            return None
        gaps = np.diff(self.steps)
        return int(gaps[0]) if gaps[0] > 0 and np.all(gaps == gaps[0]) else None


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A decimal number (or ``nan`` / ``inf``) written as text, else ``None``: nothing is evaluated."""
    text = text.strip()
    if _NUMBER.match(text):
        return float(text)
    if text.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return float(text)
    return None


def _decode(data: bytes | str, field: str, max_bytes: int = MAX_CSV_BYTES) -> str:
    if isinstance(data, str):
        return data
    if len(data) > max_bytes:
        raise LrlabError(
            f"Invalid {field}: the file has {len(data):,} bytes, at most {max_bytes:,} are allowed", field=field
        )
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # only with its byte-order mark: else binary junk decodes
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig",):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise LrlabError(f"Invalid {field}: the file is not UTF-8 text (is it a CSV export?)", field=field)


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's cells, before any meaning is given to them (shared by :mod:`lrlab.logs`)."""

    header: list[str] | None  # None when the first row is all numbers
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells), blank lines left out


def read_csv_table(
    data: bytes | str, *, field: str = "metric_csv", max_bytes: int = MAX_CSV_BYTES, max_rows: int | None = None
) -> CsvTable:
    """Split a CSV log or export into a header and numbered rows: bounded, sniffed for ``,;\\t``.

    The header is the first non-blank row when any of its cells is not a number. More than
    ``max_rows`` data rows is an error naming ``field``.
    """
    text = _decode(data, field, max_bytes)
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            if any(c.strip() for c in row):
                rows.append((reader.line_num, row))
                if max_rows is not None and len(rows) > max_rows + 1:
                    raise LrlabError(f"Invalid {field}: more than {max_rows:,} rows", field=field)
    except csv.Error as exc:
        raise LrlabError(f"Invalid {field}: not a readable CSV ({exc})", field=field) from None
    if not rows:
        raise LrlabError(f"Invalid {field}: the file is empty", field=field)
    first = rows[0][1]
    if any(parse_number(c) is None for c in first if c.strip()):
        return CsvTable(header=first, rows=rows[1:])
    return CsvTable(header=None, rows=rows)


_STEP_NAMES = ("step", "_step", "steps", "global_step", "iteration", "epoch")


def step_column(header: Sequence[str]) -> int | None:
    """The step column of a header, by name (``Step``, ``global_step``, W&B's ``train/global_step``…)."""
    names = [h.strip().lower() for h in header]
    for wanted in _STEP_NAMES:  # in this order: a Lightning ``epoch,…,step`` file is indexed by step
        found = next((i for i, n in enumerate(names) if n == wanted or n.endswith("/" + wanted)), None)
        if found is not None:
            return found
    return None


def is_time_column(name: str) -> bool:
    """Wall-clock columns of exports (TensorBoard's ``Wall time``, W&B's ``_timestamp``…)."""
    n = name.strip().lower()
    return "wall" in n or n in ("time", "timestamp", "_timestamp", "_runtime")


def _pick_columns(header: list[str]) -> tuple[int | None, int]:
    """(step column or None, value column) from a header row, by name."""
    names = [h.strip().lower() for h in header]
    step = step_column(header)
    skip = {step} | {i for i, h in enumerate(header) if is_time_column(h)}
    value = next((i for i, n in enumerate(names) if n == "value" and i not in skip), None)
    if value is None:
        value = next(
            (i for i, n in enumerate(names) if i not in skip and not n.endswith(("__min", "__max"))),
            None,
        )
    if value is None:
        raise LrlabError("Invalid metric CSV: no value column found in the header " + repr(header), field="metric_csv")
    return step, value


def parse_metric_csv(data: bytes | str, *, field: str = "metric_csv") -> MetricSeries:
    """Read a metric log exported as CSV.

    Accepts a header or none; ``step,value`` or a single column of values; TensorBoard's
    ``Wall time,Step,Value`` and W&B's ``Step,<run> - <metric>,…`` exports. Rows whose value is
    empty, NaN or not a number are skipped (and said so in ``notes``); steps must increase.
    """
    table = read_csv_table(data, field=field)
    if table.header is not None:
        step_col, value_col = _pick_columns(table.header)
    else:
        step_col, value_col = (0, 1) if len(table.rows[0][1]) >= 2 else (None, 0)
    steps: list[float] = []
    values: list[float] = []
    skipped: list[str] = []
    for line, row in table.rows:
        value = parse_number(row[value_col]) if value_col < len(row) else None
        step = parse_number(row[step_col]) if step_col is not None and step_col < len(row) else None
        if (
            value is None
            or not math.isfinite(value)
            or (step_col is not None and (step is None or not math.isfinite(step)))
        ):
            skipped.append(f"line {line}: {','.join(row)[:40]!r}")
            continue
        values.append(value)
        if step_col is not None:
            steps.append(step)
        if len(values) > MAX_METRIC_VALUES:
            raise LrlabError(f"Invalid {field}: more than {MAX_METRIC_VALUES:,} values", field=field)
    if not values:
        raise LrlabError(
            f"Invalid {field}: no numeric values found" + (f" (first bad row {skipped[0]})" if skipped else ""),
            field=field,
        )
    notes = []
    if skipped:
        notes.append(f"Skipped {len(skipped)} row(s) without a finite number, e.g. {skipped[0]}.")
    step_array = None
    if step_col is not None:
        step_array = np.asarray(steps)
        if np.any(np.diff(step_array) <= 0):
            bad = int(np.flatnonzero(np.diff(step_array) <= 0)[0])
            raise LrlabError(
                f"Invalid {field}: steps must increase, but step {steps[bad + 1]:g} follows {steps[bad]:g}", field=field
            )
    return MetricSeries(values=np.asarray(values, dtype=np.float64), steps=step_array, notes=tuple(notes))


def parse_metric_list(text: str, *, field: str = "metric_list") -> MetricSeries:
    """Numbers separated by commas, semicolons, spaces or new lines: ``1.0, 0.9, 0.85``."""
    if not isinstance(text, str):
        raise LrlabError(f"Invalid {field}: expected text with numbers", field=field)
    if len(text) > MAX_CSV_BYTES:
        raise LrlabError(f"Invalid {field}: {len(text):,} characters, at most {MAX_CSV_BYTES:,}", field=field)
    tokens = [tok for tok in re.split(r"[\s,;]+", text.strip().strip("[]")) if tok]
    if not tokens:
        raise LrlabError(f"Invalid {field}: no numbers given", field=field)
    if len(tokens) > MAX_METRIC_VALUES:
        raise LrlabError(f"Invalid {field}: more than {MAX_METRIC_VALUES:,} values", field=field)
    values = []
    for i, token in enumerate(tokens):
        value = parse_number(token)
        if value is None or not math.isfinite(value):
            raise LrlabError(f"Invalid {field}: value {i + 1} ({token[:20]!r}) is not a finite number", field=field)
        values.append(value)
    return MetricSeries(values=np.asarray(values, dtype=np.float64))
