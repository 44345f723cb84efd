"""The Pitfalls gallery shows what it claims: each demo checked against the real libraries (stepped
here, independently of lrlab) or a hand computation; every fix runs in a fresh interpreter and draws
the intended curve; Lightning's per-epoch default is proven with a real Trainer; the page renders
every pitfall and opens links."""

import base64
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch.optim import lr_scheduler
from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

from lrlab.pitfalls import PITFALLS, Demo, figure, get_pitfall, pitfall_label, run
from lrlab.specs import LrlabError

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"

# torch 2.13's messages, as recorded in the reference (docs: schedulers.md §1.1, §1.1 resume, §2.14)
ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and later, you should "
    "call them in the opposite order: `optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
    "result in PyTorch skipping the first value of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)
RESUME_KEYERROR = (
    "param 'initial_lr' is not specified in param_groups[0] when resuming scheduler with last_epoch >= 0.\n"
    "This typically happens when:\n"
    "1. You're trying to resume training from a checkpoint but haven't properly loaded the optimizer state\n"
    "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
)


def sgd(lr: float = 0.1, momentum: float = 0.0) -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=momentum)


def cosine(t, base: float, t_max: int, eta_min: float = 0.0):
    return eta_min + 0.5 * (base - eta_min) * (1 + np.cos(np.pi * np.asarray(t, dtype=np.float64) / t_max))


def hf_linear(t, warmup: int, total: int) -> np.ndarray:
    """transformers' linear warm-up/decay multiplier (reference §3.2), by hand."""
    t = np.asarray(t, dtype=np.float64)
    return np.where(t < warmup, t / max(1, warmup), np.maximum(0.0, (total - t) / max(1, total - warmup)))


def close(actual, expected, rtol: float = 1e-12, atol: float = 1e-15) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol)


# ---- the registry -------------------------------------------------------------------------------------


def test_the_gallery_holds_the_ten_pitfalls_in_teaching_order():
    assert list(PITFALLS) == [
        "step-order",
        "step-unit",
        "grad-accumulation",
        "cosine-past-end",
        "onecycle-past-end",
        "warmup-from-zero",
        "resume-last-epoch",
        "sequential-milestones",
        "momentum-cycling",
        "lightning-epoch-interval",
    ]
    assert pitfall_label("grad-accumulation") == "3 · Gradient accumulation"


@pytest.mark.parametrize("pitfall_id", list(PITFALLS))
def test_every_demo_draws_something_wrong_next_to_what_was_intended(pitfall_id):
    demo = run(pitfall_id)
    assert demo.by_role("wrong") and demo.by_role("intended")
    for trace in demo.traces:
        assert len(trace.x) == len(trace.y) > 0 and np.all(np.isfinite(trace.y))
    # the wrong curve really differs from the intended one: at a common step, or by going past its end
    wrong, intended = demo.wrong, demo.intended
    i = dict(zip(intended.x.tolist(), intended.y.tolist(), strict=True))
    assert any(x not in i or abs(y - i[x]) > 1e-3 for x, y in zip(wrong.x.tolist(), wrong.y.tolist(), strict=True))
    pitfall = PITFALLS[pitfall_id]
    assert pitfall.symptom and pitfall.why and pitfall.title
    compile(pitfall.fix_code(), f"<fix of {pitfall_id}>", "exec")


def test_an_unknown_pitfall_is_named_with_the_allowed_ids():
    with pytest.raises(LrlabError, match=r"Invalid pitfall \('nope'\): must be one of step-order, step-unit"):
        get_pitfall("nope")


