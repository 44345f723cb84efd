"""fastai's schedules: lrlab's curves are what a real fastai ``Learner`` records, batch by batch.

Expected values come from fastai itself, never from lrlab: a real ``Learner`` (a Linear layer per param
group on a ``TensorDataset``, CPU) fitted with ``learn.fit_one_cycle`` & co. and its own
``learn.recorder.lrs`` / ``recorder.hps['mom']``; fastai's schedule functions (``combined_cos``,
``combine_scheds``, ``SchedCos``, …) called in a loop written out here with ``pct_train`` kept as
``TrainEvalCallback`` keeps it; and fastai's own test tables (nbs/14_callback.schedule.ipynb).
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import lrlab
from lrlab import LrlabError, ScheduleConfig, fast, simulate
from lrlab.explain import explain

pytest.importorskip("fastai")

with warnings.catch_warnings():  # fastai's import-time deprecation warnings (torch.jit.script, pandas)
    warnings.simplefilter("ignore")
    from fastai.callback.core import Callback
    from fastai.callback.schedule import (
        ParamScheduler,
        SchedCos,
        SchedExp,
        SchedLin,
        SchedNo,
        SchedPoly,
        combine_scheds,
        combined_cos,
    )
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastcore.basics import even_mults
    from torch import nn
    from torch.utils.data import TensorDataset

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["fastai:fit_one_cycle", "fastai:fit_flat_cos", "fastai:fit_sgdr", "fastai:fine_tune", "fastai:combine_scheds"]


# ---- a real fastai Learner -----------------------------------------------------------------------------


class EveryGroup(Callback):
    """Every param group's lr (fastai's order) and the momentum of each batch, over every fit of the learner."""

    order, run_valid = 61, False  # after ParamScheduler (60) has set the batch's values

    def __init__(self):
        self.lrs, self.moms = [], []

    def after_batch(self):
        self.lrs.append([h["lr"] for h in self.opt.hypers])
        self.moms.append(self.opt.hypers[-1]["mom"])


def learner(steps_per_epoch: int, groups: int = 1) -> Learner:
    x = torch.linspace(-1, 1, 2 * steps_per_epoch).unsqueeze(1)
    dls = DataLoaders.from_dsets(
        TensorDataset(x, 2 * x), TensorDataset(x[:2], 2 * x[:2]), bs=2, device="cpu", num_workers=0
    )
    model = nn.Sequential(*[nn.Linear(1, 1) for _ in range(groups)])
    return Learner(dls, model, loss_func=nn.MSELoss(), splitter=lambda m: [list(layer.parameters()) for layer in m])


def fitted(steps_per_epoch: int, groups: int, fit) -> tuple[Learner, EveryGroup]:
    """A real Learner after ``fit(learn)``, silent, with every group's lr of every batch recorded."""
    learn = learner(steps_per_epoch, groups)
    seen = EveryGroup()
    learn.add_cb(seen)
    with learn.no_bar(), learn.no_logging():
        fit(learn)
    return learn, seen


def lrlab_curve(name: str, params: dict, **run) -> lrlab.Curve:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a run that stops where the fit ends warns (LibraryRefusal)
        return simulate(ScheduleConfig.make(name, params, **run))


def columns(curve: lrlab.Curve) -> np.ndarray:
    return curve.frame[list(curve.lr_columns)].to_numpy()


def assert_same_as_the_learner(curve: lrlab.Curve, seen: EveryGroup, rows: int | None = None) -> None:
    """lrlab's group g is fastai's group n − 1 − g (group 0 is the head: what recorder.lrs logs)."""
    rows = curve.config.steps if rows is None else rows
    learner_lrs = np.array(seen.lrs, dtype=np.float64)[:rows, ::-1]
    np.testing.assert_array_equal(columns(curve)[:rows], learner_lrs)
    column = curve.momentum_column
    if column is not None:
        np.testing.assert_array_equal(curve.frame[column].to_numpy()[:rows], np.array(seen.moms[:rows]))
    if curve.closed is not None:  # the closed form does fastai's float32 phase arithmetic: equal to the bit
        np.testing.assert_array_equal(curve.closed[list(curve.lr_columns)].to_numpy()[:rows], learner_lrs)


# ---- each schedule against a real Learner -------------------------------------------------------------


