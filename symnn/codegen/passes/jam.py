"""jam: fixed-size inner output loops jammed into one pass of the Sum (unroll-and-jam).

Applies to a plain output Sum + rest whose innermost output loops have fixed lengths (at most
JAM_LIMIT elements together), are read by the Sum's body and bound none of the loops: the
convolution's kernel gradient, dK[c, 0..2, 0..2]. Every combination of those indices gets its
own accumulator, all filled in one pass of the Sum's loops, so their additions, independent of
each other, overlap in the CPU; each element's additions stay as written (bit for bit). A loop
of run-time length stops the count; the outermost loop (the parallel one) always stays outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symnn.codegen.passes.base import JAM_LIMIT, Loop, Pass, Site, positions, split_sum
from symnn.codegen.passes.hoist import open_hoisting
from symnn.codegen.printer import NumbaPrinter
from symnn.parse import as_expr


@dataclass(frozen=True)
class JamPlan:
    """The `outer` loops as written, the `inner` ones (fixed lengths) jammed into the Sum."""

    outer: tuple[Loop, ...]
    inner: tuple[Loop, ...]


def jammable(expr: sp.Expr, loops: list[Loop]) -> int:
    """How many innermost output loops to jam into the Sum of expr = Sum + rest (0: none): the
    innermost ones of fixed length while their product stays <= JAM_LIMIT (a loop of run-time
    length stops the count: along one the index arithmetic, not the additions, bounds the loops)."""
    total, _ = split_sum(expr)
    if total is None or len(loops) < 2 or loops[-1][0] not in total.function.free_symbols:
        return 0
    bound = set().union(
        *[(a.free_symbols | b.free_symbols) for _, a, b in total.limits],
        *[(lo.free_symbols | hi.free_symbols) for _, lo, hi in loops],
    )
    count, size = 0, 1
    for v, a, b in reversed(loops[1:]):
        n = b - a + 1
        if v in bound:
            break
        if not n.is_Integer:
            return count
        if size * int(n) > JAM_LIMIT:
            break
        size *= int(n)
        count += 1
    return count


def plan(p: NumbaPrinter, site: Site) -> JamPlan | None:
    """The loops to jam, when the plain output is Sum + rest with such inner loops; else None."""
    if not site.plain:
        return None
    loops = site.loops
    inner = jammable(site.expr, loops)
    if not inner:
        return None
    return JamPlan(tuple(loops[: len(loops) - inner]), tuple(loops[len(loops) - inner :]))


def emit(p: NumbaPrinter, site: Site, plan: JamPlan) -> None:
    """The outer loops (Sums hoisted where they belong), then every combination of the inner
    indices accumulated in its own variable in one pass of the Sum's loops."""
    depth, active = p.depth, set(p.active)
    expr = open_hoisting(p, site, list(plan.outer))
    total, rest = split_sum(expr)
    base, indices = site.lo.output.base, site.lo.output.indices
    copies = positions(list(plan.inner))
    accs = [p.temp("acc") for _ in copies]
    p.sum_loops(total, into=[(p.names[a], c) for a, c in zip(accs, copies)])
    for acc, c in zip(accs, copies):
        lhs = p.code(sp.Indexed(base, *[as_expr(i).xreplace(c) for i in indices]))
        p.statements(lhs, acc + rest.xreplace(c))
    p.depth, p.active = depth, active


JAM = Pass("jam", plan, emit)
