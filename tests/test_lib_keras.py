"""Keras schedules (Keras 3.15, torch backend): lrlab's curves are what a Keras optimizer reads.

The expected values come from a real ``keras.optimizers.SGD`` holding the schedule, stepped by a
loop written out here (:func:`optimizer_lrs`: ``float(optimizer.learning_rate)`` before each real
``apply_gradients``, checked against the lr the update itself received), from Keras's own per-step
call with the iteration variable (:func:`per_step`), or from hand computation; never from lrlab.

The float32 bound (``keras_specs.TOLERANCE`` relative, plus ``keras_specs.rounding_noise`` where
Keras's arithmetic cancels) is measured again over seeded random params in
:func:`test_the_closed_form_equals_keras_within_the_float32_bound_for_random_valid_params`.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import warnings
from functools import cache
from typing import Any

import numpy as np
import pytest

import lrlab
from lrlab.explain import explain
from lrlab.export import render
from lrlab.schedulers import keras_specs as K
from lrlab.specs import LrlabError, RunContext, ScheduleConfig
from tests.strategies import context, draw_params, draw_run
from tests.test_export import exported_lrs

REGISTERED = [spec.name for spec in K.SPECS]
PIECEWISE = K.PIECEWISE_CONSTANT_DECAY


@cache
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras as module

    return module


def schedule_of(name: str, base_lr: float, **params: Any) -> Any:
    """The Keras schedule built here from Keras's own arguments (not through lrlab)."""
    short = name.split(":")[-1]
    args = {} if short == "PiecewiseConstantDecay" else {"initial_learning_rate": base_lr}
    return getattr(keras().optimizers.schedules, short)(**args, **params)


def optimizer_lrs(schedule: Any, steps: int) -> list[float]:
    """A Keras SGD holding ``schedule``, stepped with real gradient updates (0.5·‖w‖²): the lr read before
    each update, which must be the lr the update received."""
    k = keras()
    received: list[float] = []

    class Recording(type(k.optimizers.SGD(learning_rate=0.1))):  # the backend's SGD (torch: its own class)
        def _backend_update_step(self, grads, trainable_variables, learning_rate):
            received.append(float(learning_rate))
            super()._backend_update_step(grads, trainable_variables, learning_rate)

    optimizer = Recording(learning_rate=schedule)
    w = k.Variable([1.0, -2.0, 0.5])
    read = []
    for t in range(steps):
        assert int(optimizer.iterations.value) == t  # the count the schedule is called with
        read.append(float(optimizer.learning_rate))
        optimizer.apply_gradients([(k.ops.multiply(w, 1.0), w)])
    assert received == read
    return read


def per_step(schedule: Any, steps: int) -> np.ndarray:
    """``optimizer.learning_rate`` with ``optimizer.iterations`` set to each step in turn: the schedule
    called once per step with the iteration variable, as the optimizer calls it (no update applied)."""
    k = keras()
    optimizer = k.optimizers.SGD(learning_rate=schedule)
    assert k.backend.standardize_dtype(optimizer.iterations.dtype) == "int32"
    out = []
    for t in range(steps):
        optimizer.iterations.assign(t)
        value = optimizer.learning_rate
        assert k.backend.standardize_dtype(value.dtype) == "float32"
        out.append(float(value))
    return np.asarray(out)


def lrlab_lrs(name: str, steps: int, base_lr: float, **params: Any) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lrlab.curve(name, steps=steps, base_lr=base_lr, **params)["lr"].to_numpy()


def piecewise_lrs(steps: int, boundaries: list[int], values: list[float]) -> np.ndarray:
    """PiecewiseConstantDecay driven through its spec's adapter (registered as keras:PiecewiseConstantDecay; its
    values are the lrs, so the run's base lr is not used)."""
    ctx = RunContext(steps=steps, base_lr=0.1, group_lrs=(0.1,))
    params = PIECEWISE.validate({"boundaries": boundaries, "values": values}, ctx)
    driven = PIECEWISE.drive(params, ctx, ScheduleConfig.make(PIECEWISE.name, params, steps=steps))
    return driven.lrs[:, 0]


# ---- the curve is what a Keras optimizer reads ----------------------------------------------------------

