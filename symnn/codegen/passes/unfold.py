"""unfold and fold: a Σ of two array factors over windows, as one matrix product per sample (BLAS).

Both apply to an output whose value is one Sum of a product of two array entries, A[...]·B[...],
where each loop variable of the output appears in one factor only and each variable summed over
appears in both (the index expressions may be anything: X[t, c, s·i + m, s·j + n]). The sum is
then a matrix product over *unfolded* operands,

    P1[g1, r] = A[...]   P2[r, g2] = B[...]   C = P1 · P2   (one np.dot)

g1 and g2 the output variables of each factor, r the variables summed over, each group
linearised row-major in the written order. The operands are gathered into contiguous matrices by
loops (im2col: each window of X becomes a column), so the product runs in BLAS whatever the
arrays' layout (an operand that is its array as it lies, G[t, f, i, j] as sample t's (F, H·W)
matrix, is a view instead: np.ascontiguousarray(G[t]).reshape, no copy for a C-ordered G), and the
result is written back by loops:

    unfold   a gathering output, Y[t, f, i, j] = Σ_{c,m,n} K[f,c,m,n]·X[t,c,s·i+m,s·j+n] + b[f] (the
             convolution; its kernel gradient dK[f,c,p,q] = Σ_{t,i,j} G[t,f,i,j]·X[t,c,s·i+p,s·j+q]
             too): Y[...] = C[...] + rest
    fold     a scatter form, dX[t, c, s·i + p, s·j + q] += G[t,f,i,j]·K[f,c,p,q] summed over f (the
             input gradient): C = Kᵀ·G, then every entry of C added where its window puts it (col2im);
             in float32, at unit stride with a fixed window, the full correlation of G framed by zeros
             instead (`Correlation`: the window pass's flat pixel loop, no BLAS, each element's terms
             in the written order, so bit for bit the written loops' numbers)

A leading output variable that is the first index of one factor (the sample t) runs outside the
product, one np.dot per sample, so the unfolded matrix stays one sample's size; a summed variable
that is the first index of both factors (dK's sample t) runs outside too, the products added up
(each as Cᵀ = P2ᵀ·P1ᵀ in float32, which OpenBLAS runs faster for dK's shapes: FLIP_ASPECT).

The passes apply to a spec that asks for them (`KernelSpec.unfold`, the '[unfold,...]'
specialisations): np.dot and the unfolding loops make a kernel 3-4x slower to compile, so the
layers ask for these compilations only for calls of UNFOLD_MIN multiply-adds or more (Conv2D,
symnn.nn.cnn_layers) and small nets never compile them. The kernel still tests at run time: at
least UNFOLD_MIN multiply-adds and, for a gathering output, a product at least UNFOLD_DEPTH deep
-> the BLAS branch, else the written loops (which the passes after these write in the `else:`;
bench/conv_gemm.py measures both). Like `blas`, these do not keep the written order of
additions: BLAS sums in its own order (and blocks, and fuses multiply-adds). A spec with
`exact=True` is left to the written loops (fit(exact_order=True) never asks for `unfold`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import sympy as sp

from symnn.codegen.passes.base import Loop, Pass, Site, split_sum
from symnn.codegen.passes.correlation import DIRECT_ITEMSIZE, Correlation, correlation, emit_correlation
from symnn.codegen.printer import NumbaPrinter
from symnn.parse import as_expr

UNFOLD_MIN = 1 << 18  # multiply-adds from which a window sum goes to BLAS (262,144)
FLIP_ASPECT = 8  # a sum of products C = Σ_t P1·P2 (the kernel gradient's (F, C·k_h·k_w)) is computed
# as Cᵀ = Σ_t P2ᵀ·P1ᵀ in float32, and in float64 when C has FLIP_ASPECT times more columns than rows:
# with the long side as rows, OpenBLAS's float32 products run 1.4x faster (16 x 72 on one thread,
# 1.85 -> 1.3 ms for the whole kernel); in float64 the 16 x 72 product is 10 % slower that way on one
# thread (10 % faster on two). The input gradient's and the forward pass's C, written back per
# sample, stay as they are (read across Cᵀ, their write-back loses more than the product gains).
UNFOLD_DEPTH = 128  # a gathering output's product goes to BLAS only this deep or deeper: the
# convolution's C_in·k_h·k_w (its loops run along the output rows, vectorised, as fast as BLAS on
# 28 x 28 maps at 8 x 3 x 3 = 72; at 16 x 3 x 3 = 144 BLAS is 1.2-1.4x faster), the kernel
# gradient's N·H_out·W_out


@dataclass(frozen=True)
class Operand:
    """One factor gathered into a matrix: `factor` over its row-group and column-group loops;
    `transposed` when it is stored the other way round (so that the gathering loops write it in
    order and read the array along its last axis), and passed to np.dot as `.T`."""

    factor: sp.Indexed
    rows: tuple[Loop, ...]  # the matrix's rows in the product (g1, or r)
    cols: tuple[Loop, ...]  # its columns in the product (r, or g2)
    transposed: bool
    per: tuple[sp.Symbol, ...]  # the outer variables it depends on (gathered inside their loops)


@dataclass(frozen=True)
class GemmPlan:
    """C[g1, g2] = P1 · P2 for each `lead` index, summed over the `outer` indices; then written back."""

    kind: str  # "unfold" (gathering output) or "fold" (scatter form)
    lead: tuple[Loop, ...]  # outside the product: output (target) variables
    outer: tuple[Loop, ...]  # outside the product: summed variables, products added up
    g1: tuple[Loop, ...]
    r: tuple[Loop, ...]
    g2: tuple[Loop, ...]
    p1: Operand
    p2: Operand
    rest: sp.Expr  # a gathering output's rest (0: nothing)
    condition: str  # the run-time test
    direct: Correlation | None = None  # a scatter form as a correlation over the framed factor (float32)


def _extent(loops) -> sp.Expr:
    return sp.Mul(*[b - a + 1 for _, a, b in loops])


def _linear(loops) -> sp.Expr:
    """The row-major position of the loops' variables: (v1·e2 + v2)·e3 + v3."""
    index = sp.S.Zero
    for v, a, b in loops:
        index = index * (b - a + 1) + v
    return index


