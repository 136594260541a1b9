"""The fold pass's float32 form: a scatter sum dX[.., i + p, j + q] += A[..]·B[.., i, j] (the
input gradient of a convolution, unit stride) written as the full correlation of B framed by
zeros, through the window pass's flat pixel loop, no BLAS; each element's terms in the written
order, so the scatter loops' numbers bit for bit. symnn.codegen.passes.unfold's fold plan
carries it (GemmPlan.direct) and its kernel takes it at run time in float32."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import sympy as sp

from symnn.codegen.passes import window
from symnn.codegen.passes.base import JAM_LIMIT, Loop, Site, positions
from symnn.codegen.printer import NumbaPrinter
from symnn.parse import as_expr

if TYPE_CHECKING:
    from symnn.codegen.passes.unfold import GemmPlan

DIRECT_ITEMSIZE = 4  # the fold pass runs the scatter form as a correlation (no BLAS) in float32: the
# 8 -> 16 channel layer's input gradient 1.55 -> 1.44 ms on one thread (1.9 -> 1.6 under load); in
# float64 np.dot + col2im is as fast or faster, and stays


@dataclass(frozen=True)
class Correlation:
    """dX[lead.., i + p, j + q] += A[..]·B[.., i, j] (unit stride) as the full correlation of B,
    framed by k - 1 zeros on each side (`framed`, one sample's copy, rows W_out + k_w - 1 long:
    the frame between two rows is shared), with A's window reversed:
    dX[lead.., P, Q] = Σ_r Σ_{m,n} A[p = k_h-1-m, q = k_w-1-n]·framed[.., P + m, Q + n], which the
    window pass writes (one flat pixel loop along the framed rows). Per element the terms come
    in the written order (r, then i = P + m - (k_h - 1) ascending, then j; the plan applies only
    to loops in that order, the window innermost): the scatter loops' numbers bit for bit, where
    the frame adds products with 0 (so a K holding inf or NaN gives NaN there)."""

    framed: sp.IndexedBase
    lead: tuple[Loop, ...]  # the samples, one frame each
    fill: tuple[Loop, ...]  # B's own loops (r, i, j), to copy it into the frame
    source: sp.Indexed  # B[.., i, j]
    inside: sp.Indexed  # framed[.., i + k_h - 1, j + k_w - 1]
    shape: tuple[sp.Expr, ...]  # the frame's shape
    window: window.WindowPlan  # over the output's loops but the lead, pixels (P, Q)
    target: sp.Indexed  # dX[lead.., P, Q]
    region: tuple[Loop, ...]  # the output's loops it writes, in its index order


def _unit_sum(index: sp.Expr, pixel: set, offsets: set) -> tuple[sp.Symbol, sp.Symbol] | None:
    """(i, p) when index is i + p, i a pixel variable, p a window one; else None."""
    terms = sp.Add.make_args(sp.expand(as_expr(index)))
    if len(terms) != 2 or not all(isinstance(t, sp.Symbol) for t in terms):
        return None
    a, b = terms
    if a in offsets:
        a, b = b, a
    return (a, b) if a in pixel and b in offsets else None


def correlation(site: Site, plan: GemmPlan) -> Correlation | None:
    """The Correlation of a fold plan whose output's last two indices are i + p and j + q (pixel
    loops of one factor B, where they are B's last two indices, plus window loops of fixed size of
    the other factor A) and whose other indices are loop variables; else None."""
    lo, loops = site.lo, {v: (v, a, b) for v, a, b in plan.lead + plan.outer + plan.g1 + plan.r + plan.g2}
    target = [as_expr(k) for k in lo.target or ()]
    if len(target) < 3 or plan.outer:
        return None
    for a_op, b_op in ((plan.p1, plan.p2), (plan.p2, plan.p1)):
        b_idx = [as_expr(k) for k in b_op.factor.indices]
        pixel = set(b_idx[-2:])
        offsets = {v for v, lo_, hi in loops.values() if v in a_op.factor.free_symbols and (hi - lo_).is_Integer}
        pairs = [_unit_sum(k, pixel, offsets) for k in target[-2:]]
        if None in pairs or [i for i, _ in pairs] != b_idx[-2:] or len(b_idx) < 3:  # type: ignore[misc]
            continue
        (i, m), (j, n) = pairs  # type: ignore[misc]
        if not all(isinstance(k, sp.Symbol) and k in loops for k in target[:-2] + b_idx[:-2]):
            return None
        if a_op.factor.free_symbols & {i, j} or b_op.factor.free_symbols & {m, n}:
            return None
        if not _written_order(site.lo.loops, [k for k in b_idx[:-2] if k not in target], i, j, (m, n)):
            return None
        return _correlation(site, plan, loops, a_op.factor, b_op.factor, target, (i, m), (j, n))
    return None


def _written_order(loops, summed, i, j, window_vars) -> bool:
    """True when the loops run the summed variables, then i, then j, then the window: each
    element then gets its terms in the order (summed.., i, j), the correlation's order."""
    order = [v for v, _, _ in loops]
    if not all(v in order for v in [*summed, i, j, *window_vars]):
        return False
    at = [order.index(v) for v in summed]
    first_window = min(order.index(v) for v in window_vars)
    return at == sorted(at) and max(at, default=-1) < order.index(i) < order.index(j) < first_window


