"""Logged learning rates read back into lrlab's rows: logs written by the real tools (a transformers
Trainer, a Lightning Trainer with CSVLogger + LearningRateMonitor, a torch SummaryWriter) equal
``lrlab.curve`` of the scheduler the run used, so each tool's step convention is proven; restarts,
NaN, logging every k steps, several groups, malformed files and the size bounds are reported."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import lrlab
from lrlab import logs
from lrlab.logs import LoggedRun, read
from lrlab.specs import LrlabError

STEPS = 20


def assert_rows_equal(run: LoggedRun, expected, column: str = "lr", *, rows=None) -> None:
    """The logged column equals the curve at the logged rows (all of them unless ``rows`` given)."""
    got_rows = run.steps
    if rows is not None:
        np.testing.assert_array_equal(got_rows, rows)
    expected = np.asarray(expected, dtype=np.float64)[got_rows]
    np.testing.assert_allclose(run.frame[column].to_numpy(), expected, rtol=1e-12, atol=1e-15)


# ---- transformers Trainer -----------------------------------------------------------------------


class _Regression(torch.utils.data.Dataset):
    def __len__(self):
        return 32

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"x": torch.randn(4, generator=g), "labels": torch.randn(1, generator=g)}


class _Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 1)

    def forward(self, x, labels=None):
        out = self.lin(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def run_hf_trainer(folder: Path, *, logging_steps: int, report_to: list[str]) -> Path:
    """A real transformers Trainer (cosine with 3 warm-up steps, 20 updates); its trainer_state.json."""
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(folder),
        per_device_train_batch_size=4,
        max_steps=STEPS,
        learning_rate=0.1,
        lr_scheduler_type="cosine",
        warmup_steps=3,
        logging_steps=logging_steps,
        eval_strategy="steps",
        eval_steps=5,
        report_to=report_to,
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(model=_Linear(), args=args, train_dataset=_Regression(), eval_dataset=_Regression())
        trainer.train()
    state = folder / "checkpoint" / "trainer_state.json"
    state.parent.mkdir()
    trainer.state.save_to_json(str(state))
    return state


@pytest.fixture(scope="module")
def hf_run(tmp_path_factory):
    pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("hf")
    state = run_hf_trainer(folder, logging_steps=1, report_to=["tensorboard"])
    events = sorted(folder.glob("runs/*/events.out.tfevents.*"))
    return state, events


def hf_plan():
    return lrlab.curve("cosine", steps=STEPS, base_lr=0.1, num_warmup_steps=3)["lr"].to_numpy()


def test_a_trainer_state_entry_at_step_s_is_the_lr_of_row_s_minus_1(hf_run):
    state, _ = hf_run
    history = json.loads(state.read_text())["log_history"]
    logged = {e["step"]: e["learning_rate"] for e in history if "learning_rate" in e}
    plan = hf_plan()
    # the numbers behind the convention: step 1 is the first update (lr 0 in warm-up), step 4 the peak
    assert logged[1] == plan[0] == 0.0
    assert logged[4] == plan[3] == 0.1
    assert logged[STEPS] == plan[STEPS - 1]
    run = read(state)
    assert run.source == "trainer_state.json" and run.step_convention == "count"
    assert_rows_equal(run, plan, rows=np.arange(STEPS))
    assert run.meta["max_steps"] == STEPS and run.meta["logging_steps"] == 1


def test_evaluation_entries_and_the_train_summary_are_skipped_and_counted(hf_run):
    state, _ = hf_run
    history = json.loads(state.read_text())["log_history"]
    others = sum("learning_rate" not in e for e in history)
    assert others == STEPS // 5 + 1  # four evaluations and the final summary
    run = read(state)
    assert any(f"{others} log_history entries without a learning_rate" in s for s in run.skipped)


def test_a_checkpoint_folder_an_upload_and_bytes_read_the_same(hf_run):
    state, _ = hf_run
    by_path = read(state).frame
    by_folder = read(state.parent).frame
    upload = io.BytesIO(state.read_bytes())
    upload.name = "trainer_state.json"
    by_upload = read(upload).frame
    by_bytes = read(state.read_bytes(), name="trainer_state.json").frame
    for frame in (by_folder, by_upload, by_bytes):
        assert frame.equals(by_path)


def test_the_trainers_tensorboard_events_give_the_same_rows_in_float32(hf_run):
    _, events = hf_run
    assert len(events) == 1
    run = read(events[0])
    assert run.source == "tensorboard events" and run.step_convention == "count"
    assert run.precision == np.finfo(np.float32).eps
    plan32 = hf_plan().astype(np.float32).astype(np.float64)
    np.testing.assert_array_equal(run.steps, np.arange(STEPS))
    np.testing.assert_array_equal(run.lr, plan32)
    assert any("float32" in s for s in run.read)
    assert any("train/loss" in s for s in run.skipped)


def test_a_trainer_logging_every_3_steps_logs_rows_2_5_8(tmp_path):
    pytest.importorskip("transformers")
    state = run_hf_trainer(tmp_path, logging_steps=3, report_to=[])
    run = read(state)
    assert_rows_equal(run, hf_plan(), rows=np.arange(2, STEPS, 3))
    assert any("every 3 steps" in s for s in run.read)


# ---- Lightning Trainer --------------------------------------------------------------------------


def run_lightning(folder: Path, configure, *, interval: str, every: int, epochs: int = 2) -> Path:
    """A real Lightning fit (10 batches an epoch) with CSVLogger + LearningRateMonitor; its metrics.csv."""
    L = pytest.importorskip("lightning.pytorch")
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(4, 1)
            self.b = torch.nn.Linear(4, 1)

        def training_step(self, batch, _index):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.a(x) + self.b(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            optimizer, scheduler = configure(self)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": interval}}

    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(40, 4, generator=g), torch.randn(40, 1, generator=g))
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=CSVLogger(str(folder), name="logs", version=0),
        callbacks=[LearningRateMonitor(logging_interval=interval, log_momentum=True)],
        log_every_n_steps=every,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(Module(), torch.utils.data.DataLoader(data, batch_size=4))
    return folder / "logs" / "version_0" / "metrics.csv"


def test_lightning_step_s_is_row_s_with_two_adamw_groups_and_beta1(tmp_path):
    from transformers import get_cosine_schedule_with_warmup

    def configure(module):
        optimizer = torch.optim.AdamW(
            [{"params": module.a.parameters()}, {"params": module.b.parameters(), "lr": 0.05}], lr=0.1
        )
        return optimizer, get_cosine_schedule_with_warmup(optimizer, 3, STEPS)

    run = read(run_lightning(tmp_path, configure, interval="step", every=1))
    plan = lrlab.curve("cosine", steps=STEPS, base_lr=0.1, group_lrs=[0.05], num_warmup_steps=3, optimizer="adamw")
    assert run.source == "lightning metrics.csv" and run.step_convention == "index"
    assert run.lr_columns == ("lr", "lr_1")
    assert dict(run.names)["lr_1"] == "lr-AdamW/pg2"
    assert_rows_equal(run, plan["lr"], rows=np.arange(STEPS))
    assert_rows_equal(run, plan["lr_1"], "lr_1")
    assert run.momentum_column == "beta1" and (run.frame["beta1"] == 0.9).all()
    assert any("without a learning rate" in s for s in run.skipped)  # the train_loss rows


def test_lightning_logging_every_3_steps_with_cycled_momentum(tmp_path):
    def configure(module):
        optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS)

    run = read(run_lightning(tmp_path, configure, interval="step", every=3))
    plan = lrlab.curve("OneCycleLR", steps=STEPS, base_lr=0.1, max_lr=0.1, total_steps=STEPS)
    # the monitor logs when (updates done + 1) % 3 == 0: steps 2, 5, 8, … are rows 2, 5, 8, …
    assert_rows_equal(run, plan["lr"], rows=np.arange(2, STEPS, 3))
    assert_rows_equal(run, plan["momentum"], "momentum")
    assert run.frame["momentum"].iloc[1] == pytest.approx(0.85)  # row 5: the peak lr, the lowest momentum
    assert any("every 3 steps" in s for s in run.read)


def test_lightning_logging_per_epoch_gives_the_first_row_of_each_epoch(tmp_path):
    def configure(module):
        optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
        return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    run = read(run_lightning(tmp_path, configure, interval="epoch", every=1, epochs=3))
    plan = lrlab.curve("StepLR", steps=30, steps_per_epoch=10, interval="epoch", step_size=1, gamma=0.5)
    assert_rows_equal(run, plan["lr"], rows=[0, 10, 20])
    assert run.lr.tolist() == [0.1, 0.05, 0.025]


# ---- TensorBoard SummaryWriter ------------------------------------------------------------------


def write_events(folder: Path, scalars) -> Path:
    """A real torch SummaryWriter file with ``scalars`` = [(tag, value, step), …] in this order."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for tag, value, step in scalars:
        writer.add_scalar(tag, value, step)
    writer.close()
    (path,) = folder.glob("events.out.tfevents.*")
    return path


