"""The loop writer: each lowered output's loop nest, through the passes of symnn.codegen.passes.

Outputs over the same loops are written in one pass (a max-pool's maximum and its switch); any
other output is offered to each pass of PASSES in order, and written as its loops when no pass
writes it.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symnn.codegen.lower import LoweredOutput, order_loops
from symnn.codegen.passes import PASSES, Site
from symnn.codegen.passes.hoist import open_hoisting
from symnn.codegen.printer import NumbaPrinter, identifier
from symnn.codegen.spec import KernelSpec


def write_outputs(
    p: NumbaPrinter,
    spec: KernelSpec,
    lowered: list[LoweredOutput],
    names: dict[sp.Basic, str],
    trace: list | None = None,
) -> None:
    """The loop nests of every output, in order; outputs that can share one pass share it. With
    `trace`, each output written alone appends the [(pass name, plan), ...] that wrote it."""
    k = 0
    while k < len(lowered):
        group = same_loop_outputs(lowered, k)
        if len(group) > 1 and isinstance(group[0].expr, sp.Sum):
            fused_outputs(p, spec, group, names)
        elif len(group) > 1:
            fused_values(p, spec, group, names)
        else:
            output_loops(p, spec, lowered[k], names, trace)
        k += len(group)


def output_loops(
    p: NumbaPrinter, spec: KernelSpec, lo: LoweredOutput, names: dict[sp.Basic, str], trace: list | None = None
) -> None:
    """The loop nest of one output: each pass in PASSES order; a final one ends the output, else
    the loops as written (Sums hoisted to the loop level they depend on, for a plain output)."""
    depth, active = p.depth, set(p.active)
    site = Site(spec, lo, lo.expr, target(p, lo, names), "+=" if lo.output.accumulate else "=")
    applied: list[tuple[str, Any]] = []
    if trace is not None:
        trace.append(applied)
    for rewrite in PASSES:
        plan = rewrite.plan(p, site)
        if plan is not None:
            applied.append((rewrite.name, plan))
            after = rewrite.emit(p, site, plan)
            if after is None:
                break
            site = after
    else:
        expr = open_hoisting(p, site, site.loops)
        expr = sp.Piecewise((expr, sp.And(*lo.guard)), (0, True)) if lo.guard else expr
        p.statements(site.target, expr, site.op)
    p.depth, p.active = depth, active


def same_loop_outputs(lowered: list[LoweredOutput], k: int) -> list[LoweredOutput]:
    """lowered[k] and the outputs right after it over the same loops whose values are Sums
    with the same limits (a max-pool's maximum and its switch), or which are no Sums at all
    (the 2 × 2 max-pool's Max and its switch): they can share one pass."""

    def kind(lo):
        """The Sum's limits, "value" for an expression without Sums, None: not shareable."""
        if lo.target is not None or lo.guard or lo.output.accumulate:
            return None
        if isinstance(lo.expr, sp.Sum):
            return lo.expr.limits
        return None if lo.expr.has(sp.Sum) else "value"

    group, first = [lowered[k]], kind(lowered[k])
    if first is None:
        return group
    for lo in lowered[k + 1 :]:
        if lo.loops != group[0].loops or kind(lo) != first:
            break
        group.append(lo)
    return group


def target(p: NumbaPrinter, lo: LoweredOutput, names: dict[sp.Basic, str]) -> str:
    """The output element the loops write, `Y[i, j]` (`y[()]` for a scalar)."""
    return f"{names[lo.output.base]}[{', '.join(p.name(v) for v in lo.output.indices) or '()'}]"


def fused_values(p: NumbaPrinter, spec: KernelSpec, group: list[LoweredOutput], names: dict[sp.Basic, str]) -> None:
    """Outputs over the same loops written in one pass; what their values share is computed once."""
    depth, active = p.depth, set(p.active)
    p.open_loops(group[0].loops, parallel=spec.parallel)
    p.assign_all([(target(p, lo, names), lo.expr) for lo in group])
    p.depth, p.active = depth, active


def fused_outputs(p: NumbaPrinter, spec: KernelSpec, group: list[LoweredOutput], names: dict[sp.Basic, str]) -> None:
    """Outputs Σ f_1, Σ f_2, ... over the same loops and limits, accumulated in one pass of the
    loops: each keeps its own accumulator and order; what their terms share is computed once."""
    depth, active = p.depth, set(p.active)
    p.open_loops(group[0].loops, parallel=spec.parallel)
    limits, bodies = [], [lo.expr.function for lo in group]
    for v, a, b in group[0].expr.limits:
        if v in p.active:
            w = sp.Dummy(v.name, integer=True)
            p.names[w] = p.fresh(identifier(v.name))
            bodies = [body.xreplace({v: w}) for body in bodies]
            v = w
        limits.append((v, a, b))
    accs = [p.temp("acc") for _ in group]
    for acc in accs:
        p.emit(f"{p.names[acc]} = 0.0")
    inner_depth = p.depth
    p.open_loops(order_loops(limits))
    p.assign_all([(p.names[acc], body) for acc, body in zip(accs, bodies)], "+=")
    p.depth = inner_depth
    for lo, acc in zip(group, accs):
        p.emit(f"{target(p, lo, names)} = {p.names[acc]}")
    p.depth, p.active = depth, active


def trace(spec: KernelSpec) -> list[list[tuple[str, Any]]]:
    """The passes that write spec's loops: for each output written alone (not fused with the next
    ones), [(pass name, plan), ...] in the order applied ([]: its loops as written)."""
    from symnn.codegen.lower import lower
    from symnn.codegen.writer import identifiers

    names = identifiers(spec)
    found: list[list[tuple[str, Any]]] = []
    write_outputs(NumbaPrinter(names=names), spec, lower(spec), names, found)
    return found
