"""The Playground's Export downloads, clicked in a real browser and checked as files.

A shared link sets up StepLR(step_size=50, gamma=0.5) over 200 steps. The downloaded PyTorch script
must be the code the page shows, and, run in a fresh interpreter (imported as a module, then its
`train()` called), must step through the learning rates computed here. The curve's CSV and JSON
downloads must hold the same 200 learning rates.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .harness import EXCEPTION, PAGE_TIMEOUT_MS, export_tab, page_errors_text, wait_for_chart, wait_for_trace

pytestmark = pytest.mark.e2e

STEPS, BASE_LR, STEP_SIZE, GAMMA = 200, 0.1, 50, 0.5
LINK = f"/?scheduler=StepLR&steps={STEPS}&step_size={STEP_SIZE}&gamma={GAMMA}"
NOTICE = "Some values in the link were ignored"


def expected_lrs() -> list[float]:
    """torch's StepLR: base_lr · gamma ** (t // step_size) at optimizer step t."""
    return [BASE_LR * GAMMA ** (t // STEP_SIZE) for t in range(STEPS)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def assert_lrs(got: list[float], what: str) -> None:
    want = expected_lrs()
    assert len(got) == len(want), f"{what}: {len(got)} values, expected {len(want)}"
    bad = [(t, g, w) for t, (g, w) in enumerate(zip(got, want, strict=True)) if not close(g, w)]
    assert not bad, f"{what}: {len(bad)} steps differ from 0.1·0.5**(t//50), first (t, got, want): {bad[:5]}"


# ---- page helpers -------------------------------------------------------------------------------


@pytest.fixture
def linked_page(page: Any, base_url: str) -> Any:
    """The Playground opened from the shared StepLR link, once its chart shows that curve."""
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(base_url + LINK)
    wait_for_chart(page)
    wait_for_trace(
        page,
        "library",
        lambda t: len(t["y"] or []) == STEPS and all(close(a, b) for a, b in zip(t["y"], expected_lrs(), strict=True)),
        "the StepLR curve of the link",
    )
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
    assert page.get_by_text(NOTICE).count() == 0, "the link's values were not all taken"
    return page


def download(page: Any, panel: Any, button: str, into: Path) -> tuple[str, str]:
    """Click download button `button` in `panel`; save the file under `into`; return (file name, text)."""
    with page.expect_download() as info:
        panel.get_by_role("button", name=button).click()
    dl = info.value
    assert dl.failure() is None, f"{button!r}: download failed: {dl.failure()}"
    path = into / dl.suggested_filename
    dl.save_as(path)
    return dl.suggested_filename, path.read_text(encoding="utf-8")


# The exported script, imported in a fresh interpreter (isolated: no PYTHONPATH, no cwd on sys.path,
# so nothing of lrlab is importable), as a module named other than __main__; then train() is called.
RUN_EXPORTED = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("exported_schedule", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
built = {
    "model": type(mod.model).__name__,
    "optimizer": type(mod.optimizer).__name__,
    "scheduler": type(mod.scheduler).__name__,
    "step_size": getattr(mod.scheduler, "step_size", None),
    "gamma": getattr(mod.scheduler, "gamma", None),
    "last_epoch": mod.scheduler.last_epoch,
    "lr": mod.optimizer.param_groups[0]["lr"],
    "lrlab_loaded": any(m == "lrlab" or m.startswith("lrlab.") for m in sys.modules),
}
lrs = mod.train()
print(json.dumps({"built": built, "lrs": [float(x) for x in lrs]}))
"""


# ---- 1. the PyTorch script ----------------------------------------------------------------------


def test_downloaded_pytorch_script_is_the_shown_code_and_trains_with_the_linked_schedule(
    linked_page: Any, tmp_path: Path
) -> None:
    page = linked_page
    panel = export_tab(page, "PyTorch")
    shown = panel.locator("[data-testid='stCode'] code").text_content()
    name, script = download(page, panel, "Download PyTorch", tmp_path)
    assert name == "steplr_schedule.py"
    # st.code shows the text without its final newline; the file ends with one
    assert script.endswith("\n")
    assert script.rstrip("\n") == shown.rstrip("\n"), "the downloaded script differs from the code shown"
    assert "def train(" in script and 'if __name__ == "__main__":' in script

    run = subprocess.run(
        [sys.executable, "-I", "-c", RUN_EXPORTED, str(tmp_path / name)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, f"the exported script failed:\n{run.stderr[-3000:]}"
    lines = run.stdout.splitlines()
    # one line: ours. Importing must neither run the __main__ block (it prints) nor train.
    assert len(lines) == 1, f"unexpected output when imported as a module: {run.stdout[-2000:]!r}"
    result = json.loads(lines[0])
    built = result["built"]
    assert built["scheduler"] == "StepLR" and built["step_size"] == STEP_SIZE and built["gamma"] == GAMMA, built
    assert built["last_epoch"] == 0 and built["lr"] == BASE_LR, f"importing already stepped the scheduler: {built}"
    assert not built["lrlab_loaded"], "the exported script imports lrlab"
    assert_lrs(result["lrs"], "train() of the downloaded script")
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)


# ---- 2. the curve as data -----------------------------------------------------------------------


def test_curve_downloads_as_csv_and_json_hold_the_linked_schedule(linked_page: Any, tmp_path: Path) -> None:
    page = linked_page
    per_epoch = int(page.get_by_role("spinbutton", name="Steps per epoch", exact=True).input_value())
    panel = export_tab(page, "Data")

    name, text = download(page, panel, "Curve as CSV", tmp_path)
    assert name == "steplr_curve.csv"
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == ["step", "epoch", "lr"]
    rows = list(reader)
    assert len(rows) == STEPS
    assert [int(r["step"]) for r in rows] == list(range(STEPS))
    assert all(close(float(r["epoch"]), t / per_epoch) for t, r in enumerate(rows)), [r["epoch"] for r in rows[:5]]
    assert_lrs([float(r["lr"]) for r in rows], "the CSV's lr column")

    name, text = download(page, panel, "Curve as JSON", tmp_path)
    assert name == "steplr_curve.json"
    records = json.loads(text)
    assert isinstance(records, list) and len(records) == STEPS
    assert all(isinstance(r, dict) and list(r) == ["step", "epoch", "lr"] for r in records), records[:2]
    assert [r["step"] for r in records] == list(range(STEPS))
    assert all(close(r["epoch"], t / per_epoch) for t, r in enumerate(records)), records[:3]
    assert_lrs([r["lr"] for r in records], "the JSON's lr values")
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
