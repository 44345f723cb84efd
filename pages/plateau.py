"""Plateau: ReduceLROnPlateau (and transformers' wrappers) driven by a metric you choose."""

import json
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.compose import WARMUP_THEN_PLATEAU
from lrlab.metrics import parse_metric_csv, parse_metric_list
from lrlab.plots import lr_figure
from lrlab.specs import SchedulerSpec
from lrlab.ui import links, state
from lrlab.ui.cache import cached_metric_curve, synthetic_metric
from lrlab.ui.export_panel import chart_config, export_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first
from lrlab.ui.text import plain
from lrlab.ui.typed import is_number, typed_slider
from lrlab.ui.widgets import (
    LR_SLIDER,
    chosen_params,
    fmt_number,
    is_set,
    key_for,
    log_grid,
    lr_slider,
    number,
    render_params,
    run_sized,
    scheduler_label,
)

ensure_router()

P = "pl"
# WarmupThenPlateau: a warm-up scheduler first, then ReduceLROnPlateau (the switch written by hand)
NAMES = ["ReduceLROnPlateau", "WarmupThenPlateau", "get_reduce_on_plateau_schedule", "get_greedy_schedule"]
MAX_APP_STEPS = 100_000

st.title("Plateau")
st.caption(
    "Schedulers that react to a metric. The lr comes from the real scheduler stepped with "
    "`scheduler.step(metric)`; each reduction is marked and explained from the scheduler's own state."
)

for key, default in [
    (f"{P}.scheduler", NAMES[0]),
    (f"{P}.source", "synthetic"),
    (f"{P}.steps", 3000),
    (f"{P}.base_lr", 0.1),
    (f"{P}.groups", 1),
    (f"{P}.eval_mode", "every k steps"),
    (f"{P}.eval_every", 10),
    (f"{P}.steps_per_epoch", 100),
]:
    st.session_state.setdefault(key, default)

PASTE_DEFAULT = "1.0, 0.8, 0.7, 0.65, 0.63, 0.62, 0.62, 0.62, 0.62, 0.61, 0.62, 0.62"
MAX_PASTE_CHARS = 2000  # pasted values longer than this stay out of the link (the share box says so)
LINK = {  # every setting but the scheduler's own parameters (flat keys named after them) and the upload
    "scheduler": links.Field(f"{P}.scheduler", NAMES[0], choices=tuple(NAMES)),
    "source": links.Field(f"{P}.source", "synthetic", choices=("synthetic", "upload", "paste")),
    "eval_mode": links.Field(f"{P}.eval_mode", "every k steps", choices=("every k steps", "once per epoch")),
    "eval_every": links.Field(f"{P}.eval_every", 10, low=1, high=10_000),
    "steps_per_epoch": links.Field(f"{P}.steps_per_epoch", 100, low=1, high=10_000),
    "steps": links.Field(f"{P}.steps", 3000, low=2, high=MAX_APP_STEPS),
    "start": links.Field(f"{P}.syn.start", 2.0, low=0.0, high=1e6),
    "floor": links.Field(f"{P}.syn.floor", 0.3, low=0.0, high=1e6),
    "decay": links.Field(f"{P}.syn.decay", 0.2, low=0.001, high=10.0),
    "noise": links.Field(f"{P}.syn.noise", 0.01, low=0.0, high=1e3),
    "seed": links.Field(f"{P}.syn.seed", 0, low=0, high=2**31 - 1),
    "plateau_len": links.Field(f"{P}.syn.plateau_len", 0, low=0, high=100_000),
    "plateaus": links.Field(f"{P}.plateaus", "", max_len=500),
    "bump_at": links.Field(f"{P}.syn.bump_at", 0, low=0, high=1_000_000),
    "bump_height": links.Field(f"{P}.syn.bump_h", 0.0, low=0.0, high=1e3),
    "bump_width": links.Field(f"{P}.syn.bump_w", 10.0, low=1.0, high=1e5),
    "paste": links.Field(f"{P}.paste", PASTE_DEFAULT, max_len=MAX_PASTE_CHARS),
    "groups": links.Field(f"{P}.groups", 1, low=1, high=4),
    "only_changes": links.Field(f"{P}.only_changes", True),
    **links.IMAGE,
}
MIN_LR = SCHEDULERS["ReduceLROnPlateau"].param("min_lr")
for g in range(1, 4):  # each group's lr and min_lr: always carried while shown (their defaults follow other values)
    # the bounds are what a run and ReduceLROnPlateau take: a value typed and drawn comes back from its link
    LINK[f"lr_{g}"] = links.Field(f"{P}.lr_{g}", -1.0, low=0.0, high=state.MAX_LR, low_open=True)
    LINK[f"min_lr_{g}"] = links.Field(f"{P}.min_lr_{g}", -1.0, low=MIN_LR.low, high=MIN_LR.high)
