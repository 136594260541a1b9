"""The CNN layers on generated kernels: gradients vs central finite differences (stride 1 and 2,
padding 0 and 1, 1 and 3 channels, max and average pooling, flatten, softmax/cross-entropy),
max-pool ties to the first maximum (as PyTorch), softmax/cross-entropy stable at ±1e4, the
batched conv kernel vs NumPy, one epoch vs the hand-written NumPy reference, every new topic
verified, and the digits CNN >= 97 % through `symnn train cnn`."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import central_differences, finite_difference_gradients

from symnn import InputError
from symnn.codegen import kernel
from symnn.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, SoftmaxCrossEntropy

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

RTOL, ATOL, H = 1e-6, 1e-9, 1e-5


def _close(analytic: np.ndarray, numeric: np.ndarray) -> bool:
    """Relative agreement 1e-6 (with a tiny floor for entries that are 0)."""
    return bool(np.all(np.abs(analytic - numeric) <= RTOL * np.maximum(np.abs(analytic), np.abs(numeric)) + ATOL))


def _fd_params(net, X, y) -> dict[str, np.ndarray]:
    return finite_difference_gradients(net, X, y, H)


def _fd_input(net, X, y) -> np.ndarray:
    x = X.copy()
    return central_differences(lambda: net.loss(x, y), x, H)


def _check_net(net, X, y) -> None:
    grads = net.gradients(X, y)
    dX = net.backward(net.forward(X), net.targets(y))  # ∂L/∂X from the first layer's backward
    numeric = _fd_params(net, X, y)
    assert grads.keys() == numeric.keys() == net.parameters().keys()
    for name in grads:
        assert grads[name].shape == net.parameters()[name].shape
        assert _close(grads[name], numeric[name]), (name, np.abs(grads[name] - numeric[name]).max())
    assert _close(dX, _fd_input(net, X, y)), np.abs(dX - _fd_input(net, X, y)).max()


CONV_CASES = [  # (in_channels, stride, padding, kernel, pool)
    (1, 1, 0, 3, "max"),
    (1, 2, 1, 3, "avg"),
    (3, 1, 1, 3, "avg"),
    (3, 2, 0, 3, "max"),
    (1, 2, 0, (3, 2), None),
    (3, 1, 0, 2, "max-overlap"),
    (1, 1, 1, 2, "avg-overlap"),
    (3, 2, 1, (2, 3), None),
]


@pytest.mark.parametrize("channels, stride, padding, size, pool", CONV_CASES)
def test_conv_and_pool_gradients_equal_finite_differences(channels, stride, padding, size, pool):
    rng = np.random.default_rng(channels * 100 + stride * 10 + padding)
    X = rng.normal(size=(2, channels, 7, 6))
    conv = Conv2D(channels, 2, size, stride=stride, padding=padding)
    layers = [conv, ReLU()]
    if pool == "max":
        layers.append(MaxPool2D(2))
    elif pool == "avg":
        layers.append(AvgPool2D(2))
    elif pool == "max-overlap":
        layers.append(MaxPool2D(3, stride=1))
    elif pool == "avg-overlap":
        layers.append(AvgPool2D(2, stride=1))
    probe = Sequential(layers + [Flatten()], loss="quadratic", seed=1)
    n_flat = probe.forward(X).shape[1]
    net = Sequential(layers + [Flatten(), Dense(n_flat, 3)], loss="softmax-cross-entropy", seed=1)
    net.layers[0].bias[...] = rng.normal(0, 0.1, 2)  # non-zero biases
    _check_net(net, X, np.array([0, 2]))
    assert net.parameters()["layers.0.weight"].shape == (2, channels, *conv.kernel_size)
    assert net.parameters()["layers.0.bias"].shape == (2,)


@pytest.mark.parametrize("pool", [MaxPool2D(2), AvgPool2D(3, stride=2), MaxPool2D((2, 3), stride=2)])
def test_pool_and_flatten_input_gradients(pool):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 2, 6, 7))
    n_flat = Sequential([pool, Flatten()], seed=0).forward(X).shape[1]
    net = Sequential([pool, Flatten(), Dense(n_flat, 4)], loss="softmax-cross-entropy", seed=0)
    _check_net(net, X, np.array([1, 3]))


def test_flatten_is_numpy_reshape_and_its_backward_the_inverse_map():
    X = np.random.default_rng(0).normal(size=(3, 2, 4, 5))
    layer = Flatten()
    Y = layer.forward(X)
    assert np.array_equal(Y, X.reshape(3, -1))
    assert np.array_equal(layer.backward(Y), X)


def test_softmax_cross_entropy_gradient_and_labels():
    rng = np.random.default_rng(5)
    loss = SoftmaxCrossEntropy()
    z = rng.normal(size=(4, 5)) * 3
    for Y in (np.eye(5)[[0, 3, 3, 1]], rng.dirichlet(np.ones(5), size=4)):  # one-hot and probabilities
        g = loss.gradient(z, Y)
        num = central_differences(lambda Y=Y: loss.value(z, Y), z, H)
        assert _close(g, num)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        assert np.allclose(loss.value(z, Y), -(Y * np.log(p)).sum(1).mean(), rtol=1e-12)
        assert np.allclose(g, (p - Y) / len(z), rtol=1e-12, atol=1e-15)
    assert np.array_equal(loss.targets(np.array([2, 0]), 5), np.eye(5)[[2, 0]])  # integer labels


def test_softmax_cross_entropy_is_stable_at_plus_minus_1e4():
    loss = SoftmaxCrossEntropy()
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [-1e4, 1e4, 5.0]])
    Y = np.eye(3)[[0, 2, 2, 0]]
    per_sample = [0.0, np.log(3.0), 2e4 + np.log(2.0), 2e4]
    with np.errstate(all="raise"):
        value = loss.value(z, Y)
        grad = loss.gradient(z, Y)
        p = loss.probabilities(z)
    assert np.isfinite(value) and np.isclose(value, np.mean(per_sample), rtol=1e-12)
    assert np.isfinite(grad).all() and np.isfinite(p).all()
    assert np.allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0], [0, 1, 0]], atol=1e-300)
    assert np.allclose(grad, (p - Y) / 4)


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order():
    X = np.array([[[[5, 5, 0, 0, 2], [1, 5, 0, 0, 2], [7, 1, 3, 3, 1], [1, 7, 3, 3, 1]]]], dtype=float)
    pool = MaxPool2D(2)
    Y = pool.forward(X)
    assert np.array_equal(Y, [[[[5, 0], [7, 3]]]])
    dX = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros_like(X)
    expected[0, 0, 0, 0] = 1.0  # 5, 5 / 1, 5: the first 5
    expected[0, 0, 0, 2] = 2.0  # all zeros: the first entry
    expected[0, 0, 2, 0] = 3.0  # 7 / 7 on the diagonal: the upper one
    expected[0, 0, 2, 2] = 4.0  # all 3: the first entry
    assert np.array_equal(dX, expected)  # the last column (no full window) gets nothing
    # overlapping windows (stride 1): each window sends its gradient to its own first maximum
    over = MaxPool2D(2, stride=1)
    x = np.array([[[[1.0, 2.0, 2.0], [2.0, 2.0, 1.0]]]])
    over.forward(x)
    d = over.backward(np.array([[[[1.0, 10.0]]]]))
    assert np.array_equal(d, [[[[0, 1 + 10, 0], [0, 0, 0]]]])


def test_layer_forward_kernel_matches_numpy_for_strides_channels_filters():
    k = kernel("conv2d.layer_forward")
    rng = np.random.default_rng(7)
    for n, c, f, h, w, kh, kw, s in [(2, 3, 4, 9, 8, 3, 2, 1), (1, 1, 2, 7, 7, 3, 3, 2), (3, 2, 1, 10, 6, 4, 1, 3)]:
        X, K, b = rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, kh, kw)), rng.normal(size=f)
        ho, wo = (h - kh) // s + 1, (w - kw) // s + 1
        ref = np.empty((n, f, ho, wo))
        for i in range(ho):
            for j in range(wo):
                ref[:, :, i, j] = np.einsum("tcmn,fcmn->tf", X[:, :, s * i : s * i + kh, s * j : s * j + kw], K) + b
        assert np.allclose(k(X, K, b, s), ref, rtol=1e-12, atol=1e-12)


def test_generated_input_gradient_is_loop_code_in_scatter_form():
    src = kernel("conv2d.layer_grad_input").source
    body = src[src.index("def conv2d_layer_grad_input") :]
    # each window's terms are added where they land: the offsets' loops replace the per-pixel bounds,
    # over the whole window (inputs whose windows would reach past dX are refused before the call)
    assert "for p_off in range(k_h):" in body and "max(" not in body and "min(" not in body
    assert "dX[t_prime, c_prime, i*s + p_off, j*s + q_off] += G[t_prime, f, i, j]*K[f, c_prime, p_off, q_off]" in body
    assert " if " not in body.split('"""')[-1]  # no guard left inside the loops
    pool = kernel("maxpool.backward").source
    assert "dX[t_prime, c_prime, i*s + p_off, j*s + q_off] +=" in pool


