"""Lowering: rewrite a spec's SymPy expressions into the shape the printer turns into loops.

1. Constant folding: Sums with numeric limits over an explicit matrix (a filter specialised to
   its coefficients) are unrolled, so zero coefficients disappear.
2. KroneckerDelta collapse: Σ_v δ(v, e) f(v) = f(e) guarded by lo ≤ e ≤ hi (when v has
   coefficient ±1 in the delta), as sympy.concrete.delta.deltasummation does.
3. Range guards: a Piecewise((f, conds), (0, True)) summand whose conds are linear in the loop
   variable with integer coefficients becomes tightened loop bounds
   (0 ≤ p − s·i ≤ k−1  →  i from ceil((p−k+1)/s) to floor(p/s)); conds free of the variable move
   out to the enclosing loop; anything else stays an `if`.
4. Guards on output indices implied by the output ranges are dropped.
5. Scatter form: a gradient that gathers, for each output element, the terms of the windows
   covering it (∂L/∂X[p] = Σ_i [s·i ≤ p ≤ s·i + k − 1] f(i, p − s·i)) is written the other way
   round: loop over i and the offset m = p − s·i, and add f(i, m) into the output at s·i + m.
   Each element receives the same terms in the same order, without per-element bound
   arithmetic (transposed convolution, pooling backward). Windows that span a whole output
   axis run unclipped (range(k)); the kernel checks before the call that they stay inside the
   output (bounds.writes).
6. Delinearisation: an output index read only through ⌊k/W⌋ and k mod W (digit by digit) runs
   as loops over its digits, each element written at k = (q·H + r)·W + j (flatten).
CSE happens in the printer, per statement, once Sums and guarded branches are hoisted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

import sympy as sp
from sympy.logic.boolalg import Boolean, BooleanTrue

from symnn.codegen.spec import KernelSpec, Output
from symnn.parse import as_expr

Cond: TypeAlias = Boolean
Term: TypeAlias = tuple[tuple[Cond, ...], sp.Expr]  # (conditions, value): value if all conditions hold else 0
Loop: TypeAlias = tuple[sp.Symbol, sp.Expr, sp.Expr]  # (variable, first, last): the variable runs first..last

UNROLL_LIMIT = 256  # most terms a specialised Sum is unrolled into


@dataclass
class LoweredOutput:
    """One output's loop nest: `base[indices] (=|+=) expr` for the index ranges in `loops`, where
    `guard` (if any) holds; elsewhere the output gets 0 (or nothing when accumulating)."""

    output: Output
    loops: list[tuple[sp.Symbol, sp.Expr, sp.Expr]]
    expr: sp.Expr
    guard: tuple[Cond, ...] = field(default_factory=tuple)
    target: tuple[sp.Expr, ...] | None = None  # scatter form: the output index expressions
    zero: list[tuple[sp.Symbol, sp.Expr, sp.Expr]] = field(default_factory=list)  # loops to clear first
    unclipped: tuple[int, ...] = ()  # scatter form: axes whose windows run unclipped


def lower(spec: KernelSpec) -> list[LoweredOutput]:
    """Lower every output of `spec`."""
    if spec.elementwise:
        return [LoweredOutput(o, [], fold_constants(o.expr)) for o in spec.outputs]
    result = []
    for o in spec.outputs:
        scattered = scatter(spec, o) or delinearize(spec, o)
        if scattered is not None:
            result.append(scattered)
            continue
        loops = order_loops(spec.output_ranges(o))
        expr = lower_expr(o.expr)
        guard, expr = _split_guard(expr)
        kept = tuple(c for c in guard if not implied(c, loops))
        result.append(LoweredOutput(o, loops, expr, kept))
    return result


def lower_expr(expr: sp.Expr) -> sp.Expr:
    """Steps 1-3 on one expression."""
    return _lower(fold_constants(expr))


# -- 1. constant folding -------------------------------------------------------------------------
def fold_constants(expr: sp.Expr) -> sp.Expr:
    """Unroll Sums over explicit matrices (numeric limits): zero coefficients vanish."""

    def explicit(s: sp.Sum) -> bool:
        elements = s.function.atoms(sp.matrices.expressions.matexpr.MatrixElement)
        if not any(isinstance(e.parent, sp.MatrixBase) for e in elements):
            return False
        sizes = [b - a + 1 for _, a, b in s.limits]
        return all(x.is_Integer for x in sizes) and sp.prod(sizes) <= UNROLL_LIMIT

    return expr.replace(lambda e: isinstance(e, sp.Sum) and explicit(e), lambda e: e.doit())


# -- 2/3. delta collapse and guard tightening, bottom-up ------------------------------------------
def _lower(expr: sp.Expr) -> sp.Expr:
    if not isinstance(expr, sp.Basic) or not expr.args or isinstance(expr, sp.Indexed):
        return expr
    if isinstance(expr, sp.Sum):
        f = _lower(expr.function)
        for v, a, b in expr.limits:  # first limit innermost
            f = _sum(f, v, a, b)
        return f
    return expr.func(*[_lower(a) for a in expr.args])


def guarded_terms(expr: sp.Expr) -> list[Term]:
    """expr as a sum of guarded terms: Piecewise((f, c), (0, True)) factors become conditions."""
    if isinstance(expr, sp.Add):
        return [t for a in expr.args for t in guarded_terms(a)]
    if _is_guard(expr):
        (f, c), _ = expr.args
        return [(_conds(c) + cs, t) for cs, t in guarded_terms(f)]
    if isinstance(expr, sp.Mul):
        result: list[Term] = [((), sp.S.One)]
        for a in expr.args:
            splits = _is_guard(a) or (isinstance(a, sp.Add) and any(_is_guard(x) for x in a.args))
            terms = guarded_terms(a) if splits else [((), a)]
            result = [(c1 + c2, t1 * t2) for c1, t1 in result for c2, t2 in terms]
        return result
    return [((), expr)]


def rebuild(terms: list[Term]) -> sp.Expr:
    return sp.Add(*[_guarded(cs, t) for cs, t in terms])


def _sum(f: sp.Expr, v: sp.Symbol, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """Σ_{v=a..b} f, with deltas in v collapsed and guards on v turned into bounds."""
    done: list[Term] = []
    groups: dict[tuple, list[sp.Expr]] = {}
    for conds, term in guarded_terms(f):
        collapsed = _collapse(conds, term, v, a, b)
        if collapsed is None and _has_delta(term, v) and isinstance(sp.expand(term), sp.Add):
            done.append((conds, _sum(sp.expand(term), v, a, b)))  # deltas inside a factor
            continue
        if collapsed is not None:
            done.append(collapsed)
            continue
        lo, hi, outer, inner = _bounds(conds, v, a, b)
        groups.setdefault((lo, hi, outer, inner), []).append(term)
    for (lo, hi, outer, inner), terms in groups.items():
        done.append((outer, sp.Sum(_guarded(inner, sp.Add(*terms)), (v, lo, hi))))
    return rebuild(done)


def _collapse(conds, term, v, a, b) -> Term | None:
    """Σ_v δ(x, y)·rest = rest(v = solution) if a ≤ solution ≤ b, for the first delta in the
    product that is linear in v with coefficient ±1; None when there is none."""
    for factor in sp.Mul.make_args(term):
        if not (isinstance(factor, sp.KroneckerDelta) and factor.has(v)):
            continue
        d = sp.expand(factor.args[0] - factor.args[1])
        c = d.coeff(v)
        rest = sp.expand(d - c * v)
        if c not in (1, -1) or rest.has(v):
            continue
        sol = -rest / c
        others = sp.Mul(*[x for x in sp.Mul.make_args(term) if x is not factor])
        new_conds = tuple(c_.subs(v, sol) for c_ in conds) + (sp.Ge(sol, a), sp.Le(sol, b))
        return tuple(c_ for c_ in new_conds if c_ is not sp.true), others.subs(v, sol)
    return None


def _bounds(conds, v, a, b):
    """Split conds into tightened bounds for v, conds free of v (outer) and the rest (inner)."""
    los, his, outer, inner = [a], [b], [], []
    for c in conds:
        if not c.has(v):
            outer.append(c)
            continue
        found = linear_bound(c, v)
        if found is None:
            inner.append(c)
            continue
        for kind, e in found:
            (los if kind == "lo" else his).append(e)
    return sp.Max(*los), sp.Min(*his), tuple(outer), tuple(inner)


def linear_bound(cond: Cond, v: sp.Symbol) -> list[tuple[str, sp.Expr]] | None:
    """For a relational c·v + r (op) 0 with c a nonzero integer (number or symbol of known sign)
    and r an integer expression free of v: [("lo", e)] for v ≥ e, [("hi", e)] for v ≤ e."""
    d = _as_nonneg(cond)
    if d is None:
        return None
    if isinstance(d, tuple):  # an equation: v = solution
        lo, hi = linear_bound(sp.Ge(d[0], 0), v), linear_bound(sp.Le(d[0], 0), v)
        return None if lo is None or hi is None else lo + hi
    c = d.coeff(v)
    r = sp.expand(d - c * v)
    if c == 0 or r.has(v) or c.has(v) or not (c.is_integer and r.is_integer):
        return None
    if c.is_positive:  # c·v ≥ −r
        return [("lo", -r if c == 1 else sp.ceiling(-r / c))]
    if c.is_negative:  # |c|·v ≤ r
        return [("hi", r if c == -1 else sp.floor(r / -c))]
    return None


def _as_nonneg(cond: Cond) -> sp.Expr | tuple[sp.Expr] | None:
    """An integer relational as d with d ≥ 0, or (d,) for d = 0; None if not of that kind."""
    if not isinstance(cond, sp.core.relational.Relational):
        return None
    d = sp.expand(cond.lhs - cond.rhs)
    if not d.is_integer:
        return None
    op = cond.rel_op
    if op == ">=":
        return d
    if op == ">":
        return d - 1
    if op == "<=":
        return -d
    if op == "<":
        return -d - 1
    if op == "==":
        return (d,)
    return None


# -- 4. guards implied by the output ranges -------------------------------------------------------
def implied(cond: Cond, loops: list[tuple[sp.Symbol, sp.Expr, sp.Expr]]) -> bool:
    """True when cond holds for every index in the ranges (checked on the worst case)."""
    d = _as_nonneg(cond)
    if d is None or isinstance(d, tuple):
        return False
    ranges = {v: (lo, hi) for v, lo, hi in loops}
    for _ in range(len(ranges) + 1):
        present = [v for v in ranges if d.has(v)]
        if not present:
            break
        for v in present:
            c = d.coeff(v)
            if sp.expand(d - c * v).has(v) or not (c.is_positive or c.is_negative):
                return False
            lo, hi = ranges[v]
            d = sp.expand(d.subs(v, lo if c.is_positive else hi))
    else:
        return False
    return bool(d.is_nonnegative) or bool(sp.simplify(d).is_nonnegative)


# -- 5. scatter form ------------------------------------------------------------------------------
def scatter(spec: KernelSpec, o: Output) -> LoweredOutput | None:
    """The scatter form of `o` (step 5), or None when o is not a guarded window sum."""
    expr = o.expr
    if o.accumulate or spec.parallel or not isinstance(expr, sp.Sum):
        return None
    terms = guarded_terms(expr.function)
    if len(terms) != 1 or not terms[0][0] or expr.function.has(sp.Sum):
        return None
    conds, body = terms[0]
    sum_vars = [v for v, _, _ in expr.limits]
    ranges = spec.output_ranges(o)
    shape = spec.out_shapes.get(o.base, ())
    subs, offsets, windows, whole = {}, [], [], {}
    for axis, (v, v_lo, v_hi) in enumerate(ranges):
        found: dict[str, sp.Expr] = {}
        for c in conds:
            b = linear_bound(c, v) if c.has(v) else None
            if b is not None and len(b) == 1 and b[0][1].has(*sum_vars):
                found.setdefault(b[0][0], b[0][1])
        if len(found) < 2:
            continue
        start, width = found["lo"], sp.expand(found["hi"] - found["lo"])
        if width.has(*sum_vars) or start.has(*[w for w, _, _ in ranges]) or not start.is_integer:
            return None
        m = _fresh(f"{v.name}_off", expr)
        subs[v] = start + m
        offsets.append((m, sp.Max(0, v_lo - start), sp.Min(width, v_hi - start)))
        windows.append((m, sp.S.Zero, width))
        if axis < len(shape) and v_lo == 0 and sp.expand(v_hi - shape[axis] + 1) == 0:
            whole[len(offsets) - 1] = axis
    if not subs:
        return None
    others = [(v, lo, hi) for v, lo, hi in ranges if v not in subs]
    loops = others + order_loops([(v, as_expr(a), as_expr(b)) for v, a, b in expr.limits]) + offsets
    if len({v for v, _, _ in loops}) != len(loops):
        return None
    unclamped = others + windows
    kept = tuple(c for c in (c_.xreplace(subs) for c_ in conds) if c is not sp.true and not implied(c, unclamped))
    if kept:
        return None
    target = tuple(as_expr(i).xreplace(subs) for i in o.indices)
    lowered = LoweredOutput(o, loops, lower_expr(body.xreplace(subs)), (), target, order_loops(ranges))
    return _unclipped(lowered, windows, whole)


def _unclipped(lowered: LoweredOutput, windows: list[Loop], whole: dict[int, int]) -> LoweredOutput:
    """Run each window over its whole width where the window spans a whole output axis and its
    first and last index can be bounded: the clipping max(0, −start) .. min(width, end − start)
    then goes, so LLVM unrolls the window loops, and the kernel refuses inputs whose windows would
    reach past the output (bounds.writes) instead of silently dropping those terms. For inputs
    that fit (every forward pass's shapes), the terms and their order are unchanged."""
    from symnn.codegen.bounds import bound

    target = lowered.target
    if target is None:
        raise ValueError("_unclipped needs the scatter form's output index expressions (target is None)")
    loops = list(lowered.loops)
    axes: list[int] = []
    for k, axis in whole.items():
        m = windows[k][0]
        idx = target[axis]
        wide = [windows[k] if v == m else (v, lo, hi) for v, lo, hi in loops]
        if bound(idx, wide, "lower") is None or bound(idx, wide, "upper") is None:
            continue
        loops, axes = wide, axes + [axis]
    if not axes:
        return lowered
    return LoweredOutput(
        lowered.output, loops, lowered.expr, lowered.guard, lowered.target, lowered.zero, tuple(sorted(axes))
    )


# -- 6. delinearisation ---------------------------------------------------------------------------
def delinearize(spec: KernelSpec, o: Output) -> LoweredOutput | None:
    """An output index k read only through ⌊k/W⌋ and k mod W (and so on, digit by digit) runs
    as nested loops over its digits instead: k = (q·H + r)·W + j, written where it belongs — no
    division per element (flatten's row-major index)."""
    if o.accumulate or spec.parallel:
        return None
    ranges = spec.output_ranges(o)
    for axis, (k, lo, hi) in enumerate(ranges):
        if lo != 0 or not _digit_ops(o.expr, k):
            continue
        digits: list[tuple[sp.Symbol, sp.Expr]] = []
        expr, var, size = o.expr, k, sp.S.One
        while True:
            ops = _digit_ops(expr, var)
            bases = {d for _, d in ops}
            if len(bases) != 1:
                break
            (base,) = bases
            quotient, digit = sp.Dummy("q", integer=True), _fresh(f"{k.name}{len(digits)}", o.expr)
            expr = expr.xreplace({sp.floor(var / base): quotient, sp.Mod(var, base): digit})
            if expr.has(var):
                return None
            digits.insert(0, (digit, base))
            size, var = size * base, quotient
        if not digits:
            continue
        count = sp.simplify((hi + 1) / size)
        if not (count.is_integer and count.is_positive) or count.has(sp.floor, sp.Mod):
            continue
        top = _fresh(f"{k.name}{len(digits)}", o.expr)
        expr = expr.xreplace({var: top})
        index, loops = top, [(top, sp.S.Zero, count - 1)]
        for digit, base in digits:
            index = index * base + digit
            loops.append((digit, sp.S.Zero, base - 1))
        others = [(v, a, b) for v, a, b in ranges if v != k]
        target = tuple(index if v == k else v for v in o.indices)
        return LoweredOutput(o, others[:axis] + loops + others[axis:], lower_expr(expr), (), target, [])
    return None


def _digit_ops(expr: sp.Expr, var: sp.Symbol) -> list[tuple[str, sp.Expr]]:
    """The ⌊var/d⌋ and var mod d in expr, as (kind, d), when d is free of var."""
    found = []
    for f in expr.atoms(sp.floor):
        num, den = sp.fraction(sp.together(f.args[0]))
        if num == var and not den.has(var) and den != 1:
            found.append(("floor", den))
    for m in expr.atoms(sp.Mod):
        if m.args[0] == var and not m.args[1].has(var):
            found.append(("mod", m.args[1]))
    return found


def _fresh(name: str, expr: sp.Expr) -> sp.Symbol:
    """An integer Symbol named `name` (primed as needed) that expr does not already use."""
    taken = {str(x) for x in expr.free_symbols} | {str(x) for x in expr.atoms(sp.Symbol)}
    while name in taken:
        name += "'"
    return sp.Symbol(name, integer=True)


# -- helpers -------------------------------------------------------------------------------------
def order_loops(loops: Iterable[Loop]) -> list[Loop]:
    """Keep the written order, but put a loop after the loops its bounds depend on."""
    pending, done, names = list(loops), [], set()
    while pending:
        for k, (v, lo, hi) in enumerate(pending):
            deps = (lo.free_symbols | hi.free_symbols) & {w for w, _, _ in pending}
            if not deps - {v}:
                done.append(pending.pop(k))
                names.add(v)
                break
        else:
            raise ValueError(f"the loop bounds depend on each other in a cycle: {pending}")
    return done


def _has_delta(e: sp.Expr, v: sp.Symbol) -> bool:
    return any(d.has(v) for d in e.atoms(sp.KroneckerDelta))


def _is_guard(e) -> bool:
    return isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1].cond == sp.true and e.args[1].expr == 0


def _conds(c: Cond) -> tuple[Cond, ...]:
    if isinstance(c, BooleanTrue) or c is sp.true:
        return ()
    return tuple(c.args) if isinstance(c, sp.And) else (c,)


def _guarded(conds, term: sp.Expr) -> sp.Expr:
    conds = tuple(c for c in conds if c is not sp.true)
    if sp.false in conds or term == 0:
        return sp.S.Zero
    if not conds:
        return term
    return sp.Piecewise((term, sp.And(*conds)), (0, True))


def _split_guard(expr: sp.Expr) -> tuple[tuple[Cond, ...], sp.Expr]:
    """A top-level guard common to the whole expression, and what it guards."""
    terms = guarded_terms(expr)
    if len(terms) == 1:
        conds, term = terms[0]
        return conds, term
    return (), expr
