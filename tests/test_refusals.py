"""Where the library refuses a step or warns, the package user is told, in the library's own words.

Expected texts come from the real torch / transformers objects stepped here, never from lrlab.
"""

import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import lrlab
from lrlab.cli import main
from lrlab.export import library_stop, render
from lrlab.specs import ScheduleConfig

ROOT = Path(__file__).resolve().parents[1]


def torch_refusal_text(total_steps: int, calls: int) -> str:
    """What torch's OneCycleLR raises when stepped ``calls`` times (its own message)."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    scheduler = tls.OneCycleLR(optimizer, max_lr=0.1, total_steps=total_steps)
    with pytest.raises(ValueError) as raised:
        for _ in range(calls):
            optimizer.step()
            scheduler.step()
    return f"ValueError: {raised.value}"


def test_the_warning_classes_are_user_warnings_exported_from_lrlab():
    assert issubclass(lrlab.LibraryRefusal, lrlab.LibraryWarning)
    assert issubclass(lrlab.LibraryWarning, UserWarning)


def test_curve_warns_with_torchs_own_text_where_onecycle_refuses_and_keeps_the_nan_rows():
    expected = torch_refusal_text(10, 11)
    with pytest.warns(lrlab.LibraryRefusal) as said:
        frame = lrlab.curve("OneCycleLR", steps=50, total_steps=10)
    assert len(frame) == 50 and int(frame["lr"].isna().sum()) == 39 and frame["lr"][:11].notna().all()
    messages = [str(w.message) for w in said if w.category is lrlab.LibraryRefusal]
    assert len(messages) == 1 and expected in messages[0] and "rows 11 to 49 are NaN" in messages[0]


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(lrlab.LibraryRefusal) as said:
        lrlab.curve("OneCycleLR", steps=20, total_steps=10)
    assert said[0].filename == __file__


def test_simulate_and_fast_warn_the_same_library_text():
    config = ScheduleConfig.make("OneCycleLR", {"total_steps": 10}, steps=30)
    with pytest.warns(lrlab.LibraryRefusal) as stepped:
        lrlab.simulate(config)
    with pytest.warns(lrlab.LibraryRefusal) as quick:
        curve = lrlab.fast(config)
    assert curve.source == "closed form" and curve.stopped_at == 11
    assert str(stepped[0].message) == str(quick[0].message)
    assert torch_refusal_text(10, 11) in str(quick[0].message)


def test_fast_above_the_apps_threshold_warns_with_the_text_of_the_refused_call():
    config = ScheduleConfig.make("OneCycleLR", {"total_steps": 30_000}, steps=50_000)
    with pytest.warns(lrlab.LibraryRefusal) as said:
        curve = lrlab.fast(config)
    assert curve.stopped_at == 30_001
    assert "Tried to step 30001 times. The specified number of total steps is 30000" in str(said[0].message)


def test_a_composition_whose_child_refuses_warns_with_the_childs_text():
    config = ScheduleConfig.make(
        "SequentialLR",
        {
            "schedulers": [
                {"name": "LinearLR", "total_iters": 3},
                {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": 10},
            ],
            "milestones": [4],
        },
        steps=30,
    )
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    first = tls.LinearLR(optimizer, total_iters=3)
    second = tls.OneCycleLR(optimizer, max_lr=0.1, total_steps=10)
    sequence = tls.SequentialLR(optimizer, [first, second], milestones=[4])
    with pytest.raises(ValueError) as raised:
        for _ in range(30):
            optimizer.step()
            sequence.step()
    with pytest.warns(lrlab.LibraryRefusal) as said:
        frame = lrlab.curve(config=config)
    assert str(raised.value) in str(said[0].message)
    assert frame["lr"].isna().any()


def test_a_library_warning_reaches_the_package_user_as_a_library_warning():
    with pytest.warns(lrlab.LibraryWarning) as said:
        lrlab.curve(
            "get_wsd_schedule",
            steps=100,
            num_warmup_steps=10,
            num_decay_steps=20,
            num_training_steps=100,
            num_stable_steps=50,
        )
    texts = [str(w.message) for w in said]
    assert any("Both num_training_steps and num_stable_steps are specified" in t for t in texts)
    assert not any(w.category is lrlab.LibraryRefusal for w in said)


def test_stepping_with_an_explicit_epoch_warns_torchs_deprecation_text():
    with pytest.warns(lrlab.LibraryWarning) as said:
        lrlab.curve("StepLR", steps=20, steps_per_epoch=4, interval="epoch_arg", step_size=2)
    assert any(tls.EPOCH_DEPRECATION_WARNING in str(w.message) for w in said)


def test_a_config_the_library_steps_to_the_end_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrlab.curve("OneCycleLR", steps=50)
        lrlab.fast(ScheduleConfig.make("OneCycleLR", {}, steps=50))
        lrlab.curve("CosineAnnealingWarmRestarts", steps=30, steps_per_epoch=5, interval="epoch_fraction", T_0=2)


def test_the_cli_prints_the_refusal_as_one_warning_line_and_still_the_rows(capsys):
    assert main(["curve", "OneCycleLR", "--steps", "14", "--set", "total_steps=10"]) == 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: OneCycleLR refused step 11")
    assert torch_refusal_text(10, 11) in lines[0]
    rows = captured.out.strip().splitlines()
    assert rows[0] == "step,epoch,lr,momentum" and len(rows) == 15 and rows[-1] == "13,13.0,,"


def test_the_cli_in_a_subprocess_exits_0_with_the_warning_on_stderr_only():
    done = subprocess.run(
        [sys.executable, "-m", "lrlab", "curve", "OneCycleLR", "--steps", "14", "--set", "total_steps=10"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if line.startswith("warning: ")
    ]
    assert "Tried to step 11 times" in done.stderr and "Tried to step" not in done.stdout


def test_the_cli_export_warns_and_prints_a_script_that_runs(capsys):
    assert main(["export", "OneCycleLR", "--steps", "5000", "--set", "total_steps=1000", "--target", "torch"]) == 0
    captured = capsys.readouterr()
    assert (
        captured.err.startswith("warning: OneCycleLR refused step 1001") and "Tried to step 1001 times" in captured.err
    )
    module = types.ModuleType("exported")
    exec(compile(captured.out, "<exported>", "exec"), module.__dict__)  # our own generated code
    lrs = module.train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = lrlab.curve("OneCycleLR", steps=5000, total_steps=1000)["lr"].to_numpy()
    assert len(lrs) == 1001
    np.testing.assert_allclose(lrs, expected[:1001], rtol=1e-12, atol=0)
    assert "total_steps=5000" in captured.out  # how to fix the config


def test_an_exported_loop_skips_a_refused_last_call_that_the_curve_never_needs():
    config = ScheduleConfig.make("OneCycleLR", {"total_steps": 39}, steps=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lrlab.simulate(config).stopped_at is None  # 40 rows need only 39 calls
    with pytest.warns(lrlab.LibraryRefusal):
        code = render(config, "torch")
    stop = library_stop(config)
    assert stop is not None and stop.after == 40 and stop.call == 40
    module = types.ModuleType("exported")
    exec(compile(code, "<exported>", "exec"), module.__dict__)
    assert len(module.train()) == 40


@pytest.mark.parametrize("target", ["torch", "transformers", "lightning"])
def test_every_code_target_of_a_refusing_config_says_why_and_how_to_fix_it(target):
    config = ScheduleConfig.make("OneCycleLR", {"total_steps": 1000}, steps=5000)
    with pytest.warns(lrlab.LibraryRefusal):
        code = render(config, target)
    said = " ".join(line.strip()[2:] for line in code.splitlines() if line.strip().startswith("# "))
    assert "Tried to step 1001 times" in said and "set total_steps=5000" in said
    compile(code, "<exported>", "exec")
