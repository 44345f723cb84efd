"""The Pitfalls gallery: real learning-rate-scheduler mistakes, each reproduced live.

Every entry of :data:`PITFALLS` (a plain dict, in teaching order) is a :class:`Pitfall`: a slug, a
title, the symptom ("what you see"), why it happens, a demo, and the fix as short runnable PyTorch.
A demo builds the REAL ``torch.optim`` / ``transformers`` objects and steps them the way the faulty
training loop does, next to the way it was meant, and returns both curves as a :class:`Demo`
(plus the library's own warning or exception text, captured, and a few key figures). Where a demo
is a plain schedule, it is :func:`lrlab.curve`; where the pitfall is about the loop itself, the
loop is written out here with the real objects.

Row ``t`` of a trace is the learning rate the ``(t+1)``-th ``optimizer.step()`` uses (read from
``optimizer.param_groups[0]`` right before that call), as everywhere in lrlab.

Each fix is a :class:`string.Template` (``${name}`` = a demo setting): the code shown on the page
is filled in with the current settings. Run as a script, it leaves the intended trace in the
variable named by :attr:`Pitfall.fix_output` (the tests run every fix and compare).

This module does not import streamlit (the page, ``pages/pitfalls.py``, renders it) nor lightning
(pitfall ``lightning-epoch-interval`` steps the torch scheduler once per epoch, which is what
Lightning does by default; the tests prove that claim with a real ``lightning.Trainer``).
"""

from __future__ import annotations

import copy
import textwrap
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from string import Template
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
import torch
from torch.optim import lr_scheduler

from lrlab.plots import HOVER_LABEL, MARGIN, STEP_SHAPE, decimate
from lrlab.simulate import curve
from lrlab.specs import LrlabError, invalid

#: The optimizer's lr in every demo (the peak of the schedules).
BASE_LR = 0.1

Role = Literal["wrong", "intended", "context"]


