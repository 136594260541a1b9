"""The compiled epoch with a batch shared among threads (symnn.nn.epoch, parts > 1): each part
sums its own rows' gradients, `gradient.parts` adds them up, and the update runs on the sum, so
training agrees with one part to rounding and repeats bit for bit."""

import numpy as np
import pytest

from symnn.nn import Adam, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid
from symnn.nn import epoch as compiled_epoch


def _train(make, X, y, parts: int, batch: int, optimizer=None, epochs: int = 2):
    """The weights and the [Σ cost, correct] of each epoch after `epochs` epochs through the
    compiled driver cut into `parts`."""
    net = make()
    X = np.ascontiguousarray(X, dtype=net.dtype)
    Y = net.targets(y)
    if optimizer is not None:
        optimizer.bind(net)
    driver = compiled_epoch.CompiledEpoch(net, X.shape[1:], batch, len(X), optimizer, parts)
    rng = np.random.default_rng(0)
    stats = [driver(X, Y, rng.permutation(len(X)), 0.5) for _ in range(epochs)]
    return {k: v.copy() for k, v in net.parameters().items()}, np.array(stats)


def _mlp():  # the nets of test_running_loss: their one-part drivers are compiled once for both
    return Sequential([Dense(64, 12), Sigmoid(), Dense(12, 10), Sigmoid()], loss="quadratic", seed=3)


def _cnn():
    return Sequential(
        [Conv2D(1, 4, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(36, 10)], loss="softmax-cross-entropy", seed=1
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    # 41 = 2 batches of 16 and one of 9, or a batch of 32 and one of 9; and 41 = 5 batches of 8
    # and a last one of 1 row, where one part has it and the other none (the Adam test)
    return rng.random((41, 64)), rng.integers(0, 10, 41), rng.random((41, 1, 8, 8))


@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_two_parts_train_as_one_to_rounding_and_repeat_bit_for_bit(data, net):
    X, y, images = data
    make, inputs = (_mlp, X) if net == "mlp" else (_cnn, images)
    batch = 16 if net == "mlp" else 32  # as test_running_loss trains them
    one, stats1 = _train(make, inputs, y, 1, batch)
    two, stats2 = _train(make, inputs, y, 2, batch)
    again, stats_again = _train(make, inputs, y, 2, batch)
    for k in one:
        np.testing.assert_allclose(two[k], one[k], rtol=1e-12, atol=1e-14)
        assert (again[k] == two[k]).all()  # a fixed split of the rows and a fixed order of the sums
    np.testing.assert_allclose(stats2, stats1, rtol=1e-12)
    assert (stats_again == stats2).all()
    assert stats1[:, 1].max() <= len(y)  # counts of samples classified right


def test_adam_counts_its_step_once_per_batch_with_parts(data):
    X, y, _ = data
    one, _ = _train(_mlp, X, y, 1, 8, Adam(lr=0.01))
    two, _ = _train(_mlp, X, y, 2, 8, Adam(lr=0.01))
    for k in one:
        np.testing.assert_allclose(two[k], one[k], rtol=1e-10, atol=1e-13)


def test_the_parallel_driver_is_generated_and_named(data):
    X, _, _ = data
    name, text, w, _ = compiled_epoch._source(_mlp(), X.shape[1:], None, 16, 2)
    assert name.endswith(".quadratic.parts2")
    assert "parallel=True" in text and "for h in prange(q):" in text
    assert "gradient.parts" in text and text.count("  # sgd.update: w") == 4  # W and b of two layers


def test_parts_follow_the_threads_the_size_and_the_written_order(monkeypatch):
    from symnn.codegen.numba_start import numba
    from symnn.nn import threads

    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_asked", None)
    net = Sequential([Dense(784, 100), Sigmoid(), Dense(100, 10), Sigmoid()], seed=0)
    assert compiled_epoch.work(net, (784,)) == 784 * 100 + 100 + 100 * 10 + 10
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 2)
    assert compiled_epoch.parts_for(net, (784,), 256) == 1  # threads not asked for: one
    monkeypatch.setattr(threads, "_asked", 2)  # as set_threads(2), `--threads 2`
    assert compiled_epoch.parts_for(net, (784,), 256) == 2  # 256 × 79,510 multiply-adds ≥ PARTS_MIN
    assert compiled_epoch.parts_for(net, (784,), 64) == 1  # 64 × 79,510 < PARTS_MIN
    assert compiled_epoch.parts_for(net, (784,), 256, exact=True) == 1  # parts regroup the sums
    assert compiled_epoch.parts_for(net, (784,), 3) == 1  # fewer than 2 rows per thread
    assert compiled_epoch.parts_for(_mlp(), (64,), 64) == 1  # a small net: below PARTS_MIN
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 1)
    assert compiled_epoch.parts_for(net, (784,), 256) == 1  # Numba has one
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 2)
    monkeypatch.setattr(threads, "_asked", None)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    assert compiled_epoch.parts_for(net, (784,), 256) == 2


def test_fit_keeps_its_driver_until_an_array_it_trains_is_replaced(data):
    X, y, _ = data
    net = _mlp()
    net.fit(X, y, epochs=1, lr=0.5, batch_size=16, fused=False, compiled=True)
    (first,) = net._epoch_drivers.values()
    net.fit(X, y, epochs=1, lr=0.5, batch_size=16, fused=False, compiled=True)
    assert list(net._epoch_drivers.values()) == [first]  # the same driver, buffers and all
    net.layers[0].weight = net.layers[0].weight.copy()  # a new array: the old driver would miss it
    before = net.layers[0].weight.copy()
    net.fit(X, y, epochs=1, lr=0.5, batch_size=16, fused=False, compiled=True)
    assert not first.trains(net) and (net.layers[0].weight != before).any()
    adam = Adam(lr=0.01)
    net.fit(X, y, epochs=1, batch_size=16, fused=False, compiled=True, optimizer=adam)
    driver = net._epoch_drivers[next(k for k in net._epoch_drivers if k[4] == id(adam))]
    assert driver.trains(net, adam)
    adam.betas = (0.8, 0.99)  # new settings: the driver wrote the old ones into its arguments
    assert not driver.trains(net, adam)
    net.reset()
    assert "_epoch_drivers" not in net.__dict__
