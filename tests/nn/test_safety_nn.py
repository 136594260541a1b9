"""Untrusted input to the nn API and `symnn train`: every mismatch is one InputError line before
any generated kernel runs (Numba does not check bounds), and the sigmoid + cross-entropy loss
stays finite for any logit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from symnn.errors import InputError, SymnnError
from symnn.nn import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropy,
    Softplus,
)

# Each scenario ran generated kernels on mismatched buffers before the shape pass: the child
# process wrote out of bounds and aborted (munmap_chunk(): invalid pointer, exit 134) or segfaulted.
CHILD = textwrap.dedent("""
    import numpy as np
    from symnn.errors import SymnnError
    from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid
    X, y = np.random.default_rng(0).random((20, 2)), np.random.default_rng(1).random((20, 2))
    bad = lambda: Sequential([Dense(2, 4), Sigmoid(), Dense(50, 2), Sigmoid()])
    img = np.zeros((4, 1, 8, 8)); labels = np.array([0, 1, 0, 1])
    cnn = lambda: Sequential([Conv2D(1, 2, 9), ReLU(), Flatten(), Dense(2, 2)], loss="softmax-cross-entropy")
    pool = lambda: Sequential([Conv2D(1, 2, 3), MaxPool2D(7), Flatten(), Dense(2, 2)], loss="softmax-cross-entropy")
    cases = {
        "fused": lambda: bad().fit(X, y, epochs=2),
        "per-layer": lambda: bad().fit(X, y, epochs=2, fused=False, compiled=False),
        "compiled": lambda: bad().fit(X, y, epochs=2, fused=False, compiled=True),
        "predict": lambda: bad().predict(X),
        "loss": lambda: bad().loss(X, y),
        "accuracy": lambda: bad().accuracy(X, y),
        "gradients": lambda: bad().gradients(X, y),
        "conv-fit": lambda: cnn().fit(img, labels, epochs=1, batch_size=2),
        "conv-compiled": lambda: cnn().fit(img, labels, epochs=1, batch_size=2, compiled=True),
        "conv-predict": lambda: cnn().predict(img),
        "pool-fit": lambda: pool().fit(img, labels, epochs=1, batch_size=2, compiled=False),
        "wide-X": lambda: Sequential([Dense(2, 2), Sigmoid()]).fit(np.zeros((5, 3)), np.zeros((5, 2))),
    }
    for name, run in cases.items():
        try:
            run()
            print(name, "NO ERROR")
        except SymnnError as exc:
            print(f"{name}: {type(exc).__name__}: {exc}")
    print("clean exit")
