"""Does one side equal the other? Symbolically when SymPy can say so quickly, else at 20 random
points with 30 digits; and, when they differ, small values of the names that show it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symnn.derive.derivation import NOT_SMOOTH, SLOW_TO_SIMPLIFY
from symnn.ops.functions import elementary, mpmath_functions

POINTS = 20  # random points a numeric check agrees at
DIGITS = 30
SIMPLIFY_OPS = 150  # cancel is tried on differences smaller than this, simplify below a third of it
# derive's: cancel/simplify take seconds on |u|, sign, Piecewise ... (here floor and ceiling too),
# and simplify on trigonometric identities; the numeric verdict stands for those
_NOT_SMOOTH = (*NOT_SMOOTH, sp.floor, sp.ceiling)
# small values first: a counterexample a learner can work out by hand
SMALL = (1, 2, 0, -1, 3, Fraction(1, 2), -2)


@dataclass(frozen=True)
class Verdict:
    holds: bool | None  # None: SymPy could not evaluate the sides anywhere
    how: str | None  # "symbolic" or "numeric"


def lambdified(exprs: list[sp.Expr], names: list[sp.Symbol]):
    import mpmath

    dirac = {"DiracDelta": lambda x: mpmath.inf if x == 0 else mpmath.mpf(0)}
    return sp.lambdify(names, exprs, [dirac, mpmath_functions(), "mpmath"])


def plain_names(*exprs: sp.Expr) -> tuple[list[sp.Symbol], list[sp.Symbol], list[sp.Expr]]:
    """The free names of exprs, plain stand-ins for them, and exprs written with the stand-ins."""
    atoms = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    plain = [sp.Symbol(f"_v{n}") for n in range(len(atoms))]
    table = dict(zip(atoms, plain))
    return atoms, plain, [e.xreplace(table) for e in exprs]


def _real(v):
    import mpmath

    v = mpmath.mpmathify(v)
    if isinstance(v, mpmath.mpc):
        return v.real if abs(v.imag) <= 1e-25 * max(1, abs(v.real)) else None
    return v if mpmath.isfinite(v) else None


def _kinks(expr: sp.Expr) -> list[sp.Expr]:
    """Where expr is not smooth: the arguments of |u|, sign, step, ReLU, and max/min pairs."""
    out = []
    for e in expr.atoms(sp.Function):
        name = type(e).__name__
        if name in ("Abs", "sign", "Heaviside", "step", "relu", "leaky_relu", "floor", "ceiling"):
            out.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            out += [a - b for n, a in enumerate(e.args) for b in e.args[n + 1 :]]
    return out


def differ(a, b) -> bool:
    return abs(a - b) > 1e-20 * max(1, abs(a) + abs(b))


def symbolic_zero(diff: sp.Expr) -> bool:
    if diff == 0:
        return True
    diff = elementary(diff)
    if diff == 0:
        return True
    if sp.count_ops(diff) >= SIMPLIFY_OPS or diff.has(*_NOT_SMOOTH):
        return False
    if diff.has(*SLOW_TO_SIMPLIFY):  # simplify takes seconds on sech² = 1 − tanh²: the numeric verdict stands
        return sp.cancel(sp.expand(diff)) == 0
    try:
        return sp.cancel(sp.expand(diff)) == 0 or (sp.count_ops(diff) < SIMPLIFY_OPS // 3 and sp.simplify(diff) == 0)
    except Exception:  # simplify gives up on some forms: the numeric check decides
        return False


def compare(a: sp.Expr, b: sp.Expr, seed: int = 0, symbolic: bool = True) -> Verdict:
    """Whether a == b as functions of their names: numerically first (a false claim is refuted at
    once, where simplify could spend minutes), then, for one that holds, symbolically if SymPy can."""
    if a == b or sp.expand(a - b) == 0:
        return Verdict(True, "symbolic")
    numeric = _numeric(a, b, seed)
    if numeric.holds and symbolic and symbolic_zero(a - b):
        return Verdict(True, "symbolic")
    return numeric


class Sides:
    """a and b as one mpmath function of their names, with the points where either is not smooth."""

    def __init__(self, a: sp.Expr, b: sp.Expr) -> None:
        self.atoms, names, (pa, pb, *kinks) = plain_names(a, b, *_kinks(a) + _kinks(b))
        self.n = len(names)
        self.f = lambdified([pa, pb, *kinks], names)

    def at(self, point: list, kink: float):
        """(a, b) at point, both real; None where either is undefined or within `kink` of a kink."""
        try:
            va, vb, *vk = self.f(*point)
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            return None
        va, vb = _real(va), _real(vb)
        if va is None or vb is None or any(abs(_real(k) or 0) < kink for k in vk):
            return None
        return va, vb


def _numeric(a: sp.Expr, b: sp.Expr, seed: int) -> Verdict:
    import mpmath

    sides = Sides(a, b)
    rng = random.Random(seed)
    found = 0
    with mpmath.workdps(DIGITS):
        for attempt in range(40 * POINTS):
            lo, hi = (-1.5, 1.5) if attempt % 4 else (0.15, 0.85)  # some points where ln and √ are real
            values = sides.at([mpmath.mpf(rng.uniform(lo, hi)) for _ in range(sides.n)], 1e-6)
            if values is None:
                continue
            if differ(*values):
                return Verdict(False, "numeric")
            found += 1
            if found >= POINTS:
                return Verdict(True, "numeric")
    return Verdict(None, None)


def agree(a: sp.Expr, b: sp.Expr, seed: int = 1) -> bool:
    """A quick numeric equality (for trying a misconception's repair)."""
    try:
        return compare(a, b, seed, symbolic=False).holds is True
    except Exception:  # a repair SymPy cannot evaluate is not the misconception
        return False


@dataclass(frozen=True)
class Counterexample:
    values: dict[str, int | float]
    lhs: float
    rhs: float


def _shown(v) -> int | float:
    return int(v) if Fraction(v).denominator == 1 else float(v)


def counterexample(a: sp.Expr, b: sp.Expr, seed: int = 0, tries: int = 400) -> Counterexample | None:
    """Small integer or simple rational values of the names at which a and b differ."""
    import mpmath

    sides = Sides(a, b)
    rng = random.Random(seed)
    seen: set[tuple] = set()
    with mpmath.workdps(DIGITS):
        for attempt in range(tries):
            values: tuple[int | Fraction, ...]
            if attempt == 0:
                values = tuple(1 for _ in range(sides.n))
            else:  # mostly the smallest values, a few others
                values = tuple(SMALL[min(int(rng.expovariate(0.6)), len(SMALL) - 1)] for _ in range(sides.n))
            if values in seen:
                continue
            seen.add(values)
            point = [
                mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else mpmath.mpf(v) for v in values
            ]
            at = sides.at(point, 1e-12)
            if at is None:
                continue
            va, vb = at
            if abs(va - vb) > 1e-9 * (1 + abs(va) + abs(vb)):
                return Counterexample({str(s): _shown(v) for s, v in zip(sides.atoms, values)}, float(va), float(vb))
    return None
