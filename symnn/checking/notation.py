"""The notation of a learner's derivation, read into SymPy through the safe parser.

On top of `symnn.parse` (numbers, names, operators, the known functions), a line may write
- derivatives: dC/dw_1, ∂C/∂w_1, d(yhat - y)/dyhat, d/dx (x^2), diff(C, w_1);
- f'(u), f''(u): the derivative of a known function at u (sigmoid'(z), σ'(z), relu'(z));
- sums with explicit ranges: sum(expr, (i, 1, n)), Σ_{i=1}^{n} expr.
A derivative is kept as `Partial(expr, var)` until the givens say what it means (problem.py).
"""

from __future__ import annotations

import re

import sympy as sp

from symnn.errors import InputError
from symnn.parse import parse
from symnn.parse.functions import Func

_NAME = r"[^\W\d]\w*"
# dC/dw_1, ∂C/∂w_1: the d must start a word (so 'ad/dx' is not read as a derivative)
_LEIBNIZ = re.compile(rf"(?<![\w'])([d∂])\s*({_NAME})\s*/\s*([d∂])\s*({_NAME})")
_OPERATOR = re.compile(rf"(?<![\w'])([d∂])\s*/\s*([d∂])\s*({_NAME})\s*")
_SIGMA = re.compile(r"(Σ|\bsum)_[({]?\s*(\w+)\s*=\s*([^\s\^)}]+?)\s*[)}]?\^[({]?\s*(\w+)\s*[)}]?")
_SUM_CALL = re.compile(r"\b(sum|Sum)\s*\(")


_FRACTIONS = str.maketrans({"½": "(1/2)", "⅓": "(1/3)", "¼": "(1/4)", "⅔": "(2/3)", "¾": "(3/4)"})


_SUBSCRIPT_END = re.compile(r"([₀-₉]+)(?=[^\W\d₀-₉])")


class Partial(sp.Function):
    """∂E/∂v as the learner wrote it; problem.Problem decides what E is and differentiates."""

    nargs = 2

    def _sympystr(self, printer):
        return f"∂({printer._print(self.args[0])})/∂{printer._print(self.args[1])}"

    def _latex(self, printer, exp=None):
        e, v = (printer._print(a) for a in self.args)
        if isinstance(self.args[0], sp.Symbol):
            return rf"\frac{{\partial {e}}}{{\partial {v}}}"
        return rf"\frac{{\partial}}{{\partial {v}}}\left({e}\right)"


def _partial(expr, var):
    if not isinstance(var, sp.Symbol):
        raise InputError(f"a derivative is taken with respect to a name, not {var}")
    return Partial(expr, var)


def _sum(body, index, lo, hi):
    if not isinstance(index, sp.Symbol):
        raise InputError(f"a sum's index must be a name, not {index}")
    return sp.Sum(body, (index, lo, hi))


FUNCTIONS = {"diff": Func(_partial, 2, 2), "sum": Func(_sum, 4, 4), "Sum": Func(_sum, 4, 4)}


def _closing(s: str, start: int) -> int:
    """The index of the ')' that closes the '(' at s[start]."""
    depth = 0
    for n in range(start, len(s)):
        depth += {"(": 1, ")": -1}.get(s[n], 0)
        if depth == 0:
            return n
    raise InputError(f"a '(' at column {start + 1} is never closed; add the missing ')'")


def _operand_end(s: str, start: int) -> int:
    """Where the operand of d/dx or Σ that starts at s[start] ends: the end of its product term."""
    depth = 0
    n = start
    while n < len(s):
        ch = s[n]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return n
            depth -= 1
        elif ch in "+-−=," and depth == 0 and s[start:n].strip() and not re.search(r"[*/^(]\s*$", s[start:n]):
            return n
        n += 1
    return n


def rewrite(s: str, givens: frozenset[str] = frozenset()) -> str:
    """The line's notation as calls the parser reads: diff(E, v) and sum(E, i, a, b)."""
    s = _SUBSCRIPT_END.sub(r"\1 ", s.translate(_FRACTIONS))
    s = re.sub(r"ŷ(?=\s*\()", "yhat*", s).replace("ŷ", "yhat")
    for name in sorted(givens, key=len, reverse=True):  # yhat(1 - yhat): a given name before ( is a product
        if len(name) > 1:
            s = re.sub(rf"(?<![\w']){re.escape(name)}(?=\()", name + "*", s)  # w₁x₁: the subscript ends the name
    s = _rewrite_sigma(s)
    s = _flatten_sum_ranges(s)
    s = _rewrite_operators(s)
    s = _rewrite_quotient_derivatives(s)

    def leibniz(m: re.Match) -> str:
        if m.group(1) == "d" and ("d" + m.group(2) in givens or m.group(2).startswith("elta")):
            return m.group()  # a name such as delta_1 or a given dx, not d(...)
        return f"diff({m.group(2)}, {m.group(4)})"

    return _LEIBNIZ.sub(leibniz, s)


def _rewrite_sigma(s: str) -> str:
    while m := _SIGMA.search(s):
        end = _operand_end(s, m.end())
        body = s[m.end() : end].strip()
        if not body:
            raise InputError(f"the sum at column {m.start() + 1} has nothing to add up")
        s = s[: m.start()] + f"sum({body}, {m.group(2)}, {m.group(3)}, {m.group(4)})" + s[end:]
    return s


def _flatten_sum_ranges(s: str) -> str:
    """sum(E, (i, 1, n)) -> sum(E, i, 1, n): the parser reads no tuples."""
    pos = 0
    while m := _SUM_CALL.search(s, pos):
        close = _closing(s, m.end() - 1)
        inner = s[m.end() : close]
        r = re.search(r",\s*\(([^()]*)\)\s*$", inner)
        if r:
            inner = inner[: r.start()] + ", " + r.group(1)
            s = s[: m.end()] + inner + s[close:]
        pos = m.end()
    return s


def _rewrite_operators(s: str) -> str:
    """d/dx (E) and ∂/∂x E -> diff(E, x)."""
    while m := _OPERATOR.search(s):
        start = m.end()
        if start < len(s) and s[start] == "(":
            end = _closing(s, start) + 1
        else:
            end = _operand_end(s, start)
        body = s[start:end].strip()
        if not body:
            raise InputError(f"{m.group().strip()} at column {m.start() + 1} has nothing to differentiate")
        s = s[: m.start()] + f"diff({body}, {m.group(3)})" + s[end:]
    return s


def _rewrite_quotient_derivatives(s: str) -> str:
    """d(E)/dx -> diff((E), x)."""
    pattern = re.compile(r"(?<![\w'])([d∂])\s*\(")
    pos = 0
    while m := pattern.search(s, pos):
        close = _closing(s, m.end() - 1)
        tail = re.match(rf"\s*/\s*[d∂]\s*({_NAME})", s[close + 1 :])
        if not tail:
            pos = m.end()
            continue
        body = s[m.end() : close]
        s = s[: m.start()] + f"diff(({body}), {tail.group(1)})" + s[close + 1 + tail.end() :]
    return s


def read_expression(text: str, givens: frozenset[str] = frozenset()) -> sp.Expr:
    """One side of a claim or a given's right side, as SymPy (Partial and Sum kept)."""
    return parse(rewrite(text, givens), functions=FUNCTIONS, primes=True)
