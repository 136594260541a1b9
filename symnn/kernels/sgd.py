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


@register("gradient.parts")
def gradient_parts() -> KernelSpec:
    """S[i] = Σ_h P[h, i]: a gradient's sum over the batch, from the parts of the batch that the
    compiled epoch's threads summed each (symnn.nn.epoch: the sum Σ_t regrouped by part)."""
    from symnn.codegen import Output

    P, S = sp.IndexedBase("P"), sp.IndexedBase("S")
    h, i = sp.symbols("h i", integer=True, nonnegative=True)
    parts, n = sp.symbols("parts n", integer=True, positive=True)
    return KernelSpec(
        "gradient.parts",
        inputs=[P],
        outputs=[Output(S, (i,), sp.Sum(P[h, i], (h, 0, parts - 1)))],
        shapes={parts: (P, 0), n: (P, 1)},
        out_shapes={S: (n,)},
        doc="S[i] = Σ_h P[h, i]: a gradient's batch sum, added up from the threads' parts",
    )