def test_scatter_form_adds_the_same_terms_in_the_same_order_as_the_derived_sum():
    """Bit-for-bit equal to the gather order the derivation writes (Σ_f Σ_i Σ_j per pixel)."""
    rng = np.random.default_rng(11)
    for n, c, f, h, w, kh, kw, s in [(2, 3, 4, 9, 8, 3, 2, 1), (1, 2, 2, 7, 7, 3, 3, 2)]:
        X, K = rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, kh, kw))
        ho, wo = (h - kh) // s + 1, (w - kw) // s + 1
        G = rng.normal(size=(n, f, ho, wo))
        ref = np.zeros_like(X)
        for t, cc, p, q in np.ndindex(*X.shape):
            acc = 0.0
            for ff in range(f):
                for i in range(ho):
                    for j in range(wo):
                        if 0 <= p - s * i < kh and 0 <= q - s * j < kw:
                            acc += G[t, ff, i, j] * K[ff, cc, p - s * i, q - s * j]
            ref[t, cc, p, q] = acc
        assert np.array_equal(kernel("conv2d.layer_grad_input")(G, K, X, s), ref)


def test_scatter_kernels_refuse_inputs_whose_windows_reach_past_the_output():
    """The unclipped window loops write dX[s·i + p_off]; a G too large for X is refused in one
    line before the kernel runs (the clipped loops of before silently dropped those terms)."""
    rng = np.random.default_rng(12)
    X, K = np.zeros((1, 1, 6, 6)), rng.normal(size=(2, 1, 3, 3))
    fits = rng.normal(size=(1, 2, 4, 4))  # (6 - 3)//1 + 1 = 4
    for name in ("conv2d.layer_grad_input", "conv2d.layer_grad_input[k_h=3,k_w=3,s=1]"):
        assert kernel(name)(fits, K, X, 1).shape == X.shape
        with pytest.raises(
            InputError,
            match=r"do not fit together: .*would write dX up to index 6 "
            r"along axis 2, which has size 6",
        ):
            kernel(name)(rng.normal(size=(1, 2, 5, 4)), K, X, 1)
    A = np.zeros((1, 1, 4, 4))
    with pytest.raises(InputError, match="would write dX up to index 9 along axis 2, which has size 8"):
        kernel("maxpool.backward[k_h=2,k_w=2,s=2]")(
            np.ones((1, 1, 5, 4)), np.zeros((1, 1, 5, 4)), np.zeros((1, 1, 8, 8)), 2, 2, 2
        )
    assert (
        kernel("maxpool.backward[k_h=2,k_w=2,s=2]")(np.ones((1, 1, 4, 4)), A, np.zeros((1, 1, 8, 8)), 2, 2, 2).sum()
        == 16
    )


