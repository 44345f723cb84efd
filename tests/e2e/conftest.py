"""Fixtures for the browser tests: one Streamlit server per session, Debian's Chromium.

pytest-playwright supplies `page`, `browser`, ...; here its launch arguments point at
/usr/bin/chromium and its `base_url` at the server started below, so `page.goto("/")` opens the app.
A missing Chromium fails every browser test with a message that says how to install it (never a skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .harness import PAGE_TIMEOUT_MS, HarnessError, chromium_problem, launch_args, streamlit_server


@pytest.fixture(scope="session")
def app_server() -> Iterator[str]:
    """Base URL of `streamlit run app.py` on a free loopback port, healthy ("ok")."""
    try:
        with streamlit_server() as url:
            yield url
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def base_url(app_server: str) -> str:
    return app_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    problem = chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture
def app_page(page: Any, base_url: str) -> Any:
    """A fresh browser page on the app's default page (the Playground)."""
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/")
    return page
