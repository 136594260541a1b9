"""The dense layer (symnn/ops/dense.py): ∂L/∂W, ∂L/∂b, ∂L/∂A over a batch (kernels: symnn/kernels/dense.py)."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.derive.topics.references import NIELSEN


@topic("dense", "the dense layer's gradients ∂L/∂W, ∂L/∂b, ∂L/∂A over a batch, in index notation")
def dense() -> Derivation:
    from symnn.ops import dense as op

    d = Derivation("The dense layer: forward and the three gradients its backward pass needs", references=[NIELSEN])
    d.intro = (
        "A batch of N samples A (N × n_in) passes a layer with weight W (n_out × n_in) and bias b. "
        "G[t, j] = ∂L/∂Z[t, j] is the error arriving from above (δ in Nielsen's notation); "
        "differentiating L = Σ G·Z gives every gradient the layer hands on."
    )
    Zs, L = sp.IndexedBase("Z", real=True), sp.Symbol("L")
    d.add(Zs[op.t, op.j], op.forward_expr(), DEFINITION, "the weighted sums of every sample")
    d.add(L, op.loss_expr(), DEFINITION, "the loss seen through the upstream gradient G")
    d.check_subs = {op.N: 2, op.n_in: 3, op.n_out: 2, op.p: 1, op.q: 2, op.t_: 1}
    for title, var, name, key in (
        ("The weight gradient (BP4, summed over the batch)", op.W[op.p, op.q], "∂L/∂W[p, q]", "dW"),
        ("The bias gradient (BP3, summed over the batch)", op.b[op.p], "∂L/∂b[p]", "db"),
        ("The gradient passed to the layer below (the Wᵀ δ of BP2)", op.A[op.t_, op.q], "∂L/∂A[t', q]", "dA"),
    ):
        d.section(title)
        value = differentiate(d, op.loss_expr(), var, lhs=D(L, var))
        d.goal(name, op.loss_expr(), var, value, key)
    return d
