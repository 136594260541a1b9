"""The catalogue of likely misconceptions, each recognised by a repair that makes the wrong line hold.

A record has an id, a title, advice for the learner, and `repairs(case)`: candidate right sides,
each the learner's line with one typical mistake undone (the σ' factor multiplied in, the sign
flipped, the kernel rotated ...). The first record whose repair agrees with the truth is the
diagnosis; none gives `other`. Nothing here matches text: every test is a numeric comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symnn.checking.compare import Sides, agree
from symnn.checking.notation import Partial
from symnn.checking.problem import Problem

ACTIVATIONS = frozenset({"sigmoid", "tanh", "relu", "leaky_relu", "step", "erf"})


@dataclass
class Case:
    """One wrong '=': the truth (left side, expanded) and the learner's right side."""

    problem: Problem
    left: sp.Expr  # as parsed (derivatives as Partial)
    right: sp.Expr
    truth: sp.Expr  # fully expanded
    student: sp.Expr

    def partials(self) -> list[tuple[sp.Expr, sp.Symbol]]:
        return [tuple(p.args) for p in self.left.atoms(Partial)]

    def named(self, e: sp.Expr) -> str:
        from symnn.render.text import show

        return show(self.problem.in_given_names(e))


Repair = tuple[sp.Expr, str]  # a repaired right side (expanded) and what the repair did


@dataclass(frozen=True)
class Misconception:
    id: str
    title: str
    advice: str
    repairs: Callable[[Case], Iterator[Repair]]


def _applications(case: Case) -> Iterator[tuple[sp.Expr, sp.Expr, sp.Symbol, sp.Expr]]:
    """(f(u), u, v, down) for each function or power applied to a u that depends on v, in each
    differentiated expression expanded down to v."""
    for expr, var in case.partials():
        down = case.problem.expand(expr, frozenset({var}))
        for e in sp.preorder_traversal(down):
            if isinstance(e, sp.Function) and len(e.args) == 1 and e.args[0].has(var):
                yield e, e.args[0], var, down
            elif isinstance(e, sp.Pow) and e.base.has(var) and not e.exp.has(var):
                yield e, e.base, var, down


def _activation_factor(case: Case) -> Iterator[Repair]:
    for e, u, _, _ in _applications(case):
        if isinstance(e, sp.Function) and type(e).__name__ in ACTIVATIONS:
            t = sp.Dummy("t", real=True)
            factor = sp.diff(type(e)(t), t).xreplace({t: u})
            name = type(e).__name__
            full = case.problem.full(factor)
            yield case.student * full, f"the factor {name}'({case.named(u)}) is missing"
            yield (
                case.student * full / case.problem.full(e),
                f"{name}({case.named(u)}) is written where {name}'({case.named(u)}) belongs",
            )


def _inner_factor(case: Case) -> Iterator[Repair]:
    for _, u, var, _ in _applications(case):
        inner = case.problem.full(case.problem.derivative(u, var))
        if not (inner.is_number and abs(inner) in (0, 1)):  # an inner -1 is the sign rule's case
            yield case.student * inner, f"the inner derivative d({case.named(u)})/d{var} is missing"


def _product_term(case: Case) -> Iterator[Repair]:
    for expr, var in case.partials():
        down = case.problem.expand(expr, frozenset({var}))
        for m in sp.preorder_traversal(down):
            if not isinstance(m, sp.Mul):
                continue
            factors = [f for f in m.args if f.has(var)]
            if len(factors) < 2:
                continue
            for k, f in enumerate(m.args):
                if not f.has(var):
                    continue
                c = sp.Dummy("c")
                frozen = down.xreplace({m: sp.Mul(*(c if i == k else g for i, g in enumerate(m.args)))})
                partial = case.problem.full(sp.diff(frozen, var).xreplace({c: f}))
                missing = case.truth - partial
                yield case.student + missing, f"the term with d({case.named(f)})/d{var} of the product rule is missing"


def _softmax_diagonal(case: Case) -> Iterator[Repair]:
    outputs = {name: arg for name, (arg, _) in case.problem.softmax_outputs().items()}
    if not outputs:
        return
    for expr, var in case.partials():
        keep = frozenset({var, *outputs})
        down = case.problem.expand(expr, keep)
        diagonal = sp.diff(down, var)
        for s, arg in outputs.items():
            if down.has(s) and case.problem.full(arg).has(var):
                diagonal += sp.diff(down, s) * case.problem.derivative(s, var)
        missing = case.truth - case.problem.full(diagonal)
        yield (case.student + missing, f"the terms through the other outputs' dependence on {var} are left out")


_GRID = re.compile(r"^(.+?)_?(\d)_?(\d)$")


def _rotations(symbols: set) -> Iterator[tuple[str, dict]]:
    """For each 2-D family of names (k_11 ... k_33), the map that rotates it by 180°."""
    groups: dict[tuple[str, bool], dict[tuple[int, int], sp.Symbol]] = {}
    for s in symbols:
        m = _GRID.match(s.name) if isinstance(s, sp.Symbol) else None
        if m:
            groups.setdefault((m.group(1), "_" in s.name[len(m.group(1)) + 1 :]), {})[
                (int(m.group(2)), int(m.group(3)))
            ] = s
    for (stem, _), cells in groups.items():
        rows = sorted({i for i, _ in cells})
        cols = sorted({j for _, j in cells})
        if len(cells) < 4 or len(cells) != len(rows) * len(cols):
            continue
        lo_i, hi_i, lo_j, hi_j = rows[0], rows[-1], cols[0], cols[-1]
        rot = {
            s: cells[(lo_i + hi_i - i, lo_j + hi_j - j)]
            for (i, j), s in cells.items()
            if (lo_i + hi_i - i, lo_j + hi_j - j) in cells
        }
        if len(rot) == len(cells):
            yield stem.rstrip("_"), rot


