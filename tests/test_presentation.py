"""What a new user sees: messages show user text literally, lists in the formula legend, step lines
drawn the same way on every chart (and exactly, when decimated), readable hover labels, marker labels
that don't collide, HF warm-up values checked as transformers checks them, the Custom page's link keys.
"""

import html
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from lrlab import LrlabError, ScheduleConfig
from lrlab.expr import parse
from lrlab.io import ConfigWarning, from_training_args, import_config
from lrlab.lab_plots import finder_figure, training_figure
from lrlab.pitfalls import PITFALLS, figure, marker_labels, run
from lrlab.pitfalls import Marker as PitfallMarker
from lrlab.plots import MAX_POINTS, compare_figure, difference_figure, lr_figure
from lrlab.simulate import simulate
from lrlab.training import Run
from lrlab.ui.text import plain

APP = Path(__file__).resolve().parents[1] / "app.py"
# CommonMark with GFM's tables and strike-through: an independent reader of what the Markdown says
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def shown(markdown: str) -> str:
    """The text a reader sees once ``markdown`` is rendered (invisible word joiners dropped)."""
    rendered = MARKDOWN.render(markdown).replace("<br />\n", "\n")
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip("\n").replace("\u2060", "")


# ---- messages show user text literally --------------------------------------------------------------

NASTY = [
    "__import__('os').system('ls')",
    "().__class__.__bases__",
    "x*2*y and **bold** and _it_ and ~~gone~~",
    "`code` and ``more``",
    "# a heading",
    "- a list",
    "+ a list",
    "1. a list",
    "2) a list",
    "> a quote",
    "<b>bold</b> <script>x</script> <https://example.com>",
    "&amp; &#35; &lt;",
    "[a link](https://example.com) ![an image](x.png) [ref]: https://x",
    "a | b\n--|--\n1 | 2",
    "$x^2$ and $$y$$ cost $5",
    ":red[red] :blue-badge[b] :small[s] :help[h] :material/home: :smile: :streamlit:",
    "a <= b -> c <- d <-> e -- f >= g ~= h",
    "www.example.com https://example.com a@b.co",
    "---",
    "===",
    "***",
    "___",
    "back\\slash \\* \\_",
    "line one\nline two",
]


@pytest.mark.parametrize("text", NASTY)
def test_plain_text_reads_back_exactly_as_written_once_rendered_as_markdown(text):
    assert shown(plain(text)) == text


def test_plain_leaves_ordinary_message_text_as_it_is():
    message = "Invalid T_max (300,000): must be a number in [0.8, 0.99], e.g. lr_lambda or steps=-3"
    assert plain(message) == message


def test_plain_breaks_streamlits_own_rewrites_with_invisible_joiners_only():
    escaped = plain("a <= b -> c :streamlit:")
    assert escaped.replace("\u2060", "").replace("\\", "") == "a <= b -> c :streamlit:"
    assert "<=" not in escaped and "->" not in escaped and ":streamlit:" not in escaped.replace("\\", "")


def test_plain_escapes_every_emoji_shaped_short_code_so_streamlit_does_not_load_emoji():
    # Streamlit loads remark-emoji only when the source matches this test (its frontend, verbatim)
    emoji_test = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")
    assert not emoji_test.search(plain("a :smile: b :+1: c :x-y:"))


def _custom_page_with(expression: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("pages/custom.py").run()
    at.text_input(key="cu.LambdaLR.expr_0").set_value(expression).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("expression", ["__import__('os')", "().__class__"])
def test_an_expression_error_shows_the_typed_double_underscores_literally(expression):
    at = _custom_page_with(expression)
    with pytest.raises(LrlabError) as raised:
        parse(expression, field="lr_lambda")
    errors = [e.value for e in at.error]
    assert errors, "a refused expression gets an error"
    assert shown(errors[0]) == str(raised.value)
    assert expression in shown(errors[0]) and "<strong>" not in MARKDOWN.render(errors[0])


def test_a_link_notice_shows_the_ignored_value_literally():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["scheduler"] = "__no_such__"
    at.run()
    notice = next(i.value for i in at.info if "ignored" in i.value)
    assert "scheduler=__no_such__" in shown(notice)


# ---- the formula legend -------------------------------------------------------------------------


def test_the_multisteplr_legend_shows_every_milestone():
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"scheduler": "MultiStepLR", "steps": "30", "milestones": "[5, 15]"}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    legend = next(m.value for m in at.markdown if m.value.startswith("| symbol |"))
    row = next(line for line in legend.splitlines() if "milestones" in line.lower())
    assert row.rstrip().endswith("| [5, 15] |"), row


