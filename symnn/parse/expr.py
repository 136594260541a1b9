"""The one safe expression parser: text -> SymPy, without eval.

Three passes:
1. tokenize: numbers, names, operators; unknown characters refused with their column;
   implicit multiplication (`2x`, `2 sin(x)`, `(x+1)(x-1)`, `x y`) and `^` become `*` and `**`;
2. every name and number is replaced by a placeholder, so Python's `ast` sees only operators,
   parentheses, calls and commas (no keyword, dunder name or string can reach it);
3. a walker accepts a whitelist of node types and builds the SymPy objects itself.
Every name that is not a known function or constant becomes a real Symbol.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Collection
from dataclasses import dataclass, field

import sympy as sp

from symnn.errors import InputError
from symnn.parse.functions import ALIASES, ALSO_SYMBOLS, CONSTANTS, FUNCTIONS, Func

MAX_LENGTH = 2000  # characters of one expression
MAX_DEPTH = 50  # nested parentheses / calls
MAX_EXPONENT = 1000  # |n| of a numeric exponent
MAX_DIGITS = 100  # digits of one number


class ParseError(InputError):
    """An expression symnn cannot read, with where and what is accepted."""


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_OPERATORS = {"·": "*", "⋅": "*", "×": "*", "∗": "*", "−": "-", "–": "-", "÷": "/", "^": "**"}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>(?![⁰¹²³⁴⁵⁶⁷⁸⁹])[^\W\d](?:(?![⁰¹²³⁴⁵⁶⁷⁸⁹])\w)*(?:')*)
  | (?P<super>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)
  | (?P<op>\*\*|==|!=|<=|>=|[-+*/^()\[\],=<>·⋅×∗−–÷])
""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str  # number, name, op
    text: str
    col: int  # 1-based column in the input


@dataclass
class Options:
    indexed: bool = False  # allow x[i] (an IndexedBase entry)
    symbols: dict[str, sp.Basic] = field(default_factory=dict)  # names with fixed meanings
    functions: dict = field(default_factory=dict)  # extra callable names


def tokenize(text: str, primes: bool = False) -> list[Token]:
    """The tokens of `text`; with `primes`, f'(u) and f''(u) stay one name (a derivative of f)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ParseError(
                f"cannot read character {text[pos]!r} at column {pos + 1}; expressions use "
                "numbers, names, + - * / ^ ( ) and function calls such as exp(x)"
            )
        kind, value = m.lastgroup, m.group()
        if kind is None:  # every alternative of _TOKEN is a named group
            raise ParseError(f"cannot read {value!r} at column {pos + 1}")
        if kind == "super":
            tokens += [Token("op", "**", pos + 1), *_superscript(value, pos + 1)]
        elif kind == "name":
            if "'" in value and primes:
                base = value.rstrip("'")
                tokens.append(Token("name", ALIASES.get(base, base) + value[len(base) :], pos + 1))
            elif "'" in value:
                raise ParseError(
                    f"cannot read {value!r} at column {pos + 1}: primes (f') are not "
                    "expressions; write the function itself, e.g. sigmoid(z)"
                )
            else:
                tokens.append(Token("name", ALIASES.get(value, value), pos + 1))
        elif kind != "space":
            tokens.append(Token(kind, _OPERATORS.get(value, value) if kind == "op" else value, pos + 1))
        pos = m.end()
    dunder = next((t for t in tokens if t.kind == "name" and t.text.startswith("__")), None)
    if dunder:  # after every character was read, so a payload's quote is named first
        raise ParseError(f"the name {_short(dunder.text, 20)} at column {dunder.col} starts with __; no name may")
    return tokens


def _superscript(value: str, col: int) -> list[Token]:
    digits = value.translate(_SUPERSCRIPTS)
    if digits.startswith("-"):
        return [
            Token("op", "(", col),
            Token("op", "-", col),
            Token("number", digits[1:] or "1", col),
            Token("op", ")", col),
        ]
    return [Token("number", digits, col)]


def _subscripted(name: str) -> str:
    """w₁ -> w_1 (subscript digits after a name)."""
    head = name.rstrip("₀₁₂₃₄₅₆₇₈₉")
    return head + "_" + name[len(head) :].translate(_SUBSCRIPTS) if head != name else name


def implicit_products(tokens: list[Token], functions: Collection[str]) -> list[Token]:
    """Insert `*` where a reader sees a product: 2x, x y, 2(x+1), (x)(y), x(y+1) for one-letter x."""
    out: list[Token] = []
    for n, tok in enumerate(tokens):
        if out and _function_of_a_name(out[-1], tokens[n:], functions):
            prev, arg = out[-1], tokens[n + 1]
            raise ParseError(
                f"{prev.text}({arg.text}) at column {prev.col} reads as an unknown function "
                f"of {arg.text}, which symnn cannot differentiate; write the function "
                f"itself, or {prev.text}*({arg.text}) for a product"
            )
        if out and _juxtaposed(out[-1], tok, functions):
            out.append(Token("op", "*", tok.col))
        out.append(tok)
    return out


