"""A kernel's batch shared among threads (symnn.nn.split): the wrapper calls the very kernel on
each thread's rows, so its outputs agree with one call to rounding and repeat bit for bit;
Conv2D uses it only when threads were asked for, from PARTS_MIN multiply-adds, and never for an
`exact` layer."""

import numpy as np
import pytest

from symnn.codegen.numba_start import numba
from symnn.nn import Conv2D, epoch_threads, split, threads
from symnn.nn.layers import Workspace


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads asked for, and every call large enough to share (PARTS_MIN = 1)."""
    monkeypatch.setattr(threads, "_asked", 2)
    monkeypatch.setattr(epoch_threads, "PARTS_MIN", 1)


def _layer(exact: bool = False) -> Conv2D:
    layer = Conv2D(2, 3, 3)
    layer.init(np.random.default_rng(0))
    layer.exact = exact
    return layer


def _batch(n: int = 6):
    """Large enough for the '[unfold,...]' kernels (UNFOLD_MIN) in forward() and training alike,
    so every test wraps the same four kernels (each wrapper is one parallel compilation)."""
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 2, 32, 32)), rng.normal(size=(n, 3, 30, 30))


def _forward_backward(layer: Conv2D, X, G):
    Y = layer.forward(X)
    dX = layer.backward(G)
    return Y, dX, layer.grads["weight"].copy(), layer.grads["bias"].copy()


def test_a_shared_batch_gives_the_one_calls_numbers(monkeypatch, two_threads):
    X, G = _batch()
    layer = _layer()
    shared = _forward_backward(layer, X, G)
    assert layer._parts(X.shape) == min(2, numba().get_num_threads())
    names = {key[0] for key in split._SPLITS}
    assert {k.name for k in layer.kernels_for(X.shape)} <= names  # the four kernels ran split
    monkeypatch.setattr(threads, "_asked", 1)
    one = _forward_backward(layer, X, G)
    # each row's Y and dX come from the same kernel; it may choose its loop form by the call's
    # size (half a batch: another form), so they agree to rounding; the Σ over the batch regroups
    for a, b in zip(shared, one):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    monkeypatch.setattr(threads, "_asked", 2)
    again = _forward_backward(layer, X, G)
    assert all((a == b).all() for a, b in zip(again, shared))  # a fixed split: bit for bit repeatable
    # against NumPy: the kernel gradient is Σ_t Σ_ij G[t, f, i, j] X[t, c, i+m, j+n]
    windows = np.lib.stride_tricks.sliding_window_view(X, (3, 3), axis=(2, 3))  # (t, c, i, j, m, n)
    assert layer.kernels_for(X.shape) == layer.unfold_kernels == layer.training_kernels(X.shape)
    np.testing.assert_allclose(shared[2], np.einsum("tfij,tcijmn->fcmn", G, windows), rtol=1e-12)


def test_the_training_calls_share_the_batch_too(monkeypatch, two_threads):
    X, G = _batch()
    layer, ws = _layer(), Workspace(np.dtype(np.float64))
    y = layer.train_forward(X, ws).copy()
    dx = layer.train_backward(G, ws).copy()
    dK = layer.grads["weight"].copy()
    monkeypatch.setattr(threads, "_asked", 1)
    np.testing.assert_allclose(layer.train_forward(X, ws), y, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(layer.train_backward(G, ws), dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(layer.grads["weight"], dK, rtol=1e-12)


def test_a_batch_shorter_than_the_parts_leaves_no_stale_sum():
    """One row for two parts: the empty part's buffer is zeroed, so a row's gradient after a
    batch of 4 is that row's alone."""
    layer = _layer()
    X, G = _batch(4)
    grad_kernel = layer.kernels_for(_batch()[0].shape)[1]
    wrapped = split.split(grad_kernel, Conv2D.ROLES[1], 2)
    dK = np.empty_like(layer.weight)
    wrapped(G, X, layer.weight, 1, dK)
    wrapped(G[:1], X[:1], layer.weight, 1, dK)
    alone = np.empty_like(dK)
    grad_kernel.dispatcher(G[:1], X[:1], layer.weight, 1, alone)
    assert (dK == alone).all()


def test_no_share_for_an_exact_layer_one_thread_or_a_small_call(monkeypatch):
    X, _ = _batch()
    monkeypatch.setattr(threads, "_asked", 2)
    assert _layer()._parts(X.shape) == 1  # far below PARTS_MIN
    monkeypatch.setattr(epoch_threads, "PARTS_MIN", 1)
    assert _layer(exact=True)._parts(X.shape) == 1  # the written order: no regrouped sums
    monkeypatch.setattr(threads, "_asked", 1)
    assert _layer()._parts(X.shape) == 1
    assert split.threads_for(10**12) == 1


def test_the_wrapper_is_generated_text_anyone_can_read(capsys):
    from symnn.cli import main

    wrapped = split.split(_layer().kernels_for(_batch()[0].shape)[2], Conv2D.ROLES[2], 2)
    assert main(["codegen", "show", wrapped.name]) == 0
    text = capsys.readouterr().out
    assert "for h in prange(q):" in text and "add(a1_parts.reshape(2, -1), a1.reshape(-1))  # gradient.parts" in text
    assert "kernel(a0[lo:hi], a1_parts[h])" in text  # the kernel itself on each thread's rows


@pytest.mark.parametrize("roles, parts", [("ss", 2), ("bx", 2), ("bs", 1)])
def test_roles_and_parts_are_checked(roles, parts):
    with pytest.raises(ValueError, match="split roles"):
        split.Split(_layer().kernels_for(_batch()[0].shape)[2], roles, parts)
