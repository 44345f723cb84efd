"""Closed forms against the stepped library: the same numbers, step by step, over random valid params.

For every scheduler with a closed form, :data:`CASES` seeded draws of (steps, base lr, an extra param
group or not, SGD or Adam, parameters) are simulated with the real torch / transformers object and
compared point by point with the closed form, here in the test (not through ``Curve.max_rel_diff``).

The error measure is the one ``lrlab.simulate.compare`` documents::

    err_t = |library_t - closed_t| / max(|closed_t|, 1e-12 * max_t |closed_t|)

Bounds reached (max over 1300 extra seeded draws per scheduler while writing these tests; see
:func:`allowed_error` for the two that need more than a constant):

* bit-exact (0): LambdaLR, MultiplicativeLR (cumprod multiplies in ``step()``'s order), OneCycleLR
  (lr and momentum/beta1), CosineAnnealingWarmRestarts and every transformers schedule but
  polynomial (``LambdaLR`` over the same multiplier).
* ≤ 1e-12, measured ≤ 4.3e-15: ConstantLR (2.2e-16: torch undoes ``×factor`` with ``×1/factor``),
  CyclicLR (4.3e-15: ``b + (M−b)·s·g`` associated differently), transformers polynomial (5.9e-16).
* ≤ 1e-12, measured ≤ 5.5e-14, the recursive torch schedulers: ExponentialLR (4.8e-15), StepLR
  (3.3e-15), MultiStepLR (3.9e-16), ChainedScheduler (4.5e-15), SWALR (3.4e-14: it undoes the
  previous α each step), PolynomialLR (5.5e-14). Each ``step()`` multiplies the current lr by a
  factor, one rounding per step, so the drift is ~t·eps ≪ 1e-12 for t ≤ 3000; PolynomialLR's factor
  is raised to ``power`` (≤ 10), which multiplies its rounding error.
* LinearLR: ≤ 1e-12 (measured 1e-13) except where the closed form is exactly 0 (end_factor = 0,
  t ≥ total_iters), where the measure reaches 1.3e-4: torch's update
  ``lr·(1 + (e−s)/(T·s + (t−1)(e−s)))`` is 1 − 1 only up to rounding and leaves a residue of at
  most one ulp of the curve's scale (measured 0.81·eps·max), held from then on.
* CosineAnnealingLR, and SequentialLR through its CosineAnnealingLR child: up to 6.1e-9 and 4.8e-9
  by this measure, because torch steps a recursion: each step multiplies ``lr − eta_min`` by
  ``(1 + cos(πt/T))/(1 + cos(π(t−1)/T))`` and adds eta_min back.

  - Every step costs a rounding of the lr (relative eps) and of the subtraction (absolute
    eps·eta_min, large against the lr when eta_min ≫ the lr: an inverted curve).
  - At each trough of the cosine (t = T, 3T, …) ``1 ± cos`` is ~(π/T)²/2 and is computed with
    cancellation, by torch's restart branch and by the closed form alike; the steps after the
    trough multiply the curve back up by up to 2(T/π)², and the error made there with it.

  Hence the bound used: ``1e-12 + 4·eps·g_t·(1 + eta_min/|lr_t|)`` with
  ``g_t = t + 2(T_max/π)²·(troughs passed)``; measured within 1.2× of ``eps·g_t·(…)`` over 3000 draws.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

import lrlab
from lrlab import SCHEDULERS, ScheduleConfig, simulate
from lrlab.metrics import synthetic_loss
from lrlab.simulate import _context, compare, rounding
from lrlab.specs import MAX_STEPS
from tests.strategies import context, draw_params, draw_run, groups_of

EPS = float(np.finfo(np.float64).eps)
TOLERANCE = 1e-12
CASES = 60
MAX_RUN = 3000

CLOSED_FORM = [name for name, spec in SCHEDULERS.items() if spec.closed_form is not None]
# WarmupThenPlateau (a warm-up, then ReduceLROnPlateau) is checked against its hand-written loop in
# tests/test_stepping_patterns.py
METRIC_DRIVEN = [
    name
    for name, spec in SCHEDULERS.items()
    if spec.needs_metric and spec.closed_form is None and name != "WarmupThenPlateau"
]


def relative_error(library: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Per-point error, relative to max(|closed|, 1e-12·max|closed|); NaN in both is 0, in one is inf."""
    library = np.asarray(library, dtype=np.float64)
    closed = np.asarray(closed, dtype=np.float64)
    assert library.shape == closed.shape
    finite = np.isfinite(closed)
    scale = float(np.max(np.abs(closed[finite]))) if finite.any() else 0.0
    denominator = np.maximum(np.abs(closed), 1e-12 * scale)
    difference = np.abs(library - closed)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(difference == 0, 0.0, difference / denominator)
    both_missing = np.isnan(library) & np.isnan(closed)
    return np.where(both_missing, 0.0, np.where(np.isnan(error), np.inf, error))


