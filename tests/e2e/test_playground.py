"""The Playground in a real browser: the plotted curve is the real scheduler's and follows the inputs.

Every assertion on the chart reads the data Plotly.js actually holds in the page, and compares it
with the scheduler's textbook formula evaluated here with the values the widgets show.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from .harness import (
    EXCEPTION,
    SCRIPT_DONE,
    nudge,
    page_errors_text,
    plotly_traces,
    slider_value,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

STEPLR_TITLE = "torch · StepLR — decay by γ every step_size steps"
MULTISTEP_TITLE = "torch · MultiStepLR — decay by γ at chosen milestones"
ERROR_ALERT = "[data-testid='stAlertContainer']:has([data-testid='stAlertContentError'])"


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def matches(y: list[float], expected: list[float]) -> bool:
    return len(y) == len(expected) and all(close(a, b) for a, b in zip(y, expected, strict=True))


def steplr(n: int, base_lr: float, step_size: int, gamma: float) -> list[float]:
    return [base_lr * gamma ** (t // step_size) for t in range(n)]


def multistep(n: int, base_lr: float, milestones: list[int], gamma: float) -> list[float]:
    return [base_lr * gamma ** sum(m <= t for m in milestones) for t in range(n)]


def choose_scheduler(page: Any, title: str) -> None:
    """Pick a scheduler in the "Scheduler" combobox by its visible title.

    The rerun may not have started when this returns: wait for the data you expect next.
    """
    box = page.get_by_role("combobox", name="Scheduler")
    box.click()
    box.fill(title.split(" · ")[1].split(" ")[0])  # type the name to filter the list
    page.get_by_role("option", name=title, exact=True).click()
    wait_until(page, lambda: box.input_value() == title, f"the Scheduler box to show {title!r}")
    page.locator(SCRIPT_DONE).wait_for(state="attached")


def settings(page: Any) -> tuple[int, float]:
    """(Steps, Base LR) as the widgets show them."""
    steps = int(page.get_by_role("spinbutton", name="Steps", exact=True).input_value())
    return steps, slider_value(page, "Base LR")


def test_playground_draws_library_curve_with_closed_form_and_key_figures(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)

    traces = {t["name"]: t for t in plotly_traces(page)}
    assert {"library", "closed form"} <= set(traces), f"traces: {list(traces)}"
    library, closed = traces["library"], traces["closed form"]
    assert library["dash"] in (None, "solid") and closed["dash"] == "dash"
    steps, base_lr = settings(page)
    assert len(library["y"]) == steps and library["x"][:3] == [0, 1, 2]
    assert close(library["y"][0], base_lr)
    assert all(close(a, b, 1e-9) for a, b in zip(library["y"], closed["y"], strict=True))

    metrics = page.locator("[data-testid='stMetric']")
    labels = [m.locator("[data-testid='stMetricLabel']").inner_text().strip() for m in metrics.all()]
    assert labels == ["LR at step 0", "Peak LR", "Final LR", "Min LR"]
    shown = [float(m.locator("[data-testid='stMetricValue']").inner_text()) for m in metrics.all()]
    y = library["y"]
    for value, want in zip(shown, [y[0], max(y), y[-1], min(y)], strict=True):
        assert close(value, want, 1e-3), f"metric {value} vs curve {want}"

    assert page.locator("[data-testid='stMarkdownContainer'] .katex").count() > 0, "no rendered formula"
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_steplr_gamma_slider_changes_the_plotted_curve(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)
    choose_scheduler(page, STEPLR_TITLE)
    steps, base_lr = settings(page)
    step_size, gamma = int(slider_value(page, "step_size")), slider_value(page, "gamma")
    before = wait_for_trace(
        page,
        "library",
        lambda t: matches(t["y"], steplr(steps, base_lr, step_size, gamma)),
        f"the StepLR staircase (step_size={step_size}, gamma={gamma})",
    )
    assert before["y"][-1] < before["y"][0], "StepLR with gamma < 1 must decay"

    new_gamma = nudge(page, "gamma", "ArrowRight", 5)
    assert new_gamma > gamma
    after = wait_for_trace(
        page,
        "library",
        lambda t: matches(t["y"], steplr(steps, base_lr, step_size, new_gamma)),
        f"the curve to follow gamma={new_gamma}",
    )
    # a larger gamma decays less: same start, same steps of the staircase, higher after the first drop
    assert close(after["y"][0], before["y"][0])
    assert after["y"][step_size] > before["y"][step_size]
    assert close(after["y"][step_size] / after["y"][0], new_gamma)
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_steplr_step_size_slider_moves_the_first_drop(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)
    choose_scheduler(page, STEPLR_TITLE)
    steps, base_lr = settings(page)
    step_size, gamma = int(slider_value(page, "step_size")), slider_value(page, "gamma")
    wait_for_trace(
        page,
        "library",
        lambda t: matches(t["y"], steplr(steps, base_lr, step_size, gamma)),
        "the default StepLR staircase",
    )

    new_size = int(nudge(page, "step_size", "ArrowLeft", 3))
    assert new_size < step_size
    after = wait_for_trace(
        page,
        "library",
        lambda t: matches(t["y"], steplr(steps, base_lr, new_size, gamma)),
        f"the curve to follow step_size={new_size}",
    )
    first_drop = next(t for t, v in enumerate(after["y"]) if v < after["y"][0])
    assert first_drop == new_size


def test_invalid_value_shows_an_error_and_keeps_the_last_chart(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)
    choose_scheduler(page, MULTISTEP_TITLE)
    steps, base_lr = settings(page)
    default = multistep(steps, base_lr, [steps // 2, 3 * steps // 4], 0.1)
    good = wait_for_trace(page, "library", lambda t: matches(t["y"], default), "the default MultiStepLR curve")
    assert page.locator(ERROR_ALERT).count() == 0

    milestones = page.get_by_role("textbox", name="milestones", exact=True)
    milestones.fill("600, 200")  # decreasing: torch would accept it silently, lrlab refuses it
    milestones.press("Enter")

    alert = page.locator(ERROR_ALERT)
    alert.first.wait_for(state="visible")
    page.locator(SCRIPT_DONE).wait_for(state="attached")
    text = alert.first.inner_text()
    assert "milestones" in text and re.search(r"increasing", text), text
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)

    # the chart stays, showing the last valid curve
    wait_for_trace(page, "library", lambda t: t["y"] == good["y"], "the chart to keep the last valid curve")
    assert page.locator(ERROR_ALERT).count() == 1


MARGINS_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].filter(g => !g.closest('[data-stale="true"]'))
    .map(g => ({given: g.layout.margin, used: g._fullLayout._size}))
"""


@pytest.mark.parametrize(
    "query",
    [
        "scheduler=CosineAnnealingLR",
        "scheduler=StepLR&base_lr=0.00025",  # the widest tick labels of the usual lrs: 2.5e−4, 1.5e−4
        "scheduler=OneCycleLR",  # two panels: lr and momentum
        "scheduler=ReduceLROnPlateau",  # the metric's axis on the right
        "scheduler=LinearLR&steps=1000000",  # "1M" at the right end of the x axis
    ],
)
def test_chart_margins_hold_labels_so_plotly_draws_once(page: Any, base_url: str, query: str) -> None:
    """The margins lrlab gives hold every tick label, axis title and the legend: Plotly's automargin
    widens none of them (the layout it used is the one given). Where it must widen one, it draws the
    chart a second time on every update (~25 ms in Chromium)."""
    page.goto(f"{base_url}/?{query}")
    wait_for_chart(page)
    page.locator(SCRIPT_DONE).wait_for(state="attached")
    charts = page.evaluate(MARGINS_JS)
    assert charts, "no chart"
    for chart in charts:
        given, used = chart["given"], chart["used"]
        assert all(given[side] == used[side] for side in "lrtb"), f"{query}: margins given {given}, used {used}"
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
