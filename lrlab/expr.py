"""Safe arithmetic expressions in ``epoch``, for LambdaLR and MultiplicativeLR.

A user types ``0.95 ** epoch`` or ``min(1, epoch / 100) * 0.5 * (1 + cos(pi * epoch / 1000))``;
:func:`parse` turns it into an :class:`Expression` that evaluates over a numpy array of epochs (the
fast closed form) or one epoch at a time (the callable handed to the real torch scheduler).

Why our own evaluator rather than a library: ``eval``/``compile`` and sympy's ``sympify`` run
arbitrary code; simpleeval and asteval block escapes but evaluate one scalar at a time and still
allow CPU or memory exhaustion (``9**4000000`` as a Python big integer, ``[1]*10**9``); numexpr's
blacklist has known bypasses and ``9**9**9`` hangs it. Here the text is parsed with
``ast.parse(mode="eval")`` (parsing never executes anything), every node is checked against a
whitelist, every number becomes a float64 (so ``9**9**9`` is ``inf`` at once, never a big
integer), and evaluation maps the whitelisted operations onto numpy ufuncs under
``np.errstate(all="ignore")``. Length and node count are capped.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrlab.specs import MAX_EXPR_LEN, LrlabError

MAX_NODES = 200
VARIABLE = "epoch"
CONSTANTS = {"pi": math.pi, "e": math.e}


def _fold(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def apply(*args: np.ndarray) -> np.ndarray:
        out = args[0]
        for arg in args[1:]:
            out = fn(out, arg)
        return out

    return apply


# name -> (numpy implementation, minimum arity, maximum arity)
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], int, int]] = {
    "min": (_fold(np.minimum), 2, 16),
    "max": (_fold(np.maximum), 2, 16),
    "abs": (np.abs, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "log2": (np.log2, 1, 1),
    "log10": (np.log10, 1, 1),
    "sin": (np.sin, 1, 1),
    "cos": (np.cos, 1, 1),
    "tan": (np.tan, 1, 1),
    "tanh": (np.tanh, 1, 1),
}

_BINOPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}
_BINOP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}
_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}

ALLOWED_TEXT = (
    "use numbers, `epoch`, pi, e, + - * / ** %, comparisons, `and`/`or`/`not`, "
    "`a if condition else b` and the functions " + ", ".join(FUNCTIONS)
)


@dataclass(frozen=True)
class Expression:
    """A checked expression. Call it with one epoch (torch's ``lr_lambda``) or use :meth:`over`."""

    text: str
    tree: ast.Expression

    def over(self, epochs: np.ndarray) -> np.ndarray:
        """The expression at every epoch, as float64 (``inf``/``nan`` where the maths gives them)."""
        epochs = np.asarray(epochs, dtype=np.float64)
        with np.errstate(all="ignore"):
            value = _compiled(self)(epochs)
        return np.broadcast_to(np.asarray(value, dtype=np.float64), epochs.shape).copy()

    def __call__(self, epoch: int | float) -> float:
        with np.errstate(all="ignore"):  # the same numpy operations as over() on a 1-element array
            value = _compiled(self)(np.array([epoch], dtype=np.float64))
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


def parse(text: str, *, field: str = "lr_lambda") -> Expression:
    """Check ``text`` and return an :class:`Expression`, or raise :class:`LrlabError` naming ``field``.

    Nothing in ``text`` is ever executed: it is parsed to a syntax tree and walked.
    """
    if not isinstance(text, str) or not text.strip():
        raise LrlabError(f"Invalid {field} ({text!r}): must be an expression in `epoch`", field=field)
    if len(text) > MAX_EXPR_LEN:
        raise LrlabError(
            f"Invalid {field}: the expression has {len(text)} characters, at most {MAX_EXPR_LEN} are allowed",
            field=field,
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise LrlabError(
            f"Invalid {field} ({text!r}): not a valid expression{where} ({exc.msg})", field=field
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise LrlabError(f"Invalid {field} ({text!r}): too deeply nested", field=field) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise LrlabError(
            f"Invalid {field} ({text!r}): too complex ({len(nodes)} syntax nodes, at most {MAX_NODES})",
            field=field,
        )
    callees = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    for node in nodes:
        if id(node) in callees and isinstance(node, ast.Name) and node.id in FUNCTIONS:
            continue
        problem = _check(node)
        if problem:
            snippet = ast.get_source_segment(text.strip(), node) if hasattr(node, "col_offset") else None
            at = f" in {snippet!r} at column {node.col_offset + 1}" if snippet else ""
            raise LrlabError(f"Invalid {field} ({text!r}): {problem}{at}; {ALLOWED_TEXT}", field=field)
    return Expression(text=text.strip(), tree=tree)


def _check(node: ast.AST) -> str | None:
    """Why ``node`` is not allowed, or None. Only the node types listed here may appear."""
    if isinstance(node, ast.Expression):
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            return f"the constant {node.value!r} is not a real number"
        return None
    if isinstance(node, ast.Name):
        if node.id == VARIABLE or node.id in CONSTANTS:
            return None
        if node.id in FUNCTIONS:
            return f"{node.id!r} is a function and must be called"
        return f"the name {node.id!r} is not allowed"
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            # name what is called (`__import__('os').system`), not just the whole call
            return f"calling {ast.unparse(node.func)!r} is not allowed"
        if node.keywords:
            return "keyword arguments are not allowed"
        if any(isinstance(a, ast.Starred) for a in node.args):  # before the count: `max(*x)` has "1" argument
            return "starred arguments are not allowed"
        _, lo, hi = FUNCTIONS[node.func.id]
        if not lo <= len(node.args) <= hi:
            count = f"{lo}" if lo == hi else f"{lo} to {hi}"
            return f"{node.func.id}() takes {count} argument(s), got {len(node.args)}"
        return None
    if isinstance(node, ast.BinOp):
        return None if type(node.op) in _BINOPS else "this operator is not allowed"
    if isinstance(node, ast.UnaryOp):
        return None if isinstance(node.op, (ast.UAdd, ast.USub, ast.Not)) else "this operator is not allowed"
    if isinstance(node, ast.Compare):
        return None if all(type(op) in _COMPARE for op in node.ops) else "only < <= > >= == != compare"
    if isinstance(node, (ast.BoolOp, ast.IfExp)):
        return None
    if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)):
        return None  # operator tokens; their parents are checked above
    if isinstance(node, ast.Attribute):
        return "attribute access (a.b) is not allowed"
    if isinstance(node, ast.Subscript):
        return "subscripts (a[b]) are not allowed"
    return f"{type(node).__name__} is not allowed"


@functools.lru_cache(maxsize=256)
def _compiled(expr: Expression) -> Callable[[np.ndarray], np.ndarray]:
    """``expr`` as a function of an array of epochs: its checked tree turned once into nested closures
    over numpy functions (no ``eval``: each closure applies one whitelisted numpy operation). Torch
    calls LambdaLR's lambda once per step and group; walking the tree on every call cost ~20 µs."""
    return _closure(expr.tree.body)


def _closure(node: ast.AST) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(node, ast.Constant):
        constant = np.float64(node.value)
        return lambda epoch: constant
    if isinstance(node, ast.Name):
        if node.id == VARIABLE:
            return lambda epoch: epoch
        named = np.float64(CONSTANTS[node.id])
        return lambda epoch: named
    if isinstance(node, ast.BinOp):
        op, left, right = _BINOPS[type(node.op)], _closure(node.left), _closure(node.right)
        return lambda epoch: op(left(epoch), right(epoch))
    if isinstance(node, ast.UnaryOp):
        operand = _closure(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda epoch: np.logical_not(operand(epoch))
        return (lambda epoch: np.negative(operand(epoch))) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        first = _closure(node.left)
        pairs = [(_COMPARE[type(op)], _closure(c)) for op, c in zip(node.ops, node.comparators, strict=False)]

        def compare(epoch: np.ndarray) -> np.ndarray:
            result, left = None, first(epoch)
            for op, comparator in pairs:
                right = comparator(epoch)
                part = op(left, right)
                result = part if result is None else np.logical_and(result, part)
                left = right
            return result

        return compare
    if isinstance(node, ast.BoolOp):  # Python's semantics: `a and b` is b if a else a
        values, conjunction = [_closure(v) for v in node.values], isinstance(node.op, ast.And)

        def boolean(epoch: np.ndarray) -> np.ndarray:
            out = values[0](epoch)
            for value in values[1:]:
                v = value(epoch)
                out = np.where(out != 0, v, out) if conjunction else np.where(out != 0, out, v)
            return out

        return boolean
    if isinstance(node, ast.IfExp):
        test, body, orelse = _closure(node.test), _closure(node.body), _closure(node.orelse)
        return lambda epoch: np.where(test(epoch) != 0, body(epoch), orelse(epoch))
    if isinstance(node, ast.Call):
        fn, args = FUNCTIONS[node.func.id][0], [_closure(a) for a in node.args]
        return lambda epoch: fn(*[np.asarray(a(epoch), dtype=np.float64) for a in args])
    raise AssertionError(f"unchecked node {type(node).__name__}")  # parse() rejects everything else


def to_python(expr: Expression) -> str:
    """The expression as Python source using ``math`` (for exported training code).

    It gives lrlab's numbers wherever every intermediate value is finite. Where lrlab's float64
    arithmetic overflows to inf or divides by zero, Python's floats and ``math`` raise instead
    (OverflowError, ZeroDivisionError, ValueError): ``1 / (1 + exp(epoch - 1000))`` is 0.0 in lrlab
    from epoch 1710 on, but the exported code raises OverflowError there.
    """
    return ast.unparse(_PythonRewriter().visit(ast.parse(expr.text, mode="eval")))


class _PythonRewriter(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        # float literals, as in lrlab's evaluation: `9 ** 9 ** 9` must not become a huge integer
        return ast.copy_location(ast.Constant(float(node.value)), node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in CONSTANTS or (node.id in FUNCTIONS and node.id not in ("min", "max", "abs")):
            return ast.copy_location(
                ast.Attribute(value=ast.Name("math", ast.Load()), attr=node.id, ctx=ast.Load()), node
            )
        return node


# ---- LaTeX -------------------------------------------------------------------------------------

_PREC_BIN = {ast.Add: 5, ast.Sub: 5, ast.Mult: 6, ast.Div: 6, ast.Mod: 6, ast.Pow: 8}
_CMP_TEX = {ast.Lt: "<", ast.LtE: r"\le", ast.Gt: ">", ast.GtE: r"\ge", ast.Eq: "=", ast.NotEq: r"\ne"}
_FUNC_TEX = {
    "sqrt": (r"\sqrt{", "}"),
    "abs": (r"\left|", r"\right|"),
    "floor": (r"\left\lfloor ", r"\right\rfloor"),
    "ceil": (r"\left\lceil ", r"\right\rceil"),
    "exp": (r"\exp\left(", r"\right)"),
    "log": (r"\ln\left(", r"\right)"),
    "log2": (r"\log_2\left(", r"\right)"),
    "log10": (r"\log_{10}\left(", r"\right)"),
    "sin": (r"\sin\left(", r"\right)"),
    "cos": (r"\cos\left(", r"\right)"),
    "tan": (r"\tan\left(", r"\right)"),
    "tanh": (r"\tanh\left(", r"\right)"),
}


def to_latex(expr: Expression, variable: str = r"\mathit{epoch}") -> str:
    """The expression as LaTeX, built from its checked syntax tree (fractions, powers, cases)."""
    return _tex(expr.tree.body, variable)[0]


def _prec(node: ast.AST) -> int:
    if isinstance(node, ast.IfExp):
        return 0
    if isinstance(node, ast.BoolOp):
        return 1 if isinstance(node.op, ast.Or) else 2
    if isinstance(node, ast.UnaryOp):
        return 3 if isinstance(node.op, ast.Not) else 7
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.BinOp):
        return _PREC_BIN[type(node.op)]
    return 9


def _wrap(node: ast.AST, variable: str, minimum: int) -> str:
    text = _tex(node, variable)[0]
    return rf"\left({text}\right)" if _prec(node) < minimum else text


def _number(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    mantissa, _, exponent = f"{value:.10g}".partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa


def _tex(node: ast.AST, v: str) -> tuple[str, int]:
    if isinstance(node, ast.Constant):
        return _number(node.value), 9
    if isinstance(node, ast.Name):
        return {"pi": r"\pi", "e": r"e"}.get(node.id, v), 9
    if isinstance(node, ast.BinOp):
        op, p = type(node.op), _PREC_BIN[type(node.op)]
        if op is ast.Div:
            return rf"\frac{{{_tex(node.left, v)[0]}}}{{{_tex(node.right, v)[0]}}}", 9
        if op is ast.Pow:
            return rf"{{{_wrap(node.left, v, 9)}}}^{{{_tex(node.right, v)[0]}}}", p
        left = _wrap(node.left, v, p)
        right = _wrap(node.right, v, p + 1)
        sign = {ast.Add: "+", ast.Sub: "-", ast.Mult: r"\cdot", ast.Mod: r"\bmod"}[op]
        return f"{left} {sign} {right}", p
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return rf"\lnot {_wrap(node.operand, v, 4)}", 3
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return f"{sign}{_wrap(node.operand, v, 7)}", 7
    if isinstance(node, ast.Compare):
        parts = [_wrap(node.left, v, 5)]
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts += [_CMP_TEX[type(op)], _wrap(right, v, 5)]
        return " ".join(parts), 4
    if isinstance(node, ast.BoolOp):
        p = _prec(node)
        joiner = r" \lor " if isinstance(node.op, ast.Or) else r" \land "
        return joiner.join(_wrap(x, v, p + 1) for x in node.values), p
    if isinstance(node, ast.IfExp):
        cases = []
        while isinstance(node, ast.IfExp):
            cases.append(rf"{_tex(node.body, v)[0]} & \text{{if }} {_tex(node.test, v)[0]}")
            node = node.orelse
        cases.append(rf"{_tex(node, v)[0]} & \text{{otherwise}}")
        return r"\begin{cases} " + r" \\ ".join(cases) + r" \end{cases}", 9
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_tex(a, v)[0] for a in node.args]
        if name in ("min", "max"):
            return rf"\{name}\left({', '.join(args)}\right)", 9
        before, after = _FUNC_TEX[name]
        return f"{before}{args[0]}{after}", 9
    raise AssertionError(f"unchecked node {type(node).__name__}")
