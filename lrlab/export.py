"""Code and config that people paste into their training, generated from a :class:`ScheduleConfig`.

Targets:

- ``torch`` — optimizer, scheduler and a minimal training loop with ``scheduler.step()`` in the
  right place (per optimizer step or per epoch).
- ``transformers`` — ``get_scheduler(...)`` with ``scheduler_specific_kwargs`` and the
  ``TrainingArguments`` fields where the schedule is one of the Trainer's ``lr_scheduler_type``\\ s;
  otherwise the ``Trainer(optimizers=(optimizer, scheduler))`` form.
- ``lightning`` — ``configure_optimizers`` returning the scheduler dict with the right
  ``interval`` (Lightning's default is ``"epoch"``) and ``frequency``.
- ``timm`` / ``keras`` / ``optax`` / ``fastai`` — a schedule of that library in its own idiom (timm's
  loop with ``step_update`` and ``step``; a Keras optimizer given the schedule; ``optax.sgd`` given the
  schedule; a fastai ``Learner.fit_one_cycle``), written by the library's adapter (the spec's
  ``export``). Each defines ``train(steps, steps_per_epoch)`` returning the lr of every update.
- ``yaml`` / ``json`` — lrlab's own versioned config (``version: 1``), which :mod:`lrlab.io` reads.

Every snippet is generated from the scheduler's spec; the tests execute them and check that they
reproduce lrlab's curve. :class:`~lrlab.specs.LrlabError` when a target can't express a config.

No exported code crashes: where the library refuses a ``scheduler.step()`` of the configured run
(OneCycleLR past ``total_steps``), the loop stops before that call, with a comment saying why and how
to fix the config, and rendering a code target emits a :class:`~lrlab.specs.LibraryRefusal` warning.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import yaml

from lrlab.codegen import constructor
from lrlab.simulate import _fast, _simulate, has_fast_path, refusal_message, resolve, stepping_call
from lrlab.specs import MAX_STEPS, SCHEMA_VERSION, LibraryRefusal, LrlabError, RunContext, ScheduleConfig, SchedulerSpec

#: Code in a library's own idiom: a schedule of that library, exported by its adapter.
LIBRARY_TARGETS = ("timm", "keras", "optax", "fastai")
TARGETS = ("torch", "transformers", "lightning", *LIBRARY_TARGETS, "yaml", "json")
#: torch-loop targets: only torch and transformers schedules (torch LRSchedulers) go there.
TORCH_TARGETS = ("torch", "transformers", "lightning")
# schedules whose object is not a torch LRScheduler (Lightning refuses them without a step hook)
NOT_LR_SCHEDULERS = frozenset({"get_greedy_schedule"})


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


@dataclass(frozen=True)
class Stop:
    """Where the library refuses a ``scheduler.step()`` of the exported loop."""

    after: int  # the optimizer step (1-based) after which the refused call comes: the loop runs this many
    reason: str  # the library's own error, "ValueError: …"
    call: int  # the number of the refused scheduler.step() call (1-based)
    fix: str  # how to change the config so that the whole run steps


@lru_cache(maxsize=64)
def library_stop(config: ScheduleConfig) -> Stop | None:
    """Where the real library refuses a ``scheduler.step()`` of the exported loop, or None.

    The loop calls the scheduler after every optimizer step, the last one included (a call lrlab's
    curve never needs), so the run is stepped one step further than the curve. The fast path finds
    the point where there is one; otherwise the library is stepped (cached per config)."""
    spec, params, _ = resolve(config)
    frozen = ScheduleConfig.make(spec.name, params).params
    longer = replace(config, params=frozen, steps=min(config.steps + 1, MAX_STEPS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            curve = _closed_or_stepped(longer)
        except LrlabError:  # a bound that follows the run length: the run itself
            curve = _closed_or_stepped(config)
    if curve.stopped_at is None or curve.stopped_at > config.steps:
        return None
    after = curve.stopped_at
    per_epoch = config.interval in ("epoch", "epoch_arg")
    call = after // config.steps_per_epoch if per_epoch else after
    return Stop(after, curve.refusal or "the library refuses", call, _fix(spec, config, after))


def _closed_or_stepped(config: ScheduleConfig) -> Any:
    if has_fast_path(config):
        try:
            return _fast(config)
        except LrlabError:  # no closed form for this configuration (a composition that is not a join)
            pass
    return _simulate(config)


def _fix(spec: SchedulerSpec, config: ScheduleConfig, after: int) -> str:
    steps, spe = config.steps, config.steps_per_epoch
    if spec.name == "OneCycleLR":
        if config.interval == "epoch_fraction":
            e, i = divmod(steps - 1, spe)
            needed = math.ceil(e + i / spe)
        else:
            needed = steps // spe if config.interval in ("epoch", "epoch_arg") else steps
        return f"to train all {steps} steps, set total_steps={needed} (one per scheduler.step() call of this loop)"
    return (
        f"to train all {steps} steps, change the parameters so that the library steps that far "
        f"(see its error), or train {after} steps"
    )


def _stop_comment(spec: SchedulerSpec, stop: Stop, config: ScheduleConfig) -> list[str]:
    text = (
        f"{spec.name} refuses scheduler.step() call {stop.call}, after optimizer step {stop.after} ({stop.reason}): "
        + (
            f"this loop stops there, after {stop.after} of the {config.steps} configured steps; {stop.fix}."
            if stop.after < config.steps
            else f"this loop skips that last call (no optimizer step would use its lr); {stop.fix}."
        )
    )
    return _wrap_comment(text)


def _wrap_comment(text: str, indent: str = "", width: int = 100) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(indent) + 2 + len(line) + 1 + len(word) > width:
            lines.append(f"{indent}# {line}")
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, f"{indent}# {line}"] if line else lines


def _warn_stop(spec: SchedulerSpec, stop: Stop | None, config: ScheduleConfig) -> None:
    if stop is not None:
        message = refusal_message(spec.name, stop.after, stop.reason, config.steps + 1)
        warnings.warn(
            f"{message.split('; the library curve')[0]}; the exported loop stops there", LibraryRefusal, stacklevel=3
        )


def _scheduler_lines(spec: SchedulerSpec, config: ScheduleConfig, indent: str = "        ") -> list[str]:
    """The loop's scheduler call(s) after ``optimizer.step()`` of step ``step`` (0-based)."""
    i = indent
    if spec.name == "WarmupThenPlateau":
        return [
            f"{i}if step < warmup_steps:",
            f"{i}    warmup.step()  # the warm-up, after each of its optimizer steps",
            f"{i}else:",
            f"{i}    val_loss = loss.item()  # your validation metric",
            f"{i}    plateau.step(val_loss)  # then ReduceLROnPlateau, after each evaluation",
        ]
    if spec.needs_metric:
        return [
            f"{i}val_loss = loss.item()  # your validation metric",
            f"{i}scheduler.step(val_loss)  # after each evaluation",
        ]
    if config.interval == "epoch":
        return [
            f"{i}if (step + 1) % steps_per_epoch == 0:",
            f"{i}    scheduler.step()  # once per epoch, after the epoch's last optimizer.step()",
        ]
    if config.interval == "epoch_arg":
        return [
            f"{i}if (step + 1) % steps_per_epoch == 0:",
            f"{i}    epoch = step // steps_per_epoch",
            f"{i}    scheduler.step(epoch + 1)  # once per epoch, with the number of epochs done",
        ]
    if config.interval == "epoch_fraction":
        return [
            f"{i}epoch, i = divmod(step, steps_per_epoch)  # batch i of epoch `epoch`",
            f"{i}scheduler.step(epoch + i / steps_per_epoch)  # as in torch's CosineAnnealingWarmRestarts docs",
        ]
    return [f"{i}scheduler.step()  # after optimizer.step(), once per optimizer step"]


