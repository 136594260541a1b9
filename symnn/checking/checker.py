"""`check(text)`: read a learner's derivation, decide each claim, explain the first wrong one."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from symnn.checking.compare import Verdict, compare, counterexample
from symnn.checking.misconceptions import BY_ID, Case, diagnose
from symnn.checking.notation import Partial, read_expression, rewrite
from symnn.checking.problem import Problem, size_assignments
from symnn.checking.result import CheckResult, LineResult, Mistake
from symnn.checking.statements import CheckInputError, Statement, read_statements
from symnn.errors import InputError
from symnn.limits import time_limit
from symnn.parse import ParseError
from symnn.render.text import TextPrinter

DEFAULT_TIMEOUT = 20.0


@dataclass
class _Parsed:
    statement: Statement
    sides: list[sp.Expr]


def _read(statement: Statement, givens: frozenset[str]) -> list[sp.Expr]:
    out = []
    for text, col in zip(statement.sides, statement.cols):
        try:
            out.append(read_expression(text, givens))
        except (ParseError, InputError) as exc:
            raise CheckInputError(_where(statement, text, col, str(exc))) from None
    return out


_COLUMN = re.compile(r"(?:at )?\(?column (\d+)\)?")


def _where(statement: Statement, text: str, col: int, message: str) -> str:
    """The parser's message with its column counted in the whole line (when the side was read as
    written; a side whose notation was rewritten is named by where it starts)."""
    where = f"line {statement.line}" if statement.line else "the exercise's set-up"
    if "known functions:" in message:  # the list without the primed forms (f' of each f)
        head, _, names = message.partition("known functions:")
        kept = [n for n in names.split(", ") if "'" not in n]
        message = head + "known functions:" + ", ".join(kept)
    if rewrite(text) == text and _COLUMN.search(message) and statement.text.count(text) == 1:
        start = statement.text.index(text)
        fixed = _COLUMN.sub(lambda m: m.group(0).replace(m.group(1), str(int(m.group(1)) + start)), message)
        return f"{where}: {fixed}"
    return f"{where}, in the part that starts at column {col}: {message}"


def build(statements: list[Statement]) -> tuple[Problem, list[_Parsed]]:
    """The givens (all of them, wherever written) and the parsed claims."""
    problem = Problem()
    given_names = frozenset(s.sides[0].strip() for s in statements if s.kind == "given")
    parsed = []
    for s in statements:
        sides = _read(s, given_names)
        if s.kind == "given":
            name = sides[0]
            if name in (sp.E, sp.pi):
                raise CheckInputError(f"line {s.line}: {s.sides[0]} is the constant {name}; give another name")
            if not isinstance(name, sp.Symbol):
                raise CheckInputError(f"line {s.line}: a given defines one name, as in `given z = w_1*x_1 + b`")
            if sides[1].has(name):
                raise CheckInputError(f"line {s.line}: {name} is defined by itself")
            try:
                problem.define(name, sides[1], s.line)
            except InputError as exc:
                raise CheckInputError(str(exc)) from None
        parsed.append(_Parsed(s, sides))
    return problem, parsed


def _decide(problem: Problem, left: sp.Expr, right: sp.Expr) -> tuple[Verdict, sp.Expr, sp.Expr]:
    a, b = problem.full(left), problem.full(right)
    for side in (a, b):
        if side.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise InputError("a side is not defined (a division by zero, or a logarithm of 0); check the line")
    try:
        return compare(a, b), a, b
    except (TypeError, ValueError, KeyError, AttributeError, NotImplementedError) as exc:
        raise InputError(
            f"symnn cannot evaluate this line numerically ({type(exc).__name__}); write it more plainly"
        ) from None


def check(
    text: str, *, timeout: float | None = DEFAULT_TIMEOUT, goal: str | None = None, givens: str = ""
) -> CheckResult:
    """Check each claim of a learner's derivation; explain the first that does not hold.

    `givens` are statements put before the text (an exercise's set-up); `goal` (e.g. "dC/db")
    must be the left side of some claim whose chain of '=' all holds."""
    if not isinstance(text, str):
        raise InputError(f"give the derivation as text, not {type(text).__name__}")
    with time_limit(timeout, "checking the derivation"):
        return _check(text, goal, givens)


def _check(text: str, goal: str | None, setup: str) -> CheckResult:
    own = read_statements(text)
    before = read_statements(setup) if setup else []
    for s in before:
        s.line = 0  # the exercise's own lines are not the learner's
    statements = _merge_givens(before, own)
    problem, parsed = build(statements)
    claims = [p for p in parsed if p.statement.kind == "claim"]
    sizes = problem.size_symbols([e for p in claims for e in p.sides])
    lines: list[LineResult] = []
    first: Mistake | None = None
    for p in parsed:
        if p.statement.line == 0:
            continue
        if p.statement.kind == "given":
            lines.append(LineResult(p.statement.line, "given", None, None, p.statement.text))
            continue
        holds, how = True, "symbolic"
        for k in range(len(p.sides) - 1):
            for assignment in size_assignments(sizes):
                problem.sizes = assignment
                try:
                    verdict, a, b = _decide(problem, p.sides[k], p.sides[k + 1])
                except CheckInputError:
                    raise
                except InputError as exc:
                    raise CheckInputError(f"line {p.statement.line}: {exc}") from None
                if verdict.how == "numeric":
                    how = "numeric"
                if verdict.holds is not True:
                    holds = False
                    if first is None:
                        first = _explain(problem, p, k, a, b, verdict)
                    break
            problem.sizes = {}
            if not holds:
                break
        lines.append(LineResult(p.statement.line, "claim", holds, how if holds else None, p.statement.text))
    reached = _goal_reached(problem, claims, goal, lines) if goal else None
    ok = first is None and all(l.holds is not False for l in lines) and (reached is not False)
    return CheckResult(ok=ok, lines=lines, mistake=first, goal=goal, goal_reached=reached)


def _merge_givens(before: list[Statement], own: list[Statement]) -> list[Statement]:
    """The exercise's givens, then the learner's; a learner's given of the same name must agree (checked
    as a claim), so it is read as `NAME = EXPR`."""
    names = {s.sides[0].strip() for s in before if s.kind == "given"}
    out = list(before)
    for s in own:
        if s.kind == "given" and s.sides[0].strip() in names:
            out.append(Statement(s.line, s.text, "claim", s.sides, s.cols))
        else:
            out.append(s)
    return out


def _explain(problem: Problem, p: _Parsed, k: int, truth: sp.Expr, student: sp.Expr, verdict: Verdict) -> Mistake:
    left, right = p.sides[k], p.sides[k + 1]
    example = counterexample(truth, student) if verdict.holds is False else None
    case = Case(problem, left, right, truth, student)
    try:
        misconception, detail = diagnose(case) if verdict.holds is False else (BY_ID["other"], "")
    except InputError:
        misconception, detail = BY_ID["other"], ""
    goal_side = p.sides[0] if p.sides[0].has(Partial) else left
    goal_text = p.statement.sides[0] if goal_side is p.sides[0] else p.statement.sides[k]
    return Mistake(
        line=p.statement.line,
        left=p.statement.sides[k],
        right=p.statement.sides[k + 1],
        counterexample=example,
        misconception=misconception,
        detail=detail,
        suggestion=f"{goal_text} = {suggest(problem, goal_side)}",
        sizes={str(k): v for k, v in problem.sizes.items()},
    )


def suggest(problem: Problem, side: sp.Expr) -> str:
    """The line symnn writes for a side: each derivative by the chain rule through the givens, in their names."""
    sizes, problem.sizes = problem.sizes, {}  # in the learner's general form: n stays n
    try:
        return _suggest(problem, side)
    finally:
        problem.sizes = sizes


def _suggest(problem: Problem, side: sp.Expr) -> str:
    if side.has(Partial):
        value = side.replace(lambda e: isinstance(e, Partial), lambda e: problem.chain(*e.args))
    else:
        value = problem.unroll(side)
        value = value.xreplace({s: d for s in value.free_symbols if (d := problem.definition(s)) is not None})
    return readable(problem.in_given_names(tidy(value)))


def tidy(value: sp.Expr) -> sp.Expr:
    """Common factors taken out, inside each sum and around it (a sum's terms stay inside it)."""
    parts = {s: sp.factor_terms(s.function).as_coeff_Mul() for s in value.atoms(sp.Sum)}
    names = {s: sp.Dummy("S") for s in parts}
    outer = sp.factor_terms(value.xreplace({s: parts[s][0] * names[s] for s in parts}))
    return outer.xreplace({names[s]: sp.Sum(rest, *s.limits) for s, (_, rest) in parts.items()})


def readable(expr: sp.Expr) -> str:
    """expr as symnn's text printer writes it, in names `symnn check` reads back (step, not H)."""
    return _ReadablePrinter().doprint(expr).replace("**", "^").replace("*", "·")


class _ReadablePrinter(TextPrinter):
    def _print_Heaviside(self, e):
        return f"step({self._print(e.args[0])})"

    def _print_Sum(self, e):
        limits = ", ".join(f"({i}, {self._print(lo)}, {self._print(hi)})" for i, lo, hi in e.limits)
        return f"sum({self._print(e.function)}, {limits})"


def _goal_reached(problem: Problem, claims: list[_Parsed], goal: str, lines: list[LineResult]) -> bool:
    """Some claim, all of whose '=' hold, has the goal as a side (compared as expressions, so dC/db and ∂C/∂b agree)."""
    target = read_expression(goal, problem.names)
    holding = {l.line for l in lines if l.holds}
    for p in claims:
        if p.statement.line in holding and any(side == target for side in p.sides):
            return True
    return False