SYNTHETIC = {"steps", "start", "floor", "decay", "noise", "seed", "plateau_len", "plateaus", "bump_at"}
SYNTHETIC |= {"bump_height", "bump_width"}


def warmup_follows_warmup_steps(spec: SchedulerSpec, steps: int) -> SchedulerSpec:
    """WarmupThenPlateau as the page draws it: a warm-up child the user never edited lasts warmup_steps
    (the loop switches to the plateau then), following it as warmup_steps follows the run or is set."""
    if spec.name != WARMUP_THEN_PLATEAU:
        return spec
    k_param = spec.param("warmup_steps")
    k_key = key_for(P, spec, k_param)
    k = st.session_state.get(k_key) if is_set(k_key) else k_param.default_for(steps)
    if not is_number(k) or not float(k).is_integer() or k < 1:
        return spec  # validation names a bad warmup_steps; the child keeps the run's default meanwhile
    warmup = spec.param("warmup")
    sized = replace(warmup, default=partial(_warmup_lasting, warmup.default, int(k)))
    return replace(spec, params=tuple(sized if p.name == "warmup" else p for p in spec.params))


def _warmup_lasting(default: Callable[[int], list], k: int, steps: int) -> list:
    return [{**child, "total_iters": k} if "total_iters" in child else child for child in default(steps)]


ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    state.apply_run_values(P, {k: v for k, v in query.items() if k == "base_lr"}, MAX_APP_STEPS, ignored)
    links.restore(LINK, query, ignored)
    linked = SCHEDULERS[st.session_state[f"{P}.scheduler"]]
    state.apply_params(linked, P, query, st.session_state[f"{P}.steps"], ignored, skip={"base_lr", *LINK})
state.notice(ignored)

name = st.selectbox("Scheduler", NAMES, key=f"{P}.scheduler", format_func=scheduler_label)
spec = SCHEDULERS[name]