# ---- step lines on every chart ------------------------------------------------------------------


def _curve(name: str, params=None, **run):
    return simulate(ScheduleConfig.make(name, params or {}, **run))


def _metric_curve():
    config = ScheduleConfig.make("ReduceLROnPlateau", {"patience": 2}, steps=60)
    return simulate(config, metrics=np.ones(60), eval_every=1)  # a flat metric: the lr is cut


def _training_run(curve) -> Run:
    lr = curve.frame["lr"].tolist()
    return Run(
        "StepLR",
        curve.config,
        steps=len(lr),
        steps_per_epoch=10,
        lr=lr,
        train_loss=list(np.linspace(2.3, 0.4, len(lr))),
        val_loss=[1.0, 0.8],
        val_accuracy=[0.5, 0.7],
    )


def _lr_figures():
    """Every figure builder that draws an lr, with the traces of it that are lrs (or held per step)."""
    step = _curve("StepLR", {"step_size": 30}, steps=100)
    onecycle = _curve("OneCycleLR", {"max_lr": 0.1}, steps=100)
    yield "lr_figure", lr_figure(step), None
    yield "lr_figure with momentum", lr_figure(onecycle), None
    yield "lr_figure with a metric", lr_figure(_metric_curve()), None
    yield "lr_figure over epochs", lr_figure(step, x_axis="epoch"), None
    yield "compare_figure", compare_figure([("a", "#1f77b4", step), ("b", "#ff7f0e", onecycle)]), None
    yield "difference_figure", difference_figure(("a", step), ("b", onecycle)), None
    yield "training_figure", training_figure([_training_run(step)]), ("x", "y")  # its lr panel
    for pitfall_id in PITFALLS:
        if pitfall_id != "lightning-epoch-interval":  # needs lightning; its figure is the same builder
            yield f"pitfall {pitfall_id}", figure(run(pitfall_id)), None


LR_FIGURES = list(_lr_figures())


@pytest.mark.parametrize(("name", "fig", "axes"), LR_FIGURES, ids=[f[0] for f in LR_FIGURES])
def test_every_lr_trace_of_every_figure_is_drawn_as_a_step_line(name, fig, axes):
    lines = [t for t in fig.data if t.type == "scatter" and "lines" in (t.mode or "")]
    if axes is not None:
        lines = [t for t in lines if (t.xaxis or "x", t.yaxis or "y") == axes]
    assert lines, name
    assert {t.name: t.line.shape for t in lines} == {t.name: "hv" for t in lines}


def _unvalidated_figures():
    """Figures lrlab.plots builds as plain data (without Plotly's validation), in every variant."""
    yield from ((name, fig) for name, fig, _ in LR_FIGURES if not name.startswith(("training", "pitfall")))
    stopped = _curve("OneCycleLR", {"max_lr": 0.1, "total_steps": 40}, steps=60)  # torch stops at 41
    assert stopped.stopped_at is not None
    yield "lr_figure, the library stops", lr_figure(stopped, log_y=True)
    groups = _curve("LambdaLR", {"lr_lambda": ["0.95 ** epoch", "1 / (epoch + 1)"]}, steps=50, group_lrs=(0.2,))
    yield "lr_figure, two param groups", lr_figure(groups, x_axis="epoch", show_closed=False)
    yield "difference_figure ÷", difference_figure(("a", groups), ("b", stopped), mode="ratio")