def allowed_error(name: str, params: dict[str, Any], closed: np.ndarray) -> np.ndarray:
    """The error bound per point: 1e-12, except for the two error models explained in the module
    docstring (LinearLR, CosineAnnealingLR), which also apply to them as children of a composite."""
    finite = np.isfinite(closed)
    scale = float(np.max(np.abs(closed[finite]))) if finite.any() else 0.0
    floor = np.maximum(np.abs(closed), 1e-12 * scale)
    t = np.arange(len(closed), dtype=np.float64)
    if name == "SequentialLR" and "schedulers" in params:  # each child on its own local time
        bound = np.full(len(closed), TOLERANCE)
        starts = [0, *params["milestones"]]
        ends = [*params["milestones"], len(closed)]
        for child, start, stop in zip(params["schedulers"], starts, ends, strict=False):
            part = slice(min(start, len(closed)), min(max(start, stop), len(closed)))
            bound[part] = _bound(child["name"], child, t[part] - start, closed[part], scale, floor[part])
        return bound
    if name == "ChainedScheduler" and "schedulers" in params:  # a product: the loosest child's bound
        return np.max([_bound(c["name"], c, t, closed, scale, floor) for c in params["schedulers"]], axis=0)
    if name == "SequentialLR":  # LinearLR warm-up, then CosineAnnealingLR from the milestone warmup_iters
        warm = t < params["warmup_iters"]
        cosine = _bound("CosineAnnealingLR", params, t - params["warmup_iters"], closed, scale, floor)
        return np.where(warm, TOLERANCE, cosine)
    return _bound(name, params, t, closed, scale, floor)


def _bound(name: str, params: dict[str, Any], t: np.ndarray, closed: np.ndarray, scale: float, floor: np.ndarray):
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "LinearLR":  # one ulp of the curve's scale where the closed form is exactly 0 (end_factor = 0)
            return np.where(closed == 0, EPS * scale / floor, TOLERANCE)
        if name == "CosineAnnealingLR":
            local, period = np.maximum(t, 0), params["T_max"]
            passed = np.where(local > period, (local - period - 1) // (2 * period) + 1, 0)  # troughs: T, 3T, …
            growth = local + 2 * (period / math.pi) ** 2 * passed
            return TOLERANCE + 4 * EPS * growth * (1 + params["eta_min"] / floor)
    return np.full(len(closed), TOLERANCE)


def assert_columns_match(name: str, params: dict[str, Any], result: lrlab.Curve, column: str) -> float:
    library = result.frame[column].to_numpy()
    closed = result.closed[column].to_numpy()
    error = relative_error(library, closed)
    bound = allowed_error(name, params, closed) if column.startswith("lr") else TOLERANCE
    bound = np.maximum(bound, result.spec.tolerance if result.spec.tolerance > 1e-9 else 0.0)  # float32 libraries
    noise = rounding(result.spec, result.params, _context(result.config))  # where float32 arithmetic cancels
    if noise:
        finite = np.isfinite(closed)
        scale = float(np.max(np.abs(closed[finite]))) if finite.any() else 0.0
        bound = np.maximum(bound, noise / np.maximum(np.abs(closed), max(1e-12 * scale, 1e-300)))
    over = np.flatnonzero(error > bound)
    assert over.size == 0, (
        f"{name} {column} differs from its closed form at step {over[0]}: library {library[over[0]]!r}, "
        f"closed {closed[over[0]]!r} (error {error[over[0]]:.3g}); params {params}, config {result.config}"
    )
    return float(error.max()) if error.size else 0.0


def simulate_case(name: str, rng: random.Random, case: int) -> tuple[dict[str, Any], lrlab.Curve]:
    steps, base_lr, extra = draw_run(rng, max_steps=MAX_RUN)
    group_lrs = groups_of(SCHEDULERS[name], extra) if case % 2 == 0 else ()  # every other case: a second group
    optimizer = "adam" if case % 4 in (1, 2) else "sgd"
    params = draw_params(SCHEDULERS[name], context(steps, base_lr, group_lrs), rng)
    config = ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr, group_lrs=group_lrs, optimizer=optimizer)
    return params, simulate(config)


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_closed_form_equals_the_stepped_library_for_random_valid_params(name):
    rng = random.Random(f"parity:{name}")
    for case in range(CASES):
        params, result = simulate_case(name, rng, case)
        if result.closed is None:  # by design for this configuration (timm's noise): said, never drawn wrong
            assert any("No closed form" in note for note in result.notes), result.notes
            continue
        frame, closed = result.frame, result.closed
        steps = result.config.steps
        assert list(frame["step"]) == list(range(steps))
        assert list(closed["step"]) == list(range(steps))
        # the lr of each group and the momentum (a library's extra columns, such as optax's jitted lr, aside)
        compared = [*result.lr_columns, *([result.momentum_column] if result.momentum_column else [])]
        assert sorted(compared) == sorted(c for c in closed.columns if c != "step"), "closed form lacks a column"
        assert len(compared) >= 1 + len(result.config.group_lrs)
        # the library's own values are finite up to where it stopped (OneCycleLR refuses to go past N)
        end = steps if result.stopped_at is None else result.stopped_at
        assert np.isfinite(frame.loc[: end - 1, list(result.lr_columns)].to_numpy()).all()
        assert frame.loc[end:, "lr"].isna().all()
        for column in compared:
            assert_columns_match(name, params, result, column)


