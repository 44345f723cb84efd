"""Compare: overlay up to 12 schedules of any library, in the units of a real training run."""

from functools import partial
from typing import Any

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, ScheduleConfig
from lrlab.compare import summary_table
from lrlab.plots import compare_figure, difference_figure
from lrlab.presets import PRESETS
from lrlab.specs import INTERVALS
from lrlab.ui import entries as E
from lrlab.ui import explain as explain_mode
from lrlab.ui import links, safety, state
from lrlab.ui import values as values_table
from lrlab.ui.cache import cached_curve
from lrlab.ui.export_panel import chart_config, export_panel, import_panel
from lrlab.ui.nav import ensure_router
from lrlab.ui.presets import preset_label
from lrlab.ui.style import input_row
from lrlab.ui.text import plain
from lrlab.ui.widgets import (
    chosen_params,
    interval_label,
    lr_slider,
    number,
    render_params,
    scheduler_label,
    seed_params,
)
from lrlab.units import TrainingUnits

ensure_router()

P = "cmp"
MAX_APP_STEPS = 1_000_000
UNIT_LIMITS = {  # what a link may set, and the allowed values (ranges for integers, choices otherwise)
    "steps": (1, MAX_APP_STEPS),
    "steps_per_epoch": (1, MAX_APP_STEPS),
    "epochs": (1, 10_000),
    "dataset_size": (1, 10**9),
    "batch_size": (1, 1_000_000),
    "grad_accum": (1, 10_000),
    "devices": (1, 100_000),
    "seq_len": (0, 1_000_000),
    "drop_last": (False, True),
    "sizing": ("direct", "from data"),
    "x_axis": ("step", "epoch", "samples", "tokens"),
}
LINK = {  # the view's other settings a link carries (curves A and B and the curve edited travel as positions)
    "log_y": links.Field(f"{P}.log_y", False),
    "diff_mode": links.Field(f"{P}.diff_mode", "minus", choices=("minus", "ratio")),
    **links.explain_fields(P, several=True),
    **links.IMAGE,
}
POSITIONS = {"edit": f"{P}.selected", "diff_a": f"{P}.diff_a", "diff_b": f"{P}.diff_b"}

st.title("Compare")
st.caption(
    "Overlay schedules from torch, transformers, timm, Keras, optax and fastai, each the real library's curve, "
    "sized like your training run."
)

items = E.entries()
ignored: list[str] = []
linked_view: dict = {}
if state.first_run(P) and (query := state.read_query()):
    for key, value in state.checked_values(query, UNIT_LIMITS, ignored).items():
        st.session_state[f"{P}.{key}"] = value
    if "curves" in query:
        loaded = E.from_link(query["curves"], ignored, int(st.session_state.get(f"{P}.steps", 1000)))
        if loaded:
            items = E.replace_all(loaded)
            st.session_state[f"{P}.selected"] = loaded[0]["id"]
    linked_view = links.restore(LINK, query, ignored)
    position = links.Field("", 0, low=0, high=len(items) - 1)
    for key, target in POSITIONS.items():
        if key in query:
            ok, i = position.check(query[key])
            if ok:
                st.session_state[target] = items[i]["id"]
            else:
                ignored.append(f"{key}={query[key]!s:.30} (a curve's position, 0 to {len(items) - 1})")
    run_steps = int(st.session_state.get(f"{P}.steps", 1000)) if query.get("sizing") != "from data" else MAX_APP_STEPS
    explain_mode.apply_link(P, query, run_steps, ignored)
notice_box = st.container()  # filled at the end: some linked values are checked once the curves are known