@pytest.mark.parametrize(
    ("pitfall_id", "values", "message"),
    [
        ("step-unit", {"epochs": 0}, r"Invalid epochs \(0\): must be an integer in \[2, 50\]"),
        ("step-unit", {"steps_per_epoch": 201}, r"Invalid steps_per_epoch \(201\): must be an integer in \[2, 200\]"),
        ("step-unit", {"epochs": 2.5}, r"Invalid epochs \(2.5\): must be an integer"),
        ("step-unit", {"epochs": True}, r"Invalid epochs \(True\): must be an integer"),
        (
            "onecycle-past-end",
            {"anneal_strategy": "exp"},
            r"Invalid anneal_strategy \('exp'\): must be one of 'linear', 'cos'",
        ),
        (
            "step-unit",
            {"T_max": 3},
            r"Unknown setting 'T_max' for pitfall 'step-unit': allowed are epochs, steps_per_epoch",
        ),
        (
            "step-order",
            {"epochs": 5, "warmup_epochs": 5},
            r"Invalid warmup_epochs \(5\): must be less than epochs \(5\)",
        ),
        ("cosine-past-end", {"schedule_steps": 100, "run_steps": 100}, r"Invalid run_steps \(100\): must be more than"),
        (
            "warmup-from-zero",
            {"warmup_steps": 50, "total_steps": 50},
            r"Invalid warmup_steps \(50\): must be less than",
        ),
        ("resume-last-epoch", {"T_max": 10, "resume_at": 10}, r"Invalid resume_at \(10\): must be in \[1, 9\]"),
        ("sequential-milestones", {"warmup_steps": 9, "total_steps": 9}, r"Invalid warmup_steps \(9\)"),
    ],
)
def test_a_bad_setting_is_named_with_its_value_and_what_is_allowed(pitfall_id, values, message):
    with pytest.raises(LrlabError, match=message) as info:
        run(pitfall_id, values)
    assert info.value.field == next(iter(values)) or info.value.field in values


# ---- 1. scheduler.step() before optimizer.step() ---------------------------------------------------------


def test_stepping_the_scheduler_first_warns_and_skips_the_first_value():
    demo = run("step-order", {"epochs": 10, "warmup_epochs": 4})
    t = np.arange(11)
    schedule = 0.1 * (0.1 + 0.9 * np.minimum(t, 4) / 4)  # LinearLR(start_factor=0.1, total_iters=4), by hand
    close(demo.intended.y, schedule[:10])
    close(demo.wrong.y, schedule[1:])  # one epoch early: value 0 is never used
    assert not np.isclose(demo.wrong.y, 0.01).any()
    assert [(m.kind, m.text) for m in demo.messages] == [("UserWarning", ORDER_WARNING)]


# ---- 2. per epoch vs per batch ---------------------------------------------------------------------------


