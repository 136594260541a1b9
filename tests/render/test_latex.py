"""The standalone LaTeX of every topic compiles with pdflatex (always in CI) within the page; the
line breaker of long equations."""

from __future__ import annotations

import subprocess

import pytest
from conftest import pdflatex_or_skip

from symnn.course.texlog import describe, too_wide
from symnn.derive.topics import TOPICS as ALL_TOPICS

# every topic `symnn derive --list` shows, and a few --expr/--cost/--activation forms
CASES = [(t, {}) for t in ALL_TOPICS if t != "expression"] + [
    ("expression", {"expr": "x**2*exp(-x)"}),
    ("expression", {"expr": "sin(x*y)*exp(x+y)/(1+x^2+y^2)", "wrt": "x,y"}),
    ("expression", {"expr": "log(1+exp(-x))*tanh(x)^3", "wrt": "x"}),
    ("cost-functions", {"cost": "all"}),
    ("activation", {"activation": "x*tanh(log(1+exp(x)))"}),
]


@pytest.mark.latex
@pytest.mark.parametrize(("topic", "options"), CASES, ids=[f"{t}-{n}" for n, (t, _) in enumerate(CASES)])
def test_standalone_latex_compiles_within_the_page(topic, options, tmp_path, derived):
    """`symnn derive TOPIC --format latex --standalone` compiles, and no line is wider than the
    page: no overfull box over 1 pt (a long equation is broken, never shrunk)."""
    pdflatex = pdflatex_or_skip()
    d = derived(topic, **options)
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
    wide = too_wide(log)
    assert not wide, describe(wide, "doc.tex")
    body = d.latex()
    assert r"\resizebox" not in body and r"\scalebox" not in body  # broken, never shrunk


def test_a_wide_equation_is_broken_after_its_terms_or_factors():
    import sympy as sp

    from symnn.render.layout import LINE, equation_rows
    from symnn.render.texwidth import width

    x = sp.symbols("x_1:16", real=True)
    wide = sum(sp.sin(v) * sp.exp(v) for v in x)
    rows = equation_rows(sp.Symbol("f"), wide, 3)
    assert len(rows) > 1 and r"\tag" not in rows[0] and all(r.startswith(r"&\quad +") for r in rows[1:])
    assert all(width(r.split("&", 1)[1].removesuffix(r"\\")) <= LINE for r in rows)
    product = sp.Mul(*[sp.sin(v + 1) for v in x])
    rows = equation_rows(sp.Symbol("f"), product, 4)
    assert len(rows) > 1 and all(r"\cdot" in r for r in rows[1:])
    assert equation_rows(sp.Symbol("f"), x[0] + 1, 5) == [r"f &= x_{1} + 1 \\"]


def test_a_wide_equation_is_broken_inside_brackets_functions_and_cases():
    import sympy as sp

    from symnn.render.layout import equation_rows

    x = sp.symbols("x_1:16", real=True)
    inside = sp.tanh(sum(sp.sin(v) * sp.exp(v) for v in x))
    rows = equation_rows(sp.Symbol("f"), inside, 1)
    assert len(rows) > 1 and r"\tanh\Bigl(" in rows[0] and rows[-1].removesuffix(r" \\").endswith(r"\Bigr)")
    cases = sp.Piecewise((sum(sp.cos(v) for v in x), sp.And(*[v > 0 for v in x])), (0, True))
    (row,) = equation_rows(sp.Symbol("f"), cases, 2)
    assert row.count(r"\wedge") == 14 and row.count(r"\quad") >= 2  # rows of conditions and of terms
    rows = equation_rows(sp.Derivative(inside, x[0]), sp.Integer(0), 3)
    assert rows[0].startswith(r"& \frac{\partial}{\partial x_{1}}\Bigl(")  # a wide left side: its own lines
    assert rows[-1] == r"&\quad = 0 \\"


def test_a_step_that_repeats_the_left_side_writes_only_the_right_side():
    import sympy as sp

    from symnn.render.layout import align_block

    f, x = sp.symbols("f x")
    lines = align_block([(f, x**2 + 2 * x + 1, "rule one"), (f, (x + 1) ** 2, "rule two")]).split("\n")
    assert lines[1] == r"f &= x^{2} + 2 x + 1 \tag{1} \\"
    assert lines[3] == r"&= \left(x + 1\right)^{2} \tag{2} \\"
    assert lines[2].startswith(r"\noalign{") and "rule one" in lines[2] and "rule two" in lines[4]


