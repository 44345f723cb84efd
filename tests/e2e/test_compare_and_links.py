"""Compare, Compose and shareable links in a real browser.

Expected curves are computed here from the schedules' formulas; the page's numbers are the data
Plotly.js holds in the page. A link is "shared" by opening it in a new browser context (a new
session: nothing carries over but the URL), and must reproduce exactly the same traces and widgets.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lrlab.plots import MAX_POINTS

from .harness import (
    ALERT,
    EXCEPTION,
    FRESH,
    INFO_ALERT,
    PAGE_TIMEOUT_MS,
    SCRIPT_DONE,
    dataframe_grid,
    nudge,
    page_errors_text,
    plotly_traces,
    set_number,
    slider_value,
    wait_for_app,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

NOTICE = "Some values in the link were ignored"
DEFAULT_CURVES = ["HF linear warm-up", "torch OneCycleLR", "WSD", "cosine with restarts"]
STEPLR_TITLE = "torch · StepLR — decay by γ every step_size steps"
CHAINED_PRESET = "constant × exponential (chained)"


# ---- expected values, computed here -------------------------------------------------------------


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def matches(y: list[float] | None, expected: list[float], rel: float = 1e-9) -> bool:
    return y is not None and len(y) == len(expected) and all(close(a, b, rel) for a, b in zip(y, expected, strict=True))


def hf_linear_warmup(steps: int, warmup: int, base_lr: float) -> list[float]:
    """transformers' get_linear_schedule_with_warmup: linear up to base_lr, then linearly down to 0."""
    return [base_lr * t / warmup if t < warmup else base_lr * (steps - t) / (steps - warmup) for t in range(steps)]


def cosine(steps: int, t_max: int, base_lr: float) -> list[float]:
    """torch's CosineAnnealingLR with eta_min = 0 (within its first half period)."""
    return [base_lr * (1 + math.cos(math.pi * t / t_max)) / 2 for t in range(steps)]


