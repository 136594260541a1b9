"""blas: a whole-axis product of two matrices goes to one BLAS call (np.dot) above BLAS_MIN.

Applies to a plain output O[a, b] = Σ_k L[., .]·R[., .] + rest whose loops and Sum run over
whole axes from 0 (the matrices possibly transposed: A·Wᵀ, Gᵀ·A, G·W) in a kernel that is not
parallel. The kernel then tests at run time: at least BLAS_MIN multiply-adds (and the operands'
shapes as the product needs them) -> `np.dot(L, R, O)` and the rest added in loops; else the
written loops, which the passes after this one write inside the `else:`. The one rewrite that
does not keep the written order of additions (BLAS sums in its own order).
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


def plan(p: NumbaPrinter, site: Site) -> BlasPlan | None:
    """The np.dot call when the output is a product of matrices over whole axes; else None."""
    spec, lo = site.spec, site.lo
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


def emit(p: NumbaPrinter, site: Site, plan: BlasPlan) -> Site:
    """The BLAS branch; the printer is left inside `else:`, where the next passes write the loops."""
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
