"""A schedule as library-neutral data: the pivot every translation goes through.

A :class:`Shape` is a run of ``steps`` rows (row ``t`` = the lr of the ``t``-th update, lrlab's
convention) cut into :class:`Segment` s. Each segment starts at a row (fractional where the library's
phases are: torch's OneCycleLR ends its first phase at ``pct_start · total_steps − 1``) and runs
from ``v0`` towards ``v1`` over ``length`` rows, along one of a few curves every library names:

.. math::

    x = \\frac{t - s}{L},\\qquad
    \\begin{cases}
      v_0 & \\text{constant} \\\\
      v_0 + (v_1 - v_0)\\,x & \\text{linear} \\\\
      v_1 + (v_0 - v_1)\\,\\tfrac{1 + \\cos \\pi x}{2} & \\text{cosine} \\\\
      v_1 + (v_0 - v_1)\\,(1 - x)^{p} & \\text{poly} \\\\
      v_0\\,(v_1 / v_0)^{x} & \\text{exp}
    \\end{cases}

where :math:`s` is the segment's first row, :math:`L` its length and :math:`p` its power. A segment
applies from its start to the next one's; the last one applies to the end of the run, with
:math:`x > 1` there when the library keeps going (torch's CosineAnnealingLR rises again after
``T_max``); a library that holds its final value gets a constant segment after it instead.

A source library's config is *analysed* into a Shape and a target library *expresses* the Shape in
its own parameters (:mod:`lrlab.translating`): one pivot instead of a table of library pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

Kind = Literal["constant", "linear", "cosine", "poly", "exp"]
KINDS: tuple[str, ...] = ("constant", "linear", "cosine", "poly", "exp")


@dataclass(frozen=True)
class Segment:
    """One piece of a schedule (see the module docstring for the formulas)."""

    kind: Kind
    start: float
    length: float
    v0: float
    v1: float
    power: float = 1.0
    # Where x = 0 is, when the segment takes over part-way through its curve (timm's cosine under an
    # overlapping warm-up, warmup_prefix=False: the cosine's clock starts at row 0, the segment at warmup_t).
    origin: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown segment kind {self.kind!r}")
        if not self.length > 0:
            raise ValueError(f"segment length must be > 0, got {self.length}")

    @property
    def zero(self) -> float:
        """The row where x = 0 (the start, unless the segment joins its curve part-way)."""
        return self.start if self.origin is None else self.origin

    @property
    def end(self) -> float:
        return self.zero + self.length

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The segment's value at ``rows`` (any rows: x is not clipped)."""
        x = (np.asarray(rows, dtype=np.float64) - self.zero) / self.length
        v0, v1 = self.v0, self.v1
        with np.errstate(all="ignore"):
            if self.kind == "constant":
                return np.full_like(x, v0)
            if self.kind == "linear":
                return v0 + (v1 - v0) * x
            if self.kind == "cosine":
                return v1 + (v0 - v1) * (1 + np.cos(np.pi * x)) / 2
            if self.kind == "poly":
                return v1 + (v0 - v1) * np.clip(1 - x, 0, None) ** self.power
            return v0 * (v1 / v0) ** x  # exp

    def describe(self) -> str:
        what = {
            "constant": f"constant {self.v0:.4g}",
            "linear": f"linear {self.v0:.4g} → {self.v1:.4g}",
            "cosine": f"cosine {self.v0:.4g} → {self.v1:.4g}",
            "poly": f"polynomial (power {self.power:g}) {self.v0:.4g} → {self.v1:.4g}",
            "exp": f"exponential {self.v0:.4g} → {self.v1:.4g}",
        }[self.kind]
        rows = "" if self.kind == "constant" else f" over {self.length:g} steps"
        if self.origin is not None and self.origin != self.start:
            rows += f" (its curve started at step {self.origin:g})"
        return f"from step {self.start:g}: {what}{rows}"


@dataclass(frozen=True)
class Shape:
    """A schedule's lr (and momentum, where it cycles it) as segments over ``steps`` rows."""

    steps: int
    segments: tuple[Segment, ...]
    momentum: tuple[Segment, ...] = ()
    momentum_name: str = "momentum"  # "momentum" (SGD) or "beta1" (Adam)
    notes: tuple[str, ...] = field(default=())  # what the analysis assumed

    def values(self, segments: tuple[Segment, ...] | None = None) -> np.ndarray:
        """The lr at every row 0 … steps − 1 (or the momentum, given ``self.momentum``)."""
        segments = self.segments if segments is None else segments
        rows = np.arange(self.steps, dtype=np.float64)
        out = np.full(self.steps, np.nan)
        for i, segment in enumerate(segments):
            stop = segments[i + 1].start if i + 1 < len(segments) else np.inf
            where = (rows >= segment.start) & (rows < stop) if i else rows < stop
            out[where] = segment.at(rows[where])
        return out

    def momentum_values(self) -> np.ndarray | None:
        return self.values(self.momentum) if self.momentum else None

    @property
    def peak(self) -> float:
        return float(max(max(s.v0, s.v1) for s in self.segments))

    def within(self) -> tuple[Segment, ...]:
        """The segments that reach a row of the run (a phase that starts after the last row is dropped)."""
        return tuple(s for i, s in enumerate(self.segments) if i == 0 or s.start < self.steps)

    def describe(self) -> list[str]:
        return [s.describe() for s in self.within()]


def merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """``segments`` in order, with zero-length pieces dropped and equal neighbouring constants joined."""
    out: list[Segment] = []
    for segment in segments:
        if out and segment.kind == "constant" and out[-1].kind == "constant" and out[-1].v0 == segment.v0:
            continue
        out.append(segment)
    return tuple(out)


def constant(start: float, value: float, length: float = 1.0) -> Segment:
    return Segment("constant", float(start), float(length), float(value), float(value))


def warmup_then(
    warmup: float, start_value: float, peak: float, body: list[Segment], *, kind: Kind = "linear"
) -> tuple[Segment, ...]:
    """A warm-up of ``warmup`` rows from ``start_value`` to ``peak``, then ``body`` (already placed)."""
    pieces = [Segment(kind, 0.0, float(warmup), float(start_value), float(peak))] if warmup > 0 else []
    return merge(pieces + body)


def shifted(segments: tuple[Segment, ...], by: float) -> tuple[Segment, ...]:
    return tuple(replace(s, start=s.start + by, origin=None if s.origin is None else s.origin + by) for s in segments)


__all__ = ["KINDS", "Segment", "Shape", "constant", "merge", "shifted", "warmup_then"]
