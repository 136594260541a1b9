"""The threshold (Heaviside step) of the lecture's perceptron."""

import sympy as sp

from symnn.notation import z
from symnn.ops.activations import Activation
from symnn.ops.functions import step

ACTIVATION = Activation(
    "threshold",
    "Threshold function",
    step(z),
    sp.DiracDelta(z),
    "the step jumps at 0 and is flat elsewhere: its derivative is the Dirac delta, 0 for every z ≠ 0, "
    "so gradient descent gets no signal through it",
    outputs="{0, 1}",
    layer="Threshold",
    order=1,
)
