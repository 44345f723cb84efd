"""Translate: the analysis of torch and transformers configs, and every verdict checked independently.

Expected values come from stepping the real libraries here (``lrlab.curve`` of each config) and
measuring the difference with this file's own arithmetic, never from the translation's report.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrlab
from lrlab import LrlabError, ScheduleConfig
from lrlab.simulate import resolve
from lrlab.translating import engine, lib_torch, lib_transformers
from lrlab.translating.shape import Segment, Shape
from tests.strategies import draw_params

ROOT = Path(__file__).resolve().parents[1]
ANALYSED = {**lib_torch.ANALYZERS, **lib_transformers.ANALYZERS}


def real(config: ScheduleConfig, column: str = "lr") -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lrlab.curve(config=config)[column].to_numpy(dtype=np.float64)


def max_rel(a: np.ndarray, b: np.ndarray) -> float:
    """This test's own measure: |a − b| / |b|, with |b| floored at 1e-12 of b's peak."""
    floor = max(1e-12 * np.max(np.abs(b)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def hf_cosine(warmup: int = 10, steps: int = 100, lr: float = 1e-3) -> ScheduleConfig:
    return ScheduleConfig.make(
        "get_cosine_schedule_with_warmup",
        {"num_warmup_steps": warmup, "num_training_steps": steps},
        steps=steps,
        base_lr=lr,
    )


# ---- analysis: the shape of a config is its real curve --------------------------------------------------


def random_configs(names, count: int, seed: int):
    rng = random.Random(seed)
    for name in names:
        spec = lrlab.SCHEDULERS[name]
        for _ in range(count):
            steps = rng.choice([1, 2, 7, 50, 120, 400])
            base = rng.choice([1e-4, 0.1, 3.0])
            ctx = engine.resolve(ScheduleConfig.make(name, {}, steps=steps, base_lr=base))[2]
            try:
                params = draw_params(spec, ctx, rng)
                config = ScheduleConfig.make(name, params, steps=steps, base_lr=base)
                resolve(config)
            except LrlabError:
                continue
            yield config


@pytest.mark.parametrize("name", sorted(ANALYSED))
def test_every_shape_an_analyser_gives_reproduces_the_real_curve(name):
    analysed = 0
    for config in random_configs([name], 12, seed=sum(map(ord, name))):
        _, params, ctx = resolve(config)
        shape = ANALYSED[name](params, ctx, config)
        if shape is None:
            continue
        analysed += 1
        expected = real(config)
        assert max_rel(shape.values(), expected) < 1e-6, (config, shape.describe())
        if shape.momentum:
            assert max_rel(shape.momentum_values(), real(config, "momentum")) < 1e-9
    assert analysed, f"no {name} config was analysed"


def test_a_sequential_warm_up_and_cosine_is_analysed_piece_by_piece():
    config = ScheduleConfig.make(
        "SequentialLR",
        {
            "schedulers": [
                {"name": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 5},
                {"name": "ExponentialLR", "gamma": 0.9},
            ],
            "milestones": [5],
        },
        steps=30,
        base_lr=0.5,
    )
    shape = engine.analyse(config)
    assert [s.kind for s in shape.within()] == ["linear", "exp"]
    assert shape.within()[1].start == 5


# ---- verdicts, checked against both real libraries ----------------------------------------------------------

SOURCES = [
    hf_cosine(),
    hf_cosine(0, 60, 0.1),
    ScheduleConfig.make(
        "get_linear_schedule_with_warmup", {"num_warmup_steps": 7, "num_training_steps": 80}, steps=80, base_lr=0.01
    ),
    ScheduleConfig.make("get_constant_schedule_with_warmup", {"num_warmup_steps": 5}, steps=40, base_lr=0.02),
    ScheduleConfig.make(
        "get_wsd_schedule",
        {"num_warmup_steps": 10, "num_decay_steps": 20, "num_training_steps": 100, "min_lr_ratio": 0.1},
        steps=100,
        base_lr=3e-4,
    ),
    ScheduleConfig.make("CosineAnnealingLR", {"T_max": 50, "eta_min": 1e-4}, steps=50, base_lr=0.1),
    ScheduleConfig.make("StepLR", {"step_size": 30, "gamma": 0.1}, steps=100, base_lr=0.1),
    ScheduleConfig.make("MultiStepLR", {"milestones": [20, 50], "gamma": 0.5}, steps=70, base_lr=0.1),
    ScheduleConfig.make("ExponentialLR", {"gamma": 0.95}, steps=60, base_lr=0.1),
    ScheduleConfig.make(
        "LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 10}, steps=30, base_lr=0.1
    ),
    ScheduleConfig.make("PolynomialLR", {"total_iters": 40, "power": 2.0}, steps=50, base_lr=0.1),
    ScheduleConfig.make("OneCycleLR", {"max_lr": 0.1, "total_steps": 100}, steps=100, base_lr=0.1),
    ScheduleConfig.make(
        "CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 0.001}, steps=70, base_lr=0.1
    ),
    ScheduleConfig.make("LambdaLR", {"lr_lambda": "1 / (1 + 0.05 * epoch)"}, steps=60, base_lr=0.1),
]


@pytest.mark.parametrize("source", SOURCES, ids=lambda c: c.scheduler)
@pytest.mark.parametrize("library", ["torch", "transformers"])
def test_every_verdict_is_what_stepping_both_real_libraries_shows(source, library):
    found = lrlab.translate(source, to=library)
    assert found.library == library
    expected = real(source)
    if found.verdict == "none":
        assert found.config is None and found.reason
        return
    measured = max_rel(real(found.config), expected)
    if found.verdict == "exact":
        assert measured <= found.tolerance, (found.config, measured)
        assert lrlab.get_spec(found.config.scheduler).library == library
    else:
        assert found.reason, "a closest counterpart says why there is no exact one"
        assert measured > found.tolerance
        assert measured == pytest.approx(found.max_rel_diff, rel=1e-6)
        assert found.worst_steps and all(0 <= s < source.steps for s in found.worst_steps)


def test_hf_cosine_with_warm_up_is_a_lambdalr_in_torch_because_linearlr_cannot_start_at_zero():
    found = lrlab.translate(hf_cosine(), to="torch")
    assert found.verdict == "exact" and found.scheduler == "LambdaLR"
    # the multiplier by hand: t / 10 while warming up, then ½ (1 + cos(π (t − 10) / 90))
    lam = lrlab.expr.parse(found.config.params_dict["lr_lambda"])
    assert lam(4) == pytest.approx(0.4) and lam(10) == pytest.approx(1.0)
    assert lam(55) == pytest.approx(0.5 * (1 + np.cos(np.pi * 45 / 90)))


def test_a_warm_up_from_above_zero_becomes_a_sequentiallr_of_linearlr_and_the_decay():
    source = ScheduleConfig.make(
        "SequentialLR",
        {
            "schedulers": [
                {"name": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 10},
                {"name": "ExponentialLR", "gamma": 0.97},
            ],
            "milestones": [10],
        },
        steps=60,
        base_lr=0.2,
    )
    lam_source = ScheduleConfig.make(
        "LambdaLR", {"lr_lambda": lib_torch.lambda_text(engine.analyse(source).within(), 0.2)}, steps=60, base_lr=0.2
    )
    assert max_rel(real(lam_source), real(source)) < 1e-12  # the lambda written from the shape is the curve
    found = lrlab.translate(lam_source, to="torch")
    assert found.verdict == "exact"  # the source itself


def test_torch_cosine_to_a_floor_is_transformers_cosine_with_min_lr_rate():
    source = SOURCES[5]
    found = lrlab.translate(source, to="transformers")
    assert found.verdict == "exact"
    assert found.scheduler == "get_cosine_with_min_lr_schedule_with_warmup"
    params = found.config.params_dict
    assert params["num_warmup_steps"] == 0 and params["num_training_steps"] == 50
    assert params["min_lr_rate"] == pytest.approx(1e-4 / 0.1)


def test_transformers_has_no_step_decay_and_says_so_with_the_trainer_hint():
    found = lrlab.translate(SOURCES[6], to="transformers")
    assert found.verdict == "closest"
    assert "no step decay" in found.reason and "optimizers=(optimizer, scheduler)" in found.reason


def test_a_warm_up_that_starts_above_zero_is_not_forced_into_transformers():
    found = lrlab.translate(SOURCES[9], to="transformers")  # LinearLR 0.25 → 1
    assert found.verdict == "closest"
    assert "starts at 0" in found.reason


def test_one_cycle_keeps_its_momentum_in_torch_and_says_transformers_does_not_cycle_it():
    source = SOURCES[11]
    found = lrlab.translate(source, to="transformers")
    assert found.verdict == "closest" and "momentum" in found.reason


def test_a_plateau_schedule_has_no_counterpart_and_says_why():
    source = ScheduleConfig.make("ReduceLROnPlateau", {}, steps=50, base_lr=0.1)
    found = lrlab.translate(source, to="transformers")
    assert found.verdict == "none" and "metric" in found.reason and found.config is None


def test_translate_to_every_library_gives_one_counterpart_each_and_the_source_itself_is_exact():
    found = lrlab.translate(hf_cosine(), to=None)
    assert [c.library for c in found.counterparts] == list(lrlab.specs.LIBRARIES)
    assert found["transformers"].verdict == "exact" and found["transformers"].config == hf_cosine()
    assert json.loads(json.dumps(found.to_dict()))["source"]["scheduler"] == "get_cosine_schedule_with_warmup"


def test_bad_requests_are_refused_by_name():
    with pytest.raises(LrlabError) as bad:
        lrlab.translate(hf_cosine(), to="jax")
    assert bad.value.field == "to" and "optax" in str(bad.value)
    too_long = hf_cosine(10, engine.MAX_TRANSLATE_STEPS + 1)
    with pytest.raises(LrlabError) as bad:
        lrlab.translate(too_long, to="torch")
    assert bad.value.field == "steps" and f"{engine.MAX_TRANSLATE_STEPS:,}" in str(bad.value)


def test_a_shape_that_does_not_match_the_curve_is_not_used():
    """The check behind every analysis: a wrong shape (here a hand-made one) is caught by the real curve."""
    config = hf_cosine()
    wrong = Shape(100, (Segment("linear", 0, 10, 0.0, 1e-3), Segment("linear", 10, 90, 1e-3, 0.0)))
    measured = engine.measure(config)
    assert max_rel(wrong.values(), measured.lr) > 1e-3
    assert engine.analyse(config) is not None  # the right one is


# ---- the CLI and the import cost ----------------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lrlab", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_cli_translates_a_config_file_as_a_table_and_as_json(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "scheduler: get_cosine_schedule_with_warmup\nparams: {num_warmup_steps: 10, num_training_steps: 100}\n"
        "base_lr: 0.001\nsteps: 100\n"
    )
    done = cli("translate", "--config", str(plan), "--to", "torch")
    assert done.returncode == 0, done.stderr
    assert "torch" in done.stdout and "exact" in done.stdout and "LambdaLR" in done.stdout
    done = cli("translate", "--config", str(plan), "--to", "torch", "--format", "json")
    data = json.loads(done.stdout)
    assert data["counterparts"][0]["verdict"] == "exact" and data["counterparts"][0]["max_rel_diff"] <= 1e-9
    done = cli("translate", "StepLR", "--steps", "10", "--to", "nowhere")
    assert done.returncode == 2 and "nowhere" in done.stderr


def test_importing_the_translation_engine_loads_no_other_library_and_no_scipy():
    code = (
        "import sys, lrlab.translating, lrlab.translating.lib_torch, lrlab.translating.lib_transformers\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'transformers', 'timm', 'keras', 'jax', 'optax', 'fastai', 'scipy', 'streamlit'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ---- shapes read off a curve: the tutorials' LambdaLR -------------------------------------------------------

TUTORIAL_LAMBDA = "min(1, epoch / 10) * 0.5 * (1 + cos(pi * max(0, epoch - 10) / 90))"


def test_warm_up_and_cosine_written_as_a_lambdalr_translates_exactly_into_every_library():
    """The tutorials' warm-up + cosine through LambdaLR has no analyser: its shape is read off the curve,
    checked against it, and every library's counterpart is proven by stepping it here."""
    source = ScheduleConfig.make("LambdaLR", {"lr_lambda": TUTORIAL_LAMBDA}, steps=100, base_lr=1e-3)
    found = lrlab.translate(source)
    expected = real(source)
    # by hand: 1e-3 · t/10 while warming up, then 1e-3 · ½(1 + cos(π (t − 10)/90))
    assert expected[5] == pytest.approx(5e-4) and expected[55] == pytest.approx(1e-3 * 0.5 * (1 + np.cos(np.pi / 2)))
    for counterpart in found.counterparts:
        assert counterpart.verdict == "exact", (counterpart.library, counterpart.reason)
        noise = 2e-6 * 1e-3 if counterpart.tolerance > 1e-9 else 0.0
        ours = real(counterpart.config)
        assert np.all(
            (np.abs(ours - expected) <= noise) | (np.abs(ours - expected) <= counterpart.tolerance * np.abs(expected))
        )
    assert found["transformers"].scheduler == "get_cosine_schedule_with_warmup"
    assert found["transformers"].config.params_dict == {"num_warmup_steps": 10, "num_training_steps": 100}


