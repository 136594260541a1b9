"""Step economy (issue 15): on the 30 OpenStax worked examples of the reference set,
`--detail brief` prints at most 1.5 times the textbook's lines; bench/step_economy.py prints the
table, and bench/README.md holds it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("step_economy", ROOT / "bench" / "step_economy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
REFERENCE = BENCH.reference_set()


def test_the_reference_set_is_thirty_cited_worked_examples():
    assert len(REFERENCE) == 30 and len({p["id"] for p in REFERENCE}) == 30
    for p in REFERENCE:
        assert p["kind"] == "textbook" and p["expected"] == "derive" and p["textbook_lines"] >= 1
        assert "OpenStax Calculus Volume 1, section" in p["source"] and "worked example" in p["source"]
        assert p["url"].startswith("https://openstax.org/books/calculus-volume-1/pages/3-")
        assert BENCH.example(p) != p["id"]  # the section and the example's title


@pytest.mark.parametrize("problem", REFERENCE, ids=[p["id"] for p in REFERENCE])
def test_brief_is_within_one_and_a_half_times_the_textbook(problem):
    (brief,) = BENCH.counts(problem, ("brief",)).values()
    assert brief <= BENCH.LIMIT * problem["textbook_lines"], (
        f"brief {brief} lines, textbook {problem['textbook_lines']}"
    )


def test_the_table_is_in_the_bench_readme():
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(BENCH.MARK[0]), readme.index(BENCH.MARK[1])
    block = readme[start:end]
    rows = [line for line in block.splitlines() if line.startswith("| 3.")]
    assert len(rows) == 30
    for p, row in zip(REFERENCE, rows):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == f"`{p['expr']}`" and int(cells[2]) == p["textbook_lines"]
        assert int(cells[3]) <= BENCH.LIMIT * p["textbook_lines"]
    assert "brief within 1.5x of the textbook on 30 of 30" in block
