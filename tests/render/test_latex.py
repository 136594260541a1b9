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
