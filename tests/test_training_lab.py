"""The training lab: LR finder (sweep, smoothing, early stop, fastai's suggestions) and train-and-compare.

Expected values come from hand computation written out here, from torch/transformers schedulers
stepped directly in the test, or from fastai's published formulas (reference §4.1), never from lrlab.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

import lrlab
from lrlab import LrlabError, ScheduleConfig, TrainSetup
from lrlab.cli import main
from lrlab.finder import find_lr, minimum, slide, smooth, steep, stop_index, suggest, valley
from lrlab.presets import PRESETS

DIGITS_TRAIN = 1437  # 80 % of load_digits' 1,797 images, stratified
SPE = math.ceil(DIGITS_TRAIN / 64)  # 23 batches of 64 per epoch


# ---- the sweep ----------------------------------------------------------------------------------


def test_the_sweep_applies_exactly_exponential_lrs_from_start_to_end():
    result = lrlab.lr_find(start_lr=1e-5, end_lr=1e-2, num_it=40)
    assert result.stop_reason == "completed" and len(result.lr) == 40
    expected = [1e-5 * 1000 ** (i / 39) for i in range(40)]
    assert result.lr == pytest.approx(expected, rel=1e-12)
    assert result.lr[0] == 1e-5 and result.lr[-1] == pytest.approx(1e-2, rel=1e-12)
    ratios = np.diff(np.log(result.lr))
    assert np.allclose(ratios, math.log(1000) / 39, rtol=1e-9)


def test_the_default_sweep_stops_when_the_smoothed_loss_passes_four_times_its_best():
    result = lrlab.lr_find()  # fastai's defaults: 1e-7 → 10 over 100 steps
    assert result.stop_reason == "diverged"
    n = len(result.lr)
    assert n < 100
    assert result.smoothed[-1] > 4 * min(result.smoothed[:-1])
    assert all(s <= 4 * min(result.smoothed[: i + 1]) for i, s in enumerate(result.smoothed[:-1]))


def test_the_smoothed_loss_is_the_bias_corrected_moving_average():
    # by hand, beta = 0.98: s_0 = 1; s_1 = (0.98·1 + 2) / (0.98 + 1); s_2 = (0.98²·1 + 0.98·2 + 3) / (0.98² + 0.98 + 1)
    got = smooth([1.0, 2.0, 3.0])
    assert got == pytest.approx([1.0, 2.98 / 1.98, (0.9604 + 1.96 + 3) / (0.9604 + 0.98 + 1)], rel=1e-14)


def test_stop_index_finds_the_first_step_above_four_times_the_best_so_far():
    assert stop_index([5.0, 2.0, 3.0, 7.9, 8.1, 9.0]) == 4  # best 2 from step 1 on: 8.1 > 8, 7.9 is not
    assert stop_index([3.0, 2.0, 1.0]) is None


class _Scripted(nn.Module):
    """A one-weight model; the test's loss function returns scripted values through it."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.5]))

    def forward(self, x):
        return x * self.w


def _scripted_loss(values):
    it = iter(values)

    def loss_fn(out, y):
        return (out * 0).sum() + out.sum() * 0 + torch.tensor(next(it)) + 0 * out.sum()

    return loss_fn


def _forever():
    while True:
        yield torch.ones(1), torch.zeros(1)


def test_on_a_hand_built_loss_sequence_the_sweep_stops_at_the_step_that_passes_four_times_the_best():
    # losses 1,1,1,1 then 20: smoothed_4 = (Σ_{k=1..4} 0.98^k + 20) / Σ_{k=0..4} 0.98^k = 23.843 / 4.8039 = 4.963 > 4·1
    model = _Scripted()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    result = find_lr(
        model, opt, _forever(), _scripted_loss([1, 1, 1, 1, 20, 1, 1]), start_lr=1e-3, end_lr=1.0, num_it=10
    )
    weights = [0.98**k for k in range(5)]
    expected_s4 = (sum(weights[1:]) + 20) / sum(weights)
    assert result.stop_reason == "diverged" and len(result.loss) == 5
    assert result.smoothed[4] == pytest.approx(expected_s4, rel=1e-12) and expected_s4 > 4
    assert result.smoothed[:4] == pytest.approx([1, 1, 1, 1], rel=1e-12)


