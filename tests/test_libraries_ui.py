"""The app's library pieces, run through ``app.py`` with AppTest: the Playground's library filter, the
sidebar's versions, a timm, a Keras, an optax and a fastai schedule drawn from a link (the chart's library
trace against each library's own values, computed by the loops written out here), and a library that is
not installed (made unimportable in this process): named, with its install command, and no traceback.

Expected values come from the libraries themselves and from ``importlib.metadata``, never from lrlab."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lrlab import SCHEDULERS

APP = Path(__file__).resolve().parents[1] / "app.py"


def _app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _array(value: Any) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return data.reshape(value["shape"]) if "shape" in value else data
    return np.asarray(value)


def _library_trace(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    trace = next(t for t in figure["data"] if t.get("name") == "library")
    return _array(trace["x"]).astype(np.int64), _array(trace["y"]).astype(np.float64)


def _names_of(labels: list[str]) -> list[str]:
    """The scheduler names behind a picker's labels (``keras · CosineDecay — …``)."""
    by_label: dict[str, str] = {}
    for name, spec in SCHEDULERS.items():
        by_label[f"{spec.library} · {spec.title}"] = name
        by_label[f"{spec.library} · {spec.title} (not installed)"] = name
    return [by_label[label] for label in labels]


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return importlib.import_module("keras")


def _timm_scheduler() -> Any:
    """timm.scheduler as a user gets it; where ``import timm`` fails for want of torchvision, the package
    alone (its __init__ not run)."""
    if "timm.scheduler" in sys.modules:
        return sys.modules["timm.scheduler"]
    try:
        return importlib.import_module("timm.scheduler")
    except (ImportError, RuntimeError):
        for name in [n for n in sys.modules if n == "timm" or n.startswith("timm.")]:
            del sys.modules[name]
        sys.modules["timm"] = importlib.util.module_from_spec(importlib.util.find_spec("timm"))
        return importlib.import_module("timm.scheduler")


# ---- the Playground's library filter -------------------------------------------------------------------------


def test_picking_keras_in_the_library_filter_leaves_exactly_keras_schedules_in_the_picker():
    keras = _keras()
    own = keras.optimizers.schedules
    base = own.LearningRateSchedule
    expected = {
        f"keras:{name}"
        for name, obj in vars(own).items()
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base
    }
    assert expected == {
        "keras:CosineDecay",
        "keras:CosineDecayRestarts",
        "keras:ExponentialDecay",
        "keras:InverseTimeDecay",
        "keras:PiecewiseConstantDecay",
        "keras:PolynomialDecay",
    }
    at = _app()
    at.selectbox(key="pg.library").set_value("keras").run()
    assert not at.exception
    picker = at.selectbox(key="pg.scheduler")
    assert set(_names_of(picker.options)) == expected
    assert picker.value in expected  # the scheduler moved to one of Keras's
    assert at.get("plotly_chart")  # and it is drawn


def test_the_library_filter_offers_every_library_and_all():
    at = _app()
    assert at.selectbox(key="pg.library").options == [
        "All libraries",
        "torch",
        "transformers",
        "timm",
        "keras",
        "optax",
        "fastai",
    ]


# ---- the sidebar names the installed versions -----------------------------------------------------------------


def test_the_sidebar_names_each_library_with_its_installed_version():
    at = _app()
    line = " ".join(c.value for c in at.sidebar.caption)
    for dist, label in [
        ("torch", "torch"),
        ("transformers", "transformers"),
        ("timm", "timm"),
        ("keras", "Keras"),
        ("optax", "optax"),
        ("jax", "jax"),
        ("fastai", "fastai"),
    ]:
        assert f"{label} {metadata.version(dist)}" in line, (label, line)


# ---- each library's schedule, drawn from a link, is the library's own curve ------------------------------------


def test_a_keras_link_draws_the_lr_keras_gives_at_every_step():
    at = _app({"scheduler": "keras:CosineDecay", "steps": "200", "decay_steps": "150", "alpha": "0.1"})
    schedule = _keras().optimizers.schedules.CosineDecay(0.1, 150, alpha=0.1)
    expected = np.array([float(schedule(t)) for t in range(200)])
    x, y = _library_trace(at)
    assert x.max() == 199
    np.testing.assert_allclose(y, expected[x], rtol=1e-7, atol=0)
    assert y[-1] == pytest.approx(0.01, rel=1e-6)  # alpha · 0.1 after the decay


