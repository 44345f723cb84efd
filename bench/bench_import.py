"""Import cost: `import lrlab` in a fresh interpreter, and the first use of each schedule library.

    python bench/bench_import.py [--runs 7] [--against REF]

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
import tempfile
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", help="a git ref to compare `import lrlab` with")
    args = parser.parse_args()

    print(f"`import lrlab`, fresh interpreter, {args.runs} runs")
    if args.against:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / "base"
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(base), args.against], cwd=ROOT, check=True)
            try:
                now, ref = [], []
                for _ in range(args.runs):  # alternate, so that both see the same machine load
                    now.append(float(run(IMPORT, ROOT).split()[0]))
                    ref.append(float(run(IMPORT, base).split()[0]))
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)
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