@pytest.mark.parametrize("optimizer, column", [("sgd", "momentum"), ("adam", "beta1")])
@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_cycled_momentum_or_beta1_equals_its_closed_form(name, optimizer, column):
    rng = random.Random(f"momentum:{name}:{optimizer}")
    for _ in range(CASES // 2):
        steps, base_lr, _ = draw_run(rng, max_steps=MAX_RUN)
        params = draw_params(SCHEDULERS[name], context(steps, base_lr), rng)
        params["cycle_momentum"] = True
        result = simulate(ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr, optimizer=optimizer))
        assert column in result.frame.columns and column in result.closed.columns
        assert ({"momentum", "beta1"} - {column}).isdisjoint(result.frame.columns)
        assert_columns_match(name, params, result, column)
        # the momentum moves inversely to the lr: it starts at max_momentum, where the lr starts low
        # (unless OneCycleLR's warm-up phase is empty: pct_start · total_steps < 1 starts in the annealing)
        if name == "CyclicLR" or params["pct_start"] * params["total_steps"] > 1:
            assert result.frame[column].iloc[0] == pytest.approx(params["max_momentum"], abs=1e-15)


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_no_momentum_column_appears_without_cycle_momentum(name):
    result = simulate(ScheduleConfig.make(name, {"cycle_momentum": False}, steps=50))
    assert {"momentum", "beta1"}.isdisjoint(result.frame.columns)
    assert {"momentum", "beta1"}.isdisjoint(result.closed.columns)


def test_the_relative_error_measure_flags_a_single_wrong_point():
    closed = np.array([1.0, 0.5, 0.0, np.nan])
    assert relative_error(closed.copy(), closed).max() == 0
    wrong = closed.copy()
    wrong[1] = 0.5 * (1 + 1e-10)
    assert relative_error(wrong, closed)[1] == pytest.approx(1e-10, rel=1e-6)
    wrong = closed.copy()
    wrong[2] = 1e-20  # near a zero of the curve the floor 1e-12 · max takes over
    assert relative_error(wrong, closed)[2] == pytest.approx(1e-8)
    wrong = closed.copy()
    wrong[3] = 0.1  # a value where the other curve has none
    assert relative_error(wrong, closed)[3] == np.inf


def test_a_decay_to_zero_is_reported_as_matching_its_closed_form_despite_the_rounding_residue():
    params = {"start_factor": 1 / 3, "end_factor": 0.0, "total_iters": 5}
    result = simulate(ScheduleConfig.make("LinearLR", params, steps=10, base_lr=0.1))
    residue = result.frame["lr"].iloc[-1]
    assert residue != 0.0 and abs(residue) <= EPS * 0.1  # torch: 1 − 1 up to rounding, closed form: exactly 0
    assert result.first_diff_step is None and result.max_rel_diff == 0.0
    assert not any("negative" in note for note in result.notes)  # −1.5e-18 is rounding, not an uphill lr


