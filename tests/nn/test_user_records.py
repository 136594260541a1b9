"""Bring your own activation and cost: every record (built in, with parameters, or a user's
expression) derives, compiles and trains — checked against central differences always and
against PyTorch's torch.nn.functional where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest

from symnn.codegen import kernel
from symnn.errors import InputError, UnknownNameError
from symnn.nn import Activation, Cost, Dense, Sequential, activation_layer, get_loss
from symnn.ops.activations import ACTIVATIONS
from symnn.ops.costs import COSTS

# points away from every record's corners (0, ±1, ±3, 6), where one-sided slopes differ
Z = np.array([-7.3, -3.4, -2.2, -1.3, -0.7, -0.2, 0.3, 0.8, 1.6, 2.7, 4.1, 6.5, 9.0])
SMOOTH = [n for n in ACTIVATIONS if n != "threshold"]


def _central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("name", SMOOTH)
def test_every_activations_backward_kernel_is_the_slope_of_its_forward_kernel(name):
    layer = activation_layer(name)
    forward, backward = layer.kernels
    g = np.linspace(-1.5, 2.0, Z.size)
    np.testing.assert_allclose(backward(g, Z), g * _central(forward, Z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "text, torch_name, kwargs",
    [
        ("elu(alpha=0.5)", "elu", {"alpha": 0.5}),
        ("celu(alpha=2)", "celu", {"alpha": 2.0}),
        ("softplus(beta=2)", "softplus", {"beta": 2.0}),
        ("selu", "selu", {}),
        ("mish", "mish", {}),
        ("softsign", "softsign", {}),
        ("hardtanh", "hardtanh", {}),
        ("relu6", "relu6", {}),
        ("hardsigmoid", "hardsigmoid", {}),
        ("hardswish", "hardswish", {}),
        ("gelu_tanh", "gelu", {"approximate": "tanh"}),
        ("silu", "silu", {}),
    ],
)
def test_activations_match_pytorch_to_1e_12(text, torch_name, kwargs):
    torch = pytest.importorskip("torch")
    t = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    out = getattr(torch.nn.functional, torch_name)(t, **kwargs)
    g = np.linspace(-1.5, 2.0, Z.size)
    out.backward(torch.tensor(g))
    forward, backward = activation_layer(text).kernels
    np.testing.assert_allclose(forward(Z), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    rtol = 1e-7 if text == "hardsigmoid" else 1e-12  # PyTorch's backward rounds 1/6 to float32
    np.testing.assert_allclose(backward(g, Z), t.grad.numpy(), rtol=rtol, atol=1e-15)


def test_an_expression_is_derived_compiled_and_named_by_its_hash():
    from symnn import derive

    layer = Activation.from_expr("u*exp(-u**2)")
    assert layer.name.startswith("phi_") and layer.source == "u*exp(-u**2)"
    d = derive("activation", activation=layer.name)
    assert d.verified
    forward, backward = layer.kernels
    np.testing.assert_allclose(forward(Z), Z * np.exp(-(Z**2)), rtol=1e-13)
    np.testing.assert_allclose(backward(np.ones_like(Z), Z), (1 - 2 * Z**2) * np.exp(-(Z**2)), rtol=1e-12)
    assert "phi_" in kernel(f"{layer.name}.backward").source


def test_a_known_function_written_out_is_the_record():
    assert activation_layer("x*tanh(log(1+exp(x)))").name == "mish"
    assert activation_layer("ELU(alpha=1.0)").name == "elu"
    assert activation_layer("elu(alpha=0.5)").source == "elu(alpha=0.5)"


@pytest.mark.parametrize("cost", ["huber(delta=0.5)", "smooth-l1", "log-cosh", "poisson-nll", "log(cosh(yhat - y))"])
def test_cost_gradient_kernels_are_the_slope_of_the_loss_kernels(cost):
    loss = get_loss(cost)
    value, grad = loss.kernels
    yhat, y = np.linspace(-2.1, 2.3, 9), np.linspace(0.4, -0.3, 9)
    np.testing.assert_allclose(grad(yhat, y, 1.0), _central(lambda a: value(a, y), yhat), rtol=1e-6, atol=1e-9)


def test_a_user_cost_in_other_names_and_training_on_every_path_agree():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(24, 3))
    y = (X.sum(axis=1) > 0).astype(float)
    weights = []
    for fused in (True, False):
        net = Sequential(
            [Dense(3, 4), Activation("x*sigmoid(2*x)"), Dense(4, 1), activation_layer("sigmoid")],
            loss=Cost.from_expr("(p - t)**2/2 + (p - t)**4/4", output="p", target="t"),
            seed=2,
        )
        before = net.loss(X, y)
        net.fit(X, y, epochs=5, lr=0.5, batch_size=6, fused=fused, progress=False)
        assert net.loss(X, y) < before
        weights.append(net.parameters())
    for name in weights[0]:
        np.testing.assert_allclose(weights[0][name], weights[1][name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "text, message",
    [
        ("swishh", "unknown activation 'swishh'"),
        ("a*x", "one variable"),
        ("3", "has no variable"),
        ("elu(beta=1)", "has no parameter 'beta'"),
        ("elu(alpha=-1)", "must be a positive number"),
        ("elu(alpha=x)", "must be a number"),
        ("__import__('os')", "column"),
    ],
)
def test_bad_activations_are_one_line(text, message):
    with pytest.raises((InputError, UnknownNameError), match=message.replace("(", r"\(")):
        activation_layer(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("hubber", "unknown cost 'hubber'"),
        ("y**2", "does not depend on the output"),
        ("yhat*w", "also has w"),
        ("huber(delta=0)", "must be a positive number"),
        ("exponential", "not a sum of one term per output"),
    ],
)
def test_bad_costs_are_one_line(text, message):
    with pytest.raises((InputError, UnknownNameError), match=message):
        get_loss(text)


def test_every_cost_record_is_listed_and_derives():
    from symnn import derive

    d = derive("cost-functions", cost="all")
    assert d.verified and set(d.results) == set(COSTS)
