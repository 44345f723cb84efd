"""Hand-written tables: every expected value is a literal (from the reference articles, transformers'
own ``tests/optimization/test_optimization.py``, or worked out by hand) or an independent formula
written here, never a number lrlab computed. A few tests build the torch / transformers object
directly and step it the way the reference (§7) prescribes, to check what lrlab reads from it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import transformers.optimization as hfo
from torch.optim import lr_scheduler as tls
from transformers import SchedulerType

import lrlab
from lrlab import LrlabError, ScheduleConfig, get_spec, simulate


def lrs(name: str, steps: int, base_lr: float, **params) -> list[float]:
    return lrlab.curve(name, steps=steps, base_lr=base_lr, **params)["lr"].tolist()


# ---- torch, from the reference articles ---------------------------------------------------------


def test_lambda_lr_with_a_power_of_the_epoch_multiplies_the_initial_lr():
    assert lrs("LambdaLR", 5, 100, lr_lambda="0.95 ** epoch") == pytest.approx(
        [100, 95, 90.25, 85.7375, 81.450625], rel=1e-15
    )


def test_multiplicative_lr_multiplies_the_current_lr_from_the_first_step_on():
    assert lrs("MultiplicativeLR", 5, 100, lr_lambda="0.8") == pytest.approx([100, 80, 64, 51.2, 40.96], rel=1e-15)


def test_step_lr_halves_every_five_steps():
    expected = [20.0] * 5 + [10.0] * 5 + [5.0] * 5 + [2.5] * 5
    assert lrs("StepLR", 20, 20, step_size=5, gamma=0.5) == pytest.approx(expected, rel=1e-15)


def test_multistep_lr_decays_at_each_milestone():
    expected = [20.0] * 5 + [8.0] * 10 + [3.2] * 5
    assert lrs("MultiStepLR", 20, 20, milestones=[5, 15], gamma=0.4) == pytest.approx(expected, rel=1e-15)


def test_multistep_lr_applies_a_repeated_milestone_twice():
    assert lrs("MultiStepLR", 4, 1, milestones=[2, 2], gamma=0.5) == pytest.approx([1, 1, 0.25, 0.25], rel=1e-15)


def test_exponential_lr_multiplies_by_gamma_every_step():
    assert lrs("ExponentialLR", 4, 20, gamma=0.4) == pytest.approx([20, 8, 3.2, 1.28], rel=1e-15)


def test_constant_lr_holds_the_reduced_lr_until_total_iters():
    assert lrs("ConstantLR", 5, 1, factor=0.5, total_iters=3) == pytest.approx([0.5, 0.5, 0.5, 1, 1], rel=1e-15)


def test_linear_lr_ramps_between_the_factors_and_then_holds():
    expected = [0.5, 0.625, 0.75, 0.875, 1.0, 1.0]
    assert lrs("LinearLR", 6, 1, start_factor=0.5, end_factor=1.0, total_iters=4) == pytest.approx(expected, rel=1e-15)


def test_polynomial_lr_reaches_zero_at_total_iters_and_stays_there():
    expected = [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    assert lrs("PolynomialLR", 6, 1, total_iters=4, power=2.0) == pytest.approx(expected, rel=1e-15, abs=1e-17)


def test_cosine_annealing_lr_is_periodic_past_t_max():
    got = lrs("CosineAnnealingLR", 9, 0.1, T_max=4, eta_min=0.0)
    # reference §2.9 [run]: T_max=4 gives [0.1, .0854, .05, .0146, 0.0, .0146, .05, .0854, 0.1, …]
    assert got == pytest.approx([0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146, 0.05, 0.0854, 0.1], abs=1e-4)
    assert got == pytest.approx([0.05 * (1 + math.cos(math.pi * t / 4)) for t in range(9)], abs=1e-15)


def test_cosine_annealing_lr_with_eta_min_above_the_lr_rises():
    got = lrs("CosineAnnealingLR", 3, 0.1, T_max=2, eta_min=0.3)
    assert got == pytest.approx([0.1, 0.2, 0.3], rel=1e-14)


def test_chained_scheduler_multiplies_constant_and_exponential_factors():
    # t0: ConstantLR 0.5; t1: ×0.9; t2: ConstantLR undoes ×0.5, ×0.9 again; t3: ×0.9
    expected = [0.5, 0.45, 0.81, 0.729]
    children = [{"name": "ConstantLR", "factor": 0.5, "total_iters": 2}, {"name": "ExponentialLR", "gamma": 0.9}]
    assert lrs("ChainedScheduler", 4, 1, schedulers=children) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("linear", [0.1, 0.0875, 0.075, 0.0625, 0.05, 0.05]),
        # lr = swa_lr·α + lr₀·(1 − α) = 0.1 − 0.05·α with α = (1 − cos(πt/4))/2
        ("cos", [0.1 - 0.05 * (1 - math.cos(math.pi * t / 4)) / 2 for t in range(5)] + [0.05]),
    ],
)
def test_swalr_anneals_to_the_swa_lr_and_holds_it(strategy, expected):
    got = lrs("SWALR", 6, 0.1, swa_lr=0.05, anneal_epochs=4, anneal_strategy=strategy)
    assert got == pytest.approx(expected, rel=1e-14)


def test_swalr_with_zero_anneal_epochs_is_at_the_swa_lr_from_the_start():
    # torch: anneal_epochs == 0 → step = max(1, step), so already the constructor's step lands on swa_lr
    assert lrs("SWALR", 3, 0.1, swa_lr=0.05, anneal_epochs=0) == pytest.approx([0.05, 0.05, 0.05], rel=1e-15)


# ---- OneCycleLR: the end of the cycle ----------------------------------------------------------


def test_one_cycle_lr_warms_up_to_max_lr_and_ends_at_the_minimum():
    got = lrs("OneCycleLR", 10, 0.1, max_lr=1.0, total_steps=10)
    assert got[0] == pytest.approx(0.04, rel=1e-15)  # max_lr / div_factor 25
    assert got[2] == pytest.approx(1.0, rel=1e-15)  # end of warm-up: pct_start·N − 1 = 2
    assert got[9] == pytest.approx(4e-6, rel=1e-12)  # 0.04 / final_div_factor 1e4
    assert max(got) == got[2]


@pytest.mark.parametrize(
    "strategy, extrapolated",
    [
        # one step past the end torch extrapolates the second phase at pct = (10 − 2)/(9 − 2) = 8/7
        ("cos", 4e-6 + (1 - 4e-6) / 2 * (1 + math.cos(math.pi * 8 / 7))),  # reference: 0.0495
        ("linear", 1 + (4e-6 - 1) * 8 / 7),  # reference: −0.142853, a negative lr
    ],
)
def test_one_cycle_lr_stops_one_step_after_total_steps_with_a_note(strategy, extrapolated):
    result = simulate(
        ScheduleConfig.make(
            "OneCycleLR", {"max_lr": 1.0, "total_steps": 10, "anneal_strategy": strategy}, steps=12, base_lr=0.1
        )
    )
    lr = result.frame["lr"]
    assert lr[9] == pytest.approx(4e-6, rel=1e-12)
    assert lr[10] == pytest.approx(extrapolated, rel=1e-12)
    assert math.isnan(lr[11])
    assert result.stopped_at == 11
    assert any("refused step 11" in note and "ValueError" in note for note in result.notes)
    assert math.isnan(result.closed["lr"][11])  # the closed form stops where torch stops


# ---- CyclicLR, by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, extra, expected",
    [
        ("triangular", {}, [1, 2, 3, 2, 1, 2, 3, 2, 1]),
        ("triangular2", {}, [1, 2, 3, 2, 1, 1.5, 2, 1.5, 1, 1.25, 1.5]),
        # amplitude × γ^t: t=1 → 1 + 2·0.5·0.5, t=2 → 1 + 2·1·0.25, t=3 → 1 + 2·0.5·0.125
        ("exp_range", {"gamma": 0.5}, [1, 1.5, 1.5, 1.125, 1]),
        # step_size_down=0: a sawtooth that drops back before touching max_lr
        ("triangular", {"step_size_up": 4, "step_size_down": 0}, [1, 1.5, 2, 2.5, 1, 1.5, 2, 2.5, 1]),
    ],
)
def test_cyclic_lr_bounces_between_base_lr_and_max_lr(mode, extra, expected):
    params = {"max_lr": 3.0, "step_size_up": 2, "mode": mode, **extra}
    assert lrs("CyclicLR", len(expected), 1.0, **params) == pytest.approx(expected, rel=1e-15)


def test_cyclic_lr_moves_momentum_against_the_lr():
    frame = lrlab.curve("CyclicLR", steps=5, base_lr=1.0, max_lr=3.0, step_size_up=2)
    assert frame["momentum"].tolist() == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9], rel=1e-15)
    adam = lrlab.curve("CyclicLR", steps=5, base_lr=1.0, max_lr=3.0, step_size_up=2, optimizer="adam")
    assert adam["beta1"].tolist() == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9], rel=1e-15)


def test_cyclic_lr_triangular2_stops_when_torch_overflows_after_1024_cycles():
    params = {"max_lr": 3.0, "step_size_up": 1, "mode": "triangular2"}
    result = simulate(ScheduleConfig.make("CyclicLR", params, steps=2050, base_lr=1.0))
    lr = result.frame["lr"]
    assert (lr[1], lr[3], lr[5]) == (3.0, 2.0, 1.5)  # the tops of cycles 1, 2, 3: amplitude 2, 1, 0.5
    assert lr[2047] == 1.0  # top of cycle 1024: 2·2⁻¹⁰²³ is lost against 1
    assert lr[2048:].isna().all() and result.stopped_at == 2048  # cycle 1025: 2.0 ** 1024 overflows
    assert any("OverflowError" in note for note in result.notes)
    assert result.closed["lr"][2048:].isna().all() and result.first_diff_step is None


# ---- CosineAnnealingWarmRestarts and SequentialLR, by hand -------------------------------------


def test_warm_restarts_restart_at_the_end_of_each_doubling_cycle():
    got = np.array(lrs("CosineAnnealingWarmRestarts", 46, 1.0, T_0=3, T_mult=2, eta_min=0.0))
    # cycles of 3, 6, 12, 24 steps start at 0, 3, 9, 21, 45
    assert np.flatnonzero(got == 1.0).tolist() == [0, 3, 9, 21, 45]
    assert got[1] == pytest.approx(0.75, rel=1e-15)  # (1 + cos(π/3)) / 2
    assert got[2] == pytest.approx(0.25, rel=1e-14)  # (1 + cos(2π/3)) / 2
    assert got[4] == pytest.approx((1 + math.cos(math.pi / 6)) / 2, rel=1e-15)
    assert got[8] == pytest.approx((1 + math.cos(5 * math.pi / 6)) / 2, rel=1e-14)
    assert got.min() > 0  # at integer steps the restart comes before eta_min is reached


def test_sequential_lr_restarts_the_cosine_child_at_the_milestone():
    got = lrs(
        "SequentialLR",
        9,
        1.0,
        schedulers=[
            {"name": "LinearLR", "start_factor": 0.1, "total_iters": 3},
            {"name": "CosineAnnealingLR", "T_max": 4, "eta_min": 0.0},
        ],
        milestones=[3],
    )
    warm = [0.1, 0.4, 0.7]  # LinearLR 0.1 → 1 over 3 steps
    cosine = [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(6)]  # CosineAnnealingLR from its local step 0
    assert got == pytest.approx(warm + cosine, rel=1e-14, abs=1e-16)
    assert got[3] == 1.0  # not cos(3π/4): the child starts over


# ---- transformers: the table from tests/optimization/test_optimization.py ----------------------

COMMON = {"num_warmup_steps": 2, "num_training_steps": 10}
TRANSFORMERS_TABLE = {
    "get_constant_schedule": ({}, [10.0] * 10),
    "get_constant_schedule_with_warmup": (
        {"num_warmup_steps": 4},
        [0.0, 2.5, 5.0, 7.5, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
    ),
    "get_linear_schedule_with_warmup": ({**COMMON}, [0.0, 5.0, 10.0, 8.75, 7.5, 6.25, 5.0, 3.75, 2.5, 1.25]),
    "get_cosine_schedule_with_warmup": ({**COMMON}, [0.0, 5.0, 10.0, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38]),
    "get_cosine_with_hard_restarts_schedule_with_warmup": (
        {**COMMON, "num_cycles": 2},
        [0.0, 5.0, 10.0, 8.53, 5.0, 1.46, 10.0, 8.53, 5.0, 1.46],
    ),
    "get_polynomial_decay_schedule_with_warmup": (
        {**COMMON, "power": 2.0, "lr_end": 1e-7},
        [0.0, 5.0, 10.0, 7.656, 5.625, 3.906, 2.5, 1.406, 0.625, 0.156],
    ),
    "get_inverse_sqrt_schedule": (
        {"num_warmup_steps": 2},
        [0.0, 5.0, 10.0, 8.165, 7.071, 6.325, 5.774, 5.345, 5.0, 4.714],
    ),
}


@pytest.mark.parametrize("name", list(TRANSFORMERS_TABLE))
def test_transformers_schedule_matches_the_transformers_test_table(name):
    params, expected = TRANSFORMERS_TABLE[name]
    # transformers asserts these with a tolerance of 1e-2 (values written to 2–3 decimals)
    assert lrs(name, 10, 10.0, **params) == pytest.approx(expected, abs=1e-2)


def test_constant_with_warmup_of_two_steps_ramps_then_holds():
    assert lrs("constant_with_warmup", 6, 10.0, num_warmup_steps=2) == [0.0, 5.0, 10.0, 10.0, 10.0, 10.0]


def test_cosine_with_min_lr_decays_to_the_floor_rate():
    got = lrs("cosine_with_min_lr", 11, 10.0, **COMMON, min_lr_rate=0.1)
    decay = [10 * (0.1 + 0.9 * (1 + math.cos(math.pi * (t - 2) / 8)) / 2) for t in range(2, 11)]
    assert got == pytest.approx([0.0, 5.0, *decay], rel=1e-14)
    assert got[10] == pytest.approx(1.0)


def test_cosine_with_min_lr_given_as_an_absolute_lr_is_divided_by_the_optimizer_lr():
    # min_lr_rate defaults to 0.1: it must be unset to use min_lr instead
    got = lrs("cosine_with_min_lr", 11, 10.0, **COMMON, min_lr=2.0, min_lr_rate=None)
    assert got[10] == pytest.approx(2.0, rel=1e-14)


def test_cosine_warmup_with_min_lr_starts_above_zero_and_reaches_the_floor_one_step_early():
    got = lrs("cosine_warmup_with_min_lr", 11, 10.0, **COMMON, min_lr_rate=0.1)
    # warm-up (t + 1)/W; then progress (t − W + 1)/(N − W)
    decay = [10 * (0.1 + 0.9 * (1 + math.cos(math.pi * (t - 1) / 8)) / 2) for t in range(2, 11)]
    assert got == pytest.approx([5.0, 10.0, *decay], rel=1e-14)
    assert got[9] == pytest.approx(1.0, rel=1e-14) and got[10] > got[9]


def test_wsd_warms_up_holds_and_decays_with_a_cosine():
    got = lrs("warmup_stable_decay", 12, 10.0, num_warmup_steps=2, num_decay_steps=4, num_training_steps=10)
    decay = [10 * (1 + math.cos(math.pi * q / 4)) / 2 for q in range(4)]
    assert got == pytest.approx([0.0, 5.0, 10.0, 10.0, 10.0, 10.0, *decay, 0.0, 0.0], rel=1e-14, abs=1e-15)


def test_wsd_with_a_floor_starts_the_warm_up_at_it_and_decays_along_one_minus_sqrt():
    got = lrs(
        "wsd", 11, 10.0, num_warmup_steps=2, num_decay_steps=4, num_training_steps=None, num_stable_steps=4,
        decay_type="1-sqrt", min_lr_ratio=0.1,
    )  # fmt: skip
    decay = [10 * (0.1 + 0.9 * (1 - math.sqrt(q / 4))) for q in range(4)]
    assert got == pytest.approx([1.0, 5.5, 10.0, 10.0, 10.0, 10.0, *decay, 1.0], rel=1e-14)


def test_polynomial_decay_holds_lr_end_after_the_training_steps():
    got = lrs("polynomial", 14, 10.0, **COMMON, power=2.0, lr_end=1e-7)
    assert got[10:] == pytest.approx([1e-7] * 4, rel=1e-12)


# ---- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias, name",
    [
        ("cosine", "get_cosine_schedule_with_warmup"),
        ("linear", "get_linear_schedule_with_warmup"),
        ("warmup_stable_decay", "get_wsd_schedule"),
        ("steplr", "StepLR"),
        ("STEPLR", "StepLR"),
        ("  OneCycleLR ", "OneCycleLR"),
    ],
)
def test_an_alias_or_a_differently_cased_name_resolves_to_the_scheduler(alias, name):
    assert get_spec(alias).name == name


@pytest.mark.parametrize("scheduler_type", list(SchedulerType), ids=lambda s: s.value)
def test_every_transformers_scheduler_type_resolves_to_the_function_transformers_dispatches_to(scheduler_type):
    assert get_spec(scheduler_type.value).name == hfo.TYPE_TO_SCHEDULER_FUNCTION[scheduler_type].__name__


def test_a_curve_by_alias_is_the_curve_by_full_name():
    by_alias = lrlab.curve("cosine", steps=30, base_lr=0.5, num_warmup_steps=5, num_training_steps=30)
    by_name = lrlab.curve(
        "get_cosine_schedule_with_warmup", steps=30, base_lr=0.5, num_warmup_steps=5, num_training_steps=30
    )
    assert by_alias.equals(by_name)


@pytest.mark.parametrize("name", ["cosine_annealing", "", "Step LR", None])
def test_an_unknown_scheduler_name_is_a_named_error(name):
    with pytest.raises(LrlabError, match="Unknown scheduler") as caught:
        get_spec(name)
    assert caught.value.field == "scheduler"


# ---- what lrlab reads is what the real object gives ---------------------------------------------


def step_directly(make_scheduler, *, steps: int, lr: float, optimizer: str = "sgd", read=lambda g: g["lr"]):
    """Build the optimizer and scheduler here, step them as in a training loop, record ``read(group)``."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=lr) if optimizer == "adam" else torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = make_scheduler(opt)
    values = []
    for _ in range(steps):
        values.append(read(opt.param_groups[0]))
        opt.step()
        scheduler.step()
    return values