def test_a_non_finite_loss_ends_the_sweep_and_suggestions_ignore_it():
    model = _Scripted()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = [3.0 - 0.02 * i for i in range(30)] + [float("nan")]
    result = find_lr(model, opt, _forever(), _scripted_loss(losses), start_lr=1e-4, end_lr=1.0, num_it=50)
    assert result.stop_reason == "not finite" and len(result.loss) == 31 and math.isnan(result.loss[-1])


def test_the_model_and_the_optimizer_are_restored_after_the_sweep():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()  # some momentum state to restore
    before_model = {k: v.clone() for k, v in model.state_dict().items()}
    before_buf = [opt.state[p]["momentum_buffer"].clone() for p in model.parameters()]

    def batches():
        while True:
            yield x, y

    find_lr(model, opt, batches(), start_lr=1e-4, end_lr=10, num_it=30)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before_model[k])
    assert opt.param_groups[0]["lr"] == 0.05 and "initial_lr" not in opt.param_groups[0]
    for p, buf in zip(model.parameters(), before_buf, strict=True):
        assert torch.equal(opt.state[p]["momentum_buffer"], buf)


def test_the_model_is_restored_even_when_the_sweep_is_stopped_from_outside():
    model = _Scripted()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def stop(result):
        if len(result.lr) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find_lr(model, opt, _forever(), _scripted_loss([1.0] * 20), num_it=10, progress=stop)
    assert model.w.item() == 0.5 and opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("num_it", {"num_it": 5}),
        ("num_it", {"num_it": 5000}),
        ("end_lr", {"start_lr": 1e-2, "end_lr": 1e-3}),
        ("start_lr", {"start_lr": 0.0}),
        ("end_lr", {"end_lr": 1e6}),
        ("dataset", {"dataset": "mnist"}),
        ("model", {"model": "resnet"}),
        ("optimizer", {"optimizer": "lion"}),
    ],
)
def test_bad_finder_settings_name_the_field(field, kwargs):
    with pytest.raises(LrlabError, match=f"Invalid {field}") as info:
        lrlab.lr_find(**kwargs)
    assert info.value.field == field


# ---- fastai's suggestions on curves with a known answer -----------------------------------------

LRS = np.logspace(-6, 0, 61)  # evenly spaced in log-lr


def test_minimum_suggests_a_tenth_of_the_lr_at_the_lowest_loss():
    losses = (np.arange(61) - 40.0) ** 2
    s = minimum(LRS, losses)
    assert s.lr == pytest.approx(LRS[40] / 10) and s.point_lr == LRS[40]


def test_steep_suggests_the_lr_where_the_loss_falls_fastest():
    losses = np.ones(61)
    losses[21:] = 0.5  # the only drop is between steps 20 and 21
    assert steep(LRS, losses).lr == LRS[20]


def test_valley_suggests_the_point_about_halfway_down_the_longest_descent():
    losses = np.abs(np.arange(61) - 40.0)  # falls strictly for steps 0..40, then rises
    # longest run ends at 40 with length 41: start = 40 − 41 = −1, a third = 41/3 = 13.67 → −1 + 13 + int(6.83) = 18
    assert valley(LRS, losses).lr == LRS[18]


def test_slide_walks_back_to_where_the_loss_stops_bending():
    i = np.arange(100)
    losses = np.where(i < 60, 0.0, 0.1 * (i - 60.0) ** 2)
    lrs = np.logspace(-6, 0, 100)
    # np.gradient is 0 up to step 59 and 0.05 at step 60: the pair (60, 45) still differs by 0.05 > 0.005,
    # the pair (59, 44) by 0, so the walk ends having taken lrs[45]
    assert slide(lrs, losses).lr == lrs[45]


