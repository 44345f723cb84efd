"""Playground: pick a scheduler, set its parameters, see the real library's curve and its formula."""

import json
from functools import partial

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig, summary
from lrlab.plots import lr_figure
from lrlab.presets import PRESETS
from lrlab.specs import INTERVALS, LIBRARIES
from lrlab.ui import explain as explain_mode
from lrlab.ui import links, safety, state
from lrlab.ui import values as values_table
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, export_panel, import_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.presets import apply_to_page, citation, preset_label
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.verify import source_note
from lrlab.ui.widgets import (
    chosen_params,
    fmt_number,
    legend_rows,
    lr_slider,
    reset_params,
    schedule_inputs,
    scheduler_picker,
    seed_params,
)

ensure_router()

P = "pg"
MAX_APP_STEPS = 1_000_000


def load_into_playground(config: ScheduleConfig) -> list[str]:
    """Put an imported config into the Playground's widgets; say what the Playground can't show."""
    if config.steps > MAX_APP_STEPS:
        raise LrlabError(
            f"Invalid steps ({config.steps}): the app shows up to {MAX_APP_STEPS:,}; use the package or CLI"
        )
    spec = SCHEDULERS[config.scheduler]
    for key in ("steps", "base_lr", "steps_per_epoch", "optimizer", "interval"):
        st.session_state[f"{P}.{key}"] = getattr(config, key)
    st.session_state[f"{P}.scheduler"] = spec.name
    seed_params(spec, P, config.params_dict)
    skipped = []
    if config.group_lrs:
        skipped.append("The Playground shows one param group: use Compose or Custom lambda for several.")
    return [f"Loaded {spec.name}.", *skipped]


st.title("Playground")
st.caption(
    "Pick a scheduler and move its settings. The solid line is what the real library object produces — torch, "
    "transformers, timm, Keras, optax or fastai, driven the way that library's own training loop drives it; the "
    "dashed line is the closed-form formula drawn over it."
)

st.session_state.setdefault(f"{P}.scheduler", "CosineAnnealingLR")
st.session_state.setdefault(f"{P}.steps", 1000)
st.session_state.setdefault(f"{P}.base_lr", 0.1)
st.session_state.setdefault(f"{P}.steps_per_epoch", 100)
st.session_state.setdefault(f"{P}.optimizer", "sgd")
st.session_state.setdefault(f"{P}.interval", "step")

LINK = {  # the view's settings besides the schedule
    "log_y": links.Field(f"{P}.log_y", False),
    "library": links.Field(f"{P}.library", "all", choices=("all", *LIBRARIES)),
    "preset": links.Field(f"{P}.preset", "", choices=("", *PRESETS)),
    **links.explain_fields(P),
    **links.IMAGE,
}
RUN_KEYS = {"scheduler", "steps", "base_lr", "steps_per_epoch", "optimizer", "interval", "explain", *LINK}
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    state.apply_run_values(P, query, MAX_APP_STEPS, ignored)
    if query.get("interval") in INTERVALS:
        st.session_state[f"{P}.interval"] = query["interval"]
    elif "interval" in query:
        ignored.append(state.refused("interval", query["interval"], "one of " + ", ".join(INTERVALS)))
    linked = state.scheduler_from_query(query, ignored)
    if linked is not None:
        st.session_state[f"{P}.scheduler"] = linked.name
        state.apply_params(linked, P, query, st.session_state[f"{P}.steps"], ignored, skip=RUN_KEYS)
    explain_mode.apply_link(P, query, st.session_state[f"{P}.steps"], ignored)
    if links.restore(LINK, query, ignored).get("preset"):
        st.session_state[f"{P}.preset_shown"] = st.session_state[f"{P}.preset"]  # its citation, as when chosen
state.notice(ignored)

