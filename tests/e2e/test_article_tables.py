"""The reference articles' examples, reproduced in a real browser and read off the page's values table.

A reader opens the Playground with an article's settings and reads the article's numbers in the
table under the chart, exactly (no 4-digit rounding); the two-group warm-up + cosine LambdaLR is
typed into the Custom lambda page. Expected numbers are the articles' (or worked out by hand) and
the torch schedulers built and stepped here.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import pytest

from .harness import (
    EXCEPTION,
    INFO_ALERT,
    PAGE_TIMEOUT_MS,
    page_errors_text,
    set_number,
    slider,
    wait_for_chart,
    wait_until,
)

pytestmark = pytest.mark.e2e

TABLE = "[data-testid='stTable']:not([data-stale='true'] *)"
_TABLE_JS = """
(el) => ({
  columns: [...el.querySelectorAll('thead th')].map(th => th.textContent.trim()),
  rows: [...el.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('th, td')].map(td => td.textContent.trim())),
})
"""


def values_table(page: Any) -> dict[str, list[str]] | None:
    """The page's values table as {column heading: [cell text, …]}, or None while there is none (or two)."""
    tables = page.locator(TABLE)
    if tables.count() != 1:
        return None
    data = tables.first.evaluate(_TABLE_JS)
    return {name: [row[i] for row in data["rows"]] for i, name in enumerate(data["columns"])}


def torch_lrs(build: Any, steps: int, lrs: tuple[float, ...]) -> list[list[float]]:
    """Each group's lr at every optimizer step, from the torch scheduler ``build(optimizer)`` stepped here."""
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=lrs[0])
    scheduler = build(optimizer)
    out = []
    for _ in range(steps):
        out.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return out


def _step_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.StepLR(o, step_size=5, gamma=0.5)


def _multistep_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.MultiStepLR(o, milestones=[5, 15], gamma=0.4)


def _multiplicative_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.8)


def _lambda_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.LambdaLR(o, lr_lambda=lambda epoch: 0.95**epoch)


def _exponential_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.ExponentialLR(o, gamma=0.4)


def _cosine_lr(o: Any) -> Any:
    from torch.optim import lr_scheduler as tls

    return tls.CosineAnnealingLR(o, T_max=4, eta_min=0.0)


#: scheduler → (link parameters, lr, the article's numbers for steps 0, 1, …, its tolerance, torch builder)
ARTICLES = {
    "StepLR": ({"step_size": 5, "gamma": 0.5}, 20, [20] * 5 + [10] * 5 + [5] * 5 + [2.5] * 5, 0, _step_lr),
    "MultiStepLR": ({"milestones": "[5,15]", "gamma": 0.4}, 20, [20] * 5 + [8] * 10 + [3.2] * 5, 1e-12, _multistep_lr),
    "MultiplicativeLR": ({"lr_lambda": "0.8"}, 100, [100, 80, 64, 51.2], 1e-12, _multiplicative_lr),
    "LambdaLR": ({"lr_lambda": "0.95 ** epoch"}, 100, [100, 95, 90.25], 1e-12, _lambda_lr),
    "ExponentialLR": ({"gamma": 0.4}, 20, [20, 8, 3.2, 1.28], 1e-12, _exponential_lr),
    # the reference notes' torch output to 4 decimals: 0.1, .0854, .05, .0146, 0, .0146, .05, .0854, 0.1
    "CosineAnnealingLR": (
        {"T_max": 4, "eta_min": 0},
        0.1,
        [0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146, 0.05, 0.0854, 0.1],
        1e-4,
        _cosine_lr,
    ),
}


