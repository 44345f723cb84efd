"""The My run page in AppTest: it opens on the plan alone; its example log (a Trainer run with gradient
accumulation 4) is diagnosed as accumulation by 4 with the corrected plan overlaid, and identified as
transformers' cosine with warm-up; a malformed upload is refused by naming the field while the last log
read stays; the resume simulator draws the three resumes beside the uninterrupted run, and its settings
and the example travel in the link (an upload does not)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lrlab.diagnosing import diagnose
from lrlab.logs import read
from lrlab.run_plots import EXAMPLES, example_log

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/my_run.py"


def open_my_run(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240).run()
    at.query_params.clear()  # a browser clears the Playground's query when it moves to another page
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def names(figure: dict) -> list[str]:
    return [t.get("name") for t in figure["data"]]


def alerts(at: AppTest) -> str:
    return "\n".join(a.value for kind in ("warning", "success", "error", "info") for a in getattr(at, kind))


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_the_page_opens_on_the_plan_alone_and_asks_for_a_log():
    at = open_my_run()
    no_exception(at)
    assert at.title[0].value == "My run"
    assert "Upload a log, or try an example" in alerts(at)
    assert names(figures(at)[0]) == ["plan: transformers get_cosine_schedule_with_warmup"]
    assert not at.metric  # no diagnosis without a log


def test_the_example_trainer_run_is_diagnosed_as_gradient_accumulation_by_4():
    at = open_my_run()
    at.segmented_control(key="mr.example").set_value("accumulation").run()
    no_exception(at)
    summary = at.warning[0].value
    assert "accumulation by 4" in summary and "Remaining difference 0" in summary
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["First differing step"] == "4"  # the first logged row (logging_steps=5: row 4)
    assert metrics["Log's precision"] == "1e-09"
    chart = figures(at)[0]
    assert names(chart)[:3] == [
        "plan: transformers get_cosine_schedule_with_warmup",
        "logged lr",
        "corrected: accumulation (remaining 0)",
    ]
    # the page's link carries the example and the plan it meant, never an uploaded file
    assert at.query_params["example"] == "accumulation"
    assert at.query_params["num_warmup_steps"] == "40" and at.query_params["steps"] == "400"


def test_turning_the_overlay_off_leaves_the_plan_and_the_log():
    at = open_my_run({"example": "accumulation"})
    at.toggle(key="mr.corrected").set_value(False).run()
    no_exception(at)
    assert names(figures(at)[0])[:2] == ["plan: transformers get_cosine_schedule_with_warmup", "logged lr"]
    assert not any(n and n.startswith("corrected") for n in names(figures(at)[0]))
    assert at.query_params["corrected"] == "false"


@pytest.mark.parametrize("key", ["resume", "per_epoch"])
def test_each_other_example_is_diagnosed_as_its_injected_cause(key):
    at = open_my_run()
    at.segmented_control(key="mr.example").set_value(key).run()
    no_exception(at)
    example = EXAMPLES[key]
    assert at.selectbox(key="mr.scheduler").value == example.plan.scheduler
    assert f"corrected: {example.cause} (remaining 0)" in names(figures(at)[0])


def test_the_example_logs_are_read_and_diagnosed_by_lrlab_as_the_page_does():
    for key, example in EXAMPLES.items():
        data, name = example_log(key)
        diagnosis = diagnose(example.plan, read(data, name=name))
        found = [c for c in diagnosis.causes if c.name == example.cause]
        assert found, (key, diagnosis.summary)
        assert all(found[0].numbers.get(k) == v for k, v in example.numbers.items()), found[0].numbers
        assert found[0].remaining <= diagnosis.precision


def test_the_example_is_identified_as_transformers_cosine_with_warmup_and_can_become_the_plan():
    at = open_my_run({"example": "accumulation"})
    no_exception(at)
    table = at.dataframe[0].value
    best = table.iloc[0]
    assert (best["library"], best["schedule"], best["verdict"]) == (
        "transformers",
        "get_cosine_schedule_with_warmup",
        "✓ exact",
    )
    assert "num_warmup_steps=10" in best["parameters"] and "num_training_steps=100" in best["parameters"]
    export = at.code[0].value  # its export, one click away: the Trainer's arguments for this schedule
    assert 'get_scheduler("cosine", optimizer, num_warmup_steps=10, num_training_steps=100' in export
    at.button(key="mr.candidate.0").click().run()
    no_exception(at)
    assert at.number_input(key="mr.get_cosine_schedule_with_warmup.num_warmup_steps").value == 10
    assert "follows the plan" in at.success[0].value  # the log against the schedule it is


def test_a_malformed_upload_is_refused_naming_the_field_and_the_last_log_stays():
    at = open_my_run()
    at.session_state["lrlab.share"] = True  # the share box open: it says what the link can't carry
    good, _ = example_log("accumulation")
    at.file_uploader(key="mr.upload").set_value(("trainer_state.json", good, "application/json")).run()
    no_exception(at)
    assert "accumulation by 4" in alerts(at)
    assert "This link does not carry your uploaded log" in alerts(at)
    at.file_uploader(key="mr.upload").set_value(
        ("trainer_state.json", b'{"log_history": {"step": 1}}', "application/json")
    ).run()
    no_exception(at)
    assert "log_history" in at.error[0].value  # the field, named
    assert "Showing the last log read" in alerts(at)
    assert "accumulation by 4" in alerts(at)  # the last good diagnosis stays
    assert "example" not in at.query_params  # an upload does not travel in the link


def test_an_upload_that_is_not_json_is_refused_naming_the_file_and_the_field():
    at = open_my_run()
    at.file_uploader(key="mr.upload").set_value(("trainer_state.json", b'{"log_history": [', "application/json")).run()
    no_exception(at)
    message = at.error[0].value
    assert "trainer_state.json" in message and "not valid JSON" in message and "(field: log)" in message
    assert "Upload a log" not in alerts(at)  # a log was given: the page says what is wrong with it, not to upload


def test_the_resume_simulator_draws_three_resumes_beside_the_uninterrupted_run():
    at = open_my_run()
    no_exception(at)
    resume = figures(at)[-1]
    assert names(resume) == [
        "uninterrupted",
        "resumed with load_state_dict (correct)",
        "rebuilt with last_epoch=r",
        "resumed with a new total",
    ]
    ys = {t["name"]: t["y"] for t in resume["data"]}
    assert all(ys[n] for n in ys)
    assert "leaves the uninterrupted run at step 100" in at.warning[0].value  # last_epoch, r = 100
    assert "scheduler.load_state_dict(checkpoint" in at.code[-1].value


def test_the_resume_settings_travel_in_the_link_and_come_back():
    at = open_my_run()
    at.number_input(key="mr.resume_at").set_value(150).run()
    at.radio(key="mr.resume_how").set_value("load_state_dict").run()
    no_exception(at)
    assert at.query_params["resume_at"] == "150" and at.query_params["resume_how"] == "load_state_dict"
    again = open_my_run({"resume_at": "150", "resume_how": "load_state_dict"})
    no_exception(again)
    assert again.number_input(key="mr.resume_at").value == 150
    assert "the same curve as the uninterrupted run" in again.success[0].value


def test_a_resume_past_the_end_of_the_run_names_at_and_keeps_the_last_curves():
    at = open_my_run()
    at.number_input(key="mr.resume_at").set_value(5000).run()
    no_exception(at)
    assert any("at" in e.value and "5000" in e.value for e in at.error), [e.value for e in at.error]
    assert "Showing the last valid resume" in alerts(at)
    assert len(names(figures(at)[-1])) == 4


def test_a_schedule_of_another_library_is_refused_by_the_resume_simulator_naming_the_scheduler():
    at = open_my_run({"scheduler": "optax:cosine_decay_schedule", "steps": "200"})
    no_exception(at)
    assert any("scheduler" in i.value and "resume simulator" in i.value for i in at.info), alerts(at)


def test_the_chart_draws_the_logged_rows_where_the_log_has_them():
    at = open_my_run({"example": "accumulation"})
    trace = next(t for t in figures(at)[0]["data"] if t["name"] == "logged lr")
    x = trace["x"]
    if isinstance(x, dict):
        import base64

        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
    assert list(np.asarray(x, dtype=int)) == list(range(4, 100, 5))  # trainer steps 5, 10, … are rows 4, 9, …


def test_the_playground_links_its_schedule_to_my_run_as_the_plan():
    """From any schedule on the Playground, one link opens My run with it as the plan."""
    from urllib.parse import parse_qs

    at = AppTest.from_file(str(APP), default_timeout=240)
    at.switch_page("pages/playground.py")
    at.query_params.update({"scheduler": "StepLR", "steps": "120", "base_lr": "0.5", "step_size": "7"})
    at.run()
    assert not at.exception
    text = next(m.value for m in at.markdown if "Check a logged run against this plan" in m.value)
    target = text.split("](", 1)[1].split(")", 1)[0]
    assert target.startswith("my_run?")
    query = {k: v[0] for k, v in parse_qs(target.split("?", 1)[1]).items()}
    assert query["scheduler"] == "StepLR" and query["step_size"] == "7"
    mine = open_my_run(query)
    assert not mine.exception
    assert mine.session_state["mr.scheduler"] == "StepLR"
    assert mine.session_state["mr.steps"] == 120 and mine.session_state["mr.base_lr"] == 0.5
