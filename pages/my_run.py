"""My run: a logged run's learning rates read, set beside the plan, diagnosed, identified; the resume simulator."""

import hashlib
import json
import warnings

import numpy as np
import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.diagnosing import diagnose
from lrlab.export import render, targets_for
from lrlab.identifying import identify
from lrlab.logs import MAX_LOG_BYTES, LoggedRun
from lrlab.logs import read as read_log
from lrlab.resume import HOWS, resume_code, simulate_resume
from lrlab.run_plots import (
    EXAMPLES,
    candidates_table,
    example_label,
    example_log,
    resume_figure,
    resume_label,
    run_figure,
)
from lrlab.schedulers import get_spec
from lrlab.specs import INTERVALS, LIBRARIES
from lrlab.ui import links, state
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, import_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import (
    chosen_params,
    fmt_number,
    interval_label,
    lr_slider,
    reset_params,
    schedule_inputs,
    scheduler_picker,
    seed_params,
)

ensure_router()

P = "mr"
MAX_APP_STEPS = 1_000_000
MAX_RESUME_STEPS = 50_000  # three real runs, interrupted and resumed, per setting (≈ 60 µs a step each)
MAX_UPLOAD_MB = MAX_LOG_BYTES // 1_000_000


# ---- cached calls: keyed by the log's content hash and the plan's JSON ----------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def _example(key: str) -> tuple[bytes, str]:
    return example_log(key)


@st.cache_data(max_entries=16, show_spinner=False)
def _read(digest: str, name: str, _data: bytes) -> LoggedRun:
    return read_log(_data, name=name)


@st.cache_data(max_entries=64, show_spinner=False)
def _diagnose(digest: str, name: str, config_json: str, _data: bytes):
    return diagnose(ScheduleConfig.from_dict(json.loads(config_json)), _read(digest, name, _data))


