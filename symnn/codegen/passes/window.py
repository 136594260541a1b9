"""window and scatter-window: a fixed window's coefficients read once, outside the pixel loops.

`window` applies to a plain output Y[outer, inner] = Σ_R Σ_F w[outer, R, F]·x[...] + rest (a
convolutional layer): R sum indices of run-time length (channels), first, F a window of fixed
size (3 × 3, at most JAM_LIMIT positions), w an array entry that does not depend on the inner
output loops (the pixels). The channel loops then run outside the pixel loops: per channel the
window's coefficients are read once into variables, and each pixel adds its terms to Y in the
written order. Every element sees the same additions in the same order as
`acc = 0; acc += ...; Y = acc + rest` (bit for bit).

When x is X[.., i + dm, j + dn] (unit stride, the pixels the last two axes of both Y and X), the
pixel loops become one flat loop (`FlatPixels`): the sums are kept in a buffer laid out as X's
rows, Y[.., i, j] at i·W_X + j, so every window position reads X's plane at one offset,
row_dm[p + dn]; one loop of (H_out - 1)·W_X + W_out pixels instead of H_out loops of W_out, which
LLVM vectorises without a scalar tail per row (W_out = 26 is 3 × 8 + 2 in float32). The few
positions with j >= W_out are summed too and never read. The kernel picks the form at run time:
the one with fewer vector steps plus scalar tail iterations (VECTOR_BYTES wide), so rows that fill
the vectors (W_out = 8) stay rows. X is read through one flat view at offsets max(.., 0): Numba's
negative-index check then folds away and the loop vectorises (views made per channel cost more
than the loop saves). Each element's additions stay as written.

`scatter-window` applies to a scatter form dX[..., s·i + m, ...] += x·w (lo.unclipped, with a
clearing pass) whose window loops (m, n) have a fixed size and whose factor w (the kernel
entry) does not depend on the loops inside the last one it reads: w is read once per window
position outside those loops, x once per pixel, then one statement per window position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from symnn.codegen.lower import order_loops
from symnn.codegen.passes import scatter
from symnn.codegen.passes.base import JAM_LIMIT, Loop, Pass, Site, positions, read_once, split_sum
from symnn.codegen.printer import NumbaPrinter
from symnn.parse import as_expr

VECTOR_BYTES = 32  # the vector width the flat form's run-time choice assumes (AVX2)


@dataclass(frozen=True)
class WindowPlan:
    """Y = Σ_runtime Σ_fixed w·x + rest over `outer` then `inner` (pixel) loops."""

    outer: tuple[Loop, ...]
    inner: tuple[Loop, ...]
    runtime: tuple[Loop, ...]  # the Sum's limits of run-time length (channels)
    fixed: tuple[Loop, ...]  # the Sum's limits of fixed length (the window)
    w: sp.Indexed  # the coefficient, free of the inner loops
    x: sp.Expr  # the other factor
    rest: sp.Expr
    flat: FlatPixels | None = None  # the pixels as one loop along X's rows, when x allows it


@dataclass(frozen=True)
class FlatPixels:
    """x = X[lead.., i + dm, j + dn] at every window position: (dm, dn) per position, in order."""

    lead: tuple[sp.Expr, ...]  # X's indices before the last two (free of pixels and window)
    offsets: tuple[tuple[int, int], ...]


def flat_pixels(site: Site, inner: list[Loop], fixed: list[Loop], x: sp.Expr) -> FlatPixels | None:
    """The flat form's offsets when the pixels are Y's last two axes, from 0, and x is X[lead..,
    i + dm, j + dn] with integer dm, dn >= 0 at every window position; else None."""
    if len(inner) != 2 or not isinstance(x, sp.Indexed) or len(x.indices) < 2 or any(a != 0 for _, a, _ in inner):
        return None
    (i, _, _), (j, _, _) = inner
    out = [as_expr(k) for k in site.lo.output.indices]
    if out[-2:] != [i, j] or any(k.free_symbols & {i, j} for k in out[:-2]):
        return None
    window = {v for v, _, _ in fixed}
    lead = tuple(as_expr(k) for k in x.indices[:-2])
    if any(k.free_symbols & (window | {i, j}) for k in lead):
        return None
    offsets = []
    for sub in positions(fixed):
        dm, dn = (sp.sympify((as_expr(k) - v).xreplace(sub)) for k, v in ((x.indices[-2], i), (x.indices[-1], j)))
        if not (dm.is_Integer and dn.is_Integer and dm >= 0 and dn >= 0):
            return None
        offsets.append((int(dm), int(dn)))
    return FlatPixels(lead, tuple(offsets))


def plan(p: NumbaPrinter, site: Site) -> WindowPlan | None:
    """The channel-outside form, when the plain output is Σ_R Σ_F w·x + rest as above; else None."""
    lo, expr = site.lo, site.expr
    if not site.plain:
        return None
    total, rest = split_sum(expr)
    if total is None or len(lo.loops) < 2:
        return None
    limits = list(total.limits)
    fixed = [(v, a, b) for v, a, b in limits if (b - a + 1).is_Integer]
    runtime = [lim for lim in limits if lim not in fixed]
    if not runtime or not fixed or limits[: len(runtime)] != runtime:
        return None
    if math.prod(int(b - a + 1) for _, a, b in fixed) > JAM_LIMIT:
        return None
    factors = sp.Mul.make_args(total.function)
    if len(factors) != 2:
        return None
    loop_vars = [v for v, _, _ in lo.loops]
    for n_inner in range(len(loop_vars) - 1, 0, -1):
        inner = loop_vars[-n_inner:]
        ws = [f for f in factors if not f.free_symbols & set(inner)]
        if len(ws) == 1 and isinstance(ws[0], sp.Indexed):
            w = ws[0]
            x = factors[1] if factors[0] is w else factors[0]
            sum_vars = {v for v, _, _ in limits}
            if (
                not x.free_symbols & set(inner)
                or rest.free_symbols & sum_vars
                or lo.output.base in expr.atoms(sp.IndexedBase)
                or any((a.free_symbols | b.free_symbols) & (sum_vars | set(inner)) for _, a, b in lo.loops[:-n_inner])
            ):
                return None
            inner_loops = tuple(lo.loops[-n_inner:])
            flat = flat_pixels(site, list(inner_loops), fixed, x)
            return WindowPlan(tuple(lo.loops[:-n_inner]), inner_loops, tuple(runtime), tuple(fixed), w, x, rest, flat)
    return None


def emit(p: NumbaPrinter, site: Site, plan: WindowPlan) -> None:
    """The pixel loops row by row (emit_rows); with a flat form as well, chosen at run time by
    the count of vector steps plus scalar tail iterations (VECTOR_BYTES wide), the fewer wins."""
    if plan.flat is None:
        emit_rows(p, site, plan)
        return
    (_, _, hi_i), (_, _, hi_j) = plan.inner
    wx, npix = flat_sizes(p, plan)
    lanes = p.temp("lanes")
    h_out, w_out = p.code(hi_i + 1), p.code(hi_j + 1)
    p.emit(f"{p.names[lanes]} = max({VECTOR_BYTES} // {p.code(site.lo.output.base)}.itemsize, 1)")
    n, v = p.names[npix], p.names[lanes]
    rows = f"({h_out})*(({w_out}) // {v} + ({w_out}) % {v})"
    p.emit(f"if {rows} <= {n} // {v} + {n} % {v}:  # the pixels row by row")
    with p.indented():
        emit_rows(p, site, plan)
    p.emit("else:  # one flat pixel loop: fewer vector steps and scalar tails")
    with p.indented():
        emit_flat(p, site, plan, plan.flat, wx, npix)


def flat_sizes(p: NumbaPrinter, plan: WindowPlan) -> tuple[sp.Dummy, sp.Dummy]:
    """(wx, npix): X's row length and the flat loop's pixel count, (H_out - 1)·W_X + W_out."""
    (_, _, hi_i), (_, _, hi_j) = plan.inner
    wx, npix = p.temp("wx"), p.temp("npix")
    h_out, w_out = p.code(hi_i + 1), p.code(hi_j + 1)
    p.emit(f"{p.names[wx]} = {p.code(plan.x.base)}.shape[{len(plan.x.indices) - 1}]")
    p.emit(f"{p.names[npix]} = ({h_out} - 1)*{p.names[wx]} + {w_out} if {h_out} > 0 and {w_out} > 0 else 0")
    return wx, npix


def emit_rows(p: NumbaPrinter, site: Site, plan: WindowPlan) -> None:
    """Y cleared per pixel; per channel the coefficients read once and every pixel's terms added
    through one accumulator; then the rest added per pixel."""
    target = site.target
    depth0, active0 = p.depth, set(p.active)
    p.open_loops(plan.outer, parallel=site.spec.parallel)

    def pixels(statements):
        depth = p.depth
        p.open_loops(plan.inner)
        statements()
        p.depth = depth

    pixels(lambda: p.emit(f"{target} = 0.0"))
    depth = p.depth
    p.open_loops(order_loops(list(plan.runtime)))
    window = positions(list(plan.fixed))
    coefficients = read_once(p, plan.w, window)

    def accumulate():
        acc = p.temp("acc")
        p.emit(f"{p.names[acc]} = {target}")
        for c, sub in zip(coefficients, window):
            p.emit(f"{p.names[acc]} += {p.code(c * plan.x.xreplace(sub))}")
        p.emit(f"{target} = {p.names[acc]}")

    pixels(accumulate)
    p.depth = depth
    if plan.rest != 0:
        acc = sp.Dummy("acc")
        p.names[acc] = target
        pixels(lambda: p.statements(target, acc + plan.rest))
    p.depth, p.active = depth0, active0


def emit_flat(p: NumbaPrinter, site: Site, plan: WindowPlan, flat: FlatPixels, wx: sp.Dummy, npix: sp.Dummy) -> None:
    """X as one flat array (a view of a C-ordered X, else one copy) and a buffer of
    (H_out - 1)·W_X + W_out sums of Y's dtype (one per prange iteration in a parallel kernel);
    per output plane the buffer cleared; per channel the coefficients read once, the offset of
    each window row in X at max(.., 0), every pixel's terms added; then Y[.., i, j] =
    buf[i·W_X + j] + rest."""
    (i, _, _), (j, _, _) = plan.inner
    x_base, y_base = p.code(plan.x.base), p.code(site.lo.output.base)
    buf, px = p.temp("buf"), p.temp("px")
    xf = p.names[p.temp("xf")]
    p.emit(f"{xf} = {x_base}.ravel()  # X as it lies (a view when C-ordered, else one copy)")
    depth0, active0 = p.depth, set(p.active)
    outer, parallel = list(plan.outer), site.spec.parallel
    if parallel:  # one buffer per iteration of the prange
        p.open_loops(outer[:1], parallel=True)
    # a fresh array of Y's dtype (the module imports NumPy only when it calls np.dot)
    p.emit(f"{p.names[buf]} = {y_base}.ravel()[:1].repeat({p.names[npix]})  # the sums along X's rows")
    p.open_loops(outer[1:] if parallel else outer)
    pixel = [(px, sp.S.Zero, npix - 1)]
    cell = f"{p.names[buf]}[{p.names[px]}]"
    depth = p.depth
    p.open_loops(pixel)
    p.emit(f"{cell} = 0.0")
    p.depth = depth
    p.open_loops(order_loops(list(plan.runtime)))
    window = positions(list(plan.fixed))
    coefficients = read_once(p, plan.w, window)
    nd = len(plan.x.indices)
    linear = "0"  # the flat index of X[lead.., 0, 0]
    for k, index in enumerate(flat.lead):
        linear = f"({linear})*{x_base}.shape[{k}] + {p.code(index)}" if k else p.code(index)
    linear = f"(({linear})*{x_base}.shape[{nd - 2}])*{p.names[wx]}" if flat.lead else "0"
    rows: dict[int, str] = {}
    for dm, _ in flat.offsets:
        if dm not in rows:  # max(.., 0): LLVM then knows the index >= 0 and vectorises the loop
            rows[dm] = p.names[p.temp("at")]
            shift = f" + {dm}*{p.names[wx]}" if dm else ""
            p.emit(f"{rows[dm]} = max({linear}{shift}, 0)")
    p.open_loops(pixel)
    acc = p.names[p.temp("acc")]
    p.emit(f"{acc} = {cell}")
    for c, (dm, dn) in zip(coefficients, flat.offsets):
        at = f"{rows[dm]} + {p.names[px]}" + (f" + {dn}" if dn else "")
        p.emit(f"{acc} += {p.code(c)}*{xf}[{at}]")
    p.emit(f"{cell} = {acc}")
    p.depth = depth
    p.open_loops(plan.inner)
    total = sp.Dummy("acc")
    p.names[total] = f"{p.names[buf]}[max({p.code(i)}*{p.names[wx]}, 0) + {p.code(j)}]"
    p.statements(site.target, total + plan.rest)
    p.depth, p.active = depth0, active0


@dataclass(frozen=True)
class ScatterWindowPlan:
    """Clear over `zero`; over `outer` the window's w read once; over `inner` x once per pixel and
    one `dX[...] += x·w` per position of the `window` loops."""

    zero: tuple[Loop, ...]
    outer: tuple[Loop, ...]
    inner: tuple[Loop, ...]
    window: tuple[Loop, ...]
    w: sp.Indexed
    x: sp.Expr


def scatter_plan(p: NumbaPrinter, site: Site) -> ScatterWindowPlan | None:
    """The scatter form with its window unrolled, when the output is dX[.., s·i + m, ..] += x·w as
    above (unclipped, cleared first, a window of at most JAM_LIMIT positions); else None."""
    lo = site.lo
    if lo.target is None or not lo.unclipped or not lo.zero:
        return None
    loops = list(lo.loops)
    window: list[Loop] = []
    while (
        loops
        and (loops[-1][2] - loops[-1][1] + 1).is_Integer
        and any(loops[-1][0] in as_expr(i).free_symbols for i in lo.target)
    ):
        window.insert(0, loops.pop())
    size = math.prod(int(b - a + 1) for _, a, b in window) if window else 0
    factors = sp.Mul.make_args(lo.expr)
    if not window or size > JAM_LIMIT or len(factors) != 2:
        return None
    w_vars = [v for v, _, _ in window]
    for w in factors:
        x = factors[1] if w is factors[0] else factors[0]
        if not isinstance(w, sp.Indexed) or x.free_symbols & set(w_vars):
            continue
        used = [k for k, (v, _, _) in enumerate(loops) if v in w.free_symbols]
        last = max(used, default=-1)
        if last < len(loops) - 1 and not any((a.free_symbols | b.free_symbols) & set(w_vars) for _, a, b in loops):
            return ScatterWindowPlan(
                tuple(lo.zero), tuple(loops[: last + 1]), tuple(loops[last + 1 :]), tuple(window), w, x
            )
    return None


def scatter_emit(p: NumbaPrinter, site: Site, plan: ScatterWindowPlan) -> None:
    """The clearing pass; the window's kernel entries read once into variables outside the pixel
    loops, the pixel's own factor once per pixel, then one statement per window position, in the
    loops' order: the same additions in the same order as the loops over the window (bit for bit)."""
    lo = site.lo
    if lo.target is None:
        raise ValueError(f"{lo.output.base}: the scatter-window pass needs the scatter form's output indices (target)")
    depth0, active0 = p.depth, set(p.active)
    scatter.clear(p, site, plan.zero)
    p.open_loops(plan.outer)
    subs = positions(list(plan.window))
    coefficients = read_once(p, plan.w, subs)
    depth = p.depth
    p.open_loops(plan.inner)
    g = p.temp("g")
    p.emit(f"{p.names[g]} = {p.code(plan.x)}")
    for c, sub in zip(coefficients, subs):
        target = p.code(sp.Indexed(lo.output.base, *[as_expr(i).xreplace(sub) for i in lo.target]))
        p.emit(f"{target} += {p.code(g * c)}")
    p.depth = depth
    p.depth, p.active = depth0, active0


WINDOW = Pass("window", plan, emit)
SCATTER_WINDOW = Pass("scatter-window", scatter_plan, scatter_emit)
