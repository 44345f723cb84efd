"""optax's schedules in lrlab: the curves are optax's own, eager and jitted, and the closed forms match them.

Expected values come from optax itself, called in loops written out here (one call per step, on a Python
int and on an int32 count; ``jax.jit(schedule)`` per step; ``inject_hyperparams`` in a train loop), from
hand computation and from optax's own docstring tables; never from lrlab's code.

Error measure of the closed forms: optax computes in float32, so the difference is taken relative to the
schedule's scale S = the largest of the curve's |lr| and the schedule's own values (init / peak / end),
as float32 rounding is relative to the magnitudes computed with, not to the (maybe tiny) result. Measured
over 1,400 seeded random configurations (100 per schedule, powers and exponents ≥ 1, decay rates ≤ 0.99):
at most ~4e-7 · S; lrlab's tolerance is 2e-6 (see FLOAT32 cases below for what amplifies float32 rounding).
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
import jax.numpy as jnp  # noqa: E402

import lrlab  # noqa: E402
from lrlab import SCHEDULERS, LrlabError, ScheduleConfig, simulate  # noqa: E402
from lrlab.explain import explain, num  # noqa: E402
from lrlab.export import render  # noqa: E402
from lrlab.specs import RunContext  # noqa: E402

S = optax.schedules
NAMES = [name for name, spec in SCHEDULERS.items() if spec.library == "optax"]
TOLERANCE = 2e-6
#: optax's argument that holds the lr itself, per schedule (written out here, not read from lrlab)
BASE = {
    "constant_schedule": "value",
    "linear_schedule": "init_value",
    "polynomial_schedule": "init_value",
    "exponential_decay": "init_value",
    "cosine_decay_schedule": "init_value",
    "warmup_cosine_decay_schedule": "peak_value",
    "warmup_constant_schedule": "peak_value",
    "warmup_exponential_decay_schedule": "peak_value",
    "piecewise_constant_schedule": "init_value",
    "piecewise_interpolate_schedule": "init_value",
    "linear_onecycle_schedule": "peak_value",
    "cosine_onecycle_schedule": "peak_value",
}
VALUES = {"init_value", "peak_value", "end_value", "value"}


def optax_schedule(name: str, params: dict, base_lr: float):
    """The real optax schedule for lrlab-style params (complete), built here from optax's own signature."""
    short = name.split(":", 1)[1]
    if short == "join_schedules":
        kids = []
        for child in params["schedules"]:
            child = dict(child)
            child_name = child.pop("name")
            own = child.pop(BASE[child_name.split(":", 1)[1]], None) if child_name.split(":", 1)[1] in BASE else None
            kids.append(optax_schedule(child_name, child, base_lr if own is None else own))
        return S.join_schedules(kids, list(params["boundaries"]))
    if short == "sgdr_schedule":
        return S.sgdr_schedule([{"peak_value": base_lr, **cycle} for cycle in params["cosine_kwargs"]])
    kwargs = {**params, BASE[short]: base_lr}
    if "boundaries_and_scales" in kwargs:
        kwargs["boundaries_and_scales"] = {int(k): float(v) for k, v in dict(kwargs["boundaries_and_scales"]).items()}
    return getattr(S, short)(**kwargs)


def eager_per_step(schedule, steps: int, count=jnp.int32) -> np.ndarray:
    """One eager call per step, as an un-jitted update step makes it (count: int for a Python int)."""
    return np.array([np.float32(schedule(count(t))) for t in range(steps)], dtype=np.float32)


def jitted_per_step(schedule, steps: int) -> np.ndarray:
    compiled = jax.jit(schedule)
    return np.array([np.float32(compiled(jnp.int32(t))) for t in range(steps)], dtype=np.float32)


def same(a, b) -> bool:
    return np.array_equal(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32), equal_nan=True)


def curve(name: str, params: dict, steps: int, base_lr: float = 0.1, **run) -> lrlab.Curve:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate(ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr, **run))


# ---- hand-picked configurations: each schedule, its edges, the quirks ---------------------------------