left, right = chart_first().columns([1, 2.3], gap="large")
errors: list[str] = []
notes: list[str] = []
with left:
    st.subheader("The metric")
    source = st.radio(
        "Metric source",
        ["synthetic", "upload", "paste"],
        key=f"{P}.source",
        format_func={"synthetic": "Synthetic loss", "upload": "Upload a CSV", "paste": "Paste values"}.get,
        horizontal=True,
    )
    eval_mode = st.radio(
        "The metric is observed",
        ["every k steps", "once per epoch"],
        key=f"{P}.eval_mode",
        horizontal=True,
        help="How often your training loop evaluates and calls scheduler.step(metric).",
    )
    if eval_mode == "every k steps":
        eval_every = int(st.number_input("k (optimizer steps per evaluation)", 1, 10_000, key=f"{P}.eval_every"))
    else:
        eval_every = int(st.number_input("Steps per epoch", 1, 10_000, key=f"{P}.steps_per_epoch"))

    metrics = None
    if source == "synthetic":
        st.session_state.setdefault(f"{P}.plateaus", "")
        steps = int(number(st, "Steps", 2, MAX_APP_STEPS, 3000, step=100, key=f"{P}.steps"))
        n_evals = max(1, (steps - 1) // eval_every)
        with st.expander("Synthetic loss", expanded=True):
            c1, c2 = st.columns(2)
            start = number(c1, "start", 0.0, 1e6, 2.0, key=f"{P}.syn.start", help="Loss at the first evaluation.")
            floor = number(c2, "floor", 0.0, 1e6, 0.3, key=f"{P}.syn.floor", help="Level the loss decays to.")
            decay_share = number(
                c1,
                "decay time (share of run)",
                0.001,
                10.0,
                0.2,
                key=f"{P}.syn.decay",
                help="e-folding time of the decay, as a share of the evaluations.",
            )
            noise = number(c2, "noise σ", 0.0, 1e3, 0.01, format="%g", key=f"{P}.syn.noise")
            seed = number(c1, "seed", 0, 2**31 - 1, 0, key=f"{P}.syn.seed")
            plateau_len = number(c2, "plateau length", 0, 100_000, 0, key=f"{P}.syn.plateau_len")
            plateaus_text = st.text_input(
                "plateaus at evaluations",
                key=f"{P}.plateaus",
                placeholder="e.g. 50, 120",
                help="The decay pauses there.",
            )
            b1, b2, b3 = st.columns(3)
            bump_at = number(b1, "bump at", 0, 1_000_000, 0, key=f"{P}.syn.bump_at", help="0: no bump")
            bump_height = number(b2, "bump height", 0.0, 1e3, 0.0, format="%g", key=f"{P}.syn.bump_h")
            bump_width = number(b3, "bump width", 1.0, 1e5, 10.0, key=f"{P}.syn.bump_w")
        try:
            plateaus = tuple(int(p) for p in plateaus_text.replace(",", " ").split()) if plateaus_text.strip() else ()
        except ValueError:
            plateaus = ()
            errors.append(f"Invalid plateaus ({plateaus_text!r}): must be evaluation numbers separated by commas")
        metrics = synthetic_metric(
            n_evals,
            start=float(start),
            floor=float(floor),
            decay_steps=max(1e-3, float(decay_share) * n_evals),
            plateaus=plateaus,
            plateau_length=int(plateau_len),
            bump_at=int(bump_at) if bump_at else None,
            bump_height=float(bump_height),
            bump_width=float(bump_width),
            noise=float(noise),
            seed=int(seed),
        )
    else:
        series = None
        if source == "upload":
            upload = st.file_uploader(
                "CSV of step,value (TensorBoard and W&B exports work)", type=["csv", "txt"], key=f"{P}.upload"
            )
            if upload is not None:
                try:
                    series = parse_metric_csv(upload.getvalue())
                except LrlabError as exc:
                    errors.append(str(exc))
        else:
            st.session_state.setdefault(f"{P}.paste", PASTE_DEFAULT)
            text = st.text_area("Metric values, one per evaluation", key=f"{P}.paste", height=120)
            try:
                series = parse_metric_list(text)
            except LrlabError as exc:
                errors.append(str(exc))
        if series is not None:
            metrics = series.values
            notes.extend(series.notes)
            if series.interval and series.interval != eval_every:
                notes.append(
                    f"The file logs the metric every {series.interval} steps; set k = {series.interval} to match."
                )
        n = len(metrics) if metrics is not None else 10
        steps = min(MAX_APP_STEPS, n * eval_every + 1)
        if metrics is not None and n * eval_every + 1 > MAX_APP_STEPS:
            notes.append(f"Only the first {(MAX_APP_STEPS - 1) // eval_every} values fit in {MAX_APP_STEPS} steps.")
        st.caption(f"{n} evaluations × {eval_every} steps → a run of {steps} optimizer steps.")

    st.subheader("The scheduler")
    base_lr = lr_slider(
        st,
        "Base LR",
        key=f"{P}.base_lr",
    )
    groups = int(
        st.number_input("Param groups", 1, 4, key=f"{P}.groups", help="Each group with its own lr and min_lr.")
    )
    group_lrs = []
    for g in range(1, groups):
        st.session_state.setdefault(f"{P}.lr_{g}", base_lr)
        group_lrs.append(
            lr_slider(
                st,
                f"lr of group {g}",
                key=f"{P}.lr_{g}",
            )
        )
    shown = warmup_follows_warmup_steps(spec, steps)
    values = render_params(shown, P, steps)
    chosen = chosen_params(shown, P, values)  # a run-sized value the user never set follows the run: not linked
    shared = {
        **({"base_lr": float(base_lr)} if base_lr != 0.1 else {}),
        **{k: v for k, v in chosen.items() if run_sized(spec.param(k)) or v != spec.param(k).default_for(steps)},
    }
    if groups > 1 and "min_lr" in values:
        per_group = [values["min_lr"]]
        for g in range(1, groups):
            st.session_state.setdefault(f"{P}.min_lr_{g}", 0.0)
            per_group.append(
                typed_slider(
                    st,
                    f"min_lr of group {g}",
                    key=f"{P}.min_lr_{g}",
                    options=log_grid(MIN_LR.low, LR_SLIDER[1]),  # an lr has no upper bound: the usual ones
                    help=f"Group {g}'s floor, typed exactly; {MIN_LR.allowed_text(steps)}.",
                )
            )
        values["min_lr"] = per_group

    view = {"scheduler", "source", "eval_mode", "groups", "only_changes", "image"}
    view |= {"eval_every" if eval_mode == "every k steps" else "steps_per_epoch"}
    view |= SYNTHETIC if source == "synthetic" else ({"paste"} if source == "paste" else set())
    not_carried = []
    if source == "paste" and len(st.session_state.get(f"{P}.paste", "")) > MAX_PASTE_CHARS:
        view.discard("paste")
        not_carried.append(f"the pasted values (over {MAX_PASTE_CHARS:,} characters): paste them again")
    if source == "upload" and st.session_state.get(f"{P}.upload") is not None:
        not_carried.append("the uploaded CSV: upload it again after opening the link")
    shared.update(links.values(LINK, only=view))
    shared.update({f"lr_{g}": lr for g, lr in enumerate(group_lrs, start=1)})
    if isinstance(values.get("min_lr"), list):
        shared.update({f"min_lr_{g}": v for g, v in enumerate(values["min_lr"][1:], start=1)})
    state.write_query(shared)
    state.show_share(shared, not_carried)

curve = None
if metrics is not None and not errors:
    config = ScheduleConfig.make(name, values, steps=int(steps), base_lr=float(base_lr), group_lrs=tuple(group_lrs))
    try:
        curve = cached_metric_curve(
            config, tuple(float(v) for v in metrics[: max(1, (steps - 1) // eval_every)]), eval_every
        )
        st.session_state[f"{P}.last_good"] = (config.to_json(), tuple(float(v) for v in metrics), eval_every)
    except LrlabError as exc:
        errors.append(str(exc))
if curve is None and errors and st.session_state.get(f"{P}.last_good"):
    last_json, last_metrics, last_every = st.session_state[f"{P}.last_good"]
    last = ScheduleConfig.from_dict(json.loads(last_json))
    curve = cached_metric_curve(last, last_metrics[: max(1, (last.steps - 1) // last_every)], last_every)

with left:
    for message in errors:
        st.error(plain(message), icon=":material/error:")

with right:
    for note in notes:
        st.info(plain(note))
    if curve is None:
        st.info("Choose or fix the metric on the left to see the schedule react to it.")
        st.stop()
    if errors:
        st.info("Showing the last valid settings until the error is fixed.")
    st.plotly_chart(lr_figure(curve, height=480), width="stretch", key=f"{P}.chart", config=chart_config())
    events = curve.events
    changed = events[events["event"].isin(["reduced", "increased", "reduction skipped"])]
    c1, c2, c3 = st.columns(3)
    c1.metric("Evaluations", len(events))
    c2.metric("LR changes", int((events["event"].isin(["reduced", "increased"])).sum()))
    c3.metric("Final LR", fmt_number(float(curve.frame["lr"].iloc[-1]), 4))
    for note in curve.notes:
        st.warning(plain(note))
    st.session_state.setdefault(f"{P}.only_changes", True)
    only = st.toggle("Only evaluations where something happened", key=f"{P}.only_changes")
    shown = changed if only else events
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={"explanation": st.column_config.TextColumn(width="large")},
    )

st.divider()
st.subheader("Decision rule")
st.latex(spec.formula)
st.markdown("\n".join(f"- {n}" for n in spec.notes))

st.divider()
export_panel(curve.config, curve, P)
