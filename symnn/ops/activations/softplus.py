"""Softplus ln(1 + e^z), a smooth ReLU."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

ACTIVATION = Activation(
    "softplus",
    "Softplus",
    sp.log(1 + sp.exp(z)),
    sigmoid(z),
    "softplus(z) = ln(1 + e^z) is a smooth ReLU; its derivative is the sigmoid",
    outputs="positive",
    layer="Softplus",
    order=6,
)
