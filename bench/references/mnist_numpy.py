"""The MNIST-shaped CNN in NumPy, forward and backward by hand through im2col (a bench reference).

conv 16x3x3 -> ReLU -> max-pool 2 -> conv 32x3x3 -> ReLU -> max-pool 2 -> flatten -> dense 10 ->
softmax with cross-entropy averaged over the mini-batch; plain mini-batch SGD. Valid convolutions
(stride 1), pools of stride 2 that drop a last odd row and column (as PyTorch's MaxPool2d(2)),
each window's gradient to its first maximum. Parameters are a dict of arrays named as symnn's
Sequential names them (layers.0.weight, ...), so every implementation starts from the same numbers.
"""

from __future__ import annotations

import numpy as np

from .cnn_numpy import col2im, im2col
from .common import epoch_order

NAME = "NumPy im2col mini-batch"
CONVS = (0, 3)  # the layers with weights, as symnn numbers them
DENSE = 7


def init(seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    """PyTorch's default rule (uniform ±1/√fan_in) for the weights and biases of the net."""
    rng = np.random.default_rng(seed)
    shapes = {0: ((16, 1, 3, 3), 9), 3: ((32, 16, 3, 3), 144), DENSE: ((10, 800), 800)}
    params = {}
    for layer, (shape, fan_in) in shapes.items():
        bound = 1 / np.sqrt(fan_in)
        params[f"layers.{layer}.weight"] = rng.uniform(-bound, bound, size=shape).astype(dtype)
        params[f"layers.{layer}.bias"] = rng.uniform(-bound, bound, size=shape[0]).astype(dtype)
    return params


def _conv(X, W, b):
    n, c, h, w = X.shape
    f, _, kh, kw = W.shape
    ho, wo = h - kh + 1, w - kw + 1
    cols = im2col(X, kh, kw)  # (n, P, c·kh·kw)
    z = cols @ W.reshape(f, -1).T + b  # (n, P, f)
    return z.transpose(0, 2, 1).reshape(n, f, ho, wo), cols


def _pool(X):
    n, c, h, w = X.shape
    hp, wp = h // 2, w // 2
    windows = (
        X[:, :, : 2 * hp, : 2 * wp].reshape(n, c, hp, 2, wp, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, hp, wp, 4)
    )
    switch = windows.argmax(axis=-1)
    return np.take_along_axis(windows, switch[..., None], axis=-1)[..., 0], switch


def _unpool(d, switch, shape):
    n, c, hp, wp = d.shape
    windows = np.zeros((n, c, hp, wp, 4), d.dtype)
    np.put_along_axis(windows, switch[..., None], d[..., None], axis=-1)
    out = np.zeros(shape, d.dtype)
    out[:, :, : 2 * hp, : 2 * wp] = (
        windows.reshape(n, c, hp, wp, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * hp, 2 * wp)
    )
    return out


def forward(p, X):
    """Logits and what backward needs."""
    cache = {}
    a = X
    for k, layer in enumerate(CONVS):
        z, cols = _conv(a, p[f"layers.{layer}.weight"], p[f"layers.{layer}.bias"])
        r = np.maximum(z, 0)
        pooled, switch = _pool(r)
        cache[k] = (a.shape, cols, z, switch, r.shape)
        a = pooled
    flat = a.reshape(len(a), -1)
    cache["flat"] = (flat, a.shape)
    return flat @ p[f"layers.{DENSE}.weight"].T + p[f"layers.{DENSE}.bias"], cache


def gradients(p, X, y):
    logits, cache = forward(p, X)
    n = len(X)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    d = probs
    d[np.arange(n), y] -= 1
    d /= n
    flat, shape = cache["flat"]
    g = {f"layers.{DENSE}.weight": d.T @ flat, f"layers.{DENSE}.bias": d.sum(axis=0)}
    da = (d @ p[f"layers.{DENSE}.weight"]).reshape(shape)
    for k in (1, 0):
        layer = CONVS[k]
        x_shape, cols, z, switch, r_shape = cache[k]
        dz = _unpool(da, switch, r_shape) * (z > 0)
        W = p[f"layers.{layer}.weight"]
        f = W.shape[0]
        gz = dz.reshape(n, f, -1).transpose(0, 2, 1)  # (n, P, f)
        g[f"layers.{layer}.weight"] = (gz.reshape(-1, f).T @ cols.reshape(-1, cols.shape[-1])).reshape(W.shape)
        g[f"layers.{layer}.bias"] = gz.sum(axis=(0, 1))
        if k:
            da = col2im(gz @ W.reshape(f, -1), x_shape, W.shape[2], W.shape[3]).astype(dz.dtype)
    return g


def train_epoch(p, X, y, lr, batch_size, rng):
    order = epoch_order(rng, len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        for key, grad in gradients(p, X[idx], y[idx]).items():
            p[key] -= lr * grad
    return p


def predict(p, X):
    return forward(p, X)[0].argmax(axis=1)
