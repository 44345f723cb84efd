"""AppTest runs of every page: no exception, the chart shows the real library's values, bad input
gets an inline error while the last good chart stays."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lrlab import SCHEDULERS

PAGES = [
    "pages/playground.py",
    "pages/compare.py",
    "pages/translate.py",
    "pages/my_run.py",
    "pages/compose.py",
    "pages/plateau.py",
    "pages/custom.py",
    "pages/lr_finder.py",
    "pages/train.py",
    "pages/lesson.py",
    "pages/pitfalls.py",
    "pages/reference.py",
]
APP = Path(__file__).resolve().parents[1] / "app.py"


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60).run()


def _figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _array(value):
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return data.reshape(value["shape"]) if "shape" in value else data
    return np.asarray(value)


def _trace(at: AppTest, name: str) -> tuple[np.ndarray, np.ndarray]:
    for trace in _figure(at)["data"]:
        if trace.get("name") == name:
            return _array(trace["x"]).astype(np.int64), _array(trace["y"]).astype(np.float64)
    raise AssertionError(f"no trace named {name!r}")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_an_exception(page):
    at = _app()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception
    assert at.title


def test_the_playground_opens_on_a_chart_of_the_real_cosine_annealing_curve():
    at = _app()
    x, y = _trace(at, "library")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
    expected = []
    for _ in range(1000):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(y, np.asarray(expected)[x], rtol=1e-12, atol=0)
    assert [m.label for m in at.metric] == ["LR at step 0", "Peak LR", "Final LR", "Min LR"]
    assert at.latex[0].value.strip("$\n").startswith(r"\eta_t")


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_every_scheduler_renders_its_default_configuration(name):
    at = _app()
    at.selectbox(key="pg.scheduler").set_value(name).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    _, y = _trace(at, "library")
    assert y.size > 0 and np.all(np.isfinite(y))


def test_moving_a_slider_redraws_the_curve_with_the_new_value():
    at = _app()
    at.selectbox(key="pg.scheduler").set_value("StepLR").run()
    at.number_input(key="pg.StepLR.step_size").set_value(100).run()
    at.number_input(key="pg.StepLR.gamma").set_value(0.5).run()
    x, y = _trace(at, "library")
    np.testing.assert_allclose(y, 0.1 * 0.5 ** (x // 100), rtol=1e-12)


def test_an_invalid_value_shows_an_inline_error_and_keeps_the_last_good_chart():
    at = _app()
    at.selectbox(key="pg.scheduler").set_value("get_polynomial_decay_schedule_with_warmup").run()
    _, before = _trace(at, "library")
    at.number_input(key="pg.get_polynomial_decay_schedule_with_warmup.lr_end").set_value(0.5).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "lr_end" in message and "0.5" in message and "must be smaller than initial lr" in message
    _, after = _trace(at, "library")
    np.testing.assert_array_equal(before, after)


def test_the_log_toggle_switches_the_y_axis_to_log_scale():
    at = _app()
    assert _figure(at)["layout"]["yaxis"].get("type") == "linear"
    at.toggle(key="pg.log_y").set_value(True).run()
    assert _figure(at)["layout"]["yaxis"]["type"] == "log"


def test_a_scheduler_that_cycles_momentum_shows_the_momentum_curve_of_the_chosen_optimizer():
    at = _app()
    at.selectbox(key="pg.scheduler").set_value("OneCycleLR").run()
    _, momentum = _trace(at, "momentum")
    assert momentum[0] == pytest.approx(0.95) and momentum.min() == pytest.approx(0.85, abs=1e-3)
    at.radio(key="pg.optimizer").set_value("adam").run()
    _, beta1 = _trace(at, "beta1")
    assert beta1[0] == pytest.approx(0.95)


def test_onecycle_stepped_past_its_total_steps_stops_where_torch_stops_and_says_so():
    at = _app()
    at.selectbox(key="pg.scheduler").set_value("OneCycleLR").run()
    at.number_input(key="pg.OneCycleLR.total_steps").set_value(500).run()
    x, _ = _trace(at, "library")
    assert x.max() == 500  # torch allows one extrapolated step at t = total_steps, then raises
    assert any("Tried to step 502 times" in w.value or "refused step 501" in w.value for w in at.warning)


def _names(at: AppTest) -> list[str]:
    return [t.get("name") for t in _figure(at)["data"]]


def test_compare_adds_duplicates_renames_hides_and_removes_curves():
    at = _app()
    at.switch_page("pages/compare.py").run()
    assert _names(at) == ["HF linear warm-up", "torch OneCycleLR", "WSD", "cosine with restarts"]
    at.button(key="cmp.add").click().run()
    assert len(_names(at)) == 5 and len(at.dataframe[0].value) == 5
    new_id = at.session_state["cmp.selected"]
    at.text_input(key=f"cmp.{new_id}.label").set_value("mine").run()
    at.button(key="cmp.dup").click().run()
    assert _names(at)[-2:] == ["mine", "mine (copy)"]
    copy_id = at.session_state["cmp.selected"]  # the copy is now the curve being edited
    assert copy_id != new_id
    at.toggle(key=f"cmp.{copy_id}.hidden").set_value(True).run()
    assert "mine (copy)" not in _names(at) and "mine" in _names(at)
    assert len(at.dataframe[0].value) == 6  # hidden curves stay in the table
    at.button(key="cmp.remove").click().run()
    assert not at.exception and len(at.session_state["cmp.entries"]) == 5


def test_compare_with_every_curve_hidden_draws_the_page():
    at = _app()
    at.switch_page("pages/compare.py").run()
    for entry in at.session_state["cmp.entries"]:
        at.session_state["cmp.selected"] = entry["id"]
        at.run()
        at.toggle(key=f"cmp.{entry['id']}.hidden").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert _names(at) == []  # nothing drawn on the chart ...
    assert len(at.dataframe[0].value) == 4  # ... and every curve still in the table


def test_compare_shows_the_per_epoch_mistake_next_to_the_curve():
    at = _app()
    at.switch_page("pages/compare.py").run()
    at.button(key="cmp.flip").click().run()
    names = _names(at)
    assert names[-1] == "HF linear warm-up — stepped per epoch"
    _, y = _trace(at, names[-1])
    # stepped once per epoch (100 steps) over 10 epochs, the 100-step warm-up gets 9 steps: 0.1 · 9/100
    assert y.max() == pytest.approx(0.009, rel=1e-12)


def test_compare_sizes_the_run_from_the_data_pipeline():
    at = _app()
    at.switch_page("pages/compare.py").run()
    at.radio(key="cmp.sizing").set_value("from data").run()
    at.number_input(key="cmp.dataset_size").set_value(1000).run()
    at.number_input(key="cmp.batch_size").set_value(32).run()
    at.number_input(key="cmp.grad_accum").set_value(4).run()
    x, _ = _trace(at, "torch OneCycleLR")
    assert x.max() == 3 * 8 - 1  # 3 epochs × ceil(32 micro-batches / 4)


@pytest.mark.parametrize("preset", ["warm-up → constant → linear decay", "constant × exponential (chained)"])
def test_compose_presets_draw_the_real_composite_with_its_closed_form(preset):
    at = _app()
    at.switch_page("pages/compose.py").run()
    at.selectbox(key="co.preset").set_value(preset).run()
    assert not at.exception and not at.error
    assert "closed form" in _names(at) and at.success


def test_compose_with_two_param_groups_draws_one_curve_per_group():
    at = _app()
    at.switch_page("pages/compose.py").run()
    at.number_input(key="co.groups").set_value(2).run()
    assert _names(at)[::2] == ["library · group 0", "library · group 1"]
    _, g0 = _trace(at, "library · group 0")
    _, g1 = _trace(at, "library · group 1")
    np.testing.assert_allclose(g1, 2 * g0, rtol=1e-12)  # group 1's lr defaults to twice the base lr


def test_a_playground_link_restores_the_scheduler_and_its_parameters():
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"scheduler": "StepLR", "steps": "500", "step_size": "100", "gamma": "0.5"}.items():
        at.query_params[key] = value
    at.run()
    x, y = _trace(at, "library")
    np.testing.assert_allclose(y, 0.1 * 0.5 ** (x // 100), rtol=1e-12)
    assert x.max() == 499 and not at.info


def test_a_corrupted_playground_link_opens_with_defaults_and_a_notice():
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"scheduler": "StepLR", "steps": "-3", "gamma": "abc", "nope": "1"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    notice = at.info[0].value
    assert "steps=-3" in notice and "gamma" in notice and "nope" in notice
    assert at.number_input(key="pg.StepLR.gamma").value == pytest.approx(0.1)


def test_the_app_puts_the_objects_loaded_at_start_out_of_the_garbage_collectors_reach():
    import gc

    _app()
    assert gc.get_freeze_count() > 100_000  # torch, transformers, pandas, plotly: ~285k objects


def test_a_scheduler_without_a_closed_form_is_stepped_only_up_to_the_apps_bound():
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"scheduler": "ReduceLROnPlateau", "steps": "300000"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    assert any("Invalid steps (300,000)" in e.value and "200,000" in e.value for e in at.error)
    at.number_input(key="pg.steps").set_value(2000).run()
    assert not at.error
    x, _ = _trace(at, "library")
    assert x.max() == 1999


@pytest.mark.parametrize("page", ["pages/playground.py", "pages/compare.py", "pages/my_run.py"])
def test_the_share_link_is_drawn_only_when_its_expander_is_opened(page):
    """A closed "Share this view" sends no code box (st.code's highlighter is 1.5 MB of JavaScript every
    first visit would load before the chart); opening it draws the link to this view."""
    at = _app()
    if page != PAGES[0]:
        at.switch_page(page).run()
    share = next(e for e in at.expander if e.label == "Share this view")
    assert not share.code and not any("?" in c.value for c in at.code)
    at.session_state["lrlab.share"] = True  # what a click on the expander's summary sets
    at.run()
    share = next(e for e in at.expander if e.label == "Share this view")
    assert not at.exception
    [link] = [c.value for c in share.code]
    assert link.startswith("?") and "steps=" in link
