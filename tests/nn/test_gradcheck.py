"""Property-based gradient checks of the generated kernels, and numerically stable forms.

Every derived element-wise kernel (each activation's backward, each cost's gradient), the dense
layer's three gradient kernels, and the CNN layers (Conv2D, MaxPool2D, AvgPool2D, Flatten,
SoftmaxCrossEntropy: backward() and the training path's train_backward) agree with central finite
differences of their own forward kernels, at random points, shapes, strides and paddings (float64,
relative error <= 1e-6). The CNN checks draw small shapes and a few window/stride sets, so the
shape-generic kernels compile once per dtype and the specialised ones once per window and stride
(each test asserts that no kernel compiled again per example). Stable forms: sigmoid, softplus
and the log-softmax stay finite for inputs up to ±1e4 (float64) and ±80 (float32)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import central_differences
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from symnn.codegen import kernel
from symnn.kernels.costs import TRAINABLE_COSTS
from symnn.ops.activations import ACTIVATIONS

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
        # at a kink (ReLU's 0, hard tanh's ±1, ReLU6's 6, ...) the one-sided slopes differ and
        # there is no two-sided derivative to compare with: those points are left out
        left, right = (forward(z) - forward(z - H)) / H, (forward(z + H) - forward(z)) / H
        smooth = np.abs(left - right) < 1e-3
        fd = (forward(z + H) - forward(z - H)) / (2 * H)
        _close(backward(np.ones_like(z), z)[smooth], fd[smooth])

    check()


@pytest.mark.parametrize("name", TRAINABLE_COSTS)
def test_cost_gradient_is_the_derivative_of_the_cost(name):
    loss, grad = kernel(f"{name}.loss"), kernel(f"{name}.grad")

    @SETTINGS
    @given(
        st.integers(1, 8).flatmap(
            lambda n: st.tuples(
                arrays(np.float64, n, elements=st.floats(0.05, 0.95)),
                arrays(np.float64, n, elements=st.floats(0.05, 0.95)),
            )
        )
    )
    def check(pair):
        a, y = pair
        fd = (loss(a + H, y) - loss(a - H, y)) / (2 * H)
        # within H of a kink (MAE's and hinge's a = y) the one-sided slopes differ and there is no
        # two-sided derivative to compare with: those points are left out, as for the activations
        left, right = (loss(a, y) - loss(a - H, y)) / H, (loss(a + H, y) - loss(a, y)) / H
        smooth = np.abs(left - right) < 1e-3
        # central differences lose about eps·|C|/h to rounding: allow for it where ∂C/∂a ≈ 0
        _close(grad(a, y, 1.0)[smooth], fd[smooth], scale=10 * (1 + np.abs(loss(a, y)).max()))

    check()


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_dense_gradients_are_derivatives_of_the_forward(N, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    A, W, b = rng.normal(size=(N, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
    G = rng.normal(size=(N, n_out))
    fwd = kernel("dense.forward")

    def L(A_, W_, b_):
        return float((G * fwd(A_, W_, b_)).sum())

    def loss():
        return L(A, W, b)

    _close(kernel("dense.grad_weight")(G, A), central_differences(loss, W, H), 10)
    _close(kernel("dense.grad_bias")(G), central_differences(loss, b, H), 10)
    _close(kernel("dense.grad_input")(G, W), central_differences(loss, A, H), 10)


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


# -- the CNN layers ------------------------------------------------------------------------------
# Conv2D, the pools and Flatten are linear (max pooling piecewise linear, and the values drawn
# have no ties, 0.01 apart): central differences are exact up to rounding, so a larger step keeps
# the rounding error eps·|L|/h far below 1e-6 of the gradient.
H_LINEAR = 1e-3


def _fd(arrays: dict, loss, h: float = H_LINEAR) -> dict:
    """Central differences of loss() for each array (weights, and the layer's input)."""
    return {name: central_differences(loss, arr, h) for name, arr in arrays.items()}


def _signatures(kernels) -> list[int]:
    return [len(k.dispatcher.signatures) for k in kernels]


def _compiled_at_most_once(kernels, before) -> None:
    """Each kernel gained at most one compiled signature over the 100 examples (its first call):
    no recompilation per shape, stride or padding."""
    grown = [a - b for a, b in zip(_signatures(kernels), before)]
    assert all(g <= 1 for g in grown), [(k.name, g) for k, g in zip(kernels, grown)]


# window/stride: free (generic kernels), or the set whose specialised kernels the training path
# compiles once (the digits CNN's 3×3 convolution and 2×2 pooling)
CONV_SPECIALISED = (3, 3, 1)
POOL_SPECIALISED = (2, 2, 2)
_small = st.integers(1, 3)


def _conv_kernels():
    from symnn.codegen.specialise import specialised

    generic = [kernel(f"conv2d.layer_{n}") for n in ("forward", "grad_kernel", "grad_bias", "grad_input")]
    kh, kw, s = CONV_SPECIALISED
    return generic + [
        specialised(f"conv2d.layer_{n}", k_h=kh, k_w=kw, s=s) for n in ("forward", "grad_kernel", "grad_input")
    ]


@st.composite
def conv_cases(draw):
    kh, kw, s = draw(st.tuples(_small, _small, _small))
    if draw(st.integers(0, 3)) == 0:  # a quarter of the cases
        kh, kw, s = CONV_SPECIALISED
    P = draw(st.integers(0, 2))
    H = draw(st.integers(max(1, kh - 2 * P), max(1, kh - 2 * P) + 4))
    W = draw(st.integers(max(1, kw - 2 * P), max(1, kw - 2 * P) + 4))
    return (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        (kh, kw),
        s,
        P,
        H,
        W,
        draw(st.integers(0, 2**31 - 1)),
    )


def test_conv2d_gradients_equal_finite_differences():
    from symnn.nn import Conv2D
    from symnn.nn.layers import Workspace

    kernels = _conv_kernels()
    before = _signatures(kernels)
    seen = {"specialised": 0, "padded": 0, "strided": 0}

    @SETTINGS
    @given(conv_cases())
    def check(case):
        N, c_in, c_out, size, s, P, H_, W_, seed = case
        rng = np.random.default_rng(seed)
        layer = Conv2D(c_in, c_out, size, stride=s, padding=P)
        layer.weight[...] = rng.normal(size=layer.weight.shape)
        layer.bias[...] = rng.normal(size=layer.bias.shape)
        X = rng.normal(size=(N, c_in, H_, W_))
        G = rng.normal(size=(N, c_out, *layer.output_shape(H_, W_)))
        fd = _fd({"weight": layer.weight, "bias": layer.bias, "input": X}, lambda: float((G * layer.forward(X)).sum()))
        layer.forward(X)
        dX = layer.backward(G)
        assert dX.shape == X.shape and layer.grads["weight"].shape == layer.weight.shape
        _close(layer.grads["weight"], fd["weight"])
        _close(layer.grads["bias"], fd["bias"])
        _close(dX, fd["input"])
        seen["padded"] += P > 0
        seen["strided"] += s > 1
        if (*size, s) == CONV_SPECIALISED:  # the training path's specialised kernels
            seen["specialised"] += 1
            ws = Workspace()
            y = layer.train_forward(X, ws)
            np.testing.assert_allclose(y, layer.forward(X), rtol=1e-12, atol=1e-12)
            dX_train = layer.train_backward(G, ws)
            _close(layer.grads["weight"], fd["weight"])
            _close(layer.grads["bias"], fd["bias"])
            _close(dX_train, fd["input"])

    check()
    assert all(seen.values()), seen
    _compiled_at_most_once(kernels, before)


@st.composite
def pool_cases(draw):
    kh, kw, s = draw(st.tuples(_small, _small, _small))
    if draw(st.integers(0, 3)) == 0:
        kh, kw, s = POOL_SPECIALISED
    return (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        (kh, kw),
        s,
        draw(st.integers(kh, kh + 4)),
        draw(st.integers(kw, kw + 4)),
        draw(st.integers(0, 2**31 - 1)),
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_gradients_equal_finite_differences(kind):
    from symnn.codegen.specialise import specialised
    from symnn.nn import AvgPool2D, MaxPool2D
    from symnn.nn.layers import Workspace

    cls, name = (MaxPool2D, "maxpool") if kind == "max" else (AvgPool2D, "avgpool")
    kernels = [kernel(f"{name}.forward"), kernel(f"{name}.backward")] + [
        specialised(f"{name}.{n}", k_h=POOL_SPECIALISED[0], k_w=POOL_SPECIALISED[1], s=POOL_SPECIALISED[2])
        for n in ("forward", "backward")
    ]
    before = _signatures(kernels)
    seen = {"specialised": 0, "overlapping": 0}

    @SETTINGS
    @given(pool_cases())
    def check(case):
        N, C, size, s, H_, W_, seed = case
        rng = np.random.default_rng(seed)
        layer = cls(size, stride=s)
        # no ties: a random permutation of 0, 0.01, 0.02, ..., shifted to both signs
        X = (rng.permutation(N * C * H_ * W_).reshape(N, C, H_, W_) - N * C * H_ * W_ / 2) * 0.01
        Y = layer.forward(X)
        assert Y.shape == (N, C, (H_ - size[0]) // s + 1, (W_ - size[1]) // s + 1)
        G = rng.normal(size=Y.shape)
        fd = _fd({"input": X}, lambda: float((G * layer.forward(X)).sum()))["input"]
        layer.forward(X)
        _close(layer.backward(G), fd)
        seen["overlapping"] += s < max(size)
        if (*size, s) == POOL_SPECIALISED:
            seen["specialised"] += 1
            ws = Workspace()
            np.testing.assert_array_equal(layer.train_forward(X, ws), Y)
            _close(layer.train_backward(G, ws), fd)

    check()
    assert all(seen.values()), seen
    _compiled_at_most_once(kernels, before)


def test_flatten_gradient_equals_finite_differences():
    from symnn.nn import Flatten
    from symnn.nn.layers import Workspace

    kernels = [kernel("flatten.forward"), kernel("flatten.backward")]
    before = _signatures(kernels)

    @SETTINGS
    @given(st.tuples(*[st.integers(1, 3)] * 4), st.integers(0, 2**31 - 1))
    def check(shape, seed):
        rng = np.random.default_rng(seed)
        layer = Flatten()
        X = rng.normal(size=shape)
        G = rng.normal(size=(shape[0], int(np.prod(shape[1:]))))
        fd = _fd({"input": X}, lambda: float((G * layer.forward(X)).sum()))["input"]
        layer.forward(X)
        _close(layer.backward(G), fd)
        ws = Workspace()
        np.testing.assert_array_equal(layer.train_forward(X, ws), X.reshape(len(X), -1))
        _close(layer.train_backward(G, ws), fd)

    check()
    _compiled_at_most_once(kernels, before)


@st.composite
def logits_and_targets(draw):
    N, K, seed = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(N, K)) * draw(st.sampled_from([0.1, 1.0, 5.0]))
    if draw(st.booleans()):
        Y = np.eye(K)[rng.integers(0, K, N)]  # one-hot labels
    else:
        Y = rng.dirichlet(np.ones(K), size=N)  # probabilities summing to 1
    return z, Y


def test_softmax_cross_entropy_gradient_equals_finite_differences():
    from symnn.nn import SoftmaxCrossEntropy
    from symnn.nn.layers import Workspace

    loss = SoftmaxCrossEntropy()
    kernels = list(loss.kernels)
    z0, Y0 = np.zeros((2, 3)), np.eye(3)[[0, 2]]
    loss.gradient(z0, Y0), loss.train_gradient(z0, Y0, Workspace())  # each path's one signature, first
    before = _signatures(kernels)

    @SETTINGS
    @given(logits_and_targets())
    def check(case):
        z, Y = case
        fd = _fd({"logits": z}, lambda: loss.value(z, Y), h=1e-5)["logits"]
        g = loss.gradient(z, Y)
        _close(g, fd)
        _close(loss.train_gradient(z, Y, Workspace()), fd)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        np.testing.assert_allclose(g, (p - Y) / len(z), rtol=1e-12, atol=1e-15)

    check()
    _compiled_at_most_once(kernels, before)


# -- log-softmax ---------------------------------------------------------------------------------
def _log_softmax_ref(z: np.ndarray) -> np.ndarray:
    """The float64 oracle: scipy's log_softmax."""
    from scipy.special import log_softmax

    return log_softmax(np.asarray(z, dtype=np.float64), axis=1)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    return kernel("log_softmax.forward")(z, kernel("softmax.row_max")(z))


@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 8)), elements=st.floats(-50, 50)))
def test_log_softmax_matches_scipy(z):
    ours = _log_softmax(z)
    np.testing.assert_allclose(ours, _log_softmax_ref(z), rtol=1e-12, atol=1e-12)
    # and it is the log of the softmax kernel's output
    p = kernel("softmax.forward")(z, kernel("softmax.row_max")(z))
    np.testing.assert_allclose(np.exp(ours), p, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e4), (np.float32, 80.0)])
