"""Compare overlays one schedule of each library in a real browser: torch, timm, Keras, optax, fastai.

Each expected curve is computed here from the library itself, driven as its own training loop drives
it (written out below, not through lrlab): a torch scheduler stepped after each optimizer step; timm's
``step_update(num_updates)`` after each update and ``step(epoch + 1)`` after each epoch; a Keras and an
optax schedule called with the update count; fastai's ``combined_cos`` called with the ``pct_train`` its
Learner accumulates. The page's numbers are the data Plotly.js holds.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import sys
from typing import Any
from urllib.parse import quote

import pytest

from .harness import PAGE_TIMEOUT_MS, wait_for_chart
from .test_compare_and_links import assert_healthy, names, wait_for_traces

pytestmark = pytest.mark.e2e

STEPS, SPE, LR = 200, 20, 0.1
CURVES = [
    {"label": "torch cosine", "scheduler": "CosineAnnealingLR", "params": {"T_max": STEPS, "eta_min": 0.0}},
    {
        "label": "timm cosine",
        "scheduler": "timm:CosineLRScheduler",
        "params": {"t_initial": STEPS // SPE, "t_in_epochs": True, "warmup_t": 2, "warmup_lr_init": 0.01},
    },
    {"label": "keras cosine", "scheduler": "keras:CosineDecay", "params": {"decay_steps": STEPS, "alpha": 0.1}},
    {"label": "optax cosine", "scheduler": "optax:cosine_decay_schedule", "params": {"decay_steps": 150}},
    {"label": "fastai one cycle", "scheduler": "fastai:fit_one_cycle", "params": {}},
]


def torch_cosine() -> list[float]:
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS, eta_min=0.0)
    out = []
    for _ in range(STEPS):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def timm_scheduler_module() -> Any:
    """timm.scheduler, without timm's package __init__ where `import timm` fails (no torchvision here)."""
    try:
        return importlib.import_module("timm.scheduler")
    except Exception:
        for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
            del sys.modules[name]
        # from its spec, so the stand-in keeps __spec__: find_spec("timm") raises on a module without one
        sys.modules["timm"] = importlib.util.module_from_spec(importlib.util.find_spec("timm"))
        return importlib.import_module("timm.scheduler")


def timm_cosine() -> list[float]:
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched = timm_scheduler_module().CosineLRScheduler(
        opt, t_initial=STEPS // SPE, t_in_epochs=True, warmup_t=2, warmup_lr_init=0.01
    )
    out, updates = [], 0
    for epoch in range(STEPS // SPE):  # timm's train.py
        for _ in range(SPE):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            updates += 1
            sched.step_update(num_updates=updates)
        sched.step(epoch + 1)
    return out


def keras_cosine() -> list[float]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(initial_learning_rate=LR, decay_steps=STEPS, alpha=0.1)
    return [float(schedule(t)) for t in range(STEPS)]


def optax_cosine() -> list[float]:
    import optax

    schedule = optax.cosine_decay_schedule(init_value=LR, decay_steps=150)
    return [float(schedule(t)) for t in range(STEPS)]


def fastai_one_cycle() -> list[float]:
    from fastai.callback.schedule import combined_cos

    sched = combined_cos(0.25, LR / 25.0, LR, LR / 1e5)  # fit_one_cycle's defaults
    n_epoch = STEPS // SPE
    out = []
    for epoch in range(n_epoch):  # TrainEvalCallback: pct_train reset per epoch, += 1/(n_iter·n_epoch) per batch
        pct = epoch / n_epoch
        for _ in range(SPE):
            out.append(float(sched(pct)))
            pct += 1.0 / (SPE * n_epoch)
    return out


EXPECTED = {
    "torch cosine": (torch_cosine, 1e-12),
    "timm cosine": (timm_cosine, 1e-12),
    "keras cosine": (keras_cosine, 1e-7),  # float32 values, sent to the page as float64 either way
    "optax cosine": (optax_cosine, 1e-7),
    "fastai one cycle": (fastai_one_cycle, 1e-12),
}


def close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def test_compare_overlays_a_torch_timm_keras_optax_and_fastai_curve_each_its_librarys_own(
    page: Any, base_url: str
) -> None:
    curves = [{**c, "base_lr": LR} for c in CURVES]
    url = f"{base_url}/compare?steps={STEPS}&steps_per_epoch={SPE}&curves={quote(json.dumps(curves))}"
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url)
    wait_for_chart(page, timeout_ms=120_000)  # the first Keras / fastai / jax import of the server
    labels = [c["label"] for c in CURVES]
    traces = wait_for_traces(page, lambda ts: names(ts)[: len(labels)] == labels, f"traces {labels}", 120_000)
    by_name = {t["name"]: t for t in traces}
    for label, (expected_fn, rel) in EXPECTED.items():
        expected = expected_fn()
        got = by_name[label]["y"]
        assert len(got) == STEPS, (label, len(got))
        bad = [t for t, (a, b) in enumerate(zip(got, expected, strict=True)) if not close(a, b, rel)]
        assert not bad, f"{label}: first differing row {bad[0]}: page {got[bad[0]]} vs library {expected[bad[0]]}"
    # the libraries really differ: fastai's one cycle peaks at row pct·N = 50, torch's cosine starts at its peak
    fastai = by_name["fastai one cycle"]["y"]
    assert max(range(STEPS), key=fastai.__getitem__) == 50
    assert_healthy(page)
