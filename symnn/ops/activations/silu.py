"""SiLU (swish with β = 1): φ(z) = z·σ(z), PyTorch's torch.nn.SiLU."""

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

ACTIVATION = Activation(
    "silu",
    "Sigmoid-weighted linear unit (SiLU, swish)",
    z * sigmoid(z),
    sigmoid(z) * (1 + z * (1 - sigmoid(z))),
    "SiLU' = σ(z)(1 + z(1 − σ(z))): smooth, not monotonic (its minimum is about −0.278 at z ≈ −1.278)",
    outputs="[−0.279, ∞)",
    layer="SiLU",
    order=7,
)
