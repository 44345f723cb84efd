"""My run in a real browser: a real transformers ``Trainer`` run (a tiny linear model, 160 micro-batches,
``gradient_accumulation_steps=4``, ``logging_steps=1``, cosine with warm-up) writes its
``trainer_state.json``; the test uploads that file, sets the plan the way a user who counts micro-batches
would (160 steps, base lr 0.1: the warm-up follows as 16 steps), and reads the diagnosis off the page:
gradient accumulation by 4, the corrected plan drawn over the log with no remaining error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ALERT,
    EXCEPTION,
    PAGE_TIMEOUT_MS,
    page_errors_text,
    plotly_traces,
    set_number,
    wait_for_chart,
    wait_until,
)

pytestmark = pytest.mark.e2e

MICRO_BATCHES = 160
ACCUMULATION = 4
LR = 0.1
#: the first visit imports the libraries on the server; the diagnosis and the identification step real schedulers
FIRST_VISIT_MS = 120_000
DIAGNOSIS_MS = 120_000


@pytest.fixture(scope="module")
def trainer_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trainer_state.json of a real Trainer run with gradient accumulation 4."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    out = tmp_path_factory.mktemp("trainer")

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
            return {"loss": (self.linear(x).squeeze(-1) - labels).pow(2).mean()}

    torch.manual_seed(0)
    data = [{"x": torch.randn(2), "labels": torch.tensor(0.5)} for _ in range(MICRO_BATCHES)]
    args = transformers.TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=1,
        gradient_accumulation_steps=ACCUMULATION,
        num_train_epochs=1,
        learning_rate=LR,
        lr_scheduler_type="cosine",
        warmup_steps=MICRO_BATCHES // ACCUMULATION // 10,  # 0.1 of the 40 optimizer steps
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(model=Tiny(), args=args, train_dataset=data)
    trainer.train()
    path = out / "trainer_state.json"
    trainer.state.save_to_json(str(path))
    return path


def alert_texts(page: Any) -> list[str]:
    return page.locator(ALERT).all_inner_texts()


def test_an_uploaded_trainer_state_is_diagnosed_as_gradient_accumulation_by_4(
    page: Any, base_url: str, trainer_state: Path
) -> None:
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    # straight to the page, as a shared link opens it (url_path "my_run" is also the file's name, so even a
    # server no session has opened yet knows it)
    page.goto(base_url + "/my_run")
    wait_for_chart(page, timeout_ms=FIRST_VISIT_MS)

    uploader = page.locator("[data-testid='stFileUploader']", has_text="Upload a log")
    uploader.locator("input[type='file']").set_input_files(str(trainer_state))
    wait_until(
        page,
        lambda: any("What was read from trainer_state.json" in t for t in page.locator("summary").all_inner_texts()),
        "the page to read the uploaded trainer_state.json",
        DIAGNOSIS_MS,
    )

    # the plan: 160 steps (the micro-batches), the Trainer's learning rate; the warm-up follows as 16 steps
    set_number(page, "Steps", MICRO_BATCHES)
    wait_until(
        page,
        lambda: page.get_by_role("spinbutton", name="num_warmup_steps", exact=True).input_value() == "16",
        "the warm-up to follow the run (16 steps)",
    )
    set_number(page, "Base LR", LR)

    def diagnosis() -> str | None:
        return next((t for t in alert_texts(page) if "accumulation by 4" in t), None)

    text = wait_until(page, diagnosis, "the diagnosis naming gradient accumulation by 4", DIAGNOSIS_MS)
    assert "Gradient accumulation by 4" in text and "Remaining difference 0" in text, text

    def overlaid() -> list[str] | None:
        names = [t["name"] for t in plotly_traces(page) or []]
        return names if "corrected: accumulation (remaining 0)" in names else None

    names = wait_until(page, overlaid, "the corrected plan drawn over the log", DIAGNOSIS_MS)
    assert "logged lr" in names and names[0].startswith("plan: transformers get_cosine_schedule_with_warmup")
    logged = next(t for t in plotly_traces(page) if t["name"] == "logged lr")
    assert logged["x"] == list(range(MICRO_BATCHES // ACCUMULATION))  # logging_steps=1: every update, rows 0…39
    assert page.locator(EXCEPTION).count() == 0, page_errors_text(page)
