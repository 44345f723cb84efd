"""Logged learning rates, as the tools write them: read into one frame in lrlab's row convention.

:class:`LoggedRun` is what every reader returns and what diagnosis (:mod:`lrlab.diagnosing`),
identification (:mod:`lrlab.identifying`) and the My run page consume:

- ``frame``: a DataFrame with an int ``step`` column — lrlab's row, **the 0-based index of the
  optimizer update that used this lr** (a tool's own step number converted by its reader, with the
  convention checked by running the tool) — and one ``lr`` column per param group (``lr``, ``lr_1``,
  …), plus ``momentum`` / ``beta1`` where logged. Rows are sorted by step, one per logged step; steps
  not logged are absent (a run logged every k steps has every k-th row).
- ``read``: what was read, in plain sentences (format, tag or column names, rows);
- ``skipped``: what was skipped and why (NaN rows, non-lr tags, duplicated steps of a restart…);
- ``restarts``: the rows where the tool's step counter went back (a resumed run), in the frame's order
  of the file before sorting.

Nothing in a file is executed; sizes are bounded (:data:`MAX_LOG_BYTES`, :data:`MAX_LOG_ROWS`).

:func:`read` tells four formats apart by their content (and the file name, when given):

- Hugging Face Trainer's ``trainer_state.json`` (``log_history``), parsed with :mod:`json`;
- Lightning's ``CSVLogger`` ``metrics.csv`` with ``LearningRateMonitor`` columns;
- TensorBoard event files (``events.out.tfevents.*``), read by TensorBoard's own event accumulator
  (imported only then);
- W&B and TensorBoard CSV exports, split by the same reader as the Plateau page's metric files
  (:func:`lrlab.metrics.read_csv_table`).

Each tool's step numbering, checked by running the tool (``tests/test_logs.py`` does it on every
run): **count** — the entry at step ``s`` holds the lr of the s-th update, row ``s − 1``
(transformers' Trainer, in ``trainer_state.json`` and under its TensorBoard/W&B names); **index** —
step ``s`` is already row ``s`` (Lightning's ``LearningRateMonitor``, which logs before the batch's
update with the number of updates done so far; a ``SummaryWriter`` fed the update's 0-based index).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lrlab.metrics import is_time_column, parse_number, read_csv_table, step_column
from lrlab.specs import LrlabError

MAX_LOG_BYTES = 50_000_000
MAX_LOG_ROWS = 1_000_000

Convention = Literal["auto", "index", "count"]
_FLOAT64_EPS = float(np.finfo(np.float64).eps)
_FLOAT32_EPS = float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class LoggedRun:
    """A logged run's learning rates (see the module docstring)."""

    frame: pd.DataFrame
    source: str  # "trainer_state.json", "lightning metrics.csv", "tensorboard events", "csv export"
    read: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    restarts: tuple[int, ...] = ()
    lr_columns: tuple[str, ...] = field(default=("lr",))
    #: (frame column, the tag or column it came from in the file), in frame order
    names: tuple[tuple[str, str], ...] = ()
    #: "count" (tool step s = the s-th update, row s − 1) or "index" (tool step s = row s)
    step_convention: str = "index"
    #: relative precision of the logged values: float32's epsilon for TensorBoard, float64's otherwise
    precision: float = _FLOAT64_EPS
    #: run facts the file states (trainer_state.json: max_steps, logging_steps, …)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> np.ndarray:
        return self.frame["step"].to_numpy(dtype=np.int64)

    @property
    def lr(self) -> np.ndarray:
        return self.frame["lr"].to_numpy(dtype=np.float64)

    @property
    def momentum_column(self) -> str | None:
        for name in ("momentum", "beta1"):
            if name in self.frame.columns:
                return name
        return None


# ---- entry point --------------------------------------------------------------------------------


