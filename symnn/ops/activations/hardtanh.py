"""Hard tanh: z clipped to [−1, 1], PyTorch's torch.nn.Hardtanh()."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "hardtanh",
    "Hard tanh",
    sp.Piecewise((-1, z <= -1), (1, z >= 1), (z, True)),
    sp.Piecewise((1, (z > -1) & (z < 1)), (0, True)),
    "the slope is 1 strictly between −1 and 1 and 0 outside; at the corners z = ±1 symnn takes 0, as PyTorch does",
    outputs="[−1, 1]",
    layer="Hardtanh",
    order=14,
)