def pytorch(config: ScheduleConfig) -> str:
    """A runnable PyTorch script. ``model``, ``optimizer`` and ``scheduler`` are built at module level
    (importing it builds them and trains nothing); ``train()`` runs the loop with the scheduler called
    after ``optimizer.step()`` as configured (per optimizer step, per epoch, with an explicit epoch) and
    returns the lr of every step; ``python script.py`` calls it. Where the library refuses a call of
    the configured run, the loop stops before it (see :func:`library_stop`)."""
    spec, params, ctx = resolve(config)
    stop = library_stop(config)
    _warn_stop(spec, stop, config)
    build = constructor(spec, params, ctx)
    steps = config.steps if stop is None else stop.after
    loop = [
        *(_stop_comment(spec, stop, config) if stop is not None else []),
        f"def train(steps={steps}, steps_per_epoch={config.steps_per_epoch}):",
        '    """Your training loop; returns the learning rate each optimizer step used."""',
        "    lrs = []",
        "    for step in range(steps):",
        '        lrs.append(optimizer.param_groups[0]["lr"])',
        "        loss = model(torch.randn(8, 10)).pow(2).mean()  # your forward pass and loss",
        "        loss.backward()",
        "        optimizer.step()",
        "        optimizer.zero_grad()",
    ]
    if stop is not None:
        loop += [
            "        if step + 1 == steps:",
            f"            break  # {spec.name} refuses the next scheduler call (see above)",
        ]
    loop += _scheduler_lines(spec, config)
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
        raise LrlabError(
            "The Trainer calls scheduler.step() after every optimizer step"
            + (", not per epoch" if config.interval == "epoch" else f", not {stepping_call(config.interval)}"),
            field="interval",
        )
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
    if spec.name == "WarmupThenPlateau":
        return (
            "# Not expressible with the Trainer: it steps one scheduler, with scheduler.step() after every optimizer\n"
            "# step (or with the eval metric for ReduceLROnPlateau), and can't switch from a warm-up to\n"
            "# ReduceLROnPlateau. Here is the loop that does it (use it, or port it into a TrainerCallback).\n"
            + pytorch(config)
        )
    # the Trainer calls scheduler.step() after every optimizer step, whatever the configured interval
    per_step = config if config.interval == "step" else replace(config, interval="step")
    stop = library_stop(per_step)
    try:
        fields = trainer_fields(config)
        if stop is not None:
            raise LrlabError(f"{spec.name} refuses a step of this run", field="steps")
    except LrlabError as exc:
        _warn_stop(spec, stop, per_step)
        body = "\n".join([*optimizer_code(config, ctx), constructor(spec, params, ctx)])
        notes = []
        if config.interval != "step":
            notes += _wrap_comment(
                f"The Trainer would call scheduler.step() after every optimizer step, not "
                f"{'once per epoch' if config.interval == 'epoch' else stepping_call(config.interval)} as configured: "
                "for that, export the PyTorch loop."
            )
        if stop is not None:
            trainer_calls = stop.call - 1  # the Trainer calls scheduler.step() after each of its max_steps
            body += f"\nmax_steps = {trainer_calls}  # at most this many: pass it as TrainingArguments(max_steps=...)"
            notes += _wrap_comment(
                f"{spec.name} refuses scheduler.step() call {stop.call} ({stop.reason}): with the Trainer "
                f"(one call per optimizer step) train at most max_steps = {trainer_calls} steps; {stop.fix}."
            )
        return (
            f"# Not expressible as TrainingArguments: {exc}\n"
            + "".join(line + "\n" for line in notes)
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
    stop = library_stop(config)
    _warn_stop(spec, stop, config)
    n = len(ctx.group_lrs)
    net = f"torch.nn.Sequential(*[torch.nn.Linear(10, 10) for _ in range({n})])" if n > 1 else "torch.nn.Linear(10, 10)"
    build = constructor(spec, params, ctx)
    inner = [*optimizer_code(config, ctx, params="self"), *build.split("\n")]
    inner = [line.replace("self.parameters()", "self.net.parameters()") for line in inner]
    interval = "epoch" if config.interval in ("epoch", "epoch_arg") else "step"
    sched = [
        '        "scheduler": scheduler,',
        f'        "interval": "{interval}",  # Lightning\'s default is "epoch": say "step" for a per-step schedule',
        '        "frequency": 1,',
    ]
    if spec.needs_metric:
        sched.append('        "monitor": "train_loss",  # better: a validation metric you self.log(...)')
    body = "\n".join("        " + line if line else "" for line in "\n".join(inner).split("\n"))
    imports = _imports("\n".join(inner))
    if spec.name == "WarmupThenPlateau":
        imports = _imports("\n".join(inner) + "\nlr_scheduler.")
        returned = [
            "        return (",
            "            [optimizer],",
            "            [",
            '                {"scheduler": warmup, "interval": "step"},',
            '                {"scheduler": plateau, "interval": "step", "monitor": "train_loss"},  # better: a validation metric',
            "            ],",
            "        )",
        ]
    else:
        returned = [
            "        return {",
            '            "optimizer": optimizer,',
            '            "lr_scheduler": {',
            *["        " + s for s in sched],
            "            },",
            "        }",
        ]
    hook = _lightning_hook(spec, config, stop, params)
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
            *hook,
            "    def configure_optimizers(self):",
            body,
            *returned,
            "",
        ]
    )


