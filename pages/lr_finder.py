"""LR finder: fastai's lr_find on a real model and dataset, with its four suggestions explained."""

import time

import pandas as pd
import streamlit as st

from lrlab import LrlabError
from lrlab.finder import EXPLAIN, LIMITS, SUGGESTIONS, FinderResult
from lrlab.finding import lr_find
from lrlab.lab_plots import finder_figure
from lrlab.ui import links, state
from lrlab.ui.export_panel import chart_config
from lrlab.ui.lab import (
    apply_link,
    follow_send,
    request_run,
    send_lr,
    setup_inputs,
    setup_values,
    training_slot,
)
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first
from lrlab.ui.text import plain
from lrlab.ui.widgets import fmt_number, lr_slider

ensure_router()
follow_send()

P = "lf"
RESULT = f"{P}.result"
DEFAULTS = {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100}
LINK_LIMITS = {"num_it": (int(LIMITS["num_it"][0]), int(LIMITS["num_it"][1]))}
LINK = {
    "suggestion": links.Field(f"{P}.chosen", "valley", choices=tuple(SUGGESTIONS)),
    "fastai": links.Field(f"{P}.fastai", True),
}
LR_LINK = {  # the sweep's lrs: any number lr_find takes (lrlab.finder.LIMITS), typed or linked
    key: links.Field(f"{P}.{key}", DEFAULTS[key], low=LIMITS[key][0], high=LIMITS[key][1])
    for key in ("start_lr", "end_lr")
}

st.title("LR finder")
st.caption(
    "The learning-rate range test of fastai's `lr_find` (Smith 2017): train for a few steps while the lr grows "
    "exponentially, watch the loss, and read a good lr off the curve before the loss blows up. Real torch model, "
    "real optimizer, scikit-learn's bundled handwritten digits; the model is restored afterwards."
)

for key, value in DEFAULTS.items():
    st.session_state.setdefault(f"{P}.{key}", value)
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    apply_link(P, query, ignored)
    links.restore(LINK, query, ignored)
    for key, value in state.checked_values(query, LINK_LIMITS, ignored).items():
        st.session_state[f"{P}.{key}"] = value
    for key, field in LR_LINK.items():  # what lr_find takes (a value it refuses is refused here, with the range)
        if key in query:
            ok, value = field.check(query[key])
            if ok:
                st.session_state[field.key] = value
            else:
                ignored.append(state.refused(key, query[key], field.allowed()))
state.notice(ignored)

left, right = chart_first().columns([1, 2.3], gap="large")  # on a phone the chart comes first
with left:
    st.subheader("Setup")
    setup = setup_inputs(P, epochs=False)
    st.subheader("Sweep")
    c1, c2 = st.columns(2)
    lr_help = "Typed exactly; lr_find takes {} (the slider under the box is a helper)."
    start_lr = lr_slider(c1, "Start lr", key=f"{P}.start_lr", help=lr_help.format(LR_LINK["start_lr"].allowed()))
    end_lr = lr_slider(c2, "End lr", key=f"{P}.end_lr", help=lr_help.format(LR_LINK["end_lr"].allowed()))
    num_it = int(
        st.number_input(
            "Steps (num_it)",
            *LINK_LIMITS["num_it"],
            step=10,
            key=f"{P}.num_it",
            help="fastai's default: 100. The sweep stops earlier when the smoothed loss exceeds 4× its minimum.",
        )
    )
    st.session_state.setdefault(f"{P}.fastai", True)
    with_fastai = st.toggle(
        "Also run fastai's own lr_find",
        key=f"{P}.fastai",
        help="fastai's Learner.lr_find on the same model, initial weights, data and batch order: its SuggestedLRs "
        "beside lrlab's, its smoothed loss dotted on the chart (fastai loads on the first run: a few seconds).",
    )
    st.button(
        "Run the range test",
        type="primary",
        key=f"{P}.run",
        icon=":material/play_arrow:",
        on_click=request_run,
        args=(P,),
    )
    run = st.session_state.pop(f"{P}.requested", False)
    settings = {
        **setup_values(setup, epochs=False),
        "start_lr": start_lr,
        "end_lr": end_lr,
        "num_it": num_it,
        "fastai": with_fastai,
    }
    settings = {k: v for k, v in settings.items() if DEFAULTS.get(k) != v}
    shared = {**settings, **links.values(LINK)}
    state.write_query(shared)
    state.show_share(shared)

