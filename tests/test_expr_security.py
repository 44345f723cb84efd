"""Security of the expression language against a list of known escapes, and a fuzz test: nothing
but the project's error ever escapes, nothing runs, and nothing takes long."""

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrlab
from lrlab.expr import parse
from lrlab.specs import LrlabError

# each payload must be refused, or evaluate to a harmless number, quickly
PAYLOADS = [
    "().__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]",
    "__import__('os').system('echo pwned')",
    "__builtins__['eval']('1')",
    "getattr(__builtins__, 'eval')",
    "eval('1')",
    "exec('x=1')",
    "compile('1', '', 'eval')",
    "open('/etc/passwd').read()",
    "globals()",
    "locals()",
    "vars()",
    "type(epoch)",
    "epoch.__class__.__mro__",
    "'{0.__class__}'.format(epoch)",
    "f'{epoch.__class__}'",
    "'%s' % epoch",
    "(lambda: (yield))().gi_frame.f_back",
    "(x for x in ()).gi_frame",
    "sin.__self__",
    "pi.real",
    "epoch if epoch else __import__('os')",
    "9**9**9",
    "(9**9999)**9999",
    "9**4000000",
    "10**10**10**10",
    "[1]*10**9",
    "'a'*10**9",
    "(" * 100 + "1" + ")" * 100,
    "-" * 400 + "1",
    "+".join(["epoch"] * 120),
    "1" * 501,
    "ｅｐｏｃｈ",  # full-width letters: Python normalises them to `epoch` (NFKC), which is allowed
    "\u0065poch + 1",
    "epoch\u200b + 1",  # zero-width space
    "ℯ",  # script e: NFKC gives `e`
    "𝐞𝐩𝐨𝐜𝐡.__class__",
    "min(*[1, 2])",
    "max(epoch, key=abs)",
    "__import__",
    "breakpoint()",
    "input()",
    "[].append",
    "{}.get",
    "epoch.__dict__",
]


def _run(payload: str):
    """Parse and evaluate over 1000 epochs; return the values, or the LrlabError."""
    try:
        expr = parse(payload)
    except LrlabError as exc:
        return exc
    return expr.over(np.arange(1000))


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p[:40] for p in PAYLOADS])
def test_a_hostile_payload_is_refused_or_harmless_and_fast(payload):
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = _run(payload)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.05, f"took {min(timings):.3f}s"
    if isinstance(result, LrlabError):
        assert result.field == "lr_lambda" and str(result).startswith("Invalid lr_lambda")
    else:
        # evaluated: only numbers came out (e.g. the tower of powers is inf, not a huge integer)
        assert isinstance(result, np.ndarray) and result.dtype == np.float64


def test_there_are_at_least_thirty_payloads():
    assert len(PAYLOADS) >= 30


def test_the_payloads_that_evaluate_are_only_pure_arithmetic():
    evaluated = [p for p in PAYLOADS if not isinstance(_run(p), LrlabError)]
    assert set(evaluated) <= {
        "9**9**9",
        "(9**9999)**9999",
        "9**4000000",
        "10**10**10**10",
        "ｅｐｏｃｈ",
        "ℯ",
        "\u0065poch + 1",
        "(" * 100 + "1" + ")" * 100,
        "+".join(["epoch"] * 120),
    }
    assert _run("9**4000000")[0] == math.inf


# ---- fuzzing -----------------------------------------------------------------------------------

ATOMS = st.sampled_from(["epoch", "pi", "e", "0", "1", "2.5", "1e-3", "1e308", "-1", "0.0", "100", "x", "__class__"])
OPS = st.sampled_from(["+", "-", "*", "/", "**", "%", "<", "<=", "==", "!=", " and ", " or ", ".", "[", "]", ","])
FUNCS = st.sampled_from(
    [
        "min",
        "max",
        "abs",
        "floor",
        "ceil",
        "sqrt",
        "exp",
        "log",
        "log2",
        "log10",
        "sin",
        "cos",
        "tan",
        "tanh",
        "getattr",
        "eval",
        "__import__",
        "type",
    ]
)


@st.composite
def expressions(draw, depth=0):
    """Grammar-shaped, often ill-formed expressions: the fuzz target for the parser and evaluator."""
    choice = draw(st.integers(0, 5 if depth < 4 else 0))
    if choice == 0:
        return draw(ATOMS)
    if choice in (1, 2):
        return f"{draw(expressions(depth + 1))} {draw(OPS)} {draw(expressions(depth + 1))}"
    if choice == 3:
        args = draw(st.lists(expressions(depth + 1), min_size=0, max_size=3))
        return f"{draw(FUNCS)}({', '.join(args)})"
    if choice == 4:
        return f"({draw(expressions(depth + 1))} if {draw(expressions(depth + 1))} else {draw(expressions(depth + 1))})"
    return f"{draw(st.sampled_from(['-', 'not ', '+', '~']))}{draw(expressions(depth + 1))}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_fuzzed_grammar_shaped_expressions_raise_only_the_projects_error(text):
    result = _run(text)
    assert isinstance(result, (LrlabError, np.ndarray))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fuzzed_arbitrary_text_raises_only_the_projects_error(text):
    result = _run(text)
    assert isinstance(result, (LrlabError, np.ndarray))


@settings(max_examples=40, deadline=None)
@given(expressions())
def test_fuzzed_expressions_through_lambda_lr_give_a_curve_or_the_projects_error(text):
    try:
        frame = lrlab.curve("LambdaLR", steps=20, lr_lambda=text)
    except LrlabError:
        return
    assert np.isfinite(frame["lr"]).all()
