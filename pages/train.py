"""Train & compare: the same model, weights and batches trained with 2–6 schedules, live."""

import json
import time
from functools import partial

import pandas as pd
import streamlit as st

from lrlab import LrlabError
from lrlab.lab_plots import training_figure
from lrlab.presets import PRESETS
from lrlab.schedulers import SCHEDULERS
from lrlab.training import LR_CHECK_TOLERANCE, Run, train, wait_settled
from lrlab.ui import links, state
from lrlab.ui.export_panel import chart_config
from lrlab.ui.lab import (
    DEFAULT_ITEMS,
    ITEMS,
    LR_KEY,
    MAX_ITEMS,
    add_choices,
    add_item,
    apply_link,
    choice_label,
    item_config,
    items,
    remove_item,
    request_run,
    runs_json,
    setup_inputs,
    setup_values,
    training_slot,
)
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first
from lrlab.ui.text import plain
from lrlab.ui.widgets import chosen_params, fmt_number, lr_slider, render_params, seed_params

ensure_router()

P = "tr"
RUNS = f"{P}.runs"

st.title("Train & compare")
st.caption(
    "Train one small model several times — same initial weights, same batches, same optimizer — changing only the "
    "schedule. The lr curves are read from the optimizer during training, and each is checked against the "
    "schedule's own curve."
)

LINK = {"log_loss": links.Field(f"{P}.log_loss", False)}
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    apply_link(P, query, ignored)
    links.restore(LINK, query, ignored)
    if "schedules" in query and (linked := links.schedules_from_link(query["schedules"], ignored, 10**9)):
        for key in [k for k in st.session_state if k.startswith(f"{P}.item")]:  # widgets of the schedules replaced
            del st.session_state[key]
        st.session_state[ITEMS] = [dict(item, id=i) for i, item in enumerate(linked)]  # ids as on a first visit
        st.session_state["tr.next_id"] = len(linked)
    if "peak_lr" in query:
        if (value := state.lr_value(query["peak_lr"])) is not None:
            st.session_state[f"{P}.peak_lr"] = value
        else:
            ignored.append(state.refused("peak_lr", query["peak_lr"], state.LR_ALLOWED))
state.notice(ignored)
st.session_state.setdefault(f"{P}.peak_lr", st.session_state.get(LR_KEY, 0.1))

left, right = chart_first().columns([1, 2.3], gap="large")  # on a phone the chart comes first
with left:
    st.subheader("Model and data")
    setup = setup_inputs(P)
    st.subheader("Schedules")
    peak_lr = lr_slider(
        st,
        "Peak lr",
        key=f"{P}.peak_lr",
        help="Every schedule uses it as its base lr (OneCycleLR / CyclicLR: as max_lr), so the comparison is of "
        "shapes at the same peak. The LR finder can send one here.",
    )
    steps_per_epoch = None
    errors: list[str] = []
    configs, labels = [], []
    try:
        setup.validate()
        steps_per_epoch = setup.steps_per_epoch()
    except LrlabError as exc:
        errors.append(str(exc))
    steps = setup.epochs * (steps_per_epoch or 1)
    for item in list(items()):
        prefix = f"{P}.item{item['id']}"
        with st.container(border=True):
            c1, c2 = st.columns([5, 1])
            st.session_state.setdefault(f"{prefix}.label", item["label"])
            item["label"] = c1.text_input("Name", key=f"{prefix}.label", label_visibility="collapsed", max_chars=60)
            c2.button(
                "",
                icon=":material/delete:",
                key=f"{prefix}.remove",
                on_click=remove_item,
                args=(item["id"],),
                help="Remove",
                disabled=len(items()) <= 1,
            )
            if item["kind"] == "preset":
                preset = PRESETS[item["key"]]
                st.caption(f"{preset.title} — {preset.published}")
            else:
                spec = SCHEDULERS[item["key"]]
                with st.expander(f"{spec.name} settings"):
                    if not st.session_state.get(f"{prefix}.seeded"):
                        seed_params(spec, prefix, item["params"])
                        st.session_state[f"{prefix}.seeded"] = True
                    item["params"] = chosen_params(spec, prefix, render_params(spec, prefix, steps))
            try:
                configs.append(item_config(item, steps, steps_per_epoch or 1, float(peak_lr)))
                labels.append(item["label"] or item["key"])
            except LrlabError as exc:
                errors.append(f"{item['label']}: {exc}")
    st.selectbox(
        "Add a schedule",
        add_choices(),
        key=f"{P}.add",
        format_func=choice_label,
        on_change=add_item,
        disabled=len(items()) >= MAX_ITEMS,
        label_visibility="collapsed",
        help="A schedule from a paper, any scheduler, or a curve from the Compare page (up to 6).",
    )
    share = {**setup_values(setup), "peak_lr": peak_lr}
    shared = {k: v for k, v in share.items() if not (k == "peak_lr" and v == 0.1)} | links.values(LINK)
    schedules = links.schedules_link(items(), steps)
    if schedules != links.schedules_link(DEFAULT_ITEMS, steps):
        shared["schedules"] = schedules
    state.write_query(shared)
    state.show_share(shared)
    for message in errors:
        st.error(plain(message), icon=":material/error:")
    c1, c2 = st.columns(2)
    c1.button(
        "Train",
        type="primary",
        key=f"{P}.run",
        icon=":material/play_arrow:",
        disabled=bool(errors) or not configs,
        on_click=request_run,
        args=(P,),
    )
    run = st.session_state.pop(f"{P}.requested", False)
    c2.button(
        "Stop training", key=f"{P}.stop", icon=":material/stop:", help="Stops the run; what was trained so far stays."
    )

