"""Bring your own config: TrainingArguments, timm's args.yaml, a Lightning CLI config, a serialized Keras schedule.

Every file is written the way its tool writes it (``TrainingArguments.to_json_string()``, timm train.py's
parser dumped with ``yaml.safe_dump`` — tests/fixtures/timm_args.yaml —, ``LightningCLI --print_config``,
``keras.optimizers.schedules.serialize``). Expected curves and counts come from the real libraries
(transformers' ``get_scheduler``, timm's ``create_scheduler_v2`` in train.py's loop, torch's DataLoader and
DistributedSampler, a real Keras schedule) or from hand computation, never from lrlab.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import warnings
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from streamlit.testing.v1 import AppTest

import lrlab
from lrlab.io import ConfigWarning, detect_format, import_config
from lrlab.specs import LrlabError
from tests.test_lib_timm import timm_scheduler, train_py
from tests.test_presentation import shown

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMM_ARGS = Path(__file__).with_name("fixtures") / "timm_args.yaml"


def _lrs(config) -> np.ndarray:
    return lrlab.curve(config=config)["lr"].to_numpy()


# ---- Hugging Face TrainingArguments -------------------------------------------------------------------


def _training_args(tmp_path, **fields) -> str:
    from transformers import TrainingArguments

    return TrainingArguments(output_dir=str(tmp_path), **fields).to_json_string()


def _hf_refusal(kind: str, kwargs: dict, warmup: int = 10, steps: int = 100) -> Exception:
    from transformers import get_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises((TypeError, ValueError)) as raised:
        get_scheduler(kind, optimizer, warmup, steps, scheduler_specific_kwargs=kwargs)
    return raised.value


def test_a_training_args_json_draws_the_curve_the_real_trainer_scheduler_gives(tmp_path):
    from transformers import TrainingArguments, get_scheduler

    fields = dict(
        learning_rate=3e-4,
        lr_scheduler_type="cosine_with_min_lr",
        warmup_steps=0.1,
        max_steps=200,
        lr_scheduler_kwargs={"min_lr_rate": 0.1},
    )
    notes: list[str] = []
    config = import_config(_training_args(tmp_path, **fields), notes=notes)
    args = TrainingArguments(output_dir=str(tmp_path), **fields)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=3e-4)
    scheduler = get_scheduler(
        "cosine_with_min_lr", optimizer, args.get_warmup_steps(200), 200, scheduler_specific_kwargs={"min_lr_rate": 0.1}
    )
    expected = []
    for _ in range(200):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-12)
    assert any("warm-up = ceil(200 × 0.1) = 20 steps" in n for n in notes), notes
    assert any(n.startswith("Read a Hugging Face TrainingArguments ('cosine_with_min_lr'") for n in notes), notes


def test_torch_eta_min_passed_to_hf_cosine_is_refused_in_transformers_own_words(tmp_path):
    text = _training_args(tmp_path, lr_scheduler_type="cosine", max_steps=100, lr_scheduler_kwargs={"eta_min": 1e-5})
    library = _hf_refusal("cosine", {"eta_min": 1e-5})
    assert str(library) == "get_cosine_schedule_with_warmup() got an unexpected keyword argument 'eta_min'"
    with pytest.raises(LrlabError) as raised:
        import_config(text)
    message = str(raised.value)
    assert (
        raised.value.field == "lr_scheduler_kwargs.eta_min" and "Invalid lr_scheduler_kwargs.eta_min (1e-05)" in message
    )
    assert f"TypeError: {library}" in message
    assert "get_cosine_schedule_with_warmup takes num_cycles, last_epoch" in message  # what the function accepts


def test_min_lr_and_min_lr_rate_together_are_refused_with_transformers_value_error(tmp_path):
    kwargs = {"min_lr": 1e-6, "min_lr_rate": 0.1}
    library = _hf_refusal("cosine_with_min_lr", kwargs)
    assert isinstance(library, ValueError) and str(library) == "Only one of min_lr or min_lr_rate should be set"
    text = _training_args(tmp_path, lr_scheduler_type="cosine_with_min_lr", max_steps=100, lr_scheduler_kwargs=kwargs)
    with pytest.raises(LrlabError) as raised:
        import_config(text)
    assert raised.value.field == "lr_scheduler_kwargs"
    assert f'"ValueError: {library}"' in str(raised.value) and "min_lr_rate" in str(raised.value)


def test_a_training_step_count_in_the_kwargs_is_refused_as_transformers_refuses_it(tmp_path):
    library = _hf_refusal("linear", {"num_training_steps": 50})
    assert "got multiple values for keyword argument 'num_training_steps'" in str(library)
    text = _training_args(
        tmp_path, lr_scheduler_type="linear", max_steps=100, lr_scheduler_kwargs={"num_training_steps": 50}
    )
    with pytest.raises(LrlabError, match="multiple values for keyword argument 'num_training_steps'") as raised:
        import_config(text)
    assert raised.value.field == "lr_scheduler_kwargs.num_training_steps"


def test_kwargs_a_constant_schedule_drops_are_noted_not_refused(tmp_path):
    from transformers import get_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    get_scheduler("constant_with_warmup", optimizer, 5, 100, scheduler_specific_kwargs={"num_cycles": 3})  # no error
    text = _training_args(
        tmp_path,
        lr_scheduler_type="constant_with_warmup",
        max_steps=100,
        warmup_steps=5,
        lr_scheduler_kwargs={"num_cycles": 3},
    )
    notes: list[str] = []
    config = import_config(text, notes=notes)
    assert config.params_dict == {"num_warmup_steps": 5}
    assert any("num_cycles=3 is not used" in n and "get_constant_schedule_with_warmup" in n for n in notes), notes
    with pytest.warns(ConfigWarning, match="num_cycles=3 is not used"):
        import_config(text)


def test_a_run_in_epochs_counts_devices_and_says_how(tmp_path):
    text = _training_args(
        tmp_path,
        lr_scheduler_type="linear",
        num_train_epochs=2,
        per_device_train_batch_size=16,
        gradient_accumulation_steps=2,
    )
    notes: list[str] = []
    config = import_config(text, dataset_size=1000, devices=4, notes=notes)
    per_epoch = math.ceil(math.ceil(1000 / (16 * 4)) / 2)  # 16 batches → 8 updates
    assert config.steps == 2 * per_epoch == 16
    assert any(
        "steps = ceil(2 epochs × ceil(ceil(1000 / (16 per device × 4 devices)) / 2 accumulation)) = 16" in n
        for n in notes
    )


def test_a_plain_training_args_json_says_what_it_read(tmp_path):
    """Nothing unknown, no kwargs: still one note with the scheduler type, lr, warm-up and run length."""
    text = _training_args(tmp_path, lr_scheduler_type="linear", learning_rate=2e-4, warmup_steps=10, max_steps=100)
    notes: list[str] = []
    import_config(text, notes=notes)
    read = [n for n in notes if n.startswith("Read a Hugging Face TrainingArguments")]
    assert read == [
        "Read a Hugging Face TrainingArguments ('linear' → get_linear_schedule_with_warmup): learning_rate 0.0002, "
        "10 warm-up steps (warmup_steps), 100 steps (max_steps 100); ignored " + read[0].partition("; ignored ")[2]
    ], notes
    minimal = json.dumps({"lr_scheduler_type": "cosine", "max_steps": 50})
    notes = []
    import_config(minimal, notes=notes)
    assert notes == [
        "Read a Hugging Face TrainingArguments ('cosine' → get_cosine_schedule_with_warmup): learning_rate 5e-05 "
        "(transformers' default), no warm-up, 50 steps (max_steps 50)."
    ]


# ---- timm's args.yaml ------------------------------------------------------------------------------------


def _timm_args(**changes) -> dict:
    args = yaml.safe_load(TIMM_ARGS.read_text())
    args.update(changes)
    return args


def _timm_run(args: dict, updates_per_epoch: int) -> tuple[np.ndarray, int]:
    """timm's train.py with these args: create_scheduler_v2(**scheduler_kwargs(args)), trained num_epochs."""
    sched = timm_scheduler()
    kwargs = sched.scheduler_kwargs(Namespace(**args), decreasing_metric=args["eval_metric"] == "loss")
    made = {}

    def make(optimizer):
        made["pair"] = sched.create_scheduler_v2(optimizer, **kwargs, updates_per_epoch=updates_per_epoch)
        return made["pair"]

    probe = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args["lr"])
    epochs = sched.create_scheduler_v2(probe, **kwargs, updates_per_epoch=updates_per_epoch)[1]
    steps = epochs * updates_per_epoch
    return train_py(make, (args["lr"],), steps, updates_per_epoch)[:, 0], epochs


