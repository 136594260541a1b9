"""Optimizers derived like SGD is: every derivation verifies with its steps checked, each generated
update kernel equals a hand-written NumPy reference (the oracle, here only), fit's steps with each
optimizer equal the reference on the per-layer path, in the compiled epoch and where the fused MLP
epoch would have run (it does SGD only), and bad names and values give one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from symnn import InputError
from symnn.codegen import kernel
from symnn.errors import UnknownNameError
from symnn.nn import SGD, Adam, Dense, Momentum, Nesterov, RMSProp, Sequential, Sigmoid, Tanh
from symnn.nn.optimizers import NAMES

# -- the references (oracles): PyTorch's update rules, written by hand --------------------------


def ref_momentum(w, g, v, lr, mu):
    v = mu * v + g
    return w - lr * v, v


def ref_nesterov(w, g, v, lr, mu):
    v = mu * v + g
    return w - lr * (g + mu * v), v


def ref_rmsprop(w, g, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * g * g
    return w - lr * g / (np.sqrt(s) + eps), s


def ref_adam(w, g, m, v, lr, b1, b2, eps, t):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * mhat / (np.sqrt(vhat) + eps), m, v


def _arrays(n_state: int, size: int = 37, seed: int = 0):
    rng = np.random.default_rng(seed)
    w, g = rng.normal(size=size), rng.normal(size=size)
    state = [np.abs(rng.normal(size=size)) for _ in range(n_state)]  # averages of g² are >= 0
    return w, g, state


KERNELS = [  # name, reference, number of state arrays, hyperparameters (after lr)
    ("momentum.update", ref_momentum, 1, (0.9,)),
    ("momentum.update", ref_momentum, 1, (0.0,)),
    ("nesterov.update", ref_nesterov, 1, (0.8,)),
    ("rmsprop.update", ref_rmsprop, 1, (0.99, 1e-8)),
    ("rmsprop.update", ref_rmsprop, 1, (0.5, 1e-3)),
    ("adam.update", ref_adam, 2, (0.9, 0.999, 1e-8, 1.0)),
    ("adam.update", ref_adam, 2, (0.8, 0.99, 1e-6, 7.0)),
]


@pytest.mark.parametrize("name, reference, n_state, hyper", KERNELS)
def test_each_update_kernel_equals_the_numpy_reference(name, reference, n_state, hyper):
    w, g, state = _arrays(n_state)
    lr = 0.01
    got = kernel(name)(w, g, *state, lr, *hyper)
    want = reference(w, g, *state, lr, *hyper)
    assert len(got) == len(want) == 1 + n_state
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    # in place: the outputs may be the inputs (each element is read before it is written)
    w2, s2 = w.copy(), [s.copy() for s in state]
    kernel(name)(w2, g, *s2, lr, *hyper, out=(w2, *s2))
    for a, b in zip((w2, *s2), want):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_sgd_kernel_and_adam_count():
    w, g, _ = _arrays(0)
    np.testing.assert_allclose(kernel("sgd.update")(w, g, 0.5), w - 0.5 * g, rtol=1e-15)
    t = np.zeros(1)
    for n in range(1, 4):
        kernel("adam.count")(t, out=t)
        assert t[0] == n


def test_the_kernels_compute_the_derivations_rules():
    from symnn.derive.topics import optimizers as topic
    from symnn.kernels.optimizers import derived_rules

    for name in ("momentum", "nesterov", "rmsprop", "adam"):
        rules = derived_rules(name)
        assert set(rules) == set(topic.STATE[name])
        k = kernel(f"{name}.update")
        exprs = k.expr if isinstance(k.expr, list) else [k.expr]
        assert exprs == [rules["w"], *(rules[key] for key in topic.STATE[name] if key not in ("w", "t"))]
    assert kernel("adam.count").expr == derived_rules("adam")["t"]


def test_the_kernels_arguments_keep_one_meaning_per_letter():
    """s is the stride and t the sample elsewhere (ARCHITECTURE.md's letter table): the kernels
    name RMSProp's mean of g² and Adam's update count as PyTorch's optimizers name their state."""
    names = {
        n: [str(a) for a in kernel(n).spec.inputs]
        for n in ("momentum.update", "rmsprop.update", "adam.update", "adam.count")
    }
    assert names["rmsprop.update"] == ["w", "g", "square_avg", "eta", "alpha", "eps"]
    assert names["adam.update"][-1] == "step" and names["adam.count"] == ["step"]
    assert not any({"s", "t"} & set(args) for args in names.values())


# -- the derivations --------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_derivation_verifies_with_its_steps_checked(name):
    from symnn.derive import derive

    d = derive("optimizer", optimizer=name, verify=False).verify(cached=False)
    checked = [s for s in d.equations if not s.is_definition]
    assert d.verified and checked
    assert all(s.verified_by for s in checked)
    text = d.text()
    assert "Verified: " in text and "torch.optim" in text


def test_adams_derivation_shows_the_bias_correction_with_finite_sums():
    from symnn.derive import derive
    from symnn.derive.topics.optimizers import CHECK_STEPS, E_g, E_m, beta1, t

    d = derive("optimizer", optimizer="adam")
    geometric = [s for s in d.equations if s.lhs == E_m and s.rhs == (1 - beta1**t) * E_g]
    assert len(geometric) == 1 and geometric[0].check is not None
    assert geometric[0].check[0].shape == (CHECK_STEPS, 1)  # checked at t = 1 … CHECK_STEPS
    text = d.text()
    assert "bias correction" in text and "m̂_t" in text and "(1 - β₁^t)" in text


def test_a_wrong_finite_sum_step_is_refused():
    from symnn.derive.derivation import Derivation
    from symnn.derive.topics.optimizers import E_g, E_m, beta1, t

    d = Derivation("wrong")
    step = d.add(E_m, (1 - beta1 ** (t + 1)) * E_g, "geometric series")
    step.check = ([(1 - beta1**n) * E_g for n in (1, 2)], [(1 - beta1 ** (n + 1)) * E_g for n in (1, 2)])
    import sympy as sp

    step.check = tuple(sp.Matrix(c) for c in step.check)
    with pytest.raises(Exception, match="does not hold"):
        d.verify(cached=False)


def test_the_names_agree_and_the_cli_shows_the_update_equations(capsys):
    from symnn.cli import main
    from symnn.derive.topics.optimizers import OPTIMIZERS

    assert NAMES == OPTIMIZERS
    assert main(["derive", "optimizer", "--optimizer", "adam"]) == 0
    out = capsys.readouterr().out
    assert "m_t = " in out and "v̂_t = " in out and "Verified" in out
    assert main(["derive", "--list"]) == 0
    assert "optimizer" in capsys.readouterr().out


# -- fit --------------------------------------------------------------------------------------
def _mlp(seed: int = 3) -> Sequential:
    return Sequential([Dense(4, 5), Tanh(), Dense(5, 3), Sigmoid()], loss="quadratic", seed=seed)


def _data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(24, 4))
    return X, rng.integers(0, 3, size=24)


