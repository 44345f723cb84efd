"""The guided lesson: its content, its answers, its links, and the page in AppTest.

Expected values come from torch / transformers objects built and stepped here (never through lrlab),
or are worked out by hand in the test; the stated reference numbers are checked against the real
libraries, and the page is checked to show the libraries' values.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers.optimization as hfo
from streamlit.testing.v1 import AppTest
from torch.optim import lr_scheduler as tls

from lrlab import SCHEDULERS, LrlabError, lesson
from lrlab.specs import format_value

APP = Path(__file__).resolve().parents[1] / "app.py"
SLUGS = [c.slug for c in lesson.CHAPTERS]


# ---- the real libraries, stepped here ---------------------------------------------------------------


def library_lrs(
    name: str, params: dict, base_lr: float, steps: int, metrics: tuple[float, ...] | None = None
) -> np.ndarray:
    """The lr of each of ``steps`` optimizer steps, from the torch / transformers object built here.

    A metric-driven scheduler gets ``scheduler.step(metric)`` after each optimizer step (one evaluation
    per step), the others ``scheduler.step()``."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base_lr)
    factory = getattr(tls, name, None) or getattr(hfo, name)
    scheduler = factory(optimizer, **params)
    lrs = []
    for t in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if metrics is None:
            scheduler.step()
        elif t < len(metrics):
            scheduler.step(metrics[t])
    return np.asarray(lrs)


def chapter_lrs(chapter: lesson.Chapter, values: dict, steps: int | None = None) -> np.ndarray:
    params = {**dict(chapter.fixed), **values}
    return library_lrs(chapter.scheduler, params, chapter.base_lr, steps or chapter.steps, chapter.metrics)


# ---- content -------------------------------------------------------------------------------------------


