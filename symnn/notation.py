"""The lecture's symbols, and how they print.

SymPy already prints `yhat` as \\hat{y} (ŷ), `w_1` as w_{1}, `eta` as \\eta and `delta` as \\delta;
these helpers just make sure every module uses the same Symbol objects.
"""

from __future__ import annotations

import sympy as sp

z = sp.Symbol("z", real=True)
b = sp.Symbol("b", real=True)
y = sp.Symbol("y", real=True)
yhat = sp.Symbol("yhat", real=True)
eta = sp.Symbol("eta", positive=True)
C = sp.Symbol("C", real=True)
r = sp.Symbol("r", integer=True, positive=True)  # row index of the table
i, j, k = sp.symbols("i j k", integer=True)


def x(n: int) -> sp.Symbol:
    """Input x_n of the neuron."""
    return sp.Symbol(f"x_{n}", real=True)


def w(n: int) -> sp.Symbol:
    """Weight w_n of the neuron."""
    return sp.Symbol(f"w_{n}", real=True)


def indexed(name: str) -> sp.IndexedBase:
    """A per-row quantity of a table, e.g. x_1[r] or yhat[r]."""
    return sp.IndexedBase(name, real=True)
