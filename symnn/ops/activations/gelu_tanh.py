"""GELU, the tanh form of Hendrycks & Gimpel: PyTorch's torch.nn.GELU(approximate="tanh")."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

_u = sp.sqrt(2 / sp.pi) * (z + sp.Rational(44715, 10**6) * z**3)

ACTIVATION = Activation(
    "gelu_tanh",
    "GELU, tanh approximation",
    z * (1 + sp.tanh(_u)) / 2,
    (1 + sp.tanh(_u)) / 2
    + z * (1 - sp.tanh(_u) ** 2) * sp.sqrt(2 / sp.pi) * (1 + 3 * sp.Rational(44715, 10**6) * z**2) / 2,
    "u = √(2/π)(z + 0.044715 z³) approximates the normal CDF's argument; GELU' = (1 + tanh u)/2 + "
    "z(1 − tanh² u)u'/2 by the product and chain rules",
    outputs="[−0.170, ∞)",
    layer="GELUTanh",
    order=19,
)