def read(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview | Any,
    *,
    name: str | None = None,
    convention: Convention = "auto",
) -> LoggedRun:
    """Read a logged run's learning rates from a file the training tools write.

    ``path_or_bytes``: a path (a file, or a folder holding exactly one ``trainer_state.json``,
    ``metrics.csv`` or event file: a checkpoint or a ``lightning_logs/version_0`` folder), the
    file's bytes, or an open binary file (a Streamlit upload). ``name`` is the file's name when
    bytes are given (it helps to tell the format and names the file in messages).

    **trainer_state.json** (Hugging Face ``Trainer``): the ``log_history`` entries holding
    ``learning_rate``; the others (evaluation entries, the final train summary) are skipped and
    counted. The entry at ``"step": s`` holds the lr of the s-th optimizer update: **row s − 1**.
    Checked with transformers 5.23 by running a real ``Trainer`` (a linear model, ``max_steps=20``,
    ``lr_scheduler_type="linear"``, ``warmup_steps=3``, ``learning_rate=0.1``, ``logging_steps=1``):
    step 1 logs 0.0, step 4 logs 0.1 and step 20 logs 0.1/17 = 0.005882…, which are rows 0, 3 and 19
    of ``lrlab.curve("linear", steps=20, base_lr=0.1, num_warmup_steps=3)``; with
    ``logging_steps=k`` the entries are at steps k, 2k, … (rows k − 1, 2k − 1, …).

    **metrics.csv** (Lightning ``CSVLogger`` + ``LearningRateMonitor``): columns ``lr-<Optimizer>``
    (one param group), ``lr-<Optimizer>/pg1``, ``/pg2`` … (several), ``…-momentum`` (with
    ``log_momentum=True``: ``beta1`` for Adam-like optimizers), and ``step``. The monitor logs before
    the batch's update with ``step`` = the updates done so far: **row = step**. Checked with
    lightning 2.6 (OneCycleLR over 20 updates, two SGD groups: step 0 logs 0.004 and momentum 0.95,
    step 5 the peak 0.1 and momentum 0.85 — rows 0 and 5 of ``lrlab.curve("OneCycleLR", …)``);
    ``logging_interval="epoch"`` logs at the first update of each epoch (steps 0, 10, 20 with ten
    batches an epoch), ``log_every_n_steps=k`` at steps k − 1, 2k − 1, … . Rows holding only other
    metrics (``train_loss``) are skipped and counted.

    **TensorBoard event files**: every scalar tag that names a learning rate (``lr``,
    ``learning_rate``, ``train/lr``, ``lr-SGD``, ``lr-AdamW/pg1``, ``lr/pg1``…; momentum tags
    beside them), read with ``tensorboard``'s ``plugin_event_accumulator`` with orphaned data kept,
    so that a restart is seen and reported. The values are **float32** (``precision`` says so: about
    7 significant digits). Steps are the ``global_step`` the writer was given, taken as rows, except
    for transformers' ``TensorBoardCallback`` (tags ``train/learning_rate`` and ``train/epoch``),
    which writes the trainer's step count: row = step − 1.

    **CSV exports**: TensorBoard's ``Wall time,Step,Value`` (float32 values), W&B's
    ``Step,<run> - train/learning_rate,…__MIN,…__MAX`` (the first run; the MIN/MAX bands are
    skipped) and plain ``step,lr``. ``Step`` is taken as the row; a ``train/global_step`` column
    (transformers' step count, what W&B shows for a Trainer run) gives row = step − 1. W&B's own
    ``Step`` counts ``wandb.log`` calls: for a Trainer run, export with ``train/global_step`` as the
    x axis.

    ``convention`` overrides the step numbering: ``"index"`` (step s is row s) or ``"count"``
    (step s is the s-th update, row s − 1).

    Several param groups become ``lr``, ``lr_1``, … (``names`` says which tag each came from); NaN
    values are skipped and counted; a step counter that goes back (a resumed run) is reported in
    ``restarts`` (the row it went back to) and the last value logged for each step is kept; the
    logging interval (every step, every k steps, gaps) is said in ``read``.
    """
    if convention not in ("auto", "index", "count"):
        raise LrlabError(f"Invalid convention ({convention!r}): must be 'auto', 'index' or 'count'", field="convention")
    data, name = _load(path_or_bytes, name)
    kind = _detect(data, name)
    if kind == "tensorboard":
        return _read_tensorboard(data, name, convention)
    if kind == "trainer_state":
        return _read_trainer_state(data, name, convention)
    return _read_csv(data, name, convention)