@pytest.mark.parametrize(
    "steps, spe, groups, params",
    [
        (20, 10, 1, {}),
        (37, 5, 3, {"div": 10.0, "div_final": 1e3, "pct_start": 0.4}),  # 37 steps: the last epoch is cut short
        (24, 4, 2, {"pct_start": 0.0, "moms_start": 0.9, "moms_middle": 0.8, "moms_end": 0.99}),
        (15, 1, 1, {"pct_start": 1.0}),
    ],
)
def test_fit_one_cycle_is_what_the_learner_records_lr_and_momentum(steps, spe, groups, params):
    curve = lrlab_curve(
        "fastai:fit_one_cycle",
        params,
        steps=steps,
        steps_per_epoch=spe,
        base_lr=0.02,
        group_lrs=tuple(0.02 * (g + 2) for g in range(groups - 1)),
    )
    p = curve.params
    lr_max = [*[0.02 * (g + 2) for g in range(groups - 1)][::-1], 0.02]  # fastai's order: body groups, then head
    moms = (p["moms_start"], p["moms_middle"], p["moms_end"])
    learn, seen = fitted(
        spe,
        groups,
        lambda learn: learn.fit_one_cycle(
            math.ceil(steps / spe),
            lr_max=lr_max if groups > 1 else 0.02,
            div=p["div"],
            div_final=p["div_final"],
            pct_start=p["pct_start"],
            moms=moms,
        ),
    )
    assert_same_as_the_learner(curve, seen)
    np.testing.assert_array_equal(curve.frame["lr"], learn.recorder.lrs[:steps])
    np.testing.assert_array_equal(curve.frame["momentum"], learn.recorder.hps["mom"][:steps])
    assert (steps % spe != 0) == any("stops" in note for note in curve.notes)


def test_fastais_own_one_cycle_table_peaks_at_row_5_where_torch_peaks_at_row_4():
    # fastai's scheduler test (nbs/14_callback.schedule.ipynb): fit_one_cycle(2) with lr 1e-2 on 2 × 10 batches
    curve = lrlab_curve("fastai:fit_one_cycle", {}, steps=20, steps_per_epoch=10, base_lr=1e-2)
    table_lrs = [combined_cos(0.25, 1e-2 / 25, 1e-2, 1e-7)(i / 20) for i in range(20)]
    table_moms = [combined_cos(0.25, 0.95, 0.85, 0.95)(i / 20) for i in range(20)]
    np.testing.assert_allclose(curve.frame["lr"], table_lrs, rtol=0, atol=1e-5)  # fastai's test_close (eps 1e-5)
    np.testing.assert_allclose(curve.frame["momentum"], table_moms, rtol=0, atol=1e-5)
    assert int(np.argmax(curve.frame["lr"])) == 5
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1e-2, momentum=0.9)
    # the same cycle in torch: div 25, final lr 1e-2/1e5 = (1e-2/25)/4000, 25% warm-up
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1e-2, total_steps=20, pct_start=0.25, div_factor=25, final_div_factor=4000
    )
    torch_lrs = []
    for _ in range(20):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        one_cycle.step()
    assert int(np.argmax(torch_lrs)) == 4
    assert int(np.sum(~np.isclose(torch_lrs, curve.frame["lr"], rtol=1e-9))) == 19  # all but row 0 differ


@pytest.mark.parametrize(
    "steps, spe, groups, params",
    [(30, 4, 1, {}), (23, 3, 2, {"pct_start": 0.5, "div_final": 10.0}), (12, 1, 1, {"pct_start": 0.0})],
)
def test_fit_flat_cos_is_what_the_learner_records(steps, spe, groups, params):
    extra = (0.5,) * (groups - 1)
    curve = lrlab_curve("fastai:fit_flat_cos", params, steps=steps, steps_per_epoch=spe, base_lr=0.1, group_lrs=extra)
    p = curve.params
    _, seen = fitted(
        spe,
        groups,
        lambda learn: learn.fit_flat_cos(
            math.ceil(steps / spe),
            lr=[0.5] * (groups - 1) + [0.1],
            div_final=p["div_final"],
            pct_start=p["pct_start"],
        ),
    )
    assert_same_as_the_learner(curve, seen)
    assert curve.momentum_column is None  # fit_flat_cos schedules no momentum


