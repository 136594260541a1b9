"""CELU, the continuously differentiable ELU (Barron, 2017), PyTorch's torch.nn.CELU(alpha)."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

alpha = sp.Symbol("alpha", positive=True)

ACTIVATION = Activation(
    "celu",
    "Continuously differentiable ELU (CELU)",
    sp.Piecewise((z, z > 0), (alpha * (sp.exp(z / alpha) - 1), True)),
    sp.Piecewise((1, z > 0), (sp.exp(z / alpha), True)),
    "CELU' is 1 for z > 0 and e^(z/α) otherwise: both sides give 1 at z = 0 for every α",
    outputs="(−α, ∞)",
    layer="CELU",
    order=11,
    params=((alpha, sp.Integer(1)),),
)
