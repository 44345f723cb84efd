"""Command line: ``python -m lrlab list | info | curve | export | translate | diff | identify | find-lr | train``.

Bad input prints one line on stderr and exits with status 2; nothing else is printed then.
What the library says (a refused step, a warning) is printed on stderr as one line each,
``warning: …``; the output still follows and the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from lrlab.specs import INTERVALS, LIBRARIES, LibraryWarning, LrlabError, parse_value

LIBRARY_CHOICES = tuple(LIBRARIES)


def parse_assignment(text: str, spec: Any = None) -> tuple[str, Any]:
    """``key=value`` with the value read as a JSON literal (``[5, 15]``, ``0.5``, ``null``, ``true``);
    anything that is not JSON is taken as a plain string (``mode=triangular2``). With the scheduler's
    ``spec``, a parameter reads its own text (an expression stays text: ``lr_lambda=0.8``)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise LrlabError(f"Invalid --set ({text!r}): expected key=value, e.g. --set gamma=0.5", field="--set")
    param = next((p for p in getattr(spec, "params", ()) if p.name == key), None)
    return key, param.parse(raw) if param is not None else parse_value(raw)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse would print the usage too)
        raise LrlabError(f"lrlab: {message} (see python -m lrlab --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m lrlab", description="Learning-rate schedules from the real torch/transformers objects."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list every scheduler lrlab knows")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.add_argument(
        "--library",
        choices=LIBRARY_CHOICES,
        help="only this library's schedules",
    )
    info = sub.add_parser("info", help="parameters, defaults and formula of one scheduler")
    info.add_argument("name")
    info.add_argument("--steps", type=int, default=1000, help="run length used for step-relative defaults")
    crv = sub.add_parser("curve", help="print the curve the real scheduler produces")
    _run_options(crv)
    crv.add_argument("--format", choices=("csv", "json"), default="csv")
    exp = sub.add_parser(
        "export",
        help="print code or config for your training (torch, transformers, lightning; timm, keras, optax, fastai "
        "for their own schedules; yaml, json)",
    )
    _run_options(exp)
    exp.add_argument(
        "--target",
        choices=("torch", "transformers", "lightning", "timm", "keras", "optax", "fastai", "yaml", "json"),
        required=True,
    )
    tr = sub.add_parser(
        "translate",
        help="the same schedule in another library (or every library): exact with the measured proof, else the "
        "closest fit with its residual and why",
    )
    _run_options(tr)
    tr.add_argument(
        "--to",
        metavar="LIB[,LIB…]",
        help="libraries, comma-separated: " + ", ".join(LIBRARY_CHOICES) + " (default: all)",
    )
    tr.add_argument("--format", choices=("text", "json"), default="text")
    dif = sub.add_parser(
        "diff", help="a logged run beside its plan: where they differ, and the known cause that explains it"
    )
    dif.add_argument("log", help="trainer_state.json, Lightning metrics.csv, a TensorBoard event file or a CSV export")
    dif.add_argument("--config", metavar="FILE", required=True, help="the plan: any config --config reads")
    dif.add_argument("--dataset-size", type=int, help="samples per epoch, where the plan's run length needs it")
    dif.add_argument("--devices", type=int, help="processes training in parallel, where the plan needs it")
    dif.add_argument("--batch-size", type=int, help="batch size, where the plan's file does not hold it")
    dif.add_argument("--format", choices=("text", "json"), default="text")
    ident = sub.add_parser("identify", help="which schedule (of every library) produced a logged lr curve")
    ident.add_argument(
        "log", help="trainer_state.json, Lightning metrics.csv, a TensorBoard event file or a CSV export"
    )
    ident.add_argument("--top", type=int, default=5, help="how many candidates (1-20)")
    ident.add_argument("--format", choices=("text", "json"), default="text")
    find = sub.add_parser("find-lr", help="LR range test (fastai's lr_find) on a built-in task")
    _lab_options(find)
    find.add_argument("--start-lr", type=float, default=1e-7)
    find.add_argument("--end-lr", type=float, default=10.0)
    find.add_argument("--num-it", type=int, default=100, help="sweep steps (fastai's num_it)")
    find.add_argument("--format", choices=("text", "json"), default="text")
    find.add_argument(
        "--fastai", action="store_true", help="also run fastai's own Learner.lr_find on the same model and data"
    )
    train = sub.add_parser("train", help="train a small model once per config; print lrs applied and losses")
    train.add_argument(
        "--config", metavar="FILE", action="append", required=True, help="an lrlab YAML/JSON config (repeatable)"
    )
    _lab_options(train)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _lab_options(sub: argparse.ArgumentParser) -> None:
    from lrlab.datasets import DATASETS
    from lrlab.training import MODELS, TRAIN_OPTIMIZERS

    sub.add_argument("--dataset", choices=DATASETS, default="digits")
    sub.add_argument("--model", choices=MODELS, default="mlp")
    sub.add_argument("--optimizer", choices=TRAIN_OPTIMIZERS, default="sgd")
    sub.add_argument("--batch-size", type=int, default=64)
    sub.add_argument("--seed", type=int, default=0)