CASES = [
    ("optax:constant_schedule", {}, 0.3, 20),
    ("optax:linear_schedule", {"end_value": 0.0, "transition_steps": 40, "transition_begin": 10}, 0.1, 60),
    (
        "optax:polynomial_schedule",
        {"end_value": 0.001, "power": 1.5, "transition_steps": 40, "transition_begin": 7},
        0.1,
        60,
    ),
    (
        "optax:exponential_decay",
        {"transition_steps": 41, "decay_rate": 0.5, "transition_begin": 0, "staircase": True, "end_value": None},
        0.1,
        130,
    ),
    (
        "optax:exponential_decay",
        {"transition_steps": 7, "decay_rate": 0.8, "transition_begin": 5, "staircase": False, "end_value": 0.02},
        0.1,
        70,
    ),
    ("optax:cosine_decay_schedule", {"decay_steps": 60, "alpha": 0.1, "exponent": 2.0}, 0.1, 70),
    (
        "optax:warmup_cosine_decay_schedule",
        {"init_value": 0.01, "warmup_steps": 10, "decay_steps": 70, "end_value": 0.001, "exponent": 1.0},
        0.1,
        80,
    ),
    ("optax:warmup_constant_schedule", {"init_value": 0.0, "warmup_steps": 13}, 0.1, 30),
    (
        "optax:warmup_exponential_decay_schedule",
        {
            "init_value": 0.0,
            "warmup_steps": 10,
            "transition_steps": 47,
            "decay_rate": 0.5,
            "transition_begin": 3,
            "staircase": True,
            "end_value": 0.001,
        },
        0.1,
        120,
    ),
    ("optax:piecewise_constant_schedule", {"boundaries_and_scales": {10: 0.5, 30: 0.1, 31: 2.0}}, 0.1, 40),
    (
        "optax:piecewise_interpolate_schedule",
        {"interpolate_type": "cosine", "boundaries_and_scales": {4: 0.1, 8: 0.01, 20: 30.0}},
        0.1,
        24,
    ),
    (
        "optax:linear_onecycle_schedule",
        {"transition_steps": 20, "pct_start": 0.3, "pct_final": 0.85, "div_factor": 25.0, "final_div_factor": 1e4},
        0.1,
        24,
    ),
    (
        "optax:cosine_onecycle_schedule",
        {"transition_steps": 20, "pct_start": 0.25, "div_factor": 25.0, "final_div_factor": 1e4},
        0.1,
        24,
    ),
    (
        "optax:sgdr_schedule",
        {
            "cosine_kwargs": [
                {"init_value": 0.0, "warmup_steps": 3, "decay_steps": 12},
                {"init_value": 0.01, "peak_value": 0.05, "warmup_steps": 0, "decay_steps": 10, "end_value": 0.001},
                {"init_value": 0.0, "warmup_steps": 2, "decay_steps": 8, "exponent": 2.0},
            ]
        },
        0.1,
        34,
    ),
    (
        "optax:join_schedules",
        {
            "schedules": [
                {"name": "optax:warmup_constant_schedule", "init_value": 0.0, "warmup_steps": 5},
                {"name": "optax:cosine_decay_schedule", "decay_steps": 20, "alpha": 0.0, "exponent": 1.0},
                {
                    "name": "optax:piecewise_constant_schedule",
                    "init_value": 0.02,
                    "boundaries_and_scales": {0: 0.5, 6: 0.1},
                },
            ],
            "boundaries": [5, 25],
        },
        0.1,
        40,
    ),
]
CASE_IDS = [f"{name.split(':')[1]}-{i}" for i, (name, *_rest) in enumerate(CASES)]


def test_every_schedule_of_optax_schedules_is_registered_under_its_own_name():
    exported = {
        n
        for n in dir(S)
        if not n.startswith("_") and callable(getattr(S, n)) and (n.endswith("_schedule") or n.endswith("_schedules"))
    }
    exported |= {"exponential_decay"}
    assert sorted(f"optax:{n}" for n in exported) == sorted(NAMES)
    assert len(NAMES) == 14
    for name in NAMES:  # optax's own spellings find the spec too
        short = name.split(":")[1]
        assert lrlab.get_spec(f"optax.schedules.{short}").name == name
        assert lrlab.get_spec(f"optax.{short}").name == name
        assert getattr(optax, short) is getattr(S, short)  # the flat names are aliases of optax.schedules'


def test_importing_lrlab_and_validating_an_optax_config_loads_neither_jax_nor_optax():
    code = (
        "import sys, lrlab\n"
        "from lrlab.simulate import resolve\n"
        "resolve(lrlab.ScheduleConfig.make('optax:warmup_cosine_decay_schedule', {}, steps=100))\n"
        "lrlab.fast(lrlab.ScheduleConfig.make('optax:join_schedules', {}, steps=100))\n"
        "assert 'jax' not in sys.modules and 'optax' not in sys.modules, sorted(m for m in sys.modules if 'jax' in m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name, params, base_lr, steps", CASES, ids=CASE_IDS)
def test_the_lr_column_is_optax_called_eagerly_once_per_step_on_an_int32_count_and_a_python_int(
    name, params, base_lr, steps
):
    schedule = optax_schedule(name, params, base_lr)
    lrs = curve(name, params, steps, base_lr).frame["lr"].to_numpy()
    assert same(lrs, eager_per_step(schedule, steps, jnp.int32))
    assert same(lrs, eager_per_step(schedule, steps, int))


@pytest.mark.parametrize("name, params, base_lr, steps", CASES, ids=CASE_IDS)
def test_the_lr_jit_column_is_the_jitted_schedule_called_once_per_step(name, params, base_lr, steps):
    schedule = optax_schedule(name, params, base_lr)
    result = curve(name, params, steps, base_lr)
    assert same(result.frame["lr_jit"].to_numpy(), jitted_per_step(schedule, steps))
    assert any(note.startswith("lr_jit is jax.jit(schedule)(count)") for note in result.notes)


def test_a_plain_vectorised_call_is_not_the_per_step_eager_call_which_is_why_lrlab_replays_it():
    # jax computes array / python-number as array * (1 / number): at t = 61, 122 the staircase exponent is
    # 0.99999994 · k and floor() takes k − 1, one step late; the per-step call (and lrlab's lr) decays on time
    schedule = S.exponential_decay(1.0, 61, 0.5, staircase=True)
    vectorised = np.asarray(schedule(jnp.arange(130)), dtype=np.float32)
    assert vectorised[61] == 1.0 and vectorised[122] == 0.5
    per_step = eager_per_step(schedule, 130)
    assert per_step[61] == 0.5 and per_step[122] == 0.25
    lrs = curve("optax:exponential_decay", {"transition_steps": 61, "staircase": True}, 130, 1.0).frame["lr"]
    assert same(lrs, per_step)