def _correlation(site, plan, loops, a, b, target, im, jn) -> Correlation | None:
    (i, m), (j, n) = im, jn
    kh, kw = (loops[v][2] - loops[v][1] + 1 for v in (m, n))
    if loops[m][1] != 0 or loops[n][1] != 0 or kh * kw > JAM_LIMIT:
        return None
    lead = {v for v, _, _ in plan.lead}
    keep = [k for k in b.indices[:-2] if k not in lead]  # the frame holds one sample (the lead's)
    framed = sp.IndexedBase(sp.Dummy("gz"))  # a label of its own
    hi_i, hi_j = loops[i][2], loops[j][2]
    # rows of W_out + k_w - 1: a row's right frame is the next row's left one (reads past a row's
    # end land on zeros), and one row more at the bottom; the flat loop then runs over dX's plane
    shape = (*[loops[k][2] + 1 for k in keep], hi_i + 2 * kh, hi_j + kw)
    big_p, big_q, dm, dn = (sp.Dummy(x) for x in ("P", "Q", "m", "n"))
    fixed = ((dm, sp.S.Zero, kh - 1), (dn, sp.S.Zero, kw - 1))
    w = a.xreplace({m: kh - 1 - dm, n: kw - 1 - dn})
    x = sp.Indexed(framed, *keep, big_p + dm, big_q + dn)
    inner = ((big_p, sp.S.Zero, hi_i + kh - 1), (big_q, sp.S.Zero, hi_j + kw - 1))
    outer = tuple(loops[k] for k in target[:-2] if k not in lead)
    runtime = tuple(loops[k] for k in keep if k not in target)
    if not runtime:
        return None
    flat = window.FlatPixels(tuple(keep), tuple((int(u[dm]), int(u[dn])) for u in positions(list(fixed))))
    plan_w = window.WindowPlan(outer, inner, runtime, fixed, w, x, sp.S.Zero, flat)
    fill = tuple(loops[k] for k in b.indices if k not in lead)
    inside = sp.Indexed(framed, *keep, i + kh - 1, j + kw - 1)
    dx = sp.Indexed(site.lo.output.base, *target[:-2], big_p, big_q)
    region = (*[loops[k] for k in target[:-2]], *inner)
    return Correlation(framed, plan.lead, fill, b, inside, shape, plan_w, dx, region)


def emit_correlation(p: NumbaPrinter, site: Site, c: Correlation) -> None:
    """The frame (zeros) allocated once; per sample (the lead loops) B copied inside it, then
    the window pass's flat pixel loop over the output's other loops (over dX's whole plane)."""
    depth, active = p.depth, set(p.active)
    dtype = f"{p.code(site.lo.output.base)}.dtype"
    p.emit(f"{p.name(c.framed)} = np.zeros(({', '.join(p.code(e) for e in c.shape)}), {dtype})  # the frame")
    p.open_loops(c.lead)
    d = p.depth
    p.open_loops(c.fill)
    p.emit(f"{p.code(c.inside)} = {p.code(c.source)}")
    p.depth = d
    wx, npix = window.flat_sizes(p, c.window)  # the flat form only: the rows would index past a row
    assert c.window.flat is not None
    window.emit_flat(p, replace(site, target=p.code(c.target)), c.window, c.window.flat, wx, npix)
    p.depth, p.active = depth, active