def _list(fmt: str, library: str | None = None) -> str:
    """Every schedule (or one library's), grouped by library; a library not installed here says how to get it."""
    from lrlab.schedulers import SCHEDULERS

    specs = [s for s in SCHEDULERS.values() if library is None or s.library == library]
    if fmt == "json":
        rows = [
            {
                "name": s.name,
                "library": s.library,
                "aliases": list(s.aliases),
                "title": s.title,
                "available": s.unavailable() is None,
            }
            for s in specs
        ]
        return json.dumps(rows, indent=2)
    width = max((len(s.name) for s in specs), default=0)
    lines = []
    missing: dict[str, str] = {}
    for spec in specs:
        alias = f"  (alias: {', '.join(spec.aliases)})" if spec.aliases else ""
        why = spec.unavailable()
        if why is not None:
            missing[spec.library] = why
        flag = "  [not installed]" if why is not None else ""
        lines.append(f"{spec.name:<{width}}  {spec.library:<12}  {spec.title}{alias}{flag}")
    lines += [f"note: {why}" for why in missing.values()]
    return "\n".join(lines)


def _info(name: str, steps: int) -> str:
    from lrlab.schedulers import get_spec
    from lrlab.specs import validate_run

    validate_run(steps, 0.1, 1)  # the run length the step-relative defaults are shown for
    spec = get_spec(name)
    lines = [f"{spec.qualified_name}: {spec.title}", spec.summary, "", "parameters:"]
    for p in spec.params:
        shown = "the run's base lr" if p.name == spec.base_lr_param else json.dumps(p.default_for(steps))
        lines.append(f"  {p.name} = {shown}  — {p.help} ({p.allowed_text(steps)})")
    if not spec.params:
        lines.append("  (none)")
    lines += ["", "formula (LaTeX):", f"  {spec.formula}"]
    if spec.notes:
        lines += ["", "library vs textbook:"] + [f"  - {n}" for n in spec.notes]
    lines += ["", f"docs: {spec.reference}"]
    return "\n".join(lines)


def _run_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", nargs="?", help="torch class name, transformers function name or alias (e.g. cosine)")
    sub.add_argument(
        "--config",
        metavar="FILE",
        help="instead of NAME: an lrlab YAML/JSON config (from export), a Hugging Face training_args.json, timm's "
        "args.yaml, a Lightning CLI config or a serialized Keras schedule",
    )
    sub.add_argument("--dataset-size", type=int, help="with --config: samples per epoch, where the run length needs it")
    sub.add_argument("--devices", type=int, help="with --config: processes training in parallel (default 1)")
    sub.add_argument("--batch-size", type=int, help="with --config: batch size, where the file does not hold it")
    sub.add_argument("--steps", type=int, help="number of optimizer steps (rows); required with NAME")
    sub.add_argument("--base-lr", type=float, help="the optimizer's lr (CyclicLR: its base_lr); default 0.1")
    sub.add_argument("--steps-per-epoch", type=int, help="for the epoch column and per-epoch stepping; default 1")
    sub.add_argument(
        "--interval",
        choices=INTERVALS,
        help="how scheduler.step() is called: step (after every optimizer step, the default), epoch (once per epoch), "
        "epoch_fraction (scheduler.step(epoch + i / steps_per_epoch) after every optimizer step), "
        "epoch_arg (scheduler.step(epoch + 1) once per epoch)",
    )
    sub.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "adagrad"), help="default sgd")
    sub.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a scheduler parameter (JSON value)"
    )


