"""Each known cause injected into a real torch loop (real optimizer, real scheduler), its lrs logged,
and :func:`lrlab.diagnosing.diagnose` must name it with the right numbers, its remaining error within
the log's precision; an unrelated curve comes back unexplained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.optim import lr_scheduler as tls

from lrlab.diagnosing import diagnose, log_precision
from lrlab.logs import LoggedRun
from lrlab.specs import ScheduleConfig

BASE_LR = 0.1


def _optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR, momentum=0.9)


def _hf(name: str, optimizer: torch.optim.Optimizer, **kwargs):
    import transformers

    return getattr(transformers, name)(optimizer, **kwargs)


def loop(make, steps: int, *, calls_per_step: int = 1, every: int = 1, resume=None) -> np.ndarray:
    """A training loop: ``calls_per_step`` scheduler.step() per optimizer step, or one every
    ``every`` optimizer steps; ``resume(optimizer, scheduler, step)`` may replace both at a step."""
    optimizer = _optimizer()
    scheduler = make(optimizer)
    lrs = []
    for t in range(steps):
        if resume is not None:
            replaced = resume(optimizer, scheduler, t)
            if replaced is not None:
                optimizer, scheduler = replaced
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if (t + 1) % every == 0:
            for _ in range(calls_per_step):
                scheduler.step()
    return np.array(lrs)


def logged(lrs: np.ndarray, every: int = 1, source: str = "test") -> LoggedRun:
    steps = np.arange(len(lrs))[::every]
    return LoggedRun(frame=pd.DataFrame({"step": steps, "lr": lrs[::every]}), source=source)


def cause(diagnosis, name):
    found = [c for c in diagnosis.causes if c.name == name]
    assert found, (diagnosis.summary, [c.summary for c in diagnosis.causes], diagnosis.closest)
    return found[0]


COSINE_HF = ScheduleConfig.make(
    "get_cosine_schedule_with_warmup", {"num_warmup_steps": 40, "num_training_steps": 400}, steps=400, base_lr=BASE_LR
)
COSINE_TORCH = ScheduleConfig.make("CosineAnnealingLR", {"T_max": 300}, steps=300, base_lr=BASE_LR)


def test_a_log_of_the_plan_itself_has_no_difference_and_no_cause():
    lrs = loop(lambda o: _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=40, num_training_steps=400), 400)
    d = diagnose(COSINE_HF, logged(lrs))
    assert d.first_diff_step is None and not d.unexplained and d.causes == ()
    assert d.max_rel_diff <= 1e-12


@pytest.mark.parametrize("every", [1, 5])
def test_scheduler_stepped_k_times_per_optimizer_step_is_accumulation_by_k(every):
    k = 4
    lrs = loop(
        lambda o: _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=40, num_training_steps=400),
        100,
        calls_per_step=k,
    )
    d = diagnose(COSINE_HF, logged(lrs, every))
    found = cause(d, "accumulation")
    assert found.numbers["k"] == k and found.numbers["direction"] == "k times per step"
    assert found.exact and found.remaining <= d.precision
    assert "accumulation by 4" in found.summary


def test_scheduler_stepped_every_k_optimizer_steps_is_accumulation_once_per_k():
    k = 3
    lrs = loop(lambda o: tls.CosineAnnealingLR(o, T_max=300), 300, every=k)
    d = diagnose(COSINE_TORCH, logged(lrs))
    found = cause(d, "accumulation")
    assert found.numbers == {"k": 3, "direction": "once per k steps"}
    assert found.remaining <= d.precision


def test_stepping_per_epoch_instead_of_per_step_finds_steps_per_epoch():
    spe = 25  # an epoch of 25 batches, the scheduler stepped after each epoch
    lrs = loop(lambda o: tls.CosineAnnealingLR(o, T_max=300), 300 * 2, every=spe)
    plan = ScheduleConfig.make("CosineAnnealingLR", {"T_max": 300}, steps=600, base_lr=BASE_LR)
    d = diagnose(plan, logged(lrs, every=10))
    found = cause(d, "per_epoch")
    assert found.numbers == {"steps_per_epoch": spe}
    assert found.corrected_config.interval == "epoch" and found.corrected_config.steps_per_epoch == spe
    assert found.remaining <= d.precision


def test_stepping_per_step_a_plan_made_per_epoch_is_named():
    plan = ScheduleConfig.make(
        "StepLR", {"step_size": 3, "gamma": 0.5}, steps=200, steps_per_epoch=20, interval="epoch"
    )
    lrs = loop(lambda o: tls.StepLR(o, step_size=3, gamma=0.5), 200)  # stepped after every batch
    d = diagnose(plan, logged(lrs))
    found = cause(d, "per_step")
    assert found.numbers == {"steps_per_epoch": 20} and found.remaining <= d.precision


def test_a_different_t_max_is_found_with_its_value():
    lrs = loop(lambda o: tls.CosineAnnealingLR(o, T_max=237), 300)
    d = diagnose(COSINE_TORCH, logged(lrs, every=7))
    found = cause(d, "total")
    assert found.numbers == {"T_max": 237}
    assert found.corrected_config.params_dict["T_max"] == 237 and found.remaining <= d.precision


def test_a_warm_up_sized_for_another_total_is_found():
    # warmup_ratio 0.1 computed on 700 steps instead of the run's 400
    lrs = loop(lambda o: _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=70, num_training_steps=400), 400)
    d = diagnose(COSINE_HF, logged(lrs, every=3))
    found = cause(d, "warmup")
    assert found.numbers == {"num_warmup_steps": 70} and found.remaining <= d.precision


def test_a_total_counted_for_one_device_of_four_is_a_device_count():
    lrs = loop(lambda o: _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=40, num_training_steps=100), 100)
    d = diagnose(COSINE_HF, logged(lrs))
    assert cause(d, "total").numbers == {"num_training_steps": 100}
    devices = cause(d, "devices")
    assert devices.numbers["devices"] == 4 and "equivalent to a different total" in devices.summary


def _rebuild_with_last_epoch(r, build):
    def resume(optimizer, scheduler, t):
        if t != r:
            return None
        saved = optimizer.state_dict()
        fresh = _optimizer()
        fresh.load_state_dict(saved)
        return fresh, build(fresh, scheduler.last_epoch)

    return resume


@pytest.mark.parametrize("r", [97, 150])
def test_a_resume_rebuilt_with_last_epoch_is_found_at_its_step(r):
    lrs = loop(
        lambda o: tls.CosineAnnealingLR(o, T_max=300),
        300,
        resume=_rebuild_with_last_epoch(r, lambda o, last: tls.CosineAnnealingLR(o, T_max=300, last_epoch=last)),
    )
    d = diagnose(COSINE_TORCH, logged(lrs))
    assert d.first_diff_step is not None and d.first_diff_step >= r
    found = cause(d, "resume_last_epoch")
    assert found.numbers == {"at": r} and found.remaining <= d.precision


def test_a_transformers_resume_with_last_epoch_is_found_logged_every_4_steps():
    r = 120

    def make(o, last=-1):
        return _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=40, num_training_steps=400, last_epoch=last)

    lrs = loop(make, 400, resume=_rebuild_with_last_epoch(r, make))
    d = diagnose(COSINE_HF, logged(lrs, every=4))
    found = cause(d, "resume_last_epoch")
    # logged at 116 and 120: a resume at 117 … 120 gives the same log, and the diagnosis says so
    assert found.numbers == {"at": r, "at_range": (117, 120)} and "from 117 to 120" in found.summary


def test_a_resume_with_a_changed_total_is_found_with_the_new_total():
    r = 200

    def resume(optimizer, scheduler, t):
        if t != r:
            return None
        saved_o, saved_s = optimizer.state_dict(), scheduler.state_dict()
        fresh = _optimizer()
        rebuilt = _hf("get_cosine_schedule_with_warmup", fresh, num_warmup_steps=40, num_training_steps=600)
        fresh.load_state_dict(saved_o)
        rebuilt.load_state_dict(saved_s)
        return fresh, rebuilt

    def make(o):
        return _hf("get_cosine_schedule_with_warmup", o, num_warmup_steps=40, num_training_steps=400)

    lrs = loop(make, 400, resume=resume)
    d = diagnose(COSINE_HF, logged(lrs))
    found = cause(d, "resume_new_total")
    assert found.numbers == {"at": r, "num_training_steps": 600} and found.remaining <= d.precision


def test_an_unrelated_curve_is_unexplained_with_its_residual():
    rng = np.random.default_rng(0)
    lrs = BASE_LR * np.abs(np.sin(np.arange(300) / 17.0)) * (1 + 0.1 * rng.random(300))
    d = diagnose(COSINE_TORCH, logged(lrs))
    assert d.unexplained and d.causes == ()
    assert d.max_rel_diff > 0.1 and d.first_diff_step == 0
    assert "Unexplained" in d.summary
    assert d.to_dict()["unexplained"] is True


def test_the_precision_follows_what_the_log_holds():
    lrs = loop(lambda o: tls.CosineAnnealingLR(o, T_max=300), 300)
    assert log_precision(logged(lrs)) == 1e-9
    assert log_precision(logged(lrs.astype(np.float32).astype(np.float64), source="tensorboard events")) == 1e-6
    printed = np.array([float(f"{v:.6g}") for v in lrs])
    assert log_precision(logged(printed)) == pytest.approx(5.1e-6)
    # a float32 log of a different T_max is still found exactly at float32 precision
    lrs = loop(lambda o: tls.CosineAnnealingLR(o, T_max=280), 300).astype(np.float32).astype(np.float64)
    d = diagnose(COSINE_TORCH, logged(lrs, source="tensorboard events"))
    assert cause(d, "total").numbers == {"T_max": 280}


def test_a_real_trainer_with_gradient_accumulation_4_against_a_plan_sized_for_micro_batches(tmp_path):
    """A Trainer run over 160 micro-batches with gradient_accumulation_steps=4 (40 optimizer steps,
    warmup_ratio 0.1) read from its trainer_state.json, against the plan a user sizes for the 160
    micro-batches (16 warm-up steps): the log is the plan 4× compressed."""
    transformers = pytest.importorskip("transformers")
    from lrlab.logs import read

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x, labels=None):
            loss = (self.linear(x).squeeze(-1) - labels).pow(2).mean()
            return {"loss": loss}

    data = [{"x": torch.randn(2), "labels": torch.tensor(0.5)} for _ in range(160)]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=1,
        gradient_accumulation_steps=4,
        num_train_epochs=1,
        learning_rate=0.1,
        lr_scheduler_type="cosine",
        warmup_steps=4,  # 0.1 of the 40 optimizer steps
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(model=Tiny(), args=args, train_dataset=data)
    trainer.train()
    trainer.state.save_to_json(str(tmp_path / "trainer_state.json"))
    run = read(tmp_path / "trainer_state.json")
    plan = ScheduleConfig.make(
        "get_cosine_schedule_with_warmup", {"num_warmup_steps": 16, "num_training_steps": 160}, steps=160, base_lr=0.1
    )
    d = diagnose(plan, run)
    found = cause(d, "accumulation")
    assert found.numbers == {"k": 4, "direction": "k times per step"} and found.remaining <= d.precision
