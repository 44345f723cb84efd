"""The app's own CSS and its one small script: wide formulas, the phone layout, the sidebar on a phone.

``app.py`` calls :func:`apply` on every run (the style is tiny and sent as a style-only ``st.html``,
which takes no room on the page). Pages mark what the phone layout should move with two keyed
containers (Streamlit gives a container with ``key=k`` the CSS class ``st-key-k``):

- :func:`chart_first` around a page's controls-and-chart columns: below :data:`PHONE_MAX_PX`, where
  Streamlit stacks columns, the column holding the chart comes first;
- :func:`input_row` around a row of small inputs: on a phone they sit two to a line (with
  ``lead=True`` the first, usually the scheduler picker, on a line of its own) instead of one under
  another.

On a phone the page's top padding and the title are also smaller, so that the chart starts on the first
screen.

On a narrow screen the sidebar is an overlay over the page. Streamlit closes it after a page is picked
only when the browser says it is a phone (user agent); a narrow desktop window, a tablet in desktop
mode or a phone asking for the desktop site keep it open over the page. :data:`CLOSE_SIDEBAR_JS`
closes it after a pick whenever the window is narrower than Streamlit's overlay breakpoint (768 px).
"""

from __future__ import annotations

import streamlit as st

#: Streamlit stacks columns below 640 px; the phone layout applies up to this width.
PHONE_MAX_PX = 640
#: Streamlit draws the sidebar over the page up to its "md" breakpoint (768 px).
OVERLAY_MAX_PX = 768
CHART_FIRST = "lrlab-chart-first"
INPUT_ROW = "lrlab-inputs-"  # + name; "lead-" + name when the first input has a line of its own

_COLUMNS = '> [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]'

CSS = f"""
<style>
/* A display formula wider than its column scrolls sideways (never clipped); shadows at an edge
   show that more of it is hidden there. */
.katex-display {{
  overflow-x: auto;
  overflow-y: hidden;
  padding: 0.2rem 0.75rem 0.45rem 0.1rem;
  scrollbar-width: thin;
  background:
    linear-gradient(to right, #ffffff 30%, rgba(255, 255, 255, 0)) left center / 2.5rem 100% no-repeat local,
    linear-gradient(to left, #ffffff 30%, rgba(255, 255, 255, 0)) right center / 2.5rem 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(0, 0, 0, 0.22), rgba(0, 0, 0, 0)) left center / 0.9rem 100%
      no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, 0.22), rgba(0, 0, 0, 0)) right center / 0.9rem 100%
      no-repeat scroll;
}}
@media (max-width: {PHONE_MAX_PX}px) {{
  /* the chart before the controls */
  .st-key-{CHART_FIRST} {_COLUMNS}:has([data-testid="stPlotlyChart"]) {{
    order: -1;
  }}
  /* small inputs two to a line (a lead input on its own) */
  [class*="st-key-{INPUT_ROW}"] {_COLUMNS} {{
    min-width: calc(50% - 0.5rem) !important;
    flex-basis: calc(50% - 0.5rem) !important;
  }}
  [class*="st-key-{INPUT_ROW}lead-"] {_COLUMNS}:first-child {{
    min-width: 100% !important;
    flex-basis: 100% !important;
  }}
  /* less room above the content: the header is 3.75rem high */
  [data-testid="stMainBlockContainer"] {{
    padding-top: 4.5rem;
  }}
  [data-testid="stMain"] h1 {{
    font-size: 2rem;
    padding-top: 0.25rem;
    padding-bottom: 0.5rem;
  }}
}}
</style>
"""

CLOSE_SIDEBAR_JS = f"""
<script>
(() => {{
  if (window.__lrlabSidebarCloses) return;
  window.__lrlabSidebarCloses = true;
  document.addEventListener("click", (event) => {{
    const link = event.target.closest && event.target.closest('[data-testid="stSidebarNav"] a');
    if (!link || window.innerWidth > {OVERLAY_MAX_PX}) return;
    window.setTimeout(() => {{
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close && close.getAttribute("aria-expanded") === "true") close.click();
    }}, 0);
  }}, true);
}})();
</script>
"""


def apply() -> None:
    """The CSS (every run: style-only HTML takes no space) and the sidebar script (in the sidebar)."""
    st.html(CSS)
    st.sidebar.html(CLOSE_SIDEBAR_JS, unsafe_allow_javascript=True)


def chart_first():
    """A container whose columns show the chart's column first on a phone: ``with chart_first(): cols = ...``."""
    return st.container(key=CHART_FIRST)


def input_row(name: str, *, lead: bool = False):
    """A container whose row of inputs sits two to a line on a phone (``lead``: the first on its own
    line); ``name`` tells a page's rows apart (a key is unique on a page)."""
    return st.container(key=f"{INPUT_ROW}{'lead-' if lead else ''}{name}")
