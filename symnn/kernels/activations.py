"""Element-wise kernels of each activation φ (the records in symnn/ops/activations/):

<name>.forward   a = φ(z)                  (the overflow-safe form, ops.activations.stable)
<name>.backward  δ_in = δ_out · φ'(z)      (φ' as `symnn derive activation` found it)
"""

from __future__ import annotations

import sympy as sp

from symnn.codegen import KernelSpec, elementwise, register
from symnn.kernels import derived
from symnn.ops.activations import ACTIVATIONS, get_activation
from symnn.ops.functions import stable

z, g = sp.symbols("z g", real=True)


def derivative(name: str) -> sp.Expr:
    """φ'(z), from the verified derivation of the activation."""
    return derived("activation", activation=name).results[name]


def _threshold_backward() -> sp.Expr:
    # the step's derivative is 0 wherever it exists: the perceptron rule passes δ straight
    # through instead (the "straight-through" update of Rosenblatt's perceptron)
    return g


_registered: set[str] = set()


def provide(name: str) -> None:
    """Register the kernels of an activation record made in this process (a bound or user-defined
    one, symnn.parse.records), named after the record; the factories run only when needed."""
    if name in _registered:
        return
    _registered.add(name)

    @register(f"{name}.forward")
    def forward() -> KernelSpec:
        act = get_activation(name)
        return elementwise(f"{name}.forward", args=[z], exprs=[stable(act.phi)], doc=f"a = φ(z), {act.title}")

    @register(f"{name}.backward")
    def backward() -> KernelSpec:
        expr = _threshold_backward() if name == "threshold" else g * stable(derivative(name))
        return elementwise(f"{name}.backward", args=[g, z], exprs=[expr], doc=f"δ_in = δ_out · φ'(z), φ = {name}")


for _name in ACTIVATIONS:
    provide(_name)