def test_lrlab_reports_a_real_difference_from_the_first_step_it_occurs():
    closed = np.array([[1.0], [0.5], [0.25], [0.0]])
    library = closed.copy()
    library[2, 0] = 0.25 * (1 + 1e-8)
    assert compare(library, closed) == (pytest.approx(1e-8, rel=1e-6), 2)
    library[3, 0] = 1e-13  # where the closed form is 0: judged against 1e-12 of the largest value
    assert compare(library, closed) == (pytest.approx(0.1), 2)
    library[1, 0] = np.nan  # the library stopped where the closed form goes on
    assert compare(library, closed) == (np.inf, 1)


def test_a_negative_lr_beyond_rounding_is_noted():
    params = {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "linear"}
    result = simulate(ScheduleConfig.make("OneCycleLR", params, steps=12))
    assert any("negative from step 10" in note for note in result.notes)


# ---- metric-driven schedulers: no closed form, so re-apply their documented rules ------------


def plateau_rule(metric, lr, *, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps):
    """ReduceLROnPlateau as the torch docs / the reference (§2.12) describe it: lr after each observed metric."""
    best = math.inf if mode == "min" else -math.inf
    bad = cooldown_left = 0
    lrs = [lr]
    for value in metric[:-1]:  # the lr of row t+1 is set by step(metric[t])
        if mode == "min":
            better = value < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = value > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        best, bad = (value, 0) if better else (best, bad + 1)
        if cooldown_left > 0:
            cooldown_left -= 1
            bad = 0
        if bad > patience:
            reduced = max(lr * factor, min_lr)
            if lr - reduced > eps:
                lr = reduced
            cooldown_left, bad = cooldown, 0
        lrs.append(lr)
    return np.array(lrs)


def greedy_rule(metric, lr, *, factor, patience, threshold, cooldown, warmup, min_lr, max_lr, reset_start, eps=1e-8):
    """transformers' GreedyLR (mode min, abs threshold, no smoothing) as the reference (§3.2) describes it."""
    initial, best = lr, math.inf
    good = bad = cooldown_left = warmup_left = 0
    resets_left = reset_start
    lrs = [lr]
    for value in metric[:-1]:
        if cooldown_left > 0:
            cooldown_left, good, bad = cooldown_left - 1, 0, 0
        elif warmup_left > 0:
            warmup_left, good, bad = warmup_left - 1, 0, 0
        else:
            if value < best - threshold:
                best, bad, good = value, 0, good + 1
            else:
                bad, good = bad + 1, 0
            if good > patience:
                raised = min(lr / factor, max_lr)
                lr = raised if raised - lr > eps else lr
                warmup_left, good, resets_left = warmup, 0, reset_start
            elif bad > patience:
                reduced = max(lr * factor, min_lr)
                lr = reduced if lr - reduced > eps else lr
                if lr <= min_lr:
                    resets_left -= 1
                    if resets_left <= 0:
                        lr, best, good, bad, resets_left = initial, math.inf, 0, 0, reset_start
                cooldown_left, bad = cooldown, 0
        lrs.append(lr)
    return np.array(lrs)


# torch's documented defaults (ReduceLROnPlateau signature), written out rather than read from lrlab
PLATEAU_DEFAULTS = dict(
    mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8
)
GREEDY_DEFAULTS = dict(
    factor=0.95, patience=10, threshold=1e-6, cooldown=0, warmup=0, min_lr=1e-3, max_lr=1.0, reset_start=500
)


def expected_metric_lrs(name: str, metric: np.ndarray, base_lr: float, **params: Any) -> np.ndarray:
    if name == "get_greedy_schedule":
        return greedy_rule(metric, base_lr, **{**GREEDY_DEFAULTS, **params})
    return plateau_rule(metric, base_lr, **{**PLATEAU_DEFAULTS, **params})


def test_the_metric_driven_schedulers_are_the_ones_without_a_closed_form():
    without = sorted(name for name, spec in SCHEDULERS.items() if spec.closed_form is None)
    assert without == [
        "ReduceLROnPlateau",
        "WarmupThenPlateau",
        "get_greedy_schedule",
        "get_reduce_on_plateau_schedule",
        "timm:PlateauLRScheduler",
    ]
    # timm's plateau is driven by its adapter, one (synthetic) metric per epoch
    assert all(SCHEDULERS[name].needs_metric or SCHEDULERS[name].drive is not None for name in without)


