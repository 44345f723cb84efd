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

PAGES = ["pages/playground.py", "pages/reference.py"]
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
    at.slider(key="pg.StepLR.step_size").set_value(100).run()
    at.slider(key="pg.StepLR.gamma").set_value(0.5).run()
    x, y = _trace(at, "library")
    np.testing.assert_allclose(y, 0.1 * 0.5 ** (x // 100), rtol=1e-12)


def test_an_invalid_value_shows_an_inline_error_and_keeps_the_last_good_chart():
    at = _app()
    at.selectbox(key="pg.scheduler").set_value("get_polynomial_decay_schedule_with_warmup").run()
    _, before = _trace(at, "library")
    at.select_slider(key="pg.get_polynomial_decay_schedule_with_warmup.lr_end").set_value(0.5).run()
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
    at.slider(key="pg.OneCycleLR.total_steps").set_value(500).run()
    x, _ = _trace(at, "library")
    assert x.max() == 500  # torch allows one extrapolated step at t = total_steps, then raises
    assert any("Tried to step 502 times" in w.value or "refused step 501" in w.value for w in at.warning)
