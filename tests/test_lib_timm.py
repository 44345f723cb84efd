"""timm's schedulers in lrlab: every curve is timm's own, driven by the train.py loop written out here.

Expected values come from the real ``timm.scheduler`` objects stepped by :func:`train_py` below (the
loop of timm's train.py: ``step_update(num_updates=…)`` after every update, ``step(epoch + 1)`` after
every epoch), from torch's MultiStepLR, or from hand computation; never from lrlab's timm adapter.

Closed forms: over seeded random valid parameters the float64 closed forms equal timm to the bit
(max relative error measured 0 over 1780 curves, 200 seeded draws per schedule, while writing these tests): they make the same ``math``
calls in the same order. The tests allow 1e-12, the spec's tolerance.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import json
import math
import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import lrlab
from lrlab import LrlabError, ScheduleConfig, fast, simulate
from lrlab.explain import explain, num
from lrlab.export import render, targets_for
from lrlab.metrics import synthetic_loss
from lrlab.specs import LibraryRefusal, LibraryWarning, RunContext
from tests.strategies import draw_params
from tests.test_export import exported_lrs
from tests.test_parity import relative_error

ROOT = Path(__file__).resolve().parents[1]
CLASSES = [
    "CosineLRScheduler",
    "TanhLRScheduler",
    "StepLRScheduler",
    "MultiStepLRScheduler",
    "PlateauLRScheduler",
    "PolyLRScheduler",
]
NAMES = [f"timm:{c}" for c in CLASSES] + ["timm:create_scheduler_v2"]
TOLERANCE = 1e-12


def timm_scheduler() -> Any:
    """timm.scheduler as a user gets it: ``import timm.scheduler``, or, where timm's __init__ fails for
    want of torchvision, the package alone (written out here, independently of lrlab's loader)."""
    if "timm.scheduler" in sys.modules:
        return sys.modules["timm.scheduler"]
    try:
        return importlib.import_module("timm.scheduler")
    except (ImportError, RuntimeError):
        for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
            del sys.modules[name]
        sys.modules["timm"] = importlib.util.module_from_spec(importlib.util.find_spec("timm"))
        return importlib.import_module("timm.scheduler")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():  # PlateauLRScheduler's FutureWarning, lrlab's LibraryWarning of it
        warnings.simplefilter("ignore")
        yield


def train_py(make, lrs: tuple[float, ...], steps: int, spe: int, metrics=None) -> np.ndarray:
    """timm's train.py loop: the lr every update used (rows × groups). ``make(optimizer)`` builds the scheduler."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)], lr=lrs[0])
    scheduler = make(optimizer)
    if isinstance(scheduler, tuple):  # create_scheduler_v2 returns (scheduler, num_epochs)
        scheduler = scheduler[0]
    seen = []
    num_updates = 0
    for epoch in range(math.ceil(steps / spe)):
        for _ in range(spe):
            if num_updates == steps:
                break
            seen.append([g["lr"] for g in optimizer.param_groups])
            sum(p.sum() for p in params).backward()
            optimizer.step()
            num_updates += 1
            scheduler.step_update(num_updates=num_updates)
        if metrics is None:
            scheduler.step(epoch + 1)
        else:
            scheduler.step(epoch + 1, float(metrics[epoch]))
    return np.array(seen)


#: Where lrlab's default is not the class's (said in the params' help): a staircase that decays, a loss metric.
LRLAB_DEFAULTS = {
    "StepLRScheduler": {"decay_rate": 0.1},
    "MultiStepLRScheduler": {"decay_rate": 0.1},
    "PlateauLRScheduler": {"mode": "min"},
}


def timm_kwargs(params: dict[str, Any], cls: str = "") -> dict[str, Any]:
    """lrlab's params for timm class ``cls`` as timm takes them: noise_range_t [] → None, [s] → s."""
    kw = {**LRLAB_DEFAULTS.get(cls, {}), **params}
    if "noise_range_t" in kw:
        r = list(kw["noise_range_t"] or [])
        kw["noise_range_t"] = None if not r else (r[0] if len(r) == 1 else r)
    if "decay_t" in kw and isinstance(kw["decay_t"], (list, tuple)):
        kw["decay_t"] = list(kw["decay_t"])
    return kw


def lrlab_lrs(name: str, params: dict[str, Any], steps: int, spe: int, lrs: tuple[float, ...]) -> np.ndarray:
    frame = lrlab.curve(name, steps=steps, base_lr=lrs[0], group_lrs=lrs[1:], steps_per_epoch=spe, **params)
    return frame[["lr", *[f"lr_{g}" for g in range(1, len(lrs))]]].to_numpy()


# ---- every class, driven by lrlab, equals timm driven by train.py's loop ----------------------------------

CLASS_CASES = [
    ("CosineLRScheduler", {"t_initial": 10}, 1),
    ("CosineLRScheduler", {"t_initial": 10, "warmup_t": 3, "warmup_lr_init": 1e-4}, 7),
    ("CosineLRScheduler", {"t_initial": 8, "warmup_t": 3, "warmup_prefix": True, "lr_min": 1e-3}, 3),
    ("CosineLRScheduler", {"t_initial": 5, "cycle_limit": 4, "cycle_mul": 2.0, "cycle_decay": 0.5}, 2),
    ("CosineLRScheduler", {"t_initial": 40, "t_in_epochs": False, "k_decay": 2.0, "warmup_t": 7}, 7),
    ("CosineLRScheduler", {"t_initial": 30, "t_in_epochs": False, "cycle_limit": 3, "cycle_mul": 1.5}, 4),
    ("CosineLRScheduler", {"t_initial": 6, "noise_range_t": [2, 5], "noise_pct": 0.2}, 3),
    ("TanhLRScheduler", {"t_initial": 10}, 1),
    ("TanhLRScheduler", {"t_initial": 12, "warmup_t": 4, "warmup_lr_init": 0.01}, 2),
    ("TanhLRScheduler", {"t_initial": 12, "warmup_t": 4, "warmup_prefix": True, "lb": -3.0, "ub": 5.0}, 2),
    ("TanhLRScheduler", {"t_initial": 20, "t_in_epochs": False, "cycle_limit": 3, "cycle_decay": 0.3}, 5),
    ("StepLRScheduler", {"decay_t": 3.0}, 1),
    ("StepLRScheduler", {"decay_t": 2.4, "decay_rate": 0.5, "warmup_t": 2, "warmup_lr_init": 1e-3}, 4),
    ("StepLRScheduler", {"decay_t": 2.0, "warmup_t": 2, "warmup_prefix": False}, 3),
    ("StepLRScheduler", {"decay_t": 9.0, "t_in_epochs": False, "noise_range_t": [10]}, 5),
    ("MultiStepLRScheduler", {"decay_t": [10, 20]}, 1),
    ("MultiStepLRScheduler", {"decay_t": [1, 4, 4, 9], "decay_rate": 0.5, "warmup_t": 2}, 3),
    ("MultiStepLRScheduler", {"decay_t": [14, 35], "t_in_epochs": False, "warmup_prefix": False, "warmup_t": 5}, 7),
    ("PolyLRScheduler", {"t_initial": 10}, 1),
    ("PolyLRScheduler", {"t_initial": 9, "power": 2.0, "lr_min": 0.01, "warmup_t": 2}, 4),
    ("PolyLRScheduler", {"t_initial": 25, "t_in_epochs": False, "cycle_limit": 2, "cycle_mul": 2.0, "k_decay": 0.5}, 5),
]


@pytest.mark.parametrize(("cls", "params", "spe"), CLASS_CASES)
def test_a_timm_class_in_lrlab_gives_the_lrs_of_timms_train_py_loop(cls, params, spe):
    steps, lrs = 60, (0.1, 0.03)
    sched = timm_scheduler()
    expected = train_py(lambda opt: getattr(sched, cls)(opt, **timm_kwargs(params, cls)), lrs, steps, spe)
    np.testing.assert_array_equal(lrlab_lrs(f"timm:{cls}", params, steps, spe, lrs), expected)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"patience_t": 2, "warmup_t": 3, "warmup_lr_init": 1e-3, "cooldown_t": 2},
        {"patience_t": 1, "mode": "max", "decay_rate": 0.5, "lr_min": 0.02},
        {"patience_t": 2, "noise_range_t": [5], "noise_type": "uniform"},
    ],
)
def test_plateau_is_stepped_with_the_synthetic_epoch_metric_as_train_py_steps_it(params):
    steps, spe, lrs = 120, 2, (0.1, 0.5)
    metrics = synthetic_loss(60)  # one value per epoch: the input lrlab feeds, said in a note
    expected = train_py(
        lambda opt: timm_scheduler().PlateauLRScheduler(opt, **timm_kwargs(params, "PlateauLRScheduler")),
        lrs,
        steps,
        spe,
        metrics,
    )
    curve = simulate(
        ScheduleConfig.make("timm:PlateauLRScheduler", params, steps=steps, steps_per_epoch=spe, group_lrs=lrs[1:])
    )
    np.testing.assert_array_equal(curve.frame[["lr", "lr_1"]].to_numpy(), expected)
    assert curve.closed is None and any("synthetic" in note for note in curve.notes)
    metric = curve.frame["metric"].to_numpy()
    np.testing.assert_array_equal(metric[spe - 1 :: spe][:-1], metrics[:59])  # after each epoch's last update
    assert any("deprecated" in w for w in curve.library_warnings)  # timm's FutureWarning, in its words