# ---- run length and units --------------------------------------------------------------------
with st.expander("Run length and units", expanded=True, icon=":material/straighten:"):
    sizing = st.radio(
        "Total steps",
        ["direct", "from data"],
        key=f"{P}.sizing",
        horizontal=True,
        format_func={"direct": "given directly", "from data": "from epochs × dataset ÷ batch"}.get,
    )
    cols = input_row("units").columns(7)
    units = None
    try:
        if sizing == "direct":
            steps = int(number(cols[0], "Steps", 1, MAX_APP_STEPS, 1000, key=f"{P}.steps", step=100))
            spe = int(number(cols[1], "Steps per epoch", 1, MAX_APP_STEPS, 100, key=f"{P}.steps_per_epoch"))
            samples_per_step, seq_len = 1, None
        else:
            units = TrainingUnits(
                epochs=int(number(cols[0], "Epochs", 1, 10_000, 3, key=f"{P}.epochs")),
                dataset_size=int(number(cols[1], "Dataset size", 1, 10**9, 50_000, key=f"{P}.dataset_size")),
                batch_size=int(number(cols[2], "Batch size", 1, 1_000_000, 32, key=f"{P}.batch_size")),
                grad_accum=int(number(cols[3], "Grad. accumulation", 1, 10_000, 1, key=f"{P}.grad_accum")),
                devices=int(number(cols[4], "Devices", 1, 100_000, 1, key=f"{P}.devices")),
                drop_last=bool(cols[5].toggle("drop_last", key=f"{P}.drop_last")),
                seq_len=int(number(cols[6], "Tokens/sample", 0, 1_000_000, 0, key=f"{P}.seq_len")) or None,
            )
            if units.total_steps > MAX_APP_STEPS:
                raise LrlabError(
                    f"Invalid epochs: {units.total_steps:,} optimizer steps; the app shows up to {MAX_APP_STEPS:,}"
                )
            steps, spe = units.total_steps, units.steps_per_epoch
            samples_per_step, seq_len = units.samples_per_step, units.seq_len
            st.caption(
                f"{units.batches_per_epoch:,} micro-batches per epoch per device → {spe:,} optimizer steps per epoch "
                f"→ **{steps:,} steps**; each step sees {samples_per_step:,} samples."
            )
    except LrlabError as exc:
        st.error(plain(exc), icon=":material/error:")
        steps, spe, samples_per_step, seq_len = 1000, 100, 1, None
    axes = ["step", "epoch", "samples"] + (["tokens"] if seq_len else [])
    st.session_state.setdefault(f"{P}.x_axis", "step")
    if st.session_state[f"{P}.x_axis"] not in axes:
        st.session_state[f"{P}.x_axis"] = "step"
    x_axis = st.radio("x axis", axes, key=f"{P}.x_axis", horizontal=True)


