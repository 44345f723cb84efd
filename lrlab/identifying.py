"""Identify a logged curve: which registered schedule, with which parameters, produced it.

:func:`identify` takes a logged run (a :class:`~lrlab.logs.LoggedRun`, an array of lrs, or
``(step, lr)`` pairs; possibly logged every k-th step only) and ranks the registry's schedules, every
library, by how well their best parameters reproduce it:

1. **Shapes read off the logged rows** (:func:`read_shapes`), warm-started from features of the curve
   (its peak and where it is, a hold at the end, restarts, stairs), each fitted on the logged rows only
   with :func:`scipy.optimize.least_squares`:

   - an optional warm-up (linear or cosine) up to a peak, then one decay (constant, linear, cosine,
     polynomial, exponential) that either holds its floor or keeps going. The positions (warm-up
     length, decay length, power, rate) are fitted; for given positions the values (start, peak,
     floor) enter linearly and are solved exactly (variable projection), so a curve a schedule produced
     comes back to machine precision. Positions close to whole steps are snapped to them (a torch
     OneCycleLR keeps its fractional phase boundary ``pct_start · total_steps − 1``);
   - cosine restarts (``T_0``, ``T_mult``), enumerated over the steps where the logged curve jumps up;
   - stairs: levels at the logged rows, each change placed at a step within the gap where it was
     logged (every step there reproduces the logged rows: the note says so), as one step size where
     one exists;
   - on a full curve, also :func:`lrlab.translating.infer.infer`'s shapes.

   A shape is kept when it reproduces the logged rows to :data:`SHAPE_TOLERANCE`.
2. Each library **expresses** the kept shapes in its own parameters (the translation engine's
   ``express``), and every candidate is stepped in its **real** library and compared at the logged rows:
   within the tolerance it is **exact**.
3. Libraries without an exact candidate get their fit templates (``fit_templates``) fitted by least
   squares to the logged rows (their closed forms where lrlab has them), then measured in the real
   library: **closest**, with the residual.
4. Candidates whose real curves agree on every step of the run within tolerance are one answer: the
   first is listed and the others are its **equivalents** (transformers' cosine with warm-up and optax's
   warmup_cosine_decay_schedule are the same curve). Exact candidates that agree only at the logged rows
   (a milestone anywhere within a logging gap) stay separate, each said to be exact at the logged rows.

The residual of each candidate is the max and mean relative difference at the logged rows between the
real library's curve and the logged lr. Nothing heavy is imported until :func:`identify` runs.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lrlab.specs import LIBRARIES, LrlabError, ScheduleConfig, invalid
from lrlab.translating.shape import Segment, Shape, constant, merge

if TYPE_CHECKING:
    from lrlab.logs import LoggedRun
    from lrlab.translating.engine import FitTemplate, Measured

#: A shape read off the logged rows must reproduce them to this relative difference to be expressed.
SHAPE_TOLERANCE = 1e-5
#: Logged values that are all float32 numbers (TensorBoard) are compared at float32 precision.
FLOAT32_TOLERANCE = 2e-6
#: At most this many kept shapes are expressed in the libraries (best first).
MAX_SHAPES = 4
#: Fitting budget of one library template (closed-form evaluations).
MAX_TEMPLATE_EVALUATIONS = 60
#: Exact candidates stepped per library (its named schedules come first; more would be equivalents).
MAX_EXACT_PER_LIBRARY = 2
#: Schedulers that write any shape (LambdaLR, a join of phases): listed after a library's named schedules.
GENERIC = frozenset(
    {
        "LambdaLR",
        "SequentialLR",
        "ChainedScheduler",
        "MultiplicativeLR",
        "fastai:combine_scheds",
        "optax:join_schedules",
        "optax:piecewise_interpolate_schedule",
        "timm:create_scheduler_v2",
    }
)


# ---- the result ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifiedCandidate:
    """One schedule that reproduces (exact) or approaches (closest) the logged curve."""

    config: ScheduleConfig
    library: str
    exact: bool  # within tolerance at every logged row, measured with the real library
    max_rel_diff: float  # at the logged rows, real library against the logged lr
    mean_rel_diff: float
    tolerance: float
    how: str  # how the parameters were found
    equivalents: tuple[IdentifiedCandidate, ...] = ()  # same curve on every step of the run, within tolerance
    lr: np.ndarray | None = field(default=None, repr=False, compare=False)  # the real curve, every step

    @property
    def scheduler(self) -> str:
        return self.config.scheduler

    @property
    def verdict(self) -> str:
        return "exact" if self.exact else "closest"

    def target(self) -> str:
        """The export target of the candidate's own library (torch for torch and transformers schedules)."""
        from lrlab.export import targets_for
        from lrlab.schedulers import get_spec

        return targets_for(get_spec(self.config.scheduler))[0]

    def export(self, target: str | None = None) -> str:
        """The candidate as code of its library (or ``target``): :func:`lrlab.export.render`."""
        from lrlab.export import render

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return render(self.config, target or self.target())

    def to_dict(self, *, export: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scheduler": self.scheduler,
            "library": self.library,
            "verdict": self.verdict,
            "exact": self.exact,
            "config": self.config.to_dict(),
            "max_rel_diff": self.max_rel_diff,
            "mean_rel_diff": self.mean_rel_diff,
            "tolerance": self.tolerance,
            "how": self.how,
            "equivalents": [e.to_dict(export=export) for e in self.equivalents],
        }
        if export:
            try:
                out["export"] = {"target": self.target(), "text": self.export()}
            except LrlabError as error:
                out["export"] = {"target": self.target(), "error": str(error)}
        return out


