"""Mish (Misra, 2019): φ(z) = z·tanh(softplus(z)), PyTorch's torch.nn.Mish."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

_softplus = sp.log(1 + sp.exp(z))

ACTIVATION = Activation(
    "mish",
    "Mish",
    z * sp.tanh(_softplus),
    sp.tanh(_softplus) + z * sigmoid(z) * (1 - sp.tanh(_softplus) ** 2),
    "Mish' = tanh(softplus z) + z·σ(z)·(1 − tanh²(softplus z)): the product rule, and the chain rule "
    "through softplus, whose derivative is σ",
    outputs="[−0.309, ∞)",
    layer="Mish",
    order=12,
)
