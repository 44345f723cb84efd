"""Curve computation: the articles' stepping loop vs lrlab.simulate.simulate vs lrlab.simulate.fast.

    python bench/bench_curves.py [--sizes 1000,10000,100000,1000000] [--runs-1e6 1]

(a) loop     — what the reference articles do, built here directly with torch / transformers:
               a real SGD (momentum 0.9) over a 1-element parameter, then for each step
               ``lrs.append(opt.param_groups[0]["lr"]); optimizer.step(); scheduler.step()``.
(b) simulate — lrlab.simulate.simulate: steps the real scheduler alone (no optimizer.step per step),
               and also computes the closed form beside it and compares the two.
(c) fast     — lrlab.simulate.fast: the vectorised closed form, as a Curve with a DataFrame.

Same scheduler parameters in all three (lrlab's defaults for N steps, read from lrlab.simulate.resolve);
at N = 1000 the loop's curve is checked equal to fast's before timing. Times are wall clock, the
median of several runs after a warm-up; (a) and (b) at 1e6 steps take tens of seconds per run, so
they are run fewer times (see the "runs" column). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings

import _common as C  # puts the repo root on sys.path: import it before lrlab
import numpy as np
import torch
from transformers import get_cosine_schedule_with_warmup, get_wsd_schedule

from lrlab.simulate import fast, resolve, simulate
from lrlab.specs import ScheduleConfig

SCHEDULERS = [
    "CosineAnnealingLR",
    "OneCycleLR",
    "CyclicLR",
    "get_cosine_schedule_with_warmup",
    "get_wsd_schedule",
    "SequentialLR",
]
TARGET_FAST_1E6_S = 0.100
TARGET_SPEEDUP_1E5 = 100.0


def build_direct(name: str, optimizer: torch.optim.Optimizer, params: dict) -> object:
    """The scheduler built with torch / transformers directly (as the articles do), from lrlab's values."""
    S = torch.optim.lr_scheduler
    p = dict(params)
    if name == "CosineAnnealingLR":
        return S.CosineAnnealingLR(optimizer, **p)
    if name == "OneCycleLR":
        return S.OneCycleLR(optimizer, **p)
    if name == "CyclicLR":
        return S.CyclicLR(optimizer, base_lr=0.1, **p)
    if name == "get_cosine_schedule_with_warmup":
        return get_cosine_schedule_with_warmup(optimizer, **p)
    if name == "get_wsd_schedule":
        return get_wsd_schedule(optimizer, **p)
    if name == "SequentialLR":
        children = []
        for child in p["schedulers"]:
            kw = dict(child)
            cls = getattr(S, kw.pop("name"))
            children.append(cls(optimizer, **kw))
        return S.SequentialLR(optimizer, schedulers=children, milestones=list(p["milestones"]))
    raise KeyError(name)


def config(name: str, n: int) -> ScheduleConfig:
    return ScheduleConfig.make(name, {}, steps=n)


def article_loop(name: str, n: int) -> list[float]:
    params = resolve(config(name, n))[1]
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    scheduler = build_direct(name, optimizer, params)
    lrs = []
    for _ in range(n):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def check_same(name: str, n: int = 1000) -> None:
    """The loop and the fast path draw the same curve (else the comparison would be meaningless)."""
    loop = np.asarray(article_loop(name, n))
    closed = fast(config(name, n)).frame["lr"].to_numpy()
    if not np.allclose(loop, closed, rtol=1e-9, atol=1e-15):
        i = int(np.argmax(~np.isclose(loop, closed, rtol=1e-9, atol=1e-15)))
        raise SystemExit(f"{name}: the loop and lrlab.fast differ at step {i}: {loop[i]} vs {closed[i]}")