@dataclass(frozen=True)
class Identification:
    """The ranked answers for one logged curve."""

    candidates: tuple[IdentifiedCandidate, ...]
    steps: int  # the run's length (last logged step + 1, or as given)
    rows: np.ndarray = field(repr=False, compare=False)  # the logged rows used
    lr: np.ndarray = field(repr=False, compare=False)  # the logged lr at those rows
    shape: Shape | None = None  # the best shape read off the logged rows
    notes: tuple[str, ...] = ()

    @property
    def best(self) -> IdentifiedCandidate | None:
        return self.candidates[0] if self.candidates else None

    def describe(self) -> list[str]:
        return self.shape.describe() if self.shape is not None else []

    def to_dict(self, *, export: bool = False) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "logged_rows": int(self.rows.size),
            "shape": self.describe(),
            "notes": list(self.notes),
            "candidates": [c.to_dict(export=export) for c in self.candidates],
        }


# ---- the logged rows ----------------------------------------------------------------------------------


def _rows_and_lr(logged: Any, steps: int | None) -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    from lrlab.logs import LoggedRun
    from lrlab.translating.engine import MAX_TRANSLATE_STEPS

    notes: list[str] = []
    if isinstance(logged, LoggedRun):
        rows, lr = logged.steps.astype(np.float64), logged.lr
        if len(logged.lr_columns) > 1:
            notes.append(f"identified param group 0 ({logged.lr_columns[0]}) of {len(logged.lr_columns)}")
    else:
        data = np.asarray(logged, dtype=np.float64)
        if data.ndim == 1:
            rows, lr = np.arange(data.size, dtype=np.float64), data
        elif data.ndim == 2 and data.shape[1] == 2:
            rows, lr = data[:, 0], data[:, 1]
        elif data.ndim == 2 and data.shape[0] == 2:
            rows, lr = data[0], data[1]
        else:
            raise invalid("logged", f"array of shape {data.shape}", "must be lrs, or (step, lr) pairs")
    keep = np.isfinite(lr) & np.isfinite(rows)
    if not keep.all():
        notes.append(f"skipped {int((~keep).sum())} logged rows that are not finite")
    rows, lr = rows[keep], lr[keep]
    if np.any(rows != np.round(rows)) or np.any(rows < 0):
        raise invalid("logged", "fractional or negative steps", "steps must be whole numbers ≥ 0 (lrlab's rows)")
    order = np.argsort(rows, kind="stable")
    rows, lr = rows[order].astype(np.int64), lr[order]
    unique = np.concatenate([[True], np.diff(rows) > 0]) if rows.size else rows.astype(bool)
    if not unique.all():
        notes.append(f"kept the first of {int((~unique).sum())} duplicated steps")
        rows, lr = rows[unique], lr[unique]
    if rows.size < 3:
        raise invalid("logged", f"{rows.size} finite rows", "at least 3 logged learning rates are needed")
    last = int(rows[-1]) + 1
    steps = last if steps is None else int(steps)
    if steps < last:
        raise invalid("steps", steps, f"must be at least the last logged step + 1 ({last})")
    if steps > MAX_TRANSLATE_STEPS:
        raise invalid("steps", steps, f"identification steps every candidate: at most {MAX_TRANSLATE_STEPS:,} steps")
    if rows.size < steps:
        gaps = np.unique(np.diff(rows))
        every = f"every {int(gaps[0])} steps" if gaps.size == 1 else f"at {rows.size} of {steps} steps"
        notes.append(f"logged {every}: fitted on the logged rows only")
    return rows, lr, steps, notes


