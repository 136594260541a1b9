"""Softsign: φ(z) = z/(1 + |z|), PyTorch's torch.nn.Softsign."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "softsign",
    "Softsign",
    z / (1 + sp.Abs(z)),
    1 / (1 + sp.Abs(z)) ** 2,
    "softsign' = 1/(1 + |z|)², since z·sign(z) = |z|; like tanh it goes from −1 to 1, but its tails "
    "approach them polynomially, not exponentially",
    outputs="(−1, 1)",
    layer="Softsign",
    order=13,
)