def _reference_steps(name: str, steps: int, lr: float, **hyper) -> dict[str, np.ndarray]:
    """`steps` full-batch updates by the NumPy reference, gradients from symnn's net."""
    X, y = _data()
    net = _mlp()
    state: dict[str, list[np.ndarray]] = {}
    for t in range(1, steps + 1):
        grads = net.gradients(X, y)
        for key, w in net.parameters().items():
            g = grads[key]
            st = state.setdefault(key, [np.zeros_like(w) for _ in range(2 if name == "adam" else 1)])
            if name == "sgd":
                new = (w - lr * g,)
            elif name == "adam":
                new = ref_adam(w, g, *st, lr, *hyper["betas"], hyper["eps"], t)
            else:
                ref = {"momentum": ref_momentum, "nesterov": ref_nesterov, "rmsprop": ref_rmsprop}[name]
                new = ref(w, g, *st, lr, *hyper.values())
            w[...] = new[0]
            state[key] = list(new[1:])
    return net.parameters()


OPTIMIZERS = [
    ("sgd", lambda: SGD(lr=0.5), 0.5, {}),
    ("momentum", lambda: Momentum(lr=0.2, mu=0.9), 0.2, {"mu": 0.9}),
    ("nesterov", lambda: Nesterov(lr=0.2, mu=0.7), 0.2, {"mu": 0.7}),
    ("rmsprop", lambda: RMSProp(lr=0.01, alpha=0.9, eps=1e-8), 0.01, {"alpha": 0.9, "eps": 1e-8}),
    ("adam", lambda: Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-8), 0.05, {"betas": (0.9, 0.999), "eps": 1e-8}),
]


