"""The functions and constants a user may write, and the SymPy object each one builds.

Nothing outside these tables can be called; every other name is a real Symbol."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Func:
    """A callable name: the SymPy builder and how many arguments it takes (hi=None: any)."""

    build: Callable[..., sp.Expr]
    lo: int = 1
    hi: int | None = 1
    params: tuple[str, ...] = ()  # keyword parameters it accepts, e.g. ("alpha",)


def _ops(name: str) -> Callable[..., sp.Expr]:
    """symnn's named activations, imported on first use."""

    def build(*args):
        from symnn.ops import functions

        return getattr(functions, name)(*args)

    return build


def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x, base)


def _softplus(x):
    return sp.log(1 + sp.exp(x))


def _step(x):
    from symnn.ops.functions import step

    return step(x)


_ONE = {
    name: Func(getattr(sp, name))
    for name in (
        "exp",
        "sqrt",
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "asin",
        "acos",
        "atan",
        "acot",
        "asec",
        "acsc",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "sech",
        "csch",
        "asinh",
        "acosh",
        "atanh",
        "acoth",
        "floor",
        "ceiling",
        "sign",
        "erf",
        "erfc",
        "cbrt",
        "Abs",
    )
}

FUNCTIONS: dict[str, Func] = {
    **_ONE,
    "log": Func(_log, 1, 2),
    "ln": Func(sp.log),
    "abs": _ONE["Abs"],
    "sgn": _ONE["sign"],
    "ceil": _ONE["ceiling"],
    "arcsin": _ONE["asin"],
    "arccos": _ONE["acos"],
    "arctan": _ONE["atan"],
    "arcsinh": _ONE["asinh"],
    "arccosh": _ONE["acosh"],
    "arctanh": _ONE["atanh"],
    "arsinh": _ONE["asinh"],
    "arcosh": _ONE["acosh"],
    "artanh": _ONE["atanh"],
    "max": Func(sp.Max, 2, None),
    "Max": Func(sp.Max, 2, None),
    "min": Func(sp.Min, 2, None),
    "Min": Func(sp.Min, 2, None),
    "step": Func(_step),
    "Heaviside": Func(_step),
    "heaviside": Func(_step),
    "sigmoid": Func(_ops("sigmoid")),
    "σ": Func(_ops("sigmoid")),
    "sigma": Func(_ops("sigmoid")),
    "relu": Func(_ops("relu")),
    "ReLU": Func(_ops("relu")),
    "leaky_relu": Func(_ops("leaky_relu")),
    "softplus": Func(_softplus),
    # pieces (expr, condition): built by the parser itself (parse/expr.py, _Builder.piecewise)
    "Piecewise": Func(sp.Piecewise, 1, None),
    "piecewise": Func(sp.Piecewise, 1, None),
}

# Function names that are also ordinary symbols when not called (σ as a standard deviation).
ALSO_SYMBOLS = frozenset({"sigma", "σ", "step"})

CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "π": sp.pi, "e": sp.E}

# Spellings of the lecture's symbols, mapped to the names symnn uses.
ALIASES: dict[str, str] = {"ŷ": "yhat", "η": "eta", "δ": "delta"}
