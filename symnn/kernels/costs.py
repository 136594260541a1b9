"""Element-wise kernels of each cost (symnn/ops/costs.py):

<cost>.loss                  c(ŷ, y) per output              (the cost's own term)
<cost>.grad                  ∂C/∂ŷ / N for a batch of N      (as `symnn derive cost-functions` found it)
sigmoid_cross_entropy.loss   c(z, y) from the logit          (`symnn derive sigmoid-cross-entropy`)
sigmoid_cross_entropy.grad   (σ(z) − y) / N
loss.total                   S[0] += Σ_i V[i]                (a batch's cost, into the epoch's running total)
"""

from __future__ import annotations

import sympy as sp

from symnn.codegen import KernelSpec, Output, elementwise, register
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


@register("loss.total")
def loss_total() -> KernelSpec:
    """S[0] += Σ_i V[i]: the cost C = Σ c summed over a batch's per-output (or per-sample)
    values, added to a running total (the epoch's training loss, symnn.nn.train)."""
    V, S = sp.IndexedBase("V"), sp.IndexedBase("S")
    i, u = sp.symbols("i u", integer=True, nonnegative=True)
    n = sp.Symbol("n", integer=True, positive=True)
    return KernelSpec(
        "loss.total",
        inputs=[V],
        outputs=[Output(S, (u,), sp.Sum(V[i], (i, 0, n - 1)), ranges={u: (0, 0)}, accumulate=True)],
        shapes={n: (V, 0)},
        out_shapes={S: (1,)},
        doc="S[0] += Σ_i V[i]: a batch's cost values added to the epoch's running total",
    )