def test_the_lesson_follows_the_course_outline_from_step_decay_to_cosine_warmup():
    assert [c.scheduler for c in lesson.CHAPTERS] == [
        "StepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "ReduceLROnPlateau",
        "get_linear_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
    ]
    assert len(set(SLUGS)) == 7 and all(slug == slug.lower() and " " not in slug for slug in SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_chapter_motivates_its_schedule_in_two_sentences(slug):
    first, second = lesson.BY_SLUG[slug].motivation
    for sentence in (first, second):
        assert len(sentence) > 40 and sentence[0].isupper() and sentence.endswith(".")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_knob_is_a_parameter_of_the_scheduler_and_its_range_is_allowed_by_the_spec(slug):
    chapter = lesson.BY_SLUG[slug]
    spec = SCHEDULERS[chapter.scheduler]
    assert 1 <= len(chapter.knobs) <= 2
    for knob in chapter.knobs:
        param = spec.param(knob.param)  # KeyError if the scheduler has no such parameter
        assert knob.low <= knob.default <= knob.high
        for value in (knob.low, knob.default, knob.high):
            param.coerce(knob.clean(value), chapter.steps)  # LrlabError if the spec refuses it


# ---- the numbers from the reference -------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_the_stated_reference_numbers_are_what_the_real_library_gives(slug):
    stated = lesson.BY_SLUG[slug].stated
    steps = max(stated.steps) + 1
    lrs = library_lrs(stated.scheduler, dict(stated.params), stated.base_lr, steps, stated.metrics)
    assert stated.tolerance <= 1e-2  # no tolerance loose enough to hide a wrong number
    np.testing.assert_allclose(lrs[list(stated.steps)], stated.values, rtol=0, atol=stated.tolerance)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_live_column_of_the_reference_table_is_the_real_library_and_every_row_agrees(slug):
    stated = lesson.BY_SLUG[slug].stated
    steps = max(stated.steps) + 1
    lrs = library_lrs(stated.scheduler, dict(stated.params), stated.base_lr, steps, stated.metrics)
    table = lesson.reference_table(stated)
    assert table["step"].tolist() == list(stated.steps)
    assert table["stated"].tolist() == list(stated.values)
    np.testing.assert_allclose(table["library"], lrs[list(stated.steps)], rtol=1e-12, atol=1e-15)
    assert set(table["agrees"]) == {"✓"}


def test_a_stated_value_the_library_does_not_give_is_marked_with_a_cross():
    stated = lesson.BY_SLUG["exponential"].stated
    wrong = dataclasses.replace(stated, values=(20.0, 8.0, 3.3, 1.28))  # 20 · 0.4² is 3.2, not 3.3
    assert lesson.reference_table(wrong)["agrees"].tolist() == ["✓", "✓", "✗", "✓"]


# ---- questions and answers, checked against the library stepped here ------------------------------


def first_below(lrs: np.ndarray, bound: float, *, inclusive: bool = False) -> int:
    return int(np.flatnonzero(lrs <= bound if inclusive else lrs < bound)[0])


ANSWER_CASES = [
    ("step", {"step_size": 20, "gamma": 0.5}),
    ("step", {"step_size": 5, "gamma": 0.1}),
    ("step", {"step_size": 50, "gamma": 0.9}),
    ("exponential", {"gamma": 0.9}),
    ("exponential", {"gamma": 0.8}),
    ("exponential", {"gamma": 0.99}),
    ("cosine-annealing", {"T_max": 100, "eta_min": 0.0}),
    ("cosine-annealing", {"T_max": 10, "eta_min": 0.05}),
    ("cosine-annealing", {"T_max": 150, "eta_min": 0.005}),
    ("warm-restarts", {"T_0": 20, "T_mult": 2}),
    ("warm-restarts", {"T_0": 2, "T_mult": 1}),
    ("warm-restarts", {"T_0": 7, "T_mult": 3}),
    ("plateau", {"patience": 3, "factor": 0.5}),
    ("plateau", {"patience": 0, "factor": 0.1}),
    ("plateau", {"patience": 10, "factor": 0.9}),
    ("linear-warmup", {"num_warmup_steps": 10, "num_training_steps": 100}),
    ("linear-warmup", {"num_warmup_steps": 0, "num_training_steps": 60}),
    ("linear-warmup", {"num_warmup_steps": 50, "num_training_steps": 150}),
    ("cosine-warmup", {"num_warmup_steps": 10, "num_training_steps": 100}),
    ("cosine-warmup", {"num_warmup_steps": 3, "num_training_steps": 60}),
    ("cosine-warmup", {"num_warmup_steps": 0, "num_training_steps": 150}),
]


@pytest.mark.parametrize(("slug", "values"), ANSWER_CASES, ids=[f"{s}-{v}" for s, v in ANSWER_CASES])
def test_the_answer_to_every_question_is_what_the_real_library_gives(slug, values):
    chapter = lesson.BY_SLUG[slug]
    got = lesson.answer(chapter, values)
    assert got.text
    if slug == "step":
        s, g = values["step_size"], values["gamma"]
        lrs = chapter_lrs(chapter, values, 3 * s + 1)
        cuts = np.flatnonzero(lrs[1:] < lrs[:-1]) + 1
        assert got.value == (int(cuts[2]), pytest.approx(lrs[cuts[2]], rel=1e-15))
        assert got.value == (3 * s, pytest.approx(0.1 * g**3, rel=1e-12))  # by hand: three multiples of s
    elif slug == "exponential":
        lrs = chapter_lrs(chapter, values, 1000)
        assert got.value == first_below(lrs, 0.01 * lrs[0])
        assert got.value == math.floor(math.log(0.01) / math.log(values["gamma"])) + 1  # γᵗ < 0.01
    elif slug == "cosine-annealing":
        T = values["T_max"]
        lrs = chapter_lrs(chapter, values, 2 * T + 1)
        assert lrs[2 * T] == pytest.approx(lrs[0], rel=1e-9)
        assert np.all(np.abs(lrs[1 : 2 * T] - lrs[0]) > 1e-9 * lrs[0])  # not back before 2·T_max
        assert got.value == 2 * T
    elif slug == "warm-restarts":
        lrs = chapter_lrs(chapter, values)
        assert got.value == tuple(int(t) for t in np.flatnonzero(lrs[1:] > lrs[:-1]) + 1)
        T0, m = values["T_0"], values["T_mult"]
        starts = [T0 * (m**n - 1) // (m - 1) if m > 1 else T0 * n for n in range(1, 200)]
        assert got.value == tuple(s for s in starts if s < chapter.steps)  # S_n = T_0 (T_multⁿ − 1)/(T_mult − 1)
    elif slug == "plateau":
        lrs = chapter_lrs(chapter, values)  # row e: the lr after evaluation (epoch) e
        first = int(np.flatnonzero(lrs[1:] < lrs[:-1])[0]) + 1
        assert got.value == (first, pytest.approx(lrs[first], rel=1e-15))
        # by hand: the loss is best at epoch 5, so patience + 1 bad epochs end at epoch 5 + patience + 1
        assert got.value == (6 + values["patience"], pytest.approx(0.1 * values["factor"], rel=1e-12))
    elif slug == "linear-warmup":
        lrs = chapter_lrs(chapter, values)
        W = values["num_warmup_steps"]
        assert got.value == (lrs[0], int(np.argmax(lrs)))
        assert got.value == ((0.0 if W > 0 else 0.1), W)
    elif slug == "cosine-warmup":
        lrs = chapter_lrs(chapter, values)
        peak = int(np.argmax(lrs))
        assert got.value == peak + first_below(lrs[peak:], lrs[peak] / 2, inclusive=True)
        W, N = values["num_warmup_steps"], values["num_training_steps"]
        assert got.value == W + math.ceil((N - W) / 2)  # cos(πp) ≤ 0 from p = ½ on


@pytest.mark.parametrize("slug", SLUGS)
def test_every_question_names_the_settings_it_is_asked_for(slug):
    chapter = lesson.BY_SLUG[slug]
    values = {k.param: k.clean(k.high) for k in chapter.knobs}
    text = lesson.question(chapter, values)
    assert text.endswith("?")
    for value in values.values():
        assert f"{value:g}" in text


# ---- links ---------------------------------------------------------------------------------------------


def test_a_link_selects_the_chapter_and_its_settings():
    chapter, values, ignored = lesson.settings_from_query({"chapter": "warm-restarts", "T_0": "10", "T_mult": "3"})
    assert chapter.slug == "warm-restarts" and values == {"T_0": 10, "T_mult": 3} and ignored == []


def test_a_link_without_a_chapter_opens_chapter_one_without_a_notice():
    chapter, values, ignored = lesson.settings_from_query({})
    assert chapter is lesson.CHAPTERS[0] and values == {} and ignored == []


def test_an_unknown_chapter_opens_chapter_one_and_says_which_chapters_exist():
    chapter, values, ignored = lesson.settings_from_query({"chapter": "nope", "gamma": "0.9"})
    assert chapter is lesson.CHAPTERS[0] and values == {}
    assert ignored[0].startswith("Invalid chapter ('nope'): must be one of step, exponential, cosine-annealing")
    assert "showing chapter 1" in ignored[0]
    assert ignored[1] == "gamma (for the unknown chapter)"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.5", "Invalid gamma (1.5): must be a number in [0.8, 0.99]"),
        ("abc", "Invalid gamma ('abc'): must be a number in [0.8, 0.99]"),
        ("NaN", "Invalid gamma (nan): must be a number in [0.8, 0.99]"),
        ("true", "Invalid gamma (True): must be a number in [0.8, 0.99]"),
        ("[0.9]", "Invalid gamma ([0.9]): must be a number in [0.8, 0.99]"),
    ],
)
def test_a_bad_value_in_a_link_is_ignored_with_a_message_naming_field_value_and_range(raw, message):
    chapter, values, ignored = lesson.settings_from_query({"chapter": "exponential", "gamma": raw})
    assert chapter.slug == "exponential" and values == {} and ignored == [message]