def test_fit_sgdr_is_what_the_learner_records_and_restarts_its_third_cycle_a_batch_late():
    spe = 4
    curve = lrlab_curve("fastai:fit_sgdr", {"n_cycles": 3, "cycle_len": 1}, steps=28, steps_per_epoch=spe, base_lr=0.1)
    learn, seen = fitted(spe, 1, lambda learn: learn.fit_sgdr(3, 1, lr_max=0.1))
    assert learn.n_epoch == 7 and len(learn.recorder.lrs) == 28
    assert_same_as_the_learner(curve, seen)
    lrs = curve.frame["lr"].to_numpy()
    # epoch 1 restarts on its first batch; epoch 3 (cycle 3) one batch late: 3/7 rounds below the float32 edge
    assert lrs[4] == 0.1 and lrs[12] < 1e-13 and lrs[13] > 0.099
    # fastai's own test of fit_sgdr(3, 1), which skips each cycle's first batch for that reason
    iters = [k * spe for k in [0, 1, 3, 7]]
    for i in range(3):
        n = iters[i + 1] - iters[i]
        expected = [SchedCos(0.1, 0)(k / n) for k in range(1, n)]
        np.testing.assert_allclose(lrs[iters[i] + 1 : iters[i + 1]], expected, rtol=0, atol=1e-5)  # test_close
    ex = explain(curve, 12)
    assert ex.event == "late restart" and ex.value == lrs[12] and "one batch late" in ex.sentence


def test_fit_sgdr_runs_its_own_length_a_longer_run_ends_where_the_fit_ends_and_a_shorter_one_is_cut():
    longer = lrlab_curve(
        "fastai:fit_sgdr",
        {"n_cycles": 2, "cycle_len": 2, "cycle_mult": 3},
        steps=40,
        steps_per_epoch=3,
        base_lr=0.05,
        group_lrs=(0.2,),
    )
    _, seen = fitted(3, 2, lambda learn: learn.fit_sgdr(2, 2, lr_max=[0.2, 0.05], cycle_mult=3))
    assert len(seen.lrs) == 24 and longer.stopped_at == 24  # 2 + 6 epochs of 3 batches
    assert_same_as_the_learner(longer, seen, rows=24)
    assert longer.frame["lr"].iloc[24:].isna().all() and "the fit is over" in longer.refusal
    shorter = lrlab_curve(
        "fastai:fit_sgdr",
        {"n_cycles": 2, "cycle_len": 2, "cycle_mult": 3},
        steps=10,
        steps_per_epoch=3,
        base_lr=0.05,
        group_lrs=(0.2,),
    )
    np.testing.assert_array_equal(columns(shorter), columns(longer)[:10])
    with pytest.warns(lrlab.LibraryRefusal, match="the fit is over"):
        simulate(longer.config)


@pytest.mark.parametrize(
    "steps, spe, groups, params",
    [
        (12, 3, 1, {}),
        (20, 2, 3, {"freeze_epochs": 2, "lr_mult": 10.0, "pct_start": 0.5, "div": 3.0}),
        (9, 3, 2, {"freeze_epochs": 0}),
        (5, 4, 2, {"freeze_epochs": 2}),  # the run ends inside stage 1
    ],
)
def test_fine_tune_is_what_the_learner_records_over_both_stages(steps, spe, groups, params):
    curve = lrlab_curve(
        "fastai:fine_tune", params, steps=steps, steps_per_epoch=spe, base_lr=0.01, group_lrs=(0.3,) * (groups - 1)
    )  # the extra groups' own lrs are not used: slices set them
    p = curve.params
    epochs = max(0, math.ceil(steps / spe) - p["freeze_epochs"])
    _, seen = fitted(
        spe,
        groups,
        lambda learn: learn.fine_tune(
            epochs,
            base_lr=0.01,
            freeze_epochs=p["freeze_epochs"],
            lr_mult=p["lr_mult"],
            pct_start=p["pct_start"],
            div=p["div"],
        ),
    )
    assert len(seen.lrs) >= steps
    assert_same_as_the_learner(curve, seen)
    if p["freeze_epochs"] and groups > 1:  # stage 1: slice(base_lr) gives the body base_lr / 10
        assert curve.frame["lr_1"].iloc[0] == pytest.approx(curve.frame["lr"].iloc[0] / 10)


PHASES = [
    [
        {"name": "SchedLin", "pct": 0.25, "start": 0.001, "end": 0.01},
        {"name": "SchedCos", "pct": 0.75, "start": 0.01, "end": 1e-5},
    ],
    [{"name": "SchedCos", "pct": 1.0, "start": 0.1, "end": 0.0}],  # an annealer alone
    [
        {"name": "SchedExp", "pct": 0.2, "start": 1e-4, "end": 0.1},
        {"name": "SchedNo", "pct": 0.5, "start": 0.1, "end": 0.1},
        {"name": "SchedPoly", "pct": 0.3, "start": 0.1, "end": 0.0, "power": 2.5},
    ],
]


def annealer(phase: dict):
    kind = {"SchedLin": SchedLin, "SchedCos": SchedCos, "SchedNo": SchedNo, "SchedExp": SchedExp}
    if phase["name"] == "SchedPoly":
        return SchedPoly(phase["start"], phase["end"], phase["power"])
    return kind[phase["name"]](phase["start"], phase["end"])


