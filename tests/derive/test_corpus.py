"""The outside corpus (tests/corpus/derivatives.json, 400 problems from textbooks, SymPy's tests,
SymPy Gamma and the activation/loss literature): every problem derives and verifies, its result
equals sympy.diff at random points (checked here, not only by verify()), or it is refused with
one line; no sub-derivative is derived twice and no step repeats the one before."""

from __future__ import annotations

import importlib.util
import json
import random
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
    assert BENCH.compare(d.result, BENCH._reference(expr, var), random.Random(0)) is None
    lines = [(show(s.lhs), show(s.rhs)) for s in d.equations]
    assert all(a != b for a, b in zip(lines, lines[1:])), "a step that changes nothing"
    derived = [
        s.lhs
        for s in d.equations
        if s.rule not in ("substitution", "simplification", "rewriting", "definition", "found before")
    ]
    assert len(derived) == len(set(derived)), "a sub-derivative derived twice"
