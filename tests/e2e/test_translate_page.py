"""Translate in a real browser: transformers' cosine with warm-up (10 warm-up steps, 100 steps, base lr
1e-3) translated into every library, the verdicts read off the page's table, one curve per counterpart
on the chart, and a counterpart's code one click away.

By the maths, torch (a LambdaLR, or the cosine itself), timm's CosineLRScheduler with a warm-up prefix,
Keras's CosineDecay with its warm-up and optax's warmup_cosine_decay_schedule are the same curve: each
must be "exact". fastai must get a verdict (its float32 phase arithmetic decides which).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from lrlab.specs import LIBRARIES

from .harness import EXCEPTION, FRESH, PAGE_TIMEOUT_MS, dataframe_grid, page_errors_text, plotly_traces, wait_until
from .harness import wait_for_chart as wait_for_first_chart

pytestmark = pytest.mark.e2e

SOURCE = {
    "scheduler": "get_cosine_schedule_with_warmup",
    "steps": 100,
    "base_lr": 0.001,
    "num_warmup_steps": 10,
    "num_training_steps": 100,
}
EXACT = ("torch", "transformers", "timm", "keras", "optax")
#: the first visit imports every library on the server and steps each candidate: allow for it
FIRST_TRANSLATION_MS = 240_000
COUNTERPART = re.compile(r"^(\w+): (.+) \((exact|closest)\)$")


def verdict_rows(page: Any) -> dict[str, list[str]] | None:
    """library → its row's cells (as text), once the verdict table shows every library."""
    grid = dataframe_grid(page)
    if not grid or grid["rowcount"] != len(LIBRARIES) or len(grid["rows"]) != len(LIBRARIES):
        return None
    columns = [c.strip() for c in grid["columns"]]
    if "library" not in columns or "verdict" not in columns:
        return None
    rows = {}
    for cells in grid["rows"]:
        row = dict(zip(columns[-len(cells) :], (c.strip() for c in cells), strict=True))
        rows[row["library"]] = row
    return rows if set(rows) == set(LIBRARIES) else None


@pytest.fixture
def translated(page: Any, base_url: str) -> Any:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{base_url}/translate?{urlencode(SOURCE)}")
    wait_for_first_chart(page, timeout_ms=FIRST_TRANSLATION_MS)
    return page


def test_the_hf_cosine_with_warmup_is_exact_in_torch_transformers_optax_keras_and_timm(translated: Any) -> None:
    page = translated
    rows = wait_until(page, lambda: verdict_rows(page), "the verdict table with every library", 30_000)
    verdicts = {library: row["verdict"] for library, row in rows.items()}
    for library in EXACT:
        assert verdicts[library].endswith("exact"), (library, rows[library])
    assert verdicts["fastai"].split()[-1] in ("exact", "closest", "none"), rows["fastai"]
    assert rows["transformers"]["counterpart"] == "get_cosine_schedule_with_warmup"
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_the_chart_draws_the_source_and_one_curve_per_counterpart_with_its_difference(translated: Any) -> None:
    page = translated
    rows = wait_until(page, lambda: verdict_rows(page), "the verdict table with every library", 30_000)
    with_curve = [lib for lib in LIBRARIES if not rows[lib]["verdict"].endswith("none")]
    names = [t["name"] for t in plotly_traces(page) or []]
    assert [n for n in names if n.startswith("source:")] == ["source: transformers get_cosine_schedule_with_warmup"]
    counterparts = [COUNTERPART.match(n) for n in names]
    assert [m.group(1) for m in counterparts if m] == with_curve, names
    for m in filter(None, counterparts):
        assert rows[m.group(1)]["verdict"].endswith(m.group(3)), (m.group(0), rows[m.group(1)])
    assert [n for n in names if n.endswith(": relative difference")] == [
        f"{lib}: relative difference" for lib in with_curve
    ]
    source = next(t for t in plotly_traces(page) if t["name"].startswith("source:"))
    assert source["x"] == list(range(100)) and max(source["y"]) == pytest.approx(0.001, rel=1e-12)


def test_a_counterparts_code_is_one_click_away(translated: Any) -> None:
    page = translated
    wait_until(page, lambda: verdict_rows(page), "the verdict table with every library", 30_000)
    tab = page.get_by_role("tab", name=re.compile(r"^optax · exact$"))
    tab.click()
    panel = page.locator(f"[role='tabpanel']{FRESH}:visible")
    code = panel.locator("[data-testid='stCode']").first
    wait_until(page, lambda: "warmup_cosine_decay_schedule" in code.inner_text(), "optax's code in its tab")
    assert "import optax" in code.inner_text()
    assert panel.get_by_role("button", name=re.compile("Download the optax code")).is_visible()
