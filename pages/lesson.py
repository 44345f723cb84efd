"""Lesson: chapters from step decay to cosine warm-up, each with the real scheduler live."""

import streamlit as st

from lrlab import SCHEDULERS, LrlabError, lesson
from lrlab.plots import lr_figure
from lrlab.ui import links, state
from lrlab.ui.cache import cached_curve, cached_metric_curve
from lrlab.ui.export_panel import chart_config
from lrlab.ui.nav import ensure_router
from lrlab.ui.scroll import copy_and_scroll_to_top, scroll_to_top_if_asked
from lrlab.ui.style import chart_first
from lrlab.ui.text import plain
from lrlab.ui.typed import typed_slider
from lrlab.ui.widgets import copy_value, legend_rows

ensure_router()

P = "ls"
CHAPTER = f"{P}.chapter"
PAGE_PATH = "lesson"  # this page's url_path in app.py
N = len(lesson.CHAPTERS)
LINK = {"log_y": links.Field(f"{P}.log_y", False)}  # the view's switch (the chapter and its settings travel too)

st.title("Lesson: learning-rate schedules, step by step")
st.caption(
    f"{N} chapters, from step decay to cosine with warm-up. Each chapter steps the real `torch` / `transformers` "
    "scheduler as you move its settings, asks a question, and sets the numbers a reference states beside what "
    "the library gives today. Every chapter has its own link."
)

# the chapter widget forgets its value while another page is shown: keep a copy to come back to
st.session_state.setdefault(CHAPTER, st.session_state.get(f"{P}._chapter", lesson.SLUGS[0]))
ignored: list[str] = []
if state.first_run(P) and (query := state.read_query()):
    linked, linked_values, ignored = lesson.settings_from_query({k: v for k, v in query.items() if k not in LINK})
    links.restore(LINK, query, ignored)
    st.session_state[CHAPTER] = linked.slug
    for name, value in linked_values.items():
        st.session_state[f"{P}.{linked.slug}.{name}"] = value
state.notice(ignored)

chapter = lesson.chapter_for(st.session_state[CHAPTER])
k = lesson.position(chapter)
before, after = lesson.neighbours(chapter)
# what Previous / Next switch to (read by their callbacks before the next run)
st.session_state[f"{P}.prev_target"] = before.slug if before else ""
st.session_state[f"{P}.next_target"] = after.slug if after else ""

nav = st.columns([1, 3, 1], vertical_alignment="center")
nav[0].button(
    "← Previous",
    key=f"{P}.prev",
    on_click=copy_value,
    args=(f"{P}.prev_target", CHAPTER),
    disabled=before is None,
    width="stretch",
    help=f"Chapter {k - 1}: {before.title}" if before else "This is the first chapter.",
)
nav[1].selectbox("Chapter", lesson.SLUGS, key=CHAPTER, format_func=lesson.chapter_label, label_visibility="collapsed")
nav[2].button(
    "Next →",
    key=f"{P}.next",
    on_click=copy_value,
    args=(f"{P}.next_target", CHAPTER),
    disabled=after is None,
    width="stretch",
    help=f"Chapter {k + 1}: {after.title}" if after else "This is the last chapter.",
)
st.session_state[f"{P}._chapter"] = chapter.slug
st.progress(k / N, text=f"Chapter {k} of {N}: {chapter.title}")

with st.expander("All chapters (each one is a link)", icon=":material/list:"):
    st.markdown(
        "\n".join(
            f"{i}. [{c.title}](?{lesson.CHAPTER_KEY}={c.slug}) — `{c.scheduler}`"
            for i, c in enumerate(lesson.CHAPTERS, start=1)
        )
    )

st.header(f"{k}. {chapter.title}")
st.markdown(" ".join(chapter.motivation))

spec = SCHEDULERS[chapter.scheduler]
left, right = chart_first().columns([1, 2.4], gap="large")  # on a phone the chart comes first
values = {}
with left:
    st.subheader("Settings")
    for knob in chapter.knobs:
        key = f"{P}.{chapter.slug}.{knob.param}"
        st.session_state.setdefault(key, st.session_state.get(f"{key}._kept", knob.clean(knob.default)))
        value = typed_slider(  # typed exactly; the slider under it is a helper over the chapter's range
            st,
            knob.label,
            key=key,
            low=knob.low,
            high=knob.high,
            step=knob.step,
            is_int=knob.is_int,
            help=f"{knob.help} Type the exact value: {knob.allowed().removeprefix('must be ')}.",
            slider_format=None if knob.is_int else f"%.{knob.decimals}f",
        )
        st.session_state[f"{key}._kept"] = value
        values[knob.param] = value
    st.caption(f"lr {chapter.base_lr:g}, {chapter.steps} steps shown.")