def _vars(e: sp.Basic, among: set) -> set:
    return as_expr(e).free_symbols & among


def _pixel(index: sp.Expr, among: list[sp.Symbol], loops) -> sp.Symbol | None:
    """Of the variables in one index expression, the one that runs along it for longest: a run-time
    range first, then one multiplied by a stride (s·j + n: j), then the first written."""
    found = [v for v in among if v in as_expr(index).free_symbols]
    if not found:
        return None
    ranges = {v: hi - lo for v, lo, hi in loops}

    def score(v):
        runtime = not sp.sympify(ranges.get(v, 0)).is_Integer
        strided = sp.expand(index).coeff(v) != 1
        return (runtime, strided)

    return max(found, key=score)


def _operand(factor: sp.Indexed, rows, cols, per, all_loops) -> Operand:
    """factor as a matrix over (rows, cols), stored in the order its indices run: the group whose
    variables appear in later indices inner, a tie decided by the last index's longest variable."""
    idx = [as_expr(i) for i in factor.indices]
    row_vars, col_vars = [v for v, _, _ in rows], [v for v, _, _ in cols]

    def last(vs):
        return max((k for k, i in enumerate(idx) if i.free_symbols & set(vs)), default=-1)

    lr, lc = last(row_vars), last(col_vars)
    if lr != lc:
        transposed = lr > lc
    else:
        v = _pixel(idx[lr], row_vars + col_vars, all_loops)
        transposed = v in row_vars
    return Operand(factor, tuple(rows), tuple(cols), transposed, tuple(per))


def _groups(factors, out_loops, sum_loops, lead_candidate):
    """(lead, outer, g1, r, g2, A, B) for out = Σ A·B, or None when the product is not of that form."""
    out_vars = [v for v, _, _ in out_loops]
    sum_vars = [v for v, _, _ in sum_loops]
    A, B = factors
    va, vb = _vars(A, set(out_vars) | set(sum_vars)), _vars(B, set(out_vars) | set(sum_vars))
    if set(sum_vars) - (va & vb) or set(out_vars) - (va ^ vb) - ({lead_candidate} if lead_candidate else set()):
        return None  # a partial sum, an output variable in both factors or in neither
    lead: list[Loop] = []
    if lead_candidate is not None:
        first = [as_expr(f.indices[0]) for f in factors]
        owner = [f for f, i in zip(factors, first) if i == lead_candidate]
        if len(owner) == 1 and (lead_candidate in va) != (lead_candidate in vb):
            lead = [lp for lp in out_loops if lp[0] == lead_candidate]
    outer = [lp for lp in sum_loops if as_expr(A.indices[0]) == lp[0] and as_expr(B.indices[0]) == lp[0]]
    skip = {v for v, _, _ in lead + outer}
    g_a = [lp for lp in out_loops if lp[0] in va and lp[0] not in skip]
    g_b = [lp for lp in out_loops if lp[0] in vb and lp[0] not in skip]
    r = [lp for lp in sum_loops if lp[0] not in skip]
    if not g_a or not g_b or not r:
        return None
    if lead_candidate is not None and not lead and lead_candidate not in (va ^ vb):
        return None
    return lead, outer, g_a, r, g_b, A, B


