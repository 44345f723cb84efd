"""Training lab wall time: the LR finder and train-and-compare on the bundled digits (and moons).

    python bench/bench_lab.py [--runs 5]

(a) LR finder    — lrlab.lr_find with fastai's defaults (1e-7 → 10, 100 steps) for each model/optimizer,
                   wall and CPU time, and how many steps ran before the 4× stop.
(b) Train        — lrlab.train with the Train & compare page's defaults (3 schedules: constant, cosine,
                   fastai one-cycle; 10 epochs; batch 64) and with the largest comparison the bounds allow
                   (6 schedules × 10,000 steps = the 60,000-step budget).
(c) Ratio        — the CNN against the MLP, 2 schedules against 1 (should be ≈ 2×: nothing shared but the data).

Median of several runs after a warm-up; wall and CPU seconds of this process (CPU time barely moves when
other processes load the machine, wall time does). The issue's target: default settings finish in < 30 s.
"""

from __future__ import annotations

import argparse

import _common as C  # puts the repo root on sys.path: import it before lrlab

from lrlab.finder import lr_find
from lrlab.presets import PRESETS
from lrlab.specs import ScheduleConfig
from lrlab.training import TrainSetup, train, with_peak_lr


def default_configs(steps: int, n: int = 3) -> list[ScheduleConfig]:
    base = [
        ScheduleConfig.make("ConstantLR", {"factor": 1.0}, base_lr=0.1),
        ScheduleConfig.make("CosineAnnealingLR", {"T_max": steps}, base_lr=0.1),
        with_peak_lr(PRESETS["one_cycle"].config(steps), 0.1),
        ScheduleConfig.make("StepLR", {"step_size": max(1, steps // 3), "gamma": 0.3}, base_lr=0.1),
        ScheduleConfig.make("get_linear_schedule_with_warmup", {"num_warmup_steps": steps // 10}, base_lr=0.1),
        ScheduleConfig.make("ExponentialLR", {"gamma": 0.9995}, base_lr=0.1),
    ]
    return base[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"# Training lab ({C.machine_note()}; {C.versions('torch', 'scikit-learn')})\n")

    rows = []
    for model, optimizer in (("mlp", "sgd"), ("mlp", "adamw"), ("cnn", "sgd"), ("cnn", "adamw")):
        steps = []

        def run(model=model, optimizer=optimizer, steps=steps):
            steps.append(len(lr_find(model=model, optimizer=optimizer).lr))

        run()  # warm-up
        wall, cpu = C.timed_cpu(run, args.runs)
        rows.append([f"digits, {model}, {optimizer}", steps[-1], C.fmt_ms(C.median(wall)), C.fmt_ms(C.median(cpu))])
    print("## LR finder (fastai defaults: 1e-7 → 10, 100 steps, stop at 4× the best smoothed loss)\n")
    print(C.table(["task", "steps run", "wall (median)", "CPU (median)"], rows))

    cases = [
        ("page defaults: digits MLP, 3 schedules, 10 epochs", TrainSetup(), 3),
        ("digits MLP, 1 schedule, 10 epochs", TrainSetup(), 1),
        ("digits MLP, 2 schedules, 10 epochs", TrainSetup(), 2),
        ("digits CNN, 3 schedules, 10 epochs", TrainSetup(model="cnn"), 3),
        ("moons MLP, 3 schedules, 10 epochs", TrainSetup(dataset="moons"), 3),
        ("largest allowed: digits MLP, 6 × 9,900 steps (batch 8, 55 epochs)", TrainSetup(batch_size=8, epochs=55), 6),
    ]
    rows, medians = [], {}
    for label, setup, n in cases:
        from lrlab.datasets import load

        steps = setup.epochs * setup.steps_per_epoch(load(setup.dataset))
        configs = default_configs(steps, n)
        runs_needed = 1 if "largest" in label else args.runs
        train(configs, setup)  # warm-up
        wall, cpu = C.timed_cpu(lambda configs=configs, setup=setup: train(configs, setup), runs_needed)
        medians[label] = C.median(wall)
        rows.append([label, f"{n} × {steps:,}", runs_needed, C.fmt_ms(C.median(wall)), C.fmt_ms(C.median(cpu))])
    print("\n## Train & compare (same weights and batches for every schedule; lr read from the optimizer)\n")
    print(C.table(["comparison", "schedules × steps", "runs", "wall (median)", "CPU (median)"], rows))

    one, two = medians["digits MLP, 1 schedule, 10 epochs"], medians["digits MLP, 2 schedules, 10 epochs"]
    cnn, mlp = medians["digits CNN, 3 schedules, 10 epochs"], medians[cases[0][0]]
    print("\n## Ratios\n")
    print(
        C.table(
            ["ratio", "value"],
            [["2 schedules ÷ 1 schedule", C.fmt_ratio(two / one)], ["CNN ÷ MLP (3 schedules)", C.fmt_ratio(cnn / mlp)]],
        )
    )


if __name__ == "__main__":
    main()
