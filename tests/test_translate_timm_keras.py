"""Translating into and out of timm and Keras (lrlab.translating.lib_timm, lib_keras).

Two properties, each checked against the real libraries stepped here again:
- every shape the two modules analyse reproduces the library's own curve (seeded random configs
  within what they claim to cover), and what they don't cover has no shape;
- a translation's verdict holds: an exact counterpart is within tolerance of the source when both
  are stepped, and a closest one differs by the max_rel_diff it reports.
"""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import lrlab
from lrlab.schedulers import SCHEDULERS
from lrlab.simulate import compare, resolve, rounding
from lrlab.specs import LrlabError, RunContext, ScheduleConfig
from lrlab.translating import lib_keras, lib_timm, translate
from lrlab.translating.engine import Run, analyse
from lrlab.translating.shape import Shape, constant
from tests.strategies import draw_params, draw_run

pytestmark = pytest.mark.filterwarnings("ignore")

C = ScheduleConfig.make
DRAWS = 10


def lr_of(config: ScheduleConfig) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lrlab.curve(config=config)["lr"].to_numpy(dtype=np.float64)


def measured_difference(target: ScheduleConfig, source: ScheduleConfig) -> tuple[float, float]:
    """(max relative difference, tolerance) of the two real curves, as lrlab compares libraries."""
    specs = [resolve(c) for c in (target, source)]
    tolerance = max(spec.tolerance for spec, _, _ in specs)
    noise = max(rounding(spec, params, ctx) for spec, params, ctx in specs)
    return compare(lr_of(target), lr_of(source), tolerance, noise)[0], tolerance


def plain_difference(target: ScheduleConfig, source: ScheduleConfig) -> float:
    """The max of |t − s| / |s| over the run, with |s| floored at the libraries' float32 rounding (absolute)
    and at 1e-12 of the peak: nothing counted as 0 (what the translation reports)."""
    t, s = lr_of(target), lr_of(source)
    noise = max(rounding(spec, params, ctx) for spec, params, ctx in (resolve(target), resolve(source)))
    floor = max(1e-12 * np.max(np.abs(s)), noise)
    return float(np.max(np.abs(t - s) / np.maximum(np.abs(s), floor)))


# ---- drawing configs within what the modules claim to cover ----------------------------------------------

COVERED_OFF = {"noise_range_t": [], "noise": None, "k_decay": 1.0}


def covered_draw(name: str, rng: random.Random) -> ScheduleConfig | None:
    """A random valid config of ``name`` inside the analysers' coverage (None where the draw is refused)."""
    spec = SCHEDULERS[name]
    steps, base_lr, _ = draw_run(rng, max_steps=400)
    spe = rng.choice([1, 1, 4])
    ctx = RunContext(steps=steps, base_lr=base_lr, group_lrs=(base_lr,), steps_per_epoch=spe)
    params = draw_params(spec, ctx, rng)
    params.update({k: v for k, v in COVERED_OFF.items() if k in params})
    if spe > 1:  # per update: timm's epoch stepping is constant within an epoch (no segment description)
        params.update({k: False for k in ("t_in_epochs", "step_on_epochs") if k in params})
    if name == "timm:CosineLRScheduler" and params["warmup_t"]:
        params["warmup_prefix"] = True
    if name == "timm:create_scheduler_v2":
        params["sched"] = rng.choice(["cosine", "poly", "step", "multistep"])
        if params["sched"] == "cosine" and params["warmup_epochs"]:
            params["warmup_prefix"] = True
    if name == "keras:CosineDecayRestarts":
        params["t_mul"] = rng.choice([1.0, 2.0, 3.0, params["t_mul"]])
    config = C(name, params, steps=steps, base_lr=base_lr, steps_per_epoch=spe)
    try:
        resolve(config)
        lr_of(config)
    except LrlabError:  # a rule or the library refuses this draw (timm: cycles shrinking to nothing)
        return None
    return config


