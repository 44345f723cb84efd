"""Composition, param groups, optimizers, stepping interval, training units and summary figures:
each checked against the real torch objects stepped in the test, or against hand computation."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch.optim import lr_scheduler as tls

import lrlab
from lrlab.compare import summary_table
from lrlab.simulate import simulate
from lrlab.specs import LrlabError, ScheduleConfig
from lrlab.units import TrainingUnits


def stepped(build, steps, lrs=(0.1,), optimizer=None, every=1):
    """Step a real scheduler built by ``build(optimizer)``; return lrs per group per optimizer step."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    opt = optimizer(groups) if optimizer else torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    sched = build(opt)
    out = []
    for t in range(steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        if (t + 1) % every == 0:
            sched.step()
    return np.array(out)


def test_the_issue_example_of_sequential_lr_equals_the_real_object():
    children = [
        {"name": "LinearLR", "start_factor": 0.1, "total_iters": 10},
        {"name": "CosineAnnealingLR", "T_max": 40},
    ]
    frame = lrlab.curve("SequentialLR", steps=50, base_lr=0.1, schedulers=children, milestones=[10])
    expected = stepped(
        lambda o: tls.SequentialLR(
            o, [tls.LinearLR(o, start_factor=0.1, total_iters=10), tls.CosineAnnealingLR(o, T_max=40)], milestones=[10]
        ),
        50,
    )
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected[:, 0])


def test_three_lambda_children_restart_at_each_milestone_as_the_reference_shows():
    children = [{"name": "LambdaLR", "lr_lambda": f"{k} + epoch"} for k in (100, 200, 300)]
    frame = lrlab.curve("SequentialLR", steps=9, base_lr=1.0, schedulers=children, milestones=[3, 5])
    assert frame["lr"].tolist() == [100, 101, 102, 200, 201, 300, 301, 302, 303]


def test_a_transformers_child_inside_sequential_lr_equals_the_real_objects():
    from transformers import get_linear_schedule_with_warmup

    children = [
        {"name": "get_linear_schedule_with_warmup", "num_warmup_steps": 5, "num_training_steps": 20},
        {"name": "ExponentialLR", "gamma": 0.9},
    ]
    frame = lrlab.curve("SequentialLR", steps=40, schedulers=children, milestones=[20])
    expected = stepped(
        lambda o: tls.SequentialLR(
            o, [get_linear_schedule_with_warmup(o, 5, 20), tls.ExponentialLR(o, gamma=0.9)], milestones=[20]
        ),
        40,
    )
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected[:, 0], rtol=0, atol=0)


def test_chained_scheduler_equals_the_real_object_and_multiplies_for_recursive_children():
    children = [{"name": "ConstantLR", "factor": 0.1, "total_iters": 20}, {"name": "ExponentialLR", "gamma": 0.98}]
    curve = simulate(ScheduleConfig.make("ChainedScheduler", {"schedulers": children}, steps=60))
    expected = stepped(
        lambda o: tls.ChainedScheduler(
            [tls.ConstantLR(o, factor=0.1, total_iters=20), tls.ExponentialLR(o, gamma=0.98)]
        ),
        60,
    )
    np.testing.assert_array_equal(curve.frame["lr"].to_numpy(), expected[:, 0])
    t = np.arange(60)
    np.testing.assert_allclose(curve.closed["lr"], 0.1 * np.where(t < 20, 0.1, 1.0) * 0.98**t, rtol=1e-13)


def test_a_chain_with_an_overwriting_child_has_no_closed_form_and_says_so():
    children = [{"name": "LambdaLR", "lr_lambda": "0.5 ** epoch"}, {"name": "ExponentialLR", "gamma": 0.9}]
    curve = simulate(ScheduleConfig.make("ChainedScheduler", {"schedulers": children}, steps=5))
    # the reference: [LambdaLR(0.5^t), ExponentialLR(0.9)] gives 0.9·0.5^t, not 0.45^t
    np.testing.assert_allclose(curve.frame["lr"].to_numpy()[1:], 0.1 * 0.9 * 0.5 ** np.arange(1, 5), rtol=1e-14)
    assert curve.closed is None and any("No closed form" in n for n in curve.notes)


