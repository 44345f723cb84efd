"""The values table: which rows it shows, and that every number in it is the library's, exactly.

Expected values are the reference articles' numbers, worked out by hand, or read from the torch
scheduler built and stepped here (the articles' loop: read ``param_groups[g]["lr"]``, then step).
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch.optim import lr_scheduler as tls

import lrlab
from lrlab import tables


def torch_lrs(build, steps: int, lrs: tuple[float, ...] = (0.1,), read: str = "lr") -> list[list[float]]:
    """Each group's ``read`` value at every optimizer step of the scheduler ``build(optimizer)``."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)
    scheduler = build(optimizer)
    out = []
    for _ in range(steps):
        out.append([g[read] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return out


def column(table: pd.DataFrame, name: str) -> list[float]:
    """A column of the table read back as floats (the text the page shows, parsed)."""
    return [float(text) for text in table[name]]


# ---- which rows -------------------------------------------------------------------------------------


def test_a_short_run_is_shown_whole():
    assert tables.row_steps(20) == list(range(20))
    assert tables.row_steps(25) == list(range(25))
    assert tables.row_steps(1) == [0]


def test_a_long_run_shows_its_first_ten_and_last_five_rows():
    assert tables.row_steps(26) == [*range(10), 21, 22, 23, 24, 25]
    assert tables.row_steps(1_000_000) == [*range(10), 999_995, 999_996, 999_997, 999_998, 999_999]


def test_with_a_cursor_the_five_steps_either_side_are_shown_clipped_to_the_run():
    assert tables.row_steps(1000, cursor=37) == list(range(32, 43))
    assert tables.row_steps(1000, cursor=2) == list(range(0, 8))
    assert tables.row_steps(1000, cursor=999) == list(range(994, 1000))
    assert tables.row_steps(20, cursor=12) == list(range(7, 18))  # even in a short run: around the cursor


def test_an_empty_curve_has_no_rows():
    assert tables.row_steps(0) == [] and tables.row_steps(0, cursor=3) == []


def test_rows_left_out_are_one_gap_row_between_the_first_and_the_last():
    table = tables.values_table(lrlab.curve("ExponentialLR", steps=100, base_lr=1.0, gamma=0.5))
    assert table["step"].tolist() == [*map(str, range(10)), "⋮", "95", "96", "97", "98", "99"]
    assert set(table.iloc[10]) == {"⋮"}


def test_the_explained_steps_row_is_marked():
    table = tables.values_table(lrlab.curve("StepLR", steps=100, base_lr=1.0, step_size=5), cursor=40)
    assert table.columns.tolist() == ["", "step", "epoch", "lr"]
    assert table[table[""] == "▶"]["step"].tolist() == ["40"]
    assert table["step"].tolist() == [str(t) for t in range(35, 46)]


# ---- exact numbers -------------------------------------------------------------------------------------


def test_every_number_reads_back_as_the_very_same_float():
    rng = random.Random(13)
    values = [rng.uniform(-1, 1) * 10 ** rng.uniform(-12, 6) for _ in range(2000)] + [0.1 * 0.5**3, 1e-05, 4e-06]
    for value in values:
        assert float(tables.exact(value)) == value


def test_whole_numbers_are_written_without_a_decimal_point_and_a_missing_value_as_a_dash():
    assert [tables.exact(v) for v in (20.0, 2.5, 0.0, -3.0, 1e20)] == ["20", "2.5", "0", "-3", "1e+20"]
    assert tables.exact(float("nan")) == tables.exact(None) == "—"
    assert tables.exact(float("inf")) == "inf"


def test_a_cosine_value_keeps_all_its_digits_not_four():
    table = tables.values_table(lrlab.curve("CosineAnnealingLR", steps=9, base_lr=0.1, T_max=4))
    expected = torch_lrs(lambda o: tls.CosineAnnealingLR(o, T_max=4), 9)
    assert table["lr"].tolist() == [repr(g[0]) if g[0] % 1 else str(int(g[0])) for g in expected]
    assert table["lr"][1] == repr(0.05 * (1 + math.cos(math.pi / 4)))  # by hand: 0.0853553390593274…
    assert len(table["lr"][1]) > 15


# ---- the reference articles' examples, through the table ----------------------------------------------

ARTICLES = {
    "StepLR": (
        {"step_size": 5, "gamma": 0.5},
        20.0,
        lambda o: tls.StepLR(o, step_size=5, gamma=0.5),
        [20.0] * 5 + [10.0] * 5 + [5.0] * 5 + [2.5] * 5,
    ),
    "MultiStepLR": (
        {"milestones": [5, 15], "gamma": 0.4},
        20.0,
        lambda o: tls.MultiStepLR(o, milestones=[5, 15], gamma=0.4),
        [20.0] * 5 + [8.0] * 10 + [3.2] * 5,
    ),
    "MultiplicativeLR": (
        {"lr_lambda": "0.8"},
        100.0,
        lambda o: tls.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.8),
        [100.0, 80.0, 64.0, 51.2],
    ),
    "LambdaLR": (
        {"lr_lambda": "0.95 ** epoch"},
        100.0,
        lambda o: tls.LambdaLR(o, lr_lambda=lambda epoch: 0.95**epoch),
        [100.0, 95.0, 90.25],
    ),
    "ExponentialLR": (
        {"gamma": 0.4},
        20.0,
        lambda o: tls.ExponentialLR(o, gamma=0.4),
        [20.0, 8.0, 3.2, 1.28],
    ),
    "CosineAnnealingLR": (
        {"T_max": 4, "eta_min": 0.0},
        0.1,
        lambda o: tls.CosineAnnealingLR(o, T_max=4),
        [0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146, 0.05, 0.0854, 0.1],  # the reference's four decimals
    ),
}


@pytest.mark.parametrize("name", list(ARTICLES))
def test_the_table_shows_the_articles_numbers_exactly_as_torch_gives_them(name):
    params, lr, build, article = ARTICLES[name]
    steps = len(article)
    table = tables.values_table(lrlab.curve(name, steps=steps, base_lr=lr, **params))
    assert table["step"].tolist() == [str(t) for t in range(steps)]  # a short run: every row
    shown = column(table, "lr")
    assert shown == [g[0] for g in torch_lrs(build, steps, (lr,))]  # the library's floats, to the last bit
    tolerance = 1e-4 if name == "CosineAnnealingLR" else 1e-12 * lr
    assert shown == pytest.approx(article, abs=tolerance)


def warmup_cosine(step: int) -> float:
    """The article's group-0 lambda, as it writes it: 10 warm-up steps, then a cosine to 1e-5 over 40."""
    if step < 10:
        return step / 10
    return (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * (step - 10) / 40))) / 0.1


