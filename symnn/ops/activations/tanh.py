"""The hyperbolic tangent."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "tanh",
    "Hyperbolic tangent",
    sp.tanh(z),
    1 - sp.tanh(z) ** 2,
    "tanh' = 1 − tanh²",
    outputs="(−1, 1)",
    layer="Tanh",
    order=4,
)
