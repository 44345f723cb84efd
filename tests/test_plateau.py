"""Metric-driven schedules: the curve equals the real scheduler stepped with the same metric, the
event table says what happened, and metric files are read (or refused) with clear messages."""

import itertools

import numpy as np
import pytest
import torch

import lrlab
from lrlab.metrics import MAX_CSV_BYTES, parse_metric_csv, parse_metric_list, synthetic_loss
from lrlab.simulate import simulate
from lrlab.specs import LrlabError, ScheduleConfig


def torch_plateau_lrs(metrics, steps, eval_every, base_lr, **kwargs):
    """The real torch scheduler stepped by hand: lr of every optimizer step."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = []
    for t in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        if (t + 1) % eval_every == 0 and t < steps - 1:
            sched.step(metrics[(t + 1) // eval_every - 1])
    return np.array(lrs)


# a loss that improves, stalls, improves a little, stalls for long
HAND_METRIC = [1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.69999, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]


@pytest.mark.parametrize(
    ("mode", "threshold_mode", "cooldown", "eval_every"),
    list(itertools.product(["min", "max"], ["rel", "abs"], [0, 2], [1, 3])),
)
def test_reductions_on_a_hand_built_metric_equal_the_real_schedulers(mode, threshold_mode, cooldown, eval_every):
    # max mode: an accuracy-like metric that rises and stalls (positive: with a rel threshold torch
    # compares best * (1 + threshold), which never stalls for negative values)
    metric = HAND_METRIC if mode == "min" else [2.0 - v for v in HAND_METRIC]
    params = dict(mode=mode, factor=0.5, patience=2, threshold=1e-3, threshold_mode=threshold_mode, cooldown=cooldown)
    steps = len(metric) * eval_every + 1
    frame = lrlab.curve("ReduceLROnPlateau", steps=steps, base_lr=0.1, metrics=metric, eval_every=eval_every, **params)
    expected = torch_plateau_lrs(metric, steps, eval_every, 0.1, **params)
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected)
    assert (np.diff(expected) < 0).any(), "the hand-built metric should trigger at least one reduction"


def test_the_transformers_wrapper_gives_the_same_curve_as_torch():
    params = dict(factor=0.5, patience=1, cooldown=1)
    torch_lr = lrlab.curve("ReduceLROnPlateau", steps=19, metrics=HAND_METRIC, **params)["lr"]
    hf_lr = lrlab.curve("reduce_lr_on_plateau", steps=19, metrics=HAND_METRIC, **params)["lr"]
    np.testing.assert_array_equal(torch_lr.to_numpy(), hf_lr.to_numpy())


def test_the_event_table_explains_patience_reduction_and_cooldown_by_hand():
    # patience 1: the 2nd consecutive non-improving evaluation reduces; cooldown 1 skips the next one
    metric = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    curve = simulate(
        ScheduleConfig.make("ReduceLROnPlateau", {"patience": 1, "cooldown": 1, "factor": 0.5}, steps=7), metrics=metric
    )
    events = curve.events
    assert events["event"].tolist() == [
        "improved",
        "no improvement",
        "reduced",
        "cooldown",
        "no improvement",
        "reduced",
    ]
    assert events["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert curve.frame["lr"].tolist() == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    reduced = events[events["event"] == "reduced"].iloc[0]
    assert "2 evaluations without improvement > patience 1" in reduced["explanation"]
    assert reduced["lr_before"] == 0.1 and reduced["lr_after"] == 0.05


def test_a_reduction_blocked_by_min_lr_is_reported_as_skipped():
    metric = [1.0] * 8
    curve = simulate(
        ScheduleConfig.make("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "min_lr": 0.05}, steps=9),
        metrics=metric,
    )
    assert curve.frame["lr"].tolist()[-1] == 0.05
    skipped = curve.events[curve.events["event"] == "reduction skipped"]
    assert len(skipped) >= 1 and "already at min_lr" in skipped.iloc[0]["explanation"]


def test_min_lr_per_param_group_holds_each_group_at_its_own_floor():
    frame = lrlab.curve(
        "ReduceLROnPlateau",
        steps=9,
        base_lr=0.1,
        group_lrs=[1.0],
        metrics=[1.0] * 8,
        patience=0,
        factor=0.1,
        min_lr=[0.01, 0.5],
    )
    assert frame["lr"].iloc[-1] == pytest.approx(0.01) and frame["lr_1"].iloc[-1] == pytest.approx(0.5)


def test_too_few_metric_values_name_the_field_and_the_count_needed():
    with pytest.raises(LrlabError, match=r"metrics: 3 values given, .* need 9") as info:
        lrlab.curve("ReduceLROnPlateau", steps=10, metrics=[1, 2, 3])
    assert info.value.field == "metrics"


def test_a_non_finite_metric_value_is_refused_with_its_position():
    with pytest.raises(LrlabError, match=r"value 2 \(nan\)"):
        lrlab.curve("ReduceLROnPlateau", steps=4, metrics=[1.0, float("nan"), 1.0])


def test_the_synthetic_loss_is_deterministic_pauses_in_plateaus_and_has_its_bump():
    a = synthetic_loss(200, noise=0.0, plateaus=[50], plateau_length=30)
    assert np.array_equal(a, synthetic_loss(200, noise=0.0, plateaus=[50], plateau_length=30))
    assert np.all(a[51:81] == a[51])  # flat while the decay is paused
    assert np.all(np.diff(a[:50]) < 0)
    bump = synthetic_loss(200, noise=0.0, bump_at=100, bump_height=1.0) - synthetic_loss(200, noise=0.0)
    assert bump.argmax() == 100 and bump.max() == pytest.approx(1.0)
    assert not np.array_equal(synthetic_loss(50, seed=1), synthetic_loss(50, seed=2))


# ---- CSV and pasted values ---------------------------------------------------------------------


def test_a_tensorboard_export_is_read_by_its_step_and_value_columns():
    series = parse_metric_csv(
        b"Wall time,Step,Value\n1700000000.5,100,0.9\n1700000001.5,200,0.8\n1700000002.5,300,0.75\n"
    )
    assert series.values.tolist() == [0.9, 0.8, 0.75]
    assert series.steps.tolist() == [100, 200, 300] and series.interval == 100


def test_a_wandb_export_takes_the_metric_and_ignores_its_min_max_columns():
    data = 'Step,"run-1 - val/loss","run-1 - val/loss__MIN","run-1 - val/loss__MAX"\n0,1.5,1.4,1.6\n50,1.2,1.1,1.3\n'
    series = parse_metric_csv(data.encode())
    assert series.values.tolist() == [1.5, 1.2] and series.interval == 50


def test_a_headerless_single_column_is_a_list_of_values():
    assert parse_metric_csv("0.5\n0.4\n\n0.3\n").values.tolist() == [0.5, 0.4, 0.3]


def test_nan_empty_and_junk_rows_are_skipped_and_reported():
    series = parse_metric_csv(b"step,value\n1,0.9\n2,nan\n3,\n4,abc\n5,0.7\n6,0.6\n")
    assert series.values.tolist() == [0.9, 0.7, 0.6] and series.steps.tolist() == [1, 5, 6]
    assert series.interval is None  # gaps: not evenly spaced
    assert "Skipped 3 row(s)" in series.notes[0] and "line 3" in series.notes[0]


def test_semicolon_separated_files_and_a_byte_order_mark_are_read():
    series = parse_metric_csv("\ufeffstep;value\n1;0.5\n2;0.25\n".encode())
    assert series.values.tolist() == [0.5, 0.25]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"step,value\n", "no numeric values"),
        (b"a,b\nx,y\n", "no numeric values"),
        (b"step,value\n2,0.5\n1,0.4\n", "steps must increase"),
        (bytes(range(128, 256)) * 4, "not UTF-8 text"),
        (b"0" * (MAX_CSV_BYTES + 1), f"at most {MAX_CSV_BYTES:,}"),
    ],
)
def test_bad_csv_files_are_refused_with_a_message_naming_the_field(data, message):
    with pytest.raises(LrlabError, match=message) as info:
        parse_metric_csv(data)
    assert info.value.field == "metric_csv"


def test_pasted_values_accept_commas_spaces_semicolons_and_brackets():
    assert parse_metric_list("[1, 0.9; 0.8\n7e-1]").values.tolist() == [1, 0.9, 0.8, 0.7]


@pytest.mark.parametrize("text", ["", "1, two, 3", "1, inf", "__import__('os')"])
def test_bad_pasted_values_are_refused(text):
    with pytest.raises(LrlabError) as info:
        parse_metric_list(text)
    assert info.value.field == "metric_list"
