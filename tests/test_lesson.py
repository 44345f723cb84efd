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
from lrlab.specs import RunContext, format_value

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
    optimizer = torch.optim.SGD([param], lr=base_lr, momentum=0.9)  # momentum: CyclicLR / OneCycleLR cycle it
    factory = getattr(tls, name, None) or getattr(hfo, name)
    if name == "CyclicLR":  # its base_lr is the optimizer's lr of the chapter
        params = {"base_lr": base_lr, **params}
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


#: The lambdas of the stated examples, written here as Python (lrlab parses them from text).
STATED_LAMBDAS = {"0.8": lambda epoch: 0.8, "0.95 ** epoch": lambda epoch: 0.95**epoch}


def torch_params(chapter: lesson.Chapter, values: dict) -> dict:
    """The torch arguments for a chapter's settings, written out here for the chapters whose knobs
    are not themselves parameters (MultiStepLR's milestones, the lambdas)."""
    v = {k.param: k.default for k in chapter.knobs} | values
    fixed = dict(chapter.fixed)
    if chapter.slug == "multistep":
        return {**fixed, "milestones": [v["milestone_1"], v["milestone_2"]]}
    if chapter.slug == "multiplicative":
        hold, factor = v["hold"], v["factor"]
        return {"lr_lambda": lambda epoch: 1.0 if epoch <= hold else factor}
    if chapter.slug == "lambda":
        w = v["warmup"]
        return {"lr_lambda": lambda epoch: (epoch + 1) / w if epoch < w else math.sqrt(w / (epoch + 1))}
    return {**fixed, **v}


def stated_params(stated: lesson.Stated) -> dict:
    params = dict(stated.params)
    if "lr_lambda" in params:
        params["lr_lambda"] = STATED_LAMBDAS[params["lr_lambda"]]
    return params


def chapter_lrs(chapter: lesson.Chapter, values: dict, steps: int | None = None) -> np.ndarray:
    params = torch_params(chapter, values)
    return library_lrs(chapter.scheduler, params, chapter.base_lr, steps or chapter.steps, chapter.metrics)


