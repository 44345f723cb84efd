"""Streamlit pieces shared by the LR finder and Train & compare pages.

- the task/model/optimizer inputs (one widget set, keys prefixed per page);
- a server-wide limit on simultaneous training jobs (:func:`training_slot`): a class of visitors
  pressing "Run" together queue for two slots instead of sharing two cores twenty ways;
- sending a learning rate to another page (Playground, Compare, Train & compare).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import streamlit as st

from lrlab.datasets import DATASETS
from lrlab.training import LIMITS, TrainSetup
from lrlab.ui.typed import is_number, typed_slider

#: jobs (LR sweeps, training comparisons) that may run at once on this server process
MAX_JOBS = 2
_SLOTS = threading.BoundedSemaphore(MAX_JOBS)
WAIT_S = 20.0

DATASET_LABELS = {
    "digits": "Handwritten digits (scikit-learn, 1,797 8×8 images, 10 classes)",
    "moons": "Two moons (2-D toy, 1,000 points, 2 classes)",
}
MODEL_LABELS = {"mlp": "MLP", "cnn": "Tiny CNN (2 conv layers)"}
OPTIMIZER_LABELS = {"sgd": "SGD + momentum", "adamw": "AdamW"}
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]
HIDDEN = [4, 8, 16, 32, 64, 128, 256, 512]  # the helper sliders' stops; any integer in LIMITS may be typed


def dataset_label(key: str) -> str:
    return DATASET_LABELS.get(key, key)


def model_label(key: str) -> str:
    return MODEL_LABELS.get(key, key)


def optimizer_label(key: str) -> str:
    return OPTIMIZER_LABELS.get(key, key)


SETUP_DEFAULTS: dict[str, Any] = {
    "dataset": "digits",
    "model": "mlp",
    "hidden": 64,
    "layers": 1,
    "optimizer": "sgd",
    "momentum": 0.9,
    "batch_size": 64,
    "epochs": 10,
    "seed": 0,
}
#: what a link may set, as `state.checked_values` limits
SETUP_LINK_LIMITS: dict[str, tuple] = {
    "dataset": DATASETS,
    "model": ("mlp", "cnn"),
    "hidden": (int(LIMITS["hidden"][0]), int(LIMITS["hidden"][1])),
    "layers": (1, 4),
    "optimizer": ("sgd", "adamw"),
    "batch_size": (int(LIMITS["batch_size"][0]), int(LIMITS["batch_size"][1])),
    "epochs": (1, int(LIMITS["epochs"][1])),
    "seed": (0, 2**31 - 1),
}


def setup_inputs(prefix: str, *, epochs: bool = True) -> TrainSetup:
    """The task, model and optimizer inputs; returns the (not yet validated) setup."""
    for key, value in SETUP_DEFAULTS.items():
        st.session_state.setdefault(f"{prefix}.{key}", value)
    dataset = st.selectbox("Data", DATASETS, key=f"{prefix}.dataset", format_func=dataset_label)
    models = ["mlp", "cnn"] if dataset == "digits" else ["mlp"]
    if st.session_state[f"{prefix}.model"] not in models:
        st.session_state[f"{prefix}.model"] = "mlp"
    c1, c2 = st.columns(2)
    model = c1.selectbox("Model", models, key=f"{prefix}.model", format_func=model_label)
    hidden, layers = 64, 1
    if model == "mlp":
        hidden = typed_slider(
            c2,
            "Hidden units",
            key=f"{prefix}.hidden",
            options=HIDDEN,
            is_int=True,
            help=f"Units per hidden layer: any integer from {LIMITS['hidden'][0]:g} to {LIMITS['hidden'][1]:g} "
            "(type it; the slider under the box offers powers of two).",
        )
        layers = int(c1.number_input("Hidden layers", 1, 4, key=f"{prefix}.layers"))
    optimizer = st.radio(
        "Optimizer", ["sgd", "adamw"], key=f"{prefix}.optimizer", format_func=optimizer_label, horizontal=True
    )
    c1, c2 = st.columns(2)
    momentum = 0.9
    if optimizer == "sgd":
        momentum = float(c2.number_input("Momentum", 0.0, 0.999, step=0.05, key=f"{prefix}.momentum"))
    batch_size = typed_slider(
        c1,
        "Batch size",
        key=f"{prefix}.batch_size",
        options=BATCH_SIZES,
        is_int=True,
        help=f"Samples per batch: any integer from {LIMITS['batch_size'][0]:g} to {LIMITS['batch_size'][1]:g} "
        "(type it; the slider under the box offers powers of two).",
    )
    n_epochs = 1
    if epochs:
        n_epochs = int(c2.number_input("Epochs", 1, int(LIMITS["epochs"][1]), key=f"{prefix}.epochs"))
    seed = int(c1.number_input("Seed", 0, 2**31 - 1, key=f"{prefix}.seed", help="Initial weights and batch order."))
    return TrainSetup(
        dataset=dataset,
        model=model,
        hidden=_whole(hidden),
        layers=layers,
        optimizer=optimizer,
        momentum=momentum,
        batch_size=_whole(batch_size),
        epochs=n_epochs,
        seed=seed,
    )


def _whole(value: Any) -> Any:
    """A typed count as an int (validation names a value that is not one: it is passed on as typed)."""
    return int(value) if is_number(value) and (isinstance(value, int) or float(value).is_integer()) else value


def setup_values(setup: TrainSetup, *, epochs: bool = True) -> dict[str, Any]:
    """The setup as link values (only what differs from the defaults keeps links short)."""
    values = {k: getattr(setup, k) for k in SETUP_DEFAULTS if epochs or k != "epochs"}
    return {k: v for k, v in values.items() if v != SETUP_DEFAULTS[k]}


def apply_link(prefix: str, query: dict[str, str], ignored: list[str]) -> None:
    from lrlab.ui.links import Field, restore
    from lrlab.ui.state import checked_values

    restore({"momentum": Field(f"{prefix}.momentum", SETUP_DEFAULTS["momentum"], low=0.0, high=0.999)}, query, ignored)
    for key, value in checked_values(query, SETUP_LINK_LIMITS, ignored).items():  # typed: any in range
        st.session_state[f"{prefix}.{key}"] = value


def request_run(prefix: str) -> None:
    """Button callback: ask the page to run (a flag survives a rerun; a button's own value does not)."""
    st.session_state[f"{prefix}.requested"] = True


@contextlib.contextmanager
def training_slot() -> Iterator[bool]:
    """Hold one of the server's job slots while the body runs; yields False if none freed up in time."""
    got = _SLOTS.acquire(timeout=WAIT_S)
    try:
        yield got
    finally:
        if got:
            _SLOTS.release()


# ---- sending a learning rate elsewhere ----------------------------------------------------------

LR_KEY = "lab.chosen_lr"  # the Train & compare page reads it as its peak lr


def send_lr(target: str, lr: float) -> None:
    """Button callback: remember the lr for ``target`` ("playground", "compare", "train")."""
    st.session_state["lab.send"] = (target, float(f"{lr:.3g}"))


def follow_send() -> None:
    """After a send button: open the target page with the lr in place (call early in the page)."""
    pending = st.session_state.pop("lab.send", None)
    if not pending:
        return
    target, lr = pending
    st.session_state[LR_KEY] = lr
    if target == "playground":
        scheduler = st.session_state.get("pg.scheduler", "OneCycleLR")
        from lrlab.schedulers import SCHEDULERS

        spec = SCHEDULERS.get(scheduler, SCHEDULERS["OneCycleLR"])
        query = {"scheduler": spec.name}
        if any(p.name == "max_lr" for p in spec.params) and spec.base_lr_param != "max_lr":
            query["max_lr"] = str(lr)
        else:
            query["base_lr"] = str(lr)
        st.session_state.pop("__url_loaded.pg", None)  # the Playground reads its link again
        st.switch_page("pages/playground.py", query_params=query)
    elif target == "compare":
        from lrlab.ui.entries import add_one_cycle

        add_one_cycle(lr)
        st.switch_page("pages/compare.py")
    else:
        st.session_state["tr.peak_lr"] = lr
        st.switch_page("pages/train.py")


# ---- the Train & compare page's list of schedules -------------------------------------------------

ITEMS = "tr.schedules"
MAX_ITEMS = int(LIMITS["schedules"][1])
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"label": "constant", "kind": "scheduler", "key": "ConstantLR", "params": {"factor": 1.0}},
    {"label": "cosine annealing", "kind": "scheduler", "key": "CosineAnnealingLR", "params": {}},
    {"label": "fastai fit_one_cycle", "kind": "preset", "key": "one_cycle", "params": {}},
]