def _pixel_factor(index: sp.Expr, g_a, g_b, all_loops) -> bool:
    """True when the output's last index runs along B's group (B's matrix gives C's columns)."""
    v = _pixel(index, [w for w, _, _ in g_a + g_b], all_loops)
    return v is None or v in {w for w, _, _ in g_b}


def _plan(kind, factors, out_loops, sum_loops, target, rest) -> GemmPlan | None:
    loops = list(out_loops) + list(sum_loops)
    if any(a != 0 or (b.free_symbols & {v for v, _, _ in loops}) for _, a, b in loops):
        return None  # rectangular nests from 0 only
    if len(factors) != 2 or not all(isinstance(f, sp.Indexed) for f in factors):
        return None
    first = as_expr(target[0]) if target else None
    lead_candidate = first if isinstance(first, sp.Symbol) and first in {v for v, _, _ in out_loops} else None
    found = _groups(factors, out_loops, sum_loops, lead_candidate)
    if found is None:
        return None
    lead, outer, g_a, r, g_b, A, B = found
    if not _pixel_factor(as_expr(target[-1]), g_a, g_b, loops):
        g_a, g_b, A, B = g_b, g_a, B, A
    outside = {v for v, _, _ in lead + outer}
    p1 = _operand(A, g_a, r, sorted(_vars(A, outside), key=str), loops)
    p2 = _operand(B, r, g_b, sorted(_vars(B, outside), key=str), loops)
    return GemmPlan(kind, tuple(lead), tuple(outer), tuple(g_a), tuple(r), tuple(g_b), p1, p2, rest, "")


def unfold_plan(p: NumbaPrinter, site: Site) -> GemmPlan | None:
    """im2col + np.dot when the plain output is Σ A·B (+ rest) over windows, as above; else None."""
    spec, lo = site.spec, site.lo
    if not site.plain or not spec.unfold or spec.parallel or spec.exact or lo.target is not None:
        return None
    total, rest = split_sum(site.expr)
    if total is None or total.function.has(sp.Sum, sp.Piecewise):
        return None
    sum_loops = [(v, as_expr(a), as_expr(b)) for v, a, b in total.limits]
    if rest.free_symbols & {v for v, _, _ in sum_loops} or lo.output.base in site.expr.atoms(sp.IndexedBase):
        return None
    plan = _plan("unfold", sp.Mul.make_args(total.function), lo.loops, sum_loops, lo.output.indices, rest)
    return None if plan is None else _with_printed(p, plan)


def fold_plan(p: NumbaPrinter, site: Site) -> GemmPlan | None:
    """np.dot + col2im when the output is in scatter form, dX[.., s·i + p, ..] += A·B summed over
    the loop variables dX's indices do not use; else None."""
    spec, lo = site.spec, site.lo
    if lo.target is None or not lo.zero or not spec.unfold or spec.parallel or spec.exact:
        return None
    if lo.guard or lo.output.accumulate:
        return None
    target_vars = set().union(*(as_expr(i).free_symbols for i in lo.target))
    out_loops = [lp for lp in lo.loops if lp[0] in target_vars]
    sum_loops = [lp for lp in lo.loops if lp[0] not in target_vars]
    if not sum_loops or lo.expr.has(sp.Sum, sp.Piecewise):
        return None
    plan = _plan("fold", sp.Mul.make_args(lo.expr), out_loops, sum_loops, lo.target, sp.S.Zero)
    if plan is None:
        return None
    return _with_printed(p, replace(plan, direct=correlation(site, plan)))