def _updates_per_epoch(samples: int, batch: int, accum: int, devices: int) -> int:
    """train.py's rule with torch's own sampler and loader: drop_last for training, DistributedSampler per rank."""
    data = list(range(samples))
    sampler = torch.utils.data.DistributedSampler(data, num_replicas=devices, rank=0, shuffle=False)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, sampler=sampler, drop_last=True)
    return (len(loader) + accum - 1) // accum


def test_timm_args_yaml_stepped_per_epoch_needs_no_dataset_size():
    args = _timm_args()  # cosine, 10 epochs, warm-up 2, cooldown 1, lr 0.4
    notes: list[str] = []
    config = import_config(yaml.safe_dump(args), notes=notes)
    expected, epochs = _timm_run(args, updates_per_epoch=1)
    assert config.scheduler == "timm:create_scheduler_v2" and config.steps_per_epoch == 1
    assert config.steps == epochs == 11  # 10 epochs + 1 cooldown, as create_scheduler_v2 returns
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-12)
    assert any("steps_per_epoch = 1" in n for n in notes), notes
    assert any("steps = 11 epochs (10 + cooldown 1)" in n for n in notes), notes
    assert any(n.startswith("Ignored 141 keys") and "amp_dtype" in n for n in notes), notes


@pytest.mark.parametrize(("samples", "devices"), [(50_000, 1), (50_000, 2), (1_000, 3)])
def test_timm_args_yaml_stepped_per_update_counts_updates_as_train_py_does(samples, devices):
    args = _timm_args(sched_on_updates=True, epochs=3, warmup_epochs=1, cooldown_epochs=0, batch_size=64)
    upe = _updates_per_epoch(samples, 64, 2, devices)
    notes: list[str] = []
    config = import_config(yaml.safe_dump(args), dataset_size=samples, devices=devices, notes=notes)
    assert config.steps_per_epoch == upe and config.steps == 3 * upe
    expected, _ = _timm_run(args, updates_per_epoch=upe)
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-12)
    formula = f"ceil(floor(ceil({samples} / {devices} device{'s' if devices > 1 else ''}) / 64 batch) / 2 accumulation)"
    assert any(f"{formula} = {upe} updates per epoch = {3 * upe}" in n for n in notes), notes