def _function_of_a_name(prev: Token, rest: list[Token], functions) -> bool:
    """f(x), y(t): one letter written right against (name) — an undefined function, not a product."""
    return (
        prev.kind == "name"
        and len(prev.text) == 1
        and prev.text not in functions
        and len(rest) >= 3
        and rest[0].text == "("
        and rest[0].col == prev.col + 1
        and rest[1].kind == "name"
        and rest[2].text == ")"
    )


def _juxtaposed(prev: Token, tok: Token, functions) -> bool:
    ends = prev.kind in ("number", "name") or prev.text in (")", "]")
    starts = tok.kind in ("number", "name") or tok.text == "("
    if not (ends and starts):
        return False
    for t in (prev, tok):
        if t.kind == "name" and keyword.iskeyword(t.text):
            raise ParseError(
                f"cannot read {t.text!r} at column {t.col}: words such as and, or, not, "
                f"if are not operators here (for a product write *)"
            )
    if prev.kind == "number" and tok.kind == "number":
        raise ParseError(f"two numbers in a row at column {tok.col}; put an operator between them")
    if prev.kind == "name" and tok.text == "(":
        if prev.text in functions:
            return False
        if len(prev.text) > 1 and tok.col == prev.col + len(prev.text):
            raise ParseError(
                f"unknown function {prev.text!r} at column {prev.col}; known functions: "
                + ", ".join(sorted(functions))
                + f" (for a product write {prev.text}*(...))"
            )
    return True


