"""Code and config that people paste into their training, generated from a :class:`ScheduleConfig`.

Targets: ``torch`` (optimizer + scheduler + a minimal training loop with ``scheduler.step()`` in the
right place). Every snippet is generated from the scheduler's spec and is executed by the tests,
which check that it reproduces lrlab's curve.
"""

from __future__ import annotations

from typing import Any

from lrlab.simulate import resolve
from lrlab.specs import LrlabError, RunContext, ScheduleConfig, SchedulerSpec

TARGETS = ("torch",)


def _literal(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def constructor(spec: SchedulerSpec, params: dict[str, Any], ctx: RunContext) -> str:
    """Source that assigns the configured scheduler to ``scheduler`` (``optimizer`` must exist)."""
    if spec.code is not None:
        return spec.code(params, ctx)
    kwargs = ", ".join(f"{k}={_literal(v)}" for k, v in params.items() if v is not None)
    prefix = "lr_scheduler." if spec.library == "torch" else ""
    return f"scheduler = {prefix}{spec.name}(optimizer{', ' if kwargs else ''}{kwargs})"


def _imports(spec: SchedulerSpec, body: str) -> list[str]:
    lines = ["import math"] if "math." in body else []
    lines.append("import torch")
    if "lr_scheduler." in body:
        lines.append("from torch.optim import lr_scheduler")
    if "SWALR(" in body:
        lines.append("from torch.optim.swa_utils import SWALR")
    if spec.library == "transformers":
        lines.append(f"from transformers import {spec.name}")
    return lines


def _optimizer_code(config: ScheduleConfig, ctx: RunContext) -> list[str]:
    n = len(ctx.group_lrs)
    cls, extra = ("Adam", "betas=(0.9, 0.999)") if config.optimizer == "adam" else ("SGD", "momentum=0.9")
    lines = [
        f"model = torch.nn.Sequential(*[torch.nn.Linear(10, 10) for _ in range({n})])"
        if n > 1
        else "model = torch.nn.Linear(10, 10)"
    ]
    if n == 1:
        lines.append(f"optimizer = torch.optim.{cls}(model.parameters(), lr={ctx.base_lr!r}, {extra})")
    else:
        groups = ",\n".join(
            f'        {{"params": model[{g}].parameters(), "lr": {lr!r}}}' for g, lr in enumerate(ctx.group_lrs)
        )
        lines.append(
            f"optimizer = torch.optim.{cls}(\n    [\n{groups},\n    ],\n    lr={ctx.base_lr!r},\n    {extra},\n)"
        )
    return lines


def pytorch(config: ScheduleConfig) -> str:
    """A runnable PyTorch script: model, optimizer, the scheduler, and a training loop that records
    the lr of every step in ``lrs`` (``scheduler.step()`` after ``optimizer.step()``)."""
    spec, params, ctx = resolve(config)
    build = constructor(spec, params, ctx)
    loop = [
        "lrs = []",
        f"for step in range({config.steps}):",
        '    lrs.append(optimizer.param_groups[0]["lr"])',
        "    loss = model(torch.randn(8, 10)).pow(2).mean()  # your forward pass and loss",
        "    loss.backward()",
        "    optimizer.step()",
        "    optimizer.zero_grad()",
    ]
    if spec.needs_metric:
        loop += [
            "    val_loss = loss.item()  # replace with your validation metric",
            "    scheduler.step(val_loss)  # reacts to the metric after each evaluation",
        ]
    else:
        loop.append("    scheduler.step()  # after optimizer.step(), once per optimizer step")
    body = "\n".join([*_optimizer_code(config, ctx), build, "", *loop])
    return "\n".join(_imports(spec, body)) + "\n\n" + body + "\n"


def render(config: ScheduleConfig, target: str) -> str:
    """The snippet for ``target`` (one of :data:`TARGETS`), or :class:`LrlabError`."""
    if target == "torch":
        return pytorch(config)
    raise LrlabError(f"Invalid target ({target!r}): must be one of {', '.join(TARGETS)}", field="target")
