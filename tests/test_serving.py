"""The server's process-wide settings (lrlab.ui.serving): what one Streamlit process serving a class needs."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from streamlit import config
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import app_session
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from lrlab.ui import serving
from lrlab.ui.serving import keep_keras_state

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_streamlits_keras_hook_exists_and_is_replaced_once():
    """The hook lrlab replaces is still in the installed Streamlit (an upgrade that moves it fails here),
    and replacing it twice is the same as once."""
    assert keep_keras_state() is True
    hook = script_runner._clean_problem_modules
    assert keep_keras_state() is True
    assert script_runner._clean_problem_modules is hook
    assert getattr(hook, "_lrlab", False) is True


def test_a_rerun_after_a_keras_curve_leaves_keras_state_alone():
    """Streamlit reset Keras (clear_session: a new global state, gc.collect, torch._dynamo.reset) after
    every run once Keras was loaded. After app.py has run, a rerun of a Keras schedule keeps Keras's
    global-state object: clear_session replaces it with a new threading.local."""
    hook = script_runner._clean_problem_modules
    script_runner._clean_problem_modules = getattr(hook, "streamlit_original", hook)  # as a fresh server has it
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["scheduler"] = "keras:ExponentialDecay"
    at.run()
    assert not at.exception and "keras" in sys.modules  # loaded by the page, on lrlab's backend
    keras_state = importlib.import_module("keras.src.backend.common.global_state")
    before = keras_state.GLOBAL_STATE_TRACKER
    at.run()  # a rerun after the Keras curve was drawn
    assert not at.exception
    assert keras_state.GLOBAL_STATE_TRACKER is before
    assert getattr(script_runner._clean_problem_modules, "_lrlab", False)  # app.py replaced the hook


def test_matplotlib_figures_are_still_closed_after_a_run():
    """Streamlit's other clean-up after a run, closing matplotlib's figures, is kept."""
    keep_keras_state()
    plt.figure()
    assert plt.get_fignums()
    script_runner._clean_problem_modules()
    assert plt.get_fignums() == []


def test_the_warm_up_is_off_when_the_environment_says_so(monkeypatch):
    monkeypatch.setenv(serving.WARM_ENV, "0")
    assert serving.warm_libraries() is None
    assert serving._warm_thread is None  # nothing started


def test_the_warm_up_draws_one_curve_of_every_installed_library_then_says_so(monkeypatch, capfd):
    """In a server (not in the tests: conftest turns it off) app.py starts it after its first run; it
    waits for IDLE_S without a page run, draws one 10-step curve of each library's first schedule (the
    imports, backend start and first jit a visitor would otherwise wait for), and logs one line."""
    monkeypatch.setenv(serving.WARM_ENV, "1")
    monkeypatch.setattr(serving, "IDLE_S", 0.2)
    monkeypatch.setattr(serving, "_warm_thread", None)
    thread = serving.warm_libraries()
    assert thread is not None and thread.name == "lrlab-warm-libraries"
    assert serving.warm_libraries() is thread  # once per process
    thread.join(timeout=300)
    assert not thread.is_alive()
    err = capfd.readouterr().err
    assert "lrlab: libraries loaded in the background (timm, keras, optax, fastai)" in err
    for module in ("timm", "keras", "optax", "jax", "fastai"):
        assert module in sys.modules


THEME_SECTIONS = ("theme", "theme.light", "theme.dark", "theme.sidebar", "theme.light.sidebar", "theme.dark.sidebar")


def _theme_message(populate) -> bytes:
    """A new-session message's custom theme, its six sections filled as Streamlit fills them."""
    msg = ForwardMsg()
    theme = msg.new_session.custom_theme
    targets = [theme, theme.light, theme.dark, theme.sidebar, theme.light.sidebar, theme.dark.sidebar]
    for target, section in zip(targets, THEME_SECTIONS, strict=True):
        populate(target, section)
    return msg.SerializeToString()


def test_cached_theme_messages_are_streamlits_own_and_follow_a_config_change():
    """Every section, built from the cache on a second run, is byte for byte what Streamlit builds (the
    repo's config sets [theme]; the other sections stay absent, as Streamlit leaves them); when the
    config is parsed again with another theme (a new options dict) the cache builds it anew."""
    assert serving.cache_theme_messages() is True
    cached = app_session._populate_theme_msg
    original = cached.streamlit_original
    assert serving.cache_theme_messages() is True and app_session._populate_theme_msg is cached  # once
    config.get_config_options(force_reparse=True)
    own = _theme_message(original)
    assert _theme_message(cached) == own and _theme_message(cached) == own  # built, then from the cache
    assert ForwardMsg.FromString(own).new_session.custom_theme.primary_color  # the repo's theme is in it
    try:  # as `streamlit run --theme.primaryColor=#123456` parses it
        config.get_config_options(force_reparse=True, options_from_flags={"theme.primaryColor": "#123456"})
        changed = _theme_message(original)
        assert changed != own and ForwardMsg.FromString(changed).new_session.custom_theme.primary_color == "#123456"
        assert _theme_message(cached) == changed
    finally:
        config.get_config_options(force_reparse=True)
    assert _theme_message(cached) == own


def test_a_sessions_first_page_sends_a_placeholder_chart_first_and_removes_it():
    """app.py's first run in a session starts with a 10-px Plotly chart (so that the browser fetches
    Plotly's JS while the server imports torch) and ends with it gone: the page's own chart is the only
    chart left. Later runs keep the slot, empty, so that every element of the page stays at its place
    (the Playground's chart: the same delta path in the first run and the next)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    assert at.main.children[0].type == "empty"  # the placeholder's slot, emptied at the end of the run
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    assert charts[0].proto.id.endswith("pg.chart")  # the Playground's own
    first_path = _path(at.main, charts[0])
    at.run()
    assert at.main.children[0].type == "empty"
    again = at.get("plotly_chart")
    assert len(again) == 1 and again[0].proto.id == charts[0].proto.id
    assert first_path is not None and _path(at.main, again[0]) == first_path


def _path(node, target, path=()):
    """The child indices from ``node`` down to ``target`` (None if it is not below ``node``)."""
    for index, child in getattr(node, "children", {}).items():
        if child is target:
            return (*path, index)
        found = _path(child, target, (*path, index))
        if found is not None:
            return found
    return None


def test_charts_go_out_through_orjson_and_decode_to_the_same_figure():
    """Streamlit encodes a chart with ``plotly.io.to_json`` and Plotly's default engine; orjson (in
    requirements.txt) makes that engine orjson. The browser must get the same figure as with the
    standard library's json."""
    import json

    import plotly.io as pio

    from lrlab import ScheduleConfig, simulate
    from lrlab.plots import compare_figure

    curves = [simulate(ScheduleConfig(name, steps=300)) for name in ("OneCycleLR", "StepLR")]
    fig = compare_figure([(c.spec.name, "#2f6fdb", c) for c in curves])
    sent = pio.to_json(fig, validate=False)  # Streamlit's call
    assert sent == pio.to_json(fig, validate=False, engine="orjson")
    assert json.loads(sent) == json.loads(pio.to_json(fig, validate=False, engine="json"))