def test_timm_args_yaml_stepped_per_update_without_a_dataset_size_is_refused_naming_it():
    with pytest.raises(LrlabError, match="sched_on_updates is true") as raised:
        import_config(yaml.safe_dump(_timm_args(sched_on_updates=True)))
    assert raised.value.field == "dataset_size"


def test_timm_lr_left_empty_is_scaled_from_lr_base_as_train_py_does():
    args = _timm_args(lr=None, lr_base=0.1, lr_base_size=256, batch_size=128, grad_accum_steps=2, opt="sgd")
    notes: list[str] = []
    config = import_config(yaml.safe_dump(args), devices=4, notes=notes)
    assert config.base_lr == pytest.approx(0.1 * 128 * 4 * 2 / 256)  # linear for sgd: 0.4
    assert any(
        "lr = lr_base 0.1 × (128 batch × 4 devices × 2 accumulation / lr_base_size 256) = 0.4" in n for n in notes
    )


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"sched": "wsd"}, "sched", "must be one of 'cosine', 'tanh', 'step', 'multistep', 'plateau', 'poly'"),
        ({"lr_noise": [0.4, 0.9]}, "lr_noise", "give one value"),
        ({"sched_on_updates": "yes"}, "sched_on_updates", "true or false"),
        ({"batch_size": 0}, "batch_size", "integer ≥ 1"),
    ],
)
def test_bad_timm_args_are_refused_naming_the_key(changes, field, words):
    with pytest.raises(LrlabError) as raised:
        import_config(yaml.safe_dump(_timm_args(**changes)), dataset_size=1000)
    assert raised.value.field == field and words in str(raised.value), str(raised.value)


def test_a_timm_momentum_outside_0_1_is_refused_not_replaced():
    with pytest.raises(LrlabError) as raised:
        import_config(yaml.safe_dump(_timm_args(momentum=1.5)))
    assert raised.value.field == "momentum"
    assert "Invalid momentum (1.5): must be a number in [0, 1)" in str(raised.value)
    config = import_config(yaml.safe_dump(_timm_args(momentum=0.8)))
    assert (config.optimizer, config.momentum) == ("sgd", 0.8)


