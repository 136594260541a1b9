"""The neuron's forward pass: z = Σ w_i x_i + b, ŷ = φ(z) (and the lecture's perceptron)."""

from __future__ import annotations

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.topics import topic
from symnn.derive.topics.references import NIELSEN
from symnn.parse import records


def perceptron(n_inputs: int = 3):
    xs = [N.x(i) for i in range(1, n_inputs + 1)]
    ws = [N.w(i) for i in range(1, n_inputs + 1)]
    z_expr = sp.Add(*[w * x for w, x in zip(ws, xs)]) + N.b
    return xs, ws, z_expr


@topic("neuron", "the forward pass of one neuron: z = Σ w_i x_i + b, ŷ = φ(z)")
def neuron(activation: str = "sigmoid", n_inputs: int = 3) -> Derivation:
    act = records.activation(activation)
    xs, ws, z_expr = perceptron(n_inputs)
    d = Derivation(f"The neuron's forward pass ({act.title.lower()})", references=[NIELSEN])
    d.intro = (
        "Each input x_i is multiplied by its weight w_i; the neuron adds the products and "
        "the bias b, then applies its activation function φ."
    )
    i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True)
    xi, wi = sp.IndexedBase("x"), sp.IndexedBase("w")
    d.add(N.z, sp.Sum(wi[i] * xi[i], (i, 1, n)) + N.b, DEFINITION, "weighted sum of the inputs plus the bias")
    d.add(N.z, z_expr, "expansion", f"the sum written out for n = {n_inputs} inputs")
    d.defs[N.z] = z_expr
    d.add(N.yhat, act.phi.subs(N.z, sp.Symbol("z", real=True)), DEFINITION, f"ŷ = φ(z) with φ the {act.title.lower()}")
    d.add(N.yhat, act.phi.xreplace({N.z: z_expr}), "substitution", "the prediction in terms of the inputs")
    d.check_subs = {
        n: n_inputs,
        **{xi[m + 1]: xs[m] for m in range(n_inputs)},
        **{wi[m + 1]: ws[m] for m in range(n_inputs)},
    }
    return d
