"""The derivation engine: every step of every topic verifies, results match sympy.diff and
finite differences, and a wrong step is caught."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
import sympy as sp

from symnn import DerivationError, InputError, UnknownNameError, derive
from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.ops.activations import ACTIVATIONS
from symnn.ops.costs import COSTS, E, a, compatible, k, n_out, tau
from symnn.ops.functions import elementary

TOPICS = ["neuron", "activation", "cost", "gradient-descent", "cost-functions", "conv2d"]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_verifies(topic):
    d = derive(topic)
    assert d.verified
    checked = [s for s in d.equations if not s.is_definition]
    assert checked and all(s.verified_by for s in checked)


def _cost_topic_checked(activation: str, cost: str) -> None:
    d = derive("cost", activation=activation, cost=cost)
    assert [g.name for g in d.goals] == ["∂C/∂w_1", "∂C/∂w_2", "∂C/∂w_3", "∂C/∂b", "∂C/∂w_1 (batch)"]
    assert all(s.verified_by for s in d.equations if not s.is_definition)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_cost_topic_for_every_activation_with_the_quadratic_cost(activation):
    _cost_topic_checked(activation, "quadratic")


@pytest.mark.parametrize("cost", sorted(COSTS))
def test_cost_topic_for_every_cost_with_a_compatible_activation(cost):
    activation = next(a for a in ("tanh", "sigmoid", *sorted(ACTIVATIONS)) if compatible(a, cost))
    _cost_topic_checked(activation, cost)


def test_every_incompatible_pair_is_refused_before_deriving():
    """All 19 x 17 pairs: the ones whose outputs a cost cannot take are refused in one line (the
    pairs that fit are derived above, one activation or one cost at a time)."""
    refused = 0
    for activation in sorted(ACTIVATIONS):
        for cost in sorted(COSTS):
            if not compatible(activation, cost):
                with pytest.raises(InputError, match=f"the {cost} cost needs outputs .* use one of: .*sigmoid"):
                    derive("cost", activation=activation, cost=cost)
                refused += 1
    assert 0 < refused < len(ACTIVATIONS) * len(COSTS)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_neuron_and_activation_topics_per_activation(activation):
    assert derive("neuron", activation=activation).verified
    d = derive("activation", activation=activation)
    assert d.goals[0].result == ACTIVATIONS[activation].course_derivative


def _central_difference(f, var, point, h=1e-6):
    hi = f.subs({**point, var: point[var] + h})
    lo = f.subs({**point, var: point[var] - h})
    return float((hi - lo) / (2 * h))


@pytest.mark.parametrize("name", sorted(COSTS))
def test_cost_gradient_equals_sympy_diff_and_finite_differences(name):
    cost = COSTS[name]
    d = derive("cost-functions", cost=name)
    grad = d.goals[0].result
    total = cost.total()
    # sympy.diff, on a concrete 3-output cost
    subs_n = {n_out: 3, k: 2}
    reference = sp.diff(total.subs(n_out, 3).doit(), a[2])
    rng = random.Random(name)
    for _ in range(3):
        point = {a[i]: sp.Float(rng.uniform(0.2, 0.8), 30) for i in (1, 2, 3)}
        point.update({E[i]: sp.Float(rng.uniform(0.2, 0.8), 30) for i in (1, 2, 3)})
        point[tau] = sp.Float(2, 30)
        point.update({symbol: sp.Float(value, 30) for symbol, value in cost.params})  # focal's γ = 2, ...
        ours = grad.subs(subs_n).doit().subs(point).evalf(30)
        assert abs(ours - reference.subs(point).evalf(30)) < 1e-25
        fd = _central_difference(total.subs(n_out, 3).doit().subs({tau: 2, **dict(cost.params)}), a[2], point)
        assert ours == pytest.approx(fd, rel=1e-7, abs=1e-9)


def test_course_form_gradients_match_the_list():
    """The CrossValidated list's gradient for every cost, reproduced by the derivation."""
    d = derive("cost-functions")
    assert len(d.goals) == 11  # the CrossValidated list; --cost all adds symnn's others
    for goal in d.goals:
        cost = COSTS[goal.key]
        assert goal.key in goal.name
        assert goal.result == cost.course_gradient.xreplace({N.C: cost.total()})
    assert {g.key for g in derive("cost-functions", cost="all").goals} == set(COSTS)


