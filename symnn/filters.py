"""Image filters: GIMP's convolution-matrix kernels, computed by kernels symnn generates.

    from symnn import filters
    out = filters.apply(image, "sharpen")                 # named kernel, border "extend"
    out = filters.apply(image, "0 -1 0; -1 5 -1; 0 -1 0", border="wrap")   # inline, or a file
    filters.KERNELS                                       # name -> read-only float64 matrix

Every output pixel is the cross-correlation (no kernel flip, as GIMP and CNN layers compute it)

    Y[i, j] = Σ_m Σ_n X[i + m − c_h, j + n − c_w] K[m, n] / divisor + offset,

clipped to the image's value range, with (c_h, c_w) = (k_h // 2, k_w // 2) the kernel's centre.
The sum is a SymPy expression; symnn's code generator turns it into Numba kernels:

- named kernels (`filter.<name>`, listed by `symnn codegen list`) are SPECIALISED: the matrix's
  numbers are substituted into the Σ before code generation, so the sum is unrolled, zero
  coefficients disappear (sharpen reads 5 pixels, not 25) and 1/divisor is a folded constant;
- any other kernel goes through a generic kernel, which reads K (and the divisor) at run time:
  `filter.generic.3x3` / `filter.generic.5x5` (the loops over the window have fixed trip
  counts, which the compiler unrolls), a kernel built for K's shape on large images, or the
  any-size `filter.generic`;
- `specialise=True` specialises a user's kernel too (a dynamic kernel, cached by its hash).
Each filter is two generated kernels: the interior (every pixel whose window lies inside the
image), serial or `.parallel` (numba prange over the rows; `apply` picks it for images of at
least PARALLEL_MIN_PIXELS pixels), and `.ring`, the border. Tiny images (even smaller than the
kernel) are exact.

Divisor and offset (GIMP's "Normalise", plug-in convolution-matrix.c, check_matrix):
- s = Σ K. If s > 0: divisor = s, offset = 0 (blur: divisor 9, so a flat area keeps its value).
  If s < 0: divisor = −s, offset = 255: the result is inverted (a flat area v becomes 255 − v).
  If s = 0: divisor = 1, offset = 128 (edge detect, edge enhance: a flat area becomes mid-grey).
- The offset is in GIMP's 8-bit units and scales with the image's range: offset·max/255, with
  max = 255 for uint8 (and other integer images), 65535 for uint16, 127 for int8 (its largest
  value, so nothing wraps round), 1.0 for floats (whose valid range is 0..1). So 128 is
  128/255 ≈ 0.502 on a float image. Bool images are refused.
- Before allocating, apply() checks the memory it needs (SYMNN_MAX_MEMORY) and the number of
  multiply-adds (SYMNN_MAX_WORK): a compiled loop cannot be interrupted once it runs.
- `divisor=` and `offset=` (8-bit units) override the automatic values, as unticking
  "Normalise" in GIMP does.
- The result is clipped to [0, max] inside the generated kernel. Integer images are then
  rounded to the nearest integer (GIMP truncates towards zero; rounding is unbiased); float
  images keep their floats. The output has the input's dtype.

Borders (the pixels whose window leaves the image):
- "extend": the image's edge pixels are repeated outwards (clamped indices; scipy "nearest")
- "wrap":   the image is tiled, the window wraps round to the other side (scipy "wrap")
- "zero":   pixels outside the image are 0 (GIMP's "clear"; scipy "constant" with cval 0)
- "crop":   only the pixels whose whole window is inside the image: the output loses c_h rows
            at the top, k_h − 1 − c_h at the bottom (likewise columns), a "valid" correlation.
            GIMP's matrix is always 5x5, so a 3x3 kernel in a zero frame crops 2 pixels a side.
The interior kernel reads the image with plain indices; the ring kernel reads it through two
small index tables (padded row/column -> source row/column, and a 0/1 validity weight for
"zero"), so no padded copy of the image is made. (The interior's column loop starts at 0 or 1,
which LLVM vectorises; see _regions.)

Kernels from the lecture (docs.gimp.org, "Convolution Matrix"): sharpen and blur as 5x5 with a
zero frame (sharpen: centre 5, −1 above, below, left and right; blur: the centre 3x3 all 1),
edge-enhance, edge-detect and emboss 3x3.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.codegen import register
from symnn.errors import InputError, UnknownNameError, unknown
from symnn.limits import check_memory, check_work

if TYPE_CHECKING:
    from symnn.codegen import Kernel, KernelSpec


def _frozen(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.flags.writeable = False
    return a


KERNELS: dict[str, np.ndarray] = {
    "sharpen": _frozen([[0, 0, 0, 0, 0],
                        [0, 0, -1, 0, 0],
                        [0, -1, 5, -1, 0],
                        [0, 0, -1, 0, 0],
                        [0, 0, 0, 0, 0]]),
    "blur": _frozen([[0, 0, 0, 0, 0],
                     [0, 1, 1, 1, 0],
                     [0, 1, 1, 1, 0],
                     [0, 1, 1, 1, 0],
                     [0, 0, 0, 0, 0]]),
    "edge-enhance": _frozen([[0, 0, 0], [-1, 1, 0], [0, 0, 0]]),
    "edge-detect": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

DESCRIPTIONS: dict[str, str] = {
    "sharpen": "5x5, centre 5, -1 above, below, left and right: the pixel minus its neighbours' excess",
    "blur": "5x5, the centre 3x3 all 1, divided by 9: the mean of the 3x3 neighbourhood",
    "edge-enhance": "3x3 [[0,0,0],[-1,1,0],[0,0,0]]: the pixel minus its left neighbour, + 128",
    "edge-detect": "3x3 discrete Laplacian [[0,1,0],[1,-4,1],[0,1,0]], + 128",
    "emboss": "3x3 [[-2,-1,0],[-1,1,1],[0,1,2]]: light from the top left",
}

IDENTITY = _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
BORDERS = ("extend", "wrap", "crop", "zero")
PARALLEL_MIN_PIXELS = 1024 * 1024     # from this many pixels on, the prange variant is used
# (below that, and on machines whose cores are busy, the serial kernel wins: see bench/filters.py)
MAX_KERNEL_SIZE = 99                  # sides of a user kernel
MAX_UNROLLED = 256                    # most coefficients a specialised kernel unrolls (codegen's limit)


@dataclass(frozen=True)
class Normalisation:
    """GIMP's automatic divisor and offset for a kernel (offset in 8-bit units, 0..255)."""
    divisor: float
    offset: float


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def normalisation(matrix) -> Normalisation:
    """GIMP's "Normalise": divisor = |Σ K| (1 when Σ K = 0), offset 0, 255 (Σ K < 0) or 128 (Σ K = 0)."""
    k = np.asarray(matrix, dtype=np.float64)
    s = float(k.sum())
    if abs(s) <= 1e-12 * max(1.0, float(np.abs(k).sum())):
        return Normalisation(1.0, 128.0)
    if s > 0:
        return Normalisation(s, 0.0)
    return Normalisation(-s, 255.0)


