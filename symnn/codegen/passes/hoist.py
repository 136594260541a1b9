"""hoist: a Sum that does not depend on the inner loops is computed once, before them.

Applies to a plain output whose value holds a Sum (outside any Piecewise) that reads none of
the output's loop variables, or none of the inner ones: softmax's denominator, once per row
instead of once per element. As a pass it writes the Sums that read no loop variable at all
before the loops (and the passes after it see their accumulators); `open_hoisting` does the
same at each loop level while the loop nest is opened. Every element's additions stay as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from symnn.codegen.passes.base import Loop, Pass, Site, top_sums
from symnn.codegen.printer import NumbaPrinter


@dataclass(frozen=True)
class HoistPlan:
    """The Sums written before the loops, in the order they appear."""

    sums: tuple[sp.Sum, ...]


def sums_at(expr: sp.Expr, loop_vars: list[sp.Symbol], level: int) -> list[sp.Sum]:
    """The Sums of expr whose innermost loop variable is loop_vars[level] (-1: none of them),
    when inner loops follow (else none)."""
    if level == len(loop_vars) - 1:
        return []
    found: list[sp.Sum] = []
    for s in top_sums(expr):
        used = [k for k, v in enumerate(loop_vars) if v in s.free_symbols]
        if max(used, default=-1) == level and s not in found:
            found.append(s)
    return found


def hoist(p: NumbaPrinter, expr: sp.Expr, sums: list[sp.Sum] | tuple[sp.Sum, ...]) -> sp.Expr:
    """Write the loops of each Sum here; expr with the Sums replaced by their accumulators."""
    repl = {s: p.sum_loops(s) for s in sums}
    return expr.xreplace(repl) if repl else expr


def plan(p: NumbaPrinter, site: Site) -> HoistPlan | None:
    """The Sums that read no loop variable, when the output is plain and has loops; else None."""
    if not site.plain:
        return None
    sums = sums_at(site.expr, [v for v, _, _ in site.lo.loops], -1)
    return HoistPlan(tuple(sums)) if sums else None


def emit(p: NumbaPrinter, site: Site, plan: HoistPlan) -> Site:
    """The Sums' loops before the output's; the site goes on with their accumulators."""
    return replace(site, expr=hoist(p, site.expr, plan.sums))


def open_hoisting(p: NumbaPrinter, site: Site, loops: list[Loop]) -> sp.Expr:
    """Open `loops` (the first one a prange in a parallel kernel) and, for a plain output, write
    after each the Sums that depend on no loop inside it; return the value left to write."""
    expr, loop_vars = site.expr, [v for v, _, _ in site.lo.loops]
    for k, loop in enumerate(loops):
        p.open_loops([loop], parallel=site.spec.parallel and k == 0)
        if site.plain:
            expr = hoist(p, expr, sums_at(expr, loop_vars, k))
    return expr


HOIST = Pass("hoist", plan, emit)
