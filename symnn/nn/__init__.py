"""Small nets trained by kernels generated from symnn's derivations."""
from symnn.nn.layers import (ACTIVATION_LAYERS, Dense, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh,
                             Threshold, activation_layer)
from symnn.nn.losses import CrossEntropy, Quadratic, get_loss
from symnn.nn.model import Sequential
from symnn.nn.cnn_layers import AvgPool2D, Conv2D, Flatten, MaxPool2D, SoftmaxCrossEntropy  # noqa: E402

__all__ = ["Sequential", "Dense", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softplus", "Threshold",
           "activation_layer", "ACTIVATION_LAYERS", "Quadratic", "CrossEntropy", "get_loss",
           "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "SoftmaxCrossEntropy"]
