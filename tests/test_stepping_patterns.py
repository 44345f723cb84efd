"""Stepping patterns people write: explicit (fractional) epochs, a chain inside a sequence, a warm-up
switched by hand to ReduceLROnPlateau. Each is checked against a real torch loop written out here."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import lrlab
from lrlab.cli import main
from lrlab.simulate import fast, intervals_for, simulate
from lrlab.specs import LrlabError, ScheduleConfig


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():  # torch's deprecation of step(epoch) is expected here
        warnings.simplefilter("ignore")
        yield


def sgd(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


# ---- scheduler.step(epoch + i / iters): torch's CosineAnnealingWarmRestarts docs ------------------


@pytest.mark.parametrize(("T_0", "T_mult", "iters"), [(2, 1, 5), (1, 2, 4), (3, 3, 7), (1, 3, 1)])
def test_warm_restarts_stepped_with_fractional_epochs_match_the_loop_in_torchs_docs(T_0, T_mult, iters):
    epochs = 60
    optimizer = sgd()
    scheduler = tls.CosineAnnealingWarmRestarts(optimizer, T_0=T_0, T_mult=T_mult, eta_min=0.001)
    expected = []
    for epoch in range(epochs):
        for i in range(iters):
            expected.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step(epoch + i / iters)
    frame = lrlab.curve(
        "CosineAnnealingWarmRestarts",
        steps=epochs * iters,
        steps_per_epoch=iters,
        interval="epoch_fraction",
        T_0=T_0,
        T_mult=T_mult,
        eta_min=0.001,
    )
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected)


def test_the_fractional_pattern_runs_one_batch_behind_as_the_docs_loop_does():
    frame = lrlab.curve(
        "CosineAnnealingWarmRestarts", steps=8, steps_per_epoch=4, interval="epoch_fraction", T_0=1, base_lr=1.0
    )
    lr = frame["lr"].to_numpy()
    # rows 0 and 1 are both the lr at epoch 0; row 2 is the lr at epoch 0.25 (hand: (1 + cos(π/4)) / 2)
    assert lr[0] == lr[1] == 1.0 and lr[2] == pytest.approx((1 + math.cos(math.pi / 4)) / 2, rel=1e-15)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "ExponentialLR", "CosineAnnealingWarmRestarts"])
def test_stepping_with_the_explicit_epoch_once_per_epoch_matches_a_torch_loop(name):
    params = {
        "StepLR": {"step_size": 3, "gamma": 0.5},
        "CosineAnnealingLR": {"T_max": 7},
        "ExponentialLR": {"gamma": 0.9},
        "CosineAnnealingWarmRestarts": {"T_0": 2, "T_mult": 2},
    }[name]
    epochs, iters = 20, 3
    optimizer = sgd()
    scheduler = getattr(tls, name)(optimizer, **params)
    expected = []
    for epoch in range(epochs):
        for _ in range(iters):
            expected.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
        scheduler.step(epoch + 1)
    frame = lrlab.curve(name, steps=epochs * iters, steps_per_epoch=iters, interval="epoch_arg", **params)
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected)


def test_warm_restarts_with_an_explicit_epoch_land_on_torchs_float_truncated_cycle():
    """torch's step(epoch) finds the cycle with math.log: at epoch 121 (T_0=1, T_mult=3) it truncates
    to the previous cycle, unlike step(); lrlab shows what torch does, and its closed form agrees."""
    optimizer = sgd(1.0)
    explicit = tls.CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=3)
    explicit.step(121)
    optimizer2 = sgd(1.0)
    counted = tls.CosineAnnealingWarmRestarts(optimizer2, T_0=1, T_mult=3)
    for _ in range(121):
        counted.step()
    assert explicit.get_last_lr()[0] != counted.get_last_lr()[0]  # torch's own quirk
    config = ScheduleConfig.make(
        "CosineAnnealingWarmRestarts", {"T_0": 1, "T_mult": 3}, base_lr=1.0, steps=125, interval="epoch_arg"
    )
    curve = simulate(config)
    assert curve.frame["lr"][121] == explicit.get_last_lr()[0]
    assert curve.max_rel_diff == 0.0  # the explicit-epoch closed form replicates it
    assert (
        simulate(
            ScheduleConfig.make("CosineAnnealingWarmRestarts", {"T_0": 1, "T_mult": 3}, base_lr=1.0, steps=125)
        ).frame["lr"][121]
        == counted.get_last_lr()[0]
    )


EXPLICIT = [
    (name, interval)
    for name, spec in lrlab.SCHEDULERS.items()
    for interval in ("epoch_fraction", "epoch_arg")
    if interval in intervals_for(spec)
]


@pytest.mark.parametrize(("name", "interval"), EXPLICIT)
def test_the_closed_form_equals_the_stepped_library_for_explicit_epochs(name, interval):
    config = ScheduleConfig.make(name, {}, steps=400, steps_per_epoch=7, interval=interval, group_lrs=(0.3,))
    curve = simulate(config)
    if name == "MultiplicativeLR" and interval == "epoch_fraction":
        assert curve.closed is None  # recursive: no closed form, said in the notes
        assert any("No closed form" in n for n in curve.notes)
        return
    assert curve.closed is not None and curve.max_rel_diff <= 1e-12, (curve.max_rel_diff, curve.first_diff_step)
    quick = fast(config)
    cols = list(curve.lr_columns)
    np.testing.assert_allclose(quick.frame[cols].to_numpy(), curve.frame[cols].to_numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("name", "interval", "why"),
    [
        ("SWALR", "epoch_arg", "ignores the epoch"),
        ("SequentialLR", "epoch_fraction", "takes no epoch"),
        ("ChainedScheduler", "epoch_arg", "takes no epoch"),
        ("ReduceLROnPlateau", "epoch_arg", "stepped with the metric"),
        ("get_cosine_schedule_with_warmup", "epoch_fraction", "integer optimizer step"),
    ],
)
def test_a_pattern_the_library_refuses_or_ignores_is_refused_by_name(name, interval, why):
    with pytest.raises(LrlabError) as raised:
        lrlab.curve(name, steps=20, steps_per_epoch=4, interval=interval)
    assert raised.value.field == "interval"
    assert (
        f"Invalid interval ({interval!r})" in str(raised.value)
        and name in str(raised.value)
        and why in str(raised.value)
    )


def test_torch_really_refuses_an_epoch_for_sequential_and_ignores_it_for_swalr():
    optimizer = sgd()
    sequence = tls.SequentialLR(optimizer, [tls.ConstantLR(optimizer), tls.ExponentialLR(optimizer, 0.9)], [2])
    with pytest.raises(TypeError):
        sequence.step(3)
    from torch.optim.swa_utils import SWALR

    optimizer, twin = sgd(), sgd()
    a, b = SWALR(optimizer, swa_lr=0.01, anneal_epochs=5), SWALR(twin, swa_lr=0.01, anneal_epochs=5)
    optimizer.step()
    twin.step()
    a.step(50)
    b.step()
    assert optimizer.param_groups[0]["lr"] == twin.param_groups[0]["lr"]


def test_an_unknown_interval_in_a_config_is_a_named_error_and_old_configs_still_load():
    with pytest.raises(LrlabError) as raised:
        ScheduleConfig.from_dict({"scheduler": "StepLR", "interval": "batch"})
    assert (
        raised.value.field == "interval" and "'epoch_fraction'" in str(raised.value) and "'batch'" in str(raised.value)
    )
    assert ScheduleConfig.from_dict({"scheduler": "StepLR"}).interval == "step"
    old = ScheduleConfig.from_dict({"scheduler": "StepLR", "steps": 10, "interval": "epoch"})
    assert ScheduleConfig.from_dict(old.to_dict()) == old
    new = ScheduleConfig.make("CosineAnnealingWarmRestarts", {"T_0": 2}, steps=10, interval="epoch_fraction")
    assert ScheduleConfig.from_dict(new.to_dict()) == new


def test_the_cli_takes_the_explicit_epoch_patterns(capsys):
    argv = ["curve", "CosineAnnealingWarmRestarts", "--steps", "12", "--steps-per-epoch", "4", "--set", "T_0=2"]
    assert main([*argv, "--interval", "epoch_fraction", "--format", "json"]) == 0
    import json

    got = [row["lr"] for row in json.loads(capsys.readouterr().out)]
    expected = lrlab.curve(
        "CosineAnnealingWarmRestarts", steps=12, steps_per_epoch=4, interval="epoch_fraction", T_0=2
    )["lr"].tolist()
    assert got == pytest.approx(expected, rel=1e-14)
    assert main(["curve", "SWALR", "--steps", "12", "--interval", "epoch_arg"]) == 2
    assert "Invalid interval ('epoch_arg')" in capsys.readouterr().err


def test_the_exported_pytorch_loop_is_written_the_way_the_docs_write_it():
    config = ScheduleConfig.make(
        "CosineAnnealingWarmRestarts", {"T_0": 2}, steps=24, steps_per_epoch=4, interval="epoch_fraction"
    )
    from lrlab.export import render

    code = render(config, "torch")
    assert "scheduler.step(epoch + i / steps_per_epoch)" in code
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # our own generated code
    np.testing.assert_array_equal(namespace["train"](), simulate(config).frame["lr"].to_numpy())
    comments = " ".join(line[2:] for line in render(config, "transformers").splitlines() if line.startswith("# "))
    assert "not scheduler.step(epoch + i / steps_per_epoch) as configured" in comments


# ---- a ChainedScheduler inside a SequentialLR -------------------------------------------------


def chain_then(children: list[dict], then: dict, milestone: int) -> ScheduleConfig:
    return ScheduleConfig.make(
        "SequentialLR",
        {"schedulers": [{"name": "ChainedScheduler", "schedulers": children}, then], "milestones": [milestone]},
        steps=40,
        base_lr=0.5,
    )


@pytest.mark.parametrize(
    "children",
    [
        [{"name": "ConstantLR", "factor": 0.5, "total_iters": 4}, {"name": "ExponentialLR", "gamma": 0.9}],
        [
            {"name": "LinearLR", "start_factor": 0.2, "total_iters": 5},
            {"name": "PolynomialLR", "total_iters": 12, "power": 2.0},
        ],
        [{"name": "StepLR", "step_size": 3, "gamma": 0.5}, {"name": "MultiStepLR", "milestones": [0, 7], "gamma": 0.8}],
    ],
)
def test_a_chain_as_the_first_child_of_a_sequence_matches_a_torch_loop_and_its_closed_form(children):
    then = {"name": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 6}
    optimizer = sgd(0.5)
    kids = [getattr(tls, c["name"])(optimizer, **{k: v for k, v in c.items() if k != "name"}) for c in children]
    chain = tls.ChainedScheduler(kids)
    later = tls.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=6)
    sequence = tls.SequentialLR(optimizer, [chain, later], milestones=[15])
    expected = []
    for _ in range(40):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        sequence.step()
    curve = simulate(chain_then(children, then, 15))
    np.testing.assert_array_equal(curve.frame["lr"].to_numpy(), expected)
    assert curve.closed is not None and curve.max_rel_diff <= 1e-12, (curve.max_rel_diff, curve.first_diff_step)


def test_a_chain_after_the_first_child_is_refused_because_torch_crashes_at_the_switch():
    optimizer = sgd()
    chain = tls.ChainedScheduler([tls.ExponentialLR(optimizer, 0.9)])
    sequence = tls.SequentialLR(optimizer, [tls.ConstantLR(optimizer), chain], milestones=[2])
    with pytest.raises(NotImplementedError):
        for _ in range(3):
            optimizer.step()
            sequence.step()
    config = ScheduleConfig.make(
        "SequentialLR",
        {
            "schedulers": [
                {"name": "ConstantLR"},
                {"name": "ChainedScheduler", "schedulers": [{"name": "ExponentialLR", "gamma": 0.9}]},
            ],
            "milestones": [2],
        },
        steps=10,
    )
    with pytest.raises(LrlabError) as raised:
        simulate(config)
    assert raised.value.field == "schedulers[1].name" and "NotImplementedError" in str(raised.value)


def test_a_chain_child_of_a_sequence_is_validated_down_to_its_own_children():
    config = chain_then([{"name": "ExponentialLR", "gamma": 7.0}], {"name": "ConstantLR"}, 5)
    with pytest.raises(LrlabError) as raised:
        simulate(config)
    assert raised.value.field == "schedulers[0].schedulers[0].gamma" and "(7.0)" in str(raised.value)


def test_a_chain_in_a_sequence_is_exported_as_code_that_reproduces_it():
    from lrlab.export import render

    config = chain_then(
        [{"name": "ConstantLR", "factor": 0.5, "total_iters": 4}, {"name": "ExponentialLR", "gamma": 0.9}],
        {"name": "LinearLR", "start_factor": 0.1, "total_iters": 6},
        15,
    )
    code = render(config, "torch")
    assert "s0 = lr_scheduler.ChainedScheduler([s0_0, s0_1])" in code
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)
    np.testing.assert_array_equal(namespace["train"](), simulate(config).frame["lr"].to_numpy())


# ---- warm-up, then ReduceLROnPlateau, switched by hand ----------------------------------------


def hand_written_loop(metrics: list[float], steps: int, k: int, eval_every: int, plateau_kwargs: dict) -> list[float]:
    optimizer = sgd(0.2)
    warmup = tls.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=k)
    plateau = tls.ReduceLROnPlateau(optimizer, **plateau_kwargs)
    lrs = []
    for step in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if step < k:
            warmup.step()
        elif (step + 1) % eval_every == 0:
            plateau.step(metrics[(step + 1) // eval_every - 1])
    return lrs


@pytest.mark.parametrize(("k", "eval_every"), [(10, 1), (12, 5), (7, 3)])
def test_warmup_then_plateau_matches_the_hand_written_switch(k, eval_every):
    steps = 150
    rng = np.random.default_rng(k)
    metrics = list(np.r_[np.linspace(2.0, 1.0, 10), np.full(190, 1.0)] + rng.normal(0, 1e-3, 200))
    plateau_kwargs = {"patience": 2, "factor": 0.5, "cooldown": 1}
    expected = hand_written_loop(metrics, steps, k, eval_every, plateau_kwargs)
    frame = lrlab.curve(
        "WarmupThenPlateau",
        steps=steps,
        base_lr=0.2,
        warmup=[{"name": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": k}],
        warmup_steps=k,
        metrics=metrics,
        eval_every=eval_every,
        **plateau_kwargs,
    )
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected)
    assert min(expected) < 0.2  # the plateau did reduce: the test sees the switch, not only the warm-up


def test_warmup_then_plateau_explains_each_evaluation_of_the_plateau():
    metrics = [1.0] * 40
    curve = simulate(
        ScheduleConfig.make("WarmupThenPlateau", {"warmup_steps": 5, "patience": 1}, steps=30),
        metrics=metrics,
    )
    assert curve.events is not None and len(curve.events) == 29 - 5  # evaluations after the warm-up
    assert "reduced" in set(curve.events["event"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"warmup": [{"name": "LinearLR"}, {"name": "ConstantLR"}]}, "warmup"),
        ({"warmup": [{"name": "ReduceLROnPlateau"}]}, "warmup[0].name"),
        ({"warmup": [{"name": "LinearLR", "start_factor": 0}]}, "warmup[0].start_factor"),
        ({"warmup_steps": 0}, "warmup_steps"),
        ({"patience": -1}, "patience"),
    ],
)
def test_warmup_then_plateau_names_the_bad_field(params, field):
    with pytest.raises(LrlabError) as raised:
        simulate(ScheduleConfig.make("WarmupThenPlateau", params, steps=50))
    assert raised.value.field == field


def test_warmup_then_plateau_is_exported_as_the_switch():
    from lrlab.export import render

    config = ScheduleConfig.make("WarmupThenPlateau", {"warmup_steps": 8}, steps=30)
    code = render(config, "torch")
    assert "if step < warmup_steps:" in code and "plateau.step(val_loss)" in code
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)
    got = namespace["train"]()
    np.testing.assert_array_equal(got[:9], simulate(config).frame["lr"].to_numpy()[:9])  # the warm-up
    assert "can't switch from a warm-up to" in render(config, "transformers")
    lightning = render(config, "lightning")
    assert "def lr_scheduler_step" in lightning and "ReduceLROnPlateau" in lightning


def test_the_exported_switch_hands_over_at_the_same_step_in_pytorch_and_lightning():
    """The warm-up ramp is cut at warmup_steps (its own total_iters is longer) and the plateau, with a
    patience longer than the run, holds the lr there: every row is known exactly."""
    from lrlab.export import render
    from tests.test_export import exported_lrs

    config = ScheduleConfig.make(
        "WarmupThenPlateau",
        {
            "warmup": [{"name": "LinearLR", "start_factor": 0.01, "total_iters": 10}],
            "warmup_steps": 5,
            "patience": 1000,
        },
        steps=24,
        steps_per_epoch=6,
    )
    expected = simulate(config).frame["lr"].to_numpy()
    assert expected[5] == expected[-1] == pytest.approx(0.1 * (0.01 + 0.99 * 5 / 10), rel=1e-12)  # hand: cut at 5/10
    jobs = [{"target": t, "code": render(config, t), "steps": 24, "steps_per_epoch": 6} for t in ("torch", "lightning")]
    for got in exported_lrs(jobs):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_the_plateau_page_offers_warmup_then_plateau_and_draws_the_real_switch():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "app.py"
    at = AppTest.from_file(str(app), default_timeout=90).run()
    at.switch_page("pages/plateau.py").run()
    at.selectbox(key="pl.scheduler").select("WarmupThenPlateau").run()
    assert not at.exception and not at.error
    assert at.get("plotly_chart")
