"""Property-based fuzzing (Hypothesis) over every scheduler spec, configs, links and metric files:
valid input gives a finite curve, invalid input gives the project's error, nothing else escapes."""

import json
import math
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrlab
from lrlab.io import import_config
from lrlab.metrics import parse_metric_csv, parse_metric_list
from lrlab.specs import LrlabError, ScheduleConfig

NAMES = sorted(lrlab.SCHEDULERS)
# 150 examples per test in the suite; LRLAB_FUZZ_EXAMPLES=3000 for a long run
SETTINGS = settings(
    max_examples=int(os.environ.get("LRLAB_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(-5, 50), max_size=4),
    st.lists(
        st.dictionaries(st.sampled_from(["name", "gamma", "T_max"]), st.sampled_from(["StepLR", 3, 0.5])), max_size=3
    ),
)


def _outcome(call):
    try:
        return call()
    except LrlabError as exc:
        assert (
            str(exc).startswith(("Invalid", "Unknown", "torch", "transformers", "schedulers[")) or exc.field is None
        ), str(exc)
        return exc


@st.composite
def one_parameter_changed(draw):
    name = draw(st.sampled_from(NAMES))
    spec = lrlab.SCHEDULERS[name]
    params = {}
    own = [p for p in spec.params if p.name != spec.base_lr_param]
    if own:
        param = draw(st.sampled_from(own))
        if draw(st.booleans()) and param.kind in ("int", "float"):
            low, high = param.bounds_for(60)
            lo = -10.0 if low is None else low
            hi = 1e6 if high is None else high
            value = draw(st.floats(lo, hi) if param.kind == "float" else st.integers(int(lo), int(min(hi, 10**6))))
        else:
            value = draw(ANY_VALUE)
        params[param.name] = value
    return name, params


@SETTINGS
@given(one_parameter_changed(), st.integers(1, 60), st.floats(1e-6, 10))
def test_any_single_parameter_value_gives_a_finite_curve_or_the_projects_error(case, steps, base_lr):
    name, params = case
    result = _outcome(lambda: lrlab.curve(name, steps=steps, base_lr=base_lr, **params))
    if isinstance(result, LrlabError):
        field = result.field
        own = {p.name for p in lrlab.SCHEDULERS[name].params}  # a cross-parameter rule names another of them
        assert field is None or field.split("[")[0].split(".")[0] in {
            *params,
            *own,
            "group_lrs",
            "scheduler",
            "steps",
            "base_lr",
            "schedulers",
            "milestones",
            "metrics",
            "cycle_momentum",
            "min_lr",
            "min_lr_rate",
            "lr_lambda",
            "num_training_steps",
            "num_stable_steps",
            "lr_end",
            "pct_start",
        }
        return
    lr = result["lr"].to_numpy()
    valid = lr[~np.isnan(lr)]
    assert valid.size >= 1 and np.all(np.isfinite(valid))


@SETTINGS
@given(st.dictionaries(st.text(max_size=12), ANY_VALUE, max_size=6), st.sampled_from(NAMES))
def test_random_config_dicts_are_imported_or_refused_by_name(data, name):
    if data.get("scheduler") is None and len(data) % 2:
        data["scheduler"] = name
    try:
        text = json.dumps(data)
    except ValueError:
        return
    result = _outcome(lambda: import_config(text))
    assert isinstance(result, (LrlabError, ScheduleConfig))


@SETTINGS
@given(st.text(max_size=300))
def test_random_yaml_text_never_escapes_as_anything_but_the_projects_error(text):
    assert isinstance(_outcome(lambda: import_config(text)), (LrlabError, ScheduleConfig))


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_as_a_metric_csv_are_read_or_refused(data):
    result = _outcome(lambda: parse_metric_csv(data))
    if not isinstance(result, LrlabError):
        assert len(result.values) >= 1 and np.all(np.isfinite(result.values))


@SETTINGS
@given(st.text(max_size=200))
def test_random_pasted_text_as_metric_values_is_read_or_refused(text):
    result = _outcome(lambda: parse_metric_list(text))
    if not isinstance(result, LrlabError):
        assert all(math.isfinite(v) for v in result.values)


# deep nesting, as a link or a pasted config could carry it: openers, a core, closers (balanced or not)
NESTED = st.builds(
    lambda opener, depth, core, close: opener * depth + core + ("]" if opener == "[" else "}") * close,
    st.sampled_from(["[", '{"a":']),
    st.integers(1, 5000),
    st.sampled_from(["1", '"StepLR"', "", "null", '{"scheduler": "StepLR"}']),
    st.integers(0, 5000),
)


@SETTINGS
@given(NESTED)
def test_deeply_nested_text_as_a_link_value_or_a_config_is_kept_as_text_or_refused(text):
    from lrlab.specs import parse_value, too_deep

    value = parse_value(text)
    assert value == text or not too_deep(value)
    assert isinstance(_outcome(lambda: import_config(text)), (LrlabError, ScheduleConfig))
