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
Translate and My run hold their default cosine-with-warm-up's num_training_steps and num_warmup_steps to
the same rule; an imported config sets the values it gives, and the PyTorch script exported from it runs
to the stop it states.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lrlab
import lrlab.export

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


# ---- Translate and My run: the source's / the plan's num_training_steps and warm-up -------------------

COSINE = "get_cosine_schedule_with_warmup"  # both pages' default: transformers' cosine with warm-up


class _CosineWithWarmup:
    """The same checks on a page whose default schedule is get_cosine_schedule_with_warmup (prefix P,
    default run length STEPS; QUERY is what every visit links besides, e.g. Translate's one library)."""

    P = ""
    PAGE = ""
    STEPS = 0
    TRACE = ""
    QUERY: ClassVar[dict[str, str]] = {}

    def _open(self, query: dict[str, str] | None = None) -> AppTest:
        return _page(self.PAGE, {**self.QUERY, **(query or {})})

    def _total(self) -> str:
        return f"{self.P}.{COSINE}.num_training_steps"

    def _warmup(self) -> str:
        return f"{self.P}.{COSINE}.num_warmup_steps"

    def test_untouched_total_and_warmup_follow_steps(self) -> None:
        at = self._open()
        assert at.number_input(key=self._total()).value == self.STEPS
        assert at.number_input(key=self._warmup()).value == self.STEPS // 10  # transformers' usual 10 %
        at.number_input(key=f"{self.P}.steps").set_value(3000).run()
        assert at.number_input(key=self._total()).value == 3000 and at.number_input(key=self._warmup()).value == 300
        params = _config(at, f"{self.P}.last_good")["params"]
        assert params["num_training_steps"] == 3000 and params["num_warmup_steps"] == 300

    def test_a_set_total_stays_with_a_note_and_follow_the_run_restores_it(self) -> None:
        at = self._open()
        at.number_input(key=self._total()).set_value(1200).run()  # typed: the user's value
        at.number_input(key=f"{self.P}.steps").set_value(5000).run()
        assert at.number_input(key=self._total()).value == 1200
        assert _config(at, f"{self.P}.last_good")["params"]["num_training_steps"] == 1200
        assert "num_training_steps = 1200 is shorter than the run's 5000 steps" in _notes(at)
        assert _query(at)["num_training_steps"] == "1200"  # set: the link carries it
        at.button(key=self._total() + ".follow").click().run()
        assert at.number_input(key=self._total()).value == 5000 and "shorter than" not in _notes(at)
        at.number_input(key=f"{self.P}.steps").set_value(2000).run()
        assert at.number_input(key=self._total()).value == 2000  # following again
        assert "num_training_steps" not in _query(at)

    def test_a_set_warmup_stays_when_steps_change(self) -> None:
        at = self._open()
        at.number_input(key=self._warmup()).set_value(77).run()
        at.number_input(key=f"{self.P}.steps").set_value(3000).run()
        assert at.number_input(key=self._warmup()).value == 77
        assert at.number_input(key=self._total()).value == 3000  # not set: follows
        assert _config(at, f"{self.P}.last_good")["params"]["num_warmup_steps"] == 77

    def test_a_link_with_the_same_settings_gives_the_same_curve_as_the_ui(self) -> None:
        ui = self._open()
        ui.number_input(key=f"{self.P}.steps").set_value(3000).run()
        linked = self._open({"scheduler": COSINE, "steps": "3000"})
        assert not [i.value for i in linked.info if "ignored" in i.value]
        assert _config(ui, f"{self.P}.last_good") == _config(linked, f"{self.P}.last_good")
        np.testing.assert_array_equal(_trace(ui, self.TRACE), _trace(linked, self.TRACE))
        query = _query(ui)  # the link leaves the following values out …
        assert "num_training_steps" not in query and "num_warmup_steps" not in query
        reopened = _page(self.PAGE, query)
        reopened.number_input(key=f"{self.P}.steps").set_value(4000).run()  # … so they follow there too
        assert reopened.number_input(key=self._total()).value == 4000
        assert reopened.number_input(key=self._warmup()).value == 400

    def test_a_link_sets_only_the_values_it_gives(self) -> None:
        at = self._open({"scheduler": COSINE, "steps": "1000", "num_training_steps": "900"})
        at.number_input(key=f"{self.P}.steps").set_value(2000).run()
        assert at.number_input(key=self._total()).value == 900  # given: stays
        assert at.number_input(key=self._warmup()).value == 200  # not given: follows
        assert "num_training_steps = 900 is shorter than the run's 2000 steps" in _notes(at)