def _flipped_kernel(case: Case) -> Iterator[Repair]:
    names = set().union(*(d.free_symbols for d in case.problem.defs.values()), case.student.free_symbols)
    for stem, rot in _rotations(names | case.truth.free_symbols):
        yield case.student.xreplace(rot), f"{stem} is used as written where the backward pass needs it rotated by 180°"


def _sign(case: Case) -> Iterator[Repair]:
    yield -case.student, "the whole right side has the wrong sign"
    terms = sp.Add.make_args(sp.expand(case.problem.expand(case.right, frozenset(case.problem.defs))))
    if len(terms) > 1:
        for t in terms:
            yield case.student - 2 * case.problem.full(t), f"the term {case.named(t)} has the wrong sign"


def _constant_ratio(case: Case) -> Fraction | None:
    """truth/student when it is a simple constant (2, 1/2, 1/n at the n being checked ...)."""
    import random

    import mpmath

    if case.student == 0:
        return None
    sides = Sides(case.truth, case.student)
    rng = random.Random(3)
    ratios = set()
    with mpmath.workdps(30):
        for _ in range(30):
            at = sides.at([mpmath.mpf(rng.uniform(-1.5, 1.5)) for _ in range(sides.n)], 1e-6)
            if at is None or abs(at[1]) <= 1e-10:
                continue
            ratios.add(mpmath.nstr(at[0] / at[1], 12))
            if len(ratios) > 1:
                return None
    if len(ratios) != 1:
        return None
    ratio = float(ratios.pop())
    c = Fraction(ratio).limit_denominator(24)
    return c if c not in (1, -1, 0) and abs(float(c) - ratio) < 1e-9 else None  # a simple fraction, not √2/2


def _factor(case: Case) -> Iterator[Repair]:
    c = _constant_ratio(case)
    if c is None:
        return
    sizes = {v: s for s, v in case.problem.sizes.items()}
    if c.denominator in sizes and c.numerator == 1:
        what = f"a factor 1/{sizes[c.denominator]} is missing"
    elif c.denominator == 1 and c.numerator in sizes:
        what = f"a factor {sizes[c.numerator]} is missing (or a 1/{sizes[c.numerator]} too many)"
    elif abs(c) > 1:
        what = f"a factor {c} is missing"
    else:
        what = f"a factor {1 / c} is too many"
    yield case.student * sp.Rational(c.numerator, c.denominator), what


def _variable(case: Case) -> Iterator[Repair]:
    problem = case.problem
    written = sorted(case.right.free_symbols, key=str)
    known = sorted(case.truth.free_symbols | set(problem.defs) | case.right.free_symbols, key=str)

    def related(a, b) -> bool:
        sa, sb = a.name.split("_"), b.name.split("_")
        return sa[0] == sb[0] or len(sa) == len(sb)

    tried = 0
    for a in written:
        for b in known:
            if a == b or not related(a, b) or tried > 80:
                continue
            tried += 1
            yield problem.full(case.right.xreplace({a: b})), f"{b} is meant where the line has {a}"
            yield problem.full(case.right.xreplace({a: b, b: a})), f"{a} and {b} are swapped"


CATALOGUE: tuple[Misconception, ...] = (
    Misconception(
        "missing-activation-derivative",
        "the activation's derivative is missing",
        "By the chain rule, going back through ŷ = φ(z) multiplies by φ'(z) (for σ: σ(z)(1 − σ(z))).",
        _activation_factor,
    ),
    Misconception(
        "missing-inner-derivative",
        "the chain rule's inner derivative is missing",
        "d/dx f(u) = f'(u) · du/dx: after the outer derivative, multiply by the derivative of what is inside.",
        _inner_factor,
    ),
    Misconception(
        "product-rule",
        "one term of the product rule is missing",
        "(u v)' = u' v + u v': both factors depend on the variable, so both terms appear.",
        _product_term,
    ),
    Misconception(
        "softmax-diagonal-only",
        "the softmax Jacobian's off-diagonal terms are dropped",
        "Every softmax output depends on every z_j: ∂ŷ_k/∂z_j = ŷ_k([k = j] − ŷ_j), so sum over all k.",
        _softmax_diagonal,
    ),
    Misconception(
        "kernel-not-flipped",
        "convolution and cross-correlation are mixed up",
        "The input gradient of a cross-correlation is a full convolution with the kernel rotated by 180°.",
        _flipped_kernel,
    ),
    Misconception(
        "sign-error",
        "a sign is wrong",
        "Check each minus sign: d/dŷ ½(ŷ − y)² = ŷ − y, and d/dz e^(−z) = −e^(−z).",
        _sign,
    ),
    Misconception(
        "lost-factor",
        "a constant factor is missing or extra",
        "Constants stay: d/dx ½u² = u u' (the ½ cancels the 2), and a mean keeps its 1/n.",
        _factor,
    ),
    Misconception(
        "wrong-variable",
        "a different variable or index is used",
        "Check each name and index against the variable you differentiate by (x_1 for w_1, not x_2 or w_1).",
        _variable,
    ),
)

OTHER = Misconception(
    "other", "the line does not follow", "Compare it step by step with the line symnn writes.", lambda c: iter(())
)

BY_ID = {m.id: m for m in (*CATALOGUE, OTHER)}


def diagnose(case: Case) -> tuple[Misconception, str]:
    """The first misconception whose repair makes the line hold, and what it repaired."""
    for m in CATALOGUE:
        for repaired, detail in m.repairs(case):
            if agree(repaired, case.truth):
                return m, detail
    return OTHER, ""
