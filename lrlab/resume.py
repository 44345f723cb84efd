"""The resume simulator: a schedule interrupted at step r and resumed, by the real library.

A run of ``config`` trains ``at`` optimizer steps (rows 0 … r−1), saves ``optimizer.state_dict()``
and ``scheduler.state_dict()``, and a new process resumes it in one of three ways:

- ``load_state_dict`` — build the optimizer and the scheduler as at the start, then load both states
  (the correct way: the curve goes on as if never interrupted);
- ``last_epoch`` — load the optimizer's state, then rebuild the scheduler with ``last_epoch=r``
  (torch's constructors and transformers' ``get_*_schedule(..., last_epoch=r)``): the constructor
  steps once more, from the loaded ``initial_lr`` / current lr (pytorch#60265);
- ``new_total`` — the resume code of ``load_state_dict`` with the run's total changed to
  ``new_steps`` (a new number of epochs): the lr jumps where the library rebuilds the curve from the
  new total (open_clip#413), and nothing changes where ``load_state_dict`` restores the old one.

Every curve is read from ``optimizer.param_groups`` of the real objects; nothing is a formula.
:func:`resume_code` exports the correct resume code as a runnable script.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from lrlab.specs import MAX_STEPS, LrlabError, ScheduleConfig, invalid

How = Literal["load_state_dict", "last_epoch", "new_total"]
HOWS: tuple[str, ...] = ("load_state_dict", "last_epoch", "new_total")
#: The parameters that size a schedule to the run (its total), by library name.
TOTAL_PARAMS: tuple[str, ...] = ("num_training_steps", "T_max", "total_steps", "total_iters")
#: Stepping patterns the simulator replays (the scheduler called per optimizer step or per epoch).
RESUME_INTERVALS = ("step", "epoch")


@dataclass(frozen=True)
class ResumeResult:
    """The curves of one resume: the uninterrupted run and the interrupted-and-resumed one.

    ``resumed`` holds rows 0 … r−1 from the first run and rows r … from the resumed one (NaN from
    ``error`` on if the library refused the resume). ``first_diff_step`` is the first row where the
    two differ by more than 1e-12 relative (None: identical)."""

    config: ScheduleConfig
    at: int
    how: str
    uninterrupted: np.ndarray
    resumed: np.ndarray
    first_diff_step: int | None
    max_rel_diff: float
    error: str | None = None
    notes: tuple[str, ...] = ()
    new_config: ScheduleConfig | None = None  # the rebuilt run's config (new_total)

    @property
    def frame(self) -> pd.DataFrame:
        n = max(len(self.uninterrupted), len(self.resumed))
        data = {"step": np.arange(n), "uninterrupted": _pad(self.uninterrupted, n), "resumed": _pad(self.resumed, n)}
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "how": self.how,
            "first_diff_step": self.first_diff_step,
            "max_rel_diff": self.max_rel_diff,
            "error": self.error,
            "notes": list(self.notes),
            "uninterrupted": [_num(v) for v in self.uninterrupted],
            "resumed": [_num(v) for v in self.resumed],
        }


def _pad(values: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([values, np.full(n - len(values), np.nan)])


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _check(config: ScheduleConfig, at: Any, how: Any) -> tuple[Any, dict[str, Any], Any]:
    from lrlab.simulate import resolve

    spec, params, ctx = resolve(config)
    if spec.library not in ("torch", "transformers") or spec.drive is not None:
        raise LrlabError(
            f"Invalid scheduler ({spec.name}): the resume simulator replays torch LRSchedulers (torch and "
            f"transformers schedules), whose state_dict and last_epoch it resumes; {spec.library}'s schedules "
            "are resumed by the library's own checkpointing",
            field="scheduler",
        )
    if spec.needs_metric:
        raise LrlabError(
            f"Invalid scheduler ({spec.name}): a metric-driven scheduler's resume depends on the metrics; "
            "the resume simulator replays schedules of the step",
            field="scheduler",
        )
    if config.interval not in RESUME_INTERVALS:
        raise invalid("interval", config.interval, "the resume simulator replays 'step' or 'epoch' stepping")
    if how not in HOWS:
        raise invalid("how", how, "must be one of " + ", ".join(repr(h) for h in HOWS))
    if isinstance(at, bool) or not isinstance(at, (int, np.integer)) or not 1 <= at < config.steps:
        raise invalid("at", at, f"must be an integer in [1, {config.steps - 1}] (the optimizer steps done)")
    return spec, params, ctx


def frozen(config: ScheduleConfig) -> ScheduleConfig:
    """``config`` with every parameter explicit (defaults that follow the run length frozen)."""
    from lrlab.simulate import resolve

    spec, params, _ = resolve(config)
    return replace(config, scheduler=spec.name, params=ScheduleConfig.make(spec.name, params).params)


def total_param(config: ScheduleConfig) -> str | None:
    """The parameter that sizes ``config``'s schedule to the run (``T_max``, ``num_training_steps``…)."""
    from lrlab.schedulers import get_spec

    names = {p.name for p in get_spec(config.scheduler).params}
    return next((name for name in TOTAL_PARAMS if name in names), None)