def test_an_optax_link_draws_the_lr_optax_gives_at_every_step():
    optax = pytest.importorskip("optax")
    query = {
        "scheduler": "optax:warmup_cosine_decay_schedule",
        "steps": "120",
        "warmup_steps": "10",
        "decay_steps": "100",
        "end_value": "0.001",
    }
    at = _app(query)
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100, end_value=0.001
    )
    expected = np.array([float(schedule(t)) for t in range(120)])
    x, y = _library_trace(at)
    assert x.max() == 119
    np.testing.assert_array_equal(y, expected[x])
    assert y.max() == pytest.approx(0.1, rel=1e-6)


def test_a_timm_link_draws_the_lr_of_timms_train_py_loop():
    query = {
        "scheduler": "timm:CosineLRScheduler",
        "steps": "60",
        "steps_per_epoch": "3",
        "t_initial": "15",
        "warmup_t": "3",
        "warmup_lr_init": "0.001",
        "lr_min": "0.0001",
    }
    at = _app(query)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = _timm_scheduler().CosineLRScheduler(
        optimizer, t_initial=15, warmup_t=3, warmup_lr_init=0.001, lr_min=1e-4
    )
    expected, num_updates = [], 0
    for epoch in range(20):  # timm's train.py: step_update after every update, step(epoch + 1) after every epoch
        for _ in range(3):
            expected.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            num_updates += 1
            scheduler.step_update(num_updates=num_updates)
        scheduler.step(epoch + 1)
    x, y = _library_trace(at)
    assert x.max() == 59
    np.testing.assert_array_equal(y, np.asarray(expected)[x])
    assert y[0] == 0.001 and y[-1] == 1e-4


def test_a_fastai_link_draws_the_lr_fastais_param_scheduler_sets_before_each_batch():
    pytest.importorskip("fastai")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastai.callback.schedule import combined_cos

    at = _app({"scheduler": "fastai:fit_one_cycle", "steps": "40", "steps_per_epoch": "4"})
    lr_max = np.array([0.1])  # fit_one_cycle's defaults: div 25, div_final 1e5, pct_start 0.25
    sched = combined_cos(0.25, lr_max / 25.0, lr_max, lr_max / 1e5)
    n_epoch, n_iter, expected = 10, 4, []
    for epoch in range(n_epoch):  # pct_train as fastai's TrainEvalCallback keeps it
        pct = epoch / n_epoch
        for _ in range(n_iter):
            expected.append(float(np.asarray(sched(pct)).reshape(-1)[0]))
            pct += 1.0 / (n_iter * n_epoch)
    x, y = _library_trace(at)
    assert x.max() == 39
    np.testing.assert_array_equal(y, np.asarray(expected)[x])
    assert int(np.argmax(y)) == 10  # the peak at pct_start · N = 10 (torch's OneCycleLR: 9)
    assert math.isclose(y[0], 0.1 / 25, rel_tol=1e-12)


# ---- a library that is not installed ------------------------------------------------------------------------------


@pytest.fixture
def fresh_labels():
    """The pickers cache whether a library is missing, and the pages cache curves (a curve drawn by an earlier
    test in this process would be shown again): start and end each test with neither."""
    import streamlit as st

    from lrlab.ui import widgets
    from lrlab.ui.cache import CURVES

    widgets._library_missing.cache_clear()
    st.cache_data.clear()
    CURVES.clear()
    yield
    widgets._library_missing.cache_clear()
    st.cache_data.clear()
    CURVES.clear()


@pytest.mark.parametrize(
    ("library", "module", "name"),
    [
        ("timm", "timm", "timm:CosineLRScheduler"),
        ("keras", "keras", "keras:CosineDecay"),
        ("optax", "optax", "optax:linear_schedule"),
    ],
)
def test_a_library_that_cannot_be_imported_is_named_not_installed_with_its_install_command(
    monkeypatch, fresh_labels, library, module, name
):
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` raises ImportError; find_spec gives None
    with pytest.raises(ImportError):
        importlib.import_module(module)
    assert importlib.util.find_spec(module) is None
    at = _app({"scheduler": name})
    assert f"{library} (not installed)" in at.selectbox(key="pg.library").options
    picker = at.selectbox(key="pg.scheduler")
    assert picker.value == name
    label = next(o for o in picker.options if o.startswith(f"{library} · {SCHEDULERS[name].title}"))
    assert label.endswith("(not installed)")
    errors = " ".join(e.value for e in at.error)
    assert f"{library} is not installed here" in errors and "pip install" in errors
    assert "Traceback" not in errors and not at.exception
    assert not at.get("plotly_chart") or all(  # no curve of the missing library
        t.get("name") != "library" for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    )
