"""Metric streams for the schedulers that react to a metric (ReduceLROnPlateau, GreedyLR).

The default stream is a deterministic synthetic validation loss: exponential decay towards a floor
plus seeded noise, so that a plateau (and hence reductions) appears within any run length.
"""

from __future__ import annotations

import numpy as np


def synthetic_loss(
    steps: int,
    *,
    start: float = 2.0,
    floor: float = 0.3,
    decay_steps: float | None = None,
    noise: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    r"""A loss curve :math:`\ell_t = f + (s-f)\,e^{-t/\tau} + \epsilon_t`, :math:`\epsilon_t\sim\mathcal N(0,\sigma^2)`.

    ``decay_steps`` (:math:`\tau`) defaults to a fifth of the run, so the loss flattens out for the
    second half and a plateau scheduler has something to react to. The same arguments always give
    the same values.
    """
    tau = max(1.0, steps / 5) if decay_steps is None else float(decay_steps)
    t = np.arange(steps, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return floor + (start - floor) * np.exp(-t / tau) + noise * rng.standard_normal(steps)