def items() -> list[dict[str, Any]]:
    if ITEMS not in st.session_state:
        st.session_state[ITEMS] = [dict(item, id=i) for i, item in enumerate(DEFAULT_ITEMS)]
        st.session_state["tr.next_id"] = len(DEFAULT_ITEMS)
    return st.session_state[ITEMS]


def add_choices() -> list[str]:
    """Options of the "add a schedule" box: presets, every scheduler, and the Compare page's curves."""
    from lrlab.presets import PRESETS
    from lrlab.schedulers import SCHEDULERS

    compare = [f"compare:{e['id']}" for e in st.session_state.get("cmp.entries", [])]
    plain = [f"scheduler:{name}" for name, spec in SCHEDULERS.items() if not spec.needs_metric]
    return ["", *(f"preset:{k}" for k in PRESETS), *compare, *plain, "scheduler:ReduceLROnPlateau"]


def choice_label(choice: str) -> str:
    from lrlab.presets import PRESETS
    from lrlab.ui.widgets import scheduler_label

    if not choice:
        return "Add a schedule…"
    kind, _, key = choice.partition(":")
    if kind == "preset":
        return f"Paper: {PRESETS[key].title}" if key in PRESETS else choice
    if kind == "compare":
        entry = next((e for e in st.session_state.get("cmp.entries", []) if str(e["id"]) == key), None)
        return f"From Compare: {entry['label']}" if entry else choice
    return scheduler_label(key)


