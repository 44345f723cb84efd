"""Figures people compare schedules by: where they start, peak and end, and how much lr they spend."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "curve",
    "LR at start",
    "peak LR",
    "peak step",
    "final LR",
    "mean LR",
    "sum of LR",
    "steps ≥ 50% of peak",
    "steps < 10% of peak",
]


def summary_table(curves: list[tuple[str, pd.DataFrame]], column: str = "lr") -> pd.DataFrame:
    """One row per curve: LR at start, peak LR and its (first) step, final LR, mean LR, the sum of
    the LR over the run (its "area", proportional to the total distance an SGD step size travels),
    and the number of steps at or above half the peak and below a tenth of it. Rows a library
    refused to produce (NaN) are left out of every figure."""
    rows = []
    for label, frame in curves:
        lr = frame[column].to_numpy(dtype=np.float64)
        steps = frame["step"].to_numpy()
        ok = np.isfinite(lr)
        lr, steps = lr[ok], steps[ok]
        if lr.size == 0:
            rows.append({"curve": label})
            continue
        peak = float(lr.max())
        rows.append(
            {
                "curve": label,
                "LR at start": float(lr[0]),
                "peak LR": peak,
                "peak step": int(steps[int(np.argmax(lr))]),
                "final LR": float(lr[-1]),
                "mean LR": float(lr.mean()),
                "sum of LR": float(lr.sum()),
                "steps ≥ 50% of peak": int((lr >= 0.5 * peak).sum()),
                "steps < 10% of peak": int((lr < 0.1 * peak).sum()),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
