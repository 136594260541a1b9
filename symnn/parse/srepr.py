"""Rebuild a SymPy expression from its `srepr` text (as the kernel cache's index stores it)
without eval: only calls of SymPy expression classes (and symnn's own functions) with numbers,
booleans and, for the few classes that take a name, strings.

A string reaching any other constructor could be sympified (that is, evaluated) by it, e.g.
Tuple('...'): so strings are accepted only as the name of a Symbol, Dummy, Wild, Function,
IndexedBase, Idx or MatrixSymbol, or the digits of a Float.
Every other argument is a number or an object built the same way, which no constructor evaluates.

Numbers are bounded as the expression parser bounds them (symnn.parse.expr): a Pow whose
exponent exceeds ±MAX_EXPONENT or whose value would have too many digits is refused before
SymPy computes it, a Float's text is a plain decimal with at most 2·MAX_DIGITS digits and an
exponent within ±MAX_EXPONENT, and a function of numbers (factorial(10**9)) is kept unevaluated."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import TypeGuard

import sympy as sp

from symnn.errors import InputError
from symnn.parse.expr import MAX_DIGITS, MAX_EXPONENT, check_power

MAX_SREPR = 1_000_000
MAX_PRECISION = 10 * MAX_DIGITS  # bits of a stored Float (the parser's numbers need about 3.4 per digit)
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d{1,6}))?|[+-]?inf|nan")
_NAMED = {"Symbol", "Dummy", "Wild", "Function", "IndexedBase", "Idx", "Float", "MatrixSymbol"}
_KEYWORD_VALUES = (bool, int, type(None))
_CONSTANTS = {
    "true": sp.true,
    "false": sp.false,
    "oo": sp.oo,
    "zoo": sp.zoo,
    "nan": sp.nan,
    "pi": sp.pi,
    "E": sp.E,
    "I": sp.I,
    "EulerGamma": sp.EulerGamma,
}


def read_srepr(text: str, functions: Mapping[str, type] | None = None) -> sp.Basic:
    """srepr text -> SymPy object; InputError for anything outside the whitelist."""
    if not isinstance(text, str) or len(text) > MAX_SREPR:
        raise InputError("a stored expression is not text of at most 1 MB")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise InputError("a stored expression is not valid srepr text") from None
    try:
        return _Reader(dict(functions or {})).build(tree.body)
    except RecursionError:
        raise InputError("a stored expression nests too deeply to rebuild") from None


class _Reader:
    def __init__(self, functions: dict[str, type]):
        self.functions = functions

    def build(self, node: ast.AST):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool, type(None))):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and _is_number(node.operand.value)
        ):
            return -node.operand.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.build(e) for e in node.elts)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise InputError(f"a stored expression holds {type(node).__name__}, which is not SymPy data")

    def call(self, node: ast.Call):
        if isinstance(node.func, ast.Call):  # Function('f')(x): an undefined function applied
            head = self.call(node.func)
            if not isinstance(head, sp.core.function.UndefinedFunction):
                raise InputError("a stored expression applies something that is not a function")
            return head(*[self.build(a) for a in node.args])
        if not isinstance(node.func, ast.Name):
            raise InputError("a stored expression calls something that is not a SymPy class")
        name = node.func.id
        cls = self.resolve(name)
        args = [self.arg(a, name, i) for i, a in enumerate(node.args)]
        kwargs = {}
        for kw in node.keywords:
            if (
                kw.arg is None
                or not isinstance(kw.value, ast.Constant)
                or not isinstance(kw.value.value, _KEYWORD_VALUES)
            ):
                raise InputError(f"a stored {name} has a keyword that is not a plain flag")
            kwargs[kw.arg] = kw.value.value
        _check_numbers(name, cls, args, kwargs)
        if issubclass(cls, sp.Function) and args and all(getattr(a, "is_number", False) for a in args):
            kwargs.setdefault("evaluate", False)  # factorial(Integer(10**9)) stays as written
        try:
            return cls(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise InputError(f"a stored {name} cannot be rebuilt: {exc}") from None

    def arg(self, node: ast.AST, name: str, position: int):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if name not in _NAMED or position > 0:
                raise InputError(f"a stored {name} has a text argument, which is accepted only as a name")
            return node.value
        return self.build(node)

    def resolve(self, name: str):
        if name in self.functions:
            return self.functions[name]
        cls = None if name.startswith("_") else getattr(sp, name, None) or _basic_classes().get(name)
        if not (isinstance(cls, type) and issubclass(cls, sp.Basic)):
            raise InputError(f"a stored expression calls {name!r}, which is not a SymPy expression class")
        return cls


_CLASSES: dict[str, type] = {}


def _check_numbers(name: str, cls: type, args: list, kwargs: dict) -> None:
    """Refuse, before SymPy computes anything, a Pow or Float beyond the parser's bounds."""
    if issubclass(cls, sp.Pow) and len(args) >= 2:
        base, exponent = (_number(a) for a in args[:2])
        if isinstance(base, sp.Expr) and isinstance(exponent, sp.Expr):
            try:
                check_power(base, exponent)
            except InputError as exc:
                raise InputError(f"a stored Pow is out of range: {exc}") from None
    if issubclass(cls, sp.Float):
        text = args[0] if args else None
        if isinstance(text, str):
            m = _FLOAT_TEXT.fullmatch(text.strip())
            digits = sum(c.isdigit() for c in re.split("[eE]", text)[0])
            if not m or digits > 2 * MAX_DIGITS or (m.group(1) and abs(int(m.group(1))) > MAX_EXPONENT):
                raise InputError(
                    f"a stored Float is not a decimal number of at most {2 * MAX_DIGITS} digits "
                    f"with an exponent within ±{MAX_EXPONENT}"
                )
        elif isinstance(text, float) or (isinstance(text, int) and abs(text) < 10**MAX_EXPONENT):
            pass
        elif text is not None and not isinstance(text, sp.Basic):
            raise InputError(f"a stored Float is not a number within ±1e{MAX_EXPONENT}")
        sizes = [*args[1:2], kwargs.get("precision"), kwargs.get("dps")]
        if any(isinstance(n, int) and not 0 < n <= MAX_PRECISION for n in sizes):
            raise InputError(f"a stored Float asks for a precision beyond {MAX_PRECISION} bits")


def _number(value):
    """A Python number as SymPy's (as Pow's constructor would sympify it)."""
    if type(value) is int:
        return sp.Integer(value)
    if type(value) is float:
        return sp.Float(value)
    return value


def _is_number(value: object) -> TypeGuard[int | float]:
    """An int or float literal (not a bool, which is an int too)."""
    return type(value) in (int, float)


def _basic_classes() -> dict[str, type]:
    """Every loaded subclass of sp.Basic by name (ExprCondPair, symnn's own functions, ...);
    a name two classes share is left out."""
    if not _CLASSES:
        seen: dict[str, set] = {}
        todo = [sp.Basic]
        while todo:
            cls = todo.pop()
            for sub in cls.__subclasses__():
                if sub not in seen.get(sub.__name__, ()):
                    seen.setdefault(sub.__name__, set()).add(sub)
                    todo.append(sub)
        _CLASSES.update({n: next(iter(c)) for n, c in seen.items() if len(c) == 1})
    return _CLASSES
