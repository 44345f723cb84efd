"""Input → updated chart in headless Chromium: median and p95 over repeated changes.

    python bench/bench_browser.py [--changes 20] [--sizes 10000,1000000] [--rapid 10] [--gl 10]

A real `streamlit run app.py` (tests/e2e/harness.py: free port, Debian Chromium, same flags as the
browser tests; ``LRLAB_WARM_LIBRARIES=0`` unless set: only torch's schedules are measured, and the
background imports of the other libraries would overlap the first changes), one fresh browser context
per scenario, one warm-up change before measuring:

* Playground, 1 curve: open ``/?scheduler=CosineAnnealingLR&steps=N``, focus the T_max slider and
  press ArrowLeft (T_max − 1) once per change.
* Compare, 5 curves: open ``/compare?steps=N`` (the run length), click "Add" (a 5th curve,
  CosineAnnealingLR, becomes the one being edited), then ArrowLeft on its T_max slider.
* Isolated changes: before each, the script run has finished and the app idled 150 ms.
  Back-to-back (``--rapid``, Playground): the next key press as soon as the chart has changed, while
  the rest of the script may still run — as when a user keeps tapping the key.
* WebGL (``--gl``, Playground at the smallest N): a second server runs with bench/_scattergl on PYTHONPATH,
  which turns lrlab.plots' go.Scatter into go.Scattergl in that process only.

Measured inside the page with performance.now(): t0 = the keydown event (capturing listener); a
MutationObserver plus a requestAnimationFrame loop note when
  run       — the app's script state turns "running" (the new widget value reached the server),
  data      — the first non-stale Plotly chart holds different data in some trace (gd.data): the
              headline "input → new chart data in DOM",
  afterplot — Plotly's plotly_afterplot event with the new data (drawing done),
  done      — the script state is "notRunning" again (the whole page rerun is over);
and a wrapped WebSocket notes when each message arrives (the chart's delta = the largest message
before the data changed), which splits server time from browser time.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import _common as C  # puts the repo root and tests/ on sys.path: import it before e2e and lrlab
from e2e.harness import SCRIPT_DONE, launch_args, streamlit_server, wait_for_chart, wait_until

GL_PATH = str(Path(__file__).resolve().parent / "_scattergl")
TIMEOUT_MS = 60_000
IDLE_MS = 150  # pause after a script run before the next isolated change
FRESH = ":not([data-stale='true'] *)"

# Installed before any page script: notes the arrival time and size of every websocket message.
WS_LOG_JS = """
(() => {
  const Orig = window.WebSocket;
  window.__wsLog = [];
  class Logged extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', e => {
        const d = e.data;
        window.__wsLog.push([performance.now(), d.byteLength ?? d.size ?? d.length ?? 0]);
        if (window.__wsLog.length > 5000) window.__wsLog.splice(0, 2500);
      });
    }
  }
  window.WebSocket = Logged;
})();
"""

ARM_JS = """
(needDone) => {
  const plot = () => [...document.querySelectorAll('.js-plotly-plot')]
      .filter(el => !el.closest('[data-stale="true"]'))[0] || null;
  const ys = () => { const p = plot(); return p && Array.isArray(p.data) ? p.data.map(t => t.y) : null; };
  const key = v => (v && typeof v === 'object' && typeof v.bdata === 'string') ? v.bdata : v;
  const same = (a, b) => {
    a = key(a); b = key(b);
    if (a === b) return true;
    if (a === null || b === null || typeof a === 'string' || typeof b === 'string') return false;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const changed = () => { const v = ys(); return v !== null && (r.y0 === null || v.length !== r.y0.length
                                                 || !v.every((y, i) => same(y, r.y0[i]))); };
  const app = document.querySelector("[data-testid='stApp']");
  const r = {t0: null, run: null, data: null, paint: null, done: null, complete: false, y0: null};
  r.y0 = ys();
  window.__bench = r;
  window.__wsLog.length = 0;
  window.addEventListener('keydown', () => { if (r.t0 === null) r.t0 = performance.now(); },
                          {capture: true, once: true});
  // Plotly's own "drawing finished" event, on whichever chart element is current
  const hooked = new WeakSet();
  const hook = () => {
    const gd = plot();
    if (!gd || hooked.has(gd) || typeof gd.on !== 'function') return;
    hooked.add(gd);
    gd.on('plotly_afterplot', () => {
      if (r.t0 === null || r.paint !== null || !changed()) return;
      r.paint = performance.now();
      if (r.data === null) r.data = r.paint;
    });
  };
  hook();
  const finish = () => { if (r.data !== null && (!needDone || r.done !== null)) { r.complete = true; obs.disconnect(); } };
  const check = (records) => {
    if (r.t0 === null || r.complete) return;
    const now = performance.now();
    const state = app.getAttribute('data-test-script-state');
    for (const m of records || []) {  // transitions, even if running → notRunning came in one batch
      if (m.target === app && m.attributeName === 'data-test-script-state' && m.oldValue === 'running') {
        if (r.run === null) r.run = now;
        if (r.done === null && state === 'notRunning') r.done = now;
      }
    }
    if (r.run === null && state === 'running') r.run = now;
    if (r.data === null && changed()) r.data = now;
    if (r.run !== null && r.done === null && state === 'notRunning') r.done = now;
    hook();
    finish();
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true,
                              attributeOldValue: true});
  const loop = () => { check(null); if (!r.complete) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
}
"""


def t_max_slider(page):
    return page.locator(f"input[type='range'][aria-label='T_max']{FRESH}").last


def idle(page) -> None:
    page.locator(SCRIPT_DONE).wait_for(state="attached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(IDLE_MS)


def sample(page, *, rapid: bool = False) -> dict:
    """One ArrowLeft on the T_max slider; the page's timings of what followed (ms after keydown).

    Normally the app is idle first (script done + 300 ms). ``rapid``: press as soon as the previous
    change's chart is in (the script may still be running, as when a user keeps tapping the key)."""
    if not rapid:
        idle(page)
    t_max_slider(page).focus()
    page.evaluate(ARM_JS, not rapid)
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.__bench && window.__bench.complete", timeout=TIMEOUT_MS, polling=20)
    r = page.evaluate("() => Object.assign({}, window.__bench, {y0: null, ws: window.__wsLog.slice()})")
    t0 = r["t0"]
    out = {k: (r[k] - t0 if r[k] is not None else None) for k in ("run", "data", "paint", "done")}
    # the chart's delta: the largest websocket message that arrived before the new data was in the DOM
    before = [(t, size) for t, size in r["ws"] if t0 <= t <= r["data"]]
    out["msg"] = max(before, key=lambda m: m[1])[0] - t0 if before else None
    out["msg_bytes"] = max(before, key=lambda m: m[1])[1] if before else None
    return out


def playground(page, url: str, n: int) -> None:
    page.goto(f"{url}/?scheduler=CosineAnnealingLR&steps={n}")
    wait_for_chart(page, TIMEOUT_MS)
    shows_steps(page, n)


def shows_steps(page, n: int) -> None:
    """Wait until the Steps box shows ``n``: Streamlit's number input first shows 1 for ~40 ms (seen at
    1M steps, before and after ede2b19), which a read right after the first chart may catch."""
    box = page.get_by_role("spinbutton", name="Steps", exact=True)
    wait_until(page, lambda: box.input_value() == str(n), f"Steps to show {n}", timeout_ms=TIMEOUT_MS)


def compare(page, url: str, n: int) -> None:
    page.goto(f"{url}/compare?steps={n}")
    wait_for_chart(page, TIMEOUT_MS)
    page.locator(f".st-key-cmp-add button{FRESH}:visible").click()

    def five() -> bool:
        if page.locator(SCRIPT_DONE).count() == 0:
            return False
        n_traces = page.evaluate(
            "() => { const p = [...document.querySelectorAll('.js-plotly-plot')]"
            ".filter(el => !el.closest('[data-stale=\"true\"]'))[0]; return p && p.data ? p.data.length : 0; }"
        )
        return n_traces == 5 and t_max_slider(page).count() > 0

    wait_until(page, five, "5 curves and the new curve's T_max slider", timeout_ms=TIMEOUT_MS)
    shows_steps(page, n)


def run_scenario(browser, url: str, kind: str, n: int, changes: int, rapid: int) -> dict[str, list[dict]]:
    """`changes` isolated changes, then `rapid` back-to-back ones, in one fresh browser context."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(WS_LOG_JS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        (playground if kind == "Playground" else compare)(page, url, n)
        sample(page)  # warm-up: first rerun after load
        out = {"idle": [sample(page) for _ in range(changes)]}
        if rapid:
            out["rapid"] = [sample(page, rapid=True) for _ in range(rapid)]
    finally:
        context.close()
    return out


def stats(samples: list[dict], key: str) -> tuple[str, str]:
    xs = [s[key] for s in samples if s[key] is not None]
    if not xs:
        return "–", "–"
    return f"{C.median(xs):.0f} ms", f"{C.p95(xs):.0f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument(
        "--rapid", type=int, default=10, help="back-to-back changes on the Playground after the isolated ones (0: none)"
    )
    ap.add_argument(
        "--gl",
        type=int,
        default=10,
        help="changes on the Playground with WebGL Scattergl at the smallest size (0: skip)",
    )
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    # The server would load timm, Keras, optax and fastai in the background after its first page (app.py),
    # ~10 s of imports that slowed whichever changes they overlapped; only torch's schedules are measured.
    os.environ.setdefault("LRLAB_WARM_LIBRARIES", "0")

    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    print(
        f"# bench_browser — {C.machine_note()}; {C.versions('streamlit', 'plotly', 'playwright')}, Chromium (Debian)\n"
    )
    results: list[tuple[str, str, int, str, list[dict]]] = []
    big, small = max(sizes), min(sizes)
    svg = [
        (k, n, args.changes, args.rapid if k == "Playground" else 0) for n in sizes for k in ("Playground", "Compare")
    ]
    plans = [("SVG Scatter", False, svg)]
    if args.gl:
        plans.append(("WebGL Scattergl", True, [("Playground", small, args.gl, 0)]))
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        try:
            for trace_type, gl, scenarios in plans:
                saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "LRLAB_BENCH_SCATTERGL")}
                if gl:
                    os.environ["PYTHONPATH"] = GL_PATH + os.pathsep + (saved["PYTHONPATH"] or "")
                    os.environ["LRLAB_BENCH_SCATTERGL"] = "1"
                try:
                    with streamlit_server() as url:
                        for kind, n, changes, rapid in scenarios:
                            got = run_scenario(browser, url, kind, n, changes, rapid)
                            for mode, samples in got.items():
                                results.append((trace_type, kind, n, mode, samples))
                                m = C.median([x["data"] for x in samples])
                                print(f"  … {trace_type}, {kind}, N={n:,}, {mode}: input → chart median {m:.0f} ms",
                                      flush=True)  # fmt: skip
                finally:
                    for k, v in saved.items():
                        if v is None:
                            os.environ.pop(k, None)
                        else:
                            os.environ[k] = v
        finally:
            browser.close()
    del big

    def med(xs: list) -> str:
        xs = [x for x in xs if x is not None]
        return f"{C.median(xs):.0f} ms" if xs else "–"

    rows, brows = [], []
    for trace_type, kind, n, mode, s in results:
        page_name = f"{kind} ({'1 curve' if kind == 'Playground' else '5 curves'})"
        if mode == "rapid":
            page_name += ", back-to-back"
        d_med, d_p95 = stats(s, "data")
        p_med, p_p95 = stats(s, "paint")
        rows.append([page_name, f"{n:,}", trace_type, len(s), f"**{d_med}**", d_p95, p_med, p_p95])
        sizes_ = [x["msg_bytes"] for x in s if x["msg_bytes"] is not None]
        rapid = mode == "rapid"  # the previous run may still be going: its run/done markers mean nothing here
        brows.append(
            [
                page_name,
                f"{n:,}",
                trace_type,
                "–" if rapid else med([x["run"] for x in s]),
                med([x["msg"] for x in s]),
                C.fmt_bytes(C.median(sizes_)) if sizes_ else "–",
                med([x["data"] - x["msg"] for x in s if x["msg"] is not None]),
                "–"
                if rapid
                else med([x["done"] - x["run"] for x in s if x["done"] is not None and x["run"] is not None]),
                "–" if rapid else med([x["done"] for x in s]),
            ]
        )
    print()
    print(
        C.table(
            ["page", "N", "trace", "changes", "input → new chart data in DOM (median)", "p95",
             "input → Plotly afterplot (median)", "p95"],
            rows,
            align=["l", "r", "l", "r", "r", "r", "r", "r"],
        )
    )  # fmt: skip
    print("\nWhere the time goes (medians, ms after keydown unless a span is named):\n")
    print(
        C.table(
            ["page", "N", "trace", "keydown → script running", "keydown → chart message in",
             "chart message", "message → data in DOM (browser)", "script run (running → done)", "keydown → script done"],
            brows,
            align=["l", "r", "l"] + ["r"] * 6,
        )
    )  # fmt: skip
    print(
        "\n_Each change: T_max − 1 by ArrowLeft on its slider, after one warm-up change; "
        f"times in ms after the keydown event, measured in the page. {C.machine_note()}; "
        f"total {time.monotonic() - started:.0f} s._"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