def test_the_default_plateau_lowers_the_lr_when_the_synthetic_loss_flattens():
    lr = lrlab.curve("timm:PlateauLRScheduler", steps=400, base_lr=0.1, patience_t=3)["lr"].to_numpy()
    assert lr[0] == 0.1 and lr[-1] < 0.1


@pytest.mark.parametrize(
    ("sched", "on_epochs"),
    # timm's Plateau LR only supports stepping per epoch (the other case is refused by name below)
    [
        (s, e)
        for s in ("cosine", "tanh", "step", "multistep", "plateau", "poly")
        for e in (True, False)
        if (s, e) != ("plateau", False)
    ],
)
def test_create_scheduler_v2_in_lrlab_equals_the_factory_driven_by_train_py(sched, on_epochs):
    steps, spe, lrs = 90, 4, (0.1, 0.2)
    params = {
        "sched": sched,
        "num_epochs": 12,
        "decay_epochs": 2.5,
        "decay_milestones": [3, 7],
        "warmup_epochs": 2,
        "cooldown_epochs": 3,
        "cycle_limit": 2,
        "patience_epochs": 1,
        "step_on_epochs": on_epochs,
    }
    call = {**params, "plateau_mode": "min", "updates_per_epoch": spe}
    metrics = synthetic_loss(math.ceil(steps / spe)) if sched == "plateau" else None
    expected = train_py(lambda opt: timm_scheduler().create_scheduler_v2(opt, **call), lrs, steps, spe, metrics)
    np.testing.assert_array_equal(lrlab_lrs("timm:create_scheduler_v2", params, steps, spe, lrs), expected)


