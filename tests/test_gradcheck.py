"""Property-based gradient checks of the generated kernels, and numerically stable forms.

Every derived element-wise kernel (each activation's backward, each cost's gradient) and the
dense layer's three gradient kernels agree with central finite differences of their own forward
kernels, at random points and shapes (float64, relative error <= 1e-6)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from symnn.codegen import kernel
from symnn.ops.activations import ACTIVATIONS
from symnn.ops.elementwise import TRAINABLE_COSTS

SETTINGS = settings(max_examples=100, deadline=None)
SMOOTH = [a for a in ACTIVATIONS if a != "threshold"]
H = 1e-6


def _close(ours, fd, scale=1.0):
    np.testing.assert_allclose(ours, fd, rtol=1e-6, atol=1e-9 * scale)


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_backward_is_the_derivative_of_forward(name):
    forward, backward = kernel(f"{name}.forward"), kernel(f"{name}.backward")

    @SETTINGS
    @given(arrays(np.float64, st.integers(1, 12), elements=st.floats(-8, 8)))
    def check(z):
        z = np.where(np.abs(z) < 1e-3, 0.5, z)  # ReLU's kink at 0 has no two-sided derivative
        fd = (forward(z + H) - forward(z - H)) / (2 * H)
        _close(backward(np.ones_like(z), z), fd)
    check()


@pytest.mark.parametrize("name", TRAINABLE_COSTS)
def test_cost_gradient_is_the_derivative_of_the_cost(name):
    loss, grad = kernel(f"{name}.loss"), kernel(f"{name}.grad")

    @SETTINGS
    @given(st.integers(1, 8).flatmap(lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(0.05, 0.95)),
        arrays(np.float64, n, elements=st.floats(0.05, 0.95)))))
    def check(pair):
        a, y = pair
        fd = (loss(a + H, y) - loss(a - H, y)) / (2 * H)
        # central differences lose about eps·|C|/h to rounding: allow for it where ∂C/∂a ≈ 0
        _close(grad(a, y, 1.0), fd, scale=10 * (1 + np.abs(loss(a, y)).max()))
    check()


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2 ** 31 - 1))
def test_dense_gradients_are_derivatives_of_the_forward(N, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    A, W, b = rng.normal(size=(N, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    G = rng.normal(size=(N, n_out))
    fwd = kernel("dense.forward")

    def L(A_, W_, b_):
        return float((G * fwd(A_, W_, b_)).sum())

    def fd(arr, f):
        out = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + H
            hi = f()
            arr[idx] = old - H
            lo = f()
            arr[idx] = old
            out[idx] = (hi - lo) / (2 * H)
        return out
    _close(kernel("dense.grad_weight")(G, A), fd(W, lambda: L(A, W, b)), 10)
    _close(kernel("dense.grad_bias")(G), fd(b, lambda: L(A, W, b)), 10)
    _close(kernel("dense.grad_input")(G, W), fd(A, lambda: L(A, W, b)), 10)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e4), (np.float32, 80.0)])
def test_sigmoid_and_softplus_never_overflow(dtype, big):
    z = np.array([-big, -50, 0, 50, big], dtype=dtype)
    with np.errstate(all="raise"):
        s = kernel("sigmoid.forward")(z)
        sp = kernel("softplus.forward")(z)
        ds = kernel("sigmoid.backward")(np.ones_like(z), z)
    assert s.dtype == dtype and np.isfinite(s).all() and np.isfinite(sp).all() and np.isfinite(ds).all()
    assert s[0] == pytest.approx(np.exp(-np.float64(big)), rel=1e-5, abs=1e-300)
    assert s[-1] == 1.0 and s[2] == 0.5
    assert sp[-1] == pytest.approx(big) and sp[0] == pytest.approx(0.0, abs=1e-30)
