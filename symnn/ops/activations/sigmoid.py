"""The sigmoid σ(z) = 1/(1 + e^(−z))."""

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

ACTIVATION = Activation(
    "sigmoid",
    "Sigmoid function",
    sigmoid(z),
    sigmoid(z) * (1 - sigmoid(z)),
    "σ' = σ(1 − σ): the derivative is built from the output itself",
    outputs="unit",
    layer="Sigmoid",
    order=2,
)
