"""Used only by bench/bench_browser.py: its Streamlit server gets PYTHONPATH=bench/_scattergl and
LRLAB_BENCH_SCATTERGL=1, so that lrlab.plots' go.Scatter traces become WebGL go.Scattergl in that
process alone (no app code changes). Any other process ignores this file."""

import os

if os.environ.get("LRLAB_BENCH_SCATTERGL") == "1":
    import plotly.graph_objects as go

    go.Scatter = go.Scattergl