def _tolerance(lr: np.ndarray) -> float:
    return FLOAT32_TOLERANCE if np.all(lr == lr.astype(np.float32)) else 0.0


def _rel(values: np.ndarray, target: np.ndarray, noise: float = 0.0) -> np.ndarray:
    from lrlab.translating.engine import relative

    return relative(values, target, noise)


# ---- shapes read off the logged rows ------------------------------------------------------------------


def _at(shape: Shape, rows: np.ndarray) -> np.ndarray:
    """``shape``'s value at ``rows`` (as :meth:`Shape.values`, at some rows only)."""
    segments = shape.segments
    rows = np.asarray(rows, dtype=np.float64)
    out = np.full(rows.shape, np.nan)
    for i, segment in enumerate(segments):
        stop = segments[i + 1].start if i + 1 < len(segments) else np.inf
        where = (rows >= segment.start) & (rows < stop) if i else rows < stop
        out[where] = segment.at(rows[where])
    return out


def _off(shape: Shape, rows: np.ndarray, lr: np.ndarray) -> float:
    rel = _rel(_at(shape, rows), lr)
    return float(rel.max()) if rel.size else math.inf


@dataclass(frozen=True)
class _Family:
    """Warm-up + one decay: which curves, and whether the decay holds its floor or keeps going."""

    warm: str | None  # None, "linear", "cosine"
    decay: str  # "constant", "linear", "cosine", "poly", "exp"
    hold: bool

    def names(self) -> list[str]:
        out = ["W"] if self.warm else []
        if self.decay == "exp":
            out.append("log_rate")
            if self.hold:
                out.append("L")
        elif self.decay != "constant":
            out.append("L")
        if self.decay == "poly":
            out.append("power")
        return out


def _family_basis(family: _Family, theta: dict[str, float], rows: np.ndarray) -> np.ndarray:
    """Columns multiplying (start, peak, floor) at ``rows`` (start only with a warm-up, floor only with a decay)."""
    w = theta.get("W", 0.0)
    t = rows.astype(np.float64)
    cols: list[np.ndarray] = []
    warm = t < w
    peak_col = np.zeros_like(t)
    if family.warm:
        x = t[warm] / w
        g = x if family.warm == "linear" else (1 - np.cos(np.pi * x)) / 2
        start_col = np.zeros_like(t)
        start_col[warm] = 1 - g
        peak_col[warm] = g
        cols.append(start_col)
    body = ~warm
    floor_col = np.zeros_like(t)
    tb = t[body] - w
    if family.decay == "constant":
        peak_col[body] = 1.0
    elif family.decay == "exp":
        rate = theta["log_rate"]
        span = np.minimum(tb, theta["L"]) if family.hold else tb
        peak_col[body] = np.exp(rate * span)
    else:
        x = tb / theta["L"]
        if family.hold or family.decay in ("linear", "poly"):
            x = np.minimum(x, 1.0)
        if family.decay == "linear":
            h = 1 - x
        elif family.decay == "cosine":
            h = (1 + np.cos(np.pi * x)) / 2
        else:
            h = np.clip(1 - x, 0, None) ** theta["power"]
        peak_col[body] = h
        floor_col[body] = 1 - h
    cols.append(peak_col)
    if family.decay not in ("constant", "exp"):
        cols.append(floor_col)
    return np.stack(cols, axis=1)


def _solve_values(family: _Family, theta: dict[str, float], rows: np.ndarray, lr: np.ndarray, weight: np.ndarray):
    basis = _family_basis(family, theta, rows)
    values, *_ = np.linalg.lstsq(basis * weight[:, None], lr * weight, rcond=None)
    return values, basis @ values


def _family_shape(family: _Family, theta: dict[str, float], values: np.ndarray, steps: int) -> Shape | None:
    values = [float(v) for v in values]
    start = values.pop(0) if family.warm else None
    peak = values.pop(0)
    floor = values.pop(0) if values else None
    w = theta.get("W", 0.0)
    pieces: list[Segment] = []
    try:
        if family.warm:
            pieces.append(Segment(family.warm, 0.0, w, start, peak))  # type: ignore[arg-type]
        if family.decay == "constant":
            pieces.append(constant(w, peak))
        elif family.decay == "exp":
            length = theta["L"] if family.hold else float(max(1, steps))
            end = peak * math.exp(theta["log_rate"] * length)
            pieces.append(Segment("exp", w, length, peak, end))
            if family.hold:
                pieces.append(constant(w + length, end))
        else:
            length = theta["L"]
            power = theta.get("power", 1.0)
            pieces.append(Segment(family.decay, w, length, peak, floor, power))  # type: ignore[arg-type]
            if family.hold or family.decay in ("linear", "poly"):
                if w + length < steps - 1:  # (ending on the last row, the decay is at its floor there)
                    pieces.append(constant(w + length, floor))
    except ValueError:
        return None
    return Shape(steps, merge(pieces), notes=("read off the logged rows",))


