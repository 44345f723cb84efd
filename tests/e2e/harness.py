"""Browser-test harness: a real Streamlit server and Debian's Chromium driven by Playwright.

Used by tests/e2e/conftest.py and by bench/screenshot.py; imports neither pytest nor streamlit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Debian's Chromium (`apt-get install -y chromium`); never a browser downloaded by `playwright install`.
CHROMIUM = os.environ.get("LRLAB_CHROMIUM", "/usr/bin/chromium")

#: Launch flags verified on these machines: root needs --no-sandbox, and without the
#: background-networking flags Chromium keeps dialling out into a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

SERVER_START_TIMEOUT_S = 60.0


class HarnessError(RuntimeError):
    """The server or the browser could not be brought up; the message says why."""


def chromium_problem() -> str | None:
    """None if the browser is usable, else a message that tells how to get it."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"Chromium not found at {CHROMIUM}. The browser tests need Debian's Chromium: "
        "run `apt-get update && apt-get install -y chromium` (as root; .ci/run does this), "
        "or point LRLAB_CHROMIUM at a Chromium binary. Do not run `playwright install`."
    )


def launch_args() -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch(...)`."""
    problem = chromium_problem()
    if problem:
        raise HarnessError(problem)
    return {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_ARGS)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, OSError):
        return None


@contextlib.contextmanager
def streamlit_server(
    app: str = "app.py", *, root: Path = REPO_ROOT, timeout: float = SERVER_START_TIMEOUT_S
) -> Iterator[str]:
    """Start `streamlit run app` on a free loopback port; yield its base URL; stop it.

    Waits until GET /_stcore/health answers "ok". On failure the server's own output is in the
    exception message; set LRLAB_SERVER_LOG to a path to keep that output in a file.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", app,
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    # LRLAB_SERVER_LOG=path keeps the server's output after the run (e.g. to look for warnings).
    keep = os.environ.get("LRLAB_SERVER_LOG")
    log = open(keep, "w+b") if keep else tempfile.TemporaryFile(mode="w+b")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def output() -> str:
        log.flush()
        log.seek(0)
        return log.read().decode("utf-8", "replace")[-6000:]

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise HarnessError(
                    f"streamlit exited with code {proc.returncode} before answering on {url}.\n"
                    f"command: {' '.join(cmd)}\n--- server output ---\n{output()}"
                )
            if _health(url) == "ok":
                break
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"streamlit did not answer 'ok' on {url}/_stcore/health within {timeout:.0f} s.\n"
                    f"command: {' '.join(cmd)}\n--- server output ---\n{output()}"
                )
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# Page helpers (Playwright sync API; `page` is a playwright.sync_api.Page)

APP = "[data-testid='stApp']"
CONNECTED = f"{APP}[data-test-connection-state='CONNECTED']"
SCRIPT_DONE = f"{APP}[data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"
#: the default timeout of a test's page actions
PAGE_TIMEOUT_MS = 20_000
#: appended to a selector: only elements of the current run (Streamlit marks the previous run's stale)
FRESH = ":not([data-stale='true'] *)"
ALERT = f"[data-testid='stAlertContainer']{FRESH}"
ERROR_ALERT = f"{ALERT}:has([data-testid='stAlertContentError'])"
INFO_ALERT = f"{ALERT}:has([data-testid='stAlertContentInfo'])"
PLOT = ".js-plotly-plot"


def wait_for_app(page: Any, timeout_ms: float = 30_000) -> None:
    """Wait until the websocket is connected and the script run has finished."""
    page.wait_for_selector(CONNECTED, state="attached", timeout=timeout_ms)
    page.wait_for_selector(SCRIPT_DONE, state="attached", timeout=timeout_ms)


def wait_for_chart(page: Any, timeout_ms: float = 30_000) -> None:
    """Wait until the script finished, the first (non-stale) Plotly chart holds data, and the number
    boxes have settled: a Streamlit number input first renders for ~40 ms with another value (1 for the
    Playground's Steps at 1M steps), and a chart drawn in one pass can be there before it is done."""
    wait_for_app(page, timeout_ms)
    page.wait_for_function(
        f"() => {{ const t = ({_TRACES_JS})(); return t !== null && t.length > 0; }}", timeout=timeout_ms
    )
    _settle(page, timeout_ms)


# True once the values of the page's number inputs have not changed for 200 ms.
_NUMBERS_SETTLED_JS = """
() => {
  const now = performance.now();
  const values = [...document.querySelectorAll("input[type='number']")].map(e => e.value).join('|');
  const s = window.__lrlabNumbers;
  if (!s || s.values !== values) { window.__lrlabNumbers = {values, since: now}; return false; }
  return now - s.since >= 200;
}
"""


# Reads the data of the first Plotly chart that is not a stale leftover of the previous run.
# Plotly 7 may ship arrays as {dtype, bdata}; typed arrays and such specs are both decoded.
_TRACES_JS = """
() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
      .filter(el => !el.closest('[data-stale="true"]'));
  if (!plots.length || !Array.isArray(plots[0].data)) return null;
  const types = {f8: Float64Array, f4: Float32Array, i1: Int8Array, u1: Uint8Array,
                 u1c: Uint8ClampedArray, i2: Int16Array, u2: Uint16Array, i4: Int32Array,
                 u4: Uint32Array};
  const arr = v => {
    if (v === undefined || v === null) return null;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v);
    if (typeof v === 'object' && typeof v.bdata === 'string') {
      const bin = atob(v.bdata);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const T = types[String(v.dtype).replace(/^[<>|=]/, '')];
      return T ? Array.from(new T(bytes.buffer)) : null;
    }
    return null;
  };
  return plots[0].data.map(t => ({
    name: t.name === undefined ? null : t.name,
    type: t.type || 'scatter',
    x: arr(t.x),
    y: arr(t.y),
    dash: (t.line && t.line.dash) || null,
    mode: t.mode || null,
    marker: t.marker ? {symbol: typeof t.marker.symbol === 'string' ? t.marker.symbol : null,
                        color: typeof t.marker.color === 'string' ? t.marker.color : null} : null,
  }));
}
"""


def plotly_traces(page: Any) -> list[dict[str, Any]] | None:
    """Traces of the first Plotly chart on the page: [{name, type, x, y, dash, mode, marker}], or None.

    `marker` is {symbol, color} (each a string, or None when absent or given per point)."""
    return page.evaluate(_TRACES_JS)


def trace(page: Any, name: str) -> dict[str, Any] | None:
    """The trace called `name` in the first chart, or None."""
    for t in plotly_traces(page) or []:
        if t["name"] == name:
            return t
    return None


def wait_until(
    page: Any, probe: Callable[[], Any], what: str, timeout_ms: float = 15_000, interval_ms: float = 100
) -> Any:
    """Call probe() until it returns something truthy (returned); fail with `what` on timeout."""
    deadline = time.monotonic() + timeout_ms / 1000
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}")
        page.wait_for_timeout(interval_ms)


def wait_for_trace(
    page: Any,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    what: str,
    timeout_ms: float = 15_000,
) -> dict[str, Any]:
    """Wait until trace `name` exists and satisfies predicate (e.g. "differs from before")."""

    def probe() -> dict[str, Any] | None:
        if page.locator(SCRIPT_DONE).count() == 0:
            return None
        t = trace(page, name)
        return t if t is not None and predicate(t) else None

    return wait_until(page, probe, what, timeout_ms)


def page_errors_text(page: Any) -> str:
    """Text of any exception elements on the page (for assertion messages)."""
    return json.dumps(page.locator(EXCEPTION).all_inner_texts())[:3000]


# Streamlit's st.dataframe draws on a canvas (glide-data-grid) but keeps an accessible
# <table role=grid> inside it once it has been painted: header cells and the rows in view.
_GRID_JS = """
(root) => {
  const t = root.querySelector('table[role="grid"]');
  if (!t) return null;
  return {
    rowcount: Number(t.getAttribute('aria-rowcount')) - 1,
    columns: [...t.querySelectorAll('thead th')].map(th => th.textContent),
    rows: [...t.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent)),
  };
}
"""


def dataframe_grid(page: Any, index: int = 0) -> dict[str, Any] | None:
    """The `index`-th non-stale st.dataframe as {rowcount, columns, rows}, or None before it is painted.

    `rowcount` counts every data row (without the header); `rows` holds only the rows in view, as text,
    and `columns` only the columns in view.
    """
    from playwright.sync_api import Error as PlaywrightError

    frames = page.locator("[data-testid='stDataFrame']:not([data-stale='true'] *)")
    if frames.count() <= index:
        return None
    frame = frames.nth(index)
    try:  # a rerun can replace the table while it is scrolled to: None, and the caller's wait_until asks again
        frame.scroll_into_view_if_needed(timeout=2_000)
        return frame.evaluate(_GRID_JS, timeout=2_000)
    except PlaywrightError:
        return None


def choose_radio(page: Any, group: str, option: str) -> None:
    """Click option `option` (its visible label) of the st.radio labelled `group`.

    Streamlit hides the <input>; the option's <label> takes the click. The rerun may not have
    started when this returns: wait for the data you expect next.
    """
    radio = page.get_by_role("radiogroup", name=group).get_by_role("radio", name=option, exact=True)
    radio.locator("xpath=ancestor::label[1]").click()
    wait_until(page, radio.is_checked, f"radio {group!r} to select {option!r}")


def set_number(page: Any, label: str, value: float | int, attempts: int = 3, timeout_ms: float = 30_000) -> None:
    """Type `value` into the st.number_input labelled `label`, commit it (Enter) and wait until the box
    holds it once the page has settled.

    A number input Streamlit has just rendered shows another value for ~40 ms first (see
    :func:`wait_for_chart`): a value typed in that window is overwritten before Enter commits it, and the
    app keeps its old value (seen in CI: a new group's lr box typed right after it appeared). So the
    boxes settle before typing, and the value is typed again if the box does not hold it afterwards.
    """
    box = page.get_by_role("spinbutton", name=label, exact=True)
    shown = None
    for _ in range(attempts):
        _settle(page, timeout_ms)
        box.fill(str(value))
        box.press("Enter")
        _settle(page, timeout_ms)
        wait_for_app(page, timeout_ms)
        _settle(page, timeout_ms)
        shown = box.input_value()
        with contextlib.suppress(ValueError):
            if math.isclose(float(shown), float(value), rel_tol=1e-9, abs_tol=0.0):
                return
    raise AssertionError(f"number box {label!r} shows {shown!r} after typing {value!r} {attempts} times")


def _settle(page: Any, timeout_ms: float) -> None:
    """Wait until the page's number inputs have kept their values for 200 ms."""
    page.wait_for_function(_NUMBERS_SETTLED_JS, timeout=timeout_ms, polling=25)


def slider(page: Any, label: str) -> Any:
    # The range input's accessible name repeats the label ("gamma gamma"): match its aria-label,
    # and skip a chart being replaced during a rerun (its DOM is marked stale).
    return page.locator(f"input[type='range'][aria-label='{label}']:not([data-stale='true'] *)")


def slider_value(page: Any, label: str) -> float:
    """The value the slider shows (aria-valuetext; for a select_slider the input's value is an index)."""
    return float(slider(page, label).get_attribute("aria-valuetext"))


def nudge(page: Any, label: str, key: str, times: int) -> float:
    """Focus slider `label`, press `key` `times` times; return the slider's new value once it moved."""
    before = slider_value(page, label)
    slider(page, label).focus()
    for _ in range(times):
        page.keyboard.press(key)
    return wait_until(
        page,
        lambda: (v := slider_value(page, label)) != before and v,
        f"slider {label!r} to move from {before} after {times}×{key}",
    )


def export_tab(page: Any, label: str) -> Any:
    """Open the Export expander (closed until asked: its code is built when asked), select its tab
    `label`; return the tab's (visible) panel."""
    tab = page.get_by_role("tab", name=label, exact=True)
    if tab.count() == 0:
        summary = page.locator("[data-testid='stExpander'] summary", has_text="Export:")
        summary.scroll_into_view_if_needed()
        summary.click()
        tab.first.wait_for(state="visible")
    tabs = page.locator("[data-testid='stTabs']", has=tab)
    assert tabs.count() == 1, f"{tabs.count()} tab groups with a {label!r} tab"
    tab.scroll_into_view_if_needed()
    tab.click()
    page.wait_for_function("el => el.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())
    panel = tabs.get_by_role("tabpanel").locator("visible=true")
    panel.wait_for(state="visible")
    return panel
