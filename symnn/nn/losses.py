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

    def targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """Integer labels become one-hot rows; real targets become a column when there is one output."""
        y = np.asarray(y)
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
        return float(self.kernels[0](yhat, Y).sum() / len(yhat))

    def gradient(self, yhat: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂(mean cost)/∂ŷ: the derived ∂C/∂ŷ divided by the batch size."""
        return self.kernels[1](yhat, Y, float(len(yhat)))

    def train_gradient(self, yhat: np.ndarray, Y: np.ndarray, ws) -> np.ndarray:
        out = ws.get_buffer(self, "grad", yhat.shape)
        self.kernels[1].dispatcher(yhat.reshape(-1), Y.reshape(-1), float(len(yhat)), out.reshape(-1))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quadratic(Loss):
    """C = Σ ½(ŷ − y)², the lecture's cost."""
    name = "quadratic"


class CrossEntropy(Loss):
    """C = −Σ [y ln ŷ + (1 − y) ln(1 − ŷ)], for sigmoid outputs."""
    name = "cross-entropy"


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