def _snap_value(v: float, scale: float) -> float:
    return 0.0 if abs(v) <= 1e-9 * scale else v


def _close_to_whole(value: float, within: float) -> bool:
    return abs(value - round(value)) <= within


def _fit_family(family: _Family, rows: np.ndarray, lr: np.ndarray, steps: int, starts: list[dict[str, float]]):
    """The family fitted to the logged rows from each start; a list of (error, shape), snapped variants too."""
    from scipy.optimize import least_squares

    peak = float(np.max(np.abs(lr))) or 1.0
    weight = 1.0 / np.maximum(np.abs(lr), 1e-3 * peak)
    names = family.names()
    bounds = {
        "W": (1e-6, float(steps)),
        "L": (0.5, float(steps) * 1e3),
        "power": (0.05, 20.0),
        "log_rate": (-50.0 / max(1, steps) * 10, 0.0),
    }

    def residual_for(fixed: dict[str, float], free: list[str]) -> Callable[[np.ndarray], np.ndarray]:
        def residual(x: np.ndarray) -> np.ndarray:
            theta = {**fixed, **dict(zip(free, (float(v) for v in x), strict=True))}
            _, model = _solve_values(family, theta, rows, lr, weight)
            out = (model - lr) * weight
            return np.where(np.isfinite(out), out, 1e6)

        return residual

    def fit(fixed: dict[str, float], free: list[str], x0: dict[str, float]) -> dict[str, float]:
        if not free:
            return dict(fixed)
        lo = [bounds[n][0] for n in free]
        hi = [bounds[n][1] for n in free]
        x = np.clip([x0[n] for n in free], lo, hi)
        try:
            solution = least_squares(
                residual_for(fixed, free),
                x,
                bounds=(lo, hi),
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                max_nfev=100 * len(free),
            )
            x = solution.x
        except ValueError:
            pass
        return {**fixed, **dict(zip(free, (float(v) for v in x), strict=True))}

    out: list[tuple[float, Shape]] = []
    seen: set[tuple] = set()
    for start in starts:
        theta = fit({}, names, start)
        variants = [theta]
        # whole-step positions: the warm-up's end and the decay's end (each, then both), refitting the rest
        snaps: list[dict[str, float]] = []
        w = theta.get("W")
        end = w + theta["L"] if w is not None and "L" in theta else theta.get("L")
        if w is not None and _close_to_whole(w, 0.05) and round(w) > 0:
            snaps.append({"W": float(round(w))})
        if end is not None and _close_to_whole(end, 0.05):
            snaps.append({"E": float(round(end))})
        if len(snaps) == 2:
            snaps.append({**snaps[0], **snaps[1]})
        for snap in snaps:
            fixed: dict[str, float] = {}
            if "W" in snap:
                fixed["W"] = snap["W"]
            if "E" in snap:
                if w is None:
                    fixed["L"] = snap["E"]
                elif "W" in fixed:
                    fixed["L"] = snap["E"] - fixed["W"]
                if "L" in fixed and fixed["L"] <= 0:
                    continue
            free = [n for n in names if n not in fixed]
            if "E" in snap and "W" not in fixed and w is not None:
                # the decay's end fixed, the warm-up's end free: fit W with L = E − W
                e = snap["E"]

                rest = [n for n in free if n not in ("W", "L")]

                def residual(x: np.ndarray, e: float = e, rest: list[str] = rest) -> np.ndarray:
                    others = dict(zip(rest, x[1:], strict=True))
                    theta2 = {"W": float(x[0]), "L": e - float(x[0]), **others}
                    _, model = _solve_values(family, theta2, rows, lr, weight)
                    r = (model - lr) * weight
                    return np.where(np.isfinite(r), r, 1e6)

                rest = [n for n in free if n not in ("W", "L")]
                x0 = np.array([theta["W"], *(theta[n] for n in rest)])
                lo = [1e-6, *(bounds[n][0] for n in rest)]
                hi = [e - 0.5, *(bounds[n][1] for n in rest)]
                if hi[0] <= lo[0]:
                    continue
                try:
                    sol = least_squares(
                        residual, np.clip(x0, lo, hi), bounds=(lo, hi), xtol=1e-15, ftol=1e-15, gtol=1e-15
                    )
                except ValueError:
                    continue
                snapped = {"W": float(sol.x[0]), "L": e - float(sol.x[0]), **dict(zip(rest, sol.x[1:], strict=True))}
            else:
                snapped = fit(fixed, [n for n in free if n != "L" or "L" not in fixed], theta)
            variants.append(snapped)
        for theta in variants:
            if "power" in theta and _close_to_whole(theta["power"], 1e-6):
                theta = {**theta, "power": float(round(theta["power"]))}
            values, _ = _solve_values(family, theta, rows, lr, weight)
            values = np.array([_snap_value(float(v), peak) for v in values])
            shape = _family_shape(family, theta, values, steps)
            if shape is None:
                continue
            key = tuple((s.kind, round(s.start, 9), round(s.length, 9), s.v0, s.v1, s.power) for s in shape.segments)
            if key in seen:
                continue
            seen.add(key)
            out.append((_off(shape, rows, lr), shape))
    return out


