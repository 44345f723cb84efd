"""Every value a user types, links or imports reaches the config exactly, or is refused with a message
naming the field, the value and what is allowed; nothing is clamped into a widget's range."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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
    assert "base_lr" in message and "(0, 1000]" in message


def test_moving_the_helper_slider_sets_the_typed_value() -> None:
    at = _page(PLAYGROUND, {"scheduler": "StepLR", "steps": "20"})
    at.slider(key="pg.StepLR.step_size.slider").set_value(26).run()
    assert at.number_input(key="pg.StepLR.step_size").value == 26
    assert _config(at)["params"]["step_size"] == 26
