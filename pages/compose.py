"""Compose: SequentialLR and ChainedScheduler from any children, with several param groups.

Run-sized settings follow the run until the user sets them (the rule of every page): a child's T_max or
total_iters and each SequentialLR milestone follow Steps (and the number of children) until typed; a
link or a preset sets exactly the values it gives, and only those stay when Steps changes.
"""

import json
from urllib.parse import urlencode

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.compose import COMPOSITES, _child_spec
from lrlab.plots import lr_figure
from lrlab.presets import PRESETS as PAPER_PRESETS
from lrlab.specs import LIBRARIES
from lrlab.ui import links, state
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, export_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.presets import compose_option
from lrlab.ui.style import chart_first, input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import (
    chosen_params,
    follow_run,
    is_set,
    lr_slider,
    mark_set,
    render_params,
    scheduler_label,
    seed_params,
)

ensure_router()

P = "co"
MAX_APP_STEPS = 1_000_000


def child_refusal(mode: str, i: int, name: object) -> str | None:
    """Why child ``i`` of ``mode`` can't be ``name``, or None when it can: the rule lrlab's compose
    applies when it validates the children (torch and transformers LRSchedulers only, no composite or
    metric-driven one, a ChainedScheduler only as a SequentialLR's first child)."""
    if not isinstance(name, str) or name not in SCHEDULERS:  # a link names a registered scheduler, not an alias
        return f"Invalid schedulers[{i}].name ({name!r:.40}): not a scheduler name (see `python -m lrlab list`)"
    try:
        _child_spec(name, f"schedulers[{i}]", in_sequence=mode == "SequentialLR")
    except LrlabError as exc:
        return str(exc)
    return None


def child_options(mode: str, i: int) -> list[str]:
    """The schedulers child ``i`` may be under ``mode``: exactly those :func:`child_refusal` accepts."""
    return [name for name in SCHEDULERS if child_refusal(mode, i, name) is None]


