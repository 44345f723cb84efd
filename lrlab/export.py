"""Code and config that people paste into their training, generated from a :class:`ScheduleConfig`.

Targets:

- ``torch`` — optimizer, scheduler and a minimal training loop with ``scheduler.step()`` in the
  right place (per optimizer step or per epoch).
- ``transformers`` — ``get_scheduler(...)`` with ``scheduler_specific_kwargs`` and the
  ``TrainingArguments`` fields where the schedule is one of the Trainer's ``lr_scheduler_type``\\ s;
  otherwise the ``Trainer(optimizers=(optimizer, scheduler))`` form.
- ``lightning`` — ``configure_optimizers`` returning the scheduler dict with the right
  ``interval`` (Lightning's default is ``"epoch"``) and ``frequency``.
- ``yaml`` / ``json`` — lrlab's own versioned config (``version: 1``), which :mod:`lrlab.io` reads.

Every snippet is generated from the scheduler's spec; the tests execute them and check that they
reproduce lrlab's curve. :class:`~lrlab.specs.LrlabError` when a target can't express a config.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from lrlab.simulate import resolve
from lrlab.specs import LrlabError, RunContext, ScheduleConfig, SchedulerSpec

TARGETS = ("torch", "transformers", "lightning", "yaml", "json")
# schedules whose object is not a torch LRScheduler (Lightning refuses them without a step hook)
NOT_LR_SCHEDULERS = frozenset({"get_greedy_schedule"})
SCHEMA_VERSION = 1


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


def _imports(body: str) -> list[str]:
    lines = ["import math"] if "math." in body else []
    lines.append("import torch")
    if "lr_scheduler." in body:
        lines.append("from torch.optim import lr_scheduler")
    if "SWALR(" in body:
        lines.append("from torch.optim.swa_utils import SWALR")
    names = sorted({n for n in _hf_names() if f"{n}(" in body})
    if names:
        lines.append(f"from transformers import {', '.join(names)}")
    return lines


def _hf_names() -> list[str]:
    from lrlab.schedulers import SCHEDULERS

    return [*(n for n, s in SCHEDULERS.items() if s.library == "transformers"), "get_scheduler"]


def optimizer_code(config: ScheduleConfig, ctx: RunContext, params: str = "model") -> list[str]:
    """``model = …`` and ``optimizer = …`` with one param group per configured group."""
    n = len(ctx.group_lrs)
    cls, extra = {
        "adam": ("Adam", f"betas={tuple(config.betas)!r}"),
        "adamw": ("AdamW", f"betas={tuple(config.betas)!r}"),
        "adagrad": ("Adagrad", ""),
    }.get(config.optimizer, ("SGD", f"momentum={config.momentum!r}"))
    tail = f", {extra}" if extra else ""
    lines = []
    if params == "model":
        lines.append(
            f"model = torch.nn.Sequential(*[torch.nn.Linear(10, 10) for _ in range({n})])"
            if n > 1
            else "model = torch.nn.Linear(10, 10)"
        )
    owner = "model" if params == "model" else "self"
    if n == 1:
        lines.append(f"optimizer = torch.optim.{cls}({owner}.parameters(), lr={ctx.base_lr!r}{tail})")
    else:
        layers = f"{owner}[{{g}}]" if params == "model" else f"{owner}.net[{{g}}]"
        groups = ",\n".join(
            f'        {{"params": {layers.format(g=g)}.parameters(), "lr": {lr!r}}}'
            for g, lr in enumerate(ctx.group_lrs)
        )
        lines.append(f"optimizer = torch.optim.{cls}(\n    [\n{groups},\n    ],\n    lr={ctx.base_lr!r}{tail},\n)")
    return lines


def pytorch(config: ScheduleConfig) -> str:
    """A runnable PyTorch script. ``model``, ``optimizer`` and ``scheduler`` are built at module level
    (importing it builds them and trains nothing); ``train()`` runs the loop with ``scheduler.step()``
    after ``optimizer.step()`` — per optimizer step or per epoch as configured — and returns the lr of
    every step; ``python script.py`` calls it."""
    spec, params, ctx = resolve(config)
    build = constructor(spec, params, ctx)
    per_epoch = config.interval == "epoch"
    loop = [
        f"def train(steps={config.steps}, steps_per_epoch={config.steps_per_epoch}):",
        '    """Your training loop; returns the learning rate each optimizer step used."""',
        "    lrs = []",
        "    for step in range(steps):",
        '        lrs.append(optimizer.param_groups[0]["lr"])',
        "        loss = model(torch.randn(8, 10)).pow(2).mean()  # your forward pass and loss",
        "        loss.backward()",
        "        optimizer.step()",
        "        optimizer.zero_grad()",
    ]
    if spec.needs_metric:
        loop += [
            "        val_loss = loss.item()  # your validation metric",
            "        scheduler.step(val_loss)  # after each evaluation",
        ]
    elif per_epoch:
        loop += [
            "        if (step + 1) % steps_per_epoch == 0:",
            "            scheduler.step()  # once per epoch, after the epoch's last optimizer.step()",
        ]
    else:
        loop.append("        scheduler.step()  # after optimizer.step(), once per optimizer step")
    loop += [
        "    return lrs",
        "",
        "",
        'if __name__ == "__main__":',
        "    lrs = train()",
        '    print(f"trained {len(lrs)} steps, final lr {lrs[-1]:.6g}")',
    ]
    objects = optimizer_code(config, ctx)
    objects[0] = objects[0] + "  # your model"
    body = "\n".join([*objects, build, "", "", *loop])
    return "\n".join(_imports(body)) + "\n\n" + body + "\n"


# ---- transformers ------------------------------------------------------------------------------

# transformers' get_scheduler passes only these to the schedule function (the rest go in kwargs)
_HF_POSITIONAL = ("num_warmup_steps", "num_training_steps")


def trainer_fields(config: ScheduleConfig) -> dict[str, Any]:
    """The ``TrainingArguments`` fields that make the Trainer build this schedule, or LrlabError
    saying why it can't (a torch scheduler, per-epoch stepping, a run length the Trainer would not use)."""
    spec, params, ctx = resolve(config)
    if spec.library != "transformers" or not spec.aliases:
        raise LrlabError(
            f"{spec.name} is not one of the Trainer's lr_scheduler_type values: pass the scheduler itself with "
            "Trainer(optimizers=(optimizer, scheduler))",
            field="target",
        )
    if config.interval != "step":
        raise LrlabError("The Trainer steps the scheduler after every optimizer step, not per epoch", field="interval")
    if len(ctx.group_lrs) > 1:
        raise LrlabError(
            "TrainingArguments has one learning_rate: several param groups need optimizers=(…)", field="target"
        )
    fields: dict[str, Any] = {"learning_rate": ctx.base_lr, "lr_scheduler_type": spec.aliases[0]}
    rest = dict(params)
    if "num_warmup_steps" in rest:
        fields["warmup_steps"] = rest.pop("num_warmup_steps")
    training = rest.pop("num_training_steps", None)
    if training is not None and training != config.steps and spec.name != "get_wsd_schedule":
        raise LrlabError(
            f"The Trainer sizes the schedule with max_steps = the run length ({config.steps}), but "
            f"num_training_steps is {training}: use Trainer(optimizers=(optimizer, scheduler))",
            field="num_training_steps",
        )
    if spec.name == "get_wsd_schedule" and training is not None and training != config.steps:
        rest["num_training_steps"] = training
    fields["max_steps"] = config.steps
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in rest.items() if v is not None}
    if kwargs:
        fields["lr_scheduler_kwargs"] = kwargs
    if spec.needs_metric:  # the Trainer steps these with the eval metric after each evaluation
        fields.update(eval_strategy="steps", eval_steps=1, metric_for_best_model="eval_loss")
    return fields


