"""The units driver (symnn.nn.epoch_threads, units > 1): each large call shared among threads,
a dense layer by its output units (its columns of Z, its rows of W, b, ∂C/∂W, ∂C/∂b), an
element-wise call or a product by Wᵀ by the batch's rows. No sum is split, so in the written
order it trains bit for bit as one thread does, and with BLAS to rounding."""

import numpy as np
import pytest

from symnn.nn import Adam, Dense, Sequential, Sigmoid, epoch_threads, threads
from symnn.nn import epoch as compiled_epoch


def _mlp():  # test_epoch_parts' net: the one-thread drivers are compiled once for both
    return Sequential([Dense(64, 12), Sigmoid(), Dense(12, 10), Sigmoid()], loss="quadratic", seed=3)


@pytest.fixture()
def share_all(monkeypatch):
    """Every call of the small net shared (SHARE_MIN = 1): the same code paths as a large net's."""
    monkeypatch.setattr(epoch_threads, "SHARE_MIN", 1)


@pytest.fixture()
def two(monkeypatch):
    """Two threads asked for (as set_threads(2), `--threads 2`) and Numba with two."""
    from symnn.codegen.numba_start import numba

    monkeypatch.setattr(threads, "_asked", 2)
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 2)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    return rng.random((41, 64)), rng.integers(0, 10, 41)  # batches of 16, 16 and a last one of 9


def _exact(X, y, **options):
    net = _mlp()
    net.fit(X, y, epochs=2, lr=0.5, batch_size=16, fused=False, exact_order=True, seed=1, **options)
    return net


def test_in_the_written_order_the_units_driver_trains_bit_for_bit_as_the_layer_kernels(data, share_all, two):
    X, y = data
    shared = _exact(X, y, compiled=True)
    (driver,) = shared._epoch_drivers.values()
    assert driver.units == 2 and driver.name.endswith(".quadratic.units2")
    threads._asked = 1
    alone = _exact(X, y, compiled=False)  # kernel by kernel from Python, one thread
    for k, v in alone.parameters().items():
        assert (shared.parameters()[k] == v).all(), k


def test_fit_with_adam_on_two_threads_agrees_to_rounding_and_repeats_bit_for_bit(data, two):
    """fit chooses the units driver on the threads asked for; the first layer's BLAS products run
    on each thread's units (its work set to SHARE_MIN), the rest stays whole (fewer regions to
    compile); the gather and Adam's update are shared, the step counted once per batch."""
    X, y = data
    runs = []
    for asked in (2, 2, 1):
        threads._asked = asked
        net = _mlp()
        net.layers[0].work = lambda shape: epoch_threads.SHARE_MIN  # large enough to share
        net.fit(X, y, epochs=2, batch_size=8, fused=False, compiled=True, seed=1, optimizer=Adam(lr=0.01))
        (driver,) = net._epoch_drivers.values()
        assert driver.units == asked
        runs.append(net.parameters())
    for k, v in runs[2].items():
        np.testing.assert_allclose(runs[0][k], v, rtol=1e-12, atol=1e-14)
        assert (runs[1][k] == runs[0][k]).all()  # the same cut: the same numbers


def test_the_units_driver_shares_each_large_call_in_its_own_region(data, share_all):
    X, _ = data
    name, text, w, _ = compiled_epoch._source(_mlp(), X.shape[1:], None, 16, 1, 2)
    assert name.endswith(".units2") and "parallel=True" in text
    body = text[text.index("m = xb.shape[0]") :]
    assert (
        body.count("for h in prange(2):") == 11
    )  # gather, 2 × (forward, activation, its derivative, ∂C/∂W), ∂C/∂A, update
    assert "z0_h = z0_units[h, : m * (hi - lo)].reshape((m, hi - lo))" in text  # its columns, contiguous
    assert "k0(xb, W0[lo:hi], b0[lo:hi], z0_h)  # dense.forward" in text
    assert "z0[:, lo:hi] = z0_h" in text
    assert "delta1_h[:] = delta1[:, lo:hi]" in text  # ∂C/∂z's columns in, dW's rows out
    assert "dense.grad_input" in text and "delta3[lo:hi], W2, dA2[lo:hi]" in text  # by the batch's rows
    assert "gradient.parts" not in text  # nothing to add up
    buffers = {b: s for b, s, _ in w.buffers}
    assert buffers["z0_units"] == (2, 16 * 6)  # 12 units: 6 per thread, 16 rows


def test_below_share_min_the_calls_stay_whole(data):
    X, _ = data
    _, text, _, _ = compiled_epoch._source(_mlp(), X.shape[1:], None, 16, 1, 2)
    body = text[text.index("m = xb.shape[0]") :]
    assert body.count("prange") == 2  # only the gather and the update
    assert "k0(xb, W0, b0, z0)  # dense.forward" in text


def test_units_follow_the_threads_the_size_and_the_batch_cut(monkeypatch):
    from symnn.codegen.numba_start import numba

    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_asked", None)
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 2)
    net = Sequential([Dense(784, 100), Sigmoid(), Dense(100, 10), Sigmoid()], seed=0)
    assert compiled_epoch.units_for(net, (784,), 10) == 1  # threads not asked for
    monkeypatch.setattr(threads, "_asked", 2)
    assert compiled_epoch.units_for(net, (784,), 10) == 2  # 10 × 78,400 multiply-adds ≥ SHARE_MIN
    assert compiled_epoch.units_for(net, (784,), 10, exact=True) == 2  # no sum is split
    assert compiled_epoch.units_for(net, (784,), 3) == 1  # 3 × 78,400 < SHARE_MIN
    assert compiled_epoch.parts_for(net, (784,), 256) == 2
    assert compiled_epoch.units_for(net, (784,), 256) == 1  # the batch's rows are cut instead
    assert compiled_epoch.units_for(_mlp(), (64,), 64) == 1  # a small net
    monkeypatch.setattr(numba(), "get_num_threads", lambda: 1)
    assert compiled_epoch.units_for(net, (784,), 10) == 1  # Numba has one
