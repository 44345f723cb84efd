"""lrlab.identifying: a curve a registered schedule produced, logged fully or every k-th step, comes back
as that schedule (or an exactly equivalent one, said as such) with its parameters.

The hidden configs are drawn with a seeded generator from eight schedule families of five libraries;
each curve is stepped in its real library, then identified from the logged rows alone. The recovery
rate over the sample is printed (run with ``-s`` to see it) and asserted against a threshold.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lrlab.specs import ScheduleConfig


def _hf_cosine(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    warm = int(rng.integers(0, steps // 4))
    return ScheduleConfig.make(
        "get_cosine_schedule_with_warmup",
        {"num_warmup_steps": warm, "num_training_steps": steps + int(rng.integers(0, 2)) * int(rng.integers(1, 60))},
        steps=steps,
        base_lr=lr,
    )


def _steplr(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "StepLR",
        {"step_size": int(rng.integers(8, steps // 3)), "gamma": round(float(rng.uniform(0.1, 0.9)), 3)},
        steps=steps,
        base_lr=lr,
    )


def _multisteplr(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    marks = sorted(int(m) for m in rng.choice(np.arange(5, steps - 5), size=int(rng.integers(2, 4)), replace=False))
    return ScheduleConfig.make(
        "MultiStepLR", {"milestones": marks, "gamma": round(float(rng.uniform(0.1, 0.9)), 3)}, steps=steps, base_lr=lr
    )


def _cosine_annealing(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "CosineAnnealingLR",
        {
            "T_max": int(rng.integers(steps // 2, steps + 1)),
            "eta_min": lr * float(rng.choice([0.0, rng.uniform(0, 0.1)])),
        },
        steps=steps,
        base_lr=lr,
    )


def _onecycle(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "OneCycleLR",
        {
            "max_lr": lr,
            "total_steps": steps,
            "pct_start": round(float(rng.uniform(0.1, 0.5)), 3),
            "div_factor": round(float(rng.uniform(5, 50)), 2),
            "final_div_factor": round(float(10 ** rng.uniform(2, 4)), 1),
        },
        steps=steps,
        base_lr=lr,
    )


def _optax_warmup_cosine(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    warm = int(rng.integers(1, steps // 4))
    return ScheduleConfig.make(
        "optax:warmup_cosine_decay_schedule",
        {
            "init_value": lr * float(rng.choice([0.0, 0.01])),
            "warmup_steps": warm,
            "decay_steps": steps,
            "end_value": lr * float(rng.choice([0.0, 0.05])),
        },
        steps=steps,
        base_lr=lr,
    )


def _keras_cosine(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "keras:CosineDecay",
        {"decay_steps": int(rng.integers(steps // 2, steps)), "alpha": float(rng.choice([0.0, 0.1]))},
        steps=steps,
        base_lr=lr,
    )


def _timm_cosine(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "timm:CosineLRScheduler",
        {
            "t_initial": steps,
            "lr_min": lr * float(rng.choice([0.0, 0.01])),
            "warmup_t": int(rng.integers(2, steps // 5)),
            "warmup_lr_init": lr * 0.01,
            "warmup_prefix": True,
            "t_in_epochs": False,
        },
        steps=steps,
        base_lr=lr,
    )


def _fastai_one_cycle(rng: np.random.Generator, steps: int, lr: float) -> ScheduleConfig:
    return ScheduleConfig.make(
        "fastai:fit_one_cycle",
        {"pct_start": round(float(rng.uniform(0.1, 0.5)), 2), "div": 25.0, "div_final": 1e4},
        steps=steps,
        base_lr=lr,
    )


FAMILIES = [
    _hf_cosine,
    _steplr,
    _multisteplr,
    _cosine_annealing,
    _onecycle,
    _optax_warmup_cosine,
    _keras_cosine,
    _timm_cosine,
    _fastai_one_cycle,
]
SAMPLE = 36  # four hidden configs of each family: half logged fully, half every k-th step
#: Measured (seeds 0–35): 36/36 reproduced at the logged rows; 31/36 recovered (86%): fully logged 18/18,
#: every k-th step 13/18. The sparse misses are what the logged rows cannot decide: a milestone (StepLR,
#: MultiStepLR) anywhere within a gap of k steps, a warm-up shorter than the logging interval, fastai's
#: float32 phase noise at a few logged rows; each is still exact at every logged row (asserted). So every
#: fully logged curve must come back (asserted), and 80% overall: the full half plus 60% of the sparse half.
RECOVERY_THRESHOLD = 0.8


def _hidden(seed: int) -> tuple[ScheduleConfig, int]:
    rng = np.random.default_rng(seed)
    family = FAMILIES[seed % len(FAMILIES)]
    steps = int(rng.integers(120, 300))
    lr = float(10 ** rng.uniform(-4, -1))
    every = 1 if (seed // len(FAMILIES)) % 2 == 0 else int(rng.choice([3, 5, 10]))
    return family(rng, steps, lr), every


def _recovered(config: ScheduleConfig, every: int) -> dict:
    from lrlab.identifying import identify
    from lrlab.translating.engine import measure

    hidden = measure(config)
    rows = np.arange(0, config.steps, every)
    found = identify(np.stack([rows, hidden.lr[rows]], axis=1), steps=config.steps)
    best = found.best
    group = [best, *best.equivalents]
    tolerance = max(hidden.tolerance, best.tolerance, 1e-9)
    from lrlab.translating.engine import relative

    full = float(relative(best.lr, hidden.lr, max(hidden.noise, 2e-6 * float(np.max(np.abs(hidden.lr))))).max())
    return {
        "scheduler": config.scheduler,
        "every": every,
        "found": best.scheduler,
        "reproduced": best.exact,
        "same_curve": full <= max(tolerance, 2e-6),
        "named": config.scheduler in {c.scheduler for c in group},
        "best": best,
        "found_all": found,
    }


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    results = []
    for seed in range(SAMPLE):
        config, every = _hidden(seed)
        results.append(_recovered(config, every))
    return results


def test_hidden_schedules_come_back_with_their_curve_and_name(sample: list[dict]) -> None:
    reproduced = sum(r["reproduced"] for r in sample)
    recovered = sum(r["reproduced"] and r["same_curve"] and r["named"] for r in sample)
    full = [r for r in sample if r["every"] == 1]
    sparse = [r for r in sample if r["every"] > 1]
    rate = recovered / len(sample)
    lines = [
        f"identify: {recovered}/{len(sample)} hidden schedules recovered ({rate:.0%}): same curve on every step and the "
        f"hidden scheduler named (top or its equivalents); {reproduced}/{len(sample)} reproduced at the logged rows; "
        f"fully logged {sum(r['same_curve'] and r['named'] for r in full)}/{len(full)}, every k-th step "
        f"{sum(r['same_curve'] and r['named'] for r in sparse)}/{len(sparse)}"
    ]
    for r in sample:
        if not (r["reproduced"] and r["same_curve"] and r["named"]):
            lines.append(f"  missed: {r['scheduler']} every {r['every']} → {r['found']} (exact {r['reproduced']})")
    print("\n" + "\n".join(lines))
    assert reproduced == len(sample), "\n".join(lines)
    assert rate >= RECOVERY_THRESHOLD, "\n".join(lines)
    assert all(r["same_curve"] and r["named"] for r in full), "\n".join(lines)


def test_equivalent_schedules_are_grouped_not_ranked_as_rivals(sample: list[dict]) -> None:
    hf = next(r for r in sample if r["scheduler"] == "get_cosine_schedule_with_warmup" and r["every"] == 1)
    found = hf["found_all"]
    leaders = [c.scheduler for c in found.candidates]
    group = {hf["best"].scheduler, *(e.scheduler for e in hf["best"].equivalents)}
    assert "optax:warmup_cosine_decay_schedule" in group or "keras:CosineDecay" in group
    assert not group & set(leaders[1:])


def test_a_steplr_logged_every_seventh_step_comes_back_with_its_step_size() -> None:
    from lrlab.identifying import identify

    t = np.arange(0, 200, 7)
    found = identify(np.stack([t, 0.1 * 0.5 ** (t // 30)], axis=1), steps=200)
    group = [found.best, *found.best.equivalents]
    step = next(c for c in group if c.scheduler == "StepLR")
    assert step.config.params_dict == {"step_size": 30, "gamma": 0.5}
    assert step.exact and step.max_rel_diff <= 1e-12
    assert any("every 7 steps" in n for n in found.notes)


def test_each_candidate_exports_in_its_own_library() -> None:
    from lrlab.identifying import identify

    t = np.arange(100)
    found = identify(0.1 * 0.5 * (1 + np.cos(np.pi * t / 100)), top=3)
    assert found.best.exact and found.best.scheduler == "CosineAnnealingLR"
    assert "CosineAnnealingLR" in found.best.export()
    data = found.to_dict(export=True)
    assert data["candidates"][0]["export"]["target"] == "torch"
    assert data["shape"] == found.describe() and len(data["candidates"]) <= 3


def test_a_curve_no_schedule_has_gets_the_nearest_of_each_library_with_its_residual() -> None:
    from lrlab.identifying import identify

    t = np.arange(150)
    wavy = 0.01 * (1 + 0.3 * np.sin(t / 7.0)) * np.exp(-t / 200)
    found = identify(wavy, libraries=["transformers", "timm"])
    assert found.candidates and not found.best.exact
    assert all(c.library in ("transformers", "timm") for c in found.candidates)
    assert all(np.isfinite(c.max_rel_diff) and c.max_rel_diff > c.tolerance for c in found.candidates)


def test_bad_input_is_refused_with_the_house_message() -> None:
    from lrlab.identifying import identify
    from lrlab.specs import LrlabError

    with pytest.raises(LrlabError, match="at least 3"):
        identify([0.1, 0.1])
    with pytest.raises(LrlabError, match="Invalid steps"):
        identify([0.1, 0.1, 0.1, 0.1], steps=2)
    with pytest.raises(LrlabError, match="Invalid libraries"):
        identify([0.1, 0.1, 0.1], libraries=["tensorflow"])


def test_importing_identify_imports_no_heavy_library() -> None:
    code = (
        "import sys, lrlab.identifying; heavy = [m for m in ('transformers', 'keras', 'jax', 'fastai', 'timm', 'scipy') "
        "if m in sys.modules]; print(heavy); assert not heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
