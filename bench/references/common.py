"""What every reference shares: the initial parameters, the epoch order, the digits data and a
timer, so that references run side by side start from the same numbers and can be compared."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

# ---- initial parameters --------------------------------------------------------------------
# One rule for every reference (and for symnn's own nets when they want to be compared):
# rng = np.random.default_rng(seed); for each layer in order, weight = rng.normal(0, 1/sqrt(fan_in),
# shape); biases start at 0. Weights close to 0 but not 0 (the lecture's step 1).


@dataclass
class MLP:
    """A fully connected net: weights[l] shaped (n_out, n_in), biases[l] shaped (n_out,)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    def copy(self) -> "MLP":
        return MLP([w.copy() for w in self.weights], [b.copy() for b in self.biases])


def init_mlp(sizes: list[int], seed: int = 0) -> MLP:
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in)))
        biases.append(np.zeros(n_out))
    return MLP(weights, biases)


@dataclass
class CNN:
    """conv (F, C, kh, kw) -> ReLU -> max-pool -> flatten (F, Hp, Wp order) -> dense (n_out, F*Hp*Wp)."""

    conv_w: np.ndarray
    conv_b: np.ndarray
    dense_w: np.ndarray
    dense_b: np.ndarray
    pool: int = 2

    def copy(self) -> "CNN":
        return CNN(self.conv_w.copy(), self.conv_b.copy(), self.dense_w.copy(), self.dense_b.copy(), self.pool)


def init_cnn(
    in_shape: tuple[int, int, int] = (1, 8, 8),
    n_filters: int = 8,
    kernel: int = 3,
    pool: int = 2,
    n_out: int = 10,
    seed: int = 0,
) -> CNN:
    C, H, W = in_shape
    Hp, Wp = (H - kernel + 1) // pool, (W - kernel + 1) // pool
    rng = np.random.default_rng(seed)
    conv_w = rng.normal(0.0, 1.0 / np.sqrt(C * kernel * kernel), (n_filters, C, kernel, kernel))
    n_flat = n_filters * Hp * Wp
    dense_w = rng.normal(0.0, 1.0 / np.sqrt(n_flat), (n_out, n_flat))
    return CNN(conv_w, np.zeros(n_filters), dense_w, np.zeros(n_out), pool)


def epoch_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """The sample order of one epoch: every reference draws exactly this once per epoch."""
    return rng.permutation(n)


# ---- data ------------------------------------------------------------------------------------


@dataclass
class Digits:
    X_train: np.ndarray
    Y_train: np.ndarray  # one-hot (N, 10)
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def digits(images: bool = False, seed: int = 0) -> Digits:
    """The bundled digits (symnn.nn.data, 1437 train / 360 test), with one-hot training targets."""
    from symnn.nn.data import load, one_hot

    ds = load("digits", seed=seed, images=images)
    return Digits(ds.X_train, one_hot(ds.y_train, 10), ds.y_train, ds.X_test, ds.y_test)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


# ---- timing ------------------------------------------------------------------------------------


@dataclass
class Reference:
    """One implementation, ready to time: init(seed) -> state, then train_epoch and predict."""

    name: str
    init: Callable[[int], Any]
    train_epoch: Callable[..., Any]
    predict: Callable[[Any, np.ndarray], np.ndarray]


@dataclass
class Timing:
    name: str
    epoch_seconds: list[float] = field(default_factory=list)
    accuracy: float = float("nan")

    @property
    def median(self) -> float:
        """Median seconds per epoch, leaving out the first (it may include compilation)."""
        times = self.epoch_seconds[1:] or self.epoch_seconds
        return median(times)


def time_training(
    ref: Reference,
    X: np.ndarray,
    Y: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int = 0,
) -> Timing:
    """Train from init(seed) for `epochs` epochs (epoch order from default_rng(seed)), timing each."""
    state = ref.init(seed)
    rng = np.random.default_rng(seed)
    result = Timing(ref.name)
    for _ in range(epochs):
        t0 = time.perf_counter()
        state = ref.train_epoch(state, X, Y, lr, batch_size, rng)
        result.epoch_seconds.append(time.perf_counter() - t0)
    result.accuracy = accuracy(ref.predict(state, X_test), y_test)
    return result


def ratio_table(rows: list[dict], title: str, time_label: str = "ms (median)", accuracy: bool = True) -> str:
    """A Markdown table of rows {name, ms[, accuracy]}: each time and its ratio to the first row's."""
    ours = rows[0]["ms"]
    head = f"| implementation | {time_label} | time / symnn's |" + (" test accuracy |" if accuracy else "")
    lines = [title, head, "|---|---|---|" + ("---|" if accuracy else "")]
    for r in rows:
        acc = f" {r['accuracy']:.4f} |" if accuracy else ""
        lines.append(f"| {r['name']} | {r['ms']:.2f} | {r['ms'] / ours:.2f} |{acc}")
    return "\n".join(lines)


@contextlib.contextmanager
def part_timers(net: Any, spent: dict, loss: str = "loss gradient", update: str = "SGD update") -> Iterator[None]:
    """Within the block, add the seconds of each layer's train_forward and train_backward, the loss
    gradient and the SGD update to spent[label]; everything is put back afterwards."""
    from symnn.nn import train as train_mod

    def timed(label: str, func: Callable) -> Callable:
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                spent[label] += time.perf_counter() - t0

        return wrapper

    patched = [(layer, name) for layer in net.layers for name in ("train_forward", "train_backward")]
    patched.append((net.loss_fn, "train_gradient"))
    saved = [(obj, name, vars(obj).get(name)) for obj, name in patched]
    for n, layer in enumerate(net.layers):
        kind = type(layer).__name__
        layer.train_forward = timed(f"{n}. {kind} forward", layer.train_forward)
        layer.train_backward = timed(f"{n}. {kind} backward", layer.train_backward)
    net.loss_fn.train_gradient = timed(loss, net.loss_fn.train_gradient)
    sgd = train_mod.sgd_step
    train_mod.sgd_step = timed(update, sgd)
    try:
        yield
    finally:
        train_mod.sgd_step = sgd
        for obj, name, before in saved:
            if before is None:
                delattr(obj, name)
            else:
                setattr(obj, name, before)
