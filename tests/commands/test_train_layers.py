"""`symnn train [mlp|cnn] --layers SPEC` and `symnn train cnn --activation/--cost`: the net the
command trains is the one written, trained as fit trains it (same weights), and every bad
stack or combination of options is one line with exit code 2."""

from __future__ import annotations

import numpy as np
import pytest

from symnn.cli import main
from symnn.nn import ELU, Conv2D, Dense, Flatten, MaxPool2D, Sequential, Sigmoid, Tanh
from symnn.nn.data import load


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _same_weights(path, net: Sequential) -> None:
    saved = Sequential.load(path)
    assert [repr(layer) for layer in saved.layers] == [repr(layer) for layer in net.layers]
    for key, value in net.parameters().items():
        np.testing.assert_array_equal(saved.parameters()[key], value, err_msg=key)


def test_layers_without_net_trains_the_default_cnn(tmp_path, capsys):
    """`train cnn`'s own net written as text, NET left out: a cnn, the same weights."""
    spec, default = tmp_path / "spec.symnn", tmp_path / "default.symnn"
    stack = "conv12x3p1,relu,maxpool2,flatten,dense10"
    code, out, _ = _run(capsys, "train", "--layers", stack, "--epochs", "2", "-q", "--save", str(spec))
    assert code == 0 and "Conv2D(1, 12, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(192, 10)" in out
    assert "1437 images (1, 8, 8), sgd with η = 0.5 on a cosine schedule" in out
    assert main(["train", "cnn", "--epochs", "2", "-q", "--save", str(default)]) == 0
    _same_weights(spec, Sequential.load(default))
    info = Sequential.load(spec).info
    assert info["layers"] == stack and info["net"] == "cnn" and info["schedule"] == "cosine"


def test_layers_for_an_mlp_is_fit_on_that_stack(tmp_path, capsys):
    path = tmp_path / "mlp.symnn"
    code, out, _ = _run(
        capsys, "train", "--layers=dense12,tanh,dense10,sigmoid", "--epochs", "2", "-q", "--save", str(path)
    )
    assert code == 0 and "minibatch: 10 samples per update" in out  # the mlp's defaults
    data = load("digits", seed=0)
    net = Sequential([Dense(64, 12), Tanh(), Dense(12, 10), Sigmoid()], seed=0)
    net.fit(data.X_train, data.y_train, epochs=2, lr=3.0, batch_size=10, progress=False)
    _same_weights(path, net)


def test_train_cnn_activation_and_cost(tmp_path, capsys):
    """--activation replaces ReLU; another cost than softmax/cross-entropy reads sigmoid outputs."""
    path = tmp_path / "elu.symnn"
    code, out, _ = _run(
        capsys,
        "train",
        "cnn",
        "--activation",
        "elu",
        "--cost",
        "quadratic",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "-q",
        "--save",
        str(path),
    )
    assert code == 0 and "Dense(192, 10), Sigmoid()], loss=Quadratic()" in out
    data = load("digits", seed=0, images=True)
    layers = [Conv2D(1, 12, 3, padding=1), ELU(), MaxPool2D(2), Flatten(), Dense(192, 10), Sigmoid()]
    net = Sequential(layers, seed=0)
    net.fit(data.X_train, data.y_train, epochs=1, lr=0.5, batch_size=64, schedule="cosine", progress=False)
    _same_weights(path, net)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--layers", "conv8x3,relu,dense10"], "token 3 'dense10': it gets images (8, 6, 6); put flatten"),
        (
            ["train", "--layers", "conv8x3,relu,maxpool2,flatten,dense5"],
            "the stack gives 5 outputs, but digits has 10 classes: end it with dense10",
        ),
        (
            ["train", "mlp", "--dataset", "study", "--layers", "dense3,sigmoid,dense2"],
            "the stack gives 2 outputs, but study has one value to predict: end it with dense1",
        ),
        (["train", "mlp", "--layers", "conv8x3"], "a convolution takes images (C, H, W), but it gets rows of 64"),
        (
            ["train", "mlp", "--layers", "dense30,sigmoid", "--hidden", "3"],
            "give either --layers (the whole stack) or --hidden",
        ),
        (["train", "cnn", "--layers", "conv8x3,flatten,dense10", "--activation", "elu"], "or --activation, not both"),
        (["train", "--layers", "conv8x3,relu,maxpol2,flatten,dense10"], "token 3 'maxpol2': not a layer"),
        (["train", "--layers", "dense10,sigmoid", "--cost", "cross-entropy(x)"], "cost"),
        (
            ["train", "cnn", "--cost", "cross-entropy", "--layers", "conv8x3,flatten,dense10"],
            "the cross-entropy cost needs outputs strictly between 0 and 1",
        ),
        (["train", "cnn", "--activation", "nope"], "unknown activation 'nope'"),
        (["train", "perceptron", "--layers", "dense1"], "has no option --layers"),
    ],
)
def test_bad_stacks_are_one_line(capsys, args, message):
    code, out, err = _run(capsys, *args, "--epochs", "1", "-q")
    assert code == 2 and out == ""
    assert err.startswith("symnn: error: ") and message in err and err.count("\n") == 1, err


def test_train_help_says_net_may_be_left_out(capsys):
    code, out, _ = _run(capsys, "train", "--help")
    assert code == 0 and "NET may be left out" in " ".join(out.split())
    code, out, _ = _run(capsys, "train", "cnn", "--help")
    text = " ".join(out.split())
    assert (
        "--layers SPEC" in text
        and "the dense layer's outputs go through a sigmoid" in text
        and "(default: relu)" in text
    )
