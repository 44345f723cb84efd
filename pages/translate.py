"""Translate: a schedule's counterpart in every library, each measured against the source's real curve."""

import json
import warnings

import numpy as np
import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.export import render, targets_for
from lrlab.schedulers import get_spec
from lrlab.simulate import curve as library_curve
from lrlab.specs import INTERVALS, LIBRARIES
from lrlab.translate_plots import counterpart_label, short_name, translation_figure, verdict_table
from lrlab.translating.engine import MAX_TRANSLATE_STEPS, Counterpart, Translation, analyse, measure, translate
from lrlab.ui import links, state
from lrlab.ui.export_panel import chart_config, import_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import (
    chosen_params,
    library_label,
    lr_slider,
    reset_params,
    schedule_inputs,
    scheduler_picker,
    seed_params,
)

ensure_router()

P = "tl"  # "tr" is Train & compare's
MAX_APP_STEPS = 1_000_000  # what the box takes; a translation refuses more than MAX_TRANSLATE_STEPS, by name


@st.cache_data(max_entries=64, show_spinner=False)
def _source(config_json: str) -> tuple[np.ndarray, object]:
    """The source's real curve and lrlab's reading of its shape (None where it has none)."""
    config = ScheduleConfig.from_dict(json.loads(config_json))
    measured = measure(config)
    return measured.lr, analyse(config, measured)


@st.cache_data(max_entries=6 * 64, show_spinner=False)
def _counterpart(config_json: str, library: str) -> tuple[Counterpart, np.ndarray | None]:
    """The counterpart in ``library`` and its real curve, stepped in that library."""
    counterpart = translate(ScheduleConfig.from_dict(json.loads(config_json)), to=library)
    if counterpart.config is None:
        return counterpart, None
    if counterpart.lr is not None:  # the curve the engine measured it by
        return counterpart, counterpart.lr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return counterpart, library_curve(config=counterpart.config)["lr"].to_numpy(dtype=np.float64)


def translated(config: ScheduleConfig, libraries: list[str]) -> tuple[Translation, dict[str, np.ndarray]]:
    """The translation into ``libraries`` (cached per library), with each counterpart's curve."""
    key = config.to_json()
    found, curves = [], {}
    for library in libraries:
        with st.spinner(f"Translating into {library}: stepping its candidates in the real library, fitting if none…"):
            counterpart, lr = _counterpart(key, library)
        found.append(counterpart)
        if lr is not None:
            curves[library] = lr
    lr, shape = _source(key)
    return Translation(config, shape, tuple(found), lr=lr), curves


def load_into_translate(config: ScheduleConfig) -> list[str]:
    """Put an imported config into the source's widgets; say what the page leaves out."""
    if config.steps > MAX_APP_STEPS:
        raise LrlabError(f"Invalid steps ({config.steps}): the app shows up to {MAX_APP_STEPS:,}; use the CLI")
    spec = SCHEDULERS[config.scheduler]
    for key in ("steps", "base_lr", "steps_per_epoch", "optimizer", "interval"):
        st.session_state[f"{P}.{key}"] = getattr(config, key)
    st.session_state[f"{P}.scheduler"] = spec.name
    seed_params(spec, P, config.params_dict)
    notes = [f"Loaded {spec.name} to translate."]
    if config.group_lrs:
        notes.append("Translate follows one param group: the other groups' lrs are not translated.")
    if config.steps > MAX_TRANSLATE_STEPS:
        notes.append(f"A translation takes up to {MAX_TRANSLATE_STEPS:,} steps: lower Steps to translate this one.")
    return notes


def parse_libraries(raw: str) -> list[str] | None:
    """The libraries of a link's ``to`` (names separated by commas), or None when one is unknown."""
    names = [n.strip() for n in raw.split(",") if n.strip()]
    return [lib for lib in LIBRARIES if lib in names] if all(n in LIBRARIES for n in names) else None


