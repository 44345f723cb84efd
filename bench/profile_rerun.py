"""Server CPU per input, and where one Playground rerun spends its time.

    python bench/profile_rerun.py [--sizes 1000,1000000] [--reruns 20] [--batches 5] [--runs 3] [--no-parts]
                                  [--against REF [--rounds 8]]

1. **Server CPU per input** (the targets: Playground ≤ 20 ms, Compare with 5 curves ≤ 40 ms, median).
   A real ``streamlit run app.py`` (bench/load.py's server: the repo's config, loopback, a free port)
   and one protocol-level tab (bench/load_client.py, no browser). Playground: open
   ``/?scheduler=CosineAnnealingLR&steps=N`` and type T_max − 1 per input. Compare: open
   ``/compare?steps=N``, click Add (5 curves; the new one, CosineAnnealingLR, is edited) and type its
   T_max − 1 per input. Each input waits for ``script_finished``; the server is otherwise idle, so the
   server process's CPU time (user + system, all threads: script thread, event loop, websocket) over a
   batch of ``--reruns`` inputs, divided by their number, is the CPU one input costs. Printed: the
   median and the max over ``--batches`` batches (the kernel counts CPU in 10 ms ticks: a batch of 20
   inputs resolves 0.5 ms), and the median round-trip latency.
   With ``--against REF``, the same inputs (1,000 steps) also go to a server of the commit REF (a
   temporary git worktree) running at the same time, batch by batch in turn: the ratio of the two, per
   round, is robust to this shared machine's swings, which move a lone median by ±30 %.
2. **Where a Playground rerun goes** (``--no-parts`` skips it): app.py in Streamlit's AppTest (the same
   script runner, no websocket), T_max − 1 per run, cProfile in the script thread; cumulative time of
   the parts of the page (median over ``--runs``; cProfile inflates Python-heavy parts, and AppTest
   recompiles the page's script on every run where the server caches its bytecode).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import time
import warnings

import _common as C  # puts the repo root on sys.path: import it before lrlab
import psutil
from load import libraries_loaded, server
from load_client import Session
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner

APP = str(C.ROOT / "app.py")
KEY = "pg.CosineAnnealingLR.T_max"
#: Server CPU per input: the issue's targets (ms, median).
TARGETS_MS = {"Playground": 20.0, "Compare, 5 curves": 40.0}
#: ... at this many steps (other sizes are reported without a target).
TARGET_STEPS = 1000


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


async def _open(url: str, page: str, steps: int) -> tuple[Session, str]:
    """A tab on `page` over `steps` steps, ready to edit a CosineAnnealingLR's T_max: (session, key)."""
    if page == "Playground":
        s = Session(url, "", timeout=120)
        s.query = f"scheduler=CosineAnnealingLR&steps={steps}"
    else:
        s = Session(url, "compare", timeout=120)
        s.query = f"steps={steps}"
    await s.connect()
    r = await s.run()
    assert not r.failed, (r.status, r.error, r.exceptions)
    if page != "Playground":
        s.set("cmp.add", True)
        r = await s.run()
        assert not r.failed and len(r.charts[0].traces) == 5, (r.status, r.exceptions, r.charts)
    key = [k for k in s.widgets if k.endswith(".CosineAnnealingLR.T_max") and s.widgets[k].kind == "number_input"][-1]
    return s, key


async def _inputs(url: str, pid: int, page: str, steps: int, reruns: int, batches: int) -> dict[str, float]:
    proc = psutil.Process(pid)
    s, key = await _open(url, page, steps)
    value = int(s.current(key))
    per_batch, latencies = [], []
    for b in range(batches + 1):  # batch 0 warms the page's caches and code paths
        c0 = _cpu(proc)
        for _ in range(reruns):
            value -= 1
            s.set(key, value)
            r = await s.run()
            assert not r.failed and r.charts, (r.status, r.error, r.exceptions)
            latencies.append(r.latency)
        if b:
            per_batch.append((_cpu(proc) - c0) / reruns)
    await s.close()
    return {"median": C.median(per_batch), "max": max(per_batch), "latency": C.median(latencies[reruns:])}


async def _first_page(url: str, log) -> None:
    """The server's first page run, then its background warm-up of timm, Keras, optax and fastai
    (app.py), as a server is by the time visitors use it: none of it is counted."""
    s = Session(url, "", timeout=120)
    await s.connect()
    await s.run()
    await s.close()
    await libraries_loaded([log])