top = input_row("run", lead=True).columns([4, 1.2, 1.6, 1.2, 2.2])
name = scheduler_picker(
    top[0],
    top[0],
    library_key=f"{P}.library",
    key=f"{P}.scheduler",
    help="Every scheduler of torch.optim.lr_scheduler and transformers, and the schedules of timm, Keras, "
    "optax and fastai (named library:Name), each driven the way its library's own training loop drives it.",
)
spec = SCHEDULERS[name]
steps = top[1].number_input(
    "Steps", min_value=1, max_value=MAX_APP_STEPS, step=100, key=f"{P}.steps", help="Optimizer steps to simulate."
)
base_label = "Base LR" if spec.base_lr_param is None else f"Base LR (= {spec.name}'s {spec.base_lr_param})"
base_lr = lr_slider(
    top[2],
    base_label,
    key=f"{P}.base_lr",
    help="The optimizer's lr (each group's initial lr).",
)
steps_per_epoch = top[3].number_input(
    "Steps per epoch",
    min_value=1,
    max_value=MAX_APP_STEPS,
    key=f"{P}.steps_per_epoch",
    help="For the epoch shown on hover.",
)
top[4].selectbox(
    "Start from a paper",
    ["", *PRESETS],
    key=f"{P}.preset",
    format_func=preset_label,
    on_change=apply_to_page,
    args=(P, int(steps), MAX_APP_STEPS),
    help="Schedules as published (ResNet, SGDR, 1cycle, Transformer, BERT, GPT-3, Chinchilla, LLaMA, MiniCPM, "
    "DeepSeek), sized to your steps.",
)
st.markdown(f"{spec.summary} [{spec.library} docs]({spec.reference})")
citation(P, name)


