"""lrlab's throw-away optimizer (lrlab.optimizers) against plain ``torch.optim`` optimizers.

A curve's scheduler is built on the torch optimizer with, on the instance, a ``step()`` that does
nothing and group methods that are torch's own without the ``torch._dynamo`` wrapper. Here every torch and
transformers schedule is also built on the plain torch optimizer and stepped as a training loop does
(``optimizer.step()`` then ``scheduler.step()``, with a real gradient so that the step is a real one);
the two runs must give the same lr (and momentum) at every step, bit for bit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import lrlab
from lrlab import SCHEDULERS
from lrlab.optimizers import throwaway
from lrlab.simulate import resolve
from lrlab.specs import ScheduleConfig

ROOT = Path(__file__).resolve().parents[1]
STEPS = 60
#: WarmupThenPlateau is lrlab's hand-written switch between two torch schedulers (tests/test_compose.py)
TORCH_LIKE = sorted(
    name
    for name, spec in SCHEDULERS.items()
    if spec.library in ("torch", "transformers") and name != "WarmupThenPlateau"
)
PLAIN = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adagrad": torch.optim.Adagrad}


def _plain_run(config: ScheduleConfig, metrics: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The schedule on a plain torch optimizer, trained for real on f(w) = w² (one parameter per group)."""
    spec, params, ctx = resolve(config)
    weights = [torch.nn.Parameter(torch.ones(1)) for _ in ctx.group_lrs]
    groups = [{"params": [w], "lr": lr} for w, lr in zip(weights, ctx.group_lrs, strict=True)]
    kwargs = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    if config.optimizer in ("adam", "adamw"):
        kwargs = {"betas": config.betas}
    optimizer = PLAIN[config.optimizer](groups, lr=ctx.group_lrs[0], **kwargs)
    scheduler = spec.build(optimizer, params, ctx)
    lrs, moms = [], []
    for t in range(STEPS):
        group = optimizer.param_groups[0]
        lrs.append([g["lr"] for g in optimizer.param_groups])
        moms.append(group["betas"][0] if "betas" in group else group.get("momentum", np.nan))
        optimizer.zero_grad()
        sum((w**2).sum() for w in weights).backward()
        optimizer.step()
        scheduler.step(metrics[t]) if metrics is not None else scheduler.step()
    return np.array(lrs), np.array(moms)


@pytest.mark.parametrize("name", TORCH_LIKE)
def test_every_torch_and_transformers_curve_is_the_one_a_plain_torch_optimizer_gives(name):
    spec = SCHEDULERS[name]
    groups = (0.05,) if spec.groups else ()
    config = ScheduleConfig.make(name, {}, steps=STEPS, group_lrs=groups)
    metrics = np.linspace(1.0, 0.5, STEPS // 2).repeat(2) if spec.needs_metric else None  # plateaus every 2
    lrs, moms = _plain_run(config, metrics)
    curve = lrlab.simulate(config, metrics=metrics)
    columns = ["lr", *[f"lr_{g}" for g in range(1, lrs.shape[1])]]
    np.testing.assert_array_equal(curve.frame[columns].to_numpy(), lrs)
    if "momentum" in curve.frame:
        np.testing.assert_array_equal(curve.frame["momentum"].to_numpy(), moms)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("name", ["OneCycleLR", "CyclicLR"])
def test_cycled_momentum_and_beta1_are_the_plain_optimizers(name, optimizer):
    config = ScheduleConfig.make(name, {}, steps=STEPS, optimizer=optimizer, group_lrs=(0.02,))
    lrs, moms = _plain_run(config, None)
    frame = lrlab.simulate(config).frame
    np.testing.assert_array_equal(frame[["lr", "lr_1"]].to_numpy(), lrs)
    column = "beta1" if optimizer != "sgd" else "momentum"
    np.testing.assert_array_equal(frame[column].to_numpy(), moms)


def test_the_throwaway_is_the_real_optimizer_class_with_its_defaults_and_groups():
    opt = throwaway(ScheduleConfig.make("StepLR", optimizer="adam", betas=(0.8, 0.99)), (0.1, 0.01))
    assert type(opt) is torch.optim.Adam
    assert opt.defaults["betas"] == (0.8, 0.99) and [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert (
        "momentum" not in throwaway(ScheduleConfig.make("StepLR", optimizer="adagrad"), (0.1,)).defaults
    )  # what CyclicLR refuses to cycle


def test_drawing_curves_adds_no_optimizer_class_to_the_process():
    """Tools find optimizers by name among Optimizer's subclasses (Lightning's CLI: ``--optimizer SGD``);
    a curve must not add a second "SGD" there."""

    def names() -> list[str]:
        seen, todo = [], list(torch.optim.Optimizer.__subclasses__())
        while todo:
            cls = todo.pop()
            seen.append(f"{cls.__module__}.{cls.__qualname__}")
            todo.extend(cls.__subclasses__())
        return sorted(seen)

    before = names()
    for optimizer in ("sgd", "adam", "adamw", "adagrad"):
        lrlab.curve("StepLR", steps=5, optimizer=optimizer)
    assert names() == before
    assert not [n for n in before if n.startswith("lrlab.")]


def test_the_holders_state_dict_round_trips_like_torchs():
    opt = throwaway(ScheduleConfig.make("StepLR", momentum=0.5), (0.1, 0.2))
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        scheduler.step()
    again = throwaway(ScheduleConfig.make("StepLR", momentum=0.5), (0.1, 0.2))
    again.load_state_dict(opt.state_dict())
    assert [g["lr"] for g in again.param_groups] == [0.05, 0.1]
    assert [g["initial_lr"] for g in again.param_groups] == [0.1, 0.2]


def test_a_torch_or_transformers_curve_does_not_import_torchs_compiler():
    """torch's own optimizer.step() imports torch._dynamo (1.3 s here); a curve must not."""
    code = (
        "import sys, lrlab; lrlab.curve('StepLR', steps=20); lrlab.curve('OneCycleLR', steps=20, optimizer='adam'); "
        "lrlab.curve('get_cosine_schedule_with_warmup', steps=20, num_warmup_steps=2); "
        "import torch; torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1).step(); "
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    # the last line proves the probe: a plain optimizer's step does import it
    assert out.stdout.split() == ["True"], out.stdout + out.stderr
    code = code.replace("import torch; torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1).step(); ", "")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"], out.stdout + out.stderr