def test_random_configurations_are_driven_exactly_as_optax_calls_them_eagerly_and_jitted():
    rng = random.Random("optax:exact")
    for name in NAMES:
        steps, base_lr = rng.randint(12, 36), 10 ** rng.uniform(-3, 0)
        params = draw(name, steps, base_lr, rng)
        schedule = optax_schedule(name, params, base_lr)
        result = curve(name, params, steps, base_lr)
        assert same(result.frame["lr"], eager_per_step(schedule, steps)), (name, params)
        assert same(result.frame["lr_jit"], jitted_per_step(schedule, steps)), (name, params)


# ---- the quirks of the jitted schedule, said in the notes ----------------------------------------------


def test_jitted_polynomial_with_a_fractional_power_is_nan_from_the_end_of_its_transition_on():
    params = {"end_value": 0.001, "power": 1.5, "transition_steps": 40, "transition_begin": 7}
    result = curve("optax:polynomial_schedule", params, 60)
    frame = result.frame
    jitted = jax.jit(S.polynomial_schedule(0.1, 0.001, 1.5, 40, 7))
    assert math.isnan(float(jitted(jnp.int32(47)))) and math.isnan(float(jitted(jnp.int32(59))))
    assert frame["lr_jit"].iloc[47:].isna().all() and np.isfinite(frame["lr_jit"].iloc[:47]).all()
    assert np.allclose(frame["lr"].iloc[47:], 0.001, rtol=1e-6)  # eager: end_value
    assert any("returns NaN from step 47 on" in note for note in result.notes)
    assert any("not an integer returns NaN" in note for note in result.spec.notes)
    assert result.stopped_at is None  # the eager curve is the library's; NaN only in lr_jit


def test_jitted_staircase_decays_one_step_late_at_some_multiples_of_transition_steps():
    result = curve("optax:exponential_decay", {"transition_steps": 41, "staircase": True}, 130)
    lr, jit = result.frame["lr"].to_numpy(), result.frame["lr_jit"].to_numpy()
    assert lr[41] == np.float32(0.05) and lr[82] == np.float32(0.025)  # on time eagerly
    assert jit[41] == np.float32(0.1) and jit[82] == np.float32(0.05)  # one step late jitted
    assert jit[42] == lr[42] and jit[83] == lr[83]
    differ = np.flatnonzero(lr != jit)
    assert list(differ) == [41, 82]
    assert any("at 2 of 130 steps: 41, 82." in note for note in result.notes)
    assert any("step 41: 0.1 jitted, 0.05 eager" in note for note in result.notes)
    for n in (47, 55, 61, 82):  # the other measured transition_steps: late at the first multiple
        jitted = jax.jit(S.exponential_decay(1.0, n, 0.5, staircase=True))
        assert float(jitted(jnp.int32(n))) == 1.0 and float(S.exponential_decay(1.0, n, 0.5, staircase=True)(n)) == 0.5


def test_jitted_linear_decay_to_zero_ends_slightly_negative():
    result = curve("optax:linear_schedule", {"end_value": 0.0, "transition_steps": 300}, 310)
    assert (result.frame["lr"].iloc[300:] == 0).all()
    assert (result.frame["lr_jit"].iloc[300:] < 0).all() and result.frame["lr_jit"].iloc[300] > -1e-8
    assert any("the lr is negative" in note for note in result.notes)


# ---- optax's own docstring tables and hand computation ------------------------------------------------


def test_polynomial_schedule_reproduces_optaxs_docstring_table():
    params = {"end_value": 0.01, "power": 2.0, "transition_steps": 100, "transition_begin": 5}
    lr = curve("optax:polynomial_schedule", params, 111, 1.0).frame["lr"].to_numpy()
    shown = [f"{lr[t]:.4f}" for t in (0, 5, 6, 104, 105, 110)]
    assert shown == ["1.0000", "1.0000", "0.9803", "0.0101", "0.0100", "0.0100"]


def test_piecewise_interpolate_schedule_reproduces_optaxs_docstring_table():
    params = {"interpolate_type": "linear", "boundaries_and_scales": {"4": 0.1, "8": 0.01}}
    lr = curve("optax:piecewise_interpolate_schedule", params, 11, 1.0).frame["lr"].to_numpy()
    assert [f"{lr[t]:.6f}" for t in range(0, 11, 2)] == [
        "1.000000",
        "0.550000",
        "0.100000",
        "0.050500",
        "0.001000",
        "0.001000",
    ]


def test_piecewise_constant_switches_at_the_boundary_as_optaxs_docstring_shows():
    params = {"boundaries_and_scales": {100: 0.1, 200: 0.01}}
    lr = curve("optax:piecewise_constant_schedule", params, 260, 1.0).frame["lr"].to_numpy()
    assert lr[99] == 1.0 and lr[100] == np.float32(0.1) and lr[150] == np.float32(0.1)
    assert lr[250] == pytest.approx(0.001, rel=1e-6)


