"""Nets trained by the generated kernels: gradients vs finite differences, the lecture's
targets (XOR solved, digits MLP >= 96 %, the study-table cost falling under batch descent)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import finite_difference_gradients

from symnn import InputError, TrainingError
from symnn.nn import Dense, Sequential, activation_layer, activation_names
from symnn.nn.data import load
from symnn.ops.costs import compatible

SMOOTH = [name for name in activation_names() if name != "threshold"]  # every record but the step


@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_gradients_equal_finite_differences(activation, cost):
    out_act = "sigmoid" if cost == "cross-entropy" else activation  # cross-entropy needs (0, 1) outputs
    assert compatible(out_act, cost)
    rng = np.random.default_rng(1)
    net = Sequential(
        [Dense(4, 5), activation_layer(activation), Dense(5, 3), activation_layer(out_act)], loss=cost, seed=3
    )
    X = rng.uniform(-1, 1, (6, 4))
    if activation in ("relu", "leaky_relu"):  # keep away from the kink at 0
        X = np.sign(X) * (0.2 + np.abs(X))
    y = rng.uniform(0.1, 0.9, (6, 3))
    ours = net.gradients(X, y)
    fd = finite_difference_gradients(net, X, y)
    assert ours.keys() == fd.keys() == net.parameters().keys()
    for name in ours:
        assert ours[name].shape == net.parameters()[name].shape
        np.testing.assert_allclose(ours[name], fd[name], rtol=1e-6, atol=1e-8, err_msg=name)


def test_parameter_names_and_shapes():
    net = Sequential([Dense(64, 30), activation_layer("sigmoid"), Dense(30, 10), activation_layer("sigmoid")])
    shapes = {k: v.shape for k, v in net.parameters().items()}
    assert shapes == {
        "layers.0.weight": (30, 64),
        "layers.0.bias": (30,),
        "layers.2.weight": (10, 30),
        "layers.2.bias": (10,),
    }
    w = net.parameters()["layers.0.weight"]
    assert 0 < np.abs(w).mean() < 0.5  # step 1: close to 0 but not 0


def test_loss_is_the_mean_of_the_quadratic_cost():
    net = Sequential([Dense(2, 2), activation_layer("sigmoid")], seed=0)
    X = np.array([[0.5, -1.0], [1.0, 2.0], [0.0, 0.3]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    W, b = net.parameters()["layers.0.weight"], net.parameters()["layers.0.bias"]
    yhat = 1 / (1 + np.exp(-(X @ W.T + b)))  # oracle in the test only
    assert net.loss(X, Y) == pytest.approx(np.mean(np.sum(0.5 * (yhat - Y) ** 2, axis=1)), rel=1e-12)


def test_xor_is_solved():
    data = load("xor")
    net = Sequential([Dense(2, 3), activation_layer("sigmoid"), Dense(3, 2), activation_layer("sigmoid")], seed=0)
    net.fit(data.X_train, data.y_train, epochs=2000, lr=2.0, batch_size=4)
    assert (net.predict(data.X_test) == data.y_test).all()


def test_study_perceptron_cost_falls_monotonically_under_batch_descent():
    data = load("study")
    net = Sequential([Dense(3, 1), activation_layer("sigmoid")], seed=0)
    net.fit(data.X_train, data.y_train, epochs=50, lr=0.5, mode="batch")
    losses = net.history["loss"]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
def test_digits_mlp_reaches_96_percent():
    """Nielsen's network.py setup: 64-30-10, sigmoid, quadratic, mini-batch 10, η = 3, 30 epochs."""
    data = load("digits", seed=0)
    net = Sequential(
        [Dense(64, 30), activation_layer("sigmoid"), Dense(30, 10), activation_layer("sigmoid")],
        loss="quadratic",
        seed=0,
    )
    net.fit(data.X_train, data.y_train, epochs=30, lr=3.0, batch_size=10)
    assert net.accuracy(data.X_test, data.y_test) >= 0.96


def test_bad_training_options_are_clear_errors(capsys):
    data = load("xor")
    net = Sequential([Dense(2, 2), activation_layer("sigmoid")])
    with pytest.raises(InputError, match="learning rate must be a positive number"):
        net.fit(data.X_train, data.y_train, lr=0)
    with pytest.raises(InputError, match="epochs must be a positive integer"):
        net.fit(data.X_train, data.y_train, epochs=0)
    with pytest.raises(InputError, match="batch size must be a positive integer"):
        net.fit(data.X_train, data.y_train, batch_size=0)
    with pytest.raises(InputError, match="X has 4 samples but y has 3"):
        net.fit(data.X_train, data.y_train[:3])
    with pytest.raises(InputError, match="NaN"):
        net.fit(np.full((4, 2), np.nan), data.y_train)
    net.fit(data.X_train, data.y_train, epochs=1, batch_size=100)
    assert "larger than the 4 training samples; using 4" in capsys.readouterr().err


def test_divergence_stops_with_a_clear_message():
    rng = np.random.default_rng(0)
    X, y = rng.normal(0, 100, (20, 3)), rng.normal(0, 100, 20)
    net = Sequential([Dense(3, 8), activation_layer("relu"), Dense(8, 1), activation_layer("leaky_relu")], seed=0)
    with pytest.raises(TrainingError, match=r"diverged at epoch \d+.*smaller learning rate"):
        net.fit(X, y, epochs=50, lr=10.0, batch_size=5)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symnn", *args], capture_output=True, text=True)


