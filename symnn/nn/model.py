"""Sequential: layers in a row, a loss, a seed — fit / predict / loss / gradients."""
from __future__ import annotations

import numpy as np

from symnn.errors import InputError
from symnn.nn.layers import Layer
from symnn.nn.losses import Loss, get_loss


class Sequential:
    """A feed-forward net whose every forward and backward number comes from generated kernels.

    >>> net = Sequential([Dense(64, 30), Sigmoid(), Dense(30, 10), Sigmoid()], loss="quadratic", seed=0)
    >>> net.fit(X, y, epochs=30, lr=3.0, batch_size=10)
    """

    def __init__(self, layers: list[Layer], loss: "str | Loss" = "quadratic", seed: int = 0):
        if not layers:
            raise InputError("Sequential needs at least one layer")
        self.layers = list(layers)
        self.loss_fn = get_loss(loss)
        self.seed = seed
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.init(rng)
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}

    # --- parameters -----------------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        """name -> the live array, e.g. 'layers.0.weight' (shaped (out, in))."""
        return {f"layers.{i}.{name}": arr for i, layer in enumerate(self.layers)
                for name, arr in layer.parameters().items()}

    @property
    def dtype(self) -> np.dtype:
        """The floating type of the parameters (float64 unless astype changed it)."""
        for arr in self.parameters().values():
            return arr.dtype
        return np.dtype(np.float64)

    def astype(self, dtype) -> "Sequential":
        """Convert the parameters to float32 or float64 in place; inputs follow at fit/predict.
        The generated kernels are compiled once per dtype: float32 halves memory traffic (and
        doubles the width of BLAS's vectors) at ~7 significant digits instead of ~16."""
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InputError(f"dtype must be float32 or float64 (got {dtype!r})")
        for layer in self.layers:
            for name, arr in layer.parameters().items():
                setattr(layer, name, np.ascontiguousarray(arr, dtype=dt))
        return self

    @property
    def n_outputs(self) -> int:
        for layer in reversed(self.layers):
            if hasattr(layer, "n_out"):
                return layer.n_out
            if hasattr(layer, "out_channels"):
                return layer.out_channels
        raise InputError("the network has no layer with outputs")

    # --- forward and backward -------------------------------------------------------------------
    def _check_X(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if X.size == 0 or len(X) == 0:
            raise InputError("X is empty; give at least one sample")
        if not np.isfinite(X).all():
            raise InputError(f"X contains {int((~np.isfinite(X)).sum())} NaN/inf value(s); only finite numbers are accepted")
        return X

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The net's outputs ŷ for a batch (step 3: forward propagation)."""
        a = self._check_X(X)
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def backward(self, yhat: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Step 5: back-propagate the error; fills every layer's grads."""
        delta = self.loss_fn.gradient(yhat, Y)
        for layer in reversed(self.layers):
            delta = layer.backward(delta)
        return delta

    def targets(self, y) -> np.ndarray:
        return self.loss_fn.targets(y, self.n_outputs)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean over the batch of the per-sample cost (quadratic: Σ over outputs of ½(ŷ − y)²)."""
        yhat = self.forward(X)
        return self.loss_fn.value(yhat, self._targets_checked(y, len(yhat)))

    def gradients(self, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """∂loss/∂parameter for every parameter, same keys as parameters()."""
        yhat = self.forward(X)
        self.backward(yhat, self._targets_checked(y, len(yhat)))
        return {f"layers.{i}.{name}": g for i, layer in enumerate(self.layers)
                for name, g in layer.grads.items()}

    def _targets_checked(self, y, n: int) -> np.ndarray:
        Y = self.targets(y)
        if len(Y) != n:
            raise InputError(f"X has {n} samples but y has {len(Y)}; they must match")
        if not np.isfinite(Y).all():
            raise InputError("y contains NaN/inf; only finite numbers are accepted")
        return Y.astype(self.dtype, copy=False)

    # --- user API ---------------------------------------------------------------------------
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (arg-max) for several outputs; the output itself for one."""
        out = self.forward(X)
        return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(len(out), -1)[:, 0]

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        y = np.asarray(y)
        labels = y.argmax(axis=1) if y.ndim == 2 else y
        return float((self.predict(X) == labels).mean())

    def fit(self, X, y, epochs: int = 30, lr: float = 3.0, batch_size: int = 10, **options) -> "Sequential":
        """Train with mini-batch SGD (batch_size=1: stochastic; batch_size=len(X): batch)."""
        from symnn.nn.train import fit
        fit(self, X, y, epochs=epochs, lr=lr, batch_size=batch_size, **options)
        return self

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.layers))
        return f"Sequential([{inner}], loss={self.loss_fn!r}, seed={self.seed})"