def test_warmup_cosine_decay_steps_include_the_warm_up():
    # warm-up 10 steps to 1.0, then the cosine over decay_steps − warmup_steps = 30 steps: 0.5 at t = 25, 0 at 40
    params = {"init_value": 0.0, "warmup_steps": 10, "decay_steps": 40, "end_value": 0.0, "exponent": 1.0}
    lr = curve("optax:warmup_cosine_decay_schedule", params, 50, 1.0).frame["lr"].to_numpy()
    assert lr[0] == 0.0 and lr[5] == 0.5 and lr[10] == 1.0
    assert lr[25] == pytest.approx(0.5, abs=1e-6) and lr[40] == 0.0 and lr[49] == 0.0


def test_join_children_see_their_own_clock():
    case = CASES[-1]
    lr = curve(case[0], case[1], case[3], case[2]).frame["lr"].to_numpy()
    assert lr[5] == np.float32(0.1)  # the cosine child at its own count 0
    assert lr[25] == np.float32(0.01)  # the piecewise child at count 0: its {0: 0.5} applies at once
    assert lr[31] == np.float32(0.001)  # and 6 steps later ×0.1


# ---- closed forms -----------------------------------------------------------------------------------------


def scale_of(params, base_lr: float, closed: np.ndarray) -> float:
    found = [base_lr, float(np.max(np.abs(closed)))]

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, key)
        elif key in VALUES and isinstance(value, (int, float)):
            found.append(abs(value))

    walk(params)
    return max(found)


def test_the_closed_forms_equal_optax_within_float32_rounding_for_random_valid_params():
    rng = random.Random("optax:parity")
    worst = {}
    for name in NAMES:
        for _ in range(3):
            steps = rng.choice([1, 2, 5, rng.randint(1, 3000)])
            base_lr = 10 ** rng.uniform(-4, 1)
            params = draw(name, steps, base_lr, rng)
            result = curve(name, params, steps, base_lr)
            lr, closed = result.frame["lr"].to_numpy(), result.closed["lr"].to_numpy()
            error = float(np.max(np.abs(lr - closed))) / scale_of(params, base_lr, closed)
            worst[name] = max(worst.get(name, 0.0), error)
            assert error <= TOLERANCE, (name, params, steps, base_lr, error)
    assert max(worst.values()) > 1e-8  # float32, not float64: the measure sees its rounding


def test_float32_rounding_grows_where_a_power_below_one_meets_cancellation_and_the_closed_form_shows_it():
    # ½(1 + cos(π t/T)) ≈ 2.7e-7 at t = T − 1 for T = 3000: float32 keeps ~1 digit, and ^0.1 enlarges that
    params = {"decay_steps": 3000, "alpha": 0.0, "exponent": 0.1}
    result = curve("optax:cosine_decay_schedule", params, 3000, 1.0)
    lr, closed = result.frame["lr"].to_numpy(), result.closed["lr"].to_numpy()
    error = np.abs(lr - closed)
    assert error[:2000].max() < TOLERANCE and error.max() > 10 * TOLERANCE
    # a perturbation of the cosine factor by a few float32 ulps (|Δ| ≤ 2⁻²²) explains every point
    t = np.arange(3000)
    factor = 0.5 * (1 + np.cos(np.pi * t / 3000))
    delta = 2.0**-22
    low, high = np.maximum(factor - delta, 0) ** 0.1, (factor + delta) ** 0.1
    assert np.all((lr >= low - 1e-6) & (lr <= high + 1e-6))


def test_a_decay_rate_close_to_one_compounds_its_float32_rounding_over_many_steps():
    params = {"transition_steps": 1, "decay_rate": 0.9999, "staircase": False}
    result = curve("optax:exponential_decay", params, 20_000, 1.0)
    lr, closed = result.frame["lr"].to_numpy(), result.closed["lr"].to_numpy()
    assert np.max(np.abs(lr - closed)) > 10 * TOLERANCE
    rate32 = float(np.float32(0.9999))  # what optax raises to the power: decay_rate in float32
    t = np.arange(20_000)
    assert np.max(np.abs(lr - rate32**t)) < TOLERANCE


# ---- validation: named refusals where optax would silently do something else ---------------------------


def refusal(name: str, steps: int = 50, **params) -> LrlabError:
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, steps=steps, base_lr=0.1, **params)
    return caught.value


def assert_named(error: LrlabError, field: str, *words: str) -> None:
    assert error.field == field, (error.field, str(error))
    for word in (field, *words):
        assert word in str(error), str(error)


def test_a_polynomial_over_zero_steps_is_refused_where_optax_silently_returns_a_constant():
    assert S.polynomial_schedule(0.1, 0.0, 2.0, 0)(10) == 0.1  # optax: a constant, no error
    assert_named(refusal("optax:polynomial_schedule", transition_steps=0), "transition_steps", "(0)", "constant")
    assert_named(refusal("optax:linear_schedule", transition_steps=-5), "transition_steps", "(-5)")
    assert_named(refusal("optax:polynomial_schedule", transition_begin=-1), "transition_begin", "(-1)", "use 0")


def test_an_exponential_decay_that_optax_would_hold_constant_is_refused():
    assert S.exponential_decay(0.1, 10, 0.0)(100) == 0.1 and S.exponential_decay(0.1, 0, 0.5)(100) == 0.1
    assert_named(refusal("optax:exponential_decay", decay_rate=0.0), "decay_rate", "(0.0)", "constant")
    assert_named(refusal("optax:exponential_decay", transition_steps=0), "transition_steps", "(0)")
    assert_named(refusal("optax:warmup_exponential_decay_schedule", transition_steps=0), "transition_steps")