def _features(rows: np.ndarray, lr: np.ndarray, steps: int) -> dict[str, Any]:
    """Peak row (and the logged rows either side), where a final hold starts, where the curve jumps up."""
    top = int(np.argmax(lr))
    final = lr[-1]
    hold = len(lr) - 1
    while hold > 0 and abs(lr[hold - 1] - final) <= 1e-12 * max(abs(final), 1e-300):
        hold -= 1
    rises = [i for i in range(1, len(lr)) if lr[i] > lr[i - 1] * (1 + 1e-9) and i > top + 0]
    return {
        "top": top,
        "top_row": int(rows[top]),
        "before": int(rows[top - 1]) if top > 0 else 0,
        "after": int(rows[top + 1]) if top + 1 < len(rows) else int(rows[top]),
        "hold_row": int(rows[hold]) if hold < len(lr) - 1 else None,
        "rises": rises,
    }


def _warmup_decay_shapes(
    rows: np.ndarray, lr: np.ndarray, steps: int, feat: dict[str, Any]
) -> list[tuple[float, Shape]]:
    """Each warm-up + decay family fitted from its best two starts; families tried until one is exact."""
    top_row = feat["top_row"]
    has_warm = feat["top"] > 0
    if has_warm and feat["rises"] and any(i > feat["top"] + 1 for i in feat["rises"]):
        return []  # it rises again after decaying: restarts or a cycle, not one warm-up and one decay
    w_starts = sorted({float(top_row), (feat["before"] + top_row) / 2, (top_row + feat["after"]) / 2} - {0.0})
    out: list[tuple[float, Shape]] = []
    warms: list[str | None] = ["linear", "cosine"] if has_warm else [None]
    families = [
        _Family(warm, decay, hold)
        for decay, hold in (
            ("cosine", True),
            ("cosine", False),
            ("linear", True),
            ("exp", False),
            ("exp", True),
            ("poly", True),
            ("constant", True),
        )
        for warm in warms
    ]
    peak = float(np.max(np.abs(lr))) or 1.0
    weight = 1.0 / np.maximum(np.abs(lr), 1e-3 * peak)
    for family in families:
        w0s = w_starts if family.warm else [0.0]
        body = max(1.0, steps - (top_row if family.warm else 0))
        ls = {body, max(1.0, body - 1)}
        if feat["hold_row"] is not None:
            ls.add(max(1.0, feat["hold_row"] - (top_row if family.warm else 0)))
        if family.decay == "cosine" and not family.hold:
            ls.add(body * 1.5)
        starts = [{"W": w0, "L": l0, "power": 1.5, "log_rate": math.log(0.5) / body} for w0 in w0s for l0 in sorted(ls)]

        def cost(theta: dict[str, float], family: _Family = family) -> float:
            _, model = _solve_values(family, theta, rows, lr, weight)
            r = (model - lr) * weight
            return float(np.sum(r * r)) if np.all(np.isfinite(r)) else math.inf

        starts.sort(key=cost)
        fitted = _fit_family(family, rows, lr, steps, starts[:2])
        out += fitted
        if any(off <= 1e-9 for off, _ in fitted):
            break
    return out