def _with_printed(p: NumbaPrinter, plan: GemmPlan) -> GemmPlan:
    """The plan's condition printed with the kernel's own names (shape symbols, arguments)."""
    loops = plan.lead + plan.outer + plan.g1 + plan.r + plan.g2
    work = p.code(_extent(loops))
    condition = f"{work} >= {UNFOLD_MIN}"
    if plan.kind == "unfold":
        condition += f" and {p.code(_extent(plan.outer + plan.r))} >= {UNFOLD_DEPTH}"
    return GemmPlan(**{**plan.__dict__, "condition": condition})


# -- emitting ------------------------------------------------------------------------------------
def _clear(p: NumbaPrinter, site: Site) -> None:
    """The output's clearing loops (lo.zero)."""
    d, a = p.depth, set(p.active)
    p.open_loops(site.lo.zero)
    p.emit(f"{site.target} = 0.0")
    p.depth, p.active = d, a


def _clear_beyond(p: NumbaPrinter, site: Site, region: tuple[Loop, ...]) -> None:
    """The clearing loops, run only when the output reaches beyond the region the correlation
    writes (a dX larger than G's windows cover); none when the extents are the same by definition."""
    zero = site.lo.zero
    if len(zero) != len(region):
        _clear(p, site)
        return
    tests = [f"{p.code(z)} > {p.code(r)}" for (_, _, z), (_, _, r) in zip(zero, region) if sp.simplify(z - r) != 0]
    if tests:
        p.emit(f"if {' or '.join(tests)}:  # beyond the windows: zeros")
        with p.indented():
            _clear(p, site)


def _gather(p: NumbaPrinter, op: Operand, name: str) -> None:
    """Loops writing op.factor into the matrix `name` (stored transposed when op.transposed)."""
    depth, active = p.depth, set(p.active)
    first, second = (op.cols, op.rows) if op.transposed else (op.rows, op.cols)
    p.open_loops([*first, *second])
    p.emit(f"{name}[{p.code(_linear(first))}, {p.code(_linear(second))}] = {p.code(op.factor)}")
    p.depth, p.active = depth, active


def _direct(spec, op: Operand) -> bool:
    """True when op's matrix is its array as it lies (G[t, f, i, j] as the (F, H·W) matrix of
    sample t): its indices are the outer variables, then the matrix's row and column variables in
    order, each over its whole axis. Then it is a view (a reshape), no copy."""
    first, second = (op.cols, op.rows) if op.transposed else (op.rows, op.cols)
    loops = [(v, sp.S.Zero, None) for v in op.per] + [*first, *second]
    if len(loops) != len(op.factor.indices) or len(op.per) and list(op.per) != list(op.factor.indices[: len(op.per)]):
        return False
    for axis, (index, (v, _, hi)) in enumerate(zip(op.factor.indices, loops)):
        extent = None if hi is None else hi + 1
        if as_expr(index) != v or (extent is not None and spec.shapes.get(extent) != (op.factor.base, axis)):
            return False
    return True


def _view(p: NumbaPrinter, op: Operand, name: str) -> None:
    """name = op's array (at the outer indices) as a matrix: a view of a C-contiguous array."""
    first, second = (op.cols, op.rows) if op.transposed else (op.rows, op.cols)
    at = p.code(sp.Indexed(op.factor.base, *op.per)) if op.per else p.code(op.factor.base)
    shape = f"({p.code(_extent(first))}, {p.code(_extent(second))})"
    p.emit(f"{name} = np.ascontiguousarray({at}).reshape({shape})  # the array as it lies: no copy")


def _matrix(p: NumbaPrinter, op: Operand, dtype: str) -> str:
    name = p.names[p.temp("unf")]
    first, second = (op.cols, op.rows) if op.transposed else (op.rows, op.cols)
    p.emit(f"{name} = np.empty(({p.code(_extent(first))}, {p.code(_extent(second))}), {dtype})")
    return name


