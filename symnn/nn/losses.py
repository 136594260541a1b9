"""Losses: the mean over the batch of the per-sample cost, and its gradient — both kernels
generated from the cost's derivation (`symnn derive cost-functions`)."""
from __future__ import annotations

import numpy as np

from symnn.errors import InputError, unknown


class Loss:
    name = ""

    def __init__(self):
        self._k = None

    @property
    def kernels(self):
        if self._k is None:
            from symnn.codegen import kernel
            self._k = (kernel(f"{self.name}.loss"), kernel(f"{self.name}.grad"))
        return self._k

    def check_net(self, layers: list) -> None:
        """InputError when the net's last layer gives outputs this loss cannot take."""

    def from_logits(self, layers: list) -> bool:
        """True when the loss and its gradient are computed from the last layer's input z."""
        return False

    def targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """Integer labels become one-hot rows; real targets become a column when there is one output."""
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            raise InputError(f"y must be 1-D (labels, or one target per sample) or 2-D (N, {n_outputs}) "
                             f"targets; got shape {y.shape}")
        if y.ndim == 1 and n_outputs > 1:
            from symnn.nn.data import one_hot
            return one_hot(y, n_outputs)
        if y.ndim == 1:
            return y.astype(np.float64).reshape(-1, 1)
        if y.shape[1] != n_outputs:
            raise InputError(f"targets have {y.shape[1]} columns but the network has {n_outputs} outputs")
        return y.astype(np.float64)

    def value(self, yhat: np.ndarray, Y: np.ndarray) -> float:
        """Mean over the batch of Σ_outputs c(ŷ, y)."""
        return _mean(self.kernels, yhat, Y)

    def gradient(self, yhat: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂(mean cost)/∂ŷ: the derived ∂C/∂ŷ divided by the batch size."""
        return self.kernels[1](yhat, Y, float(len(yhat)))

    def train_gradient(self, yhat: np.ndarray, Y: np.ndarray, ws) -> np.ndarray:
        return _into_buffer(self, self.kernels, yhat, Y, ws)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quadratic(Loss):
    """C = Σ ½(ŷ − y)², the lecture's cost."""
    name = "quadratic"


class CrossEntropy(Loss):
    """C = −Σ [y ln ŷ + (1 − y) ln(1 − ŷ)], for sigmoid outputs ŷ = σ(z). A net computes it from z
    in the stable form max(z, 0) − y z + ln(1 + e^(−|z|)), with the gradient σ(z) − y
    (`symnn derive sigmoid-cross-entropy`): finite for any z, where ln σ(z) is −inf beyond −745."""
    name = "cross-entropy"

    def check_net(self, layers: list) -> None:
        from symnn.nn.layers import Sigmoid
        if not isinstance(layers[-1], Sigmoid):
            raise InputError(f"the cross-entropy cost needs outputs strictly between 0 and 1: end the net with "
                             f"Sigmoid() (its last layer is {layers[-1]!r}), or use loss='quadratic'")

    def from_logits(self, layers: list) -> bool:
        from symnn.nn.layers import Sigmoid
        return isinstance(layers[-1], Sigmoid)

    @property
    def logit_kernels(self):
        if getattr(self, "_lk", None) is None:
            from symnn.codegen import kernel
            self._lk = (kernel("sigmoid_cross_entropy.loss"), kernel("sigmoid_cross_entropy.grad"))
        return self._lk

    def logit_value(self, z: np.ndarray, Y: np.ndarray) -> float:
        """Mean over the batch of Σ_outputs [max(z, 0) − y z + ln(1 + e^(−|z|))]."""
        return _mean(self.logit_kernels, z, Y)

    def logit_gradient(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂(mean cost)/∂z = (σ(z) − y)/n."""
        return self.logit_kernels[1](z, Y, float(len(z)))

    def train_logit_gradient(self, z: np.ndarray, Y: np.ndarray, ws) -> np.ndarray:
        return _into_buffer(self, self.logit_kernels, z, Y, ws)


LOSSES: dict[str, type[Loss]] = {"quadratic": Quadratic, "cross-entropy": CrossEntropy}


def get_loss(loss: "str | Loss") -> Loss:
    if isinstance(loss, Loss):
        return loss
    key = str(loss).lower().replace("_", "-")
    key = {"mse": "quadratic", "bce": "cross-entropy"}.get(key, key)
    if key == "softmax-cross-entropy":
        from symnn.nn.cnn_layers import SoftmaxCrossEntropy
        return SoftmaxCrossEntropy()
    if key not in LOSSES:
        raise unknown("loss", loss, [*LOSSES, "softmax-cross-entropy"])
    return LOSSES[key]()


def _mean(kernels, a: np.ndarray, Y: np.ndarray) -> float:
    """Mean over the batch of the loss kernel's per-output values."""
    return float(kernels[0](a, Y).sum() / len(a))


def _into_buffer(owner, kernels, a: np.ndarray, Y: np.ndarray, ws) -> np.ndarray:
    """The gradient kernel's (∂C/∂a)/n written into the workspace's buffer (training path)."""
    out = ws.get_buffer(owner, "grad", a.shape)
    kernels[1].dispatcher(a.reshape(-1), Y.reshape(-1), float(len(a)), out.reshape(-1))
    return out
