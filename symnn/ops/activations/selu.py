"""SELU, the scaled ELU of self-normalising networks (Klambauer et al., 2017), torch.nn.SELU."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

# The two constants of the paper, to the digits PyTorch uses.
ALPHA = sp.Float("1.6732632423543772848170429916717", 32)
SCALE = sp.Float("1.0507009873554804934193349852946", 32)

ACTIVATION = Activation(
    "selu",
    "Scaled exponential linear unit (SELU)",
    SCALE * sp.Piecewise((z, z > 0), (ALPHA * (sp.exp(z) - 1), True)),
    SCALE * sp.Piecewise((1, z > 0), (ALPHA * sp.exp(z), True)),
    "SELU = λ·ELU_α with λ ≈ 1.0507 and α ≈ 1.6733, chosen so that activations keep mean 0 and "
    "variance 1 from layer to layer; its derivative is λ for z > 0 and λα·e^z otherwise",
    outputs="(−1.758, ∞)",
    layer="SELU",
    order=10,
)