BIG_CASES = [  # lrs above 1000 (issue 13): timm takes any lr_min / warmup_lr_init
    ("CosineLRScheduler", {"t_initial": 10, "warmup_t": 3, "warmup_lr_init": 1500.0, "lr_min": 2000.0}, 2),
    (
        "PolyLRScheduler",
        {
            "t_initial": 9,
            "power": 2.0,
            "lr_min": 2500.0,
            "warmup_t": 2,
            "warmup_lr_init": 1200.0,
            "warmup_prefix": True,
        },
        3,
    ),
    ("StepLRScheduler", {"decay_t": 2.0, "decay_rate": 0.8, "warmup_t": 2, "warmup_lr_init": 1200.0}, 4),
]


@pytest.mark.parametrize(("cls", "params", "spe"), BIG_CASES, ids=[c[0] for c in BIG_CASES])
def test_an_lr_above_1000_gives_the_lrs_of_timms_train_py_loop(cls, params, spe):
    steps, lrs = 40, (5000.0, 3000.0)
    sched = timm_scheduler()
    expected = train_py(lambda opt: getattr(sched, cls)(opt, **timm_kwargs(params, cls)), lrs, steps, spe)
    assert expected[:, 0].min() >= 1000  # every lr of the head group is above the old bound
    np.testing.assert_array_equal(lrlab_lrs(f"timm:{cls}", params, steps, spe, lrs), expected)


def test_create_scheduler_v2_with_a_min_lr_and_warmup_lr_above_1000_equals_the_factory():
    steps, spe, lrs = 40, 4, (5000.0,)
    params = {"sched": "cosine", "num_epochs": 8, "warmup_epochs": 2, "warmup_lr": 1500.0, "min_lr": 2000.0}
    expected = train_py(
        lambda opt: timm_scheduler().create_scheduler_v2(opt, **params, updates_per_epoch=spe), lrs, steps, spe
    )
    assert expected[0, 0] == 1500.0 and expected[-1, 0] == 2000.0
    np.testing.assert_array_equal(lrlab_lrs("timm:create_scheduler_v2", params, steps, spe, lrs), expected)


@pytest.mark.parametrize("field", ["lr_min", "warmup_lr_init"])
def test_a_negative_lr_is_refused_naming_the_field_the_value_and_the_rule(field):
    with pytest.raises(LrlabError) as caught:
        lrlab.curve("timm:CosineLRScheduler", steps=40, **{field: -1500.0})
    assert caught.value.field == field
    assert str(caught.value) == f"Invalid {field} (-1500.0): must be a finite number ≥ 0"


# ---- the quirks of libraries.md, on the real curves ----------------------------------------------------------


def test_warmup_without_prefix_overlaps_the_cosine_so_the_lr_after_it_is_below_the_peak():
    lr = lrlab.curve("timm:CosineLRScheduler", steps=12, base_lr=0.1, t_initial=10, warmup_t=3)["lr"].to_numpy()
    assert lr[2] == pytest.approx(0.1 * 2 / 3, rel=1e-15)  # the warm-up: 0 + 2 × (0.1 − 0) / 3
    assert lr[3] == pytest.approx(0.05 * (1 + math.cos(math.pi * 3 / 10)), rel=1e-15)  # 0.0794, not 0.1
    prefixed = lrlab.curve("timm:CosineLRScheduler", steps=12, t_initial=10, warmup_t=3, warmup_prefix=True)
    assert prefixed["lr"].iloc[3] == 0.1


def test_with_cycle_limit_1_the_lr_stays_at_lr_min_after_t_initial_where_torch_climbs_back():
    lr = lrlab.curve("timm:CosineLRScheduler", steps=30, t_initial=10, lr_min=0.001)["lr"].to_numpy()
    assert (lr[10:] == 0.001).all()
    torch_lr = lrlab.curve("CosineAnnealingLR", steps=30, T_max=10, eta_min=0.001)["lr"].to_numpy()
    assert torch_lr[15] > 0.01


