"""GELU, the erf form: φ(z) = z·Φ(z) with Φ the standard normal CDF, PyTorch's torch.nn.GELU()."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "gelu",
    "Gaussian error linear unit (GELU)",
    z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
    (1 + sp.erf(z / sp.sqrt(2))) / 2 + z * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi),
    "GELU' = Φ(z) + z·φ(z): the normal CDF plus z times the normal density (the erf form, PyTorch's "
    "default approximate='none')",
    outputs="[−0.170, ∞)",
    layer="GELU",
    order=8,
)
