"""The export and import panels every page that shows a schedule shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from lrlab.export import render, targets_for
from lrlab.io import import_config
from lrlab.simulate import Curve
from lrlab.specs import LrlabError, ScheduleConfig
from lrlab.ui.text import plain

CODE_TABS = (
    ("PyTorch", "torch", "python", "py"),
    ("Transformers", "transformers", "python", "py"),
    ("Lightning", "lightning", "python", "py"),
    ("timm", "timm", "python", "py"),
    ("Keras", "keras", "python", "py"),
    ("optax", "optax", "python", "py"),
    ("fastai", "fastai", "python", "py"),
    ("YAML", "yaml", "yaml", "yaml"),
    ("JSON", "json", "json", "json"),
)
IMAGE_FORMAT_KEY = "chart_image_format"


def chart_config(filename: str = "lr_schedule") -> dict:
    """Plotly config for ``st.plotly_chart``: the camera button downloads PNG or SVG as chosen."""
    fmt = st.session_state.get(IMAGE_FORMAT_KEY, "png")
    return {
        "toImageButtonOptions": {"format": fmt, "filename": filename, "scale": 2 if fmt == "png" else 1},
        "displaylogo": False,
    }


def export_panel(config: ScheduleConfig, curve: Curve, key: str) -> None:
    """An "Export" expander: tabs with the code for each target (copy button on each), downloads, and
    the curve as data.

    Built when asked: nothing while the expander is closed, and only the open tab while it is open
    (Streamlit's stateful expander and tabs: opening or switching reruns the page). The code of a
    target checks where the library would refuse a step (a second run of the schedule); nine targets
    and their download buttons cost ~15 ms of every input of every visitor when built each time."""
    if IMAGE_FORMAT_KEY in st.session_state:  # its radio is drawn only while Data is open: keep the choice
        st.session_state[IMAGE_FORMAT_KEY] = st.session_state[IMAGE_FORMAT_KEY]
    box = st.expander(
        "Export: PyTorch, Transformers, Lightning or the library's own code, YAML/JSON, the curve's data",
        icon=":material/download:",
        key=f"{key}.export_open",
        on_change="rerun",
    )
    if not box.open:
        return
    with box:
        _export_tabs(config, curve, key)


def _export_tabs(config: ScheduleConfig, curve: Curve, key: str) -> None:
    wanted = targets_for(curve.spec)  # the targets that can express a schedule of this library
    code_tabs = [tab for tab in CODE_TABS if tab[1] in wanted]
    tabs = st.tabs([label for label, *_ in code_tabs] + ["Data"], key=f"{key}.export_tab", on_change="rerun")
    stem = curve.spec.name.lower().replace(":", "_")
    for tab, (label, target, language, ext) in zip(tabs, code_tabs, strict=False):
        if not tab.open:
            continue
        with tab:
            try:
                code = render(config, target)
            except LrlabError as exc:
                st.info(plain(exc))
                continue
            st.code(code, language=language)
            st.download_button(
                f"Download {label}",
                code,
                file_name=f"{stem}_schedule.{ext}",
                on_click="ignore",
                key=f"{key}.dl.{target}",
                icon=":material/download:",
            )
    if not tabs[-1].open:
        return
    with tabs[-1]:
        frame = curve.frame
        st.caption(
            f"{len(frame):,} rows: " + ", ".join(frame.columns) + ". Row t is the lr of the (t+1)-th optimizer step."
        )
        c1, c2 = st.columns(2)
        c1.download_button(
            "Curve as CSV",
            partial(frame.to_csv, index=False),  # built on click: a million rows cost seconds
            file_name=f"{stem}_curve.csv",
            on_click="ignore",
            key=f"{key}.dl.csv",
            icon=":material/table:",
        )
        c2.download_button(
            "Curve as JSON",
            partial(frame.to_json, orient="records", double_precision=15),
            file_name=f"{stem}_curve.json",
            on_click="ignore",
            key=f"{key}.dl.jsonl",
            icon=":material/data_object:",
        )
        st.radio(
            "Chart image (camera icon above the chart)",
            ["png", "svg"],
            key=IMAGE_FORMAT_KEY,
            horizontal=True,
            format_func=str.upper,
        )


def import_panel(key: str, on_load: Callable[[ScheduleConfig], list[str]]) -> None:
    """Paste or upload a config of any format :func:`lrlab.io.import_config` reads; nothing is executed.

    Its widgets are drawn only while the expander is open (opening it reruns the page): seven widgets
    on every input of every visitor for a panel most never open."""
    with st.expander(
        "Import a config", icon=":material/upload_file:", key=f"{key}.import_open", on_change="rerun"
    ) as box:
        if not box.open:
            return
        st.caption(
            "lrlab YAML/JSON (from Export), a Hugging Face `training_args.json` / TrainingArguments dict, timm's "
            "`args.yaml` (from its train.py), a Lightning CLI config (`--print_config`), or a Keras schedule from "
            "`keras.optimizers.schedules.serialize`. Read as plain data: nothing in it is run."
        )
        st.file_uploader("File", type=["yaml", "yml", "json", "txt"], key=f"{key}.import_file")
        st.text_area("…or paste it", key=f"{key}.import_text", height=120)
        c1, c2 = st.columns(2)
        c1.number_input(
            "Dataset size (samples per epoch; 0: not known)",
            0,
            10**9,
            0,
            key=f"{key}.import_dataset",
            help="For a run given in epochs: TrainingArguments without max_steps, timm with sched_on_updates, "
            "a Lightning config stepping per step.",
        )
        c2.number_input(
            "Devices (processes training in parallel; 0: the file's, else 1)",
            0,
            4096,
            0,
            key=f"{key}.import_devices",
            help="timm's args.yaml and TrainingArguments count the batch per device.",
        )
        c3, c4 = st.columns(2)
        c3.number_input("Batch size (Lightning; 0: from the file)", 0, 10**6, 0, key=f"{key}.import_batch")
        c4.number_input("Steps (Keras; 0: lrlab's default run)", 0, 1_000_000, 0, key=f"{key}.import_steps")
        st.button("Load", key=f"{key}.import_load", icon=":material/input:", on_click=_load, args=(key, on_load))
        for kind, message in st.session_state.pop(f"{key}.import_notice", []) or []:
            (st.error if kind == "error" else st.info)(plain(message))


def _load(key: str, on_load: Callable[[ScheduleConfig], list[str]]) -> None:
    """Button callback (runs before the script, so it may set other widgets' values)."""
    upload = st.session_state.get(f"{key}.import_file")
    source = upload.getvalue() if upload is not None else st.session_state.get(f"{key}.import_text", "")

    def given(name: str) -> int | None:
        return int(st.session_state.get(f"{key}.import_{name}") or 0) or None

    try:
        notes: list[str] = []  # what the import read, derived and ignored, and what did not take effect
        config = import_config(
            source,
            dataset_size=given("dataset"),
            devices=given("devices"),
            batch_size=given("batch"),
            steps=given("steps"),
            notes=notes,
        )
        notices = [("info", m) for m in (*on_load(config), *notes)]
    except LrlabError as exc:
        notices = [("error", str(exc))]
    st.session_state[f"{key}.import_notice"] = notices
    # a load sets the page's run settings too, drawn outside a fragment the panel may sit in: rerun the
    # whole page (in a callback st.rerun() ends the callback and makes this interaction a full rerun)
    st.rerun()
