"""Reading untrusted text: the one safe expression parser (`parse`) and the reader of srepr
data in the kernel cache (`read_srepr`). Neither ever evaluates text as code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from symnn.parse.expr import MAX_DEPTH, MAX_DIGITS, MAX_EXPONENT, MAX_LENGTH, ParseError, parse
from symnn.parse.srepr import read_srepr

if TYPE_CHECKING:
    import sympy as sp

__all__ = ["parse", "as_expr", "read_srepr", "ParseError", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "MAX_DIGITS"]


def as_expr(value: object) -> sp.Basic:
    """A SymPy object from text (through the safe parser) or from a number or SymPy object;
    never sympify's eval of a string."""
    import sympy as sp

    if isinstance(value, str):
        return parse(value)
    return sp.sympify(value, strict=True)
