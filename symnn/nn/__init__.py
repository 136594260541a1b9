"""Small nets trained by kernels generated from symnn's derivations."""

from typing import Any

from symnn.nn.cnn_layers import Conv2D, Flatten
from symnn.nn.layers import (
    ACTIVATION_LAYERS,
    Activation,
    Dense,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
    Threshold,
    activation_layer,
    activation_names,
    layer_class,
)
from symnn.nn.losses import Cost, CrossEntropy, Quadratic, SoftmaxCrossEntropy, get_loss
from symnn.nn.model import Sequential
from symnn.nn.optimizers import SGD, Adam, Momentum, Nesterov, Optimizer, RMSProp
from symnn.nn.pool_layers import AvgPool2D, MaxPool2D

__all__ = [
    "Sequential",
    "Dense",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softplus",
    "Threshold",
    "Activation",
    "activation_layer",
    "activation_names",
    "ACTIVATION_LAYERS",
    "Cost",
    "Quadratic",
    "CrossEntropy",
    "get_loss",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "SoftmaxCrossEntropy",
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "RMSProp",
    "Adam",
]


def __getattr__(name: str) -> Any:
    """The layer class of any other activation, by its record's layer name (SiLU, GELU, ...)."""
    from symnn.ops.activations import ACTIVATIONS

    for record in ACTIVATIONS.values():
        if record.layer == name:
            return layer_class(record.name)
    raise AttributeError(f"module 'symnn.nn' has no attribute {name!r}")
