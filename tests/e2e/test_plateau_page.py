"""The Plateau page in a real browser: a metric from an uploaded CSV or a paste drives ReduceLROnPlateau.

The expected learning rates come from a real `torch.optim.lr_scheduler.ReduceLROnPlateau` stepped here
with the same metric values; the page's numbers are read from the data Plotly.js holds in the page.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ERROR_ALERT,
    EXCEPTION,
    INFO_ALERT,
    PAGE_TIMEOUT_MS,
    SCRIPT_DONE,
    choose_radio,
    dataframe_grid,
    page_errors_text,
    plotly_traces,
    set_number,
    trace,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

SOURCE = "Metric source"
K = "k (optimizer steps per evaluation)"

# improves, stalls 15 evaluations (one reduction with patience 10), improves, stalls 24 (two more)
IMPROVE_THEN_STALL = [
    *[1.0, 0.8, 0.65, 0.55, 0.5],
    *[0.52, 0.51, 0.505, 0.5, 0.503, 0.51, 0.5, 0.502, 0.501, 0.5, 0.504, 0.5, 0.52, 0.5, 0.51],
    *[0.45, 0.42],
    *[0.43 - 0.0005 * (i % 3) for i in range(24)],
]


def torch_plateau(values: list[float], base_lr: float, **kwargs: Any) -> list[float]:
    """[lr before the first evaluation, lr after evaluation 1, 2, ...] from the real scheduler."""
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    optimizer.step()
    lrs = [optimizer.param_groups[0]["lr"]]
    for v in values:
        scheduler.step(v)
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


def reductions(lrs: list[float]) -> list[tuple[int, float]]:
    """(evaluation number, lr after it) for each evaluation that lowered the lr."""
    return [(i, lrs[i]) for i in range(1, len(lrs)) if lrs[i] < lrs[i - 1]]


def per_step(lrs: list[float], k: int) -> list[float]:
    """The lr at each optimizer step 0 .. n·k when the metric is evaluated after every k steps."""
    return [lrs[t // k] for t in range((len(lrs) - 1) * k + 1)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def follows(t: dict[str, Any], expected: list[float]) -> bool:
    """Every drawn point of trace t is the expected value at its step, and the whole run is drawn.

    Long curves are decimated by the page (a subset of exact points), so points are matched by x."""
    x, y = t["x"] or [], t["y"] or []
    return (
        len(x) == len(y) > 1
        and x[0] == 0
        and x[-1] == len(expected) - 1
        and all(
            float(s).is_integer() and 0 <= s < len(expected) and close(v, expected[int(s)])
            for s, v in zip(x, y, strict=True)
        )
    )


def same_points(t: dict[str, Any], expected: list[tuple[int, float]]) -> bool:
    return len(t["x"]) == len(expected) and all(
        s == es and close(v, ev) for s, v, (es, ev) in zip(t["x"], t["y"], expected, strict=True)
    )


def base_lr(page: Any) -> float:
    return float(page.locator("input[type='range'][aria-label='Base LR']").get_attribute("aria-valuetext"))


def number_value(page: Any, label: str) -> int:
    return int(page.get_by_role("spinbutton", name=label, exact=True).input_value())


def lr_changes_metric(page: Any) -> int | None:
    metric = page.locator("[data-testid='stMetric']:not([data-stale='true'] *)", has_text="LR changes")
    if metric.count() != 1:
        return None
    return int(metric.locator("[data-testid='stMetricValue']").inner_text())


def write_tensorboard_csv(path: Path, values: list[float], every: int) -> Path:
    lines = ["Wall time,Step,Value"]
    lines += [f"{1_700_000_000 + 3.25 * i:.3f},{every * (i + 1)},{v!r}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def upload(page: Any, path: Path) -> None:
    uploader = page.locator("[data-testid='stFileUploader']")
    uploader.locator("input[type='file']").set_input_files(str(path))


@pytest.fixture
def plateau(page: Any, base_url: str) -> Any:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/plateau")
    wait_for_chart(page)
    return page


@pytest.mark.xfail(
    strict=True,
    reason="known regression (filed): after switching the metric source to an upload, the event table's 'Only "
    "evaluations where something happened' toggle comes back off; everything before the table is checked and passes",
)
def test_uploaded_tensorboard_csv_drives_the_real_scheduler(plateau: Any, tmp_path: Path) -> None:
    page = plateau
    lr0 = base_lr(page)
    lrs = torch_plateau(IMPROVE_THEN_STALL, lr0)  # torch's defaults: patience 10, factor 0.1
    cuts = reductions(lrs)
    assert len(cuts) >= 2, f"the test metric must make torch reduce at least twice: {cuts}"

    choose_radio(page, SOURCE, "Upload a CSV")
    upload(page, write_tensorboard_csv(tmp_path / "val_loss.csv", IMPROVE_THEN_STALL, every=100))

    # default k = 10 differs from the file's logging interval of 100: the page says so
    k = number_value(page, K)
    assert k == 10
    note = page.locator(INFO_ALERT, has_text="every 100 steps")
    note.wait_for(state="visible")
    assert "set k = 100" in note.inner_text()
    library = wait_for_trace(
        page, "library", lambda t: follows(t, per_step(lrs, k)), f"the torch lrs evaluated every {k} steps"
    )
    assert len(library["y"]) == len(IMPROVE_THEN_STALL) * k + 1
    reduced = trace(page, "reduced")
    assert reduced is not None, [t["name"] for t in plotly_traces(page)]
    assert same_points(reduced, [(i * k, lr) for i, lr in cuts]), (reduced, cuts)
    assert reduced["mode"] == "markers"
    assert reduced["marker"]["symbol"] == "triangle-down" and reduced["marker"]["color"] == "#d62728"
    metric = trace(page, "metric")
    assert metric["y"] == pytest.approx(IMPROVE_THEN_STALL, rel=1e-12)

    # k = 100 matches the file: the note goes, the curve stretches; same reductions, 100 steps apart
    set_number(page, K, 100)
    wait_for_trace(page, "library", lambda t: follows(t, per_step(lrs, 100)), "the torch lrs evaluated every 100 steps")
    reduced = wait_for_trace(
        page, "reduced", lambda t: same_points(t, [(i * 100, lr) for i, lr in cuts]), "the reductions 100 steps apart"
    )
    wait_until(page, lambda: page.locator(INFO_ALERT, has_text="every 100 steps").count() == 0, "the note to go")

    # the key figures and the event table (only the evaluations where something happened)
    assert wait_until(page, lambda: lr_changes_metric(page) == len(cuts), "the 'LR changes' figure") is True
    frame = page.locator("[data-testid='stDataFrame']:not([data-stale='true'] *)")
    frame.wait_for(state="visible")
    grid = wait_until(page, lambda: dataframe_grid(page), "the event table to be painted")
    assert grid["rowcount"] == len(cuts), grid
    col = grid["columns"]
    events = [(int(r[col.index("evaluation")]), r[col.index("event")]) for r in grid["rows"]]
    assert events == [(i, "reduced") for i, _ in cuts], grid
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    assert page.locator(ERROR_ALERT).count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("junk.csv", random.Random(7).randbytes(4096), "not UTF-8 text"),
        ("words.csv", b"name,comment\nfoo,bar\nbaz,qux\n", "no numeric values found"),
    ],
    ids=["random-bytes", "no-numbers"],
)
def test_junk_upload_shows_a_clear_error(plateau: Any, tmp_path: Path, name: str, content: bytes, message: str) -> None:
    page = plateau
    before = trace(page, "library")
    assert before is not None
    choose_radio(page, SOURCE, "Upload a CSV")
    page.locator("[data-testid='stFileUploader'] input[type='file']").wait_for(state="attached")
    path = tmp_path / name
    path.write_bytes(content)
    upload(page, path)

    alert = page.locator(ERROR_ALERT)
    alert.first.wait_for(state="visible")
    page.locator(SCRIPT_DONE).wait_for(state="attached")
    text = alert.first.inner_text()
    assert "metric_csv" in text and message in text, text
    assert alert.count() == 1
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    # the last valid chart stays, and says so
    page.locator(INFO_ALERT, has_text="Showing the last valid settings").wait_for(state="visible")
    wait_for_trace(page, "library", lambda t: t["y"] == before["y"], "the chart to keep the last valid curve")


def test_pasted_values_react_to_patience(plateau: Any) -> None:
    page = plateau
    values = [1.0, 0.9, 0.8, *[0.8] * 5, 0.7, *[0.71] * 8, 0.6, *[0.6] * 14]
    choose_radio(page, SOURCE, "Paste values")
    box = page.get_by_role("textbox", name="Metric values, one per evaluation", exact=True)
    box.fill(", ".join(str(v) for v in values))
    box.press("Control+Enter")

    lr0, k = base_lr(page), number_value(page, K)
    assert number_value(page, "patience") == 10
    lrs10 = torch_plateau(values, lr0, patience=10)
    lrs3 = torch_plateau(values, lr0, patience=3)
    cuts10, cuts3 = reductions(lrs10), reductions(lrs3)
    assert 1 <= len(cuts10) < len(cuts3), (cuts10, cuts3)  # the metric tells the two patiences apart

    wait_for_trace(page, "library", lambda t: follows(t, per_step(lrs10, k)), "the torch lrs with patience 10")
    wait_for_trace(
        page, "reduced", lambda t: same_points(t, [(i * k, lr) for i, lr in cuts10]), "the reductions with patience 10"
    )

    set_number(page, "patience", 3)
    wait_for_trace(page, "library", lambda t: follows(t, per_step(lrs3, k)), "the torch lrs with patience 3")
    wait_for_trace(
        page, "reduced", lambda t: same_points(t, [(i * k, lr) for i, lr in cuts3]), "the reductions with patience 3"
    )
    assert wait_until(page, lambda: lr_changes_metric(page) == len(cuts3), "the 'LR changes' figure") is True
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    assert page.locator(ERROR_ALERT).count() == 0
