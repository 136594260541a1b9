"""What the loop passes share: the site a pass looks at, the pass record, and small helpers.

A pass is tried on a `Site` (one output's loop nest as far as the passes before it have
written it). Its `plan` inspects the site and returns a frozen plan, or None when the rewrite
does not apply; its `emit` writes the plan's loops and returns None when the output is written,
or the Site to go on with (a pass that only prepares, like `blas` and `hoist`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symnn.codegen.lower import Loop, LoweredOutput
from symnn.codegen.printer import NumbaPrinter
from symnn.codegen.spec import KernelSpec

JAM_LIMIT = 16  # most elements jammed (or window positions unrolled) for loops of fixed length


@dataclass(frozen=True)
class Site:
    """One output's loop nest being written: `target op expr` over `lo.loops`; `expr` is the
    output's value as far as earlier passes have rewritten it (hoisted Sums replaced)."""

    spec: KernelSpec
    lo: LoweredOutput
    expr: sp.Expr
    target: str  # the printed output element, `Y[i, j]`
    op: str  # "=", or "+=" for an accumulating output

    @property
    def plain(self) -> bool:
        """No guard and no accumulation: the rewrites that reorder loops apply only then."""
        return not self.lo.guard and not self.lo.output.accumulate

    @property
    def loops(self) -> list[Loop]:
        return list(self.lo.loops)


@dataclass(frozen=True)
class Pass:
    """A named loop rewrite: plan(printer, site) -> plan or None; emit(printer, site, plan) ->
    None (the output is written) or the Site the next passes continue with."""

    name: str
    plan: Callable[[NumbaPrinter, Site], Any]
    emit: Callable[[NumbaPrinter, Site, Any], Site | None]

    @property
    def doc(self) -> str:
        """The first line of the plan function's docstring: what the pass does, when it applies."""
        return (self.plan.__doc__ or "").strip().split("\n")[0]


def positions(fixed: list[Loop]) -> list[dict]:
    """Every index combination of loops of fixed length, in the loops' order."""
    return [
        dict(zip([v for v, _, _ in fixed], vals))
        for vals in itertools.product(*[range(int(a), int(b) + 1) for _, a, b in fixed])
    ]


def read_once(p: NumbaPrinter, w: sp.Expr, subs: list[dict]) -> list[sp.Dummy]:
    """w at every window position, read into its own variable (w, w1, ...)."""
    names = []
    for sub in subs:
        names.append(p.temp("w"))
        p.emit(f"{p.names[names[-1]]} = {p.code(w.xreplace(sub))}")
    return names


def split_sum(expr: sp.Expr) -> tuple[sp.Sum | None, sp.Expr]:
    """expr as (Sum, rest without Sums), or (None, expr) when it is not of that form."""
    terms = sp.Add.make_args(expr)
    sums = [t for t in terms if isinstance(t, sp.Sum)]
    if len(sums) != 1:
        return None, expr
    rest = sp.Add(*[t for t in terms if t is not sums[0]])
    if rest.has(sp.Sum):
        return None, expr
    return sums[0], rest


def top_sums(expr: sp.Expr) -> list[sp.Sum]:
    """The Sums of expr that are not inside another Sum or a Piecewise."""
    if isinstance(expr, sp.Sum):
        return [expr]
    if isinstance(expr, sp.Piecewise) or not isinstance(expr, sp.Basic):
        return []
    return [s for a in expr.args for s in top_sums(a)]