def test_a_onecycle_child_rewrites_initial_lr_and_the_sequence_follows_torch():
    children = [
        {"name": "LinearLR", "start_factor": 0.5, "total_iters": 3},
        {"name": "OneCycleLR", "max_lr": 1.0, "total_steps": 10},
    ]
    frame = lrlab.curve("SequentialLR", steps=8, base_lr=0.1, schedulers=children, milestones=[3])
    assert frame["lr"].iloc[0] == pytest.approx(0.02)  # the reference: 0.04·0.5, not 0.05


def test_children_with_lrs_above_1000_and_their_own_base_lr_follow_torch():
    # issue 13: a OneCycleLR child peaking at 5000, then a CyclicLR child with its own base_lr 2000
    children = [
        {"name": "OneCycleLR", "max_lr": 5000.0, "total_steps": 8},
        {"name": "CyclicLR", "base_lr": 2000.0, "max_lr": 5000.0, "step_size_up": 3},
    ]
    frame = lrlab.curve("SequentialLR", steps=16, base_lr=0.1, schedulers=children, milestones=[8])
    expected = stepped(
        lambda o: tls.SequentialLR(
            o,
            [
                tls.OneCycleLR(o, max_lr=5000.0, total_steps=8),
                tls.CyclicLR(o, base_lr=2000.0, max_lr=5000.0, step_size_up=3),
            ],
            milestones=[8],
        ),
        16,
    )
    assert expected[:, 0].max() == pytest.approx(5000.0) and expected[8, 0] == 2000.0
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected[:, 0])


@pytest.mark.parametrize("own", [-2000.0, 0, float("inf"), "5000", 10**400])
def test_a_childs_own_base_lr_that_is_not_a_finite_positive_number_is_refused_naming_it(own):
    children = [{"name": "CyclicLR", "base_lr": own, "max_lr": 5000.0}, {"name": "StepLR"}]
    with pytest.raises(LrlabError) as caught:
        lrlab.curve("SequentialLR", steps=16, schedulers=children, milestones=[8])
    message = str(caught.value)
    assert caught.value.field == "schedulers[0].base_lr"
    assert message.startswith("Invalid schedulers[0].base_lr (") and repr(own)[:20] in message
    assert message.endswith("): must be a finite number > 0")


# ---- param groups -------------------------------------------------------------------------------

ARTICLE_GROUP0 = "epoch / 10 if epoch < 10 else (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + cos(pi * (epoch - 10) / 40))) / 0.1"


def test_the_reference_articles_two_group_lambda_lr_is_reproduced_value_for_value():
    frame = lrlab.curve("LambdaLR", steps=50, param_groups=[{"lr": 0.1}, {"lr": 0.2}], lr_lambda=[ARTICLE_GROUP0, "1"])

    def warmup_cosine(step):  # written out as the article does, with Python's math
        if step < 10:
            return step / 10
        return (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * (step - 10) / 40))) / 0.1

    expected = stepped(lambda o: tls.LambdaLR(o, [warmup_cosine, lambda step: 1]), 50, lrs=(0.1, 0.2))
    np.testing.assert_allclose(frame["lr"].to_numpy(), expected[:, 0], rtol=1e-14, atol=0)
    np.testing.assert_array_equal(frame["lr_1"].to_numpy(), np.full(50, 0.2))
    assert frame["lr"].iloc[10] == pytest.approx(0.1) and frame["lr"].iloc[-1] == pytest.approx(
        1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * 39 / 40)), rel=1e-12
    )


def test_param_groups_each_get_their_own_column():
    frame = lrlab.curve("StepLR", steps=4, param_groups=[{"lr": 1.0}, {"lr": 2.0}, {"lr": 4.0}], step_size=2, gamma=0.5)
    assert frame[["lr", "lr_1", "lr_2"]].to_numpy().tolist() == [[1, 2, 4], [1, 2, 4], [0.5, 1, 2], [0.5, 1, 2]]


@pytest.mark.parametrize("groups", [[], [{"lr": 0.1, "momentum": 0.9}], "0.1", [0.1]])
def test_malformed_param_groups_are_refused_by_name(groups):
    with pytest.raises(LrlabError) as info:
        lrlab.curve("StepLR", steps=3, param_groups=groups)
    assert info.value.field == "param_groups"