def test_stairs_written_as_a_lambdalr_are_read_as_stairs():
    source = ScheduleConfig.make("LambdaLR", {"lr_lambda": "0.9 ** floor(epoch / 30)"}, steps=100, base_lr=0.1)
    shape = engine.analyse(source)
    assert [s.start for s in shape.within()] == [0, 30, 60, 90]
    found = lrlab.translate(source, to="timm")
    assert found.verdict == "exact" and found.scheduler == "timm:StepLRScheduler"
    assert max_rel(real(found.config), real(source)) <= 1e-9


def test_a_curve_with_no_segment_description_is_not_forced_into_one():
    """1 / (1 + 0.05 t) is Keras's InverseTimeDecay family, not one of the shape's curves: no shape is
    claimed, and every other library gets a fitted closest with its measured residual."""
    source = ScheduleConfig.make("LambdaLR", {"lr_lambda": "1 / (1 + 0.05 * epoch)"}, steps=60, base_lr=0.1)
    assert engine.analyse(source) is None
    found = lrlab.translate(source, to="optax")
    assert found.verdict == "closest"
    assert max_rel(real(found.config), real(source)) == pytest.approx(found.max_rel_diff, rel=1e-6)


# ---- one warm-up + cosine, written the way each library writes it ------------------------------------------

