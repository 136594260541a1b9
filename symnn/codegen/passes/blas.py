"""blas: a whole-axis product of two matrices goes to one BLAS call (np.dot) above BLAS_MIN.

Applies to a plain output O[a, b] = Σ_k L[., .]·R[., .] + rest whose loops and Sum run over
whole axes from 0 (the matrices possibly transposed: A·Wᵀ, Gᵀ·A, G·W) in a kernel that is not
parallel. The kernel then tests at run time: at least BLAS_MIN multiply-adds (and the operands'
shapes as the product needs them) -> `np.dot(L, R, O)` and the rest added in loops; else the
written loops, which the passes after this one write inside the `else:`. The one rewrite that
does not keep the written order of additions (BLAS sums in its own order).

In a spec compiled for large calls (`unfold`, not `exact`), the same pass also interleaves a
channel sum (the bias gradient db[f] = Σ_{t,i,j} G[t,f,i,j]): written as is, each output is one
chain of dependent additions, as slow as an addition's latency; with the output's loop innermost,

    for each block of 8 channels f0..f0+7:  acc = acc1 = ... = 0.0
        for t, i, j:  acc += G[t, f0, i, j];  acc1 += G[t, f0 + 1, i, j];  ...
        db[f0] = acc; ...                     (then the F mod 8 last channels one by one)

eight chains run side by side. Each db[f] still adds its terms one by one in the written order
(t, i, j), from 0.0, in its own float64 `acc` like the written loops: the same numbers, bit for
bit, so this is no reordering (`interleave` below).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symnn.codegen.passes.base import Pass, Site, split_sum
from symnn.codegen.printer import NumbaPrinter

BLAS_MIN = 4096  # multiply-adds from which a matrix product goes to BLAS instead of loops


@dataclass(frozen=True)
class BlasPlan:
    """`if condition: call (+ rest in loops) else:` the loops."""

    condition: str  # the run-time test: size and operand shapes
    call: str  # np.dot(L, R, O)
    rest: sp.Expr  # what the output adds to the product (0: nothing)


@dataclass(frozen=True)
class InterleavePlan:
    """O[f] = Σ body over `limits`, written with f's loop innermost (each O[f] in the written order)."""

    limits: tuple  # the Sum's (variable, low, high), outermost first
    body: sp.Expr


def interleave(site: Site) -> InterleavePlan | None:
    """A one-loop plain output that is a Sum of terms whose last index is a summed variable and
    which read the output's variable at an earlier index (db[f] = Σ_{t,i,j} G[t,f,i,j]); else None."""
    spec, lo = site.spec, site.lo
    if not spec.unfold or spec.exact or spec.parallel or not site.plain or len(lo.loops) != 1:
        return None
    total, rest = split_sum(lo.expr)
    if total is None or rest != 0:
        return None
    (f, f_lo, _), body = lo.loops[0], total.function
    if f_lo != 0 or body.has(sp.Sum, sp.Piecewise) or lo.target is not None:
        return None
    summed = {v for v, _, _ in total.limits}
    if any((a.free_symbols | b.free_symbols) & (summed | {f}) for _, a, b in total.limits):
        return None  # a rectangular nest only
    arrays = list(body.atoms(sp.Indexed))
    if not arrays or not all(a.indices[-1] in summed and f in a.free_symbols for a in arrays):
        return None
    return InterleavePlan(tuple(total.limits), body)


INTERLEAVE = 8  # channel sums run side by side, each in its own scalar accumulator