# -- kernels by name, file or text ---------------------------------------------------------------
def add_kernel(name: str, matrix, description: str = "") -> np.ndarray:
    """Add a named kernel (text, file or array): `apply(image, name)` then uses a specialised
    generated kernel for it (`filter.<name>`), and `--kernel all` includes it."""
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name) \
            or name == "all" or name == "generic":
        raise InputError(f"a kernel name holds letters, digits, '-' and '_' and is not 'all' or "
                         f"'generic' (got {name!r})")
    k = _frozen(_check_matrix(_read(matrix), "the kernel"))
    KERNELS[name] = k
    DESCRIPTIONS[name] = description or f"{k.shape[0]}x{k.shape[1]} user kernel"
    _register(name)
    return k


def _read(kernel) -> np.ndarray:
    from symnn.images import read_matrix
    if isinstance(kernel, (list, tuple)):
        try:
            kernel = np.asarray(kernel)
        except (ValueError, TypeError, OverflowError):    # ragged rows, odd objects
            raise InputError("a kernel given as a list needs rows of numbers of equal length") from None
    return read_matrix(kernel)


def resolve(kernel) -> tuple[str, np.ndarray]:
    """(name, matrix) for a kernel given by name, inline text ("0 -1 0; -1 5 -1; 0 -1 0"), a
    text or grayscale-PNG file, or an array. A file's name is its stem, inline text is "custom"."""
    if isinstance(kernel, str) and kernel in KERNELS:
        return kernel, KERNELS[kernel]
    if isinstance(kernel, str):
        text = kernel.strip()
        if text and all(c.isalnum() or c in "-_" for c in text) and not os.path.exists(text) \
                and not _is_number(text):
            raise UnknownNameError(f"unknown kernel {_brief(text)}; give a name ({', '.join(KERNELS)}), "
                                   "a kernel file, or an inline matrix such as \"0 -1 0; -1 5 -1; 0 -1 0\"")
        m = _check_matrix(_read(kernel), "the kernel")
        name = os.path.splitext(os.path.basename(text))[0] if os.path.exists(text) else "custom"
        return _safe_name(name), m
    if isinstance(kernel, os.PathLike):
        return _safe_name(os.path.splitext(os.path.basename(os.fspath(kernel)))[0]), \
            _check_matrix(_read(kernel), "the kernel")
    if isinstance(kernel, (np.ndarray, list, tuple)):
        m = _check_matrix(_read(kernel), "the kernel")
        for name, k in KERNELS.items():
            if k.shape == m.shape and np.array_equal(k, m):
                return name, k
        return "custom", m
    raise InputError(f"give the kernel as a name ({', '.join(KERNELS)}), inline text, a file or "
                     f"a 2-D array; got {type(kernel).__name__}")


