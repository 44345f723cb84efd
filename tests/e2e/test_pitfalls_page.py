"""The Pitfalls page in a real browser: pick a pitfall by clicking, see its wrong and intended curves
(read from the data Plotly.js holds in the page), the library's own message and the fix.

The expected values come from the real torch scheduler stepped here, not from lrlab.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from .harness import (
    EXCEPTION,
    FRESH,
    PAGE_TIMEOUT_MS,
    choose_radio,
    page_errors_text,
    plotly_traces,
    set_number,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

WRONG = "loop longer than total_steps (wrong)"
INTENDED = "loop of exactly total_steps (intended)"


def one_cycle_loop(total_steps: int) -> tuple[list[float], str]:
    """A real OneCycleLR (linear) stepped by a loop longer than total_steps: the lr of every update
    until scheduler.step() raises, and the exception's text."""
    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.1, total_steps=total_steps, anneal_strategy="linear"
    )
    lrs = []
    for _ in range(total_steps + 5):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        try:
            scheduler.step()
        except ValueError as exc:
            return lrs, f"ValueError: {exc}"
    raise AssertionError("OneCycleLR did not refuse to step past total_steps")


def matches(t: dict[str, Any] | None, expected: list[float]) -> bool:
    return (
        t is not None
        and t["x"] == list(range(len(expected)))
        and all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15) for a, b in zip(t["y"], expected, strict=True))
    )


def code_blocks(page: Any) -> list[str]:
    return page.locator(f"[data-testid='stCode']{FRESH}").all_inner_texts()


@pytest.fixture
def pitfalls(app_page: Any) -> Any:
    """The app opened at the Playground, then the Pitfalls page chosen in the sidebar navigation."""
    wait_for_chart(app_page)
    app_page.get_by_role("link", name="Pitfalls").click()
    wait_until(app_page, lambda: "/pitfalls" in app_page.url, "the Pitfalls page to open")
    wait_for_trace(
        app_page, "optimizer.step() first (intended)", lambda t: len(t["y"]) == 10, "the first pitfall's chart"
    )
    return app_page


def test_clicking_a_pitfall_shows_its_wrong_and_intended_curves_the_error_and_the_fix(pitfalls: Any) -> None:
    page = pitfalls
    choose_radio(page, "Pitfall", "5 · OneCycleLR past its end")
    expected, error = one_cycle_loop(20)
    assert len(expected) == 21 and expected[20] < 0  # one update with a negative lr, then the crash

    wrong = wait_for_trace(page, WRONG, lambda t: matches(t, expected), "the stepped-past-the-end curve")
    intended = wait_for_trace(page, INTENDED, lambda t: matches(t, expected[:20]), "the intended curve")
    assert {wrong["dash"], intended["dash"]} <= {None, "solid"}  # both drawn as solid lines
    assert {t["name"] for t in plotly_traces(page)} == {WRONG, INTENDED}
    assert "pitfall=onecycle-past-end" in page.url

    page.get_by_role("heading", name="5. OneCycleLR stepped past total_steps").wait_for()
    blocks = wait_until(page, lambda: (b := code_blocks(page)) and any(error in x for x in b) and b, "the ValueError")
    fix = next(b for b in blocks if "scheduler = OneCycleLR(" in b)
    assert "total_steps = 20" in fix and 'anneal_strategy="linear"' in fix
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_a_setting_redraws_the_pitfall_and_its_fix(pitfalls: Any) -> None:
    page = pitfalls
    choose_radio(page, "Pitfall", "5 · OneCycleLR past its end")
    wait_for_trace(page, WRONG, lambda t: len(t["y"]) == 21, "the default chart")
    set_number(page, "total_steps", 10)

    expected, error = one_cycle_loop(10)
    wait_for_trace(page, WRONG, lambda t: matches(t, expected), "the chart of total_steps=10")
    assert error == "ValueError: Tried to step 11 times. The specified number of total steps is 10"
    wait_until(page, lambda: any(error in b for b in code_blocks(page)), "the new ValueError text")
    wait_until(page, lambda: any("total_steps = 10" in b for b in code_blocks(page)), "the fix for total_steps=10")
    wait_until(page, lambda: "total_steps=10" in page.url, "the setting in the URL")
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_a_shared_link_opens_the_pitfall_it_names(page: Any, base_url: str) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/pitfalls?pitfall=momentum-cycling&scheduler=CyclicLR&steps=40")
    wait_for_chart(page)
    sgd = wait_for_trace(page, "SGD(momentum=0): momentum (wrong)", lambda t: len(t["y"]) == 40, "the momentum")
    # CyclicLR writes max_momentum (0.9) into an SGD built with momentum=0, then cycles it down to 0.8
    assert sgd["y"][0] == pytest.approx(0.9) and min(sgd["y"]) == pytest.approx(0.8)
    off = wait_for_trace(page, "SGD, cycle_momentum=False: momentum (intended)", lambda t: True, "the intended")
    assert set(off["y"]) == {0.0}
    radio = page.get_by_role("radiogroup", name="Pitfall").get_by_role("radio", name="9 · Momentum switched on")
    assert radio.is_checked()