PEAK, WARM, RUN = 2e-3, 10, 80


def written_six_ways(start: float) -> dict[str, ScheduleConfig]:
    """A linear warm-up from ``start`` to PEAK over WARM steps, then a cosine to 0 over the rest, in the
    idiom of each library that has it (transformers' warm-up can only start at 0; torch's LinearLR can't)."""
    make = ScheduleConfig.make
    lam = f"{start / PEAK!r} + {1 - start / PEAK!r} * epoch / {WARM} if epoch < {WARM} else 0.5 * (1 + cos(pi * (epoch - {WARM}) / {RUN - WARM}))"
    ways = {
        "LambdaLR": make("LambdaLR", {"lr_lambda": lam}, steps=RUN, base_lr=PEAK),
        "timm": make(
            "timm:CosineLRScheduler",
            {
                "t_initial": RUN - WARM,
                "warmup_t": WARM,
                "warmup_lr_init": start,
                "warmup_prefix": True,
                "t_in_epochs": False,
            },
            steps=RUN,
            base_lr=PEAK,
        ),
        "optax join": make(
            "optax:join_schedules",
            {
                "schedules": [
                    {"name": "optax:linear_schedule", "init_value": start, "end_value": PEAK, "transition_steps": WARM},
                    {"name": "optax:cosine_decay_schedule", "init_value": PEAK, "decay_steps": RUN - WARM},
                ],
                "boundaries": [WARM],
            },
            steps=RUN,
            base_lr=PEAK,
        ),
    }
    if start == 0:
        ways["transformers"] = make(
            "get_cosine_schedule_with_warmup",
            {"num_warmup_steps": WARM, "num_training_steps": RUN},
            steps=RUN,
            base_lr=PEAK,
        )
    else:
        ways["SequentialLR"] = make(
            "SequentialLR",
            {
                "schedulers": [
                    {"name": "LinearLR", "start_factor": start / PEAK, "end_factor": 1.0, "total_iters": WARM},
                    {"name": "CosineAnnealingLR", "T_max": RUN - WARM, "eta_min": 0.0},
                ],
                "milestones": [WARM],
            },
            steps=RUN,
            base_lr=PEAK,
        )
        ways["keras"] = make(
            "keras:CosineDecay",
            {"decay_steps": RUN - WARM, "warmup_target": PEAK, "warmup_steps": WARM},
            steps=RUN,
            base_lr=start,
        )
    return ways


