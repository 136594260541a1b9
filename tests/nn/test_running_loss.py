"""fit's history: the running training loss and accuracy from the epoch's own forward passes
(every training path: fused, compiled, per-layer), and held-out metrics only where asked."""

import numpy as np
import pytest

from symnn.errors import InputError
from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid
from symnn.nn.data import load


def _replay(net: Sequential, X, y, epochs: int, lr: float, batch: int):
    """The oracle: the same batches in the same order, each batch's mean cost and correct count
    taken from net.loss / net.forward with the weights before its update, then the update by
    net.gradients (w ← w − η ∂C/∂w)."""
    Y = net.targets(y)
    rng = np.random.default_rng(net.seed)
    losses, accs = [], []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = correct = 0.0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            xb, yb = X[idx], Y[idx]
            total += net.loss(xb, yb) * len(idx)
            correct += float((net.forward(xb).argmax(axis=1) == yb.argmax(axis=1)).sum())
            grads = net.gradients(xb, yb)
            for name, w in net.parameters().items():
                w -= lr * grads[name]
        losses.append(total / len(X))
        accs.append(correct / len(X))
    return losses, accs


def _mlp(loss: str) -> Sequential:
    last = [] if loss == "softmax-cross-entropy" else [Sigmoid()]
    return Sequential([Dense(64, 12), Sigmoid(), Dense(12, 10), *last], loss=loss, seed=3)


PATHS = {"fused": {}, "compiled": {"fused": False, "compiled": True}, "per-layer": {"fused": False, "compiled": False}}


@pytest.fixture(scope="module")
def digits():
    d = load("digits", seed=0)
    return d.X_train[:203], d.y_train[:203], d.X_test[:50], d.y_test[:50]


@pytest.mark.parametrize(
    "loss, path",  # the fused epoch takes costs summed over the outputs, so not softmax's
    [(loss, path) for loss in ("quadratic", "cross-entropy") for path in PATHS]
    + [("softmax-cross-entropy", "compiled"), ("softmax-cross-entropy", "per-layer")],
)
def test_running_loss_and_accuracy_are_the_epochs_own_batches(digits, loss, path):
    X, y, _, _ = digits
    net, ref = _mlp(loss), _mlp(loss)
    net.fit(X, y, epochs=3, lr=0.5, batch_size=16, **PATHS[path])
    losses, accs = _replay(ref, X, y, 3, 0.5, 16)
    np.testing.assert_allclose(net.history["loss"], losses, rtol=1e-10)
    np.testing.assert_allclose(net.history["accuracy"], accs, rtol=0, atol=1e-12)
    assert net.history["loss"][-1] < net.history["loss"][0]
    assert "val_loss" not in net.history


def test_the_fused_epoch_is_the_one_that_trained(digits, monkeypatch):
    """No forward pass outside the fused kernel: train_forward is never called."""
    from symnn.nn import train

    X, y, _, _ = digits
    calls = []
    real = train.train_forward
    monkeypatch.setattr(train, "train_forward", lambda *a: calls.append(1) or real(*a))
    net = _mlp("quadratic")
    net.fit(X, y, epochs=2, lr=0.5, batch_size=16)
    assert calls == [] and len(net.history["loss"]) == 2
    net.fit(X, y, epochs=2, lr=0.5, batch_size=16, fused=False, compiled=False)
    assert len(calls) == 2 * -(-len(X) // 16)  # one per batch, none for the epoch's loss


def test_running_loss_of_a_cnn_through_the_compiled_epoch(digits):
    X, y, _, _ = digits
    X = X.reshape(-1, 1, 8, 8)[:96]
    y = y[:96]

    def cnn():
        return Sequential(
            [Conv2D(1, 4, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(36, 10)], loss="softmax-cross-entropy", seed=1
        )

    net = cnn()
    net.fit(X, y, epochs=2, lr=0.3, batch_size=32, compiled=True)
    losses, accs = _replay(cnn(), X, y, 2, 0.3, 32)
    np.testing.assert_allclose(net.history["loss"], losses, rtol=1e-10)
    np.testing.assert_allclose(net.history["accuracy"], accs, atol=1e-12)


def test_validation_is_evaluated_every_few_epochs_and_after_the_last(digits):
    X, y, Xv, yv = digits
    net = _mlp("quadratic")
    net.fit(X, y, epochs=5, lr=0.5, batch_size=16, validation=(Xv, yv), eval_every=2)
    assert net.history["val_epoch"] == [2.0, 4.0, 5.0]
    expected = []
    for epochs in (2, 4, 5):  # the first epochs of a longer fit are a shorter fit's (same orders)
        ref = _mlp("quadratic")
        ref.fit(X, y, epochs=epochs, lr=0.5, batch_size=16)
        expected.append((ref.loss(Xv, yv), ref.accuracy(Xv, yv)))
    got = list(zip(net.history["val_loss"], net.history["val_accuracy"]))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    net.fit(X, y, epochs=1, lr=0.5, validation=(Xv, yv))
    assert net.history["val_epoch"] == [2.0, 4.0, 5.0, 6.0]  # numbered across fits


def test_x_test_is_the_validation_set(digits):
    X, y, Xv, yv = digits
    a, b = _mlp("quadratic"), _mlp("quadratic")
    a.fit(X, y, epochs=2, lr=0.5, X_test=Xv, y_test=yv)
    b.fit(X, y, epochs=2, lr=0.5, validation=(Xv, yv))
    assert a.history == b.history
    assert a.history["val_accuracy"][-1] == a.accuracy(Xv, yv)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"validation": np.zeros((3, 64))}, "validation takes a pair (X, y)"),
        ({"validation": (np.zeros((3, 64)),)}, "validation takes a pair (X, y)"),
        ({"eval_every": 2}, "eval_every says how often to evaluate validation"),
        ({"eval_every": 0, "validation": "pair"}, "eval_every must be a positive integer"),
        ({"validation": (np.zeros((3, 5)), [0, 1, 2])}, "validation: "),
        ({"validation": (np.zeros((3, 64)), [0, 1])}, "validation: X has 3 samples but y has 2"),
    ],
)
def test_bad_validation_is_one_input_error(digits, options, message):
    X, y, Xv, yv = digits
    if isinstance(options.get("validation"), str):
        options = {**options, "validation": (Xv, yv)}
    net = _mlp("quadratic")
    before = {k: v.copy() for k, v in net.parameters().items()}
    with pytest.raises(InputError) as err:
        net.fit(X, y, epochs=1, **options)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert all((net.parameters()[k] == v).all() for k, v in before.items())  # refused before training
    with pytest.raises(InputError, match="not both"):
        net.fit(X, y, epochs=1, validation=(Xv, yv), X_test=Xv, y_test=yv)


def test_a_divergence_on_the_last_batch_is_caught():
    """The running loss is taken before each update; an update that makes the weights inf is
    refused at the end of its epoch all the same."""
    from symnn.errors import TrainingError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)) * 1e140  # the cost before the update, ~1e278, is finite
    net = Sequential([Dense(3, 1)], loss="quadratic", seed=0)
    with pytest.raises(TrainingError, match="diverged at epoch 1: the weights overflowed"):
        net.fit(X, np.zeros(20), epochs=1, lr=1e30, mode="batch")  # the update overflows
