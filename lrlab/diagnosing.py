"""Beside the plan: where a logged run's learning rates differ from the planned schedule, and why.

:func:`diagnose` overlays the plan's real curve (stepped by lrlab, extended where the log goes
further) on the logged lr at the logged rows, finds the first row where they differ beyond the
log's precision, and tries each known cause. A cause is reported only with the plan corrected by it
(a :class:`~lrlab.specs.ScheduleConfig`, or a curve computed with the real library) and its
remaining error; it *explains* the log when that error is within the log's precision. Otherwise the
diagnosis says "unexplained", with the residual and the closest candidate.

Causes tried (search ranges bounded; the closed form (:func:`lrlab.simulate.fast`) searches, the
real library confirms):

- ``accumulation`` — the scheduler stepped k times per logged step (logged row t is the plan's
  row t·k: gradient accumulation with the scheduler stepped per micro-batch, or accelerate stepping
  it once per device), or once every k logged steps (row t is the plan's row ⌊t/k⌋), k ≤ 64;
- ``per_epoch`` / ``per_step`` — stepped once per epoch of m steps where the plan steps per step,
  or the reverse;
- ``resume_last_epoch`` — resumed at step r by rebuilding the scheduler with ``last_epoch=r``;
  ``resume_new_total`` — resumed at r with a changed total (:mod:`lrlab.resume`, real objects);
- ``total`` / ``warmup`` — a different total (``num_training_steps``, ``T_max``, ``total_steps``…)
  or warm-up length, searched over the integers in [value/8, value·8];
- ``devices`` — a total that is the plan's divided or multiplied by a device count.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lrlab.logs import LoggedRun
from lrlab.specs import MAX_STEPS, LrlabError, ScheduleConfig, invalid

#: Largest accumulation factor / device count tried.
MAX_K = 64
#: Totals and warm-ups are searched within [value / SPAN, value · SPAN].
SPAN = 8
#: Float32 logs (TensorBoard): relative precision.
FLOAT32_PRECISION = 1e-6
#: Float64 logs written in full (JSON, CSV with repr): relative precision.
FLOAT64_PRECISION = 1e-9
TOTAL_NAMES = ("num_training_steps", "T_max", "total_steps", "total_iters", "decay_steps")
WARMUP_NAMES = ("num_warmup_steps", "warmup_steps")


@dataclass(frozen=True)
class Cause:
    """One explanation of the log: the plan corrected by it and what is left of the difference."""

    name: str  # accumulation, per_epoch, per_step, resume_last_epoch, resume_new_total, total, warmup, devices
    summary: str  # one sentence with the numbers
    corrected_lr: np.ndarray  # the corrected plan's lr at the logged rows (from the real library)
    remaining: float  # max relative difference between corrected_lr and the log
    exact: bool  # remaining within the log's precision
    corrected_config: ScheduleConfig | None = None  # where the correction is a config
    numbers: dict[str, Any] = field(default_factory=dict)  # k, steps_per_epoch, at, the total…

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "summary": self.summary,
            "remaining": self.remaining,
            "exact": self.exact,
            "numbers": dict(self.numbers),
            "corrected_config": None if self.corrected_config is None else self.corrected_config.to_dict(),
            "corrected_lr": [_num(v) for v in self.corrected_lr],
        }


@dataclass(frozen=True)
class Diagnosis:
    """The plan beside the log: where they differ, and the causes that explain it."""

    steps: np.ndarray  # the logged rows
    logged_lr: np.ndarray
    plan_lr: np.ndarray  # the plan's real curve at the logged rows
    first_diff_step: int | None  # first logged row differing beyond the precision (None: the plan)
    max_rel_diff: float
    mean_rel_diff: float
    precision: float
    causes: tuple[Cause, ...]  # those that explain the log exactly, best first
    unexplained: bool
    closest: Cause | None = None  # the best inexact candidate, where nothing explains the log
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        if self.first_diff_step is None:
            return f"The log follows the plan within its precision ({self.precision:.0e} relative)."
        if self.unexplained:
            return (
                f"Unexplained: the log leaves the plan at step {self.first_diff_step} (max relative difference "
                f"{self.max_rel_diff:.3g}, mean {self.mean_rel_diff:.3g}); no known cause explains it."
            )
        return self.causes[0].summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "first_diff_step": self.first_diff_step,
            "max_rel_diff": self.max_rel_diff,
            "mean_rel_diff": self.mean_rel_diff,
            "precision": self.precision,
            "unexplained": self.unexplained,
            "causes": [c.to_dict() for c in self.causes],
            "closest": None if self.closest is None else self.closest.to_dict(),
            "notes": list(self.notes),
            "steps": [int(s) for s in self.steps],
            "logged_lr": [_num(v) for v in self.logged_lr],
            "plan_lr": [_num(v) for v in self.plan_lr],
        }


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


# ---- precision and differences -----------------------------------------------------------------


def log_precision(logged: LoggedRun) -> float:
    """The relative precision of the logged values: the printed precision of a CSV (the fewest
    significant digits that reproduce every value), float32's for TensorBoard or float32 values,
    1e-9 for float64 written in full."""
    y = logged.lr[np.isfinite(logged.lr)]
    if y.size == 0:
        return FLOAT64_PRECISION
    for digits in range(1, 16):
        if all(float(f"{v:.{digits}g}") == v for v in y[:2000]):
            return max(0.51 * 10.0 ** (1 - digits), FLOAT64_PRECISION)
    if "tensorboard" in logged.source.lower() or bool(np.all(y.astype(np.float32).astype(np.float64) == y)):
        return FLOAT32_PRECISION
    return FLOAT64_PRECISION


def relative_diff(predicted: np.ndarray, logged: np.ndarray) -> np.ndarray:
    """|predicted − logged| relative to the larger of the two (0 where both are 0 or NaN, inf where
    only one is NaN); differences below 1e-15 of the peak are rounding."""
    predicted = np.asarray(predicted, dtype=np.float64)
    peak = float(np.nanmax(np.abs(logged))) if np.isfinite(logged).any() else 1.0
    with np.errstate(all="ignore"):
        diff = np.abs(predicted - logged)
        rel = diff / np.maximum(np.maximum(np.abs(predicted), np.abs(logged)), 1e-300)
    rel = np.where(diff <= 1e-15 * peak, 0.0, rel)
    both_nan = np.isnan(predicted) & np.isnan(logged)
    return np.where(both_nan, 0.0, np.where(np.isnan(rel), np.inf, rel))


def _max(rel: np.ndarray) -> float:
    return float(rel.max()) if rel.size else 0.0


# ---- the plan's curve at any rows --------------------------------------------------------------


class _Plan:
    """The plan with every parameter explicit, evaluated at arbitrary rows: by the closed form
    (searches) or by stepping the real library (what a cause reports)."""

    def __init__(self, plan: ScheduleConfig):
        from lrlab.resume import frozen
        from lrlab.simulate import resolve

        self.config = frozen(plan)
        self.spec, self.params, _ = resolve(self.config)

    def variant(self, **params: Any) -> ScheduleConfig:
        values = {**self.params, **params}
        return replace(self.config, params=ScheduleConfig.make(self.spec.name, values).params)

    @staticmethod
    def closed(config: ScheduleConfig, rows: np.ndarray) -> np.ndarray | None:
        """The closed form at ``rows`` (None without one); raises LrlabError for invalid params."""
        from dataclasses import replace as _replace

        from lrlab.simulate import EPOCH_CLOSED_FORMS, _explicit_closed_form, has_fast_path, resolve, scheduler_time

        if not has_fast_path(config):
            return None
        n = int(rows.max()) + 1 if rows.size else 1
        config = _replace(config, steps=min(max(config.steps, n), MAX_STEPS))
        spec, params, ctx = resolve(config)
        closed_form = spec.closed_form
        if config.interval in ("epoch_fraction", "epoch_arg") and spec.name in EPOCH_CLOSED_FORMS:
            closed_form = _explicit_closed_form(spec)
        local = scheduler_time(config)[rows]
        with np.errstate(all="ignore"):
            values = closed_form(local, ctx.group_lrs[0], params, ctx)
        return np.asarray(values, dtype=np.float64)

    @staticmethod
    def real(config: ScheduleConfig, rows: np.ndarray) -> np.ndarray:
        """The real library's lr at ``rows`` (stepped; NaN where it refused or beyond MAX_STEPS)."""
        from lrlab.simulate import _simulate

        n = int(rows.max()) + 1 if rows.size else 1
        config = replace(config, steps=min(max(config.steps, n), MAX_STEPS))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lr = _simulate(config).frame["lr"].to_numpy(dtype=np.float64)
        out = np.full(rows.shape, np.nan)
        inside = rows < len(lr)
        out[inside] = lr[rows[inside]]
        return out

    def quick(self, config: ScheduleConfig, rows: np.ndarray) -> np.ndarray:
        values = self.closed(config, rows)
        return self.real(config, rows) if values is None else values