def test_log_softmax_and_the_loss_stay_finite(dtype, big):
    from symnn.nn import SoftmaxCrossEntropy

    z = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, -big], [-big, big, 5.0]], dtype=dtype)
    with np.errstate(all="raise"):
        ours = _log_softmax(z)
        value = SoftmaxCrossEntropy().value(z, np.eye(3)[[1, 0, 2, 0]])
        p = SoftmaxCrossEntropy().probabilities(z)
    assert ours.dtype == p.dtype == dtype  # compiled for float32 inputs too
    assert np.isfinite(ours).all() and np.isfinite(value) and np.isfinite(p).all()
    np.testing.assert_allclose(p, np.exp(_log_softmax_ref(z)), rtol=1e-5, atol=1e-30)
    ref = _log_softmax_ref(z)
    np.testing.assert_allclose(ours, ref, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert ours[0, 1] == pytest.approx(-2 * big)  # softmax rounds to 0 here; its log is -2·big
    # −log ŷ of the right class: 2·big, log 3, 2·big + log 2, 2·big
    assert value == pytest.approx((6 * big + np.log(3) + np.log(2)) / 4, rel=1e-6)


def test_loss_of_a_confident_right_answer_keeps_its_digits():
    """ℓ = log(1 + e^-10) ≈ 4.54e-5 at logits 1e4 and 1e4 − 10: the log-softmax keeps ~12 digits;
    computing (M + log Σ) − z_right instead loses |M|·ε ≈ 2e-12 of it (relative 4e-8)."""
    from symnn.nn import SoftmaxCrossEntropy

    for z, Y in (
        (np.array([[1e4, 1e4 - 10.0]]), np.array([[1.0, 0.0]])),
        (np.array([[-3e3, 5e3 - 10.0, 5e3]]), np.array([[0.0, 0.0, 1.0]])),
    ):
        assert SoftmaxCrossEntropy().value(z, Y) == pytest.approx(np.log1p(np.exp(-10.0)), rel=1e-10)


def test_log_softmax_kernel_is_the_derivations_log_sum_exp_step():
    import sympy as sp

    from symnn.kernels import derived
    from symnn.ops import softmax as op

    d = derived("softmax-cross-entropy")
    step = next(s for s in d.steps if s.rule == "log-sum-exp")
    zv, m = [0.3, -1.2, 2.0], 2.0
    z_sym = next(a.base for a in step.rhs.atoms(sp.Indexed))
    n = next(sym for sym in step.rhs.free_symbols if sym.name == "n_classes")
    M = next(sym for sym in step.rhs.free_symbols if sym.name == "M")
    j = next(sym for sym in step.rhs.free_symbols if sym.name == "j")
    for jj in range(3):
        theirs = step.rhs.xreplace({n: 3, M: m, j: jj}).doit().xreplace({z_sym[i]: v for i, v in enumerate(zv)})
        ours = (
            op.log_softmax_expr()
            .xreplace({op.t: 0, op.n_classes: 3, op.j: jj})
            .doit()
            .xreplace({op.M[0]: m, **{op.Z[0, i]: v for i, v in enumerate(zv)}})
        )
        assert float(ours) == pytest.approx(float(theirs), rel=1e-14)
        assert float(ours) == pytest.approx(_log_softmax_ref(np.array([zv]))[0, jj], rel=1e-14)


def test_codegen_show_prints_the_log_softmax_kernel(capsys):
    from symnn.cli import main

    assert main(["codegen", "show", "log_softmax.forward"]) == 0
    out = capsys.readouterr().out
    assert "def log_softmax_forward(Z, M, LS):" in out
    assert re.search(r"LS\[t, j\] = \(Z\[t, j\] - M\[t\]\) - math\.log\(\w+\)", out), out  # Z − M first, then the log
