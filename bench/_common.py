"""Shared bits of the bench/ scripts: timing, markdown tables, machine notes. Not a test."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` calls of fn()."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def timed_cpu(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds of this process) of `runs` calls of fn(); CPU time barely moves
    when other processes load the machine, wall time does."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def p95(xs: Sequence[float]) -> float:
    """95th percentile, nearest-rank (of 20 samples: the 19th smallest)."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-95 * len(s) // 100) - 1))
    return s[k]


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    if ms >= 10_000:
        return f"{ms / 1e3:,.1f} s"
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×"


def fmt_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f} MB"
    if n >= 1e3:
        return f"{n / 1e3:.1f} KB"
    return f"{n:.0f} B"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: Sequence[str] | None = None) -> str:
    """A markdown table; align is 'l' or 'r' per column (default: first left, rest right)."""
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---" if a == "l" else "--:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A checkout of the commit ``ref`` in a temporary git worktree (removed afterwards), to measure
    against it side by side with this tree."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(base), ref], cwd=ROOT, check=True)
        try:
            yield base
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)


def commit() -> str:
    """The commit measured (the app changes under active development), "+dirty" if app code has local edits."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "lrlab", "pages", "app.py")
    return head + ("+dirty" if dirty else "")


def machine_note() -> str:
    """One line: commit, CPU count, load average, Python — the context any number here needs."""
    try:
        one, five, fifteen = os.getloadavg()
        load = f"load avg {one:.1f}/{five:.1f}/{fifteen:.1f}"
    except OSError:
        load = "load avg n/a"
    return f"commit {commit()}, {os.cpu_count()} CPUs, {load}, Python {platform.python_version()}"


def versions(*names: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for n in names:
        try:
            out.append(f"{n} {version(n)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)