def with_new_total(config: ScheduleConfig, new_steps: int) -> ScheduleConfig:
    """The same run rebuilt for ``new_steps`` optimizer steps: its total parameter follows the run
    length (set to the new length where it was the old one, scaled with it otherwise)."""
    from lrlab.simulate import resolve

    config = frozen(config)
    _, params, _ = resolve(config)
    name = total_param(config)
    if name is None:
        raise LrlabError(
            f"Invalid how ('new_total'): {config.scheduler} has no total ({', '.join(TOTAL_PARAMS)}): "
            "its curve does not depend on the run's length",
            field="how",
        )
    per = config.steps_per_epoch if config.interval == "epoch" else 1
    old_units, new_units = config.steps // per, new_steps // per
    old = params[name]
    params[name] = new_units if old == old_units else max(1, round(old * new_units / max(old_units, 1)))
    return replace(config, steps=new_steps, params=ScheduleConfig.make(config.scheduler, params).params)


def build_scheduler(config: ScheduleConfig, optimizer: Any, *, last_epoch: int = -1) -> Any:
    """The real scheduler of ``config`` on ``optimizer``, constructed with ``last_epoch`` as the
    library's own constructor takes it (torch class or transformers function)."""
    from lrlab.simulate import _library_error, resolve

    spec, params, ctx = resolve(config)
    if last_epoch == -1:
        try:
            return spec.build(optimizer, params, ctx)
        except Exception as exc:
            raise _library_error(spec, exc, params) from None
    if spec.library == "transformers":
        import importlib

        factory = getattr(importlib.import_module("transformers.optimization"), spec.name, None)
        if factory is None or "last_epoch" not in inspect.signature(factory).parameters:
            raise _no_last_epoch(spec.name)
        return factory(optimizer, **params, last_epoch=last_epoch)
    return _torch_with_last_epoch(spec, params, ctx, optimizer, last_epoch)


def _no_last_epoch(name: str) -> LrlabError:
    return LrlabError(
        f"Invalid scheduler ({name}): it can't be rebuilt with last_epoch (its constructor takes none); "
        "resume it with load_state_dict",
        field="scheduler",
    )


def _torch_with_last_epoch(spec: Any, params: dict[str, Any], ctx: Any, optimizer: Any, last_epoch: int) -> Any:
    """torch's own constructor of the spec's class, called with the spec's arguments and ``last_epoch``."""
    import torch

    probe = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in ctx.group_lrs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        template = spec.build(probe, params, ctx)  # which class, and its callables (lr_lambda)
    cls = type(template)
    accepted = inspect.signature(cls).parameters
    if "last_epoch" not in accepted or not cls.__module__.startswith("torch."):
        raise _no_last_epoch(spec.name)
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items() if k in accepted}
    if "lr_lambda" in accepted:
        kwargs["lr_lambda"] = list(template.lr_lambdas)
    if spec.base_lr_param and spec.base_lr_param in accepted:
        kwargs[spec.base_lr_param] = ctx.base_lr
    if spec.name == "CyclicLR":
        from lrlab.schedulers.torch_specs import _cyclic_kwargs

        kwargs.update(_cyclic_kwargs(params))
    return cls(optimizer, **kwargs, last_epoch=last_epoch)


def _calls_before(config: ScheduleConfig, step: int) -> int:
    """How many ``scheduler.step()`` calls the loop has made after ``step`` optimizer steps."""
    return step if config.interval == "step" else step // config.steps_per_epoch