def test_a_wrong_step_is_caught_and_named():
    x = sp.Symbol("x", real=True)
    d = Derivation("wrong on purpose")
    d.add(sp.Symbol("f"), x**3, DEFINITION)
    d.add(D(sp.Symbol("f"), x), 3 * x**2, "power rule")
    d.add(D(sp.Symbol("f"), x), 2 * x**2, "simplification")
    with pytest.raises(DerivationError, match=r"step 3 of 'wrong on purpose'"):
        d.verify()


def test_a_wrong_result_is_caught():
    x = sp.Symbol("x", real=True)
    d = Derivation("bad goal")
    d.goal("f'", x**3, x, 2 * x**2)
    with pytest.raises(DerivationError, match="differs from sympy.diff"):
        d.verify()


def _power_rule(exponent_after: int) -> Derivation:
    x = sp.Symbol("x", real=True)
    d = Derivation("recorded on purpose")
    d.add(sp.Symbol("f"), x**3, DEFINITION)
    d.add(D(sp.Symbol("f"), x), exponent_after * x**2, "power rule")
    d.goal("f'", x**3, x, 3 * x**2)
    return d


@pytest.fixture
def records(tmp_path, monkeypatch):
    """An empty cache folder and no verification records in this process."""
    from symnn.derive import records as verification

    monkeypatch.setenv("SYMNN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(verification, "_RECORDS", {})
    return tmp_path / "verified"


def test_a_verified_derivation_is_recorded_and_not_checked_again(records, monkeypatch):
    from symnn.derive import derivation
    from symnn.derive import records as verification

    first = derive("cost")
    assert first.verified and len(list(records.glob("*.json"))) == 1
    verification._RECORDS.clear()  # as in a new process: read from disk
    checks = []
    monkeypatch.setattr(derivation, "equal", lambda *a: checks.append(a))  # would fail every check
    again = derive("cost")
    assert again.verified and not checks
    assert [s.verified_by for s in again.steps] == [s.verified_by for s in first.steps]
    with pytest.raises(DerivationError):  # cached=False checks again (and fails here)
        derive("cost", verify=False).verify(cached=False)


def test_a_record_covers_only_the_same_steps(records):
    _power_rule(3).verify()
    assert len(list(records.glob("*.json"))) == 1
    with pytest.raises(DerivationError, match=r"step 2 of 'recorded on purpose'"):
        _power_rule(2).verify()  # one coefficient differs: checked, caught
    assert len(list(records.glob("*.json"))) == 1  # a failed verification is not recorded


def test_a_damaged_record_is_ignored(records, monkeypatch):
    from symnn.derive import derivation
    from symnn.derive import records as verification

    _power_rule(3).verify()
    (path,) = records.glob("*.json")
    path.write_text('{"verified_by": [')
    verification._RECORDS.clear()
    checks = []
    real = derivation.equal
    monkeypatch.setattr(derivation, "equal", lambda *a: checks.append(a) or real(*a))
    d = _power_rule(3).verify()
    assert checks and d.verified and d.steps[1].verified_by


def test_steps_come_from_rules_not_one_diff_call():
    d = derive("cost")
    rules = {s.rule for s in d.steps}
    assert {"chain rule", "power rule", "known derivative", "sum rule", "substitution"} <= rules


def test_sigmoid_derivative_is_in_course_form():
    from symnn.ops.functions import sigmoid

    z = sp.Symbol("z", real=True)
    d = derive("activation", activation="sigmoid")
    assert d.goals[0].result == sigmoid(z) * (1 - sigmoid(z))
    assert sp.simplify(elementary(d.goals[0].result) - sp.diff(1 / (1 + sp.exp(-z)), z)) == 0


def test_text_of_cost_shows_the_chain_rule_and_result_in_the_inputs():
    text = derive("cost").text()
    assert "∂C/∂w₁ = ∂C/∂ŷ·∂ŷ/∂z·∂z/∂w₁" in text
    assert "∂C/∂ŷ = ŷ - y" in text
    assert "∂ŷ/∂z = σ(z)·(1 - σ(z))" in text  # the textbook order, not SymPy's
    assert "∂z/∂w₁ = x₁" in text
    assert (
        "x₁·σ(b + w₁·x₁ + w₂·x₂ + w₃·x₃)·(1 - σ(b + w₁·x₁ + w₂·x₂ + w₃·x₃))·(σ(b + w₁·x₁ + w₂·x₂ + w₃·x₃) - y)"
        in re.sub(r"\n +", " ", text)
    )
    assert all(len(line) <= 80 for line in text.splitlines() if not line.startswith("  - "))


def test_markdown_and_latex_renderers():
    d = derive("cost")
    md = d.markdown()
    assert md.count("$$") == 2 * len(d.equations)
    assert r"\frac{\partial C}{\partial w_{1}}" in md and r"\hat{y}" in md
    tex = d.latex()
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") >= 5
    assert d._repr_latex_() and d._repr_markdown_() == md


def test_user_expression_and_free_function():
    x = sp.Symbol("x", real=True)
    d = derive(x**2 * sp.exp(-x), wrt=x)
    assert sp.simplify(d.result - sp.diff(x**2 * sp.exp(-x), x)) == 0
    f = sp.Function("f")
    with pytest.raises(DerivationError, match="cannot differentiate f"):
        derive(f(x) * x, wrt=x)


def test_unknown_names_are_one_clear_line():
    with pytest.raises(UnknownNameError, match="unknown topic 'nope'; choose one of: .*cost"):
        derive("nope")
    with pytest.raises(UnknownNameError, match="unknown activation 'foo'; choose one of: .*gelu, .*leaky_relu"):
        derive("cost", activation="foo")
    with pytest.raises(UnknownNameError, match="unknown cost 'bar'"):
        derive("cost", cost="bar")
    with pytest.raises(InputError, match="does not take"):
        derive("neuron", cost="quadratic")


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symnn", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_derive_text_and_errors(tmp_path):
    ok = _cli("derive", "cost")
    assert ok.returncode == 0 and "chain rule" in ok.stdout
    bad = _cli("derive", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "choose one of" in bad.stderr
    bad = _cli("derive", "cost", "--format", "pdf")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_cli_output_never_overwrites_a_users_file(tmp_path):
    mine = tmp_path / "notes.tex"
    mine.write_text("my own notes\n")
    r = _cli("derive", "cost", "--format", "latex", "-o", str(mine))
    assert r.returncode == 2 and "not written by symnn" in r.stderr
    assert mine.read_text() == "my own notes\n"
    ours = tmp_path / "cost.tex"
    assert _cli("derive", "cost", "--format", "latex", "-o", str(ours)).returncode == 0
    assert _cli("derive", "neuron", "--format", "latex", "-o", str(ours)).returncode == 0  # ours: replaced
    assert "neuron" in ours.read_text()
    assert _cli("derive", "cost", "--format", "latex", "-o", str(mine), "--force").returncode == 0
    assert mine.read_text().startswith("% generated by symnn")


def test_conv2d_gradients_are_the_correlation_and_the_full_convolution():
    d = derive("conv2d")
    i, j, p, q = sp.symbols("i j p q", integer=True)
    H, W, kh, kw = sp.symbols("H_in W_in k_h k_w", integer=True, positive=True)
    X, K, G = (sp.IndexedBase(n, real=True) for n in "XKG")
    r = d.results
    assert r["dK"] == sp.Sum(G[i, j] * X[i + p, j + q], (i, 0, H - kh), (j, 0, W - kw))
    guarded = r["dX"].function
    assert isinstance(guarded, sp.Piecewise) and guarded.args[0][0] == G[i, j] * K[p - i, q - j]
    text = re.sub(r"\n +", " ", d.text())
    assert "cross-correlation with K is convolution with K rotated by 180°" in text
    assert "full convolution" in text
