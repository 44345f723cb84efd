"""Settings sized from the run follow the run, on every page that has them, until the user sets them.

The rule: a run-sized parameter (OneCycleLR's total_steps, T_max, a warm-up length, a SequentialLR
milestone) that the user never touched follows Steps (or Epochs); one the user set — typed, moved,
linked, imported, from a preset — stays, with a note and a "Follow the run" button when it no longer fits
the run. A link carries only the values the user set, so that a link with the same settings gives the
same curve as the same clicks in the UI.

For each page: change the run length → an untouched run-sized value follows; set it → it stays and
the note appears; "Follow the run" → it follows again; a link with the same settings → the same curve.
The LR finder has no run-sized setting (its num_it is the run itself); the Custom lambda page has none
either (its λ is typed in ``epoch``): there, a run-length change keeps everything the user typed.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "pages"


def _page(name: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _query(at: AppTest) -> dict[str, str]:
    return {k: v[-1] if isinstance(v, list) else v for k, v in dict(at.query_params).items()}


def _notes(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def _decode(v: Any) -> np.ndarray:
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def _trace(at: AppTest, name: str | None = None) -> np.ndarray:
    """The y values of the first chart's trace called ``name`` (the first trace without a name)."""
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    data = figure["data"]
    trace = next(t for t in data if name is None or t.get("name") == name)
    return _decode(trace["y"])


def _config(at: AppTest, key: str) -> dict:
    raw = at.session_state[key]
    return json.loads(raw[0] if isinstance(raw, tuple) else raw)


def _same_params(a: dict, b: dict) -> None:
    assert a["params"] == b["params"] and a["steps"] == b["steps"], (a, b)


# ---- Playground: OneCycleLR's total_steps (the example) ----------------------------------------

PG_TOTAL = "pg.OneCycleLR.total_steps"


class TestPlayground:
    def test_an_untouched_total_steps_follows_steps(self) -> None:
        at = _page("playground", {"scheduler": "OneCycleLR"})
        assert at.number_input(key=PG_TOTAL).value == 1000
        at.number_input(key="pg.steps").set_value(5000).run()
        assert at.number_input(key=PG_TOTAL).value == 5000
        assert _config(at, "pg.last_good")["params"]["total_steps"] == 5000

    def test_a_set_total_steps_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = _page("playground", {"scheduler": "OneCycleLR"})
        at.number_input(key=PG_TOTAL).set_value(1200).run()  # typed: the user's value
        at.number_input(key="pg.steps").set_value(5000).run()
        assert at.number_input(key=PG_TOTAL).value == 1200
        assert "total_steps = 1200 is shorter than the run's 5000 steps" in _notes(at)
        at.button(key=PG_TOTAL + ".follow").click().run()
        assert at.number_input(key=PG_TOTAL).value == 5000 and "shorter than" not in _notes(at)
        at.number_input(key="pg.steps").set_value(3000).run()
        assert at.number_input(key=PG_TOTAL).value == 3000  # following again

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = _page("playground", {"scheduler": "OneCycleLR"})
        ui.number_input(key="pg.steps").set_value(5000).run()
        linked = _page("playground", {"scheduler": "OneCycleLR", "steps": "5000"})
        assert _config(ui, "pg.last_good") == _config(linked, "pg.last_good")
        np.testing.assert_array_equal(_trace(ui, "library"), _trace(linked, "library"))
        assert PG_TOTAL.rsplit(".", 1)[1] not in _query(ui)  # the link leaves a following value out


# ---- Compare: the edited curve's total_steps --------------------------------------------------------

CMP_TOTAL = "cmp.1.OneCycleLR.total_steps"  # the second default curve is torch's OneCycleLR


def _compare_editing_one_cycle() -> AppTest:
    at = _page("compare")
    at.selectbox(key="cmp.selected").set_value(1).run()
    assert at.selectbox(key="cmp.1.scheduler").value == "OneCycleLR"
    return at


class TestCompare:
    def test_an_untouched_total_steps_follows_steps(self) -> None:
        at = _compare_editing_one_cycle()
        assert at.number_input(key=CMP_TOTAL).value == 1000
        at.number_input(key="cmp.steps").set_value(5000).run()
        assert at.number_input(key=CMP_TOTAL).value == 5000

    def test_a_set_total_steps_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = _compare_editing_one_cycle()
        at.number_input(key=CMP_TOTAL).set_value(1200).run()
        at.number_input(key="cmp.steps").set_value(5000).run()
        assert at.number_input(key=CMP_TOTAL).value == 1200
        assert "total_steps = 1200 is shorter than the run's 5000 steps" in _notes(at)
        at.button(key=CMP_TOTAL + ".follow").click().run()
        assert at.number_input(key=CMP_TOTAL).value == 5000 and "shorter than" not in _notes(at)

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = _compare_editing_one_cycle()
        ui.number_input(key="cmp.steps").set_value(5000).run()
        curves = [{"label": "torch OneCycleLR", "scheduler": "OneCycleLR", "params": {}}]
        linked = _page("compare", {"steps": "5000", "curves": json.dumps(curves)})
        np.testing.assert_array_equal(_trace(ui, "torch OneCycleLR"), _trace(linked, "torch OneCycleLR"))