with right:
    progress = st.empty()
    chart = st.empty()
    if (run or RUNS not in st.session_state) and not errors and configs:
        total = len(configs) * steps
        shown = [0.0, 0]  # last redraw time, redraws so far

        def live(runs: list[Run], i: int) -> None:
            now = time.monotonic()
            if st.session_state.get(RUNS) is not runs:  # a Stop (a rerun) leaves what was trained so far
                st.session_state[RUNS] = runs
            done = sum(len(r.lr) for r in runs)
            if now - shown[0] > 0.3 or done >= total:
                shown[0], shown[1] = now, shown[1] + 1
                run = runs[i]
                progress.progress(
                    min(1.0, done / total),
                    text=f"Training {i + 1} of {len(runs)}: {run.label} — epoch {run.epochs_done} of {setup.epochs}",
                )
                chart.plotly_chart(training_figure(runs), key=f"{P}.live.{shown[1]}")

        try:
            with training_slot() as free:
                if not free:
                    raise LrlabError("The server is busy with other visitors' runs; try again in a few seconds.")
                st.session_state[RUNS] = train(configs, setup, labels=labels, progress=live)
            st.session_state[f"{P}.ran_with"] = json.dumps([c.to_dict() for c in configs]) + json.dumps(share)
        except LrlabError as exc:
            st.error(plain(exc), icon=":material/error:")
        progress.empty()

    runs: list[Run] = st.session_state.get(RUNS) or []
    wait_settled(runs)  # after a Stop, the stopped run's thread finishes its last steps first
    if not runs:
        st.info("Press **Train** to train the model with each schedule.")
        st.stop()
    log_loss = st.toggle("Log-scale training loss", key=f"{P}.log_loss")
    chart.plotly_chart(training_figure(runs, log_loss=log_loss), key=f"{P}.chart", config=chart_config("training"))
    if st.session_state.get(f"{P}.ran_with") != json.dumps([c.to_dict() for c in configs]) + json.dumps(share):
        st.info("The settings changed since this run: press **Train** to train again.", icon=":material/refresh:")

    table = pd.DataFrame([r.summary() for r in runs])
    table["lr = schedule"] = [
        "✓" if r.lr_check is not None and r.lr_check <= LR_CHECK_TOLERANCE else ("–" if r.lr_check is None else "✗")
        for r in runs
    ]
    st.dataframe(
        table[
            [
                "schedule",
                "status",
                "final_val_accuracy",
                "best_val_accuracy",
                "best_epoch",
                "final_val_loss",
                "seconds",
                "lr = schedule",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "final_val_accuracy": st.column_config.NumberColumn("final val acc", format="percent"),
            "best_val_accuracy": st.column_config.NumberColumn("best val acc", format="percent"),
            "best_epoch": st.column_config.NumberColumn("best epoch"),
            "final_val_loss": st.column_config.NumberColumn("final val loss", format="%.4f"),
            "seconds": st.column_config.NumberColumn("time (s)", format="%.2f"),
        },
    )
    for r in runs:
        if r.status in ("diverged", "refused"):
            st.warning(f"**{plain(r.label)}**: {plain(r.message)}", icon=":material/warning:")
    stopped = [r.label for r in runs if r.status in ("stopped", "pending")]
    if stopped:
        st.info(plain(f"Stopped before the end: {', '.join(stopped)}."), icon=":material/stop_circle:")
    checked = [r.lr_check for r in runs if r.lr_check is not None]
    if checked and max(checked) <= LR_CHECK_TOLERANCE:
        st.success(
            "The lr read from the optimizer at every step equals each schedule's curve from lrlab "
            f"(largest relative difference {fmt_number(max(checked), 2)}).",
            icon=":material/check_circle:",
        )
    elif checked:
        st.error(f"The applied lr differs from a schedule's curve (relative difference {max(checked):.3g}).")
    st.download_button(
        "Results as JSON",
        partial(runs_json, list(runs)),
        file_name="lrlab_training.json",
        on_click="ignore",
        key=f"{P}.dl",
        icon=":material/data_object:",
    )