def test_suggestions_use_the_recorded_sweep_without_its_first_tenth_and_last_five_steps():
    losses = np.abs(np.arange(100) - 70.0)
    lrs = np.logspace(-7, 1, 100)
    got = suggest(lrs, losses, 100)
    # on steps 10..94: the minimum is at 70
    assert got["minimum"].lr == pytest.approx(lrs[70] / 10)
    assert suggest(lrs[:12], losses[:12], 100) == dict.fromkeys(("valley", "minimum", "steep", "slide"))


def test_the_digits_sweep_suggests_lrs_inside_the_swept_range_below_the_blow_up():
    result = lrlab.lr_find()
    blow_up = result.lr[-1]
    for name, s in result.suggestions.items():
        assert s is not None, name
        assert 1e-7 <= s.lr < blow_up, name


# ---- training -----------------------------------------------------------------------------------


def _reference_lrs(make, steps, base_lr, *, per_epoch=None):
    """The real scheduler stepped on its own, as the articles' loop does; lr read before each step."""
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=base_lr, momentum=0.9)
    sched = make(opt)
    out = []
    for t in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if per_epoch is None or (t + 1) % per_epoch == 0:
            sched.step()
    return out


@pytest.mark.parametrize(
    ("config", "make", "per_epoch"),
    [
        (
            ScheduleConfig.make("CosineAnnealingLR", {"T_max": 3 * SPE, "eta_min": 0.001}, base_lr=0.1),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3 * SPE, eta_min=0.001),
            None,
        ),
        (
            ScheduleConfig.make("StepLR", {"step_size": 1, "gamma": 0.5}, base_lr=0.2, interval="epoch"),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5),
            SPE,
        ),
        (
            ScheduleConfig.make("get_linear_schedule_with_warmup", {"num_warmup_steps": 10}, base_lr=0.1),
            lambda o: get_linear_schedule_with_warmup(o, 10, 3 * SPE),
            None,
        ),
        (
            ScheduleConfig.make("OneCycleLR", {"max_lr": 0.2, "total_steps": 3 * SPE}, base_lr=0.1),
            lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=3 * SPE),
            None,
        ),
    ],
    ids=["cosine", "step-per-epoch", "hf-linear-warmup", "one-cycle"],
)
def test_the_lr_the_model_saw_is_the_schedules_curve(config, make, per_epoch):
    run = lrlab.train([config], TrainSetup(epochs=3))[0]
    assert run.status == "done" and len(run.lr) == 3 * SPE
    assert run.lr == pytest.approx(_reference_lrs(make, 3 * SPE, config.base_lr, per_epoch=per_epoch), rel=1e-15)
    assert run.lr_check == 0.0


def test_a_plateau_schedule_is_stepped_with_each_epochs_validation_loss():
    run = lrlab.train(
        [ScheduleConfig.make("ReduceLROnPlateau", {"patience": 0, "factor": 0.5, "threshold": 0.5}, base_lr=0.1)],
        TrainSetup(epochs=4),
    )[0]
    # a relative threshold of 50 %: every epoch that does not halve the best loss is bad, with patience 0
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=0.5)
    expected = []
    for epoch in range(4):
        expected += [opt.param_groups[0]["lr"]] * SPE
        if epoch < 3:
            sched.step(run.val_loss[epoch])
    assert run.lr == expected
    assert min(run.lr) < 0.1  # it did reduce


def test_the_one_cycle_run_cycles_sgd_momentum_as_torch_does():
    run = lrlab.train(
        [ScheduleConfig.make("OneCycleLR", {"max_lr": 0.2, "total_steps": 2 * SPE}, base_lr=0.1)], TrainSetup(epochs=2)
    )[0]
    # torch's phase 1 ends at step pct_start·total − 1 = 12.8: the lr peaks at step 13, momentum bottoms there
    peak = int(np.argmax(run.lr))
    assert peak == 13 and run.lr[peak] < 0.2
    assert run.momentum[0] == pytest.approx(0.95) and int(np.argmin(run.momentum)) == peak
    assert 0.85 <= min(run.momentum) < 0.86 and max(run.momentum) <= 0.95


