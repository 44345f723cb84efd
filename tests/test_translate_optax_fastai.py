"""Translations into and out of optax and fastai (lrlab.translating.lib_optax, lib_fastai).

Each analysed shape is checked against the real library's curve; each expected verdict is proven again
here by stepping both real libraries (lrlab.curve), not by trusting the engine's own measurement."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings

import numpy as np
import pytest

import lrlab
from lrlab.schedulers import get_spec
from lrlab.simulate import compare, resolve, rounding
from lrlab.specs import ScheduleConfig
from lrlab.translating import engine, lib_optax, translate

pytestmark = pytest.mark.filterwarnings("ignore")


def config(name: str, params: dict, steps: int, base_lr: float = 0.01, **run) -> ScheduleConfig:
    return ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr, **run)


def lr_of(c: ScheduleConfig) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lrlab.curve(config=c)["lr"].to_numpy(dtype=np.float64)


def noise_of(c: ScheduleConfig) -> float:
    spec, params, ctx = resolve(c)
    return rounding(spec, params, ctx)


def measured_diff(target: ScheduleConfig, source: ScheduleConfig) -> float:
    """Max relative difference of the two real curves, each library's float32 rounding counted as 0."""
    t, s = lr_of(target), lr_of(source)
    noise = max(noise_of(target), noise_of(source), 4 * np.finfo(np.float64).eps * np.nanmax(np.abs(s)))
    diff = np.abs(t - s)
    rel = np.where(diff <= noise, 0.0, diff / np.maximum(np.abs(s), 1e-12 * np.nanmax(np.abs(s))))
    return float(rel.max())


# ---- the analysers reproduce the real curves ------------------------------------------------------------

RNG = random.Random(20240611)


