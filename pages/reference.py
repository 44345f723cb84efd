"""Scheduler reference: every scheduler in the registry, grouped by library (torch, transformers, timm, Keras,
optax, fastai), with its formula, parameters and quirks; a library that is not installed says how to install it."""

import streamlit as st

from lrlab import SCHEDULERS
from lrlab.specs import LIBRARIES
from lrlab.ui import links, state
from lrlab.ui.nav import ensure_router
from lrlab.ui.widgets import fmt_number, library_label

ensure_router()

st.title("Scheduler reference")
st.caption(
    "Everything lrlab knows about each scheduler: the same specs drive the Playground's inputs, validation and formulas."
)

LINK = {
    "library": links.Field("ref.library", "torch", choices=LIBRARIES),
    "filter": links.Field("ref.filter", "", max_len=100),
}
ignored: list[str] = []
if state.first_run("ref") and (linked := state.read_query()):
    links.restore(LINK, linked, ignored)
    ignored.extend(f"{k} (not a setting of this page)" for k in linked if k not in LINK)
state.notice(ignored)
st.session_state.setdefault("ref.library", "torch")
library = (
    st.segmented_control(
        "Library",
        list(LIBRARIES),
        key="ref.library",
        format_func=library_label,
        help="The schedules of one library, as the Playground's library filter groups them.",
    )
    or "torch"
)
query = st.text_input("Filter", key="ref.filter", placeholder="e.g. cosine, warmup, plateau").strip().lower()
shared = links.values(LINK)
state.write_query(shared)
state.show_share(shared)

for spec in SCHEDULERS.values():
    if spec.library != library:
        continue
    text = f"{spec.name} {spec.title} {spec.summary} {' '.join(spec.aliases)}".lower()
    if query and query not in text:
        continue
    with st.expander(spec.title):
        st.markdown(f"`{spec.qualified_name}` — {spec.summary}")
        if spec.aliases:
            st.markdown("Also known as: " + ", ".join(f"`{a}`" for a in spec.aliases))
        if why := spec.unavailable():
            st.info(f"{why}. Its formula, parameters and notes are below.", icon=":material/download:")
        st.latex(spec.formula)
        if spec.legend:
            st.caption("where " + "; ".join(f"${symbol}$ {meaning}" for symbol, meaning in spec.legend))
        rows = [
            f"| `{p.name}` | {'the run base lr' if p.name == spec.base_lr_param else fmt_number(p.default_for(1000))} "
            f"| {p.help} | {p.allowed_text(1000)} |"
            for p in spec.params
        ]
        if rows:
            st.markdown(
                "| parameter | default (1000 steps) | meaning | allowed |\n|---|---|---|---|\n" + "\n".join(rows)
            )
        for note in spec.notes:
            st.markdown(f"- {note}")
        if spec.reference:
            st.markdown(f"[{spec.library} documentation]({spec.reference})")