def steplr(steps: int, base_lr: float, step_size: int, gamma: float) -> list[float]:
    return [base_lr * gamma ** (t // step_size) for t in range(steps)]


# ---- page helpers -------------------------------------------------------------------------------


def open_page(context: Any, url: str) -> Any:
    """A new page in `context` on `url`, once its first chart holds data."""
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(url)
    wait_for_chart(page)
    return page


def wait_for_traces(page: Any, predicate: Any, what: str, timeout_ms: float = 15_000) -> list[dict[str, Any]]:
    """Wait until the script run is over and the first chart's traces satisfy predicate(traces)."""

    def probe() -> list[dict[str, Any]] | None:
        if page.locator(SCRIPT_DONE).count() == 0:
            return None
        traces = plotly_traces(page)
        return traces if traces and predicate(traces) else None

    return wait_until(page, probe, what, timeout_ms)


def names(traces: list[dict[str, Any]]) -> list[str]:
    return [t["name"] for t in traces]


def click_button(page: Any, key: str) -> None:
    """Click the st.button with widget key `key` (Streamlit tags its container `st-key-<key, dots → dashes>`).

    A button with `help=` also holds a hidden copy of itself (for measuring): only the visible one counts.
    """
    page.locator(f".st-key-{key.replace('.', '-')} button{FRESH}:visible").click()


def choose_option(page: Any, box_label: str, option: str, typed: str | None = None) -> None:
    """Pick `option` (its visible text) in the st.selectbox labelled `box_label`; `typed` filters the list first."""
    box = page.get_by_role("combobox", name=box_label, exact=True).first
    box.click()
    if typed:
        box.fill(typed)
    page.get_by_role("option", name=option, exact=True).click()
    wait_until(page, lambda: box.input_value() == option, f"the {box_label!r} box to show {option!r}")


def number_value(page: Any, label: str) -> str:
    return page.get_by_role("spinbutton", name=label, exact=True).input_value()


def query(url: str) -> dict[str, str]:
    """A URL's query as {key: value} (one value per key)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def share_link(page: Any) -> str:
    """The link in the "Share this view" expander's code box (opened if needed)."""
    expander = page.locator(f"[data-testid='stExpander']{FRESH}", has_text="Share this view")
    code = expander.locator("[data-testid='stCode']")
    if not code.is_visible():
        expander.locator("summary").click()
    code.wait_for(state="visible")
    return code.inner_text().strip()


def assert_healthy(page: Any) -> None:
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


# ---- 1. Compare ---------------------------------------------------------------------------------


def test_compare_add_and_duplicate_draw_one_trace_and_one_table_row_per_curve(page: Any, base_url: str) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/compare")
    wait_for_chart(page)
    wait_for_traces(page, lambda ts: names(ts) == DEFAULT_CURVES, f"the four default curves {DEFAULT_CURVES}")
    assert number_value(page, "Steps") == "1000"

    click_button(page, "cmp.add")  # a CosineAnnealingLR called "curve 5", selected for editing
    wait_for_traces(page, lambda ts: names(ts) == [*DEFAULT_CURVES, "curve 5"], "a fifth trace 'curve 5'")
    click_button(page, "cmp.dup")  # a copy of the selected curve
    expected_names = [*DEFAULT_CURVES, "curve 5", "curve 5 (copy)"]
    steps, base_lr = 1000, 0.1
    traces = wait_for_traces(
        page,
        lambda ts: names(ts) == expected_names and matches(ts[-1]["y"], cosine(steps, steps, base_lr)),
        f"six traces {expected_names}",
    )
    by_name = {t["name"]: t for t in traces}
    assert len(traces) == 6 and len(by_name) == 6

    # every trace is the whole run, one point per step: charts are decimated only above MAX_POINTS
    assert steps <= MAX_POINTS
    for t in traces:
        assert t["x"] == list(range(steps)), t["name"]
        assert len(t["y"]) == steps, t["name"]
    # values computed here: HF linear warm-up (100 warm-up steps of 1000), and cosine over the run
    hf = hf_linear_warmup(steps, 100, base_lr)
    assert matches(by_name["HF linear warm-up"]["y"], hf), by_name["HF linear warm-up"]["y"][:5]
    assert by_name["HF linear warm-up"]["y"][100] == pytest.approx(base_lr)
    assert matches(by_name["curve 5"]["y"], cosine(steps, steps, base_lr))
    assert by_name["curve 5 (copy)"]["y"] == by_name["curve 5"]["y"]

    # the summary table: one row per curve, in the chart's order, with the figures of the curves
    grid = wait_until(
        page,
        lambda: (g := dataframe_grid(page)) and g["rowcount"] == 6 and len(g["rows"]) == 6 and g,
        "the summary table to have 6 rows",
    )
    assert grid["columns"][0] == "curve"
    assert [row[0] for row in grid["rows"]] == expected_names
    col = grid["columns"].index("peak step")
    hf_row = grid["rows"][0]
    assert int(hf_row[col]) == 100 and float(hf_row[grid["columns"].index("peak LR")]) == pytest.approx(0.1)
    assert_healthy(page)


# ---- 2. and 3. shared links reproduce the view --------------------------------------------------


def test_playground_link_reproduces_curve_and_widgets_in_a_new_session(new_context: Any, base_url: str) -> None:
    first = open_page(new_context(), base_url + "/")
    choose_option(first, "Scheduler", STEPLR_TITLE, typed="StepLR")
    # one change at a time, each awaited as the exact curve it must give
    wait_for_trace(first, "library", lambda t: matches(t["y"], steplr(1000, 0.1, 250, 0.1)), "the default StepLR")
    set_number(first, "Steps", 600)
    # step_size was never set: it follows the run (a quarter of it), 250 → 150
    wait_for_trace(first, "library", lambda t: matches(t["y"], steplr(600, 0.1, 150, 0.1)), "StepLR over 600 steps")
    gamma = nudge(first, "gamma", "ArrowRight", 5)
    wait_for_trace(first, "library", lambda t: matches(t["y"], steplr(600, 0.1, 150, gamma)), f"gamma={gamma}")
    step_size = int(nudge(first, "step_size", "ArrowLeft", 2))
    assert gamma != 0.1 and step_size != 150
    library = wait_for_trace(
        first,
        "library",
        lambda t: matches(t["y"], steplr(600, 0.1, step_size, gamma)),
        f"StepLR(step_size={step_size}, gamma={gamma})",
    )

    # the address bar follows every run; the share box shows the same link
    want = {"scheduler": "StepLR", "steps": "600", "step_size": str(step_size)}
    url = wait_until(
        first,
        lambda: (q := query(first.url)).items() >= want.items() and float(q.get("gamma", "nan")) == gamma and first.url,
        f"the page URL to carry {want} and gamma={gamma}",
    )
    # the closed share box sends no code box (Streamlit's highlighter is 1.5 MB of JavaScript)
    assert first.locator("[data-testid='stCode']").count() == 0
    link = share_link(first)
    assert query(link) == query(url), f"share box {link!r} vs address bar {url!r}"
    assert urlsplit(link).path in ("", "/")  # the default page
    widgets = {
        "Steps": number_value(first, "Steps"),
        "Steps per epoch": number_value(first, "Steps per epoch"),
        "Base LR": slider_value(first, "Base LR"),
        "gamma": slider_value(first, "gamma"),
        "step_size": slider_value(first, "step_size"),
    }

    # a new browser context is a new session: only the link carries the state
    second = open_page(new_context(), link)
    shared = wait_for_trace(second, "library", lambda t: t["y"] == library["y"], "the same StepLR curve from the link")
    assert shared["x"] == library["x"] and shared["y"] == library["y"]
    assert second.get_by_role("combobox", name="Scheduler", exact=True).input_value() == STEPLR_TITLE
    assert {
        "Steps": number_value(second, "Steps"),
        "Steps per epoch": number_value(second, "Steps per epoch"),
        "Base LR": slider_value(second, "Base LR"),
        "gamma": slider_value(second, "gamma"),
        "step_size": slider_value(second, "step_size"),
    } == widgets
    assert second.locator(INFO_ALERT, has_text=NOTICE).count() == 0
    assert_healthy(first)
    assert_healthy(second)


def test_compare_link_reproduces_names_and_curves_in_a_new_session(new_context: Any, base_url: str) -> None:
    first = open_page(new_context(), base_url + "/compare")
    wait_for_traces(first, lambda ts: names(ts) == DEFAULT_CURVES, "the four default curves")
    click_button(first, "cmp.add")
    wait_for_traces(first, lambda ts: names(ts)[-1:] == ["curve 5"], "the added 'curve 5'")
    name_box = first.get_by_role("textbox", name="Name", exact=True)
    wait_until(first, lambda: name_box.input_value() == "curve 5", "the Name box to edit 'curve 5'")
    name_box.fill("my cosine")
    name_box.press("Enter")
    wait_for_traces(first, lambda ts: names(ts)[-1:] == ["my cosine"], "the curve renamed to 'my cosine'")
    click_button(first, "cmp.flip")  # the same curve stepped once per epoch
    flipped = "my cosine — stepped per epoch"
    expected_names = [*DEFAULT_CURVES, "my cosine", flipped]
    traces = wait_for_traces(first, lambda ts: names(ts) == expected_names, f"traces {expected_names}")
    by_name = {t["name"]: t for t in traces}
    assert matches(by_name["my cosine"]["y"], cosine(1000, 1000, 0.1))
    # stepped per epoch (100 steps), the cosine sized in steps barely moves: constant within each epoch
    per_epoch = by_name[flipped]["y"]
    assert per_epoch[:100] == [per_epoch[0]] * 100 and per_epoch[100] < per_epoch[99]

    url = wait_until(
        first,
        lambda: [c["label"] for c in json.loads(query(first.url).get("curves", "[]"))] == expected_names and first.url,
        "the page URL to carry the six curves",
    )
    # the closed share box sends no code box (Streamlit's highlighter is 1.5 MB of JavaScript)
    assert first.locator("[data-testid='stCode']").count() == 0
    link = share_link(first)
    assert query(link) == query(url), f"share box {link!r} vs address bar {url!r}"

    second = open_page(new_context(), url)
    shared = wait_for_traces(second, lambda ts: names(ts) == expected_names, f"the linked traces {expected_names}")
    for mine, theirs in zip(traces, shared, strict=True):
        assert theirs["x"] == mine["x"], mine["name"]
        assert theirs["y"] == mine["y"], mine["name"]
    grid = wait_until(second, lambda: (g := dataframe_grid(second)) and g["rowcount"] == 6 and g, "a 6-row table")
    assert [row[0] for row in grid["rows"]] == expected_names
    assert second.locator(INFO_ALERT, has_text=NOTICE).count() == 0
    assert_healthy(first)
    assert_healthy(second)


# ---- 4. corrupted links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mentioned"),
    [
        ("/?scheduler=NoSuchThing&steps=-3&gamma=abc", ["scheduler=NoSuchThing", "steps=-3"]),
        ('/compare?curves=[{"scheduler":"nope"}]&epochs=zzz', ["epochs=zzz", "curves[0]"]),
        ("/compose?cfg={broken", ["cfg"]),
    ],
    ids=["playground", "compare", "compose"],
)
def test_corrupted_link_is_reported_and_the_page_still_draws(
    page: Any, base_url: str, path: str, mentioned: list[str]
) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + path)
    wait_for_chart(page)
    notice = page.locator(INFO_ALERT, has_text=NOTICE)
    notice.first.wait_for(state="visible")
    assert notice.count() == 1
    text = notice.inner_text()
    body = text[text.index(NOTICE) :]
    assert body.startswith(NOTICE + ":"), text
    for item in mentioned:
        assert item in body, f"{item!r} not in {body!r}"
    traces = plotly_traces(page)
    assert traces and all(t["y"] and len(t["y"]) > 1 for t in traces), traces and names(traces)
    assert page.locator(f"{ALERT}:has([data-testid='stAlertContentError'])").count() == 0
    assert_healthy(page)


