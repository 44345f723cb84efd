"""Pitfalls: a gallery of real scheduler mistakes, each a live demo of the real objects, with its fix."""

import json

import streamlit as st

from lrlab.pitfalls import PITFALLS, figure, pitfall_label
from lrlab.specs import LrlabError
from lrlab.ui import state
from lrlab.ui.cache import cached_demo
from lrlab.ui.export_panel import chart_config
from lrlab.ui.nav import ensure_router
from lrlab.ui.style import chart_first
from lrlab.ui.text import plain
from lrlab.ui.widgets import number

ensure_router()

P = "pf"
IDS = list(PITFALLS)


def setting_key(pitfall_id: str, name: str) -> str:
    return f"{P}.{pitfall_id}.{name}"


st.title("Pitfalls")
st.caption(
    "Ten ways a learning-rate schedule goes wrong in real training code. Each demo builds the real "
    "`torch` / `transformers` objects and steps them the faulty way (red) and the intended way (green); "
    "what the library says is captured as it happens."
)

# A link (?pitfall=<id>&<setting>=…) is applied when it is new: on the first visit, or when another page
# links here. Not on every rerun: the address bar then holds what this page wrote itself.
st.session_state.setdefault(f"{P}.pitfall", IDS[0])
ignored: list[str] = []
unknown = None
query = state.read_query()
if query and query != st.session_state.get(f"{P}._seen") and query != st.session_state.get(f"{P}._written"):
    linked = query.get("pitfall", st.session_state[f"{P}.pitfall"])
    if linked not in PITFALLS:
        unknown, linked = linked, IDS[0]
    st.session_state[f"{P}.pitfall"] = linked
    limits = {s.name: s.choices or (s.low, s.high) for s in PITFALLS[linked].settings}
    for key, value in state.checked_values(query, limits, ignored).items():
        st.session_state[setting_key(linked, key)] = value
    ignored.extend(f"{key} (not a setting of this pitfall)" for key in query if key not in {*limits, "pitfall"})
st.session_state[f"{P}._seen"] = query

nav, main = chart_first().columns([1, 3.6], gap="large")  # on a phone, the chart first
with nav:
    chosen = st.radio("Pitfall", IDS, key=f"{P}.pitfall", format_func=pitfall_label)
    st.caption("Each one is a link: copy it from “Share this view” below the fix.")

pitfall = PITFALLS[chosen]
with main:
    if unknown is not None:
        st.warning(
            plain(
                f"There is no pitfall called “{str(unknown)[:40]}”: showing the first one. "
                f"The gallery has {len(IDS)}: {', '.join(IDS)}."
            ),
            icon=":material/link_off:",
        )
    state.notice(ignored)
    st.header(f"{IDS.index(chosen) + 1}. {pitfall.title}", anchor=False)
    st.warning(f"**What you see.** {pitfall.symptom}", icon=":material/visibility:")

    values = {}
    cols = st.columns(max(3, len(pitfall.settings) + 1))
    for col, s in zip(cols, pitfall.settings, strict=False):
        key = setting_key(chosen, s.name)
        if s.choices:
            st.session_state.setdefault(key, s.default)
            values[s.name] = col.radio(s.label, s.choices, key=key, horizontal=True, help=s.help or None)
        else:
            values[s.name] = int(number(col, s.label, s.low, s.high, s.default, key=key, help=s.help or None))

    shared = {"pitfall": chosen, **values}
    state.write_query(shared)
    st.session_state[f"{P}._written"] = state.read_query()

    try:
        demo = cached_demo(chosen, json.dumps(values, sort_keys=True))
    except LrlabError as exc:
        demo = None
        st.error(plain(exc), icon=":material/error:")

    if demo is not None:
        st.plotly_chart(figure(demo), width="stretch", key=f"{P}.chart", config=chart_config(f"pitfall-{chosen}"))
        if demo.facts:
            for col, fact in zip(st.columns(len(demo.facts)), demo.facts, strict=True):
                col.metric(fact.label, fact.value, help=fact.help or None)
        if demo.messages:
            st.subheader("What the library says", anchor=False)
            for message in demo.messages:
                st.caption(plain(f"{message.kind}, {message.when}:"))
                st.code(message.line, language=None, wrap_lines=True)

    st.subheader("Why", anchor=False)
    st.markdown(pitfall.why)
    st.subheader("The fix", anchor=False)
    if pitfall.fix_runs_with == "lightning":
        st.caption("A LightningModule (`pip install lightning`); run the file to train.")
    else:
        which = f" ({demo.intended.name})" if demo is not None and len(demo.by_role("intended")) > 1 else ""
        st.caption(f"Runnable as it is; `{pitfall.fix_output}` ends up holding the green curve{which}.")
    st.code(pitfall.fix_code(values), language="python", line_numbers=True, wrap_lines=True)
    state.show_share(shared)
