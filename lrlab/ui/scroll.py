"""Scroll the page back to its top after a button at the bottom changed what the page shows.

Streamlit keeps the scroll position across reruns and has no scroll API, so a "Next" button at the
bottom of a long page would land the reader at the bottom of the next one. The button's callback
(:func:`copy_and_scroll_to_top`) asks for it; the next run (:func:`scroll_to_top_if_asked`) then
draws a fixed script — never built from user input — that scrolls Streamlit's main container to
the top. Callbacks are module-level: session state stays picklable.
"""

from __future__ import annotations

import streamlit as st

from lrlab.ui.widgets import copy_value

#: The session-state key holding how many times a scroll to the top was asked for (0: none pending).
ASKED = "_scroll_to_top"
_DONE = "_scroll_to_top_done"

# Streamlit 1.67 scrolls inside [data-testid="stMain"]; the other selectors cover the app's view
# container and the window itself. Run now, at the next frame and a little later: the rest of the
# rerun may still be replacing elements below.
_SCRIPT = """<script>
(() => {{
  const toTop = () => {{
    window.scrollTo(0, 0);
    document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section.main')
      .forEach(el => {{ el.scrollTop = 0; }});
  }};
  toTop();
  requestAnimationFrame(toTop);
  setTimeout(toTop, 150);
}})();  /* request {n} */
</script>"""


def ask_for_top() -> None:
    """Widget callback: scroll to the top at the end of the next run."""
    st.session_state[ASKED] = int(st.session_state.get(ASKED, 0)) + 1


def copy_and_scroll_to_top(src_key: str, dst_key: str) -> None:
    """Widget callback: :func:`lrlab.ui.widgets.copy_value`, then scroll to the top on the next run."""
    copy_value(src_key, dst_key)
    ask_for_top()


def scroll_to_top_if_asked() -> bool:
    """Draw the scroll script if a callback asked for it since the last one was drawn; True if drawn.

    The script carries a request number, so two requests in a row are two different elements and
    the browser runs the second one too.
    """
    asked = int(st.session_state.get(ASKED, 0))
    if asked <= int(st.session_state.get(_DONE, 0)):
        return False
    st.session_state[_DONE] = asked
    st.html(_SCRIPT.format(n=asked), unsafe_allow_javascript=True)
    return True
