"""The safety net inside a fragment (lrlab.ui.safety): what a fragment raises reaches a visitor as the
friendly message, never as a traceback; with LRLAB_DEBUG set it fails the run as before.

Streamlit's own fragment wrapper draws the traceback of whatever a fragment raises, before app.py's
net can catch anything: the first test pins that behaviour of Streamlit, which is why lrlab.ui.safety
exists.
Real Streamlit script runs through AppTest.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lrlab.ui import safety


def _plain_fragment_inside_a_net() -> None:
    import streamlit as st

    from lrlab.ui.safety import safety_net

    @st.fragment
    def broken() -> None:
        raise ValueError("boom in a plain fragment")

    with safety_net("page"):
        broken()
    st.markdown("after the fragment")


def _safe_fragment() -> None:
    import streamlit as st

    from lrlab.ui import safety

    @safety.fragment
    def broken(label: str) -> None:
        st.markdown(f"drawn before the error: {label}")
        raise ValueError("boom in a safe fragment")

    broken("arguments pass through")
    st.markdown("after the fragment")


def _markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_streamlit_draws_the_traceback_of_a_plain_fragment_past_an_outer_net(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LRLAB_DEBUG", raising=False)
    at = AppTest.from_function(_plain_fragment_inside_a_net).run(timeout=30)
    # Streamlit has drawn the traceback before the outer net sees anything (on a full run it then
    # raises FragmentHandledException, so the net adds its message below the traceback)
    assert [e.message for e in at.exception] == ["boom in a plain fragment"]


def test_a_safe_fragment_shows_the_friendly_message_instead_of_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LRLAB_DEBUG", raising=False)  # as deployed
    at = AppTest.from_function(_safe_fragment).run(timeout=30)
    assert not at.exception
    assert [e.value for e in at.error] == [safety.MESSAGE]
    # the fragment's own output before the error stays, and the page goes on after it
    assert _markdown(at) == ["drawn before the error: arguments pass through", "after the fragment"]


def test_with_lrlab_debug_a_safe_fragment_lets_the_error_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRLAB_DEBUG", "1")  # the test suite's setting: a crash fails the tests
    at = AppTest.from_function(_safe_fragment).run(timeout=30)
    assert [e.message for e in at.exception] == ["boom in a safe fragment"]
    assert not at.error


def test_a_safe_fragment_keeps_the_functions_name() -> None:
    def schedule_view() -> None: ...

    # Streamlit derives a fragment's id from the function's module and qualified name
    assert safety.fragment(schedule_view).__qualname__ == schedule_view.__qualname__
