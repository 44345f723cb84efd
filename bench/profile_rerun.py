"""Where one Playground rerun spends its time on the server (cProfile of the script thread).

    python bench/profile_rerun.py [--sizes 10000,1000000] [--runs 3]

Runs app.py in Streamlit's AppTest (the same script runner as the server, no browser, no websocket),
opens the Playground on CosineAnnealingLR over N steps, then changes T_max by −1 per run, as
bench_browser.py does, with cProfile enabled in the script thread. Prints, per N, the cumulative time of
the parts of the page (median over the runs; cProfile adds some overhead to Python-heavy parts)
and the run's wall time without the profiler.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import time
import warnings

import _common as C  # puts the repo root on sys.path: import it before lrlab
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

APP = str(C.ROOT / "app.py")
KEY = "pg.CosineAnnealingLR.T_max"

#: (label, file suffix, function name) — what a rerun does, in page order; cumulative times overlap
#: only where one row calls another (indented labels).
PARTS = [
    ("page script, whole run", "pages/playground.py", "<module>"),
    ("cached_curve (st.cache_data + lrlab)", "lrlab/ui/cache.py", "cached_curve"),
    ("  lrlab.simulate.simulate (≤ 20,000 steps)", "lrlab/simulate.py", "simulate"),
    ("  lrlab.simulate.fast (> 20,000 steps)", "lrlab/simulate.py", "fast"),
    ("lrlab.plots.lr_figure (incl. decimation)", "lrlab/plots.py", "lr_figure"),
    ("  decimate (tsdownsample MinMax)", "lrlab/plots.py", "decimate"),
    ("st.plotly_chart (to_json, element id, enqueue)", "streamlit/elements/plotly_chart.py", "plotly_chart"),
    ("  plotly.io.to_json", "plotly/io/_json.py", "to_json"),
    ("lrlab.summary (key figures)", "lrlab/simulate.py", "summary"),
    ("export_panel", "lrlab/ui/export_panel.py", "export_panel"),
    ("  code for 5 targets (lrlab.export.render)", "lrlab/export.py", "render"),
    ("  DataFrame.to_csv during the rerun (Curve as CSV)", "pandas/core/generic.py", "to_csv"),
    ("  DataFrame.to_json during the rerun (Curve as JSON)", "pandas/core/generic.py", "to_json"),
    ("  st.download_button (stores the bytes)", "streamlit/elements/widgets/button.py", "download_button"),
]


class Profiled:
    """cProfile in AppTest's script thread (a profiler only sees the thread that enabled it)."""

    def __init__(self) -> None:
        self.profile: cProfile.Profile | None = None
        self.original = LocalScriptRunner._run_script_thread
        me = self

        def wrapped(runner):
            if me.profile is None:
                return me.original(runner)
            me.profile.enable()
            try:
                return me.original(runner)
            finally:
                me.profile.disable()

        LocalScriptRunner._run_script_thread = wrapped

    def restore(self) -> None:
        LocalScriptRunner._run_script_thread = self.original


def cumulative(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    out: dict[str, float] = {}
    for label, suffix, func in PARTS:
        total = 0.0
        for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items():
            if name == func and file.replace("\\", "/").endswith(suffix):
                # count only calls from outside this function (recursion would double-count)
                total += ct
        out[label] = total
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    warnings.simplefilter("ignore")
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "missing ScriptRunContext" from AppTest's main thread
    print(f"# profile_rerun — {C.machine_note()}; {C.versions('streamlit', 'pandas', 'plotly')}\n")

    prof = Profiled()
    cols: dict[int, dict[str, list[float]]] = {}
    walls: dict[int, list[float]] = {}
    try:
        for n in sizes:
            at = AppTest.from_file(APP, default_timeout=120)
            at.session_state["pg.steps"] = n
            at.run()
            assert not at.exception, at.exception
            value = at.session_state[KEY]
            # unprofiled wall time of a rerun, then profiled ones
            walls[n] = []
            for _ in range(args.runs):
                value -= 1
                at.slider(key=KEY).set_value(value)
                t0 = time.perf_counter()
                at.run()
                walls[n].append(time.perf_counter() - t0)
                assert not at.exception, at.exception
            cols[n] = {label: [] for label, *_ in PARTS}
            for _ in range(args.runs):
                value -= 1
                at.slider(key=KEY).set_value(value)
                prof.profile = cProfile.Profile()
                at.run()
                for label, t in cumulative(prof.profile).items():
                    cols[n][label].append(t)
                prof.profile = None
    finally:
        prof.restore()

    header = ["part of the rerun"] + [f"N = {n:,}" for n in sizes]
    rows = [["AppTest rerun, wall (no profiler)"] + [C.fmt_ms(C.median(walls[n])) for n in sizes]]
    for label, *_ in PARTS:
        rows.append([label.replace("  ", "↳ ", 1) if label.startswith("  ") else label]
                    + [C.fmt_ms(C.median(cols[n][label])) for n in sizes])  # fmt: skip
    print(C.table(header, rows))
    print(
        f"\n_Median of {args.runs} profiled reruns (T_max − 1 each); cumulative times under cProfile, "
        f"rows marked ↳ are inside the row above. {C.machine_note()}._"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
