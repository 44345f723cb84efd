"""The Translate page in AppTest: it opens on a translation into every library, follows the source,
refuses a run too long to translate by naming steps (the last good translation stays), takes an imported
training_args.json, and its link carries the libraries chosen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lrlab.specs import LIBRARIES
from lrlab.translating.engine import MAX_TRANSLATE_STEPS

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/translate.py"
HF_COSINE = {
    "scheduler": "get_cosine_schedule_with_warmup",
    "steps": "100",
    "base_lr": "0.001",
    "num_warmup_steps": "10",
    "num_training_steps": "100",
}


def open_translate(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240).run()
    at.query_params.clear()  # a browser clears the Playground's query when it moves to another page
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def verdicts(at: AppTest) -> dict[str, tuple[str, str]]:
    """library → (verdict, counterpart) as the verdict table shows them."""
    table = at.dataframe[0].value
    return {row["library"]: (row["verdict"], row["counterpart"]) for _, row in table.iterrows()}


def traces(at: AppTest) -> list[dict]:
    return json.loads(at.get("plotly_chart")[0].proto.spec)["data"]


def test_the_page_opens_on_a_translation_into_every_library_with_one_curve_per_counterpart():
    at = open_translate()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Translate"
    table = verdicts(at)
    assert list(table) == list(LIBRARIES)
    assert table["transformers"] == ("✓ exact", "get_cosine_schedule_with_warmup")  # the source itself
    assert all(v.split()[-1] in ("exact", "closest", "none") for v, _ in table.values())
    names = [t["name"] for t in traces(at) if t.get("xaxis", "x") == "x"]
    drawn = [lib for lib, (verdict, _) in table.items() if not verdict.endswith("none")]
    assert names[0].startswith("source: transformers")
    assert [n.split(":")[0] for n in names[1:]] == drawn
    assert len([t for t in traces(at) if t.get("xaxis") == "x2"]) == len(drawn)  # one difference per counterpart


def test_changing_the_source_scheduler_changes_the_verdicts():
    at = open_translate()
    before = verdicts(at)
    at.selectbox(key="tl.scheduler").set_value("StepLR").run()
    assert not at.exception, [e.value for e in at.exception]
    after = verdicts(at)
    assert after != before
    assert after["torch"] == ("✓ exact", "StepLR")
    assert traces(at)[0]["name"] == "source: torch StepLR"


def test_a_run_too_long_to_translate_is_refused_by_name_and_the_last_translation_stays():
    at = open_translate()
    chart = traces(at)
    too_long = MAX_TRANSLATE_STEPS + 1
    at.number_input(key="tl.steps").set_value(too_long).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "steps" in errors[0] and str(too_long) in errors[0], errors
    assert f"{MAX_TRANSLATE_STEPS:,}" in errors[0]
    assert at.number_input(key="tl.steps").value == too_long  # refused, never clamped
    assert traces(at) == chart
    assert any("last valid settings" in i.value for i in at.info)


def test_the_libraries_chosen_are_the_rows_and_travel_in_the_link():
    at = open_translate(HF_COSINE)
    at.multiselect(key="tl.to").set_value(["optax", "torch"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(verdicts(at)) == ["torch", "optax"]
    assert at.query_params["to"] in ("torch,optax", ["torch,optax"])
    restored = open_translate({**HF_COSINE, "to": "torch,optax"})
    assert restored.multiselect(key="tl.to").value == ["torch", "optax"]
    assert verdicts(restored)["optax"][0] == "✓ exact"
    assert not [i.value for i in restored.info if "ignored" in i.value]


@pytest.mark.parametrize("bad", ["torch,tensorflow", "all"])
def test_an_unknown_library_in_the_link_is_named_in_the_notice(bad):
    at = open_translate({**HF_COSINE, "to": bad})
    assert not at.exception
    notice = " ".join(i.value for i in at.info if "ignored" in i.value).replace("\\", "")
    assert f"to={bad}" in notice, notice
    assert at.multiselect(key="tl.to").value == list(LIBRARIES)


def test_an_imported_training_args_json_is_translated():
    at = open_translate({"scheduler": "StepLR"})
    args = {"lr_scheduler_type": "cosine", "warmup_steps": 10, "max_steps": 100, "learning_rate": 0.001}
    at.session_state["tl.import_open"] = True  # open "Import a config"
    at.run()
    at.text_area(key="tl.import_text").set_value(json.dumps(args)).run()
    at.button(key="tl.import_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="tl.scheduler").value == "get_cosine_schedule_with_warmup"
    assert at.number_input(key="tl.steps").value == 100
    assert verdicts(at)["transformers"] == ("✓ exact", "get_cosine_schedule_with_warmup")
    assert verdicts(at)["torch"][0] == "✓ exact"


def test_each_counterpart_has_its_code_in_its_own_library_idiom():
    at = open_translate(HF_COSINE)
    code = [c.value for c in at.code if "import" in c.value]
    assert any("optax" in c for c in code) and any("keras" in c for c in code)
    assert any("lr_scheduler" in c or "LambdaLR" in c for c in code)
    downloads = [b.proto.label for b in at.get("download_button")]
    assert any("optax code" in label for label in downloads), downloads