def test_a_fractional_step_count_and_a_foreign_key_in_a_link_are_ignored_and_the_rest_is_kept():
    query = {"chapter": "step", "step_size": "7.5", "gamma": "0.25", "T_max": "3"}
    chapter, values, ignored = lesson.settings_from_query(query)
    assert chapter.slug == "step" and values == {"gamma": 0.25}
    assert ignored == [
        "Invalid step_size (7.5): must be an integer in [5, 50]",
        "T_max (not a setting of chapter 1; its settings: step_size, gamma)",
    ]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_lessons_own_link_reads_back_as_the_same_chapter_and_settings(slug):
    chapter = lesson.BY_SLUG[slug]
    values = {k.param: k.clean(k.low) for k in chapter.knobs}
    query = {k: format_value(v) for k, v in lesson.lesson_query(chapter, values).items()}
    assert lesson.settings_from_query(query) == (chapter, values, [])


def test_settings_are_checked_before_a_schedule_is_built():
    chapter = lesson.BY_SLUG["step"]
    with pytest.raises(LrlabError, match=r"Invalid step_size \(0\): must be an integer in \[5, 50\]"):
        lesson.config(chapter, {"step_size": 0})
    with pytest.raises(LrlabError, match="Unknown setting 'T_max'"):
        lesson.config(chapter, {"T_max": 3})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8501/lesson", "http://127.0.0.1:8501/?scheduler=StepLR&gamma=0.5"),
        ("https://example.org/apps/lrlab/lesson", "https://example.org/apps/lrlab/?scheduler=StepLR&gamma=0.5"),
        (None, "/?scheduler=StepLR&gamma=0.5"),
    ],
)
def test_the_playground_link_goes_to_the_apps_default_page(url, expected):
    assert lesson.app_link(url, "lesson", {"scheduler": "StepLR", "gamma": 0.5}) == expected


# ---- the page (AppTest) ---------------------------------------------------------------------------------


def _open(query: dict[str, str] | None = None, page: str = "pages/lesson.py") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    return at.run()