@safety.fragment
def schedule_view(name: str, steps: int, base_lr: float, steps_per_epoch: int) -> None:
    """Everything an input of the schedule changes: parameters, chart, figures, table, formula, export.

    A fragment: a parameter moved reruns only this (Streamlit's ``st.fragment``), not app.py, the
    sidebar and the run settings above, which take a full rerun when they change. The run settings
    come in as arguments (a fragment rerun gets those of the last full run)."""
    spec = SCHEDULERS[name]
    left, right = chart_first().columns([1, 2.4], gap="large")
    with left:
        st.subheader("Parameters")
        values, optimizer, interval = schedule_inputs(
            spec,
            P,
            int(steps),
            optimizer_help="Which optimizer's momentum the scheduler cycles: SGD's momentum, Adam/AdamW's beta1. "
            "Adagrad has neither: see what torch says when cycle_momentum is on.",
            interval_help="Per optimizer step, or once per epoch (every 'Steps per epoch' optimizer steps): a schedule sized "
            "in steps but stepped per epoch barely moves — the most common real-world mistake. With an explicit "
            "epoch: scheduler.step(epoch + i / steps_per_epoch) after every batch (torch's "
            "CosineAnnealingWarmRestarts docs), or scheduler.step(epoch + 1) once per epoch.",
        )
        st.button("Reset to defaults", on_click=reset_params, args=(P, spec), key=f"{P}.reset")
        import_panel(P, load_into_playground)
        if spec.name == "OneCycleLR":
            st.caption("OneCycleLR ignores the base LR: it starts at max_lr / div_factor.")

    config = ScheduleConfig.make(
        name,
        values,
        steps=int(steps),
        base_lr=float(base_lr),
        steps_per_epoch=int(steps_per_epoch),
        optimizer=optimizer,
        interval=interval,
    )
    shared = {
        "scheduler": name,
        "steps": int(steps),
        "base_lr": float(base_lr),
        "steps_per_epoch": int(steps_per_epoch),
        "interval": interval,
    }
    if spec.cycles_momentum is not None:
        shared["optimizer"] = optimizer
    shared.update(chosen_params(spec, P, values))  # a run-sized value never set follows the run: not in the link
    shared.update(explain_mode.link_values(P))  # explain mode and its step: a teacher's link opens there
    shared.update(links.values(LINK, only=None if "explain" in shared else {"log_y", "library", "preset", "image"}))
    plan = {k: v for k, v in shared.items() if k not in explain_mode.link_values(P) and k not in LINK}
    state.write_query(shared)
    with left:
        state.show_share(shared)
        st.markdown(
            f"[Check a logged run against this plan]({state.plan_link(plan)}) — My run sets your "
            "trainer_state.json, metrics.csv or TensorBoard log beside it and names what differs.",
            help="Opens My run with this schedule as the plan: upload your log there.",
        )

    error = None
    try:
        curve = cached_curve(config)
        st.session_state[f"{P}.last_good"] = config.to_json()
    except LrlabError as exc:
        error = exc
        last = st.session_state.get(f"{P}.last_good")
        curve = cached_curve(ScheduleConfig.from_dict(json.loads(last))) if last else None

    if error is not None:
        with left:
            st.error(plain(error), icon=":material/error:")

    with right:
        if curve is None:
            st.info("Fix the settings on the left to see a curve.")
            st.stop()
        if error is not None:
            st.info(f"Showing the last valid settings ({curve.spec.name}) until the error is fixed.")
        with st.container(horizontal=True, gap="large"):  # one block, not a row of columns: fewer messages per input
            log_y = st.toggle(
                "Log-scale y axis", key=f"{P}.log_y", help="Steps where the lr is 0 are not drawn on a log axis."
            )
            explaining = explain_mode.toggle(P)
        figure = lr_figure(curve, log_y=log_y)
        if explaining:  # the values table follows the explained step: it is part of the explain panel
            explain_mode.view(
                P,
                figure,
                [explain_mode.Explained("library", explain_mode.MARKER_COLOR, curve)],
                chart_key=f"{P}.chart",
                chart_config=chart_config(),
                on_step=partial(values_table.show, None, curve.frame, source=curve.source),
            )
        else:
            st.plotly_chart(figure, width="stretch", key=f"{P}.chart", config=chart_config())

        figures = summary(curve.frame)
        with st.container(horizontal=True, gap="medium"):  # four figures in a row that wraps on a phone
            st.metric("LR at step 0", fmt_number(figures["first"], 4))
            st.metric("Peak LR", fmt_number(figures["peak"], 4), help=f"reached first at step {figures['peak_step']}")
            st.metric("Final LR", fmt_number(figures["final"], 4), help=f"at step {curve.config.steps - 1}")
            st.metric("Min LR", fmt_number(figures["min"], 4), help=f"reached first at step {figures['min_step']}")
        st.caption(f"Peak at step {figures['peak_step']} · min at step {figures['min_step']}")

        if curve.source == "closed form":
            source_note(curve, P)
        elif curve.closed is None:
            st.info(
                "No closed form here (the lr depends on a metric, or on how the children combine): only the "
                "library's curve is drawn."
            )
        elif curve.first_diff_step is None:
            rounding = (
                f" — within {curve.spec.library}'s float32 rounding: the library computes in float32, the closed form in "
                f"float64, and the tests hold them to {curve.spec.tolerance:.0e} relative"
                if curve.spec.tolerance > 1e-9
                else ""
            )
            st.success(
                f"The closed form matches the library on every step (max relative difference {curve.max_rel_diff:.1e})"
                f"{rounding}.",
                icon=":material/check_circle:",
            )
        else:
            st.warning(
                f"The closed form and the library differ from step {curve.first_diff_step} on "
                f"(max relative difference {curve.max_rel_diff:.3g}). The solid line is what your training would see.",
                icon=":material/difference:",
            )
        for note in curve.notes:
            st.warning(plain(note))
        if not explaining:
            values_table.show(None, curve.frame, source=curve.source)

    st.divider()
    form_col, note_col = st.columns([1.6, 1], gap="large")
    with form_col:
        st.subheader("Formula")
        st.latex(curve.spec.formula)
        rows = legend_rows(curve.spec, curve.params, curve.config.base_lr)
        if rows:
            st.markdown(
                "| symbol | meaning | value |\n|---|---|---|\n"
                + "\n".join(f"| {r['symbol']} | {r['meaning']} | {r['value']} |" for r in rows)
            )
    with note_col:
        st.subheader("Library vs textbook")
        if curve.spec.notes:
            st.markdown("\n".join(f"- {n}" for n in curve.spec.notes))
        else:
            st.markdown("The library follows the textbook formula exactly.")

    st.divider()
    if error is None:
        export_panel(curve.config, curve, P)


schedule_view(name, int(steps), float(base_lr), int(steps_per_epoch))
