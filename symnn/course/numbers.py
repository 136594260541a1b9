"""Numbers for lessons, computed and written the lecture's way: exact rounding to significant
figures (1.08 × 10^58), and derived expressions evaluated on the rows of a table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from symnn.errors import InputError
from symnn.parse import as_expr
from symnn.wording import plural


@dataclass(frozen=True)
class Sci:
    """A positive number rounded to `digits` significant figures, as mantissa × 10^exponent."""

    mantissa: str
    exponent: int

    @property
    def latex(self) -> str:
        return rf"{self.mantissa} \times 10^{{{self.exponent}}}"

    @property
    def text(self) -> str:
        return f"{self.mantissa} × 10^{self.exponent}"

    @property
    def value(self) -> Fraction:
        """The rounded number itself, exactly (1.08 × 10^58 as a fraction)."""
        return Fraction(self.mantissa) * Fraction(10) ** self.exponent

    def __str__(self) -> str:
        return self.text


def sci(x, digits: int = 3) -> Sci:
    """Round exactly (no binary floating point on the way) to `digits` significant figures,
    halves away from zero: sci(Rational(10**75, 93 * 10**15)) -> 1.08 × 10^58.

    x may be a SymPy Rational/Integer, a Fraction, an int, or a float (taken at its exact value)."""
    q = _fraction(x)
    if q <= 0:
        raise InputError(f"sci() writes positive numbers; got {x}")
    if digits < 1:
        raise InputError(f"digits must be at least 1; got {digits}")
    e = math.floor(math.log10(q.numerator) - math.log10(q.denominator))
    while q >= Fraction(10) ** (e + 1):  # make the exponent exact despite the float logs
        e += 1
    while q < Fraction(10) ** e:
        e -= 1
    scaled = q / Fraction(10) ** (e - digits + 1)
    m = math.floor(scaled + Fraction(1, 2))
    if m >= 10**digits:
        m, e = m // 10, e + 1
    s = str(m)
    mantissa = s[0] + ("." + s[1:] if digits > 1 else "")
    return Sci(mantissa, e)


def _fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float):
        return Fraction(x)
    try:
        import sympy as sp

        r = sp.nsimplify(x) if not isinstance(x, sp.Basic) else x
        if isinstance(r, sp.Rational):
            return Fraction(int(r.p), int(r.q))
        if isinstance(r, sp.Float):
            return Fraction(str(r))
    except (TypeError, ValueError, AttributeError):
        pass
    raise InputError(f"sci() needs an exact number (int, Fraction, SymPy Rational) or a float; got {x!r}")


def grouped(n: int) -> str:
    """An integer with thousands separators, as the lecture writes 1,000."""
    return f"{int(n):,}"


def on_rows(expr, columns: dict, index=None):
    """A derived expression evaluated on a table: every Σ over the rows is written out and each
    row quantity x_1[r], y[r], ... takes that row's value.

    columns maps the name of each IndexedBase (e.g. "x_1", "y") to its column (a sequence, row 1
    first, as the derivations number rows from 1). Other symbols (weights, η) stay symbolic."""
    import sympy as sp

    bases = {b.name: b for b in expr.atoms(sp.IndexedBase)}
    unknown = sorted(set(bases) - set(columns))
    if unknown:
        raise InputError(f"on_rows: no column given for {', '.join(unknown)}; give one per row quantity")

    def write_out(s):
        if not all(lo.is_Integer and hi.is_Integer for _, lo, hi in s.limits):
            raise InputError(f"on_rows: the sum {s} has symbolic bounds; give their sizes first")
        terms = [s.function]
        for v, lo, hi in reversed(s.limits):
            terms = [t.xreplace({v: sp.Integer(n)}) for t in terms for n in range(int(lo), int(hi) + 1)]
        return sp.Add(*terms)

    expr = expr.replace(lambda e: isinstance(e, sp.Sum), write_out)

    def value(e):
        col = columns[e.base.name]
        (r,) = e.indices
        if not r.is_Integer or not 1 <= int(r) <= len(col):
            raise InputError(f"on_rows: {e} is outside the {plural(len(col), 'row')} given")
        v = col[int(r) - 1]
        return sp.Float(float(v)) if not isinstance(v, sp.Basic) else v

    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base.name in columns, value)


def lambdify(args, expr):
    """sympy.lambdify for derived expressions: symnn's σ, ReLU and step become plain NumPy
    (through symnn.ops.functions.elementary); a Dirac delta counts as 0 away from its spike."""
    import sympy as sp

    from symnn.ops.functions import elementary

    plain = elementary(as_expr(expr)).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    single = not isinstance(args, (list, tuple))
    flat = [args] if single else list(args)
    if all(isinstance(a, sp.Basic) for a in flat):
        # plain argument names: lambdify would rename each unsafe one (w^1_11, x[1], ...) with
        # a walk over the whole expression
        names = [sp.Symbol(f"_a{n}") for n in range(len(flat))]
        plain = plain.xreplace(dict(zip(flat, names)))
        return sp.lambdify(names[0] if single else names, plain, "numpy")
    return sp.lambdify(args, plain, "numpy")