def test_training_with_a_fixed_seed_is_reproducible_and_another_seed_differs():
    config = [ScheduleConfig.make("CosineAnnealingLR", {"T_max": 2 * SPE}, base_lr=0.1)]
    a = lrlab.train(config, TrainSetup(epochs=2, seed=3))[0]
    b = lrlab.train(config, TrainSetup(epochs=2, seed=3))[0]
    c = lrlab.train(config, TrainSetup(epochs=2, seed=4))[0]
    assert a.train_loss == b.train_loss and a.val_accuracy == b.val_accuracy
    assert a.train_loss != c.train_loss


def test_every_schedule_of_a_comparison_starts_from_the_same_weights_and_batches():
    runs = lrlab.train(
        [ScheduleConfig.make("ConstantLR", {"factor": 1.0}, base_lr=0.05)] * 2
        + [ScheduleConfig.make("ExponentialLR", {"gamma": 0.9}, base_lr=0.05)],
        TrainSetup(epochs=1),
    )
    assert runs[0].train_loss == runs[1].train_loss  # same everything
    # the first step's loss is computed before any update: identical whatever the schedule
    assert runs[2].train_loss[0] == runs[0].train_loss[0]
    assert runs[2].train_loss[1] == runs[0].train_loss[1]  # lr of step 0 is the same (0.05) for both
    assert runs[2].train_loss[5] != runs[0].train_loss[5]


def test_the_digits_mlp_learns_with_sensible_defaults():
    run = lrlab.train([ScheduleConfig.make("CosineAnnealingLR", {"T_max": 10 * SPE}, base_lr=0.1)])[0]
    assert len(run.val_accuracy) == 10 and run.val_accuracy[-1] > 0.9
    assert len(run.train_loss) == 10 * SPE


@pytest.mark.parametrize(("dataset", "model"), [("digits", "cnn"), ("moons", "mlp")])
def test_the_other_tasks_and_models_train(dataset, model):
    run = lrlab.train(
        [ScheduleConfig.make("ConstantLR", {"factor": 1.0}, base_lr=0.05)],
        TrainSetup(dataset=dataset, model=model, epochs=3),
    )[0]
    assert run.status == "done" and run.val_accuracy[-1] > 0.7


def test_adamw_is_used_with_the_configs_beta1_recorded():
    run = lrlab.train(
        [ScheduleConfig.make("ConstantLR", {"factor": 1.0}, base_lr=1e-3, betas=(0.8, 0.99))],
        TrainSetup(optimizer="adamw", epochs=1),
    )[0]
    assert set(run.momentum) == {0.8} and run.status == "done"


def test_a_diverging_run_stops_and_says_so():
    run = lrlab.train([ScheduleConfig.make("ConstantLR", {"factor": 1.0}, base_lr=100.0)], TrainSetup(epochs=3))[0]
    assert run.status == "diverged" and "nan" in run.message and len(run.lr) < 3 * SPE


@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_a_peak_lr_of_5000_is_the_max_lr_of_a_one_cycle_or_cyclic_run_which_diverges_and_says_so(name):
    # issue 13: the Train page's peak lr is these schedules' max_lr; above 1000 it is taken (torch takes
    # any), and a tiny model trained at it blows up: the run stops there and says so, nothing is refused
    from lrlab.training import with_peak_lr

    config = with_peak_lr(ScheduleConfig.make(name, {}), 5000.0)
    assert config.params_dict["max_lr"] == 5000.0
    run = lrlab.train([config], TrainSetup(epochs=1))[0]
    start = 5000.0 / 25 if name == "OneCycleLR" else 500.0  # OneCycleLR: max_lr / div_factor; CyclicLR: base_lr
    assert run.lr[0] == pytest.approx(start, rel=1e-12)
    assert run.status == "diverged" and "nan" in run.message and len(run.lr) < SPE