def random_optax(name: str, steps: int, r: random.Random) -> dict:
    short = name.split(":", 1)[1]
    if short == "constant_schedule":
        return {}
    if short == "linear_schedule":
        return {
            "end_value": r.choice([0.0, 0.001]),
            "transition_steps": r.randint(1, steps),
            "transition_begin": r.randint(0, steps // 2),
        }
    if short == "polynomial_schedule":
        return {
            "end_value": r.choice([0.0, 0.001]),
            "power": r.choice([1.0, 2.0, 0.5]),
            "transition_steps": r.randint(1, steps),
            "transition_begin": r.randint(0, steps // 2),
        }
    if short in ("exponential_decay", "warmup_exponential_decay_schedule"):
        params = {
            "transition_steps": r.randint(1, 12),
            "decay_rate": r.choice([0.5, 0.9, 1.1]),
            "transition_begin": r.randint(0, 8),
            "staircase": r.random() < 0.5,
            "end_value": r.choice([None, 0.002, 0.02]),
        }
        if short.startswith("warmup"):
            params.update(init_value=0.0, warmup_steps=r.randint(0, 10))
        return params
    if short == "cosine_decay_schedule":
        return {"decay_steps": r.randint(1, steps + 10), "alpha": r.choice([0.0, 0.1])}
    if short == "warmup_cosine_decay_schedule":
        w = r.randint(0, steps // 3)
        return {"init_value": r.choice([0.0, 0.001]), "warmup_steps": w, "decay_steps": r.randint(w + 1, steps + 10)}
    if short == "warmup_constant_schedule":
        return {"init_value": 0.0, "warmup_steps": r.randint(1, steps)}
    if short in ("piecewise_constant_schedule", "piecewise_interpolate_schedule"):
        pairs = {str(r.randint(0, steps)): r.choice([0.1, 0.5, 2.0]) for _ in range(3)}
        extra = {"interpolate_type": r.choice(["linear", "cosine"])} if "interpolate" in short else {}
        return {"boundaries_and_scales": pairs, **extra}
    if short == "linear_onecycle_schedule":
        return {"transition_steps": r.randint(min(10, steps), steps), "pct_start": 0.3, "pct_final": 0.85}
    if short == "cosine_onecycle_schedule":
        return {"transition_steps": r.randint(5, steps + 10), "pct_start": r.choice([0.25, 0.3, 0.5])}
    if short == "sgdr_schedule":
        return {
            "cosine_kwargs": [
                {"init_value": 0.0, "warmup_steps": r.randint(0, 4), "decay_steps": r.randint(5, 20)} for _ in range(3)
            ]
        }
    assert short == "join_schedules"
    return {
        "schedules": [
            {"name": "optax:warmup_constant_schedule", "init_value": 0.0, "warmup_steps": r.randint(1, 10)},
            {"name": "optax:cosine_decay_schedule", "decay_steps": r.randint(1, steps)},
            {
                "name": "optax:exponential_decay",
                "init_value": 0.002,
                "transition_steps": 4,
                "decay_rate": 0.8,
                "staircase": r.random() < 0.5,
            },
        ],
        "boundaries": sorted([r.randint(0, steps), r.randint(0, steps)]),
    }


OPTAX_CASES = [
    (name, steps, random_optax(name, steps, RNG)) for name in sorted(lib_optax.ANALYZERS) for steps in (9, 50)
]


@pytest.mark.parametrize(("name", "steps", "params"), OPTAX_CASES, ids=[f"{n}-{s}" for n, s, _ in OPTAX_CASES])
def test_every_optax_analysis_reproduces_the_real_curve(name, steps, params):
    c = config(name, params, steps, base_lr=RNG.choice([0.1, 0.003]))
    shape = engine.analyse(c)
    assert shape is not None, f"{name} {params}: no shape, or one the real curve refutes"
    # and the claim, checked here without the engine: within optax's float32 rounding
    real = lr_of(c)
    assert compare(shape.values(), real, get_spec(name).tolerance, noise_of(c))[0] <= get_spec(name).tolerance


def test_optax_cosines_with_another_exponent_have_no_shape():
    c = config("optax:cosine_decay_schedule", {"decay_steps": 20, "exponent": 2.0}, 20)
    assert engine.analyse(c, infer=False) is None


FASTAI_CASES = [
    ("fastai:fit_one_cycle", {}, 20, 1, "sgd"),
    ("fastai:fit_one_cycle", {"pct_start": 0.3, "div": 10.0}, 10, 3, "adam"),
    ("fastai:fit_one_cycle", {"pct_start": 0.0}, 7, 1, "sgd"),
    ("fastai:fit_flat_cos", {"pct_start": 0.3}, 20, 5, "sgd"),
    ("fastai:fit_sgdr", {"n_cycles": 3, "cycle_len": 1}, 7, 1, "sgd"),  # its third restart comes a batch late
    ("fastai:fit_sgdr", {"n_cycles": 2, "cycle_len": 2, "cycle_mult": 3}, 8, 1, "sgd"),
    ("fastai:combine_scheds", {}, 20, 1, "sgd"),
    (
        "fastai:combine_scheds",
        {
            "scheds": [
                {"name": "SchedNo", "pct": 0.25, "start": 0.01},
                {"name": "SchedExp", "pct": 0.5, "start": 0.01, "end": 0.0001},
                {"name": "SchedPoly", "pct": 0.25, "start": 0.0001, "end": 0.00005, "power": 1.0},
            ]
        },
        12,
        1,
        "sgd",
    ),
    ("fastai:fine_tune", {"freeze_epochs": 1}, 12, 3, "adam"),
]


@pytest.mark.parametrize(("name", "params", "steps", "spe", "optimizer"), FASTAI_CASES)
def test_every_fastai_analysis_reproduces_the_real_curve_and_momentum(name, params, steps, spe, optimizer):
    c = config(name, params, steps, steps_per_epoch=spe, optimizer=optimizer)
    measured = engine.measure(c)
    shape = engine.analyse(c, measured)
    assert shape is not None
    assert compare(shape.values(), measured.lr, 1e-6)[0] <= 1e-6
    if measured.momentum is not None:
        assert shape.momentum, "fit_one_cycle and fine_tune cycle momentum: the shape says how"
        assert shape.momentum_name == ("momentum" if optimizer == "sgd" else "beta1")
        assert compare(shape.momentum_values(), measured.momentum, 1e-6)[0] <= 1e-6


def test_fastai_positions_are_t_over_n_with_n_the_whole_fit():
    # 10 steps at 3 batches per epoch: fastai fits 4 epochs, N = 12, and the run stops 2 batches early
    c = config("fastai:fit_one_cycle", {"pct_start": 0.25}, 10, steps_per_epoch=3)
    shape = engine.analyse(c)
    assert [(s.start, s.length) for s in shape.segments] == [(0.0, 3.0), (3.0, 9.0)]


def test_a_fastai_polynomial_phase_has_no_shape():
    c = config(
        "fastai:combine_scheds",
        {"scheds": [{"name": "SchedPoly", "pct": 1.0, "start": 0.01, "end": 0.001, "power": 2.0}]},
        10,
    )
    assert engine.analyse(c, infer=False) is None


# ---- translations, proven by stepping both real libraries -----------------------------------------------

EXACT = [
    (
        "optax:warmup_cosine_decay_schedule",
        {"warmup_steps": 5, "decay_steps": 30, "end_value": 1e-4},
        30,
        "fastai",
        "fastai:combine_scheds",
    ),
    (
        "optax:cosine_onecycle_schedule",
        {"transition_steps": 20, "pct_start": 0.25},
        20,
        "fastai",
        "fastai:fit_one_cycle",
    ),
    ("optax:cosine_decay_schedule", {"decay_steps": 20, "alpha": 0.01}, 20, "fastai", "fastai:fit_flat_cos"),
    ("optax:exponential_decay", {"transition_steps": 5, "decay_rate": 0.5}, 20, "fastai", "fastai:combine_scheds"),
    (
        "optax:piecewise_constant_schedule",
        {"boundaries_and_scales": {"7": 0.1, "14": 0.5}},
        20,
        "fastai",
        "fastai:combine_scheds",
    ),
    ("fastai:fit_one_cycle", {}, 20, "optax", "optax:cosine_onecycle_schedule"),
    ("fastai:fit_flat_cos", {}, 20, "optax", "optax:warmup_cosine_decay_schedule"),
    ("fastai:fit_sgdr", {"n_cycles": 2, "cycle_len": 2}, 6, "optax", "optax:sgdr_schedule"),
    ("fastai:combine_scheds", {}, 20, "optax", "optax:warmup_cosine_decay_schedule"),
    (
        "fastai:combine_scheds",
        {
            "scheds": [
                {"name": "SchedLin", "pct": 0.25, "start": 0.001, "end": 0.01},
                {"name": "SchedNo", "pct": 0.25, "start": 0.01},
                {"name": "SchedExp", "pct": 0.5, "start": 0.01, "end": 0.0001},
            ]
        },
        20,
        "optax",
        "optax:join_schedules",
    ),
    (
        "get_cosine_schedule_with_warmup",
        {"num_warmup_steps": 10, "num_training_steps": 100},
        100,
        "optax",
        "optax:warmup_cosine_decay_schedule",
    ),
    ("OneCycleLR", {"max_lr": 0.01, "total_steps": 40}, 40, "optax", "optax:cosine_onecycle_schedule"),
]


@pytest.mark.parametrize(("name", "params", "steps", "to", "expected"), EXACT, ids=[f"{e[0]}->{e[4]}" for e in EXACT])
def test_exact_translations_are_within_tolerance_when_both_libraries_are_stepped(name, params, steps, to, expected):
    source = config(name, params, steps)
    found = translate(source, to=to)
    assert found.verdict == "exact", found.reason
    assert found.scheduler == expected, found.how
    assert found.how and found.reason is None
    assert measured_diff(found.config, source) <= found.tolerance


BIG_EXACT = [  # lrs above 1000 (issue 13): optax's values and fastai's phases take them
    ("OneCycleLR", {"max_lr": 5000.0, "total_steps": 40}, 0.1, 40, "optax", "optax:cosine_onecycle_schedule"),
    ("fastai:fit_one_cycle", {}, 5000.0, 20, "optax", "optax:cosine_onecycle_schedule"),
    (
        "get_polynomial_decay_schedule_with_warmup",
        {"num_warmup_steps": 5, "num_training_steps": 40, "lr_end": 2000.0, "power": 2.0},
        5000.0,
        50,
        "optax",
        "optax:join_schedules",
    ),
    ("CosineAnnealingLR", {"T_max": 40, "eta_min": 2000.0}, 5000.0, 41, "fastai", "fastai:combine_scheds"),
    ("LinearLR", {"start_factor": 0.3, "total_iters": 10}, 5000.0, 30, "fastai", "fastai:combine_scheds"),
]


@pytest.mark.parametrize(
    ("name", "params", "base_lr", "steps", "to", "expected"), BIG_EXACT, ids=[f"{e[0]}->{e[5]}" for e in BIG_EXACT]
)
def test_lrs_above_1000_translate_exactly_when_both_libraries_are_stepped(name, params, base_lr, steps, to, expected):
    source = config(name, params, steps, base_lr=base_lr)
    assert np.nanmax(lr_of(source)) >= 2000
    found = translate(source, to=to)
    assert found.verdict == "exact", found.reason
    assert found.scheduler == expected, found.how
    assert measured_diff(found.config, source) <= found.tolerance


def test_hf_cosine_with_warmup_becomes_optax_warmup_cosine_with_the_warmup_counted_in_decay_steps():
    source = config("get_cosine_schedule_with_warmup", {"num_warmup_steps": 10, "num_training_steps": 100}, 100)
    found = translate(source, to="optax")
    assert found.config.params_dict["warmup_steps"] == 10
    assert found.config.params_dict["decay_steps"] == 100
    assert "10 + 90" in found.how


def test_fit_one_cycle_into_optax_carries_its_momentum_as_a_second_schedule():
    source = config("fastai:fit_one_cycle", {}, 20)
    found = translate(source, to="optax")
    assert found.momentum_config is not None and found.momentum_config.scheduler.startswith("optax:")
    momentum = lrlab.curve(config=source)["momentum"].to_numpy()
    assert compare(lr_of(found.momentum_config), momentum, 2e-6, 2e-6)[0] <= 2e-6


def test_torch_onecycle_with_one_more_total_step_is_fit_one_cycle_up_to_fastais_float32():
    """torch's phases end at pct·T − 1 and T − 1, fastai's at p·N and N: with N = T − 1 rows and
    p = (pct·T − 1)/N they are the same curve (lr and momentum); only fastai's float32 positions differ,
    so the verdict is exact within the float32 tolerance the engine states for fastai (1e-6 relative,
    differences under 2e-6 of the peak lr counted as rounding)."""
    n, pct = 40, 0.3
    source = config("OneCycleLR", {"max_lr": 0.01, "total_steps": n + 1, "pct_start": pct}, n)
    found = translate(source, to="fastai")
    assert found.verdict == "exact"
    assert found.scheduler == "fastai:fit_one_cycle"
    assert found.tolerance == 1e-6
    assert found.config.params_dict["pct_start"] == pytest.approx((pct * (n + 1) - 1) / n)
    ours, theirs = lr_of(found.config), lrlab.curve(config=source)["lr"].to_numpy()
    assert np.max(np.abs(ours - theirs)) <= 2e-6 * 0.01  # float32-sized, measured here
    assert np.max(np.abs(ours - theirs)) > 0  # and not nothing: fastai's positions are float32
    assert found.momentum_max_rel_diff <= 1e-6


def test_a_fractional_phase_start_cant_be_joined_in_optax_and_the_closest_is_measured():
    source = config("OneCycleLR", {"max_lr": 0.01, "total_steps": 41, "pct_start": 0.25}, 40)
    found = translate(source, to="optax")
    assert found.verdict == "closest"
    assert "whole" in found.reason
    assert measured_diff(found.config, source) == pytest.approx(found.max_rel_diff, rel=1e-6)


def test_a_polynomial_decay_into_fastai_says_why_sched_poly_is_not_it():
    source = config("optax:polynomial_schedule", {"power": 2.0, "transition_steps": 20, "end_value": 0.0}, 20)
    found = translate(source, to="fastai")
    assert found.verdict in ("closest", "none")
    assert "SchedPoly" in found.reason


def test_importing_the_translators_imports_neither_optax_jax_nor_fastai():
    code = (
        "import sys, lrlab.translating.lib_optax, lrlab.translating.lib_fastai; "
        "print(sorted(m for m in ('optax', 'jax', 'fastai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