def parse(
    text: str,
    *,
    indexed: bool = False,
    symbols: dict | None = None,
    functions: dict | None = None,
    what: str = "expression",
    primes: bool = False,
) -> sp.Expr:
    """Parse untrusted text into a SymPy expression; never evaluates the text as code.

    `symbols` gives names a fixed meaning (e.g. {"z": notation.z}); `indexed` allows x[i];
    `primes` reads f'(u) as the derivative of a known one-argument function f at u."""
    if not isinstance(text, str):
        raise ParseError(f"the {what} must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the {what} is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    if not text.strip():
        raise ParseError(f"the {what} is empty; write one such as x**2*exp(-x)")
    opts = Options(indexed, dict(symbols or {}), {**FUNCTIONS, **(functions or {})})
    try:
        if primes:
            if not _PRIMED:
                _PRIMED.update(primed(FUNCTIONS))
            opts.functions.update(_PRIMED)
            opts.functions.update(primed(functions or {}))  # a caller's own functions, primed too
        tokens = implicit_products(tokenize(text.translate({0x2032: "'"}), primes), opts.functions)
        _check_depth(tokens)
        source, table = _placeholders(tokens)
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ParseError(f"cannot read the {what} {_short(text)}: {_where(exc, source, tokens)}") from None
        return _Builder(opts, table, tokens, text).build(tree.body)
    except ParseError as exc:  # say which text it is about when there are several (an activation, a cost)
        if what == "expression" or str(exc).startswith(("cannot read", f"the {what}")):
            raise
        raise ParseError(f"the {what} {_short(text)}: {exc}") from None


_PRIMED: dict = {}  # primed(FUNCTIONS), made on the first parse that reads primes


def primed(functions: dict) -> dict:
    """f' and f'' for every one-argument function f: its first and second derivative at the argument."""

    def derivative(fn, order: int):
        def build(u):
            t = sp.Dummy("t", real=True)
            return sp.diff(fn.build(t), t, order).xreplace({t: u})

        return build

    return {
        name + "'" * order: Func(derivative(fn, order))
        for name, fn in functions.items()
        if fn.lo == fn.hi == 1
        for order in (1, 2)
    }


def _short(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[:n] + "…")


def _check_depth(tokens: list[Token]) -> None:
    depth, opened = 0, []
    for tok in tokens:
        if tok.text in "([":
            depth += 1
            opened.append(tok.col)
            if depth > MAX_DEPTH:
                raise ParseError(
                    f"the expression nests more than {MAX_DEPTH} parentheses deep (column {tok.col}); simplify it"
                )
        elif tok.text in ")]":
            depth -= 1
            if depth < 0:
                raise ParseError(f"unmatched ')' at column {tok.col}")
            opened.pop()
    if depth > 0:
        raise ParseError(f"the '(' at column {opened[-1]} is never closed; add the missing ')'")


def _placeholders(tokens: list[Token]) -> tuple[str, dict[str, Token]]:
    """Python source in which every name and number is _tN: only operators are Python's."""
    table: dict[str, Token] = {}
    parts = []
    for n, tok in enumerate(tokens):
        if tok.kind == "op":
            parts.append(tok.text)
        else:
            key = f"_t{n}"
            table[key] = tok
            parts.append(key)
    return " ".join(parts), table


def _where(exc: SyntaxError, source: str, tokens: list[Token]) -> str:
    """Map a SyntaxError's offset in the placeholder source back to the user's column."""
    if tokens and tokens[-1].kind == "op" and tokens[-1].text not in ")]":
        last = tokens[-1]
        return f"it ends with {last.text!r} at column {last.col}; something is missing after it"
    offset = (exc.offset or 1) - 1
    pos, col = 0, None
    for n, tok in enumerate(tokens):
        width = len(tok.text) if tok.kind == "op" else len(f"_t{n}")
        if pos + width > offset:
            col = tok.col
            break
        pos += width + 1
    where = f"column {col}" if col else "the end"
    return f"unexpected input at {where}; write it like x**2*exp(-x) or 2x^3 + sin(x)"


_COMPARE = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
PIECEWISE = ("Piecewise", "piecewise")
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED = {
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Compare: "comparisons (==, <, >) outside a Piecewise condition",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Attribute: "attributes",
    ast.Subscript: "subscripts x[i]",
    ast.BoolOp: "and/or",
    ast.Starred: "*args",
    ast.Lambda: "lambdas",
}


class _Builder:
    """Walks the whitelisted ast and builds SymPy objects; anything else is refused."""

    def __init__(self, opts: Options, table: dict[str, Token], tokens: list[Token], text: str) -> None:
        self.opts, self.table, self.text = opts, table, text

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self.binop(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.build(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Subscript) and self.opts.indexed:
            return self.subscript(node)
        kind = _REFUSED.get(type(node), type(node).__name__)
        raise ParseError(
            f"{kind} are not accepted in an expression (column {self.col(node)}); "
            "use numbers, names, + - * / ^ and function calls"
        )

    def col(self, node: ast.AST) -> int:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.table:
                return self.table[sub.id].col
        return 1

    def binop(self, node: ast.BinOp) -> sp.Expr:
        op = type(node.op)
        if op in (ast.Add, ast.Sub, ast.Mult, ast.Div):
            return self.chain(node)
        base, exponent = self.build(node.left), self.build(node.right)
        return power(base, exponent)

    def chain(self, node: ast.BinOp) -> sp.Expr:
        """a + b - c + ... and a * b / c ... built without recursion along the chain."""
        additive = isinstance(node.op, (ast.Add, ast.Sub))
        kinds = (ast.Add, ast.Sub) if additive else (ast.Mult, ast.Div)
        terms: list[tuple[ast.operator, ast.expr]] = []
        left: ast.expr = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, kinds):
            terms.append((left.op, left.right))
            left = left.left
        value = self.build(left)
        parts = [value]
        for op, right in reversed(terms):
            term = self.build(right)
            inverse = isinstance(op, (ast.Sub, ast.Div))
            if inverse and not additive and term == 0:
                raise ParseError(f"division by zero in {_short(self.text)}")
            parts.append((-term if additive else power(term, sp.S.NegativeOne)) if inverse else term)
        return sp.Add(*parts) if additive else sp.Mul(*parts)

    def name(self, key: str) -> sp.Expr:
        tok = self.table[key]
        if tok.kind == "number":
            return number(tok)
        name = _subscripted(tok.text)
        if name in self.opts.symbols:
            return self.opts.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.opts.functions and name not in ALSO_SYMBOLS:
            raise ParseError(f"{name} is a function (column {tok.col}); call it, e.g. {name}(x)")
        return sp.Symbol(name, real=True)

    def call(self, node: ast.Call) -> sp.Expr:
        head = node.func
        if not (isinstance(head, ast.Name) and self.table[head.id].kind == "name"):
            raise ParseError(f"only named functions can be called (column {self.col(node)})")
        tok = self.table[head.id]
        if tok.text in PIECEWISE:
            return self.piecewise(node, tok)
        fn = self.opts.functions.get(tok.text)
        if fn is None:
            raise ParseError(
                f"unknown function {tok.text!r} at column {tok.col}; known functions: "
                + ", ".join(sorted(self.opts.functions))
            )
        n = len(node.args)
        if n < fn.lo or (fn.hi is not None and n > fn.hi):
            wanted = f"{fn.lo}" if fn.hi == fn.lo else f"{fn.lo} to {fn.hi}" if fn.hi else f"at least {fn.lo}"
            raise ParseError(f"{tok.text}() takes {wanted} argument{'s' * (wanted != '1')}, not {n} (column {tok.col})")
        args = [self.build(a) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in self._params(fn):
                raise ParseError(
                    f"{tok.text}() takes no parameter "
                    f"{self._kwname(kw)!r} (column {tok.col})"
                    + (f"; it accepts {', '.join(fn.params)}" if fn.params else "")
                )
            kwargs[self.table[kw.arg].text if kw.arg in self.table else kw.arg] = self.build(kw.value)
        return fn.build(*args, **kwargs)

    def piecewise(self, node: ast.Call, tok: Token) -> sp.Expr:
        """Piecewise((expr, cond), ..., (expr, True)): a condition is a comparison (<, ≤, >, ≥,
        chained as in 0 < x < 1) or True; comparisons are accepted nowhere else."""
        usage = f"write {tok.text}((expr, condition), ..., (expr, True)) (column {tok.col})"
        if node.keywords or not node.args:
            raise ParseError(f"{tok.text}() takes pieces (expr, condition); {usage}")
        pieces = []
        for arg in node.args:
            if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
                raise ParseError(f"each piece of {tok.text}() is a pair (expr, condition); {usage}")
            pieces.append((self.build(arg.elts[0]), self.condition(arg.elts[1], usage)))
        return sp.Piecewise(*pieces)

    def condition(self, node: ast.AST, usage: str):
        if isinstance(node, ast.Name) and self.table[node.id].text == "True":
            return sp.true
        if not isinstance(node, ast.Compare) or not all(type(op) in _COMPARE for op in node.ops):
            raise ParseError(f"a condition is a comparison with <, <=, > or >=, or True; {usage}")
        sides = [self.build(node.left), *(self.build(c) for c in node.comparators)]
        parts = [_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, sides, sides[1:])]
        return sp.And(*parts)

    def _params(self, fn) -> set[str]:
        """Keyword names arrive as placeholders (_tN): accept those whose text is a parameter."""
        return {k for k, t in self.table.items() if t.text in fn.params}

    def _kwname(self, kw: ast.keyword) -> str:
        return self.table[kw.arg].text if kw.arg in self.table else str(kw.arg)

    def subscript(self, node: ast.Subscript) -> sp.Expr:
        if not isinstance(node.value, ast.Name) or self.table[node.value.id].kind != "name":
            raise ParseError(f"only a name can be indexed, as in x[i] (column {self.col(node)})")
        idx = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        base = sp.IndexedBase(_subscripted(self.table[node.value.id].text), real=True)
        indices = [self._index(i) for i in idx]
        return base[tuple(indices)]

    def _index(self, node: ast.AST) -> sp.Expr:
        value = self.build(node)
        return value.xreplace({s: sp.Symbol(s.name, integer=True) for s in value.free_symbols})


def number(tok: Token) -> sp.Expr:
    digits = sum(c.isdigit() for c in tok.text.split("e")[0].split("E")[0])
    if digits > MAX_DIGITS:
        raise ParseError(f"the number at column {tok.col} has {digits} digits; at most {MAX_DIGITS} are accepted")
    if re.fullmatch(r"\d+", tok.text):
        return sp.Integer(int(tok.text))
    mantissa, _, exp = tok.text.lower().partition("e")
    if exp and abs(int(exp)) > MAX_EXPONENT:
        raise ParseError(
            f"the number {tok.text[:20]} at column {tok.col} is out of range (exponents up to ±{MAX_EXPONENT})"
        )
    return sp.Float(tok.text, max(15, digits))


def power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """base**exponent, refusing numeric exponents beyond ±MAX_EXPONENT before SymPy computes them."""
    check_power(base, exponent)
    return sp.Pow(base, exponent)


def check_power(base: sp.Expr, exponent: sp.Expr) -> None:
    """Refuse base**exponent if SymPy would compute a huge number (also for the srepr reader)."""
    if exponent.is_number and not exponent.free_symbols:
        size = abs(complex(exponent.evalf(15))) if exponent.is_finite else float("inf")
        if size > MAX_EXPONENT:
            raise ParseError(
                f"the exponent {_num(exponent)} is too large; numeric exponents up to ±{MAX_EXPONENT} are accepted"
            )
    if base.is_Rational and exponent.is_Integer and abs(base) != 1 and base != 0:
        digits = (len(str(abs(base.p))) + len(str(base.q)) - 1) * abs(int(exponent))
        if digits > 10 * MAX_EXPONENT:
            raise ParseError(
                f"{_num(base)}**{_num(exponent)} has about {digits} digits; at most {10 * MAX_EXPONENT} are accepted"
            )
    if base == 0 and exponent.is_number and exponent.is_negative:
        raise ParseError("division by zero (0 to a negative power)")


def _num(e: sp.Expr) -> str:
    text = sp.sstr(e)
    return text if len(text) <= 20 else text[:20] + "…"
