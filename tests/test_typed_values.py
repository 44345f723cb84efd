"""Every value can be typed exactly, and a link refuses only what the page itself refuses, saying why.

- Inputs that were sliders only (the LR finder's lrs, a group's min_lr, hidden units and batch size,
  the explained step, the Lesson's knobs in tests/test_lesson.py) have a typed box that holds the truth;
  the slider under it is a helper. A typed value is kept as typed; out of range, validation names the
  field, the value and the allowed range (nothing is clamped by the widget).
- A refused link value is named with what is allowed; a value the widgets accept comes back from a link.
- Compose never shows a linked child as another scheduler.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def _page(name: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _query(at: AppTest) -> dict[str, str]:
    return {k: v[-1] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


def _ignored(at: AppTest) -> str:
    return " ".join(i.value for i in at.info if "ignored" in i.value).replace("\\", "")


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error).replace("\\", "")


def _config(at: AppTest, key: str) -> dict:
    raw = at.session_state[key]
    return json.loads(raw[0] if isinstance(raw, tuple) else raw)


# ---- refused link values name the field, the value and the allowed range -----------------------------


@pytest.mark.parametrize(
    ("page", "query", "expected"),
    [
        ("playground", {"steps": "2000000"}, "steps=2000000 (an integer from 1 to 1000000)"),
        ("playground", {"base_lr": "-5000"}, "base_lr=-5000 (a finite number > 0)"),
        ("playground", {"optimizer": "lion"}, "optimizer=lion (one of 'sgd', 'adam', 'adamw', 'adagrad')"),
        ("custom", {"steps": "0"}, "steps=0 (an integer from 1 to 100000)"),
        ("compare", {"steps": "2000000"}, "steps=2000000 (an integer from 1 to 1000000)"),
        ("compare", {"drop_last": "maybe"}, "drop_last=maybe (true or false)"),
        ("plateau", {"base_lr": "0"}, "base_lr=0 (a finite number > 0)"),
        ("plateau", {"groups": "2", "lr_1": "0"}, "lr_1=0 (a finite number > 0)"),
        ("plateau", {"groups": "2", "lr_1": "1e400"}, "lr_1=1e400 (a finite number > 0)"),
        ("custom", {"groups": "2", "lr_1": "-1"}, "lr_1=-1 (a finite number > 0)"),
        ("lr_finder", {"start_lr": "5"}, "start_lr=5 (a number from 1e-10 to 1)"),
        ("lr_finder", {"end_lr": "500"}, "end_lr=500 (a number from 1e-08 to 100)"),
        ("lr_finder", {"num_it": "5"}, "num_it=5 (an integer from 10 to 1000)"),
        ("lr_finder", {"hidden": "3"}, "hidden=3 (an integer from 4 to 512)"),
        ("lr_finder", {"batch_size": "2048"}, "batch_size=2048 (an integer from 8 to 1024)"),
        ("lr_finder", {"model": "rnn"}, "model=rnn (one of 'mlp', 'cnn')"),
        ("plateau", {"groups": "2", "min_lr_1": "-1"}, "min_lr_1=-1 (a finite number ≥ 0)"),
        ("playground", {"scheduler": "OneCycleLR", "max_lr": "-5000"}, "Invalid max_lr (-5000): must be a finite"),
        ("playground", {"scheduler": "CosineAnnealingLR", "eta_min": "-1"}, "Invalid eta_min (-1): must be a finite"),
        ("train", {"peak_lr": "inf"}, "peak_lr=inf (a finite number > 0)"),
        ("train", {"epochs": "500"}, "epochs=500 (an integer from 1 to 100)"),
    ],
)
def test_a_refused_link_value_is_named_with_what_is_allowed(page: str, query: dict, expected: str) -> None:
    assert expected in _ignored(_page(page, query))


@pytest.mark.parametrize(
    ("page", "query", "key", "value"),
    [
        ("plateau", {"groups": "2", "lr_1": "20"}, "pl.lr_1", 20.0),  # the audit's example (was refused above 10)
        ("plateau", {"groups": "2", "lr_1": "1e-9"}, "pl.lr_1", 1e-9),
        ("plateau", {"groups": "2", "lr_1": "5000"}, "pl.lr_1", 5000.0),  # was refused above 1000
        ("plateau", {"base_lr": "5000"}, "pl.base_lr", 5000.0),
        ("custom", {"groups": "2", "lr_1": "5000"}, "cu.lr_1", 5000.0),
        ("playground", {"base_lr": "5000"}, "pg.base_lr", 5000.0),
        ("plateau", {"groups": "2", "min_lr_1": "0.0375"}, "pl.min_lr_1", 0.0375),
        ("plateau", {"groups": "2", "min_lr_1": "5000"}, "pl.min_lr_1", 5000.0),  # was refused above 1000
        ("playground", {"scheduler": "OneCycleLR", "max_lr": "5000"}, "pg.OneCycleLR.max_lr", 5000.0),  # likewise
        ("playground", {"scheduler": "SWALR", "swa_lr": "2500"}, "pg.SWALR.swa_lr", 2500.0),
        (
            "playground",
            {"scheduler": "timm:CosineLRScheduler", "lr_min": "1e4"},
            "pg.timm:CosineLRScheduler.lr_min",
            1e4,
        ),
        ("custom", {"groups": "2", "lr_1": "1e-9"}, "cu.lr_1", 1e-9),  # was refused below 1e-8
        ("lr_finder", {"start_lr": "1.234e-9"}, "lf.start_lr", 1.234e-9),
        ("lr_finder", {"end_lr": "1e-7"}, "lf.end_lr", 1e-7),  # lr_find takes it; the old slider started at 1e-6
        ("lr_finder", {"hidden": "48"}, "lf.hidden", 48),  # any count in range, not only a power of two
        ("lr_finder", {"batch_size": "100"}, "lf.batch_size", 100),
    ],
)
def test_a_value_the_page_accepts_comes_back_from_a_link_exactly(page: str, query: dict, key: str, value) -> None:
    at = _page(page, query)
    assert not _ignored(at)
    assert at.number_input(key=key).value == value


def test_a_plateau_group_lr_typed_as_20_round_trips_through_the_pages_link() -> None:
    at = _page("plateau")
    at.number_input(key="pl.groups").set_value(2).run()
    at.number_input(key="pl.lr_1").set_value(20.0).run()
    assert not _errors(at) and _query(at)["lr_1"] == "20.0"
    again = _page("plateau", _query(at))
    assert not _ignored(again) and again.number_input(key="pl.lr_1").value == 20.0


# ---- typed exactly, with the slider as a helper --------------------------------------------------------


def test_a_plateau_group_min_lr_is_typed_exactly_and_its_helper_slider_sets_it() -> None:
    at = _page("plateau")
    at.number_input(key="pl.groups").set_value(2).run()
    at.number_input(key="pl.min_lr_1").set_value(0.0123).run()  # off the helper's 1, 1.5, 2 … grid
    assert _config(at, "pl.last_good")["params"]["min_lr"] == [0.0, 0.0123]
    at.select_slider(key="pl.min_lr_1.slider").set_value(0.05).run()
    assert at.number_input(key="pl.min_lr_1").value == 0.05


def test_a_plateau_group_min_lr_out_of_range_is_kept_and_refused_naming_the_range() -> None:
    at = _page("plateau")
    at.number_input(key="pl.groups").set_value(2).run()
    at.number_input(key="pl.min_lr_1").set_value(-5.0).run()  # torch's min_lr has no upper bound; < 0 is refused
    assert at.number_input(key="pl.min_lr_1").value == -5.0
    assert "min_lr" in _errors(at) and "-5.0" in _errors(at) and "must be a finite number ≥ 0" in _errors(at)


def test_a_plateau_group_min_lr_above_1000_is_typed_exactly_and_reaches_the_config() -> None:
    at = _page("plateau")  # torch's ReduceLROnPlateau takes any min_lr >= 0 (the lr never goes below it)
    at.number_input(key="pl.groups").set_value(2).run()
    at.number_input(key="pl.lr_1").set_value(8000.0).run()
    at.number_input(key="pl.min_lr_1").set_value(5000.0).run()
    assert not _errors(at), _errors(at)
    assert _config(at, "pl.last_good")["params"]["min_lr"] == [0.0, 5000.0]
    assert at.select_slider(key="pl.min_lr_1.slider").value == 5000.0  # its helper slider holds the value


@pytest.mark.parametrize("page", ["compose", "custom"])
def test_a_group_lr_is_typed_exactly_and_one_out_of_range_is_kept_and_named(page: str) -> None:
    prefix = {"compose": "co", "custom": "cu"}[page]
    at = _page(page)
    at.number_input(key=f"{prefix}.groups").set_value(2).run()
    at.number_input(key=f"{prefix}.lr_1").set_value(1e-9).run()  # below the old box's 1e-8 floor
    assert not _errors(at)
    assert _config(at, f"{prefix}.last_good")["group_lrs"] == [1e-9]
    at.number_input(key=f"{prefix}.lr_1").set_value(5000.0).run()  # above the old bound of 1000: taken
    assert not _errors(at)
    assert _config(at, f"{prefix}.last_good")["group_lrs"] == [5000.0]
    at.number_input(key=f"{prefix}.lr_1").set_value(-2.0).run()
    assert at.number_input(key=f"{prefix}.lr_1").value == -2.0  # kept as typed, not clamped
    assert "lr_1 (-2.0)" in _errors(at) and "must be a finite number > 0" in _errors(at)


def test_the_lr_finder_lrs_are_typed_exactly_and_reach_the_link() -> None:
    at = _page("lr_finder")
    at.number_input(key="lf.start_lr").set_value(2.5e-7).run()
    at.number_input(key="lf.end_lr").set_value(3.3).run()
    assert _query(at)["start_lr"] == "2.5e-07" and _query(at)["end_lr"] == "3.3"
    at.select_slider(key="lf.end_lr.slider").set_value(5.0).run()
    assert at.number_input(key="lf.end_lr").value == 5.0


def test_hidden_units_and_batch_size_are_typed_exactly() -> None:
    at = _page("lr_finder")
    at.number_input(key="lf.hidden").set_value(48).run()
    at.number_input(key="lf.batch_size").set_value(100).run()
    assert _query(at)["hidden"] == "48" and _query(at)["batch_size"] == "100"
    at.select_slider(key="lf.hidden.slider").set_value(128).run()
    assert at.number_input(key="lf.hidden").value == 128


def test_hidden_units_out_of_range_are_kept_and_refused_naming_the_range() -> None:
    at = _page("train")
    at.number_input(key="tr.hidden").set_value(3).run()
    assert at.number_input(key="tr.hidden").value == 3
    assert "Invalid hidden (3): must be an integer from 4 to 512" in _errors(at)


def _explaining(query: dict[str, str] | None = None) -> AppTest:
    return _page("playground", {"scheduler": "StepLR", "explain": "0", **(query or {})})


def test_the_explained_step_is_typed_exactly_and_the_slider_follows() -> None:
    at = _explaining()
    at.number_input(key="pg.explain.typed").set_value(637).run()
    assert at.session_state["pg.explain.t"] == 637
    assert at.slider(key="pg.explain.step").value == 637
    assert _query(at)["explain"] == "637"
    at.slider(key="pg.explain.step").set_value(20).run()
    assert at.number_input(key="pg.explain.typed").value == 20


def test_an_explained_step_outside_the_run_is_kept_in_the_box_and_named() -> None:
    at = _explaining()
    at.number_input(key="pg.explain.typed").set_value(5000).run()
    assert at.number_input(key="pg.explain.typed").value == 5000
    assert at.session_state["pg.explain.t"] == 0  # the marker stays where it was
    assert "Step 5000 is not a step of this run: type a whole step from 0 to 999" in " ".join(
        c.value for c in at.caption
    ).replace("\\", "")


# ---- Compose: a ChainedScheduler child, never replaced silently -----------------------------------------


def _cfg(scheduler: str, children: list[dict], **extra) -> dict[str, str]:
    return {"cfg": json.dumps({"scheduler": scheduler, "steps": 200, "params": {"schedulers": children, **extra}})}


CHAIN = {
    "name": "ChainedScheduler",
    "schedulers": [{"name": "ConstantLR", "factor": 0.5, "total_iters": 20}, {"name": "ExponentialLR", "gamma": 0.99}],
}


def test_a_linked_chained_scheduler_first_child_is_shown_as_one() -> None:
    at = _page("compose", _cfg("SequentialLR", [CHAIN, {"name": "CosineAnnealingLR"}], milestones=[100]))
    assert not _ignored(at) and not _errors(at)
    assert at.selectbox(key="co.child.0").value == "ChainedScheduler"
    child = _config(at, "co.last_good")["params"]["schedulers"][0]
    assert child["name"] == "ChainedScheduler" and [c["name"] for c in child["schedulers"]] == [
        "ConstantLR",
        "ExponentialLR",
    ]


def test_a_linked_chained_scheduler_at_a_later_position_is_refused_naming_it() -> None:
    at = _page("compose", _cfg("SequentialLR", [{"name": "LinearLR"}, CHAIN], milestones=[100]))
    notice = _ignored(at)
    assert "schedulers[1].name ('ChainedScheduler')" in notice and "NotImplementedError" in notice  # torch's refusal
    assert at.selectbox(key="co.child.1").value == "CosineAnnealingLR"  # the page's default, not a stand-in


@pytest.mark.parametrize(
    ("children", "named"),
    [
        ([{"name": "ReduceLROnPlateau"}], "schedulers[0].name ('ReduceLROnPlateau'): a child must be a plain"),
        ([{"name": "NoSuchLR"}], "schedulers[0].name ('NoSuchLR'): not a scheduler name"),
        ([CHAIN], "schedulers[0].name ('ChainedScheduler'): a child must be a plain"),  # not inside a chain
    ],
)
def test_a_linked_child_the_page_cant_show_is_refused_naming_it(children: list, named: str) -> None:
    at = _page("compose", _cfg("ChainedScheduler", children))
    assert named in _ignored(at)
    assert at.radio(key="co.mode").value == "SequentialLR"  # nothing of the refused cfg was applied


def test_a_linked_childs_unknown_parameter_is_named() -> None:
    at = _page("compose", _cfg("ChainedScheduler", [{"name": "StepLR", "stepsize": 5}]))
    assert "schedulers[0].stepsize (not a parameter of StepLR" in _ignored(at)


def test_a_chained_scheduler_can_be_chosen_as_the_first_child_and_is_kept_when_it_no_longer_fits() -> None:
    at = _page("compose")
    at.selectbox(key="co.child.0").set_value("ChainedScheduler").run()
    assert not _errors(at)
    assert _config(at, "co.last_good")["params"]["schedulers"][0]["name"] == "ChainedScheduler"
    assert "ChainedScheduler" not in at.selectbox(key="co.child.1").options
    at.radio(key="co.mode").set_value("ChainedScheduler").run()
    assert at.selectbox(key="co.child.0").value == "ChainedScheduler"  # shown as it is, never replaced
    assert "schedulers[0]" in _errors(at) and "ChainedScheduler" in _errors(at)


def test_a_bad_schedule_in_a_train_link_is_named_with_what_is_allowed() -> None:
    schedules = [
        {"kind": "scheduler", "key": "StepLR", "params": {}, "interval": "hourly"},
        {"kind": "scheduler", "key": "NoSuchLR", "params": {}},
    ]
    notice = _ignored(_page("train", {"schedules": json.dumps(schedules), "epochs": "1"}))
    assert "schedules[0].interval=hourly (one of 'step', 'epoch'" in notice
    assert "schedules[1] (scheduler:NoSuchLR: a schedule is kind 'preset'" in notice
