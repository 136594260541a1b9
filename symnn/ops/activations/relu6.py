"""ReLU6: min(max(0, z), 6), PyTorch's torch.nn.ReLU6 (MobileNet's rectifier)."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "relu6",
    "Rectifier capped at 6 (ReLU6)",
    sp.Piecewise((0, z <= 0), (6, z >= 6), (z, True)),
    sp.Piecewise((1, (z > 0) & (z < 6)), (0, True)),
    "the slope is 1 for 0 < z < 6 and 0 outside; at the corners z = 0 and z = 6 symnn takes 0, as PyTorch does",
    outputs="[0, 6]",
    layer="ReLU6",
    order=15,
)
