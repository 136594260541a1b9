"""symnn check: the learner catalogue (correct forms pass, wrong ones give the first wrong line,
the misconception and a counterexample that separates the sides), JSON, CLI, untrusted input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import mpmath
import pytest
import sympy as sp

import symnn
from symnn.checking import MISCONCEPTIONS, CheckInputError, check
from symnn.checking.checker import build
from symnn.checking.statements import read_statements
from symnn.cli import main

CATALOGUE = Path(__file__).with_name("learners.txt")


def sections() -> list[tuple[str, str, str]]:
    out = []
    for sec in re.split(r"^=== ", CATALOGUE.read_text(encoding="utf-8"), flags=re.M)[1:]:
        head, _, body = sec.partition("\n")
        name, expect = (h.strip() for h in head.split("|"))
        out.append((name, expect, body))
    return out


SECTIONS = sections()
RIGHT = [s for s in SECTIONS if s[1] == "ok"]
WRONG = [s for s in SECTIONS if s[1] != "ok"]


def test_the_catalogue_covers_every_misconception_three_times():
    expects = Counter(e.split()[-1] for _, e, _ in SECTIONS)
    assert expects["ok"] >= 25
    assert sum(n for k, n in expects.items() if k != "ok") >= 35
    for mid in MISCONCEPTIONS:
        assert expects[mid] >= 3, mid
    latex = [n for n, _, body in SECTIONS if "\\frac" in body or "\\hat" in body]
    assert len(latex) >= 6


@pytest.mark.parametrize(
    "name,expect,body", [s for s in SECTIONS if s[1] == "ok"], ids=[s[0] for s in SECTIONS if s[1] == "ok"]
)
def test_correct_derivations_in_any_right_form_pass(name, expect, body):
    r = check(body)
    assert r.ok, r.text()
    assert r.first_error is None and r.mistake is None
    assert all(line.holds for line in r.lines if line.kind == "claim")


def _value(problem, side, values: dict) -> float:
    e = problem.full(side)
    subs = {s: sp.nsimplify(values[s.name]) for s in e.free_symbols}
    assert set(values) >= {s.name for s in e.free_symbols}
    return float(sp.N(e.xreplace(subs), 30))


@pytest.mark.parametrize(
    "name,expect,body", [s for s in SECTIONS if s[1] != "ok"], ids=[s[0] for s in SECTIONS if s[1] != "ok"]
)
def test_wrong_derivations_give_the_line_the_misconception_and_a_counterexample(name, expect, body):
    line, misconception = expect.split()
    r = check(body)
    assert not r.ok
    assert r.first_error == int(line), r.text()
    assert r.mistake.misconception.id == misconception, r.text()
    ce = r.mistake.counterexample
    assert ce is not None
    assert all(float(v) in (-2, -1, 0, 0.5, 1, 2, 3) for v in ce.values.values())
    # the counterexample really separates the two sides of the wrong '=': evaluated here by SymPy
    problem, parsed = build(read_statements(body))
    problem.sizes = {sp.Symbol(k, real=True): v for k, v in r.mistake.sizes.items()}
    claim = next(p for p in parsed if p.statement.line == int(line))
    k = next(k for k in range(len(claim.sides) - 1) if claim.statement.sides[k + 1] == r.mistake.right)
    lhs = _value(problem, claim.sides[k], ce.values)
    rhs = _value(problem, claim.sides[k + 1], ce.values)
    assert lhs == pytest.approx(ce.lhs, rel=1e-9, abs=1e-12)
    assert rhs == pytest.approx(ce.rhs, rel=1e-9, abs=1e-12)
    assert abs(lhs - rhs) > 1e-6 * (1 + abs(lhs) + abs(rhs))
    # the line symnn writes instead holds
    fixed = body.splitlines()
    fixed[int(line) - 1] = f"${r.mistake.suggestion}$" if "$" in body else r.mistake.suggestion
    assert check("\n".join(fixed[: int(line)])).lines[-1].holds, r.mistake.suggestion


PERCEPTRON = """given z = w_1*x_1 + w_2*x_2 + w_3*x_3 + b
given yhat = sigmoid(z)
given C = (yhat - y)^2/2
"""


def test_json_has_exactly_the_documented_shape_and_is_stable():
    text = PERCEPTRON + "dC/dyhat = yhat - y\ndC/dw_1 = (yhat - y)*x_1\n"
    first = check(text).as_dict()
    assert check(text).as_dict() == first
    assert {"ok", "first_error", "lines", "counterexample", "misconception", "suggestion"} <= set(first)
    assert (
        first["ok"] is False and first["first_error"] == 5 and first["misconception"] == "missing-activation-derivative"
    )
    assert first["lines"][0] == {"line": 1, "kind": "given", "holds": None, "how": None}
    assert first["lines"][3] == {"line": 4, "kind": "claim", "holds": True, "how": "symbolic"}
    assert first["lines"][4] == {"line": 5, "kind": "claim", "holds": False, "how": None}
    ce = first["counterexample"]
    assert set(ce) == {"values", "lhs", "rhs"} and set(ce["values"]) == {
        "b",
        "w_1",
        "w_2",
        "w_3",
        "x_1",
        "x_2",
        "x_3",
        "y",
    }
    assert first["suggestion"].startswith("dC/dw_1 = ")
    json.dumps(first)


def test_derivatives_that_are_zero_almost_everywhere():
    assert check("d/dx (floor(x)) = 0\nd/dx (abs(x)) = sign(x)\nd/dz (relu(z)) = step(z)").ok


def test_numeric_verdicts_are_reported_as_numeric():
    r = check("d/dx (max(x, 0)) = (sign(x) + 1)/2")
    assert r.ok and r.lines[0].how == "numeric"


def test_an_exercise_goal_must_be_reached():
    givens = PERCEPTRON
    r = check("dC/dyhat = yhat - y\n", givens=givens, goal="dC/db")
    assert not r.ok and r.goal_reached is False
    r = check("∂C/∂b = (yhat - y)*yhat*(1 - yhat)\n", givens=givens, goal="dC/db")
    assert r.ok and r.goal_reached
    r = check("given z = w_1*x_1\ndC/db = 1\n", givens=givens, goal="dC/db")
    assert not r.ok and r.first_error == 1  # a learner's given that differs from the exercise's


@pytest.mark.parametrize(
    "text,message",
    [
        ("x + 1", r"line 1: 'x \+ 1' is neither a given nor a claim"),
        ("y = (x + 1", r"line 1.*'\(' .*never closed"),
        ('y = __import__("os")', r"line 1: cannot read character '\"' at column 16"),
        ("y = x.__class__", r"line 1: cannot read"),
        ("given z = z + 1", r"line 1: z is defined by itself"),
        ("given a = b\ngiven b = a\nda/dx = 0", r"the givens refer to themselves"),
        ("given z = 1\ngiven z = 2", r"line 2: z is already given on line 1"),
        ("x == 1", r"only '=' claims"),
        ("$\\frac{1}{2$", r"never closed"),
        ("$\\unknowncommand{x} = 1$", r"the LaTeX command \\unknowncommand is not read"),
        ("y = sum(x_i, (i, 1, 1000))", r"1000 terms; at most 200"),
        ("y = " + "(" * 60 + "x" + ")" * 60, r"nests more than 50"),
        ("y = x^(10^10)", r"exponent"),
        ("y = log(0)", r"line 1: a side is not defined"),
        ("given e = 2", r"line 1: e is the constant E"),
        ("f'(x) = 1", r"unknown function \"f'\""),
        ("x\x00 = 1", r"NUL bytes"),
        ("$\\input{/etc/passwd} = 1$", r"\\input is not read"),
        ("x = 1 = " + " = ".join(["1"] * 25), r"at most 19 are read"),
    ],
)
def test_unreadable_input_is_one_line_naming_the_line(text, message):
    with pytest.raises(
        CheckInputError if "refer" not in message and "exponent" not in message else symnn.InputError
    ) as e:
        check(text)
    assert re.search(message, str(e.value)), str(e.value)
    assert "\n" not in str(e.value)


def test_a_huge_file_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SYMNN_MAX_TEXT", "1K")
    f = tmp_path / "big.txt"
    f.write_text("y = x\n" * 1000)
    assert main(["check", str(f)]) == 2
    assert "larger than" in capsys.readouterr().err


def test_cli_exit_codes_formats_and_stdin(tmp_path, capsys, monkeypatch):
    good = tmp_path / "good.txt"
    good.write_text(PERCEPTRON + "dC/db = (yhat - y)*yhat*(1 - yhat)\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text(PERCEPTRON + "dC/db = (yhat - y)*yhat\n", encoding="utf-8")
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "✓" in out and "every claim holds" in out
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "line 4" in out and "missing-activation-derivative" in out and "symnn writes: dC/db = " in out
    assert main(["check", str(bad), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["first_error"] == 4
    assert main(["check", str(bad), "--format", "markdown"]) == 1
    assert "| 4 | ✗ |" in capsys.readouterr().out
    assert main(["check", str(bad), "--format", "latex"]) == 1
    assert r"\begin{tabular}" in capsys.readouterr().out
    assert main(["check", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["check"]) == 2
    assert "give the derivation's FILE" in capsys.readouterr().err
    (tmp_path / "latin1.txt").write_bytes("y = x # caf\xe9\n".encode("latin-1"))
    assert main(["check", str(tmp_path / "latin1.txt")]) == 2
    assert "not UTF-8 text (line 1)" in capsys.readouterr().err


def test_cli_reads_stdin_and_prints_ascii_where_stdout_cannot_show_unicode(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "symnn", "check", "-"],
        input=(PERCEPTRON + "∂C/∂b = (ŷ − y)·ŷ\n").encode("utf-8"),
        capture_output=True,
        env={"PYTHONIOENCODING": "cp1252", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=120,
    )
    out, err = p.stdout.decode("cp1252"), p.stderr.decode("cp1252")
    assert p.returncode == 1, err
    assert "WRONG" in out and "(yhat - y)*yhat" in out and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [] or all(x.name.startswith(".") for x in tmp_path.iterdir())


def test_nothing_the_learner_writes_is_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in [
        "y = __import__('os').system('touch pwned')",
        "given os = 1\ny = os.system(1)",
        "y = eval(1)",
        "y = lambda: 1",
    ]:
        with pytest.raises(symnn.InputError):
            check(text)
    assert not (tmp_path / "pwned").exists()


def test_notebook_shows_the_result_as_markdown():
    r = check(PERCEPTRON + "dC/db = yhat - y\n")
    md = r._repr_markdown_()
    assert "| 4 | ✗ |" in md and "missing-activation-derivative" in md


def test_symbolic_range_is_checked_at_several_sizes():
    body = "given C = sum((w*x_i - y_i)^2, (i, 1, n))/(2n)\ndC/dw = sum((w*x_i - y_i)*x_i, (i, 1, n))/n\n"
    assert check(body).ok
    r = check(body.replace("/n\n", "\n"))
    assert not r.ok and r.mistake.misconception.id == "lost-factor"
    assert "1/n" in r.mistake.detail and r.mistake.sizes


def test_mpmath_precision_is_left_as_found():
    before = mpmath.mp.dps
    check(PERCEPTRON + "dC/db = yhat - y\n")
    assert mpmath.mp.dps == before


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    "name,line,misconception",
    [
        ("student_dC_dw1.txt", 9, "missing-activation-derivative"),
        ("student_dC_dw1_correct.txt", None, None),
        ("student_backprop.tex", 12, "missing-activation-derivative"),
        ("student_softmax.md", 10, "softmax-diagonal-only"),
    ],
)
def test_the_shipped_examples(name, line, misconception, capsys):
    code = main(["check", str(EXAMPLES / name), "--format", "json"])
    result = json.loads(capsys.readouterr().out)
    assert code == (0 if line is None else 1)
    assert result["first_error"] == line and result["misconception"] == misconception
    if line:
        assert result["counterexample"]["lhs"] != result["counterexample"]["rhs"]