# ---- Compose: the SequentialLR milestone and the children's sizes -----------------------------------

CO_MILESTONE = "co.m.1"
CO_TMAX = "co.1.CosineAnnealingLR.T_max"


class TestCompose:
    def test_an_untouched_milestone_and_child_size_follow_steps(self) -> None:
        at = _page("compose")
        assert at.number_input(key=CO_MILESTONE).value == 500 and at.number_input(key=CO_TMAX).value == 1000
        at.number_input(key="co.steps").set_value(5000).run()
        assert at.number_input(key=CO_MILESTONE).value == 2500
        assert at.number_input(key=CO_TMAX).value == 5000
        assert _config(at, "co.last_good")["params"]["milestones"] == [2500]

    def test_a_set_milestone_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = _page("compose")
        at.number_input(key=CO_MILESTONE).set_value(700).run()
        at.number_input(key="co.steps").set_value(5000).run()
        assert at.number_input(key=CO_MILESTONE).value == 700  # set: it stays
        at.number_input(key="co.steps").set_value(600).run()
        assert "milestone 1 = 700 is past the end of the run (600 steps)" in _notes(at)
        at.button(key=CO_MILESTONE + ".follow").click().run()
        assert at.number_input(key=CO_MILESTONE).value == 300 and "past the end" not in _notes(at)
        at.number_input(key="co.steps").set_value(2000).run()
        assert at.number_input(key=CO_MILESTONE).value == 1000

    def test_a_set_child_size_stays_with_a_note(self) -> None:
        at = _page("compose")
        at.number_input(key=CO_TMAX).set_value(800).run()
        at.number_input(key="co.steps").set_value(5000).run()
        assert at.number_input(key=CO_TMAX).value == 800
        assert "T_max = 800 is shorter than the run's 5000 steps" in _notes(at)

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = _page("compose")
        ui.number_input(key="co.steps").set_value(5000).run()
        cfg = {
            "scheduler": "SequentialLR",
            "steps": 5000,
            "params": {"schedulers": [{"name": "LinearLR"}, {"name": "CosineAnnealingLR"}]},
        }
        linked = _page("compose", {"cfg": json.dumps(cfg)})
        assert not [i.value for i in linked.info if "ignored" in i.value]
        _same_params(_config(ui, "co.last_good"), _config(linked, "co.last_good"))
        np.testing.assert_array_equal(_trace(ui), _trace(linked))

    def test_the_pages_own_link_keeps_following_values_following(self) -> None:
        ui = _page("compose")
        ui.number_input(key="co.steps").set_value(5000).run()
        reopened = _page("compose", _query(ui))
        _same_params(_config(ui, "co.last_good"), _config(reopened, "co.last_good"))
        reopened.number_input(key="co.steps").set_value(3000).run()  # nothing was set: everything follows
        assert reopened.number_input(key=CO_MILESTONE).value == 1500
        assert reopened.number_input(key=CO_TMAX).value == 3000

    def test_a_link_sets_only_the_values_it_gives(self) -> None:
        cfg = {
            "scheduler": "SequentialLR",
            "steps": 1000,
            "params": {
                "schedulers": [{"name": "LinearLR", "total_iters": 100}, {"name": "CosineAnnealingLR"}],
                "milestones": [100],
            },
        }
        at = _page("compose", {"cfg": json.dumps(cfg)})
        at.number_input(key="co.steps").set_value(4000).run()
        assert at.number_input(key="co.0.LinearLR.total_iters").value == 100  # given: stays
        assert at.number_input(key=CO_MILESTONE).value == 100  # given: stays
        assert at.number_input(key=CO_TMAX).value == 4000  # not given: follows

    def test_a_preset_sets_the_values_it_gives(self) -> None:
        at = _page("compose")
        at.selectbox(key="co.preset").set_value("warm-up → cosine").run()
        assert at.number_input(key=CO_MILESTONE).value == 100 and at.number_input(key=CO_TMAX).value == 900
        at.number_input(key="co.steps").set_value(3000).run()
        assert at.number_input(key=CO_MILESTONE).value == 100 and at.number_input(key=CO_TMAX).value == 900
        assert "T_max = 900 is shorter than the run's 3000 steps" in _notes(at)


# ---- Plateau: WarmupThenPlateau's warmup_steps, and its warm-up child --------------------------------

PL_K = "pl.WarmupThenPlateau.warmup_steps"
PL_CHILD = "pl.WarmupThenPlateau.warmup.text"


def _warmup_iters(at: AppTest) -> int:
    return json.loads(at.text_area(key=PL_CHILD).value)[0]["total_iters"]


