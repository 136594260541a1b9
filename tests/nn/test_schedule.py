"""fit(schedule=...): the learning rate of each epoch, the same through every training path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symnn.errors import UnknownNameError
from symnn.nn import Conv2D, Dense, Flatten, ReLU, Sequential, Sigmoid, Tanh
from symnn.nn.train import SCHEDULES, schedule_rates


def test_cosine_starts_at_eta_and_falls_towards_zero():
    rates = [schedule_rates("cosine", 0.5, 10)(e) for e in range(1, 11)]
    assert rates[0] == 0.5 and all(a > b > 0 for a, b in zip(rates, rates[1:]))
    assert rates[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 9 / 10)) / 2, rel=1e-15)
    assert rates[4] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 10)) / 2, rel=1e-15)
    assert [schedule_rates("constant", 0.3, 4)(e) for e in range(1, 5)] == [0.3] * 4


def _by_hand(net: Sequential, X, y, epochs: int, lr: float, batch: int) -> None:
    """The oracle: the same epoch orders, net.gradients per batch, p -= η_e ∂L/∂p in NumPy."""
    rng = np.random.default_rng(net.seed)
    rate = schedule_rates("cosine", lr, epochs)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            grads = net.gradients(X[idx], y[idx])
            for name, value in net.parameters().items():
                value -= rate(epoch) * grads[name]


@pytest.mark.parametrize("path", ["fused", "per-layer", "compiled"])
def test_every_path_trains_with_the_epochs_rate(path):
    rng = np.random.default_rng(4)
    if path == "fused":
        make = lambda: Sequential([Dense(3, 4), Tanh(), Dense(4, 2), Sigmoid()], seed=1)  # noqa: E731
        X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    else:
        make = lambda: Sequential(  # noqa: E731
            [Conv2D(1, 2, 3), ReLU(), Flatten(), Dense(8, 3)], "softmax-cross-entropy", seed=1
        )
        X, y = rng.normal(size=(12, 1, 4, 4)), rng.integers(0, 3, 12)
    net, ref = make(), make()
    options = {"per-layer": {"compiled": False}, "compiled": {"compiled": True}}.get(path, {})
    net.fit(X, y, epochs=4, lr=0.4, batch_size=5, schedule="cosine", progress=False, **options)
    _by_hand(ref, X, y, 4, 0.4, 5)
    for key, value in ref.parameters().items():
        np.testing.assert_allclose(net.parameters()[key], value, rtol=1e-11, atol=1e-13, err_msg=key)
    constant = make()
    constant.fit(X, y, epochs=4, lr=0.4, batch_size=5, progress=False, **options)
    assert not np.allclose(constant.parameters()["layers.0.weight"], net.parameters()["layers.0.weight"])


def test_an_unknown_schedule_is_one_line():
    net = Sequential([Dense(2, 1), Sigmoid()])
    with pytest.raises(UnknownNameError, match="unknown schedule 'cos'; choose one of: constant, cosine"):
        net.fit(np.zeros((2, 2)), [0.0, 1.0], epochs=1, schedule="cos")
    assert SCHEDULES == ("constant", "cosine")
