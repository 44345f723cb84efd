"""Explain mode in a real browser: Play (Plotly's own button in the chart) moves the marker along the
curve in the browser with no server rerun, Pause stops it, and the formula beside the chart follows the
step chosen on the server.

The marker's position is read from the data Plotly.js holds in the page (trace "explained step");
the expected lr at that step is computed here from the default schedule's formula. "No server rerun"
is measured in the page: every message the page sends over its websocket is counted (a rerun, of the
page or of a fragment, is such a message: a BackMsg), and the app's script state must stay notRunning.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from lrlab.explain import MARKER

from .harness import (
    EXCEPTION,
    FRESH,
    PAGE_TIMEOUT_MS,
    PLOT,
    SCRIPT_DONE,
    page_errors_text,
    plotly_traces,
    slider,
    slider_value,
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


#: Counts the messages the page sends to the server (installed before the page's own scripts run).
COUNT_SENT = """
window.__lrlabSent = 0;
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (...args) { window.__lrlabSent += 1; return send.apply(this, args); };
"""

#: The first chart that carries animation frames: its marker's x and the caption drawn on it.
_PLAYING_JS = """
() => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')]
      .find(g => !g.closest('[data-stale="true"]') && g._transitionData && g._transitionData._frames.length);
  if (!gd) return null;
  const marker = gd.data.find(t => t.name === 'explained step');
  return {
    frames: gd._transitionData._frames.length,
    x: Array.from(marker.x),
    y: Array.from(marker.y),
    caption: [...gd.querySelectorAll('.annotation-text')].map(e => e.textContent).join(' | '),
    sent: window.__lrlabSent,
    state: document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'),
  };
}
"""


def playing(page: Any) -> dict[str, Any] | None:
    return page.evaluate(_PLAYING_JS)


def chart_button(page: Any, label: str) -> Any:
    """Plotly's own button in the chart (updatemenus), not a Streamlit widget."""
    return page.locator(f"{PLOT} .updatemenu-button{FRESH}", has_text=label)


def test_play_in_the_chart_moves_the_marker_with_no_server_rerun_and_pause_stops_it(page: Any, base_url: str) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.add_init_script(COUNT_SENT)
    page.goto(base_url + "/?explain=100")  # explain mode, opened at step 100 by its link
    wait_for_chart(page)
    start = wait_until(page, lambda: (p := playing(page)) and p["x"] == [100] and p, "the animated chart at step 100")
    assert start["frames"] == 101  # 1 % of 1000 steps per frame: steps 0, 10, …, 990, and 999
    page.wait_for_timeout(500)  # nothing is pending: the count starts from a quiet page
    sent = playing(page)["sent"]
    assert sent >= 1 and page.locator(SCRIPT_DONE).count() == 1

    chart_button(page, "Play").click()
    samples = []
    for _ in range(12):  # 12 × 250 ms: about 12 frames of 250 ms
        page.wait_for_timeout(250)
        samples.append(playing(page))
    xs = [p["x"][0] for p in samples]
    assert xs == sorted(xs) and len(set(xs)) >= 3 and xs[-1] > 100, xs  # the marker moves forward, frame by frame
    for p in samples:  # on the curve: the schedule's lr at the marker's step
        assert math.isclose(p["y"][0], cosine(int(p["x"][0])), rel_tol=1e-9), p
        step, lr = re.search(r"step (\d+) · lr = ([-\d.e+]+)", p["caption"]).groups()  # the caption on the chart
        assert lr == f"{cosine(int(step)):.6g}" and int(step) % 10 == 0, p["caption"]
    # the browser played it alone: no message to the server, no script run, during the whole playback
    assert [p["sent"] for p in samples] == [sent] * len(samples)
    assert {p["state"] for p in samples} == {"notRunning"}

    chart_button(page, "Pause").click()
    page.wait_for_timeout(300)
    stopped = playing(page)["x"]
    page.wait_for_timeout(1000)  # four frames' time
    assert playing(page)["x"] == stopped, "the marker moved after Pause"
    assert playing(page)["sent"] == sent
    # the server never heard of it: the chosen step, its slider and its formula are still step 100's
    assert slider_value(page, "Explained step") == 100
    formula = page.locator(f"[data-testid='stMarkdownContainer'] .katex{FRESH}").first
    assert "100" in formula.inner_text()

    chart_button(page, "Play").click()  # resumes where Pause left it
    wait_until(page, lambda: (p := playing(page)) and p["x"][0] > stopped[0], "the marker to move on after Play")
    chart_button(page, "Pause").click()
    # the count does see a rerun: choosing a step on the server sends one (and the chart starts there again)
    slider(page, "Explained step").focus()
    page.keyboard.press("ArrowRight")
    wait_until(page, lambda: (p := playing(page)) and p["x"] == [101] and p["sent"] > sent, "a rerun at step 101")
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
    # Play moves the four markers together, in the browser
    chart_button(page, "Play").click()
    moved = wait_until(page, lambda: (p := playing(page)) and p["x"][0] > 5 and p, "the markers to move after Play")
    assert len(moved["x"]) == 4 and len(set(moved["x"])) == 1
    chart_button(page, "Pause").click()
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
