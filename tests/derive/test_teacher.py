"""Issue 15's teacher's forms: the chain rule's names, neural-network results with the identity
stated, the derivative of step, ReLU's convention, the log base a rule."""

from __future__ import annotations

import sympy as sp

import symnn
from symnn.ops.functions import relu, sigmoid, step
from symnn.parse import parse


def _derive(expr: str, wrt: str | None = None):
    d = symnn.derive("expression", expr=expr, wrt=wrt)
    assert d.verified
    return d


def _notes(d) -> str:
    return "\n".join(f"[{s.rule}] {s.note}" for s in d.equations)


def test_a_nested_chain_names_its_inner_function_v_in_every_note():
    notes = _notes(_derive("sqrt(1+sin(x^2))"))
    assert "put v = x^2 back" in notes and "put u = sin(x^2) + 1 back" in notes
    assert "the outer derivative at v, times dv/dx; known derivative `sin'(v) = cos(v)`" in notes
    assert "put u = x^2" not in notes


def test_the_logistic_function_ends_as_sigma_times_one_minus_sigma():
    z = sp.Symbol("z", real=True)
    for text in ("1/(1+exp(-z))", "exp(z)/(1+exp(z))"):
        d = _derive(text)
        assert d.result == sigmoid(z) * (1 - sigmoid(z))
        last = d.equations[-1]
        assert last.rule == "rewriting" and "σ(u)(1 − σ(u))" in last.note


def test_binary_cross_entropy_with_sigma_ends_as_sigma_minus_y():
    d = _derive("-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", "z")
    z, y = parse("z"), parse("y")
    assert d.result == sigmoid(z) - y
    assert d.equations[-1].note == "multiply out with σ(z) as one quantity"
    assert sum(s.rule == "rewriting" for s in d.equations) == 1  # no "the sigmoid" step that undoes one


def test_the_soft_margin_loss_keeps_its_single_sigma():
    assert str(_derive("log(1+exp(-y*f))", "f").result) == "-y*σ(-f*y)"


def test_step_has_derivative_zero_almost_everywhere_with_the_convention_stated():
    for text in ("step(x)", "Heaviside(x^2 - 1)"):
        d = _derive(text)
        assert d.result == 0 and len(d.equations) == 2
        assert "at the jump symnn takes 0, as PyTorch does" in d.equations[-1].note
    assert "DiracDelta" not in str(symnn.derive("expression", expr="x*step(x)").result)


def test_relu_states_zero_at_zero_as_pytorch():
    d = _derive("relu(x)")
    assert d.result == step(parse("x")) and isinstance(parse("relu(x)"), relu)
    assert "0 at u = 0, as PyTorch" in d.equations[-1].note and "ReLU'(u)" in d.equations[-1].note


def test_log_base_a_has_its_own_rule():
    x = parse("x")
    d = _derive("log(x, 2)")
    assert d.equations[-1].rule == "logarithm rule" and "(log_a x)' = 1/(x ln a)" in d.equations[-1].note
    assert sp.simplify(d.result - 1 / (x * sp.log(2))) == 0
    d = _derive("3*log(x^2 + 1, 10)")
    assert d.equations[1].rule == "logarithm rule" and "u'/(u ln a)" in d.equations[1].note
    assert sp.simplify(d.result - sp.diff(3 * sp.log(x**2 + 1, 10), x)) == 0
