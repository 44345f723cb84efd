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
