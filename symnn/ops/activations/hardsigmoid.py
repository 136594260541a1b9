"""Hard sigmoid: the line z/6 + 1/2 clipped to [0, 1], PyTorch's torch.nn.Hardsigmoid."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "hardsigmoid",
    "Hard sigmoid",
    sp.Piecewise((0, z <= -3), (1, z >= 3), (z / 6 + sp.Rational(1, 2), True)),
    sp.Piecewise((sp.Rational(1, 6), (z > -3) & (z < 3)), (0, True)),
    "a piecewise-linear σ: slope 1/6 for −3 < z < 3 and 0 outside (0 at the corners, as PyTorch takes it)",
    outputs="[0, 1]",
    layer="Hardsigmoid",
    order=16,
)
