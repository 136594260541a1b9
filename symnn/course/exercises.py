"""The course's exercises: declared in the lesson files, graded by `symnn check --exercise ID`.

A lesson states an exercise with `lesson.exercise(prompt, goal, givens)`: the task in words,
the derivative to find in `symnn check`'s notation (e.g. "dC/db") and the set-up it starts from
(`given` lines). Exercise N.k is the k-th of lesson N. They are read from the lesson files'
syntax tree (ast), without running them, so grading one takes no lesson's time; the worked
solution is symnn's own, each line checked before it is printed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from symnn.errors import InputError, UnknownNameError, unknown


@dataclass(frozen=True)
class Exercise:
    id: str  # "2.1": lesson 2, its first exercise
    prompt: str
    goal: str  # the derivative to find, e.g. "dC/db"
    givens: str  # the set-up: `given NAME = EXPR` lines

    def solution(self) -> list[str]:
        """symnn's worked solution: the chain of derivatives through the givens, then the result."""
        return worked_solution(self.givens, self.goal)


FIELDS = ("prompt", "goal", "givens")


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def exercise_calls(source: str, where: str) -> list[tuple[str, str, str]]:
    """The (prompt, goal, givens) of each `lesson.exercise(...)` in a lesson's source, in order."""
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exercise"
    ]
    out = []
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        nodes = dict(zip(FIELDS, node.args)) | {k.arg: k.value for k in node.keywords if k.arg in FIELDS}
        values = [_literal(nodes.get(k)) for k in FIELDS]
        prompt, goal, givens = values
        if prompt is None or goal is None or givens is None:
            raise InputError(
                f"{where}, line {node.lineno}: lesson.exercise(prompt, goal, givens) takes three literal strings"
            )
        out.append((prompt, goal, givens))
    return out


@lru_cache(maxsize=4)
def all_exercises(folder: str | None = None) -> tuple[Exercise, ...]:
    """Every exercise of the lessons in `folder` (default: the shipped lessons), in lesson order."""
    from symnn.course.book import available_lessons

    found = []
    for lf in available_lessons(folder):
        calls = exercise_calls(lf.path.read_text(encoding="utf-8"), lf.path.name)
        found += [Exercise(f"{lf.number}.{k}", *call) for k, call in enumerate(calls, 1)]
    return tuple(found)


def find(exercise_id: str, folder: str | None = None) -> Exercise:
    """Exercise `exercise_id` ("2.1"), or an UnknownNameError listing those there are."""
    exercises = all_exercises(folder)
    for ex in exercises:
        if ex.id == str(exercise_id).strip():
            return ex
    raise unknown("exercise", exercise_id, [ex.id for ex in exercises])


def worked_solution(givens: str, goal: str) -> list[str]:
    """Lines in `symnn check` notation: each link of the chain rule, then the goal as a product of
    them and its value; every line holds (checked here, so a wrong solution is never printed)."""
    import sympy as sp

    from symnn.checking import check
    from symnn.checking.checker import build, readable, suggest, tidy
    from symnn.checking.notation import Partial, read_expression
    from symnn.checking.statements import read_statements

    problem, _ = build(read_statements(givens))
    target = read_expression(goal, problem.names)
    if not isinstance(target, Partial):
        raise InputError(f"an exercise's goal is a derivative such as dC/db, not {goal!r}")
    expr, var = target.args
    lines = []
    path = _chain(problem, expr, var)
    if path and len(path) > 1:
        links = [f"d{a}/d{b}" for a, b in path]
        for (a, b), link in zip(path, links):
            local = sp.diff(problem.defs[a], b)
            lines.append(f"{link} = {readable(problem.in_given_names(tidy(local)))}")
        lines.append(f"{goal} = {' · '.join(links)} = {suggest(problem, target)}")
    else:
        lines.append(f"{goal} = {suggest(problem, target)}")
    result = check("\n".join(lines), givens=givens, goal=goal, timeout=None)
    if not result.ok:  # symnn's own solution must hold; say so loudly rather than print it
        raise InputError(f"symnn's solution of {goal} does not check: {result.explanation()}")
    return lines


def _chain(problem, expr, var) -> list[tuple[object, object]] | None:
    """The links (C, ŷ), (ŷ, z), (z, b) when expr reaches var through exactly one given at each step."""
    import sympy as sp

    if not isinstance(expr, sp.Symbol) or expr not in problem.defs:
        return None
    path, node = [], expr
    while node != var:
        d = problem.defs.get(node)
        if d is None:
            return None
        nxt = [
            g
            for g in d.free_symbols
            if g == var or (g in problem.defs and problem.expand(g, frozenset({var})).has(var))
        ]
        if len(nxt) != 1:
            return None
        path.append((node, nxt[0]))
        node = nxt[0]
    return path


def _reaches(problem, g, var) -> bool:
    return problem.expand(g, frozenset({var})).has(var)


__all__ = ["Exercise", "all_exercises", "find", "worked_solution", "UnknownNameError"]
