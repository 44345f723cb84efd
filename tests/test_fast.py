"""The fast path equals the stepped library; decimation keeps the exact envelope; pages switch to
the fast path for long runs."""

import random

import numpy as np
import pytest

import lrlab
from lrlab.plots import MAX_POINTS, decimate, lr_figure
from lrlab.simulate import fast, has_fast_path, simulate, verify
from lrlab.specs import LrlabError, ScheduleConfig
from tests.strategies import context, draw_params, draw_run, groups_of

FAST = [name for name, spec in lrlab.SCHEDULERS.items() if spec.closed_form is not None and not spec.needs_metric]
# torch steps these recursively; their rounding drift is bounded separately (tests/test_parity.py)
DRIFTING = {"CosineAnnealingLR", "SequentialLR", "LinearLR"}


@pytest.mark.parametrize("name", FAST)
def test_the_fast_path_equals_the_stepped_library_for_random_params(name):
    rng = random.Random(f"fast-{name}")
    for _ in range(12):
        steps, base_lr, group_lrs = draw_run(rng, max_steps=1500)
        group_lrs = groups_of(lrlab.SCHEDULERS[name], group_lrs)
        params = draw_params(lrlab.SCHEDULERS[name], context(steps, base_lr, group_lrs), rng)
        config = ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr, group_lrs=group_lrs)
        library = simulate(config)
        if library.closed is None:  # a composition without a closed form: the fast path refuses it
            with pytest.raises(LrlabError):
                fast(config)
            continue
        quick = fast(config)
        # the same columns (a library's extra ones, such as optax's jitted lr, come from stepping it)
        extra = {"lr_jit", "metric"}
        assert quick.source == "closed form"
        assert list(quick.frame.columns) == [c for c in library.frame.columns if c not in extra]
        max_rel, _ = verify(quick)
        # the drifting ones are held to their own error model in tests/test_parity.py; float32 libraries to theirs
        bound = max(1e-12 if name not in DRIFTING else 1e-6, library.spec.tolerance)
        assert max_rel <= bound, (name, params, steps, max_rel)
        assert quick.stopped_at == library.stopped_at


@pytest.mark.parametrize("name", [n for n, s in lrlab.SCHEDULERS.items() if s.needs_metric])
def test_metric_driven_schedulers_have_no_fast_path(name):
    config = ScheduleConfig.make(name, {}, steps=10)
    assert not has_fast_path(config)
    with pytest.raises(LrlabError, match="no closed form"):
        fast(config)


def test_a_million_step_curve_comes_from_the_fast_path_with_every_row():
    curve = fast(ScheduleConfig.make("OneCycleLR", {}, steps=1_000_000))
    assert len(curve.frame) == 1_000_000 and np.isfinite(curve.frame["lr"]).all()
    assert curve.frame["lr"].iloc[0] == pytest.approx(0.004) and curve.frame["lr"].max() == pytest.approx(0.1)


def test_decimation_keeps_every_buckets_true_min_and_max_of_a_fast_cyclic_schedule():
    n = 1_000_000
    curve = fast(ScheduleConfig.make("CyclicLR", {"step_size_up": 5}, steps=n))
    y = curve.frame["lr"].to_numpy()
    x = curve.frame["step"].to_numpy().astype(np.float64)
    kept = decimate(x, y)
    assert len(kept) <= MAX_POINTS + 2 and kept[0] == 0 and kept[-1] == n - 1
    buckets = MAX_POINTS // 2
    edges = np.linspace(x[0], x[-1], buckets + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, buckets - 1)
    mask = np.zeros(n, dtype=bool)
    mask[kept] = True
    true_max = np.full(buckets, -np.inf)
    true_min = np.full(buckets, np.inf)
    np.maximum.at(true_max, which, y)
    np.minimum.at(true_min, which, y)
    kept_max = np.full(buckets, -np.inf)
    kept_min = np.full(buckets, np.inf)
    np.maximum.at(kept_max, which[mask], y[mask])
    np.minimum.at(kept_min, which[mask], y[mask])
    np.testing.assert_array_equal(kept_max, true_max)
    np.testing.assert_array_equal(kept_min, true_min)
    # striding would have shown a flat line: every 500th point of a period-10 cycle is the same phase
    assert np.ptp(y[::500][:buckets]) < np.ptp(y) / 100


def test_the_chart_sends_exact_values_and_stays_small_at_a_million_steps():
    curve = fast(ScheduleConfig.make("CosineAnnealingLR", {"T_max": 77_777}, steps=1_000_000))
    fig = lr_figure(curve)
    trace = fig.data[0]
    assert len(trace.x) <= MAX_POINTS + 2
    np.testing.assert_array_equal(np.asarray(trace.y), curve.frame["lr"].to_numpy()[np.asarray(trace.x)])
    assert len(fig.to_json()) < 50_000 + 10_000  # one trace of data plus the layout


def test_pages_draw_the_fast_path_above_the_threshold(monkeypatch):
    from lrlab.ui import cache

    small = cache.cached_curve(ScheduleConfig.make("StepLR", {}, steps=1000))
    large = cache.cached_curve(ScheduleConfig.make("StepLR", {}, steps=cache.FAST_THRESHOLD + 1))
    metric = cache.cached_curve(ScheduleConfig.make("ReduceLROnPlateau", {}, steps=cache.FAST_THRESHOLD + 1))
    assert (small.source, large.source, metric.source) == ("library", "closed form", "library")