TIMM = ["CosineLRScheduler", "PolyLRScheduler", "StepLRScheduler", "MultiStepLRScheduler", "create_scheduler_v2"]
KERAS = ["CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "PolynomialDecay", "PiecewiseConstantDecay"]


@pytest.mark.parametrize("name", [f"timm:{n}" for n in TIMM] + [f"keras:{n}" for n in KERAS])
def test_every_analysed_shape_reproduces_the_real_curve(name: str) -> None:
    rng = random.Random(f"shape {name}")
    checked = 0
    for _ in range(DRAWS):
        config = covered_draw(name, rng)
        if config is None:
            continue
        spec, params, ctx = resolve(config)
        module = lib_timm if spec.library == "timm" else lib_keras
        shape = module.ANALYZERS[name](params, ctx, config)
        if name == "timm:CosineLRScheduler" and params["cycle_mul"] < 1:
            continue  # shrinking cycles: a shape only while they last within the run
        assert shape is not None, config
        lr = lr_of(config)
        tolerance = max(1e-9, 10 * spec.tolerance)
        worst = compare(shape.values(), lr, tolerance, rounding(spec, params, ctx))[0]
        assert worst <= tolerance, (config, shape.describe()[:4], worst)
        assert analyse(config) is not None
        checked += 1
    assert checked >= DRAWS // 2


def test_timm_warm_up_without_prefix_overlaps_the_decay_as_segments() -> None:
    """warmup_prefix=False: the polynomial counts from row 0 and the warm-up hides its first rows; what
    is left after the warm-up is again a polynomial, from where the curve is at the warm-up's end."""
    config = C(
        "timm:PolyLRScheduler",
        {"t_initial": 80, "power": 2.0, "warmup_t": 10, "warmup_lr_init": 1e-4, "t_in_epochs": False},
        steps=120,
        base_lr=1e-3,
    )
    shape = analyse(config)
    assert shape is not None
    assert [s.kind for s in shape.segments] == ["linear", "poly", "constant"]
    assert shape.segments[1].start == 10 and shape.segments[1].length == 70
    assert shape.segments[1].v0 == pytest.approx(1e-3 * (70 / 80) ** 2)


def test_timm_cosine_under_an_overlapping_warm_up_is_a_cosine_joined_part_way():
    """warmup_prefix=False: the cosine's clock starts at row 0, the warm-up hides its first rows; from
    row warmup_t the lr is lr_min + (lr − lr_min) (1 + cos(π t / t_initial)) / 2 (t counted from 0)."""
    config = C("timm:CosineLRScheduler", {"t_initial": 50, "warmup_t": 5, "t_in_epochs": False}, steps=60, base_lr=1e-3)
    shape = analyse(config)
    cosine = shape.segments[1]
    assert (cosine.kind, cosine.start, cosine.origin, cosine.length) == ("cosine", 5.0, 0.0, 50)
    expected = 1e-3 * (1 + np.cos(np.pi * 7 / 50)) / 2  # row 7 by hand
    assert shape.values()[7] == pytest.approx(expected, rel=1e-12)
    assert lrlab.curve(config=config)["lr"][7] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "params", "spe"),
    [
        ("timm:CosineLRScheduler", {"t_initial": 50, "k_decay": 2.0, "t_in_epochs": False}, 1),
        ("timm:CosineLRScheduler", {"t_initial": 50, "noise_range_t": [10], "t_in_epochs": False}, 1),
        ("timm:CosineLRScheduler", {"t_initial": 10, "t_in_epochs": True}, 5),  # constant within each epoch
        ("timm:TanhLRScheduler", {"t_initial": 50, "t_in_epochs": False}, 1),
        ("timm:create_scheduler_v2", {"sched": "tanh", "num_epochs": 50}, 1),
        ("keras:InverseTimeDecay", {"decay_steps": 10, "decay_rate": 0.5}, 1),
    ],
)
def test_configs_without_a_segment_description_have_no_shape(name: str, params: dict, spe: int) -> None:
    config = C(name, params, steps=60, base_lr=1e-3, steps_per_epoch=spe)
    assert analyse(config, infer=False) is None  # the analysers claim nothing (reading the curve may)


