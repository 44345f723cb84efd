"""A formula wider than its column scrolls sideways and is never clipped (lrlab.ui.style: ``.katex-display``).

At a narrow window (700 px: columns still side by side, the formula's column about 380 px) OneCycleLR's
formula on the Playground and a piecewise λ on the Custom page are wider than their column. Each such
KaTeX display must be a horizontal scroller (computed ``overflow-x`` auto or scroll, ``scrollWidth`` above
``clientWidth``), must itself lie inside the window and inside every ancestor that clips, and, scrolled to
its end, must show its last glyph inside its own box: every part of the formula can be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from .harness import EXCEPTION, PAGE_TIMEOUT_MS, page_errors_text, wait_for_chart

pytestmark = pytest.mark.e2e

NARROW = {"width": 700, "height": 900}
#: a piecewise λ: warm-up, cosine, then an exponential tail (drawn as \begin{cases} … \end{cases})
PIECEWISE = (
    "epoch / 10 if epoch < 10 else 0.5 * (1 + cos(pi * (epoch - 10) / 90)) if epoch < 100 "
    "else 0.001 * exp(-(epoch - 100) / 1000) + 0.0001"
)
PAGES = {
    "playground-onecycle": "/?scheduler=OneCycleLR",
    "custom-piecewise": "/custom?lambda=" + quote(PIECEWISE),
}

# Every KaTeX display of the current page: how it scrolls, where it lies, whether an ancestor clips it, and,
# scrolled to its end, where its last glyph (the last child of .katex-html) ends against its own box.
_DISPLAYS_JS = """() => [...document.querySelectorAll('.katex-display')]
  .filter(el => !el.closest('[data-stale="true"]'))
  .map(el => {
    const style = getComputedStyle(el);
    el.scrollLeft = el.scrollWidth;  // as far right as it goes
    const box = el.getBoundingClientRect();
    const inner = box.left + el.clientLeft + el.clientWidth;  // the right edge of what it shows
    const glyphs = el.querySelectorAll('.katex-html > *');
    const last = glyphs.length ? glyphs[glyphs.length - 1].getBoundingClientRect() : null;
    const clippers = [];
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible') {
        const r = a.getBoundingClientRect();
        if (box.left < r.left - 0.5 || box.right > r.right + 0.5) {
          clippers.push(`${a.tagName.toLowerCase()}[data-testid=${a.dataset.testid || ''}] ${r.left}-${r.right}`);
        }
      }
    }
    const out = {
      text: el.textContent.slice(0, 60), overflowX: style.overflowX, scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth, scrollLeft: el.scrollLeft, left: box.left, right: box.right, inner: inner,
      lastRight: last ? last.right : null, window: window.innerWidth, clippers: clippers,
    };
    el.scrollLeft = 0;
    return out;
  })"""


@pytest.fixture
def narrow(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport=NARROW, base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.mark.parametrize("path", list(PAGES.values()), ids=list(PAGES))
def test_a_wide_formula_scrolls_sideways_and_its_end_can_be_reached(narrow: Any, path: str) -> None:
    narrow.goto(path)
    wait_for_chart(narrow, 60_000)
    narrow.wait_for_selector(".katex-display .katex-html", state="attached", timeout=30_000)
    displays = narrow.evaluate(_DISPLAYS_JS)
    wide = [d for d in displays if d["scrollWidth"] > d["clientWidth"]]
    assert wide, f"no formula is wider than its column at {NARROW['width']} px: {displays}"
    for d in wide:
        assert d["overflowX"] in ("auto", "scroll"), d  # a scroller, not clipped (hidden) or spilling (visible)
        assert d["scrollLeft"] > 0, d  # it did scroll
        assert 0 <= d["left"] and d["right"] <= d["window"], d  # the scroller itself lies inside the window
        assert not d["clippers"], d  # and no ancestor cuts part of it off
        assert d["lastRight"] is not None and d["lastRight"] <= d["inner"] + 0.5, d  # the last glyph, shown
    assert narrow.locator(EXCEPTION).count() == 0, page_errors_text(narrow)
