"""Two visitors on one server never see each other's settings or curves.

Two browser contexts (two sessions, as two students' browsers) open the Playground on the same
server. A sets StepLR over 600 steps, B ExponentialLR over 400 steps; then both move a slider at
the same moment, both reload, and B finally takes A's exact settings (the server's cache then hands
both sessions the same cached curve) before A changes again. After every step each page's chart is
checked against its own settings — the expected curves are computed here from the schedulers'
formulas with the values its widgets show — and each page's URL carries only its own settings.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .harness import (
    EXCEPTION,
    PAGE_TIMEOUT_MS,
    SCRIPT_DONE,
    nudge,
    page_errors_text,
    plotly_traces,
    set_number,
    slider,
    slider_value,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

STEPLR = "torch · StepLR — decay by γ every step_size steps"
EXPONENTIAL = "torch · ExponentialLR — multiply by γ every step"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def steplr(n: int, base_lr: float, step_size: int, gamma: float) -> list[float]:
    return [base_lr * gamma ** (t // step_size) for t in range(n)]


def exponential(n: int, base_lr: float, gamma: float) -> list[float]:
    return [base_lr * gamma**t for t in range(n)]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def open_playground(context: Any, url: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url)
    wait_for_chart(page)
    return page


def choose_scheduler(page: Any, title: str) -> None:
    box = page.get_by_role("combobox", name="Scheduler", exact=True)
    box.click()
    box.fill(title.split(" · ")[1].split(" ")[0])
    page.get_by_role("option", name=title, exact=True).click()
    wait_until(page, lambda: box.input_value() == title, f"the Scheduler box to show {title!r}")
    page.locator(SCRIPT_DONE).wait_for(state="attached")


def press(page: Any, label: str, key: str, times: int) -> float:
    """Press `key` on slider `label` without waiting for the rerun; return the slider's value before."""
    before = slider_value(page, label)
    slider(page, label).focus()
    for _ in range(times):
        page.keyboard.press(key)
    return before


def steps_shown(page: Any) -> int:
    return int(page.get_by_role("spinbutton", name="Steps", exact=True).input_value())


class Visitor:
    """One browser context on the Playground and the curve its own widgets ask for."""

    def __init__(self, page: Any, scheduler: str) -> None:
        self.page = page
        self.scheduler = scheduler

    def expected(self) -> list[float]:
        n, base = steps_shown(self.page), slider_value(self.page, "Base LR")
        gamma = slider_value(self.page, "gamma")
        if self.scheduler == "StepLR":
            return steplr(n, base, int(slider_value(self.page, "step_size")), gamma)
        return exponential(n, base, gamma)

    def own_curve(self, what: str) -> list[float]:
        """Wait until the chart's library trace is the curve of this page's widgets; return it."""

        def mine(trace: dict[str, Any]) -> bool:
            want = self.expected()
            return len(trace["y"]) == len(want) and all(map(close, trace["y"], want))

        return wait_for_trace(self.page, "library", mine, f"{self.scheduler}: {what}")["y"]

    def url_settings(self) -> dict[str, str]:
        return wait_until(
            self.page,
            lambda: (q := query(self.page.url)).get("scheduler") == self.scheduler and q,
            f"the URL to name {self.scheduler}",
        )

    def healthy(self) -> None:
        assert self.page.locator(EXCEPTION).count() == 0, page_errors_text(self.page)


def test_two_visitors_on_one_server_each_see_only_their_own_curve_and_link(new_context: Any, base_url: str) -> None:
    a = Visitor(open_playground(new_context(), base_url + "/"), "StepLR")
    b = Visitor(open_playground(new_context(), base_url + "/"), "ExponentialLR")

    # A: StepLR over 600 steps, gamma moved; B: ExponentialLR over 400 steps, gamma moved
    choose_scheduler(a.page, STEPLR)
    choose_scheduler(b.page, EXPONENTIAL)
    set_number(a.page, "Steps", 600)
    set_number(b.page, "Steps", 400)
    a.own_curve("600 steps")
    b.own_curve("400 steps")
    nudge(a.page, "gamma", "ArrowRight", 5)
    nudge(b.page, "gamma", "ArrowLeft", 4)
    curve_a, curve_b = a.own_curve("gamma moved"), b.own_curve("gamma moved")
    assert len(curve_a) == 600 and len(curve_b) == 400
    assert slider_value(a.page, "gamma") != slider_value(b.page, "gamma")

    # both move a slider at the same moment: two reruns in flight on the server together
    gamma_a = press(a.page, "gamma", "ArrowRight", 3)
    gamma_b = press(b.page, "gamma", "ArrowLeft", 3)
    curve_a, curve_b = a.own_curve("gamma + 0.003, concurrently"), b.own_curve("gamma − 0.003, concurrently")
    assert slider_value(a.page, "gamma") == pytest.approx(gamma_a + 0.003)
    assert slider_value(b.page, "gamma") == pytest.approx(gamma_b - 0.003)
    assert [t["name"] for t in plotly_traces(a.page)] == [t["name"] for t in plotly_traces(b.page)]
    assert curve_a[:400] != curve_b

    # each address bar carries its own settings only
    url_a, url_b = a.url_settings(), b.url_settings()
    assert url_a["steps"] == "600" and url_b["steps"] == "400"
    assert float(url_a["gamma"]) == slider_value(a.page, "gamma")
    assert float(url_b["gamma"]) == slider_value(b.page, "gamma")
    assert "step_size" not in url_a and "step_size" not in url_b  # run-sized and never set: it follows the run

    # a reload is a new session: A's link brings back A's curve, and B's page is untouched
    a.page.reload()
    wait_for_chart(a.page)
    assert a.own_curve("after A's reload") == curve_a
    assert b.own_curve("while A reloaded") == curve_b
    b.page.reload()
    wait_for_chart(b.page)
    assert b.own_curve("after B's reload") == curve_b
    assert query(a.page.url) == url_a and query(b.page.url) == url_b

    a.healthy()
    b.healthy()


def test_a_curve_served_from_the_shared_cache_stays_each_visitors_own(new_context: Any, base_url: str) -> None:
    # Streamlit's cache is shared by all sessions: B opens A's link (a teacher's shared link) and
    # gets the same cached curve; then A changes its settings and log axis, and B's must not move.
    a = Visitor(open_playground(new_context(), base_url + "/"), "StepLR")
    choose_scheduler(a.page, STEPLR)
    set_number(a.page, "Steps", 300)
    shared_a = a.own_curve("300 steps")
    link = base_url + "/?" + urlsplit(a.page.url).query
    b = Visitor(open_playground(new_context(), link), "StepLR")
    shared_b = b.own_curve("A's link")
    assert shared_a == shared_b and len(shared_b) == 300

    a.page.get_by_text("Log-scale y axis", exact=True).click()
    nudge(a.page, "step_size", "ArrowLeft", 7)
    nudge(a.page, "gamma", "ArrowRight", 9)
    changed_a = a.own_curve("step_size − 7, gamma + 0.009")
    assert changed_a != shared_a

    press(b.page, "step_size", "ArrowRight", 1)  # B reruns (one step away and back) and redraws from the cache
    b.own_curve("step_size + 1")
    press(b.page, "step_size", "ArrowLeft", 1)
    assert b.own_curve("step_size back") == shared_b
    layout = b.page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(el => !el.closest('[data-stale=\"true\"]'))[0].layout.yaxis.type"
    )
    assert layout == "linear"  # A's log axis is A's alone
    assert "step_size" in query(b.page.url) and query(b.page.url) != query(a.page.url)
    a.healthy()
    b.healthy()