def _lightning_hook(
    spec: SchedulerSpec, config: ScheduleConfig, stop: Stop | None, params: dict[str, Any]
) -> list[str]:
    """``lr_scheduler_step`` where Lightning's own ``scheduler.step()`` / ``step(metric)`` is not the loop."""
    if spec.name in NOT_LR_SCHEDULERS:
        return [
            "    def lr_scheduler_step(self, scheduler, metric):",
            "        # GreedyLR is not a torch LRScheduler: Lightning needs this hook and passes it no metric",
            '        scheduler.step(float(self.trainer.callback_metrics["train_loss"]))',
            "",
        ]
    if spec.name == "WarmupThenPlateau":
        return [
            "    def lr_scheduler_step(self, scheduler, metric):",
            "        # the hand-written switch: the warm-up after each of the first warmup_steps optimizer steps,",
            "        # then ReduceLROnPlateau with the metric (torch can't put it in a SequentialLR)",
            "        done = self.trainer.global_step  # optimizer steps done, this one included",
            *(
                [
                    *_wrap_comment(
                        f"{spec.name}'s warm-up refuses the call after optimizer step {stop.after} ({stop.reason}): "
                        f"training stops there instead of crashing; {stop.fix}.",
                        indent="        ",
                    ),
                    f"        if done >= {stop.after}:",
                    "            self.trainer.should_stop = True",
                    "            return",
                ]
                if stop is not None
                else []
            ),
            "        if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):",
            f"            if done > {params['warmup_steps']}:  # warmup_steps",
            "                scheduler.step(metric)",
            f"        elif done <= {params['warmup_steps']}:",
            "            scheduler.step()",
            "",
        ]
    if config.interval not in ("epoch_fraction", "epoch_arg") and stop is None:
        return []
    lines = ["    def lr_scheduler_step(self, scheduler, metric):"]
    lines.append("        self.scheduler_calls = getattr(self, 'scheduler_calls', 0) + 1")
    if stop is not None:
        lines += _wrap_comment(
            f"{spec.name} refuses scheduler.step() call {stop.call} ({stop.reason}): training stops there "
            f"instead of crashing; {stop.fix}.",
            indent="        ",
        )
        lines += [
            f"        if self.scheduler_calls >= {stop.call}:",
            "            self.trainer.should_stop = True",
            "            return",
        ]
    if config.interval == "epoch_fraction":
        lines += [
            f"        epoch, i = divmod(self.scheduler_calls - 1, {config.steps_per_epoch})  # batch i of epoch `epoch`",
            f"        scheduler.step(epoch + i / {config.steps_per_epoch})  # torch's CosineAnnealingWarmRestarts docs",
        ]
    elif config.interval == "epoch_arg":
        lines.append("        scheduler.step(self.scheduler_calls)  # scheduler.step(epoch + 1): the epochs done")
    else:
        lines.append("        scheduler.step()")
    return [*lines, ""]


