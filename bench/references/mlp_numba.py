"""An expert hand-written Numba kernel for one epoch of Nielsen's algorithm (one hidden layer).

Same algorithm as mlp_numpy.train_epoch — per-sample backprop summed over each mini-batch, sigmoid,
quadratic cost, w -> w - (eta / m) * nabla_w — written as plain loops in one compiled function:
no allocation inside the epoch, weights (out, in) walked row by row so every inner loop is
contiguous, σ'(z) taken as a(1 − a) from the stored activation. `fastmath=True` selects a second
compilation that lets LLVM reassociate and vectorise the sums.
"""

from __future__ import annotations

from math import exp

import numpy as np
from numba import njit

from .common import MLP, epoch_order, init_mlp

NAME = "hand Numba per-sample"
NAME_FASTMATH = "hand Numba per-sample, fastmath"


def _epoch(
    W1, b1, W2, b2, X, Y, order, eta, batch_size, nabla_w1, nabla_b1, nabla_w2, nabla_b2, a1, a2, delta1, delta2
):
    n_in = X.shape[1]
    n_hidden = W1.shape[0]
    n_out = W2.shape[0]
    n = order.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        nabla_w1[:, :] = 0.0
        nabla_b1[:] = 0.0
        nabla_w2[:, :] = 0.0
        nabla_b2[:] = 0.0
        for t in range(start, stop):
            s = order[t]
            # forward: z = W a + b, a = σ(z)
            for j in range(n_hidden):
                z = 0.0
                for k in range(n_in):
                    z += W1[j, k] * X[s, k]
                a1[j] = 1.0 / (1.0 + exp(-(z + b1[j])))
            for j in range(n_out):
                z = 0.0
                for k in range(n_hidden):
                    z += W2[j, k] * a1[k]
                a2[j] = 1.0 / (1.0 + exp(-(z + b2[j])))
            # BP1, BP3, BP4 for the output layer
            for j in range(n_out):
                delta2[j] = (a2[j] - Y[s, j]) * a2[j] * (1.0 - a2[j])
                nabla_b2[j] += delta2[j]
                for k in range(n_hidden):
                    nabla_w2[j, k] += delta2[j] * a1[k]
            # BP2: delta1 = (W2ᵀ delta2) ⊙ σ'(z1), accumulated row by row of W2
            delta1[:] = 0.0
            for j in range(n_out):
                for k in range(n_hidden):
                    delta1[k] += W2[j, k] * delta2[j]
            for j in range(n_hidden):
                delta1[j] *= a1[j] * (1.0 - a1[j])
                nabla_b1[j] += delta1[j]
                for k in range(n_in):
                    nabla_w1[j, k] += delta1[j] * X[s, k]
        scale = eta / (stop - start)
        for j in range(n_hidden):
            b1[j] -= scale * nabla_b1[j]
            for k in range(n_in):
                W1[j, k] -= scale * nabla_w1[j, k]
        for j in range(n_out):
            b2[j] -= scale * nabla_b2[j]
            for k in range(n_hidden):
                W2[j, k] -= scale * nabla_w2[j, k]


def _predict(W1, b1, W2, b2, X, out):
    n_hidden = W1.shape[0]
    n_out = W2.shape[0]
    a1 = np.empty(n_hidden)
    for s in range(X.shape[0]):
        for j in range(n_hidden):
            z = b1[j]
            for k in range(X.shape[1]):
                z += W1[j, k] * X[s, k]
            a1[j] = 1.0 / (1.0 + exp(-z))
        best, best_z = 0, -np.inf
        for j in range(n_out):
            z = b2[j]
            for k in range(n_hidden):
                z += W2[j, k] * a1[k]
            if z > best_z:  # σ is increasing: the arg-max of z is the arg-max of a
                best, best_z = j, z
        out[s] = best


_epoch_strict = njit(_epoch)
_epoch_fast = njit(fastmath=True)(_epoch)
_predict_jit = njit(_predict)


def init(sizes: list[int], seed: int = 0) -> MLP:
    if len(sizes) != 3:
        raise ValueError(f"the hand kernel has exactly one hidden layer; got sizes {sizes}")
    return init_mlp(sizes, seed)


def train_epoch(
    net: MLP,
    X: np.ndarray,
    Y_onehot: np.ndarray,
    lr: float,
    batch_size: int,
    rng: np.random.Generator,
    fastmath: bool = False,
) -> MLP:
    """One epoch, in place on net's arrays (float64, C-contiguous)."""
    (W1, W2), (b1, b2) = net.weights, net.biases
    X = np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float64)
    Y = np.ascontiguousarray(Y_onehot, dtype=np.float64)
    order = epoch_order(rng, len(X))
    kernel = _epoch_fast if fastmath else _epoch_strict
    kernel(
        W1,
        b1,
        W2,
        b2,
        X,
        Y,
        order,
        float(lr),
        int(batch_size),
        np.empty_like(W1),
        np.empty_like(b1),
        np.empty_like(W2),
        np.empty_like(b2),
        np.empty(W1.shape[0]),
        np.empty(W2.shape[0]),
        np.empty(W1.shape[0]),
        np.empty(W2.shape[0]),
    )
    return net


def predict(net: MLP, X: np.ndarray) -> np.ndarray:
    out = np.empty(len(X), dtype=np.int64)
    (W1, W2), (b1, b2) = net.weights, net.biases
    _predict_jit(W1, b1, W2, b2, np.ascontiguousarray(X.reshape(len(X), -1), dtype=np.float64), out)
    return out