try:
    values = lesson.clean_settings(chapter, values)
    config = lesson.config(chapter, values)
    if chapter.metrics is None:
        curve = cached_curve(config)
    else:
        curve = cached_metric_curve(config, lesson.metrics_for(chapter, config.steps), lesson.EVAL_EVERY)
except LrlabError as exc:  # the sliders are bounded; a message instead of a traceback all the same
    st.error(plain(exc), icon=":material/error:")
    st.stop()

shared = {**lesson.lesson_query(chapter, values), **links.values(LINK)}
state.write_query(shared)

with left:
    st.link_button(
        "Open in Playground",
        lesson.app_link(st.context.url, PAGE_PATH, lesson.playground_query(chapter, values)),
        icon=":material/open_in_new:",
        help="The same schedule on the Playground, with every parameter (opens a new tab)."
        + (" The Playground drives it with its own synthetic loss." if chapter.metrics is not None else ""),
    )
    state.show_share(shared)

with right:
    log_y = st.toggle("Log-scale y axis", key=f"{P}.log_y", help="Steps where the lr is 0 are not drawn.")
    st.plotly_chart(
        lr_figure(curve, log_y=log_y, height=420, x_axis=chapter.x_axis),
        width="stretch",
        key=f"{P}.chart",
        config=chart_config(f"lesson_{chapter.slug}"),
    )
    st.caption(chapter.hint)
    for note in curve.notes:
        st.warning(plain(note))
    st.code(lesson.code_line(chapter, values), language="python", wrap_lines=True)

st.divider()
st.subheader("The formula")
st.latex(spec.formula)
form_col, question_col = st.columns([1, 1], gap="large")
with form_col:
    rows = legend_rows(spec, curve.params, curve.config.base_lr)
    if rows:
        st.markdown(
            "| symbol | meaning | value |\n|---|---|---|\n"
            + "\n".join(f"| {r['symbol']} | {r['meaning']} | {plain(r['value'])} |" for r in rows)
        )
with question_col:
    st.subheader("Question")
    st.markdown(lesson.question(chapter, values))
    with st.expander("Answer", icon=":material/lightbulb:"):
        st.markdown(lesson.answer(chapter, values).text)
        st.caption("Read off the real scheduler, stepped with your settings.")

st.divider()
stated = chapter.stated
st.subheader("Numbers from the reference")
st.markdown(f"**{stated.caption}** — {stated.source}.")
stated_config = lesson.stated_config(stated)
if stated.metrics is None:
    stated_curve = cached_curve(stated_config)
else:
    stated_curve = cached_metric_curve(stated_config, stated.metrics[: stated_config.steps - 1], lesson.EVAL_EVERY)
table = lesson.reference_rows(stated, stated_curve.frame)
st.dataframe(
    table,
    hide_index=True,
    key=f"{P}.reference",
    column_config={
        "step": st.column_config.NumberColumn(chapter.x_axis),
        "stated": st.column_config.NumberColumn("stated", format="%.6g"),
        "library": st.column_config.NumberColumn("library (live)", format="%.6g"),
        "agrees": st.column_config.TextColumn("agrees", help=f"within {stated.tolerance:g} of the stated value"),
    },
)
agreeing = int((table["agrees"] == "✓").sum())
if agreeing == len(table):
    st.success(
        f"All {len(table)} stated values agree with the library (within {stated.tolerance:g}).",
        icon=":material/check_circle:",
    )
else:
    st.warning(
        f"{len(table) - agreeing} of {len(table)} stated values differ from the library by more than "
        f"{stated.tolerance:g}: the library is what your training sees.",
        icon=":material/difference:",
    )

st.divider()
bottom = st.columns(2)
if after is not None:
    bottom[1].button(
        f"Next: {after.title} →",
        key=f"{P}.next_bottom",
        on_click=copy_and_scroll_to_top,  # the reader is at the bottom: land at the top of the next chapter
        args=(f"{P}.next_target", CHAPTER),
        width="stretch",
    )
else:
    bottom[1].success("That was the last chapter.", icon=":material/school:")
if before is not None:
    bottom[0].button(
        f"← Previous: {before.title}",
        key=f"{P}.prev_bottom",
        on_click=copy_and_scroll_to_top,
        args=(f"{P}.prev_target", CHAPTER),
        width="stretch",
    )
scroll_to_top_if_asked()