class TestTranslate(_CosineWithWarmup):
    P, PAGE, STEPS = "tl", "translate", 1000
    TRACE = f"source: transformers {COSINE}"
    QUERY: ClassVar[dict[str, str]] = {"to": "torch"}  # one library to translate into: the same rule, a quicker page


class TestMyRun(_CosineWithWarmup):
    P, PAGE, STEPS = "mr", "my_run", 400
    TRACE = f"plan: transformers {COSINE}"


# ---- an imported config: its run-sized values are set ------------------------------------------------

ONE_CYCLE_YAML = (
    "scheduler: OneCycleLR\nbase_lr: 0.1\nsteps: 1000\nparams:\n  max_lr: 0.5\n  total_steps: 1000\n  pct_start: 0.3\n"
)


def _import(at: AppTest, prefix: str, text: str) -> AppTest:
    at.session_state[f"{prefix}.import_open"] = True  # "Import a config" draws its widgets while open
    at.run()
    at.text_area(key=f"{prefix}.import_text").set_value(text).run()
    at.button(key=f"{prefix}.import_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run_exported_torch(code: str, steps: int, steps_per_epoch: int) -> list[float]:
    """The exported PyTorch script's own train(), in a fresh interpreter (tests/exported_runner.py)."""
    job = [{"target": "torch", "code": code, "steps": steps, "steps_per_epoch": steps_per_epoch}]
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "exported_runner.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = json.loads(done.stdout)
    assert not isinstance(result, dict), result  # {"error": ...}: the script crashed
    return result


class TestImported:
    def test_an_imported_total_steps_stays_when_steps_change_with_a_note(self) -> None:
        at = _import(_page("playground"), "pg", ONE_CYCLE_YAML)
        assert at.number_input(key=PG_TOTAL).value == 1000
        at.number_input(key="pg.steps").set_value(1500).run()
        assert at.number_input(key=PG_TOTAL).value == 1000  # imported: set, it stays
        assert _config(at, "pg.last_good")["params"]["total_steps"] == 1000
        assert "total_steps = 1000 is shorter than the run's 1500 steps" in _notes(at)
        assert _query(at)["total_steps"] == "1000"  # set: the link carries it
        at.button(key=PG_TOTAL + ".follow").click().run()
        assert at.number_input(key=PG_TOTAL).value == 1500 and "shorter than" not in _notes(at)

    def test_the_exported_script_of_an_imported_total_steps_runs_to_its_stated_stop(self) -> None:
        at = _import(_page("playground"), "pg", ONE_CYCLE_YAML)
        at.number_input(key="pg.steps").set_value(1500).run()
        config = lrlab.ScheduleConfig.from_dict(_config(at, "pg.last_good"))
        assert config.steps == 1500 and config.params_dict["total_steps"] == 1000
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lrlab.LibraryWarning)  # OneCycleLR refuses step 1001: said in the script
            code = lrlab.export.render(config, "torch")
        stop = int(re.search(r"def train\(steps=(\d+)", code).group(1))
        said = " ".join(code.replace("#", " ").split())  # the script's comment, its lines joined
        assert f"this loop stops there, after {stop} of the 1500 configured steps" in said  # the stop it states
        lrs = _run_exported_torch(code, config.steps, config.steps_per_epoch)
        assert len(lrs) == stop < 1500
        # torch's own OneCycleLR, stepped after every optimizer step up to the stop: the same lrs …
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=1000, pct_start=0.3)
        expected = []
        for step in range(stop):
            expected.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if step + 1 < stop:
                scheduler.step()
        np.testing.assert_allclose(lrs, expected, rtol=1e-12)
        with pytest.raises(ValueError, match="Tried to step"):  # … and one more scheduler step is refused
            scheduler.step()
