"""The standalone LaTeX of every topic compiles with pdflatex (always in CI)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import pdflatex_or_skip

from symnn import derive

TOPICS = [
    "neuron",
    "activation",
    "cost",
    "gradient-descent",
    "cost-functions",
    "expression",
    "conv2d",
    "backprop",
    "maxpool",
]


@pytest.mark.latex
@pytest.mark.parametrize("topic", TOPICS)
def test_standalone_latex_compiles(topic, tmp_path, derived):
    pdflatex = pdflatex_or_skip()
    d = derive(topic, expr="x**2*exp(-x)") if topic == "expression" else derived(topic)
    (tmp_path / "doc.tex").write_text(d.latex(standalone=True))
    run = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "! " not in log and "Missing character" not in log


def test_a_wide_equation_is_broken_after_its_terms_or_factors():
    import sympy as sp

    from symnn.render.latex import LINE_GLYPHS, equation_rows, glyphs

    x = sp.symbols("x_1:12", real=True)
    wide = sum(sp.sin(v) * sp.exp(v) for v in x)
    rows = equation_rows(sp.Symbol("f"), wide, 3)
    assert len(rows) > 1 and r"\text{(3)}" in rows[0] and all(r.startswith(r"&\quad +") for r in rows[1:])
    assert all(glyphs(r.split("&&")[0]) <= LINE_GLYPHS + 30 for r in rows)
    product = sp.Mul(*[sp.sin(v + 1) for v in x])
    rows = equation_rows(sp.Symbol("f"), product, 4)
    assert len(rows) > 1 and all(r"\cdot" in r for r in rows[1:])
    assert equation_rows(sp.Symbol("f"), x[0] + 1, 5) == [r"f &= x_{1} + 1 && \text{(5)} \\"]


def test_a_one_variable_derivation_prints_d_not_partial():
    import symnn

    tex = symnn.derive("expression", expr="x^2 sin(x)", wrt="x").latex()
    assert r"\frac{d}{d x}" in tex and r"\partial" not in tex.split(r"\noindent")[0]


def test_headings_and_introductions_print_no_literal_underscore():
    from symnn.render.latex import text_with_math

    assert text_with_math("∂C/∂w_1") == r"\(\partial C/\partial w_{1}\)"
    out = text_with_math("Inputs: x_1 = Study Hrs, yhat_j. The kernel conv2d.layer_forward.")
    assert r"\(x_{1}\)" in out and r"\(\hat{y}_{j}\)" in out and r"conv2d.layer\_forward" in out