# ---- loading and telling the formats apart ------------------------------------------------------


def _too_big(size: int, what: str) -> LrlabError:
    return LrlabError(f"Invalid log: {what} has {size:,} bytes, at most {MAX_LOG_BYTES:,} are allowed", field="log")


def _pick_in_folder(folder: Path) -> Path:
    found = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and (p.name in ("trainer_state.json", "metrics.csv") or p.name.startswith("events.out.tfevents"))
    ]
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise LrlabError(
            f"Invalid log folder {str(folder)!r}: expected exactly one trainer_state.json, metrics.csv or "
            f"events.out.tfevents.* file in it, found {listed}",
            field="log",
        )
    return found[0]


def _load(source: Any, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > MAX_LOG_BYTES:
            raise _too_big(len(data), "the file")
        return data, name or ""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            path = _pick_in_folder(path)
        try:
            size = path.stat().st_size
            if size > MAX_LOG_BYTES:
                raise _too_big(size, repr(path.name))
            with path.open("rb") as handle:
                data = handle.read(MAX_LOG_BYTES + 1)
        except OSError as exc:
            raise LrlabError(f"Invalid log: cannot read {str(path)!r} ({exc.strerror or exc})", field="log") from None
        if len(data) > MAX_LOG_BYTES:
            raise _too_big(len(data), repr(path.name))
        return data, name or path.name
    if hasattr(source, "read"):  # an open binary file, a Streamlit UploadedFile
        data = source.read(MAX_LOG_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > MAX_LOG_BYTES:
            raise _too_big(len(data), "the file")
        return bytes(data), name or str(getattr(source, "name", "") or "")
    raise LrlabError(f"Invalid log: expected a path, bytes or an open file, got {type(source).__name__}", field="log")


def _detect(data: bytes, name: str) -> str:
    base = os.path.basename(name).lower()
    if "tfevents" in base or b"brain.Event:" in data[:64]:
        return "tensorboard"
    text_start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if base.endswith(".json") or text_start[:1] == b"{":
        return "trainer_state"
    if not data.strip():
        raise LrlabError("Invalid log: the file is empty", field="log")
    return "csv"


# ---- tag and column names -----------------------------------------------------------------------

_LR_PART = re.compile(r"^(?:epoch_|batch_)?(?:lr|learning[_-]?rate)(?:[-_][a-z][a-z0-9]*)?(?:[-_]\d+)?$")
_MOMENTUM_PART = re.compile(r"^(?:momentum|beta1|beta_1|betas?0)(?:[-_/]?\d+)?$")
_ADAM_LIKE = re.compile(r"adam|lamb|lion|lars|sophia|nadam|radam|adan", re.IGNORECASE)


def _strip_run(column: str) -> tuple[str, str]:
    """W&B's ``<run> - <key>`` → (run, key); other names → ("", name)."""
    if " - " in column:
        run, key = column.rsplit(" - ", 1)
        return run.strip(), key.strip()
    return "", column.strip()


def _is_lr(key: str) -> bool:
    parts = [p for p in key.lower().split("/") if p]
    return any(_LR_PART.match(p) for p in parts)


def _classify(key: str) -> tuple[str, str] | None:
    """("lr", group key) / ("momentum", group key of its lr) / None for a tag or column name."""
    lowered = key.lower()
    if lowered.endswith(("__min", "__max")):
        return None
    if lowered.endswith("-momentum"):
        base = key[: -len("-momentum")]
        return ("momentum", base) if _is_lr(base) else None
    parts = [p for p in lowered.split("/") if p]
    if parts and _MOMENTUM_PART.match(parts[-1]):
        return "momentum", ""
    return ("lr", key) if _is_lr(key) else None


def _natural(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _momentum_name(lr_key: str) -> str:
    """Lightning logs Adam's beta1 under ``-momentum``: name it as lrlab's curves do."""
    return "beta1" if _ADAM_LIKE.search(lr_key) else "momentum"


@dataclass
class _Series:
    """One logged quantity, in file order: (tool step, value, where in the file)."""

    source: str  # tag or column name in the file
    kind: str  # "lr" or "momentum"
    group: str  # the lr key it belongs to
    points: list[tuple[int, float, str]] = field(default_factory=list)


def _group_series(series: list[_Series]) -> list[tuple[str, _Series]]:
    """Frame names: lr, lr_1, … in natural order of their names; each group's momentum beside it."""
    lrs = sorted((s for s in series if s.kind == "lr"), key=lambda s: _natural(s.source))
    named: list[tuple[str, _Series]] = []
    index = {s.group: i for i, s in enumerate(lrs)}
    for i, s in enumerate(lrs):
        named.append(("lr" if i == 0 else f"lr_{i}", s))
    for s in series:
        if s.kind != "momentum":
            continue
        i = index.get(s.group, 0 if s.group == "" else None)
        if i is None:
            continue
        base = _momentum_name(lrs[i].source if lrs else s.source)
        column = base if i == 0 else f"{base}_{i}"
        if any(c == column for c, _ in named):
            continue
        named.append((column, s))
    return named


# ---- assembling the frame -----------------------------------------------------------------------


def _span(rows: list[int]) -> str:
    rows = sorted(set(rows))
    shown = ", ".join(str(r) for r in rows[:6])
    return shown + (f", … ({len(rows)} in all)" if len(rows) > 6 else "")


def _interval_sentence(rows: np.ndarray) -> str:
    if rows.size == 0:
        return "No rows."
    if rows.size == 1:
        return f"One logged row: row {rows[0]}."
    gaps = np.diff(rows)
    head = f"{rows.size:,} logged rows, from row {rows[0]} to row {rows[-1]}"
    if np.all(gaps == 1):
        return head + ": every step."
    if np.all(gaps == gaps[0]):
        return head + f": every {gaps[0]} steps."
    values, counts = np.unique(gaps, return_counts=True)
    usual = int(values[np.argmax(counts)])
    widest = int(np.argmax(gaps))
    return (
        head + f": mostly every {usual} step(s), with gaps (the widest: {int(gaps[widest])} steps, "
        f"after row {int(rows[widest])})."
    )


def _assemble(
    series: list[_Series],
    *,
    source: str,
    convention: str,
    read_notes: list[str],
    skipped: list[str],
    precision: float,
    meta: dict[str, Any] | None = None,
    step_word: str = "step",
) -> LoggedRun:
    named = _group_series(series)
    if not any(c.startswith("lr") for c, _ in named):
        raise LrlabError(f"Invalid {source}: no learning rate logged", field="log")
    offset = 1 if convention == "count" else 0
    columns: dict[str, dict[int, float]] = {}
    restarts: list[int] = []
    for column, s in named:
        kept: dict[int, float] = {}
        nan_rows: list[int] = []
        before_start: list[int] = []
        duplicates = 0
        last: int | None = None
        for step, value, _where in s.points:
            row = step - offset
            if last is not None and row < last and row not in restarts:
                restarts.append(row)
                skipped.append(
                    f"{s.source}: the {step_word} counter went back from {last + offset} to {step} "
                    f"(a restart at row {row}); for {step_word}s logged twice the later value is kept."
                )
            elif last is not None and row == last:
                duplicates += 1
            last = row
            if row < 0:
                before_start.append(step)
                continue
            if not math.isfinite(value):
                nan_rows.append(row)
                continue
            kept[row] = value
        if nan_rows:
            skipped.append(
                f"{s.source}: {len(nan_rows)} NaN or infinite value(s) skipped, at row(s) {_span(nan_rows)}."
            )
        if before_start:
            skipped.append(
                f"{s.source}: {len(before_start)} value(s) logged at {step_word} {_span(before_start)}, before the "
                "first update, skipped."
            )
        if duplicates:
            skipped.append(
                f"{s.source}: {duplicates} repeated {step_word}(s) logged again in a row; the last value kept."
            )
        columns[column] = kept
    lr_names = [c for c, _ in named if c.startswith("lr")]
    lr_rows = sorted(set().union(*(columns[c] for c in lr_names)))
    if not lr_rows:
        raise LrlabError(f"Invalid {source}: no finite learning rate logged", field="log")
    if len(lr_rows) > MAX_LOG_ROWS:
        raise LrlabError(f"Invalid {source}: more than {MAX_LOG_ROWS:,} logged rows", field="log")
    frame = pd.DataFrame({"step": np.asarray(lr_rows, dtype=np.int64)})
    for column, _s in named:
        values = columns[column]
        frame[column] = np.array([values.get(r, np.nan) for r in lr_rows], dtype=np.float64)
    momentum_only = set().union(*(columns[c] for c, _ in named if not c.startswith("lr"))) - set(lr_rows)
    if momentum_only:
        skipped.append(f"{len(momentum_only)} row(s) with a momentum but no learning rate skipped.")
    read_notes.append("Columns: " + ", ".join(f"{c} ← {s.source!r}" for c, s in named) + ".")
    if convention == "count":
        read_notes.append(f"Rows: {step_word} s is the s-th optimizer update, so row = s − 1.")
    else:
        read_notes.append(f"Rows: {step_word} s is the 0-based index of the update, so row = s.")
    read_notes.append(_interval_sentence(frame["step"].to_numpy()))
    return LoggedRun(
        frame=frame,
        source=source,
        read=tuple(read_notes),
        skipped=tuple(skipped),
        restarts=tuple(restarts),
        lr_columns=tuple(lr_names),
        names=tuple((c, s.source) for c, s in named),
        step_convention=convention,
        precision=precision,
        meta=dict(meta or {}),
    )


# ---- trainer_state.json -------------------------------------------------------------------------

_TRAINER_META = ("global_step", "max_steps", "logging_steps", "num_train_epochs", "train_batch_size", "epoch")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_number(value: Any, where: str, label: str, *, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected = "a whole number" if whole else "a number"
        raise LrlabError(f"Invalid {label}: {where} is {_show(value)}, expected {expected}", field=where)
    if whole and not (math.isfinite(value) and float(value).is_integer()):
        raise LrlabError(f"Invalid {label}: {where} is {_show(value)}, expected a whole number", field=where)
    return float(value)


def _read_trainer_state(data: bytes, name: str, convention: str) -> LoggedRun:
    label = os.path.basename(name) or "trainer_state.json"
    try:
        state = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise LrlabError(f"Invalid {label}: not UTF-8 text", field="log") from None
    except RecursionError:
        raise LrlabError(f"Invalid {label}: nested too deeply", field="log") from None
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise LrlabError(f"Invalid {label}: not valid JSON{where}", field="log") from None
    if not isinstance(state, dict) or "log_history" not in state:
        raise LrlabError(
            f"Invalid {label}: expected the Trainer's state, an object with a log_history list", field="log_history"
        )
    history = state["log_history"]
    if not isinstance(history, list):
        raise LrlabError(
            f"Invalid {label}: log_history is {type(history).__name__}, expected a list", field="log_history"
        )
    if len(history) > MAX_LOG_ROWS:
        raise LrlabError(f"Invalid {label}: more than {MAX_LOG_ROWS:,} log_history entries", field="log_history")
    series = _Series(source="learning_rate", kind="lr", group="learning_rate")
    other = 0
    for i, entry in enumerate(history):
        where = f"log_history[{i}]"
        if not isinstance(entry, dict):
            raise LrlabError(f"Invalid {label}: {where} is {type(entry).__name__}, expected an object", field=where)
        if "learning_rate" not in entry:
            other += 1
            continue
        value = entry["learning_rate"]
        lr = math.nan if value is None else _json_number(value, f"{where}.learning_rate", label)
        if "step" not in entry:
            raise LrlabError(f"Invalid {label}: {where} has a learning_rate but no step", field=f"{where}.step")
        step = _json_number(entry["step"], f"{where}.step", label, whole=True)
        if step < 0:
            raise LrlabError(
                f"Invalid {label}: {where}.step is {entry['step']}, expected 0 or more", field=f"{where}.step"
            )
        series.points.append((int(step), lr, where))
    if not series.points:
        raise LrlabError(
            f"Invalid {label}: no log_history entry has a learning_rate ({len(history)} entries)", field="log_history"
        )
    meta = {
        k: state[k]
        for k in _TRAINER_META
        if isinstance(state.get(k), (int, float)) and not isinstance(state.get(k), bool)
    }
    notes = [
        f"{label} (Hugging Face Trainer state): {len(series.points):,} of {len(history):,} log_history entries hold "
        "a learning_rate."
    ]
    if meta:
        notes.append("The state says: " + ", ".join(f"{k} {v}" for k, v in meta.items()) + ".")
    skipped = []
    if other:
        skipped.append(
            f"{other} log_history entr{'y' if other == 1 else 'ies'} without a learning_rate (evaluation entries, "
            "the final train summary) skipped."
        )
    return _assemble(
        [series],
        source="trainer_state.json",
        convention="count" if convention == "auto" else convention,
        read_notes=notes,
        skipped=skipped,
        precision=_FLOAT64_EPS,
        meta=meta,
    )


# ---- CSV: Lightning's metrics.csv and W&B / TensorBoard exports ---------------------------------


def _read_csv(data: bytes, name: str, convention: str) -> LoggedRun:
    label = os.path.basename(name) or "CSV log"
    table = read_csv_table(data, field="log", max_bytes=MAX_LOG_BYTES, max_rows=MAX_LOG_ROWS)
    header = table.header
    skipped: list[str] = []
    if header is None:
        width = len(table.rows[0][1])
        header = ["step", "lr"] if width >= 2 else ["lr"]
        notes = [f"{label}: no header; read as " + ("step,lr" if width >= 2 else "one lr per row, rows 0, 1, …") + "."]
    else:
        notes = []
    step_col = step_column(header)
    step_name = header[step_col].strip() if step_col is not None else None
    lightning = step_name == "step" and any(h.strip().startswith("lr-") for h in header)
    tb_export = any(h.strip().lower() == "wall time" for h in header)
    source = "lightning metrics.csv" if lightning else "csv export"

    runs: list[str] = []
    picked: list[tuple[int, str, str, str]] = []  # (column, header name, kind, group)
    ignored: list[str] = []
    bands = 0
    for i, column in enumerate(header):
        if i == step_col or is_time_column(column) or not column.strip():
            continue
        run, key = _strip_run(column)
        if key.lower().endswith(("__min", "__max")):
            bands += 1
            continue
        kind = _classify(key)
        if kind is None and key.lower() == "value":
            kind = ("lr", key)
        if kind is None:
            ignored.append(column.strip())
            continue
        if run and run not in runs:
            runs.append(run)
        if run and run != runs[0]:
            ignored.append(column.strip())
            continue
        picked.append((i, column.strip(), kind[0], kind[1]))
    if not any(k == "lr" for _, _, k, _ in picked):
        candidates = list(ignored)
        if len(candidates) == 1 and len(header) <= 3:
            column = candidates[0]
            ignored.remove(column)
            picked.append((header.index(column), column, "lr", column))
            notes.append(f"No column is named like a learning rate: the only value column {column!r} is taken as one.")
        else:
            shown = ", ".join(repr(h) for h in header[:12])
            raise LrlabError(
                f"Invalid {label}: no learning-rate column among {shown} (expected a name like lr, learning_rate, "
                "lr-SGD, lr-AdamW/pg1, train/learning_rate or a Step,Value export)",
                field="log",
            )
    if len(runs) > 1:
        skipped.append(
            f"The export holds {len(runs)} runs: read {runs[0]!r}, skipped " + ", ".join(map(repr, runs[1:])) + "."
        )
    if bands:
        skipped.append(f"{bands} W&B __MIN/__MAX band column(s) skipped.")
    other = [c for c in ignored if not runs or _strip_run(c)[0] in ("", runs[0])]
    if other:
        skipped.append(
            "Columns that are not learning rates skipped: "
            + ", ".join(other[:10])
            + (", …" if len(other) > 10 else "")
            + "."
        )

    series = [_Series(source=h, kind=k, group=g) for _, h, k, g in picked]
    count_steps = step_name is not None and step_name.lower().endswith("global_step") and "/" in step_name
    rows_without = 0
    for position, (line, row) in enumerate(table.rows):
        cells = {}
        for (i, h, _k, _g), s in zip(picked, series, strict=True):
            text = row[i].strip() if i < len(row) else ""
            if not text:
                continue
            value = parse_number(text)
            if value is None:
                raise LrlabError(
                    f"Invalid {label}: line {line}, column {h!r} is {_show(text)}, expected a number", field=h
                )
            cells[s.source] = (s, value)
        if not cells:
            rows_without += 1
            continue
        if step_col is None:
            step = position
        else:
            text = row[step_col].strip() if step_col < len(row) else ""
            number = parse_number(text)
            if number is None or not math.isfinite(number) or not number.is_integer() or number < 0:
                raise LrlabError(
                    f"Invalid {label}: line {line}, column {step_name!r} is {_show(text)}, expected a whole number "
                    "of 0 or more",
                    field=step_name,
                )
            step = int(number)
        for s, value in cells.values():
            s.points.append((step, value, f"line {line}"))
    if rows_without:
        skipped.append(
            f"{rows_without:,} row(s) without a learning rate (other metrics logged on their own rows) skipped."
        )
    if convention == "auto":
        convention = "count" if count_steps else "index"
    what = (
        "Lightning CSVLogger metrics (LearningRateMonitor columns)"
        if lightning
        else "TensorBoard CSV export"
        if tb_export
        else "W&B CSV export"
        if runs
        else "CSV"
    )
    notes.insert(
        0,
        f"{label}: {what}, {len(table.rows):,} data row(s), steps from column {step_name!r}."
        if step_name
        else f"{label}: {what}, {len(table.rows):,} data row(s), no step column (rows numbered in file order).",
    )
    if count_steps:
        notes.append(f"{step_name!r} is transformers' step count (the s-th update).")
    elif runs and step_name == "Step":
        notes.append(
            "W&B's Step counts wandb.log calls; for a transformers Trainer run export train/global_step as the x axis."
        )
    return _assemble(
        series,
        source=source,
        convention=convention,
        read_notes=notes,
        skipped=skipped,
        precision=_FLOAT32_EPS if tb_export else _FLOAT64_EPS,
    )


# ---- TensorBoard event files --------------------------------------------------------------------


class _StoppedEarly(logging.Handler):
    """Hears the event loader say it stopped at a truncated or damaged record (it says so at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Truncated record"):
            self.said.append(record.getMessage())


def _scalar_events(path: str) -> tuple[dict[str, list[tuple[int, float, str]]], bool]:
    """Every scalar tag's (step, value, dtype) in file order, read by TensorBoard's own loader, and
    whether the loader stopped at a truncated or damaged record."""
    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.util import tensor_util

    accumulator = plugin_event_accumulator.EventAccumulator(
        path, size_guidance={plugin_event_accumulator.TENSORS: 0}, purge_orphaned_data=False
    )
    logger = logging.getLogger("tensorboard")
    listener, level = _StoppedEarly(), logger.level
    logger.addHandler(listener)
    logger.setLevel(logging.DEBUG)
    try:
        accumulator.Reload()
    finally:
        logger.removeHandler(listener)
        logger.setLevel(level)
    out: dict[str, list[tuple[int, float, str]]] = {}
    tags = accumulator.PluginTagToContent("scalars") if "scalars" in accumulator.ActivePlugins() else {}
    total = 0
    for tag in tags:
        points = []
        for event in accumulator.Tensors(tag):
            array = tensor_util.make_ndarray(event.tensor_proto)
            if array.size != 1 or array.dtype.kind not in "fiu":
                break
            points.append((int(event.step), float(array.reshape(())), str(array.dtype)))
            total += 1
            if total > MAX_LOG_ROWS:
                raise LrlabError(f"Invalid event file: more than {MAX_LOG_ROWS:,} scalar values", field="log")
        else:
            out[tag] = points
    return out, bool(listener.said)


def _hf_tags(tags: Iterable[str]) -> bool:
    names = set(tags)
    return "train/learning_rate" in names and "train/epoch" in names


def _read_tensorboard(data: bytes, name: str, convention: str) -> LoggedRun:
    label = os.path.basename(name) or "event file"
    with tempfile.TemporaryDirectory(prefix="lrlab-events-") as folder:
        path = os.path.join(folder, "events.out.tfevents.lrlab")
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            scalars, stopped_early = _scalar_events(path)
        except LrlabError:
            raise
        except Exception as exc:  # the reader's own errors on a damaged file
            raise LrlabError(
                f"Invalid {label}: TensorBoard could not read it ({type(exc).__name__}: {exc})", field="log"
            ) from None
    if not scalars:
        raise LrlabError(f"Invalid {label}: no scalar values in it (is it a TensorBoard event file?)", field="log")
    series: list[_Series] = []
    ignored = []
    for tag, points in scalars.items():
        kind = _classify(tag)
        if kind is None:
            ignored.append(tag)
            continue
        series.append(_Series(source=tag, kind=kind[0], group=kind[1], points=[(s, v, d) for s, v, d in points]))
    if not any(s.kind == "lr" for s in series):
        raise LrlabError(
            f"Invalid {label}: no learning-rate tag among its scalar tags "
            + ", ".join(repr(t) for t in list(scalars)[:12])
            + " (expected a name like lr, learning_rate, train/lr, lr-SGD or lr-AdamW/pg1)",
            field="log",
        )
    hf = _hf_tags(scalars)
    if convention == "auto":
        convention = "count" if hf else "index"
    dtypes = sorted({d for s in series for _, _, d in s.points})
    notes = [
        f"{label}: TensorBoard event file, {len(scalars)} scalar tag(s), read with tensorboard's event accumulator.",
        "Values stored as " + "/".join(dtypes) + (" (about 7 significant digits)." if "float32" in dtypes else "."),
    ]
    if hf:
        notes.append("Tags train/learning_rate and train/epoch: written by transformers' TensorBoardCallback.")
    skipped = []
    if stopped_early:
        skipped.append(
            "TensorBoard's reader stopped at a truncated or damaged record: anything logged after it is missing."
        )
    if ignored:
        skipped.append(
            "Tags that are not learning rates skipped: "
            + ", ".join(ignored[:10])
            + (", …" if len(ignored) > 10 else "")
            + "."
        )
    return _assemble(
        series,
        source="tensorboard events",
        convention=convention,
        read_notes=notes,
        skipped=skipped,
        precision=_FLOAT32_EPS if "float32" in dtypes or not dtypes else _FLOAT64_EPS,
    )


__all__ = ["MAX_LOG_BYTES", "MAX_LOG_ROWS", "LoggedRun", "read"]
