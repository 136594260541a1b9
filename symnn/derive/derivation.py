"""Step, Goal and Derivation: an ordered list of justified equations, each checked by SymPy."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from symnn.derive import records
from symnn.errors import DerivationError
from symnn.parse import as_expr

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
    check: tuple | None = field(default=None, repr=False)  # (lhs, rhs) SymPy checks instead, e.g. components

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
    """What a derivation sets out to find: ∂(definition)/∂var. `name` is its printed form
    (∂L/∂W[p, q]); `key` is how code asks for its result (results["dW"]), the name when not given."""

    name: str
    definition: sp.Expr  # the quantity, fully written in the base variables
    var: sp.Expr  # or a tuple of variables: a higher derivative, by each in turn
    result: sp.Expr | None = None
    defs: dict = field(default_factory=dict, repr=False)
    key: str = ""
    shown: sp.Expr | None = None  # how the result prints, when not as `result` (in names the steps define)

    def __post_init__(self) -> None:
        self.key = self.key or self.name


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
    ordinary: bool = False  # a function of one variable: printers write d/dx, not ∂/∂x
    # (expr, var) -> (equation number, value): each sub-derivative found, cited when it recurs
    found: dict = field(default_factory=dict, repr=False, compare=False)

    # building -----------------------------------------------------------------
    def add(self, lhs, rhs, rule: str, note: str = "") -> Step:
        step = Step(as_expr(lhs), as_expr(rhs), rule, note)
        if step.is_definition and isinstance(step.lhs, (sp.Symbol, sp.Indexed)):
            self.defs[step.lhs] = step.rhs
        step.defs = dict(self.defs)
        self.steps.append(step)
        return step

    def goal(
        self, name: str, definition: sp.Expr, var: sp.Expr, result: sp.Expr, key: str = "", shown: sp.Expr | None = None
    ) -> Goal:
        g = Goal(name, definition, var, result, dict(self.defs), key, shown)
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
        """Each goal's result by its key."""
        return {g.key: g.result for g in self.goals}

    @property
    def equations(self) -> list[Step]:
        return [s for s in self.steps if not s.is_heading]

    # checking -----------------------------------------------------------------
    @staticmethod
    def expand(expr: sp.Expr, defs: dict, keep: sp.Expr | None = None) -> sp.Expr:
        """Write expr in the base variables: substitute every definition (except `keep`).

        Derivatives are left alone (a definition like δ = ∂C/∂z brings one in); `evaluate`
        computes them."""
        plain = {k: _fresh_bound(v) for k, v in defs.items() if k != keep and not isinstance(k, sp.Indexed)}
        # definitions of indexed quantities (yhat[r] = ...) apply to every index value; none of
        # a base that `keep` belongs to; the first one of each base
        keep_base = keep.base if isinstance(keep, sp.Indexed) else None
        indexed: dict = {}
        for lhs, rhs in defs.items():
            if isinstance(lhs, sp.Indexed) and lhs.base != keep_base:
                indexed.setdefault(lhs.base, (lhs.indices, rhs))
        limit = len(defs) + 2  # nested substitutions (a cycle of definitions stops there)

        def sub(e, depth: int):
            if depth > limit or isinstance(e, sp.Derivative):
                return e
            if e in plain:
                return sub(plain[e], depth + 1)
            if isinstance(e, sp.Indexed):  # x[r] is not the symbol x: its indices stay as they are
                if e.base not in indexed:
                    return e
                pattern, rhs = indexed[e.base]
                return sub(_fresh_bound(rhs).xreplace(dict(zip(pattern, e.indices))), depth + 1)
            if not e.args:
                return e
            args = [sub(a, depth) for a in e.args]
            return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e

        return sub(expr, 0)

    @classmethod
    def evaluate(cls, expr: sp.Expr, defs: dict, subs: dict | None = None) -> sp.Expr:
        """Evaluate every ∂f/∂v in expr through the definitions, then expand to base variables.

        With `subs` (concrete sizes and indices), sums are written out before differentiating,
        so the referee is plain differentiation of a finite expression."""

        def derivatives(e: sp.Expr, bound: frozenset = frozenset()) -> sp.Expr:
            if isinstance(e, sp.Derivative):
                out = derivatives(e.expr, bound)
                local = {k: v for k, v in (subs or {}).items() if k not in bound}
                for v, count in e.variable_count:
                    out = cls.expand(out, defs, keep=v)
                    if local:
                        out, v = instantiate(out, local), instantiate(v, local)
                    out = almost_everywhere(sp.diff(out, v, count))
                return out
            if isinstance(e, sp.Sum):
                inner = bound | {lim[0] for lim in e.limits}
                return sp.Sum(derivatives(e.function, inner), *e.limits)
            if not e.args or not e.has(sp.Derivative):
                return e
            return e.func(*[derivatives(a, bound) for a in e.args])

        for _ in range(len(defs) + 2):
            expr = cls.expand(derivatives(expr), defs)
            if not expr.has(sp.Derivative):
                break
        return expr

    def verify(self, cached: bool = True) -> "Derivation":
        """Check every step and every goal with SymPy; raise DerivationError naming a wrong step.

        A derivation that was verified before — the same steps, goals and check sizes, with
        the same symnn sources, SymPy and mpmath — is not checked again: its record (in the
        cache directory, verified/<hash>.json) gives every step's verified_by. Only a whole
        successful verification is recorded. cached=False checks regardless."""
        key = records.key(self) if cached else None
        if key is not None and self._from_record(key):
            return self
        rng = random.Random(0)
        seen: dict = {}  # the same side under the same definitions recurs (∂C/∂z^L_j, ...)

        def evaluate(expr, defs):
            k = (expr, tuple(defs.items()))
            if k not in seen:
                seen[k] = self.evaluate(expr, defs, self.check_subs)
            return seen[k]

        for n, step in enumerate(self.steps, 1):
            if step.is_heading or step.is_definition:
                continue
            lhs, rhs = step.check or (step.lhs, step.rhs)
            if isinstance(lhs, sp.MatrixBase):
                pairs = list(zip(lhs, rhs))
            else:
                pairs = [(lhs, rhs)]
            domain = _domain(lhs, step.defs) if not isinstance(lhs, sp.MatrixBase) else []
            hows = [
                equal(evaluate(l_, step.defs), evaluate(r_, step.defs), self.check_subs, rng, domain)
                for l_, r_ in pairs
            ]
            how = None if None in hows else max((h for h in hows if h is not None), key=len)
            if how is None:
                raise DerivationError(
                    f"step {n} of '{self.title}' does not hold: {sp.sstr(step.lhs)} = {sp.sstr(step.rhs)} ({step.rule})"
                )
            step.verified_by = how
        for goal in self.goals:
            if goal.result is None:
                raise DerivationError(f"'{self.title}' never reached a result for {goal.name}")
            order = goal.var if isinstance(goal.var, tuple) else (goal.var,)
            reference = almost_everywhere(sp.diff(goal.definition, *order))
            result = almost_everywhere(self.evaluate(goal.result, goal.defs))
            how = equal(result, reference, self.check_subs, rng, [goal.definition])
            if how is None:
                raise DerivationError(
                    f"the result for {goal.name} in '{self.title}' differs from sympy.diff: "
                    f"{sp.sstr(goal.result)} vs {sp.sstr(reference)}"
                )
        self.verified = True
        if key is not None:
            records.write(key, self)
        return self

    def _from_record(self, key: str) -> bool:
        hows = records.read(key)
        if hows is None or len(hows) != len(self.steps):
            return False
        for step, how in zip(self.steps, hows):
            checked = not (step.is_heading or step.is_definition)
            if checked != isinstance(how, str):
                return False
        for step, how in zip(self.steps, hows):
            step.verified_by = how
        self.verified = True
        return True

    # rendering ----------------------------------------------------------------
    def text(self, width: int = 80) -> str:
        from symnn.render.text import render

        return render(self, width)

    def latex(self, standalone: bool = False) -> str:
        from dataclasses import replace

        from symnn.render.latex import note_tex, render

        if "`" not in self.title:
            return render(self, standalone)
        mark = "SYMNNTITLEMARK"  # the title's `mathematics` set as math, as in the notes
        return render(replace(self, title=mark), standalone).replace(mark, note_tex(self.title), 1)

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