@pytest.mark.parametrize("phases", PHASES)
def test_combine_scheds_in_a_param_scheduler_is_what_the_learner_records(phases):
    steps, spe = 26, 4
    curve = lrlab_curve("fastai:combine_scheds", {"scheds": phases}, steps=steps, steps_per_epoch=spe, group_lrs=(0.7,))
    sched = combine_scheds([ph["pct"] for ph in phases], [annealer(ph) for ph in phases])
    _, seen = fitted(spe, 2, lambda learn: learn.fit(math.ceil(steps / spe), cbs=ParamScheduler({"lr": sched})))
    assert_same_as_the_learner(curve, seen)
    assert (curve.frame["lr"] == curve.frame["lr_1"]).all()  # one value on every group: the groups' lrs are unused


BIG_PHASES = [  # lrs above 1000 (issue 13): fastai's annealers take any values
    {"name": "SchedLin", "pct": 0.25, "start": 1500.0, "end": 5000.0},
    {"name": "SchedExp", "pct": 0.25, "start": 5000.0, "end": 3000.0},
    {"name": "SchedCos", "pct": 0.5, "start": 3000.0, "end": 2000.0},
]


def test_combine_scheds_with_lrs_above_1000_is_what_the_learner_records():
    steps, spe = 16, 4
    curve = lrlab_curve("fastai:combine_scheds", {"scheds": BIG_PHASES}, steps=steps, steps_per_epoch=spe)
    sched = combine_scheds([ph["pct"] for ph in BIG_PHASES], [annealer(ph) for ph in BIG_PHASES])
    _, seen = fitted(spe, 1, lambda learn: learn.fit(math.ceil(steps / spe), cbs=ParamScheduler({"lr": sched})))
    assert seen.lrs[0] == [1500.0] and max(max(row) for row in seen.lrs) >= 4000
    assert_same_as_the_learner(curve, seen)


def test_fit_one_cycle_at_an_lr_max_of_5000_is_what_the_learner_records():
    curve = lrlab_curve("fastai:fit_one_cycle", {}, steps=12, steps_per_epoch=4, base_lr=5000.0)
    _, seen = fitted(4, 1, lambda learn: learn.fit_one_cycle(3, lr_max=5000.0))
    assert max(row[0] for row in seen.lrs) == pytest.approx(5000.0, rel=1e-3)
    assert_same_as_the_learner(curve, seen)


# ---- random settings: the fastai functions in a written-out loop --------------------------------------


def fastai_loop(sched, n_epoch: int, n_iter: int, rows: int) -> list:
    """ParamScheduler's value before each batch: ``sched(pct_train)``, pct_train as TrainEvalCallback keeps it."""
    out: list = []
    for epoch in range(n_epoch):
        pct = epoch / n_epoch  # before_train
        for _ in range(n_iter):
            if len(out) == rows:
                return out
            out.append(sched(pct))
            pct += 1.0 / (n_iter * n_epoch)  # after_batch
    return out


def expected_lrs(name: str, p: dict, steps: int, spe: int, base_lr: float, extra: tuple) -> tuple[np.ndarray, list]:
    """Rows × groups (lrlab's order) from fastai's own functions, as each Learner method builds them."""
    groups = 1 + len(extra)
    lrs = np.array([*extra[::-1], base_lr])  # fastai's order
    n_epoch = math.ceil(steps / spe)
    if name == "fastai:fit_one_cycle":
        moms = (p["moms_start"], p["moms_middle"], p["moms_end"])
        stages = [
            (
                n_epoch,
                combined_cos(p["pct_start"], lrs / p["div"], lrs, lrs / p["div_final"]),
                combined_cos(p["pct_start"], *moms),
            )
        ]
    elif name == "fastai:fit_flat_cos":
        stages = [(n_epoch, combined_cos(p["pct_start"], lrs, lrs, lrs / p["div_final"]), None)]
    elif name == "fastai:fit_sgdr":
        c, m, n = p["cycle_len"], p["cycle_mult"], p["n_cycles"]
        sgdr_epochs = c * (m**n - 1) // (m - 1)
        pcts = [c * m**i / sgdr_epochs for i in range(n)]
        stages = [(sgdr_epochs, combine_scheds(pcts, [SchedCos(lrs, 0) for _ in range(n)]), None)]
    elif name == "fastai:fine_tune":
        moms = (p["moms_start"], p["moms_middle"], p["moms_end"])
        half = base_lr / 2
        one = np.array([base_lr / 10] * (groups - 1) + [base_lr])  # Optimizer.set_hyper of slice(base_lr)
        two = np.array(even_mults(half / p["lr_mult"], half, groups) if groups > 1 else [half])  # slice(a, b)
        stages = [
            (p["freeze_epochs"], combined_cos(0.99, one / 25, one, one / p["div_final"]), combined_cos(0.99, *moms)),
            (
                max(0, n_epoch - p["freeze_epochs"]),
                combined_cos(p["pct_start"], two / p["div"], two, two / p["div_final"]),
                combined_cos(p["pct_start"], *moms),
            ),
        ]
    else:
        phases = p["scheds"]
        sched = combine_scheds([ph["pct"] for ph in phases], [annealer(ph) for ph in phases])
        stages = [(n_epoch, sched, None)]
    rows, moms_out = [], []
    for epochs, lr_sched, mom_sched in stages:
        left = steps - len(rows)
        rows += fastai_loop(lr_sched, epochs, spe, left)
        if mom_sched is not None:
            moms_out += fastai_loop(mom_sched, epochs, spe, left)
    table = np.full((steps, groups), np.nan)
    for t, value in enumerate(rows):
        table[t] = np.broadcast_to(np.asarray(value, dtype=np.float64), (groups,))[::-1]
    return table, moms_out