# ---- optimizers and momentum ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_onecycle_cycles_beta1_of_adam_and_adamw_as_the_real_optimizer_does(kind):
    frame = lrlab.curve("OneCycleLR", steps=30, optimizer=kind, betas=(0.9, 0.99), max_lr=1.0)
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    opt = cls([torch.nn.Parameter(torch.zeros(1))], lr=0.1, betas=(0.9, 0.99))
    sched = tls.OneCycleLR(opt, max_lr=1.0, total_steps=30)
    beta1 = []
    for _ in range(30):
        beta1.append(opt.param_groups[0]["betas"][0])
        opt.step()
        sched.step()
    np.testing.assert_array_equal(frame["beta1"].to_numpy(), beta1)


def test_cyclic_lr_switches_momentum_on_for_sgd_with_momentum_zero():
    frame = lrlab.curve("CyclicLR", steps=5, momentum=0.0, step_size_up=2)
    assert frame["momentum"].iloc[0] == 0.9  # max_momentum, although the optimizer had 0


def test_cyclic_lr_on_an_optimizer_without_momentum_shows_torchs_error():
    with pytest.raises(LrlabError, match="optimizer must support momentum or beta1 with `cycle_momentum`") as info:
        lrlab.curve("CyclicLR", steps=5, optimizer="adagrad")
    assert info.value.field == "cycle_momentum"
    assert "momentum" not in lrlab.curve("CyclicLR", steps=5, optimizer="adagrad", cycle_momentum=False).columns


@pytest.mark.parametrize(
    ("field", "value"), [("optimizer", "rmsprop"), ("momentum", 1.0), ("betas", (0.9,)), ("interval", "batch")]
)
def test_bad_optimizer_settings_are_refused_by_name(field, value):
    with pytest.raises(LrlabError) as info:
        lrlab.curve("StepLR", steps=3, **{field: value})
    assert info.value.field == field


# ---- how scheduler.step() is called ------------------------------------------------------------


def test_stepping_per_epoch_holds_the_lr_for_an_epoch_like_the_real_loop():
    frame = lrlab.curve("CosineAnnealingLR", steps=60, steps_per_epoch=10, interval="epoch", T_max=60)
    expected = stepped(lambda o: tls.CosineAnnealingLR(o, T_max=60), 60, every=10)
    np.testing.assert_array_equal(frame["lr"].to_numpy(), expected[:, 0])
    # the mistake: a schedule sized in steps (T_max = 60) but stepped per epoch barely decays
    assert frame["lr"].iloc[-1] > 0.09


def test_the_closed_form_follows_per_epoch_stepping():
    curve = simulate(
        ScheduleConfig.make("StepLR", {"step_size": 2, "gamma": 0.5}, steps=30, steps_per_epoch=5, interval="epoch")
    )
    assert curve.first_diff_step is None
    assert curve.frame["lr"].tolist()[:11] == [0.1] * 10 + [0.05]


# ---- training units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "batches", "steps_per_epoch"),
    [
        (dict(dataset_size=1000, batch_size=32), 32, 32),  # ceil(1000/32) = 32 (last batch of 8)
        (dict(dataset_size=1000, batch_size=32, drop_last=True), 31, 31),
        (dict(dataset_size=1000, batch_size=32, grad_accum=4), 32, 8),
        (dict(dataset_size=1000, batch_size=32, grad_accum=5), 32, 7),  # 6 full groups + a partial one
        (dict(dataset_size=1000, batch_size=32, devices=3), 11, 11),  # ceil(1000/3)=334 → ceil(334/32)
        (dict(dataset_size=1000, batch_size=32, devices=3, drop_last=True), 10, 10),  # floor(333/32)
    ],
)
def test_steps_per_epoch_follow_the_data_loader(kwargs, batches, steps_per_epoch):
    units = TrainingUnits(epochs=3, **kwargs)
    assert units.batches_per_epoch == batches
    assert units.steps_per_epoch == steps_per_epoch
    assert units.total_steps == 3 * steps_per_epoch


def test_samples_per_step_is_the_effective_batch():
    units = TrainingUnits(epochs=1, dataset_size=10_000, batch_size=16, grad_accum=4, devices=8, seq_len=512)
    assert units.samples_per_step == 512 and units.micro_batches == units.batches_per_epoch


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(epochs=0, dataset_size=10, batch_size=2), "epochs"),
        (dict(epochs=1, dataset_size=10, batch_size=20, drop_last=True), "batch_size"),
        (dict(epochs=10**7, dataset_size=10**6, batch_size=1), "epochs"),
    ],
)
def test_impossible_units_are_refused_by_name(kwargs, field):
    with pytest.raises(LrlabError) as info:
        TrainingUnits(**kwargs)
    assert info.value.field == field