def test_a_timm_optimizer_lrlab_does_not_model_is_drawn_as_sgd_with_a_note_naming_it():
    notes: list[str] = []
    config = import_config(yaml.safe_dump(_timm_args(opt="lamb", momentum=0.7)), notes=notes)
    assert (config.optimizer, config.momentum) == ("sgd", 0.7)
    assert any(n.startswith("opt 'lamb' is drawn as SGD with momentum 0.7") for n in notes), notes
    notes = []
    config = import_config(yaml.safe_dump(_timm_args(opt="adamw", opt_betas=[0.8, 0.99], momentum=1.5)), notes=notes)
    assert (config.optimizer, config.betas) == ("adamw", (0.8, 0.99))  # AdamW takes no momentum: not refused
    assert not any("drawn as SGD" in n for n in notes), notes
    with pytest.raises(LrlabError) as raised:
        import_config(yaml.safe_dump(_timm_args(opt=["sgd"])))
    assert raised.value.field == "opt"


def test_a_dataset_smaller_than_a_batch_is_refused_as_timms_loader_would_give_no_update():
    assert _updates_per_epoch(100, 128, 1, 1) == 0
    with pytest.raises(LrlabError, match="drops the last incomplete batch") as raised:
        import_config(yaml.safe_dump(_timm_args(sched_on_updates=True)), dataset_size=100)
    assert raised.value.field == "dataset_size"


# ---- Lightning CLI ----------------------------------------------------------------------------------------


def _print_config(*args: str) -> str:
    """What ``LightningCLI --print_config`` writes for the BoringModel with these arguments."""
    pytest.importorskip("jsonargparse")
    from lightning.pytorch.cli import LightningCLI
    from lightning.pytorch.demos.boring_classes import BoringDataModule, BoringModel

    out = io.StringIO()
    argv, sys.argv = sys.argv, sys.argv[:1]  # as from the command line: no pytest arguments beside args
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            LightningCLI(BoringModel, BoringDataModule, args=["fit", *args, "--print_config"])
    finally:
        sys.argv = argv
    return out.getvalue()


@pytest.fixture(scope="module")
def lightning_steplr() -> str:
    return _print_config(
        "--optimizer", "torch.optim.SGD", "--optimizer.lr", "0.1", "--optimizer.momentum", "0.8",
        "--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "3", "--trainer.max_epochs", "12",
    )  # fmt: skip


def test_a_lightning_cli_config_gives_torchs_scheduler_stepped_once_per_epoch(lightning_steplr):
    assert "class_path: torch.optim.lr_scheduler.StepLR" in lightning_steplr
    notes: list[str] = []
    config = import_config(lightning_steplr, notes=notes)
    assert detect_format(yaml.safe_load(lightning_steplr)) == "lightning"
    assert (config.scheduler, config.interval, config.steps, config.steps_per_epoch) == ("StepLR", "epoch", 12, 1)
    assert config.base_lr == 0.1 and config.momentum == 0.8
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3)
    expected = []
    for _ in range(12):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-12)
    assert any("steps = 12 epochs (trainer.max_epochs)" in n for n in notes), notes
    assert any("once per epoch" in n for n in notes), notes


def test_a_lightning_config_with_a_dataset_size_counts_optimizer_steps_per_epoch(lightning_steplr):
    notes: list[str] = []
    config = import_config(lightning_steplr, dataset_size=1000, batch_size=32, devices=2, notes=notes)
    per_epoch = math.ceil(1000 / (32 * 2))  # 16 batches on each device, accumulate_grad_batches 1
    assert (config.steps_per_epoch, config.steps) == (per_epoch, 12 * per_epoch)
    assert any(
        "ceil(ceil(1000 / (32 batch × 2 devices)) / 1 accumulation) = 16 optimizer steps per epoch" in n for n in notes
    )