# ---- records -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Trace:
    """One line of a demo's chart. ``role`` says whether it is what goes wrong or what was meant."""

    name: str
    role: Role
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Message:
    """What the library said, verbatim: ``kind`` is the class (``UserWarning``, ``ValueError``, …)."""

    kind: str
    text: str
    when: str  # in words: which call produced it

    @property
    def line(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass(frozen=True)
class Fact:
    """A key figure of the demo (shown as a metric): label, value as text, and a hover help."""

    label: str
    value: str
    help: str = ""


@dataclass(frozen=True)
class Marker:
    """A vertical line on the chart at ``x`` (a milestone, the end of a schedule, a crash)."""

    x: float
    label: str


@dataclass(frozen=True)
class Demo:
    """What a demo returns: the traces (wrong and intended), the library's messages, key figures."""

    traces: tuple[Trace, ...]
    messages: tuple[Message, ...] = ()
    facts: tuple[Fact, ...] = ()
    markers: tuple[Marker, ...] = ()
    x_title: str = "optimizer step"
    y_title: str = "learning rate"

    def by_role(self, role: Role) -> list[Trace]:
        return [t for t in self.traces if t.role == role]

    @property
    def wrong(self) -> Trace:
        """The first (main) wrong trace."""
        return self.by_role("wrong")[0]

    @property
    def intended(self) -> Trace:
        """The first (main) intended trace: what the fix produces."""
        return self.by_role("intended")[0]

    def trace(self, name: str) -> Trace:
        for t in self.traces:
            if t.name == name:
                return t
        raise KeyError(name)


@dataclass(frozen=True)
class Setting:
    """One input of a demo: an integer in ``[low, high]`` or one of ``choices``."""

    name: str
    label: str
    default: int | str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def allowed(self) -> str:
        if self.choices:
            return "must be one of " + ", ".join(repr(c) for c in self.choices)
        return f"must be an integer in [{self.low}, {self.high}]"

    def check(self, value: Any) -> int | str:
        if self.choices:
            if isinstance(value, str) and value in self.choices:
                return value
            raise invalid(self.name, value, self.allowed())
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            if self.low <= int(value) <= self.high:
                return int(value)
        raise invalid(self.name, value, self.allowed())


@dataclass(frozen=True)
class Pitfall:
    """One gallery entry. ``demo(**settings)`` steps the real objects; ``fix`` is a code template."""

    id: str
    title: str
    short: str  # a few words, for the picker
    symptom: str  # what you see, one line
    why: str  # markdown paragraph(s)
    demo: Callable[..., Demo]
    fix: str  # string.Template over the settings; a runnable script
    fix_output: str  # the variable the fix leaves holding the intended trace ("" if run by Lightning)
    settings: tuple[Setting, ...] = field(default=())
    fix_runs_with: Literal["python", "lightning"] = "python"

    def resolve(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The complete, checked settings: defaults for what is missing; :class:`LrlabError` otherwise."""
        values = dict(values or {})
        known = {s.name: s for s in self.settings}
        for key in values:
            if key not in known:
                allowed = ", ".join(known) or "none"
                raise LrlabError(f"Unknown setting {key!r} for pitfall {self.id!r}: allowed are {allowed}", field=key)
        return {s.name: s.check(values.get(s.name, s.default)) for s in self.settings}

    def run(self, values: Mapping[str, Any] | None = None) -> Demo:
        return self.demo(**self.resolve(values))

    def fix_code(self, values: Mapping[str, Any] | None = None) -> str:
        return Template(self.fix).substitute(self.resolve(values))


# ---- helpers shared by the demos ------------------------------------------------------------------


def _sgd(lr: float = BASE_LR, momentum: float = 0.0) -> torch.optim.SGD:
    """A throw-away optimizer over one parameter: only its param group matters."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=momentum)


def _lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


@contextmanager
def _recording() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised inside (each time, not once per location)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _warnings(caught: list[warnings.WarningMessage], when: str) -> tuple[Message, ...]:
    texts = dict.fromkeys((w.category.__name__, str(w.message)) for w in caught)
    return tuple(Message(kind, text, when) for kind, text in texts)


def _exception(exc: BaseException, when: str) -> Message:
    # KeyError's str() is the repr of its argument; the argument is the message torch wrote
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return Message(type(exc).__name__, str(text), when)


def _steps(n: int) -> np.ndarray:
    return np.arange(n)


def _lib(name: str, steps: int, **kwargs: Any) -> np.ndarray:
    """The real scheduler stepped by lrlab (optimizer.step(), then scheduler.step()): its lr per step."""
    return curve(name, steps=steps, base_lr=BASE_LR, **kwargs)["lr"].to_numpy()


def _g(value: float) -> str:
    return f"{value:.4g}"


def _step_loop(steps: str) -> str:
    """The tail of a fix script: the usual loop, ``optimizer.step()`` then ``scheduler.step()`` per batch,
    recording the lr each step trains with (``steps`` names the loop's length variable)."""
    return f"""
lrs = []
for step in range({steps}):
    lrs.append(optimizer.param_groups[0]["lr"])
    loss = model(torch.randn(8, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
"""


# ---- 1. scheduler.step() before optimizer.step() ------------------------------------------------------


def _order_demo(epochs: int, warmup_epochs: int) -> Demo:
    if warmup_epochs >= epochs:
        raise invalid("warmup_epochs", warmup_epochs, f"must be less than epochs ({epochs})")
    optimizer = _sgd()
    scheduler = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup_epochs)
    wrong = []
    with _recording() as caught:
        for _ in range(epochs):
            scheduler.step()  # the mistake: before the epoch's optimizer steps
            wrong.append(_lr(optimizer))
            optimizer.step()
    intended = _lib("LinearLR", epochs, start_factor=0.1, total_iters=warmup_epochs)
    x = _steps(epochs)
    return Demo(
        traces=(
            Trace("scheduler.step() first (wrong)", "wrong", x, np.asarray(wrong)),
            Trace("optimizer.step() first (intended)", "intended", x, intended),
        ),
        messages=_warnings(caught, "at the first scheduler.step(), made before any optimizer.step()"),
        facts=(
            Fact("LR of epoch 0", _g(wrong[0]), f"intended: {_g(intended[0])} (the schedule's first value)"),
            Fact("Peak reached at epoch", str(int(np.argmax(wrong))), f"intended: {int(np.argmax(intended))}"),
        ),
        markers=(Marker(warmup_epochs, "warm-up ends (total_iters)"),),
        x_title="epoch",
    )


ORDER_FIX = """\
import torch
from torch.optim.lr_scheduler import LinearLR

epochs, warmup_epochs = ${epochs}, ${warmup_epochs}
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = LinearLR(optimizer, start_factor=0.1, total_iters=warmup_epochs)
batches = [(torch.randn(8, 4), torch.randn(8, 1)) for _ in range(3)]

lrs = []
for epoch in range(epochs):
    lrs.append(optimizer.param_groups[0]["lr"])  # the lr this epoch trains with
    for x, y in batches:
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()  # after the epoch's optimizer steps, never before them
"""


# ---- 2. per-epoch vs per-batch stepping ---------------------------------------------------------------


def _unit_demo(epochs: int, steps_per_epoch: int) -> Demo:
    total = epochs * steps_per_epoch
    intended = _lib("CosineAnnealingLR", total, T_max=total)
    per_epoch = _lib("CosineAnnealingLR", total, T_max=total, interval="epoch", steps_per_epoch=steps_per_epoch)
    per_batch = _lib("CosineAnnealingLR", total, T_max=epochs)
    x = _steps(total)
    return Demo(
        traces=(
            Trace("T_max in steps, stepped per epoch (wrong)", "wrong", x, per_epoch),
            Trace("T_max in epochs, stepped per batch (wrong)", "wrong", x, per_batch),
            Trace("T_max in steps, stepped per batch (intended)", "intended", x, intended),
        ),
        facts=(
            Fact(
                "Final LR, stepped per epoch",
                _g(per_epoch[-1]),
                f"intended: {_g(intended[-1])}; the schedule moved {epochs - 1} of its {total} steps",
            ),
            Fact(
                "Per batch: bottom reached at step",
                str(epochs),
                f"that is epoch {epochs / steps_per_epoch:.3g}; then it climbs back to {BASE_LR} "
                f"every {2 * epochs} steps",
            ),
        ),
        markers=(Marker(epochs, "T_max = epochs, counted in batches"),),
    )


UNIT_FIX = """\
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR

epochs, steps_per_epoch = ${epochs}, ${steps_per_epoch}  # steps_per_epoch = len(loader)
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
# size the schedule in the unit you step it in: here, optimizer steps
scheduler = CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)

lrs = []
for epoch in range(epochs):
    for batch in range(steps_per_epoch):
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()  # once per batch, like T_max counts
"""


# ---- 3. gradient accumulation ---------------------------------------------------------------------------


def _accumulation_demo(accumulation: int, optimizer_steps: int) -> Demo:
    from transformers import get_linear_schedule_with_warmup

    k, n = accumulation, optimizer_steps
    micro = n * k

    def run(num_training_steps: int, per_micro_batch: bool) -> tuple[list[float], list]:
        optimizer = _sgd()
        scheduler = get_linear_schedule_with_warmup(
            optimizer, num_warmup_steps=num_training_steps // 10, num_training_steps=num_training_steps
        )
        used = []
        with _recording() as caught:
            for i in range(micro):  # one micro-batch (forward + backward) per iteration
                if (i + 1) % k == 0:
                    used.append(_lr(optimizer))
                    optimizer.step()
                    if not per_micro_batch:
                        scheduler.step()
                if per_micro_batch:
                    scheduler.step()
        return used, caught

    too_fast, caught = run(n, per_micro_batch=True)
    too_slow, _ = run(micro, per_micro_batch=False)
    intended, _ = run(n, per_micro_batch=False)
    x = _steps(n)
    done = int(np.argmax(np.asarray(too_fast) == 0.0)) if 0.0 in too_fast[1:] else n
    return Demo(
        traces=(
            Trace("sized in optimizer steps, stepped per micro-batch (wrong)", "wrong", x, np.asarray(too_fast)),
            Trace("sized in micro-batches, stepped per optimizer step (wrong)", "wrong", x, np.asarray(too_slow)),
            Trace("sized and stepped in optimizer steps (intended)", "intended", x, np.asarray(intended)),
        ),
        messages=_warnings(
            caught, "stepped per micro-batch: the first scheduler.step() comes before the first optimizer.step()"
        ),
        facts=(
            Fact("Stepped per micro-batch: LR is 0 from step", str(done), f"of {n}: the run is {k}× too short"),
            Fact(
                "Sized in micro-batches: final LR",
                _g(too_slow[-1]),
                f"intended: {_g(intended[-1])}; warm-up lasts {micro // 10} optimizer steps, not {n // 10}",
            ),
        ),
        markers=(Marker(n / k, f"1/{k} of the run"),),
    )


ACCUMULATION_FIX = """\
import torch
from transformers import get_linear_schedule_with_warmup

accumulation, optimizer_steps = ${accumulation}, ${optimizer_steps}
micro_batches = optimizer_steps * accumulation  # = len(loader) * epochs
num_training_steps = micro_batches // accumulation  # count optimizer steps
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = get_linear_schedule_with_warmup(
    optimizer,
    num_warmup_steps=num_training_steps // 10,
    num_training_steps=num_training_steps,
)

lrs = []
for i in range(micro_batches):
    loss = model(torch.randn(8, 4)).pow(2).mean() / accumulation
    loss.backward()
    if (i + 1) % accumulation == 0:
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()  # inside the `if`: once per optimizer step
        optimizer.zero_grad()
"""


# ---- 4. cosine past its end ---------------------------------------------------------------------------------


def _cosine_demo(schedule_steps: int, run_steps: int) -> Demo:
    if run_steps <= schedule_steps:
        raise invalid(
            "run_steps", run_steps, f"must be more than the schedule's length ({schedule_steps}): train past it"
        )
    t, r = schedule_steps, run_steps
    torch_cos = _lib("CosineAnnealingLR", r, T_max=t)
    hf_cos = _lib("get_cosine_schedule_with_warmup", r, num_warmup_steps=t // 10, num_training_steps=t)
    intended = _lib("CosineAnnealingLR", r, T_max=r)
    x = _steps(r)
    return Demo(
        traces=(
            Trace("CosineAnnealingLR(T_max) (wrong)", "wrong", x, torch_cos),
            Trace("get_cosine_schedule_with_warmup (wrong)", "wrong", x, hf_cos),
            Trace("CosineAnnealingLR sized to the run (intended)", "intended", x, intended),
        ),
        facts=(
            Fact("LR at T_max", _g(torch_cos[t]), "the bottom of the cosine (eta_min)"),
            Fact(
                "LR at the last step",
                _g(torch_cos[-1]),
                f"rose back to {torch_cos[-1] / BASE_LR:.0%} of the peak; transformers' cosine: {_g(hf_cos[-1])}",
            ),
        ),
        markers=(Marker(t, "T_max = num_training_steps"),),
    )


COSINE_FIX = """\
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR

run_steps = ${run_steps}  # the steps you will really train: epochs * len(loader)
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
# size the schedule to the run (was T_max=${schedule_steps}); if you extend training, extend T_max
scheduler = CosineAnnealingLR(optimizer, T_max=run_steps)

""" + _step_loop("run_steps")


# ---- 5. OneCycleLR past total_steps ---------------------------------------------------------------------------


def _onecycle_demo(total_steps: int, anneal_strategy: str) -> Demo:
    optimizer = _sgd()
    scheduler = lr_scheduler.OneCycleLR(
        optimizer, max_lr=BASE_LR, total_steps=total_steps, anneal_strategy=anneal_strategy
    )
    used: list[float] = []
    messages: list[Message] = []
    for call in range(1, total_steps + 6):  # the loop runs a few steps longer than the schedule
        used.append(_lr(optimizer))
        optimizer.step()
        try:
            scheduler.step()
        except ValueError as exc:
            messages.append(_exception(exc, f"raised by scheduler.step() call {call}, after optimizer step {call}"))
            break
    intended = _lib("OneCycleLR", total_steps, max_lr=BASE_LR, total_steps=total_steps, anneal_strategy=anneal_strategy)
    extra = used[total_steps]
    return Demo(
        traces=(
            Trace("loop longer than total_steps (wrong)", "wrong", _steps(len(used)), np.asarray(used)),
            Trace("loop of exactly total_steps (intended)", "intended", _steps(total_steps), intended),
        ),
        messages=tuple(messages),
        facts=(
            Fact("LR at the last allowed step", _g(intended[-1]), f"step {total_steps - 1}: max_lr / 25 / 1e4"),
            Fact(
                f"LR of update {total_steps + 1}",
                _g(extra),
                "extrapolated past the end: negative with anneal_strategy='linear', rising with 'cos'",
            ),
            Fact("Crash at scheduler.step() call", str(len(used)), f"total_steps = {total_steps}"),
        ),
        markers=(Marker(total_steps - 1, "last scheduled step"), Marker(total_steps, "ValueError")),
    )


ONECYCLE_FIX = """\
import torch
from torch.optim.lr_scheduler import OneCycleLR

total_steps = ${total_steps}  # = epochs * len(loader): the optimizer steps you will take
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = OneCycleLR(
    optimizer, max_lr=0.1, total_steps=total_steps, anneal_strategy="${anneal_strategy}"
)

lrs = []
for step in range(total_steps):  # the loop and the schedule have the same length
    lrs.append(optimizer.param_groups[0]["lr"])
    loss = model(torch.randn(8, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()  # total_steps calls in all: allowed (one more raises)
"""


# ---- 6. transformers warm-up starts at 0 --------------------------------------------------------------------


def _shifted_warmup(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def _first_update_moves(
    optimizer: torch.optim.Optimizer, scheduler: lr_scheduler.LRScheduler, steps: int
) -> tuple[list[float], bool]:
    """Step a real optimizer with a real gradient: the lr of every update, and whether update 1 moved the weight."""
    param = optimizer.param_groups[0]["params"][0]
    used, moved = [], False
    for t in range(steps):
        used.append(_lr(optimizer))
        before = param.detach().clone()
        param.grad = torch.ones_like(param)
        optimizer.step()
        if t == 0:
            moved = not torch.equal(before, param.detach())
        scheduler.step()
    return used, moved


def _warmup_zero_demo(warmup_steps: int, total_steps: int) -> Demo:
    from transformers import get_linear_schedule_with_warmup

    if warmup_steps >= total_steps:
        raise invalid("warmup_steps", warmup_steps, f"must be less than total_steps ({total_steps})")
    optimizer = _sgd()
    scheduler = get_linear_schedule_with_warmup(
        optimizer, num_warmup_steps=warmup_steps, num_training_steps=total_steps
    )
    hf, hf_moved = _first_update_moves(optimizer, scheduler, total_steps)
    optimizer = _sgd()
    scheduler = lr_scheduler.LambdaLR(optimizer, _shifted_warmup(warmup_steps, total_steps))
    fixed, fixed_moved = _first_update_moves(optimizer, scheduler, total_steps)
    x = _steps(total_steps)
    return Demo(
        traces=(
            Trace("get_linear_schedule_with_warmup (wrong)", "wrong", x, np.asarray(hf)),
            Trace("warm-up from lr/(W+1) (intended)", "intended", x, np.asarray(fixed)),
        ),
        facts=(
            Fact("LR of the 1st update", _g(hf[0]), "transformers' warm-up multiplier at step 0 is 0/W"),
            Fact("1st update moved the weights", "yes" if hf_moved else "no", "a real SGD step with gradient 1"),
            Fact("LR of the 1st update, fixed", _g(fixed[0]), "base lr / (W + 1)"),
            Fact("… and moved the weights", "yes" if fixed_moved else "no", "the same step with the fixed warm-up"),
        ),
        markers=(Marker(warmup_steps, "num_warmup_steps"),),
    )


WARMUP_ZERO_FIX = """\
import torch
from torch.optim.lr_scheduler import LambdaLR

warmup_steps, total_steps = ${warmup_steps}, ${total_steps}
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def warmup_then_linear(step):
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)  # never 0: update 1 moves the weights
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


scheduler = LambdaLR(optimizer, warmup_then_linear)

""" + _step_loop("total_steps")


# ---- 7. resuming with last_epoch ---------------------------------------------------------------------------


def _resume_demo(T_max: int, resume_at: int) -> Demo:
    if not 1 <= resume_at < T_max:
        raise invalid("resume_at", resume_at, f"must be in [1, {T_max - 1}] (a step inside T_max)")
    n, k = T_max, resume_at

    def cosine(optimizer: torch.optim.Optimizer, **kwargs: Any) -> lr_scheduler.CosineAnnealingLR:
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=n, **kwargs)

    def finish(optimizer: torch.optim.Optimizer, scheduler: lr_scheduler.LRScheduler) -> list[float]:
        used = []
        for _ in range(k, n):
            used.append(_lr(optimizer))
            optimizer.step()
            scheduler.step()
        return used

    optimizer = _sgd()
    scheduler = cosine(optimizer)
    before = []
    for _ in range(k):
        before.append(_lr(optimizer))
        optimizer.step()
        scheduler.step()
    checkpoint = {"optimizer": copy.deepcopy(optimizer.state_dict()), "scheduler": scheduler.state_dict()}

    # the intended resume: fresh objects, then both state dicts
    fresh = _sgd()
    resumed = cosine(fresh)
    fresh.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    by_state = finish(fresh, resumed)

    # last_epoch=k on a fresh optimizer: torch refuses
    messages = []
    try:
        cosine(_sgd(), last_epoch=k)
    except KeyError as exc:
        messages.append(
            _exception(exc, f"CosineAnnealingLR(optimizer, T_max={n}, last_epoch={k}) on a fresh optimizer")
        )

    # ... the workaround found online: set initial_lr by hand. It runs, from the base lr again.
    patched = _sgd()
    for group in patched.param_groups:
        group["initial_lr"] = group["lr"]
    by_patch = finish(patched, cosine(patched, last_epoch=k))

    # last_epoch=k with the optimizer's state loaded: no error, one step ahead
    loaded = _sgd()
    loaded.load_state_dict(copy.deepcopy(checkpoint["optimizer"]))
    by_epoch = finish(loaded, cosine(loaded, last_epoch=k))

    after = np.arange(k, n)
    gap = np.asarray(by_epoch) - np.asarray(by_state)
    return Demo(
        traces=(
            Trace("last_epoch=k, initial_lr set by hand (wrong)", "wrong", after, np.asarray(by_patch)),
            Trace("last_epoch=k, optimizer state loaded (wrong)", "wrong", after, np.asarray(by_epoch)),
            Trace("state_dict() resume (intended)", "intended", np.arange(n), np.asarray(before + by_state)),
        ),
        messages=tuple(messages),
        facts=(
            Fact("LR right after resuming", _g(by_patch[0]), f"intended {_g(by_state[0])} (initial_lr set by hand)"),
            Fact(
                "Largest LR error, state loaded",
                _g(float(np.max(np.abs(gap)))),
                f"at step {k + int(np.argmax(np.abs(gap)))}: last_epoch={k} puts the scheduler one step ahead",
            ),
        ),
        markers=(Marker(k, "checkpoint: resume here"),),
    )


RESUME_FIX = """\
import io

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR

T_max, resume_at = ${T_max}, ${resume_at}


def build():
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = CosineAnnealingLR(optimizer, T_max=T_max)  # no last_epoch
    return model, optimizer, scheduler


def train(model, optimizer, scheduler, steps, lrs):
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = model(torch.randn(8, 4)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()


lrs = []
model, optimizer, scheduler = build()
train(model, optimizer, scheduler, resume_at, lrs)
checkpoint = io.BytesIO()  # a file in real life
torch.save(
    {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    },
    checkpoint,
)

# ... later, in a new process:
checkpoint.seek(0)
state = torch.load(checkpoint)
model, optimizer, scheduler = build()
model.load_state_dict(state["model"])
optimizer.load_state_dict(state["optimizer"])
scheduler.load_state_dict(state["scheduler"])  # last_epoch and everything else
train(model, optimizer, scheduler, T_max - resume_at, lrs)
"""


# ---- 8. SequentialLR milestones -----------------------------------------------------------------------------


def _sequential(warmup_steps: int, t_max: int, steps: int) -> np.ndarray:
    optimizer = _sgd()
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warmup_steps)
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=t_max)
    scheduler = lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])
    used = []
    for _ in range(steps):
        used.append(_lr(optimizer))
        optimizer.step()
        scheduler.step()
    return np.asarray(used)


