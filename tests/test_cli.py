"""The command line, run as users run it: ``python -m lrlab …`` in a subprocess.

Each process imports torch and transformers (~2 s), so the subprocess runs are started together once
per module and the tests read their results. The wider matrix of bad inputs goes through
:func:`lrlab.cli.main` in-process, with the same one-line, exit-status-2 contract.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from lrlab import SCHEDULERS
from lrlab.cli import main

ROOT = Path(__file__).resolve().parents[1]

STEP_LR = ["curve", "StepLR", "--steps", "20", "--base-lr", "20", "--set", "step_size=5", "--set", "gamma=0.5"]
MULTISTEP_LR = ["curve", "MultiStepLR", "--steps", "20", "--base-lr", "20"]
STEP_LR_TABLE = [20.0] * 5 + [10.0] * 5 + [5.0] * 5 + [2.5] * 5

RUNS = {
    "csv": STEP_LR,
    "json": [*STEP_LR, "--format", "json"],
    "milestones": [*MULTISTEP_LR, "--set", "milestones=[5, 15]", "--set", "gamma=0.4"],
    "list": ["list"],
    "info": ["info", "CyclicLR"],
}
BAD_RUNS = {
    "unknown scheduler": (["curve", "NoSuchLR", "--steps", "10"], "Unknown scheduler 'NoSuchLR'"),
    "zero steps": (["curve", "StepLR", "--steps", "0"], "Invalid steps (0)"),
    "--set without a value": (["curve", "StepLR", "--steps", "10", "--set", "gamma"], "Invalid --set ('gamma')"),
    "unknown subcommand": (["plot", "StepLR"], "invalid choice: 'plot'"),
    "unknown parameter": (["curve", "StepLR", "--steps", "10", "--set", "gama=0.5"], "Unknown parameter 'gama'"),
}


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lrlab", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    """Every subprocess run of this module, started in parallel."""
    commands = {**RUNS, **{name: args for name, (args, _) in BAD_RUNS.items()}}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(run, args) for name, args in commands.items()}
        return {name: future.result() for name, future in futures.items()}


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_curve_prints_a_csv_with_the_step_lr_table(results):
    frame = pd.read_csv(io.StringIO(ok(results["csv"])))
    assert list(frame.columns) == ["step", "epoch", "lr"]
    assert frame["step"].tolist() == list(range(20))
    assert frame["lr"].tolist() == pytest.approx(STEP_LR_TABLE, rel=1e-15)


def test_curve_prints_json_records_with_the_same_table(results):
    records = json.loads(ok(results["json"]))
    assert [r["step"] for r in records] == list(range(20))
    assert [r["lr"] for r in records] == pytest.approx(STEP_LR_TABLE, rel=1e-14)
    assert set(records[0]) == {"step", "epoch", "lr"}


def test_curve_reads_a_json_list_from_set(results):
    frame = pd.read_csv(io.StringIO(ok(results["milestones"])))
    assert frame["lr"].tolist() == pytest.approx([20.0] * 5 + [8.0] * 10 + [3.2] * 5, rel=1e-15)


def test_list_names_every_scheduler_in_the_registry(results):
    out = ok(results["list"])
    listed = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert listed == set(SCHEDULERS)


def test_list_as_json_gives_every_name_with_its_library_and_aliases(capsys):
    assert main(["list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["name"] for row in rows} == set(SCHEDULERS)
    by_name = {row["name"]: row for row in rows}
    assert by_name["get_cosine_schedule_with_warmup"]["aliases"] == ["cosine"]
    assert by_name["StepLR"]["library"] == "torch"


def test_info_shows_the_parameters_defaults_and_formula_of_cyclic_lr(results):
    out = ok(results["info"])
    assert out.startswith("torch.optim.lr_scheduler.CyclicLR")
    for p in SCHEDULERS["CyclicLR"].params:
        assert f"  {p.name} = " in out
    assert "max_lr = 0.5" in out and 'mode = "triangular"' in out
    assert "formula (LaTeX):" in out and "docs: https://" in out


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_exits_with_status_2_and_one_line_on_stderr_only(results, case):
    result = results[case]
    fragment = BAD_RUNS[case][1]
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    assert result.stderr.startswith("error: ") and fragment in result.stderr, result.stderr


# ---- the same contract in-process, over a wider set of bad inputs -------------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["curve", "StepLR", "--steps", "1000001"], "Invalid steps (1000001)"),
        (["curve", "StepLR", "--steps", "abc"], "invalid int value: 'abc'"),
        (["curve", "StepLR", "--steps", "10", "--base-lr", "0"], "Invalid base_lr (0.0)"),
        (["curve", "StepLR", "--steps", "10", "--base-lr", "nan"], "Invalid base_lr (nan)"),
        (["curve", "StepLR", "--steps", "10", "--set", "=1"], "Invalid --set ('=1')"),
        (["curve", "StepLR", "--steps", "10", "--set", "gamma=NaN"], "Invalid gamma (nan)"),
        (["curve", "StepLR", "--steps", "10", "--set", "gamma=-1"], "Invalid gamma (-1)"),
        (["curve", "StepLR", "--steps", "10", "--set", "step_size=2.5"], "Invalid step_size (2.5)"),
        (["curve", "StepLR", "--steps", "10", "--set", "base_lr=1"], "pass the base lr as --base-lr"),
        (["curve", "StepLR", "--steps", "10", "--set", "steps=3"], "Unknown parameter 'steps'"),
        (["curve", "StepLR", "--steps", "10", "--set", "optimizer=adam"], "Unknown parameter 'optimizer'"),
        (["curve", "StepLR", "--steps", "10", "--set", "name=x"], "Unknown parameter 'name'"),
        (["curve", "MultiStepLR", "--steps", "10", "--set", "milestones=[5, 2]"], "Invalid milestones ([5, 2])"),
        (["curve", "LambdaLR", "--steps", "5", "--set", "lr_lambda=__import__('os')"], "Invalid lr_lambda"),
        (["curve", "StepLR", "--steps", "10", "--format", "xml"], "invalid choice: 'xml'"),
        (["curve", "StepLR", "--steps", "10", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
        (["curve", "StepLR"], "with --steps N, or --config FILE"),
        (["info", "NoSuchLR"], "Unknown scheduler 'NoSuchLR'"),
        (["info", "CyclicLR", "--steps", "0"], "Invalid steps (0)"),
        (["list", "--format", "yaml"], "invalid choice: 'yaml'"),
        ([], "required: command"),
    ],
)
def test_bad_input_in_process_exits_2_with_one_line_on_stderr(capsys, args, fragment):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert fragment in captured.err, captured.err


def test_a_string_value_that_is_not_json_is_taken_as_text(capsys):
    args = ["curve", "CyclicLR", "--steps", "9", "--base-lr", "1", "--set", "max_lr=3", "--set", "step_size_up=2"]
    assert main([*args, "--set", "mode=triangular2", "--optimizer", "adam"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["lr"].tolist() == pytest.approx([1, 2, 3, 2, 1, 1.5, 2, 1.5, 1], rel=1e-15)
    assert frame["beta1"].tolist()[:3] == pytest.approx([0.9, 0.85, 0.8], rel=1e-15)


def test_null_from_set_means_the_library_default(capsys):
    args = ["curve", "cosine_with_min_lr", "--steps", "11", "--base-lr", "10", "--set", "num_warmup_steps=2"]
    assert main([*args, "--set", "num_training_steps=10", "--set", "min_lr=2", "--set", "min_lr_rate=null"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame["lr"].iloc[10] == pytest.approx(2.0, rel=1e-14)


# ---- the other libraries from the command line, checked against the libraries themselves -------------------------

OPTAX_CURVE = ["curve", "optax:warmup_cosine_decay_schedule", "--steps", "50"]
OPTAX_SETTINGS = {"warmup_steps": 5, "decay_steps": 40, "init_value": 0.0, "end_value": 0.001}
TIMM_EXPORT = ["export", "timm:CosineLRScheduler", "--target", "timm", "--steps", "30", "--steps-per-epoch", "3"]
TIMM_SETTINGS = {"t_initial": 8, "warmup_t": 2, "warmup_lr_init": 0.001}
LIBRARY_RUNS = {
    "keras info": ["info", "keras:CosineDecay"],
    "optax curve": [*OPTAX_CURVE, *(a for k, v in OPTAX_SETTINGS.items() for a in ("--set", f"{k}={v}"))],
    "timm export": [*TIMM_EXPORT, *(a for k, v in TIMM_SETTINGS.items() for a in ("--set", f"{k}={v}"))],
}


@pytest.fixture(scope="module")
def library_results() -> dict[str, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(run, args) for name, args in LIBRARY_RUNS.items()}
        return {name: future.result() for name, future in futures.items()}


def test_info_of_keras_cosine_decay_lists_keras_own_parameters_and_defaults(library_results):
    import inspect
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    out = ok(library_results["keras info"])
    assert out.startswith("keras.optimizers.schedules.CosineDecay: ")
    shown = {}
    for line in out.split("parameters:\n", 1)[1].split("\n\n", 1)[0].splitlines():
        name, rest = line.strip().split(" = ", 1)
        shown[name] = rest.split("  — ", 1)[0]
    signature = inspect.signature(keras.optimizers.schedules.CosineDecay).parameters
    # initial_learning_rate is the run's base lr (--base-lr), name is not a schedule setting
    assert set(shown) == set(signature) - {"initial_learning_rate", "name"}
    for name, p in signature.items():
        if name in shown and p.default is not inspect.Parameter.empty:
            assert shown[name] == json.dumps(p.default), name  # alpha = 0.0, warmup_target = null, warmup_steps = 0
    assert "formula (LaTeX):" in out and "docs: https://keras.io/" in out


def test_curve_of_an_optax_schedule_prints_optaxs_eager_and_jitted_values(library_results):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    frame = pd.read_csv(io.StringIO(ok(library_results["optax curve"])))
    assert list(frame.columns) == ["step", "epoch", "lr", "lr_jit"]
    schedule = optax.warmup_cosine_decay_schedule(peak_value=0.1, **OPTAX_SETTINGS)  # --base-lr is the peak
    jitted = jax.jit(schedule)
    assert frame["step"].tolist() == list(range(50))
    assert frame["lr"].tolist() == [float(schedule(t)) for t in range(50)]
    assert frame["lr_jit"].tolist() == [float(jitted(t)) for t in range(50)]
    assert frame["lr"].iloc[5] == pytest.approx(0.1, rel=1e-6) and frame["lr"].iloc[45] == pytest.approx(
        0.001, rel=1e-6
    )


def test_export_to_timm_writes_a_script_whose_loop_gives_timms_lrs(library_results, tmp_path):
    import importlib
    import importlib.util

    import torch

    (tmp_path / "exported_timm.py").write_text(ok(library_results["timm export"]))
    code = f"import json, sys; sys.path.insert(0, {str(tmp_path)!r}); import exported_timm; print(json.dumps(exported_timm.train()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    exported = json.loads(done.stdout.splitlines()[-1])
    try:  # timm.scheduler as a user gets it; without a working torchvision, the package alone
        timm_scheduler = importlib.import_module("timm.scheduler")
    except (ImportError, RuntimeError):
        for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
            del sys.modules[name]
        sys.modules["timm"] = importlib.util.module_from_spec(importlib.util.find_spec("timm"))
        timm_scheduler = importlib.import_module("timm.scheduler")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = timm_scheduler.CosineLRScheduler(optimizer, **TIMM_SETTINGS)
    expected, num_updates = [], 0
    for epoch in range(10):  # timm's train.py, 3 updates per epoch
        for _ in range(3):
            expected.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            num_updates += 1
            scheduler.step_update(num_updates=num_updates)
        scheduler.step(epoch + 1)
    assert exported == expected
    assert exported[:3] == [0.001] * 3 and exported[3] == pytest.approx(0.001 + (0.1 - 0.001) / 2, rel=1e-15)