def _fresh_bound(expr):
    """Rename every summation index to a fresh one, so substituting cannot capture an index."""
    bound = {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits}
    return expr.xreplace({v: sp.Dummy(v.name, integer=True) for v in bound})


def instantiate(expr: sp.Expr, subs: dict) -> sp.Expr:
    """Put in the concrete sizes and indices and write every sum out."""
    bound = {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits}
    expr = unroll(expr.xreplace({k: v for k, v in subs.items() if k not in bound}))
    return unroll(expr.xreplace(subs))


def unroll(expr: sp.Expr) -> sp.Expr:
    """Write out every Σ whose bounds are numbers as a plain sum (much faster than Sum.doit)."""

    def concrete(e) -> bool:
        return isinstance(e, sp.Sum) and all(lo.is_Integer and hi.is_Integer for _, lo, hi in e.limits)

    def expand(s: sp.Sum) -> sp.Expr:
        terms = [s.function]
        for v, lo, hi in reversed(s.limits):
            terms = [t.xreplace({v: sp.Integer(n)}) for t in terms for n in range(int(lo), int(hi) + 1)]
        return sp.Add(*terms)

    return (
        expr.replace(concrete, expand).doit(deep=True)
        if expr.has(sp.Derivative, sp.Subs, sp.Integral)
        else expr.replace(concrete, expand)
    )


