"""symnn's own nets wrapped as bench References: same init rule, same epoch order, timed by
references.common.time_training side by side with the hand-written implementations."""

from __future__ import annotations

import numpy as np
from references.common import Reference, epoch_order


def mlp(sizes: list[int], name: str = "symnn, one kernel per layer and batch", dtype: str = "float64") -> Reference:
    from symnn.nn import Dense, Sequential, Sigmoid
    from symnn.nn.layers import Workspace

    def init(seed: int):
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(n_in, n_out), Sigmoid()]
        net = Sequential(layers, loss="quadratic", seed=seed).astype(dtype)  # the references' init rule
        net._ws, net._data = Workspace(net.dtype), {}
        return net

    def train_epoch(net, X, Y, lr, batch_size, rng):
        return train_batches(net, X, Y, lr, batch_size, rng)

    return Reference(name, init, train_epoch, lambda net, X: net.predict(X))


def as_model_dtype(net, *arrays):
    """The arrays in the net's float type, converted once per array (not inside the timing)."""
    out = []
    for a in arrays:
        key = id(a)
        if key not in net._data:
            net._data[key] = (a, np.ascontiguousarray(a, dtype=net.dtype))
        out.append(net._data[key][1])
    return out


def train_batches(net, X, Y, lr, batch_size, rng):
    """One epoch through the per-layer kernels, in the references' sample order."""
    from symnn.nn.train import train_step

    X, Y = as_model_dtype(net, X, Y)
    order = epoch_order(rng, len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start : start + batch_size]
        train_step(net, X[idx], Y[idx], lr, net._ws)
    return net


def check_same_init(sizes: list[int], seed: int = 0) -> float:
    """Largest difference between symnn's initial weights and the references' (should be 0)."""
    from references.common import init_mlp

    ref = init_mlp(sizes, seed)
    net = mlp(sizes).init(seed)
    ours = [net.parameters()[f"layers.{2 * i}.weight"] for i in range(len(sizes) - 1)]
    return max(float(np.abs(a - b).max()) for a, b in zip(ours, ref.weights))


def mlp_fit(sizes: list[int]) -> Reference:
    """symnn through its public API: Sequential.fit(epochs=1) per epoch (the fused epoch kernel,
    the running loss and accuracy from it, and fit's own checks of X and y), each epoch in an
    order fit draws from a seed the references' generator gives."""
    base = mlp(sizes, name="symnn, Sequential.fit(epochs=1) per epoch (public API)")

    def train_epoch(net, X, Y, lr, batch_size, rng):
        net.fit(X, Y, epochs=1, lr=lr, batch_size=batch_size, seed=int(rng.integers(2**31)))
        return net

    return Reference(base.name, base.init, train_epoch, base.predict)


def mlp_fused(sizes: list[int], fastmath: bool = False, dtype: str = "float64") -> Reference:
    """symnn's default training path: the whole epoch in one generated kernel (`fastmath`: the
    same kernel compiled to reassociate its sums, fit(fastmath=True); dtype: net.astype)."""
    from symnn.nn.fused import run_epoch

    name = (
        "symnn, fused epoch kernel"
        + (", fastmath" if fastmath else "")
        + (f", {dtype}" if dtype != "float64" else "")
        + (" (default)" if not fastmath and dtype == "float64" else "")
    )
    base = mlp(sizes, name=name, dtype=dtype)

    def train_epoch(net, X, Y, lr, batch_size, rng):
        X, Y = as_model_dtype(net, X, Y)
        run_epoch(net, X, Y, epoch_order(rng, len(X)), lr, batch_size, net._ws, fastmath)
        return net

    return Reference(base.name, base.init, train_epoch, base.predict)
