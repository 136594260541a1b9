"""Hard swish: z·ReLU6(z + 3)/6 (MobileNetV3), PyTorch's torch.nn.Hardswish."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation

ACTIVATION = Activation(
    "hardswish",
    "Hard swish",
    sp.Piecewise((0, z < -3), (z * (z + 3) / 6, z <= 3), (z, True)),
    sp.Piecewise((0, z < -3), ((2 * z + 3) / 6, z <= 3), (1, True)),
    "z times the hard sigmoid: 0 below −3, z(z + 3)/6 up to 3, z above; the middle piece's slope "
    "(2z + 3)/6 holds at both corners, as PyTorch takes it",
    outputs="[−0.375, ∞)",
    layer="Hardswish",
    order=17,
)
