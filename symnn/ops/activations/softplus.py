"""Softplus ln(1 + e^(βz))/β, a smooth ReLU; β = 1 by default, PyTorch's torch.nn.Softplus(beta)."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import sigmoid

beta = sp.Symbol("beta", positive=True)

ACTIVATION = Activation(
    "softplus",
    "Softplus",
    sp.log(1 + sp.exp(beta * z)) / beta,
    sigmoid(beta * z),
    "softplus(z) = ln(1 + e^(βz))/β is a smooth ReLU; its derivative is the sigmoid σ(βz)",
    outputs="positive",
    layer="Softplus",
    order=6,
    params=((beta, sp.Integer(1)),),
)
