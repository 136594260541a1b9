"""Sequential: layers in a row, a loss, a seed — fit / predict / loss / gradients.

Every public entry first runs one shape pass through the layer stack (`check_shapes`): each
layer says which output shape it gives for an input shape, or refuses it. Only then does a
generated kernel run — Numba does not check bounds, so a mismatch found later would write past
a buffer instead of raising.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, cast, overload

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError
from symnn.nn.layers import Activation, Layer, Shape, shape_text
from symnn.nn.losses import CrossEntropy, Loss, get_loss
from symnn.wording import plural


def as_numbers(value: object, what: str) -> np.ndarray:
    """value as a NumPy array of real numbers (bool, int or float); one InputError line otherwise."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InputError(f"{what} must be an array of real numbers (a ragged or odd object was given)") from None
    if arr.dtype.kind not in "biuf":
        raise InputError(
            f"{what} must hold real numbers (int or float); got dtype {arr.dtype}"
            + ("; take .real or abs() of complex data yourself" if arr.dtype.kind == "c" else "")
        )
    return arr


def check_seed(seed: object, what: str = "seed") -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"{what} must be a non-negative integer (got {seed!r})")
    return int(seed)


class Sequential:
    """A feed-forward net whose every forward and backward number comes from generated kernels.

    >>> net = Sequential([Dense(64, 30), Sigmoid(), Dense(30, 10), Sigmoid()], loss="quadratic", seed=0)
    >>> net.fit(X, y, epochs=30, lr=3.0, batch_size=10)
    """

    def __init__(self, layers: list[Layer], loss: "str | Loss" = "quadratic", seed: int = 0):
        if isinstance(layers, (str, bytes, Layer)) or not hasattr(layers, "__iter__"):
            raise InputError(f"Sequential takes a list of layers, e.g. [Dense(2, 3), Sigmoid()] (got {layers!r})")
        self.layers = list(layers)
        if not self.layers:
            raise InputError("Sequential needs at least one layer")
        self._check_layers()
        self.loss_fn = get_loss(loss)
        self.loss_fn.check_net(self.layers)
        self.seed = check_seed(seed)
        rng = np.random.default_rng(self.seed)
        for layer in self.layers:
            layer.init(rng)
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}

    # --- structure and shapes -----------------------------------------------------------------
    def _check_layers(self) -> None:
        seen: dict[int, int] = {}
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise InputError(
                    f"layer {i} is {layer!r}, not a layer; give layers such as Dense(2, 3), "
                    "Sigmoid(), Conv2D(1, 8, 3), MaxPool2D(2), Flatten()"
                )
            if id(layer) in seen:
                raise InputError(
                    f"layer {i} ({layer!r}) is the same object as layer {seen[id(layer)]}; "
                    "a layer keeps its own state, so create a new one for each position"
                )
            seen[id(layer)] = i

    def check_shapes(self, sample_shape: Shape) -> list[Shape]:
        """The shape of one sample entering each layer, then the output's; one InputError naming
        the layer (index and kind) and both shapes when a layer cannot take what it is given."""
        self._check_layers()
        dtype = self.dtype
        shapes = [tuple(int(d) for d in sample_shape)]
        for i, layer in enumerate(self.layers):
            try:
                layer.check_parameters(dtype)
            except InputError as exc:
                raise InputError(f"layer {i} ({layer!r}): {exc}") from None
            try:
                out = tuple(int(d) for d in layer.out_shape(shapes[-1]))
            except InputError as exc:
                source = (
                    f"X is shaped {shape_text(shapes[0])}"
                    if i == 0
                    else f"layer {i - 1} ({self.layers[i - 1]!r}) gives it {shape_text(shapes[-1])}"
                )
                raise InputError(f"layer {i} ({layer!r}) {exc}, but {source}") from None
            shapes.append(out)
        return shapes

    def output_shape(self, sample_shape: Shape) -> Shape:
        """The shape of one output sample for input samples of `sample_shape`."""
        return self.check_shapes(sample_shape)[-1]

    def memory_needed(self, sample_shape: Shape, n: int, batch_size: int = 0) -> int:
        """About how many bytes a forward pass of n samples (and, with batch_size, training) needs."""
        return self._bytes(self.check_shapes(sample_shape), n, batch_size)

    def _bytes(self, shapes: list[Shape], n: int, batch_size: int) -> int:
        item = self.dtype.itemsize
        values = sum(math.prod(s) for s in shapes)  # the input and every layer's output
        total = 2 * n * values * item  # kept for backward, plus padded copies
        if batch_size:
            params = sum(arr.size for arr in self.parameters().values())
            total += 3 * batch_size * values * item + 3 * params * item  # buffers, grads, updates
        return total

    # --- parameters -----------------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        """name -> the live array, e.g. 'layers.0.weight' (shaped (out, in))."""
        return {
            f"layers.{i}.{name}": arr for i, layer in enumerate(self.layers) for name, arr in layer.parameters().items()
        }

    @property
    def dtype(self) -> np.dtype:
        """The floating type of the parameters (float64 unless astype changed it)."""
        for layer in self.layers:
            for arr in layer.parameters().values():
                return getattr(arr, "dtype", np.dtype(np.float64))
        return np.dtype(np.float64)

    def astype(self, dtype: npt.DTypeLike) -> "Sequential":
        """Convert the parameters to float32 or float64 in place; inputs follow at fit/predict.
        The generated kernels are compiled once per dtype: float32 halves memory traffic (and
        doubles the width of BLAS's vectors) at ~7 significant digits instead of ~16."""
        try:
            dt = np.dtype(dtype)
        except (TypeError, ValueError):
            dt = None
        if dt is None or dt.name not in ("float32", "float64"):  # (None == float64 in NumPy)
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

    def reset(self) -> None:
        """Drop what every layer and the loss cached (kernels, buffers, saved activations); the
        parameters and the history stay."""
        for layer in self.layers:
            layer.reset()
        self.loss_fn.reset()
        self._last_output: tuple[int, ...] | None = None
        self.__dict__.pop("_epoch_drivers", None)  # compiled epochs kept by fit (symnn.nn.epoch.driver_for)

    # --- checked inputs ---------------------------------------------------------------------------
    def _check_X(self, X: npt.ArrayLike, shapes: list[Shape] | None = None) -> np.ndarray:
        X = as_numbers(X, "X")
        if X.ndim < 2:
            raise InputError(
                f"X must be 2-D (N, features) for a dense net or 4-D (N, C, H, W) for a CNN; "
                f"got shape {X.shape}" + ("; for one sample use X.reshape(1, -1)" if X.ndim == 1 else "")
            )
        if X.size == 0:
            raise InputError(f"X is empty (shape {X.shape}); give at least one sample")
        if shapes is None:  # (checked() made the shape pass already)
            self.check_shapes(X.shape[1:])
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            raise InputError(
                f"X contains {int((~np.isfinite(X)).sum())} NaN/inf value(s); only finite numbers are accepted"
            )
        return X

    @overload
    def checked(self, X: npt.ArrayLike, y: None = None, batch_size: int = 0) -> tuple[np.ndarray, None]: ...
    @overload
    def checked(self, X: npt.ArrayLike, y: npt.ArrayLike, batch_size: int = 0) -> tuple[np.ndarray, np.ndarray]: ...
    def checked(
        self, X: npt.ArrayLike, y: npt.ArrayLike | None = None, batch_size: int = 0
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """X and the targets, checked against the net before any kernel runs."""
        X, Y, _ = self.checked_shapes(X, y, batch_size)
        return X, Y

    def checked_shapes(
        self, X: npt.ArrayLike, y: npt.ArrayLike | None = None, batch_size: int = 0
    ) -> tuple[np.ndarray, np.ndarray | None, list[Shape]]:
        """checked(X, y, batch_size) and the sample shapes entering each layer (check_shapes)."""
        from symnn.limits import check_memory

        X = as_numbers(X, "X")
        shapes = None
        if X.ndim >= 2 and X.size:
            shapes = self.check_shapes(X.shape[1:])  # the shape pass, once
            check_memory(
                self._bytes(shapes, len(X), batch_size),
                f"{'training on' if batch_size else 'a forward pass of'} {plural(len(X), 'sample')} of this net",
            )
        X = self._check_X(X, shapes)
        assert shapes is not None  # _check_X refused every X without samples or features
        Y = None if y is None else self._targets_checked(y, len(X), shapes[-1])
        return X, Y, shapes

    def targets(self, y: npt.ArrayLike) -> np.ndarray:
        return self.loss_fn.targets(y, self.n_outputs)

    def _targets_checked(self, y: npt.ArrayLike, n: int, out: Shape | None = None) -> np.ndarray:
        if out is not None and len(out) != 1:
            raise InputError(
                f"the net's last layer gives outputs shaped {shape_text(out)}; the losses take "
                "outputs shaped (N, outputs): end the net with Flatten() and a Dense layer"
            )
        y = as_numbers(y, "y")
        Y = self.loss_fn.targets(y, out[0] if out is not None else self.n_outputs)
        if len(Y) != n:
            raise InputError(f"X has {plural(n, 'sample')} but y has {len(Y)}; they must match")
        if not np.isfinite(Y).all():
            raise InputError("y contains NaN/inf; only finite numbers are accepted")
        return np.ascontiguousarray(Y, dtype=self.dtype)

    # --- forward and backward -------------------------------------------------------------------
    def run_forward(self, X: np.ndarray) -> np.ndarray:
        """The outputs for an X that `checked` returned (no checks of its own)."""
        a = X
        for layer in self.layers:
            a = layer.forward(a)
        self._last_output = a.shape
        return a

    def forward(self, X: npt.ArrayLike) -> np.ndarray:
        """The net's outputs ŷ for a batch (step 3: forward propagation)."""
        return self.run_forward(self.checked(X)[0])

    def _logits(self) -> bool:
        """True when the loss is computed from the last layer's input z (sigmoid + cross-entropy)."""
        return self.loss_fn.from_logits(self.layers)

    def _from_z(self) -> tuple[CrossEntropy, Any]:
        """When _logits(): the loss computed from the last layer's input z (CrossEntropy after a
        Sigmoid) and the z that layer kept in the last forward pass (None before one)."""
        return cast(CrossEntropy, self.loss_fn), cast(Activation, self.layers[-1]).z

    def output_loss(self, yhat: np.ndarray, Y: np.ndarray) -> float:
        """The loss of the last forward pass, whose outputs are yhat (Y checked by `checked`)."""
        if self._logits():
            loss, z = self._from_z()
            return loss.logit_value(z, Y)
        return self.loss_fn.value(yhat, Y)

    def run_backward(self, yhat: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """Back-propagate the last forward pass's error (no checks of its own); fills every layer's grads."""
        if self._logits():  # ∂C/∂z = σ(z) − y: the last sigmoid is inside it
            loss, z = self._from_z()
            delta, layers = loss.logit_gradient(z, Y), self.layers[:-1]
        else:
            delta, layers = self.loss_fn.gradient(yhat, Y), self.layers
        for layer in reversed(layers):
            delta = layer.backward(delta)
        return delta

    def backward(self, yhat: npt.ArrayLike, Y: npt.ArrayLike) -> np.ndarray:
        """Step 5: back-propagate the error of the last forward pass; fills every layer's grads."""
        last = getattr(self, "_last_output", None)
        yhat = as_numbers(yhat, "yhat")
        if last is None or yhat.shape != last:
            raise InputError(f"backward takes the output of the last forward pass, shaped {last}; got {yhat.shape}")
        Y = self._targets_checked(Y, len(yhat), last[1:])
        return self.run_backward(np.ascontiguousarray(yhat, dtype=self.dtype), Y)

    def loss(self, X: npt.ArrayLike, y: npt.ArrayLike) -> float:
        """Mean over the batch of the per-sample cost (quadratic: Σ over outputs of ½(ŷ − y)²)."""
        X, Y = self.checked(X, y)
        return self.output_loss(self.run_forward(X), Y)

    def gradients(self, X: npt.ArrayLike, y: npt.ArrayLike) -> dict[str, np.ndarray]:
        """∂loss/∂parameter for every parameter, same keys as parameters()."""
        X, Y = self.checked(X, y)
        self.run_backward(self.run_forward(X), Y)
        return {f"layers.{i}.{name}": g for i, layer in enumerate(self.layers) for name, g in layer.grads.items()}

    # --- user API ---------------------------------------------------------------------------
    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Class labels (arg-max) for several outputs; the output itself for one."""
        out = self.forward(X)
        return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(len(out), -1)[:, 0]

    def accuracy(self, X: npt.ArrayLike, y: npt.ArrayLike) -> float:
        X = self._check_X(X)
        y = as_numbers(y, "y")
        k = self.output_shape(X.shape[1:])
        if y.ndim not in (1, 2) or len(y) != len(X) or (y.ndim == 2 and y.shape[1:] != k):
            raise InputError(
                f"accuracy takes labels shaped (N,) or one-hot targets shaped {shape_text(k)} "
                f"for the {plural(len(X), 'sample')} of X; got y shaped {y.shape}"
            )
        labels = y.argmax(axis=1) if y.ndim == 2 else y
        return float((self.predict(X) == labels).mean())

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        epochs: int = 30,
        lr: float | None = None,
        batch_size: int = 10,
        **options: Any,
    ) -> "Sequential":
        """Train with mini-batch SGD (batch_size=1: stochastic; batch_size=len(X): batch), or with
        optimizer="momentum" | "nesterov" | "rmsprop" | "adam" or an object such as
        symnn.nn.Adam(lr=1e-3); lr defaults to the optimizer's (SGD: 3.0)."""
        from symnn.nn.train import OPTIONS, fit

        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise InputError(
                f"fit() has no option {unknown[0]!r}; it takes: epochs, lr, batch_size, " + ", ".join(OPTIONS)
            )
        fit(self, X, y, epochs=epochs, lr=lr, batch_size=batch_size, **options)
        return self

    # --- models you keep (symnn.nn.saving) ---------------------------------------------------
    info: dict[str, Any] | None = None  # how a loaded model was trained
    preprocessing: dict[str, Any] | None = None  # the data's preprocessing, kept with the model
    classes: list[str] | None = None  # class names, in output order
    features: list[str] | None = None  # feature (column) names, in input order
    input_shape: tuple[int, ...] | None = None  # one sample's shape, when known

    def save(
        self,
        path: str | os.PathLike[str],
        info: dict[str, Any] | None = None,
        preprocessing: dict[str, Any] | None = None,
        *,
        classes: list[str] | None = None,
        features: list[str] | None = None,
        input_shape: tuple[int, ...] | None = None,
        force: bool = False,
    ) -> Path:
        """Write the model to one portable file (.npz + JSON header, never pickle): the layers,
        the weights, the loss, how it was trained (info) and the data's preprocessing. A file
        symnn did not write is replaced only with force (symnn.nn.saving.save)."""
        from symnn.nn.saving import save

        return save(
            self,
            path,
            info=info,
            preprocessing=preprocessing,
            classes=classes,
            features=features,
            input_shape=input_shape,
            force=force,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Sequential":
        """The model saved at path; one FileError line for a damaged or foreign file."""
        from symnn.nn.saving import load

        return load(path)

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.layers))
        return f"Sequential([{inner}], loss={self.loss_fn!r}, seed={self.seed})"