@pytest.mark.parametrize("name, make, lr, hyper", OPTIMIZERS)
@pytest.mark.parametrize("path", ["per-layer", "compiled", "fused-mlp"])
def test_fit_steps_equal_the_numpy_reference(name, make, lr, hyper, path):
    X, y = _data()
    want = _reference_steps(name, 3, lr, **hyper)
    net = _mlp()
    flags = {"per-layer": dict(compiled=False, fused=False), "compiled": dict(compiled=True, fused=False)}
    net.fit(X, y, epochs=3, mode="batch", optimizer=make(), **flags.get(path, {}))  # 3 full-batch steps
    for key, value in want.items():
        np.testing.assert_allclose(net.parameters()[key], value, rtol=1e-12, atol=1e-14, err_msg=key)


def test_a_name_uses_the_optimizers_defaults_and_a_second_fit_continues():
    X, y = _data()
    a, b = _mlp(), _mlp()
    a.fit(X, y, epochs=1, mode="batch", optimizer="adam")
    b.fit(X, y, epochs=1, mode="batch", optimizer=Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8))
    for key, value in a.parameters().items():
        assert np.array_equal(value, b.parameters()[key])
    opt, c = Adam(lr=0.01), _mlp()
    c.fit(X, y, epochs=1, mode="batch", optimizer=opt, compiled=False)
    c.fit(X, y, epochs=1, mode="batch", optimizer=opt, compiled=True)
    assert opt.t == 2
    want = _reference_steps("adam", 2, 0.01, betas=(0.9, 0.999), eps=1e-8)
    for key, value in want.items():
        np.testing.assert_allclose(c.parameters()[key], value, rtol=1e-12, atol=1e-14)


def test_explain_leaves_the_optimizers_state_as_it_was():
    X, y = _data()
    a, b, lines = _mlp(), _mlp(), []
    a.fit(X, y, epochs=2, batch_size=8, optimizer=Adam(lr=0.01), fused=False)
    b.fit(X, y, epochs=2, batch_size=8, optimizer=Adam(lr=0.01), fused=False, explain=lines.append)
    assert any("Adam(" in line for line in lines)
    for key, value in a.parameters().items():
        assert np.array_equal(value, b.parameters()[key]), key


# -- bad input --------------------------------------------------------------------------------
def test_an_unknown_optimizer_name_lists_the_names_in_one_line():
    X, y = _data()
    with pytest.raises(UnknownNameError) as err:
        _mlp().fit(X, y, epochs=1, optimizer="adamw")
    message = str(err.value)
    assert "\n" not in message and "adamw" in message
    assert all(name in message for name in NAMES)
    from symnn.derive import derive

    with pytest.raises(UnknownNameError, match="choose one of: adam, momentum, nesterov, rmsprop, sgd"):
        derive("optimizer", optimizer="adagrad")
    with pytest.raises(InputError, match="optimizer must be a name"):
        _mlp().fit(X, y, epochs=1, optimizer=3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Adam(betas=(1.0, 0.999)), r"betas\[0\] must be a number in \[0, 1\)"),
        (lambda: Adam(betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: Adam(betas=0.9), "betas must be two numbers"),
        (lambda: Adam(eps=0), "eps must be a small positive number"),
        (lambda: Adam(lr=-1e-3), "learning rate lr must be a positive"),
        (lambda: Adam(lr=float("nan")), "learning rate"),
        (lambda: Momentum(mu=1.5), r"momentum mu must be a number in \[0, 1\)"),
        (lambda: Momentum(mu="0.9"), "momentum mu"),
        (lambda: Nesterov(mu=0), r"in \(0, 1\)"),
        (lambda: RMSProp(alpha=True), "alpha must be"),
        (lambda: RMSProp(eps=float("inf")), "eps must be"),
    ],
)
def test_bad_parameter_values_are_refused_in_one_line(make, match):
    with pytest.raises(InputError, match=match) as err:
        make()
    assert "\n" not in str(err.value)


def test_the_learning_rate_is_given_once_and_an_optimizer_trains_one_model():
    X, y = _data()
    with pytest.raises(InputError, match="give the learning rate once"):
        _mlp().fit(X, y, epochs=1, lr=0.1, optimizer=Adam(lr=0.01))
    _mlp().fit(X, y, epochs=1, lr=0.01, optimizer=Adam(lr=0.01))  # the same value twice is fine
    opt, first = Momentum(), _mlp()
    first.fit(X, y, epochs=1, optimizer=opt)
    with pytest.raises(InputError, match="trains another model"):
        _mlp().fit(X, y, epochs=1, optimizer=opt)