def _config(args: argparse.Namespace):
    from lrlab.specs import ScheduleConfig

    if args.config is not None:
        if args.name is not None or args.set:
            raise LrlabError(
                "Invalid --config: give a config file or a scheduler NAME with --set, not both", field="--config"
            )
        for flag in ("base_lr", "steps_per_epoch", "interval", "optimizer"):
            if getattr(args, flag) is not None:
                name = "--" + flag.replace("_", "-")
                raise LrlabError(
                    f"Invalid {name} ({getattr(args, flag)}): with --config the run comes from the file; "
                    "change it there (or give a scheduler NAME instead)",
                    field=name,
                )
        config = _read_config(
            args.config,
            dataset_size=args.dataset_size,
            devices=args.devices,
            batch_size=args.batch_size,
            steps=args.steps,
        )
        if args.steps is not None and config.steps != args.steps:
            raise LrlabError(
                f"Invalid --steps ({args.steps}): the run length comes from the config file ({config.steps:,} steps); "
                "--steps sizes only a serialized Keras schedule, which holds none",
                field="--steps",
            )
        return config
    for flag in ("dataset_size", "devices", "batch_size"):
        if getattr(args, flag, None) is not None:
            raise LrlabError(
                f"Invalid --{flag.replace('_', '-')}: it sizes a run read from --config; with NAME give --steps",
                field=f"--{flag.replace('_', '-')}",
            )
    if args.name is None or args.steps is None:
        raise LrlabError("lrlab: give a scheduler NAME with --steps N, or --config FILE (see python -m lrlab --help)")

    from lrlab.schedulers import get_spec

    spec = get_spec(args.name)
    params = dict(parse_assignment(item, spec) for item in args.set)
    if "base_lr" in params:
        raise LrlabError("Invalid --set base_lr: pass the base lr as --base-lr", field="base_lr")
    # scheduler parameters and run options kept apart: `--set steps=3` is an unknown parameter,
    # not a second value for the run length
    config = ScheduleConfig.make(
        args.name,
        params,
        steps=args.steps,
        base_lr=0.1 if args.base_lr is None else args.base_lr,
        steps_per_epoch=1 if args.steps_per_epoch is None else args.steps_per_epoch,
        optimizer=args.optimizer or "sgd",
        interval=args.interval or "step",
    )
    return config


def _read_config(path: str, **sizes: Any):
    """The config in ``path`` (any format :func:`lrlab.io.import_config` reads); what the import read,
    derived and ignored is printed on stderr as ``note: …`` lines."""
    from lrlab.io import MAX_CONFIG_BYTES, import_config

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise LrlabError(f"Invalid --config ({path!r}): {exc.strerror}", field="--config") from None
    notes: list[str] = []
    config = import_config(data, notes=notes, **{k: v for k, v in sizes.items() if v is not None})
    for note in notes:
        print(f"note: {note}".replace("\n", " "), file=sys.stderr)
    return config


