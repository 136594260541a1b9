"""Which indices a kernel reads: the lowest and highest index along every axis of every input
array, as expressions in the shape symbols, so the kernel can refuse arrays that are too small
before Numba reads past their end (Numba does not check bounds); likewise the indices a scatter
form writes through unclipped windows, so it can refuse inputs that would write past its output.

The bound of an index expression is found loop by loop, innermost first: a variable is replaced
by the loop bound that maximises (or minimises) the expression, sums are pushed into Max/Min
(a − max(b, c) = min(a − b, a − c)) so correlated bounds cancel, and floor/ceiling of integer
quotients are relaxed to the quotient (⌊x/s⌋ ≤ x/s). What cannot be bounded that way (products
of loop variables, indices under an `if`) is left unchecked.
"""

from __future__ import annotations

import sympy as sp

from symnn.codegen.lower import LoweredOutput, order_loops
from symnn.codegen.spec import KernelSpec
from symnn.parse import as_expr

Loops = list[tuple[sp.Symbol, sp.Expr, sp.Expr]]


def read_extents(lowered: list[LoweredOutput]) -> dict[tuple[sp.IndexedBase, int], tuple[list, list]]:
    """(array, axis) -> ([lowest index candidates], [highest index candidates])."""
    found: dict[tuple[sp.IndexedBase, int], tuple[list, list]] = {}
    for lo in lowered:
        _walk(lo.expr, list(lo.loops), found)
    return found


def _walk(expr, loops: Loops, found) -> None:
    if isinstance(expr, sp.Indexed):
        for axis, idx in enumerate(expr.indices):
            low, high = bound(idx, loops, "lower"), bound(idx, loops, "upper")
            if low is None or high is None:
                continue
            lows, highs = found.setdefault((expr.base, axis), ([], []))
            lows.append(sp.ceiling(low))
            highs.append(sp.floor(high))
        return
    if isinstance(expr, sp.Sum):
        _walk(expr.function, loops + order_loops(list(expr.limits)), found)
        return
    if isinstance(expr, sp.Piecewise):
        return  # reads under an `if`: their guard keeps them in range
    for a in expr.args:
        _walk(a, loops, found)


def bound(e: sp.Expr, loops: Loops, kind: str) -> sp.Expr | None:
    """An upper (kind="upper") or lower bound of e over the loops, or None."""
    e = as_expr(e)
    for v, lo, hi in reversed(loops):
        if e.has(v):
            e = _bound_wrt(_distribute(e), v, lo, hi, kind)
            if e is None:
                return None
    return e


def _bound_wrt(e, v, lo, hi, kind):
    if isinstance(e, (sp.Max, sp.Min)):
        args = [_bound_wrt(a, v, lo, hi, kind) for a in e.args]
        return None if any(a is None for a in args) else e.func(*args)
    if not e.has(v):
        return e
    e = sp.expand(_relax(e, v, kind), deep=False)
    c = e.coeff(v)
    rest = sp.expand(e - c * v, deep=False)
    if c == 0 or rest.has(v) or c.has(v) or not (c.is_positive or c.is_negative):
        return None
    pick = hi if bool(c.is_positive) == (kind == "upper") else lo
    return _distribute(rest + c * pick)


def _relax(e, v, kind):
    """Replace floor/ceiling(x/s) terms that contain v by a bound of the right side."""
    terms = []
    for t in sp.Add.make_args(sp.expand(e, deep=False)):
        c, f = t.as_coeff_Mul()
        if isinstance(f, (sp.floor, sp.ceiling)) and f.has(v):
            num, den = sp.fraction(sp.together(f.args[0]))
            if not (den.is_positive and den.is_integer and num.is_integer):
                return e
            want_upper = (c > 0) == (kind == "upper")
            slack = (den - 1) / den
            if isinstance(f, sp.floor):
                f = num / den if want_upper else num / den - slack
            else:
                f = num / den + slack if want_upper else num / den
        terms.append(c * f)
    return sp.Add(*terms)


def _distribute(e):
    """Push sums and constant factors into Max/Min: a + max(b, c) = max(a + b, a + c)."""
    if isinstance(e, (sp.Max, sp.Min)):
        return e.func(*[_distribute(a) for a in e.args])
    if isinstance(e, sp.Add):
        args = [_distribute(a) for a in e.args]
        for k, a in enumerate(args):
            if isinstance(a, (sp.Max, sp.Min)):
                rest = sp.Add(*(args[:k] + args[k + 1 :]))
                return a.func(*[_distribute(rest + x) for x in a.args])
        return sp.Add(*args)
    if isinstance(e, sp.Mul):
        mm = [a for a in e.args if isinstance(a, (sp.Max, sp.Min))]
        if len(mm) != 1:
            return e
        c = sp.Mul(*[a for a in e.args if a is not mm[0]])
        inner = _distribute(mm[0])
        if not isinstance(inner, (sp.Max, sp.Min)):
            return _distribute(c * inner)
        if c.is_positive:
            func = inner.func
        elif c.is_negative:
            func = sp.Min if inner.func is sp.Max else sp.Max
        else:
            return e
        return func(*[_distribute(c * x) for x in inner.args])
    return e


def reads(spec: KernelSpec, lowered: list[LoweredOutput]) -> list[tuple[sp.IndexedBase, int, sp.Expr, sp.Expr]]:
    """(array, axis, lowest, highest) for the reads not already implied by the shapes (an axis
    whose extent is the shape symbol read from it, read from 0 to that symbol − 1), then the
    writes of unclipped windows (`writes`)."""
    out = []
    extents = {v: k for k, v in spec.shapes.items() if isinstance(v, tuple)}
    derived = {k: v for k, v in spec.shapes.items() if not isinstance(v, tuple)}
    for (arr, axis), (lows, highs) in read_extents(lowered).items():
        if arr not in spec.arrays:
            continue
        low, high = sp.Min(*lows), sp.Max(*highs)
        size = extents.get((arr, axis))
        if size is not None and _provable(_subs(low, derived) >= 0) and _provable(_subs(high, derived) <= size - 1):
            continue
        out.append((arr, axis, low, high))
    return out + writes(spec, lowered, derived)


def writes(
    spec: KernelSpec, lowered: list[LoweredOutput], derived: dict
) -> list[tuple[sp.IndexedBase, int, sp.Expr, sp.Expr]]:
    """(output, axis, lowest, highest) for the unclipped windows of a scatter form
    (lower._unclipped) that the shapes alone do not keep inside the output."""
    out = []
    for lo in lowered:
        if not lo.unclipped:
            continue
        target = lo.target
        if target is None:
            raise ValueError(f"{lo.output.base}: unclipped windows need the scatter form's output indices (target)")
        size = spec.out_shapes.get(lo.output.base, ())
        for axis in lo.unclipped:
            low = sp.ceiling(bound(target[axis], lo.loops, "lower"))
            high = sp.floor(bound(target[axis], lo.loops, "upper"))
            if _provable(_subs(low, derived) >= 0) and _provable(_subs(high - size[axis] + 1, derived) <= 0):
                continue
            out.append((lo.output.base, axis, low, high))
    return out


def _subs(e, derived):
    for _ in range(len(derived)):
        e = e.subs(derived)
    return e


def _provable(rel) -> bool:
    if rel is sp.true:
        return True
    if rel is sp.false:
        return False
    d = sp.simplify(rel.lhs - rel.rhs)
    return bool(d.is_nonnegative) if rel.rel_op == ">=" else bool(d.is_nonpositive)