# ---- config ------------------------------------------------------------------------------------


def config_dict(config: ScheduleConfig) -> dict[str, Any]:
    """lrlab's config schema: the validated config (defaults filled in) under a version number."""
    spec, params, _ = resolve(config)
    data = {"version": SCHEMA_VERSION, **config.to_dict()}
    data["scheduler"] = spec.name
    data["params"] = ScheduleConfig.make(spec.name, params).params_dict
    return data


def targets_for(spec: SchedulerSpec) -> tuple[str, ...]:
    """The export targets that can express a schedule of ``spec``'s library (the others say why not)."""
    if spec.library in ("torch", "transformers"):
        return (*TORCH_TARGETS, "yaml", "json")
    if spec.library == "timm":  # timm's schedulers drive a torch optimizer: its loop is a PyTorch script
        return ("timm", "yaml", "json")
    return (spec.library, "yaml", "json")


def _library_script(config: ScheduleConfig, target: str) -> str:
    spec, params, ctx = resolve(config)
    if spec.library != target or spec.export is None:
        raise LrlabError(
            f"{spec.name} is a {spec.library} schedule: the {target} export writes {target}'s own schedules; "
            f"export it as {' / '.join(t for t in targets_for(spec) if t not in ('yaml', 'json'))} code",
            field="target",
        )
    return spec.export(config, params, ctx)


def _torch_only(config: ScheduleConfig, target: str) -> None:
    from lrlab.schedulers import get_spec

    spec = get_spec(config.scheduler)
    if spec.library not in ("torch", "transformers"):
        raise LrlabError(
            f"{spec.name} is a {spec.library} schedule, not a torch LRScheduler: export it as "
            f"{' / '.join(t for t in targets_for(spec) if t not in ('yaml', 'json'))} code",
            field="target",
        )


def render(config: ScheduleConfig, target: str) -> str:
    """The snippet for ``target`` (one of :data:`TARGETS`), or :class:`LrlabError`."""
    if target in LIBRARY_TARGETS:
        return _library_script(config, target)
    if target in TORCH_TARGETS:
        _torch_only(config, target)
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