st.title("Translate")
st.caption(
    "Pick or import a schedule and see its counterpart in torch, transformers, timm, Keras, optax and fastai: "
    "exact where the library can express it, else the closest fit, each stepped in the real library and measured "
    "against the source's real curve, step by step. Each counterpart's code is in its tab below."
)

st.session_state.setdefault(f"{P}.scheduler", "get_cosine_schedule_with_warmup")
st.session_state.setdefault(f"{P}.steps", 1000)
st.session_state.setdefault(f"{P}.base_lr", 0.001)
st.session_state.setdefault(f"{P}.steps_per_epoch", 100)
st.session_state.setdefault(f"{P}.optimizer", "sgd")
st.session_state.setdefault(f"{P}.interval", "step")
st.session_state.setdefault(f"{P}.to", list(LIBRARIES))

LINK = {"library": links.Field(f"{P}.library", "all", choices=("all", *LIBRARIES))}
RUN_KEYS = {"scheduler", "steps", "base_lr", "steps_per_epoch", "optimizer", "interval", "to", *LINK}
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
    links.restore(LINK, query, ignored)
    if "to" in query:
        libraries = parse_libraries(query["to"])
        if libraries is None:
            ignored.append(state.refused("to", query["to"], "libraries separated by commas: " + ", ".join(LIBRARIES)))
        else:
            st.session_state[f"{P}.to"] = libraries
state.notice(ignored)

top = input_row("run", lead=True).columns([4, 1.2, 1.6, 1.2])
name = scheduler_picker(
    top[0],
    top[0],
    library_key=f"{P}.library",
    key=f"{P}.scheduler",
    help="The source: any schedule of torch, transformers, timm, Keras, optax or fastai, or an imported config "
    "(a transformers training_args.json, timm's args.yaml, a Keras serialized schedule: see Import a config).",
)
spec = SCHEDULERS[name]
steps = top[1].number_input(
    "Steps",
    min_value=1,
    max_value=MAX_APP_STEPS,
    step=100,
    key=f"{P}.steps",
    help=f"Optimizer steps of the run, up to {MAX_TRANSLATE_STEPS:,}: a translation steps every candidate "
    "counterpart in its real library over the whole run.",
)
base_label = "Base LR" if spec.base_lr_param is None else f"Base LR (= {spec.name}'s {spec.base_lr_param})"
base_lr = lr_slider(top[2], base_label, key=f"{P}.base_lr", help="The optimizer's lr (each group's initial lr).")
steps_per_epoch = top[3].number_input(
    "Steps per epoch",
    min_value=1,
    max_value=MAX_APP_STEPS,
    key=f"{P}.steps_per_epoch",
    help="For schedules stepped per epoch, and for the counterparts that count epochs (timm, fastai).",
)
targets = st.multiselect(
    "Translate to",
    list(LIBRARIES),
    key=f"{P}.to",
    format_func=library_label,
    help="The libraries to find a counterpart in. Each is translated once per setting and kept: adding one "
    "back is instant.",
)

left, right = chart_first().columns([1, 2.4], gap="large")
with left:
    st.subheader("Parameters")
    st.markdown(f"{spec.summary} [{spec.library} docs]({spec.reference})")
    values, optimizer, interval = schedule_inputs(
        spec,
        P,
        int(steps),
        optimizer_help="Which optimizer's momentum the scheduler cycles: each counterpart says whether it carries it.",
    )
    st.button("Reset to defaults", on_click=reset_params, args=(P, spec), key=f"{P}.reset")
    import_panel(P, load_into_translate)

config = ScheduleConfig.make(
    name,
    values,
    steps=int(steps),
    base_lr=float(base_lr),
    steps_per_epoch=int(steps_per_epoch),
    optimizer=optimizer,
    interval=interval,
)
chosen = [lib for lib in LIBRARIES if lib in targets]
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
shared.update(links.values(LINK))
if chosen != list(LIBRARIES):
    shared["to"] = ",".join(chosen)
state.write_query(shared)
with left:
    state.show_share(shared)

