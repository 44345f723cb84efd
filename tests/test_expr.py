"""The safe expression evaluator behind LambdaLR / MultiplicativeLR (:mod:`lrlab.expr`).

The allowed grammar is checked against the same formula written in Python with ``math``; hostile
text is refused with an LrlabError naming ``lr_lambda`` and pointing at the offending part, and is
never run; ``to_python`` output is executed here (it is lrlab's own generated code, not user text).
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

import lrlab
from lrlab import LrlabError
from lrlab.expr import MAX_NODES, parse, to_python
from lrlab.specs import MAX_EXPR_LEN

EPOCHS = [0, 1, 2, 2.5, 7, 10, 99, 100, 1234, 2999]

# (expression, the same formula in Python)
GRAMMAR = [
    ("0.95 ** epoch", lambda e: 0.95**e),
    ("epoch + 2 * 3 - 4 / 8", lambda e: e + 2 * 3 - 4 / 8),
    ("-epoch ** 2", lambda e: -(e**2)),
    ("2 ** -epoch", lambda e: 2.0**-e),
    ("2 ** 3 ** 2", lambda e: 2.0 ** (3.0**2)),
    ("+epoch", lambda e: +e),
    ("epoch % 3", lambda e: e % 3),
    ("(epoch - 10) % 7", lambda e: (e - 10) % 7),
    ("min(1, epoch / 10)", lambda e: min(1, e / 10)),
    ("max(0.1, 1 - epoch / 100, 0.05)", lambda e: max(0.1, 1 - e / 100, 0.05)),
    ("abs(epoch - 50)", lambda e: abs(e - 50)),
    ("floor(epoch / 3)", lambda e: math.floor(e / 3)),
    ("ceil(epoch / 3)", lambda e: math.ceil(e / 3)),
    ("sqrt(epoch)", lambda e: math.sqrt(e)),
    ("exp(-epoch / 100)", lambda e: math.exp(-e / 100)),
    ("log(epoch + 1)", lambda e: math.log(e + 1)),
    ("log2(epoch + 1)", lambda e: math.log2(e + 1)),
    ("log10(epoch + 1)", lambda e: math.log10(e + 1)),
    ("sin(epoch)", lambda e: math.sin(e)),
    ("cos(pi * epoch / 10)", lambda e: math.cos(math.pi * e / 10)),
    ("tan(epoch / 1000)", lambda e: math.tan(e / 1000)),
    ("tanh(epoch / 10)", lambda e: math.tanh(e / 10)),
    ("e ** 2 + pi", lambda e: math.e**2 + math.pi),
    ("1 if epoch < 5 else 0.5", lambda e: 1 if e < 5 else 0.5),
    ("0.1 if epoch >= 100 else (0.5 if epoch > 2 else 1)", lambda e: 0.1 if e >= 100 else (0.5 if e > 2 else 1)),
    ("0 < epoch <= 7", lambda e: float(0 < e <= 7)),
    ("epoch == 7", lambda e: float(e == 7)),
    ("epoch != 7", lambda e: float(e != 7)),
    ("not epoch", lambda e: float(not e)),
    ("epoch and 2", lambda e: e and 2),
    ("epoch or 2", lambda e: e or 2),
    ("(epoch > 5) and (epoch < 500) or 0.25", lambda e: ((e > 5) and (e < 500)) or 0.25),
    ("0.5 * (1 + cos(pi * epoch / 1000))", lambda e: 0.5 * (1 + math.cos(math.pi * e / 1000))),
    ("min(1, (epoch + 1) / 10) * 0.5 ** floor(epoch / 30)", lambda e: min(1, (e + 1) / 10) * 0.5 ** math.floor(e / 30)),
]


@pytest.mark.parametrize("text, python", GRAMMAR, ids=[text for text, _ in GRAMMAR])
def test_an_allowed_expression_evaluates_like_python_math(text, python):
    expr = parse(text)
    for epoch in EPOCHS:
        assert expr(epoch) == pytest.approx(float(python(epoch)), rel=1e-14, abs=1e-300), f"{text} at {epoch}"


@pytest.mark.parametrize("text", [text for text, _ in GRAMMAR])
def test_the_vectorised_form_equals_the_scalar_one_at_every_epoch(text):
    expr = parse(text)
    epochs = np.concatenate([np.arange(0, 1500, dtype=np.float64), np.linspace(0, 30, 97)])
    over = expr.over(epochs)
    assert over.shape == epochs.shape and over.dtype == np.float64
    np.testing.assert_array_equal(over, [expr(e) for e in epochs])


def test_a_constant_expression_is_broadcast_over_the_epochs():
    np.testing.assert_array_equal(parse("0.5").over(np.arange(4)), [0.5] * 4)


def test_a_tower_of_powers_is_infinity_not_a_huge_integer():
    assert parse("9**9**9")(0) == math.inf
    assert parse("9**9**9 - 9**9**9")(0) != parse("9**9**9 - 9**9**9")(0)  # inf − inf: nan, not a hang


@pytest.mark.parametrize(
    "text, expected", [("1 / epoch", math.inf), ("log(epoch)", -math.inf), ("sqrt(epoch - 1)", math.nan)]
)
def test_maths_without_a_value_gives_inf_or_nan_instead_of_raising(text, expected):
    value = parse(text)(0)
    assert value == expected or (math.isnan(expected) and math.isnan(value))


def test_an_expression_without_a_value_in_the_run_is_refused_by_the_curve():
    with pytest.raises(LrlabError, match="non-finite") as caught:
        lrlab.curve("LambdaLR", steps=5, lr_lambda="1 / epoch")
    assert caught.value.field == "lr_lambda"


# ---- hostile input ---------------------------------------------------------------------------

# (payload, a fragment of the message that points at the offending part)
HOSTILE = [
    ("__import__('os').system('x')", "__import__('os').system"),
    ("(1).__class__", "attribute access"),
    ("e.__class__.__base__", "attribute access"),
    ("epoch[0]", "subscripts"),
    ("(lambda: 1)()", "lambda: 1"),
    ("lambda epoch: epoch", "Lambda"),
    ("[x for x in (1, 2)]", "ListComp"),
    ("{x: 1 for x in (1,)}", "DictComp"),
    ("(x for x in (1,))", "GeneratorExp"),
    ("f'{epoch}'", "JoinedStr"),
    ("(x := 2)", "NamedExpr"),
    ("foo + 1", "'foo'"),
    ("__builtins__", "'__builtins__'"),
    ("min(1, key=2)", "keyword arguments"),
    ("max(*epoch)", "starred"),
    ("min(1, *epoch)", "starred"),
    ("'abc'", "'abc'"),
    ("b'abc'", "b'abc'"),
    ("1j", "1j"),
    ("epoch if True else 1", "True"),
    ("None", "None"),
    ("[1, 2]", "List"),
    ("(1, 2)", "Tuple"),
    ("{1: 2}", "Dict"),
    ("open('x')", "calling 'open'"),
    ("getattr(epoch, 'x')", "calling 'getattr'"),
    ("epoch()", "calling 'epoch'"),
    ("exp", "must be called"),
    ("sqrt(epoch, 2)", "sqrt() takes 1"),
    ("epoch @ epoch", "operator"),
    ("~epoch", "operator"),
    ("epoch << 1", "operator"),
    ("epoch is 1", "compare"),
    ("epoch in (1,)", "compare"),
    ("import os", "not a valid expression"),
    ("yield 1", "not a valid expression"),
    ("x = 1", "not a valid expression"),
    ("1; 2", "not a valid expression"),
]


@pytest.mark.parametrize("payload, fragment", HOSTILE, ids=[p for p, _ in HOSTILE])
def test_hostile_input_is_refused_naming_lr_lambda_and_the_offending_part(payload, fragment):
    with pytest.raises(LrlabError) as caught:
        parse(payload)
    message = str(caught.value)
    assert caught.value.field == "lr_lambda"
    assert message.startswith("Invalid lr_lambda") and fragment in message, message


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR"])
def test_a_payload_never_runs_through_the_public_api(name, tmp_path):
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch() or 1"
    with pytest.raises(LrlabError) as caught:
        lrlab.curve(name, steps=3, lr_lambda=payload)
    assert caught.value.field == "lr_lambda" and "__import__" in str(caught.value)
    assert not marker.exists()


def test_an_expression_of_the_maximum_length_is_accepted_and_one_more_character_is_not():
    longest = "epoch" + " " * (MAX_EXPR_LEN - len("epoch"))
    assert parse(longest)(3) == 3
    with pytest.raises(LrlabError, match=f"at most {MAX_EXPR_LEN}") as caught:
        parse(longest + " ")
    assert caught.value.field == "lr_lambda"
    with pytest.raises(LrlabError) as caught:
        lrlab.curve("LambdaLR", steps=3, lr_lambda="epoch + " * 70 + "1")
    assert caught.value.field == "lr_lambda"


def test_an_expression_with_too_many_nodes_is_refused():
    text = "epoch" + " + epoch" * 60  # 485 characters, more than 200 syntax nodes
    assert len(text) <= MAX_EXPR_LEN and len(list(ast.walk(ast.parse(text, mode="eval")))) > MAX_NODES
    with pytest.raises(LrlabError, match="too complex") as caught:
        parse(text)
    assert caught.value.field == "lr_lambda"


@pytest.mark.parametrize(
    "text",
    ["-" * 300 + "epoch", "(" * 240 + "epoch" + ")" * 240, "abs(" * 90 + "epoch" + ")" * 90, "2 **" * 120 + "2"],
    ids=["unary", "parentheses", "calls", "powers"],
)
def test_deeply_nested_input_is_refused(text):
    with pytest.raises(LrlabError) as caught:
        parse(text)
    assert caught.value.field == "lr_lambda"


@pytest.mark.parametrize("text", ["", "   ", None, 3])
def test_empty_or_non_text_input_is_refused(text):
    with pytest.raises(LrlabError) as caught:
        parse(text)
    assert caught.value.field == "lr_lambda"


# ---- to_python: the expression as Python source for exported training code --------------------

EXPORTED = [
    *(text for text, _ in GRAMMAR),
    "1 / (1 + exp((epoch - 1000) / 100))",
    "max(0.01, 0.97 ** (epoch / 10))",
    "0.5 * (1 + cos(pi * (epoch % 200) / 200))",
]


def run_exported(text: str):
    """Compile lrlab's generated source as ``lambda epoch: <source>`` with only ``math`` available."""
    source = to_python(parse(text))
    names = {n.id for n in ast.walk(ast.parse(source, mode="eval")) if isinstance(n, ast.Name)}
    assert names <= {"math", "epoch", "min", "max", "abs"}, source
    return eval(compile(f"lambda epoch: {source}", "<exported>", "eval"), {"math": math})


@pytest.mark.parametrize("text", EXPORTED)
def test_exported_python_gives_the_same_numbers_as_lrlab(text):
    exported, expr = run_exported(text), parse(text)
    for epoch in range(0, 3001, 7):  # torch passes the epoch as a Python int
        assert float(exported(epoch)) == pytest.approx(expr(epoch), rel=1e-14, abs=1e-300), f"{text} at {epoch}"


def test_exported_python_keeps_floats_so_a_tower_of_powers_cannot_become_a_huge_integer():
    source = to_python(parse("9**9**9"))
    assert source == "9.0 ** 9.0 ** 9.0"
    with pytest.raises(OverflowError):  # Python's float pow raises where lrlab's float64 gives inf
        eval(compile(source, "<exported>", "eval"), {"math": math})


def test_exported_python_raises_where_lrlab_overflows_as_documented():
    # to_python's documented limit: Python's math raises where float64 arithmetic gives inf
    text = "1 / (1 + exp(epoch - 1000))"
    assert parse(text)(1710) == 0.0
    with pytest.raises(OverflowError):
        run_exported(text)(1710)