def test_specialised_input_gradient_reads_the_window_once_and_adds_in_the_written_order():
    rng = np.random.default_rng(15)
    k3 = kernel("conv2d.layer_grad_input[k_h=3,k_w=3,s=1]")
    assert "g = G[t_prime, f, i, j]" in k3.source and "for p_off" not in k3.source.split("def conv2d_layer")[-1]
    for n, c, f, h, w in [(3, 1, 8, 8, 8), (2, 3, 4, 9, 7)]:
        X, K = np.zeros((n, c, h, w)), rng.normal(size=(f, c, 3, 3))
        G = rng.normal(size=(n, f, h - 2, w - 2))
        assert np.array_equal(k3(G, K, X, 1), kernel("conv2d.layer_grad_input")(G, K, X, 1))


def test_specialised_conv_forward_puts_channels_outside_and_adds_in_the_written_order():
    """conv2d.layer_forward[k_h=3,k_w=3,s=1] reads the 9 coefficients once per (f, c) and adds
    each pixel's terms to Y: bit for bit the shape-generic kernel's acc = 0; acc += ...; + b."""
    k3 = kernel("conv2d.layer_forward[k_h=3,k_w=3,s=1]")
    body = k3.source[k3.source.index("def conv2d_layer_forward") :]
    assert "w8 = K[f, c, 2, 2]" in body and "acc += w8*X[t, c, i + 2, j + 2]" in body
    assert body.index("for c in range(C_in):") < body.index("acc = Y[t, f, i, j]")
    rng = np.random.default_rng(14)
    for n, c, f, h, w in [(3, 1, 8, 8, 8), (2, 3, 4, 9, 7)]:
        X, K, b = rng.normal(size=(n, c, h, w)), rng.normal(size=(f, c, 3, 3)), rng.normal(size=f)
        assert np.array_equal(k3(X, K, b, 1), kernel("conv2d.layer_forward")(X, K, b, 1))