def random_params(name: str, rng: random.Random, steps: int) -> dict:
    if name == "fastai:combine_scheds":
        k = rng.randint(1, 4)
        cuts = sorted(rng.random() for _ in range(k - 1))
        pcts = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
        if sum(pcts) != 1.0:
            pcts[-1] = 1.0 - sum(pcts[:-1])
        phases = []
        for pct in pcts:
            kind = rng.choice(["SchedLin", "SchedCos", "SchedNo", "SchedExp", "SchedPoly"])
            phase = {"name": kind, "pct": pct, "start": 10 ** rng.uniform(-5, 0), "end": 10 ** rng.uniform(-5, 0)}
            if kind == "SchedPoly":
                phase["power"] = rng.uniform(0.2, 4)
            phases.append(phase)
        return {"scheds": phases}
    spec = lrlab.SCHEDULERS[name]
    out = {}
    for p in spec.params:
        if p.name == spec.base_lr_param:
            continue
        low, high = p.bounds_for(steps)
        if p.kind == "int":
            high = min(high, {"n_cycles": 4, "cycle_mult": 3, "cycle_len": 6, "freeze_epochs": 4}[p.name])
            out[p.name] = rng.randint(max(int(low), 2 if p.name == "cycle_mult" else int(low)), int(high))
        elif p.log:
            out[p.name] = 10 ** rng.uniform(math.log10(low), math.log10(min(high, 1e6)))
        else:
            out[p.name] = (
                rng.choice([low, rng.uniform(low, high)]) if p.name == "pct_start" else rng.uniform(low, high * 0.999)
            )
    return out


@pytest.mark.parametrize("name", NAMES)
def test_the_curve_and_its_closed_form_equal_fastais_functions_for_random_settings(name):
    rng = random.Random(f"fastai:{name}")
    for case in range(20):
        steps, spe = rng.randint(1, 1500 if case % 5 == 4 else 150), rng.choice([1, 2, 3, 7, 10])
        base_lr, extra = 10 ** rng.uniform(-4, 0), tuple(10 ** rng.uniform(-4, 0) for _ in range(case % 3))
        params = random_params(name, rng, steps)
        config = ScheduleConfig.make(
            name,
            params,
            steps=steps,
            steps_per_epoch=spe,
            base_lr=base_lr,
            group_lrs=extra,
            optimizer=rng.choice(["sgd", "adam"]),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            curve, quick = simulate(config), fast(config)
        table, moms = expected_lrs(name, {**curve.params, **params}, steps, spe, base_lr, extra)
        np.testing.assert_array_equal(columns(curve), table, err_msg=str(config))
        np.testing.assert_array_equal(curve.closed[list(curve.lr_columns)].to_numpy(), table, err_msg=str(config))
        np.testing.assert_array_equal(quick.frame[list(curve.lr_columns)].to_numpy(), table)
        assert curve.max_rel_diff in (0.0, None) or np.isnan(table).all()
        if curve.momentum_column is not None:
            column = curve.momentum_column
            assert column == ("beta1" if config.optimizer == "adam" else "momentum")
            mom = np.full(steps, np.nan)
            mom[: len(moms)] = moms
            np.testing.assert_array_equal(curve.frame[column], mom)
            np.testing.assert_array_equal(curve.closed[column], mom)


def test_evaluating_combine_scheds_on_all_rows_at_once_equals_calling_fastais_function_row_by_row():
    from lrlab.schedulers._fastai_drive import evaluate

    rng = random.Random("positions")
    for _ in range(40):
        k = rng.randint(1, 5)
        raw = [rng.random() for _ in range(k)]
        pcts = [r / sum(raw) for r in raw]
        if sum(pcts) != 1.0:
            continue
        sched = combine_scheds(pcts, [SchedLin(float(i), float(i) + 0.5) for i in range(k)])
        edges = np.cumsum(pcts)[:-1]
        near = [float(e) + d * 2.0**-30 for e in edges for d in range(-30, 31)]  # around every float32 edge
        pos = np.clip(np.array([rng.random() for _ in range(100)] + near), 0.0, 0.999999)
        np.testing.assert_array_equal(evaluate(sched, pos), [sched(p) for p in pos.tolist()])


# ---- validation ---------------------------------------------------------------------------------------


def refused(name: str, **kwargs) -> LrlabError:
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, steps=20, **kwargs)
    return caught.value


