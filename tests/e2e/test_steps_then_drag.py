"""The first move of a slider after Steps changed is not lost (issue 13: Steps 20, step_size to 26 landed on 40).

The step_size slider's range depends on Steps, so changing Steps gives it a new range at once; the
first move on it must reach the typed box (the truth) and the curve, by keyboard and by mouse.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import (
    EXCEPTION,
    SCRIPT_DONE,
    page_errors_text,
    set_number,
    slider,
    slider_value,
    wait_for_chart,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _box(page: Any, label: str) -> Any:
    return page.get_by_role("spinbutton", name=label, exact=True)


def _steplr_at_20_steps(page: Any, base_url: str) -> float:
    page.goto(base_url + "/?scheduler=StepLR")
    wait_for_chart(page)
    set_number(page, "Steps", 20)
    page.wait_for_timeout(300)  # the rerun starts
    # step_size never set: it follows the run, and its slider takes the new range with it

    def followed() -> float | None:
        if page.locator(SCRIPT_DONE).count() == 0 or _box(page, "Steps").input_value() != "20":
            return None
        top, value = int(slider(page, "step_size").get_attribute("max")), slider_value(page, "step_size")
        if top > 100 or value > top or _box(page, "step_size").input_value() != f"{value:g}":
            return None
        return value

    return wait_until(page, followed, "step_size and its slider to follow Steps = 20")


def _lands_on(page: Any, value: int) -> None:
    wait_until(page, lambda: _box(page, "step_size").input_value() == str(value), f"the step_size box to show {value}")
    page.wait_for_timeout(800)  # a late rerun must not move it elsewhere
    assert _box(page, "step_size").input_value() == str(value)
    assert slider_value(page, "step_size") == value
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_after_steps_changes_the_first_keyboard_move_of_step_size_is_kept(app_page: Any, base_url: str) -> None:
    page = app_page
    start = _steplr_at_20_steps(page, base_url)
    target = 26
    assert start < target
    slider(page, "step_size").focus()
    for _ in range(int(target - start)):
        page.keyboard.press("ArrowRight")
    _lands_on(page, target)


def test_after_steps_changes_the_first_drag_of_step_size_is_kept(app_page: Any, base_url: str) -> None:
    page = app_page
    start = _steplr_at_20_steps(page, base_url)
    rng = slider(page, "step_size")
    low, high = int(rng.get_attribute("min")), int(rng.get_attribute("max"))
    thumb = rng.locator("xpath=../..")  # the visible thumb holds the (visually hidden) range input
    track = thumb.locator("xpath=..").bounding_box()
    box = thumb.bounding_box()
    assert track is not None and box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    for target_x in (track["x"] + track["width"] * f for f in (0.3, 0.5, (26 - low) / (high - low))):
        page.mouse.move(target_x, y, steps=5)
    page.mouse.up()
    wait_until(page, lambda: _box(page, "step_size").input_value() != f"{start:g}", "the step_size box to move")
    shown = int(_box(page, "step_size").input_value())
    assert abs(shown - 26) <= 1, f"dragged to 26 on [{low}, {high}], the box shows {shown}"
    _lands_on(page, shown)