ARTICLE_GROUP0 = "epoch / 10 if epoch < 10 else (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + cos(pi * (epoch - 10) / 40))) / 0.1"


def test_two_param_groups_get_a_column_each_with_the_articles_warm_up_and_cosine():
    frame = lrlab.curve("LambdaLR", steps=50, param_groups=[{"lr": 0.1}, {"lr": 0.2}], lr_lambda=[ARTICLE_GROUP0, "1"])
    table = tables.values_table(frame)
    assert table.columns.tolist() == ["step", "epoch", "lr · group 0", "lr · group 1"]
    rows = [i for i, s in enumerate(table["step"]) if s != "⋮"]
    steps = [int(table["step"][i]) for i in rows]
    assert steps == [*range(10), 45, 46, 47, 48, 49]
    expected = np.array(torch_lrs(lambda o: tls.LambdaLR(o, [warmup_cosine, lambda step: 1]), 50, (0.1, 0.2)))
    assert [float(table["lr · group 0"][i]) for i in rows] == expected[steps, 0].tolist()
    assert [float(table["lr · group 1"][i]) for i in rows] == [0.2] * len(rows)
    # by hand: the warm-up is 0.1 · t / 10, and step 49 is 39/40 of the way down the cosine
    assert [float(table["lr · group 0"][i]) for i in rows[:10]] == pytest.approx([0.01 * t for t in range(10)])
    last = 1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * 39 / 40))
    assert float(table["lr · group 0"][rows[-1]]) == pytest.approx(last, rel=1e-12)


@pytest.mark.filterwarnings("ignore:OneCycleLR refused step 11")
def test_one_cycle_shows_its_momentum_and_a_dash_where_torch_refused_to_step():
    frame = lrlab.curve("OneCycleLR", steps=12, base_lr=0.1, max_lr=1.0, total_steps=10)
    table = tables.values_table(frame)
    assert table.columns.tolist() == ["step", "epoch", "lr", "momentum"]
    expected = torch_lrs(lambda o: tls.OneCycleLR(o, max_lr=1.0, total_steps=10), 10, read="momentum")
    assert [float(text) for text in table["momentum"][:10]] == [g[0] for g in expected]
    assert float(table["lr"][0]) == pytest.approx(0.04, rel=1e-15)  # max_lr / div_factor 25, by hand
    assert float(table["lr"][9]) == pytest.approx(4e-6, rel=1e-12)  # 0.04 / final_div_factor 1e4
    assert table["lr"][11] == table["momentum"][11] == "—"  # step 11: torch's ValueError, no value