@pytest.mark.parametrize("start", [0.0, 2e-4], ids=["from 0", "from a tenth"])
def test_a_warm_up_and_cosine_written_in_any_library_translates_exactly_into_every_library_that_has_it(start):
    ways = written_six_ways(start)
    curves = {name: real(config) for name, config in ways.items()}
    reference = curves["LambdaLR"]
    for name, values in curves.items():  # the six writings are one schedule (float32 libraries to their rounding)
        assert np.max(np.abs(values - reference)) <= 2e-6 * PEAK, name
    for name, source in ways.items():
        found = lrlab.translate(source)
        for counterpart in found.counterparts:
            if counterpart.library == "transformers" and start > 0:
                assert counterpart.verdict == "closest" and "starts at 0" in counterpart.reason
                continue
            assert counterpart.verdict == "exact", (name, counterpart.library, counterpart.reason)
            theirs = real(counterpart.config)
            assert np.max(np.abs(theirs - curves[name])) <= 2e-6 * PEAK, (name, counterpart.library)


def test_an_exact_float32_counterpart_reports_the_difference_a_user_measures_and_says_what_exact_means():
    """OneCycleLR into optax: exact by the float32 criterion, and the reported max relative difference is
    the plain one (optax rounds to float32; near the end the lr is 4e-7, where that rounding is ~1e-5
    relative), not 0."""
    source = ScheduleConfig.make("OneCycleLR", {"max_lr": 0.1, "total_steps": 200}, steps=200, base_lr=0.1)
    found = lrlab.translate(source, to="optax")
    assert found.verdict == "exact" and found.noise > 0
    ours, theirs = real(found.config), real(source)
    floor = max(1e-12 * 0.1, found.noise)
    plain = float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), floor)))
    assert found.max_rel_diff == pytest.approx(plain, rel=1e-9)
    assert found.max_rel_diff > 0
    assert np.all(np.abs(ours - theirs) <= np.maximum(found.tolerance * np.abs(theirs), found.noise))
    assert "absolute" in found.criterion and "float32" in found.criterion