def test_a_scheduler_that_refuses_a_step_stops_its_run_with_the_librarys_message():
    # OneCycleLR sized for 10 steps, trained for 23: torch raises on the 11th scheduler.step()
    run = lrlab.train([ScheduleConfig.make("OneCycleLR", {"max_lr": 0.1, "total_steps": 10})], TrainSetup(epochs=1))[0]
    assert run.status == "refused" and "Tried to step" in run.message and len(run.lr) == 11


@pytest.mark.parametrize(
    ("field", "setup", "n"),
    [
        ("epochs", TrainSetup(epochs=0), 1),
        ("epochs", TrainSetup(epochs=101), 1),
        ("batch_size", TrainSetup(batch_size=2), 1),
        ("hidden", TrainSetup(hidden=100_000), 1),
        ("model", TrainSetup(model="cnn", dataset="moons"), 1),
        ("schedules", TrainSetup(), 7),
        ("schedules", TrainSetup(epochs=100, batch_size=8), 4),  # 4 × 18,000 steps: over the 60,000 budget
    ],
)
def test_bad_training_settings_name_the_field(field, setup, n):
    with pytest.raises(LrlabError, match=f"Invalid {field}") as info:
        lrlab.train([ScheduleConfig.make("ConstantLR")] * n, setup)
    assert info.value.field == field


# ---- fastai's fit_one_cycle --------------------------------------------------------------------


def _fastai_one_cycle(n, lr_max, div=25.0, div_final=1e5, pct_start=0.25, moms=(0.95, 0.85, 0.95)):
    """fastai 2.8 fit_one_cycle, from its published formula (reference §4.1): combined_cos at pos = i/N."""

    def sched_cos(start, end, p):
        return start + (1 + math.cos(math.pi * (1 - p))) / 2 * (end - start)

    def combined(p, start, middle, end):
        return (
            sched_cos(start, middle, p / pct_start)
            if p < pct_start
            else sched_cos(middle, end, (p - pct_start) / (1 - pct_start))
        )

    lr = [combined(i / n, lr_max / div, lr_max, lr_max / div_final) for i in range(n)]
    mom = [combined(i / n, *moms) for i in range(n)]
    return lr, mom


def test_the_one_cycle_preset_is_fastais_schedule_and_torchs_differs_from_it():
    n = 1000
    preset = PRESETS["one_cycle"].config(n)
    frame = lrlab.simulate(preset).frame
    lr_max = preset.base_lr  # fit_one_cycle's lr_max is the run's base lr
    want_lr, want_mom = _fastai_one_cycle(n, lr_max)
    got_lr, got_mom = frame["lr"].to_numpy(), frame["momentum"].to_numpy()
    # fastai's phase positions are float32: its formula in float64 agrees to ~1e-6 of lr_max
    np.testing.assert_allclose(got_lr, want_lr, rtol=1e-5, atol=1e-6 * lr_max)
    np.testing.assert_allclose(got_mom, want_mom, rtol=1e-6)
    assert int(np.argmax(got_lr)) == 250
    # torch's OneCycleLR with fastai's settings peaks one step earlier (pct_start·N − 1) and ends on lr_max / 1e5
    torch_lr = lrlab.simulate(PRESETS["one_cycle_torch"].config(n)).frame["lr"].to_numpy()
    assert int(np.argmax(torch_lr)) == 249 and torch_lr[-1] == pytest.approx(lr_max / 1e5, rel=1e-9)
    assert np.max(np.abs(torch_lr - got_lr)) < 0.01 * lr_max and got_lr[-1] > lr_max / 1e5


# ---- the contract: CLI ---------------------------------------------------------------------------