def _array(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return data.reshape(value["shape"]) if "shape" in value else data
    return np.asarray(value)


def _library_trace(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    for trace in figure["data"]:
        if trace.get("name") == "library":
            return _array(trace["x"]).astype(np.int64), _array(trace["y"]).astype(np.float64)
    raise AssertionError("no library trace")


def _header(at: AppTest) -> str:
    return at.header[0].value


def _progress_text(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


@pytest.mark.parametrize("slug", SLUGS)
def test_every_chapter_opens_from_its_link_with_the_real_librarys_curve(slug):
    chapter = lesson.BY_SLUG[slug]
    k = SLUGS.index(slug) + 1
    at = _open({"chapter": slug})
    assert not at.exception and not at.error
    assert not at.info  # no notice: the link was valid
    assert _header(at) == f"{k}. {chapter.title}"
    assert _progress_text(at) == f"Chapter {k} of 7: {chapter.title}"
    assert at.latex[0].value.strip("$\n") == SCHEDULERS[chapter.scheduler].formula.strip()
    x, y = _library_trace(at)
    expected = chapter_lrs(chapter, {k.param: k.default for k in chapter.knobs})
    assert x.tolist() == list(range(chapter.steps))
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=0)
    table = at.dataframe[0].value
    assert table["agrees"].tolist() == ["✓"] * len(chapter.stated.steps)
    assert any(e.label == "Answer" for e in at.expander)


def test_next_and_previous_move_between_chapters_and_the_url_follows():
    at = _open()
    assert _header(at) == "1. Step decay"
    assert at.button(key="ls.prev").disabled and not at.button(key="ls.next").disabled
    at.button(key="ls.next").click().run()
    assert _header(at) == "2. Exponential decay"
    assert at.query_params["chapter"] == ["exponential"] or at.query_params["chapter"] == "exponential"
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.9 ** x.astype(float), rtol=1e-12)  # γ = 0.9 by default
    at.button(key="ls.next_bottom").click().run()
    assert _header(at) == "3. Cosine annealing"
    at.button(key="ls.prev").click().run()
    at.button(key="ls.prev").click().run()
    assert _header(at) == "1. Step decay" and _progress_text(at).startswith("Chapter 1 of 7")
    at.selectbox(key="ls.chapter").set_value("cosine-warmup").run()
    assert _header(at) == "7. Cosine with warm-up"
    assert at.button(key="ls.next").disabled and not at.button(key="ls.prev").disabled
    assert not at.exception


def test_a_bad_chapter_slug_shows_a_notice_and_chapter_one():
    at = _open({"chapter": "nope"})
    assert not at.exception
    assert _header(at) == "1. Step decay"
    notice = at.info[0].value
    assert "Invalid chapter ('nope')" in notice and "must be one of step, exponential" in notice


def test_slider_values_in_the_link_set_the_sliders_and_the_chart():
    at = _open({"chapter": "exponential", "gamma": "0.8"})
    assert at.slider(key="ls.exponential.gamma").value == pytest.approx(0.8)
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.8 ** x.astype(float), rtol=1e-12)


def test_an_out_of_range_value_in_the_link_leaves_the_default_and_says_so():
    at = _open({"chapter": "exponential", "gamma": "5"})
    assert "Invalid gamma (5): must be a number in [0.8, 0.99]" in at.info[0].value
    assert at.slider(key="ls.exponential.gamma").value == pytest.approx(0.9)


def test_moving_a_slider_changes_the_chart_the_question_the_answer_and_the_url():
    at = _open({"chapter": "exponential"})
    at.slider(key="ls.exponential.gamma").set_value(0.8).run()
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.8 ** x.astype(float), rtol=1e-12)
    texts = [m.value for m in at.markdown]
    assert any("With γ = 0.8, after how many steps" in t for t in texts)
    # by hand: 0.8²⁰ = 0.0115 > 0.01 > 0.8²¹ = 0.0092
    assert any(t.startswith("After **21** steps") for t in texts)
    assert at.query_params["gamma"] in ("0.8", ["0.8"])


def test_a_chapters_settings_are_kept_while_the_reader_visits_another_chapter():
    at = _open({"chapter": "exponential"})
    at.slider(key="ls.exponential.gamma").set_value(0.85).run()
    at.button(key="ls.next").click().run()
    assert _header(at) == "3. Cosine annealing"
    at.button(key="ls.prev").click().run()
    assert at.slider(key="ls.exponential.gamma").value == pytest.approx(0.85)


@pytest.mark.parametrize(
    ("slug", "values"),
    [("exponential", {"gamma": 0.85}), ("warm-restarts", {"T_0": 7, "T_mult": 3}), ("cosine-warmup", {})],
)
def test_open_in_playground_shows_the_same_curve_on_the_playground(slug, values):
    chapter = lesson.BY_SLUG[slug]
    query = {k: format_value(v) for k, v in lesson.playground_query(chapter, values).items()}
    at = _open(query, page="pages/playground.py")
    assert not at.exception and not at.info, [i.value for i in at.info]
    x, y = _library_trace(at)
    expected = chapter_lrs(chapter, {k.param: k.default for k in chapter.knobs} | values)
    assert x.tolist() == list(range(chapter.steps))
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=0)
