"""Import cost: `import lrlab` in a fresh interpreter, and the first use of each schedule library.

    python bench/bench_import.py [--runs 7] [--against REF]

First a table against the targets (issue 17), every command a fresh process timed from spawn to exit,
the commands alternated run by run (the machine's load hits all alike), medians:
``import lrlab`` ÷ ``import torch.optim`` (≤ 1.3); ``python -m lrlab curve StepLR --steps 20`` ÷
``import torch.optim`` (≤ 1.3) and ÷ the same 20 steps written in plain torch (an SGD, a StepLR,
``optimizer.step(); scheduler.step()``: torch's first ``optimizer.step()`` in a process imports
torch._dynamo, ~1.3 s, which lrlab's throw-away optimizer does not: lrlab/optimizers.py); a
transformers schedule's curve − the torch curve ≈ ``import transformers``'s own cost.

`import lrlab` must load torch only (timm, Keras, jax/optax and fastai load on the first use of one of
their schedules). Prints the median (and min/max) wall time of a fresh `python -c "import lrlab"` over
``--runs`` runs, which modules of the optional libraries it loaded (must be none), and the time the
first curve of each library takes in a fresh process (its import included) next to a torch curve's.
With ``--against REF`` (a git commit), the same `import lrlab` is timed on a checkout of REF (a
temporary `git worktree`), alternating runs, and the ratio current / REF is printed: the shared
machine is noisy, so compare ratios and medians, not single numbers.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common as C

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("timm", "keras", "jax", "optax", "fastai")

IMPORT = """
import sys, time
t0 = time.perf_counter()
import lrlab
t1 = time.perf_counter()
loaded = sorted({m.split('.')[0] for m in sys.modules} & set(OPTIONAL))
print(t1 - t0, ','.join(loaded) or '-')
""".replace("OPTIONAL", repr(OPTIONAL))

FIRST_CURVE = """
import time, warnings
warnings.simplefilter('ignore')
import lrlab
t0 = time.perf_counter()
lrlab.curve(NAME, steps=1000)
print(time.perf_counter() - t0)
"""

#: one schedule per library: the first curve pays for the library's import
FIRST = {
    "torch": "CosineAnnealingLR",
    "transformers": "get_cosine_schedule_with_warmup",
    "timm": "timm:CosineLRScheduler",
    "keras": "keras:CosineDecay",
    "optax": "optax:cosine_decay_schedule",
    "fastai": "fastai:fit_one_cycle",
}


def run(code: str, cwd: Path) -> str:
    env = {"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return "error: " + done.stderr.strip().splitlines()[-1]
    return done.stdout.strip()


def import_times(cwd: Path, runs: int) -> tuple[list[float], str]:
    times, loaded = [], "-"
    for _ in range(runs):
        seconds, loaded = run(IMPORT, cwd).split()
        times.append(float(seconds))
    return times, loaded


def fmt(times: list[float]) -> str:
    return f"{statistics.median(times):6.2f} s (min {min(times):.2f}, max {max(times):.2f})"


PLAIN_TORCH = """
import torch
p = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([p], lr=0.1)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5)
for _ in range(20):
    print(opt.param_groups[0]["lr"])
    opt.step()
    sched.step()
"""

COMMANDS = {
    "import torch.optim": ["-c", "import torch.optim"],
    "import lrlab": ["-c", "import lrlab"],
    "plain torch: StepLR, 20 steps": ["-c", PLAIN_TORCH],
    "lrlab curve StepLR --steps 20": ["-m", "lrlab", "curve", "StepLR", "--steps", "20"],
    "import torch.optim + a transformers schedule": [
        "-c", "import torch.optim; from transformers import get_linear_schedule_with_warmup",
    ],
    "lrlab curve get_linear_schedule_with_warmup": [
        "-m", "lrlab", "curve", "get_linear_schedule_with_warmup", "--steps", "20",
        "--set", "num_warmup_steps=2", "--set", "num_training_steps=20",
    ],
}  # fmt: skip


def wall(args: list[str]) -> float:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{args}: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - t0


def targets(runs: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # alternate: each round sees the same load for every command
        for name, args in COMMANDS.items():
            times[name].append(wall(args))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"## Start-up, fresh processes (spawn → exit), median of {runs}\n")
    print("| command | median | min | max |\n| --- | --: | --: | --: |")
    for name, ts in times.items():
        print(f"| `{name}` | {med[name]:.2f} s | {min(ts):.2f} s | {max(ts):.2f} s |")
    base = med["import torch.optim"]
    rows = [
        ("`import lrlab` ÷ `import torch.optim`", med["import lrlab"] / base, "≤ 1.3"),
        ("`lrlab curve StepLR` ÷ `import torch.optim`", med["lrlab curve StepLR --steps 20"] / base, "≤ 1.3"),
        (
            "`lrlab curve StepLR` ÷ the same curve in plain torch",
            med["lrlab curve StepLR --steps 20"] / med["plain torch: StepLR, 20 steps"],
            "≤ 1.3",
        ),
    ]
    print("\n| ratio | value | target | verdict |\n| --- | --: | --: | --- |")
    for label, value, target in rows:
        print(f"| {label} | {value:.2f} | {target} | {'met' if value <= 1.3 else 'NOT met'} |")
    extra = med["lrlab curve get_linear_schedule_with_warmup"] - med["lrlab curve StepLR --steps 20"]
    own = med["import torch.optim + a transformers schedule"] - med["import torch.optim"]
    print(
        f"\nA transformers schedule adds {extra:.2f} s to the torch curve; transformers' own import adds "
        f"{own:.2f} s to torch's ({C_note()}).\n"
    )


def C_note() -> str:
    import os

    return f"load avg {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", help="a git ref to compare `import lrlab` with")
    parser.add_argument("--no-targets", action="store_true", help="skip the table against the targets")
    args = parser.parse_args()

    if not args.no_targets:
        targets(args.runs)
    print(f"`import lrlab`, fresh interpreter, {args.runs} runs")
    if args.against:
        with C.worktree(args.against) as base:
            now, ref = [], []
            for _ in range(args.runs):  # alternate, so that both see the same machine load
                now.append(float(run(IMPORT, ROOT).split()[0]))
                ref.append(float(run(IMPORT, base).split()[0]))
        print(f"  this tree      {fmt(now)}")
        print(f"  {args.against:<14} {fmt(ref)}")
        print(f"  ratio          {statistics.median(now) / statistics.median(ref):.2f}")
    times, loaded = import_times(ROOT, args.runs)
    print(f"  this tree      {fmt(times)}; optional libraries loaded: {loaded}")

    print("\nfirst curve of each library (1,000 steps) in a fresh process, its import included")
    print(f"  {'library':<13} {'schedule':<36} {'seconds':>8}")
    for library, name in FIRST.items():
        out = run(FIRST_CURVE.replace("NAME", repr(name)), ROOT)
        print(f"  {library:<13} {name:<36} {out:>8}")


if __name__ == "__main__":
    main()