def test_importing_the_translation_modules_imports_neither_timm_nor_keras() -> None:
    code = (
        "import sys, lrlab.translating.lib_timm, lrlab.translating.lib_keras\n"
        "print(sorted(m for m in ('timm', 'keras', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- expressing shapes: the computed parameters ------------------------------------------------------------


def test_stairs_become_timm_milestones_one_step_early_and_keras_boundaries_one_step_before() -> None:
    shape = Shape(100, (constant(0, 1e-2), constant(30, 1e-3), constant(60, 1e-4)))
    run = Run(steps=100)
    source = C("MultiStepLR", {"milestones": [30, 60], "gamma": 0.1}, steps=100, base_lr=1e-2)
    timm = lib_timm.express(shape, run, source)
    assert [c.config.scheduler for c in timm.candidates] == ["timm:MultiStepLRScheduler"]
    assert timm.candidates[0].config.params_dict["decay_t"] == [31, 61]  # timm decays at t + 1 ≥ m
    keras = lib_keras.express(shape, run, source)
    assert [c.config.scheduler for c in keras.candidates] == ["keras:PiecewiseConstantDecay"]
    assert keras.candidates[0].config.params_dict["boundaries"] == [29, 59]  # Keras switches after b


def test_a_warm_up_from_zero_starts_keras_at_a_negligible_positive_lr() -> None:
    found = translate(hf_cosine(), to="keras")
    assert found.verdict == "exact"
    assert found.config.base_lr == pytest.approx(1e-3 * lib_keras.ZERO_START)
    assert "initial_learning_rate" in found.how and "warmup_steps = 10" in found.how


@pytest.mark.parametrize("module", [lib_timm, lib_keras])
def test_fit_templates_start_inside_their_bounds_and_build_valid_configs(module: Any) -> None:
    lr = lr_of(C("OneCycleLR", {"max_lr": 1e-2, "total_steps": 100}, steps=100, base_lr=1e-3))
    run = Run(steps=100)
    templates = module.fit_templates(None, run, C("CosineAnnealingLR", {"T_max": 100}, steps=100), lr)
    assert templates
    for t in templates:
        assert np.all(np.asarray(t.lower) <= t.x0) and np.all(np.asarray(t.x0) <= t.upper), t.scheduler
        assert np.all(np.asarray(t.lower) < t.upper)
        resolve(t.build(np.asarray(t.x0)))
        assert t.why


# ---- verdicts, proved by stepping both real libraries here ----------------------------------------------


def hf_cosine() -> ScheduleConfig:
    return C(
        "get_cosine_schedule_with_warmup", {"num_warmup_steps": 10, "num_training_steps": 100}, steps=100, base_lr=1e-3
    )


def hf_linear() -> ScheduleConfig:
    return C(
        "get_linear_schedule_with_warmup", {"num_warmup_steps": 10, "num_training_steps": 100}, steps=100, base_lr=1e-3
    )


TIMM_COSINE = {"t_initial": 80, "warmup_t": 10, "warmup_lr_init": 1e-5, "warmup_prefix": True, "lr_min": 1e-5}
BIG_COSINE = C("CosineAnnealingLR", {"T_max": 40, "eta_min": 2000.0}, steps=41, base_lr=5000.0)
BIG_POLY = C(
    "get_polynomial_decay_schedule_with_warmup",
    {"num_warmup_steps": 5, "num_training_steps": 40, "lr_end": 2000.0, "power": 2.0},
    steps=50,
    base_lr=5000.0,
)
BIG_WARMUP = C("LinearLR", {"start_factor": 0.3, "total_iters": 10}, steps=30, base_lr=5000.0)
VERDICTS: list[tuple[str, ScheduleConfig, str, str, str | None, str | None]] = [
    # (case, source, to, verdict, scheduler, a phrase of the reason)
    ("hf cosine", hf_cosine(), "keras", "exact", "keras:CosineDecay", None),
    # lrs above 1000 (issue 13): timm's lr_min / warmup_lr_init and Keras's warmup_target take them
    ("torch cosine 5000 to 2000", BIG_COSINE, "timm", "exact", "timm:CosineLRScheduler", None),
    ("torch cosine 5000 to 2000", BIG_COSINE, "keras", "exact", "keras:CosineDecay", None),
    ("hf poly to lr_end 2000", BIG_POLY, "timm", "exact", "timm:PolyLRScheduler", None),
    ("torch warm-up 1500 to 5000", BIG_WARMUP, "timm", "exact", "timm:StepLRScheduler", None),
    ("torch warm-up 1500 to 5000", BIG_WARMUP, "keras", "exact", "keras:CosineDecay", None),
    ("hf cosine", hf_cosine(), "timm", "exact", "timm:CosineLRScheduler", None),
    ("hf linear", hf_linear(), "timm", "exact", "timm:PolyLRScheduler", None),
    ("hf linear", hf_linear(), "keras", "closest", None, "warm up only in CosineDecay"),
    (
        "hf constant",
        C("get_constant_schedule_with_warmup", {"num_warmup_steps": 10}, steps=60, base_lr=1e-3),
        "keras",
        "exact",
        "keras:CosineDecay",
        None,
    ),
    ("torch cosine", C("CosineAnnealingLR", {"T_max": 100, "eta_min": 1e-5}, steps=100), "timm", "exact", None, None),
    (
        "torch cosine past T_max",
        C("CosineAnnealingLR", {"T_max": 50}, steps=100),
        "timm",
        "closest",
        None,
        "past its end",
    ),
    (
        "torch SGDR",
        C("CosineAnnealingWarmRestarts", {"T_0": 20, "T_mult": 2, "eta_min": 1e-5}, steps=150),
        "keras",
        "exact",
        "keras:CosineDecayRestarts",
        None,
    ),
    (
        "torch step",
        C("StepLR", {"step_size": 30, "gamma": 0.1}, steps=100),
        "keras",
        "exact",
        "keras:ExponentialDecay",
        None,
    ),
    (
        "torch exponential",
        C("ExponentialLR", {"gamma": 0.98}, steps=100),
        "timm",
        "closest",
        None,
        "no continuous exponential",
    ),
    (
        "timm cosine",
        C("timm:CosineLRScheduler", {**TIMM_COSINE, "t_in_epochs": False}, steps=120, base_lr=1e-3),
        "keras",
        "exact",
        "keras:CosineDecay",
        None,
    ),
    (
        "timm cosine overlapping warm-up",
        C("timm:CosineLRScheduler", {**TIMM_COSINE, "warmup_prefix": False, "t_in_epochs": False}, steps=120),
        "keras",
        "closest",
        None,
        "part-way",
    ),
    (
        "timm multistep",
        C("timm:MultiStepLRScheduler", {"decay_t": [20, 50], "decay_rate": 0.5, "t_in_epochs": False}, steps=80),
        "keras",
        "exact",
        "keras:PiecewiseConstantDecay",
        None,
    ),
    (
        "keras cosine",
        C(
            "keras:CosineDecay",
            {"decay_steps": 80, "warmup_target": 1e-3, "warmup_steps": 10, "alpha": 0.1},
            steps=120,
            base_lr=1e-5,
        ),
        "timm",
        "exact",
        "timm:CosineLRScheduler",
        None,
    ),
    (
        "keras staircase",
        C("keras:ExponentialDecay", {"decay_steps": 20, "decay_rate": 0.5, "staircase": True}, steps=100),
        "timm",
        "exact",
        "timm:StepLRScheduler",
        None,
    ),
    (
        "keras stairs of two ratios",
        C("keras:PiecewiseConstantDecay", {"boundaries": [10, 50], "values": [1e-3, 5e-4, 1e-4]}, steps=80),
        "timm",
        "closest",
        None,  # the least-squares best of the templates (MultiStep with one factor, or a decay)
        "one factor",
    ),
    (
        "keras inverse time",
        C("keras:InverseTimeDecay", {"decay_steps": 10, "decay_rate": 0.5}, steps=80, base_lr=1e-3),
        "timm",
        "closest",
        None,
        "not made of the pieces",
    ),
]


@pytest.mark.parametrize(
    ("source", "to", "verdict", "scheduler", "phrase"),
    [case[1:] for case in VERDICTS],
    ids=[f"{case[0]} -> {case[2]}" for case in VERDICTS],
)
def test_a_verdict_holds_when_both_real_libraries_are_stepped(
    source: ScheduleConfig, to: str, verdict: str, scheduler: str | None, phrase: str | None
) -> None:
    found = translate(source, to=to)
    assert found.verdict == verdict, (found.how, found.reason)
    if scheduler is not None:
        assert found.scheduler == scheduler
    assert found.config is not None and found.config.scheduler.startswith(f"{to}:")
    worst, tolerance = measured_difference(found.config, source)
    if verdict == "exact":
        assert worst <= tolerance
        assert found.reason is None and found.how
    else:
        assert worst > tolerance
        assert found.max_rel_diff == pytest.approx(plain_difference(found.config, source), rel=1e-9)
        assert phrase in found.reason
