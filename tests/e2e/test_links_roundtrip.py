"""A Compare link, copied from "Share this view", restores the whole view in a new browser session.

Set in one session through the page's own controls: the log-scale y axis, the difference shown as
A ÷ B, a chosen curve B, and a new colour for the first curve. The link from the share box, opened
in a new browser context (a new session: nothing carries over but the URL), must show all of it,
on the widgets and on the charts Plotly.js holds (the axis type, the trace colour, the ratio trace).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .harness import (
    EXCEPTION,
    FRESH,
    INFO_ALERT,
    PAGE_TIMEOUT_MS,
    SCRIPT_DONE,
    choose_radio,
    wait_for_chart,
    wait_until,
)

pytestmark = pytest.mark.e2e

DEFAULT_CURVES = ["HF linear warm-up", "torch OneCycleLR", "WSD", "cosine with restarts"]
COLOUR = "#123456"
RATIO = "HF linear warm-up ÷ cosine with restarts"

# Every fresh chart on the page: its y-axis type and its traces' names and line colours.
_CHARTS_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(el => !el.closest('[data-stale="true"]') && Array.isArray(el.data))
  .map(el => ({
    yaxis: (el.layout && el.layout.yaxis && el.layout.yaxis.type) || null,
    traces: el.data.map(t => ({name: t.name === undefined ? null : t.name, color: (t.line && t.line.color) || null})),
  }))
"""


def charts(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(_CHARTS_JS) if page.locator(SCRIPT_DONE).count() else []


def first_chart(page: Any) -> dict[str, Any] | None:
    """The page's first chart, read once (None while a rerun has taken the charts off the page)."""
    found = charts(page)
    return found[0] if found else None


def names_of(chart: dict[str, Any] | None) -> list[str] | None:
    return [t["name"] for t in chart["traces"]] if chart else None


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def share_link(page: Any) -> str:
    expander = page.locator(f"[data-testid='stExpander']{FRESH}", has_text="Share this view")
    code = expander.locator("[data-testid='stCode']")
    if not code.is_visible():
        expander.locator("summary").click()
    code.wait_for(state="visible")
    return code.inner_text().strip()


def open_compare(context: Any, url: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url)
    wait_for_chart(page)
    return page


def the_view(page: Any) -> dict[str, Any] | None:
    """What the test set, as the page shows it (None until both charts are drawn)."""
    shown = charts(page)
    if len(shown) < 2:
        return None
    main, diff = shown[0], shown[1]
    return {
        "y axis": main["yaxis"],
        "first curve": main["traces"][0] if main["traces"] else None,
        "difference": [t["name"] for t in diff["traces"] if t["name"]],
        "log toggle": page.locator(f".st-key-cmp-log_y{FRESH} input").first.is_checked(),
        "ratio": page.get_by_role("radiogroup", name="Show").get_by_role("radio", name="A ÷ B").is_checked(),
        "curve B": page.get_by_role("combobox", name="Curve B", exact=True).input_value(),
    }


def test_a_compare_link_restores_log_axis_ratio_curve_b_and_colour_in_a_new_session(
    new_context: Any, base_url: str
) -> None:
    first = open_compare(new_context(), base_url + "/compare")
    wait_until(first, lambda: names_of(first_chart(first)) == DEFAULT_CURVES, "the default curves")

    first.get_by_text("Log-scale y axis", exact=True).click()
    wait_until(first, lambda: (first_chart(first) or {}).get("yaxis") == "log", "a log-scale y axis")

    choose_radio(first, "Show", "A ÷ B")
    box = first.get_by_role("combobox", name="Curve B", exact=True)
    box.click()
    first.get_by_role("option", name="cosine with restarts", exact=True).click()
    wait_until(
        first,
        lambda: len(c := charts(first)) > 1 and RATIO in [t["name"] for t in c[1]["traces"]],
        f"the difference chart to show {RATIO!r}",
    )

    # the curve being edited is the first one: give it a new colour in the colour picker's hex box
    first.get_by_role("button", name="Colour color picker").click()
    hex_box = first.locator("[role=dialog] input").first
    hex_box.fill(COLOUR.lstrip("#"))
    hex_box.press("Enter")
    first.keyboard.press("Escape")
    wait_until(
        first,
        lambda: (c := charts(first)) and c[0]["traces"][0]["color"] == COLOUR,
        f"the first curve drawn in {COLOUR}",
    )

    view = wait_until(first, lambda: the_view(first), "the view to settle")
    assert view == {
        "y axis": "log",
        "first curve": {"name": "HF linear warm-up", "color": COLOUR},
        "difference": [RATIO],
        "log toggle": True,
        "ratio": True,
        "curve B": "cosine with restarts",
    }, view

    # the address bar follows; the share box holds the same link
    wait_until(
        first,
        lambda: (
            (q := query(first.url)).get("log_y") == "true"
            and q.get("diff_mode") == "ratio"
            and q.get("diff_b") == "3"
            and json.loads(q.get("curves", "[{}]"))[0].get("color") == COLOUR
        ),
        "the page URL to carry the log axis, A ÷ B, curve B and the colour",
    )
    link = share_link(first)
    assert query(link) == query(first.url), (link, first.url)

    second = open_compare(new_context(), link)
    restored = wait_until(second, lambda: the_view(second) == view and the_view(second), "the linked view")
    assert restored == view
    swatch = second.locator("[data-testid='stColorPickerBlock']").first
    assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 52, 86)"  # the picker: #123456
    assert second.locator(INFO_ALERT, has_text="Some values in the link were ignored").count() == 0
    assert first.locator(EXCEPTION).count() == 0 and second.locator(EXCEPTION).count() == 0