def stepped_lrs(make_scheduler, steps: int, groups=(0.1,)):
    """The lr of every update, read from the real optimizer before its step."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in groups]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, groups, strict=True)], momentum=0.9)
    scheduler = make_scheduler(optimizer)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return np.array(out)


def test_a_summary_writer_fed_the_update_index_reads_back_as_the_curve_in_float32(tmp_path):
    lrs = stepped_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS), STEPS)[:, 0]
    path = write_events(tmp_path, [(tag, v, t) for t, v in enumerate(lrs) for tag in ("train/lr", "loss")])
    run = read(path)
    plan = lrlab.curve("CosineAnnealingLR", steps=STEPS, T_max=STEPS)["lr"].to_numpy()
    np.testing.assert_array_equal(run.steps, np.arange(STEPS))
    np.testing.assert_array_equal(run.lr, plan.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(run.lr, plan, rtol=run.precision)
    assert dict(run.names) == {"lr": "train/lr"} and run.step_convention == "index"
    assert any("loss" in s for s in run.skipped)


def test_several_groups_and_their_momentum_tags_become_lr_lr_1_and_momentum(tmp_path):
    lrs = stepped_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 4, 0.5), 12, groups=(0.1, 0.02, 0.3))
    scalars = []
    for t, row in enumerate(lrs):
        for g, lr in enumerate(row):
            scalars.append((f"lr-SGD/pg{g + 1}", lr, t))
        scalars.append(("lr-SGD/pg1-momentum", 0.9, t))
    run = read(write_events(tmp_path, scalars))
    plan = lrlab.curve("StepLR", steps=12, base_lr=0.1, group_lrs=[0.02, 0.3], step_size=4, gamma=0.5)
    assert run.lr_columns == ("lr", "lr_1", "lr_2")
    for column in run.lr_columns:
        np.testing.assert_allclose(run.frame[column], plan[column], rtol=run.precision)
    assert run.frame["momentum"].tolist() == pytest.approx([0.9] * 12)


def test_a_restart_in_the_middle_is_reported_and_the_later_values_kept(tmp_path):
    first = stepped_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 5, 0.5), 12)[:, 0]
    # the run dies after row 11 and resumes from a checkpoint at row 8 with a rebuilt scheduler
    resumed = [0.07] * 6
    scalars = [("lr", v, t) for t, v in enumerate(first)] + [("lr", v, 8 + i) for i, v in enumerate(resumed)]
    run = read(write_events(tmp_path, scalars))
    assert run.restarts == (8,)
    assert run.steps.tolist() == list(range(14))
    np.testing.assert_allclose(run.lr[:8], first[:8], rtol=run.precision)
    np.testing.assert_allclose(run.lr[8:], 0.07, rtol=run.precision)
    assert any("went back from 11 to 8" in s for s in run.skipped)


def test_nan_values_are_skipped_and_counted(tmp_path):
    scalars = [("learning_rate", math.nan if t in (3, 4) else 0.1, t) for t in range(8)]
    run = read(write_events(tmp_path, scalars))
    assert run.steps.tolist() == [0, 1, 2, 5, 6, 7]
    assert any("2 NaN" in s and "3, 4" in s for s in run.skipped)
    assert any("gaps" in s for s in run.read)


# ---- CSV exports (W&B, TensorBoard) and Lightning-style files -----------------------------------


def test_a_wandb_export_logged_every_5_steps_reads_the_first_run_and_skips_the_bands():
    plan = lrlab.curve("cosine", steps=STEPS, base_lr=0.1, num_warmup_steps=3)["lr"].to_numpy()
    key = "train/learning_rate"
    lines = [f"Step,run-a - {key},run-a - {key}__MIN,run-a - {key}__MAX,run-b - {key}"]
    for t in range(0, STEPS, 5):
        lines.append(f"{t},{float(plan[t])!r},{float(plan[t])!r},{float(plan[t])!r},0.5")
    run = read("\n".join(lines).encode(), name="wandb_export.csv")
    assert run.source == "csv export" and run.step_convention == "index"
    assert_rows_equal(run, plan, rows=[0, 5, 10, 15])
    assert any("every 5 steps" in s for s in run.read)
    assert any("run-b" in s for s in run.skipped) and any("__MIN/__MAX" in s for s in run.skipped)


def test_a_wandb_export_by_trainer_global_step_counts_updates():
    plan = hf_plan()
    lines = ["train/global_step,my run - train/learning_rate"] + [
        f"{s},{float(plan[s - 1])!r}" for s in range(1, STEPS + 1)
    ]
    run = read("\n".join(lines).encode())
    assert run.step_convention == "count"
    assert_rows_equal(run, plan, rows=np.arange(STEPS))


def test_a_tensorboard_csv_export_is_read_as_float32():
    plan = lrlab.curve("ExponentialLR", steps=10, gamma=0.9)["lr"].to_numpy()
    lines = ["Wall time,Step,Value"] + [f"1700000000.{t},{t},{float(np.float32(plan[t]))!r}" for t in range(10)]
    run = read("\n".join(lines).encode(), name="run-.-tag-lr.csv")
    assert run.precision == np.finfo(np.float32).eps
    np.testing.assert_allclose(run.lr, plan, rtol=run.precision)


def test_the_plateau_pages_reader_still_reads_the_same_exports():
    from lrlab.metrics import parse_metric_csv

    series = parse_metric_csv("Wall time,Step,Value\n1,0,0.5\n2,10,0.4\n")
    assert series.steps.tolist() == [0, 10] and series.values.tolist() == [0.5, 0.4]


def test_a_csv_restart_and_repeated_steps_keep_the_last_value():
    text = "step,lr\n0,0.1\n1,0.2\n2,0.3\n2,0.35\n1,0.9\n2,0.8\n3,0.7\n"
    run = read(text.encode())
    assert run.restarts == (1,)
    assert run.lr.tolist() == [0.1, 0.9, 0.8, 0.7]
    assert any("repeated" in s for s in run.skipped)


def test_a_trainer_state_history_with_nan_and_a_restart():
    history = [{"step": s, "learning_rate": 0.1 * s} for s in range(1, 6)]
    history += [{"step": 3, "learning_rate": 0.5}, {"step": 4, "learning_rate": float("nan")}]
    history += [{"step": 5, "eval_loss": 1.0}]
    run = read(json.dumps({"log_history": history}).encode())
    assert run.restarts == (2,)
    assert run.steps.tolist() == [0, 1, 2, 3, 4]
    assert run.lr.tolist() == pytest.approx([0.1, 0.2, 0.5, 0.4, 0.5])
    assert any("NaN" in s for s in run.skipped) and any("1 log_history entry" in s for s in run.skipped)


# ---- malformed files and bounds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            {"log_history": [{"step": 1, "learning_rate": 0.1}] * 3 + [{"step": 4, "learning_rate": "abc"}]},
            "Invalid trainer_state.json: log_history[3].learning_rate is 'abc', expected a number",
        ),
        (
            {"log_history": [{"learning_rate": 0.1}]},
            "Invalid trainer_state.json: log_history[0] has a learning_rate but no step",
        ),
        (
            {"log_history": [{"step": 1.5, "learning_rate": 0.1}]},
            "Invalid trainer_state.json: log_history[0].step is 1.5, expected a whole number",
        ),
        ({"log_history": {"step": 1}}, "Invalid trainer_state.json: log_history is dict, expected a list"),
        ({"log_history": [3]}, "Invalid trainer_state.json: log_history[0] is int, expected an object"),
        ({"global_step": 3}, "Invalid trainer_state.json: expected the Trainer's state"),
        ({"log_history": [{"step": 1, "loss": 2.0}]}, "no log_history entry has a learning_rate"),
    ],
)
def test_a_malformed_trainer_state_names_the_field(state, message):
    with pytest.raises(LrlabError) as error:
        read(json.dumps(state).encode(), name="trainer_state.json")
    assert message in str(error.value)


def test_invalid_json_names_the_line():
    with pytest.raises(LrlabError, match=r"not valid JSON \(line 2"):
        read(b'{"log_history": [\n  {"step": 1,, }]}', name="trainer_state.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("step,lr-SGD\n0,0.1\n1,abc\n", "line 3, column 'lr-SGD' is 'abc', expected a number"),
        ("step,lr-SGD\n0,0.1\n-1,0.1\n", "line 3, column 'step' is '-1', expected a whole number"),
        ("step,lr\n0.5,0.1\n", "line 2, column 'step' is '0.5'"),
        ("step,loss,accuracy\n0,1.0,0.5\n", "no learning-rate column among 'step', 'loss', 'accuracy'"),
    ],
)
def test_a_malformed_csv_names_the_line_and_column(text, message):
    with pytest.raises(LrlabError) as error:
        read(text.encode(), name="metrics.csv")
    assert message in str(error.value)


def test_an_event_file_without_an_lr_tag_lists_its_tags(tmp_path):
    path = write_events(tmp_path, [("loss", 1.0, 0), ("accuracy", 0.5, 0)])
    with pytest.raises(LrlabError, match="no learning-rate tag among its scalar tags 'loss', 'accuracy'"):
        read(path)


def test_a_truncated_event_file_reads_what_is_there_and_says_the_rest_is_missing(tmp_path):
    data = write_events(tmp_path, [("lr", 0.1, t) for t in range(10)]).read_bytes()
    run = read(data[: len(data) - 10], name="events.out.tfevents.1.host")
    assert run.steps.tolist() == list(range(9))
    assert any("truncated or damaged record" in s for s in run.skipped)


def test_a_damaged_event_file_is_refused_not_guessed():
    with pytest.raises(LrlabError, match="no scalar values"):
        read(b"\x00" * 100, name="events.out.tfevents.123.host")


def test_files_over_the_size_bound_are_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 100)
    big = b"step,lr\n" + b"0,0.1\n" * 30
    with pytest.raises(LrlabError, match="188 bytes, at most 100"):
        read(big)
    path = tmp_path / "metrics.csv"
    path.write_bytes(big)
    with pytest.raises(LrlabError, match=r"'metrics\.csv' has 188 bytes, at most 100"):
        read(path)


def test_more_rows_than_the_bound_are_refused(monkeypatch):
    monkeypatch.setattr(logs, "MAX_LOG_ROWS", 5)
    with pytest.raises(LrlabError, match="more than 5 rows"):
        read(("step,lr\n" + "".join(f"{t},0.1\n" for t in range(10))).encode())
    history = [{"step": s, "learning_rate": 0.1} for s in range(1, 11)]
    with pytest.raises(LrlabError, match="more than 5 log_history entries"):
        read(json.dumps({"log_history": history}).encode())


def test_a_folder_with_several_logs_is_refused_with_their_names(tmp_path):
    (tmp_path / "metrics.csv").write_text("step,lr\n0,0.1\n")
    (tmp_path / "trainer_state.json").write_text('{"log_history": []}')
    with pytest.raises(LrlabError, match=r"found metrics\.csv, trainer_state\.json"):
        read(tmp_path)


def test_importing_lrlab_logs_does_not_import_the_tools():
    code = (
        "import sys, lrlab.logs; print([m for m in ('tensorboard', 'transformers', 'lightning') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
