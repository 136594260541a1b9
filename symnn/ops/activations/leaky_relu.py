"""The leaky rectifier: slope 1 for z > 0, 0.01 otherwise."""

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import LEAKY_SLOPE, leaky_relu, step

ACTIVATION = Activation(
    "leaky_relu",
    "Leaky rectifier",
    leaky_relu(z),
    step(z) + LEAKY_SLOPE * (1 - step(z)),
    "slope 1 for z > 0 and 0.01 otherwise, so a unit never dies completely",
    outputs="real",
    layer="LeakyReLU",
    order=5,
)