def _elementary(expr):
    from symnn.ops.functions import elementary

    return elementary(expr)


# where random points are drawn: mixed signs (so |x| ≠ x shows), then for functions defined only
# for small positive values (ln, √), then beyond ±1 (acosh, asec, acoth)
_RANGES = (*[(-1.5, 1.5)] * 5, (0.15, 0.85), *[(1.05, 2.5)] * 3, *[(-2.5, -1.05)] * 3)


def _at_random_point(f, n: int, rng: random.Random, checked: int | None = None):
    """f's values at a random point, all finite and real; None if there is none. With `checked`,
    only the first `checked` values must be: the others are the functions whose derivatives are
    compared, real where possible (acosh' is compared where acosh is real, x > 1), else at the
    first point where the compared values are."""
    import mpmath

    fallback = None
    for attempt, (lo, hi) in enumerate(_RANGES):
        if attempt == 6 and checked is None:
            break  # the later ranges serve the domain only: the same draws as without one
        point = [mpmath.mpf(rng.uniform(lo, hi)) for _ in range(n)]
        if attempt < 5 and any(abs(v) < 0.05 for v in point):
            continue  # away from kinks at 0
        try:
            values = [_real(v) for v in f(*point)]
        except (ZeroDivisionError, ValueError, TypeError):
            continue
        if all(v is not None and mpmath.isfinite(v) for v in values):
            return values
        if (
            fallback is None
            and checked is not None
            and all(v is not None and mpmath.isfinite(v) for v in values[:checked])
        ):
            fallback = values
    return fallback


def _real(v):
    """v as a real mpf, or None outside the real domain."""
    import mpmath

    v = mpmath.mpmathify(v)
    if isinstance(v, mpmath.mpc):
        return v.real if abs(v.imag) <= 1e-20 * max(1, abs(v.real)) else None
    return v


def almost_everywhere(expr: sp.Expr) -> sp.Expr:
    """The derivative away from jumps: δ(u) → 0, d floor/ceiling → 0 (as PyTorch's gradients)."""
    if not expr.has(sp.DiracDelta, sp.Derivative):
        return expr
    return expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero).replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, (sp.floor, sp.ceiling)), lambda e: sp.S.Zero
    )


SIMPLIFY_OPS = 120
SLOW_TO_SIMPLIFY = (
    sp.functions.elementary.trigonometric.TrigonometricFunction,
    sp.functions.elementary.trigonometric.InverseTrigonometricFunction,
    sp.functions.elementary.hyperbolic.HyperbolicFunction,
)  # sp.simplify is tried below this many operations; larger differences go numeric
# |u|, sign and Piecewise: cancel and simplify take seconds per step on them (measured in the
# commit that brought in this tuple, 191ac5e); the numeric check decides at once
NOT_SMOOTH = (sp.Abs, sp.sign, sp.Piecewise, sp.Max, sp.Min, sp.Heaviside)


_HEAVISIDE = lambda u, h=0.5: 1 if u > 0 else 0 if u < 0 else h  # noqa: E731


def _domain(lhs: sp.Expr, defs: dict) -> list:
    """The functions a step's left side differentiates, in the base variables: its derivatives are
    compared where these are real."""
    return [Derivation.expand(d.expr, defs) for d in lhs.atoms(sp.Derivative)]


