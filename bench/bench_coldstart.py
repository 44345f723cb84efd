"""Cold start: from `streamlit run app.py` (a fresh process) to the first chart visible in Chromium.

    python bench/bench_coldstart.py [--runs 5]

Each run starts a new server process (tests/e2e/harness.py: free port, health polled every 0.2 s)
and opens `/` (the Playground, CosineAnnealingLR over 1,000 steps) in a new browser context (empty
cache: the ~10 MB of Streamlit and Plotly JS are fetched, as by a first visitor). Chromium itself is
launched once, before the first run, and not counted. "Chart visible" = the first non-stale Plotly
chart holds data and its SVG line is drawn and visible. Then a second visit (another new context,
same server) shows what is left once the server process is warm (imports done, caches filled).
The floor of that second visit is the stack's own: the same visit to a one-chart Streamlit app
(:data:`FLOOR_APP`: a title and ``st.plotly_chart`` of 1,000 points, nothing of lrlab) on its own
server, in the same browser, measured in the same runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # puts the repo root and tests/ on sys.path: import it before e2e and lrlab
from e2e.harness import CONNECTED, SCRIPT_DONE, launch_args, streamlit_server, wait_for_chart

TIMEOUT_MS = 120_000
LINE = ".js-plotly-plot:not([data-stale='true'] *) .scatterlayer .trace path.js-line"


IMPORT_PROBE = """
import time
t0 = time.perf_counter()
import streamlit
t1 = time.perf_counter()
import lrlab, lrlab.plots, lrlab.ui.cache, lrlab.ui.export_panel, lrlab.ui.widgets, lrlab.ui.verify
t2 = time.perf_counter()
lrlab.curve("CosineAnnealingLR", steps=1000)  # the Playground's first curve
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


FLOOR_APP = """
import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
x = np.arange(1000)
st.plotly_chart(go.Figure(go.Scatter(x=x, y=0.05 * (1 + np.cos(np.pi * x / 1000)))))
"""


def import_times() -> tuple[float, float, float]:
    """Seconds a fresh Python spends importing streamlit, then what the pages import (lrlab: torch,
    transformers…), then its first curve (the Playground's default)."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], cwd=C.ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def visit(browser, url: str) -> dict[str, float]:
    """Open the app in a new context; seconds from goto to: connected, chart visible, script done."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        t0 = time.monotonic()
        page.goto(url + "/", wait_until="commit", timeout=TIMEOUT_MS)
        page.wait_for_selector(CONNECTED, state="attached", timeout=TIMEOUT_MS)
        t_conn = time.monotonic()
        page.locator(LINE).first.wait_for(state="visible", timeout=TIMEOUT_MS)
        t_chart = time.monotonic()
        wait_for_chart(page, TIMEOUT_MS)  # data present, script finished
        page.wait_for_selector(SCRIPT_DONE, state="attached", timeout=TIMEOUT_MS)
        t_done = time.monotonic()
        return {"connected": t_conn - t0, "chart": t_chart - t0, "done": t_done - t0}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    print(f"# bench_coldstart — {C.machine_note()}; {C.versions('streamlit', 'torch', 'transformers')}\n")
    rows: list[dict[str, float]] = []
    floor_dir = Path(tempfile.mkdtemp(prefix="lrlab-floor-"))
    (floor_dir / "floor_app.py").write_text(FLOOR_APP)
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        try:
            for i in range(args.runs):
                imp_st, imp_lrlab, first_opt = import_times()
                t0 = time.monotonic()
                with streamlit_server() as url:
                    t_health = time.monotonic() - t0
                    first = visit(browser, url)
                    second = visit(browser, url)
                with streamlit_server("floor_app.py", root=floor_dir) as floor_url:
                    visit(browser, floor_url)
                    floor = visit(browser, floor_url)
                row = {
                    "health": t_health,
                    "first_chart": t_health + first["chart"],
                    "first_connected": first["connected"],
                    "first_conn_chart": first["chart"] - first["connected"],
                    "first_done": t_health + first["done"],
                    "second_connected": second["connected"],
                    "second_conn_chart": second["chart"] - second["connected"],
                    "second_chart": second["chart"],
                    "floor_chart": floor["chart"],
                    "import_streamlit": imp_st,
                    "import_lrlab": imp_lrlab,
                    "first_optimizer": first_opt,
                }
                rows.append(row)
                print(f"  … run {i + 1}: first chart {row['first_chart']:.2f} s after spawn "
                      f"(server ok at {t_health:.2f} s); second visit {second['chart']:.2f} s "
                      f"(one-chart app {floor['chart']:.2f} s)", flush=True)  # fmt: skip
        finally:
            browser.close()

    def col(key: str) -> list[str]:
        xs = [r[key] for r in rows]
        return [f"{C.median(xs):.2f} s", f"{min(xs):.2f} s", f"{max(xs):.2f} s"]

    out = [
        ["spawn → /_stcore/health answers ok", *col("health")],
        ["first visit: goto → websocket connected (HTML + JS, empty cache)", *col("first_connected")],
        ["first visit: connected → chart visible (first script run, with imports)", *col("first_conn_chart")],
        ["**spawn → first chart visible**", *col("first_chart")],
        ["spawn → first script run done", *col("first_done")],
        ["second visit (warm server, empty cache): goto → connected", *col("second_connected")],
        ["second visit: connected → chart visible", *col("second_conn_chart")],
        ["second visit: goto → chart visible", *col("second_chart")],
        ["the floor: a one-chart Streamlit app, second visit, goto → chart visible", *col("floor_chart")],
        ["for reference, a fresh Python: import streamlit", *col("import_streamlit")],
        ["for reference, a fresh Python: import lrlab + UI modules (torch, pandas, plotly)", *col("import_lrlab")],
        [
            "for reference, a fresh Python: then the first curve (CosineAnnealingLR, 1,000 steps)",
            *col("first_optimizer"),
        ],
    ]
    print()
    print(C.table(["phase", f"median of {args.runs}", "min", "max"], out))
    first, second, floor = (C.median([r[k] for r in rows]) for k in ("first_chart", "second_chart", "floor_chart"))
    print()
    print(
        C.table(
            ["target (issue 17)", "median", "target", "verdict"],
            [
                ["spawn → first chart visible", f"{first:.2f} s", "≤ 5 s", "met" if first <= 5 else "not met"],
                [
                    "a second visitor's first chart",
                    f"{second:.2f} s",
                    "≤ 2 s",
                    ("met" if second <= 2 else "not met")
                    + f" (a one-chart Streamlit app: {floor:.2f} s, ratio {second / floor:.2f})",
                ],
            ],
        )
    )
    print(f"\n_Fresh server process and fresh browser context (empty cache) per run; Chromium launched once. "
          f"{C.machine_note()}; total {time.monotonic() - started:.0f} s._")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