with right:
    chart = st.empty()
    status = st.empty()
    if run or RESULT not in st.session_state:
        bar = status.progress(0.0, text="Sweeping…")
        shown = [0.0]

        def live(partial: FinderResult) -> None:
            now = time.monotonic()
            if now - shown[0] > 0.25:
                shown[0] = now
                bar.progress(min(1.0, len(partial.lr) / num_it), text=f"step {len(partial.lr)} of {num_it}")
                chart.plotly_chart(finder_figure(partial), key=f"{P}.live.{len(partial.lr)}")

        try:
            with training_slot() as free:
                if not free:
                    raise LrlabError("The server is busy with other visitors' runs; try again in a few seconds.")
                result = lr_find(
                    dataset=setup.dataset,
                    model=setup.model,
                    optimizer=setup.optimizer,
                    start_lr=float(start_lr),
                    end_lr=float(end_lr),
                    num_it=num_it,
                    seed=setup.seed,
                    batch_size=setup.batch_size,
                    hidden=setup.hidden,
                    layers=setup.layers,
                    momentum=setup.momentum,
                    progress=live,
                    fastai=with_fastai,
                )
            st.session_state[RESULT] = result
            st.session_state[f"{P}.result_settings"] = settings
            status.empty()
        except LrlabError as exc:
            status.error(plain(exc), icon=":material/error:")

    result: FinderResult | None = st.session_state.get(RESULT)
    if result is None:
        st.stop()
    if st.session_state.get(f"{P}.result_settings") != settings:
        st.info("The settings changed: press **Run the range test** to sweep again.", icon=":material/refresh:")
    available = [name for name in SUGGESTIONS if result.suggestions.get(name)]
    st.session_state.setdefault(f"{P}.chosen", "valley")
    if available and st.session_state[f"{P}.chosen"] not in available:
        st.session_state[f"{P}.chosen"] = available[0]
    chosen = st.session_state[f"{P}.chosen"]
    chart.plotly_chart(finder_figure(result, chosen), key=f"{P}.chart", config=chart_config("lr_finder"))
    ended = {
        "completed": f"The sweep ran all {result.num_it} steps.",
        "diverged": f"The sweep stopped at step {len(result.lr) - 1} (lr {result.lr[-1]:.3g}): the smoothed loss passed "
        "4× its minimum — the loss blew up, as intended.",
        "not finite": f"The sweep stopped at step {len(result.lr) - 1} (lr {result.lr[-1]:.3g}): the loss was not a "
        "finite number.",
    }[result.stop_reason]
    st.caption(f"{ended} {result.seconds:.2f} s. Model and optimizer restored afterwards.")

    if not available:
        st.warning(
            "Too few steps were recorded for a suggestion (they skip the first tenth and the last five steps): "
            "lower the start lr or the end lr, or raise the number of steps."
        )
        st.stop()
    theirs = result.fastai.suggestions if result.fastai is not None else None
    rows = [
        {
            "suggestion": name,
            "lr": fmt_number(result.suggestions[name].lr, 3),
            **({"fastai's own lr_find": fmt_number(theirs[name], 3)} if theirs is not None else {}),  # nan: it raised
            "how fastai picks it": EXPLAIN[name],
        }
        for name in available
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if result.fastai is not None and result.fastai.problem:
        st.warning(plain(result.fastai.problem) + " — with more steps it suggests.", icon=":material/warning:")
    if theirs is not None:
        st.caption(
            "fastai's own `Learner.lr_find` ran on the same model, weights, data and batch order. Its sweep differs "
            "from lrlab's in small ways — the lr of batch i is start·(end/start)^(i/num_it), so it never reaches "
            "end_lr; its smoothed loss is float32 — and a suggestion can move with them: `slide`, which compares "
            "gradients 15 steps apart, is the most sensitive. lrlab's suggestion functions give fastai's numbers on "
            "fastai's own curve (tests/test_lib_fastai.py)."
        )
    st.radio(
        "Use this suggestion",
        available,
        key=f"{P}.chosen",
        horizontal=True,
        help="fastai's default is valley. The chart marks each suggestion on the smoothed loss.",
    )
    lr = result.suggestions[st.session_state[f"{P}.chosen"]].lr
    st.markdown(f"**Chosen lr: `{lr:.3g}`** — send it as the max / base lr to:")
    c1, c2, c3 = st.columns(3)
    c1.button("Playground", on_click=send_lr, args=("playground", lr), key=f"{P}.to_pg", icon=":material/show_chart:")
    c2.button(
        "Compare (as OneCycleLR)",
        on_click=send_lr,
        args=("compare", lr),
        key=f"{P}.to_cmp",
        icon=":material/stacked_line_chart:",
    )
    c3.button(
        "Train & compare", on_click=send_lr, args=("train", lr), key=f"{P}.to_train", icon=":material/model_training:"
    )