@pytest.mark.parametrize("name", list(ARTICLES))
def test_the_playground_table_shows_the_articles_numbers(page: Any, base_url: str, name: str) -> None:
    params, lr, article, tolerance, build = ARTICLES[name]
    steps = len(article)
    query = {"scheduler": name, "steps": steps, "base_lr": lr, **params}
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{base_url}/?{urlencode(query)}")
    wait_for_chart(page)
    expected = [g[0] for g in torch_lrs(build, steps, (float(lr),))]

    def shown() -> dict[str, list[str]] | None:
        table = values_table(page)
        return table if table and table.get("lr") and len(table["lr"]) == steps else None

    table = wait_until(page, shown, f"the values table of {name} with {steps} rows")
    assert page.locator(INFO_ALERT).count() == 0, page.locator(INFO_ALERT).all_inner_texts()  # link taken whole
    assert table["step"] == [str(t) for t in range(steps)]
    numbers = [float(text) for text in table["lr"]]
    assert numbers == expected  # every digit of torch's floats is on the screen
    assert numbers == pytest.approx(article, abs=tolerance)
    if name == "CosineAnnealingLR":  # full precision, not four digits
        assert table["lr"][1] == repr(0.05 * (1 + math.cos(math.pi / 4)))
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_in_explain_mode_the_table_shows_the_steps_around_the_explained_step_and_follows_it(
    page: Any, base_url: str
) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{base_url}/?scheduler=ExponentialLR&steps=100&base_lr=1&gamma=0.5&explain=12")
    wait_for_chart(page)

    def around(t: int) -> Any:
        def probe() -> dict[str, list[str]] | None:
            table = values_table(page)
            if not table or table.get("step") != [str(s) for s in range(t - 5, t + 6)]:
                return None
            return table if table[""][5] == "▶" else None

        return wait_until(page, probe, f"the table to show steps {t - 5}–{t + 5} around step {t}")

    table = around(12)
    assert [float(x) for x in table["lr"]] == [0.5**s for s in range(7, 18)]  # by hand: 0.5 ** t, exact
    slider(page, "Explained step").focus()
    page.keyboard.press("ArrowRight")
    table = around(13)  # the table follows the explain slider (a fragment rerun), and stays one table
    assert [float(x) for x in table["lr"]] == [0.5**s for s in range(8, 19)]
    assert page.locator(TABLE).count() == 1
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


ARTICLE_GROUP0 = "epoch / 10 if epoch < 10 else (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + cos(pi * (epoch - 10) / 40))) / 0.1"


def warmup_cosine(step: int) -> float:
    """The article's group-0 lambda as it writes it: 10 warm-up steps, then a cosine to 1e-5 over 40."""
    if step < 10:
        return step / 10
    return (1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * (step - 10) / 40))) / 0.1


def test_the_articles_two_group_warm_up_cosine_lambda_is_read_off_the_custom_lambda_page(
    page: Any, base_url: str
) -> None:
    from torch.optim import lr_scheduler as tls

    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + "/custom")
    wait_for_chart(page)
    set_number(page, "Steps", 50)
    wait_until(page, lambda: (t := values_table(page)) and t["step"][-1] == "49", "a 50-step table")
    set_number(page, "Param groups", 2)
    page.get_by_role("spinbutton", name="lr of group 1", exact=True).wait_for(state="visible")
    set_number(page, "lr of group 1", 0.2)
    box = page.get_by_role("textbox", name="λ0(epoch)", exact=True)
    box.fill(ARTICLE_GROUP0)
    box.press("Enter")

    expected = torch_lrs(lambda o: tls.LambdaLR(o, [warmup_cosine, lambda step: 1]), 50, (0.1, 0.2))
    rows = [*range(10), 45, 46, 47, 48, 49]  # a 50-step run: the first ten and the last five rows

    def shown() -> dict[str, list[str]] | None:
        table = values_table(page)
        if not table or "lr · group 1" not in table:
            return None
        group0 = [float(x) for x in table["lr · group 0"] if x != "⋮"]
        return table if group0 == [expected[t][0] for t in rows] else None

    table = wait_until(page, shown, "the table of the article's two groups", timeout_ms=30_000)
    assert [s for s in table["step"] if s != "⋮"] == [str(t) for t in rows]
    group0 = [float(x) for x in table["lr · group 0"] if x != "⋮"]
    group1 = [float(x) for x in table["lr · group 1"] if x != "⋮"]
    # by hand: the warm-up is 0.1 · t / 10; the cosine reaches 1e-5 + ½ (0.1 − 1e-5)(1 + cos(39π/40)) at step 49
    assert group0[:10] == pytest.approx([0.01 * t for t in range(10)], rel=1e-12, abs=1e-18)
    assert group0[-1] == pytest.approx(1e-5 + 0.5 * (0.1 - 1e-5) * (1 + math.cos(math.pi * 39 / 40)), rel=1e-12)
    assert group1 == [0.2] * len(rows)  # λ = 1: group 1 keeps its lr
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