@pytest.mark.parametrize("steps", [300, 2000])
@pytest.mark.parametrize("name", METRIC_DRIVEN)
def test_a_metric_driven_schedule_reduces_the_lr_on_the_default_synthetic_loss(name, steps):
    frame = lrlab.curve(name, steps=steps, base_lr=0.1)
    lr = frame["lr"].to_numpy()
    # the metric of row t is the one observed after step t: there is none after the last row
    assert np.isfinite(lr).all() and np.isfinite(frame["metric"].to_numpy()[:-1]).all()
    expected = expected_metric_lrs(name, frame["metric"].to_numpy(), 0.1)
    np.testing.assert_allclose(lr, expected, rtol=1e-15, atol=0)
    assert (np.diff(lr) < 0).sum() >= 1, "the lr was never reduced"


@pytest.mark.parametrize("name", ["ReduceLROnPlateau", "get_reduce_on_plateau_schedule"])
def test_plateau_rule_with_cooldown_abs_threshold_and_a_floor_matches_a_given_metric(name):
    params = dict(factor=0.5, patience=3, threshold=1e-3, threshold_mode="abs", cooldown=2, min_lr=0.02)
    metric = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(60, 0.5), np.linspace(0.5, 0.1, 20)])
    frame = lrlab.curve(name, steps=len(metric), base_lr=0.4, metrics=metric, **params)
    expected = expected_metric_lrs(name, metric, 0.4, **params)
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected, rtol=1e-15, atol=0)
    assert frame["lr"].iloc[-1] == 0.02  # 0.4 halved down to the floor min_lr
    assert frame["lr"].iloc[20] == 0.4  # still improving through step 19


def test_plateau_evaluated_every_few_steps_changes_the_lr_only_after_an_evaluation():
    every, steps = 5, 301
    evaluations = (steps - 1) // every  # scheduler.step(metric) after steps 5, 10, …, 300
    metric = np.concatenate([np.linspace(1.0, 0.6, 20), np.full(evaluations - 20, 0.6)])
    frame = lrlab.curve("ReduceLROnPlateau", steps=steps, base_lr=0.3, metrics=metric, eval_every=every, patience=4)
    after_each = plateau_rule(np.append(metric, np.nan), 0.3, **{**PLATEAU_DEFAULTS, "patience": 4})
    expected = after_each[np.arange(steps) // every]  # row r has seen r // every evaluations
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected, rtol=1e-15, atol=0)
    observed = frame["metric"].to_numpy()
    np.testing.assert_array_equal(observed[every - 1 :: every], metric)
    assert np.isnan(np.delete(observed, np.arange(every - 1, steps, every))).all()
    assert expected[-1] < 0.3


def test_plateau_in_max_mode_reduces_when_an_accuracy_stops_rising():
    metric = np.concatenate([np.linspace(0.1, 0.9, 30), np.full(40, 0.9)])
    frame = lrlab.curve("ReduceLROnPlateau", steps=len(metric), base_lr=1.0, metrics=metric, mode="max", patience=5)
    expected = expected_metric_lrs("ReduceLROnPlateau", metric, 1.0, mode="max", patience=5)
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected, rtol=1e-15, atol=0)
    assert frame["lr"].iloc[:31].eq(1.0).all() and frame["lr"].iloc[-1] < 1.0


def test_greedy_raises_the_lr_while_the_metric_improves_and_cuts_it_on_a_plateau():
    metric = np.concatenate([np.linspace(2.0, 1.0, 40), np.full(40, 1.0)])
    frame = lrlab.curve("greedy", steps=len(metric), base_lr=0.1, metrics=metric, patience=3)
    expected = expected_metric_lrs("get_greedy_schedule", metric, 0.1, patience=3)
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected, rtol=1e-15, atol=0)
    lr = frame["lr"].to_numpy()
    assert lr[:41].max() > 0.1 and lr[-1] < lr[:41].max()


def test_the_default_metric_stream_covers_every_valid_run_length():
    # the longest run evaluates its metric after each of its first MAX_STEPS − 1 steps (checked on the
    # stream itself: stepping a million-step plateau run would take half a minute)
    loss = synthetic_loss(MAX_STEPS - 1)
    assert loss.shape == (MAX_STEPS - 1,) and np.isfinite(loss).all()
