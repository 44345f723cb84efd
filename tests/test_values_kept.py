"""Every value a user types, links or imports reaches the config exactly, or is refused with a message
naming the field, the value and what is allowed; nothing is clamped into a widget's range."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lrlab

ROOT = Path(__file__).resolve().parents[1]
PLAYGROUND = str(ROOT / "pages" / "playground.py")
COMPARE = str(ROOT / "pages" / "compare.py")


def _page(path: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def _config(at: AppTest) -> dict:
    """The config the Playground last drew (what its export and link are made from)."""
    return json.loads(at.session_state["pg.last_good"])


def _import(at: AppTest, prefix: str, text: str) -> AppTest:
    at.session_state[f"{prefix}.import_open"] = True  # open "Import a config": its widgets are drawn while open
    at.run()
    at.text_area(key=f"{prefix}.import_text").set_value(text).run()
    return at.button(key=f"{prefix}.import_load").click().run()


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


HF_ARGS = json.dumps({"learning_rate": 20, "lr_scheduler_type": "linear", "max_steps": 100, "warmup_steps": 10})
YAML = "scheduler: StepLR\nbase_lr: 20\nsteps: 100\nparams:\n  step_size: 30\n  gamma: 0.5\n"


def test_an_imported_yaml_base_lr_of_20_stays_20_in_the_playground() -> None:
    at = _import(_page(PLAYGROUND), "pg", YAML)
    assert not at.exception and not _errors(at)
    assert at.number_input(key="pg.base_lr").value == 20
    assert _config(at)["base_lr"] == 20


def test_an_imported_training_args_learning_rate_of_20_stays_20_in_the_playground() -> None:
    at = _import(_page(PLAYGROUND), "pg", HF_ARGS)
    assert not at.exception and not _errors(at)
    assert _config(at)["base_lr"] == 20


def test_an_imported_training_args_learning_rate_of_20_stays_20_in_compare() -> None:
    at = _import(_page(COMPARE), "cmp", HF_ARGS)
    assert not at.exception
    added = at.session_state["cmp.entries"][-1]
    assert added["base_lr"] == 20
    assert at.number_input(key=f"cmp.{added['id']}.base_lr").value == 20


def test_an_imported_param_outside_the_slider_range_is_kept() -> None:
    # step_size 5000 in a 100-step run: far past the helper slider's 2 × steps, still allowed by torch
    at = _import(_page(PLAYGROUND), "pg", YAML.replace("step_size: 30", "step_size: 5000"))
    assert not at.exception and not _errors(at)
    assert _config(at)["params"]["step_size"] == 5000


def test_a_link_keeps_base_lr_20_a_big_step_size_and_gamma_0_4_exactly() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR", "steps": "20", "base_lr": "20", "step_size": "50", "gamma": "0.4"})
    assert not at.exception and not _errors(at)
    config = _config(at)
    assert config["base_lr"] == 20 and config["steps"] == 20
    assert config["params"] == {"step_size": 50, "gamma": 0.4}


@pytest.mark.parametrize(
    ("scheduler", "param", "value"),
    [
        ("StepLR", "gamma", 0.4),  # a float slider's helper, step 0.001
        ("StepLR", "step_size", 5000),  # an int slider sized by steps, typed past its end
        ("CosineAnnealingLR", "eta_min", 0.0001234),  # a log select_slider's helper, off its grid
        ("OneCycleLR", "max_lr", 37.5),  # a log param past the slider's grid
        ("CosineAnnealingWarmRestarts", "T_mult", 3),  # a plain int box
        ("OneCycleLR", "div_factor", 123.456),  # a float without a slider
    ],
)
def test_a_typed_value_reaches_the_config_exactly(scheduler: str, param: str, value: float) -> None:
    at = _page(PLAYGROUND, {"scheduler": scheduler})
    at.number_input(key=f"pg.{scheduler}.{param}").set_value(value).run()
    assert not at.exception and not _errors(at)
    assert _config(at)["params"][param] == value


@pytest.mark.parametrize("lr", [20.0, 100.0, 1.234e-7, 0.0001234])
def test_a_typed_learning_rate_reaches_the_config_exactly(lr: float) -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR"})
    at.number_input(key="pg.base_lr").set_value(lr).run()
    assert not at.exception and not _errors(at)
    assert _config(at)["base_lr"] == lr


def test_a_typed_value_out_of_bounds_is_kept_and_refused_with_field_value_and_range() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR"})
    at.number_input(key="pg.StepLR.gamma").set_value(3.0).run()
    assert not at.exception
    assert at.number_input(key="pg.StepLR.gamma").value == 3.0  # not clamped to 2
    message = _errors(at)
    assert "gamma" in message and "3" in message and "[0, 2]" in message


def test_a_non_positive_learning_rate_is_refused_naming_base_lr() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR"})
    at.number_input(key="pg.base_lr").set_value(0.0).run()
    assert not at.exception
    assert at.number_input(key="pg.base_lr").value == 0.0
    message = _errors(at)
    assert "base_lr (0.0)" in message and "must be a finite number > 0" in message


# ---- a learning rate above 1000 (torch's optimizers take any lr >= 0) ---------------------------------


def _torch_step_lr(base_lr: float, step_size: int, gamma: float, steps: int) -> list[float]:
    """torch's StepLR in a training loop: the lr each optimizer step uses."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