def add_item() -> None:
    """Callback of the "add a schedule" box."""
    choice = st.session_state.get("tr.add") or ""
    st.session_state["tr.add"] = ""
    if not choice or len(items()) >= MAX_ITEMS:
        return
    kind, _, key = choice.partition(":")
    item: dict[str, Any] = {"kind": kind, "key": key, "params": {}, "label": choice_label(choice).split(": ", 1)[-1]}
    if kind == "compare":
        entry = next((e for e in st.session_state.get("cmp.entries", []) if str(e["id"]) == key), None)
        if entry is None:
            return
        item.update(
            kind="scheduler",
            key=entry["scheduler"],
            params=dict(entry["params"]),
            label=entry["label"],
            interval=entry.get("interval", "step"),
        )
    item["id"] = st.session_state.get("tr.next_id", len(items()))
    st.session_state["tr.next_id"] = item["id"] + 1
    items().append(item)


def remove_item(item_id: int) -> None:
    remaining = [i for i in items() if i["id"] != item_id]
    if remaining:
        st.session_state[ITEMS] = remaining


def item_config(item: dict[str, Any], steps: int, steps_per_epoch: int, peak_lr: float):
    """The item as a :class:`~lrlab.specs.ScheduleConfig` for a run of ``steps`` optimizer steps."""
    from lrlab.presets import PRESETS
    from lrlab.specs import ScheduleConfig
    from lrlab.training import with_peak_lr

    if item["kind"] == "preset":
        config = PRESETS[item["key"]].config(steps)
    else:
        config = ScheduleConfig.make(item["key"], item["params"], steps=steps, interval=item.get("interval", "step"))
    return replace(with_peak_lr(config, peak_lr), steps=steps, steps_per_epoch=steps_per_epoch)


def runs_json(runs: list[Any]) -> str:
    """A comparison's runs as the JSON the CLI's ``train --format json`` prints (built on download)."""
    import json

    return json.dumps({"runs": [r.to_dict() for r in runs]})
