"""lrlab's Streamlit entry point: page config, navigation over pages/, the shared sidebar."""
# ruff: noqa: E402  (the placeholder chart below goes out before the heavy imports)

import streamlit as st

# A visitor's first page: an empty 10-pixel chart (Plotly's smallest) before anything heavy runs, so
# that the browser fetches and compiles Plotly's 4.7 MB of JS while this process imports torch (the
# first visit after a start) and computes the page; emptied at the end of the run. The slot is there
# on every run, empty after the first, so that the page's elements keep their places from run to run
# (a slot only in the first run would shift them all by one, and the browser would redraw them all).
# bench/bench_coldstart.py measures it; tests/test_serving.py checks it goes.
_early_plotly = st.empty()
_drew_early_plotly = "lrlab.early_plotly" not in st.session_state
if _drew_early_plotly:
    st.session_state["lrlab.early_plotly"] = True
    _early_plotly.plotly_chart(
        {
            "data": [{"type": "scatter", "x": [0], "y": [0], "visible": False}],
            "layout": {"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}},
        },
        config={"staticPlot": True, "displayModeBar": False},
        theme=None,
    )

import lrlab.plots  # noqa: F401  (torch, transformers, pandas, plotly: loaded before freezing)
from lrlab.ui import style
from lrlab.ui.safety import safety_net
from lrlab.ui.serving import cache_theme_messages, freeze_startup_objects, keep_keras_state, note_run, warm_libraries

freeze_startup_objects()
keep_keras_state()  # Streamlit would reset Keras (a full gc.collect) after every run once it is loaded
cache_theme_messages()  # Streamlit would rebuild the same theme messages on every run
st.set_page_config(page_title="lrlab — learning-rate schedules", page_icon="📉", layout="wide")
style.apply()  # wide formulas scroll; on a phone the chart comes first and the sidebar closes after a pick

PAGES = [
    st.Page("pages/playground.py", title="Playground", icon=":material/show_chart:", default=True),
    st.Page("pages/compare.py", title="Compare", icon=":material/stacked_line_chart:", url_path="compare"),
    st.Page("pages/translate.py", title="Translate", icon=":material/translate:", url_path="translate"),
    st.Page("pages/my_run.py", title="My run", icon=":material/monitoring:", url_path="my_run"),
    st.Page("pages/compose.py", title="Compose", icon=":material/account_tree:", url_path="compose"),
    st.Page("pages/plateau.py", title="Plateau", icon=":material/trending_down:", url_path="plateau"),
    st.Page("pages/custom.py", title="Custom lambda", icon=":material/function:", url_path="custom"),
    st.Page("pages/lr_finder.py", title="LR finder", icon=":material/search:", url_path="lr_finder"),
    st.Page("pages/train.py", title="Train & compare", icon=":material/model_training:", url_path="train"),
    st.Page("pages/lesson.py", title="Lesson", icon=":material/school:", url_path="lesson"),
    st.Page("pages/pitfalls.py", title="Pitfalls", icon=":material/warning:", url_path="pitfalls"),
    st.Page("pages/reference.py", title="Scheduler reference", icon=":material/menu_book:", url_path="reference"),
]

page = st.navigation(PAGES)

with st.sidebar:
    from lrlab.ui.nav import library_versions

    st.caption(
        "Every curve is produced by the real library object, driven as its own training loop drives it. "
        + " · ".join(library_versions())
    )

note_run()
try:
    with safety_net(f"page {page.title}"):  # a fragment has its own (lrlab.ui.safety.fragment)
        page.run()
        warm_libraries()  # once per process, after the first page is drawn: timm, Keras, optax, fastai
finally:
    if _drew_early_plotly:
        _early_plotly.empty()