def server_cpu(sizes: list[int], reruns: int, batches: int) -> None:
    rows = []
    with server() as (url, pid, log):
        asyncio.run(_first_page(url, log))
        for page in TARGETS_MS:
            for n in sizes:
                m = asyncio.run(_inputs(url, pid, page, n, reruns, batches))
                target = TARGETS_MS[page] if n == TARGET_STEPS else None  # the targets are set at 1,000 steps
                rows.append([
                    page, f"{n:,}", C.fmt_ms(m["median"]), C.fmt_ms(m["max"]),
                    "—" if target is None else f"≤ {target:.0f} ms",
                    "—" if target is None else "met" if m["median"] * 1000 <= target else "NOT met",
                    C.fmt_ms(m["latency"]),
                ])  # fmt: skip
    print("## Server CPU per input (T_max − 1, typed)\n")
    print(
        C.table(["page", "steps", "CPU / input (median)", "max batch", "target", "verdict", "latency (median)"], rows)
    )
    print(
        f"\n_{batches} batches of {reruns} inputs after one warm-up batch; CPU of the server process (all threads) "
        f"per input. {C.machine_note()}._\n"
    )


async def _alternated(servers: dict[str, tuple[str, int]], page: str, steps: int, reruns: int, rounds: int):
    """Batches of ``reruns`` inputs on each server in turn (the order swapped every round), so that both
    see the same moments of this shared machine; CPU per input of each batch, by server."""
    tabs = {}
    for side, (url, pid) in servers.items():
        s, key = await _open(url, page, steps)
        tabs[side] = [s, key, psutil.Process(pid), int(s.current(key))]
    cpu: dict[str, list[float]] = {side: [] for side in servers}
    for r in range(rounds + 1):  # round 0 warms both
        for side in list(servers)[:: -1 if r % 2 else 1]:
            s, key, proc, value = tabs[side]
            c0 = _cpu(proc)
            for _ in range(reruns):
                value -= 1
                s.set(key, value)
                result = await s.run()
                assert not result.failed and result.charts, (side, result.status, result.error, result.exceptions)
            tabs[side][3] = value
            if r:
                cpu[side].append((_cpu(proc) - c0) / reruns)
    for s, *_ in tabs.values():
        await s.close()
    return cpu


def against(ref: str, reruns: int, rounds: int) -> None:
    """Server CPU per input, this tree against the commit ``ref`` (a temporary git worktree), both
    servers up at once and their batches alternated: the ratio is what to read on a noisy machine."""
    rows = []
    with C.worktree(ref) as base, server() as (url, pid, log), server(root=base) as (ref_url, ref_pid, ref_log):
        asyncio.run(_first_page(url, log))
        asyncio.run(_first_page(ref_url, ref_log))
        servers = {"this tree": (url, pid), ref: (ref_url, ref_pid)}
        for page in TARGETS_MS:
            cpu = asyncio.run(_alternated(servers, page, TARGET_STEPS, reruns, rounds))
            now, then = C.median(cpu["this tree"]), C.median(cpu[ref])
            ratios = [a / b for a, b in zip(cpu["this tree"], cpu[ref], strict=True)]
            rows.append([page, C.fmt_ms(now), C.fmt_ms(then), f"{C.median(ratios):.2f}",
                         f"{min(ratios):.2f}–{max(ratios):.2f}"])  # fmt: skip
    print(f"## Server CPU per input, this tree against {ref} ({TARGET_STEPS:,} steps, batches alternated)\n")
    print(C.table(["page", "this tree (median)", f"{ref} (median)", "ratio (median of rounds)", "ratio range"], rows))
    print(f"\n_{rounds} rounds of {reruns} inputs on each server after a warm-up round. {C.machine_note()}._\n")


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
    ap.add_argument("--sizes", default="1000,1000000")
    ap.add_argument("--reruns", type=int, default=20, help="inputs per batch (server CPU)")
    ap.add_argument("--batches", type=int, default=5, help="batches after a warm-up batch (server CPU)")
    ap.add_argument("--runs", type=int, default=3, help="profiled reruns (parts)")
    ap.add_argument("--no-parts", action="store_true", help="only the server CPU table")
    ap.add_argument("--against", metavar="REF", help="also: server CPU against this git commit, batches alternated")
    ap.add_argument("--rounds", type=int, default=8, help="alternated rounds for --against")
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    warnings.simplefilter("ignore")
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "missing ScriptRunContext" from AppTest's main thread
    print(f"# profile_rerun — {C.machine_note()}; {C.versions('streamlit', 'pandas', 'plotly')}\n")
    server_cpu(sizes, args.reruns, args.batches)
    if args.against:
        against(args.against, args.reruns, args.rounds)
    if args.no_parts:
        return 0
    print("## Where a Playground rerun goes (AppTest, cProfile)\n")

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
                at.number_input(key=KEY).set_value(value)
                t0 = time.perf_counter()
                at.run()
                walls[n].append(time.perf_counter() - t0)
                assert not at.exception, at.exception
            cols[n] = {label: [] for label, *_ in PARTS}
            for _ in range(args.runs):
                value -= 1
                at.number_input(key=KEY).set_value(value)
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