def test_multistep_decays_one_update_before_torchs_multisteplr():
    lr = lrlab.curve("timm:MultiStepLRScheduler", steps=15, decay_t=[10], t_in_epochs=False)["lr"].to_numpy()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    torch_sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[10], gamma=0.1)
    torch_lr = []
    for _ in range(15):
        torch_lr.append(opt.param_groups[0]["lr"])
        opt.step()
        torch_sched.step()
    assert lr[8] == 0.1 and lr[9] == pytest.approx(0.01) and torch_lr[9] == 0.1 and torch_lr[10] == pytest.approx(0.01)
    ex = explain(
        simulate(ScheduleConfig.make("timm:MultiStepLRScheduler", {"decay_t": [10], "t_in_epochs": False}, steps=15)), 9
    )
    assert ex.event == "milestone" and "one step before torch" in ex.sentence


def test_tanh_row_0_is_the_optimizers_lr_not_the_formula_at_0():
    lr = lrlab.curve("timm:TanhLRScheduler", steps=12, base_lr=0.1, t_initial=10)["lr"].to_numpy()
    formula_at_0 = 0.5 * 0.1 * (1 - math.tanh(-7.0))
    assert lr[0] == 0.1 and formula_at_0 < 0.1
    ex = explain(simulate(ScheduleConfig.make("timm:TanhLRScheduler", {"t_initial": 10}, steps=12)), 0)
    assert ex.value == 0.1 and "not the tanh formula" in ex.sentence


def test_t_in_epochs_decides_which_call_changes_the_lr():
    by_epoch = lrlab.curve("timm:CosineLRScheduler", steps=20, steps_per_epoch=5, t_initial=4)["lr"].to_numpy()
    assert len(set(by_epoch[5:10])) == 1 and by_epoch[5] != by_epoch[4]  # constant within an epoch
    by_update = lrlab.curve("timm:CosineLRScheduler", steps=20, steps_per_epoch=5, t_initial=20, t_in_epochs=False)
    assert len(set(by_update["lr"])) == 20


@pytest.mark.parametrize(
    ("prefix", "returned", "how"),
    [(True, 15, "(10 + warm-up 2 + cooldown 3)"), (False, 13, "(10 + cooldown 3)")],
)
def test_create_scheduler_v2_surfaces_the_epochs_it_returns(prefix, returned, how):
    params = {"num_epochs": 10, "warmup_epochs": 2, "cooldown_epochs": 3, "warmup_prefix": prefix}
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    assert timm_scheduler().create_scheduler_v2(opt, **params, updates_per_epoch=5)[1] == returned
    curve = simulate(ScheduleConfig.make("timm:create_scheduler_v2", params, steps=50, steps_per_epoch=5))
    assert f"create_scheduler_v2 returned num_epochs = {returned} {how}" in curve.notes[0]
    assert f"it stops {returned - 10} epochs before" in curve.notes[1]
    longer = simulate(ScheduleConfig.make("timm:create_scheduler_v2", params, steps=100, steps_per_epoch=5))
    assert f"{20 - returned} epochs longer than train.py would train" in longer.notes[1]
    assert f"num_epochs = {returned} {how}" in render(curve.config, "timm")


def test_create_scheduler_v2_defaults_differ_from_the_classes_warmup_lr_and_cycle_decay():
    lr = lrlab.curve("timm:create_scheduler_v2", steps=40, num_epochs=10, warmup_epochs=2, cycle_limit=2)["lr"]
    assert lr.iloc[0] == 1e-5  # warmup_lr 1e-5 (the classes' warmup_lr_init is 0)
    assert lr.iloc[10] == pytest.approx(0.01)  # the restart peaks at cycle_decay 0.1 × 0.1
    poly = lrlab.curve("timm:create_scheduler_v2", steps=10, sched="poly", num_epochs=10)["lr"]
    assert poly.iloc[5] == pytest.approx(0.1 * 0.5**0.1)  # power = decay_rate = 0.1


def test_each_param_group_is_scheduled_from_its_own_initial_lr():
    lrs = lrlab_lrs("timm:CosineLRScheduler", {"t_initial": 10, "warmup_t": 2, "lr_min": 0.001}, 12, 1, (0.1, 0.4))
    assert lrs[0].tolist() == [0.0, 0.0]  # warmup_lr_init is shared
    assert lrs[2].tolist() == pytest.approx(
        [0.001 + 0.5 * 0.099 * (1 + math.cos(0.2 * math.pi)), 0.001 + 0.5 * 0.399 * (1 + math.cos(0.2 * math.pi))]
    )


# ---- closed forms ------------------------------------------------------------------------------------------


def explicit(spec_name: str, params: dict[str, Any], rng: random.Random, steps: int) -> dict[str, Any]:
    """Give the sizes lrlab would fit to the run explicit values, so that timm receives the same arguments."""
    p = dict(params)
    for name in ("t_initial", "num_epochs"):
        if name in p and p[name] is None:
            p[name] = rng.randint(1, steps + 5)
    if p.get("decay_t", 0) is None or p.get("decay_epochs", 0) is None:
        p["decay_t" if "decay_t" in p else "decay_epochs"] = rng.choice([1.0, 2.5, 7.0, 30.0])
    for name in ("decay_t", "decay_milestones"):
        if isinstance(p.get(name), (list, tuple)) and not p[name]:
            p[name] = sorted(rng.randint(0, steps) for _ in range(2))
    return p