@safety.fragment
def curves_view(
    steps: int,
    spe: int,
    samples_per_step: int,
    seq_len: int | None,
    x_axis: str,
    sizing: str,
    link: dict[str, Any],
    notice_box: Any,
) -> None:
    """The curves, their editor, the charts, the difference and the export: everything an edit of a curve
    changes. A fragment (``st.fragment``): editing a curve reruns only this, not app.py and the run
    settings above, which take a full rerun when they change and come in as arguments (a fragment rerun
    gets those of the last full run). ``link`` holds what the run that read a link still has to check and
    report ("ignored": its notices so far, "explain_curve": the curve it names); it is popped here, so a
    fragment rerun, which gets the same dict, neither checks nor reports it again. The notice goes into
    ``notice_box`` above the settings."""
    ignored: list[str] = link.pop("ignored", [])
    linked_curve: str | None = link.pop("explain_curve", None)
    items = E.entries()  # read again on every run: a fragment rerun must see the curves added since
    chart, editor = st.columns([2, 1.1], gap="large")
    # ---- editing one curve --------------------------------------------------------------------------
    with editor:
        st.subheader("Curves")
        ids = [e["id"] for e in items]
        if st.session_state.get(f"{P}.selected") not in ids:
            st.session_state[f"{P}.selected"] = ids[0]
        labels = {e["id"]: e["label"] for e in items}
        selected = st.selectbox("Edit", ids, key=f"{P}.selected", format_func=labels.get)
        entry = E.find(selected)
        prefix = f"{P}.{entry['id']}"
        # Streamlit forgets the state of widgets it did not draw in a run: whenever another curve was being
        # edited, put this curve's values (kept in its entry) back into its widgets.
        if st.session_state.get(f"{P}.editing") != entry["id"] or f"{prefix}.label" not in st.session_state:
            st.session_state[f"{prefix}.label"] = entry["label"]
            st.session_state[f"{prefix}.scheduler"] = entry["scheduler"]
            st.session_state[f"{prefix}.base_lr"] = entry["base_lr"]
            st.session_state[f"{prefix}.interval"] = entry["interval"]
            st.session_state[f"{prefix}.hidden"] = entry["hidden"]
            st.session_state[f"{prefix}.color"] = E.color(entry)
            seed_params(SCHEDULERS[entry["scheduler"]], prefix, entry["params"])
            st.session_state[f"{P}.editing"] = entry["id"]
        b1, b2, b3 = st.columns(3)
        b1.button(
            "Add", on_click=E.add_entry, disabled=len(items) >= E.MAX_ENTRIES, key=f"{P}.add", icon=":material/add:"
        )
        b2.button(
            "Duplicate",
            on_click=E.duplicate_entry,
            args=(entry["id"],),
            disabled=len(items) >= E.MAX_ENTRIES,
            key=f"{P}.dup",
            icon=":material/content_copy:",
        )
        b3.button(
            "Remove",
            on_click=E.remove_entry,
            args=(entry["id"],),
            disabled=len(items) <= 1,
            key=f"{P}.remove",
            icon=":material/delete:",
        )
        st.selectbox(
            "Add a schedule from a paper",
            ["", *PRESETS],
            key=f"{P}.preset",
            format_func=preset_label,
            on_change=E.add_preset,
            args=(steps,),
            disabled=len(items) >= E.MAX_ENTRIES,
        )
        st.button(
            "Add the same curve stepped per epoch instead"
            if entry["interval"] == "step"
            else "Add the same curve stepped per step",
            on_click=E.duplicate_entry,
            args=(entry["id"],),
            kwargs={"flip_interval": True},
            disabled=len(items) >= E.MAX_ENTRIES,
            key=f"{P}.flip",
            help="The most common real-world mistake: a schedule sized in optimizer steps but stepped once per epoch.",
        )
        entry["label"] = st.text_input("Name", key=f"{prefix}.label", max_chars=60) or entry["label"]
        entry["hidden"] = st.toggle("Hide", key=f"{prefix}.hidden")
        entry["color"] = st.color_picker("Colour", key=f"{prefix}.color")
        name = st.selectbox(
            "Scheduler",
            list(SCHEDULERS),  # grouped by library (torch, transformers, timm, Keras, optax, fastai); type to filter
            key=f"{prefix}.scheduler",
            format_func=scheduler_label,
            help="Type a library's name (torch, transformers, timm, keras, optax, fastai) to see only its schedules.",
        )
        spec = SCHEDULERS[name]
        entry["base_lr"] = lr_slider(
            st,
            "Base LR",
            key=f"{prefix}.base_lr",
        )
        entry["interval"] = st.radio(
            "scheduler.step() is called",
            # step / epoch, and an imported config's explicit-epoch pattern (lrlab.specs.INTERVALS) when it has one
            [i for i in INTERVALS if i in ("step", "epoch") or i == st.session_state.get(f"{prefix}.interval")],
            key=f"{prefix}.interval",
            horizontal=True,
            format_func=interval_label,
        )
        if spec.needs_metric:
            st.caption(
                "This scheduler reacts to a metric: here it sees lrlab's synthetic loss. Use the Plateau page for yours."
            )
        entry["scheduler"] = name
        entry["params"] = chosen_params(spec, prefix, render_params(spec, prefix, steps))  # unset run sizes follow

    positions = {"edit": ids.index(selected)} if selected != ids[0] else {}  # what the link carries as positions

    # ---- the curves ---------------------------------------------------------------------------------
    curves, errors = [], []
    for item in items:
        config = ScheduleConfig.make(
            item["scheduler"],
            item["params"],
            steps=steps,
            base_lr=item["base_lr"],
            steps_per_epoch=spe,
            interval=item["interval"],
        )
        try:
            item_curve = cached_curve(config)
        except LrlabError as exc:
            errors.append((item, str(exc)))
            continue
        curves.append((item, item_curve))

    with chart:
        switches = input_row("switches").columns(2)
        with switches[0]:
            log_y = st.toggle("Log-scale y axis", key=f"{P}.log_y")
        with switches[1]:
            explaining = explain_mode.toggle(P)
        visible = [(e["label"], E.color(e), c) for e, c in curves if not e["hidden"]]
        figure = compare_figure(visible, log_y=log_y, x_axis=x_axis, samples_per_step=samples_per_step, seq_len=seq_len)
        explained = [explain_mode.Explained(*v) for v in visible]
        explain_names = explain_mode.unique_names(explained)
        if linked_curve is not None and linked_curve not in explain_names:
            ignored.append(f"explain_curve={linked_curve!s:.30} (not the name of a shown curve)")
        shown_values = [(label, c.frame) for label, _, c in visible]
        if explaining:  # the values table follows the explained step: it is part of the explain panel
            explain_mode.view(
                P,
                figure,
                explained,
                chart_key=f"{P}.chart",
                chart_config=chart_config("lr_schedules"),
                x_axis=x_axis,
                samples_per_step=samples_per_step,
                seq_len=seq_len,
                on_step=partial(values_table.show_compare, None, shown_values),
            )
        else:
            st.plotly_chart(figure, width="stretch", key=f"{P}.chart", config=chart_config("lr_schedules"))
        for failed, message in errors:
            st.error(plain(f"{failed['label']}: {message}"), icon=":material/error:")
        table = summary_table([(e["label"], c.frame) for e, c in curves])
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%.4g")
                for c in ("LR at start", "peak LR", "final LR", "mean LR", "sum of LR")
            },
        )
        if not explaining:
            values_table.show_compare(None, shown_values)

    # ---- difference view ----------------------------------------------------------------------------
    st.divider()
    st.subheader("Difference")
    if len(curves) >= 2:
        ok = {e["id"]: (e["label"], c) for e, c in curves}
        d1, d2, d3 = st.columns([2, 2, 1.5])
        ids_ok = list(ok)
        names = {i: ok[i][0] for i in ids_ok}
        for key, default in ((f"{P}.diff_a", ids_ok[0]), (f"{P}.diff_b", ids_ok[1])):
            if st.session_state.get(key) not in ok:
                st.session_state[key] = default
        a = d1.selectbox("Curve A", ids_ok, key=f"{P}.diff_a", format_func=names.get)
        b = d2.selectbox("Curve B", ids_ok, key=f"{P}.diff_b", format_func=names.get)
        positions |= {
            k: ids.index(v) for k, v, first in (("diff_a", a, ids_ok[0]), ("diff_b", b, ids_ok[1])) if v != first
        }
        mode = d3.radio(
            "Show",
            ["minus", "ratio"],
            key=f"{P}.diff_mode",
            horizontal=True,
            format_func={"minus": "A − B", "ratio": "A ÷ B"}.get,
        )
        if a in ok and b in ok:
            st.plotly_chart(difference_figure(ok[a], ok[b], mode=mode), width="stretch", key=f"{P}.diff_chart")
    else:
        st.caption("Add a second curve to see a difference.")

    st.divider()
    selected_curve = next((c for e, c in curves if e["id"] == entry["id"]), None)
    if selected_curve is not None:
        st.caption(f"Export of the curve being edited: **{plain(entry['label'])}**")
        export_panel(selected_curve.config, selected_curve, P)
    with editor:
        import_panel(P, E.import_entry)

    shared = {"sizing": sizing, "x_axis": x_axis, "curves": E.to_link(items)}
    shared.update(
        {k: st.session_state[f"{P}.{k}"] for k in UNIT_LIMITS if k not in shared and f"{P}.{k}" in st.session_state}
    )
    shown = {"log_y", "diff_mode", "image"} | ({"explain_speed"} if explaining else set())
    shared.update(
        links.values(LINK, only=shown | ({"explain_curve"} if explaining and len(explain_names) > 1 else set()))
    )
    shared.update(explain_mode.link_values(P))
    shared.update(positions)
    state.write_query(shared)
    state.show_share(shared)
    with notice_box:
        state.notice(ignored)


curves_view(
    steps,
    spe,
    samples_per_step,
    seq_len,
    x_axis,
    sizing,
    {"ignored": ignored, "explain_curve": linked_view.get("explain_curve")},
    notice_box,
)
