"""The filters' SymPy sums and the KernelSpecs their generated kernels are made from.

One filter is two kernels. The interior (every pixel whose window lies inside the image) reads
the image X with plain indices and writes one output Y; its column loop starts at 0 or 1, which
LLVM vectorises (see _regions). The ring (the border) reads X through two small index tables R,
C (padded row/column -> source row/column) with 0/1 weights V_R, V_C (0 outside the image for
border "zero"), so no padded copy of the image is made; it writes Y_top, Y_bottom, Y_left and
Y_right, which are all the same result buffer. specialised_spec folds a matrix's numbers into
the sum; generic_spec reads K at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, SupportsFloat

import numpy as np

from symnn.vision.filters import check_matrix, normalisation, number_text

if TYPE_CHECKING:
    import sympy as sp

    from symnn.codegen import KernelSpec


def _symbols():
    import sympy as sp

    i, j, m, n = sp.symbols("i j m n", integer=True)
    H, W = sp.symbols("H W", integer=True, positive=True)
    arrays = {nm: sp.IndexedBase(nm, real=True) for nm in ("X", "K", "V_R", "V_C")}
    arrays.update({nm: sp.IndexedBase(nm, integer=True) for nm in ("R", "C")})
    outs = [sp.IndexedBase(nm, real=True) for nm in ("Y", "Y_top", "Y_bottom", "Y_left", "Y_right")]
    scalars = sp.symbols("d o low high", real=True)
    return (i, j, m, n), (H, W), arrays, outs, scalars


def _regions(window, kh, kw, ch, cw, clip, syms, part: str):
    """The loop nests of one part: "interior" (plain indices; one output Y) or "ring" (the
    border, read through the index tables; outputs Y_top, Y_bottom, Y_left, Y_right).

    The interior's column loop starts at c_0 = min(c_w, 1), not at c_w: LLVM vectorises an
    inner loop that starts at 0 or 1 and leaves one that starts at 2 scalar. So the interior
    output Y holds output column j + max(c_w − 1, 0) at column j: `convolve.apply` passes as Y
    a view of the result's buffer that starts max(c_w − 1, 0) elements later (see
    interior_shift)."""
    import sympy as sp

    from symnn.codegen import Output

    (i, j, m, n), (H, W), A, outs, _ = syms
    X, R, C, VR, VC = A["X"], A["R"], A["C"], A["V_R"], A["V_C"]
    rows = (ch, H - kh + ch)
    if part == "interior":
        c0 = sp.Min(cw, 1)
        plain = window(lambda: X[i + m - ch, j + n - c0])
        return [Output(outs[0], (i, j), clip(plain), ranges={i: rows, j: (c0, W - kw + c0)})]
    ring = window(lambda: X[R[i + m], C[j + n]] * VR[i + m] * VC[j + n])
    side = window(lambda: X[i + m - ch, C[j + n]] * VC[j + n])
    top_end, left_end = sp.Min(ch, H), sp.Min(cw, W)
    return [
        Output(outs[1], (i, j), clip(ring), ranges={i: (0, top_end - 1), j: (0, W - 1)}),
        Output(outs[2], (i, j), clip(ring), ranges={i: (sp.Max(H - kh + ch + 1, top_end), H - 1), j: (0, W - 1)}),
        Output(outs[3], (i, j), clip(side), ranges={i: rows, j: (0, left_end - 1)}),
        Output(outs[4], (i, j), clip(side), ranges={i: rows, j: (sp.Max(W - kw + cw + 1, left_end), W - 1)}),
    ]


def interior_shift(kw: int) -> int:
    """How many columns the interior output Y is shifted left by: max(k_w // 2 − 1, 0)."""
    return max(kw // 2 - 1, 0)


PARTS = ("interior", "ring")


def _doc(what: str, part: str) -> str:
    if part == "interior":
        return (
            f"{what}: Y[i,j] = clip(Σ_m Σ_n X[i+m−c_h, j+n−c_w] K[m,n] / divisor + o, low, high) "
            "where the window is inside the image; Y's columns are shifted left by "
            "max(c_w − 1, 0) (pass a view of the result offset by that many elements)"
        )
    return (
        f"{what}: the border ring of the same sum, X read through the index tables R, C "
        "(padded position -> source row/column) with weights V_R, V_C (0 outside for 'zero'); "
        "pass the result as all four outputs"
    )


def _inputs(A, part: str, scalars, K=None) -> list:
    head = [A["X"]] + ([K] if K is not None else [])
    tables = [A["R"], A["C"], A["V_R"], A["V_C"]] if part == "ring" else []
    return head + tables + list(scalars)


def specialised_spec(
    matrix, name: str = "filter.custom", parallel: bool = False, divisor: float | None = None, part: str = "interior"
) -> KernelSpec:
    """The KernelSpec of a filter with the matrix's numbers (and 1/divisor) folded in.

    part "interior": inputs X, o, low, high -> Y (H, W), numba prange over rows if parallel;
    part "ring":     inputs X, R, C, V_R, V_C, o, low, high -> Y_top, Y_bottom, Y_left, Y_right."""
    import sympy as sp

    from symnn.codegen import KernelSpec

    k = check_matrix(np.asarray(matrix, dtype=np.float64), "the kernel")
    K = sp.ImmutableMatrix(k.shape[0], k.shape[1], lambda r, c: exact(k[r, c]))
    kh, kw = K.shape
    syms = _symbols()
    (i, j, m, n), (H, W), A, outs, (_, o, low, high) = syms
    d = exact(normalisation(k).divisor if divisor is None else divisor)

    def window(x):
        return sp.Sum(x() * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1)) / d

    def clip(e):
        return sp.Min(sp.Max(e + o, low), high)

    regions = _regions(window, kh, kw, kh // 2, kw // 2, clip, syms, part)
    suffix = ".ring" if part == "ring" else (".parallel" if parallel else "")
    return KernelSpec(
        name + suffix,
        inputs=_inputs(A, part, (o, low, high)),
        outputs=regions,
        shapes={H: (A["X"], 0), W: (A["X"], 1)},
        out_shapes={r.base: (H, W) for r in regions},
        parallel=parallel and part == "interior",
        doc=_doc(f"{name} with K = {_matrix_text(k)} and divisor {number_text(float(d))} folded in", part),
    )


def generic_spec(parallel: bool = False, shape: tuple[int, int] | None = None, part: str = "interior") -> KernelSpec:
    """The KernelSpec of the run-time-kernel filter: K and the divisor d are arguments (inputs
    X, K, [R, C, V_R, V_C,] d, o, low, high). With a shape (k_h, k_w) the loops over m and n get
    fixed trip counts (LLVM unrolls them; K's values are still read at run time), else K may
    have any size."""
    import sympy as sp

    from symnn.codegen import KernelSpec

    syms = _symbols()
    (i, j, m, n), (H, W), A, outs, (d, o, low, high) = syms
    K = A["K"]
    shapes = {H: (A["X"], 0), W: (A["X"], 1)}
    if shape is None:
        kh, kw = sp.symbols("k_h k_w", integer=True, positive=True)
        ch, cw = sp.symbols("c_h c_w", integer=True, nonnegative=True)  # 0 for a 1-wide kernel
        shapes.update({kh: (K, 0), kw: (K, 1), ch: sp.floor(kh / 2), cw: sp.floor(kw / 2)})
        name, what = "filter.generic", "any kernel K, read at run time"
    else:
        kh, kw = (int(v) for v in shape)
        ch, cw = kh // 2, kw // 2
        name, what = f"filter.generic.{kh}x{kw}", f"any {kh}x{kw} kernel K, read at run time"

    def window(x):
        return sp.Sum(x() * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1)) / d

    def clip(e):
        return sp.Min(sp.Max(e + o, low), high)

    regions = _regions(window, kh, kw, ch, cw, clip, syms, part)
    suffix = ".ring" if part == "ring" else (".parallel" if parallel else "")
    return KernelSpec(
        name + suffix,
        inputs=_inputs(A, part, (d, o, low, high), K),
        outputs=regions,
        shapes=shapes,
        out_shapes={r.base: (H, W) for r in regions},
        parallel=parallel and part == "interior",
        doc=_doc(what, part),
    )


def exact(v: SupportsFloat) -> sp.Rational:
    """A float as an exact SymPy number: 5.0 -> 5, 0.1 -> 1/10 (the shortest decimal it prints as)."""
    import sympy as sp

    v = float(v)
    return sp.Integer(int(v)) if v.is_integer() else sp.Rational(repr(v))


def _matrix_text(k: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(number_text(v) for v in row) for row in k) + "]"