def _restart_shapes(rows: np.ndarray, lr: np.ndarray, steps: int, feat: dict[str, Any]) -> list[tuple[float, Shape]]:
    """Cosines from one value to a floor, back to back, each T_mult times longer (torch, fastai, optax)."""
    rises = [i for i in range(1, len(lr)) if lr[i] > lr[i - 1] * (1 + 1e-9)]
    if feat["top"] != 0 or not rises:
        return []
    first = rises[0]
    lo, hi = int(rows[first - 1]) + 1, int(rows[first])
    peak = float(np.max(np.abs(lr)))
    weight = 1.0 / np.maximum(np.abs(lr), 1e-3 * peak)
    best: list[tuple[float, Shape]] = []
    for t0 in range(max(1, lo), min(hi, lo + 400) + 1):
        for mult in (1, 2, 3, 4):
            starts, lengths, s, length = [], [], 0, t0
            while s < steps and len(starts) < 400:
                starts.append(s)
                lengths.append(length)
                s, length = s + length, length * mult
            idx = np.searchsorted(starts, rows, side="right") - 1
            x = (rows - np.asarray(starts)[idx]) / np.asarray(lengths)[idx]
            g = (1 + np.cos(np.pi * x)) / 2
            basis = np.stack([g, 1 - g], axis=1)
            values, *_ = np.linalg.lstsq(basis * weight[:, None], lr * weight, rcond=None)
            v0, floor = float(values[0]), _snap_value(float(values[1]), peak)
            try:
                shape = Shape(
                    steps,
                    tuple(
                        Segment("cosine", float(a), float(b), v0, floor) for a, b in zip(starts, lengths, strict=True)
                    ),
                    notes=("read off the logged rows",),
                )
            except ValueError:
                continue
            best.append((_off(shape, rows, lr), shape))
    best.sort(key=lambda e: e[0])
    return best[:3]


