"""The app's curve cache (lrlab.ui.cache): shared without copies, bounded in bytes, safe to write into.

Expected values come from lrlab.simulate run directly (the real torch scheduler) and from the sizes
of the arrays involved (8 bytes a float64 or int64)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from lrlab.simulate import Curve, simulate
from lrlab.specs import ScheduleConfig
from lrlab.ui.cache import CURVES, CurveCache, cached_curve


def config(t_max: int = 50, steps: int = 200) -> ScheduleConfig:
    return ScheduleConfig.make("CosineAnnealingLR", {"T_max": t_max}, steps=steps)


def counted(cfg: ScheduleConfig, calls: list[int]):
    def compute() -> Curve:
        calls.append(1)
        return simulate(cfg)

    return compute


@pytest.fixture(autouse=True)
def empty_cache():
    CURVES.clear()
    yield
    CURVES.clear()


def test_a_hit_is_the_library_curve_shared_not_recomputed_nor_copied():
    cfg = config()
    calls: list[int] = []
    cache = CurveCache(10 * 1024**2)
    first = cache.get("stepped", cfg.to_json(), counted(cfg, calls))
    second = cache.get("stepped", cfg.to_json(), counted(cfg, calls))
    assert calls == [1], "the second visitor's curve was computed again"
    truth = simulate(cfg).frame
    pd.testing.assert_frame_equal(second["frame"], truth)
    assert np.shares_memory(first["frame"]["lr"].to_numpy(), second["frame"]["lr"].to_numpy())
    assert second["frame"] is not first["frame"], "both visitors hold the same DataFrame object"


def test_what_one_visitor_writes_into_its_curve_no_other_visitor_sees():
    cfg = config()
    cache = CurveCache(10 * 1024**2)
    mine = cache.get("stepped", cfg.to_json(), lambda: simulate(cfg))
    truth = simulate(cfg)
    mine["frame"].loc[0, "lr"] = 123.0
    mine["frame"]["lr_doubled"] = mine["frame"]["lr"] * 2
    mine["closed"]["lr"] = 0.0
    mine["params"]["T_max"] = 7
    with pytest.raises(ValueError, match="read-only"):
        mine["frame"]["step"].to_numpy()[0] = 99  # the arrays a shared frame hands out are read-only

    theirs = cache.get("stepped", cfg.to_json(), lambda: pytest.fail("recomputed"))
    pd.testing.assert_frame_equal(theirs["frame"], truth.frame)
    pd.testing.assert_frame_equal(theirs["closed"], truth.closed)
    assert theirs["params"]["T_max"] == 50


def test_the_cache_holds_at_most_its_bytes_and_drops_the_least_recently_used():
    # 1,000 steps: step (int64), epoch (int64 or float64) and lr (float64) in the frame, step and lr in
    # the closed form: at least 5 columns × 8 bytes × 1,000 rows = 40 KB a curve.
    per_curve = 40_000
    cache = CurveCache(max_bytes=3 * per_curve + per_curve // 2)  # room for 2 or 3 curves, not 4
    cfgs = [config(t_max=10 + i, steps=1000) for i in range(4)]
    for cfg in cfgs[:2]:
        cache.get("stepped", cfg.to_json(), lambda cfg=cfg: simulate(cfg))
    cache.get("stepped", cfgs[0].to_json(), lambda: pytest.fail("curve 0 was dropped too early"))  # 0 is now recent
    for cfg in cfgs[2:]:
        cache.get("stepped", cfg.to_json(), lambda cfg=cfg: simulate(cfg))
    assert cache.bytes <= 3 * per_curve + per_curve // 2
    assert 2 <= len(cache) <= 3
    calls: list[int] = []
    cache.get("stepped", cfgs[1].to_json(), counted(cfgs[1], calls))
    assert calls == [1], "the least recently used curve (1) was still held"


def test_a_curve_larger_than_the_whole_budget_is_drawn_but_not_kept():
    cfg = config(steps=2000)
    cache = CurveCache(max_bytes=1000)
    parts = cache.get("stepped", cfg.to_json(), lambda: simulate(cfg))
    assert len(parts["frame"]) == 2000
    assert len(cache) == 0 and cache.bytes == 0


def test_visitors_asking_for_the_same_new_curve_at_once_compute_it_once():
    cfg = config()
    calls: list[int] = []

    def slow() -> Curve:
        calls.append(1)
        time.sleep(0.2)
        return simulate(cfg)

    cache = CurveCache(10 * 1024**2)
    results: list[dict] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("stepped", cfg.to_json(), slow))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert len(results) == 4 and all(len(r["frame"]) == 200 for r in results)


def test_a_failed_computation_is_not_kept_and_the_next_visitor_tries_again():
    cfg = config()
    cache = CurveCache(10 * 1024**2)
    with pytest.raises(RuntimeError, match="boom"):
        cache.get("stepped", cfg.to_json(), lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert len(cache) == 0
    parts = cache.get("stepped", cfg.to_json(), lambda: simulate(cfg))
    assert len(parts["frame"]) == 200


def test_cached_curve_serves_the_stepped_library_and_the_fast_path_from_the_shared_cache():
    small, large = config(steps=500), config(t_max=400_000, steps=1_000_000)
    a, b = cached_curve(small), cached_curve(small)
    assert a.source == "library" and b.source == "library"
    pd.testing.assert_frame_equal(b.frame, simulate(small).frame)
    assert np.shares_memory(a.frame["lr"].to_numpy(), b.frame["lr"].to_numpy())
    c, d = cached_curve(large), cached_curve(large)
    assert c.source == "closed form" and len(d.frame) == 1_000_000
    assert np.shares_memory(c.frame["lr"].to_numpy(), d.frame["lr"].to_numpy())
    # the closed form of CosineAnnealingLR at step 200,000 of T_max 400,000: half way down, (0.1 + 0) / 2
    assert d.frame["lr"].iloc[200_000] == pytest.approx(0.05, rel=1e-12)
    assert len(CURVES) == 2


def test_a_cached_curve_is_decimated_once_and_drawn_the_same_as_an_uncached_one():
    from lrlab.plots import compare_figure, lr_figure
    from lrlab.simulate import fast

    large = config(t_max=300_000, steps=1_000_000)
    first = cached_curve(large)
    drawn_first = lr_figure(first).data[0].y
    second = cached_curve(large)
    assert second.memo is first.memo and any(k[0] == "decimate" for k in second.memo), "decimation not kept"
    uncached = fast(large)
    assert uncached.memo is not first.memo
    for figure in (lr_figure(second), compare_figure([("a", "#000", second)])):
        np.testing.assert_array_equal(figure.data[0].y, lr_figure(uncached).data[0].y)
    np.testing.assert_array_equal(drawn_first, lr_figure(uncached).data[0].y)
    other = cached_curve(config(t_max=200_000, steps=1_000_000))
    assert other.memo is not first.memo
    assert not np.array_equal(lr_figure(other).data[0].y, drawn_first)


def test_a_curve_is_counted_by_the_bytes_of_its_columns_and_index():
    from lrlab.ui.cache import _nbytes, _parts

    parts = _parts(simulate(config(steps=1000)))
    # frame: step, epoch, lr + its index; closed form: step, lr + its index; 8 bytes each, 1,000 rows; + 1 KB
    assert _nbytes(parts) == 1000 * 8 * 4 + 1000 * 8 * 3 + 1024
    plateau = _parts(simulate(ScheduleConfig.make("ReduceLROnPlateau", {}, steps=1000)))
    events = plateau["events"]
    assert events is not None and len(events)
    assert _nbytes(plateau) >= int(events.memory_usage(index=True, deep=True).sum()) + 1000 * 8 * 4


def test_the_cache_holds_at_most_its_number_of_curves_however_small():
    cache = CurveCache(max_bytes=100 * 1024**2, max_curves=3)
    cfgs = [config(t_max=10 + i, steps=100) for i in range(5)]  # ~6 KB each: bytes alone would keep all
    for cfg in cfgs:
        cache.get("stepped", cfg.to_json(), lambda cfg=cfg: simulate(cfg))
    assert len(cache) == 3
    cache.get("stepped", cfgs[4].to_json(), lambda: pytest.fail("the most recent curve was dropped"))
    calls: list[int] = []
    cache.get("stepped", cfgs[0].to_json(), counted(cfgs[0], calls))
    assert calls == [1], "the oldest curve was still held"
