"""Step, Goal and Derivation: an ordered list of justified equations, each checked by SymPy."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from symnn.errors import DerivationError

# Rules a step may cite, printed in the justification column.
DEFINITION, HEADING = "definition", "heading"


@dataclass
class Step:
    """One line of the derivation: lhs = rhs, the rule that justifies it and a plain note."""
    lhs: sp.Expr
    rhs: sp.Expr
    rule: str
    note: str = ""
    verified_by: str | None = None
    defs: dict = field(default_factory=dict, repr=False)  # definitions in force at this step

    @property
    def is_definition(self) -> bool:
        return self.rule == DEFINITION

    @property
    def is_heading(self) -> bool:
        return self.rule == HEADING


def heading(text: str) -> Step:
    return Step(sp.S.Zero, sp.S.Zero, HEADING, text)


@dataclass
class Goal:
    """What a derivation sets out to find: ∂(definition)/∂var, with a name for its result."""
    name: str
    definition: sp.Expr  # the quantity, fully written in the base variables
    var: sp.Expr
    result: sp.Expr | None = None
    defs: dict = field(default_factory=dict, repr=False)


@dataclass
class Derivation:
    title: str
    steps: list[Step] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    defs: dict[sp.Expr, sp.Expr] = field(default_factory=dict)  # intermediate symbol -> its definition
    check_subs: dict[sp.Expr, sp.Expr] = field(default_factory=dict)  # concrete sizes for Σ checks
    intro: str = ""
    references: list[str] = field(default_factory=list)
    verified: bool = False

    # building -----------------------------------------------------------------
    def add(self, lhs, rhs, rule: str, note: str = "") -> Step:
        step = Step(sp.sympify(lhs), sp.sympify(rhs), rule, note)
        if step.is_definition and isinstance(step.lhs, (sp.Symbol, sp.Indexed)):
            self.defs[step.lhs] = step.rhs
        step.defs = dict(self.defs)
        self.steps.append(step)
        return step

    def goal(self, name: str, definition: sp.Expr, var: sp.Expr, result: sp.Expr) -> Goal:
        g = Goal(name, definition, var, result, dict(self.defs))
        self.goals.append(g)
        return g

    def section(self, text: str) -> None:
        self.steps.append(heading(text))

    # results ------------------------------------------------------------------
    @property
    def result(self) -> sp.Expr:
        """The final expression (of the first goal): what code generation compiles."""
        if self.goals and self.goals[0].result is not None:
            return self.goals[0].result
        eqs = [s for s in self.steps if not s.is_heading]
        return eqs[-1].rhs

    @property
    def results(self) -> dict[str, sp.Expr]:
        return {g.name: g.result for g in self.goals}

    @property
    def equations(self) -> list[Step]:
        return [s for s in self.steps if not s.is_heading]

    # checking -----------------------------------------------------------------
    @staticmethod
    def expand(expr: sp.Expr, defs: dict, keep: sp.Expr | None = None) -> sp.Expr:
        """Write expr in the base variables: substitute every definition (except `keep`)."""
        for _ in range(len(defs) + 2):
            new = expr.xreplace({k: v for k, v in defs.items() if k != keep})
            new = _subs_indexed_defs(new, defs, keep)
            if new == expr:
                break
            expr = new
        return expr

    @classmethod
    def evaluate(cls, expr: sp.Expr, defs: dict) -> sp.Expr:
        """Evaluate every ∂f/∂v in expr through the definitions, then expand to base variables."""
        def derivatives(e: sp.Expr) -> sp.Expr:
            def do(d: sp.Derivative) -> sp.Expr:
                out = derivatives(d.expr)
                for v, count in d.variable_count:
                    out = sp.diff(cls.expand(out, defs, keep=v), v, count)
                return out
            return e.replace(lambda x: isinstance(x, sp.Derivative), do)
        return cls.expand(derivatives(expr), defs)

    def verify(self) -> "Derivation":
        """Check every step and every goal with SymPy; raise DerivationError naming a wrong step."""
        rng = random.Random(0)
        for n, step in enumerate(self.steps, 1):
            if step.is_heading or step.is_definition:
                continue
            how = equal(self.evaluate(step.lhs, step.defs), self.evaluate(step.rhs, step.defs),
                        self.check_subs, rng)
            if how is None:
                raise DerivationError(
                    f"step {n} of '{self.title}' does not hold: {sp.sstr(step.lhs)} = "
                    f"{sp.sstr(step.rhs)} ({step.rule})")
            step.verified_by = how
        for goal in self.goals:
            if goal.result is None:
                raise DerivationError(f"'{self.title}' never reached a result for {goal.name}")
            reference = sp.diff(goal.definition, goal.var)
            how = equal(self.evaluate(goal.result, goal.defs), reference, self.check_subs, rng)
            if how is None:
                raise DerivationError(
                    f"the result for {goal.name} in '{self.title}' differs from sympy.diff: "
                    f"{sp.sstr(goal.result)} vs {sp.sstr(reference)}")
        self.verified = True
        return self

    # rendering ----------------------------------------------------------------
    def text(self, width: int = 80) -> str:
        from symnn.render.text import render
        return render(self, width)

    def latex(self, standalone: bool = False) -> str:
        from symnn.render.latex import render
        return render(self, standalone)

    def markdown(self) -> str:
        from symnn.render.markdown import render
        return render(self)

    def _repr_latex_(self) -> str:
        from symnn.render.latex import render_body
        return render_body(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.text()


def _subs_indexed_defs(expr, defs, keep):
    """Definitions of indexed quantities (yhat[r] = ...) apply to every index value."""
    for lhs, rhs in defs.items():
        if lhs == keep or not isinstance(lhs, sp.Indexed):
            continue
        pattern = lhs.indices

        def repl(e, lhs=lhs, rhs=rhs, pattern=pattern):
            return rhs.xreplace(dict(zip(pattern, e.indices)))
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == lhs.base
                            and e != keep, repl)
    return expr


def _elementary(expr):
    from symnn.ops.activations import elementary
    return elementary(expr)


def equal(a: sp.Expr, b: sp.Expr, subs: dict, rng: random.Random) -> str | None:
    """How SymPy confirms a == b ('symbolic' or 'numeric ...'), or None when they differ."""
    diff = _elementary(sp.sympify(a) - sp.sympify(b))
    if subs:
        diff = diff.subs(subs).doit().subs(subs)
    diff = diff.doit()
    if diff == 0:
        return "symbolic"
    if sp.count_ops(diff) < 120:
        try:
            if sp.simplify(diff) == 0:
                return "symbolic (simplify)"
        except Exception:  # simplify may give up on exotic forms; the numeric check decides
            pass
    free = sorted(diff.free_symbols, key=str)
    indexed = sorted(diff.atoms(sp.Indexed), key=str)
    for _ in range(4):
        point = {s: sp.Float(rng.uniform(0.15, 0.85), 30) for s in (*indexed, *free)}
        value = diff.xreplace(point).evalf(30)
        value = value.doit().evalf(30) if value.has(sp.Sum) else value
        if not value.is_number:
            return None
        if value.has(sp.nan, sp.zoo) or abs(complex(value)) > 1e-20:
            return None
    return "numeric (4 random points, 30 digits)"