def _stair_shapes(rows: np.ndarray, lr: np.ndarray, steps: int) -> list[tuple[float, Shape]]:
    """Levels held between logged rows: each change at the first logged row of its level, or one step size."""
    change = [0] + [i for i in range(1, len(lr)) if lr[i] != lr[i - 1]]
    if len(change) < 2 or len(change) * 2 > len(lr) or len(change) > 60:
        return []
    levels = [float(lr[i]) for i in change]
    out: list[tuple[float, Shape]] = []
    firsts = [constant(0, levels[0])] + [constant(int(rows[i]), levels[k + 1]) for k, i in enumerate(change[1:])]
    out.append((0.0, Shape(steps, merge(firsts), notes=("read off the logged rows",))))
    # one ratio and one step size (StepLR): the c-th change after c·size steps
    if all(v > 0 for v in levels):
        ratios = [b / a for a, b in itertools.pairwise(levels)]
        gamma = min(ratios, key=lambda r: abs(math.log(r)))
        counts = [round(math.log(r) / math.log(gamma)) if gamma != 1 else 0 for r in ratios]
        if gamma != 1 and all(
            c >= 1 and math.isclose(gamma**c, r, rel_tol=1e-9) for c, r in zip(counts, ratios, strict=True)
        ):
            total = np.cumsum(counts)
            level_at = np.zeros(len(rows), dtype=np.int64)
            for k, i in enumerate(change[1:]):
                level_at[i:] = total[k]
            a, b = int(rows[change[1] - 1]), int(rows[change[1]])
            c1 = int(total[0])
            for size in range(a // c1 + 1, b // c1 + 1):
                if size >= 1 and np.array_equal(rows // size, level_at):
                    pieces = [constant(s, levels[0] * gamma ** (s // size)) for s in range(0, steps, size)]
                    if len(pieces) <= 400:
                        out.insert(0, (0.0, Shape(steps, merge(pieces), notes=("read off the logged rows",))))
                    break
    return out


def read_shapes(rows: np.ndarray, lr: np.ndarray, steps: int) -> list[tuple[float, Shape]]:
    """Shapes fitted to the logged ``rows`` of a run of ``steps`` steps, as (max rel diff, shape), best first."""
    rows = np.asarray(rows, dtype=np.int64)
    lr = np.asarray(lr, dtype=np.float64)
    feat = _features(rows, lr, steps)
    found = _stair_shapes(rows, lr, steps)
    found += _restart_shapes(rows, lr, steps, feat)
    found += _warmup_decay_shapes(rows, lr, steps, feat)
    if rows.size == steps and np.array_equal(rows, np.arange(steps)):
        from lrlab.translating.infer import infer

        found += [(_off(s, rows, lr), s) for s in infer(lr)]
    found = [(off, shape) for off, shape in found if np.isfinite(off)]
    found.sort(key=lambda e: e[0])
    return found


# ---- candidates ---------------------------------------------------------------------------------------


@dataclass
class _Scored:
    config: ScheduleConfig
    how: str
    measured: Measured
    max_rel: float
    mean_rel: float
    tolerance: float


def _measure(config: ScheduleConfig) -> Measured | None:
    from lrlab.translating.engine import _measure_quietly

    return _measure_quietly(config)


def _score(config: ScheduleConfig, how: str, rows: np.ndarray, lr: np.ndarray, floor_tol: float) -> _Scored | None:
    measured = _measure(config)
    if measured is None or measured.lr.size < rows[-1] + 1:
        return None
    rel = _rel(measured.lr[rows], lr, measured.noise)
    finite = rel[np.isfinite(rel)]
    mean = float(finite.mean()) if finite.size == rel.size else math.inf
    tolerance = max(measured.tolerance, floor_tol, 1e-9)
    return _Scored(config, how, measured, float(rel.max()), mean, tolerance)


def _fractional(shape: Shape) -> int:
    """How many of the shape's positions are not whole steps."""
    return sum(
        abs(v - round(v)) > 1e-9 for s in shape.segments for v in (s.start, s.length if s.kind != "constant" else 0)
    )


def _plausible(config: ScheduleConfig, rows: np.ndarray, lr: np.ndarray) -> bool:
    """A cheap look before stepping the real library: lrlab's closed form, where it has one, near the logged rows."""
    from lrlab.simulate import has_fast_path
    from lrlab.translating.engine import _fast_values

    try:
        if not has_fast_path(config):
            return True
        values = _fast_values(config)[rows]
    except Exception:
        return True
    rel = _rel(values, lr)
    return bool(rel.size) and float(rel.max()) <= 1e-3


def _fit_template(template: FitTemplate, rows: np.ndarray, lr: np.ndarray) -> ScheduleConfig | None:
    """A library template fitted by least squares to the logged rows only (the engine's fit compares whole curves)."""
    from scipy.optimize import least_squares

    from lrlab.translating.engine import _fast_values

    scale = np.maximum(np.abs(lr), 1e-3 * float(np.max(np.abs(lr)) or 1.0))

    def residual(x: np.ndarray) -> np.ndarray:
        try:
            values = _fast_values(template.build(x))[rows]
        except Exception:
            return np.full(lr.shape, 1e6)
        out = (values - lr) / scale
        return np.where(np.isfinite(out), out, 1e6)

    x = np.clip(np.asarray(template.x0, dtype=np.float64), template.lower, template.upper)
    if template.names:
        try:
            x = least_squares(
                residual, x, bounds=(template.lower, template.upper), max_nfev=MAX_TEMPLATE_EVALUATIONS, x_scale="jac"
            ).x
        except Exception:
            pass
    try:
        return template.build(x)
    except Exception:
        return None


def _library_order(config: ScheduleConfig) -> tuple[int, int]:
    """Named schedules before generic ones, then the shortest description (StepLR before a list of boundaries)."""
    import json

    return (1 if config.scheduler in GENERIC else 0, len(json.dumps(config.params_dict, default=str)))


def identify(
    logged: LoggedRun | Sequence[float] | np.ndarray | Any,
    *,
    steps: int | None = None,
    top: int = 5,
    libraries: Sequence[str] | None = None,
) -> Identification:
    """Which schedules reproduce the logged curve ``logged``, best first (see the module docstring).

    ``steps`` is the run's length (default: the last logged step + 1); ``libraries`` restricts the
    search (default: every library); ``top`` answers are kept, each with its equivalents.

    >>> import numpy as np, lrlab.identifying as ident
    >>> t = np.arange(100)
    >>> found = ident.identify(0.1 * 0.5 ** (t // 30))          # doctest: +SKIP
    >>> found.best.scheduler, found.best.config.params_dict     # doctest: +SKIP
    ('StepLR', {'gamma': 0.5, 'step_size': 30})
    """
    from lrlab.translating.engine import Run, _library_missing, _module

    wanted = list(LIBRARIES) if libraries is None else list(dict.fromkeys(libraries))
    for library in wanted:
        if library not in LIBRARIES:
            raise invalid("libraries", library, "must be among " + ", ".join(LIBRARIES))
    if top < 1:
        raise invalid("top", top, "must be at least 1")
    rows, lr, steps, notes = _rows_and_lr(logged, steps)
    floor_tol = _tolerance(lr)
    if floor_tol:
        notes.append("the logged values are float32: compared at float32 precision")
    shapes = read_shapes(rows, lr, steps)
    # among the shapes that reproduce the logged rows: whole-step positions first, then fewer pieces
    kept = sorted(
        (shape for off, shape in shapes if off <= max(SHAPE_TOLERANCE, 10 * floor_tol)),
        key=lambda shape: (_fractional(shape), len(shape.segments)),
    )[:MAX_SHAPES]
    best_shape = kept[0] if kept else (shapes[0][1] if shapes else None)
    if not kept:
        notes.append(
            "no warm-up + decay, restarts or stairs reproduces the logged rows: every library's nearest schedule "
            "is fitted to them"
        )
    peak = float(np.max(lr))
    run = Run(steps=steps)
    source = ScheduleConfig.make("LambdaLR", {"lr_lambda": "1"}, base_lr=peak if peak > 0 else 1.0, steps=steps)
    scored: list[_Scored] = []
    seen: set[ScheduleConfig] = set()
    for library in wanted:
        missing = _library_missing(library)
        if missing:
            notes.append(f"{library}: {missing}")
            continue
        module = _module(library)
        found_exact = False
        for shape in kept:
            try:
                expressed = module.express(shape, run, source)
            except Exception:
                continue
            exact = 0
            for candidate in expressed.candidates:
                if (
                    candidate.config in seen
                    or exact >= MAX_EXACT_PER_LIBRARY
                    or not _plausible(candidate.config, rows, lr)
                ):
                    continue
                seen.add(candidate.config)
                result = _score(candidate.config, candidate.how, rows, lr, floor_tol)
                if result is not None:
                    scored.append(result)
                    exact += result.max_rel <= result.tolerance
            found_exact = exact > 0
            if found_exact:
                break
        if found_exact:
            continue
        try:
            templates = module.fit_templates(best_shape, run, source, _dense(rows, lr, steps))
        except Exception:
            templates = []
        for template in templates:
            config = _fit_template(template, rows, lr)
            if config is None or config in seen:
                continue
            seen.add(config)
            names = ", ".join(template.names)
            how = f"{names} fitted by least squares to the logged rows" if names else "computed from the curve"
            if template.how:
                how = f"{template.how}; {how}"
            result = _score(config, how, rows, lr, floor_tol)
            if result is not None:
                scored.append(result)
    return Identification(
        _rank(scored, top, steps), steps, rows, lr, best_shape, tuple(dict.fromkeys(notes + _ambiguity(rows, steps)))
    )


def _dense(rows: np.ndarray, lr: np.ndarray, steps: int) -> np.ndarray:
    """The logged curve on every step (linear between logged rows): what the fit templates' starts read."""
    return np.interp(np.arange(steps), rows, lr)


def _ambiguity(rows: np.ndarray, steps: int) -> list[str]:
    if rows.size == steps:
        return []
    return [
        "between logged rows the curve is not seen: a change of lr (a milestone) anywhere within a gap gives the same "
        "logged rows; equivalents are checked on every step, exact candidates only at the logged ones"
    ]


def _to_candidate(s: _Scored, equivalents: tuple[IdentifiedCandidate, ...] = ()) -> IdentifiedCandidate:
    from lrlab.schedulers import get_spec

    return IdentifiedCandidate(
        config=s.config,
        library=get_spec(s.config.scheduler).library,
        exact=s.max_rel <= s.tolerance,
        max_rel_diff=s.max_rel,
        mean_rel_diff=s.mean_rel,
        tolerance=s.tolerance,
        how=s.how,
        equivalents=equivalents,
        lr=s.measured.lr,
    )


def _rank(scored: list[_Scored], top: int, steps: int) -> tuple[IdentifiedCandidate, ...]:
    """Exact first (named schedules before generic ones), then by residual; same curves grouped."""

    def key(s: _Scored) -> tuple:
        exact = s.max_rel <= s.tolerance
        return (0 if exact else 1, *(_library_order(s.config) if exact else (0, 0)), s.max_rel, s.mean_rel)

    order = sorted(scored, key=key)
    groups: list[tuple[_Scored, list[_Scored]]] = []
    for s in order:
        for lead, members in groups:
            tolerance = max(lead.tolerance, s.tolerance)
            noise = max(lead.measured.noise, s.measured.noise)
            same = _rel(s.measured.lr[:steps], lead.measured.lr[:steps], noise)
            if same.size and float(same.max()) <= tolerance:
                members.append(s)
                break
        else:
            groups.append((s, []))
    out = []
    for lead, members in groups[:top]:
        out.append(_to_candidate(lead, tuple(_to_candidate(m) for m in members)))
    return tuple(out)


__all__ = ["GENERIC", "SHAPE_TOLERANCE", "Identification", "IdentifiedCandidate", "identify", "read_shapes"]
