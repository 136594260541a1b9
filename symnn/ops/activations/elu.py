"""ELU, the exponential linear unit (Clevert et al., 2015), PyTorch's torch.nn.ELU(alpha)."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

alpha = sp.Symbol("alpha", positive=True)

ACTIVATION = Activation(
    "elu",
    "Exponential linear unit (ELU)",
    sp.Piecewise((z, z > 0), (alpha * (sp.exp(z) - 1), True)),
    sp.Piecewise((1, z > 0), (alpha * sp.exp(z), True)),
    "ELU' is 1 for z > 0 and α·e^z otherwise (α at z = 0, as PyTorch takes it); negative outputs "
    "down to −α keep the mean activation near 0",
    outputs="(−α, ∞)",
    layer="ELU",
    order=9,
    params=((alpha, sp.Integer(1)),),
)
