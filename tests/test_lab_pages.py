"""The LR finder and Train & compare pages under AppTest: what they draw is the real run's data,
links restore settings, bad link values are reported, the chosen lr travels to other pages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"
SPE = 23  # 1,437 training images in batches of 64


def _open(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120).run()  # the Playground first, as a visitor would
    at.query_params.clear()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.switch_page(page).run()


def _array(value):
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def _traces(at: AppTest, index: int = 0) -> list[dict]:
    return json.loads(at.get("plotly_chart")[index].proto.spec)["data"]


def test_the_lr_finder_opens_on_a_sweep_with_fastais_four_suggestions_marked():
    at = _open("pages/lr_finder.py")
    assert not at.exception
    traces = _traces(at)
    names = [t["name"] for t in traces]
    assert names[:2] == ["loss (raw)", "loss (smoothed, β = 0.98)"]
    marked = {n.split(":")[0] for n in names[2:] if not n.startswith("fastai")}
    assert marked == {"valley", "minimum", "steep", "slide"}
    # fastai's own lr_find beside it (on by default): its smoothed loss and its four suggestions
    theirs = {n.split(":")[0] for n in names if n.startswith("fastai")}
    assert theirs == {"fastai lr_find (smoothed)", "fastai valley", "fastai minimum", "fastai steep", "fastai slide"}
    table = at.dataframe[0].value
    assert "fastai's own lr_find" in table.columns and len(table) == 4
    lr = _array(traces[0]["x"])
    assert lr[0] == pytest.approx(1e-7) and np.all(np.diff(np.log(lr)) > 0)
    valley_x = next(t["x"][0] for t in traces if t["name"].startswith("valley"))
    assert 1e-7 < valley_x < lr[-1]
    assert at.radio(key="lf.chosen").value == "valley"


def test_a_finder_link_restores_the_sweep_settings_and_reports_what_it_ignored():
    at = _open("pages/lr_finder.py", {"num_it": "60", "end_lr": "1", "optimizer": "adamw", "model": "resnet"})
    assert not at.exception
    assert at.number_input(key="lf.num_it").value == 60
    assert at.radio(key="lf.optimizer").value == "adamw"
    assert any("model=resnet" in i.value for i in at.info)


def test_the_chosen_lr_goes_to_compare_as_a_one_cycle_curve():
    at = _open("pages/lr_finder.py")
    chosen = at.session_state["lf.result"].suggestions["valley"].lr
    at.button(key="lf.to_cmp").click().run()
    assert not at.exception
    entry = at.session_state["cmp.entries"][-1]
    assert entry["scheduler"] == "OneCycleLR" and entry["params"]["max_lr"] == float(f"{chosen:.3g}")


def test_the_chosen_lr_goes_to_the_playground_as_max_lr():
    at = _open("pages/lr_finder.py")
    at.radio(key="lf.chosen").set_value("minimum").run()
    chosen = float(f"{at.session_state['lf.result'].suggestions['minimum'].lr:.3g}")
    at.button(key="lf.to_pg").click().run()
    assert not at.exception
    assert at.session_state["pg.scheduler"] == "OneCycleLR"
    assert at.session_state["pg.OneCycleLR.max_lr"] == chosen


def test_the_chosen_lr_becomes_the_peak_lr_of_train_and_compare():
    at = _open("pages/lr_finder.py")
    chosen = float(f"{at.session_state['lf.result'].suggestions['valley'].lr:.3g}")
    at.button(key="lf.to_train").click().run()
    assert not at.exception
    assert at.session_state["tr.peak_lr"] == chosen


def test_train_and_compare_trains_the_default_schedules_and_shows_the_applied_lr():
    at = _open("pages/train.py", {"epochs": "3"})
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["schedule"]) == ["constant", "cosine annealing", "fastai fit_one_cycle"]
    assert set(table["status"]) == {"done"} and set(table["lr = schedule"]) == {"✓"}
    # the cosine trace of the lr panel is torch's CosineAnnealingLR(T_max = 3 epochs) stepped
    lr_trace = next(t for t in _traces(at) if t["name"] == "cosine annealing" and t.get("xaxis", "x") == "x")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3 * SPE)
    expected = []
    for _ in range(3 * SPE):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert _array(lr_trace["y"]) == pytest.approx(expected, rel=1e-15)
    assert any("equals each schedule's curve" in s.value for s in at.success)


def test_adding_a_paper_schedule_and_removing_one_changes_what_is_trained():
    at = _open("pages/train.py", {"epochs": "2"})
    at.selectbox(key="tr.add").select("preset:bert").run()
    assert len(at.session_state["tr.schedules"]) == 4
    first = at.session_state["tr.schedules"][0]["id"]
    at.button(key=f"tr.item{first}.remove").click().run()
    at.button(key="tr.run").click().run()
    assert not at.exception
    names = list(at.dataframe[0].value["schedule"])
    assert "constant" not in names and len(names) == 3 and names[-1].startswith("BERT")


def test_a_diverging_schedule_is_reported_and_the_others_still_train():
    at = _open("pages/train.py", {"epochs": "2", "peak_lr": "10"})
    assert not at.exception
    table = at.dataframe[0].value
    assert "diverged" in set(table["status"])
    assert any("training stopped" in w.value for w in at.warning)


def test_a_train_link_with_out_of_range_values_is_reported_and_ignored():
    at = _open("pages/train.py", {"epochs": "5000", "batch_size": "7", "dataset": "imagenet"})
    assert not at.exception
    notice = " ".join(i.value for i in at.info)
    assert "epochs=5000" in notice and "batch_size=7" in notice and "dataset=imagenet" in notice
    assert at.number_input(key="tr.epochs").value == 10