def _comparable(domain, diff: sp.Expr, subs: dict) -> list:
    """The domain's functions that the numeric check can evaluate with diff's variables: written
    out like diff, with no derivative or symbolic sum left and no variable diff lacks."""
    out = []
    variables = diff.free_symbols | diff.atoms(sp.Indexed)
    for e in domain:
        e = _elementary(instantiate(e, subs) if subs else unroll(e))
        if e.is_number or e.has(sp.Derivative, sp.Sum, sp.Integral):
            continue
        if (e.free_symbols | e.atoms(sp.Indexed)) <= variables:
            out.append(e)
    return out


def equal(a: sp.Expr, b: sp.Expr, subs: dict, rng: random.Random, domain: list | tuple = ()) -> str | None:
    """How SymPy confirms a == b ('symbolic' or 'numeric ...'), or None when they differ.

    The sums are written out while σ, step and ReLU are still single nodes; they are rewritten
    into exp and Piecewise only for a difference small enough to simplify. A large difference is
    evaluated as it stands, with those functions lambdified from their elementary forms
    (rewriting first would make SymPy build, and re-examine, exp(−u) of every big u)."""
    diff = as_expr(a) - as_expr(b)
    diff = instantiate(diff, subs) if subs else unroll(diff)
    if diff == 0:
        return "symbolic"
    if sp.count_ops(diff) < SIMPLIFY_OPS:  # the elementary form has at least as many operations
        diff = _elementary(diff)
        if diff == 0:
            return "symbolic"
        if sp.count_ops(diff) < SIMPLIFY_OPS and not diff.has(*NOT_SMOOTH):
            try:
                if sp.cancel(sp.expand(diff)) == 0:
                    return "symbolic (simplify)"
                # u^(γ−1)·u = u^γ: symbolic exponents split or joined, so that cancel sees one u^γ
                symbolic_powers = any(not p.exp.is_number for p in diff.atoms(sp.Pow))
                if symbolic_powers and (
                    sp.cancel(sp.expand(sp.expand_power_exp(diff))) == 0
                    or sp.cancel(sp.expand(sp.powsimp(sp.expand(diff)))) == 0
                ):
                    return "symbolic (simplify)"
                # simplify can take minutes on trigonometric identities (sec² = 1 + tan²) and
                # seconds on symbolic exponents: those go to the numeric check
                if not (symbolic_powers or diff.has(*SLOW_TO_SIMPLIFY)) and sp.simplify(diff) == 0:
                    return "symbolic (simplify)"
            except Exception:  # simplify may give up on exotic forms; the numeric check decides
                pass
    if diff.has(sp.Sum):
        return None  # a sum left with symbolic bounds: nothing concrete to compare
    domain = _comparable(domain, diff, subs)
    atoms = sorted(diff.atoms(sp.Indexed), key=str) + sorted(diff.free_symbols, key=str)
    # plain, safe argument names: lambdify would rename Dummy arguments one by one, walking
    # the whole expression each time
    names = [sp.Symbol(f"_v{n}") for n in range(len(atoms))]
    plain = diff.xreplace(dict(zip(atoms, names)))
    if plain.free_symbols - set(names):
        return None
    domain = [e.xreplace(dict(zip(atoms, names))) for e in domain]
    import mpmath

    from symnn.ops.functions import mpmath_functions

    # H(u) (H(0) = ½ unless given) under a name of its own: the code printer would rewrite it
    # into a Piecewise and simplify its conditions, seconds for each H of max(x², 1 + x, 1)'
    dirac = {"DiracDelta": lambda x: mpmath.inf if x == 0 else mpmath.mpf(0), "heaviside_": _HEAVISIDE}
    plain = plain.replace(sp.Heaviside, lambda *a: sp.Function("heaviside_")(*a))
    domain = [e.replace(sp.Heaviside, lambda *a: sp.Function("heaviside_")(*a)) for e in domain]
    # the size of the terms, so a difference is judged relative to them (e^tan(2x) is huge)
    # (unevaluated: Abs of a big term would ask SymPy for its sign, minutes on a batch sum)
    scale = sp.Add(*[sp.Abs(t, evaluate=False) for t in sp.Add.make_args(plain)], evaluate=False)
    f = sp.lambdify(names, (plain, scale, *domain), [dirac, mpmath_functions(), "mpmath"])
    with mpmath.workdps(30):
        for _ in range(4):
            value = _at_random_point(f, len(names), rng, checked=2 if domain else None)
            if value is None or abs(value[0]) > 1e-20 * max(1, value[1]):
                return None
    return "numeric (4 random points, 30 digits)"