def test_two_by_two_max_pool_kernel_is_max_and_first_equal_entry_same_as_counting():
    """maxpool.forward specialised to 2 × 2 prints Max(x_0..x_3) and the first entry equal to it
    (the derivation's case analysis); on windows full of ties it gives the counting kernel's Y and A."""
    k2 = kernel("maxpool.forward[k_h=2,k_w=2,s=2]")
    body = k2.source[k2.source.index("def maxpool_forward") :]
    assert "m = max(X[t, c, 2*i, 2*j]" in body and body.count("max(") == 1 and "acc" not in body
    rng = np.random.default_rng(13)
    X = rng.integers(0, 3, size=(4, 3, 8, 7)).astype(float)  # many ties in every window
    Y, A = k2(X, 2, 2, 2)
    Yg, Ag = kernel("maxpool.forward")(X, 2, 2, 2)
    assert np.array_equal(Y, Yg) and np.array_equal(A, Ag)
    windows = X[:, :, :8, :6].reshape(4, 3, 4, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(4, 3, 4, 3, 4)
    assert np.array_equal(Y, windows.max(-1)) and np.array_equal(A, windows.argmax(-1))


def test_one_epoch_matches_the_numpy_reference_from_the_same_init():
    from bench.references import cnn_numpy, common
    from symnn.commands.train_cnn import build_cnn
    from symnn.nn.data import load

    data = load("digits", images=True)
    ref = cnn_numpy.init(seed=0)
    net = build_cnn(seed=0)
    p = net.parameters()
    for key, value in (
        ("layers.0.weight", ref.conv_w),
        ("layers.0.bias", ref.conv_b),
        ("layers.4.weight", ref.dense_w),
        ("layers.4.bias", ref.dense_b),
    ):
        assert np.array_equal(p[key], value)  # the shared init rule
    cnn_numpy.train_epoch(ref, data.X_train, data.y_train, 0.5, 32, np.random.default_rng(0))
    net.fit(data.X_train, data.y_train, epochs=1, lr=0.5, batch_size=32)
    for key, value in (
        ("layers.0.weight", ref.conv_w),
        ("layers.0.bias", ref.conv_b),
        ("layers.4.weight", ref.dense_w),
        ("layers.4.bias", ref.dense_b),
    ):
        assert np.allclose(p[key], value, rtol=1e-9, atol=1e-11), key
    del common


def test_new_topics_verify():
    from symnn.derive import derive
    from symnn.kernels import derived

    cached = [
        derived("conv2d-layer"),
        derived("maxpool"),
        derived("avgpool"),
        derived("flatten"),
        derived("softmax-cross-entropy"),
        derive("relu"),
    ]
    for d in cached:
        assert d.verified and d.goals and all(s.verified_by for s in d.equations if not s.is_definition)
    from symnn.derive.topics.softmax import softmax_symbols

    z, yhat, y, i = softmax_symbols()
    assert derived("softmax-cross-entropy").results["dz"] == yhat[i] - y[i]
    relu = cached[-1]
    assert "sub-gradient" in relu.text() and "step" in str(relu.result)
    text = derived("maxpool").text()
    assert "first maximum" in text and "Heaviside(0) = 1/2" in text


@pytest.mark.parametrize("topic", ["relu", "flatten"])
def test_derive_cli_prints_the_topics(topic, capsys):
    from symnn.cli import main

    assert main(["derive", topic]) == 0
    assert "Verified" in capsys.readouterr().out


def test_layer_errors_are_clear():
    with pytest.raises(InputError, match="input channel"):
        Conv2D(3, 2, 3).forward(np.zeros((1, 1, 5, 5)))
    with pytest.raises(InputError, match="kernel_size"):
        Conv2D(1, 2, 0)
    with pytest.raises(InputError, match=r"\(N, C, H, W\)"):
        MaxPool2D(2).forward(np.zeros((5, 5)))
    with pytest.raises(InputError, match="smaller"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(InputError, match="smaller"):
        Conv2D(1, 1, 5).forward(np.zeros((1, 1, 3, 3)))


@pytest.mark.slow
def test_digits_cnn_reaches_97_percent(tmp_path, capsys):
    from symnn.cli import main

    png = tmp_path / "cnn.png"
    assert main(["train", "cnn", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    line = [ln for ln in out.splitlines() if ln.startswith("test accuracy: ")]
    assert line and float(line[0].split(": ")[1]) >= 0.97, out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_training_path_uses_specialised_kernels_that_agree_with_the_generic_ones():
    from symnn.nn.layers import Workspace
    from symnn.nn.train import train_step

    rng = np.random.default_rng(11)
    X, y = rng.normal(size=(3, 2, 9, 8)), np.array([0, 1, 2])
    net = Sequential(
        [Conv2D(2, 3, 3, stride=2, padding=1), ReLU(), MaxPool2D(2, stride=1), Flatten(), Dense(3 * 4 * 3, 3)],
        loss="softmax-cross-entropy",
        seed=2,
    )
    expected = {k: v.copy() for k, v in net.gradients(X, y).items()}
    before = {k: v.copy() for k, v in net.parameters().items()}
    train_step(net, X, net.targets(y), 0.1, Workspace())
    for key, g in expected.items():
        assert np.allclose(net.layers[int(key.split(".")[1])].grads[key.split(".")[2]], g, rtol=1e-12, atol=1e-14)
        assert np.allclose(net.parameters()[key], before[key] - 0.1 * g, rtol=1e-12, atol=1e-14)
    assert "k_h=3,k_w=3,s=2" in net.layers[0].train_kernels[0].name
    src = net.layers[0].train_kernels[3].source
    # constants folded in: the 3 × 3 window's kernel entries read once, one statement per position
    assert "w8 = K[f, c_prime, 2, 2]" in src and "dX[t_prime, c_prime, 2*i + 2, 2*j + 2] += g*w8" in src


def test_compiled_epoch_driver_trains_bit_for_bit_like_the_per_layer_path(capsys):
    """The driver calls the same generated kernels from one compiled function: same numbers."""
    from symnn.cli import main
    from symnn.nn import Sigmoid, Tanh
    from symnn.nn import epoch as compiled_epoch

    def net():
        return Sequential(
            [Conv2D(2, 3, 3, padding=1), Tanh(), AvgPool2D(2), Flatten(), Dense(3 * 3 * 4, 5), Sigmoid(), Dense(5, 3)],
            loss="softmax-cross-entropy",
            seed=3,
        )

    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(37, 2, 6, 8)), rng.integers(0, 3, 37)  # batches of 8 and a tail of 5
    a, b = net(), net()
    assert not compiled_epoch.is_compiled(a, X.shape[1:])
    assert not compiled_epoch.worth_it(a, X.shape[1:], epochs=2, batches_per_epoch=5)
    a.fit(X, y, epochs=2, lr=0.3, batch_size=8, compiled=False)
    b.fit(X, y, epochs=2, lr=0.3, batch_size=8, compiled=True)
    for key, value in a.parameters().items():
        assert np.array_equal(value, b.parameters()[key]), key
    assert a.history["loss"] == b.history["loss"] and a.history["loss"][-1] < a.history["loss"][0]
    assert compiled_epoch.is_compiled(a, X.shape[1:])  # the next fit uses it unasked
    assert compiled_epoch.worth_it(a, X.shape[1:], epochs=1, batches_per_epoch=1)
    name = compiled_epoch.kernel_name(a, X.shape[1:])
    assert main(["codegen", "show", name]) == 0
    shown = capsys.readouterr().out
    assert "import conv2d_layer_forward_k_h_3_k_w_3_s_1 as" in shown and "xpad0[:, :, 1:7, 1:9] = xb" in shown
    assert "def epoch(X, Y, order, eta, batch_size," in shown


def test_compiled_epoch_refuses_layers_it_does_not_know():
    from symnn.nn.layers import Layer

    class Odd(Layer):
        def forward(self, x):
            return x

    net = Sequential([Flatten(), Odd(), Dense(4, 2)], loss="softmax-cross-entropy")
    with pytest.raises(InputError, match="compiled epoch knows"):
        net.fit(np.zeros((4, 1, 2, 2)), np.array([0, 1, 0, 1]), epochs=1, batch_size=2, compiled=True)


class _Spy:
    """A kernel that records its name when called (which kernels ran)."""

    def __init__(self, k, ran: list[str]) -> None:
        self.k, self.ran = k, ran

    def __call__(self, *args, **kwargs):
        self.ran.append(self.k.name)
        return self.k(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.k, name)


def _spied(net, ran: list[str], unfold: bool = False) -> None:
    for layer in net.layers:
        if isinstance(layer, (Conv2D, MaxPool2D, AvgPool2D)):
            layer._k = tuple(_Spy(k, ran) for k in layer.kernels)
            layer._tk = tuple(_Spy(k, ran) for k in layer.train_kernels)
            if unfold and isinstance(layer, Conv2D):
                layer._uk = tuple(_Spy(k, ran) for k in layer.unfold_kernels)


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
def test_predict_loss_and_gradients_run_the_specialised_kernels_on_large_inputs(pool, monkeypatch):
    from symnn.nn import cnn_layers

    rng = np.random.default_rng(4)
    X = rng.normal(size=(24, 1, 14, 14))  # 24·8·12·12·9 = 248832 multiply-adds in the conv
    y = rng.integers(0, 3, size=24)

    def run(threshold: float) -> tuple[list[str], list[np.ndarray]]:
        monkeypatch.setattr(cnn_layers, "SPECIALISE_WORK", threshold)
        layers = [Conv2D(1, 8, 3), ReLU(), pool(2), Flatten(), Dense(8 * 36, 3)]
        net = Sequential(layers, loss=SoftmaxCrossEntropy(), seed=2)
        ran: list[str] = []
        _spied(net, ran)
        grads = net.gradients(X, y)
        out = [net.predict(X), np.array(net.loss(X, y)), np.array(net.accuracy(X, y))]
        return ran, out + [grads[k] for k in sorted(grads)]

    large, fast = run(20_000)  # the pool: 24·8·6·6·4 = 27648
    small, slow = run(10**9)
    assert "conv2d.layer_forward[k_h=3,k_w=3,s=1]" in large and "conv2d.layer_grad_kernel[k_h=3,k_w=3,s=1]" in large
    assert not any(
        name.startswith(("conv2d.layer_forward", "maxpool.f", "avgpool.f")) and "[" not in name for name in large
    )
    assert any(name.startswith(pool.kind) and "[k_h=2,k_w=2,s=2]" in name for name in large)
    assert small and not any("[" in name for name in small)  # a small call: the generic kernels, nothing compiled
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)  # the same additions in the same order


def test_large_conv_layers_run_blas_on_every_public_path_and_exact_order_keeps_the_written_sums():
    """A Conv2D(16, 8, 3) call of >= UNFOLD_MIN multiply-adds: gradients and fit run the
    '[unfold,...]' kernels, whose window sums go to BLAS (im2col / col2im + np.dot); with
    exact_order=True (or layer.exact) the specialised ones in the written order (no BLAS); both
    agree to rounding."""
    rng = np.random.default_rng(21)
    X = rng.normal(size=(8, 16, 13, 13))  # 8·8·16·11·11·9 = 1,115,136 multiply-adds per conv kernel
    y = rng.integers(0, 3, size=8)

    def net():
        return Sequential([Conv2D(16, 8, 3), ReLU(), Flatten(), Dense(8 * 121, 3)], loss=SoftmaxCrossEntropy(), seed=3)

    results, ran = {}, {}
    for exact in (False, True):
        model = net()
        model.layers[0].exact = exact
        ran[exact] = []
        _spied(model, ran[exact], unfold=not exact)
        results[exact] = model.gradients(X, y)
        trained = net()
        trained.fit(X, y, epochs=1, lr=0.05, batch_size=8, compiled=False, exact_order=exact)
        assert all(layer.exact == exact for layer in trained.layers)
        assert trained.layers[0].training_kernels(X.shape)[0].spec.unfold != exact
        results[exact, "fit"] = trained.parameters()
    assert {"conv2d.layer_forward[unfold,k_h=3,k_w=3,s=1]", "conv2d.layer_grad_input[unfold,k_h=3,k_w=3,s=1]"} <= set(
        ran[False]
    )
    assert "np.dot(" in kernel("conv2d.layer_forward[unfold,k_h=3,k_w=3,s=1]").source
    assert "conv2d.layer_grad_kernel[k_h=3,k_w=3,s=1]" in ran[True] and not any("unfold" in n for n in ran[True])
    assert not any("np.dot(" in kernel(name).source for name in ran[True] if name.startswith("conv2d.layer_"))
    for key in results[False]:
        np.testing.assert_allclose(results[True][key], results[False][key], rtol=1e-9, atol=1e-12)
    for key in results[False, "fit"]:
        np.testing.assert_allclose(results[True, "fit"][key], results[False, "fit"][key], rtol=1e-9, atol=1e-12)
    with pytest.raises(InputError, match="choose one"):
        net().fit(X, y, epochs=1, fastmath=True, exact_order=True)