class TestPlateau:
    def test_untouched_warmup_steps_and_child_follow_steps(self) -> None:
        at = _page("plateau", {"scheduler": "WarmupThenPlateau"})
        assert at.number_input(key=PL_K).value == 300 and _warmup_iters(at) == 300
        at.number_input(key="pl.steps").set_value(6000).run()
        assert at.number_input(key=PL_K).value == 600 and _warmup_iters(at) == 600

    def test_the_warmup_child_follows_a_set_warmup_steps(self) -> None:
        at = _page("plateau", {"scheduler": "WarmupThenPlateau"})
        at.number_input(key=PL_K).set_value(1000).run()
        assert _warmup_iters(at) == 1000  # the warm-up lasts as long as the loop runs it
        params = _config(at, "pl.last_good")["params"]
        assert params["warmup_steps"] == 1000 and params["warmup"][0]["total_iters"] == 1000

    def test_a_set_warmup_steps_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = _page("plateau", {"scheduler": "WarmupThenPlateau"})
        at.number_input(key=PL_K).set_value(2500).run()
        at.number_input(key="pl.steps").set_value(2000).run()
        assert at.number_input(key=PL_K).value == 2500
        assert "warmup_steps = 2500 is past the end of the run (2000 steps)" in _notes(at)
        at.button(key=PL_K + ".follow").click().run()
        assert at.number_input(key=PL_K).value == 200 and _warmup_iters(at) == 200

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = _page("plateau", {"scheduler": "WarmupThenPlateau"})
        ui.number_input(key="pl.steps").set_value(6000).run()
        ui.number_input(key=PL_K).set_value(1000).run()
        linked = _page("plateau", {"scheduler": "WarmupThenPlateau", "steps": "6000", "warmup_steps": "1000"})
        assert _config(ui, "pl.last_good") == _config(linked, "pl.last_good")
        np.testing.assert_array_equal(_trace(ui), _trace(linked))
        reopened = _page("plateau", _query(ui))  # the page's own link: the child is not carried, it follows
        assert _config(reopened, "pl.last_good") == _config(ui, "pl.last_good")
        assert "warmup" not in _query(ui)


# ---- Custom lambda: nothing run-sized; what the user typed stays ---------------------------------------


class TestCustom:
    def test_changing_steps_keeps_every_typed_value(self) -> None:
        at = _page("custom")
        at.text_input(key="cu.LambdaLR.expr_0").set_value("0.9 ** epoch * 0.99 ** epoch").run()
        at.number_input(key="cu.groups").set_value(2).run()
        at.number_input(key="cu.lr_1").set_value(20.0).run()
        at.number_input(key="cu.steps").set_value(5000).run()
        assert at.text_input(key="cu.LambdaLR.expr_0").value == "0.9 ** epoch * 0.99 ** epoch"
        assert at.number_input(key="cu.lr_1").value == 20.0
        config = _config(at, "cu.last_good")
        assert config["steps"] == 5000 and config["group_lrs"] == [20.0]

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = _page("custom")
        ui.number_input(key="cu.steps").set_value(5000).run()
        ui.number_input(key="cu.groups").set_value(2).run()
        ui.number_input(key="cu.lr_1").set_value(20.0).run()
        linked = _page("custom", {"steps": "5000", "groups": "2", "lr_1": "20"})
        assert not [i.value for i in linked.info if "ignored" in i.value]
        assert _config(ui, "cu.last_good") == _config(linked, "cu.last_good")


# ---- Train & compare: cosine's T_max over Epochs (the example) ----------------------------------

TR_TMAX = "tr.item1.CosineAnnealingLR.T_max"  # the second default schedule, "cosine annealing"
SPE = 23  # batches of 64 per epoch over the digits' 1,437 training images


def _open_cosine(at: AppTest) -> None:
    assert at.session_state["tr.schedules"][1]["key"] == "CosineAnnealingLR"


class TestTrain:
    def test_an_untouched_t_max_follows_epochs(self) -> None:
        at = _page("train")
        _open_cosine(at)
        assert at.number_input(key=TR_TMAX).value == 10 * SPE
        at.number_input(key="tr.epochs").set_value(30).run()
        assert at.number_input(key=TR_TMAX).value == 30 * SPE

    def test_a_set_t_max_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = _page("train")
        at.number_input(key=TR_TMAX).set_value(200).run()
        at.number_input(key="tr.epochs").set_value(30).run()
        assert at.number_input(key=TR_TMAX).value == 200
        assert "T_max = 200 is shorter than the run's 690 steps" in _notes(at)
        at.button(key=TR_TMAX + ".follow").click().run()
        assert at.number_input(key=TR_TMAX).value == 690 and "shorter than" not in _notes(at)

    def test_a_link_with_the_same_settings_gives_the_same_curves_as_the_ui(self) -> None:
        ui = _page("train")
        ui.number_input(key="tr.epochs").set_value(3).run()
        ui.button(key="tr.run").click().run()
        linked = _page("train", {"epochs": "3"})  # a first visit trains
        assert _query(ui) == {"epochs": "3"}
        ui_lr = [list(r.lr) for r in ui.session_state["tr.runs"]]
        assert ui_lr == [list(r.lr) for r in linked.session_state["tr.runs"]]
        assert len(ui_lr[1]) == 3 * SPE and ui_lr[1][-1] < ui_lr[1][0] / 100  # cosine reaches ~0 at the end