# ---- summary figures ------------------------------------------------------------------------------


def test_summary_figures_match_a_hand_computed_case():
    import pandas as pd

    frame = pd.DataFrame({"step": range(6), "lr": [0.0, 0.5, 1.0, 0.8, 0.2, 0.05]})
    row = summary_table([("a", frame)]).iloc[0]
    assert row["LR at start"] == 0.0 and row["peak LR"] == 1.0 and row["peak step"] == 2
    assert row["final LR"] == 0.05 and row["sum of LR"] == pytest.approx(2.55)
    assert row["mean LR"] == pytest.approx(2.55 / 6)
    assert row["steps ≥ 50% of peak"] == 3  # 0.5, 1.0, 0.8
    assert row["steps < 10% of peak"] == 2  # 0.0, 0.05


def test_summary_ignores_steps_the_library_refused():
    frame = lrlab.curve("OneCycleLR", steps=15, total_steps=10)
    row = summary_table([("one cycle", frame)]).iloc[0]
    assert row["final LR"] == pytest.approx(frame["lr"].iloc[10])  # t = 10 is the extrapolated step; then NaN


# ---- the Compose page: only what a torch SequentialLR / ChainedScheduler can hold ----------------------

COMPOSE_PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "compose.py")


def _accepted(mode: str, i: int) -> list[str]:
    """The registered names lrlab's compose validation accepts as child ``i`` of ``mode``."""
    from lrlab.compose import _child_spec

    out = []
    for name in lrlab.SCHEDULERS:
        try:
            _child_spec(name, f"schedulers[{i}]", in_sequence=mode == "SequentialLR")
        except LrlabError:
            continue
        out.append(name)
    return out


def _compose_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(COMPOSE_PAGE, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.parametrize(("mode", "i"), [("SequentialLR", 0), ("SequentialLR", 1), ("ChainedScheduler", 0)])
def test_the_child_picker_offers_exactly_the_schedulers_compose_accepts(mode, i):
    from lrlab.ui.widgets import scheduler_label

    at = _compose_page()
    at.radio(key="co.mode").set_value(mode).run()
    assert not at.exception
    expected = _accepted(mode, i)
    assert at.selectbox(key=f"co.child.{i}").options == [scheduler_label(n) for n in expected]
    libraries = {lrlab.SCHEDULERS[n].library for n in expected}
    assert libraries == {"torch", "transformers"}  # torch LRSchedulers, transformers' LambdaLRs
    assert ("ChainedScheduler" in expected) == (mode == "SequentialLR" and i == 0)
    assert not {"timm:CosineLRScheduler", "keras:CosineDecay", "optax:join_schedules", "ReduceLROnPlateau"} & set(
        expected
    )


def test_the_page_says_where_other_libraries_schedules_are_combined():
    at = _compose_page()
    text = " ".join(c.value for c in at.caption)
    assert "can't be children of a torch `SequentialLR`" in text
    for lib in ("timm", "Keras", "optax", "fastai"):
        assert lib in text
    assert "scheduler=optax%3Ajoin_schedules" in text and "scheduler=fastai%3Acombine_scheds" in text
    assert {"optax:join_schedules", "fastai:combine_scheds"} <= set(lrlab.SCHEDULERS)


@pytest.mark.parametrize("child", ["timm:CosineLRScheduler", "keras:CosineDecay", "optax:linear_schedule"])
def test_a_link_with_another_librarys_child_gets_a_notice_naming_it_and_no_exception(child):
    cfg = {
        "scheduler": "SequentialLR",
        "params": {"schedulers": [{"name": "LinearLR"}, {"name": child}], "milestones": [100]},
        "steps": 1000,
    }
    at = _compose_page({"cfg": json.dumps(cfg)})
    assert not at.exception and not at.error, [e.value for e in at.error]
    notice = " ".join(i.value for i in at.info).replace("\\", "")
    assert child in notice and "a child must be a torch LRScheduler" in notice
    assert at.selectbox(key="co.child.1").value == "CosineAnnealingLR"  # the page's own default, not the child
