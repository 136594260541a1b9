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

    def validate(self, where: str) -> None:
        """The set-up and the goal read as `symnn check` reads them (ASCII, so they print verbatim)."""
        from symnn.checking.checker import build
        from symnn.checking.notation import Partial, read_expression
        from symnn.checking.statements import read_statements

        if not (self.goal + self.givens).isascii():
            raise InputError(f"{where}: exercise {self.id}'s goal and givens must be ASCII (they print verbatim)")
        statements = read_statements(self.givens)
        if any(s.kind != "given" for s in statements):
            raise InputError(f"{where}: exercise {self.id}'s set-up holds only `given NAME = EXPR` lines")
        problem, _ = build(statements)
        if not isinstance(read_expression(self.goal, problem.names), Partial):
            raise InputError(f"{where}: exercise {self.id}'s goal is a derivative such as dC/db, not {self.goal!r}")

    def check_hint(self) -> str:
        return f"symnn check --exercise {self.id} FILE"


FIELDS = ("prompt", "goal", "givens")


def _literal(node: ast.expr | None, names: dict[str, str]) -> str | None:
    """A string literal, or the name of a module-level string constant (SETUP = \"\"\"...\"\"\")."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _constants(tree: ast.Module) -> dict[str, str]:
    """NAME = "text" at the top level of a lesson file (later assignments win, as when it runs)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return out


def exercise_calls(source: str, where: str) -> list[tuple[str, str, str]]:
    """The (prompt, goal, givens) of each `lesson.exercise(...)` in a lesson's source, in order."""
    tree = ast.parse(source)
    constants = _constants(tree)
    calls = [
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exercise"
    ]
    out = []
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        nodes = dict(zip(FIELDS, node.args)) | {k.arg: k.value for k in node.keywords if k.arg in FIELDS}
        values = [_literal(nodes.get(k), constants) for k in FIELDS]
        prompt, goal, givens = values
        if prompt is None or goal is None or givens is None:
            raise InputError(
                f"{where}, line {node.lineno}: lesson.exercise(prompt, goal, givens) takes three strings "
                "(literals or module-level constants)"
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
    return list(_worked_solution(givens, goal))


@lru_cache(maxsize=64)  # the book's appendix and solutions.md ask for each solution
def _worked_solution(givens: str, goal: str) -> tuple[str, ...]:
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
    return tuple(lines)


def _chain(problem, expr, var) -> list[tuple[object, object]] | None:
    """The links (C, ŷ), (ŷ, z), (z, b) when expr reaches var through exactly one given at each step."""
    import sympy as sp

    if not isinstance(expr, sp.Symbol) or expr not in problem.defs:
        return None
    path, node = [], expr
    while node != var:
        d = problem.defs.get(node)
        if d is None or d.has(sp.Sum):  # a sum's terms each have their own chain: the result alone
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


def exercises_text(exercises: list[Exercise]) -> str:
    out = ["Exercises"]
    for ex in exercises:
        out.append(f"  Exercise {ex.id}. {ex.prompt} Find {ex.goal}, starting from:")
        out += [f"      {line}" for line in ex.givens.strip().splitlines()]
        out.append(f"    Check your answer: {ex.check_hint()}")
    return "\n".join(out)


def exercises_markdown(exercises: list[Exercise]) -> str:
    out = ["## Exercises"]
    for ex in exercises:
        out.append(f"**Exercise {ex.id}.** {ex.prompt} Find `{ex.goal}`, starting from:")
        out.append("```\n" + ex.givens.strip() + "\n```")
        out.append(f"Check your answer: `{ex.check_hint()}` (a worked solution is in solutions.md).")
    return "\n\n".join(out)


def exercises_latex(exercises: list[Exercise], where: str) -> str:
    from symnn.course import prose

    items = []
    for ex in exercises:
        items.append(
            f"\\item[Exercise {ex.id}.] {prose.inline_latex(ex.prompt, where)} Find \\verb|{ex.goal}|, "
            f"starting from\n\\begin{{verbatim}}\n{ex.givens.strip()}\n\\end{{verbatim}}\n"
            f"\\noindent Check your answer with \\verb|{ex.check_hint()}|; "
            f"a worked solution is on page~\\pageref{{solution:{ex.id}}}."
        )
    return "\\section*{Exercises}\n\\begin{description}\n" + "\n".join(items) + "\n\\end{description}"


def solution_rows(ex: Exercise) -> list[list[object]]:
    """Each line of the worked solution as its sides, parsed (for typesetting)."""
    from symnn.checking.checker import build
    from symnn.checking.notation import read_expression
    from symnn.checking.statements import read_statements

    problem, _ = build(read_statements(ex.givens))
    rows = []
    for s in read_statements("\n".join(ex.solution())):
        rows.append([read_expression(side, problem.names) for side in s.sides])
    return rows


def solutions_latex(exercises: list[Exercise]) -> str:
    """The appendix: each exercise's worked solution, typeset as an align* block."""
    from symnn.course import prose
    from symnn.render.latex import tex

    parts = [
        "\\appendix\n\\chapter{Worked solutions}\\label{solutions}",
        "Every solution below is symnn's own: derived through the chain rule, each line checked by "
        "\\texttt{symnn check} before it was printed.",
    ]
    for ex in exercises:
        rows = [f"{tex(r[0])} &= " + " = ".join(tex(e) for e in r[1:]) for r in solution_rows(ex)]
        parts.append(
            f"\\section*{{Exercise {ex.id}}}\\label{{solution:{ex.id}}}\n"
            f"{prose.inline_latex(ex.prompt, f'exercise {ex.id}')}\n"
            "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"
        )
    return "\n\n".join(parts)


def solutions_markdown(exercises: list[Exercise]) -> str:
    from symnn.outputs import TAG

    parts = [f"<!-- {TAG} -->\n# Worked solutions"]
    for ex in exercises:
        parts.append(f"## Exercise {ex.id}\n\n{ex.prompt}\n\n```\n" + "\n".join(ex.solution()) + "\n```")
    return "\n\n".join(parts) + "\n"


def _reaches(problem, g, var) -> bool:
    return problem.expand(g, frozenset({var})).has(var)


__all__ = ["Exercise", "all_exercises", "find", "worked_solution", "UnknownNameError"]