def test_cycle_mult_1_is_refused_by_name_where_fastai_divides_by_zero():
    learn = learner(2)
    with pytest.raises(ZeroDivisionError), learn.no_bar(), learn.no_logging():
        learn.fit_sgdr(3, 1, cycle_mult=1)
    error = refused("fastai:fit_sgdr", cycle_mult=1)
    assert error.field == "cycle_mult" and "Invalid cycle_mult (1)" in str(error) and "ZeroDivisionError" in str(error)


def test_fit_one_cycle_with_adagrad_is_refused_as_fastai_refuses_it_in_before_batch():
    from functools import partial

    from fastai.optimizer import OptimWrapper

    learn = learner(2)
    learn.opt_func = partial(OptimWrapper, opt=torch.optim.Adagrad)
    with pytest.raises(KeyError, match="mom"), learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1, 0.1)
    for name in ("fastai:fit_one_cycle", "fastai:fine_tune"):
        error = refused(name, optimizer="adagrad")
        assert error.field == "optimizer" and "Invalid optimizer ('adagrad')" in str(error) and "KeyError" in str(error)
    assert np.isfinite(lrlab.curve("fastai:fit_flat_cos", steps=20, optimizer="adagrad")["lr"]).all()


@pytest.mark.parametrize(
    "scheds, field, words",
    [
        ([{"name": "SchedCos", "pct": 0.5, "start": 0.1, "end": 0.0}], "scheds", "add up to exactly 1"),
        ([{"name": "SchedCosine", "pct": 1.0, "start": 0.1, "end": 0.0}], "scheds[0].name", "'SchedCosine'"),
        (
            [{"name": "SchedExp", "pct": 1.0, "start": 0.0, "end": 0.1}],
            "scheds[0].start",
            "must be a finite number > 0",
        ),
        (
            [{"name": "SchedLin", "pct": 1.0, "start": 0.1, "end": -2.0}],
            "scheds[0].end",
            "(-2.0): must be a finite number ≥ 0",
        ),
        ([{"name": "SchedPoly", "pct": 1.0, "start": 0.1, "end": 0.0}], "scheds[0].power", "Invalid scheds[0].power"),
        ([{"name": "SchedLin", "pct": 1.0, "start": 0.1, "end": 0.0, "power": 2}], "scheds[0].power", "Unknown key"),
        ([{"name": "StepLR"}], "scheds[0].name", "must be one of"),
    ],
)
def test_a_bad_phase_of_combine_scheds_is_refused_naming_it(scheds, field, words):
    error = refused("fastai:combine_scheds", scheds=scheds)
    assert error.field == field and words in str(error), str(error)


def test_the_lr_the_schedule_holds_is_the_runs_base_lr_not_a_parameter():
    error = refused("fastai:fit_one_cycle", lr_max=0.1)
    assert error.field == "lr_max" and "base_lr" in str(error)
    assert lrlab.curve("fastai:fit_one_cycle", steps=20, base_lr=0.3)["lr"].max() == pytest.approx(0.3)


# ---- explain mode --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_substituted_formula_evaluates_to_fastais_lr_at_every_step(name):
    curve = lrlab_curve(name, {}, steps=70, steps_per_epoch=7, base_lr=0.05, group_lrs=(0.2,))
    lrs = curve.frame["lr"].to_numpy()
    for t in range(70):
        if not np.isfinite(lrs[t]):
            continue
        ex = explain(curve, t)
        assert ex.value == lrs[t] and ex.matches, (name, t, ex.value, lrs[t])
        assert ex.sentence and ex.event and ex.latex