def test_a_schedule_sized_in_steps_but_stepped_per_epoch_barely_moves():
    e, s = 10, 50
    demo = run("step-unit", {"epochs": e, "steps_per_epoch": s})
    t = np.arange(e * s)
    close(demo.intended.y, cosine(t, 0.1, e * s), atol=1e-12)
    per_epoch = demo.trace("T_max in steps, stepped per epoch (wrong)").y
    close(per_epoch, cosine(t // s, 0.1, e * s), atol=1e-12)
    assert per_epoch[-1] > 0.0999 and demo.intended.y[-1] < 1e-5


def test_a_schedule_sized_in_epochs_but_stepped_per_batch_is_done_in_the_first_epoch_and_climbs_back():
    e, s = 10, 50
    per_batch = run("step-unit", {"epochs": e, "steps_per_epoch": s}).trace(
        "T_max in epochs, stepped per batch (wrong)"
    )
    close(per_batch.y, cosine(np.arange(e * s), 0.1, e), atol=1e-12)
    assert per_batch.y[e] < 1e-12 and e < s  # at eta_min within epoch 0
    assert per_batch.y[2 * e] == pytest.approx(0.1)  # and back at the top after 2·T_max batches


# ---- 3. gradient accumulation ----------------------------------------------------------------------------


def test_gradient_accumulation_schedules_are_k_times_too_short_or_never_finish():
    k, n = 4, 200
    demo = run("grad-accumulation", {"accumulation": k, "optimizer_steps": n})
    j = np.arange(n)
    close(demo.intended.y, 0.1 * hf_linear(j, n // 10, n))
    too_fast = demo.trace("sized in optimizer steps, stepped per micro-batch (wrong)").y
    close(too_fast, 0.1 * hf_linear((j + 1) * k - 1, n // 10, n))
    assert np.all(too_fast[n // k :] == 0.0) and too_fast[n // k - 1] > 0  # 0 for the last 3/4 of the run
    too_slow = demo.trace("sized in micro-batches, stepped per optimizer step (wrong)").y
    close(too_slow, 0.1 * hf_linear(j, n * k // 10, n * k))
    assert np.argmax(too_slow) == n * k // 10 and too_slow[-1] > 0.08  # a warm-up of 80 steps, not 20; barely decays
    assert [(m.kind, m.text) for m in demo.messages] == [("UserWarning", ORDER_WARNING)]


# ---- 4. cosine past its end ------------------------------------------------------------------------------


def test_cosine_schedules_of_torch_and_transformers_rise_again_after_their_end():
    t_max, run_steps = 100, 160
    demo = run("cosine-past-end", {"schedule_steps": t_max, "run_steps": run_steps})
    torch_cos = demo.trace("CosineAnnealingLR(T_max) (wrong)").y
    hf_cos = demo.trace("get_cosine_schedule_with_warmup (wrong)").y
    for y in (torch_cos, hf_cos):
        assert y[t_max] < 1e-12
        assert all(y[t_max + k] > y[t_max + k - 1] for k in range(1, run_steps - t_max))
    # the real objects, stepped here
    opt = sgd()
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=10, num_training_steps=t_max)
    expected = []
    for _ in range(run_steps):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    close(hf_cos, expected)
    close(torch_cos, cosine(np.arange(run_steps), 0.1, t_max), atol=1e-12)
    close(demo.intended.y, cosine(np.arange(run_steps), 0.1, run_steps), atol=1e-12)


# ---- 5. OneCycleLR past total_steps ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["linear", "cos"])
def test_one_cycle_extrapolates_one_step_past_its_end_then_raises_the_libraries_value_error(strategy):
    n, peak = 20, 0.1
    demo = run("onecycle-past-end", {"total_steps": n, "anneal_strategy": strategy})
    assert [(m.kind, m.text) for m in demo.messages] == [
        ("ValueError", f"Tried to step {n + 1} times. The specified number of total steps is {n}")
    ]
    assert len(demo.intended.y) == n and len(demo.wrong.y) == n + 1
    close(demo.wrong.y[:n], demo.intended.y)
    low = peak / 25 / 1e4
    assert demo.intended.y[-1] == pytest.approx(low, rel=1e-9)
    # by hand (reference §2.14): phase 2 runs from e1 = 0.3·n - 1 to e2 = n - 1; at t = n, p > 1
    e1, e2 = 0.3 * n - 1, n - 1
    p = (n - e1) / (e2 - e1)
    extrapolated = (
        peak + (low - peak) * p if strategy == "linear" else low + (peak - low) / 2 * (1 + math.cos(math.pi * p))
    )
    assert demo.wrong.y[n] == pytest.approx(extrapolated, rel=1e-9)
    if strategy == "linear":
        assert demo.wrong.y[n] < 0
    else:
        assert demo.wrong.y[n] > demo.wrong.y[n - 1]


# ---- 6. transformers' warm-up from 0 -----------------------------------------------------------------------


def test_transformers_warmup_gives_lr_zero_to_the_first_update_and_it_moves_nothing():
    w, n = 5, 50
    demo = run("warmup-from-zero", {"warmup_steps": w, "total_steps": n})
    assert demo.wrong.y[0] == 0.0
    close(demo.wrong.y, 0.1 * hf_linear(np.arange(n), w, n))
    t = np.arange(n)
    shifted = np.where(t < w, (t + 1) / (w + 1), np.maximum(0.0, (n - t) / (n - w)))
    close(demo.intended.y, 0.1 * shifted)
    facts = {f.label: f.value for f in demo.facts}
    assert facts["1st update moved the weights"] == "no" and facts["… and moved the weights"] == "yes"
    # independently: a real AdamW with that scheduler does not move its weight on update 1
    weight = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([weight], lr=0.1)
    get_linear_schedule_with_warmup(opt, num_warmup_steps=w, num_training_steps=n)
    weight.grad = torch.ones(3)
    opt.step()
    assert torch.equal(weight.detach(), torch.ones(3))


# ---- 7. resuming with last_epoch --------------------------------------------------------------------------


def test_resuming_with_last_epoch_raises_torchs_key_error_then_restarts_or_runs_ahead():
    n, k = 40, 16
    demo = run("resume-last-epoch", {"T_max": n, "resume_at": k})
    assert [(m.kind, m.text) for m in demo.messages] == [("KeyError", RESUME_KEYERROR)]
    # state_dict resume = an uninterrupted run of the real scheduler
    opt = sgd()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=n)
    continuous = []
    for _ in range(n):
        continuous.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert demo.intended.y.tolist() == continuous
    patched = demo.trace("last_epoch=k, initial_lr set by hand (wrong)")
    assert patched.x[0] == k and patched.y[0] == 0.1  # back at the base lr
    # by hand (reference §1.3): the recursive ratio applied from index k+1 on, to the right lr
    loaded = demo.trace("last_epoch=k, optimizer state loaded (wrong)").y
    expected = [continuous[k]]
    for t in range(k + 2, n + 1):
        expected.append(expected[-1] * (1 + math.cos(math.pi * t / n)) / (1 + math.cos(math.pi * (t - 1) / n)))
    close(loaded, expected, atol=1e-15)
    assert loaded[1] < continuous[k + 1]


# ---- 8. SequentialLR milestones ----------------------------------------------------------------------------


def test_sequential_lr_restarts_the_next_scheduler_at_its_own_step_zero_from_the_base_lr():
    w, n = 50, 200
    demo = run("sequential-milestones", {"warmup_steps": w, "total_steps": n})
    wrong, intended = demo.wrong.y, demo.intended.y
    assert wrong[w - 1] == pytest.approx(0.1 * (0.01 + 0.99 * (w - 1) / w), rel=1e-12)  # LinearLR, by hand
    assert wrong[w] == pytest.approx(0.1, rel=1e-12)  # the cosine's step 0: the base lr
    close(wrong[w:], cosine(np.arange(n - w), 0.1, n), atol=1e-12)  # local clock, T_max = n
    close(intended[w:], cosine(np.arange(n - w), 0.1, n - w), atol=1e-12)
    assert wrong[-1] > 0.015 and intended[-1] < 1e-4


# ---- 9. momentum switched on --------------------------------------------------------------------------------


@pytest.mark.parametrize(("scheduler", "high", "low"), [("OneCycleLR", 0.95, 0.85), ("CyclicLR", 0.9, 0.8)])
def test_cyclic_schedulers_turn_momentum_on_for_sgd_and_cycle_adams_beta1(scheduler, high, low):
    demo = run("momentum-cycling", {"scheduler": scheduler, "steps": 200})
    sgd_m = demo.trace("SGD(momentum=0): momentum (wrong)").y
    beta1 = demo.trace("Adam(betas=(0.9, 0.999)): beta1 (wrong)").y
    for y in (sgd_m, beta1):
        assert y[0] == pytest.approx(high) and y.min() == pytest.approx(low, abs=1e-9)
    assert np.all(demo.intended.y == 0.0)
    assert np.all(demo.trace("Adam, cycle_momentum=False: beta1 (intended)").y == 0.9)


def test_an_sgd_built_without_momentum_really_uses_momentum_under_one_cycle():
    weight = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([weight], lr=0.1, momentum=0.0)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    lrs, moms = [], []
    for _ in range(2):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        weight.grad = torch.ones(1)
        opt.step()
        sched.step()
    assert "momentum_buffer" in opt.state[weight]
    # by hand: buf1 = 1, buf2 = μ·buf1 + 1; plain SGD would have moved by lr0 + lr1 only
    expected = -(lrs[0] * 1.0 + lrs[1] * (moms[1] * 1.0 + 1.0))
    assert weight.item() == pytest.approx(expected, rel=1e-6)
    assert weight.item() < -(lrs[0] + lrs[1]) - 1e-6


# ---- every fix runs and draws the intended curve --------------------------------------------------------

FIX_RUNNER = textwrap.dedent(
    """
    import json, sys
    results = []
    for job in json.load(sys.stdin):
        namespace = {"__name__": "pitfall_fix"}
        exec(compile(job["code"], "<fix>", "exec"), namespace)  # our own snippets, never user text
        results.append([float(v) for v in namespace[job["output"]]])
    json.dump(results, sys.stdout)
    """
)

VARIANTS = {  # the defaults, and each pitfall with its settings changed
    "step-order": {"epochs": 7, "warmup_epochs": 2},
    "step-unit": {"epochs": 3, "steps_per_epoch": 7},
    "grad-accumulation": {"accumulation": 3, "optimizer_steps": 40},
    "cosine-past-end": {"schedule_steps": 30, "run_steps": 75},
    "onecycle-past-end": {"total_steps": 33, "anneal_strategy": "cos"},
    "warmup-from-zero": {"warmup_steps": 1, "total_steps": 12},
    "resume-last-epoch": {"T_max": 25, "resume_at": 24},
    "sequential-milestones": {"warmup_steps": 3, "total_steps": 30},
    "momentum-cycling": {"scheduler": "CyclicLR", "steps": 50},
}


def test_every_fix_runs_in_a_fresh_interpreter_and_draws_the_intended_curve():
    jobs, expected = [], []
    for pitfall_id, pitfall in PITFALLS.items():
        if pitfall.fix_runs_with != "python":
            continue
        for values in ({}, VARIANTS[pitfall_id]):
            jobs.append({"code": pitfall.fix_code(values), "output": pitfall.fix_output})
            expected.append((pitfall_id, values, run(pitfall_id, values).intended.y))
    assert len(jobs) == 18
    done = subprocess.run(
        [sys.executable, "-c", FIX_RUNNER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for got, (pitfall_id, values, want) in zip(json.loads(done.stdout), expected, strict=True):
        assert len(got) == len(want), (pitfall_id, values)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=f"{pitfall_id} {values}")


# ---- 10. Lightning's default interval, with a real Trainer ---------------------------------------------------

LIGHTNING_RUNNER = textwrap.dedent(
    """
    import json, runpy, sys
    import torch
    import lightning as L

    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        namespace = {"__name__": "pitfall_fix"}
        exec(compile(job["code"], "<module>", "exec"), namespace)  # our own snippets, never user text
        seen = []

        class Record(L.Callback):
            def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
                seen.append(trainer.optimizers[0].param_groups[0]["lr"])

        trainer = L.Trainer(
            max_epochs=job["epochs"],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=job["root"],
            accelerator="cpu",
            callbacks=[Record()],
        )
        data = torch.utils.data.DataLoader(torch.randn(job["steps_per_epoch"], 10), batch_size=1)
        trainer.fit(namespace["Model"](), data)
        results.append(seen)
    runpy.run_path(jobs[-1]["script"], run_name="__main__")  # the fix as a script, as a reader runs it
    with open(jobs[-1]["out"], "w") as out:
        json.dump(results, out)
    """
)


def test_lightning_steps_a_scheduler_once_per_epoch_by_default_and_per_step_with_the_fix(tmp_path):
    values = {"epochs": 3, "steps_per_epoch": 4}
    pitfall = PITFALLS["lightning-epoch-interval"]
    demo = pitfall.run(values)
    fix = pitfall.fix_code(values)
    default = fix.replace('{"scheduler": scheduler, "interval": "step"}', "scheduler")
    assert default != fix and '"interval"' not in default.split("def configure_optimizers")[1]
    script = tmp_path / "fix.py"
    script.write_text(fix)
    common = {**values, "root": str(tmp_path), "script": str(script), "out": str(tmp_path / "lrs.json")}
    jobs = [{"code": default, **common}, {"code": fix, **common}]
    done = subprocess.run(
        [sys.executable, "-c", LIGHTNING_RUNNER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    by_default, with_fix = json.loads((tmp_path / "lrs.json").read_text())
    assert len(by_default) == len(with_fix) == 12
    # the page's claim: once per epoch (epoch e trains at the schedule's value e) …
    close(by_default, demo.wrong.y)
    close(by_default, 0.1 * hf_linear(np.arange(12) // 4, 1, 12))
    # … and the fix is stepped per optimizer step
    close(with_fix, demo.intended.y)
    close(with_fix, 0.1 * hf_linear(np.arange(12), 1, 12))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fix.py", "lrs.json"]  # no logs, no checkpoints


# ---- the chart --------------------------------------------------------------------------------------------


def test_the_chart_draws_every_trace_with_wrong_in_red_and_intended_in_green():
    demo = run("cosine-past-end")
    fig = figure(demo)
    names = [t.name for t in fig.data]
    assert sorted(names) == sorted(t.name for t in demo.traces)
    colors = {t.name: t.line.color for t in fig.data}
    assert colors[demo.wrong.name] == "#d62728" and colors[demo.intended.name] == "#2ca02c"
    assert fig.layout.yaxis.title.text == "learning rate"
    assert [s.x0 for s in fig.layout.shapes] == [100]


def test_a_long_trace_is_decimated_to_its_envelope():
    demo = run("step-unit", {"epochs": 50, "steps_per_epoch": 200})  # 10,000 steps
    fig = figure(demo)
    wiggle = next(t for t in fig.data if t.name == "T_max in epochs, stepped per batch (wrong)")
    y = np.asarray(wiggle.y)
    assert len(y) <= 2002 and y.max() == pytest.approx(0.1) and y.min() < 1e-12


# ---- the page (AppTest) ------------------------------------------------------------------------------------


def _page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("pages/pitfalls.py")
    at.query_params.clear()
    at.query_params.update(query or {})
    return at.run()


def _chart(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _array(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def _traces(at: AppTest) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {t["name"]: (_array(t["x"]), _array(t["y"]).astype(np.float64)) for t in _chart(at)["data"]}


def _python_code(at: AppTest) -> list[str]:
    return [c.value for c in at.code if c.language == "python"]


def test_every_pitfall_renders_with_its_chart_facts_and_fix():
    at = _page()
    assert not at.exception
    for number, (pitfall_id, pitfall) in enumerate(PITFALLS.items(), start=1):
        at.radio(key="pf.pitfall").set_value(pitfall_id).run()
        assert not at.exception, pitfall_id
        assert at.header[0].value == f"{number}. {pitfall.title}"
        demo: Demo = run(pitfall_id)
        traces = _traces(at)
        assert set(traces) == {t.name for t in demo.traces}
        x, y = traces[demo.wrong.name]
        close(y, demo.wrong.y[np.searchsorted(demo.wrong.x, x)])
        assert [m.label for m in at.metric] == [f.label for f in demo.facts]
        assert _python_code(at) == [pitfall.fix_code().rstrip("\n")]
        assert at.query_params["pitfall"] == [pitfall_id] or at.query_params["pitfall"] == pitfall_id
        for message in demo.messages:
            assert any(c.value == message.line for c in at.code), pitfall_id


def test_the_librarys_own_message_is_shown_verbatim():
    at = _page({"pitfall": "resume-last-epoch"})
    assert f"KeyError: {RESUME_KEYERROR}" in [c.value for c in at.code]
    at = _page({"pitfall": "onecycle-past-end", "total_steps": "10"})
    assert "ValueError: Tried to step 11 times. The specified number of total steps is 10" in [c.value for c in at.code]


def test_a_link_opens_its_pitfall_with_its_settings():
    at = _page({"pitfall": "cosine-past-end", "schedule_steps": "50", "run_steps": "80"})
    assert not at.exception
    assert at.header[0].value.startswith("4. Cosine")
    assert at.radio(key="pf.pitfall").value == "cosine-past-end"
    x, y = _traces(at)["CosineAnnealingLR(T_max) (wrong)"]
    assert x.max() == 79
    close(y, cosine(x, 0.1, 50), atol=1e-12)
    assert "run_steps = 80" in _python_code(at)[0] and "was T_max=50" in _python_code(at)[0]


def test_an_unknown_pitfall_in_a_link_gets_a_notice_and_the_first_pitfall():
    at = _page({"pitfall": "no-such-thing"})
    assert not at.exception
    assert any("no pitfall called “no-such-thing”" in w.value for w in at.warning)
    assert at.header[0].value.startswith("1. ")
    assert at.radio(key="pf.pitfall").value == "step-order"


def test_bad_values_in_a_link_are_reported_and_the_defaults_kept():
    at = _page({"pitfall": "step-unit", "epochs": "9999", "colour": "red"})
    notice = " ".join(i.value for i in at.info)
    assert "epochs=9999" in notice and "colour (not a setting of this pitfall)" in notice
    assert at.number_input(key="pf.step-unit.epochs").value == 10


def test_settings_that_do_not_fit_together_get_an_inline_error_and_no_traceback():
    at = _page({"pitfall": "warmup-from-zero"})
    at.number_input(key="pf.warmup-from-zero.warmup_steps").set_value(60).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Invalid warmup_steps (60): must be less than total_steps (50)"]
    assert _python_code(at)  # the fix is still shown


def test_changing_a_setting_redraws_the_chart_and_the_fix():
    at = _page({"pitfall": "grad-accumulation"})
    at.number_input(key="pf.grad-accumulation.accumulation").set_value(8).run()
    assert not at.exception
    _, y = _traces(at)["sized in optimizer steps, stepped per micro-batch (wrong)"]
    assert np.all(y[200 // 8 :] == 0.0) and y[200 // 8 - 1] > 0
    assert "accumulation, optimizer_steps = 8, 200" in _python_code(at)[0]
    assert at.query_params["accumulation"] in ("8", ["8"])