#: base_lr 5000, step_size 5, gamma 0.1, 20 steps, by hand: 5000 × 0.1^⌊t/5⌋
BIG_LR = [5000.0] * 5 + [500.0] * 5 + [50.0] * 5 + [5.0] * 5


def _drawn(at: AppTest) -> np.ndarray:
    """The lr the Playground's chart draws for the library (its "library" trace)."""
    trace = next(t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] if t.get("name") == "library")
    y = trace["y"]
    return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]) if isinstance(y, dict) else np.asarray(y)


def test_a_base_lr_of_5000_gives_torchs_step_lr_curve() -> None:
    expected = _torch_step_lr(5000.0, 5, 0.1, 20)
    np.testing.assert_allclose(expected, BIG_LR, rtol=1e-12)  # the loop is the hand computation
    curve = lrlab.curve("StepLR", base_lr=5000, step_size=5, steps=20)
    np.testing.assert_allclose(curve["lr"].to_numpy(), expected, rtol=1e-12)


def _kept_5000(at: AppTest) -> None:
    assert not at.exception and not _errors(at), _errors(at)
    assert not [i.value for i in at.info if "ignored" in i.value]
    assert at.number_input(key="pg.base_lr").value == 5000
    assert _config(at)["base_lr"] == 5000
    np.testing.assert_allclose(_drawn(at), BIG_LR, rtol=1e-12)


def test_a_typed_base_lr_of_5000_is_kept_and_drawn_in_the_playground() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR", "steps": "20", "step_size": "5", "gamma": "0.1"})
    at.number_input(key="pg.base_lr").set_value(5000.0).run()
    _kept_5000(at)
    assert at.query_params["base_lr"] in (["5000.0"], "5000.0")  # and its link carries it


def test_a_link_with_base_lr_5000_is_kept_and_drawn() -> None:
    _kept_5000(_page(PLAYGROUND, {"scheduler": "StepLR", "steps": "20", "base_lr": "5000", "step_size": "5"}))


def test_an_imported_yaml_base_lr_of_5000_is_kept_and_drawn() -> None:
    text = "scheduler: StepLR\nbase_lr: 5000\nsteps: 20\nparams:\n  step_size: 5\n  gamma: 0.1\n"
    _kept_5000(_import(_page(PLAYGROUND), "pg", text))


@pytest.mark.parametrize("raw", ["0", "-1", "inf", "nan", "1e400"])
def test_a_link_base_lr_that_is_not_a_finite_positive_number_is_refused_naming_it(raw: str) -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR", "base_lr": raw})
    notice = " ".join(i.value for i in at.info if "ignored" in i.value)
    assert f"base_lr={raw} (a finite number > 0)" in notice
    assert _config(at)["base_lr"] == 0.1  # the page's default, not a clamped value


def test_moving_the_helper_slider_sets_the_typed_value() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR", "steps": "20"})
    at.slider(key="pg.StepLR.step_size.slider").set_value(26).run()
    assert at.number_input(key="pg.StepLR.step_size").value == 26
    assert _config(at)["params"]["step_size"] == 26


def test_a_compare_link_keeps_a_curve_base_lr_of_5000_and_names_a_refused_one() -> None:
    curves = [
        {"label": "big", "scheduler": "StepLR", "params": {"step_size": 5}, "base_lr": 5000},
        {"label": "zero", "scheduler": "StepLR", "params": {}, "base_lr": 0},
    ]
    at = _page(COMPARE, {"steps": "20", "curves": json.dumps(curves)})
    assert not at.exception
    big, zero = at.session_state["cmp.entries"]
    assert big["base_lr"] == 5000 and zero["base_lr"] == 0.1  # refused: the default, not a clamped value
    notice = " ".join(i.value for i in at.info if "ignored" in i.value).replace("\\", "")
    assert "curves[1].base_lr=0 (must be a finite number > 0)" in notice


# ---- a scheduler's own absolute lr above 1000 (issue 13: the libraries take any lr >= 0) --------------