def _brief(text: str) -> str:
    from symnn.images import brief
    return brief(text, 40)


def _is_real(v) -> bool:
    """A finite real number (not a bool, a string or an array)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) \
        and bool(np.isfinite(v))


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _safe_name(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in s) or "custom"


def _check_matrix(m: np.ndarray, what: str) -> np.ndarray:
    if m.ndim != 2 or m.size == 0:
        raise InputError(f"{what} must be a non-empty 2-D matrix; got shape {m.shape}")
    if max(m.shape) > MAX_KERNEL_SIZE:
        raise InputError(f"{what} is {m.shape[0]}x{m.shape[1]}; at most {MAX_KERNEL_SIZE} per side")
    if not np.all(np.isfinite(m)):
        raise InputError(f"{what} holds NaN or infinite values; give finite numbers")
    with np.errstate(over="ignore"):
        if not np.isfinite(np.abs(m).sum()):
            raise InputError(f"{what}'s values are so large that their sum overflows float64; "
                             "scale them down")
    return np.ascontiguousarray(m, dtype=np.float64)


# -- the generated kernels -----------------------------------------------------------------------
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
    inner loop that starts at 0 or 1 and leaves one that starts at 2 scalar (5x slower,
    measured with Numba 0.68 on a 5x5 kernel). So the interior output Y holds output column
    j + max(c_w − 1, 0) at column j: `apply` passes as Y a view of the result's buffer that
    starts max(c_w − 1, 0) elements later (see interior_shift)."""
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
        return (f"{what}: Y[i,j] = clip(Σ_m Σ_n X[i+m−c_h, j+n−c_w] K[m,n] / divisor + o, low, high) "
                "where the window is inside the image; Y's columns are shifted left by "
                "max(c_w − 1, 0) (pass a view of the result offset by that many elements)")
    return (f"{what}: the border ring of the same sum, X read through the index tables R, C "
            "(padded position -> source row/column) with weights V_R, V_C (0 outside for 'zero'); "
            "pass the result as all four outputs")


def _inputs(A, part: str, scalars, K=None) -> list:
    head = [A["X"]] + ([K] if K is not None else [])
    tables = [A["R"], A["C"], A["V_R"], A["V_C"]] if part == "ring" else []
    return head + tables + list(scalars)