def _sequential_demo(warmup_steps: int, total_steps: int) -> Demo:
    w, n = warmup_steps, total_steps
    if w >= n:
        raise invalid("warmup_steps", w, f"must be less than total_steps ({n})")
    wrong = _sequential(w, n, n)
    intended = _sequential(w, n - w, n)
    x = _steps(n)
    return Demo(
        traces=(
            Trace("CosineAnnealingLR(T_max=total_steps) (wrong)", "wrong", x, wrong),
            Trace("CosineAnnealingLR(T_max=total_steps - warmup) (intended)", "intended", x, intended),
        ),
        facts=(
            Fact("LR at the last warm-up step", _g(wrong[w - 1]), f"step {w - 1}: LinearLR never reaches its end"),
            Fact(
                "LR at the milestone", _g(wrong[w]), f"step {w}: the cosine starts at its own step 0, from the base lr"
            ),
            Fact("Final LR", _g(wrong[-1]), f"intended: {_g(intended[-1])}"),
        ),
        markers=(Marker(w, "milestone"),),
    )


SEQUENTIAL_FIX = """\
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

warmup_steps, total_steps = ${warmup_steps}, ${total_steps}
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
warmup = LinearLR(optimizer, start_factor=0.01, total_iters=warmup_steps)
# each child counts from 0 at its milestone: the cosine gets the steps after warm-up
cosine = CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps)
scheduler = SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])

""" + _step_loop("total_steps")