def _torch_loop(
    make, base_lr: float, steps: int, metrics: list[float] | None = None, optimizer_class=torch.optim.SGD
) -> list[float]:
    """The torch scheduler ``make(optimizer)`` in a training loop: the lr each optimizer step uses (SGD with
    momentum, or the Trainer's AdamW for transformers' schedules)."""
    kwargs = {"momentum": 0.9} if optimizer_class is torch.optim.SGD else {}
    optimizer = optimizer_class([torch.nn.Parameter(torch.zeros(1))], lr=base_lr, **kwargs)
    scheduler = make(optimizer)
    lrs = []
    for t in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if metrics is None:
            scheduler.step()
        elif t < steps - 1:
            scheduler.step(metrics[t])
    return lrs


S = torch.optim.lr_scheduler
BIG_TORCH = [  # (lrlab name, lrlab params, base lr, torch's own scheduler built with the same numbers)
    (
        "OneCycleLR",
        {"max_lr": 5000.0, "total_steps": 20},
        0.1,
        lambda o: S.OneCycleLR(o, max_lr=5000.0, total_steps=20),
    ),
    (
        "CosineAnnealingLR",
        {"T_max": 10, "eta_min": 2000.0},
        5000.0,
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=2000.0),
    ),
    (
        "CosineAnnealingWarmRestarts",
        {"T_0": 7, "eta_min": 1500.0},
        5000.0,
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1500.0),
    ),
    (
        "CyclicLR",
        {"max_lr": 5000.0, "step_size_up": 4},
        2000.0,  # CyclicLR's own base_lr is the run's base lr
        lambda o: S.CyclicLR(o, base_lr=2000.0, max_lr=5000.0, step_size_up=4),
    ),
    (
        "SWALR",
        {"swa_lr": 5000.0, "anneal_epochs": 6},
        0.1,
        lambda o: torch.optim.swa_utils.SWALR(o, swa_lr=5000.0, anneal_epochs=6),
    ),
]


@pytest.mark.parametrize(("name", "params", "base_lr", "make"), BIG_TORCH, ids=[c[0] for c in BIG_TORCH])
def test_an_absolute_lr_above_1000_gives_torchs_own_curve(name, params, base_lr, make) -> None:
    expected = _torch_loop(make, base_lr, 20)
    assert max(expected) >= 2000  # the curve really is up there
    curve = lrlab.curve(name, steps=20, base_lr=base_lr, **params)
    np.testing.assert_allclose(curve["lr"].to_numpy(), expected, rtol=1e-12)


def test_cosine_annealing_to_an_eta_min_of_2000_from_5000_is_the_formula_by_hand() -> None:
    # η_t = η_min + (η_0 − η_min)(1 + cos(π t / T)) / 2, T = 10: 5000 at t = 0, 3500 at t = 5, 2000 at t = 10
    by_hand = [2000.0 + 3000.0 * (1 + np.cos(np.pi * t / 10)) / 2 for t in range(11)]
    curve = lrlab.curve("CosineAnnealingLR", steps=11, base_lr=5000.0, T_max=10, eta_min=2000.0)
    np.testing.assert_allclose(curve["lr"].to_numpy(), by_hand, rtol=1e-12)
    assert by_hand[0] == 5000.0 and by_hand[5] == pytest.approx(3500.0) and by_hand[10] == 2000.0


def test_reduce_on_plateau_holds_a_min_lr_of_2000_as_torch_does() -> None:
    metrics = [1.0] * 12  # never improves: ×0.5 after every 2 bad evaluations, down to min_lr
    expected = _torch_loop(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=2000.0), 9000.0, 13, metrics)
    assert expected[-1] == 2000.0 and 4500.0 in expected
    curve = lrlab.curve(
        "ReduceLROnPlateau", steps=13, base_lr=9000.0, metrics=metrics, factor=0.5, patience=1, min_lr=2000.0
    )
    np.testing.assert_array_equal(curve["lr"].to_numpy(), expected)