def specialised_spec(matrix, name: str = "filter.custom", parallel: bool = False,
                     divisor: float | None = None, part: str = "interior") -> KernelSpec:
    """The KernelSpec of a filter with the matrix's numbers (and 1/divisor) folded in.

    part "interior": inputs X, o, low, high -> Y (H, W), numba prange over rows if parallel;
    part "ring":     inputs X, R, C, V_R, V_C, o, low, high -> Y_top, Y_bottom, Y_left, Y_right."""
    import sympy as sp

    from symnn.codegen import KernelSpec
    k = _check_matrix(np.asarray(matrix, dtype=np.float64), "the kernel")
    K = sp.ImmutableMatrix(k.shape[0], k.shape[1], lambda r, c: _exact(k[r, c]))
    kh, kw = K.shape
    syms = _symbols()
    (i, j, m, n), (H, W), A, outs, (_, o, low, high) = syms
    d = _exact(normalisation(k).divisor if divisor is None else divisor)

    def window(x):
        return sp.Sum(x() * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1)) / d

    def clip(e):
        return sp.Min(sp.Max(e + o, low), high)

    regions = _regions(window, kh, kw, kh // 2, kw // 2, clip, syms, part)
    suffix = ".ring" if part == "ring" else (".parallel" if parallel else "")
    return KernelSpec(name + suffix, inputs=_inputs(A, part, (o, low, high)), outputs=regions,
                      shapes={H: (A["X"], 0), W: (A["X"], 1)},
                      out_shapes={r.base: (H, W) for r in regions}, parallel=parallel and part == "interior",
                      doc=_doc(f"{name} with K = {_matrix_text(k)} and divisor {_num(float(d))} folded in", part))


def generic_spec(parallel: bool = False, shape: tuple[int, int] | None = None,
                 part: str = "interior") -> KernelSpec:
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
        ch, cw = sp.symbols("c_h c_w", integer=True, nonnegative=True)      # 0 for a 1-wide kernel
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
    return KernelSpec(name + suffix, inputs=_inputs(A, part, (d, o, low, high), K), outputs=regions,
                      shapes=shapes, out_shapes={r.base: (H, W) for r in regions},
                      parallel=parallel and part == "interior", doc=_doc(what, part))


def _exact(v: float):
    """A float as an exact SymPy number: 5.0 -> 5, 0.1 -> 1/10 (the shortest decimal it prints as)."""
    import sympy as sp
    v = float(v)
    return sp.Integer(int(v)) if v.is_integer() else sp.Rational(repr(v))


def _matrix_text(k: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(_num(v) for v in row) for row in k) + "]"


def _register(name: str) -> None:
    def spec(parallel, part):
        return lambda: specialised_spec(KERNELS[name], f"filter.{name}", parallel, part=part)
    register(f"filter.{name}")(spec(False, "interior"))
    register(f"filter.{name}.parallel")(spec(True, "interior"))
    register(f"filter.{name}.ring")(spec(False, "ring"))


for _name in list(KERNELS):
    _register(_name)
GENERIC_SHAPES = ((3, 3), (5, 5))       # registered shape-fixed generic kernels
SHAPED_MIN_PIXELS = 256 * 256           # other shapes get their own generic kernel from here on
for _shape in (None, *GENERIC_SHAPES):
    _tag = "" if _shape is None else f".{_shape[0]}x{_shape[1]}"
    register(f"filter.generic{_tag}")(lambda shape=_shape: generic_spec(False, shape))
    register(f"filter.generic{_tag}.parallel")(lambda shape=_shape: generic_spec(True, shape))
    register(f"filter.generic{_tag}.ring")(lambda shape=_shape: generic_spec(False, shape, "ring"))


class Kernels:
    """The generated kernels a filter runs: the interior (serial or prange) and the border ring
    (made on first use: border "crop" does not need it)."""

    def __init__(self, interior: Kernel, ring: Callable[[], Kernel], specialised: bool):
        self.interior, self._ring, self.specialised = interior, ring, specialised

    @cached_property
    def ring(self) -> Kernel:
        return self._ring()


def generated_kernel(kernel, parallel: bool = False, specialise: bool | None = None,
                     divisor: float | None = None, pixels: int = 0) -> Kernels:
    """The generated kernels for a kernel name, text, file, array or a (name, matrix) pair from
    resolve(). Named kernels are specialised; the generic path uses kernels with K's shape
    fixed for 3x3 and 5x5, and for other shapes on images of SHAPED_MIN_PIXELS pixels or more
    (where their compilation pays off); otherwise the any-size filter.generic."""
    from symnn.codegen import build
    from symnn.codegen import kernel as named
    name, k = kernel if isinstance(kernel, tuple) else resolve(kernel)
    suffix = ".parallel" if parallel else ""
    named_kernel = name in KERNELS and (k is KERNELS[name] or np.array_equal(KERNELS[name], k))
    auto = divisor is None or _exact(divisor) == _exact(normalisation(k).divisor)
    if k.size > MAX_UNROLLED:
        if specialise:
            raise InputError(f"a specialised kernel unrolls at most {MAX_UNROLLED} coefficients; this "
                             f"one has {k.size} ({k.shape[0]}x{k.shape[1]}): use specialise=False")
        named_kernel = False
    cache = os.environ.get("SYMNN_CACHE_DIR")
    if named_kernel and specialise is not False and auto:
        key = (cache, name, suffix, KERNELS[name].tobytes())
        if key not in _MEMO:
            _MEMO[key] = Kernels(named(f"filter.{name}{suffix}"), lambda: named(f"filter.{name}.ring"), True)
        return _MEMO[key]
    if specialise:
        return Kernels(build(specialised_spec(k, f"filter.{name}", parallel, divisor)),
                       lambda: build(specialised_spec(k, f"filter.{name}", False, divisor, "ring")), True)
    shape = tuple(k.shape)
    key = (cache, "generic", suffix, shape)
    if key not in _MEMO:
        if shape in GENERIC_SHAPES:
            tag = f"filter.generic.{shape[0]}x{shape[1]}"
            _MEMO[key] = Kernels(named(tag + suffix), lambda: named(tag + ".ring"), False)
        elif pixels >= SHAPED_MIN_PIXELS:
            _MEMO[key] = Kernels(build(generic_spec(parallel, shape)),
                                 lambda: build(generic_spec(False, shape, "ring")), False)
        else:
            return Kernels(named(f"filter.generic{suffix}"), lambda: named("filter.generic.ring"), False)
    return _MEMO[key]


_MEMO: dict[tuple, Kernels] = {}       # (cache folder, name, variant, matrix) -> kernels


# -- applying ------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def index_tables(size: int, k: int, border: str) -> tuple[np.ndarray, np.ndarray]:
    """For the padded positions p = 0 .. size + k − 2 of one axis (c = k // 2 before the image):
    the source index of p − c, and its weight (0 outside the image for "zero", else 1)."""
    c = k // 2
    p = np.arange(size + k - 1) - c
    if border == "wrap":
        idx = np.mod(p, size)
    else:
        idx = np.clip(p, 0, size - 1)
    weight = np.ones(p.shape)
    if border == "zero":
        weight[(p < 0) | (p >= size)] = 0.0
    idx = idx.astype(np.int64)
    idx.flags.writeable = False
    weight.flags.writeable = False
    return idx, weight


def value_range(dtype: np.dtype) -> float:
    """The largest valid value of an image of this dtype: 65535 for uint16, 1.0 for floats, 255
    for other integers, but 127 for int8 (its largest value: results are clipped to [0, 127]
    and the offset scales with it, so nothing wraps round)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u" and dtype.itemsize == 2:          # either byte order
        return 65535.0
    if dtype.kind in "ui":
        return float(min(255, np.iinfo(dtype).max))
    return 1.0


def _check_image(image) -> np.ndarray:
    try:
        img = np.asarray(image)
    except (ValueError, TypeError, OverflowError):        # ragged lists, odd objects
        raise InputError("an image is an array of numbers with rows of equal length; got "
                         f"{type(image).__name__}") from None
    if img.dtype == bool or img.dtype.kind not in "uif":
        raise InputError(f"an image holds numbers (uint8, uint16 or floats in 0..1); got dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] > 4 and img.shape[0] in (1, 3, 4):
        raise InputError(f"the image has shape {img.shape}, channels first; give (H, W) or (H, W, 3) "
                         "(symnn.images.to_channels_last converts)")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise InputError(f"an image is (H, W) grayscale or (H, W, 3) RGB; got shape {img.shape}")
    if img.size == 0:
        raise InputError(f"the image is empty (shape {img.shape})")
    # one read-only pass: a NaN or an infinity makes the sum non-finite (a finite sum that
    # overflows is told apart by the exact check)
    if img.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.add.reduce(img, axis=None)
        if not np.isfinite(total) and not np.all(np.isfinite(img)):
            raise InputError("the image holds NaN or infinite values; give finite numbers")
    return img


def memory_needed(shape: tuple[int, ...], dtype, kernel_shape: tuple[int, int]) -> int:
    """Bytes apply() allocates for an image: per plane a float64 copy and the output buffer, then
    the planes' results, their stack and the rounded copy in the image's dtype."""
    H, W = int(shape[0]), int(shape[1])
    C = int(shape[2]) if len(shape) == 3 else 1
    kh, kw = kernel_shape
    plane = H * W * 8
    return 2 * plane + 2 * C * plane + C * H * W * max(8, np.dtype(dtype).itemsize) \
        + 16 * (H + W + kh + kw)


def check_request(shape: tuple[int, ...], dtype, kernel_shape: tuple[int, int]) -> None:
    """Refuse, before allocating, a filter that passes the memory or the work limit."""
    H, W = int(shape[0]), int(shape[1])
    C = int(shape[2]) if len(shape) == 3 else 1
    kh, kw = kernel_shape
    check_memory(memory_needed(shape, dtype, kernel_shape),
                 f"filtering the {W}x{H} image ({C} channel(s)) with a {kh}x{kw} kernel")
    check_work(C * H * W * kh * kw, f"filtering the {W}x{H} image ({C} channel(s)) with a {kh}x{kw} kernel")


def apply(image, kernel="sharpen", border: str = "extend", *, divisor: float | None = None,
          offset: float | None = None, specialise: bool | None = None,
          parallel: bool | None = None) -> np.ndarray:
    """Filter an image with a convolution-matrix kernel, GIMP style.

    image       (H, W) grayscale or (H, W, C) colour (each channel filtered alone); uint8,
                uint16 or float (0..1). The result has the same dtype, clipped to the range.
    kernel      a name in KERNELS, inline text, a text/PNG file, or a 2-D array
    border      "extend" (default), "wrap", "zero" or "crop" (valid: a smaller output)
    divisor     override GIMP's automatic divisor (|Σ K|, or 1 when Σ K = 0)
    offset      override the automatic offset, in 8-bit units (0, 128 or 255 by default)
    specialise  None: named kernels specialised, others generic; True/False to force
    parallel    None: prange variant from PARALLEL_MIN_PIXELS pixels on
    """
    if border not in BORDERS:
        raise unknown("border", border, BORDERS)
    img = _check_image(image)
    name, k = resolve(kernel)
    auto = normalisation(k)
    if divisor is not None and (not _is_real(divisor) or divisor == 0):
        raise InputError(f"the divisor must be a non-zero number (got {_brief(repr(divisor))})")
    if offset is not None and not _is_real(offset):
        raise InputError(f"the offset must be a finite number (got {_brief(repr(offset))})")
    d = float(auto.divisor if divisor is None else divisor)
    off255 = float(auto.offset if offset is None else offset)
    H, W = img.shape[:2]
    kh, kw = k.shape
    if border == "crop" and (H < kh or W < kw):
        raise InputError(f"the {kh}x{kw} kernel is larger than the {H}x{W} image; with border "
                         "'crop' nothing is left (use extend, wrap or zero)")
    check_request(img.shape, img.dtype, (kh, kw))
    vmax = value_range(img.dtype)
    if parallel is None:
        parallel = H * W >= PARALLEL_MIN_PIXELS
    gen = generated_kernel((name, k), bool(parallel), specialise,
                           None if divisor is None else d, pixels=H * W)
    R, VR = index_tables(H, kh, "extend" if border == "crop" else border)
    C, VC = index_tables(W, kw, "extend" if border == "crop" else border)
    o = off255 * vmax / 255.0
    planes = [img] if img.ndim == 2 else [img[:, :, c] for c in range(img.shape[2])]
    results = []
    shift = interior_shift(kw)
    for plane in planes:
        x = np.ascontiguousarray(plane, dtype=np.float64)
        buf = np.empty(H * W + shift)
        y = buf[:H * W].reshape(H, W)
        inner = buf[shift:shift + H * W].reshape(H, W)      # y shifted left by `shift` columns
        # every argument is checked and laid out above (contiguous float64, index tables of
        # length H + k_h − 1 and W + k_w − 1), so the generated functions are called directly;
        # one buffer takes every output: the interior (through `inner`) and the border ring
        head = (x,) if gen.specialised else (x, k)
        tail = (o, 0.0, vmax) if gen.specialised else (d, o, 0.0, vmax)
        gen.interior.dispatcher(*head, *tail, inner)
        if border != "crop":
            gen.ring.dispatcher(*head, R, C, VR, VC, *tail, y, y, y, y)
        if border == "crop":
            ch, cw = kh // 2, kw // 2
            y = y[ch:H - kh + 1 + ch, cw:W - kw + 1 + cw]
        results.append(y)
    out = results[0] if img.ndim == 2 else np.stack(results, axis=-1)
    if img.dtype.kind in "ui":
        return np.rint(out).astype(img.dtype)
    return out.astype(img.dtype, copy=False) if out.dtype != img.dtype else np.ascontiguousarray(out)


def apply_all(image, names: Sequence[str] | None = None, border: str = "extend",
              **options: Any) -> dict[str, np.ndarray]:
    """{name: filtered image} for every named kernel (or those in names)."""
    return {name: apply(image, name, border, **options) for name in (names or list(KERNELS))}