def _run(config: ScheduleConfig, optimizer: Any, scheduler: Any, start: int, stop: int, out: np.ndarray) -> str | None:
    """The training loop from optimizer step ``start`` to ``stop``: ``out[t]`` = lr of step t."""
    spe = config.steps_per_epoch
    for t in range(start, stop):
        out[t] = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if config.interval == "step" or (t + 1) % spe == 0:
            try:
                scheduler.step()
            except Exception as exc:  # OneCycleLR past total_steps
                return f"{type(exc).__name__}: {exc}"
    return None


def resume_curves(config: ScheduleConfig, at: int, how: str, rebuilt: ScheduleConfig | None = None) -> ResumeResult:
    """The engine of :func:`simulate_resume`: ``rebuilt`` is the config the new process builds
    (``config`` itself, or the one with a new total)."""
    from lrlab.optimizers import throwaway
    from lrlab.simulate import resolve

    config = frozen(config)
    rebuilt = config if rebuilt is None else frozen(rebuilt)
    _, _, ctx = resolve(config)
    _, _, rctx = resolve(rebuilt)
    n = max(config.steps, rebuilt.steps)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = np.full(n, np.nan)
        optimizer = throwaway(config, ctx.group_lrs)
        refused = _run(config, optimizer, build_scheduler(config, optimizer), 0, n, full)
        if refused:
            notes.append(f"Uninterrupted: {config.scheduler} refused a step ({refused}).")

        resumed = np.full(rebuilt.steps, np.nan)
        optimizer = throwaway(config, ctx.group_lrs)
        scheduler = build_scheduler(config, optimizer)
        _run(config, optimizer, scheduler, 0, at, resumed)
        saved_optimizer = optimizer.state_dict()
        saved_scheduler = scheduler.state_dict()
        calls = _calls_before(config, at)

        error = None
        optimizer = throwaway(rebuilt, rctx.group_lrs)
        if how == "last_epoch":
            optimizer.load_state_dict(saved_optimizer)  # without it torch raises KeyError: initial_lr
            try:
                scheduler = build_scheduler(rebuilt, optimizer, last_epoch=calls)
            except LrlabError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        else:  # build as at the start, then load both states (the new total's run builds its own)
            scheduler = build_scheduler(rebuilt, optimizer)
            optimizer.load_state_dict(saved_optimizer)
            scheduler.load_state_dict(saved_scheduler)
            name = total_param(rebuilt)
            if how == "new_total" and name is not None:
                kept = getattr(scheduler, name, None)
                wanted = rebuilt.params_dict[name]
                if kept is not None and kept != wanted:
                    notes.append(
                        f"scheduler.load_state_dict restored {name}={kept} from the checkpoint over the rebuilt "
                        f"{name}={wanted}: the new total is silently ignored."
                    )
        if error is None:
            refused = _run(rebuilt, optimizer, scheduler, at, rebuilt.steps, resumed)
            if refused:
                notes.append(f"Resumed: {rebuilt.scheduler} refused a step ({refused}).")
    notes.extend(dict.fromkeys(f"{config.scheduler} warned: {w.message}" for w in caught))
    m = min(len(full), len(resumed))
    a, b = full[:m], resumed[:m]
    with np.errstate(all="ignore"):
        rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    rel = np.where(np.isnan(a) & np.isnan(b), 0.0, np.where(np.isnan(rel), np.inf, rel))
    rel = np.where(np.abs(a - b) <= 1e-15 * np.nanmax(np.abs(full)), 0.0, rel)
    over = np.flatnonzero(rel > 1e-12)
    return ResumeResult(
        config=config,
        at=at,
        how=how,
        uninterrupted=full[: config.steps] if how != "new_total" else full,
        resumed=resumed,
        first_diff_step=int(over[0]) if over.size else None,
        max_rel_diff=float(rel.max()) if rel.size else 0.0,
        error=error,
        notes=tuple(notes),
        new_config=rebuilt if rebuilt is not config else None,
    )


