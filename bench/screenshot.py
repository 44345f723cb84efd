"""Take docs/screenshot.png: the Playground at 1400×900 in Debian's Chromium, as the README shows it.

    .venv/bin/python bench/screenshot.py [--out docs/screenshot.png] [--full-page]

Starts `streamlit run app.py` on a free loopback port (like the browser tests), opens the default
page, waits until the chart is drawn and the script has finished, and saves the PNG.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e.harness import launch_args, streamlit_server, wait_for_chart  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1240)
    parser.add_argument("--path", default="/?scheduler=OneCycleLR&steps=1000000", help="page and query to capture")
    parser.add_argument("--full-page", action="store_true", help="capture the whole page, not the viewport")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(**launch_args())
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height}, device_scale_factor=1)
            page.goto(url + args.path)
            wait_for_chart(page, timeout_ms=60_000)
            # let Plotly and KaTeX settle; park the mouse off the chart and the sidebar
            page.mouse.move(args.width - 2, args.height - 2)
            page.wait_for_timeout(500)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=args.full_page)
        finally:
            browser.close()
    print(
        f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
