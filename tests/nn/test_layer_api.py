"""The layers' own API around training: reset() drops what a layer cached, and the compiled
epoch asks each layer (and the loss) for its lines instead of knowing layer types."""

from __future__ import annotations

import numpy as np
import pytest

from symnn import InputError
from symnn.nn import (
    AvgPool2D,
    Conv2D,
    CrossEntropy,
    Dense,
    Flatten,
    MaxPool2D,
    Quadratic,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Tanh,
)
from symnn.nn import epoch as compiled_epoch
from symnn.nn.layers import Layer


def _cnn(seed: int = 4) -> Sequential:
    return Sequential(
        [Conv2D(1, 2, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(2 * 3 * 3, 3)],
        loss="softmax-cross-entropy",
        seed=seed,
    )


def _data(n: int = 12):
    rng = np.random.default_rng(9)
    return rng.normal(size=(n, 1, 6, 6)), rng.integers(0, 3, n)


def _copy_weights(src: Sequential, dst: Sequential) -> None:
    for key, arr in src.parameters().items():
        dst.parameters()[key][...] = arr


def test_every_layer_and_loss_has_reset():
    for obj in (
        Dense(2, 3),
        Sigmoid(),
        Conv2D(1, 2, 3),
        MaxPool2D(2),
        AvgPool2D(2),
        Flatten(),
        Layer(),
        Quadratic(),
        CrossEntropy(),
        SoftmaxCrossEntropy(),
    ):
        assert callable(obj.reset), obj


def test_reset_drops_kernels_buffers_and_saved_activations():
    net = _cnn()
    X, y = _data()
    net.fit(X, y, epochs=1, lr=0.1, batch_size=4, compiled=False)
    conv, pool, dense = net.layers[0], net.layers[2], net.layers[4]
    assert conv._tk is not None and conv.x_pad is not None and conv._padded and dense.a_prev is not None
    for layer in net.layers:
        layer.reset()
    assert conv._k is None and conv._tk is None and conv.x_pad is None and not conv._padded
    assert pool.x is None and pool.switch is None and dense.a_prev is None and dense.grads == {}
    with pytest.raises(InputError, match="needs a forward pass first"):
        dense.backward(np.zeros((4, 3)))


def test_after_reset_fit_and_predict_give_the_numbers_of_a_fresh_net_with_the_same_weights():
    X, y = _data()
    used = _cnn()
    used.fit(X, y, epochs=2, lr=0.1, batch_size=5, compiled=False)  # caches filled, buffers sized
    for layer in used.layers:
        layer.reset()
    fresh = _cnn(seed=11)
    _copy_weights(used, fresh)
    assert np.array_equal(used.forward(X), fresh.forward(X))
    assert np.array_equal(used.predict(X), fresh.predict(X))
    used.reset()  # every layer's, and the loss's
    assert used.loss_fn._k is None
    used.fit(X, y, epochs=2, lr=0.1, batch_size=5, seed=1, compiled=False)
    fresh.fit(X, y, epochs=2, lr=0.1, batch_size=5, seed=1, compiled=False)
    for key, value in used.parameters().items():
        assert np.array_equal(value, fresh.parameters()[key]), key
    assert used.history["loss"][-2:] == fresh.history["loss"]


def test_fit_switching_fastmath_resets_the_layers_it_changes():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 2, 10)
    net = Sequential([Dense(4, 3), Tanh(), Dense(3, 2)], loss="quadratic", seed=1)
    net.fit(X, y, epochs=1, lr=0.1, batch_size=4, fused=False, compiled=False)
    assert not net.layers[0].train_kernels[0].spec.fastmath
    net.fit(X, y, epochs=1, lr=0.1, batch_size=4, fused=False, compiled=False, fastmath=True)
    assert all(layer.fastmath and layer.train_kernels[0].spec.fastmath for layer in net.layers[0::2])
    net.fit(X, y, epochs=1, lr=0.1, batch_size=4, fused=False, compiled=False)
    assert not any(layer.fastmath or layer.train_kernels[0].spec.fastmath for layer in net.layers[0::2])


class Identity(Layer):
    """A custom layer with per-layer forward/backward only: no lines for the compiled epoch."""

    def forward(self, x):
        return x

    def backward(self, delta):
        return delta


class WritingIdentity(Identity):
    """The same layer, writing its (empty) lines into the compiled epoch."""

    def epoch_forward(self, w, n, x, shape):
        return x, shape

    def epoch_backward(self, w, n, x, shape, delta, need):
        return delta


def test_compilable_asks_the_layers():
    assert compiled_epoch.compilable(_cnn())
    layers = [Flatten(), Identity(), Dense(36, 3)]
    assert not compiled_epoch.compilable(Sequential(layers, loss="softmax-cross-entropy"))
    writing = Sequential([Flatten(), WritingIdentity(), Dense(36, 3)], loss="softmax-cross-entropy")
    assert compiled_epoch.compilable(writing)
    _, ours = compiled_epoch.write(writing, (1, 6, 6))
    _, plain = compiled_epoch.write(Sequential([Flatten(), Dense(36, 3)], loss="softmax-cross-entropy"), (1, 6, 6))
    assert list(ours.kernels) == list(plain.kernels) and len(ours.lines) == len(plain.lines)


def test_compilable_asks_the_loss():
    class NoEpochLoss(Quadratic):
        epoch_gradient = None

    net = Sequential([Dense(4, 3), Tanh(), Dense(3, 2)], loss=NoEpochLoss())
    assert not compiled_epoch.compilable(net)
    assert compiled_epoch.compilable(Sequential([Dense(4, 3), Tanh(), Dense(3, 2)], loss="quadratic"))
    logits = Sequential([Dense(4, 2), Sigmoid()], loss="cross-entropy")  # from the logits
    assert compiled_epoch.compilable(logits)


def test_a_layer_without_epoch_methods_still_trains_per_layer():
    X, y = _data()
    with_identity = Sequential(
        [Conv2D(1, 2, 3, padding=1), ReLU(), MaxPool2D(2), Identity(), Flatten(), Dense(2 * 3 * 3, 3)],
        loss="softmax-cross-entropy",
        seed=4,
    )
    plain = _cnn()
    assert not compiled_epoch.compilable(with_identity)
    with_identity.fit(X, y, epochs=2, lr=0.1, batch_size=5)  # compiled=None: fit picks per-layer
    plain.fit(X, y, epochs=2, lr=0.1, batch_size=5, compiled=False)
    ours = [v for k, v in with_identity.parameters().items()]
    theirs = [v for k, v in plain.parameters().items()]
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    with pytest.raises(InputError, match="compiled epoch knows"):
        with_identity.fit(X, y, epochs=1, batch_size=4, compiled=True)