def test_adam_shows_beta1_and_a_plateau_schedule_its_metric():
    adam = lrlab.curve("CyclicLR", steps=5, base_lr=1.0, max_lr=3.0, step_size_up=2, optimizer="adam")
    assert tables.values_table(adam).columns.tolist() == ["step", "epoch", "lr", "beta1 (Adam's momentum)"]
    assert column(tables.values_table(adam), "beta1 (Adam's momentum)") == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9])
    plateau = lrlab.curve("ReduceLROnPlateau", steps=5)
    assert tables.values_table(plateau).columns.tolist() == ["step", "epoch", "lr", "metric"]


# ---- several curves --------------------------------------------------------------------------------------


def test_compare_puts_one_column_per_curve_and_dashes_past_a_shorter_curve():
    step = lrlab.curve("StepLR", steps=20, base_lr=20.0, step_size=5, gamma=0.5)
    multi = lrlab.curve("MultiStepLR", steps=16, base_lr=20.0, milestones=[5, 15], gamma=0.4)
    table = tables.compare_table([("StepLR", step), ("MultiStepLR", multi), ("StepLR", step)])
    assert table.columns.tolist() == ["step", "StepLR", "MultiStepLR", "StepLR (2)"]
    assert column(table, "StepLR") == [20.0] * 5 + [10.0] * 5 + [5.0] * 5 + [2.5] * 5
    assert table["MultiStepLR"].tolist() == ["20"] * 5 + ["8"] * 10 + ["3.2"] + ["—"] * 4
    assert table["StepLR (2)"].tolist() == table["StepLR"].tolist()


def test_compare_with_a_cursor_marks_the_row_around_which_it_shows_the_steps():
    curves = [("a", lrlab.curve("ExponentialLR", steps=200, gamma=0.9)), ("b", lrlab.curve("StepLR", steps=100))]
    table = tables.compare_table(curves, cursor=150)
    assert table["step"].tolist() == [str(t) for t in range(145, 156)]
    assert table[table[""] == "▶"]["step"].tolist() == ["150"]
    assert set(table["b"]) == {"—"}  # b has only 100 steps


# ---- on the pages (AppTest) ---------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _open(query: dict[str, str], page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    return at.run()


def test_the_playground_shows_the_whole_table_of_a_short_run_below_its_key_figures():
    at = _open({"scheduler": "CosineAnnealingLR", "steps": "9", "base_lr": "0.1", "T_max": "4", "eta_min": "0"})
    assert not at.exception and not at.info
    (table,) = at.table
    expected = torch_lrs(lambda o: tls.CosineAnnealingLR(o, T_max=4), 9)
    assert table.value["step"].tolist() == [str(t) for t in range(9)]
    assert [float(x) for x in table.value["lr"]] == [g[0] for g in expected]
    assert any(c.value.startswith("All 9 steps, every number exactly as the library produced it") for c in at.caption)


def test_in_explain_mode_the_playground_table_shows_the_steps_around_the_explained_step():
    at = _open({"scheduler": "ExponentialLR", "steps": "100", "base_lr": "1", "gamma": "0.5", "explain": "40"})
    (table,) = at.table
    assert table.value["step"].tolist() == [str(t) for t in range(35, 46)]
    assert table.value[""].tolist()[5] == "▶"
    assert [float(x) for x in table.value["lr"]] == [0.5**t for t in range(35, 46)]  # by hand, exactly
    at.slider(key="pg.explain.step").set_value(99).run()
    assert at.table[0].value["step"].tolist() == [str(t) for t in range(94, 100)]


def test_compare_shows_one_column_per_visible_curve_with_its_exact_values():
    at = _open({}, page="pages/compare.py")
    assert not at.exception
    (table,) = at.table
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    legend = [t["name"] for t in chart["data"] if t.get("showlegend", True) and t.get("name")]
    headings = [re.sub(r"\\(.)", r"\1", c) for c in table.value.columns]  # Markdown-escaped labels, read back
    assert headings[0] == "step" and headings[1:] == legend and len(legend) > 1
    # the default "torch OneCycleLR" curve: OneCycleLR(max_lr=0.1, total_steps=1000), built here
    column_of = dict(zip(headings, table.value.columns, strict=True))
    shown = [float(x) for x in table.value[column_of["torch OneCycleLR"]] if x != "⋮"]
    expected = torch_lrs(lambda o: tls.OneCycleLR(o, max_lr=0.1, total_steps=1000), 1000)
    assert shown == [expected[t][0] for t in [*range(10), *range(995, 1000)]]