def test_transformers_lr_end_and_min_lr_above_1000_give_transformers_own_curves() -> None:
    transformers = pytest.importorskip("transformers")
    poly = _torch_loop(
        lambda o: transformers.get_polynomial_decay_schedule_with_warmup(o, 2, 12, lr_end=2000.0, power=2.0),
        5000.0,
        15,
        optimizer_class=torch.optim.AdamW,
    )
    got = lrlab.curve(
        "get_polynomial_decay_schedule_with_warmup",
        steps=15,
        base_lr=5000.0,
        optimizer="adamw",
        num_warmup_steps=2,
        num_training_steps=12,
        lr_end=2000.0,
        power=2.0,
    )
    np.testing.assert_allclose(got["lr"].to_numpy(), poly, rtol=1e-12)
    assert poly[-1] == 2000.0
    floor = _torch_loop(
        lambda o: transformers.get_cosine_with_min_lr_schedule_with_warmup(o, 2, 12, min_lr=2000.0),
        5000.0,
        15,
        optimizer_class=torch.optim.AdamW,
    )
    got = lrlab.curve(
        "get_cosine_with_min_lr_schedule_with_warmup",
        steps=15,
        base_lr=5000.0,
        optimizer="adamw",
        num_warmup_steps=2,
        num_training_steps=12,
        min_lr=2000.0,
        min_lr_rate=None,
    )
    np.testing.assert_allclose(got["lr"].to_numpy(), floor, rtol=1e-12)
    assert floor[12] == pytest.approx(2000.0)


@pytest.mark.parametrize(
    ("name", "params", "field", "rule"),
    [
        ("OneCycleLR", {"max_lr": -5000.0}, "max_lr", "must be a finite number > 0"),
        ("OneCycleLR", {"max_lr": 0.0}, "max_lr", "must be a finite number > 0"),
        ("CosineAnnealingLR", {"eta_min": -1.0}, "eta_min", "must be a finite number ≥ 0"),
        ("CyclicLR", {"max_lr": float("inf")}, "max_lr", "must be a finite number ≥ 0"),
        ("SWALR", {"swa_lr": -2000.0}, "swa_lr", "must be a finite number ≥ 0"),
        ("get_polynomial_decay_schedule_with_warmup", {"lr_end": -1e-3}, "lr_end", "must be a finite number ≥ 0"),
    ],
)
def test_a_negative_or_non_finite_absolute_lr_is_refused_naming_field_value_and_rule(name, params, field, rule) -> None:
    with pytest.raises(lrlab.LrlabError) as caught:
        lrlab.curve(name, steps=20, **params)
    assert caught.value.field == field
    assert str(caught.value) == f"Invalid {field} ({params[field]}): {rule}"


#: The Playground on OneCycleLR over 20 steps (its total_steps follows the run)
ONE_CYCLE = {"scheduler": "OneCycleLR", "steps": "20"}


def _kept_max_lr_5000(at: AppTest) -> None:
    assert not at.exception and not _errors(at), _errors(at)
    assert not [i.value for i in at.info if "ignored" in i.value]
    assert at.number_input(key="pg.OneCycleLR.max_lr").value == 5000
    assert _config(at)["params"]["max_lr"] == 5000
    expected = _torch_loop(lambda o: S.OneCycleLR(o, max_lr=5000.0, total_steps=20), 0.1, 20)
    np.testing.assert_allclose(_drawn(at), expected, rtol=1e-12)


def test_a_typed_one_cycle_max_lr_of_5000_is_kept_drawn_and_linked() -> None:
    at = _page(PLAYGROUND, ONE_CYCLE)
    at.number_input(key="pg.OneCycleLR.max_lr").set_value(5000.0).run()
    _kept_max_lr_5000(at)
    assert at.select_slider(key="pg.OneCycleLR.max_lr.slider").value == 5000  # the helper slider holds it
    assert at.query_params["max_lr"] in (["5000.0"], "5000.0")  # and its link carries it


def test_a_link_with_one_cycle_max_lr_5000_is_kept_and_drawn() -> None:
    _kept_max_lr_5000(_page(PLAYGROUND, {**ONE_CYCLE, "max_lr": "5000"}))


def test_an_imported_yaml_one_cycle_max_lr_of_5000_is_kept_and_drawn() -> None:
    text = "scheduler: OneCycleLR\nbase_lr: 0.1\nsteps: 20\nparams:\n  max_lr: 5000\n  total_steps: 20\n"
    _kept_max_lr_5000(_import(_page(PLAYGROUND), "pg", text))


def test_a_link_or_typed_negative_max_lr_is_refused_naming_field_value_and_rule() -> None:
    at = _page(PLAYGROUND, {**ONE_CYCLE, "max_lr": "-5000"})
    notice = " ".join(i.value for i in at.info if "ignored" in i.value)
    assert "Invalid max_lr (-5000): must be a finite number > 0" in notice
    assert _config(at)["params"].get("max_lr", 0.1) == 0.1  # the default, not a clamped value
    at.number_input(key="pg.OneCycleLR.max_lr").set_value(-5000.0).run()
    assert not at.exception
    assert at.number_input(key="pg.OneCycleLR.max_lr").value == -5000.0  # kept as typed
    assert "Invalid max_lr (-5000.0): must be a finite number > 0" in _errors(at)