def emit_interleave(p: NumbaPrinter, site: Site, plan: InterleavePlan) -> None:
    """for each block of INTERLEAVE outputs: their accumulators, one loop nest over the Sum
    adding to all of them, the outputs written; then the remaining outputs one by one."""
    depth, active = p.depth, set(p.active)
    (f, _, f_hi), base = site.lo.loops[0], site.lo.output.base
    size, block = p.code(f_hi + 1), p.temp("fb")
    p.emit(f"for {p.names[block]} in range(({size}) // {INTERLEAVE}):")
    p.depth += 1
    accs = [p.temp("acc") for _ in range(INTERLEAVE)]
    for acc in accs:
        p.emit(f"{p.names[acc]} = 0.0")
    first = sp.Integer(INTERLEAVE) * block
    p.open_loops(plan.limits)
    for k, acc in enumerate(accs):
        p.statements(p.names[acc], plan.body.xreplace({f: first + k}), "+=")
    p.depth, p.active = depth + 1, set(active)
    for k, acc in enumerate(accs):
        p.emit(f"{p.code(sp.Indexed(base, first + k))} = {p.names[acc]}")
    p.depth, p.active = depth, set(active)
    p.emit(f"for {p.name(f)} in range({INTERLEAVE} * (({size}) // {INTERLEAVE}), {size}):")
    p.depth += 1
    p.active.add(f)
    acc = p.temp("acc")
    p.emit(f"{p.names[acc]} = 0.0")
    p.open_loops(plan.limits)
    p.statements(p.names[acc], plan.body, "+=")
    p.depth = depth + 1
    p.emit(f"{site.target} = {p.names[acc]}")
    p.depth, p.active = depth, active


def plan(p: NumbaPrinter, site: Site) -> BlasPlan | InterleavePlan | None:
    """np.dot for a product of matrices over whole axes; interleaved loops for a channel sum.

    The BlasPlan of the np.dot call, or (in a spec for large calls) the InterleavePlan of a sum
    like db[f] = Σ G[t,f,i,j]; else None."""
    spec, lo = site.spec, site.lo
    found = interleave(site)
    if found is not None:
        return found
    if not site.plain or spec.parallel or spec.exact:
        return None
    if len(lo.loops) != 2 or any(a != 0 for _, a, _ in lo.loops):
        return None
    total, rest = split_sum(lo.expr)
    if total is None or len(total.limits) != 1 or total.limits[0][1] != 0:
        return None
    (k, _, k_hi), ((a, _, a_hi), (b, _, b_hi)) = total.limits[0], lo.loops
    factors = sp.Mul.make_args(total.function)
    if len(factors) != 2 or not all(isinstance(f, sp.Indexed) and len(f.indices) == 2 for f in factors):
        return None
    operands, checks = {}, []
    for f in factors:
        idx = tuple(f.indices)
        for v, hi in ((a, a_hi), (b, b_hi)):
            if set(idx) == {v, k}:
                transposed = idx == ((k, v) if v == a else (v, k))
                operands[v] = p.code(f.base) + (".T" if transposed else "")
                for axis, u in enumerate(idx):
                    extent = (k_hi if u == k else hi) + 1
                    if spec.shapes.get(extent) != (f.base, axis):  # else true by definition
                        checks.append(f"{p.code(f.base)}.shape[{axis}] == {p.code(extent)}")
    if set(operands) != {a, b} or rest.has(k):
        return None
    work = p.code((a_hi + 1) * (b_hi + 1) * (k_hi + 1))
    condition = " and ".join([f"{work} >= {BLAS_MIN}", *dict.fromkeys(checks)])
    return BlasPlan(condition, f"np.dot({operands[a]}, {operands[b]}, {p.code(lo.output.base)})", rest)


def emit(p: NumbaPrinter, site: Site, plan: BlasPlan | InterleavePlan) -> Site | None:
    """The BLAS branch; the printer is left inside `else:`, where the next passes write the loops
    (an InterleavePlan: its loops, the output written)."""
    if isinstance(plan, InterleavePlan):
        emit_interleave(p, site, plan)
        return None
    depth, active = p.depth, set(p.active)
    p.emit(f"if {plan.condition}:  # a product of two matrices: one BLAS call (np.dot)")
    with p.indented():
        p.emit(plan.call)
        if plan.rest != 0:
            p.open_loops(site.lo.loops)
            acc = sp.Dummy("acc")
            p.names[acc] = site.target
            p.statements(site.target, acc + plan.rest)
            p.depth, p.active = depth + 1, set(active)
    p.emit("else:  # small sizes: the loops, in the written order")
    p.depth += 1
    return site


BLAS = Pass("blas", plan, emit)