def test_the_curve_of_one_cycle_lr_with_adam_is_what_torch_writes_into_the_optimizer():
    make = lambda opt: tls.OneCycleLR(opt, max_lr=0.3, total_steps=50, three_phase=True)
    frame = lrlab.curve(
        "OneCycleLR", steps=50, base_lr=0.1, optimizer="adam", max_lr=0.3, total_steps=50, three_phase=True
    )
    assert frame["lr"].tolist() == step_directly(make, steps=50, lr=0.1, optimizer="adam")
    assert frame["beta1"].tolist() == step_directly(
        make, steps=50, lr=0.1, optimizer="adam", read=lambda g: g["betas"][0]
    )


def test_the_curve_of_warm_restarts_is_what_torch_writes_into_the_optimizer():
    make = lambda opt: tls.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=3, eta_min=0.01)
    frame = lrlab.curve("CosineAnnealingWarmRestarts", steps=120, base_lr=0.2, T_0=7, T_mult=3, eta_min=0.01)
    assert frame["lr"].tolist() == step_directly(make, steps=120, lr=0.2)


def test_the_curve_of_wsd_is_what_transformers_writes_into_the_optimizer():
    kwargs = dict(
        num_warmup_steps=5, num_decay_steps=10, num_training_steps=40, warmup_type="cosine", min_lr_ratio=0.05
    )
    make = lambda opt: hfo.get_wsd_schedule(opt, **kwargs)
    assert lrs("get_wsd_schedule", 45, 0.3, **kwargs) == step_directly(make, steps=45, lr=0.3)


def test_the_second_param_group_gets_its_own_lr_from_the_same_schedule():
    frame = lrlab.curve("StepLR", steps=6, base_lr=1.0, group_lrs=[0.1], step_size=2, gamma=0.5)
    assert frame["lr"].tolist() == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert frame["lr_1"].tolist() == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rel=1e-15)


def test_the_epoch_column_divides_the_step_by_steps_per_epoch():
    frame = lrlab.curve("ExponentialLR", steps=5, base_lr=1.0, steps_per_epoch=4, gamma=0.5)
    assert frame["epoch"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