OWN_COMBINERS = {"optax": "optax:join_schedules", "fastai": "fastai:combine_scheds"}  # registered specs
COMPOSABLE_LIBRARIES = {SCHEDULERS[n].library for n in child_options(COMPOSITES[0], 0)}
ELSEWHERE = [{"keras": "Keras"}.get(lib, lib) for lib in LIBRARIES if lib not in COMPOSABLE_LIBRARIES]


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
    "(children stepped together) from torch and transformers schedulers, each with its own inputs; the real torch "
    "classes are stepped."
)
st.caption(
    f":material/info: {', '.join(ELSEWHERE[:-1])} and {ELSEWHERE[-1]} schedules can't be children of a torch `SequentialLR` or "
    "`ChainedScheduler`: they are not torch `LRScheduler`s. Combine them in their own library: "
    + " or ".join(
        f"[{name.split(':', 1)[1]}](./?{urlencode({'scheduler': name})}) ({lib})"
        for lib, name in OWN_COMBINERS.items()
        if name in SCHEDULERS
    )
    + " in the Playground; timm's schedulers and Keras' CosineDecay have a warm-up of their own."
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


def linked_config(config: ScheduleConfig) -> ScheduleConfig:
    """``config`` if this page can show it exactly, else a :class:`LrlabError` naming the field, the value
    and what is allowed (a link or a preset is never shown as something else)."""
    if config.scheduler not in COMPOSITES:
        raise LrlabError(f"scheduler={config.scheduler!r:.40}: must be one of {', '.join(COMPOSITES)}")
    if isinstance(config.steps, bool) or not isinstance(config.steps, int) or not 2 <= config.steps <= MAX_APP_STEPS:
        raise LrlabError(f"steps={config.steps!s:.30}: the Compose page shows an integer from 2 to {MAX_APP_STEPS}")
    for name, lr in [("base_lr", config.base_lr), *((f"lr_{g}", v) for g, v in enumerate(config.group_lrs, 1))]:
        if state.lr_value(str(lr)) is None:
            raise LrlabError(f"{name}={lr!s:.30}: must be {state.LR_ALLOWED}")
    if len(config.group_lrs) > 3:
        raise LrlabError(f"group_lrs: {len(config.group_lrs)} extra groups; the Compose page shows at most 3")
    params = config.params_dict
    unknown = sorted(set(params) - {"schedulers", "milestones"})
    if unknown:
        raise LrlabError(f"params.{unknown[0]}: not a parameter of {config.scheduler} (schedulers, milestones)")
    kids = params.get("schedulers")
    if not isinstance(kids, list) or not 1 <= len(kids) <= 6 or not all(isinstance(k, dict) for k in kids):
        raise LrlabError('schedulers: must be a list of 1 to 6 children, each {"name": ..., <its params>}')
    for i, kid in enumerate(kids):
        if refusal := child_refusal(config.scheduler, i, kid.get("name")):
            raise LrlabError(refusal)
    milestones = params.get("milestones", [])
    if config.scheduler == "ChainedScheduler" and "milestones" in params:
        raise LrlabError("milestones: a ChainedScheduler has none (its children are stepped together)")
    if not isinstance(milestones, list) or len(milestones) > len(kids) - 1:
        raise LrlabError(f"milestones={milestones!s:.40}: at most {len(kids) - 1} for {len(kids)} children")
    for i, m in enumerate(milestones, start=1):
        if isinstance(m, bool) or not isinstance(m, int) or not 0 <= m <= MAX_APP_STEPS:
            raise LrlabError(f"milestones[{i - 1}]={m!s:.30}: must be an integer from 0 to {MAX_APP_STEPS}")
    return config


def child_values(name: str, given: dict, i: int, steps: int, ignored: list[str]) -> dict:
    """The parameters a linked child gives, each checked by its spec; a bad one is reported, not seeded."""
    spec, out = SCHEDULERS[name], {}
    names = {p.name: p for p in spec.params if p.name != spec.base_lr_param}
    for key, value in given.items():
        where = f"schedulers[{i}].{key}"
        if key not in names:
            ignored.append(f"{where} (not a parameter of {name}: {', '.join(names) or 'none'})")
            continue
        try:
            coerced = names[key].coerce(value, steps)
        except LrlabError as exc:
            ignored.append(f"schedulers[{i}] ({name}): {exc}")
            continue
        if isinstance(coerced, tuple) and names[key].kind not in ("int_list", "children"):
            ignored.append(f"{where}={value!s:.30} (one value per param group: the Compose page shows one value)")
            continue
        out[key] = value if names[key].kind == "children" else coerced
    return out


def forget_children() -> None:
    """Forget every child's and milestone's widgets (a preset replaces the composition)."""
    for key in [k for k in st.session_state if k.startswith((f"{P}.m.", f"{P}.child."))]:
        del st.session_state[key]
    for key in [k for k in st.session_state if k.startswith(f"{P}.") and k[len(P) + 1 : len(P) + 2].isdigit()]:
        del st.session_state[key]


def apply_config(config: ScheduleConfig, ignored: list[str]) -> None:
    """Put a composite config into the widgets (a preset or a shared link), after :func:`linked_config`
    checked it. Only the values it gives are set (and stay when Steps changes); the rest follow the run."""
    params = config.params_dict
    forget_children()
    st.session_state[f"{P}.mode"] = config.scheduler
    st.session_state[f"{P}.steps"] = config.steps
    st.session_state[f"{P}.base_lr"] = float(config.base_lr)
    st.session_state[f"{P}.groups"] = 1 + len(config.group_lrs)
    for g, lr in enumerate(config.group_lrs, start=1):
        st.session_state[f"{P}.lr_{g}"] = float(lr)
    kids = params.get("schedulers", [])
    st.session_state[f"{P}.n"] = len(kids)
    for i, kid in enumerate(kids):
        kid = dict(kid)
        name = kid.pop("name")
        st.session_state[f"{P}.child.{i}"] = name
        seed_params(SCHEDULERS[name], child_prefix(i), child_values(name, kid, i, config.steps, ignored))
    for i, m in enumerate(params.get("milestones", []), start=1):
        st.session_state[f"{P}.m.{i}"] = m
        mark_set(f"{P}.m.{i}")  # given: it stays when Steps changes


PAPERS = {f"paper:{k}": p for k, p in PAPER_PRESETS.items() if p.build(1000)[0] in COMPOSITES}


def apply_preset() -> None:
    name = st.session_state.get(f"{P}.preset")
    if name in PAPERS:  # a schedule from the literature, sized to the page's steps
        apply_config(PAPERS[name].config(st.session_state[f"{P}.steps"]), [])
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
    sequence = {"milestones": milestones} if mode == "SequentialLR" else {}
    apply_config(
        ScheduleConfig.make(
            mode,
            {"schedulers": children, **sequence},
            steps=steps,
            base_lr=st.session_state[f"{P}.base_lr"],
        ),
        [],
    )


LINK = {"preset": links.Field(f"{P}.preset", "", choices=("", *PRESETS, *PAPERS)), **links.IMAGE}
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    if "cfg" in query:
        try:
            data = state.parse_value(query["cfg"])
            linked = linked_config(ScheduleConfig.from_dict(json.loads(data) if isinstance(data, str) else data))
            apply_config(linked, ignored)
        except (LrlabError, ValueError, KeyError, TypeError, RecursionError) as exc:  # the whole cfg is refused
            ignored.append(f"cfg ({str(exc)[:300]})")
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


def milestone_input(i: int, n: int, steps: int) -> int:
    """Milestone ``i`` (where child ``i`` starts): it follows the run (an even share of Steps among the
    children) until the user types it; a set one that no longer fits the run says so."""
    key = f"{P}.m.{i}"
    default = max(1, steps * i // n)
    if not is_set(key):
        st.session_state[key] = default  # never set by the user: it follows the run
    st.session_state.setdefault(key, default)
    value = st.number_input(
        f"starts at step (milestone {i})",
        step=1,
        key=key,
        on_change=mark_set,
        args=(key,),
        help=f"The step where child {i} takes over. Follows the run ({default} of {steps} steps) until you set it.",
    )
    if is_set(key) and isinstance(value, int) and value >= steps:
        st.caption(
            f":material/info: milestone {i} = {value} is past the end of the run ({steps} steps): child {i} never runs."
        )
        st.button(f"Follow the run ({default})", key=key + ".follow", on_click=follow_run, args=(key,))
    return int(value)


left, right = chart_first().columns([1.1, 2], gap="large")
children, milestones, group_lrs = [], [], []
with left:
    for g in range(1, groups):
        st.session_state.setdefault(f"{P}.lr_{g}", float(base_lr) * (g + 1) if base_lr else 0.1)
        group_lrs.append(lr_slider(st, f"lr of group {g}", key=f"{P}.lr_{g}"))
    n = int(st.number_input("Children", 1, 6, key=f"{P}.n"))
    for i in range(n):
        st.session_state.setdefault(f"{P}.child.{i}", "ConstantLR")
        with st.expander(f"Child {i}: {st.session_state[f'{P}.child.{i}']}", expanded=i < 3):
            if mode == "SequentialLR" and i > 0:
                milestones.append(milestone_input(i, n, steps))
            options = child_options(mode, i)
            if st.session_state[f"{P}.child.{i}"] not in options:  # shown as it is; validation says why not
                options.append(st.session_state[f"{P}.child.{i}"])
            name = st.selectbox("Scheduler", options, key=f"{P}.child.{i}", format_func=scheduler_label)
            child = SCHEDULERS[name]
            values = render_params(child, child_prefix(i), steps)
            if child.base_lr_param:
                values[child.base_lr_param] = base_lr
            children.append({"name": name, **values})

params = {"schedulers": children} | ({"milestones": milestones} if mode == "SequentialLR" else {})
config = ScheduleConfig.make(mode, params, steps=steps, base_lr=float(base_lr), group_lrs=tuple(group_lrs))


def link_config() -> ScheduleConfig:
    """What the link carries: the composition with only the values the user set among the run-sized ones
    (a child's T_max, the milestones), so that the rest follow the run the link is opened with."""
    kids = []
    for i, kid in enumerate(children):
        spec = SCHEDULERS[kid["name"]]
        own = {k: v for k, v in kid.items() if k != "name" and k != spec.base_lr_param}
        kids.append({"name": kid["name"], **chosen_params(spec, child_prefix(i), own)})
    sequence = {}
    if mode == "SequentialLR" and any(is_set(f"{P}.m.{i}") for i in range(1, len(children))):
        sequence = {"milestones": milestones}
    return ScheduleConfig.make(
        mode, {"schedulers": kids, **sequence}, steps=steps, base_lr=float(base_lr), group_lrs=tuple(group_lrs)
    )


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
shared = {"cfg": link_config().to_dict(), **links.values(LINK)}
state.write_query(shared)
with left:
    state.show_share(shared)
