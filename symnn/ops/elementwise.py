"""Element-wise kernels derived from the activation and cost derivations:

    <activation>.forward   a = φ(z)                       (stable form)
    <activation>.backward  δ_in = δ_out · φ'(z)           (φ' as `derive activation` found it)
    <cost>.loss            c(ŷ, y) per output             (the cost's own term)
    <cost>.grad            ∂C/∂ŷ / n for a batch of n     (as `derive cost-functions` found it)
    sgd.update             w − η g                        (the update of `derive gradient-descent`)
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symnn.codegen import KernelSpec, elementwise, register
from symnn.ops.activations import ACTIVATIONS, stable
from symnn.ops.costs import COSTS

z, g, yhat, y = sp.symbols("z g yhat y", real=True)
w, eta = sp.symbols("w eta", real=True)
n = sp.Symbol("n", positive=True)
TRAINABLE_COSTS = tuple(c for c in COSTS if c not in ("exponential",))


@lru_cache(maxsize=None)
def activation_derivative(name: str) -> sp.Expr:
    """φ'(z), from the verified derivation of the activation."""
    from symnn.derive import derive
    return derive("activation", activation=name).goals[0].result


@lru_cache(maxsize=None)
def cost_gradient(name: str) -> sp.Expr:
    """∂C/∂ŷ for one output, from the verified derivation of the cost."""
    from symnn.derive import derive
    from symnn.ops.costs import E, a, k
    grad = derive("cost-functions", cost=name).goals[0].result
    return grad.xreplace({a[k]: yhat, E[k]: y})


def _threshold_backward():
    # the step's derivative is 0 wherever it exists: the perceptron rule passes δ straight
    # through instead (the "straight-through" update of Rosenblatt's perceptron)
    return g


def _register_activation(name: str) -> None:
    act = ACTIVATIONS[name]

    @register(f"{name}.forward")
    def forward() -> KernelSpec:
        return elementwise(f"{name}.forward", args=[z], exprs=[stable(act.phi)], doc=f"a = {act.title}(z)")

    @register(f"{name}.backward")
    def backward() -> KernelSpec:
        expr = _threshold_backward() if name == "threshold" else g * stable(activation_derivative(name))
        return elementwise(f"{name}.backward", args=[g, z], exprs=[expr],
                           doc=f"δ_in = δ_out · {name}'(z)")


def _register_cost(name: str) -> None:
    cost = COSTS[name]

    @register(f"{name}.loss")
    def loss() -> KernelSpec:
        return elementwise(f"{name}.loss", args=[yhat, y], exprs=[cost.term(yhat, y)], doc=cost.title)

    @register(f"{name}.grad")
    def grad() -> KernelSpec:
        return elementwise(f"{name}.grad", args=[yhat, y, n], exprs=[cost_gradient(name) / n],
                           doc=f"∂C/∂ŷ of the {cost.title.lower()}, averaged over a batch of n")


for _name in ACTIVATIONS:
    _register_activation(_name)
for _name in TRAINABLE_COSTS:
    _register_cost(_name)


@register("sgd.update")
def _sgd_update() -> KernelSpec:
    from symnn.derive import derive
    d = derive("gradient-descent")
    update = [s for s in d.steps if s.is_definition and s.lhs == sp.Symbol("w_1'", real=True)][0].rhs
    from symnn import notation as N
    from symnn.derive.rules import D
    rule = update.xreplace({D(N.C, N.w(1)): g, N.w(1): w, N.eta: eta})
    return elementwise("sgd.update", args=[w, g, eta], exprs=[rule], doc="w ← w − η ∂C/∂w")