def runs_for(n: int, kind: str, runs_1e6: int) -> int:
    if kind == "fast":
        return 15 if n <= 100_000 else 7
    return {1_000: 9, 10_000: 5, 100_000: 3}.get(n, runs_1e6)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--runs-1e6", type=int, default=1, help="runs of (a) and (b) at 1e6 steps (≈ 5–30 s each)")
    ap.add_argument("--schedulers", default=",".join(SCHEDULERS))
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    names = args.schedulers.split(",")
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)

    started = time.monotonic()
    print(f"# bench_curves — {C.machine_note()}; {C.versions('torch', 'transformers', 'numpy', 'pandas')}\n")
    for name in names:  # warm-up (first simulate pays ~2 s of lazy imports) and equality check
        check_same(name)
        simulate(config(name, 1000))

    results: dict[tuple[str, int], dict[str, float]] = {}
    rows = []
    for n in sizes:
        for name in names:
            cfg = config(name, n)
            gc.collect()
            r_slow = runs_for(n, "slow", args.runs_1e6)
            r_fast = runs_for(n, "fast", args.runs_1e6)
            w_fast, c_fast = C.timed_cpu(lambda cfg=cfg: fast(cfg), r_fast)
            t_fast, cpu_fast = C.median(w_fast), C.median(c_fast)
            t_loop = C.median(C.timed(lambda name=name, n=n: article_loop(name, n), r_slow))
            t_sim = C.median(C.timed(lambda cfg=cfg: simulate(cfg), r_slow))
            results[(name, n)] = {"loop": t_loop, "sim": t_sim, "fast": t_fast, "fast_cpu": cpu_fast}
            rows.append(
                [
                    f"{n:,}",
                    name,
                    C.fmt_ms(t_loop),
                    f"{t_loop / n * 1e6:.1f} µs",
                    C.fmt_ms(t_sim),
                    C.fmt_ms(t_fast),
                    C.fmt_ms(cpu_fast),
                    C.fmt_ratio(t_loop / t_fast),
                    C.fmt_ratio(t_sim / t_fast),
                    f"{r_slow} / {r_fast}",
                ]
            )
            print(f"  … {name} N={n:,}: loop {C.fmt_ms(t_loop)}, simulate {C.fmt_ms(t_sim)}, fast {C.fmt_ms(t_fast)}",
                  flush=True)  # fmt: skip

    print()
    print(
        C.table(
            ["N", "scheduler", "(a) loop", "loop/step", "(b) simulate", "(c) fast", "(c) CPU time", "loop/fast", "simulate/fast", "runs a,b / c"],
            rows,
            align=["r", "l"] + ["r"] * 8,
        )
    )  # fmt: skip

    print("\nTargets:\n")
    trows = []
    if 1_000_000 in sizes:
        worst = max(names, key=lambda s: results[(s, 1_000_000)]["fast"])
        t = results[(worst, 1_000_000)]["fast"]
        cpu = max(results[(s, 1_000_000)]["fast_cpu"] for s in names)
        trows.append(
            [
                "1e6-step curve on the fast path ≤ 100 ms",
                f"slowest: {worst} {C.fmt_ms(t)} wall (largest CPU time {C.fmt_ms(cpu)})",
                "met" if t <= TARGET_FAST_1E6_S else f"MISSED by {C.fmt_ms(t - TARGET_FAST_1E6_S)}",
            ]
        )
    if 100_000 in sizes:
        worst = min(names, key=lambda s: results[(s, 100_000)]["loop"] / results[(s, 100_000)]["fast"])
        r = results[(worst, 100_000)]["loop"] / results[(worst, 100_000)]["fast"]
        trows.append(
            [
                "fast ≥ 100× the stepping loop at 1e5",
                f"smallest: {worst} {C.fmt_ratio(r)}",
                "met" if r >= TARGET_SPEEDUP_1E5 else f"MISSED ({C.fmt_ratio(r)} < 100×)",
            ]
        )
    print(C.table(["target", "measured", "verdict"], trows, align=["l", "l", "l"]))
    print(f"\n_{C.machine_note()}; total {time.monotonic() - started:.0f} s. "
          "Times: median wall clock (CPU time of this process for (c)); "
          "runs per cell in the last column (a and b share a count)._")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
