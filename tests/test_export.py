"""Exported code runs and reproduces lrlab's curve; configs round-trip; imports are validated."""

import json
import math
import random
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import lrlab
from lrlab.export import TARGETS, config_dict, library_stop, render, targets_for, trainer_fields
from lrlab.io import MAX_CONFIG_BYTES, from_training_args, import_config
from lrlab.simulate import intervals_for, simulate
from lrlab.specs import LrlabError, ScheduleConfig
from tests.strategies import draw_value, groups_of, interval_of

NAMES = list(lrlab.SCHEDULERS)
#: torch LRSchedulers (torch, transformers): the PyTorch, Transformers and Lightning targets
TORCH_NAMES = [n for n, s in lrlab.SCHEDULERS.items() if s.library in ("torch", "transformers")]
#: the other libraries' schedules: exported in their library's own idiom
LIBRARY_NAMES = [n for n, s in lrlab.SCHEDULERS.items() if s.library not in ("torch", "transformers")]


def run_script(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # our own generated code, never user text
    return namespace


def exported_lrs(jobs: list[dict]) -> list:
    """Run exported snippets in a fresh interpreter (tests/exported_runner.py)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("exported_runner.py"))],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def variations(name: str, steps: int) -> list[ScheduleConfig]:
    """The defaults, then each parameter changed on its own to another valid value."""
    spec = lrlab.SCHEDULERS[name]
    groups = groups_of(spec, (0.2,))
    configs = [ScheduleConfig.make(name, {}, steps=steps, steps_per_epoch=7, group_lrs=groups)]
    rng = random.Random(f"vary-{name}")
    for param in spec.params:
        if param.name == spec.base_lr_param or param.kind == "children":
            continue
        for _ in range(10):
            value = draw_value(spec, param, steps, rng)
            config = ScheduleConfig.make(name, {param.name: value}, steps=steps, steps_per_epoch=7, group_lrs=groups)
            try:
                simulate(config)
            except LrlabError:
                continue
            configs.append(config)
            break
    return configs


def _check(configs: list[ScheduleConfig], target: str, results: list) -> None:
    for config, got in zip(configs, results, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            curve = simulate(config)
            stop = library_stop(config)
            trainer = target == "transformers" and "def train(" not in render(config, target)
        assert not isinstance(got, dict), (config, got)
        if trainer and config.interval != "step":  # the Trainer steps per optimizer step, as its comment says
            continue
        if stop is not None:  # the library refuses a step of the run: the exported loop stops before it
            assert len(got) == (stop.call - 1 if trainer else stop.after), (config, len(got), stop)
            np.testing.assert_allclose(got, curve.frame["lr"].to_numpy()[: len(got)], rtol=1e-12, atol=0)
            continue
        if curve.spec.needs_metric:  # the script feeds its own training loss: same scheduler, other metric
            assert len(got) == config.steps
            continue
        np.testing.assert_allclose(
            got, curve.frame["lr"].to_numpy(), rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{target}: {config}"
        )


def refusing(steps: int, spe: int) -> list[ScheduleConfig]:
    """Configs where the library refuses a scheduler.step() of the run (torch's ValueError past total_steps)."""
    one_cycle = {"name": "OneCycleLR", "max_lr": 0.1, "total_steps": 10}
    return [
        ScheduleConfig.make("OneCycleLR", {"total_steps": steps // 3}, steps=steps, steps_per_epoch=spe),
        # only the call after the last optimizer step is refused (lrlab's curve never needs it)
        ScheduleConfig.make("OneCycleLR", {"total_steps": steps - 1}, steps=steps, steps_per_epoch=spe),
        ScheduleConfig.make("OneCycleLR", {"total_steps": 2}, steps=steps, steps_per_epoch=spe, interval="epoch"),
        ScheduleConfig.make(
            "OneCycleLR", {"total_steps": 2}, steps=steps, steps_per_epoch=spe, interval="epoch_fraction"
        ),
        ScheduleConfig.make(
            "SequentialLR",
            {"schedulers": [{"name": "LinearLR", "total_iters": 3}, one_cycle], "milestones": [4]},
            steps=steps,
            steps_per_epoch=spe,
        ),
        ScheduleConfig.make(
            "WarmupThenPlateau", {"warmup": [one_cycle], "warmup_steps": 15}, steps=steps, steps_per_epoch=spe
        ),
    ]


def stepping_patterns(steps: int, spe: int) -> list[ScheduleConfig]:
    """Every scheduler's defaults under every stepping pattern it takes (explicit epochs included)."""
    return [
        ScheduleConfig.make(n, {}, steps=steps, steps_per_epoch=spe, interval=i)
        for n in TORCH_NAMES
        for i in intervals_for(lrlab.SCHEDULERS[n])
    ]


def test_every_pytorch_snippet_reproduces_its_curve_in_a_fresh_interpreter():
    configs = [c for name in TORCH_NAMES for c in variations(name, 60)]
    configs += [c for c in stepping_patterns(60, 7) if c.interval != "step"] + refusing(60, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = [{"target": "torch", "code": render(c, "torch"), "steps": 60, "steps_per_epoch": 7} for c in configs]
    _check(configs, "torch", exported_lrs(jobs))


def test_every_transformers_snippet_reproduces_its_curve_in_a_fresh_interpreter():
    configs = [c for name in TORCH_NAMES for c in variations(name, 60)] + refusing(60, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = [
            {"target": "transformers", "code": render(c, "transformers"), "steps": 60, "steps_per_epoch": 7}
            for c in configs
        ]
    _check(configs, "transformers", exported_lrs(jobs))


def test_every_lightning_module_reproduces_its_curve_in_a_fresh_interpreter():
    configs = stepping_patterns(24, 6) + refusing(24, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = [
            {"target": "lightning", "code": render(c, "lightning"), "steps": 24, "steps_per_epoch": 6} for c in configs
        ]
    _check(configs, "lightning", exported_lrs(jobs))


def test_every_library_script_reproduces_its_curve_in_a_fresh_interpreter():
    """timm's loop, a Keras optimizer, optax, a fastai Learner: each script in its library's idiom, run."""
    configs = [c for name in LIBRARY_NAMES if not lrlab.SCHEDULERS[name].unavailable() for c in variations(name, 42)]
    assert {lrlab.SCHEDULERS[c.scheduler].library for c in configs} == {"timm", "keras", "optax", "fastai"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jobs = [
            {"target": lrlab.SCHEDULERS[c.scheduler].library, "code": render(c, lrlab.SCHEDULERS[c.scheduler].library)}
            for c in configs
        ]
    results = exported_lrs([{**job, "steps": 42, "steps_per_epoch": 7} for job in jobs])
    for config, job, got in zip(configs, jobs, results, strict=True):
        assert not isinstance(got, dict), (config, got)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            curve = simulate(config)
        # a jitted optax train step applies the jitted schedule's lr (lrlab's lr_jit column)
        column = "lr_jit" if "lr_jit" in curve.frame.columns and "jax.jit" in job["code"] else "lr"
        np.testing.assert_allclose(
            got, curve.frame[column].to_numpy(), rtol=max(1e-12, curve.spec.tolerance), atol=0, err_msg=str(config)
        )


def test_importing_the_pytorch_script_builds_the_objects_without_training():
    code = render(ScheduleConfig.make("StepLR", {}, steps=10), "torch")
    module = types.ModuleType("exported")
    exec(compile(code, "<exported>", "exec"), module.__dict__)
    assert module.scheduler.last_epoch == 0 and 'if __name__ == "__main__":' in code and "# your model" in code


@pytest.mark.parametrize("name", NAMES)
def test_export_then_import_gives_back_the_identical_config(name):
    spec = lrlab.SCHEDULERS[name]
    run = {
        "steps": 77,
        "base_lr": 0.03,
        "group_lrs": groups_of(spec, (0.2,)),
        "optimizer": "adamw",
        "interval": interval_of(spec, "epoch"),
        "steps_per_epoch": 7,
    }
    config = ScheduleConfig.make(name, {}, **run)
    complete = ScheduleConfig.make(name, config_dict(config)["params"], **run)
    for target in ("yaml", "json"):
        again = import_config(render(config, target))
        assert again == complete
        assert render(again, target) == render(config, target)


def test_a_curve_from_an_exported_config_equals_the_direct_call(tmp_path):
    from lrlab.cli import main

    config = ScheduleConfig.make("OneCycleLR", {"max_lr": 0.5}, steps=40)
    path = tmp_path / "one.yaml"
    path.write_text(render(config, "yaml"))
    direct = lrlab.curve("OneCycleLR", steps=40, max_lr=0.5)
    np.testing.assert_array_equal(lrlab.curve(config=yaml.safe_load(path.read_text()))["lr"], direct["lr"])
    assert main(["curve", "--config", str(path)]) == 0
    assert main(["curve", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert main(["curve", "StepLR", "--config", str(path)]) == 2


def test_a_user_expression_is_exported_as_a_python_lambda_with_math():
    config = ScheduleConfig.make("LambdaLR", {"lr_lambda": "min(1, epoch / 10) * cos(pi * epoch / 100)"}, steps=50)
    code = render(config, "torch")
    assert "lambda epoch: min(1.0, epoch / 10.0) * math.cos(math.pi * epoch / 100.0)" in code
    np.testing.assert_allclose(run_script(code)["train"](), simulate(config).frame["lr"], rtol=1e-12)


TRAINER_TYPES = [n for n, s in lrlab.SCHEDULERS.items() if s.library == "transformers" and s.aliases]


@pytest.mark.parametrize("name", TRAINER_TYPES)
def test_training_arguments_make_the_trainer_build_the_same_schedule(name):
    from transformers import TrainingArguments, get_scheduler

    config = ScheduleConfig.make(name, {}, steps=80)
    fields = trainer_fields(config)
    args = TrainingArguments(output_dir="/tmp/lrlab-test-out", report_to=[], **fields)
    # what Trainer.create_scheduler does with them (transformers 5.23, trainer.py)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate, momentum=0.9)
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        opt,
        num_warmup_steps=args.get_warmup_steps(args.max_steps),
        num_training_steps=args.max_steps,
        scheduler_specific_kwargs=args.lr_scheduler_kwargs,
    )
    lrs = []
    metric = lrlab.metrics.synthetic_loss(79)
    for t in range(80):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if t < 79:
            scheduler.step(metric[t]) if simulate(config).spec.needs_metric else scheduler.step()
    np.testing.assert_allclose(lrs, simulate(config).frame["lr"].to_numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", TRAINER_TYPES)
def test_the_get_scheduler_snippet_runs_and_reproduces_the_curve(name):
    config = ScheduleConfig.make(name, {}, steps=40)
    code = render(config, "transformers")
    namespace = run_script(code.replace('output_dir="out"', 'output_dir="/tmp/lrlab-test-out", report_to=[]'))
    opt, scheduler = namespace["optimizer"], namespace["scheduler"]
    curve = simulate(config)
    if curve.spec.needs_metric:
        return
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(lrs, curve.frame["lr"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["CyclicLR", "StepLR", "SequentialLR"])
def test_a_torch_scheduler_is_handed_to_the_trainer_as_an_object(name):
    code = render(ScheduleConfig.make(name, {}, steps=40), "transformers")
    assert code.startswith("# Not expressible as TrainingArguments") and "optimizers=(optimizer, scheduler)" in code
    namespace = {}
    exec(compile(code.split("trainer = Trainer")[0], "<exported>", "exec"), namespace)
    assert namespace["scheduler"].__class__.__name__ == name


def test_a_schedule_sized_other_than_the_run_is_not_claimed_expressible_by_the_trainer():
    config = ScheduleConfig.make("get_linear_schedule_with_warmup", {"num_training_steps": 50}, steps=80)
    with pytest.raises(LrlabError, match="max_steps"):
        trainer_fields(config)


@pytest.mark.parametrize(
    ("name", "interval"),
    [
        ("CosineAnnealingLR", "step"),
        ("StepLR", "epoch"),
        ("get_cosine_schedule_with_warmup", "step"),
        ("OneCycleLR", "step"),
    ],
)
def test_the_lightning_module_says_its_interval_and_steps_the_scheduler_like_lrlab(name, interval):
    config = ScheduleConfig.make(name, {}, steps=24, steps_per_epoch=6, interval=interval)
    code = render(config, "lightning")
    assert f'"interval": "{interval}"' in code
    got = exported_lrs([{"target": "lightning", "code": code, "steps": 24, "steps_per_epoch": 6}])[0]
    np.testing.assert_allclose(got, simulate(config).frame["lr"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("target", ["yaml", "json"])
@pytest.mark.parametrize("name", ["OneCycleLR", "SequentialLR", "LambdaLR", "get_wsd_schedule", "ReduceLROnPlateau"])
def test_configs_round_trip_through_export_and_import(name, target):
    config = ScheduleConfig.make(name, {}, steps=123, base_lr=0.05, group_lrs=(0.2,), optimizer="adam")
    text = render(config, target)
    data = yaml.safe_load(text) if target == "yaml" else json.loads(text)
    assert data["version"] == 1 and data["scheduler"] == name
    again = import_config(text)
    np.testing.assert_array_equal(simulate(again).frame.to_numpy(), simulate(config).frame.to_numpy())


def test_the_cli_export_prints_the_snippet_and_refuses_bad_input():
    from lrlab.cli import main

    assert main(["export", "StepLR", "--steps", "10", "--set", "step_size=3", "--target", "torch"]) == 0
    assert main(["export", "StepLR", "--steps", "10", "--target", "nope"]) == 2
    assert main(["export", "StepLR", "--steps", "0", "--target", "yaml"]) == 2


def test_every_target_of_a_schedules_library_is_rendered_and_the_others_say_which_to_use():
    for name in NAMES:
        spec = lrlab.SCHEDULERS[name]
        if spec.unavailable():
            continue
        config = ScheduleConfig.make(name, {}, steps=30)
        for target in TARGETS:
            if target in targets_for(spec):
                assert render(config, target).strip()
            else:
                with pytest.raises(LrlabError, match=f"{spec.library} schedule") as err:
                    render(config, target)
                assert err.value.field == "target"
                assert any(t in str(err.value) for t in targets_for(spec))


# ---- import ------------------------------------------------------------------------------------


def test_a_training_args_json_becomes_the_trainers_schedule():
    args = {
        "output_dir": "x",
        "learning_rate": 3e-4,
        "lr_scheduler_type": "cosine",
        "warmup_ratio": 0.1,
        "max_steps": 1000,
        "lr_scheduler_kwargs": {"num_cycles": 0.5},
        "seed": 42,
    }
    config = import_config(json.dumps(args))
    assert config.scheduler == "get_cosine_schedule_with_warmup" and config.base_lr == 3e-4
    assert config.params_dict == {"num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 0.5}


def test_training_args_without_max_steps_take_the_run_length_from_epochs_and_data():
    args = {
        "lr_scheduler_type": "linear",
        "num_train_epochs": 2,
        "per_device_train_batch_size": 32,
        "gradient_accumulation_steps": 4,
        "warmup_steps": 0.05,
        "max_steps": -1,
    }
    config = from_training_args(args, dataset_size=1000)
    assert config.steps == 2 * math.ceil(math.ceil(1000 / 32) / 4)  # 16
    assert config.params_dict["num_warmup_steps"] == math.ceil(16 * 0.05)
    with pytest.raises(LrlabError, match="dataset size") as info:
        from_training_args(args)
    assert info.value.field == "dataset_size"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("", "config", "empty"),
        ("[1, 2]", "config", "expected a mapping"),
        ("scheduler: StepLR\nsteps: ten\n", "steps", "Invalid steps ('ten')"),
        ("scheduler: NoSuch\n", "scheduler", "Unknown scheduler"),
        ("steps: 10\n", "scheduler", "missing field 'scheduler'"),
        ("version: 2\nscheduler: StepLR\n", "version", "version"),
        ("scheduler: StepLR\nparams: {gamma: -1}\n", "gamma", "Invalid gamma (-1)"),
        ("scheduler: StepLR\ncolour: red\n", "colour", "Unknown config field 'colour'"),
        ("!!python/object/apply:os.system ['echo pwned']", "config", "could not determine a constructor"),
        ("scheduler: StepLR\n  bad: [indent\n", "config", "line"),
        ('{"lr_scheduler_type": "cyclic"}', "lr_scheduler_type", "SchedulerType"),
        ('{"lr_scheduler_type": "linear", "learning_rate": "fast", "max_steps": 10}', "learning_rate", "number"),
    ],
)
def test_bad_config_files_are_refused_naming_the_field(text, field, message):
    with pytest.raises(LrlabError) as info:
        import_config(text)
    assert info.value.field == field and message in str(info.value), str(info.value)


def test_an_oversized_file_is_refused_before_parsing():
    with pytest.raises(LrlabError, match="at most") as info:
        import_config(b"a" * (MAX_CONFIG_BYTES + 1))
    assert info.value.field == "config"


def test_yaml_is_read_only_as_plain_data(tmp_path):
    marker = tmp_path / "ran"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    with pytest.raises(LrlabError):
        import_config(payload)
    assert not marker.exists()


def test_config_dict_fills_in_the_defaults_it_used():
    data = config_dict(ScheduleConfig.make("StepLR", {}, steps=100))
    assert data["params"] == {"gamma": 0.1, "step_size": 25}
