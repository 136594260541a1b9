"""Element-wise kernels of each cost (symnn/ops/costs.py):

<cost>.loss                  c(ŷ, y) per output              (the cost's own term)
<cost>.grad                  ∂C/∂ŷ / N for a batch of N      (as `symnn derive cost-functions` found it)
sigmoid_cross_entropy.loss   c(z, y) from the logit          (`symnn derive sigmoid-cross-entropy`)
sigmoid_cross_entropy.grad   (σ(z) − y) / N
"""

from __future__ import annotations

import sympy as sp

from symnn.codegen import KernelSpec, elementwise, register
from symnn.kernels import derived
from symnn.ops.costs import COSTS, E, a, get_cost, k, n_batch, yl, zl
from symnn.ops.functions import stable

yhat = sp.Symbol("yhat", real=True)
y, N = yl, n_batch  # the target and the batch size, the same Symbols as the logit kernels'
TRAINABLE_COSTS = tuple(c for c in COSTS if c not in ("exponential",))


def gradient(name: str) -> sp.Expr:
    """∂C/∂ŷ for one output, from the verified derivation of the cost."""
    return derived("cost-functions", cost=name).results[name].xreplace({a[k]: yhat, E[k]: y})


def logit_gradient() -> sp.Expr:
    """∂C/∂z of the cross-entropy of σ(z), in the stable form of σ."""
    return stable(derived("sigmoid-cross-entropy").results["dz"])


_registered: set[str] = set()


def provide(name: str) -> None:
    """Register the loss and gradient kernels of a cost record (built in, bound or user-defined)."""
    if name in _registered:
        return
    _registered.add(name)

    @register(f"{name}.loss")
    def loss() -> KernelSpec:
        cost = get_cost(name)
        return elementwise(f"{name}.loss", args=[yhat, y], exprs=[stable(cost.term(yhat, y))], doc=cost.title)

    @register(f"{name}.grad")
    def grad() -> KernelSpec:
        return elementwise(
            f"{name}.grad",
            args=[yhat, y, N],
            exprs=[stable(gradient(name)) / N],
            doc=f"∂C/∂ŷ of the {get_cost(name).title.lower()}, averaged over a batch of N",
        )


for _name in TRAINABLE_COSTS:
    provide(_name)


@register("sigmoid_cross_entropy.loss")
def logit_loss() -> KernelSpec:
    d = derived("sigmoid-cross-entropy")
    expr = next(s.rhs for s in d.steps if s.rule == "case analysis")  # the stable form
    expr = expr.replace(sp.Max, lambda *args: sp.Piecewise((zl, zl > 0), (0, True)))
    return elementwise(
        "sigmoid_cross_entropy.loss",
        args=[zl, yl],
        exprs=[expr],
        doc="c(z, y) = max(z, 0) − y z + ln(1 + e^(−|z|)): the cross-entropy of σ(z), "
        "from the logit (`symnn derive sigmoid-cross-entropy`)",
    )


@register("sigmoid_cross_entropy.grad")
def logit_grad() -> KernelSpec:
    return elementwise(
        "sigmoid_cross_entropy.grad",
        args=[zl, yl, n_batch],
        exprs=[logit_gradient() / n_batch],
        doc="∂C/∂z = (σ(z) − y)/N over a batch of N (`symnn derive sigmoid-cross-entropy`)",
    )