def chapter_momentum(chapter: lesson.Chapter, values: dict, steps: int) -> np.ndarray:
    """SGD's momentum at each step of the chapter's scheduler (CyclicLR, OneCycleLR), built here."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=chapter.base_lr, momentum=0.9)
    params = torch_params(chapter, values)
    if chapter.scheduler == "CyclicLR":
        params = {"base_lr": chapter.base_lr, **params}
    scheduler = getattr(tls, chapter.scheduler)(optimizer, **params)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    return np.asarray(out)


# ---- content -------------------------------------------------------------------------------------------


def test_the_lesson_follows_the_course_outline_from_step_decay_to_cosine_warmup():
    assert [c.scheduler for c in lesson.CHAPTERS] == [
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "MultiplicativeLR",
        "LambdaLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "CyclicLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "get_linear_schedule_with_warmup",
        "get_cosine_schedule_with_warmup",
    ]
    assert len(set(SLUGS)) == 12 and all(slug == slug.lower() and " " not in slug for slug in SLUGS)


def test_every_scheduler_of_the_reference_articles_has_a_chapter():
    articles = {"StepLR", "MultiStepLR", "MultiplicativeLR", "LambdaLR", "ExponentialLR", "CosineAnnealingLR"}
    articles |= {"CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "ReduceLROnPlateau"}
    assert articles <= {c.scheduler for c in lesson.CHAPTERS}


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
        assert knob.low <= knob.default <= knob.high
        if chapter.build is not None:
            continue  # a number the chapter builds a parameter from: checked through the spec below
        param = spec.param(knob.param)  # KeyError if the scheduler has no such parameter
        for value in (knob.low, knob.default, knob.high):
            param.coerce(knob.clean(value), chapter.steps)  # LrlabError if the spec refuses it
    ctx = RunContext(steps=chapter.steps, base_lr=chapter.base_lr, group_lrs=(chapter.base_lr,))
    for end in ("low", "default", "high"):  # every knob at its bound at once: the spec accepts what is built
        values = {k.param: k.clean(getattr(k, end)) for k in chapter.knobs}
        spec.validate(lesson.scheduler_params(chapter, values), ctx)


# ---- the numbers from the reference -------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_the_stated_reference_numbers_are_what_the_real_library_gives(slug):
    stated = lesson.BY_SLUG[slug].stated
    steps = max(stated.steps) + 1
    lrs = library_lrs(stated.scheduler, stated_params(stated), stated.base_lr, steps, stated.metrics)
    assert stated.tolerance <= 1e-2  # no tolerance loose enough to hide a wrong number
    np.testing.assert_allclose(lrs[list(stated.steps)], stated.values, rtol=0, atol=stated.tolerance)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_live_column_of_the_reference_table_is_the_real_library_and_every_row_agrees(slug):
    stated = lesson.BY_SLUG[slug].stated
    steps = max(stated.steps) + 1
    lrs = library_lrs(stated.scheduler, stated_params(stated), stated.base_lr, steps, stated.metrics)
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
    ("multistep", {"milestone_1": 30, "milestone_2": 60}),
    ("multistep", {"milestone_1": 50, "milestone_2": 50}),
    ("multistep", {"milestone_1": 5, "milestone_2": 95}),
    ("multiplicative", {"hold": 20, "factor": 0.95}),
    ("multiplicative", {"hold": 0, "factor": 0.8}),
    ("multiplicative", {"hold": 50, "factor": 0.99}),
    ("lambda", {"warmup": 10}),
    ("lambda", {"warmup": 2}),
    ("lambda", {"warmup": 50}),
    ("cyclic", {"max_lr": 0.5, "step_size_up": 20}),
    ("cyclic", {"max_lr": 0.2, "step_size_up": 5}),
    ("cyclic", {"max_lr": 1.0, "step_size_up": 50}),
    ("one-cycle", {"pct_start": 0.3, "div_factor": 25}),
    ("one-cycle", {"pct_start": 0.1, "div_factor": 5}),
    ("one-cycle", {"pct_start": 0.45, "div_factor": 100}),
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
    elif slug == "multistep":
        lrs = chapter_lrs(chapter, values)
        cuts = tuple(int(t) for t in np.flatnonzero(lrs[1:] < lrs[:-1]) + 1)
        assert got.value == (cuts, pytest.approx(lrs[-1], rel=1e-15))
        # by hand: a cut at each distinct milestone; after both, two factors of γ = 0.1 (stacked when equal)
        milestones = (values["milestone_1"], values["milestone_2"])
        assert got.value == (tuple(sorted(set(milestones))), pytest.approx(0.1 * 0.1**2, rel=1e-12))
    elif slug == "multiplicative":
        lrs = chapter_lrs(chapter, values, 300)
        assert got.value == first_below(lrs, 0.5 * lrs[0], inclusive=True)
        hold, factor = values["hold"], values["factor"]
        assert got.value == hold + math.ceil(math.log(0.5) / math.log(factor))  # factorᵏ ≤ ½ after the hold
    elif slug == "lambda":
        lrs = chapter_lrs(chapter, values)
        peak = int(np.argmax(lrs))
        assert got.value == (peak, peak + first_below(lrs[peak:], lrs[peak] / 2, inclusive=True))
        w = values["warmup"]
        assert got.value == (w - 1, 4 * w - 1)  # λ = 1 at t + 1 = W; √(W / (t + 1)) = ½ at t + 1 = 4W
    elif slug == "cyclic":
        lrs = chapter_lrs(chapter, values)
        momentum = chapter_momentum(chapter, values, chapter.steps)
        tops = tuple(int(t) for t in np.flatnonzero(np.isclose(lrs, values["max_lr"], rtol=1e-12, atol=0)))
        assert got.value == (tops, momentum[tops[0]])
        u = values["step_size_up"]
        assert got.value == (tuple(range(u, chapter.steps, 2 * u)), pytest.approx(0.8))  # base_momentum at the top
    elif slug == "one-cycle":
        lrs = chapter_lrs(chapter, values)
        assert got.value == (lrs[0], int(np.argmax(lrs)))
        p, d = values["pct_start"], values["div_factor"]
        assert got.value == (pytest.approx(0.1 / d, rel=1e-12), round(100 * p) - 1)  # warm-up ends at p·N − 1
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
    assert ignored[0].startswith(
        "Invalid chapter ('nope'): must be one of step, multistep, exponential, multiplicative"
    )
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
    assert _progress_text(at) == f"Chapter {k} of {len(SLUGS)}: {chapter.title}"
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
    assert _header(at) == "2. Multi-step decay"
    assert at.query_params["chapter"] == ["multistep"] or at.query_params["chapter"] == "multistep"
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.1 ** ((x >= 30).astype(float) + (x >= 60)), rtol=1e-12)  # [30, 60]
    at.button(key="ls.next_bottom").click().run()
    assert _header(at) == "3. Exponential decay"
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.9 ** x.astype(float), rtol=1e-12)  # γ = 0.9 by default
    at.button(key="ls.prev").click().run()
    at.button(key="ls.prev").click().run()
    assert _header(at) == "1. Step decay" and _progress_text(at).startswith(f"Chapter 1 of {len(SLUGS)}")
    at.selectbox(key="ls.chapter").set_value("cosine-warmup").run()
    assert _header(at) == f"{len(SLUGS)}. Cosine with warm-up"
    assert at.button(key="ls.next").disabled and not at.button(key="ls.prev").disabled
    assert not at.exception


def test_a_bad_chapter_slug_shows_a_notice_and_chapter_one():
    at = _open({"chapter": "nope"})
    assert not at.exception
    assert _header(at) == "1. Step decay"
    notice = at.info[0].value
    assert "Invalid chapter ('nope')" in notice and "must be one of step, multistep, exponential" in notice


def test_slider_values_in_the_link_set_the_sliders_and_the_chart():
    at = _open({"chapter": "exponential", "gamma": "0.8"})
    assert at.number_input(key="ls.exponential.gamma").value == pytest.approx(0.8)
    assert at.slider(key="ls.exponential.gamma.slider").value == pytest.approx(0.8)
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.8 ** x.astype(float), rtol=1e-12)


def test_an_out_of_range_value_in_the_link_leaves_the_default_and_says_so():
    at = _open({"chapter": "exponential", "gamma": "5"})
    assert "Invalid gamma (5): must be a number in [0.8, 0.99]" in at.info[0].value
    assert at.number_input(key="ls.exponential.gamma").value == pytest.approx(0.9)


def test_moving_a_slider_changes_the_chart_the_question_the_answer_and_the_url():
    at = _open({"chapter": "exponential"})
    at.slider(key="ls.exponential.gamma.slider").set_value(0.8).run()
    assert at.number_input(key="ls.exponential.gamma").value == pytest.approx(0.8)  # the helper sets the box
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.8 ** x.astype(float), rtol=1e-12)
    texts = [m.value for m in at.markdown]
    assert any("With γ = 0.8, after how many steps" in t for t in texts)
    # by hand: 0.8²⁰ = 0.0115 > 0.01 > 0.8²¹ = 0.0092
    assert any(t.startswith("After **21** steps") for t in texts)
    assert at.query_params["gamma"] in ("0.8", ["0.8"])


def test_a_chapters_settings_are_kept_while_the_reader_visits_another_chapter():
    at = _open({"chapter": "exponential"})
    at.number_input(key="ls.exponential.gamma").set_value(0.85).run()
    at.button(key="ls.next").click().run()
    assert _header(at) == "4. Multiplicative decay"
    at.button(key="ls.prev").click().run()
    assert at.number_input(key="ls.exponential.gamma").value == pytest.approx(0.85)


def test_a_knob_typed_off_its_slider_grid_is_kept_exactly_and_reaches_the_curve_and_the_link():
    at = _open({"chapter": "exponential"})
    at.number_input(key="ls.exponential.gamma").set_value(0.8125).run()  # the slider's step is 0.01
    assert not at.exception and not at.error
    assert at.number_input(key="ls.exponential.gamma").value == 0.8125
    x, y = _library_trace(at)
    np.testing.assert_allclose(y, 0.1 * 0.8125 ** x.astype(float), rtol=1e-12)
    assert at.query_params["gamma"] in ("0.8125", ["0.8125"])
    assert _open({"chapter": "exponential", "gamma": "0.8125"}).number_input(key="ls.exponential.gamma").value == 0.8125


def test_a_knob_typed_out_of_its_range_is_kept_and_refused_naming_the_range():
    at = _open({"chapter": "exponential"})
    at.number_input(key="ls.exponential.gamma").set_value(0.5).run()
    assert not at.exception
    assert at.number_input(key="ls.exponential.gamma").value == 0.5  # not clamped to 0.8
    assert "Invalid gamma (0.5): must be a number in [0.8, 0.99]" in at.error[0].value


def test_the_legend_shows_a_lambda_expression_literally():
    # " <= " between spaces is one of the signs Streamlit's Markdown rewrites (to "≤"): escaped, it stays as typed
    at = _open({"chapter": "multiplicative"})
    (table,) = [m.value for m in at.markdown if m.value.startswith("| symbol")]
    row = next(line for line in table.splitlines() if "lr_lambda" in line)
    assert "epoch <\u2060= 20" in row and " <= " not in row, row


@pytest.mark.parametrize(
    ("slug", "values"),
    [
        ("exponential", {"gamma": 0.85}),
        ("warm-restarts", {"T_0": 7, "T_mult": 3}),
        ("cosine-warmup", {}),
        ("multistep", {"milestone_1": 50, "milestone_2": 50}),
        ("multiplicative", {"hold": 5, "factor": 0.9}),
        ("lambda", {"warmup": 4}),
        ("cyclic", {"max_lr": 0.3, "step_size_up": 7}),
        ("one-cycle", {"pct_start": 0.25, "div_factor": 10}),
    ],
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


# ---- the chapters added for the reference articles, on the page -------------------------------------------

#: What each new chapter's answer says for its default settings, worked out by hand (bold on the page).
NEW_CHAPTER_ANSWERS = {
    "multistep": ["At steps **30**, **60**", "uses **0.001**"],  # 0.1 · 0.1² after both milestones
    "multiplicative": ["At step **34**"],  # 20 held steps + ⌈ln ½ / ln 0.95⌉ = 20 + 14
    "lambda": ["at step **9**", "at step **39**"],  # W − 1 and 4W − 1 for W = 10
    "cyclic": ["At steps **20, 60, 100, 140, 180**", "**0.8**"],  # u, 3u, 5u, …; base_momentum at the top
    "one-cycle": ["uses **0.004**", "at step **29**"],  # 0.1 / 25; 0.3 · 100 − 1
}


@pytest.mark.parametrize("slug", list(NEW_CHAPTER_ANSWERS))
def test_a_new_chapter_shows_the_articles_numbers_beside_the_librarys_and_answers_from_the_library(slug):
    chapter = lesson.BY_SLUG[slug]
    stated = chapter.stated
    at = _open({"chapter": slug})
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert table["stated"].tolist() == list(stated.values)
    lrs = library_lrs(stated.scheduler, stated_params(stated), stated.base_lr, max(stated.steps) + 1)
    np.testing.assert_allclose(table["library"], lrs[list(stated.steps)], rtol=1e-12, atol=0)
    np.testing.assert_allclose(table["library"], stated.values, rtol=0, atol=stated.tolerance)
    assert table["agrees"].tolist() == ["✓"] * len(stated.steps)
    assert any(m.value.startswith("All ") and "agree with the library" in m.value for m in at.success)
    answer = next(e for e in at.expander if e.label == "Answer").markdown[0].value
    for part in NEW_CHAPTER_ANSWERS[slug]:
        assert part in answer, answer
    _, y = _library_trace(at)
    np.testing.assert_allclose(y, chapter_lrs(chapter, {}), rtol=1e-12, atol=0)


def test_the_article_examples_stated_in_the_new_chapters_are_the_articles_numbers():
    by_scheduler = {c.stated.scheduler: c.stated for c in lesson.CHAPTERS}
    assert by_scheduler["MultiStepLR"].values == (20.0,) * 5 + (8.0,) * 10 + (3.2,) * 5
    assert dict(by_scheduler["MultiStepLR"].params) == {"milestones": (5, 15), "gamma": 0.4}
    assert by_scheduler["MultiplicativeLR"].values == (100.0, 80.0, 64.0, 51.2)
    assert by_scheduler["LambdaLR"].values == (100.0, 95.0, 90.25)
    assert by_scheduler["StepLR"].base_lr == by_scheduler["MultiStepLR"].base_lr == 20.0
    assert by_scheduler["LambdaLR"].base_lr == by_scheduler["MultiplicativeLR"].base_lr == 100.0


def _scroll_scripts(at):
    """The scroll-to-top scripts on the page (the app's own style is an html element too)."""
    return [h for h in at.get("html") if "scrollTop" in h.proto.body]


def test_the_bottom_next_button_asks_the_browser_to_scroll_to_the_top_and_the_top_one_does_not():
    at = _open({"chapter": "exponential"})
    assert not _scroll_scripts(at)
    at.button(key="ls.next").click().run()
    assert _header(at) == "4. Multiplicative decay" and not _scroll_scripts(at)  # the reader is at the top already
    at.button(key="ls.next_bottom").click().run()
    assert _header(at) == "5. Any schedule: LambdaLR"
    (script,) = _scroll_scripts(at)
    assert "scrollTop = 0" in script.proto.body and script.proto.unsafe_allow_javascript
    at.slider(key="ls.lambda.warmup.slider").set_value(20).run()
    assert not _scroll_scripts(at)  # only once: moving a slider afterwards does not scroll
    at.button(key="ls.prev_bottom").click().run()
    assert _header(at) == "4. Multiplicative decay" and len(_scroll_scripts(at)) == 1
