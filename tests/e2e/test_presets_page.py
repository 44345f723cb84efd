"""Picking a schedule from the literature in a real browser: the Playground draws the paper's schedule
(ResNet: lr 0.1, divided by 10 at 32k/64k and 48k/64k of the run) stepped by the real MultiStepLR,
and cites the paper."""

from __future__ import annotations

import pytest

from .harness import page_errors_text, wait_for_chart, wait_for_trace, wait_until

pytestmark = pytest.mark.e2e


def test_picking_the_resnet_preset_draws_its_step_decay_and_cites_the_paper(page, base_url):
    page.goto(base_url + "/")
    wait_for_chart(page)
    box = page.get_by_role("combobox", name="Start from a paper", exact=True)
    box.click()
    page.get_by_role("option", name="ResNet step decay (He, Zhang, Ren, Sun)", exact=True).click()

    # 1,000 steps: milestones at 500 and 750; lr 0.1 → 0.01 → 0.001 (torch's MultiStepLR, by hand)
    def resnet(t):
        expected = [0.1 * 0.1 ** ((x >= 500) + (x >= 750)) for x in t["x"]]
        return t["x"][-1] == 999 and all(abs(y - e) <= 1e-12 * 0.1 for y, e in zip(t["y"], expected, strict=True))

    library = wait_for_trace(page, "library", resnet, "the ResNet step decay")
    assert library["y"][0] == pytest.approx(0.1) and library["y"][-1] == pytest.approx(0.001)
    wait_until(page, lambda: page.get_by_text("Deep Residual Learning").count() > 0, "the citation")
    assert page.locator("[data-testid='stException']").count() == 0, page_errors_text(page)