def test_the_short_class_path_and_an_interval_are_read():
    text = """
optimizer: {class_path: Adam, init_args: {lr: 0.01}}
lr_scheduler: {class_path: CosineAnnealingLR, init_args: {T_max: 50, eta_min: 0.001}}
lr_scheduler_config: {interval: step, frequency: 1}
trainer: {max_steps: 50}
"""
    config = import_config(text)
    assert (config.scheduler, config.interval, config.optimizer, config.steps) == (
        "CosineAnnealingLR",
        "step",
        "adam",
        50,
    )
    assert config.params_dict == {"T_max": 50, "eta_min": 0.001}


def test_a_class_path_outside_torchs_schedulers_is_refused_by_name_and_not_imported():
    text = "lr_scheduler: {class_path: lrlab_evil_module.Boom, init_args: {}}\ntrainer: {max_epochs: 3}\n"
    with pytest.raises(LrlabError) as raised:
        import_config(text)
    assert raised.value.field == "lr_scheduler.class_path"
    assert "Invalid lr_scheduler.class_path ('lrlab_evil_module.Boom')" in str(raised.value)
    assert "StepLR" in str(raised.value) and "lrlab_evil_module" not in sys.modules


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            "lr_scheduler: {class_path: LambdaLR, init_args: {lr_lambda: x}}\ntrainer: {max_epochs: 3}",
            "lr_scheduler.class_path",
        ),
        ("lr_scheduler: {class_path: StepLR, init_args: {step_size: 2}, interval: batch}\ntrainer: {}", "interval"),
        (
            "lr_scheduler: {class_path: StepLR, init_args: {step_size: 2, last_epoch: 4}}",
            "lr_scheduler.init_args.last_epoch",
        ),
        (
            "lr_scheduler: {class_path: StepLR, init_args: {step_size: 2}, interval: step}\ntrainer: {max_epochs: 2}",
            "dataset_size",
        ),
    ],
)
def test_bad_lightning_configs_are_refused_naming_the_field(text, field):
    with pytest.raises(LrlabError) as raised:
        import_config(text)
    assert raised.value.field == field, str(raised.value)


def test_lightning_counts_num_nodes_in_the_world_size_and_says_how():
    text = _print_config(
        "--optimizer", "SGD", "--optimizer.lr", "0.1", "--lr_scheduler", "StepLR", "--lr_scheduler.step_size", "3",
        "--trainer.max_epochs", "2", "--trainer.devices", "2", "--trainer.num_nodes", "4",
    )  # fmt: skip
    notes: list[str] = []
    config = import_config(text, dataset_size=1000, batch_size=32, notes=notes)
    per_epoch = math.ceil(1000 / (32 * 2 * 4))  # DistributedSampler over devices × num_nodes = 8 processes: 4
    assert (config.steps_per_epoch, config.steps) == (per_epoch, 2 * per_epoch) == (4, 8)
    assert "world size = trainer.devices 2 × trainer.num_nodes 4 = 8 processes." in notes, notes
    assert any("ceil(ceil(1000 / (32 batch × 2 devices × 4 nodes)) / 1 accumulation) = 4" in n for n in notes), notes


def test_lightning_devices_auto_is_counted_as_one_device_with_a_note(lightning_steplr):
    assert "devices: auto" in lightning_steplr
    notes: list[str] = []
    config = import_config(lightning_steplr, dataset_size=1000, batch_size=50, notes=notes)
    assert config.steps_per_epoch == 20
    assert any(n.startswith("trainer.devices 'auto' depends on the machine that trains: counted as 1") for n in notes)
    notes = []
    assert (
        import_config(lightning_steplr, dataset_size=1000, batch_size=50, devices=4, notes=notes).steps_per_epoch == 5
    )
    assert not any("'auto' depends" in n for n in notes), notes


def test_lightning_notes_say_batch_size_came_from_model_init_args_and_list_ignored_trainer_keys(lightning_steplr):
    data = yaml.safe_load(lightning_steplr)
    data["model"] = {"class_path": "my.Model", "init_args": {"batch_size": 25, "hidden": 64}}
    notes: list[str] = []
    config = import_config(yaml.safe_dump(data), dataset_size=1000, notes=notes)
    assert config.steps_per_epoch == 40
    assert "batch_size 25 from model.init_args.batch_size." in notes, notes
    (read,) = [n for n in notes if n.startswith("Read a Lightning CLI config")]
    assert "model (all but model.init_args.batch_size)" in read and "trainer.accelerator" in read, read
    assert "trainer.max_epochs" not in read and "trainer.devices" not in read, read
    with pytest.raises(LrlabError) as raised:
        data["model"]["init_args"]["batch_size"] = "25"
        import_config(yaml.safe_dump(data), dataset_size=1000)
    assert raised.value.field == "model.init_args.batch_size"


