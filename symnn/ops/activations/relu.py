"""The rectifier ReLU(z) = max(0, z)."""

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import relu, step

ACTIVATION = Activation(
    "relu",
    "Rectifier function",
    relu(z),
    step(z),
    "ReLU' = step: 1 for z > 0, 0 for z < 0; at z = 0 we take the sub-gradient 0, as PyTorch does",
    outputs="[0, ∞)",
    layer="ReLU",
    order=3,
)