def _find_lr(args: argparse.Namespace) -> str:
    from lrlab.finding import lr_find

    result = lr_find(
        dataset=args.dataset,
        model=args.model,
        optimizer=args.optimizer,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_it=args.num_it,
        seed=args.seed,
        batch_size=args.batch_size,
        fastai=args.fastai,
    )
    if args.format == "json":
        return json.dumps(result.to_dict())
    lines = [f"{len(result.lr)} steps from lr {result.start_lr:g} ({result.stop_reason}); suggestions:"]
    theirs = result.fastai.suggestions if result.fastai is not None else None
    if theirs is not None:
        lines[0] = lines[0].replace("suggestions:", "suggestions (lrlab | fastai's own lr_find):")
    for name, s in result.suggestions.items():
        ours = f"{s.lr:.3g}" if s else "(too few steps recorded)"
        lines.append(f"  {name:<8} {ours}" + (f"  | {theirs[name]:.3g}" if theirs is not None else ""))
    return "\n".join(lines)


def _train(args: argparse.Namespace) -> str:
    from pathlib import Path

    from lrlab.training import TrainSetup, train

    configs = [_read_config(path) for path in args.config]
    setup = TrainSetup(
        dataset=args.dataset,
        model=args.model,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
    )
    runs = train(configs, setup, labels=[Path(p).stem for p in args.config])
    if args.format == "json":
        return json.dumps({"setup": vars(setup), "runs": [run.to_dict() for run in runs]})
    lines = [f"{'config':<24} {'status':<9} {'final acc':>9} {'best acc':>9} {'val loss':>9} {'seconds':>8}"]
    for run in runs:
        row = run.summary()
        lines.append(
            f"{run.label:<24} {run.status:<9} {row['final_val_accuracy']:>9.4f} {row['best_val_accuracy']:>9.4f} "
            f"{row['final_val_loss']:>9.4f} {row['seconds']:>8.2f}"
        )
        if run.message:
            lines.append(f"  {run.message}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """A parameter as JSON, floats to 12 significant digits (the export keeps every digit)."""
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_shown(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, default=str)


def _translate(args: argparse.Namespace) -> str:
    from lrlab.translating import translate

    config = _config(args)
    wanted = [name.strip() for name in args.to.split(",")] if args.to else None
    found = translate(config, to=wanted)
    counterparts = list(found.counterparts)
    if args.format == "json":
        return json.dumps(
            {"source": config.to_dict(), "counterparts": [c.to_dict() for c in counterparts]}, indent=2, default=str
        )
    lines = [f"{'library':<13} {'verdict':<8} {'max rel diff':>12}  counterpart"]
    for c in counterparts:
        diff = f"{c.max_rel_diff:.2e}" if c.max_rel_diff is not None else "—"
        name = c.scheduler or "—"
        lines.append(f"{c.library:<13} {c.verdict:<8} {diff:>12}  {name}")
        if c.config is not None and c.verdict != "none" and c.config != config:
            params = ", ".join(f"{k}={_shown(v)}" for k, v in c.config.params_dict.items())
            lines.append(f"{'':<13} base_lr={c.config.base_lr:.12g}" + (f", {params}" if params else ""))
        if c.verdict == "exact" and c.config != config:
            lines.append(f"{'':<13} {c.how}")
            lines.append(f"{'':<13} proof: both libraries stepped over {config.steps} steps, {c.criterion}")
            for alt in c.alternatives:
                lines.append(f"{'':<13} also exact: {alt.scheduler}")
        if c.momentum_max_rel_diff is not None:
            lines.append(f"{'':<13} momentum: max rel diff {c.momentum_max_rel_diff:.2e}")
        if c.reason:
            lines.append(f"{'':<13} why: {c.reason}")
        if c.verdict == "closest" and c.worst_steps:
            lines.append(f"{'':<13} mean rel diff {c.mean_rel_diff:.2e}, largest at steps {list(c.worst_steps)}")
        if c.momentum_note:
            lines.append(f"{'':<13} momentum: {c.momentum_note}")
    return "\n".join(lines)


def _read_log(path: str):
    """The logged run in ``path``; what the reader read and skipped goes to stderr as ``note: …``."""
    from lrlab.logs import MAX_LOG_BYTES, read

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LOG_BYTES + 1)
    except OSError as exc:
        raise LrlabError(f"Invalid log ({path!r}): {exc.strerror}", field="log") from None
    import os

    logged = read(data, name=os.path.basename(path))
    for line in (*logged.read, *logged.skipped):
        print(f"note: {line}".replace("\n", " "), file=sys.stderr)
    return logged


def _diff(args: argparse.Namespace) -> str:
    from lrlab.diagnosing import diagnose

    plan = _read_config(args.config, dataset_size=args.dataset_size, devices=args.devices, batch_size=args.batch_size)
    found = diagnose(plan, _read_log(args.log))
    if args.format == "json":
        return json.dumps(found.to_dict())
    lines = [found.summary]
    if found.first_diff_step is not None:
        lines.append(
            f"first difference at step {found.first_diff_step}; max relative difference {found.max_rel_diff:.3g}, "
            f"mean {found.mean_rel_diff:.3g} (the log's precision: {found.precision:.0e})"
        )
    for cause in found.causes[1:]:
        lines.append(f"also exact: {cause.summary}")
    if found.closest is not None:
        lines.append(f"closest, not exact: {found.closest.summary} (remaining {found.closest.remaining:.3g})")
    lines += [f"note: {n}" for n in found.notes]
    return "\n".join(lines)


def _identify(args: argparse.Namespace) -> str:
    from lrlab.identifying import identify

    if not 1 <= args.top <= 20:
        raise LrlabError(f"Invalid --top ({args.top}): must be an integer in [1, 20]", field="--top")
    found = identify(_read_log(args.log), top=args.top)
    if args.format == "json":
        return json.dumps(found.to_dict(export=True), default=str)
    lines = [f"{found.rows.size} logged rows over {found.steps} steps"]
    lines += [f"read as: {piece}" for piece in found.describe()]
    lines.append(f"{'rank':<5} {'verdict':<8} {'max rel diff':>12}  schedule")
    for rank, c in enumerate(found.candidates, 1):
        lines.append(f"{rank:<5} {c.verdict:<8} {c.max_rel_diff:>12.2e}  {c.scheduler}")
        params = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in c.config.params_dict.items())
        lines.append(f"{'':<5} base_lr={c.config.base_lr:g}" + (f", {params}" if params else ""))
        if c.equivalents:
            lines.append(f"{'':<5} the same curve: " + ", ".join(e.scheduler for e in c.equivalents))
    lines += [f"note: {n}" for n in found.notes]
    return "\n".join(lines)


def _export(args: argparse.Namespace) -> str:
    from lrlab.export import render

    return render(_config(args), args.target).rstrip("\n")


def _curve(args: argparse.Namespace) -> str:
    from lrlab.simulate import simulate

    frame = simulate(_config(args)).frame
    if args.format == "json":
        return frame.to_json(orient="records", double_precision=15)
    return frame.to_csv(index=False).rstrip("\n")


def main(argv: Sequence[str] | None = None) -> int:
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", LibraryWarning)
        status, out = _run(argv)
    for message in dict.fromkeys(str(w.message) for w in said if issubclass(w.category, LibraryWarning)):
        print(f"warning: {message}".replace("\n", " "), file=sys.stderr)
    for w in said:  # anything else keeps Python's own handling
        if not issubclass(w.category, LibraryWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if status:
        return status
    try:
        print(out)
    except BrokenPipeError:  # `python -m lrlab curve … | head`: the reader left, nothing to report
        sys.stdout = None
    return 0


def _run(argv: Sequence[str] | None) -> tuple[int, str]:
    try:
        args = _parser().parse_args(argv)
        if args.command == "list":
            out = _list(args.format, args.library)
        elif args.command == "export":
            out = _export(args)
        elif args.command == "info":
            out = _info(args.name, args.steps)
        elif args.command == "find-lr":
            out = _find_lr(args)
        elif args.command == "train":
            out = _train(args)
        elif args.command == "translate":
            out = _translate(args)
        elif args.command == "diff":
            out = _diff(args)
        elif args.command == "identify":
            out = _identify(args)
        else:
            out = _curve(args)
    except LrlabError as exc:
        print(f"error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2, ""
    return 0, out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