def test_explain_names_the_phases_of_fit_one_cycle_and_the_stages_of_fine_tune():
    cycle = lrlab_curve("fastai:fit_one_cycle", {}, steps=20)
    events = [explain(cycle, t).event for t in range(20)]
    assert events[0] == "start" and events[1:5] == ["warmup"] * 4 and events[5] == "peak" and events[-1] == "end"
    tune = lrlab_curve("fastai:fine_tune", {"freeze_epochs": 2}, steps=12, steps_per_epoch=3)
    assert explain(tune, 5).sentence.startswith("Stage 1") and explain(tune, 6).event == "stage 2"


# ---- exports -------------------------------------------------------------------------------------------


def exported_lrs(jobs: list[dict]) -> list:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "exported_runner.py")],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


EXPORTED = [
    ScheduleConfig.make("fastai:fit_one_cycle", {}, steps=60, steps_per_epoch=7, group_lrs=(0.2,), optimizer="adam"),
    ScheduleConfig.make("fastai:fit_flat_cos", {}, steps=30, steps_per_epoch=4, optimizer="adagrad"),
    ScheduleConfig.make("fastai:fit_sgdr", {"n_cycles": 3, "cycle_len": 1}, steps=28, steps_per_epoch=4),
    ScheduleConfig.make("fastai:fit_sgdr", {"n_cycles": 2, "cycle_len": 2}, steps=40, steps_per_epoch=3),  # longer
    ScheduleConfig.make("fastai:fit_sgdr", {"n_cycles": 12, "cycle_len": 3}, steps=25, steps_per_epoch=3),  # shorter
    ScheduleConfig.make("fastai:fine_tune", {}, steps=33, steps_per_epoch=5, group_lrs=(0.2, 0.3)),
    ScheduleConfig.make("fastai:combine_scheds", {"scheds": PHASES[2]}, steps=26, steps_per_epoch=4, group_lrs=(0.2,)),
]


def test_every_exported_script_reproduces_its_curve_in_a_fresh_interpreter():
    from lrlab.export import render

    codes = [render(config, "fastai") for config in EXPORTED]
    jobs = [
        {"target": "fastai", "code": code, "steps": c.steps, "steps_per_epoch": c.steps_per_epoch}
        for code, c in zip(codes, EXPORTED, strict=True)
    ]
    for config, code, got in zip(EXPORTED, codes, exported_lrs(jobs), strict=True):
        assert not isinstance(got, dict), (config, got)
        curve = lrlab_curve(
            config.scheduler,
            config.params_dict,
            **{k: v for k, v in config.to_dict().items() if k not in ("scheduler", "params")},
        )
        rows = curve.stopped_at if curve.stopped_at is not None else config.steps
        assert len(got) == rows, (config, len(got))
        np.testing.assert_array_equal(got, curve.frame["lr"].to_numpy()[:rows], err_msg=str(config))
        assert 'if __name__ == "__main__":' in code and "learn." in code and "recorder.lrs" in code


def test_the_exports_refuse_adagrad_where_fastai_schedules_the_momentum():
    from lrlab.export import render

    with pytest.raises(LrlabError, match="Adagrad") as caught:
        render(ScheduleConfig.make("fastai:fine_tune", {}, steps=10, optimizer="adagrad"), "fastai")
    assert caught.value.field == "optimizer"


# ---- lazy import ---------------------------------------------------------------------------------------


def test_importing_lrlab_and_drawing_the_closed_form_do_not_import_fastai():
    code = (
        "import sys, lrlab\n"
        "assert 'fastai' not in sys.modules\n"
        "from lrlab import ScheduleConfig, fast\n"
        "for name in lrlab.SCHEDULERS:\n"
        "    if name.startswith('fastai:'):\n"
        "        fast(ScheduleConfig.make(name, {}, steps=1000, steps_per_epoch=10))\n"
        "assert 'fastai' not in sys.modules, 'the fast path imported fastai'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_missing_fastai_is_named_with_the_command_that_installs_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastai" else real(name, *a))
    error = refused("fastai:fit_one_cycle")
    assert error.field == "scheduler" and "pip install" in str(error) and "fastai" in str(error)


# ---- fastai's own LR finder on the lab's model and data ------------------------------------------------