CONFIGS = [
    ("keras:CosineDecay", 0.1, {"decay_steps": 40}),
    ("keras:CosineDecay", 0.3, {"decay_steps": 25, "alpha": 0.1}),
    ("keras:CosineDecay", 0.01, {"decay_steps": 30, "warmup_target": 0.5, "warmup_steps": 12}),
    ("keras:CosineDecay", 0.01, {"decay_steps": 30, "warmup_target": 0.5, "warmup_steps": 0}),
    ("keras:CosineDecay", 0.2, {"decay_steps": 30, "warmup_target": None, "warmup_steps": 10}),
    ("keras:CosineDecayRestarts", 0.1, {"first_decay_steps": 5, "t_mul": 2.0, "m_mul": 0.5, "alpha": 0.1}),
    ("keras:CosineDecayRestarts", 0.1, {"first_decay_steps": 7, "t_mul": 1.0, "m_mul": 0.9}),
    ("keras:ExponentialDecay", 0.1, {"decay_steps": 7, "decay_rate": 0.5}),
    ("keras:ExponentialDecay", 0.1, {"decay_steps": 7, "decay_rate": 0.5, "staircase": True}),
    ("keras:ExponentialDecay", 1e-4, {"decay_steps": 3, "decay_rate": 10.0}),
    ("keras:InverseTimeDecay", 0.5, {"decay_steps": 4, "decay_rate": 0.7, "staircase": True}),
    ("keras:PolynomialDecay", 0.1, {"decay_steps": 20, "end_learning_rate": 0.01, "power": 0.5}),
    ("keras:PolynomialDecay", 0.1, {"decay_steps": 9, "end_learning_rate": 0.0, "power": 2.0, "cycle": True}),
    ("keras:PolynomialDecay", 0.001, {"decay_steps": 20, "end_learning_rate": 0.3}),
]


@pytest.mark.parametrize("name, base_lr, params", CONFIGS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_the_curve_is_the_lr_each_update_of_a_keras_optimizer_uses(name, base_lr, params):
    expected = optimizer_lrs(schedule_of(name, base_lr, **params), 50)
    np.testing.assert_array_equal(lrlab_lrs(name, 50, base_lr, **params), expected)


def test_piecewise_constant_decay_is_the_lr_each_update_of_a_keras_optimizer_uses():
    boundaries, values = [3, 10, 11], [0.1, 0.05, 0.02, 0.001]
    expected = optimizer_lrs(schedule_of(PIECEWISE.name, 0.0, boundaries=boundaries, values=values), 20)
    np.testing.assert_array_equal(piecewise_lrs(20, boundaries, values), expected)


LONG_RUNS = [
    ("keras:CosineDecay", 0.1, {"decay_steps": 900, "alpha": 0.05, "warmup_target": 0.4, "warmup_steps": 300}),
    ("keras:CosineDecay", 0.1, {"decay_steps": 1300}),
    ("keras:CosineDecayRestarts", 0.7, {"first_decay_steps": 3, "t_mul": 1.0, "alpha": 0.05}),
    ("keras:CosineDecayRestarts", 0.7, {"first_decay_steps": 11, "t_mul": 1.7, "m_mul": 0.8}),
    ("keras:ExponentialDecay", 0.1, {"decay_steps": 13, "decay_rate": 0.77}),
    ("keras:InverseTimeDecay", 0.1, {"decay_steps": 9, "decay_rate": 0.3}),
    ("keras:PolynomialDecay", 0.5, {"decay_steps": 300, "end_learning_rate": 0.01, "power": 0.7, "cycle": True}),
]


@pytest.mark.parametrize("name, base_lr, params", LONG_RUNS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LONG_RUNS)])
def test_evaluating_many_steps_per_call_equals_one_call_per_step_over_the_whole_run(name, base_lr, params):
    # lrlab calls the schedule on 15 steps at a time (and the warm-up's two branches separately):
    # bit for bit what the optimizer's one call per step gives, over 1,000 steps
    expected = per_step(schedule_of(name, base_lr, **params), 1000)
    np.testing.assert_array_equal(lrlab_lrs(name, 1000, base_lr, **params), expected)