@pytest.mark.parametrize("name", [n for n in NAMES if n != "timm:PlateauLRScheduler"])
def test_the_closed_form_equals_timm_for_random_valid_params(name):
    spec = lrlab.SCHEDULERS[name]
    rng = random.Random(f"timm-closed:{name}")
    compared = 0
    worst = 0.0
    for case in range(30):
        steps = rng.choice([1, 2, 17, 60, 300, 700])
        spe = rng.choice([1, 3, 7, 50])
        lrs = (10 ** rng.uniform(-4, 1), *((10 ** rng.uniform(-4, 1),) if case % 2 else ()))
        ctx = RunContext(steps=steps, base_lr=lrs[0], group_lrs=lrs, steps_per_epoch=spe)
        params = spec.validate(explicit(name, draw_params(spec, ctx, rng), rng, steps), ctx)
        sched = timm_scheduler()
        if name == "timm:create_scheduler_v2":
            make = lambda opt, p=params, s=sched, k=spe: s.create_scheduler_v2(opt, **p, updates_per_epoch=k)
            metrics = synthetic_loss(math.ceil(steps / spe)) if params["sched"] == "plateau" else None
        else:
            cls = getattr(sched, name.split(":")[1])
            make = lambda opt, p=params, c=cls: c(opt, **timm_kwargs(p))
            metrics = None
        try:
            expected = train_py(make, lrs, steps, spe, metrics)
        except ValueError as exc:  # cycle_mul < 1: timm's math.log raises where the cycles end
            assert "math domain error" in str(exc)
            continue
        for g, lr0 in enumerate(lrs):
            closed = spec.closed_form(np.arange(steps), lr0, params, RunContext(**{**ctx.__dict__, "group": g}))
            if np.isnan(closed).all():  # noise during the run, or sched='plateau': no closed form
                noisy = params.get("noise") is not None or list(params.get("noise_range_t") or [])
                assert noisy or params.get("sched") == "plateau"
                continue
            error = relative_error(expected[:, g], closed)
            worst = max(worst, float(error.max()))
            assert error.max() <= TOLERANCE, (name, params, steps, spe, int(np.argmax(error)))
            compared += 1
    assert compared >= 12 and worst <= TOLERANCE


def test_a_long_run_comes_from_the_closed_form_and_the_library_agrees():
    config = ScheduleConfig.make(
        "timm:CosineLRScheduler", {"t_in_epochs": False, "warmup_t": 500, "cycle_limit": 3}, steps=100_000
    )
    quick = fast(config)
    assert quick.source == "closed form" and len(quick.frame) == 100_000
    library = simulate(config)
    assert library.max_rel_diff == 0.0 and library.first_diff_step is None


def test_noise_has_no_closed_form_and_explain_says_the_noise_is_applied():
    config = ScheduleConfig.make("timm:CosineLRScheduler", {"t_initial": 10, "noise_range_t": [3]}, steps=12)
    curve = simulate(config)
    assert curve.closed is None and any("No closed form" in n for n in curve.notes)
    with pytest.raises(LrlabError, match="no closed form"):
        fast(config)
    assert explain(curve, 5).value is None and explain(curve, 2).value == curve.frame["lr"].iloc[2]


# ---- where timm refuses, and what lrlab refuses up front ---------------------------------------------------


def test_shrinking_cycles_end_where_timms_math_log_raises_and_the_curve_stops_there():
    config = ScheduleConfig.make(
        "timm:CosineLRScheduler", {"t_initial": 10, "cycle_mul": 0.5, "t_in_epochs": False}, steps=30
    )
    with pytest.raises(ValueError, match="math domain error"):  # timm itself, at t = 10 / (1 − 0.5) = 20
        train_py(
            lambda opt: timm_scheduler().CosineLRScheduler(opt, t_initial=10, cycle_mul=0.5, t_in_epochs=False),
            (0.1,),
            30,
            1,
        )
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        curve = lrlab.simulate(config)
    assert curve.stopped_at == 20 and curve.refusal == "ValueError: math domain error"
    assert curve.frame["lr"].iloc[20:].isna().all() and np.isfinite(curve.frame["lr"].iloc[:20]).all()
    assert any(issubclass(w.category, LibraryRefusal) for w in said)
    assert fast(config).stopped_at == 20


