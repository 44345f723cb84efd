"""Load test: N simulated students drag sliders on one lrlab server at the same time.

    python bench/load.py --sessions 30 --duration 60 --pages playground,compare [--json out.json]
    python bench/load.py --url http://127.0.0.1:8501 --pid 12345 ...   # an already running server
    python bench/load.py --replicas 2 ...        # two servers behind nginx (bench/load_proxy.py)

Starts ``streamlit run app.py`` (the repo's .streamlit/config.toml, headless, 127.0.0.1, a free
port, LRLAB_DEBUG unset as in production), warms it with one run of each page, then opens N
protocol-level sessions (bench/load_client.py: the websocket protocol of the Streamlit front end,
no browser), spread over the pages given and started over ``--ramp`` seconds. Each session loads
its page, then loops until the time is up: think 0.5–1.5 s (``--think``), change one input as a student would
(nudge a parameter slider or the base-LR slider, type another step count, pick another scheduler,
flip the log axis; on Compare also switch the curve being edited) and wait for the rerun to finish.

Measured: rerun latency (the rerun message sent → ``script_finished`` received), throughput,
errors, and the server process's RSS and CPU every second. An error is any of: an exception
element, app.py's "Something went wrong" safety net, a websocket error or closed connection, a
rerun without ``script_finished`` within ``--timeout``, a run without the page's chart (unless the
page showed an inline input error), or a chart/URL that is not this session's own (its last step
is not the session's step count minus one, or the URL's ``steps`` differs). Inline input errors
(``st.error`` naming a parameter) are counted apart: they are the app working.

Bounded: at most 100 sessions and 600 s; the server only on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import _common as C
import psutil
from load_client import RunResult, Session, Widget

MAX_SESSIONS = 100
MAX_DURATION_S = 600.0
PAGES = {"playground": "", "compare": "compare"}  # name → url path
CHART_KEY = {"playground": "pg.chart", "compare": "cmp.chart"}
STEP_CHOICES = (100, 200, 500, 1000, 2000, 5000, 10_000, 50_000)
DEFAULT_STEPS = 1000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# ---- what a student does ------------------------------------------------------------------------


def nudge_slider(w: Widget, current: Any, rng: random.Random) -> Any:
    """A drag: a select_slider moves 1–6 options; a numeric slider moves up to 15 % of its range."""
    p = w.proto
    if p.options:
        i = list(p.options).index(current) if current in p.options else 0
        j = min(max(i + rng.choice([-6, -4, -3, -2, -1, 1, 2, 3, 4, 6]), 0), len(p.options) - 1)
        if j == i:
            j = i - 1 if i > 0 else i + 1
        return p.options[j]
    lo, hi, step = p.min, p.max, p.step or 1.0
    value = float(current)
    moved = value + rng.uniform(-0.15, 0.15) * (hi - lo)
    moved = lo + round((moved - lo) / step) * step
    moved = min(max(moved, lo), hi)
    if moved == value:
        moved = min(value + step, hi) if value + step <= hi else max(value - step, lo)
    return round(moved) if p.data_type == p.INT else round(moved, 10)


def pick_other(w: Widget, current: Any, rng: random.Random) -> Any:
    options = [o for o in w.proto.options if o != current]
    return rng.choice(options) if options else current


def choose_action(page: str, session: Session, steps: int, rng: random.Random) -> tuple[str, str, Any]:
    """(action kind, widget key, new value) for one student input on `page`."""
    widgets = session.widgets
    prefix = "pg." if page == "playground" else "cmp."
    sliders = [w for k, w in widgets.items() if w.kind == "slider" and k.startswith(prefix) and not w.proto.disabled]
    menu: list[tuple[float, str, str]] = [(5.0, "slider", "")] if sliders else []
    if f"{prefix}steps" in widgets:
        menu.append((1.2, "steps", f"{prefix}steps"))
    schedulers = [k for k in widgets if k.startswith(prefix) and k.endswith(".scheduler")]
    if schedulers:
        menu.append((1.0, "scheduler", schedulers[-1]))
    if f"{prefix}log_y" in widgets:
        menu.append((0.4, "log axis", f"{prefix}log_y"))
    if page == "compare" and "cmp.selected" in widgets:
        menu.append((0.8, "edit another curve", "cmp.selected"))
    kind, key = rng.choices([(k, key) for _, k, key in menu], weights=[m[0] for m in menu])[0]
    if kind == "slider":
        w = rng.choice(sliders)
        return "slider", w.key, nudge_slider(w, session.current(w.key), rng)
    w = widgets[key]
    if kind == "steps":
        return kind, key, rng.choice([s for s in STEP_CHOICES if s != steps])
    if kind == "log axis":
        return kind, key, not bool(session.current(key))
    return kind, key, pick_other(w, session.current(key), rng)


# ---- one student --------------------------------------------------------------------------------


@dataclass
class Record:
    page: str
    action: str
    latency: float
    status: str
    bytes: int
    ref_hits: int
    problems: list[str]
    inline_errors: int
    t: float  # seconds since the start of the measurement
    exec_time: float | None = None  # the script's own run time, with --server-arg=--browser.gatherUsageStats=true


@dataclass
class Shared:
    url: str
    t0: float
    deadline: float
    timeout: float
    think: tuple[float, float] = (0.5, 1.5)
    records: list[Record] = field(default_factory=list)
    reconnects: int = 0
    charts: int = 0


def check(page: str, result: RunResult, steps: int, query: str) -> list[str]:
    """What is wrong with this run as a visitor would see it ([] when nothing)."""
    problems = [f"exception: {e}" for e in result.exceptions]
    if result.safety_net:
        problems.append("the safety net's 'Something went wrong' message")
    if result.status != "ok":
        problems.append(f"{result.status}: {result.error}")
        return problems
    charts = [c for c in result.charts if c.key == CHART_KEY[page]]
    if not charts:
        if not result.inline_errors:
            problems.append("no chart and no input error")
        return problems
    url_steps = parse_qs(query).get("steps")
    if url_steps and url_steps[0] != str(steps):
        problems.append(f"URL has steps={url_steps[0]}, this session set {steps}")
    if not result.inline_errors:
        ends = [x for x in charts[0].last_x if x is not None]
        if ends and max(ends) > steps - 1:
            problems.append(f"chart runs to step {max(ends):.0f}, this session's run has {steps} steps")
        if page == "compare" and ends and steps - 1 not in ends:
            problems.append(f"no curve ends at step {steps - 1}")
    return problems


async def student(n: int, page: str, shared: Shared, seed: int, start_at: float) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    session: Session | None = None
    steps = DEFAULT_STEPS
    action = "open page"
    try:
        while time.monotonic() < shared.deadline:
            if session is None:
                session = Session(shared.url, PAGES[page], timeout=shared.timeout)
                steps, action = DEFAULT_STEPS, "open page"
                try:
                    await session.connect()
                except Exception as exc:  # OSError, TimeoutError, websockets.InvalidStatus, ...
                    shared.records.append(
                        Record(page, "connect", 0.0, "ws_error", 0, 0, [f"connect: {exc!r}"[:300]], 0, _now(shared))
                    )
                    session = None
                    shared.reconnects += 1
                    await asyncio.sleep(1.0)
                    continue
            result = await session.run()
            problems = check(page, result, steps, session.query)
            shared.charts += sum(c.key == CHART_KEY[page] for c in result.charts)
            shared.records.append(
                Record(
                    page,
                    action,
                    result.latency,
                    result.status,
                    result.bytes,
                    result.ref_hits,
                    problems,
                    len(result.inline_errors),
                    _now(shared),
                    result.exec_time,
                )
            )
            if result.status != "ok":  # the tab reconnects: a new session
                await session.close()
                session = None
                shared.reconnects += 1
                continue
            await asyncio.sleep(rng.uniform(*shared.think))
            if time.monotonic() >= shared.deadline:
                break
            action, key, value = choose_action(page, session, steps, rng)
            session.set(key, value)
            if action == "steps":
                steps = int(value)
    finally:
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()


def _now(shared: Shared) -> float:
    return time.monotonic() - shared.t0


# ---- the server and its memory ------------------------------------------------------------------


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def server(timeout: float = 90.0, extra: tuple[str, ...] = (), root: Path | None = None):
    """`streamlit run app.py` on 127.0.0.1 and a free port with the repo's config (plus `extra`
    flags); yields (url, pid, log file). ``root``: another checkout to serve (default: this one)."""
    from e2e.harness import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "LRLAB_DEBUG"}  # as deployed: the safety net is on
    env.update(PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log = tempfile.TemporaryFile(mode="w+b")
    proc = subprocess.Popen(
        cmd, cwd=root or C.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + timeout
        while not _health(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"the server did not start:\n{log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url, proc.pid, log
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def _rss(proc: psutil.Process) -> int:
    """RSS of the server process and its children (streamlit runs as one process; children would count)."""
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


async def sample(pids: list[int], shared: Shared, samples: list[dict[str, Any]], stop: asyncio.Event) -> None:
    """Every second: server RSS (MB, summed over replicas, and each), server CPU % (100 = one core),
    this load generator's CPU %, the machine's 1-minute load average."""
    me = psutil.Process()
    me.cpu_percent(None)
    procs = [psutil.Process(pid) for pid in pids]
    for proc in procs:
        proc.cpu_percent(None)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        row: dict[str, Any] = {"t": round(_now(shared), 1), "client_cpu": me.cpu_percent(None)}
        if procs:
            try:
                each = [_rss(proc) / 2**20 for proc in procs]
                row["rss_mb"] = sum(each)
                row["rss_each_mb"] = [round(x) for x in each]
                row["server_cpu"] = sum(proc.cpu_percent(None) for proc in procs)
            except psutil.Error:
                pass
        row["load1"] = os.getloadavg()[0]
        samples.append(row)


# ---- the run and its report ---------------------------------------------------------------------


async def warm(url: str, pages: list[str], timeout: float) -> dict[str, float]:
    """One run of each page before the clock starts (imports torch/transformers, fills caches)."""
    out = {}
    for page in pages:
        s = Session(url, PAGES[page], timeout=max(timeout, 120.0))
        await s.connect()
        r = await s.run()
        await s.close()
        if r.failed:
            raise SystemExit(f"warm-up of {page} failed: {r.status} {r.error} {r.exceptions}")
        out[page] = r.latency
    return out


#: What app.py's background warm-up (lrlab.ui.serving.warm_libraries) writes to the server log when done.
LIBRARIES_LOADED = b"lrlab: libraries loaded in the background"


async def libraries_loaded(logs: list[Any], timeout: float = 300.0) -> float | None:
    """Seconds until every server logged that its background warm-up (timm, Keras, optax, fastai) is
    done, as a teacher's server is before the class arrives; None when it is turned off."""
    from lrlab.ui.serving import warm_enabled  # the server reads the same environment (a child of this process)

    if not warm_enabled():
        return None
    t0 = time.monotonic()
    while True:
        done = 0
        for log in logs:
            log.seek(0)
            done += LIBRARIES_LOADED in log.read()
        if done == len(logs):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"the servers did not finish loading the libraries within {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def measure(
    url: str,
    pids: list[int],
    args: argparse.Namespace,
    pages: list[str],
    replica_urls: list[str] | None = None,
    logs: list[Any] | None = None,
) -> dict[str, Any]:
    t_warm: dict[str, float] = {}
    for warm_url in replica_urls or [url]:  # every replica directly, not through the proxy
        for page, seconds in (await warm(warm_url, pages, args.timeout)).items():
            t_warm.setdefault(page, seconds)
    t_libraries = await libraries_loaded(logs) if logs else None
    rss_idle = sum(_rss(psutil.Process(pid)) for pid in pids) / 2**20 if pids else None
    t0 = time.monotonic()
    shared = Shared(url=url, t0=t0, deadline=t0 + args.duration, timeout=args.timeout, think=args.think_s)
    samples: list[dict[str, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(pids, shared, samples, stop))
    tasks = [
        asyncio.create_task(
            student(i, pages[i % len(pages)], shared, args.seed * 1000 + i, t0 + args.ramp * i / args.sessions)
        )
        for i in range(args.sessions)
    ]
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    stop.set()
    await sampler
    return summarize(args, pages, shared, samples, elapsed, t_warm, rss_idle) | {"libraries_warm_s": t_libraries}


def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, -(-int(q * len(s)) // 100) - 1))
    return s[k]


def summarize(
    args: argparse.Namespace,
    pages: list[str],
    shared: Shared,
    samples: list[dict[str, float]],
    elapsed: float,
    t_warm: dict[str, float],
    rss_idle: float | None,
) -> dict[str, Any]:
    recs = shared.records
    ok = [r for r in recs if r.status == "ok"]
    inputs = [r.latency for r in ok if r.action not in ("open page", "connect")]
    opens = [r.latency for r in ok if r.action == "open page"]
    execs = [r.exec_time for r in ok if r.exec_time is not None and r.action not in ("open page", "connect")]
    failed = [r for r in recs if r.problems]
    kinds = Counter(p.split(":")[0] for r in failed for p in r.problems)
    examples: dict[str, str] = {}
    for r in failed:
        for p in r.problems:
            examples.setdefault(p[:80], f"{r.page} after '{r.action}' at t={r.t:.1f} s: {p}")
    rss = [s["rss_mb"] for s in samples if "rss_mb" in s]
    by_action = {}
    for action in sorted({r.action for r in ok}):
        lat = [r.latency for r in ok if r.action == action]
        by_action[action] = {"n": len(lat), "p50_s": pct(lat, 50), "p95_s": pct(lat, 95), "max_s": max(lat)}
    by_page = {}
    for page in pages:
        lat = [r.latency for r in ok if r.page == page and r.action not in ("open page", "connect")]
        by_page[page] = {"n": len(lat), "p50_s": pct(lat, 50), "p95_s": pct(lat, 95)}
    quarter = [
        max((s["rss_mb"] for s in samples if "rss_mb" in s and s["t"] <= elapsed * q / 4), default=float("nan"))
        for q in (1, 2, 3, 4)
    ]
    return {
        "sessions": args.sessions,
        "pages": pages,
        "duration_s": args.duration,
        "elapsed_s": elapsed,
        "ramp_s": args.ramp,
        "think_s": list(args.think_s),
        "warmup_first_run_s": t_warm,
        "runs": len(recs),
        "input_reruns": len(inputs),
        "page_opens": len(opens),
        "throughput_rps": len(ok) / elapsed if elapsed else 0.0,
        "latency_s": {
            "p50": pct(inputs, 50),
            "p95": pct(inputs, 95),
            "p99": pct(inputs, 99),
            "max": max(inputs, default=float("nan")),
        },
        "script_exec_s": {"n": len(execs), "p50": pct(execs, 50), "p95": pct(execs, 95)} if execs else None,
        "open_latency_s": {"p50": pct(opens, 50), "p95": pct(opens, 95), "max": max(opens, default=float("nan"))},
        "by_action": by_action,
        "by_page": by_page,
        "errors": len(failed),
        "error_kinds": dict(kinds),
        "error_examples": list(examples.values())[:10],
        "reconnects": shared.reconnects,
        "charts_seen": shared.charts,
        "inline_input_errors": sum(r.inline_errors > 0 for r in recs),
        "cache_ref_hits": sum(r.ref_hits for r in recs),
        "mb_received": sum(r.bytes for r in recs) / 1e6,
        "rss_mb": {
            "idle_after_warmup": rss_idle,
            "start": rss[0] if rss else None,
            "peak": max(rss) if rss else None,
            "end": rss[-1] if rss else None,
            "peak_by_quarter": quarter,
        },
        "server_cpu_pct_mean": _mean([s["server_cpu"] for s in samples if "server_cpu" in s]),
        "client_cpu_pct_mean": _mean([s["client_cpu"] for s in samples]),
        "load1_end": samples[-1]["load1"] if samples else None,
        "samples": samples,
        "machine": C.machine_note(),
        "versions": C.versions("streamlit", "torch", "transformers", "plotly"),
    }


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def report(s: dict[str, Any]) -> str:
    ms = C.fmt_ms
    lat, rss = s["latency_s"], s["rss_mb"]

    def mb(v: float | None) -> str:
        return "n/a" if v is None else f"{v:,.0f} MB"

    lines = [
        f"## Load: {s['sessions']} sessions × {s['duration_s']:.0f} s on {', '.join(s['pages'])}"
        + (f", {s['replicas']} replicas behind nginx" if s.get("replicas", 1) > 1 else "")
        + (f" ({' '.join(s['server_args'])})" if s.get("server_args") else "")
        + f", think time {s['think_s'][0]:g}–{s['think_s'][1]:g} s",
        "",
        C.table(
            [
                "sessions",
                "duration",
                "reruns",
                "throughput",
                "p50",
                "p95",
                "p99",
                "max",
                "errors",
                "RSS start",
                "peak",
                "end",
            ],
            [
                [
                    s["sessions"],
                    f"{s['elapsed_s']:.0f} s",
                    f"{s['input_reruns']} (+{s['page_opens']} opens)",
                    f"{s['throughput_rps']:.1f}/s",
                    ms(lat["p50"]),
                    f"**{ms(lat['p95'])}**",
                    ms(lat["p99"]),
                    ms(lat["max"]),
                    f"**{s['errors']}**",
                    mb(rss["start"]),
                    mb(rss["peak"]),
                    mb(rss["end"]),
                ]
            ],
        ),
        "",
        C.table(
            ["rerun after", "n", "p50", "p95", "max"],
            [[a, v["n"], ms(v["p50_s"]), ms(v["p95_s"]), ms(v["max_s"])] for a, v in s["by_action"].items()],
        ),
        "",
        "Errors: "
        + (", ".join(f"{k} × {v}" for k, v in s["error_kinds"].items()) or "none")
        + f"; reconnects {s['reconnects']}; charts seen {s['charts_seen']}; runs with an inline input error "
        f"{s['inline_input_errors']} (expected: input validation); cached-message references "
        f"{s['cache_ref_hits']}; {s['mb_received']:.1f} MB received.",
    ]
    for e in s["error_examples"]:
        lines.append(f"- {e}")
    if s.get("script_exec_s"):
        x = s["script_exec_s"]
        lines.append(
            f"\nThe page script itself (Streamlit's page profile): p50 {ms(x['p50'])}, p95 {ms(x['p95'])} "
            f"of the rerun latency above (the rest: waiting for the GIL/other runs, messages, network)."
        )
    series = [x for x in s["samples"] if "rss_mb" in x]
    if series:
        every = max(1, len(series) // 12)
        picked = series[::every] + ([series[-1]] if (len(series) - 1) % every else [])
        lines += [
            "",
            "Server memory and CPU over time (CPU 100 % = one core):",
            "",
            C.table(
                ["t", "RSS", "server CPU", "load generator CPU", "load avg"],
                [
                    [
                        f"{x['t']:.0f} s",
                        f"{x['rss_mb']:,.0f} MB",
                        f"{x.get('server_cpu', 0):.0f} %",
                        f"{x['client_cpu']:.0f} %",
                        f"{x['load1']:.2f}",
                    ]
                    for x in picked
                ],
            ),
            "",
            f"RSS idle after warm-up {mb(rss['idle_after_warmup'])}; peak per quarter of the run: "
            + " → ".join(mb(v) for v in rss["peak_by_quarter"])
            + f". Mean CPU: server {s['server_cpu_pct_mean'] or 0:.0f} %, load generator "
            f"{s['client_cpu_pct_mean'] or 0:.0f} %.",
        ]
    lines += [
        "",
        "_First run of each page on the fresh server (warm-up, not counted): "
        + ", ".join(f"{p} {ms(v)}" for p, v in s["warmup_first_run_s"].items())
        + (
            f"; then {s['libraries_warm_s']:.1f} s until the server had loaded timm, Keras, optax and fastai in the "
            "background (app.py's warm-up, as before a class)"
            if s.get("libraries_warm_s") is not None
            else "; libraries not warmed (LRLAB_WARM_LIBRARIES=0, or --url)"
        )
        + f"; page opens during the run p50 {ms(s['open_latency_s']['p50'])}, p95 {ms(s['open_latency_s']['p95'])}. "
        f"{s['machine']}; {s['versions']}._",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=30, help=f"concurrent sessions (1–{MAX_SESSIONS})")
    ap.add_argument("--duration", type=float, default=60.0, help=f"seconds of interaction (≤ {MAX_DURATION_S:.0f})")
    ap.add_argument("--pages", default="playground", help="comma-separated: playground, compare")
    ap.add_argument("--ramp", type=float, default=5.0, help="seconds over which sessions start")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds a rerun may take before it is an error")
    ap.add_argument("--think", default="0.5,1.5", help="seconds a student waits after each answer: MIN,MAX (uniform)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="an already running server (loopback only) instead of starting one")
    ap.add_argument("--pid", help="with --url: the server's process id(s), comma-separated, to sample memory/CPU")
    ap.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="start this many servers behind nginx (bench/load_proxy.py: sticky, gzip/brotli) instead of one",
    )
    ap.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra flag for each server, e.g. --server-arg=--server.maxCacheDataSize=100mb (repeatable)",
    )
    ap.add_argument("--json", help="also write the full results (with the per-second samples) to this file")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        ap.error(f"--sessions {args.sessions}: must be between 1 and {MAX_SESSIONS}")
    if not 0 < args.duration <= MAX_DURATION_S:
        ap.error(f"--duration {args.duration}: must be in (0, {MAX_DURATION_S:.0f}] seconds")
    if not 0 <= args.ramp <= args.duration:
        ap.error(f"--ramp {args.ramp}: must be between 0 and the duration")
    if not 1 <= args.timeout <= 120:
        ap.error(f"--timeout {args.timeout}: must be between 1 and 120 seconds")
    try:
        low, high = (float(x) for x in args.think.split(","))
    except ValueError:
        ap.error(f"--think {args.think!r}: two numbers MIN,MAX, e.g. 0.5,1.5")
    if not 0 <= low <= high <= 60:
        ap.error(f"--think {args.think!r}: 0 ≤ MIN ≤ MAX ≤ 60 seconds")
    args.think_s = (low, high)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in PAGES]
    if not pages or unknown:
        ap.error(f"--pages {args.pages!r}: allowed are {', '.join(PAGES)}")
    args.page_list = pages
    if args.url:
        host = urlsplit(args.url).hostname
        if urlsplit(args.url).scheme not in ("http", "https") or host not in LOOPBACK:
            ap.error(f"--url {args.url!r}: only a server on this machine (127.0.0.1, localhost, ::1)")
        if args.replicas != 1:
            ap.error("--replicas starts its own servers: not with --url")
    elif args.pid:
        ap.error("--pid goes with --url")
    if not 1 <= args.replicas <= 4:
        ap.error(f"--replicas {args.replicas}: between 1 and 4")
    args.pids = [int(x) for x in (args.pid or "").split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server_log = ""
    if args.url:
        results = asyncio.run(measure(args.url.rstrip("/"), args.pids, args, args.page_list))
    else:
        with contextlib.ExitStack() as stack:
            servers = [stack.enter_context(server(extra=tuple(args.server_arg))) for _ in range(args.replicas)]
            url = servers[0][0]
            if args.replicas > 1:
                from e2e.harness import free_port
                from load_proxy import proxy

                url = stack.enter_context(proxy([int(u.rsplit(":", 1)[1]) for u, _, _ in servers], free_port()))
            pids, urls = [pid for _, pid, _ in servers], [u for u, _, _ in servers]
            logs = [log for _, _, log in servers]
            results = asyncio.run(measure(url, pids, args, args.page_list, urls, logs))
            for _, _, log in servers:
                log.seek(0)
                server_log += log.read().decode("utf-8", "replace")
    results["replicas"] = args.replicas
    results["server_args"] = args.server_arg
    results["server_log_tracebacks"] = server_log.count("Traceback")
    print(report(results))
    if server_log.count("Traceback"):
        print(f"\nThe server logged {server_log.count('Traceback')} traceback(s); the last one:")
        print(server_log[server_log.rfind("Traceback") :][:3000])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
