"""sgd.update: w ← w − η g, the update rule of `symnn derive gradient-descent`."""

from __future__ import annotations

import sympy as sp

from symnn import notation
from symnn.codegen import KernelSpec, elementwise, register
from symnn.derive.rules import D
from symnn.kernels import derived

w, g, eta = sp.symbols("w g eta", real=True)


@register("sgd.update")
def update() -> KernelSpec:
    d = derived("gradient-descent")
    rule = next(s for s in d.steps if s.is_definition and s.lhs == sp.Symbol("w_1'", real=True)).rhs
    rule = rule.xreplace({D(notation.C, notation.w(1)): g, notation.w(1): w, notation.eta: eta})
    return elementwise("sgd.update", args=[w, g, eta], exprs=[rule], doc="w ← w − η ∂C/∂w")
