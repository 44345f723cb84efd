"""The Custom lambda page in a real browser: your expression drives a real LambdaLR / MultiplicativeLR.

Expected curves are computed here (the formula, or a real torch scheduler with Python lambdas);
the page's numbers are read from the data Plotly.js holds in the page. Hostile expressions must be
refused with a message and never run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ERROR_ALERT,
    EXCEPTION,
    FRESH,
    INFO_ALERT,
    PAGE_TIMEOUT_MS,
    SCRIPT_DONE,
    choose_radio,
    export_tab,
    page_errors_text,
    plotly_traces,
    set_number,
    wait_for_chart,
    wait_for_trace,
    wait_until,
)

pytestmark = pytest.mark.e2e

PWNED = Path("/tmp/lrlab_pwned")
MULTIPLICATIVE = "torch · MultiplicativeLR — multiply the lr by your function each step"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def matches(y: list[float] | None, expected: list[float]) -> bool:
    return y is not None and len(y) == len(expected) and all(close(a, b) for a, b in zip(y, expected, strict=True))


def settings(page: Any) -> tuple[int, float]:
    """(Steps, Base LR of group 0) as the widgets show them."""
    steps = int(page.get_by_role("spinbutton", name="Steps", exact=True).input_value())
    base = page.locator("input[type='range'][aria-label='Base LR (group 0)']").get_attribute("aria-valuetext")
    return steps, float(base)


def expression_box(page: Any, label: str = "λ(epoch)") -> Any:
    return page.get_by_role("textbox", name=label, exact=True)


def type_expression(page: Any, text: str, label: str = "λ(epoch)") -> None:
    box = expression_box(page, label)
    box.fill(text)
    box.press("Enter")


def torch_multiplicative(steps: int, lrs: list[float], lambdas: list[Callable[[int], float]]) -> list[list[float]]:
    """Per group, the lr at steps 0 .. steps-1 of a real MultiplicativeLR."""
    import torch

    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    optimizer = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)])
    scheduler = torch.optim.lr_scheduler.MultiplicativeLR(optimizer, lr_lambda=lambdas)
    curves: list[list[float]] = [[] for _ in lrs]
    optimizer.step()
    for _ in range(steps):
        for g, group in enumerate(optimizer.param_groups):
            curves[g].append(group["lr"])
        scheduler.step()
    return curves


@pytest.fixture
def custom(page: Any, base_url: str) -> Any:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/custom")
    wait_for_chart(page)
    return page


def test_typed_expression_is_plotted_typeset_and_exported(custom: Any) -> None:
    page = custom
    steps, base_lr = settings(page)
    assert (steps, base_lr) == (1000, 0.1)
    type_expression(page, "0.5 ** floor(epoch / 100)")

    expected = [base_lr * 0.5 ** math.floor(t / 100) for t in range(steps)]
    library = wait_for_trace(page, "library", lambda t: matches(t["y"], expected), "λ = 0.5 ** floor(epoch / 100)")
    assert library["x"] == list(range(steps))
    closed = wait_for_trace(page, "closed form", lambda t: matches(t["y"], expected), "the closed form to agree")
    assert closed["dash"] == "dash"

    # the formula is typeset with floor brackets (KaTeX keeps the TeX source in an annotation)
    def tex() -> list[str]:
        return [e.text_content() or "" for e in page.locator(f".katex{FRESH} annotation").all()]

    wait_until(page, lambda: any("lfloor" in s and "100" in s for s in tex()), f"the λ formula with ⌊⌋, got {tex()}")
    assert page.locator(f".katex{FRESH}", has_text="⌊").count() >= 1

    # the export panel (opened: its code is built when asked), its PyTorch tab
    code = export_tab(page, "PyTorch").locator(f"[data-testid='stCode']{FRESH}")
    wait_until(page, lambda: "math.floor" in code.inner_text(), "the PyTorch export to use math.floor")
    text = code.inner_text()
    assert "lr_scheduler.LambdaLR" in text and "0.5 ** math.floor(epoch / 100" in text, text
    assert page.locator(f"[data-testid='stAlertContentSuccess']{FRESH}").count() == 1  # library == closed form
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    assert page.locator(ERROR_ALERT).count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('touch /tmp/lrlab_pwned')",
        "open('/tmp/lrlab_pwned', 'w')",
        "().__class__.__bases__[0].__subclasses__()",
    ],
    ids=["import-os-system", "open", "subclasses"],
)
def test_hostile_expression_is_refused_and_never_run(custom: Any, payload: str) -> None:
    page = custom
    PWNED.unlink(missing_ok=True)
    steps, base_lr = settings(page)
    default = [base_lr * 0.95**t for t in range(steps)]  # the page's first example, 0.95 ** epoch
    good = wait_for_trace(page, "library", lambda t: matches(t["y"], default), "the default λ = 0.95 ** epoch")

    type_expression(page, payload)
    alert = page.locator(ERROR_ALERT)
    alert.first.wait_for(state="visible")
    page.locator(SCRIPT_DONE).wait_for(state="attached")
    text = alert.first.inner_text()
    assert "not allowed" in text and "lr_lambda" in text, text
    assert alert.count() == 1
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    # the chart stays, with the last valid curve, and says so
    page.locator(INFO_ALERT, has_text="Showing the last valid expression").wait_for(state="visible")
    wait_for_trace(page, "library", lambda t: t["y"] == good["y"], "the chart to keep the last valid curve")
    assert [t["name"] for t in plotly_traces(page)] == ["library", "closed form"]
    assert not PWNED.exists(), f"{PWNED} was created: the expression ran"


def test_multiplicative_lr_with_two_param_groups(custom: Any) -> None:
    page = custom
    choose_radio(page, "Scheduler", MULTIPLICATIVE)
    wait_until(page, lambda: expression_box(page).input_value() == "0.95", "MultiplicativeLR's first example, 0.95")
    set_number(page, "Param groups", 2)
    expression_box(page, "λ1(epoch)").wait_for(state="visible")
    assert expression_box(page, "λ0(epoch)").input_value() == "0.95"
    type_expression(page, "0.99 if epoch < 500 else 0.98", label="λ1(epoch)")

    steps, base_lr = settings(page)
    lr1 = float(page.get_by_role("spinbutton", name="lr of group 1", exact=True).input_value())
    want0, want1 = torch_multiplicative(
        steps, [base_lr, lr1], [lambda epoch: 0.95, lambda epoch: 0.99 if epoch < 500 else 0.98]
    )
    g0 = wait_for_trace(
        page, "library · group 0", lambda t: matches(t["y"], want0), "group 0 of a real MultiplicativeLR"
    )
    g1 = wait_for_trace(
        page, "library · group 1", lambda t: matches(t["y"], want1), "group 1 of a real MultiplicativeLR"
    )
    assert g0["x"] == g1["x"] == list(range(steps))
    names = [t["name"] for t in plotly_traces(page)]
    assert [n for n in names if n.startswith("library")] == ["library · group 0", "library · group 1"], names
    assert "library" not in names
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    assert page.locator(ERROR_ALERT).count() == 0