def test_a_warm_up_over_zero_steps_is_refused_where_optax_never_reaches_the_peak():
    assert S.warmup_constant_schedule(0.0, 1.0, 0)(100) == 0.0  # optax: stuck at init_value
    assert_named(refusal("optax:warmup_constant_schedule", warmup_steps=0), "warmup_steps", "(0)", "never reaches")


def test_warmup_cosine_needs_decay_steps_beyond_the_warm_up_because_they_include_it():
    with pytest.raises(ValueError, match="requires positive decay_steps"):
        S.warmup_cosine_decay_schedule(0.0, 1.0, 10, 10)
    error = refusal("optax:warmup_cosine_decay_schedule", warmup_steps=10, decay_steps=10)
    assert_named(error, "decay_steps", "(10)", "includes the warm-up", "ValueError")


def test_a_one_cycle_whose_knots_collide_is_refused_where_optax_silently_drops_the_peak():
    silent = S.linear_onecycle_schedule(10, 1.0, pct_start=0.3, pct_final=0.35)
    assert max(float(silent(t)) for t in range(12)) < 0.5  # int(3.0) == int(3.5): the peak is gone
    assert_named(
        refusal("optax:linear_onecycle_schedule", transition_steps=10, pct_final=0.35), "pct_final", "(0.35)", "collide"
    )
    assert_named(refusal("optax:linear_onecycle_schedule", transition_steps=10, pct_final=1.0), "pct_final", "(1.0)")
    assert max(float(S.cosine_onecycle_schedule(10, 1.0, pct_start=1.0)(t)) for t in range(12)) < 0.5
    assert_named(refusal("optax:cosine_onecycle_schedule", transition_steps=10, pct_start=1.0), "pct_start", "(1.0)")


@pytest.mark.parametrize(
    "value",
    [{"10": -0.5}, {"x": 0.1}, [[10, 0.1], [10, 0.2]], [], {"10": True}, "10: 0.1", 0.1, None, {"-3": 0.1}],
)
def test_bad_boundaries_and_scales_are_refused_naming_the_parameter_and_the_value(value):
    error = refusal("optax:piecewise_constant_schedule", boundaries_and_scales=value)
    assert error.field == "boundaries_and_scales" and "mapping {step: scale}" in str(error)
    assert str(value)[:40] in str(error) or repr(value)[:40] in str(error)


def test_a_negative_scale_is_what_optax_refuses_too():
    with pytest.raises(ValueError, match="non-negative"):
        S.piecewise_constant_schedule(1.0, {10: -0.5})


def test_sgdr_cycles_are_checked_one_by_one():
    error = refusal("optax:sgdr_schedule", cosine_kwargs=[{"init_value": 0.0, "warmup_steps": 2}])
    assert error.field == "cosine_kwargs" and "decay_steps (required)" in str(error)
    error = refusal(
        "optax:sgdr_schedule",
        cosine_kwargs=[
            {"init_value": 0.0, "warmup_steps": 2, "decay_steps": 10},
            {"init_value": 0.0, "warmup_steps": 5, "decay_steps": 5},
        ],
    )
    assert_named(error, "cosine_kwargs[1].decay_steps", "(5)", "includes the warm-up")
    error = refusal("optax:sgdr_schedule", cosine_kwargs=[{"init_value": -1.0, "warmup_steps": 0, "decay_steps": 5}])
    assert_named(error, "cosine_kwargs[0].init_value", "(-1.0)")


def test_join_schedules_refuses_what_optax_would_silently_drop_or_hide():
    kids = [
        {"name": "optax:constant_schedule"},
        {"name": "optax:cosine_decay_schedule", "decay_steps": 20},
        {"name": "optax:constant_schedule", "value": 0.01},
    ]
    # optax's zip() drops the third child when given one boundary: the join equals the two-child join
    three = S.join_schedules(
        [S.constant_schedule(0.1), S.cosine_decay_schedule(0.1, 20), S.constant_schedule(0.01)], [5]
    )
    two = S.join_schedules([S.constant_schedule(0.1), S.cosine_decay_schedule(0.1, 20)], [5])
    assert all(float(three(t)) == float(two(t)) for t in range(40))
    assert_named(refusal("optax:join_schedules", schedules=kids, boundaries=[5]), "boundaries", "[5]", "zip()")
    assert_named(refusal("optax:join_schedules", schedules=kids, boundaries=[20, 5]), "boundaries", "[20, 5]", "order")
    error = refusal("optax:join_schedules", schedules=[{"name": "StepLR"}, kids[1]], boundaries=[5])
    assert_named(error, "schedules[0].name", "'StepLR'", "optax schedule")
    error = refusal("optax:join_schedules", schedules=[{"name": "optax:join_schedules"}, kids[1]], boundaries=[5])
    assert error.field == "schedules[0].name"
    error = refusal("optax:join_schedules", schedules=[kids[0], {**kids[1], "decay_steps": 0}], boundaries=[5])
    assert_named(error, "schedules[1].decay_steps", "(0)")


