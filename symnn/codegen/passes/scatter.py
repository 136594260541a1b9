"""scatter: the scatter form of symnn.codegen.lower (steps 5 and 6), written as loops.

Applies to an output that lowering put in scatter form (`lo.target` set): a gradient whose
terms are added where they belong (dX[s·i + m] += ...) instead of gathered per element, or a
delinearised output written where its index lands. The loops clear the output first (when
lowering asks for it, `lo.zero`), then run over the terms in the written order. Always the last
resort for a scatter form: `scatter-window` (symnn.codegen.passes.window) is tried first.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symnn.codegen.passes.base import Loop, Pass, Site
from symnn.codegen.printer import NumbaPrinter


@dataclass(frozen=True)
class ScatterPlan:
    """Clear the output over `zero` (when not empty), then `output[target] op value` over `loops`."""

    zero: tuple[Loop, ...]
    loops: tuple[Loop, ...]
    op: str  # "+=" after a clearing pass, "=" when every element is written once


def plan(p: NumbaPrinter, site: Site) -> ScatterPlan | None:
    """The scatter form's loops, when the output is in scatter form; else None."""
    lo = site.lo
    if lo.target is None:
        return None
    return ScatterPlan(tuple(lo.zero), tuple(lo.loops), "+=" if lo.zero else "=")


def clear(p: NumbaPrinter, site: Site, zero: tuple[Loop, ...]) -> None:
    """`target = 0.0` over the clearing loops (none: nothing written)."""
    if zero:
        depth, active = p.depth, set(p.active)
        p.open_loops(zero)
        p.emit(f"{site.target} = 0.0")
        p.depth, p.active = depth, set(active)


def emit(p: NumbaPrinter, site: Site, plan: ScatterPlan) -> None:
    """Clear the output, then add every term where it belongs."""
    lo = site.lo
    if lo.target is None:
        raise ValueError(f"{lo.output.base}: the scatter pass needs the scatter form's output indices (target)")
    depth, active = p.depth, set(p.active)
    clear(p, site, plan.zero)
    p.open_loops(plan.loops)
    p.statements(p.code(sp.Indexed(lo.output.base, *lo.target)), lo.expr, plan.op)
    p.depth, p.active = depth, active


SCATTER = Pass("scatter", plan, emit)