# ---- 9. momentum switched on --------------------------------------------------------------------------------


def _cyclic(optimizer: torch.optim.Optimizer, scheduler: str, steps: int, **kwargs: Any) -> lr_scheduler.LRScheduler:
    if scheduler == "OneCycleLR":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=BASE_LR, total_steps=steps, **kwargs)
    return lr_scheduler.CyclicLR(
        optimizer, base_lr=BASE_LR / 10, max_lr=BASE_LR, step_size_up=max(1, steps // 4), **kwargs
    )


def _momentum_trace(
    optimizer: torch.optim.Optimizer, scheduler: lr_scheduler.LRScheduler, steps: int, *, gradient: bool = False
) -> np.ndarray:
    """Momentum (or Adam's beta1) of every update. With ``gradient`` the optimizer really updates its
    parameter (so that SGD keeps a momentum buffer if it uses momentum); the values don't depend on it."""
    group = optimizer.param_groups[0]
    param = group["params"][0]
    used = []
    for _ in range(steps):
        used.append(group["betas"][0] if "betas" in group else group["momentum"])
        if gradient:
            param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
    return np.asarray(used, dtype=np.float64)


def _adam() -> torch.optim.Adam:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR, betas=(0.9, 0.999))


def _momentum_demo(scheduler: str, steps: int) -> Demo:
    sgd = _sgd(momentum=0.0)
    sgd_m = _momentum_trace(sgd, _cyclic(sgd, scheduler, steps), steps, gradient=True)
    buffer = "momentum_buffer" in sgd.state[sgd.param_groups[0]["params"][0]]
    adam = _adam()
    adam_b1 = _momentum_trace(adam, _cyclic(adam, scheduler, steps), steps)
    sgd_off = _sgd(momentum=0.0)
    sgd_fixed = _momentum_trace(sgd_off, _cyclic(sgd_off, scheduler, steps, cycle_momentum=False), steps)
    adam_off = _adam()
    adam_fixed = _momentum_trace(adam_off, _cyclic(adam_off, scheduler, steps, cycle_momentum=False), steps)
    x = _steps(steps)
    return Demo(
        traces=(
            Trace("SGD(momentum=0): momentum (wrong)", "wrong", x, sgd_m),
            Trace("Adam(betas=(0.9, 0.999)): beta1 (wrong)", "wrong", x, adam_b1),
            Trace("SGD, cycle_momentum=False: momentum (intended)", "intended", x, sgd_fixed),
            Trace("Adam, cycle_momentum=False: beta1 (intended)", "intended", x, adam_fixed),
        ),
        facts=(
            Fact("SGD momentum at step 0", _g(sgd_m[0]), "the optimizer was built with momentum=0"),
            Fact(
                "SGD keeps a momentum buffer",
                "yes" if buffer else "no",
                "torch.optim.SGD only keeps one when momentum ≠ 0",
            ),
            Fact("Adam beta1 range", f"{_g(adam_b1.min())} – {_g(adam_b1.max())}", "you set beta1 = 0.9"),
        ),
        y_title="momentum / beta1",
    )


