"""Compose: SequentialLR and ChainedScheduler from any children, with several param groups."""

import json

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.compose import COMPOSITES
from lrlab.plots import lr_figure
from lrlab.presets import PRESETS as PAPER_PRESETS
from lrlab.ui import links, state
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, export_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.presets import compose_option
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import lr_slider, number, render_params, scheduler_label, seed_params

ensure_router()

P = "co"
MAX_APP_STEPS = 1_000_000
CHILDREN = [n for n, s in SCHEDULERS.items() if n not in COMPOSITES and not s.needs_metric]
PRESETS = {
    "warm-up → cosine": ("SequentialLR", [("LinearLR", {"start_factor": 0.01}), ("CosineAnnealingLR", {})], [0.1]),
    "warm-up → constant → linear decay": (
        "SequentialLR",
        [
            ("LinearLR", {"start_factor": 0.01}),
            ("ConstantLR", {"factor": 1.0}),
            ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0}),
        ],
        [0.05, 0.8],
    ),
    "transformers warm-up → StepLR": (
        "SequentialLR",
        [("get_constant_schedule_with_warmup", {}), ("StepLR", {"gamma": 0.5})],
        [0.1],
    ),
    "constant × exponential (chained)": (
        "ChainedScheduler",
        [("ConstantLR", {"factor": 0.5}), ("ExponentialLR", {"gamma": 0.995})],
        [],
    ),
}

st.title("Compose")
st.caption(
    "Build `SequentialLR` (children one after another, switching at milestones) or `ChainedScheduler` "
    "(children stepped together) from any scheduler, each with its own inputs; the real torch classes are stepped."
)

for key, default in [
    (f"{P}.mode", "SequentialLR"),
    (f"{P}.steps", 1000),
    (f"{P}.base_lr", 0.1),
    (f"{P}.groups", 1),
    (f"{P}.n", 2),
    (f"{P}.child.0", "LinearLR"),
    (f"{P}.child.1", "CosineAnnealingLR"),
]:
    st.session_state.setdefault(key, default)


def child_prefix(i: int) -> str:
    return f"{P}.{i}"


def apply_config(config: ScheduleConfig) -> None:
    """Put a composite config into the widgets (a preset or a shared link)."""
    params = config.params_dict
    st.session_state[f"{P}.mode"] = config.scheduler
    st.session_state[f"{P}.steps"] = config.steps
    st.session_state[f"{P}.base_lr"] = config.base_lr
    st.session_state[f"{P}.groups"] = 1 + len(config.group_lrs)
    for g, lr in enumerate(config.group_lrs, start=1):
        st.session_state[f"{P}.lr_{g}"] = lr
    kids = params.get("schedulers", [])
    st.session_state[f"{P}.n"] = len(kids)
    for i, kid in enumerate(kids):
        kid = dict(kid)
        name = kid.pop("name")
        st.session_state[f"{P}.child.{i}"] = name
        seed_params(SCHEDULERS[name], child_prefix(i), kid)
    for i, m in enumerate(params.get("milestones", []), start=1):
        st.session_state[f"{P}.m.{i}"] = m


PAPERS = {f"paper:{k}": p for k, p in PAPER_PRESETS.items() if p.build(1000)[0] in COMPOSITES}