def simulate_resume(config: ScheduleConfig, at: int, how: How, *, new_steps: int | None = None) -> ResumeResult:
    """Interrupt ``config`` after ``at`` optimizer steps and resume it ``how`` (see the module
    docstring), with the real torch / transformers objects; ``new_steps`` is the new run length for
    ``how="new_total"``."""
    _check(config, at, how)
    rebuilt = None
    if how == "new_total":
        if isinstance(new_steps, bool) or not isinstance(new_steps, (int, np.integer)):
            raise invalid("new_steps", new_steps, f"must be an integer in [{at + 1}, {MAX_STEPS}] for how='new_total'")
        if not at < new_steps <= MAX_STEPS:
            raise invalid("new_steps", new_steps, f"must be an integer in [{at + 1}, {MAX_STEPS}]")
        rebuilt = with_new_total(config, int(new_steps))
    elif new_steps is not None:
        raise invalid("new_steps", new_steps, "is only used with how='new_total'")
    return resume_curves(config, int(at), how, rebuilt)


_WRONG = {
    "last_epoch": (
        "Not: rebuilding the scheduler with last_epoch=r. Its constructor needs 'initial_lr' in the optimizer's "
        "param groups (KeyError without the optimizer's state) and steps once more from the loaded lr, so the "
        "curve goes on from a shifted or recomputed point (pytorch#60265). Load the scheduler's state instead:"
    ),
    "new_total": (
        "Changing the total (epochs) on resume moves the curve: the step you resume at is no longer at the same "
        "share of the schedule (open_clip#413), and torch's load_state_dict even restores the old total. Keep the "
        "total of the first run, as here:"
    ),
}


def resume_code(config: ScheduleConfig, at: int, how: How = "load_state_dict") -> str:
    """A runnable script: train ``at`` steps, save a checkpoint, build everything anew and resume with
    ``load_state_dict``. ``train()`` returns the lr of every step (equal to the uninterrupted run's);
    ``how`` names the resume being replaced (a comment says what it does wrong)."""
    from lrlab.codegen import constructor
    from lrlab.export import _imports, _scheduler_lines, _wrap_comment, optimizer_code

    spec, params, ctx = _check(config, at, how)
    objects = [f"    {line}" for block in optimizer_code(config, ctx) for line in block.split("\n")]
    build = [f"    {line}" for line in constructor(spec, params, ctx).split("\n")]
    steps = config.steps
    head = _wrap_comment(_WRONG[how]) if how in _WRONG else []
    body = "\n".join(
        [
            *head,
            "def build():",
            '    """Model, optimizer and scheduler exactly as at the start of training."""',
            *objects,
            *build,
            "    return model, optimizer, scheduler",
            "",
            "",
            "def run(model, optimizer, scheduler, start, stop, lrs, steps_per_epoch):",
            "    for step in range(start, stop):",
            '        lrs.append(optimizer.param_groups[0]["lr"])',
            "        loss = model(torch.randn(8, 10)).pow(2).mean()  # your forward pass and loss",
            "        loss.backward()",
            "        optimizer.step()",
            "        optimizer.zero_grad()",
            *_scheduler_lines(spec, config),
            "",
            "",
            f'def train(steps={steps}, resume_at={at}, steps_per_epoch={config.steps_per_epoch}, path="checkpoint.pt"):',
            '    """Train to resume_at, save, resume in a fresh set of objects; the lr of every step."""',
            "    lrs = []",
            "    model, optimizer, scheduler = build()",
            "    run(model, optimizer, scheduler, 0, resume_at, lrs, steps_per_epoch)",
            "    checkpoint = {",
            '        "model": model.state_dict(),',
            '        "optimizer": optimizer.state_dict(),',
            '        "scheduler": scheduler.state_dict(),',
            '        "step": resume_at,',
            "    }",
            "    torch.save(checkpoint, path)",
            "",
            "    # resume (e.g. in a new process): build everything as at the start, then load every state",
            "    model, optimizer, scheduler = build()",
            "    checkpoint = torch.load(path, weights_only=False)  # your own checkpoint",
            '    model.load_state_dict(checkpoint["model"])',
            '    optimizer.load_state_dict(checkpoint["optimizer"])',
            '    scheduler.load_state_dict(checkpoint["scheduler"])  # never last_epoch=…',
            '    run(model, optimizer, scheduler, checkpoint["step"], steps, lrs, steps_per_epoch)',
            "    return lrs",
            "",
            "",
            'if __name__ == "__main__":',
            "    lrs = train()",
            '    print(f"trained {len(lrs)} steps with a resume, final lr {lrs[-1]:.6g}")',
        ]
    )
    return "\n".join(_imports(body)) + "\n\n\n" + body + "\n"


__all__ = ["HOWS", "ResumeResult", "build_scheduler", "resume_code", "simulate_resume", "with_new_total"]