def test_cli_find_lr_prints_the_sweep_and_fastais_suggestions_as_json(capsys):
    assert main(["find-lr", "--num-it", "50", "--end-lr", "1", "--seed", "1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"lr", "loss", "smoothed", "suggestions"}
    assert set(out["suggestions"]) == {"minimum", "steep", "valley", "slide"}
    assert len(out["lr"]) == len(out["loss"]) == len(out["smoothed"])
    assert out["lr"][0] == 1e-7


def test_cli_train_prints_per_config_lrs_losses_and_validation(tmp_path, capsys):
    a, b = tmp_path / "cosine.yaml", tmp_path / "step.json"
    a.write_text(f"version: 1\nscheduler: CosineAnnealingLR\nparams: {{T_max: {2 * SPE}}}\nbase_lr: 0.1\n")
    b.write_text(json.dumps({"version": 1, "scheduler": "StepLR", "params": {"step_size": SPE}, "base_lr": 0.1}))
    assert main(["train", "--config", str(a), "--config", str(b), "--epochs", "2", "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["label"] for r in runs] == ["cosine", "step"]
    for r in runs:
        assert len(r["lr"]) == len(r["train_loss"]) == 2 * SPE
        assert len(r["val_loss"]) == len(r["val_accuracy"]) == 2
    assert runs[1]["lr"][SPE - 1] == 0.1 and runs[1]["lr"][SPE] == pytest.approx(0.01)


def test_cli_train_with_bad_epochs_says_which_field(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    a.write_text("version: 1\nscheduler: StepLR\n")
    assert main(["train", "--config", str(a), "--epochs", "1000"]) == 2
    assert "Invalid epochs (1000)" in capsys.readouterr().err


def test_training_runs_torch_on_one_thread_and_restores_the_callers_setting():
    seen = []
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lrlab.train(
            [ScheduleConfig.make("ConstantLR", {"factor": 1.0})],
            TrainSetup(epochs=1),
            progress=lambda runs, i: seen.append(torch.get_num_threads()),
        )
        lrlab.lr_find(num_it=10, progress=lambda r: seen.append(torch.get_num_threads()))
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_a_page_waits_for_a_stopped_training_thread_to_let_go_of_its_runs():
    """Streamlit's Stop starts the page's next run at once, in a new thread, while the training thread
    goes on until its next progress report. wait_settled returns once that thread has marked its run
    stopped, and the run's lists no longer grow (before, the page read an lr list one step longer than
    the steps it had counted: an IndexError in the chart, caught by the browser tests)."""
    import threading
    import time as clock

    from lrlab.training import train, wait_settled

    stop, seen = threading.Event(), {}

    class Stopped(Exception):
        pass

    def progress(runs, i):
        seen["runs"] = runs
        if stop.is_set():
            raise Stopped

    def training():
        try:
            train([ScheduleConfig("CosineAnnealingLR", steps=100)], TrainSetup(epochs=100), progress=progress)
        except Stopped:
            pass
        except Exception as exc:  # reported to the test below
            seen["error"] = exc

    worker = threading.Thread(target=training)
    worker.start()
    deadline = clock.monotonic() + 60
    while "runs" not in seen and "error" not in seen and clock.monotonic() < deadline:
        clock.sleep(0.01)
    assert "runs" in seen, seen.get("error")
    runs = seen["runs"]
    assert runs[0].status == "running"
    stop.set()
    assert wait_settled(runs, timeout=30)
    n = len(runs[0].lr)
    clock.sleep(0.2)
    assert runs[0].status == "stopped" and len(runs[0].lr) == n == len(runs[0].train_loss)
    worker.join(timeout=30)


def test_wait_settled_gives_up_after_its_timeout():
    from lrlab.training import Run, wait_settled

    run = Run("x", ScheduleConfig("StepLR", steps=10), 10, 10, status="running")
    assert wait_settled([run], timeout=0.05) is False
    run.status = "stopped"
    assert wait_settled([run], timeout=0.05) is True