""")


def test_mismatched_nets_fail_cleanly_in_a_child_process(cache_dir):
    env = {**os.environ, "SYMNN_CACHE_DIR": cache_dir}
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines() if ": " in line)
    assert run.stdout.rstrip().endswith("clean exit")
    dense = "InputError: layer 2 (Dense(50, 2)) takes input shaped (N, 50), but layer 1 (Sigmoid()) gives it (N, 4)"
    for name in ("fused", "per-layer", "compiled", "predict", "loss", "accuracy", "gradients"):
        assert lines[name] == dense, name
    conv = "InputError: layer 0 (Conv2D(1, 2, 9)) needs images of at least 9 × 9 pixels, but X is shaped (N, 1, 8, 8)"
    for name in ("conv-fit", "conv-compiled", "conv-predict"):
        assert lines[name] == conv, name
    assert lines["pool-fit"] == (
        "InputError: layer 1 (MaxPool2D(7)) needs maps of at least 7 × 7 pixels, "
        "but layer 0 (Conv2D(1, 2, 3)) gives it (N, 2, 6, 6)"
    )
    assert lines["wide-X"] == "InputError: layer 0 (Dense(2, 2)) takes input shaped (N, 2), but X is shaped (N, 3)"


def _net(*layers, loss="quadratic"):
    return Sequential(list(layers), loss=loss)


X2, Y2 = np.random.default_rng(0).random((6, 2)), np.random.default_rng(1).random((6, 2))

# (what is called, the start of the one-line message)
MISUSES = [
    (
        lambda: _net(Dense(2, 2), Sigmoid()).fit(X2[:, 0], Y2),
        r"X must be 2-D \(N, features\) for a dense net or 4-D \(N, C, H, W\) for a CNN; got shape \(6,\)",
    ),
    (
        lambda: _net(Dense(2, 2), Sigmoid()).fit(X2[:, :, None], Y2),
        r"layer 0 \(Dense\(2, 2\)\) takes input shaped \(N, 2\), but X is shaped \(N, 2, 1\)",
    ),
    (
        lambda: _net(Dense(2, 2), Sigmoid()).fit(np.zeros((6, 1, 2, 1)), Y2),
        r"layer 0 \(Dense\(2, 2\)\) takes input shaped \(N, 2\) \(images need Flatten\(\) first\)",
    ),
    (
        lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2[:, :, None]),
        r"y must be 1-D .* or 2-D \(N, 2\) targets; got shape \(6, 2, 1\)",
    ),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2 + 1j, Y2), "X must hold real numbers .* complex128"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit([[1, 2], [3]], Y2), "X must be an array of real numbers"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(np.array([["a", "b"]]), Y2[:1]), "X must hold real numbers"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2 + 1j), "y must hold real numbers"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, None), r"fit needs targets y: labels shaped \(N,\)"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, lr="1"), "the learning rate must be a positive number"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, lr="fast"), "the learning rate must be a positive number"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, lr=True), "the learning rate must be a positive number"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, lr=1j), "the learning rate must be a positive number"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, epochs=True), r"epochs must be a positive integer \(got True\)"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, epochs=2.0), "epochs must be a positive integer"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, batch_size="3"), "the batch size must be a positive integer"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, batch_size=True), "the batch size must be a positive integer"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, seed="x"), "seed must be a non-negative integer"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, seed=-1), "seed must be a non-negative integer"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, mode=3), "unknown mode 3"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, explain="yes"), "explain must be a function"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, fused="no"), "fused must be True or False"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, learning_rate=1), "fit\\(\\) has no option 'learning_rate'"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, X_test=X2), "give X_test and y_test together"),
    (lambda: _net(Dense(2, 2), Sigmoid()).fit(X2, Y2, X_test=X2, y_test=Y2[:3]), "validation: X has 6 samples but y"),
    (lambda: _net(Dense(2, 2), Sigmoid()).accuracy(X2, Y2[:, :1]), "accuracy takes labels"),
    (lambda: _net(Dense(2, 2), Sigmoid()).astype("nope"), "dtype must be float32 or float64"),
    (lambda: _net(Dense(2, 2), Sigmoid()).astype("float16"), "dtype must be float32 or float64"),
    (lambda: Sequential([1, 2]), r"layer 0 is 1, not a layer"),
    (lambda: Sequential("Dense"), "Sequential takes a list of layers"),
    (lambda: Sequential([Dense(2, 2), Sigmoid()], seed="x"), "seed must be a non-negative integer"),
    (lambda: Sequential([Dense(2, 2), Sigmoid()], seed=1.5), "seed must be a non-negative integer"),
    (lambda: Dense(2.7, 3), r"Dense n_in .* must be a positive integer \(got 2.7\)"),
    (lambda: Dense(2, float("inf")), "Dense n_out .* must be a positive integer"),
    (lambda: Dense(float("nan"), 2), "Dense n_in .* must be a positive integer"),
    (lambda: Dense(-3, 2), "Dense n_in .* must be a positive integer"),
    (lambda: Dense(True, 2), "Dense n_in .* must be a positive integer"),
    (lambda: Dense("3", 2), "Dense n_in .* must be a positive integer"),
    (lambda: Dense(10**6, 10**6), "Dense\\(1000000, 1000000\\)'s weights would need about"),
    (lambda: Conv2D(1, 2, float("inf")), "Conv2D kernel_size must be a positive integer"),
    (lambda: Conv2D(1, 10**5, 1000), "Conv2D\\(1, 100000, 1000\\)'s weights would need about"),
    (lambda: MaxPool2D((2, 2, 2)), "MaxPool2D size must be a positive integer or a pair"),
    (lambda: AvgPool2D(2, stride=0), "AvgPool2D stride must be a positive integer"),
    (
        lambda: _net(Dense(2, 2), ReLU(), loss="cross-entropy"),
        "the cross-entropy cost needs outputs strictly between 0 and 1",
    ),
    (lambda: _net(Dense(2, 2), Softplus(), loss="bce"), "end the net with Sigmoid"),
    (
        lambda: _net(Conv2D(1, 2, 3), ReLU()).fit(np.zeros((2, 1, 4, 4)), np.zeros((2, 2))),
        r"the net's last layer gives outputs shaped \(N, 2, 2, 2\)",
    ),
    (
        lambda: _net(Dense(4, 2), Sigmoid()).fit(np.zeros((2, 2, 2, 1)), np.zeros((2, 2))),
        r"layer 0 \(Dense\(4, 2\)\) takes input shaped \(N, 4\) \(images need Flatten\(\) first\)",
    ),
    (
        lambda: _net(Flatten(), Dense(4, 2)).fit(np.zeros((2, 4)), np.zeros((2, 2))),
        r"layer 0 \(Flatten\(\)\) takes a batch of images shaped \(N, C, H, W\), but X is shaped \(N, 4\)",
    ),
    (lambda: _net(Conv2D(3, 2, 3), Flatten()).predict(np.zeros((2, 1, 5, 5))), r"takes images with 3 channel\(s\)"),
]


@pytest.mark.parametrize("call, message", MISUSES, ids=[str(n) for n in range(len(MISUSES))])
def test_misuse_is_one_input_error_line(call, message):
    with pytest.raises(SymnnError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_the_same_layer_twice_is_refused():
    s = Sigmoid()
    with pytest.raises(InputError, match=r"layer 3 \(Sigmoid\(\)\) is the same object as layer 1"):
        Sequential([Dense(2, 2), s, Dense(2, 2), s])


def test_replaced_parameters_are_checked_before_any_kernel():
    net = Sequential([Dense(2, 3), Sigmoid(), Dense(3, 2), Sigmoid()])
    net.layers[2].weight = np.zeros((3, 3))
    with pytest.raises(
        InputError, match=r"layer 2 \(Dense\(3, 2\)\): its weight must be an array of shape \(2, 3\) \(got \(3, 3\)\)"
    ):
        net.fit(X2, Y2, epochs=1)
    net.layers[2].weight = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(InputError, match="its weight must be a writeable C-contiguous float64 array"):
        net.predict(X2)
    net.layers[2].weight = np.full((2, 3), np.nan)
    with pytest.raises(InputError, match="its weight holds NaN or inf"):
        net.loss(X2, Y2)


def test_layers_added_after_construction_are_checked():
    net = Sequential([Dense(2, 3), Sigmoid()])
    net.layers.append(Dense(5, 2))
    with pytest.raises(InputError, match=r"layer 2 \(Dense\(5, 2\)\) takes input shaped \(N, 5\), but layer 1"):
        net.gradients(X2, Y2)
    net.layers[2] = "Dense"
    with pytest.raises(InputError, match="layer 2 is 'Dense', not a layer"):
        net.forward(X2)


def test_backward_takes_the_last_forward_output():
    net = Sequential([Dense(2, 2), Sigmoid()])
    yhat = net.forward(X2)
    with pytest.raises(InputError, match=r"backward takes the output of the last forward pass, shaped \(6, 2\)"):
        net.backward(yhat[:3], Y2[:3])
    net.backward(yhat, Y2)
    assert set(net.layers[0].grads) == {"weight", "bias"}


def test_memory_is_estimated_before_training(monkeypatch):
    net = Sequential([Dense(2, 3000), Sigmoid(), Dense(3000, 2), Sigmoid()])
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "1M")
    with pytest.raises(
        InputError, match="training on 6 samples of this net would need about .* more than the limit of 1.0 MB"
    ):
        net.fit(X2, Y2, epochs=1)
    with pytest.raises(InputError, match="a forward pass of 100 samples of this net would need"):
        net.predict(np.zeros((100, 2)))
    assert net.memory_needed((2,), 6) == 2 * 6 * (2 + 3000 + 3000 + 2 + 2) * 8


def test_output_shapes_of_each_layer():
    net = Sequential(
        [Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2), AvgPool2D(2, stride=1), Flatten(), Dense(4 * 3 * 3, 10)],
        loss="softmax-cross-entropy",
    )
    assert net.check_shapes((1, 8, 8)) == [(1, 8, 8), (4, 8, 8), (4, 8, 8), (4, 4, 4), (4, 3, 3), (36,), (10,)]
    assert net.output_shape((1, 8, 8)) == (10,)
    assert net.forward(np.zeros((2, 1, 8, 8))).shape == (2, 10)


CLI_MISUSES = [
    (["train", "mlp", "--hidden", "100000,100000"], "a 64-100000-100000-10 net on 1437 samples would need about"),
    (["train", "mlp", "--hidden", "1e3"], "--hidden takes positive integers"),
    (["train", "mlp", "--hidden", "0"], "--hidden takes positive integers"),
    (["train", "perceptron", "--hidden", "3"], "`symnn train perceptron` has no option --hidden"),
    (["train", "mlp", "--epochs", "0"], "--epochs must be a positive integer"),
    (["train", "mlp", "--batch-size", "-2"], "--batch-size must be a positive integer"),
    (["train", "mlp", "--lr", "nan"], "--lr must be a positive finite number"),
    (["train", "mlp", "--lr", "inf"], "--lr must be a positive finite number"),
    (["train", "mlp", "--seed", "-1"], "--seed must be an integer from 0 to 4294967295"),
    (["train", "cnn", "--seed", "99999999999"], "--seed must be an integer from 0 to 4294967295"),
    (["train", "mlp", "--activation", "relu", "--cost", "cross-entropy"], "end the net with Sigmoid"),
    (["train", "mlp", "--cost", "nope"], "unknown cost 'nope'"),
]


@pytest.mark.parametrize("argv, message", CLI_MISUSES, ids=[" ".join(a[1:]) for a, _ in CLI_MISUSES])
def test_cli_misuse_exits_2_with_one_line(argv, message, capsys):
    from symnn.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


# -- the sigmoid + cross-entropy loss from the logit ---------------------------------------------
XL = np.array([[1.0, 0.0], [-1.0, 0.5], [0.25, -2.0]])
YL = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _oracle(W, b, X, Y):
    """Float-safe reference: mean over samples of Σ softplus(z) − y z, and its gradient."""
    Z = X @ W.T + b
    loss = (np.logaddexp(0.0, Z) - Y * Z).sum() / len(X)
    G = (0.5 * (1 + np.tanh(Z / 2)) - Y) / len(X)  # σ(z) − y without overflow
    return loss, G.T @ X, G.sum(axis=0)


def _ce_net(scale: float, hidden: bool = False) -> Sequential:
    layers = [Dense(2, 2), Sigmoid()]
    net = Sequential(([Dense(2, 2), Sigmoid()] if hidden else []) + layers, loss="cross-entropy", seed=3)
    net.layers[-2].weight[...] = scale * np.array([[1.0, -0.5], [-1.0, 0.75]])
    net.layers[-2].bias[...] = [0.1 * scale, -0.2 * scale]
    return net


def test_cross_entropy_of_a_saturated_sigmoid_is_the_finite_true_loss():
    net = _ce_net(800.0)
    W, b = net.layers[0].weight, net.layers[0].bias
    want, dW, db = _oracle(W, b, XL, YL)
    assert want > 500  # z reaches ±1000: σ(z) is 0 or 1 in float64
    assert net.loss(XL, YL) == pytest.approx(want, rel=1e-12)
    g = net.gradients(XL, YL)
    np.testing.assert_allclose(g["layers.0.weight"], dW, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g["layers.0.bias"], db, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scale", [0.7, 800.0])
def test_cross_entropy_gradients_match_central_differences(scale):
    net = _ce_net(scale, hidden=True)
    grads = net.gradients(XL, YL)
    h = 1e-6
    for key, param in net.parameters().items():
        fd = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + h
            up = net.loss(XL, YL)
            param[idx] = old - h
            down = net.loss(XL, YL)
            param[idx] = old
            fd[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[key], fd, rtol=1e-5, atol=1e-7 * max(1.0, scale), err_msg=key)


def test_every_training_path_uses_the_stable_cross_entropy():
    runs = {}
    for path, options in {
        "fused": {},
        "per-layer": dict(fused=False, compiled=False),
        "compiled": dict(fused=False, compiled=True),
    }.items():
        net = _ce_net(800.0, hidden=True)
        net.fit(XL, YL, epochs=2, lr=1e-3, batch_size=2, **options)
        runs[path] = net
        assert all(np.isfinite(net.history["loss"])) and net.history["loss"][0] > 100, path
    ref = runs["per-layer"].parameters()
    for path in ("fused", "compiled"):
        for key, value in runs[path].parameters().items():
            np.testing.assert_allclose(value, ref[key], rtol=1e-9, atol=1e-12, err_msg=f"{path} {key}")
    # one epoch moves the output layer by −η·(σ(z) − y)·x, as the float-safe oracle says
    net = _ce_net(800.0)
    W0, b0 = net.layers[0].weight.copy(), net.layers[0].bias.copy()
    net.fit(XL, YL, epochs=1, lr=1e-3, batch_size=3, fused=False, compiled=False)
    _, dW, db = _oracle(W0, b0, XL, YL)
    np.testing.assert_allclose(net.layers[0].weight, W0 - 1e-3 * dW, rtol=1e-12)


def test_the_fused_kernel_prints_the_derived_logit_gradient():
    from symnn.nn.fused import epoch_source

    source, _ = epoch_source(2, "sigmoid", "cross-entropy")
    assert "δ^L = ∂C/∂z^L = σ(z) − y" in source
    assert "math.exp(-abs(z1[j]))" in source and "- Y[s, j]" in source
    quadratic, _ = epoch_source(2, "sigmoid", "quadratic")
    assert "σ(z) − y" not in quadratic


def test_sigmoid_cross_entropy_derivation_is_verified(derived):
    d = derived("sigmoid-cross-entropy")
    assert d.verified and all(s.verified_by for s in d.equations if not s.is_definition)
    import sympy as sp

    from symnn.ops.costs import yl, zl
    from symnn.ops.functions import sigmoid

    assert sp.simplify(d.results["dz"] - (sigmoid(zl) - yl)) == 0
    from symnn.codegen import kernel

    z = np.array([-1e4, -800.0, -3.0, 0.0, 3.0, 800.0, 1e4])
    y = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(kernel("sigmoid_cross_entropy.loss")(z, y), np.logaddexp(0, z) - y * z, rtol=1e-14)
    np.testing.assert_allclose(
        kernel("sigmoid_cross_entropy.grad")(z, y, 1.0), 0.5 * (1 + np.tanh(z / 2)) - y, rtol=1e-14, atol=1e-300
    )


def test_softmax_cross_entropy_net_needs_no_sigmoid():
    net = Sequential([Dense(2, 3)], loss=SoftmaxCrossEntropy())
    assert np.isfinite(net.loss(X2, np.array([0, 1, 2, 0, 1, 2])))
    with pytest.raises(SymnnError, match="labels"):
        net.loss(X2, np.array([0, 1, 2, 0, 1, 7]))


def test_layer_backward_needs_its_forward_and_the_same_shape():
    with pytest.raises(InputError, match=r"Dense\(2, 2\).backward needs a forward pass first"):
        Dense(2, 2).backward(np.zeros((1, 2)))
    with pytest.raises(InputError, match=r"Sigmoid\(\).backward needs a forward pass first"):
        Sigmoid().backward(np.zeros((1, 2)))
    s = Sigmoid()
    s.forward(X2)
    with pytest.raises(
        InputError, match=r"takes δ shaped \(6, 2\), like the output of the last forward pass; got \(1, 2\)"
    ):
        s.backward(np.zeros((1, 2)))  # NumPy would broadcast it into a wrong gradient
    c = Conv2D(1, 2, 3, padding=1)
    c.forward(np.zeros((2, 1, 5, 5)))
    with pytest.raises(InputError, match=r"takes δ shaped \(2, 2, 5, 5\)"):
        c.backward(np.zeros((2, 2, 3, 3)))
    for layer, x, bad in (
        (MaxPool2D(2), np.zeros((2, 1, 4, 4)), (2, 1, 4, 4)),
        (AvgPool2D(2), np.zeros((2, 1, 4, 4)), (2, 1, 1, 1)),
        (Flatten(), np.zeros((2, 1, 4, 4)), (2, 3)),
    ):
        out = layer.forward(x)
        with pytest.raises(InputError, match="like the output of the last forward pass"):
            layer.backward(np.zeros(bad))
        assert layer.backward(np.ones_like(out)).shape == x.shape