@pytest.mark.parametrize(("name", "fig"), list(_unvalidated_figures()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_figure_built_as_data_passes_plotlys_own_validation_unchanged(name, fig):
    """lrlab.plots skips Plotly's validation at run time (it costs ~30 ms a rerun): Plotly's validators
    must accept every property of every variant here, and change nothing."""
    spec = fig.to_dict()
    validated = go.Figure(spec)  # raises ValueError on an invalid property or value
    assert json.loads(pio.to_json(validated)) == json.loads(pio.to_json(fig, validate=False)), name


@pytest.mark.parametrize(("name", "fig"), list(_unvalidated_figures()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_figure_built_as_data_gives_plotlys_own_dict(name, fig):
    """lrlab's figures hand st.plotly_chart a cheaper to_dict() (containers copied, arrays shared, the
    template not walked): it must be Plotly's to_dict() to the byte, after an explain marker is added
    (a mutation after building), and leave the figure's own arrays as they were."""
    fig.add_vline(x=3)
    y_before = np.array(fig.data[0].y, copy=True)
    assert type(fig) is not go.Figure and type(fig).to_dict is not go.Figure.to_dict, name  # the fast path is tested
    ours, plotlys = fig.to_dict(), go.Figure.to_dict(fig)
    assert pio.to_json(ours, validate=False) == pio.to_json(plotlys, validate=False), name
    assert isinstance(ours["data"][0]["y"], dict) and "bdata" in ours["data"][0]["y"], name  # encoded, as Plotly's
    np.testing.assert_array_equal(np.asarray(fig.data[0].y), y_before)


def _drawn(trace, t: np.ndarray) -> np.ndarray:
    """The value a step line (shape "hv") through the trace's points has at each x in ``t``."""
    x, y = np.asarray(trace.x, dtype=np.float64), np.asarray(trace.y, dtype=np.float64)
    return y[np.searchsorted(x, t, side="right") - 1]


@pytest.mark.parametrize(
    ("name", "params", "run"),
    [
        ("StepLR", {"step_size": 7_000, "gamma": 0.5}, {"steps": 100_000}),
        # stepped once per 60-step epoch: 1666 drops, often two in one bucket (min/max alone miss ~20k steps)
        ("StepLR", {"step_size": 1, "gamma": 0.999}, {"steps": 100_000, "steps_per_epoch": 60, "interval": "epoch"}),
    ],
    ids=["StepLR every 7000 steps", "StepLR stepped per 60-step epoch"],
)
def test_a_decimated_step_shaped_curve_is_drawn_exactly_at_every_step(name, params, run):
    curve = _curve(name, params, **run)
    fig = lr_figure(curve, show_closed=False)
    library = next(t for t in fig.data if t.name == "library")
    assert len(library.x) < 3 * MAX_POINTS  # decimated
    truth = curve.frame["lr"].to_numpy()
    np.testing.assert_array_equal(_drawn(library, np.arange(len(truth))), truth)


def test_a_decimated_fast_cyclic_curve_keeps_its_envelope_in_every_stretch_of_the_run():
    curve = _curve("CyclicLR", {"max_lr": 0.1, "step_size_up": 5}, steps=100_000, base_lr=0.001)
    library = next(t for t in lr_figure(curve, show_closed=False).data if t.name == "library")
    x, y = np.asarray(library.x, dtype=np.float64), np.asarray(library.y)
    truth = curve.frame["lr"].to_numpy()
    assert len(x) <= MAX_POINTS + 2
    chunk = len(truth) // 1000
    for start in range(0, len(truth), chunk):
        part = truth[start : start + chunk]
        near = y[(x >= start - 2 * chunk) & (x < start + 3 * chunk)]
        assert near.max() >= part.max() and near.min() <= part.min(), start


# ---- hover labels ---------------------------------------------------------------------------------


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _finder_result():
    from lrlab.finder import FinderResult

    lr = list(np.geomspace(1e-5, 1.0, 50))
    loss = list(np.linspace(2.3, 1.0, 50))
    return FinderResult(lr=lr, loss=loss, smoothed=loss)


ALL_FIGURES = [*LR_FIGURES, ("finder_figure", finder_figure(_finder_result()), None)]


@pytest.mark.parametrize(("name", "fig", "axes"), ALL_FIGURES, ids=[f[0] for f in ALL_FIGURES])
def test_every_figure_has_hover_labels_with_at_least_aaa_contrast(name, fig, axes):
    label = fig.layout.hoverlabel
    light, dark = sorted((_luminance(label.bgcolor), _luminance(label.font.color)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 7.0, name  # WCAG 2 AAA for normal text


# ---- marker labels ----------------------------------------------------------------------------------


def test_pitfall_5s_marker_labels_sit_on_different_rows_or_apart():
    demo = run("onecycle-past-end")
    labels = marker_labels(demo.markers, 0.0, 20.0)
    assert len(labels) == 2 and len({(a["yanchor"], a.get("yshift", 0)) for a in labels}) == 2
    assert all(a["x"] + 0 <= 20 for a in labels) and labels[-1]["xanchor"] == "right"  # "ValueError" at the edge


def test_marker_labels_far_apart_share_the_row_above_the_plot():
    labels = marker_labels([PitfallMarker(20, "epoch 1"), PitfallMarker(60, "epoch 3")], 0.0, 99.0)
    assert [(a["yanchor"], a["xanchor"]) for a in labels] == [("bottom", "center"), ("bottom", "center")]


# ---- HF import: warm-up values as transformers reads them -------------------------------------------


def _args(**extra):
    return {"lr_scheduler_type": "linear", "learning_rate": 1e-4, "max_steps": 1000, **extra}


@pytest.mark.parametrize("ratio", [2, -0.1, 1.5, "0.1", True, math.nan])
def test_a_warmup_ratio_outside_0_to_1_is_refused_naming_the_field_and_transformers_rule(ratio):
    with pytest.raises(LrlabError) as raised:
        from_training_args(_args(warmup_ratio=ratio))
    message = str(raised.value)
    assert raised.value.field == "warmup_ratio" and message.startswith("Invalid warmup_ratio (")
    assert "[0, 1]" in message and "warmup_ratio must lie in range [0,1]" in message  # transformers 4's words


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.25, 1.0])
def test_a_warmup_ratio_in_0_to_1_warms_up_that_share_of_the_run_rounded_up(ratio):
    config = from_training_args(_args(warmup_ratio=ratio))
    assert config.params_dict["num_warmup_steps"] == math.ceil(1000 * ratio)  # 1.0: the whole run


@pytest.mark.parametrize("warmup", [0.1, 0.37, 5, 250])
def test_warmup_steps_are_read_as_transformers_5_reads_them(warmup):
    from transformers import TrainingArguments

    expected = TrainingArguments("/tmp/lrlab-test", warmup_steps=warmup).get_warmup_steps(1000)
    assert from_training_args(_args(warmup_steps=warmup)).params_dict["num_warmup_steps"] == expected


def test_negative_warmup_steps_are_refused_with_transformers_own_words():
    from transformers import TrainingArguments

    with pytest.raises(ValueError) as library:
        TrainingArguments("/tmp/lrlab-test", warmup_steps=-1)
    with pytest.raises(LrlabError) as raised:
        from_training_args(_args(warmup_steps=-1))
    ours = str(raised.value)
    assert ours.startswith("Invalid warmup_steps (-1)") and raised.value.field == "warmup_steps"
    assert "Expected value warmup_steps >= 0" in str(library.value) and "Expected value warmup_steps >= 0" in ours


def test_a_warmup_ratio_overridden_by_warmup_steps_is_said_not_silently_dropped():
    notes: list[str] = []
    config = import_config(json.dumps(_args(warmup_steps=50, warmup_ratio=0.2)), notes=notes)
    assert config.params_dict["num_warmup_steps"] == 50
    said = [n for n in notes if "warmup_ratio 0.2 is not used" in n]
    assert len(said) == 1 and "50" in said[0]  # beside the note of what was read
    with pytest.warns(ConfigWarning, match="warmup_ratio 0.2 is not used"):
        import_config(json.dumps(_args(warmup_steps=50, warmup_ratio=0.2)))


def test_fractional_warmup_steps_above_one_are_truncated_as_the_trainer_does_and_said():
    with pytest.warns(ConfigWarning, match=r"int\(2.5\) = 2"):
        config = from_training_args(_args(warmup_steps=2.5))
    assert config.params_dict["num_warmup_steps"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        from_training_args(_args(warmup_steps=3))  # a whole number of steps: nothing to say


def test_the_playground_import_panel_shows_what_did_not_take_effect():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.session_state["pg.import_open"] = True  # open "Import a config"
    at.run()
    at.text_area(key="pg.import_text").set_value(json.dumps(_args(warmup_steps=50, warmup_ratio=0.2))).run()
    at.button(key="pg.import_load").click().run()
    assert not at.exception
    infos = [shown(i.value) for i in at.info]
    assert any("warmup_ratio 0.2 is not used" in i for i in infos), infos


# ---- the Custom page's link keys ---------------------------------------------------------------------


def _custom_link(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("pages/custom.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_a_custom_link_may_name_the_expression_by_the_parameters_own_name_lr_lambda():
    at = _custom_link({"lr_lambda": "0.5 ** epoch"})
    assert not at.exception
    assert at.text_input(key="cu.LambdaLR.expr_0").value == "0.5 ** epoch"
    assert not [i.value for i in at.info if "ignored" in i.value]


def test_a_custom_link_with_a_misspelt_key_says_so():
    at = _custom_link({"lamda": "0.5 ** epoch"})
    notice = " ".join(shown(i.value) for i in at.info if "ignored" in i.value)
    assert "lamda (not a setting of this page)" in notice
