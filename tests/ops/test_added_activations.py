"""SiLU and GELU, each added as one record file (symnn/ops/activations/silu.py, gelu.py): derived,
compiled, trainable, listed — checked against PyTorch's definitions written out in NumPy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from symnn.codegen import kernel

ERF = np.vectorize(math.erf)


def silu(z):  # torch.nn.functional.silu
    return z / (1 + np.exp(-z))


def silu_grad(z):
    s = 1 / (1 + np.exp(-z))
    return s * (1 + z * (1 - s))


def gelu(z):  # torch.nn.functional.gelu, approximate="none"
    return z * 0.5 * (1 + ERF(z / math.sqrt(2)))


def gelu_grad(z):
    return 0.5 * (1 + ERF(z / math.sqrt(2))) + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)


REFERENCE = {"silu": (silu, silu_grad), "gelu": (gelu, gelu_grad)}
Z = np.concatenate([np.linspace(-30, 30, 601), [-1e-9, 0.0, 1e-9, -700.0, 700.0]])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_kernels_match_pytorchs_definition(name):
    phi, dphi = REFERENCE[name]
    with np.errstate(over="ignore"):
        expected, slope = phi(Z), dphi(Z)
    a = kernel(f"{name}.forward")(Z)
    np.testing.assert_allclose(a, expected, rtol=1e-12, atol=1e-300)
    g = np.linspace(-2, 2, Z.size)
    np.testing.assert_allclose(kernel(f"{name}.backward")(g, Z), g * slope, rtol=1e-12, atol=1e-15)
    assert np.isfinite(a).all()


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_derivative_is_derived_verified_and_in_course_form(name):
    from symnn import derive
    from symnn.ops.activations import ACTIVATIONS

    d = derive("activation", activation=name)
    assert d.verified and d.results[name] == ACTIVATIONS[name].course_derivative
    text = d.text()
    assert "product rule" in text and ACTIVATIONS[name].title in text
    assert name in derive("activation").results  # in the list of every activation


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_a_net_trains_with_it_and_its_layer_class_exists(name):
    import symnn.nn as nn
    from symnn.nn.data import load

    cls = getattr(nn, {"silu": "SiLU", "gelu": "GELU"}[name])
    assert cls().name == name and repr(nn.activation_layer(name)) == f"{cls.__name__}()"
    data = load("xor")
    net = nn.Sequential([nn.Dense(2, 4), cls(), nn.Dense(4, 1), nn.Sigmoid()], loss="quadratic", seed=1)
    before = net.loss(data.X_train, data.y_train)
    net.fit(data.X_train, data.y_train, epochs=300, lr=2.0, batch_size=4)
    assert net.loss(data.X_train, data.y_train) < 0.5 * before


def test_unknown_activation_names_the_choices():
    from symnn.errors import UnknownNameError
    from symnn.nn import Activation

    with pytest.raises(UnknownNameError, match="silu"):
        Activation("swishh")


def test_cli_trains_and_lists_it(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "symnn",
            "train",
            "mlp",
            "--dataset",
            "xor",
            "--hidden",
            "3",
            "--activation",
            "gelu",
            "--epochs",
            "50",
            "-q",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "symnn", "derive", "activation", "--activation", "silu"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0 and "silu' =" in out.stdout, out.stderr