def apply_preset() -> None:
    name = st.session_state.get(f"{P}.preset")
    if name in PAPERS:  # a schedule from the literature, sized to the page's steps
        config = PAPERS[name].config(st.session_state[f"{P}.steps"])
        for key in [k for k in st.session_state if k.startswith(f"{P}.") and k[len(P) + 1 : len(P) + 2].isdigit()]:
            del st.session_state[key]
        apply_config(config)
        return
    if name not in PRESETS:
        return
    mode, kids, shares = PRESETS[name]
    steps = st.session_state[f"{P}.steps"]
    milestones = [max(1, int(share * steps)) for share in shares]
    bounds = [0, *milestones, steps]
    children = []
    for i, (kid, own) in enumerate(kids):
        length = max(1, bounds[i + 1] - bounds[i]) if mode == "SequentialLR" else max(1, steps // 10)
        sized = {
            "LinearLR": "total_iters",
            "CosineAnnealingLR": "T_max",
            "ConstantLR": "total_iters",
            "StepLR": "step_size",
            "get_constant_schedule_with_warmup": "num_warmup_steps",
        }
        extra = {sized[kid]: length if kid != "StepLR" else max(1, length // 4)} if kid in sized else {}
        children.append({"name": kid, **extra, **own})
    for key in [k for k in st.session_state if k.startswith(f"{P}.") and k[len(P) + 1 : len(P) + 2].isdigit()]:
        del st.session_state[key]
    apply_config(
        ScheduleConfig.make(
            mode,
            {"schedulers": children, "milestones": milestones},
            steps=steps,
            base_lr=st.session_state[f"{P}.base_lr"],
        )
    )


LINK = {"preset": links.Field(f"{P}.preset", "", choices=("", *PRESETS, *PAPERS)), **links.IMAGE}
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    if "cfg" in query:
        try:
            data = state.parse_value(query["cfg"])
            linked = ScheduleConfig.from_dict(json.loads(data) if isinstance(data, str) else data)
            if linked.scheduler not in COMPOSITES:
                raise LrlabError(f"{linked.scheduler} is not SequentialLR or ChainedScheduler")
            apply_config(linked)
        except (LrlabError, ValueError, KeyError, TypeError, RecursionError) as exc:
            ignored.append(f"cfg ({str(exc)[:120]})")
    links.restore(LINK, query, ignored)  # the preset box shows what the view started from (not applied again)
state.notice(ignored)

top = input_row("run", lead=True).columns([1.6, 1, 1.2, 1, 1.6])
mode = top[0].radio("Compose with", list(COMPOSITES), key=f"{P}.mode", horizontal=True)
steps = int(top[1].number_input("Steps", 2, MAX_APP_STEPS, step=100, key=f"{P}.steps"))
base_lr = lr_slider(
    top[2],
    "Base LR (group 0)",
    key=f"{P}.base_lr",
)
groups = int(top[3].number_input("Param groups", 1, 4, key=f"{P}.groups", help="One curve per group."))
top[4].selectbox(
    "Start from a preset",
    ["", *PRESETS, *PAPERS],
    key=f"{P}.preset",
    on_change=apply_preset,
    format_func=compose_option,
    help="Compositions to start from, and the papers' schedules that are compositions (GPT-3, LLaMA, MiniCPM…).",
)

left, right = chart_first().columns([1.1, 2], gap="large")
children, milestones, group_lrs = [], [], []
with left:
    for g in range(1, groups):
        group_lrs.append(number(st, f"lr of group {g}", 1e-8, 1e3, base_lr * (g + 1), key=f"{P}.lr_{g}", format="%g"))
    n = int(st.number_input("Children", 1, 6, key=f"{P}.n"))
    for i in range(n):
        st.session_state.setdefault(f"{P}.child.{i}", "ConstantLR")
        with st.expander(f"Child {i}: {st.session_state[f'{P}.child.{i}']}", expanded=i < 3):
            if mode == "SequentialLR" and i > 0:
                default_m = max(1, steps * i // n)
                milestones.append(
                    int(number(st, f"starts at step (milestone {i})", 0, MAX_APP_STEPS, default_m, key=f"{P}.m.{i}"))
                )
            name = st.selectbox("Scheduler", CHILDREN, key=f"{P}.child.{i}", format_func=scheduler_label)
            child = SCHEDULERS[name]
            values = render_params(child, child_prefix(i), steps)
            if child.base_lr_param:
                values[child.base_lr_param] = base_lr
            children.append({"name": name, **values})

params = {"schedulers": children} | ({"milestones": milestones} if mode == "SequentialLR" else {})
config = ScheduleConfig.make(mode, params, steps=steps, base_lr=float(base_lr), group_lrs=tuple(group_lrs))
curve, error = None, None
try:
    curve = cached_curve(config)
    st.session_state[f"{P}.last_good"] = config.to_json()
except LrlabError as exc:
    error = str(exc)
    if st.session_state.get(f"{P}.last_good"):
        curve = cached_curve(ScheduleConfig.from_dict(json.loads(st.session_state[f"{P}.last_good"])))

with right:
    if error:
        st.error(plain(error), icon=":material/error:")
    if curve is None:
        st.stop()
    if error:
        st.info("Showing the last valid composition until the error is fixed.")
    st.plotly_chart(lr_figure(curve), width="stretch", key=f"{P}.chart", config=chart_config())
    if curve.closed is not None and curve.first_diff_step is None:
        st.success(
            f"The children's closed forms, {'joined' if mode == 'SequentialLR' else 'multiplied'}, match the real {mode} "
            f"(max relative difference {curve.max_rel_diff:.1e}).",
            icon=":material/check_circle:",
        )
    elif curve.closed is not None:
        st.warning(f"The closed form differs from the library from step {curve.first_diff_step}.")
    for note in curve.notes:
        st.warning(plain(note))
    st.latex(curve.spec.formula)
    for i, kid in enumerate(children if not error else []):
        kid_spec = SCHEDULERS[kid["name"]]
        st.markdown(
            f"$S_{{{i}}}$ = **{kid_spec.name}**"
            + (f", from step {([0, *milestones])[i]}" if mode == "SequentialLR" else "")
        )
        st.latex(kid_spec.formula)
    st.markdown("\n".join(f"- {note}" for note in curve.spec.notes))

if not error:
    st.divider()
    export_panel(curve.config, curve, P)
shared = {"cfg": config.to_dict(), **links.values(LINK)}
state.write_query(shared)
with left:
    state.show_share(shared)