def test_a_one_variable_derivation_prints_d_not_partial():
    import symnn

    tex = symnn.derive("expression", expr="x^2 sin(x)", wrt="x").latex()
    assert r"\frac{d}{d x}" in tex and r"\partial" not in tex.split(r"\noindent")[0]


def test_headings_and_introductions_print_no_literal_underscore():
    from symnn.render.latex import text_with_math

    assert text_with_math("∂C/∂w_1") == r"\(\partial C/\partial w_{1}\)"
    out = text_with_math("Inputs: x_1 = Study Hrs, yhat_j. The kernel conv2d.layer_forward.")
    assert r"\(x_{1}\)" in out and r"\(\hat{y}_{j}\)" in out and r"conv2d.layer\_forward" in out


FORMULAS = [
    r"\frac{\partial C}{\partial w_{1}}",
    r"\sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)",
    r"\sum_{\substack{0 \leq m \leq k_{h} - 1\\0 \leq n \leq k_{w} - 1}} "
    r"\left[{A}_{t,c,i,j} = k_{w} m + n\right] {X}_{t,c,i s + m,j s + n}",
    r"\begin{cases} 1 & \text{for}\: z > 0 \\0 & \text{otherwise} \end{cases}",
    r"\frac{\sqrt{2} z e^{- \frac{z^{2}}{2}}}{2 \sqrt{\pi}} "
    r"+ \frac{\operatorname{erf}{\left(\frac{\sqrt{2} z}{2} \right)}}{2} + \frac{1}{2}",
    r"\tanh^{2}{\left(\frac{\sqrt{2} \left(\frac{8943 z^{3}}{200000} + z\right)}{\sqrt{\pi}} \right)}",
    r"2 \left({a}_{k} - {E}_{k}\right) e^{\frac{\sum_{j=1}^{n_{out}} \left({a}_{j} - {E}_{j}\right)^{2}}{\tau}}",
    r"\delta_{c,c'} \delta_{t,t'} \Bigl[{A}_{t,c,i,j} = k_{w} p - i k_{w} s - j s + q\Bigr] {G}_{t,c,i,j}",
]


@pytest.mark.latex
def test_the_width_estimate_is_close_to_what_pdflatex_sets(tmp_path):
    """texwidth.width, which the line breaker trusts, against TeX's own measure of the same
    formulas (display style, 11 pt): within 12 %."""
    import re

    from symnn.render.texwidth import width

    pdflatex = pdflatex_or_skip()
    body = "\n".join(rf"\sbox0{{$\displaystyle {f}$}}\typeout{{WIDTH{n} \the\wd0}}" for n, f in enumerate(FORMULAS))
    (tmp_path / "w.tex").write_text(
        "\\documentclass[11pt]{article}\\usepackage[T1]{fontenc}\\usepackage{amsmath,amssymb}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    subprocess.run([pdflatex, "-interaction=nonstopmode", "w.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    log = (tmp_path / "w.log").read_text(errors="replace")
    measured = {int(n): float(pt) / 10.95 for n, pt in re.findall(r"^WIDTH(\d+) ([\d.]+)pt", log, re.M)}
    assert len(measured) == len(FORMULAS)
    for n, f in enumerate(FORMULAS):
        assert abs(width(f) / measured[n] - 1) < 0.12, (f, width(f), measured[n])


def test_no_character_symnn_prints_becomes_a_question_mark(derived):
    """Every title, introduction, section heading and note of every derivation typesets: a
    character latex_text cannot map fails with its name, so none prints as '?' (issue 19: 23
    characters in 12 justifications were '?')."""
    from symnn.render.latex import note_tex, text_with_math

    for topic, options in CASES:
        d = derived(topic, **options)
        texts = [(d.title, text_with_math(d.title)), (d.intro or "", text_with_math(d.intro or ""))]
        for step in d.steps:
            note = f"{step.rule}: {step.note}" if step.note else step.rule
            texts.append((note, note_tex(note)))
        for source, tex in texts:
            assert tex.count("?") == source.count("?"), (topic, source)


def test_an_unmapped_character_fails_with_its_name():
    from symnn.errors import InputError
    from symnn.render.latex import latex_text, note_tex

    with pytest.raises(InputError, match=r"cannot typeset the character '☃' \(U\+2603 SNOWMAN\)"):
        note_tex("rule: a snowman ☃ here")
    assert latex_text("ω ½ ⌊x⌋ φ ϕ") == (
        r"\ensuremath{\omega} \ensuremath{\tfrac{1}{2}} \ensuremath{\lfloor}x\ensuremath{\rfloor} "
        r"\ensuremath{\varphi} \ensuremath{\varphi}"
    )
