"""lrlab.lr_find(fastai=True): fastai's own Learner.lr_find beside lrlab's sweep, in the result, the chart
and the CLI. (fastai_find_lr itself is checked against fastai called directly in tests/test_lib_fastai.py.)"""

from __future__ import annotations

import json
import math

import pytest

import lrlab
from lrlab.finder import SUGGESTIONS


@pytest.fixture(scope="module")
def both():
    return lrlab.lr_find(num_it=40, fastai=True)


def test_the_result_carries_fastais_four_suggestions_under_lrlabs_names(both):
    assert both.fastai is not None
    assert set(both.fastai.suggestions) == set(SUGGESTIONS) == set(both.suggestions)
    assert all(math.isfinite(v) and v > 0 for v in both.fastai.suggestions.values())
    # fastai's sweep: lr of batch i is start·(end/start)^(i/num_it), so it never reaches end_lr
    assert both.fastai.lr[0] == pytest.approx(1e-7) and max(both.fastai.lr) < 10.0
    data = both.to_dict()
    assert set(data["fastai"]["suggestions"]) == set(SUGGESTIONS)
    assert data["fastai"]["suggestions"] == both.fastai.suggestions


def test_without_fastai_the_result_has_no_fastai_sweep():
    assert lrlab.lr_find(num_it=20).fastai is None


def test_the_finder_chart_overlays_fastais_sweep_and_marks_its_suggestions(both):
    from lrlab.lab_plots import finder_figure

    names = [t.name for t in finder_figure(both).data]
    assert "fastai lr_find (smoothed)" in names
    assert sum(n.startswith("fastai ") and ":" in n for n in names) == 4


def test_the_cli_prints_both_suggestions_side_by_side(capsys):
    from lrlab.cli import main

    assert main(["find-lr", "--num-it", "30", "--fastai", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["suggestions"]) == set(SUGGESTIONS) and "fastai" in data
    assert main(["find-lr", "--num-it", "30", "--fastai"]) == 0
    text = capsys.readouterr().out
    assert "fastai's own lr_find" in text and all(name in text for name in SUGGESTIONS)


def test_lrlabs_suggestion_functions_give_fastais_numbers_on_fastais_own_sweep(both):
    from lrlab.finder import suggest

    theirs = both.fastai
    ours = suggest(list(theirs.lr), list(theirs.loss), theirs.num_it)
    for name in SUGGESTIONS:
        assert ours[name] is not None, name
        assert ours[name].lr == pytest.approx(theirs.suggestions[name], rel=1e-6), name


def test_fastais_own_crash_on_too_few_points_is_reported_not_raised():
    result = lrlab.lr_find(num_it=20, fastai=True)  # fastai's slide indexes 15 points back: IndexError here
    assert result.fastai.problem is not None and "IndexError" in result.fastai.problem
    assert all(math.isnan(v) for v in result.fastai.suggestions.values())
    assert len(result.fastai.lr) > 0  # its sweep is still drawn
