"""The training lab in a real browser: the LR finder plots its sweep with the suggestions marked, and a
two-schedule comparison trains and shows both loss curves (read from the data Plotly.js holds)."""

from __future__ import annotations

import itertools

import pytest

from .harness import (
    EXCEPTION,
    SCRIPT_DONE,
    dataframe_grid,
    page_errors_text,
    plotly_traces,
    streamlit_server,
    wait_for_chart,
    wait_until,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_server():
    """A server of its own for the Stop test: opened right after another visitor's training on a shared server,
    the page's left column (with "Stop training") stayed unrendered while its own first training ran — a known
    defect, described in the closing note of the session that found it; this test is about Stop."""
    with streamlit_server() as url:
        yield url


def test_stop_ends_a_long_comparison_and_keeps_what_was_trained(page, own_server):
    base_url = own_server
    # the CNN, 100 epochs of batch 8: 3 × 18,000 steps, about a minute in all (a small lr: nothing diverges early)
    page.goto(base_url + "/train?model=cnn&epochs=100&batch_size=8&peak_lr=0.01")
    progress = page.locator("[data-testid='stProgress']")  # the first visit trains at once: stop that run
    wait_until(page, lambda: progress.count() > 0, "the progress bar", timeout_ms=60_000)
    page.get_by_role("button", name="Stop training").click()
    notice = page.get_by_text("Stopped before the end")
    wait_until(page, lambda: notice.count() > 0, "the stopped notice", timeout_ms=30_000)
    grid = wait_until(page, lambda: dataframe_grid(page), "the results table")
    assert grid["rowcount"] >= 1
    statuses = " ".join(" ".join(row) for row in grid["rows"])
    assert "stopped" in statuses or "pending" in statuses
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


def test_the_lr_finder_plots_loss_against_lr_with_the_suggestions_marked(page, base_url):
    page.goto(base_url + "/lr_finder")
    wait_for_chart(page, timeout_ms=60_000)
    traces = wait_until(page, lambda: plotly_traces(page) if len(plotly_traces(page) or []) >= 11 else None,
                        "the sweep, four suggestion markers, and fastai's own sweep and suggestions")  # fmt: skip
    names = [t["name"] for t in traces]
    assert names[:2] == ["loss (raw)", "loss (smoothed, β = 0.98)"], names
    markers = {n.split(":")[0]: t for n, t in zip(names, traces, strict=True) if t["mode"] == "markers"}
    assert set(markers) == {
        "valley",
        "minimum",
        "steep",
        "slide",
        *(f"fastai {n}" for n in ("valley", "minimum", "steep", "slide")),
    }
    assert "fastai lr_find (smoothed)" in names  # fastai's own Learner.lr_find, beside lrlab's
    markers = {n: t for n, t in markers.items() if not n.startswith("fastai")}
    lrs = traces[1]["x"]
    assert lrs[0] == pytest.approx(1e-7) and all(b > a for a, b in itertools.pairwise(lrs))
    for name, t in markers.items():
        assert lrs[0] <= t["x"][0] <= lrs[-1], name
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    # running it again with another seed redraws the sweep
    page.get_by_role("button", name="Run the range test").click()
    wait_until(page, lambda: page.locator(SCRIPT_DONE).count() > 0 and plotly_traces(page), "the rerun")
    assert page.get_by_text("Chosen lr:").count() == 1


def test_a_two_schedule_comparison_trains_and_shows_both_loss_curves(page, base_url):
    page.goto(base_url + "/train?epochs=3")
    wait_for_chart(page, timeout_ms=60_000)
    # three schedules by default: remove the first, train the other two
    remove = page.locator("[class*='st-key-tr-item'][class*='-remove']")  # one delete button per schedule
    wait_until(page, lambda: remove.count() == 3, "three schedules")
    remove.first.locator("button").first.click()
    wait_until(page, lambda: remove.count() == 2, "two schedules left")
    page.wait_for_selector(SCRIPT_DONE, state="attached")
    page.get_by_role("button", name="Train", exact=True).click()

    def two_loss_curves():
        if page.locator(SCRIPT_DONE).count() == 0:
            return None
        traces = plotly_traces(page) or []
        loss = [t for t in traces if t["name"] in ("cosine annealing", "fastai fit_one_cycle") and t["y"]]
        by_name = {}
        for t in loss:
            by_name.setdefault(t["name"], []).append(t)
        # each schedule: lr, training loss, validation loss, validation accuracy traces
        return by_name if len(by_name) == 2 and all(len(v) == 4 for v in by_name.values()) else None

    by_name = wait_until(page, two_loss_curves, "both schedules' curves", timeout_ms=60_000)
    for name, traces in by_name.items():
        train_loss = traces[1]["y"]
        assert len(train_loss) == 3 * 23, name  # 3 epochs of 23 batches
        assert train_loss[-1] < train_loss[0], name  # it learned
        assert len(traces[3]["y"]) == 3 and traces[3]["y"][-1] > 0.8, name  # validation accuracy per epoch
    grid = wait_until(page, lambda: dataframe_grid(page), "the results table")
    assert grid["rowcount"] == 2
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
