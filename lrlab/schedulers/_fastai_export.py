"""Exported fastai scripts: a tiny ``Learner`` fitted with the schedule's own fastai call.

Each script defines ``train(steps, steps_per_epoch)``, which fits a Linear model (one layer per param
group) on a ``TensorDataset`` of ``steps_per_epoch`` batches per epoch and returns the lr of every
update as ``learn.recorder.lrs`` records it (fastai's last param group: lrlab's group 0).
"""

from __future__ import annotations

from typing import Any

from lrlab.specs import ScheduleConfig, invalid

#: fastai methods that schedule the momentum ('mom'), which torch's Adagrad lacks
MOMENTUM_METHODS = ("fit_one_cycle", "fine_tune")

STOP_AFTER = """

class StopAfter(Callback):
    "Ends training after `steps` updates over all fits (fine_tune runs two) and keeps the lr of each."

    order, run_valid = 61, False  # after ParamScheduler (60) has set and logged the batch's lr

    def __init__(self, steps):
        self.steps, self.lrs = steps, []

    def before_fit(self):
        if len(self.lrs) >= self.steps:
            raise CancelFitException()

    def after_batch(self):
        self.lrs.append(self.opt.hypers[-1]["lr"])  # what learn.recorder.lrs logs: the last param group's lr
        if len(self.lrs) >= self.steps:
            raise CancelFitException()
"""


def _value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_value(x) for x in v)
        return f"[{inner}]" if isinstance(v, list) else f"({inner})"
    return repr(float(v)) if isinstance(v, float) else repr(v)


def _kwargs(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in kwargs.items())


def _optimizer(config: ScheduleConfig, method: str) -> tuple[str, str]:
    """(import line, opt_func expression) for lrlab's optimizer setting."""
    if config.optimizer == "sgd":
        return "from fastai.optimizer import SGD", f"partial(SGD, mom={config.momentum!r})"
    if config.optimizer in ("adam", "adamw"):
        b1, b2 = config.betas
        decouple = config.optimizer == "adamw"
        return "from fastai.optimizer import Adam", f"partial(Adam, mom={b1!r}, sqr_mom={b2!r}, decouple_wd={decouple})"
    if method in MOMENTUM_METHODS:
        raise invalid(
            "optimizer",
            config.optimizer,
            f"fastai's {method} schedules the momentum ('mom'), which torch's Adagrad does not have "
            "(KeyError: 'mom' in ParamScheduler.before_batch); use 'sgd', 'adam' or 'adamw'",
        )
    return "from fastai.optimizer import OptimWrapper", "partial(OptimWrapper, opt=torch.optim.Adagrad)"


def _call_lines(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[str], str, bool]:
    """(lines before the fit, the fit call, whether StopAfter is used)."""
    if method == "fit":  # combine_scheds in a ParamScheduler
        phases = kwargs["scheds"]
        pcts = _value([ph["pct"] for ph in phases])
        annealers = []
        for ph in phases:
            values = [ph["start"], ph["end"], *([ph["power"]] if ph["name"] == "SchedPoly" else [])]
            annealers.append(f"{ph['name']}({', '.join(_value(float(v)) for v in values)})")
        before = [
            "n_epoch = math.ceil(steps / steps_per_epoch)  # fastai trains whole epochs",
            f"sched = combine_scheds({pcts}, [{', '.join(annealers)}])",
        ]
        return before, 'learn.fit(n_epoch, cbs=ParamScheduler({"lr": sched}))', False
    if method in ("fit_one_cycle", "fit_flat_cos"):
        before = ["n_epoch = math.ceil(steps / steps_per_epoch)  # fastai trains whole epochs"]
        return before, f"learn.{method}(n_epoch, {_kwargs(kwargs)})", False
    if method == "fit_sgdr":
        call = f"learn.fit_sgdr({args[0]}, {args[1]}, {_kwargs(kwargs)}, cbs=run)"
        return ["run = StopAfter(steps)  # fit_sgdr's length is its own: stop at `steps` updates"], call, True
    freeze = kwargs["freeze_epochs"]
    before = [
        f"epochs = max(0, math.ceil(steps / steps_per_epoch) - {freeze})  # stage 2 fills the rest of the run",
        "run = StopAfter(steps)  # the recorder keeps only the last fit: StopAfter keeps both",
    ]
    return before, f"learn.fine_tune(epochs, {_kwargs(kwargs)}, cbs=run)", True