def emit(p: NumbaPrinter, site: Site, plan: GemmPlan) -> Site:
    """The BLAS branch; the printer is left inside `else:`, where the next passes write the loops."""
    lo = site.lo
    out = p.code(lo.output.base)
    dtype = f"{out}.dtype"
    what = "im2col" if plan.kind == "unfold" else "col2im"
    also = "; in float32 a correlation" if plan.direct is not None else ""
    p.emit(f"if {plan.condition}:  # {plan.kind}: the window sum as matrix products ({what} + np.dot){also}")
    depth0, active0 = p.depth, set(p.active)
    p.depth += 1
    if plan.direct is not None:  # float32: the correlation, in the written order; else the products
        p.emit(f"if {out}.itemsize == {DIRECT_ITEMSIZE}:  # the full correlation over the zero-framed factor")
        with p.indented():
            _clear_beyond(p, site, plan.direct.region)
            emit_correlation(p, site, plan.direct)
        p.emit("else:  # np.dot + col2im")
        p.depth += 1
    if plan.kind == "fold":  # the output is added into: cleared first
        _clear(p, site)
    direct = [_direct(site.spec, op) for op in (plan.p1, plan.p2)]
    m1, m2 = (p.names[p.temp("unf")] if v else _matrix(p, op, dtype) for v, op in zip(direct, (plan.p1, plan.p2)))
    rows, cols = _extent(plan.g1), _extent(plan.g2)
    c = p.names[p.temp("unf_c")]
    args = [m + (".T" if op.transposed else "") for m, op in ((m1, plan.p1), (m2, plan.p2))]
    if plan.outer:  # C = Σ P1·P2 over the outer indices, computed as Cᵀ when `flip` (FLIP_ASPECT)
        flip, ct, part = (p.names[p.temp(x)] for x in ("unf_flip", "unf_ct", "unf_part"))
        r_code, c_code = p.code(rows), p.code(cols)
        p.emit(f"{flip} = {out}.itemsize == 4 or {c_code} >= {FLIP_ASPECT} * {r_code}  # Cᵀ = P2ᵀ·P1ᵀ")
        p.emit(f"{ct} = np.zeros(({c_code}, {r_code}) if {flip} else ({r_code}, {c_code}), {dtype})")
        p.emit(f"{part} = np.empty_like({ct})")
    else:
        p.emit(f"{c} = np.empty(({p.code(rows)}, {p.code(cols)}), {dtype})")
    for m, op, as_is in ((m1, plan.p1, direct[0]), (m2, plan.p2, direct[1])):
        if not op.per:
            (_view if as_is else _gather)(p, op, m)  # read once, outside the per-sample loops
    p.open_loops(plan.lead)
    if plan.outer:
        d, a = p.depth, set(p.active)
        p.open_loops(plan.outer)
    for m, op, as_is in ((m1, plan.p1, direct[0]), (m2, plan.p2, direct[1])):
        if op.per:
            (_view if as_is else _gather)(p, op, m)
    if plan.outer:  # each product added to the sum of the ones before (in the order of the outer indices)
        flipped = [m + ("" if op.transposed else ".T") for m, op in ((m2, plan.p2), (m1, plan.p1))]
        p.emit(f"if {flip}:")
        p.emit(f"    np.dot({flipped[0]}, {flipped[1]}, {part})")
        p.emit("else:")
        p.emit(f"    np.dot({args[0]}, {args[1]}, {part})")
        p.emit(f"{ct} += {part}")
        p.depth, p.active = d, a
        p.emit(f"{c} = {ct}.T if {flip} else {ct}  # C, either way")
    else:
        p.emit(f"np.dot({args[0]}, {args[1]}, {c})")
    element = sp.Dummy("unf_element")
    row_i, col_i = p.code(_linear(plan.g1)), p.code(_linear(plan.g2))
    p.names[element] = f"{c}[{row_i}, {col_i}]"
    d, a = p.depth, set(p.active)
    if plan.kind == "unfold":  # written back in the output's own loop order, the rest added
        own = {v for v, _, _ in plan.g1 + plan.g2}
        p.open_loops([lp for lp in lo.loops if lp[0] in own])
        p.statements(site.target, element + plan.rest)
    else:  # each entry added where its window puts it
        target = lo.target or ()
        p.open_loops([*plan.g1, *plan.g2])
        p.emit(f"{p.code(sp.Indexed(lo.output.base, *target))} += {p.names[element]}")
    p.depth, p.active = depth0, active0
    p.emit("else:  # small sizes: the loops, in the written order")
    p.depth += 1
    return site


UNFOLD = Pass("unfold", unfold_plan, emit)
FOLD = Pass("fold", fold_plan, emit)


def work(plan: GemmPlan, sizes: dict) -> int:
    """The multiply-adds of the plan's products at the given sizes (for tests and benches)."""
    loops = plan.lead + plan.outer + plan.g1 + plan.r + plan.g2
    return math.prod(int((b - a + 1).subs(sizes)) for _, a, b in loops)
