"""The digits CNN in NumPy, forward and backward by hand through im2col (the benchmark reference).

conv (F filters, kh x kw, stride 1, no padding) -> ReLU -> max-pool (size p, stride p) -> flatten
-> dense -> softmax with cross-entropy, averaged over the mini-batch; plain mini-batch SGD.
Shapes: X (N, C, H, W); conv_w (F, C, kh, kw); dense_w (n_out, F*Hp*Wp) in (F, Hp, Wp) order.
Max-pool sends each window's gradient to its first maximum (as PyTorch); ReLU'(0) = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .common import CNN, epoch_order, init_cnn

NAME = "NumPy im2col mini-batch"


def im2col(X: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """(N, C, H, W) -> (N, Ho*Wo, C*kh*kw): row p holds the window under output pixel p."""
    N, C, H, W = X.shape
    windows = sliding_window_view(X, (kh, kw), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw)
    Ho, Wo = H - kh + 1, W - kw + 1
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N, Ho * Wo, C * kh * kw)


def col2im(dcols: np.ndarray, X_shape: tuple[int, ...], kh: int, kw: int) -> np.ndarray:
    """The adjoint of im2col: add every window's gradient back onto the input positions."""
    N, C, H, W = X_shape
    Ho, Wo = H - kh + 1, W - kw + 1
    d = dcols.reshape(N, Ho, Wo, C, kh, kw)
    dX = np.zeros(X_shape)
    for m in range(kh):
        for n in range(kw):
            dX[:, :, m : m + Ho, n : n + Wo] += d[:, :, :, :, m, n].transpose(0, 3, 1, 2)
    return dX


@dataclass
class Cache:
    """What the backward pass needs from the forward pass."""

    X_shape: tuple[int, ...]
    cols: np.ndarray  # (N, P, C*kh*kw)
    z1: np.ndarray  # conv output, (N, P, F)
    switch: np.ndarray  # arg-max inside each pool window, (N, F, Hp, Wp)
    flat: np.ndarray  # (N, F*Hp*Wp)
    probs: np.ndarray  # softmax output, (N, n_out)


def forward(net: CNN, X: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Logits (N, n_out) and the cache for backward."""
    N, C, H, W = X.shape
    F, _, kh, kw = net.conv_w.shape
    Ho, Wo, p = H - kh + 1, W - kw + 1, net.pool
    Hp, Wp = Ho // p, Wo // p
    cols = im2col(X, kh, kw)
    z1 = cols @ net.conv_w.reshape(F, -1).T + net.conv_b  # (N, P, F)
    a1 = np.maximum(z1, 0.0).transpose(0, 2, 1).reshape(N, F, Ho, Wo)
    windows = (
        a1[:, :, : Hp * p, : Wp * p]
        .reshape(N, F, Hp, p, Wp, p)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(N, F, Hp, Wp, p * p)
    )
    switch = windows.argmax(axis=-1)  # first maximum
    pooled = np.take_along_axis(windows, switch[..., None], axis=-1)[..., 0]
    flat = pooled.reshape(N, -1)
    logits = flat @ net.dense_w.T + net.dense_b
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    probs = e / e.sum(axis=1, keepdims=True)
    return logits, Cache(X.shape, cols, z1, switch, flat, probs)


def loss(net: CNN, X: np.ndarray, y: np.ndarray) -> float:
    """Mean over the batch of −log softmax(z)[y] (log-sum-exp form)."""
    logits, _ = forward(net, X)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def backward(net: CNN, cache: Cache, y: np.ndarray, need_dx: bool = False) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy: nabla_conv_w, nabla_conv_b, nabla_dense_w, nabla_dense_b
    (and dX when asked)."""
    N, C, H, W = cache.X_shape
    F, _, kh, kw = net.conv_w.shape
    Ho, Wo, p = H - kh + 1, W - kw + 1, net.pool
    Hp, Wp = Ho // p, Wo // p
    delta = cache.probs.copy()
    delta[np.arange(N), y] -= 1.0
    delta /= N  # ∂L/∂z for softmax + CE
    grads = {"dense_w": delta.T @ cache.flat, "dense_b": delta.sum(axis=0)}
    d_pooled = (delta @ net.dense_w).reshape(N, F, Hp, Wp)
    d_windows = np.zeros((N, F, Hp, Wp, p * p))
    np.put_along_axis(d_windows, cache.switch[..., None], d_pooled[..., None], axis=-1)
    d_a1 = np.zeros((N, F, Ho, Wo))
    d_a1[:, :, : Hp * p, : Wp * p] = (
        d_windows.reshape(N, F, Hp, Wp, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(N, F, Hp * p, Wp * p)
    )
    d_z1 = d_a1.reshape(N, F, Ho * Wo).transpose(0, 2, 1) * (cache.z1 > 0)  # (N, P, F)
    d_z1_2d = d_z1.reshape(N * Ho * Wo, F)
    grads["conv_w"] = (d_z1_2d.T @ cache.cols.reshape(N * Ho * Wo, -1)).reshape(net.conv_w.shape)
    grads["conv_b"] = d_z1_2d.sum(axis=0)
    if need_dx:
        grads["X"] = col2im(d_z1 @ net.conv_w.reshape(F, -1), cache.X_shape, kh, kw)
    return grads


def init(
    seed: int = 0,
    in_shape: tuple[int, int, int] = (1, 8, 8),
    n_filters: int = 8,
    kernel: int = 3,
    pool: int = 2,
    n_out: int = 10,
) -> CNN:
    return init_cnn(in_shape, n_filters, kernel, pool, n_out, seed)


def train_epoch(net: CNN, X: np.ndarray, y: np.ndarray, lr: float, batch_size: int, rng: np.random.Generator) -> CNN:
    """One epoch of mini-batch SGD on integer labels y (the last mini-batch may be smaller)."""
    order = epoch_order(rng, len(X))
    for k in range(0, len(X), batch_size):
        idx = order[k : k + batch_size]
        _, cache = forward(net, X[idx])
        g = backward(net, cache, y[idx])
        net.conv_w -= lr * g["conv_w"]
        net.conv_b -= lr * g["conv_b"]
        net.dense_w -= lr * g["dense_w"]
        net.dense_b -= lr * g["dense_b"]
    return net


def predict(net: CNN, X: np.ndarray) -> np.ndarray:
    logits, _ = forward(net, X)
    return logits.argmax(axis=1)
