"""Bad input is refused with a named error: generated over every bound of every parameter of every
scheduler, plus the run-level inputs, the cross-parameter rules and the library's own refusals.

Every refusal must be an :class:`lrlab.LrlabError` whose ``field`` is the offending name and whose
message names it and shows the bad value (the house format ``Invalid gamma (-1): must be …``).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import pytest
import torch
import transformers.optimization as hfo
from torch.optim import lr_scheduler as tls

import lrlab
import lrlab.schedulers as registry
from lrlab import SCHEDULERS, LrlabError, ParamSpec, ScheduleConfig, SchedulerSpec
from lrlab.simulate import resolve
from lrlab.specs import MAX_LIST_LEN, MAX_STEPS

STEPS = 40  # run length for the generated cases (step-relative bounds are evaluated at it)


def shown(value: Any) -> str:
    """How a bad value appears in a message: strings quoted, everything else as str()."""
    return repr(value) if isinstance(value, str) else str(value)


def refusal(name: str, *, steps: int = STEPS, base_lr: Any = 0.1, **kwargs: Any) -> LrlabError:
    """The LrlabError that curve() raises for these inputs (failing the test if it raises nothing)."""
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, steps=steps, base_lr=base_lr, **kwargs)
    return caught.value


def assert_names(error: LrlabError, field: str, value: Any = None, *, show_value: bool = True) -> None:
    message = str(error)
    assert error.field == field, f"field {error.field!r} for: {message}"
    assert field in message, message
    if show_value:
        assert shown(value) in message, f"{shown(value)} not in: {message}"
    assert "\n" not in message


# ---- every bound of every parameter -------------------------------------------------------------


def outside(p: ParamSpec, side: str) -> Any:
    """The nearest value beyond one bound of ``p``: the bound itself when it is open."""
    low, high = p.bounds_for(STEPS)
    bound, is_open, direction = (low, p.low_open, -math.inf) if side == "low" else (high, p.high_open, math.inf)
    if is_open:
        return bound
    if p.kind in ("int", "int_list"):
        return int(bound) + (1 if side == "high" else -1)
    return math.nextafter(float(bound), direction)


def inside(p: ParamSpec, side: str) -> Any:
    """The value at one bound of ``p``, or the nearest one inside when the bound is open."""
    low, high = p.bounds_for(STEPS)
    bound, is_open, direction = (low, p.low_open, math.inf) if side == "low" else (high, p.high_open, -math.inf)
    if not is_open:
        return bound
    if p.kind in ("int", "int_list"):
        return int(bound) + (1 if side == "low" else -1)
    return math.nextafter(float(bound), direction)


BOUNDS = [
    pytest.param(spec, p, side, id=f"{spec.name}.{p.name}-{side}")
    for spec in SCHEDULERS.values()
    for p in spec.params
    for side, bound in zip(("low", "high"), p.bounds_for(STEPS), strict=True)
    if bound is not None
]


def test_the_generated_bound_cases_cover_every_bounded_parameter():
    bounded = {(s.name, p.name) for s in SCHEDULERS.values() for p in s.params if p.kind in ("int", "float")}
    covered = {(case.values[0].name, case.values[1].name) for case in BOUNDS}
    assert bounded <= covered
    assert len(BOUNDS) > 150


@pytest.mark.parametrize("spec, p, side", BOUNDS)
def test_a_value_just_outside_a_bound_is_refused_naming_the_parameter_and_the_value(spec, p, side):
    value = outside(p, side)
    field = p.name
    if p.name == spec.base_lr_param:  # CyclicLR's base_lr, Keras' initial_learning_rate …: the run's base lr
        error = refusal(spec.name, base_lr=value)
        field = "base_lr"
    else:
        listed = p.kind in ("int_list", "float_list")
        error = refusal(spec.name, **{p.name: [value] if listed else value})
        value = [value] if listed else value
    assert_names(error, field, value)


@pytest.mark.parametrize("spec, p, side", BOUNDS)
def test_the_value_at_a_closed_bound_or_just_inside_an_open_one_is_accepted(spec, p, side):
    value = inside(p, side)
    if p.name == spec.base_lr_param:
        resolve(ScheduleConfig.make(spec.name, steps=STEPS, base_lr=value))
    else:
        listed = p.kind in ("int_list", "float_list")
        coerced = p.coerce([value] if listed else value, STEPS)
        assert coerced == ((value,) if listed else value)


def wrong_values(p: ParamSpec) -> list[Any]:
    numbers = ["0.5", True, math.nan, math.inf, -math.inf, {"value": 1}]
    wrong = {
        "int": ["5", 2.5, True, math.nan, math.inf],
        "float": numbers,
        "bool": ["yes", 1, 0.0],
        "choice": ["no-such-choice", 1, True],
        "int_list": [5, [2.5], ["1"], "1,2", [True], list(range(MAX_LIST_LEN + 1))],
        "float_list": [5, ["1"], "0.1,0.2", [True], [math.nan], [0.1] * (MAX_LIST_LEN + 2)],
        "expr": [0.5, "", "   ", "epoch +", "x" * 501, ["epoch"]],
        "children": [5, [], "StepLR", [{"nam": "StepLR"}], [{"name": 3}], [{"name": "StepLR"}] * 7],
    }[p.kind]
    if getattr(p, "per_group", False):  # a list of valid values, one per param group, is fine there
        wrong = [w for w in wrong if not isinstance(w, list)]
    return wrong if p.optional else [*wrong, None]


WRONG_TYPES = [
    pytest.param(spec, p, value, id=f"{spec.name}.{p.name}={shown(value)[:20]}")
    for spec in SCHEDULERS.values()
    for p in spec.params
    for value in wrong_values(p)
]


@pytest.mark.parametrize("spec, p, value", WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_refused_naming_the_parameter_and_the_value(spec, p, value):
    if p.name == spec.base_lr_param:  # given as the run's base lr, refused under that name
        error = refusal(spec.name, base_lr=value)
    else:
        error = refusal(spec.name, **{p.name: value})
    field = "base_lr" if p.name == spec.base_lr_param else p.name
    assert_names(error, field, value, show_value=len(shown(value)) <= 60)


BASE_PARAMS = [s for s in SCHEDULERS.values() if s.base_lr_param in {p.name for p in s.params}]  # Keras' isn't listed


@pytest.mark.parametrize("spec", BASE_PARAMS, ids=lambda s: s.name)
def test_a_scheduler_parameter_that_is_the_run_base_lr_shares_its_range(spec):
    p = spec.param(spec.base_lr_param)
    # the run's: any finite number > 0, up to the largest float
    assert p.bounds_for(STEPS) == (0.0, sys.float_info.max) and p.low_open and not p.high_open


def test_the_run_base_lr_given_as_a_scheduler_parameter_is_refused():
    with pytest.raises(LrlabError) as caught:
        resolve(ScheduleConfig.make("CyclicLR", {"base_lr": 0.2}, steps=STEPS))
    error = caught.value
    assert error.field == "base_lr" and "base_lr" in str(error)


@pytest.mark.parametrize("name, typo", [("StepLR", "gama"), ("OneCycleLR", "max_lrs"), ("get_constant_schedule", "x")])
def test_an_unknown_parameter_is_refused_by_name(name, typo):
    error = refusal(name, **{typo: 1})
    assert_names(error, typo, show_value=False)
    assert f"{typo!r}" in str(error) and "allowed are" in str(error)


@pytest.mark.parametrize("steps", [1, 2, 3, 7, 10, 1000, MAX_STEPS])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_the_defaults_of_every_scheduler_are_valid_for_every_run_length(name, steps):
    spec, params, _ = resolve(ScheduleConfig.make(name, steps=steps))
    assert set(params) == {p.name for p in spec.params} - {spec.base_lr_param}


# ---- run-level inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("steps", [0, -1, MAX_STEPS + 1, 2.5, True, "10", None])
def test_a_bad_run_length_is_refused_by_name(steps):
    assert_names(refusal("StepLR", steps=steps), "steps", steps)


@pytest.mark.parametrize(
    "base_lr", [0, 0.0, -0.0, -1, -1e-300, math.nan, math.inf, -math.inf, "0.1", "5000", True, None]
)
def test_a_bad_base_lr_is_refused_by_name(base_lr):
    error = refusal("StepLR", base_lr=base_lr)
    assert_names(error, "base_lr", base_lr)
    assert "must be a finite number > 0" in str(error)


def test_a_base_lr_too_big_for_a_float_is_refused_by_name():
    error = refusal("StepLR", base_lr=10**400)  # a Python int past the largest float: not a finite lr
    assert error.field == "base_lr" and "Invalid base_lr (1000" in str(error) and "finite number > 0" in str(error)


OPTIMIZERS = [torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.Adagrad]


@pytest.mark.parametrize("lr", [1000.5, 5000, 5000.0, 1e30, 1e300, sys.float_info.max])
def test_any_positive_finite_lr_the_torch_optimizers_take_is_a_base_lr_and_a_group_lr(lr):
    for optimizer in OPTIMIZERS:  # torch's rule: any lr >= 0 (no upper bound)
        assert optimizer([torch.nn.Parameter(torch.zeros(1))], lr=lr).param_groups[0]["lr"] == lr
    _, _, ctx = resolve(ScheduleConfig.make("ConstantLR", {"factor": 1.0}, steps=3, base_lr=lr, group_lrs=(lr,)))
    assert ctx.base_lr == lr and ctx.group_lrs == (lr, lr)


@pytest.mark.parametrize("lr", [-1.0, -1e-300])
def test_a_negative_lr_is_refused_by_torch_and_by_lrlab(lr):
    for optimizer in OPTIMIZERS:
        with pytest.raises(ValueError, match="Invalid learning rate"):
            optimizer([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    assert_names(refusal("StepLR", base_lr=0.1, group_lrs=[lr]), "lr_1", lr)


def test_a_bad_steps_per_epoch_is_refused_by_name():
    assert_names(refusal("StepLR", steps_per_epoch=0), "steps_per_epoch", 0)


def test_a_bad_extra_group_lr_is_refused_naming_its_group():
    assert_names(refusal("StepLR", group_lrs=[0.1, -2.0]), "lr_2", -2.0)


def test_too_many_param_groups_are_refused():
    error = refusal("StepLR", group_lrs=[0.1] * 100)
    assert error.field == "group_lrs" and "group_lrs" in str(error)


def test_an_unknown_optimizer_is_refused_by_name():
    assert_names(refusal("StepLR", optimizer="rmsprop"), "optimizer", "rmsprop")


# ---- cross-parameter rules --------------------------------------------------------------------------


def build_directly(make):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    return make(opt)


def test_one_cycle_lr_with_an_empty_warm_up_phase_is_refused_before_torch_divides_by_zero():
    with pytest.raises(ZeroDivisionError):  # what torch itself does: pct_start · total_steps − 1 = 0
        build_directly(lambda opt: tls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.1))
    error = refusal("OneCycleLR", steps=20, total_steps=10, pct_start=0.1)
    assert_names(error, "pct_start", 0.1)
    assert "ZeroDivisionError" in str(error)


@pytest.mark.parametrize(
    "params",
    [
        {"total_steps": 10, "pct_start": 1.0},  # the annealing phase is empty
        {"total_steps": 9, "pct_start": 10 / 18, "three_phase": True},  # 2·pct·N − 2 = N − 1
    ],
)
def test_one_cycle_lr_with_another_empty_phase_is_refused(params):
    assert_names(refusal("OneCycleLR", steps=20, **params), "pct_start", params["pct_start"])


@pytest.mark.parametrize(
    "name", ["get_cosine_with_min_lr_schedule_with_warmup", "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"]
)
def test_cosine_with_min_lr_needs_exactly_one_of_min_lr_and_min_lr_rate(name):
    with pytest.raises(ValueError, match="Only one of min_lr or min_lr_rate should be set"):
        build_directly(lambda opt: getattr(hfo, name)(opt, 2, 20, min_lr=0.01, min_lr_rate=0.1))
    both = refusal(name, min_lr=0.01, min_lr_rate=0.1)
    assert_names(both, "min_lr", 0.01)
    assert "Only one of min_lr or min_lr_rate should be set" in str(both)
    # min_lr_rate has a default (0.1): the message must say how to use min_lr alone
    only_min_lr = refusal(name, min_lr=0.01)
    assert_names(only_min_lr, "min_lr", 0.01)
    assert "min_lr_rate is 0.1" in str(only_min_lr) and "null" in str(only_min_lr)
    neither = refusal(name, min_lr=None, min_lr_rate=None)
    assert_names(neither, "min_lr_rate", None)
    assert "One of min_lr or min_lr_rate should be set" in str(neither)
    lrlab.curve(name, steps=STEPS, min_lr=0.01, min_lr_rate=None)  # the way to set min_lr alone


@pytest.mark.parametrize("lr_end", [0.1, 0.5])
def test_polynomial_decay_refuses_an_lr_end_not_below_the_initial_lr(lr_end):
    with pytest.raises(ValueError, match="must be smaller than initial lr"):
        build_directly(lambda opt: hfo.get_polynomial_decay_schedule_with_warmup(opt, 2, 20, lr_end=lr_end))
    error = refusal("polynomial", base_lr=0.1, lr_end=lr_end)
    assert_names(error, "lr_end", lr_end)
    assert "must be smaller than initial lr" in str(error)


@pytest.mark.parametrize("num_training_steps", [5, 4])
def test_polynomial_decay_refuses_training_steps_not_beyond_the_warm_up(num_training_steps):
    error = refusal("polynomial", num_warmup_steps=5, num_training_steps=num_training_steps)
    assert_names(error, "num_training_steps", num_training_steps)


def test_multistep_lr_refuses_milestones_out_of_order():
    error = refusal("MultiStepLR", milestones=[15, 5])
    assert_names(error, "milestones", [15, 5])
    assert "increasing" in str(error)


def test_wsd_refuses_neither_training_nor_stable_steps():
    with pytest.raises(ValueError, match="Either num_training_steps or num_stable_steps must be specified"):
        build_directly(lambda opt: hfo.get_wsd_schedule(opt, 2, 4))
    error = refusal("wsd", num_training_steps=None, num_stable_steps=None)
    assert_names(error, "num_stable_steps", None)
    assert "Either num_training_steps or num_stable_steps must be specified" in str(error)


TWO_CHILDREN = [{"name": "LinearLR", "total_iters": 3}, {"name": "CosineAnnealingLR", "T_max": 10}]


@pytest.mark.parametrize("milestones", [[], [3, 5]])
def test_sequential_lr_needs_one_milestone_fewer_than_children(milestones):
    error = refusal("SequentialLR", schedulers=TWO_CHILDREN, milestones=milestones)
    assert_names(error, "milestones", milestones)
    assert "Sequential Schedulers expects number of schedulers" in str(error)  # torch's own words


def test_sequential_lr_refuses_milestones_out_of_order():
    children = [*TWO_CHILDREN, {"name": "StepLR", "step_size": 2}]
    error = refusal("SequentialLR", schedulers=children, milestones=[8, 4])
    assert_names(error, "milestones", [8, 4])


def test_a_childs_bad_parameter_is_named_with_its_position():
    error = refusal("SequentialLR", schedulers=[{"name": "StepLR", "step_size": 0}, TWO_CHILDREN[1]], milestones=[3])
    assert error.field == "schedulers[0].step_size" and "step_size (0)" in str(error)


@pytest.mark.parametrize("child", ["ReduceLROnPlateau", "SequentialLR", "nope"])
def test_a_composite_refuses_children_it_cannot_hold(child):
    error = refusal("ChainedScheduler", schedulers=[{"name": child}])
    assert error.field == "schedulers[0].name" and repr(child) in str(error)


# ---- what only the library refuses ---------------------------------------------------------------


@pytest.fixture
def loose_constant_lr(monkeypatch):
    """ConstantLR registered with a wider factor range than torch accepts (torch rejects > 1)."""
    real = SCHEDULERS["ConstantLR"]
    factor = dataclasses.replace(real.param("factor"), high=2.0)
    loose: SchedulerSpec = dataclasses.replace(
        real, name="LooseConstantLR", params=(factor, real.param("total_iters")), aliases=()
    )
    monkeypatch.setitem(registry.SCHEDULERS, loose.name, loose)
    monkeypatch.setitem(registry._LOOKUP, loose.name.lower(), loose.name)
    return loose


def test_a_value_only_the_library_refuses_surfaces_the_library_message(loose_constant_lr):
    with pytest.raises(ValueError) as torch_error:
        build_directly(lambda opt: tls.ConstantLR(opt, factor=1.5))
    error = refusal("LooseConstantLR", factor=1.5)
    assert f"rejected these settings: ValueError: {torch_error.value}" in str(error)
    assert error.field == "factor"


@pytest.mark.parametrize("spec", SCHEDULERS.values(), ids=list(SCHEDULERS))
def test_every_legend_symbol_that_stands_for_a_parameter_is_that_parameters_symbol(spec):
    # the legend shows each parameter's current value next to its symbol: a parameter named in the
    # legend without a symbol would show an empty value
    names = {p.name: p for p in spec.params}
    for symbol, meaning in spec.legend:
        if meaning in names and meaning != spec.base_lr_param:
            assert names[meaning].symbol == symbol, (spec.name, meaning)


DEEP = "[" * 5000 + "]" * 5000  # json raises RecursionError near 1,000 levels


def test_a_link_value_nested_too_deep_stays_text_instead_of_crashing():
    from lrlab.specs import parse_value

    assert parse_value(DEEP) == DEEP
    assert parse_value("[" * 40 + "1" + "]" * 40) == "[" * 40 + "1" + "]" * 40  # deeper than 16: text
    assert parse_value("[[5, 15]]") == [[5, 15]]


@pytest.mark.parametrize(
    "text", [DEEP, "a: " + DEEP, '{"scheduler": "StepLR", "params": {"x": ' + "[" * 30 + "]" * 30 + "}}"]
)
def test_a_config_nested_too_deep_is_refused_with_a_message(text):
    from lrlab.io import import_config

    with pytest.raises(LrlabError, match="nested"):
        import_config(text)