def tiny_task() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A seeded tiny classifier and its data: 3 classes of points in 6 dimensions."""
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(200, 6, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)), x, y


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fastai's numpy deprecations (np.core, __array_wrap__)
def test_fastais_lr_find_through_lrlab_equals_fastais_lr_find_called_directly(tmp_path):
    import copy
    from functools import partial

    from fastai.callback.schedule import minimum, slide, steep, valley
    from fastai.data.load import DataLoader
    from fastai.optimizer import SGD

    from lrlab.fastai_finder import fastai_find_lr
    from lrlab.training import batch_order

    model, x, y = tiny_task()
    before = copy.deepcopy(model.state_dict())

    class LabOrder(DataLoader):  # the order lrlab's finder feeds its batches in
        def get_idxs(self):
            epoch = getattr(self, "epoch_seen", 0)
            self.epoch_seen = epoch + 1
            return torch.cat(batch_order(self.n, 16, epoch, 0)).tolist()

    data = TensorDataset(x, y)
    learn = Learner(
        DataLoaders(LabOrder(data, bs=16), DataLoader(data, bs=16)),
        copy.deepcopy(model),
        loss_func=nn.CrossEntropyLoss(),
        opt_func=partial(SGD, mom=0.9, wd=0.0),
        path=tmp_path,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with learn.no_bar():
            direct = learn.lr_find(num_it=100, show_plot=False, suggest_funcs=(valley, slide, minimum, steep))
    finally:
        torch.set_num_threads(threads)

    got = fastai_find_lr(model, x, y, batch_size=16, seed=0, num_it=100)
    assert type(got.suggested).__name__ == "SuggestedLRs" and got.suggested._fields == (
        "valley",
        "slide",
        "minimum",
        "steep",
    )
    assert got.suggested == direct
    assert list(got.lr) == learn.recorder.lrs and list(got.loss) == [float(v) for v in learn.recorder.losses]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # fastai reloads the model


def test_fastais_lr_find_on_the_lab_task_sweeps_fastais_lrs_from_the_same_start_as_lrlabs_finder(tmp_path, monkeypatch):
    from lrlab.fastai_finder import fastai_lr_find
    from lrlab.finder import SUGGESTIONS

    monkeypatch.chdir(tmp_path)
    fa, ours = fastai_lr_find(num_it=100), lrlab.lr_find(num_it=100)
    assert set(fa.suggestions) == set(SUGGESTIONS) and set(fa.suggested._fields) == set(SUGGESTIONS)
    # fastai's own test of LRFinder: the lrs are SchedExp(1e-7, 10)(i / 100), one step short of lrlab's i / 99
    assert list(fa.lr) == [SchedExp(1e-7, 10)(i / 100) for i in range(len(fa.lr))]
    assert fa.stop_reason == ours.stop_reason == "diverged"
    # the same model, weights and first batch: the same first loss (fastai smooths in float32)
    assert fa.loss[0] == pytest.approx(ours.smoothed[0], rel=1e-6)
    for name in ("valley", "minimum"):  # on this task they agree to within 30 %
        assert fa.suggestions[name] == pytest.approx(ours.suggestions[name].lr, rel=0.3), name
    assert not any(tmp_path.iterdir())  # lr_find saved its checkpoint in a temporary directory only


# ---- where fastai's docs and its code disagree: the code wins, and the note says so -------------------------------


def _says(name: str, *words: str) -> bool:
    return any(
        all(w in note for w in ("docs", "lrlab follows the code", *words)) for note in lrlab.SCHEDULERS[name].notes
    )


def test_fit_sgdr_of_3_cycles_of_1_epoch_trains_7_epochs_its_cycles_doubling():
    learn, seen = fitted(2, 1, lambda learn: learn.fit_sgdr(3, 1, lr_max=0.1))
    assert learn.n_epoch == 7 and len(seen.lrs) == 7 * 2  # 1 + 2 + 4 epochs, not "3 cycles of 1"
    assert _says("fastai:fit_sgdr", "1 + 2 + 4 = 7 epochs")


def test_param_scheduler_refuses_the_list_of_schedulers_per_group_its_docs_allow():
    scheds = {"lr": [SchedLin(1e-3, 1e-2), SchedLin(1e-4, 1e-3)]}
    with pytest.raises(TypeError, match="'list' object is not callable"):
        fitted(2, 2, lambda learn: learn.fit(1, cbs=ParamScheduler(scheds)))
    assert _says("fastai:combine_scheds", "'list' object is not callable")


def test_fit_flat_cos_ignores_start_epoch_and_runs_the_whole_schedule_where_fit_one_cycle_resumes():
    _, flat = fitted(2, 1, lambda learn: learn.fit_flat_cos(4, lr=0.1, start_epoch=2))
    _, one_cycle = fitted(2, 1, lambda learn: learn.fit_one_cycle(4, lr_max=0.1, start_epoch=2))
    assert len(flat.lrs) == 4 * 2 and flat.lrs[0][0] == 0.1  # from the start: the flat part at lr
    assert len(one_cycle.lrs) == 2 * 2  # epochs 2 and 3 only
    assert _says("fastai:fit_flat_cos", "start_epoch=0")
