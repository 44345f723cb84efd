"""Train a small model with real schedules and record what the optimizer actually applied.

The training lab's core (no Streamlit): :func:`train` runs one model per schedule — same initial
weights, same batches, same optimizer settings — and records, at every optimizer step, the lr read
from ``optimizer.param_groups`` *before* ``optimizer.step()`` (what the update used), the training
loss, and per epoch the validation loss and accuracy. Each run then checks its recorded lrs against
:func:`lrlab.simulate` of the same config: the curve the rest of lrlab draws is what the model saw.

Loop, as in the reference articles: for every batch ``optimizer.step()`` then ``scheduler.step()``
(``interval="step"``), or ``scheduler.step()`` once per epoch (``interval="epoch"``); metric-driven
schedulers (ReduceLROnPlateau, GreedyLR) are stepped once per epoch with the validation loss. The
scheduler is not stepped after the very last optimizer step (it would change nothing the model sees,
and OneCycleLR sized exactly to the run would be asked for one step too many).

Bounds keep one visitor from holding a shared server: see :data:`LIMITS`.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from lrlab.datasets import DATASETS, Dataset, load, train_size
from lrlab.schedulers import get_spec
from lrlab.simulate import _context, resolve, simulate
from lrlab.specs import LrlabError, ScheduleConfig, invalid

Model = Literal["mlp", "cnn"]
MODELS: tuple[str, ...] = ("mlp", "cnn")
TRAIN_OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw")

#: (low, high) for every bounded input; the web app and the CLI share them.
LIMITS: dict[str, tuple[float, float]] = {
    "epochs": (1, 100),
    "batch_size": (8, 1024),
    "hidden": (4, 512),
    "layers": (1, 4),
    "seed": (0, 2**31 - 1),
    "momentum": (0.0, 0.999),
    "weight_decay": (0.0, 1.0),
    "schedules": (1, 6),
}
#: optimizer steps of one run, and of all runs of one call together
MAX_STEPS_PER_RUN = 20_000
MAX_STEPS_TOTAL = 60_000
#: the lr check: recorded vs simulated, relative
LR_CHECK_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TrainSetup:
    """Everything shared by the runs of one comparison (the schedule is the only thing that varies)."""

    dataset: str = "digits"
    model: Model = "mlp"
    hidden: int = 64
    layers: int = 1
    optimizer: str = "sgd"  # "sgd" (with momentum) or "adamw"; overrides each config's optimizer
    momentum: float = 0.9  # SGD's momentum (beta1 for AdamW comes from the config's betas)
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    seed: int = 0

    def validate(self) -> TrainSetup:
        if self.dataset not in DATASETS:
            raise invalid("dataset", self.dataset, "must be one of " + ", ".join(map(repr, DATASETS)))
        if self.model not in MODELS:
            raise invalid("model", self.model, "must be one of " + ", ".join(map(repr, MODELS)))
        if self.model == "cnn" and self.dataset != "digits":
            raise invalid("model", self.model, "a CNN needs images: use it with the digits dataset")
        if self.optimizer not in TRAIN_OPTIMIZERS:
            raise invalid("optimizer", self.optimizer, "must be 'sgd' or 'adamw'")
        for name in ("epochs", "batch_size", "hidden", "layers", "seed"):
            value = getattr(self, name)
            low, high = LIMITS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise invalid(name, value, f"must be an integer from {low:,} to {high:,}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            low, high = LIMITS[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise invalid(name, value, f"must be a number from {low:g} to {high:g}")
        return self

    def steps_per_epoch(self, data: Dataset | None = None) -> int:
        """Batches per epoch (the last one may be smaller) of the setup's dataset, or of ``data``."""
        n = data.n_train if data is not None else train_size(self.dataset)
        return math.ceil(n / self.batch_size)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the previous setting.

    The lab's models are tiny: a second thread buys nothing, and when other work shares the cores
    (a server with several visitors, a test run) torch's spinning OpenMP workers make it far slower —
    measured under load ≈ 9 on 2 cores: LR finder ×2 + 3 trainings took 61–73 s with 2 threads,
    1.2–2.5 s with one.
    """
    previous = torch.get_num_threads()
    if previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            torch.set_num_threads(previous)


def build_model(setup: TrainSetup, data: Dataset) -> nn.Module:
    """The setup's model with weights drawn from ``setup.seed`` (the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setup.seed)
        if setup.model == "cnn":
            h, w = data.image_shape or (8, 8)
            return nn.Sequential(
                nn.Unflatten(1, (1, h, w)),
                nn.Conv2d(1, 16, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(16, 32, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(32 * (h // 2) * (w // 2), data.n_classes),
            )
        layers: list[nn.Module] = []
        width = data.n_features
        for _ in range(setup.layers):
            layers += [nn.Linear(width, setup.hidden), nn.ReLU()]
            width = setup.hidden
        layers.append(nn.Linear(width, data.n_classes))
        return nn.Sequential(*layers)


def build_optimizer(setup: TrainSetup, config: ScheduleConfig, params: Any) -> torch.optim.Optimizer:
    """SGD with the setup's momentum, or AdamW with the config's betas; lr = the config's base lr."""
    if setup.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.base_lr, betas=tuple(config.betas), weight_decay=setup.weight_decay)
    return torch.optim.SGD(params, lr=config.base_lr, momentum=setup.momentum, weight_decay=setup.weight_decay)


def batch_order(n: int, batch_size: int, epoch: int, seed: int) -> list[torch.Tensor]:
    """The batches of one epoch: a permutation seeded by (seed, epoch), cut into batch_size pieces.

    Every run of a comparison, and the LR finder, sees the same batches in the same order.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return list(torch.randperm(n, generator=generator).split(batch_size))


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of the model on (x, y), without gradients."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = float(nn.functional.cross_entropy(logits, y))
        accuracy = float((logits.argmax(dim=1) == y).float().mean())
    model.train(was_training)
    return loss, accuracy


@dataclass
class Run:
    """One schedule's training: what the optimizer applied and how the model did."""

    label: str
    config: ScheduleConfig
    steps: int  # optimizer steps planned
    steps_per_epoch: int
    lr: list[float] = field(default_factory=list)  # group 0's lr at each optimizer step, read before it
    momentum: list[float] = field(default_factory=list)  # SGD momentum / AdamW beta1 at each step
    train_loss: list[float] = field(default_factory=list)  # per optimizer step (the batch's loss)
    val_loss: list[float] = field(default_factory=list)  # per epoch
    val_accuracy: list[float] = field(default_factory=list)  # per epoch
    seconds: float = 0.0
    status: Literal["pending", "running", "done", "diverged", "stopped", "refused"] = "pending"
    message: str = ""  # why it diverged / what the library refused
    lr_check: float | None = None  # max relative |recorded − lrlab.simulate| over the recorded steps

    @property
    def epochs_done(self) -> int:
        return len(self.val_loss)

    def summary(self) -> dict[str, Any]:
        """Final and best validation figures (NaN when no epoch finished)."""
        acc = self.val_accuracy
        return {
            "schedule": self.label,
            "status": self.status,
            "final_val_accuracy": acc[-1] if acc else math.nan,
            "best_val_accuracy": max(acc) if acc else math.nan,
            "best_epoch": int(np.argmax(acc)) + 1 if acc else None,
            "final_val_loss": self.val_loss[-1] if self.val_loss else math.nan,
            "final_train_loss": self.train_loss[-1] if self.train_loss else math.nan,
            "seconds": self.seconds,
            "lr_check": self.lr_check,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "config": self.config.to_dict(),
            "status": self.status,
            "message": self.message,
            "steps_per_epoch": self.steps_per_epoch,
            "lr": self.lr,
            "momentum": self.momentum,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "seconds": self.seconds,
            "lr_check_max_rel_diff": self.lr_check,
        }


def fit_config(config: ScheduleConfig, setup: TrainSetup, data: Dataset) -> ScheduleConfig:
    """The config as trained: its steps and steps per epoch are the run's, its optimizer the setup's.

    Parameters are kept as given (a schedule sized for another run length is trained as it is; pass
    configs built for ``steps`` to size them, as the presets and the Train page do).
    """
    spe = setup.steps_per_epoch(data)
    fitted = replace(
        config,
        steps=setup.epochs * spe,
        steps_per_epoch=spe,
        optimizer=setup.optimizer,
        momentum=setup.momentum,
        group_lrs=(),
    )
    if config.group_lrs:
        raise invalid("group_lrs", list(config.group_lrs), "the training lab trains one param group")
    if config.interval not in ("step", "epoch"):  # explicit-epoch stepping is not wired into the lab's loop
        raise invalid("interval", config.interval, "the training lab steps the scheduler per step or per epoch")
    resolve(fitted)  # the config's own validation, with its field names
    return fitted


def with_peak_lr(config: ScheduleConfig, peak_lr: float) -> ScheduleConfig:
    """The config with ``peak_lr`` as its base lr, and as its ``max_lr`` where its scheduler has one
    (OneCycleLR, CyclicLR): a comparison of schedule *shapes* at the same peak, as the Train & compare
    page runs it. Where the run's base lr is a scheduler parameter of its own (CyclicLR's ``base_lr``,
    the bottom of the cycle), it becomes a tenth of the peak."""
    spec = get_spec(config.scheduler)
    params = config.params_dict
    if any(p.name == "max_lr" for p in spec.params):
        params["max_lr"] = peak_lr
    # CyclicLR's own base_lr is the bottom of its cycle; the other libraries' (Keras initial_learning_rate,
    # optax peak_value, fastai lr_max) is the start or the peak
    base_lr = peak_lr / 10 if spec.base_lr_param and spec.library == "torch" else peak_lr
    return replace(config, params=ScheduleConfig.make(config.scheduler, params).params, base_lr=base_lr)


def plan(configs: Sequence[ScheduleConfig], setup: TrainSetup) -> tuple[Dataset, list[ScheduleConfig]]:
    """Validate a comparison before anything runs: the setup, each config, and the step budget."""
    setup.validate()
    low, high = LIMITS["schedules"]
    if not low <= len(configs) <= high:
        raise invalid("schedules", len(configs), f"train {low} to {high} schedules at once")
    data = load(setup.dataset)
    fitted = [fit_config(c, setup, data) for c in configs]
    per_run = fitted[0].steps
    if per_run > MAX_STEPS_PER_RUN:
        raise invalid(
            "epochs",
            setup.epochs,
            f"{setup.epochs} epochs × {fitted[0].steps_per_epoch} batches = {per_run:,} optimizer steps; "
            f"at most {MAX_STEPS_PER_RUN:,} per schedule (fewer epochs or a larger batch size)",
        )
    if per_run * len(fitted) > MAX_STEPS_TOTAL:
        raise invalid(
            "schedules",
            len(fitted),
            f"{len(fitted)} schedules × {per_run:,} steps exceeds {MAX_STEPS_TOTAL:,} optimizer steps in all",
        )
    return data, fitted


Progress = Callable[[list[Run], int], None]  # (runs so far, index of the running one); may raise to stop


def train(
    configs: Sequence[ScheduleConfig],
    setup: TrainSetup | None = None,
    *,
    labels: Sequence[str] | None = None,
    progress: Progress | None = None,
    report_every: int = 25,
) -> list[Run]:
    """Train ``setup``'s model once per config; return the runs in order.

    ``progress(runs, i)`` is called every ``report_every`` optimizer steps and at the end of each
    epoch and run, with the runs list as it stands (the current run partially filled); it may raise
    to stop (the Streamlit page's stop button does so by rerunning). A run whose loss becomes NaN or
    infinite stops there with status ``"diverged"``; a scheduler that refuses a step stops its run with
    status ``"refused"`` and the library's message.
    """
    setup = (setup or TrainSetup()).validate()
    data, fitted = plan(configs, setup)
    labels = list(labels) if labels is not None else [c.scheduler for c in configs]
    if len(labels) != len(fitted):
        raise invalid("labels", len(labels), f"give one label per config ({len(fitted)})")
    initial = build_model(setup, data)
    runs = [Run(label, cfg, cfg.steps, cfg.steps_per_epoch) for label, cfg in zip(labels, fitted, strict=True)]
    with one_thread():
        _train_all(runs, initial, setup, data, progress, report_every)
    return runs


def _train_all(
    runs: list[Run], initial: nn.Module, setup: TrainSetup, data: Dataset, progress: Progress | None, report_every: int
) -> None:
    for i, run in enumerate(runs):
        _train_one(
            run, copy.deepcopy(initial), setup, data, lambda i=i: progress(runs, i) if progress else None, report_every
        )
        if progress is not None:
            progress(runs, i)


def _train_one(
    run: Run, model: nn.Module, setup: TrainSetup, data: Dataset, report: Callable[[], None], report_every: int
) -> None:
    config = run.config
    spec, params, _ = resolve(config)
    optimizer = build_optimizer(setup, config, model.parameters())
    planned = None  # a library that is not a torch LRScheduler: the values it sets, applied before each update
    try:
        if spec.drive is None:
            scheduler = spec.build(optimizer, params, _context(config))
        else:
            scheduler, planned = None, _library_values(config)
    except LrlabError as exc:
        run.status, run.message = "refused", str(exc)
        return
    except Exception as exc:  # the library's own validation
        run.status, run.message = "refused", f"{spec.qualified_name} rejected these settings: {exc}"
        return
    group = optimizer.param_groups[0]
    beta = setup.optimizer == "adamw"
    start = time.perf_counter()
    run.status = "running"
    t = 0
    model.train()
    try:
        for epoch in range(setup.epochs):
            for idx in batch_order(data.n_train, setup.batch_size, epoch, setup.seed):
                if planned is not None:  # what the library's own loop sets before this update (fastai: before_batch)
                    _apply(optimizer, planned, t, beta)
                run.lr.append(float(group["lr"]))
                run.momentum.append(float(group["betas"][0] if beta else group["momentum"]))
                optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
                value = loss.item()
                run.train_loss.append(value)
                if not math.isfinite(value):
                    run.status = "diverged"
                    run.message = (
                        f"the training loss became {value} at step {t} (lr {run.lr[-1]:.3g}); training stopped"
                    )
                    return
                loss.backward()
                optimizer.step()
                t += 1
                last = t == run.steps
                if scheduler is not None and config.interval == "step" and not spec.needs_metric and not last:
                    _step(scheduler)
                if t % report_every == 0:
                    report()
            val_loss, val_acc = evaluate(model, data.x_val, data.y_val)
            if not math.isfinite(val_loss):
                run.status = "diverged"
                run.message = f"the validation loss became {val_loss} after epoch {epoch + 1}; training stopped"
                return
            run.val_loss.append(val_loss)
            run.val_accuracy.append(val_acc)
            if t < run.steps and scheduler is not None:
                if spec.needs_metric:
                    _step(scheduler, val_loss)
                elif config.interval == "epoch":
                    _step(scheduler)
            report()
        run.status = "done"
    except _Refused as exc:
        run.status, run.message = "refused", f"{spec.name} refused step {t}: {exc.__cause__}"
    finally:
        run.seconds = time.perf_counter() - start
        if run.status == "running":  # interrupted from outside (stop button)
            run.status = "stopped"
        run.lr_check = _check_lrs(run, spec.needs_metric)


def wait_settled(runs: Sequence[Run], timeout: float = 10.0) -> bool:
    """Wait until no run of ``runs`` is still ``"running"`` (at most ``timeout`` seconds); True if none is.

    A page that reruns while a training is under way (Streamlit's Stop: a rerun starts at once in a
    new thread, and the old one stops at its next progress report) would otherwise read runs whose
    lists the old thread is still appending to, and draw an lr list one step longer than its steps."""
    deadline = time.monotonic() + timeout
    while any(r.status == "running" for r in runs):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


class _Refused(Exception):
    pass


def _library_values(config: ScheduleConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """The lr (and momentum / beta1) a library that is not a torch LRScheduler sets at every update of
    the run — timm's step_update, a Keras or optax schedule of the step, fastai's ParamScheduler — from
    the real library driven by its adapter (:func:`lrlab.simulate.simulate`)."""
    curve = simulate(config)
    if curve.stopped_at is not None:
        raise LrlabError(f"{curve.spec.name} refused step {curve.stopped_at}: {curve.refusal}")
    lrs = curve.frame["lr"].to_numpy()
    column = curve.momentum_column
    return lrs, (curve.frame[column].to_numpy() if column else None)


def _apply(optimizer: torch.optim.Optimizer, planned: tuple[np.ndarray, np.ndarray | None], t: int, beta: bool) -> None:
    lrs, moms = planned
    for group in optimizer.param_groups:
        group["lr"] = float(lrs[t])
        if moms is not None:
            if beta:
                group["betas"] = (float(moms[t]), group["betas"][1])
            elif "momentum" in group:
                group["momentum"] = float(moms[t])


def _step(scheduler: Any, *args: float) -> None:
    try:
        scheduler.step(*args)
    except Exception as exc:
        raise _Refused() from exc


def _check_lrs(run: Run, needs_metric: bool) -> float | None:
    """Max relative difference between the lrs the optimizer applied and lrlab's simulation."""
    n = len(run.lr)
    if n == 0:
        return None
    kwargs: dict[str, Any] = {}
    if needs_metric:
        if not run.val_loss:
            return 0.0 if all(lr == run.config.base_lr for lr in run.lr) else math.inf
        kwargs = {"metrics": run.val_loss, "eval_every": run.steps_per_epoch}
    expected = simulate(replace(run.config, steps=n), **kwargs).frame["lr"].to_numpy()
    got = np.asarray(run.lr)
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(got - expected) / scale))


def check_applied(runs: Sequence[Run]) -> None:
    """Raise :class:`LrlabError` if any run's applied lrs differ from its schedule's curve."""
    for run in runs:
        if run.lr_check is not None and run.lr_check > LR_CHECK_TOLERANCE:
            raise LrlabError(
                f"{run.label}: the lr applied by the optimizer differs from the schedule's curve "
                f"(max relative difference {run.lr_check:.3g})"
            )