def script(config: ScheduleConfig, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], *, title: str) -> str:
    """The runnable script for a fastai schedule (see the module docstring)."""
    opt_import, opt_func = _optimizer(config, method)
    before, call, stops = _call_lines(method, args, kwargs)
    n_groups = 1 + len(config.group_lrs)
    layers = ", ".join(["nn.Linear(1, 1)"] * n_groups)
    if method == "fit":
        names = ", ".join(["ParamScheduler", *sorted({ph["name"] for ph in kwargs["scheds"]}), "combine_scheds"])
        schedule_import = f"from fastai.callback.schedule import {names}"
    else:
        schedule_import = (
            "import fastai.callback.schedule  # noqa: F401  (patches fit_one_cycle, fit_flat_cos, fit_sgdr, "
            "fine_tune onto Learner)"
        )
    imports = [
        "import math",
        "from functools import partial",
        "",
        "import torch",
        *(["from fastai.callback.core import Callback, CancelFitException"] if stops else []),
        schedule_import,
        "from fastai.data.core import DataLoaders",
        "from fastai.learner import Learner",
        opt_import,
        "from torch import nn",
        "from torch.utils.data import TensorDataset",
    ]
    result = "run.lrs" if stops else "learn.recorder.lrs[:steps]"
    return f'''"""{title}

fastai's own learn.{method}(...) on a tiny Learner, exported by lrlab. train() returns the lr of every
update as learn.recorder.lrs records it (the last param group's). Replace the data and model with yours.
"""

{chr(10).join(imports)}

STEPS = {config.steps}
STEPS_PER_EPOCH = {config.steps_per_epoch}
{STOP_AFTER if stops else ""}

def tiny_learner(steps_per_epoch):
    """Your data and model here: steps_per_epoch batches of 2 an epoch; one param group per layer."""
    x = torch.linspace(-1, 1, 2 * steps_per_epoch).unsqueeze(1)
    train_ds, valid_ds = TensorDataset(x, 2 * x), TensorDataset(x[:2], 2 * x[:2])
    dls = DataLoaders.from_dsets(train_ds, valid_ds, bs=2, device="cpu", num_workers=0)
    model = nn.Sequential({layers})  # fastai's param groups run body -> head (the last)
    splitter = lambda m: [list(layer.parameters()) for layer in m]  # noqa: E731
    opt_func = {opt_func}
    return Learner(dls, model, loss_func=nn.MSELoss(), opt_func=opt_func, splitter=splitter)


def train(steps=STEPS, steps_per_epoch=STEPS_PER_EPOCH):
    learn = tiny_learner(steps_per_epoch)
{_indent_before(before)}    with learn.no_bar(), learn.no_logging():  # no progress bar or epoch table
        {_wrap(call)}
    return [float(lr) for lr in {result}]


if __name__ == "__main__":
    lrs = train()
    print(f"{{len(lrs)}} updates: lr {{lrs[0]:.4g}} first, {{max(lrs):.4g}} at most, {{lrs[-1]:.4g}} last")
'''.replace("\n\n\n\n", "\n\n\n")


def _wrap(call: str, width: int = 100) -> str:
    """A call on one line, or its arguments one per line where it is long (inside ``train``'s ``with``)."""
    if len(call) + 8 <= width:
        return call
    head, args = call.split("(", 1)
    parts, depth, current = [], 0, ""
    for ch in args[:-1]:
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        current += ch
    parts.append(current.strip())
    inner = "".join(f"            {part},\n" for part in parts)
    return f"{head}(\n{inner}        )"


def _indent_before(before: list[str]) -> str:
    return "".join(f"    {line}\n" for line in before)