BIG_CASES = [  # values above 1000 (issue 13): optax takes any
    ("optax:linear_schedule", {"end_value": 2000.0, "transition_steps": 10, "transition_begin": 0}, 5000.0, 14),
    (
        "optax:warmup_cosine_decay_schedule",
        {"init_value": 1500.0, "warmup_steps": 3, "decay_steps": 12, "end_value": 2000.0, "exponent": 1.0},
        5000.0,
        15,
    ),
    (
        "optax:sgdr_schedule",
        {
            "cosine_kwargs": [
                {"init_value": 1500.0, "peak_value": 5000.0, "warmup_steps": 2, "decay_steps": 8, "end_value": 2000.0}
            ]
        },
        0.1,
        10,
    ),
    (
        "optax:join_schedules",
        {
            "schedules": [
                {"name": "optax:constant_schedule", "value": 5000.0},
                {"name": "optax:linear_schedule", "init_value": 4000.0, "end_value": 2000.0, "transition_steps": 5},
            ],
            "boundaries": [3],
        },
        0.1,
        10,
    ),
]


@pytest.mark.parametrize("name, params, base_lr, steps", BIG_CASES, ids=[c[0] for c in BIG_CASES])
def test_values_above_1000_give_optaxs_own_eager_and_jitted_schedule(name, params, base_lr, steps):
    schedule = optax_schedule(name, params, base_lr)
    expected = eager_per_step(schedule, steps)
    assert expected.max() >= 4000
    result = curve(name, params, steps, base_lr)
    assert same(result.frame["lr"].to_numpy(), expected)
    assert same(result.frame["lr_jit"].to_numpy(), jitted_per_step(schedule, steps))


def test_a_negative_value_is_refused_naming_the_field_the_value_and_the_rule():
    error = refusal("optax:linear_schedule", end_value=-2000.0)
    assert error.field == "end_value" and str(error) == "Invalid end_value (-2000.0): must be a finite number ≥ 0"
    kids = [{"name": "optax:constant_schedule", "value": -1.0}, {"name": "optax:constant_schedule"}]
    error = refusal("optax:join_schedules", schedules=kids, boundaries=[3])
    assert_named(error, "schedules[0].value", "(-1.0)", "must be a finite number ≥ 0")
    cycle = {"init_value": 0.0, "peak_value": math.inf, "warmup_steps": 1, "decay_steps": 5}
    assert_named(refusal("optax:sgdr_schedule", cosine_kwargs=[cycle]), "cosine_kwargs[0].peak_value", "(inf)")


def test_the_parameter_that_is_the_lr_is_the_run_base_lr():
    error = refusal("optax:warmup_cosine_decay_schedule", peak_value=0.5)
    assert error.field == "peak_value" and "base_lr" in str(error)
    frame = lrlab.curve("optax:warmup_constant_schedule", steps=30, base_lr=0.7, warmup_steps=3)
    assert frame["lr"].iloc[-1] == np.float32(0.7)


def test_an_optax_schedule_is_one_function_of_the_count_driven_per_update():
    with pytest.raises(LrlabError) as caught:
        lrlab.curve("optax:cosine_decay_schedule", steps=10, group_lrs=[0.2])
    assert caught.value.field == "group_lrs"
    with pytest.raises(LrlabError) as caught:
        lrlab.curve("optax:cosine_decay_schedule", steps=10, interval="epoch")
    assert caught.value.field == "interval" and "'step'" in str(caught.value)


# ---- export: the optax idiom, run in a fresh interpreter --------------------------------------------------


def test_inject_hyperparams_records_for_update_t_the_schedule_at_count_t_eagerly_and_jitted():
    name, params, base_lr, steps = CASES[3]  # the staircase that decays late when jitted
    schedule = optax_schedule(name, params, base_lr)
    optimizer = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)

    def loss(w, x):
        return jnp.mean((x @ w) ** 2)

    def update(w, state, x):
        updates, state = optimizer.update(jax.grad(loss)(w, x), state, w)
        return optax.apply_updates(w, updates), state

    step = jax.jit(update)
    result = curve(name, params, steps, base_lr)
    for fn, column in ((update, "lr"), (step, "lr_jit")):
        w, state, seen = jnp.zeros(3), optimizer.init(jnp.zeros(3)), []
        for _ in range(steps if fn is step else 90):
            w, state = fn(w, state, jnp.ones((2, 3)))
            seen.append(float(state.hyperparams["learning_rate"]))
        assert same(seen, result.frame[column].to_numpy()[: len(seen)]), column


@cache
def exported(configs: tuple[ScheduleConfig, ...]) -> list:
    jobs = [
        {"target": "optax", "code": render(c, "optax"), "steps": c.steps, "steps_per_epoch": c.steps_per_epoch}
        for c in configs
    ]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("exported_runner.py"))],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


#: one export per family (the others run in tests/test_export.py): the staircase that the jitted step takes
#: late, the fractional power whose jitted step is NaN, a warm-up + cosine, the interpolations, restarts, a join
EXPORTED = tuple(
    ScheduleConfig.make(name, params, steps=steps, steps_per_epoch=9, base_lr=base)
    for name, params, base, steps in (CASES[2], CASES[3], CASES[6], CASES[10], CASES[11], CASES[13], CASES[14])
)


