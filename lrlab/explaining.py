"""What an explainer of one scheduler step sees (:class:`Step`) and returns (:class:`Part`).

A spec's ``explainer`` (a library adapter's, under :mod:`lrlab.schedulers`) and the explainers of
:mod:`lrlab.explain` share these records, so that an adapter can explain its schedules without
importing the explain engine (which imports the registry). :func:`num` writes a number as LaTeX.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lrlab.specs import RunContext


def num(x: float, digits: int = 4) -> str:
    r"""A number as LaTeX: integers as such, else ``digits`` significant digits (``0.07016``),
    very small or large ones as ``1.5 \times 10^{-7}``."""
    x = float(x)
    if math.isnan(x):
        return r"\text{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e7:
        return str(int(x))
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


@dataclass(frozen=True)
class Step:
    """The inputs of one explainer: scheduler step ``k``, the group's initial lr, the validated params,
    the run context, and ``prev``: the lr before this step (the library's lr after ``k − 1`` steps; at
    ``k = 0`` the optimizer's lr before the scheduler's construction step)."""

    k: int
    lr0: float
    params: Mapping[str, Any]
    ctx: RunContext
    prev: float
    lhs: str = r"\eta"  # the symbol being computed (a chained child's factor is f_i)


@dataclass(frozen=True)
class Part:
    """What an explainer returns: the value, the substitution, the sentence, the recursive update."""

    value: float | None
    given: tuple[tuple[str, Any], ...]
    lines: tuple[str, ...]
    sentence: str
    event: str
    recursive: str | None = None
    recursive_value: float | None = None
    notes: tuple[str, ...] = field(default=())