# ---- the diagnosis -----------------------------------------------------------------------------


def diagnose(plan: ScheduleConfig, logged: LoggedRun, *, tolerance: float | None = None) -> Diagnosis:
    """Overlay ``plan`` on ``logged`` and name the known causes that explain the difference.

    ``tolerance`` is the relative precision of the logged values (default: :func:`log_precision`).
    Raises :class:`~lrlab.specs.LrlabError` for an empty log or a plan that can't be simulated."""
    if tolerance is not None and not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise invalid("tolerance", tolerance, "must be a number in (0, 1)")
    frame = logged.frame
    if "step" not in frame.columns or "lr" not in frame.columns:
        raise LrlabError("Invalid log: it needs the columns step and lr", field="logged")
    keep = np.isfinite(logged.lr) & (logged.steps >= 0)
    rows, y = logged.steps[keep], logged.lr[keep]
    if rows.size == 0:
        raise LrlabError("Invalid log: no finite learning rate to compare", field="logged")
    if int(rows.max()) >= MAX_STEPS:
        raise invalid("step", int(rows.max()), f"the log's steps must be below {MAX_STEPS}")
    precision = float(tolerance) if tolerance is not None else log_precision(logged)
    p = _Plan(plan)
    notes: list[str] = []
    if int(rows.max()) + 1 > p.config.steps:
        notes.append(
            f"The log goes to step {int(rows.max())}, beyond the plan's {p.config.steps} steps: the plan is "
            "extended with the same parameters."
        )
    plan_lr = p.real(p.config, rows)
    rel = relative_diff(plan_lr, y)
    over = np.flatnonzero(rel > precision)
    first = int(rows[over[0]]) if over.size else None
    finite = rel[np.isfinite(rel)]
    diagnosis = Diagnosis(
        steps=rows,
        logged_lr=y,
        plan_lr=plan_lr,
        first_diff_step=first,
        max_rel_diff=_max(rel),
        mean_rel_diff=float(finite.mean()) if finite.size else float("inf"),
        precision=precision,
        causes=(),
        unexplained=False,
        notes=tuple(notes),
    )
    if first is None:
        coverage = _coverage_note(p.config, rows)
        return replace(diagnosis, notes=(*notes, coverage) if coverage else tuple(notes))
    search = _Search(p, rows, y, precision, logged, first)
    candidates = search.run()
    exact = sorted((c for c in candidates if c.exact), key=lambda c: c.remaining)
    closest = None if exact else min(candidates, key=lambda c: c.remaining, default=None)
    return replace(diagnosis, causes=tuple(exact), unexplained=not exact, closest=closest)