def _lightning_lrs(interval: str, frequency: int, samples: int, batch: int, accum: int, epochs: int) -> list[float]:
    """The lr at every optimizer step of a real Lightning run: StepLR(step_size=1, gamma=0.5) under
    configure_optimizers' {interval, frequency}."""
    lightning = pytest.importorskip("lightning")
    lrs: list[float] = []

    class Model(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(1, 1)

        def training_step(self, batch, index):
            return self.w(batch).sum()

        def configure_optimizers(self):
            optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": interval,
                                                               "frequency": frequency}}  # fmt: skip

        def optimizer_step(self, *args, **kwargs):
            lrs.append(self.trainer.optimizers[0].param_groups[0]["lr"])
            super().optimizer_step(*args, **kwargs)

    loader = torch.utils.data.DataLoader(torch.zeros(samples, 1), batch_size=batch)
    trainer = lightning.Trainer(
        max_epochs=epochs, accumulate_grad_batches=accum, accelerator="cpu", devices=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(Model(), loader)
    return lrs


def _frequency_config(interval: str, frequency: int, epochs: int, accum: int = 1) -> str:
    return yaml.safe_dump({
        "optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.1}},
        "lr_scheduler": {"class_path": "torch.optim.lr_scheduler.StepLR", "init_args": {"step_size": 1, "gamma": 0.5}},
        "lr_scheduler_config": {"interval": interval, "frequency": frequency},
        "trainer": {"max_epochs": epochs, "accumulate_grad_batches": accum, "devices": 1},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("interval", "frequency", "samples", "batch", "accum", "epochs"),
    [("epoch", 2, 30, 10, 1, 5), ("step", 3, 60, 10, 1, 2), ("step", 3, 60, 10, 2, 2), ("step", 2, 60, 10, 2, 2)],
)
def test_lightning_frequency_steps_the_scheduler_where_a_real_lightning_run_does(
    interval, frequency, samples, batch, accum, epochs
):
    expected = _lightning_lrs(interval, frequency, samples, batch, accum, epochs)
    notes: list[str] = []
    text = _frequency_config(interval, frequency, epochs, accum)
    config = import_config(text, dataset_size=samples, batch_size=batch, notes=notes)
    assert config.steps == len(expected)
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-12)
    assert any(n.startswith(f"frequency {frequency}") for n in notes), notes


def test_a_step_frequency_lightning_restarts_each_epoch_is_refused_saying_why_and_what_to_do():
    """7 batches an epoch, frequency 3: Lightning steps after batches 3 and 6 of each epoch (batch_idx restarts),
    steps 3, 6, 10, 13, … of the run: not one in every k, which lrlab's steps_per_epoch can't draw."""
    expected = _lightning_lrs("step", 3, 70, 10, 1, 2)
    assert expected[:11] == [0.1] * 3 + [0.05] * 3 + [0.025] * 4 + [0.0125]  # steps after 3, 6, 10
    with pytest.raises(LrlabError) as raised:
        import_config(_frequency_config("step", 3, 2), dataset_size=70, batch_size=10)
    message = str(raised.value)
    assert raised.value.field == "frequency" and "Invalid frequency (3)" in message
    assert "batch_idx restarts every epoch" in message and "optimizer step 3, 6 of each of its 7" in message
    assert "Use a frequency that divides the 7 batches per epoch" in message


# ---- a serialized Keras schedule -------------------------------------------------------------------------


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def test_a_serialized_keras_cosine_decay_becomes_that_schedule():
    keras = _keras()
    schedule = keras.optimizers.schedules.CosineDecay(0.05, 300, alpha=0.1, warmup_target=0.1, warmup_steps=40)
    serialized = keras.optimizers.schedules.serialize(schedule)
    assert serialized["module"] == "keras.optimizers.schedules" and serialized["registered_name"] is None
    notes: list[str] = []
    config = import_config(json.dumps(serialized), steps=400, notes=notes)
    assert (config.scheduler, config.base_lr, config.steps) == ("keras:CosineDecay", 0.05, 400)
    expected = np.array([float(keras.ops.convert_to_numpy(schedule(t))) for t in range(400)])
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-6, atol=1e-8)
    assert any(n.startswith("Read keras.optimizers.schedules.CosineDecay(") for n in notes), notes
    assert any("steps = 400 (given)" in n for n in notes), notes


