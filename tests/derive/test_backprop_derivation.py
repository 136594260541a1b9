"""`derive backprop`: BP1–BP4 derived in index notation, then checked on a whole small net."""

from __future__ import annotations

import pytest
import sympy as sp

from symnn import InputError, derive


@pytest.fixture(scope="module")
def backprop(derived):
    return derived("backprop")


def test_every_step_and_every_weight_of_the_2_3_2_net_is_checked(backprop):
    d = backprop
    assert d.verified
    assert all(s.verified_by for s in d.equations if not s.is_definition)
    # 2-3-2: 6 + 2 weights and biases in layer 2, 6 + 3 in layer 1 -> 17 goals vs sympy.diff
    assert len(d.goals) == 17
    names = [g.name for g in d.goals]
    assert "∂C/∂w^1_12" in names and "∂C/∂b^2_2" in names


def test_the_four_equations_appear_in_component_and_matrix_form(backprop):
    text = backprop.text()
    for label in (
        "BP1: δ^L_j = ∂C/∂a^L_j · φ'(z^L_j)",
        "BP2: δ^(L−1)_j",
        "BP3: ∂C/∂b^l_j = δ^l_j",
        "BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j",
        "δ^L = ∇_a C ⊙ φ'(z^L)",
        "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ φ'(z^l)",
    ):
        assert label in text
    assert {"chain rule", "Kronecker-delta collapse", "BP1 (matrix form)", "BP4 (matrix form)"} <= {
        s.rule for s in backprop.steps
    }
    # BP4's final line is a^(L-2)_k δ^(L-1)_j, derived, not typed
    bp4 = [s for s in backprop.steps if s.rule == "Kronecker-delta collapse"][-1]
    j, k = sp.symbols("j k", integer=True)
    assert bp4.rhs == sp.IndexedBase("a^L-2", real=True)[k] * sp.IndexedBase("delta^L-1", real=True)[j]


def test_other_activation_cost_and_depth():
    d = derive("backprop", activation="sigmoid", cost="cross-entropy")
    assert d.verified and len(d.goals) == 17
    with pytest.raises(InputError, match="between 2 and 4"):
        derive("backprop", layers=7)