@st.cache_data(max_entries=16, show_spinner=False)
def _identify(digest: str, name: str, _data: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return identify(_read(digest, name, _data), top=5)


@st.cache_data(max_entries=64, show_spinner=False)
def _resume(config_json: str, at: int, how: str, new_steps: int | None):
    config = ScheduleConfig.from_dict(json.loads(config_json))
    if config.steps > MAX_RESUME_STEPS or (new_steps or 0) > MAX_RESUME_STEPS:
        what, value = ("steps", config.steps) if config.steps > MAX_RESUME_STEPS else ("new_steps", new_steps)
        raise LrlabError(
            f"Invalid {what} ({value:,}): the resume simulator on this page replays up to {MAX_RESUME_STEPS:,} steps "
            "(three real runs); lrlab.resume.simulate_resume takes more",
            field=what,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate_resume(config, at, how, new_steps=new_steps if how == "new_total" else None)


def error_text(exc: LrlabError) -> str:
    """The error's message, with the field it names when the message does not already say it."""
    text = str(exc)
    if exc.field and exc.field not in text:
        text += f" (field: {exc.field})"
    return plain(text)


# ---- callbacks: they run before the script, so they may set other widgets' values -----------------


def load_plan(config: ScheduleConfig) -> list[str]:
    """Put a plan (imported, an example's, a candidate) into the plan's widgets; say what is left out."""
    if config.steps > MAX_APP_STEPS:
        raise LrlabError(f"Invalid steps ({config.steps}): the app shows up to {MAX_APP_STEPS:,}; use the CLI")
    spec = SCHEDULERS[config.scheduler]
    for key in ("steps", "base_lr", "steps_per_epoch", "optimizer", "interval"):
        st.session_state[f"{P}.{key}"] = getattr(config, key)
    st.session_state[f"{P}.scheduler"] = spec.name
    reset_params(P, spec)
    seed_params(spec, P, config.params_dict)
    notes = [f"Loaded {spec.name} as the plan."]
    if config.group_lrs:
        notes.append("The diagnosis follows the first param group: the other groups' lrs are not compared.")
    return notes


def example_chosen() -> None:
    key = st.session_state.get(f"{P}.example")
    if key in EXAMPLES:
        load_plan(EXAMPLES[key].plan)


def upload_changed() -> None:
    if st.session_state.get(f"{P}.upload") is not None:
        st.session_state[f"{P}.example"] = None  # a new upload is what the visitor wants to see


def use_candidate(config_json: str) -> None:
    load_plan(ScheduleConfig.from_dict(json.loads(config_json)))


# ---- the page ------------------------------------------------------------------------------------

st.title("My run")
st.caption(
    "What did your run actually do? Upload the learning rates your run logged — a Hugging Face "
    "`trainer_state.json`, Lightning's `metrics.csv`, a TensorBoard event file, or a W&B / TensorBoard CSV "
    "export — set the schedule you meant beside them, and lrlab says where they differ and why (gradient "
    "accumulation, stepping per epoch, a resume, a different total or warm-up…), which schedule the log "
    "actually is, and how to resume correctly. Nothing in a file is run."
)

st.session_state.setdefault(f"{P}.scheduler", "get_cosine_schedule_with_warmup")
st.session_state.setdefault(f"{P}.steps", 400)
st.session_state.setdefault(f"{P}.base_lr", 5e-5)
st.session_state.setdefault(f"{P}.steps_per_epoch", 100)
st.session_state.setdefault(f"{P}.optimizer", "sgd")
st.session_state.setdefault(f"{P}.interval", "step")
st.session_state.setdefault(f"{P}.corrected", True)
st.session_state.setdefault(f"{P}.resume_at", 100)
st.session_state.setdefault(f"{P}.resume_how", "last_epoch")
st.session_state.setdefault(f"{P}.new_steps", 600)

LINK = {
    "library": links.Field(f"{P}.library", "all", choices=("all", *LIBRARIES)),
    "example": links.Field(f"{P}.example", None, choices=tuple(EXAMPLES)),
    "corrected": links.Field(f"{P}.corrected", True),
    "resume_at": links.Field(f"{P}.resume_at", 100, low=1, high=MAX_APP_STEPS - 1),
    "resume_how": links.Field(f"{P}.resume_how", "last_epoch", choices=HOWS),
    "new_steps": links.Field(f"{P}.new_steps", 600, low=2, high=MAX_APP_STEPS),
}
RUN_KEYS = {"scheduler", "steps", "base_lr", "steps_per_epoch", "optimizer", "interval", *LINK}
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
state.notice(ignored)

# ---- 1. the log ----------------------------------------------------------------------------------

st.subheader("Your log")
source_row = input_row("log", lead=True).columns([1.4, 1])
source_row[0].file_uploader(
    "Upload a log",
    key=f"{P}.upload",
    on_change=upload_changed,
    max_upload_size=MAX_UPLOAD_MB,
    help="trainer_state.json (in every checkpoint folder), Lightning's metrics.csv (CSVLogger with "
    "LearningRateMonitor), an events.out.tfevents.* file, or a CSV exported from W&B or TensorBoard. "
    f"Up to {MAX_UPLOAD_MB} MB; read as data, nothing in it is run. An upload does not travel in a share link.",
)
source_row[1].segmented_control(
    "…or try an example",
    list(EXAMPLES),
    key=f"{P}.example",
    format_func=example_label,
    on_change=example_chosen,
    help="A log written the way its tool writes it, with a known mistake injected; every lr stepped by the "
    "real scheduler. Choosing one also sets the plan that run meant.",
)

example_key = st.session_state.get(f"{P}.example")
upload = st.session_state.get(f"{P}.upload")
log_data: bytes | None = None
log_name = ""
if example_key in EXAMPLES:
    log_data, log_name = _example(example_key)
    source_row[1].caption(plain(EXAMPLES[example_key].story))
    if upload is not None:
        source_row[0].caption(f"Your upload {plain(upload.name)} is set aside while an example is chosen.")
elif upload is not None:
    log_data, log_name = upload.getvalue(), upload.name

logged: LoggedRun | None = None
digest = ""
given = log_data is not None
if given:
    try:
        if len(log_data) > MAX_LOG_BYTES:
            raise LrlabError(
                f"Invalid log ({len(log_data):,} bytes): at most {MAX_LOG_BYTES:,} bytes are read", field="log"
            )
        digest = hashlib.sha256(log_data).hexdigest()
        logged = _read(digest, log_name, log_data)
        st.session_state[f"{P}.last_log"] = (digest, log_name, log_data)
    except LrlabError as exc:
        st.error(error_text(exc), icon=":material/error:")
        last = st.session_state.get(f"{P}.last_log")
        if last is not None:
            digest, log_name, log_data = last
            logged = _read(digest, log_name, log_data)
            st.info(f"Showing the last log read ({plain(log_name)}) until the file is fixed.")
        else:
            log_data = None
if logged is not None:
    frame = logged.frame
    with st.expander(
        f"What was read from {plain(log_name)}: {len(frame):,} logged rows, source {plain(logged.source)}",
        icon=":material/fact_check:",
        expanded=False,
    ):
        st.markdown("\n".join(f"- {plain(line)}" for line in logged.read))
        if logged.skipped:
            st.markdown("**Skipped**\n" + "\n".join(f"- {plain(line)}" for line in logged.skipped))
        if logged.restarts:
            st.warning(
                f"The step counter went back {len(logged.restarts)} time(s) (a resumed run), at rows "
                + ", ".join(str(r) for r in logged.restarts[:10])
                + ": the later values of a step are kept.",
                icon=":material/restart_alt:",
            )
        st.caption(
            f"Relative precision of the logged values: {logged.precision:.1e}. Columns: "
            + ", ".join(f"{plain(col)} ← {plain(src)}" for col, src in logged.names)
        )
    if logged.restarts:
        st.caption(f":material/restart_alt: The log restarts {len(logged.restarts)} time(s): see What was read.")
elif not given:
    st.info("Upload a log, or try an example, to set it beside the plan. Until then the plan is drawn alone.")

# ---- 2. the plan ---------------------------------------------------------------------------------

st.subheader("The plan")
top = input_row("plan", lead=True).columns([4, 1.2, 1.6, 1.2])
name = scheduler_picker(
    top[0],
    top[0],
    library_key=f"{P}.library",
    key=f"{P}.scheduler",
    help="The schedule you meant: any schedule of torch, transformers, timm, Keras, optax or fastai, or an "
    "imported config (a transformers training_args.json, timm's args.yaml…: see Import a config).",
)
spec = SCHEDULERS[name]
steps = top[1].number_input(
    "Steps",
    min_value=1,
    max_value=MAX_APP_STEPS,
    step=100,
    key=f"{P}.steps",
    help="The optimizer steps the plan counts. Where the log goes further, the plan is extended.",
)
base_label = "Base LR" if spec.base_lr_param is None else f"Base LR (= {spec.name}'s {spec.base_lr_param})"
base_lr = lr_slider(top[2], base_label, key=f"{P}.base_lr", help="The optimizer's lr (each group's initial lr).")
steps_per_epoch = top[3].number_input(
    "Steps per epoch",
    min_value=1,
    max_value=MAX_APP_STEPS,
    key=f"{P}.steps_per_epoch",
    help="Optimizer steps per epoch: for schedules stepped per epoch, and the per-epoch diagnosis.",
)

left, right = chart_first().columns([1, 2.4], gap="large")
with left:
    st.subheader("Parameters")
    st.markdown(f"{spec.summary} [{spec.library} docs]({spec.reference})")
    values, optimizer, interval = schedule_inputs(
        spec,
        P,
        int(steps),
        optimizer_help="Which optimizer's momentum the scheduler cycles.",
    )
    st.button("Reset to defaults", on_click=reset_params, args=(P, spec), key=f"{P}.reset")
    import_panel(P, load_plan)

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
shared.update(chosen_params(spec, P, values))
shared.update(links.values(LINK))
state.write_query(shared)
with left:
    carried_not = [] if example_key in EXAMPLES or upload is None else ["your uploaded log (upload it again there)"]
    state.show_share(shared, not_carried=carried_not)

# ---- the chart and the diagnosis -----------------------------------------------------------------

with right:
    error = None
    try:
        curve = cached_curve(config)
        st.session_state[f"{P}.last_good"] = config.to_json()
    except LrlabError as exc:
        error = exc
        last = st.session_state.get(f"{P}.last_good")
        curve = cached_curve(ScheduleConfig.from_dict(json.loads(last))) if last else None
    if error is not None:
        st.error(error_text(error), icon=":material/error:")
    if curve is None:
        st.info("Fix the plan's settings to see it beside the log.")
        st.stop()
    if error is not None:
        st.info(f"Showing the last valid plan ({curve.spec.name}) until the error is fixed.")
    plan_config = curve.config
    diagnosis = None
    if logged is not None:
        try:
            with st.spinner("Diagnosing: the plan stepped in the real library, each known cause tried…"):
                diagnosis = _diagnose(digest, log_name, plan_config.to_json(), log_data)
        except LrlabError as exc:
            st.error(error_text(exc), icon=":material/error:")
    overlay = st.toggle(
        "Overlay the corrected plans",
        key=f"{P}.corrected",
        help="Each cause that explains the log, drawn as the plan corrected by it, and its remaining error.",
    )
    shown = ()
    if diagnosis is not None and overlay:
        shown = diagnosis.causes or ((diagnosis.closest,) if diagnosis.closest is not None else ())
    plan_lr = curve.frame["lr"].to_numpy(dtype=np.float64)
    st.plotly_chart(
        run_figure(
            plan_lr,
            logged.steps if logged is not None else None,
            logged.lr if logged is not None else None,
            diagnosis=diagnosis,
            causes=shown,
            plan_name=f"plan: {curve.spec.library} {curve.spec.name}",
        ),
        width="stretch",
        key=f"{P}.chart",
        config=chart_config("my_run"),
    )
    if diagnosis is not None:
        st.markdown("**Diagnosis**")
        if diagnosis.first_diff_step is None:
            st.success(plain(diagnosis.summary), icon=":material/check_circle:")
        elif diagnosis.unexplained:
            st.warning(plain(diagnosis.summary), icon=":material/help:")
        else:
            st.warning(plain(diagnosis.summary), icon=":material/troubleshoot:")
        cols = st.columns(4)
        cols[0].metric(
            "First differing step",
            "—" if diagnosis.first_diff_step is None else f"{diagnosis.first_diff_step:,}",
            help="The first logged row (0-based optimizer update) where the log leaves the plan by more than its "
            "precision.",
        )
        cols[1].metric("Max rel. difference", f"{diagnosis.max_rel_diff:.3g}", help="Plan vs log, at the logged rows.")
        cols[2].metric("Mean rel. difference", f"{diagnosis.mean_rel_diff:.3g}")
        cols[3].metric(
            "Log's precision",
            f"{diagnosis.precision:.0e}",
            help="Relative: what the file can hold (float32 for TensorBoard, the printed digits of a CSV).",
        )
        for i, cause in enumerate(diagnosis.causes):
            numbers = ", ".join(f"{k} = {fmt_number(v)}" for k, v in cause.numbers.items())
            said = "" if i == 0 else f"  \n{plain(cause.summary)}"  # the first is the summary above
            st.markdown(
                f"**{plain(cause.name)}** — exact ({plain(numbers)}; remaining relative difference "
                f"{cause.remaining:.2g}){said}"
            )
            if cause.corrected_config is not None:
                corrected = cause.corrected_config
                params = ", ".join(f"{k}={fmt_number(v)}" for k, v in corrected.params_dict.items())
                st.caption(
                    f"The corrected plan: {plain(corrected.scheduler)}({plain(params)}), {corrected.steps:,} steps, "
                    f"stepped {interval_label(corrected.interval)}."
                )
        if diagnosis.unexplained and diagnosis.closest is not None:
            st.markdown(
                f"Closest known cause, not exact: **{plain(diagnosis.closest.name)}** (remaining relative difference "
                f"{diagnosis.closest.remaining:.3g})  \n{plain(diagnosis.closest.summary)}"
            )
        for note in diagnosis.notes:
            st.caption(f":material/info: {plain(note)}")
        if len(logged.lr_columns) > 1:
            st.caption(
                f"The log has {len(logged.lr_columns)} param groups: the diagnosis compares the first (lr ← "
                f"{plain(dict(logged.names).get('lr', 'lr'))})."
            )

# ---- 3. candidates -------------------------------------------------------------------------------

if logged is not None:
    st.divider()
    st.subheader("What schedule is this log?")
    st.caption(
        "From the log alone: every library's schedules ranked by how well their best parameters reproduce it, "
        "each stepped in its real library and compared at the logged rows. Exact: within the log's precision."
    )
    try:
        with st.spinner("Identifying: reading the curve's shape, fitting each library, stepping the candidates…"):
            identification = _identify(digest, log_name, log_data)
    except LrlabError as exc:
        identification = None
        st.error(error_text(exc), icon=":material/error:")
    if identification is not None and not identification.candidates:
        st.info("No schedule reproduces this log closely enough to show.")
    elif identification is not None:
        if identification.describe():
            st.caption("lrlab reads the log as: " + plain("; ".join(identification.describe())) + ".")
        st.dataframe(
            candidates_table(identification),
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.2e") for c in ("max rel. diff", "mean rel. diff")
            },
        )
        for note in identification.notes:
            st.caption(f":material/info: {plain(note)}")
        tabs = st.tabs([f"{i + 1}. {c.scheduler.split(':', 1)[-1]}" for i, c in enumerate(identification.candidates)])
        for i, (tab, c) in enumerate(zip(tabs, identification.candidates, strict=True)):
            with tab:
                c_spec = get_spec(c.config.scheduler)
                wanted = targets_for(c_spec)
                target = c.library if c.library in wanted else wanted[0]
                st.caption(
                    f"{plain(c.library)} · {plain(c.scheduler)} — {c.verdict}, max relative difference "
                    f"{c.max_rel_diff:.3g} at the logged rows. {plain(c.how)}"
                )
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        code = render(c.config, target)
                except LrlabError as exc:
                    st.info(error_text(exc))
                    continue
                st.code(code, language="python")
                b1, b2 = st.columns(2)
                b1.download_button(
                    f"Download the {target} code",
                    code,
                    file_name=f"{target}_{c.scheduler.split(':', 1)[-1].lower()}.py",
                    on_click="ignore",
                    key=f"{P}.dl.candidate.{i}",
                    icon=":material/download:",
                )
                b2.button(
                    "Use as the plan",
                    key=f"{P}.candidate.{i}",
                    on_click=use_candidate,
                    args=(c.config.to_json(),),
                    icon=":material/input:",
                    help="Put this schedule into the plan above and diagnose the log against it.",
                )

# ---- 4. the resume simulator ---------------------------------------------------------------------

st.divider()
st.subheader("Resume simulator")
st.caption(
    "The plan interrupted after r optimizer steps and resumed in a new process, three ways, each replayed with "
    "the real torch / transformers objects: loading the scheduler's state (correct), rebuilding it with "
    "last_epoch=r (pytorch#60265), or resuming with a changed total (open_clip#413) — next to the uninterrupted run."
)
row = input_row("resume").columns([1, 2.2, 1])
at = row[0].number_input(
    "Interrupted after (steps)",
    min_value=1,
    max_value=MAX_APP_STEPS - 1,
    key=f"{P}.resume_at",
    help="r: the optimizer steps done before the checkpoint.",
)
how = row[1].radio(
    "Resumed by",
    list(HOWS),
    key=f"{P}.resume_how",
    format_func=resume_label,
    horizontal=True,
    help="The way of resuming to explain; all three are drawn. The code below is always the correct resume.",
)
new_steps = row[2].number_input(
    "New total (steps)",
    min_value=2,
    max_value=MAX_APP_STEPS,
    key=f"{P}.new_steps",
    help="For a resume with a new total: the run length the rebuilt schedule is sized to.",
)
results = {}
errors: list[LrlabError] = []
for way in HOWS:
    try:
        with st.spinner(f"Replaying a resume by {way}…"):
            results[way] = _resume(plan_config.to_json(), int(at), way, int(new_steps) if way == "new_total" else None)
    except LrlabError as exc:
        errors.append(exc)
if any(exc.field == "scheduler" for exc in errors):
    st.info(error_text(next(exc for exc in errors if exc.field == "scheduler")), icon=":material/block:")
else:
    for message in dict.fromkeys(error_text(exc) for exc in errors):
        st.error(message, icon=":material/error:")
    if results:
        st.session_state[f"{P}.last_resume"] = (plan_config.to_json(), int(at), int(new_steps))
    elif (last := st.session_state.get(f"{P}.last_resume")) is not None:
        try:
            results = {w: _resume(last[0], last[1], w, last[2] if w == "new_total" else None) for w in HOWS}
            st.info(f"Showing the last valid resume (interrupted after {last[1]} steps) until the error is fixed.")
        except LrlabError:
            results = {}
    if results:
        st.plotly_chart(
            resume_figure(results, chosen=how), width="stretch", key=f"{P}.resume_chart", config=chart_config("resume")
        )
        picked = results.get(how)
        if picked is not None:
            if picked.first_diff_step is None:
                st.success(
                    f"{resume_label(how)}: the same curve as the uninterrupted run on every step.",
                    icon=":material/check_circle:",
                )
            else:
                st.warning(
                    f"{resume_label(how)}: leaves the uninterrupted run at step {picked.first_diff_step:,} "
                    f"(max relative difference {picked.max_rel_diff:.3g}).",
                    icon=":material/difference:",
                )
            if picked.error:
                st.error(f"The library refused the resume: {plain(picked.error)}", icon=":material/error:")
            for note in picked.notes:
                st.caption(f":material/info: {plain(note)}")
        any_result = next(iter(results.values()))
        try:
            code = resume_code(any_result.config, any_result.at, how)
        except LrlabError as exc:
            st.info(error_text(exc))
        else:
            st.markdown("**The correct resume, as a runnable script**")
            st.code(code, language="python")
            st.download_button(
                "Download the resume code",
                code,
                file_name="resume.py",
                on_click="ignore",
                key=f"{P}.dl.resume",
                icon=":material/download:",
            )