def test_to_takes_a_list_any_case_and_refuses_nothing_or_a_number():
    found = lrlab.translate(hf_cosine(), to=["Torch", "optax"])
    assert [c.library for c in found.counterparts] == ["torch", "optax"]
    for bad in ([], 5, ["torch", 3]):
        with pytest.raises(LrlabError) as refused:
            lrlab.translate(hf_cosine(), to=bad)
        assert refused.value.field == "to"


def test_the_api_names_stay_functions_whichever_module_was_imported_first():
    """lrlab.translate / diagnose / identify are functions whose modules have other names: importing a
    module first (as the CLI does) must not put the module where the function is expected."""
    code = (
        "import lrlab.identifying, lrlab.diagnosing, lrlab.translating, lrlab.resume\n"
        "import lrlab\n"
        "print(all(callable(f) and type(f).__name__ == 'function' for f in "
        "(lrlab.translate, lrlab.diagnose, lrlab.identify, lrlab.simulate_resume, lrlab.logs.read)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_warm_up_stable_decay_read_off_a_curve_is_transformers_wsd_and_is_identified_as_such():
    """A plateau at the peak between warm-up and decay (WSD) is read off the curve: a LambdaLR written by
    hand translates exactly into get_wsd_schedule, and identify names it from its curve alone."""
    lam = "min(1, 0.1 + 0.9 * epoch / 10) if epoch < 70 else 0.1 + 0.9 * 0.5 * (1 + cos(pi * (epoch - 70) / 30))"
    source = ScheduleConfig.make("LambdaLR", {"lr_lambda": lam}, steps=100, base_lr=1e-3)
    found = lrlab.translate(source, to="transformers")
    assert found.verdict == "exact" and found.scheduler == "get_wsd_schedule"
    params = found.config.params_dict
    assert (params["num_warmup_steps"], params["num_stable_steps"], params["num_decay_steps"]) == (10, 60, 30)
    assert params["min_lr_ratio"] == pytest.approx(0.1)
    assert max_rel(real(found.config), real(source)) <= 1e-9
    best = lrlab.identify(real(source), top=3).best
    assert best.exact and best.scheduler == "get_wsd_schedule"
