"""The resume simulator against the real torch / transformers objects, and the exported resume code run."""

from __future__ import annotations

import runpy

import numpy as np
import pytest
import torch

from lrlab.resume import build_scheduler, resume_code, simulate_resume
from lrlab.simulate import curve
from lrlab.specs import LrlabError, ScheduleConfig

COSINE = ScheduleConfig.make("CosineAnnealingLR", {"T_max": 100}, steps=100, base_lr=0.1)
HF_COSINE = ScheduleConfig.make(
    "get_cosine_schedule_with_warmup", {"num_warmup_steps": 10, "num_training_steps": 100}, steps=100, base_lr=0.1
)
SCHEDULES = [
    COSINE,
    HF_COSINE,
    ScheduleConfig.make("OneCycleLR", {"max_lr": 1.0, "total_steps": 100}, steps=100),
    ScheduleConfig.make("MultiStepLR", {"milestones": [30, 60], "gamma": 0.5}, steps=100),
    ScheduleConfig.make("LambdaLR", {"lr_lambda": "0.95 ** epoch"}, steps=100),
    ScheduleConfig.make("CyclicLR", {"max_lr": 1.0, "step_size_up": 20}, steps=100),
    ScheduleConfig.make("StepLR", {"step_size": 3, "gamma": 0.5}, steps=100, steps_per_epoch=10, interval="epoch"),
]


@pytest.mark.parametrize("config", SCHEDULES, ids=lambda c: f"{c.scheduler}-{c.interval}")
def test_resuming_with_load_state_dict_continues_the_uninterrupted_curve(config):
    result = simulate_resume(config, 40, "load_state_dict")
    assert result.first_diff_step is None and result.error is None
    np.testing.assert_array_equal(result.resumed, curve(config=config)["lr"].to_numpy())


def test_torch_cosine_rebuilt_with_last_epoch_keeps_step_r_then_drifts():
    result = simulate_resume(COSINE, 40, "last_epoch")
    full = result.uninterrupted
    assert result.resumed[40] == full[40]  # the constructor's extra step lands on the loaded lr
    assert result.first_diff_step == 41  # then the recursive formula runs from the wrong point
    assert result.resumed[41] == pytest.approx(0.0639002, rel=1e-6) and full[41] == pytest.approx(0.0639496, rel=1e-6)
    assert result.resumed[-1] == 0.0  # reaches eta_min one step early: the whole tail shifted


def test_transformers_rebuilt_with_last_epoch_skips_one_step():
    result = simulate_resume(HF_COSINE, 40, "last_epoch")
    assert result.first_diff_step == 40
    np.testing.assert_allclose(result.resumed[40:99], result.uninterrupted[41:100], rtol=1e-12)


def test_rebuilding_with_last_epoch_on_a_fresh_optimizer_is_torchs_initial_lr_key_error():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        build_scheduler(COSINE, optimizer, last_epoch=40)


def test_a_new_total_is_silently_ignored_by_torchs_load_state_dict():
    result = simulate_resume(COSINE, 40, "new_total", new_steps=200)
    assert result.first_diff_step is None  # T_max=100 restored from the checkpoint
    assert any("restored T_max=100" in note and "silently ignored" in note for note in result.notes)


def test_a_new_total_makes_the_transformers_curve_jump_after_the_resumed_step():
    result = simulate_resume(HF_COSINE, 40, "new_total", new_steps=200)
    rebuilt = curve(config=result.new_config)["lr"].to_numpy()
    assert result.new_config.params_dict["num_training_steps"] == 200
    assert result.first_diff_step == 41  # row 40 still uses the loaded optimizer's lr
    assert result.resumed[40] == result.uninterrupted[40]
    np.testing.assert_allclose(result.resumed[41:], rebuilt[41:], rtol=1e-12)
    assert result.resumed[41] / result.resumed[40] > 1.2  # the jump up (open_clip#413)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (ScheduleConfig.make("timm:CosineLRScheduler", steps=100), "scheduler"),
        (COSINE, "at"),
        (ScheduleConfig.make("StepLR", {"step_size": 10}, steps=100), "how"),
    ],
)
def test_what_the_simulator_cannot_replay_is_refused_naming_the_field(config, field):
    with pytest.raises(LrlabError) as raised:
        if field == "at":
            simulate_resume(config, 100, "load_state_dict")
        else:
            simulate_resume(config, 40, "new_total", new_steps=200)
    assert raised.value.field == field


@pytest.mark.parametrize("config", [COSINE, HF_COSINE, SCHEDULES[-1]], ids=lambda c: f"{c.scheduler}-{c.interval}")
def test_the_exported_resume_code_runs_and_matches_the_uninterrupted_curve(config, tmp_path):
    script = tmp_path / "resume.py"
    script.write_text(resume_code(config, 37, "last_epoch"))
    namespace = runpy.run_path(str(script))
    lrs = namespace["train"](path=str(tmp_path / "checkpoint.pt"))
    np.testing.assert_allclose(lrs, curve(config=config)["lr"].to_numpy(), rtol=1e-12)
    assert "load_state_dict" in script.read_text() and "pytorch#60265" in script.read_text()