def test_cli_explain_narrates_the_seven_steps_with_numbers(tmp_path):
    r = _cli(
        "train", "perceptron", "--dataset", "study", "--epochs", "20", "--explain", "--plot", str(tmp_path / "loss.png")
    )
    assert r.returncode == 0, r.stderr
    for n in range(1, 8):
        assert f"STEP {n}:" in r.stdout
    import re

    assert re.search(r"STEP 2: observation \d of the training set .* x = \[[-\d.e]+, [-\d.e]+, [-\d.e]+\]", r.stdout)
    assert re.search(r"layers\.0\.weight: \[.*\] -> \[.*\] \(η = 0\.5\)", r.stdout)
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_mode_all_plots_three_curves(tmp_path):
    r = _cli("train", "perceptron", "--mode", "all", "--epochs", "30", "--plot", str(tmp_path / "modes.png"))
    assert r.returncode == 0, r.stderr
    assert "[sgd]" in r.stdout and "[batch]" in r.stdout and "[minibatch]" in r.stdout


def test_cli_bad_options_exit_2_with_one_line():
    for args in (
        ["train", "mlp", "--dataset", "mnist"],
        ["train", "mlp", "--lr", "-1"],
        ["train", "mlp", "--activation", "swishh"],
        ["train", "mlp", "--hidden", "a,b"],
    ):
        r = _cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0, args


def test_fused_epoch_kernel_equals_the_per_layer_kernels():
    """The default training path (one generated kernel per epoch) gives the same weights as
    calling the per-layer kernels batch by batch."""
    data = load("digits")
    X, y = data.X_train[:200], data.y_train[:200]
    nets = []
    for fused in (True, False):
        net = Sequential(
            [Dense(64, 12), activation_layer("sigmoid"), Dense(12, 10), activation_layer("sigmoid")], seed=4
        )
        net.fit(X, y, epochs=2, lr=3.0, batch_size=10, fused=fused)
        nets.append(net.parameters())
    for name in nets[0]:
        np.testing.assert_allclose(nets[0][name], nets[1][name], rtol=1e-10, atol=1e-12)
    r = _cli("codegen", "show", "mlp.epoch.sigmoid.quadratic.2")
    assert r.returncode == 0 and "def mlp_epoch_sigmoid_quadratic_2" in r.stdout and "BP2" in r.stdout


def test_fastmath_switch_trains_the_same_net_to_rounding():
    """fit(fastmath=True): the same derived kernels compiled with reassociated sums — the fused
    epoch and the per-layer kernels alike; weights agree with the strict ones to rounding."""
    from symnn.nn import fused

    data = load("digits")
    X, y = data.X_train[:200], data.y_train[:200]
    params = {}
    for fastmath, fuse in [(False, True), (True, True), (True, False)]:
        net = Sequential(
            [Dense(64, 12), activation_layer("sigmoid"), Dense(12, 10), activation_layer("sigmoid")], seed=4
        )
        net.fit(X, y, epochs=2, lr=3.0, batch_size=10, fused=fuse, fastmath=fastmath)
        params[fastmath, fuse] = net.parameters()
        if fastmath and not fuse:
            assert all(layer.train_kernels[0].spec.fastmath for layer in net.layers[0::2])
    for key in params[False, True]:
        for other in [(True, True), (True, False)]:
            np.testing.assert_allclose(params[other][key], params[False, True][key], rtol=1e-8, atol=1e-10)
    text, _ = fused.epoch_source(2, "sigmoid", "quadratic", fastmath=True)
    assert 'fastmath={"reassoc", "contract"}' in text
    r = _cli("train", "perceptron", "--fastmath", "--epochs", "2")
    assert r.returncode == 0, r.stderr


def test_float32_switch_trains_in_float32_close_to_float64():
    """astype('float32'): the same kernels compiled for float32 — fused MLP epoch, per-layer
    kernels, a conv net — within float32 rounding of the float64 run."""
    from symnn.nn import Conv2D, Flatten, MaxPool2D, ReLU

    data = load("digits")
    X, y = data.X_train[:200], data.y_train[:200]

    def mlp():
        return Sequential(
            [Dense(64, 12), activation_layer("sigmoid"), Dense(12, 10), activation_layer("sigmoid")], seed=4
        )

    def cnn():
        return Sequential(
            [Conv2D(1, 2, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(32, 10)],
            loss="softmax-cross-entropy",
            seed=4,
        )

    for make, X_, fuse in [(mlp, X, True), (mlp, X, False), (cnn, X.reshape(-1, 1, 8, 8), False)]:
        a, b = make(), make().astype("float32")
        a.fit(X_, y, epochs=2, lr=0.5, batch_size=10, fused=fuse, compiled=False)
        b.fit(X_, y, epochs=2, lr=0.5, batch_size=10, fused=fuse, compiled=False)
        assert b.dtype == np.float32 and all(p.dtype == np.float32 for p in b.parameters().values())
        assert b.forward(X_[:3]).dtype == np.float32
        for key, value in a.parameters().items():
            np.testing.assert_allclose(b.parameters()[key], value, rtol=1e-3, atol=1e-4)
        assert abs(a.history["loss"][-1] - b.history["loss"][-1]) < 1e-4
    with pytest.raises(InputError, match="float32 or float64"):
        mlp().astype("int32")
    r = _cli("train", "mlp", "--float32", "--epochs", "2")
    assert r.returncode == 0 and "test accuracy" in r.stdout, r.stderr