def test_piecewise_constant_decay_called_once_per_stretch_equals_one_call_per_step():
    boundaries, values = [0, 1, 5, 400, 401, 1000], [0.3, 0.2, 0.1, 0.05, 0.04, 0.02, 0.001]
    expected = per_step(schedule_of(PIECEWISE.name, 0.0, boundaries=boundaries, values=values), 1200)
    np.testing.assert_array_equal(piecewise_lrs(1200, boundaries, values), expected)


# ---- hand-computed values and Keras's quirks ----------------------------------------------------------------


def f32(values: list[float]) -> list[float]:
    return [float(np.float32(v)) for v in values]


def test_a_staircase_exponential_decay_halves_the_lr_every_decay_steps():
    lrs = lrlab_lrs("keras:ExponentialDecay", 21, 0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert lrs.tolist() == f32([0.1] * 10 + [0.05] * 10 + [0.025])


def test_the_cosine_warm_up_rises_linearly_from_the_base_lr_to_warmup_target_then_decays():
    lrs = lrlab_lrs("keras:CosineDecay", 20, 0.1, decay_steps=10, warmup_target=0.3, warmup_steps=5)
    np.testing.assert_allclose(lrs[:6], [0.1, 0.14, 0.18, 0.22, 0.26, 0.3], rtol=1e-6)
    assert lrs[10] == pytest.approx(0.15, rel=1e-6)  # halfway down the cosine: 5 of 10 decay steps
    assert lrs[15:].tolist() == [0.0] * 5  # decay_steps excludes the warm-up: 5 + 10 steps, then flat


def test_keras_ignores_warmup_steps_without_a_warmup_target_and_lrlab_says_so():
    plain = lrlab_lrs("keras:CosineDecay", 30, 0.1, decay_steps=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = lrlab.simulate(
            ScheduleConfig.make("keras:CosineDecay", {"decay_steps": 20, "warmup_steps": 10}, steps=30)
        )
    np.testing.assert_array_equal(curve.frame["lr"].to_numpy(), plain)
    assert any("ignores warmup_steps (10)" in note for note in curve.notes)


def test_a_warmup_target_with_no_warmup_steps_starts_the_decay_at_warmup_target():
    lrs = lrlab_lrs("keras:CosineDecay", 3, 0.01, decay_steps=10, warmup_target=0.5, warmup_steps=0)
    assert lrs[0] == float(np.float32(0.5))


def test_a_cycling_polynomial_decay_restarts_below_the_first_peak():
    lrs = lrlab_lrs("keras:PolynomialDecay", 13, 1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert lrs[10] == 0.0  # the end of the first decay
    assert lrs[11] == pytest.approx(1 - 11 / 20, rel=1e-6)  # the next spans 20 steps from 0: 0.45, not 1


def test_piecewise_constant_decay_switches_after_the_boundary_not_at_it():
    lrs = piecewise_lrs(7, [2, 4], [1.0, 0.5, 0.1])
    assert lrs.tolist() == f32([1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1])


def test_keras_can_miss_the_peak_of_a_restart_that_falls_exactly_on_a_step():
    # t_mul 1.5, first_decay_steps 4: cycles of 4 and 6 steps, the restart is due at step 10
    keras_lrs = per_step(schedule_of("keras:CosineDecayRestarts", 1.0, first_decay_steps=4, t_mul=1.5), 12)
    # float32 logs count step 10 as the end of cycle 1 (α·η₀ = 0), then step 11 is 1 step into cycle 2
    assert keras_lrs[10] == 0.0
    assert keras_lrs[11] == pytest.approx(0.5 * (1 + math.cos(math.pi / 9)), rel=1e-6)
    params = {"first_decay_steps": 4, "t_mul": 1.5, "m_mul": 1.0, "alpha": 0.0}
    closed = K.cosine_decay_restarts(np.arange(12), 1.0, params, None)
    assert closed[10] == 1.0  # the formula restarts at its peak: the curves differ at that one step
    np.testing.assert_allclose(closed[11], keras_lrs[11], rtol=1e-6)
    assert any("misses the peak" in note for note in K.COSINE_DECAY_RESTARTS.notes)


# ---- closed forms: parity within the measured float32 bound ------------------------------------------------


def allowed(name: str, params: dict[str, Any], base_lr: float, closed: np.ndarray) -> np.ndarray:
    scale = float(np.max(np.abs(closed)))
    return np.maximum.reduce(
        [
            K.TOLERANCE * np.abs(closed),
            np.full(closed.shape, K.rounding_noise(name, params, base_lr)),
            np.full(closed.shape, 1e-12 * scale),  # lrlab.simulate.compare's floor
        ]
    )


@pytest.mark.parametrize("name", REGISTERED)
def test_the_closed_form_equals_keras_within_the_float32_bound_for_random_valid_params(name):
    rng = random.Random(f"keras-parity:{name}")
    worst = 0.0
    for _ in range(10):
        steps, base_lr, _ = draw_run(rng, max_steps=2000)
        params = draw_params(lrlab.SCHEDULERS[name], context(steps, base_lr), rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            curve = lrlab.simulate(ScheduleConfig.make(name, params, steps=steps, base_lr=base_lr))
        library, closed = curve.frame["lr"].to_numpy(), curve.closed["lr"].to_numpy()
        difference = np.abs(library - closed)
        bound = allowed(name, curve.params, base_lr, closed)
        over = np.flatnonzero(difference > bound)
        assert over.size == 0, (name, params, steps, base_lr, int(over[0]), library[over[0]], closed[over[0]])
        worst = max(worst, float(np.max(difference / bound)))
    assert worst <= 1.0


def test_the_piecewise_closed_form_is_the_float32_values_keras_returns():
    rng = random.Random("keras-parity:piecewise")
    for _ in range(10):
        steps = rng.randint(1, 500)
        boundaries = sorted(rng.sample(range(0, 600), rng.randint(1, 6)))
        values = [10 ** rng.uniform(-5, 1) for _ in range(len(boundaries) + 1)]
        ctx = RunContext(steps=steps, base_lr=0.1, group_lrs=(0.1,))
        params = PIECEWISE.validate({"boundaries": boundaries, "values": values}, ctx)
        closed = PIECEWISE.closed_form(np.arange(steps), 0.1, params, ctx)
        np.testing.assert_array_equal(piecewise_lrs(steps, boundaries, values), closed)


# ---- validation ------------------------------------------------------------------------------------------


def refusal(name: str, **kwargs: Any) -> LrlabError:
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, **{"steps": 40, **kwargs})
    return caught.value


@pytest.mark.parametrize(
    "name, field, value, allowed_text",
    [
        ("keras:CosineDecay", "decay_steps", 0, "must be an integer in [1, 1000000]"),
        ("keras:CosineDecay", "alpha", 1.5, "must be a number in [0, 1]"),
        ("keras:CosineDecayRestarts", "t_mul", 0.5, "must be a number in [1, 100]"),
        ("keras:PolynomialDecay", "power", -1.0, "must be a number in [0, 10]"),
        ("keras:InverseTimeDecay", "staircase", "yes", "must be true or false"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter_the_value_and_what_is_allowed(name, field, value, allowed_text):
    error = refusal(name, **{field: value})
    assert error.field == field
    assert str(error).startswith(f"Invalid {field} ({value if not isinstance(value, str) else repr(value)})")
    assert allowed_text in str(error)


BIG_LRS = [  # learning rates above 1000 (issue 13): Keras takes any, and holds them in float32
    ("keras:CosineDecay", 2000.0, {"decay_steps": 30, "warmup_target": 5000.0, "warmup_steps": 12}),
    ("keras:PolynomialDecay", 5000.0, {"decay_steps": 20, "end_learning_rate": 2000.0, "power": 2.0}),
    ("keras:PolynomialDecay", 0.1, {"decay_steps": 20, "end_learning_rate": 1500.0}),  # a rise to 1500
]


@pytest.mark.parametrize("name, base_lr, params", BIG_LRS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BIG_LRS)])
def test_an_lr_above_1000_is_the_lr_each_update_of_a_keras_optimizer_uses(name, base_lr, params):
    expected = optimizer_lrs(schedule_of(name, base_lr, **params), 40)
    assert max(expected) >= 1500
    np.testing.assert_array_equal(lrlab_lrs(name, 40, base_lr, **params), expected)


def test_piecewise_constant_values_above_1000_are_the_lrs_a_keras_optimizer_uses():
    boundaries, values = [3, 10], [5000.0, 2000.0, 1234.5]
    expected = optimizer_lrs(schedule_of(PIECEWISE.name, 0.0, boundaries=boundaries, values=values), 15)
    assert expected[0] == 5000.0 and expected[-1] == 1234.5
    np.testing.assert_array_equal(piecewise_lrs(15, boundaries, values), expected)


@pytest.mark.parametrize(
    "name, field, value",
    [("keras:PolynomialDecay", "end_learning_rate", -1.0), ("keras:CosineDecay", "warmup_target", -2000.0)],
)
def test_a_negative_lr_is_refused_naming_the_parameter_the_value_and_the_rule(name, field, value):
    error = refusal(name, **{field: value})
    assert error.field == field and str(error) == f"Invalid {field} ({value}): must be a finite number ≥ 0" + (
        " (or null for the library's default)" if field == "warmup_target" else ""
    )
    error = refusal(PIECEWISE.name, boundaries=[5], values=[5000.0, -1.0])
    assert error.field == "values" and "[5000.0, -1.0]" in str(error) and "finite numbers, each ≥ 0" in str(error)


def test_initial_learning_rate_is_the_run_base_lr_and_is_refused_as_a_parameter():
    error = refusal("keras:ExponentialDecay", initial_learning_rate=0.2)
    assert error.field == "initial_learning_rate" and "base_lr" in str(error)
    assert lrlab_lrs("keras:ExponentialDecay", 1, 0.2)[0] == float(np.float32(0.2))


def test_an_exponential_growth_past_float32_is_refused_before_keras_returns_inf():
    error = refusal("keras:ExponentialDecay", steps=1000, decay_rate=100.0, decay_steps=10)
    assert error.field == "decay_rate" and "Invalid decay_rate (100.0)" in str(error) and "3.4e38" in str(error)


def test_a_keras_schedule_takes_no_extra_param_groups_and_steps_per_update_only():
    assert refusal("keras:CosineDecay", group_lrs=[0.2]).field == "group_lrs"
    error = refusal("keras:CosineDecay", interval="epoch")
    assert error.field == "interval" and "'step'" in str(error)


def test_piecewise_constant_decay_refuses_what_keras_refuses_with_keras_own_words():
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the length of values"):
        schedule_of(PIECEWISE.name, 0.0, boundaries=[5], values=[0.1])
    ctx = RunContext(steps=40, base_lr=0.1, group_lrs=(0.1,))
    with pytest.raises(LrlabError) as caught:
        PIECEWISE.validate({"boundaries": [5], "values": [0.1]}, ctx)
    assert caught.value.field == "values" and "Invalid values ([0.1])" in str(caught.value)
    assert "The length of boundaries should be 1 less than the length of values" in str(caught.value)
    for boundaries, why in (([], "IndexError"), ([5, 5], "strictly increasing"), ([8, 3], "strictly increasing")):
        with pytest.raises(LrlabError) as caught:
            PIECEWISE.validate({"boundaries": boundaries, "values": [0.1] * (len(boundaries) + 1)}, ctx)
        assert caught.value.field == "boundaries" and why in str(caught.value)
    for values in ([0.1, "x"], [0.1, math.nan], 0.1, [0.1, -1.0]):
        with pytest.raises(LrlabError) as caught:
            PIECEWISE.validate({"boundaries": [5], "values": values}, ctx)
        assert caught.value.field == "values" and "must be a list of at most 101 finite numbers, each ≥ 0" in str(
            caught.value
        )


# ---- explain mode ---------------------------------------------------------------------------------------------

EXPLAINED = [
    ("keras:CosineDecay", {}),
    ("keras:CosineDecay", {"decay_steps": 60, "warmup_target": 0.4, "warmup_steps": 20, "alpha": 0.1}),
    ("keras:CosineDecayRestarts", {"first_decay_steps": 6, "t_mul": 1.5, "m_mul": 0.7}),
    ("keras:ExponentialDecay", {"staircase": True}),
    ("keras:InverseTimeDecay", {}),
    ("keras:PolynomialDecay", {"decay_steps": 30, "power": 2.0, "cycle": True}),
]


@pytest.mark.parametrize("name, params", EXPLAINED, ids=[f"{c[0]}-{i}" for i, c in enumerate(EXPLAINED)])
def test_the_explained_formula_evaluates_to_keras_lr_within_the_float32_bound(name, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        curve = lrlab.simulate(ScheduleConfig.make(name, params, steps=100))
    lrs = curve.frame["lr"].to_numpy()
    noise = K.rounding_noise(name, curve.params, 0.1)
    for t in (0, 1, 19, 20, 21, 30, 31, 50, 79, 80, 99):
        ex = explain(curve, t)
        assert abs(ex.value - lrs[t]) <= max(K.TOLERANCE * abs(lrs[t]), noise), (name, t, ex.value, lrs[t])
        assert ex.sentence and ex.event and ex.latex


def test_piecewise_constant_decay_is_explained_with_its_stretch():
    ctx = RunContext(steps=10, base_lr=0.1, group_lrs=(0.1,))
    params = PIECEWISE.validate({"boundaries": [2, 4], "values": [1.0, 0.5, 0.1]}, ctx)
    from lrlab.explaining import Step

    parts = [PIECEWISE.explainer(Step(k=k, lr0=0.1, params=params, ctx=ctx, prev=0.0)) for k in range(7)]
    assert [p.value for p in parts] == f32([1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
    assert parts[2].event == "hold" and "after it" in parts[2].sentence and parts[3].event == "switch"


# ---- export: the Keras idiom, run in a fresh interpreter -----------------------------------------------------------


def test_every_exported_keras_script_reproduces_lrlab_curve_in_a_fresh_interpreter():
    configs = [ScheduleConfig.make(name, {}, steps=23, steps_per_epoch=7) for name in REGISTERED]
    configs.append(
        ScheduleConfig.make(
            "keras:CosineDecay",
            {"decay_steps": 9, "warmup_target": 0.3, "warmup_steps": 5},
            steps=23,
            steps_per_epoch=7,
        )
    )
    scripts = [render(c, "keras") for c in configs]
    ctx = RunContext(steps=23, base_lr=0.1, group_lrs=(0.1,))
    piecewise = PIECEWISE.validate({"boundaries": [4, 9], "values": [0.2, 0.02, 0.002]}, ctx)
    scripts.append(
        PIECEWISE.export(ScheduleConfig.make(PIECEWISE.name, piecewise, steps=23, steps_per_epoch=7), piecewise, ctx)
    )
    for code in scripts:
        assert code.index('os.environ.setdefault("KERAS_BACKEND", "torch")') < code.index("import keras")
        assert "keras.optimizers.SGD(learning_rate=schedule)" in code and "apply_gradients" in code
        assert 'if __name__ == "__main__":' in code
    got = exported_lrs([{"target": "keras", "code": code, "steps": 23, "steps_per_epoch": 7} for code in scripts])
    expected = [lrlab_lrs(c.scheduler, 23, c.base_lr, **c.params_dict) for c in configs]
    expected.append(piecewise_lrs(23, [4, 9], [0.2, 0.02, 0.002]))
    for code, lrs, want in zip(scripts, got, expected, strict=True):
        assert not isinstance(lrs, dict), (code, lrs)
        np.testing.assert_array_equal(lrs, want)


# ---- serialization ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*REGISTERED, PIECEWISE.name])
def test_keras_serializes_the_schedule_as_its_class_and_lrlab_parameters(name):
    spec = PIECEWISE if name == PIECEWISE.name else lrlab.SCHEDULERS[name]
    ctx = RunContext(steps=50, base_lr=0.1, group_lrs=(0.1,))
    params = spec.validate({}, ctx)
    short = name.split(":")[1]
    data = keras().optimizers.schedules.serialize(K.build_schedule(short, params, ctx))
    assert set(data) == {"module", "class_name", "config", "registered_name"}
    assert (data["module"], data["class_name"]) == ("keras.optimizers.schedules", short)
    config = dict(data["config"])
    config.pop("name")  # Keras's op name scope, not a schedule parameter
    assert config == K.keras_kwargs(short, params, ctx.base_lr)
    json.dumps(data)  # plain JSON


# ---- loading ---------------------------------------------------------------------------------------------------


def run_python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_keras_loads_on_first_use_on_the_torch_backend_and_the_keras_json_it_writes_does_not_matter(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    env["HOME"] = str(tmp_path)
    code = (
        "import lrlab, sys, warnings; warnings.simplefilter('ignore')\n"
        "assert 'keras' not in sys.modules and 'jax' not in sys.modules\n"
        "lrs = lrlab.curve('keras:ExponentialDecay', steps=5, decay_steps=2, decay_rate=0.5)['lr'].tolist()\n"
        "import keras; print(keras.backend.backend()); print(lrs)"
    )
    backend, lrs = run_python(code, env).splitlines()
    assert backend == "torch"
    assert json.loads(lrs) == lrlab_lrs("keras:ExponentialDecay", 5, 0.1, decay_steps=2, decay_rate=0.5).tolist()
    # Keras writes its own defaults on its first import (backend "tensorflow", what it assumes without a file
    # anyway); KERAS_BACKEND, which lrlab sets before importing Keras, wins over the file
    written = json.loads((tmp_path / ".keras" / "keras.json").read_text())
    assert written["backend"] == "tensorflow"


def test_keras_already_imported_with_the_jax_backend_still_gives_the_curve(tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "HOME": str(tmp_path)}
    code = (
        "import keras, lrlab, warnings; warnings.simplefilter('ignore')\n"
        "print(keras.backend.backend())\n"
        "print(lrlab.curve('keras:CosineDecay', steps=30, decay_steps=20, warmup_target=0.3, warmup_steps=5)['lr'].tolist())"
    )
    backend, lrs = run_python(code, env).splitlines()
    assert backend == "jax"
    torch_lrs = lrlab_lrs("keras:CosineDecay", 30, 0.1, decay_steps=20, warmup_target=0.3, warmup_steps=5)
    np.testing.assert_allclose(json.loads(lrs), torch_lrs, rtol=1e-6, atol=K.NOISE * 0.3)


# ---- where Keras's docs and its code disagree: the code wins, and the note says so -------------------------------


def _says(name: str, *words: str) -> bool:
    return any(
        all(w in note for w in ("docs", "lrlab follows the code", *words)) for note in lrlab.SCHEDULERS[name].notes
    )


def test_the_cosine_warm_up_starts_from_initial_learning_rate_where_the_docs_formula_starts_from_0():
    # the docs: completed_fraction * (target_warmup - initial_learning_rate) = 0.5 * 0.9 = 0.45 at step 5
    schedule = schedule_of("keras:CosineDecay", 0.1, decay_steps=10, warmup_target=1.0, warmup_steps=10)
    assert float(schedule(5)) == float(np.float32(0.55))
    assert float(schedule(0)) == float(np.float32(0.1))
    assert _says("keras:CosineDecay", "0.55 at step 5, not 0.45")


def test_a_restart_with_alpha_starts_above_m_mul_times_the_initial_lr_the_docs_give():
    schedule = schedule_of("keras:CosineDecayRestarts", 1.0, first_decay_steps=10, t_mul=1.0, m_mul=0.5, alpha=0.2)
    assert float(schedule(10)) == pytest.approx(0.5 * (1 - 0.2) + 0.2, rel=1e-6)  # 0.6, not m_mul · 1.0 = 0.5
    assert float(schedule(20)) == pytest.approx(0.25 * (1 - 0.2) + 0.2, rel=1e-6)
    assert _says("keras:CosineDecayRestarts", "0.6·η₀")


def test_a_cycling_polynomial_decay_at_step_0_is_the_initial_lr_not_the_docs_0_over_0():
    schedule = schedule_of("keras:PolynomialDecay", 1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert float(schedule(0)) == 1.0
    assert float(schedule(5)) == pytest.approx(0.5, rel=1e-6)
    assert _says("keras:PolynomialDecay", "step 0 is initial_learning_rate")