def test_a_links_notice_is_shown_once_and_goes_with_the_next_edit_of_a_curve(page: Any, base_url: str) -> None:
    # Editing a curve reruns only Compare's fragment, which gets the arguments of the run that read the
    # link: its notice (here a name no curve has) must be checked and drawn by that run only.
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/compare?explain_curve=no+such+curve")
    wait_for_chart(page)
    notice = page.locator(INFO_ALERT, has_text=NOTICE)
    notice.first.wait_for(state="visible")
    assert notice.count() == 1
    assert "explain_curve=no such curve" in notice.inner_text()
    click_button(page, "cmp.add")  # a curve edit: reruns the fragment only
    wait_for_traces(page, lambda ts: names(ts) == [*DEFAULT_CURVES, "curve 5"], "a fifth trace 'curve 5'")
    click_button(page, "cmp.dup")
    wait_for_traces(page, lambda ts: len(ts) == len(DEFAULT_CURVES) + 2, "a sixth trace")
    # the notice belonged to the run that read the link: it goes with the next edit, never drawn again
    wait_until(page, lambda: page.locator(INFO_ALERT, has_text=NOTICE).count() == 0, "the link's notice to go")
    assert_healthy(page)


# ---- 5. Compose ---------------------------------------------------------------------------------


def test_compose_chained_preset_is_constant_times_exponential(page: Any, base_url: str) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/compose")
    wait_for_chart(page)
    assert number_value(page, "Steps") == "1000"
    assert slider_value(page, "Base LR (group 0)") == 0.1
    choose_option(page, "Start from a preset", CHAINED_PRESET)

    steps, base_lr, total_iters = 1000, 0.1, 1000 // 10
    expected = [base_lr * (0.5 if t < total_iters else 1.0) * 0.995**t for t in range(steps)]
    library = wait_for_trace(
        page, "library", lambda t: matches(t["y"], expected), "ConstantLR(0.5, 100 steps) × ExponentialLR(0.995)"
    )
    assert library["x"] == list(range(steps))
    chained = page.get_by_role("radiogroup", name="Compose with").get_by_role("radio", name="ChainedScheduler")
    # The chart can be drawn a moment before the radio shows its new choice (the same rerun): wait for it.
    wait_until(page, chained.is_checked, "ChainedScheduler to be the checked 'Compose with' option")
    closed = wait_for_trace(page, "closed form", lambda t: matches(t["y"], expected), "the closed form to agree")
    assert closed["dash"] == "dash"
    assert_healthy(page)


def test_compose_link_reproduces_the_composition_in_a_new_session(new_context: Any, base_url: str) -> None:
    first = open_page(new_context(), base_url + "/compose")
    choose_option(first, "Start from a preset", CHAINED_PRESET)
    expected = [0.1 * (0.5 if t < 100 else 1.0) * 0.995**t for t in range(1000)]
    library = wait_for_trace(first, "library", lambda t: matches(t["y"], expected), "the chained preset")
    link = wait_until(first, lambda: "ChainedScheduler" in query(first.url).get("cfg", "") and share_link(first), "cfg")
    assert query(link) == query(first.url)

    second = open_page(new_context(), link)
    wait_for_app(second)
    notice = second.locator(INFO_ALERT, has_text=NOTICE)
    assert notice.count() == 0, notice.all_inner_texts()
    shared = wait_for_trace(second, "library", lambda t: t["y"] == library["y"], "the same chained curve from the link")
    assert shared["x"] == library["x"]
    assert_healthy(second)