def transformers(config: ScheduleConfig) -> str:
    """``TrainingArguments`` fields and the equivalent ``get_scheduler`` call, or the
    ``Trainer(optimizers=…)`` form where the Trainer can't build the schedule by name."""
    spec, params, ctx = resolve(config)
    try:
        fields = trainer_fields(config)
    except LrlabError as exc:
        body = "\n".join([*optimizer_code(config, ctx), constructor(spec, params, ctx)])
        return (
            f"# Not expressible as TrainingArguments: {exc}\n"
            + "\n".join(_imports(body))
            + "\nfrom transformers import Trainer\n\n"
            + body
            + "\n\n# the Trainer calls scheduler.step() after every optimizer step\n"
            "trainer = Trainer(model=model, args=args, optimizers=(optimizer, scheduler))  # your model and args\n"
        )
    args = ",\n".join(f"    {k}={v!r}" for k, v in fields.items())
    kwargs = fields.get("lr_scheduler_kwargs", {})
    get_args = [f'"{fields["lr_scheduler_type"]}"', "optimizer"]
    if "warmup_steps" in fields:
        get_args.append(f"num_warmup_steps={fields['warmup_steps']!r}")
    get_args.append(f"num_training_steps={fields['max_steps']!r}")
    if kwargs:
        get_args.append(f"scheduler_specific_kwargs={kwargs!r}")
    body = "\n".join(optimizer_code(config, ctx))
    return (
        "import torch\nfrom transformers import TrainingArguments, get_scheduler\n\n"
        "# 1. With the Trainer: these TrainingArguments make it build this schedule\n"
        "#    (max_steps counts optimizer steps, i.e. after gradient_accumulation_steps)\n"
        f'args = TrainingArguments(\n    output_dir="out",\n{args},\n)\n\n'
        "# 2. In your own loop: the same schedule from get_scheduler\n"
        f"{body}\n"
        f"scheduler = get_scheduler({', '.join(get_args)})\n"
    )