@pytest.mark.parametrize(
    ("make", "base_lr"),
    [
        (lambda s: s.CosineDecay(2000.0, 30, alpha=0.5, warmup_target=5000.0, warmup_steps=10), 2000.0),
        (lambda s: s.PolynomialDecay(5000.0, 30, end_learning_rate=1500.0, power=2.0), 5000.0),
        (lambda s: s.PiecewiseConstantDecay([10, 20], [5000.0, 2000.0, 1500.0]), 5000.0),  # its first value
    ],
    ids=["CosineDecay", "PolynomialDecay", "PiecewiseConstantDecay"],
)
def test_a_serialized_keras_schedule_with_lrs_above_1000_is_kept_exactly(make, base_lr):
    keras = _keras()  # issue 13: Keras takes any lr; the import keeps every one as Keras has it
    schedule = make(keras.optimizers.schedules)
    config = import_config(json.dumps(keras.optimizers.schedules.serialize(schedule)), steps=40)
    expected = np.array([float(keras.ops.convert_to_numpy(schedule(t))) for t in range(40)])
    assert expected.min() >= 1500
    assert config.base_lr == base_lr
    np.testing.assert_allclose(_lrs(config), expected, rtol=1e-6)


def test_a_keras_schedule_without_steps_keeps_lrlabs_default_run_and_says_so():
    keras = _keras()
    serialized = keras.optimizers.schedules.serialize(
        keras.optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    )
    notes: list[str] = []
    config = import_config(yaml.safe_dump(serialized), notes=notes)
    assert config.scheduler == "keras:PiecewiseConstantDecay" and config.steps == 1000
    lrs = _lrs(config)
    assert lrs[10] == pytest.approx(0.1) and lrs[11] == pytest.approx(0.01) and lrs[21] == pytest.approx(0.001)
    assert any("steps = 1000, lrlab's default run" in n and "last boundary is step 20" in n for n in notes), notes


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"class_name": "MyWarmup"}, "class_name", "CosineDecay"),
        ({"registered_name": "custom>MyWarmup"}, "class_name", "custom schedule"),
        ({"config": {"initial_learning_rate": 0.1, "decay_steps": 10, "eta_min": 0.0}}, "config.eta_min", "takes"),
        ({"config": {"initial_learning_rate": 0.1}}, "config.decay_steps", "needs decay_steps"),
    ],
)
def test_bad_keras_schedules_are_refused_naming_the_field(change, field, words):
    keras = _keras()
    serialized = keras.optimizers.schedules.serialize(keras.optimizers.schedules.CosineDecay(0.1, 100))
    serialized.update(change)
    with pytest.raises(LrlabError) as raised:
        import_config(json.dumps(serialized))
    assert raised.value.field == field and words in str(raised.value), str(raised.value)


def test_a_malformed_keras_file_is_refused_naming_the_field_not_a_type_error():
    text = '{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": 5, "values": [1, 2]}}'
    with pytest.raises(LrlabError) as raised:
        import_config(text)
    assert raised.value.field == "config.boundaries"
    assert str(raised.value) == (
        "Invalid config.boundaries (5): must be a list of numbers (PiecewiseConstantDecay's boundaries in Keras)"
    )
    keras = _keras()
    with pytest.raises(ValueError, match="should be 1 less than the length of values") as library:
        keras.optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01])
    text = '{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 20], "values": [0.1, 0.01]}}'
    with pytest.raises(LrlabError, match="should be 1 less than the length of values") as raised:
        import_config(text)
    assert raised.value.field == "config.values" and library.value


_WRONG = ["x", [1, 2], {"a": 1}, None, True, -3, float("nan"), [], 0]


def _wrong_typed(data: dict) -> list[tuple[tuple[str, ...], object, dict]]:
    """Every (key path, wrong value, mutated copy): each key of ``data``, nested too, set to each wrong value."""
    out = []

    def walk(part: dict, path: tuple[str, ...]):
        for key, value in part.items():
            for bad in _WRONG:
                copy = json.loads(json.dumps(data))
                target = copy
                for step in path:
                    target = target[step]
                target[key] = bad
                out.append(((*path, key), bad, copy))
            if isinstance(value, dict):
                walk(value, (*path, key))

    walk(data, ())
    return out