def test_every_export_runs_in_a_fresh_interpreter_and_its_jitted_train_step_gives_the_lr_jit_column():
    results = exported(EXPORTED)
    for config, got in zip(EXPORTED, results, strict=True):
        assert not isinstance(got, dict), (config.scheduler, got)
        assert len(got) == config.steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert same(got, simulate(config).frame["lr_jit"]), config.scheduler
    polynomial = results[0]  # the fractional power: the jitted train step records NaN, as lr_jit says
    assert all(math.isnan(v) for v in polynomial[47:]) and not any(math.isnan(v) for v in polynomial[:47])
    staircase = results[1]  # the staircase decays one step late in the jitted train step, as lr_jit says
    assert staircase[41] == np.float32(0.1) and staircase[42] == np.float32(0.05)


def test_an_export_is_optax_idiom_with_the_schedule_given_to_inject_hyperparams():
    code = render(ScheduleConfig.make("optax:join_schedules", {}, steps=100, steps_per_epoch=10), "optax")
    assert "optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)" in code
    assert "optax.schedules.join_schedules([child_0, child_1], boundaries=[10])" in code
    assert "@jax.jit" in code and "optax.apply_updates" in code and "lr_jit" in code
    assert "def train(steps=100, steps_per_epoch=10):" in code and 'if __name__ == "__main__":' in code
    with pytest.raises(LrlabError):
        render(ScheduleConfig.make("optax:join_schedules", {}, steps=100), "torch")


# ---- explain mode -------------------------------------------------------------------------------------------


def last_number(latex: str) -> str:
    body = latex.replace(r"\end{gathered}", "").strip()
    return body.rsplit("=", 1)[1].strip().split(r"\quad")[0].strip()