@pytest.mark.parametrize(
    ("name", "params", "field", "fragment"),
    [
        (
            "timm:CosineLRScheduler",
            {"t_initial": 0},
            "t_initial",
            "Invalid t_initial (0): must be an integer in [1, 1000000]",
        ),
        (
            "timm:CosineLRScheduler",
            {"cycle_decay": 1.5},
            "cycle_decay",
            "Invalid cycle_decay (1.5): must be a number in [0, 1]",
        ),
        ("timm:CosineLRScheduler", {"noise_range_t": [1, 2, 3]}, "noise_range_t", "Invalid noise_range_t ([1, 2, 3])"),
        ("timm:CosineLRScheduler", {"noise_range_t": [0], "noise_std": 8.0}, "noise_std", "at most 10 × noise_pct"),
        ("timm:TanhLRScheduler", {"lb": 4.0}, "lb", "Invalid lb (4.0): lb (4) must be below ub (3)"),
        ("timm:TanhLRScheduler", {"cycle_mul": 0.5, "t_initial": 4, "warmup_t": 9}, "warmup_t", "Invalid warmup_t (9)"),
        (
            "timm:MultiStepLRScheduler",
            {"decay_t": [9, 3]},
            "decay_t",
            "Invalid decay_t ([9, 3]): must be in increasing order",
        ),
        ("timm:StepLRScheduler", {"decay_t": 0}, "decay_t", "Invalid decay_t (0): must be a number in [0.01, 1000000]"),
        (
            "timm:PlateauLRScheduler",
            {"decay_rate": 1.0},
            "decay_rate",
            "Invalid decay_rate (1.0): must be a number in [0, 1)",
        ),
        ("timm:PlateauLRScheduler", {"mode": "up"}, "mode", "Invalid mode ('up'): must be one of 'min', 'max'"),
        (
            "timm:create_scheduler_v2",
            {"sched": "plateau", "step_on_epochs": False},
            "step_on_epochs",
            "Plateau LR only supports step per epoch",
        ),
        ("timm:create_scheduler_v2", {"sched": "plateau", "decay_rate": 1.0}, "decay_rate", "Factor should be < 1.0"),
        ("timm:create_scheduler_v2", {"cycle_mul": 10.0, "cycle_limit": 400}, "cycle_limit", "OverflowError"),
        ("timm:create_scheduler_v2", {"sched": "wsd"}, "sched", "Invalid sched ('wsd'): must be one of 'cosine'"),
        (
            "timm:create_scheduler_v2",
            {"lr_min": 0.1},
            "lr_min",
            "Unknown parameter 'lr_min' for timm:create_scheduler_v2",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_the_value_and_what_is_allowed(name, params, field, fragment):
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, steps=40, **params)
    assert caught.value.field == field and fragment in str(caught.value), str(caught.value)


@pytest.mark.parametrize("interval", ["epoch", "epoch_fraction", "epoch_arg"])
def test_timm_is_driven_its_own_way_so_the_torch_stepping_patterns_are_refused(interval):
    with pytest.raises(LrlabError, match="driven as timm drives it") as caught:
        lrlab.curve("timm:CosineLRScheduler", steps=10, interval=interval)
    assert caught.value.field == "interval"


def test_timm_logs_are_reported_as_library_warnings_in_timms_words():
    with pytest.warns(LibraryWarning, match="Cosine annealing scheduler will have no effect"):
        lrlab.curve("timm:CosineLRScheduler", steps=5, t_initial=1)


# ---- explain mode -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spe", [1, 7])
def test_every_row_explains_to_timms_lr(name, spe):
    params = {
        "timm:CosineLRScheduler": {
            "t_initial": 6,
            "warmup_t": 2,
            "cycle_limit": 3,
            "cycle_mul": 2.0,
            "cycle_decay": 0.5,
        },
        "timm:TanhLRScheduler": {"t_initial": 5, "warmup_t": 2, "cycle_limit": 2},
        "timm:StepLRScheduler": {"decay_t": 2.4, "warmup_t": 1},
        "timm:MultiStepLRScheduler": {"decay_t": [2, 4, 4]},
        "timm:PlateauLRScheduler": {"patience_t": 1, "warmup_t": 2, "cooldown_t": 1},
        "timm:PolyLRScheduler": {"t_initial": 5, "cycle_limit": 2, "k_decay": 2.0},
        "timm:create_scheduler_v2": {"num_epochs": 5, "warmup_epochs": 1, "step_on_epochs": spe == 1},
    }[name]
    curve = simulate(ScheduleConfig.make(name, params, steps=70, steps_per_epoch=spe, group_lrs=(0.3,)))
    lrs = curve.frame["lr"].to_numpy()
    events = set()
    for t in range(70):
        ex = explain(curve, t)
        assert ex.value == pytest.approx(lrs[t], rel=1e-12, abs=0) and ex.matches, (t, ex.value, lrs[t])
        body = ex.latex.replace(r"\end{gathered}", "").rsplit("=", 1)[1].split(r"\quad")[0].strip()
        assert body == num(ex.value), (t, ex.latex)
        assert ex.sentence and ex.event
        events.add(ex.event)
    assert "start" in events and len(events) >= 3, events


def test_explain_names_the_warmup_overlap_and_the_restart():
    curve = simulate(
        ScheduleConfig.make("timm:CosineLRScheduler", {"t_initial": 5, "warmup_t": 2, "cycle_limit": 2}, steps=12)
    )
    assert "already below the peak" in explain(curve, 2).sentence
    assert explain(curve, 5).event == "restart" and explain(curve, 10).event == "floor"
    assert r"\cos\frac{3\,\pi}{5}" in explain(curve, 3).latex


# ---- exports ----------------------------------------------------------------------------------------------

EXPORTS = [
    ScheduleConfig.make("timm:CosineLRScheduler", {}, steps=60, steps_per_epoch=7, group_lrs=(0.2,)),
    ScheduleConfig.make(
        "timm:CosineLRScheduler", {"t_in_epochs": False, "warmup_t": 9, "cycle_limit": 2}, steps=60, steps_per_epoch=7
    ),
    ScheduleConfig.make(
        "timm:CosineLRScheduler", {"noise_range_t": [2, 6]}, steps=60, steps_per_epoch=7, optimizer="adamw"
    ),
    ScheduleConfig.make(
        "timm:CosineLRScheduler", {"t_initial": 10, "cycle_mul": 0.5, "t_in_epochs": False}, steps=60, steps_per_epoch=7
    ),
    ScheduleConfig.make("timm:TanhLRScheduler", {"warmup_t": 3}, steps=60, steps_per_epoch=7, group_lrs=(0.2,)),
    ScheduleConfig.make("timm:StepLRScheduler", {"decay_t": 2.4, "warmup_t": 1}, steps=60, steps_per_epoch=7),
    ScheduleConfig.make(
        "timm:MultiStepLRScheduler", {"decay_t": [3, 5]}, steps=60, steps_per_epoch=7, optimizer="adam"
    ),
    ScheduleConfig.make("timm:PlateauLRScheduler", {"patience_t": 1}, steps=60, steps_per_epoch=3, group_lrs=(0.2,)),
    ScheduleConfig.make("timm:PolyLRScheduler", {"t_in_epochs": False, "power": 2.0}, steps=60, steps_per_epoch=7),
    *[
        ScheduleConfig.make(
            "timm:create_scheduler_v2",
            {"sched": s, "warmup_epochs": 1, "cooldown_epochs": 2},
            steps=60,
            steps_per_epoch=7,
        )
        for s in ("cosine", "tanh", "step", "multistep", "plateau", "poly")
    ],
    ScheduleConfig.make(
        "timm:create_scheduler_v2", {"step_on_epochs": False, "noise": 0.5}, steps=60, steps_per_epoch=7
    ),
]


def test_every_export_reproduces_its_curve_in_a_fresh_interpreter():
    jobs = [
        {"target": "timm", "code": render(c, "timm"), "steps": c.steps, "steps_per_epoch": c.steps_per_epoch}
        for c in EXPORTS
    ]
    for config, got in zip(EXPORTS, exported_lrs(jobs), strict=True):
        assert not isinstance(got, dict), (config, got)
        curve = simulate(config)
        lr = curve.frame["lr"].to_numpy()
        end = curve.stopped_at if curve.stopped_at is not None else config.steps  # the loop stops before timm raises
        np.testing.assert_array_equal(got, lr[:end], err_msg=str(config))


def test_the_export_is_timms_train_py_idiom_and_imports_where_timm_does_not():
    code = render(EXPORTS[0], "timm")
    for fragment in (
        "from timm.scheduler import CosineLRScheduler",
        "lr_scheduler.step_update(num_updates=num_updates)",
        "lr_scheduler.step(epoch + 1)",
        "def train(steps=60, steps_per_epoch=STEPS_PER_EPOCH):",
        'if __name__ == "__main__":',
        '"lr": 0.2',
    ):
        assert fragment in code, fragment
    assert targets_for(lrlab.SCHEDULERS["timm:CosineLRScheduler"]) == ("timm", "yaml", "json")
    with pytest.raises(LrlabError, match="timm schedule"):
        render(EXPORTS[0], "torch")
    namespace = {"__name__": "__main__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<exported>", "exec"), namespace)  # our own generated code, run as a script
    assert printed.getvalue().startswith("60 updates: lr 0.1 first")


def test_a_config_round_trips_through_json():
    config = ScheduleConfig.make(
        "timm:create_scheduler_v2", {"sched": "step", "decay_epochs": 2.4}, steps=50, steps_per_epoch=5
    )
    again = lrlab.curve(config=json.loads(render(config, "json")))
    np.testing.assert_array_equal(again["lr"], simulate(config).frame["lr"])


# ---- loading -------------------------------------------------------------------------------------------------


def test_lrlab_imports_timm_only_to_drive_it_and_then_loads_only_the_scheduler_package():
    code = (
        "import sys, lrlab\n"
        "from lrlab import ScheduleConfig, fast\n"
        "assert 'timm' not in sys.modules\n"
        "fast(ScheduleConfig.make('timm:CosineLRScheduler', {}, steps=1000, steps_per_epoch=10))\n"
        "from lrlab.export import render\n"
        "render(ScheduleConfig.make('timm:PlateauLRScheduler', {}, steps=100), 'timm')\n"
        "assert not any(m == 'timm' or m.startswith('timm.') for m in sys.modules), 'closed form or export imported timm'\n"
        "from lrlab.schedulers._timm_loader import load\n"
        "loaded = load()\n"
        "print(loaded.how)\n"
        "assert loaded.module.CosineLRScheduler.__module__ == 'timm.scheduler.cosine_lr'\n"
        "assert not any(m.startswith(('timm.layers', 'timm.models')) for m in sys.modules), 'half-import left over'\n"
        "assert load() is loaded and loaded.seconds < 5\n"
        "lrlab.curve('timm:CosineLRScheduler', steps=10)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    if importlib.util.find_spec("torchvision") is None:
        assert "without timm/__init__.py" in done.stdout and "torchvision" in done.stdout


def test_lrlabs_table_of_timms_defaults_is_timms_signatures():
    from lrlab.schedulers.timm_specs import TIMM_DEFAULTS

    sched = timm_scheduler()
    for name, defaults in TIMM_DEFAULTS.items():
        signature = inspect.signature(getattr(sched, name))
        actual = {k: p.default for k, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
        actual = {
            k: v for k, v in actual.items() if k in defaults or k not in ("initialize", "decay_fn", "stable_timescale")
        }
        assert actual == defaults, name


def test_metric_values_given_to_a_schedule_driven_by_its_adapter_are_refused_not_ignored():
    with pytest.raises(lrlab.LrlabError) as caught:
        lrlab.curve("timm:PlateauLRScheduler", steps=40, steps_per_epoch=4, metrics=[1.0] * 10)
    assert caught.value.field == "metrics" and "synthetic" in str(caught.value)


def test_a_timm_package_registered_without_a_spec_still_counts_as_installed(monkeypatch):
    """find_spec raises ValueError for a sys.modules entry whose __spec__ is None (a notebook's hand-made
    stand-in for timm): the schedule must still be offered, not crash every page that lists libraries."""
    import types

    stand_in = types.ModuleType("timm")
    stand_in.__path__ = list(importlib.util.find_spec("timm").submodule_search_locations)
    monkeypatch.setitem(sys.modules, "timm", stand_in)
    with pytest.raises(ValueError):  # the library fact the guard is for
        importlib.util.find_spec("timm")
    assert lrlab.SCHEDULERS["timm:CosineLRScheduler"].unavailable() is None


# ---- where timm's docs and its code disagree: the code wins, and the note says so -------------------------------
# timm's docs ("Learning Rate Schedulers" page): "warmup_epochs of linear warmup from warmup_lr to the base lr";
# "multistep: lr multiplied by decay_rate at each of the decay_milestones epochs". The loops below run timm itself.


def _says(name: str, *words: str) -> bool:
    return any(
        all(w in note for w in ("docs say", "lrlab follows the code", *words)) for note in lrlab.SCHEDULERS[name].notes
    )


def test_without_warmup_prefix_the_warm_up_never_reaches_the_base_lr_as_the_docs_say_it_does():
    sched = timm_scheduler()
    cosine = train_py(lambda o: sched.CosineLRScheduler(o, t_initial=10, warmup_t=3), (0.1,), 12, 1)[:, 0]
    poly = train_py(lambda o: sched.PolyLRScheduler(o, t_initial=10, warmup_t=3), (0.1,), 12, 1)[:, 0]
    np.testing.assert_allclose(cosine[:3], [0.0, 0.1 / 3, 0.2 / 3], rtol=1e-15)  # one step short of 0.1
    assert cosine[3] == pytest.approx(0.05 * (1 + math.cos(math.pi * 3 / 10)), rel=1e-15)  # 0.0794: the cosine at 3
    assert poly[3] == pytest.approx(0.1 * (1 - 3 / 10) ** 0.5, rel=1e-15)  # 0.0837: power 0.5 at 3
    assert cosine.max() == cosine[3] < 0.1 and poly.max() == poly[3] < 0.1
    assert _says("timm:CosineLRScheduler", "0.0794") and _says("timm:PolyLRScheduler", "0.0837")


def test_tanhs_warm_up_aims_at_the_tanh_curve_at_warmup_t_not_at_the_base_lr():
    sched = timm_scheduler()
    lrs = train_py(lambda o: sched.TanhLRScheduler(o, t_initial=10, warmup_t=3), (0.1,), 5, 1)[:, 0]
    at_3 = 0.05 * (1 - math.tanh(-7 * (1 - 0.3) + 3 * 0.3))  # timm's lb = −7, ub = 3 at t / t_initial = 0.3
    assert at_3 == pytest.approx(0.0999665, abs=1e-7)
    np.testing.assert_allclose(lrs[:4], [0.0, at_3 / 3, 2 * at_3 / 3, at_3], rtol=1e-12)
    assert lrs[1] < 0.1 / 3
    assert _says("timm:TanhLRScheduler", "0.0999665")


def test_multistep_milestones_stepped_per_epoch_apply_one_epoch_before_the_epochs_the_docs_name():
    sched = timm_scheduler()
    lrs = train_py(lambda o: sched.MultiStepLRScheduler(o, decay_t=[3, 6], decay_rate=0.1), (0.1,), 8, 1)[:, 0]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001], rtol=1e-12)
    assert _says("timm:MultiStepLRScheduler", "epochs 2 and 5")