with right:
    if not chosen:
        st.info("Choose at least one library under Translate to.")
        st.stop()
    error = None
    try:
        translation, curves = translated(config, chosen)
        st.session_state[f"{P}.last_good"] = config.to_json()
    except LrlabError as exc:
        error = exc
        last = st.session_state.get(f"{P}.last_good")
        translation = None
        if last:
            try:
                translation, curves = translated(ScheduleConfig.from_dict(json.loads(last)), chosen)
            except LrlabError:
                translation = None
    if error is not None:
        st.error(plain(error), icon=":material/error:")
    if translation is None:
        st.info("Fix the settings to see a translation.")
        st.stop()
    if error is not None:
        st.info(f"Showing the last valid settings ({translation.source.scheduler}) until the error is fixed.")
    st.plotly_chart(
        translation_figure(translation, curves), width="stretch", key=f"{P}.chart", config=chart_config("translation")
    )
    if translation.shape is not None:
        st.caption("lrlab reads the source as: " + plain("; ".join(translation.shape.describe())) + ".")
    else:
        st.caption("lrlab has no closed description of this source: each library is fitted to its curve.")
    st.dataframe(
        verdict_table(translation),
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.2e") for c in ("max rel. diff", "tolerance", "mean rel. diff")
        },
    )
    st.caption(
        "Relative differences between the two real libraries' curves over the whole run, against the source. "
        "Exact: within the tolerance (the looser of the two libraries' own: 1e-9 between float64 libraries, "
        "float32 rounding where Keras or optax compute)."
    )

st.divider()
st.subheader("Each library's counterpart")
tabs = st.tabs([f"{c.library} · {c.verdict}" for c in translation.counterparts])
for tab, counterpart in zip(tabs, translation.counterparts, strict=True):
    with tab:
        if counterpart.config is None:
            st.info(plain(f"No counterpart in {counterpart.library}: {counterpart.reason}"), icon=":material/block:")
            continue
        st.markdown(f"**{plain(counterpart_label(counterpart))}**")
        rows = f", largest at steps {list(counterpart.worst_steps)}" if counterpart.worst_steps else ""
        st.caption(
            f"Max relative difference {counterpart.max_rel_diff:.3g} (tolerance {counterpart.tolerance:.0e}), "
            f"mean {counterpart.mean_rel_diff:.3g}, over {translation.source.steps:,} steps{rows}."
        )
        st.markdown(plain(f"How: {counterpart.how}."))
        if counterpart.reason:
            st.info(plain(f"Why not exact: {counterpart.reason}"), icon=":material/info:")
        if counterpart.momentum_note:
            measured = counterpart.momentum_max_rel_diff
            suffix = f" (momentum max relative difference {measured:.3g})" if measured is not None else ""
            st.warning(plain(f"Momentum: {counterpart.momentum_note}{suffix}."), icon=":material/speed:")
        if counterpart.alternatives:
            st.markdown(
                "Also exact:\n"
                + "\n".join(
                    f"- {plain(short_name(a.scheduler or ''))} (max relative difference {a.max_rel_diff:.3g}): "
                    f"{plain(a.how)}"
                    for a in counterpart.alternatives
                )
            )
        spec_c = get_spec(counterpart.config.scheduler)
        target = counterpart.library if counterpart.library in targets_for(spec_c) else targets_for(spec_c)[0]
        schedules = [("lr", counterpart.config)]
        if counterpart.momentum_config is not None:
            schedules.append(("momentum", counterpart.momentum_config))
        for what, schedule in schedules:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    code = render(schedule, target)
            except LrlabError as exc:
                st.info(plain(exc))
                continue
            if what == "momentum":
                st.caption(f"The momentum schedule, in {counterpart.library}'s idiom:")
            st.code(code, language="python")
            stem = short_name(schedule.scheduler).lower()
            st.download_button(
                f"Download the {counterpart.library} code" + (" (momentum)" if what == "momentum" else ""),
                code,
                file_name=f"{counterpart.library}_{stem}{'_momentum' if what == 'momentum' else ''}.py",
                on_click="ignore",
                key=f"{P}.dl.{counterpart.library}.{what}",
                icon=":material/download:",
            )