def _coverage_note(config: ScheduleConfig, rows: np.ndarray) -> str | None:
    end = int(rows.max()) + 1
    if end >= config.steps:
        return None
    k = config.steps / end
    text = f"The log ends at step {end - 1}, {end} of the plan's {config.steps} steps"
    if abs(k - round(k)) < 1e-9 and round(k) >= 2:
        text += (
            f": 1/{round(k)} of it — if the run was complete, the plan counted {round(k)}× its optimizer steps "
            f"(micro-batches with gradient accumulation by {round(k)}, or the steps of one device of {round(k)})"
        )
    return text + "."


class _Search:
    """Each known cause, tried against the log (closed form to search, real library to confirm)."""

    def __init__(self, plan: _Plan, rows: np.ndarray, y: np.ndarray, precision: float, logged: LoggedRun, first: int):
        self.p, self.rows, self.y, self.precision, self.logged, self.first = plan, rows, y, precision, logged, first
        self.found: list[Cause] = []
        # a candidate the closed form puts within this much is confirmed with the real library
        self.loose = max(precision * 100, 1e-6)

    def run(self) -> list[Cause]:
        for attempt in (self.accumulation, self.epochs, self.totals, self.resumes):
            try:
                attempt()
            except LrlabError:
                continue
        return self.found

    def residual(self, predicted: np.ndarray, mask: np.ndarray | None = None) -> float:
        rel = relative_diff(predicted, self.y)
        return _max(rel if mask is None else rel[mask])

    def add(
        self, name: str, summary: str, lr: np.ndarray, config: ScheduleConfig | None = None, **numbers: Any
    ) -> None:
        remaining = self.residual(lr)
        exact = remaining <= self.precision
        text = summary + (
            f" Remaining difference {remaining:.2g} (within the log's precision {self.precision:.0e})."
            if exact
            else f" Remaining difference {remaining:.3g} (the log's precision is {self.precision:.0e})."
        )
        self.found.append(Cause(name, text, lr, remaining, exact, config, dict(numbers)))

    # -- gradient accumulation / devices: the plan compressed or stretched by k ------------------

    def accumulation(self) -> None:
        p, rows = self.p, self.rows
        best: dict[str, tuple[float, int]] = {}
        for k in range(2, MAX_K + 1):
            if int(rows.max()) * k >= MAX_STEPS:
                break
            for direction, mapped in (("compressed", rows * k), ("stretched", rows // k)):
                score = self.residual(p.quick(p.config, mapped))
                if score < best.get(direction, (np.inf, 0))[0]:
                    best[direction] = (score, k)
        for direction, (score, k) in best.items():
            if score > self.loose:
                continue
            if direction == "compressed":
                lr = p.real(p.config, rows * k)
                summary = (
                    f"Gradient accumulation by {k} (or {k} devices): the scheduler stepped {k} times per logged "
                    f"optimizer step, so step t of the log is the plan's step {k}·t — it was stepped per micro-batch "
                    f"while the plan counts optimizer steps, or once per process (accelerate's AcceleratedScheduler "
                    f"on {k} devices); the schedule runs {k}× too fast and ends at step {p.config.steps // k}."
                )
                self.add("accumulation", summary, lr, None, k=k, direction="k times per step")
            else:
                lr = p.real(p.config, rows // k)
                summary = (
                    f"Gradient accumulation by {k}: the scheduler stepped once every {k} logged steps (step t of the "
                    f"log is the plan's step ⌊t/{k}⌋) — the log counts micro-batches while the scheduler steps per "
                    f"optimizer step, or the loop steps it every {k} optimizer steps; the schedule runs {k}× too slow."
                )
                self.add("accumulation", summary, lr, None, k=k, direction="once per k steps")

    # -- stepping per epoch instead of per step, or the reverse ----------------------------------

    def epochs(self) -> None:
        p, rows = self.p, self.rows
        config = p.config
        if config.interval == "step":
            candidates = {config.steps_per_epoch, *range(2, MAX_K + 1), *_run_lengths(rows, self.y)}
            best = (np.inf, 0)
            for m in sorted(c for c in candidates if 2 <= c <= max(2, int(rows.max()))):
                score = self.residual(p.quick(config, rows // m))
                if score < best[0]:
                    best = (score, m)
                if score == 0.0:
                    break
            score, m = best
            if m and score <= self.loose:
                corrected = replace(config, interval="epoch", steps_per_epoch=m)
                lr = p.real(corrected, rows)
                summary = (
                    f"Stepped per epoch instead of per step: scheduler.step() once every {m} optimizer steps "
                    f"(steps_per_epoch={m}), where the plan steps it after every optimizer step; its "
                    f"{_total_text(p)} then counts epochs."
                )
                self.add("per_epoch", summary, lr, corrected, steps_per_epoch=m)
        elif config.interval in ("epoch", "epoch_arg"):
            corrected = replace(config, interval="step")
            if self.residual(p.quick(corrected, rows)) <= self.loose:
                summary = (
                    f"Stepped per step instead of per epoch: scheduler.step() after every optimizer step, where the "
                    f"plan steps it once per epoch of {config.steps_per_epoch} steps; the schedule runs "
                    f"{config.steps_per_epoch}× too fast."
                )
                self.add(
                    "per_step", summary, p.real(corrected, rows), corrected, steps_per_epoch=config.steps_per_epoch
                )

    # -- a different total or warm-up --------------------------------------------------------------

    def totals(self) -> None:
        p = self.p
        total = next((n for n in TOTAL_NAMES if n in p.params and p.params[n] is not None), None)
        warm = next((n for n in WARMUP_NAMES if n in p.params and p.params[n] is not None), None)
        results: dict[str, tuple[float, int]] = {}
        for name in (total, warm):
            if name is not None:
                results[name] = self.search_int(name, {})
        if total is not None and warm is not None:  # both changed: one round of coordinate search
            score_t, t = results[total]
            score_w, w = results[warm]
            if min(score_t, score_w) > self.loose:
                first, second = (total, warm) if score_t <= score_w else (warm, total)
                value = t if first == total else w
                score2, value2 = self.search_int(second, {first: value})
                if score2 <= self.loose:
                    config = p.variant(**{first: value, second: value2})
                    self.report_total(config, {first: value, second: value2})
                    return
        for name, (score, value) in results.items():
            if score <= self.loose and value != p.params[name]:
                self.report_total(p.variant(**{name: value}), {name: value})

    def search_int(self, name: str, fixed: dict[str, int]) -> tuple[float, int]:
        p = self.p
        base = int(p.params[name])
        low = max(0 if name in WARMUP_NAMES else 1, base // SPAN)
        high = max(base * SPAN, int(self.rows.max()) + 1 if name in WARMUP_NAMES else 8)
        if name in WARMUP_NAMES and fixed == {}:
            total = next((n for n in TOTAL_NAMES if n in p.params), None)
            if total is not None:
                high = min(high, int(p.params[total]))
        fast = p.closed(p.config, self.rows[:1]) is not None
        budget = 4000 if fast else 40

        def score(value: int) -> float:
            try:
                return self.residual(p.quick(p.variant(**fixed, **{name: value}), self.rows))
            except LrlabError:
                return np.inf

        if high - low + 1 <= budget:
            values = range(low, high + 1)
            scores = [score(v) for v in values]
            i = int(np.argmin(scores))
            return scores[i], values[i]
        grid = np.unique(np.geomspace(max(low, 1), high, budget // 2).astype(int))
        scores = np.array([score(int(v)) for v in grid])
        best = (np.inf, base)
        for i in np.argsort(scores)[:3]:
            lo = int(grid[max(i - 1, 0)])
            hi = int(grid[min(i + 1, len(grid) - 1)])
            for v in range(lo, hi + 1):
                s = score(v)
                if s < best[0]:
                    best = (s, v)
        return best

    def report_total(self, config: ScheduleConfig, values: dict[str, int]) -> None:
        p = self.p
        lr = p.real(config, self.rows)
        changes = ", ".join(f"{n}={v} (the plan: {p.params[n]})" for n, v in values.items())
        kinds = {("warmup" if n in WARMUP_NAMES else "total") for n in values}
        name = "total" if "total" in kinds else "warmup"
        what = {"total": "a different total", "warmup": "a different warm-up length"}[name]
        if kinds == {"total", "warmup"}:
            what = "a different total and warm-up"
        self.add(name, f"The run used {what}: {changes}.", lr, config, **values)
        for n, v in values.items():
            if n not in TOTAL_NAMES:
                continue
            planned = int(p.params[n])
            for ratio, word in ((planned / v, "divided"), (v / planned, "multiplied")):
                d = round(ratio)
                if 2 <= d <= MAX_K and abs(ratio - d) < 1e-9:
                    summary = (
                        f"A different device count ({d}), equivalent to a different total: {n}={v} is the plan's "
                        f"{planned} {word} by {d} — the total was counted for "
                        + (
                            f"{d} devices while the run stepped as one"
                            if word == "multiplied"
                            else f"one device of {d}"
                        )
                        + " (each device steps per optimizer step: the scheduler is not stepped per device)."
                    )
                    self.add("devices", summary, lr, config, devices=d, **{n: v})

    # -- a resume at step r ------------------------------------------------------------------------

    def resumes(self) -> None:
        from lrlab.resume import _check, resume_curves, total_param

        p, rows = self.p, self.rows
        try:
            _check(replace(p.config, steps=max(p.config.steps, int(rows.max()) + 2)), 1, "last_epoch")
        except LrlabError:
            return
        config = replace(p.config, steps=min(max(p.config.steps, int(rows.max()) + 1), MAX_STEPS))
        index = int(np.searchsorted(rows, self.first))
        prev = int(rows[index - 1]) if index > 0 else 0
        hints = [int(r) for r in self.logged.restarts if prev <= r <= self.first]
        candidates = sorted({*range(max(1, prev - 1), self.first + 1), *hints})
        if len(candidates) > MAX_K:
            candidates = sorted({*np.linspace(candidates[0], candidates[-1], MAX_K).astype(int).tolist(), *hints})
        if config.steps * len(candidates) > 4_000_000:
            candidates = candidates[-4:]
        scored: list[tuple[float, int, np.ndarray]] = []
        for r in candidates:
            if not 1 <= r < config.steps:
                continue
            result = resume_curves(config, r, "last_epoch")
            if result.error is None:
                lr = _at(result.resumed, rows)
                scored.append((self.residual(lr), r, lr))
        if scored:
            score = min(s for s, _, _ in scored)
            if score <= self.loose:
                # every r as good as the best (a log with gaps can't tell them apart): the latest one
                tied = [item for item in scored if item[0] <= max(score, self.precision)]
                _, r, lr = max(tied, key=lambda item: item[1])
                rs = sorted(item[1] for item in tied)
                where = (
                    f"step {r}"
                    if len(rs) == 1
                    else f"step {r} (any step from {rs[0]} to {rs[-1]} gives the same log: it has no rows between)"
                )
                summary = (
                    f"A resume at {where} by rebuilding the scheduler with last_epoch={r} (after loading the "
                    f"optimizer's state): the constructor steps once more from the loaded lr, so the curve leaves "
                    f"the plan from there on; resume with scheduler.load_state_dict instead."
                )
                numbers: dict[str, Any] = {"at": r}
                if len(rs) > 1:
                    numbers["at_range"] = (rs[0], rs[-1])
                self.add("resume_last_epoch", summary, lr, None, **numbers)
        name = total_param(config)
        if name is None or name not in p.params:
            return
        # a changed total on resume: the rows from r on follow the plan with another total
        for r in candidates[-3:]:
            if not 1 <= r < config.steps:
                continue
            after = rows > r  # row r still has the loaded optimizer's lr: the jump comes after it
            if not after.any():
                continue
            self.resume_total(config, name, r, after)

    def resume_total(self, config: ScheduleConfig, name: str, r: int, after: np.ndarray) -> None:
        from lrlab.resume import resume_curves

        p = self.p
        base = int(p.params[name])
        fast = p.closed(config, self.rows[:1]) is not None
        if not fast:
            return
        best = (np.inf, base)
        for value in range(max(1, base // SPAN), base * SPAN + 1):
            if value == base:
                continue
            try:
                lr = p.closed(p.variant(**{name: value}), self.rows[after])
            except LrlabError:
                continue
            score = _max(relative_diff(lr, self.y[after]))
            if score < best[0]:
                best = (score, value)
        score, value = best
        if score > self.loose:
            return
        rebuilt = replace(p.variant(**{name: value}), steps=config.steps)
        result = resume_curves(config, r, "new_total", rebuilt)
        lr = _at(result.resumed, self.rows)
        summary = (
            f"A resume at step {r} with a changed total: {name}={value} from there on (the plan: {base}); the "
            f"curve jumps to the new schedule's value at the same step (open_clip#413)."
        )
        self.add("resume_new_total", summary, lr, None, at=r, **{name: value})


def _run_lengths(rows: np.ndarray, y: np.ndarray) -> set[int]:
    """Lengths (in steps) of the plateaus of a staircase log: where equal values start anew."""
    if rows.size < 3:
        return set()
    starts = rows[np.r_[0, np.flatnonzero(np.diff(y) != 0) + 1]]
    lengths = np.diff(starts)
    values, counts = np.unique(lengths, return_counts=True)
    return {int(v) for v in values[np.argsort(counts)[::-1][:5]]}


def _at(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(rows.shape, np.nan)
    inside = rows < len(values)
    out[inside] = values[rows[inside]]
    return out


def _total_text(p: _Plan) -> str:
    name = next((n for n in TOTAL_NAMES if n in p.params), None)
    return f"{name}={p.params[name]}" if name else "schedule"


__all__ = ["Cause", "Diagnosis", "diagnose", "log_precision", "relative_diff"]
