"""Explain mode in a real browser: Play moves the marker along the chart, Pause stops it, and the
formula beside it follows the step.

The marker's position is read from the data Plotly.js holds in the page (trace "explained step");
the expected lr at that step is computed here from the default schedule's formula.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from lrlab.explain import MARKER

from .harness import (
    EXCEPTION,
    FRESH,
    SCRIPT_DONE,
    page_errors_text,
    plotly_traces,
    trace,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e


def marker_x(page: Any) -> float | None:
    t = trace(page, MARKER)
    return t["x"][0] if t and t["x"] else None


def click_key(page: Any, key: str) -> None:
    """Click the widget with key `key` (Streamlit tags its container `st-key-<key, dots → dashes>`)."""
    page.locator(f".st-key-{key.replace('.', '-')} button{FRESH}:visible").click()


def turn_on_explain_mode(page: Any, prefix: str) -> None:
    page.locator(f".st-key-{prefix}-explain-on label{FRESH}").click()
    wait_for_trace(page, MARKER, lambda t: len(t["x"]) >= 1, "the explained-step marker to appear")


def cosine(t: int, steps: int = 1000, base_lr: float = 0.1) -> float:
    """The Playground's default: CosineAnnealingLR(T_max = steps, eta_min = 0) on lr 0.1."""
    return base_lr * (1 + math.cos(math.pi * t / steps)) / 2


def test_play_moves_the_marker_along_the_curve_and_pause_stops_it(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)
    turn_on_explain_mode(page, "pg")
    start = marker_x(page)
    assert start == 0

    click_key(page, "pg.explain.play")
    first = wait_for_trace(page, MARKER, lambda t: t["x"][0] > start, "the marker to move after Play")["x"][0]
    marker = wait_for_trace(page, MARKER, lambda t: t["x"][0] > first, "the marker to keep moving")
    assert marker["x"][0] > first > start
    # the marker sits on the curve: its lr is the schedule's value at its step
    x, y = int(marker["x"][0]), marker["y"][0]
    assert math.isclose(y, cosine(x), rel_tol=1e-9), (x, y, cosine(x))

    click_key(page, "pg.explain.play")  # the same button now reads "Pause"
    page.get_by_role("button", name="Play").first.wait_for(state="visible")
    stopped = wait_until(
        page,
        lambda: page.locator(SCRIPT_DONE).count() and (x := marker_x(page)) and x,
        "the chart after Pause",
    )
    page.wait_for_timeout(1500)  # three animation frames
    assert marker_x(page) == stopped, "the marker moved after Pause"
    # the slider shows the step where the animation stopped
    slider = page.locator(f"input[type='range'][aria-label='Explained step']{FRESH}")
    assert float(slider.get_attribute("aria-valuetext")) == stopped
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_moving_the_step_slider_moves_the_marker_and_updates_the_formula(app_page: Any) -> None:
    page = app_page
    wait_for_chart(page)
    turn_on_explain_mode(page, "pg")
    slider = page.locator(f"input[type='range'][aria-label='Explained step']{FRESH}")
    slider.focus()
    for _ in range(37):
        page.keyboard.press("ArrowRight")
    moved = wait_for_trace(page, MARKER, lambda t: t["x"] == [37], "the marker to reach step 37")
    assert math.isclose(moved["y"][0], cosine(37), rel_tol=1e-9)
    formula = page.locator(f"[data-testid='stMarkdownContainer'] .katex{FRESH}").first
    wait_until(page, lambda: "37" in formula.inner_text(), "the formula to show step 37")
    text = formula.inner_text()
    assert "1000" in text and "0.09966" in text, text  # T_max = 1000 and 0.05·(1 + cos(37π/1000))
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_compare_puts_a_marker_on_every_visible_curve(app_page: Any, base_url: str) -> None:
    page = app_page
    page.goto(base_url + "/compare")
    wait_for_chart(page)
    turn_on_explain_mode(page, "cmp")
    slider = page.locator(f"input[type='range'][aria-label='Explained step']{FRESH}")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    marker = wait_for_trace(
        page, MARKER, lambda t: t["x"] == [5, 5, 5, 5], "a marker on each of the 4 curves at step 5"
    )
    # each marker lies on its curve (the default curves are short enough to be drawn undecimated)
    on_curves = [t["y"][5] for t in plotly_traces(page) if t["name"] != MARKER]
    assert sorted(marker["y"]) == sorted(on_curves)
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