@pytest.mark.parametrize("name, params, base_lr, steps", CASES, ids=CASE_IDS)
def test_explain_mode_substitutes_numbers_that_evaluate_to_optaxs_lr(name, params, base_lr, steps):
    result = curve(name, params, steps, base_lr)
    lr = result.frame["lr"].to_numpy()
    scale = scale_of(params, base_lr, result.closed["lr"].to_numpy())
    marks = {0, 1, steps // 2, steps - 1}

    def collect(value):
        if isinstance(value, bool):
            return
        if isinstance(value, int):
            marks.update({value - 1, value, value + 1})
        elif isinstance(value, dict):
            for k, v in value.items():
                collect(int(k) if isinstance(k, str) and k.isdigit() else k)
                collect(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                collect(v)

    collect(params)
    for t in sorted(m for m in marks if 0 <= m < steps):
        ex = explain(result, t)
        assert ex.value is not None and abs(ex.value - lr[t]) <= TOLERANCE * scale, (name, t, ex.value, lr[t])
        assert last_number(ex.latex) == num(ex.value), ex.latex
        assert ex.sentence and ex.event


def test_explain_mode_says_where_optax_switches():
    ex = explain(curve("optax:piecewise_constant_schedule", {"boundaries_and_scales": {10: 0.5}}, 20), 10)
    assert ex.event == "decay" and "AT the boundary" in ex.sentence
    case = CASES[-1]
    ex = explain(curve(case[0], case[1], case[3], case[2]), 25)
    assert ex.event == "switch" and "own clock" in ex.sentence and "piecewise_constant_schedule" in ex.sentence
    ex = explain(curve(*[CASES[6][i] for i in (0, 1, 3, 2)]), 10)
    assert ex.event == "warmup end" and "decay_steps − warmup_steps = 60" in ex.sentence
    ex = explain(curve(CASES[3][0], CASES[3][1], CASES[3][3], CASES[3][2]), 82)
    assert ex.event == "decay" and "staircase" in ex.sentence.lower()


# ---- speed -----------------------------------------------------------------------------------------------------


def test_a_hundred_thousand_steps_are_driven_eagerly_and_jitted_in_a_few_seconds():
    config = ScheduleConfig.make("optax:warmup_cosine_decay_schedule", {}, steps=100_000)
    simulate(ScheduleConfig.make("optax:warmup_cosine_decay_schedule", {}, steps=1000))  # compile the primitives once
    start = time.perf_counter()
    result = simulate(config)
    assert time.perf_counter() - start < 5.0
    assert len(result.frame) == 100_000 and np.isfinite(result.frame["lr_jit"]).all()


# ---- random valid parameters (the schedules' own ranges; powers and exponents ≥ 1, decay rates ≤ 0.99) --------


def _steps(rng: random.Random, steps: int, low: int = 0) -> int:
    roll = rng.random()
    if roll < 0.1:
        return low
    if roll < 0.3:
        return rng.randint(low, low + 10)
    return rng.randint(low, int(1.5 * steps) + 2)


def _value(rng: random.Random, base: float) -> float:
    return 0.0 if rng.random() < 0.3 else base * 10 ** rng.uniform(-4, 0.3)


def draw(name: str, steps: int, base: float, rng: random.Random) -> dict:
    """Valid params for ``name`` (complete, as optax takes them), drawn until lrlab's rules accept them."""
    spec = SCHEDULERS[name]
    ctx = RunContext(steps=steps, base_lr=base, group_lrs=(base,))
    for _ in range(500):
        p: dict = {}
        for par in spec.params:
            n = par.name
            if n == spec.base_lr_param or n == "boundaries":
                continue
            if n in ("transition_steps", "decay_steps"):
                p[n] = _steps(rng, steps, 1)
            elif n in ("transition_begin", "warmup_steps"):
                p[n] = _steps(rng, steps, int(par.low or 0))
            elif n in ("end_value", "init_value"):
                p[n] = None if par.optional and rng.random() < 0.3 else _value(rng, base)
            elif n in ("power", "exponent"):
                p[n] = rng.choice([1.0, 2.0, 3.0, 10 ** rng.uniform(0, 1)])
            elif n == "decay_rate":
                p[n] = rng.choice([0.5, 0.9, 0.95, 0.99, rng.uniform(0.01, 0.99)])
            elif n == "staircase":
                p[n] = rng.random() < 0.5
            elif n == "alpha":
                p[n] = rng.choice([0.0, rng.uniform(0, 1)])
            elif n == "boundaries_and_scales":
                bounds = sorted({rng.randint(0, int(1.2 * steps) + 1) for _ in range(rng.randint(1, 8))})
                p[n] = {b: rng.choice([0.1, 0.5, 2.0, rng.uniform(0, 2)]) for b in bounds}
            elif n == "interpolate_type":
                p[n] = rng.choice(["linear", "cosine"])
            elif n in ("pct_start", "pct_final"):
                p[n] = rng.uniform(0, 1)
            elif n == "div_factor":
                p[n] = 10 ** rng.uniform(0, 3)
            elif n == "final_div_factor":
                p[n] = 10 ** rng.uniform(0, 5)
            elif n == "cosine_kwargs":
                cycles = []
                for _ in range(rng.randint(1, 4)):
                    d = _steps(rng, max(1, steps // 2), 1)
                    cycle = {"init_value": _value(rng, base), "warmup_steps": rng.randint(0, d - 1), "decay_steps": d}
                    if rng.random() < 0.5:
                        cycle["end_value"] = _value(rng, base)
                    if rng.random() < 0.5:
                        cycle["exponent"] = rng.choice([1.0, 2.0, 10 ** rng.uniform(0, 1)])
                    cycles.append(cycle)
                p[n] = cycles
            elif n == "schedules":
                pool = [s for s in NAMES if s != "optax:join_schedules"]
                kids = []
                for _ in range(rng.randint(1, 3)):
                    kid = rng.choice(pool)
                    child = {"name": kid, **draw(kid, steps, base, rng)}
                    own = SCHEDULERS[kid].base_lr_param
                    if own and rng.random() < 0.3:
                        child[own] = _value(rng, base)
                    kids.append(child)
                p[n] = kids
                p["boundaries"] = sorted(rng.randint(0, steps) for _ in range(len(kids) - 1))
        try:
            spec.validate(p, ctx)
        except LrlabError:
            continue
        return p
    raise AssertionError(f"no valid draw for {name}")


# ---- where optax's docstrings and its code disagree: the code wins, and the note says so -------------------------


def _says(name: str, *words: str) -> bool:
    return any(all(w in note for w in ("docs", "lrlab follows the code", *words)) for note in SCHEDULERS[name].notes)


def test_transition_begin_0_works_and_a_negative_one_is_0_although_the_docs_say_it_must_be_positive():
    for make in (
        lambda b: S.polynomial_schedule(1.0, 0.0, 2.0, 10, transition_begin=b),
        lambda b: S.linear_schedule(1.0, 0.0, 10, transition_begin=b),
        lambda b: S.exponential_decay(1.0, 10, 0.5, transition_begin=b),
    ):
        at_0 = [float(make(0)(t)) for t in range(25)]
        assert [float(make(-5)(t)) for t in range(25)] == at_0
    assert [float(S.polynomial_schedule(1.0, 0.0, 2.0, 10)(t)) for t in (0, 5, 10)] == [1.0, 0.25, 0.0]
    assert float(S.exponential_decay(1.0, 10, 0.5)(20)) == 0.25
    for name in ("linear_schedule", "polynomial_schedule", "exponential_decay", "warmup_exponential_decay_schedule"):
        assert _says(f"optax:{name}", '"must be positive"'), name
    with pytest.raises(LrlabError):  # lrlab refuses the negative value optax turns into 0
        lrlab.curve("optax:polynomial_schedule", steps=20, transition_begin=-5)
    assert lrlab.curve("optax:polynomial_schedule", steps=20, transition_begin=0)["lr"].size == 20


def test_linear_onecycle_ends_at_peak_over_div_times_final_div_not_at_peak_over_final_div():
    schedule = S.linear_onecycle_schedule(100, 1.0)  # div_factor 25, final_div_factor 1e4
    assert float(schedule(100)) == pytest.approx(1.0 / 25 / 1e4, rel=1e-6)  # 4e-6, not the docs' 1e-4
    assert _says("optax:linear_onecycle_schedule", "4e-6, not 1e-4")


def test_warmup_cosine_decays_on_local_time_over_decay_steps_minus_warmup_not_t_over_decay_steps():
    schedule = S.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100)
    assert float(schedule(55)) == pytest.approx(0.5 * (1 + math.cos(math.pi * 45 / 90)), abs=1e-7)  # 0.5
    assert 0.5 * (1 + math.cos(math.pi * 55 / 100)) == pytest.approx(0.4218, abs=1e-4)  # the docs' formula
    assert _says("optax:warmup_cosine_decay_schedule", "0.5 at t = 55, not 0.42")
