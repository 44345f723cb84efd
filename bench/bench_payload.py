"""Chart data sent to the browser per trace, before and after decimation, and what decimation costs.

    python bench/bench_payload.py [--sizes 1000,10000,100000,1000000]

Bytes are those of the Plotly spec Streamlit puts on the wire: st.plotly_chart sets
``PlotlyChartProto.spec = plotly.io.to_json(figure, validate=False)``; here the same JSON is built
from lrlab.plots.lr_figure / compare_figure of the curves the pages draw, and each entry of its ``data`` is
measured alone (compact JSON: x int32, y float64, customdata float32 as base64 ``bdata``, plus the
trace's style and hover template). "Before" is the same figure with lrlab.plots.decimate replaced
by "keep every finite point" (patched in this process only). Times are medians.
"""

from __future__ import annotations

import argparse
import json
import time

import _common as C  # puts the repo root on sys.path: import it before lrlab
import numpy as np
import plotly.io as pio

import lrlab.plots as plots
from lrlab.simulate import fast, simulate
from lrlab.specs import ScheduleConfig

TARGET_BYTES = 50_000
FAST_THRESHOLD = 20_000  # as lrlab/ui/cache.py: pages step the library up to here, use the fast path above
SCHEDULERS = ["CosineAnnealingLR", "CyclicLR"]  # smooth, and fast-oscillating (period N/4)
#: the Compare page's 4 default curves plus the one its "Add" button appends (lrlab/ui/entries.py)
COMPARE = [
    ("get_linear_schedule_with_warmup", {}),
    ("OneCycleLR", {}),
    ("get_wsd_schedule", {}),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", {"num_cycles": 3}),
    ("CosineAnnealingLR", {}),
]


def spec_json(fig) -> str:
    return pio.to_json(fig, validate=False)  # exactly what st.plotly_chart sends


def trace_sizes(spec: str) -> list[tuple[str, int]]:
    data = json.loads(spec)["data"]
    return [(t.get("name"), len(json.dumps(t, separators=(",", ":")))) for t in data]


def points(spec: str) -> int:
    t = json.loads(spec)["data"][0]
    x = t["x"]
    if isinstance(x, dict):
        return len(__import__("base64").b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize
    return len(x)


class undecimated:
    """Context: lrlab.plots draws every finite point (what the chart would carry without decimation)."""

    def __enter__(self):
        self.saved = plots.decimate
        plots.decimate = lambda x, y, n_out=plots.MAX_POINTS: np.flatnonzero(np.isfinite(y))

    def __exit__(self, *exc):
        plots.decimate = self.saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    started = time.monotonic()
    print(f"# bench_payload — {C.machine_note()}; {C.versions('plotly', 'tsdownsample', 'streamlit')}\n")
    print(f"MAX_POINTS = {plots.MAX_POINTS} per trace (MinMax: min and max of {plots.MAX_POINTS // 2} x buckets)\n")

    rows, trows = [], []
    worst_after = 0
    for name in SCHEDULERS:
        for n in sizes:
            cfg = ScheduleConfig.make(name, {}, steps=n)
            curve = fast(cfg) if n > FAST_THRESHOLD else simulate(cfg)
            x = curve.frame["step"].to_numpy()
            y = curve.frame["lr"].to_numpy()
            runs = 5 if n >= 1_000_000 else 15
            t_dec = C.median(C.timed(lambda x=x, y=y: plots.decimate(x, y), runs))
            t_fig = C.median(C.timed(lambda c=curve: plots.lr_figure(c), runs))
            fig = plots.lr_figure(curve)
            t_json = C.median(C.timed(lambda f=fig: spec_json(f), runs))
            after = spec_json(fig)
            with undecimated():
                fig_raw = plots.lr_figure(curve)
            t_json_raw = C.median(C.timed(lambda f=fig_raw: spec_json(f), 1 if n >= 1_000_000 else 3))
            before = spec_json(fig_raw)
            lib_before = dict(trace_sizes(before))["library"]
            lib_after = dict(trace_sizes(after))["library"]
            worst_after = max(worst_after, max(b for _, b in trace_sizes(after)))
            rows.append(
                [
                    name,
                    f"{n:,}",
                    f"{points(before):,}",
                    C.fmt_bytes(lib_before),
                    f"{points(after):,}",
                    C.fmt_bytes(lib_after),
                    C.fmt_ratio(lib_before / lib_after),
                    C.fmt_bytes(len(after)),
                    C.fmt_ms(t_dec),
                    C.fmt_ms(t_fig),
                    C.fmt_ms(t_json),
                    C.fmt_ms(t_json_raw),
                ]
            )
    print(
        "Playground chart, as the page draws it (lr_figure: the stepped library + its closed form up to "
        f"{FAST_THRESHOLD:,} steps, the fast path alone above; CyclicLR adds a momentum trace). "
        "Bytes per trace are those of the 'library' trace; the whole spec includes every trace and the layout:\n"
    )
    print(
        C.table(
            ["scheduler", "N", "points before", "bytes/trace before", "points after", "bytes/trace after",
             "reduction", "whole spec after", "decimate()", "lr_figure()", "to_json after", "to_json before"],
            rows,
            align=["l"] + ["r"] * 11,
        )
    )  # fmt: skip

    crow = []
    for n in sizes:
        curves = [
            (s, c, fast(ScheduleConfig.make(s, p, steps=n)))
            for (s, p), c in zip(COMPARE, plots.LIBRARY_COLORS, strict=False)
        ]
        runs = 5 if n >= 1_000_000 else 15
        t_fig = C.median(C.timed(lambda cs=curves: plots.compare_figure(cs), runs))
        fig = plots.compare_figure(curves)
        after = spec_json(fig)
        with undecimated():
            before = spec_json(plots.compare_figure(curves))
        per = [b for _, b in trace_sizes(after)]
        worst_after = max(worst_after, max(per))
        crow.append(
            [
                f"{n:,}",
                C.fmt_bytes(len(before)),
                C.fmt_bytes(len(after)),
                C.fmt_bytes(max(per)),
                C.fmt_ratio(len(before) / len(after)),
                C.fmt_ms(t_fig),
            ]
        )
    print(f"\nCompare chart with 5 curves ({', '.join(s for s, _ in COMPARE)}):\n")
    print(
        C.table(
            ["N", "spec before", "spec after", "largest trace after", "reduction", "compare_figure()"],
            crow,
        )
    )
    trows.append(
        [
            "≤ 50 KB of chart data per trace at any N",
            f"largest trace after decimation: {C.fmt_bytes(worst_after)}",
            "met" if worst_after <= TARGET_BYTES else f"MISSED by {C.fmt_bytes(worst_after - TARGET_BYTES)}",
        ]
    )
    print("\nTarget:\n")
    print(C.table(["target", "measured", "verdict"], trows, align=["l", "l", "l"]))
    print(f"\n_{C.machine_note()}; total {time.monotonic() - started:.0f} s. KB = 1000 bytes._")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
