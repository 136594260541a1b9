"""Justification notes: mathematics between backticks is typeset as mathematics; LaTeX never
loses a character silently."""

from __future__ import annotations

import pytest

from symnn.errors import InputError
from symnn.render.latex import latex_text, note_tex
from symnn.render.markdown import note_markdown
from symnn.render.notes import math_tex, plain


@pytest.mark.parametrize(
    "text, tex",
    [
        ("(f/g)' = (f' g − f g')/g²", "(f/g)' = (f' g - f g')/g^{2}"),
        ("(u^n)' = n u^(n−1) u'", "(u^n)' = n u^{n-1} u'"),
        ("asin'(u) = 1/sqrt(1 - u^2)", r"\arcsin '(u) = 1/\sqrt{1 - u^2}"),
        ("∂a_j/∂a_k", r"\partial a_{j}/\partial a_{k}"),
        ("σ'(u) = σ(u)·(1 − σ(u))", r"\sigma '(u) = \sigma (u) \cdot (1 - \sigma (u))"),
    ],
)
def test_math_pieces(text, tex):
    assert math_tex(text) == tex


def test_notes_in_each_format():
    note = "quotient rule: `(f/g)' = (f' g − f g')/g²`"
    assert plain(note) == "quotient rule: (f/g)' = (f' g − f g')/g²"
    assert note_tex(note) == r"quotient rule: \((f/g)' = (f' g - f g')/g^{2}\)"
    assert note_markdown(note) == "quotient rule: $(f/g)' = (f' g - f g')/g^{2}$"


def test_derivations_typeset_rule_formulas_as_math():
    from symnn import derive

    d = derive("expression", expr="x/(1+abs(x))")
    assert r"\((f/g)' = (f' g - f g')/g^{2}\)" in d.latex()
    assert "$(f/g)' = (f' g - f g')/g^{2}$" in d.markdown()
    assert "`" not in d.text()


def test_latex_text_maps_or_refuses_every_character():
    assert latex_text("ω Γ é ½ ⌊x⌋ ϕ") == (
        r"\ensuremath{\omega} \ensuremath{\Gamma} \'e "
        r"\ensuremath{\tfrac{1}{2}} \ensuremath{\lfloor}x\ensuremath{\rfloor} "
        r"\ensuremath{\varphi}"
    )
    with pytest.raises(InputError, match=r"U\+2603"):
        latex_text("snow ☃")
    assert "?" not in latex_text("C = Σ ½(ŷ − y)², π_0 = 1, ⌊t/2⌋")


def test_a_function_is_written_before_the_sums_that_hold_it():
    """σ(z)(1 − σ(z)) as the lecture and Nielsen write it, in text and LaTeX; the printed product
    is the same expression, and products without such a pair keep SymPy's order."""
    import sympy as sp

    from symnn.ops.functions import sigmoid
    from symnn.render.latex import tex
    from symnn.render.text import function_first, show

    z, beta = sp.Symbol("z", real=True), sp.Symbol("beta", real=True)
    s = sigmoid(z)
    cases = [
        (s * (1 - s), "σ(z)·(1 - σ(z))", r"\sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)"),
        (-3 * z * s * (1 - s), "-3·z·σ(z)·(1 - σ(z))", None),
        (s * (1 - s) / z, "σ(z)·(1 - σ(z))/z", r"\frac{\sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)}{z}"),
        (beta * sigmoid(beta * z) * (1 - sigmoid(beta * z)), "β·σ(β·z)·(1 - σ(β·z))", None),
    ]
    for expr, text, latex in cases:
        assert show(expr) == text
        if latex is not None:
            assert tex(expr) == latex
        ordered = function_first(-expr if expr.as_coeff_Mul()[0] < 0 else expr)
        assert ordered is not None and sp.Mul(*ordered.args) == (-expr if expr.as_coeff_Mul()[0] < 0 else expr)
    for unchanged in (z * s, z**2 * (1 - z), s * sp.exp(z), (1 - s) * sp.tanh(z)):
        assert function_first(unchanged) is None
    assert show(z * (1 - z)) == "z·(1 - z)"
