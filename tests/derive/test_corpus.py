"""The outside corpus (tests/corpus/derivatives.json, 400 problems from textbooks, SymPy's tests,
SymPy Gamma and the activation/loss literature): every problem derives and verifies, its result
equals sympy.diff at random points (checked here, not only by verify()), or it is refused with
one line; no sub-derivative is derived twice and no step repeats an earlier one."""

from __future__ import annotations

import importlib.util
import json
import random
import re
from pathlib import Path

import pytest

from symnn.errors import SymnnError

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = json.loads((ROOT / "tests" / "corpus" / "derivatives.json").read_text(encoding="utf-8"))


def _bench():
    spec = importlib.util.spec_from_file_location("derive_corpus", ROOT / "bench" / "derive_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def test_the_corpus_is_large_and_cited():
    assert len(PROBLEMS) >= 300 and len({p["id"] for p in PROBLEMS}) == len(PROBLEMS)
    assert sum(p["kind"] in ("activation", "loss", "nn") for p in PROBLEMS) >= 60
    assert all(p["source"] for p in PROBLEMS)


@pytest.mark.slow
@pytest.mark.parametrize("problem", PROBLEMS, ids=[p["id"] for p in PROBLEMS])
def test_problem(problem):
    from symnn import derive
    from symnn.parse import parse
    from symnn.render.text import show

    try:
        d = derive("expression", expr=problem["expr"], wrt=problem["wrt"], timeout=20)
    except SymnnError as exc:
        assert "\n" not in str(exc).strip()
        assert problem["expected"] == "refused", f"refused: {exc}"
        return
    assert problem["expected"] == "derive", "derived a problem the corpus expects refused"
    assert d.verified
    expr = parse(problem["expr"])
    var = BENCH._variable(expr, problem["wrt"])
    reference = BENCH._reference(expr, var)
    assert BENCH.compare(BENCH.in_base_variables(d), reference, random.Random(0), domain=expr) is None
    lines = [(show(s.lhs), show(s.rhs)) for s in d.equations]
    assert all(line not in lines[:n] for n, line in enumerate(lines)), "a step that repeats an earlier line"
    assert repeated_derivation(d) is None, "a sub-derivative derived twice: " + str(repeated_derivation(d))


_NOT_DERIVING = (
    "substitution",
    "simplification",
    "rewriting",
    "definition",
    "found before",
    "Kronecker-delta collapse",
)


def repeated_derivation(d) -> str | None:
    """A sub-expression whose derivative two steps find (anywhere in the derivation, not only
    in adjacent steps), neither citing the other: "e^x in (3) and (4)"; None if there is none.

    A step derives ∂A/∂x when its right side holds no derivative left to find; it derives the
    derivative of every part of A (written out through the definitions in force) that depends
    on x, except the variable itself, c·x, linear sums, and the parts of the steps it cites ("by (3)")."""
    import sympy as sp

    from symnn.derive.derivation import Derivation
    from symnn.render.text import show

    eqs = d.equations
    targets = {
        n: (Derivation.expand(s.lhs.expr, s.defs), s.lhs.variables[0])
        for n, s in enumerate(eqs, 1)
        if isinstance(s.lhs, sp.Derivative)
    }
    seen: dict = {}
    for n, s in enumerate(eqs, 1):
        if s.rule in _NOT_DERIVING or n not in targets or s.rhs.has(sp.Derivative):
            continue
        target, var = targets[n]
        cited = set()
        for m in map(int, re.findall(r"\((\d+)\)", s.note)):
            if m in targets:
                cited |= set(sp.preorder_traversal(targets[m][0]))
        for e in sp.preorder_traversal(target):
            if e in cited or e.is_Atom or not e.has(var) or _linear(e, var):
                continue
            if seen.setdefault((e, var), n) != n:
                return f"{show(e)} in ({seen[(e, var)]}) and ({n})"
    return None


def _linear(e, var) -> bool:
    """c·x or a linear sum such as p − y: a derivative read off, cited by nobody."""
    import sympy as sp

    return isinstance(e, (sp.Add, sp.Mul)) and not sp.diff(e, var).has(var)


# -- the audit's cases, each fixed once (issue 15) -------------------------------------------------
REPEATED_BEFORE = [
    ("exp(x)/(1+exp(x))", "x"),  # e^x in the numerator and in the denominator
    ("exp(z_1)/(exp(z_1) + exp(z_2))", "z_1"),  # softmax: e^(z₁) twice
    ("3^x/(3^x+2)", "x"),  # 3ˣ ln 3 twice
    ("-(y*log(sigmoid(z)) + (1 - y)*log(1 - sigmoid(z)))", "z"),  # σ' for ∂u/∂z and ∂v/∂z
]


@pytest.mark.parametrize("expr, wrt", REPEATED_BEFORE)
def test_a_sub_derivative_found_before_is_cited(expr, wrt):
    from symnn import derive
    from symnn.render.text import show

    d = derive("expression", expr=expr, wrt=wrt)
    assert d.verified and repeated_derivation(d) is None
    assert any(re.search(r"by \(\d+\)", s.note) for s in d.equations)
    lines = [(show(s.lhs), show(s.rhs)) for s in d.equations]
    assert len(lines) == len(set(lines))


def test_the_repeat_check_finds_a_repeat_that_is_not_cited(monkeypatch):
    from symnn import derive
    from symnn.derive import steps

    monkeypatch.setattr(steps._Writer, "citations", lambda self, rule: "")
    monkeypatch.setattr(steps._Writer, "remember_parts", lambda self, rule: None)
    d = derive("expression", expr="exp(x)/(1+exp(x))", wrt="x")
    assert repeated_derivation(d) == "e^x in (3) and (4)"
