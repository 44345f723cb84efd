"""Logged learning rates, as the tools write them: read into one frame in lrlab's row convention.

:class:`LoggedRun` is what every reader returns and what diagnosis (:mod:`lrlab.diagnose`),
identification (:mod:`lrlab.identify`) and the My run page consume:

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_LOG_BYTES = 50_000_000
MAX_LOG_ROWS = 1_000_000


@dataclass(frozen=True)
class LoggedRun:
    """A logged run's learning rates (see the module docstring)."""

    frame: pd.DataFrame
    source: str  # "trainer_state.json", "lightning metrics.csv", "tensorboard events", "csv export"
    read: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    restarts: tuple[int, ...] = ()
    lr_columns: tuple[str, ...] = field(default=("lr",))

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


__all__ = ["MAX_LOG_BYTES", "MAX_LOG_ROWS", "LoggedRun"]
