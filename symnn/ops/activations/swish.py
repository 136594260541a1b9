"""Swish with a slope β (Ramachandran et al., 2017): φ(z) = z·σ(βz); β = 1 is SiLU."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

beta = sp.Symbol("beta", positive=True)

ACTIVATION = Activation(
    "swish",
    "Swish",
    z * sigmoid(beta * z),
    sigmoid(beta * z) * (1 + beta * z * (1 - sigmoid(beta * z))),
    "swish' = σ(βz)(1 + βz(1 − σ(βz))): the product rule with σ' = σ(1 − σ) and the inner factor β",
    outputs="[−0.279/β, ∞)",
    layer="Swish",
    order=18,
    params=((beta, sp.Integer(1)),),
)