# ---- lightning ---------------------------------------------------------------------------------


def lightning(config: ScheduleConfig) -> str:
    """A ``LightningModule.configure_optimizers`` returning the optimizer and the scheduler dict."""
    spec, params, ctx = resolve(config)
    n = len(ctx.group_lrs)
    net = f"torch.nn.Sequential(*[torch.nn.Linear(10, 10) for _ in range({n})])" if n > 1 else "torch.nn.Linear(10, 10)"
    build = constructor(spec, params, ctx)
    inner = [*optimizer_code(config, ctx, params="self"), *build.split("\n")]
    inner = [line.replace("self.parameters()", "self.net.parameters()") for line in inner]
    interval = "epoch" if config.interval == "epoch" else "step"
    sched = [
        '        "scheduler": scheduler,',
        f'        "interval": "{interval}",  # Lightning\'s default is "epoch": say "step" for a per-step schedule',
        '        "frequency": 1,',
    ]
    if spec.needs_metric:
        sched.append('        "monitor": "train_loss",  # better: a validation metric you self.log(...)')
    body = "\n".join("        " + line if line else "" for line in "\n".join(inner).split("\n"))
    imports = _imports("\n".join(inner))
    return "\n".join(
        [
            *imports,
            "import lightning as L",
            "",
            "",
            "class Model(L.LightningModule):",
            "    def __init__(self):",
            "        super().__init__()",
            f"        self.net = {net}",
            "",
            "    def training_step(self, batch, batch_idx):",
            "        loss = self.net(batch).pow(2).mean()  # your loss",
            '        self.log("train_loss", loss)',
            "        return loss",
            "",
            *(
                [
                    "    def lr_scheduler_step(self, scheduler, metric):",
                    "        # GreedyLR is not a torch LRScheduler: Lightning needs this hook and passes it no metric",
                    '        scheduler.step(float(self.trainer.callback_metrics["train_loss"]))',
                    "",
                ]
                if spec.name in NOT_LR_SCHEDULERS
                else []
            ),
            "    def configure_optimizers(self):",
            body,
            "        return {",
            '            "optimizer": optimizer,',
            '            "lr_scheduler": {',
            *["        " + s for s in sched],
            "            },",
            "        }",
            "",
        ]
    )


# ---- config ------------------------------------------------------------------------------------


def config_dict(config: ScheduleConfig) -> dict[str, Any]:
    """lrlab's config schema: the validated config (defaults filled in) under a version number."""
    spec, params, _ = resolve(config)
    data = {"version": SCHEMA_VERSION, **config.to_dict()}
    data["scheduler"] = spec.name
    data["params"] = ScheduleConfig.make(spec.name, params).params_dict
    return data


def render(config: ScheduleConfig, target: str) -> str:
    """The snippet for ``target`` (one of :data:`TARGETS`), or :class:`LrlabError`."""
    if target == "torch":
        return pytorch(config)
    if target == "transformers":
        return transformers(config)
    if target == "lightning":
        return lightning(config)
    if target == "json":
        return json.dumps(config_dict(config), indent=2) + "\n"
    if target == "yaml":
        return yaml.safe_dump(config_dict(config), sort_keys=False)
    raise LrlabError(f"Invalid target ({target!r}): must be one of {', '.join(TARGETS)}", field="target")