def _only_lrlab_errors(cases, **kwargs):
    crashed = []
    for path, bad, data in cases:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import_config(yaml.safe_dump(data), **kwargs)
        except LrlabError:
            pass
        except Exception as exc:  # anything but a named refusal is a defect
            crashed.append((path, bad, f"{type(exc).__name__}: {exc}"))
    assert crashed == []


@pytest.mark.parametrize(
    "serialized",
    [
        {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 100, "alpha": 0.0,
                                                 "warmup_target": 0.2, "warmup_steps": 10}},
        {"class_name": "PolynomialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 100, "power": 2.0,
                                                     "end_learning_rate": 0.001, "cycle": False}},
        {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
                                                      "decay_rate": 0.9, "staircase": True}},
        {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 20], "values": [0.1, 0.01, 0.001]}},
        {"class_name": "Adam", "config": {"learning_rate": {"class_name": "CosineDecayRestarts", "config": {
            "initial_learning_rate": 0.1, "first_decay_steps": 20, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0}}}},
    ],
)  # fmt: skip
def test_wrong_typed_values_in_a_keras_file_give_only_named_refusals(serialized):
    _only_lrlab_errors(_wrong_typed(serialized))
    _only_lrlab_errors(_wrong_typed(serialized), steps=200)


def test_wrong_typed_values_in_lightning_and_timm_files_give_only_named_refusals():
    lightning = {
        "optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.1, "momentum": 0.9}},
        "lr_scheduler": {"class_path": "torch.optim.lr_scheduler.OneCycleLR",
                         "init_args": {"max_lr": 0.1, "epochs": 3, "steps_per_epoch": 10}},
        "lr_scheduler_config": {"interval": "step", "frequency": 1},
        "trainer": {"max_epochs": 3, "devices": 1, "num_nodes": 1, "accumulate_grad_batches": 1,
                    "limit_train_batches": 1.0},
        "model": {"init_args": {"batch_size": 32}},
    }  # fmt: skip
    _only_lrlab_errors(_wrong_typed(lightning), dataset_size=1000)
    timm = _timm_args()
    keys = ["sched", "epochs", "warmup_epochs", "decay_rate", "min_lr", "warmup_lr", "lr", "lr_base", "opt",
            "momentum", "opt_betas", "batch_size", "grad_accum_steps", "sched_on_updates", "lr_noise"]  # fmt: skip
    _only_lrlab_errors([c for c in _wrong_typed(timm) if c[0][0] in keys], dataset_size=5000)


# ---- lrlab's own config is untouched -------------------------------------------------------------------


def test_lrlabs_own_yaml_still_reads_as_before_without_notes():
    notes: list[str] = []
    config = import_config("scheduler: StepLR\nparams: {step_size: 5}\nsteps: 20\n", notes=notes)
    assert (config.scheduler, config.steps, config.params_dict) == ("StepLR", 20, {"step_size": 5})
    assert notes == []


# ---- the Playground's import panel ---------------------------------------------------------------------


def test_the_playground_loads_a_pasted_timm_args_yaml_and_shows_how_it_counted():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.session_state["pg.import_open"] = True  # open "Import a config"
    at.run()
    at.text_area(key="pg.import_text").set_value(yaml.safe_dump(_timm_args())).run()
    at.button(key="pg.import_load").click().run()
    assert not at.exception
    assert at.session_state["pg.scheduler"] == "timm:create_scheduler_v2"
    infos = [shown(i.value) for i in at.info]
    assert any("Loaded timm:create_scheduler_v2" in i for i in infos), infos
    assert any("steps = 11 epochs" in i for i in infos), infos


def test_a_few_hundred_bytes_of_nested_yaml_aliases_are_refused_at_once_not_expanded():
    """The "billion laughs": 9 levels of 10 aliases each stand for 10^10 nodes; a config never needs an alias."""
    import time

    from lrlab.io import import_config

    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9)
    )
    assert len(bomb) < 600
    start = time.perf_counter()
    with pytest.raises(LrlabError) as refused:
        import_config(bomb)
    assert time.perf_counter() - start < 5
    assert "aliases" in str(refused.value) and "line 2" in str(refused.value)