MOMENTUM_FIX = """\
import torch
from torch.optim.lr_scheduler import CyclicLR, OneCycleLR

scheduler_name, steps = "${scheduler}", ${steps}
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.0)
if scheduler_name == "OneCycleLR":
    scheduler = OneCycleLR(
        optimizer, max_lr=0.1, total_steps=steps, cycle_momentum=False
    )
else:
    scheduler = CyclicLR(
        optimizer,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=max(1, steps // 4),
        cycle_momentum=False,
    )

momentums = []
for step in range(steps):
    momentums.append(optimizer.param_groups[0]["momentum"])  # stays 0, as chosen
    loss = model(torch.randn(8, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
"""


# ---- 10. Lightning's default interval ------------------------------------------------------------------------


def _lightning_demo(epochs: int, steps_per_epoch: int) -> Demo:
    total = epochs * steps_per_epoch
    kwargs = {"num_warmup_steps": total // 10, "num_training_steps": total}
    per_epoch = _lib(
        "get_linear_schedule_with_warmup", total, interval="epoch", steps_per_epoch=steps_per_epoch, **kwargs
    )
    per_step = _lib("get_linear_schedule_with_warmup", total, **kwargs)
    x = _steps(total)
    return Demo(
        traces=(
            Trace('default "interval": "epoch" (wrong)', "wrong", x, per_epoch),
            Trace('"interval": "step" (intended)', "intended", x, per_step),
        ),
        facts=(
            Fact("LR during epoch 0", _g(per_epoch[0]), "every batch of the first epoch: warm-up starts at 0"),
            Fact("Highest LR of the run", _g(per_epoch.max()), f"intended: {_g(per_step.max())}"),
            Fact("Final LR", _g(per_epoch[-1]), f"intended: {_g(per_step[-1])}"),
        ),
        markers=tuple(Marker(e * steps_per_epoch, f"epoch {e}") for e in range(1, epochs)),
    )


LIGHTNING_FIX = """\
import torch
import lightning as L
from transformers import get_linear_schedule_with_warmup

EPOCHS, STEPS_PER_EPOCH = ${epochs}, ${steps_per_epoch}


class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(10, 1)

    def training_step(self, batch, batch_idx):
        return self.net(batch).pow(2).mean()

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        total = self.trainer.estimated_stepping_batches  # optimizer steps of the fit
        scheduler = get_linear_schedule_with_warmup(
            optimizer, num_warmup_steps=total // 10, num_training_steps=total
        )
        # Lightning's default interval is "epoch": say "step" for a per-step schedule
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


if __name__ == "__main__":
    data = torch.utils.data.DataLoader(
        torch.randn(STEPS_PER_EPOCH, 10), batch_size=1
    )
    trainer = L.Trainer(max_epochs=EPOCHS, logger=False, enable_checkpointing=False)
    trainer.fit(Model(), data)
"""


# ---- the gallery ---------------------------------------------------------------------------------------------

PITFALLS: dict[str, Pitfall] = {
    p.id: p
    for p in (
        Pitfall(
            id="step-order",
            title="scheduler.step() before optimizer.step()",
            short="Scheduler stepped first",
            symptom="torch warns once, then every value of the schedule comes one epoch early: its first value "
            "is never used.",
            why=textwrap.dedent(
                """\
                Since PyTorch 1.1 a scheduler applies its first value when it is **built**, so that the first
                `optimizer.step()` already uses it. Each `scheduler.step()` then moves to the next value. Calling
                `scheduler.step()` at the start of an epoch (the order of pre-1.1 tutorials) moves on before the
                value was used: epoch 0 trains with the schedule's second value, the warm-up is one epoch shorter
                and every later milestone arrives one epoch early.

                torch notices only the very first call (`_step_count == 1`) and warns once; nothing stops the run.
                """
            ),
            demo=_order_demo,
            fix=ORDER_FIX,
            fix_output="lrs",
            settings=(
                Setting("epochs", "Epochs", 10, 2, 200, help="Training epochs (one scheduler.step() each)."),
                Setting("warmup_epochs", "Warm-up epochs", 4, 1, 100, help="LinearLR's total_iters."),
            ),
        ),
        Pitfall(
            id="step-unit",
            title="Stepping per epoch a schedule sized in steps (and the reverse)",
            short="Per epoch vs per batch",
            symptom="Sized in steps but stepped per epoch, the LR barely moves; sized in epochs but stepped per "
            "batch, the whole schedule is over in the first epoch (and a cosine swings back up).",
            why=textwrap.dedent(
                """\
                A scheduler counts its own `step()` calls, nothing else: `T_max`, `total_iters`,
                `num_training_steps`, milestones are all in **calls of `scheduler.step()`**. Size them in
                optimizer steps (`epochs * len(loader)`) and call `scheduler.step()` once per epoch, and the
                schedule advances `epochs` of its `epochs * len(loader)` steps: the LR stays near its start.
                Size them in epochs (the tutorial's `T_max=epochs`) and move `scheduler.step()` into the batch
                loop, and it is done after `epochs` batches. `CosineAnnealingLR` does not stop at `T_max`: it is
                periodic and climbs back to the base LR every `2·T_max` calls.
                """
            ),
            demo=_unit_demo,
            fix=UNIT_FIX,
            fix_output="lrs",
            settings=(
                Setting("epochs", "Epochs", 10, 2, 50),
                Setting("steps_per_epoch", "Steps per epoch", 50, 2, 200, help="len(loader): batches per epoch."),
            ),
        ),
        Pitfall(
            id="grad-accumulation",
            title="Gradient accumulation: the schedule counts micro-batches",
            short="Gradient accumulation",
            symptom="With k-step accumulation the warm-up and decay are k× too short (LR at 0 for most of the "
            "run), or the schedule never gets past its warm-up.",
            why=textwrap.dedent(
                """\
                With gradient accumulation the optimizer steps once every `k` micro-batches. A schedule must be
                sized **and** stepped in the same unit, the optimizer step. Two ways to get it wrong:

                - sized in optimizer steps but `scheduler.step()` sits outside the `if (i + 1) % k == 0:` block:
                  it advances `k` times per update, so warm-up and decay are `k`× too short and the LR is 0 for
                  the last `1 - 1/k` of the run (torch also warns: the first `scheduler.step()` now comes before the
                  first `optimizer.step()`);
                - sized in micro-batches (`num_training_steps = len(loader) * epochs`) but stepped per update:
                  the schedule only gets `1/k` of the way, and the warm-up is `k`× too long.

                Hugging Face's `Trainer` does it right: `num_training_steps` and `warmup_steps` are optimizer
                steps. Hand-written loops are where it goes wrong.
                """
            ),
            demo=_accumulation_demo,
            fix=ACCUMULATION_FIX,
            fix_output="lrs",
            settings=(
                Setting("accumulation", "Accumulation steps k", 4, 2, 16, help="Micro-batches per optimizer step."),
                Setting("optimizer_steps", "Optimizer steps", 200, 20, 2000),
            ),
        ),
        Pitfall(
            id="cosine-past-end",
            title="Cosine schedules rise again after T_max",
            short="Cosine past its end",
            symptom="Training runs longer than the schedule and the LR climbs back up after reaching its minimum.",
            why=textwrap.dedent(
                """\
                `CosineAnnealingLR` is $\\eta_{min} + \\tfrac12(\\eta_{base}-\\eta_{min})(1+\\cos(\\pi t/T_{max}))$ for
                **every** $t$: past `T_max` the cosine goes on, back up to the base LR at `2·T_max`. transformers'
                `get_cosine_schedule_with_warmup` is not clamped either: past `num_training_steps` its LR rises
                again. It happens whenever the loop is longer than the schedule: more epochs than planned, a
                resumed run, `T_max` computed from a smaller dataset, or `drop_last` counted differently.
                """
            ),
            demo=_cosine_demo,
            fix=COSINE_FIX,
            fix_output="lrs",
            settings=(
                Setting("schedule_steps", "Schedule length (T_max)", 100, 10, 5000, help="T_max / num_training_steps."),
                Setting("run_steps", "Steps actually trained", 160, 11, 10000),
            ),
        ),
        Pitfall(
            id="onecycle-past-end",
            title="OneCycleLR stepped past total_steps",
            short="OneCycleLR past its end",
            symptom="The run crashes with a ValueError near its end, after one update with an extrapolated — "
            "with anneal_strategy='linear' negative — learning rate.",
            why=textwrap.dedent(
                """\
                `OneCycleLR` defines `total_steps` values (step 0 … `total_steps - 1`). torch allows one more
                `scheduler.step()`: the annealing formula is then evaluated past its end, which gives a
                **negative** LR with `anneal_strategy="linear"` (the optimizer steps uphill once) and a rising one
                with `"cos"`. The next call raises `ValueError`. It happens when `total_steps` is smaller than the
                loop: `epochs * len(loader)` with a different `drop_last`, gradient accumulation, or a resumed run.
                """
            ),
            demo=_onecycle_demo,
            fix=ONECYCLE_FIX,
            fix_output="lrs",
            settings=(
                Setting("total_steps", "total_steps", 20, 5, 1000),
                Setting("anneal_strategy", "anneal_strategy", "linear", choices=("linear", "cos")),
            ),
        ),
        Pitfall(
            id="warmup-from-zero",
            title="transformers' warm-up starts at LR 0",
            short="Warm-up from zero",
            symptom="The first optimizer update uses LR 0: the weights do not move (Adam still counts the step "
            "and updates its moments).",
            why=textwrap.dedent(
                """\
                transformers' warm-up multiplier is `step / num_warmup_steps`, and a torch `LambdaLR` applies its
                value for step 0 when it is built: with `get_linear_schedule_with_warmup` the first
                `optimizer.step()` runs with LR **0**. The same holds for `cosine`, `cosine_with_restarts`,
                `polynomial`, `constant_with_warmup`, `inverse_sqrt`, `cosine_with_min_lr`, and for
                `warmup_stable_decay` unless `min_lr_ratio > 0`; only `cosine_warmup_with_min_lr` starts above 0
                (at `lr / W`). One wasted update is cheap in a long run; with a short warm-up, a tiny run, or a
                test that checks that the weights change, it surprises people. Shifting the ramp by one step keeps
                its shape and starts at `lr / (W + 1)`.
                """
            ),
            demo=_warmup_zero_demo,
            fix=WARMUP_ZERO_FIX,
            fix_output="lrs",
            settings=(
                Setting("warmup_steps", "Warm-up steps W", 5, 1, 500),
                Setting("total_steps", "Total steps", 50, 2, 5000),
            ),
        ),
        Pitfall(
            id="resume-last-epoch",
            title="Resuming with last_epoch instead of state_dict",
            short="Resume with last_epoch",
            symptom="KeyError on resume; after the usual workaround the LR jumps back to its start, or the schedule "
            "runs one step ahead.",
            why=textwrap.dedent(
                """\
                `last_epoch=k` does not mean "continue at step k". On a fresh optimizer torch raises `KeyError`
                (the groups have no `initial_lr` yet). The workaround found online, setting `initial_lr` by hand,
                makes it run, but recursive schedulers such as `CosineAnnealingLR` compute each LR **from the
                current one**: the fresh optimizer holds the base LR, so the schedule restarts from the top and
                decays on a rescaled curve. With the optimizer's state loaded the LR is right, but the
                constructor's own step moves the counter to `k + 1`: from then on the schedule is one step ahead.
                `scheduler.state_dict()` / `load_state_dict()` restores everything exactly.
                """
            ),
            demo=_resume_demo,
            fix=RESUME_FIX,
            fix_output="lrs",
            settings=(
                Setting("T_max", "T_max (the run)", 40, 4, 2000),
                Setting("resume_at", "Resume at step", 16, 1, 1999, help="Steps done before the checkpoint."),
            ),
        ),
        Pitfall(
            id="sequential-milestones",
            title="SequentialLR: each scheduler starts its own clock at its milestone",
            short="SequentialLR milestones",
            symptom="After a warm-up, the cosine never reaches its minimum: the run ends with the LR still high.",
            why=textwrap.dedent(
                """\
                At a milestone `SequentialLR` restarts the next scheduler at its **own step 0**: its value there
                is computed from the base LR (for every scheduler with a closed form, i.e. all but
                `MultiplicativeLR`), not from where the previous one stopped, and its length is not shifted. So `CosineAnnealingLR(T_max=total_steps)` after a warm-up of `W` steps only
                gets `total_steps - W` of its `total_steps` steps. Give it `T_max=total_steps - W`. Note also that
                with `LinearLR(total_iters=W)` and `milestones=[W]` the warm-up's own last value (the base LR, at
                step `W`) is never used: the cosine's step 0 takes that step.
                """
            ),
            demo=_sequential_demo,
            fix=SEQUENTIAL_FIX,
            fix_output="lrs",
            settings=(
                Setting("warmup_steps", "Warm-up steps (milestone)", 50, 1, 1000),
                Setting("total_steps", "Total steps", 200, 2, 5000),
            ),
        ),
        Pitfall(
            id="momentum-cycling",
            title="CyclicLR and OneCycleLR switch momentum on",
            short="Momentum switched on",
            symptom="An SGD optimizer built with momentum=0 trains with momentum 0.85–0.95; Adam's beta1 cycles too.",
            why=textwrap.dedent(
                """\
                `cycle_momentum=True` is the **default** of `CyclicLR` and `OneCycleLR`. At construction they
                write `max_momentum` into every group (0.9 for `CyclicLR`, 0.95 for `OneCycleLR`) and then cycle
                it against the LR. `SGD(momentum=0)` still has a `momentum` key, so torch does not complain: the
                optimizer you built without momentum now keeps a momentum buffer and uses it. For Adam/AdamW the
                cycled value is `betas[0]`, replacing the beta1 you chose. Only an optimizer with neither (Adagrad)
                makes torch refuse. Pass `cycle_momentum=False` if you did not mean it.
                """
            ),
            demo=_momentum_demo,
            fix=MOMENTUM_FIX,
            fix_output="momentums",
            settings=(
                Setting("scheduler", "Scheduler", "OneCycleLR", choices=("OneCycleLR", "CyclicLR")),
                Setting("steps", "Steps", 200, 8, 2000),
            ),
        ),
        Pitfall(
            id="lightning-epoch-interval",
            title="Lightning steps the scheduler once per epoch by default",
            short="Lightning's interval",
            symptom="A per-step schedule returned from configure_optimizers barely moves: one step per epoch.",
            why=textwrap.dedent(
                """\
                In `configure_optimizers`, a scheduler returned without a config dict, or with one that omits
                `"interval"`, is stepped by Lightning **once per epoch** (`"interval": "epoch"` is the default).
                A schedule sized in optimizer steps, such as transformers' warm-up schedules sized with
                `trainer.estimated_stepping_batches`, then advances one step per epoch: with a 10 % warm-up the
                whole first epoch trains at LR 0 and the run never leaves the warm-up. Say
                `"interval": "step"`.
                """
            ),
            demo=_lightning_demo,
            fix=LIGHTNING_FIX,
            fix_output="",
            fix_runs_with="lightning",
            settings=(
                Setting("epochs", "Epochs", 5, 2, 20),
                Setting("steps_per_epoch", "Steps per epoch", 20, 2, 100),
            ),
        ),
    )
}


def get_pitfall(pitfall_id: str) -> Pitfall:
    """The gallery entry with this id, or :class:`LrlabError` naming the allowed ids."""
    if isinstance(pitfall_id, str) and pitfall_id in PITFALLS:
        return PITFALLS[pitfall_id]
    raise invalid("pitfall", pitfall_id, "must be one of " + ", ".join(PITFALLS))


def run(pitfall_id: str, values: Mapping[str, Any] | None = None) -> Demo:
    """Run one pitfall's demo with these settings (checked; defaults for the missing ones)."""
    return get_pitfall(pitfall_id).run(values)


def pitfall_label(pitfall_id: str) -> str:
    """``3 · Gradient accumulation``: how the picker shows an entry (a format_func for widgets)."""
    number = list(PITFALLS).index(pitfall_id) + 1
    return f"{number} · {PITFALLS[pitfall_id].short}"


# ---- the chart ------------------------------------------------------------------------------------------------

WRONG_COLORS = ("#d62728", "#ff7f0e", "#9467bd")
INTENDED_COLORS = ("#2ca02c", "#17becf")
CONTEXT_COLOR = "#7f7f7f"
SHORT_TRACE = 80  # traces up to this many points show their points
MAX_MARKERS = 20
LABEL_CHAR_PX = 6.2  # width of one character of a marker label (font size 11), in pixels
LABEL_PLOT_PX = 450  # the narrowest plot the labels are laid out for (a phone's chart is ~350-450 px wide)


def marker_labels(markers: tuple[Marker, ...] | list[Marker], x_lo: float, x_hi: float) -> list[dict]:
    """Plotly annotations naming each marker line, laid out so that no two overlap and none leaves the plot.

    Each label sits centred on its line, or ends at it (starts at it) near the right (left) edge. A label
    that would overlap one already placed goes a row lower: row 0 is above the plot, later rows hang just
    inside its top on a white background.
    """
    per_px = ((x_hi - x_lo) or 1.0) / LABEL_PLOT_PX
    ends: list[float] = []  # per row, the right end (in x units) of its last label
    out = []
    for m in sorted(markers, key=lambda m: m.x):
        width = (len(m.label) * LABEL_CHAR_PX + 8) * per_px
        if m.x + width / 2 > x_hi:
            anchor, left = "right", m.x - width
        elif m.x - width / 2 < x_lo:
            anchor, left = "left", m.x
        else:
            anchor, left = "center", m.x - width / 2
        row = next((r for r, end in enumerate(ends) if left >= end), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = left + width
        label = {
            "x": m.x,
            "y": 1,
            "xref": "x",
            "yref": "paper",
            "text": m.label,
            "showarrow": False,
            "xanchor": anchor,
            "yanchor": "bottom" if row == 0 else "top",
            "font": {"size": 11},
        }
        if row:
            label |= {"yshift": -2 - 16 * (row - 1), "bgcolor": "rgba(255,255,255,0.85)"}
        out.append(label)
    return out


def figure(demo: Demo, *, height: int = 440) -> go.Figure:
    """Wrong (red solid, then orange dashed, purple dotted) against intended (green, thick and light,
    underneath), with a dotted vertical line per marker."""
    fig = go.Figure()
    counts = {"wrong": 0, "intended": 0, "context": 0}
    ordered = [t for t in demo.traces if t.role == "intended"] + [t for t in demo.traces if t.role != "intended"]
    for t in ordered:
        i = counts[t.role]
        counts[t.role] += 1
        if t.role == "intended":
            line = {"color": INTENDED_COLORS[i % len(INTENDED_COLORS)], "width": 6}
            opacity = 0.55
        elif t.role == "wrong":  # the second and third dashed: wrong curves that coincide stay visible
            line = {"color": WRONG_COLORS[i % len(WRONG_COLORS)], "width": 2.5, "dash": ("solid", "dash", "dot")[i % 3]}
            opacity = 1.0
        else:
            line = {"color": CONTEXT_COLOR, "width": 1.5, "dash": "dot"}
            opacity = 0.9
        keep = decimate(t.x.astype(np.float64), t.y.astype(np.float64))
        short = len(t.x) <= SHORT_TRACE
        fig.add_trace(
            go.Scatter(
                x=t.x[keep],
                y=t.y[keep],
                name=t.name,
                mode="lines+markers" if short else "lines",
                line={**line, "shape": STEP_SHAPE},
                marker={"size": 7 if t.role == "wrong" else 9},
                opacity=opacity,
                hovertemplate=f"{demo.x_title} %{{x}}<br>{demo.y_title} %{{y:.6g}}<extra>%{{fullData.name}}</extra>",
            )
        )
    markers = demo.markers[:MAX_MARKERS]
    fig.update_layout(  # in one go: add_vline per marker costs ~20 ms each
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": m.x,
                "x1": m.x,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#555555", "width": 1, "dash": "dot"},
            }
            for m in markers
        ],
        annotations=marker_labels(markers, *_x_range(demo)),
    )
    fig.update_xaxes(title_text=demo.x_title)
    fig.update_yaxes(title_text=demo.y_title, exponentformat="e", zeroline=True, zerolinecolor="#bbbbbb")
    fig.update_layout(
        height=height,
        margin={**MARGIN, "t": 70},  # the legend sits higher (y 1.08)
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0},
        hovermode="x unified",
        hoverlabel=HOVER_LABEL,
    )
    return fig


def _x_range(demo: Demo) -> tuple[float, float]:
    xs = [float(v) for t in demo.traces if len(t.x) for v in (np.min(t.x), np.max(t.x))]
    xs += [float(m.x) for m in demo.markers]
    return (min(xs), max(xs)) if xs else (0.0, 1.0)
