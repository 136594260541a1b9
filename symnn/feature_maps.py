"""Feature maps: the lecture's Step 1 (convolution), computed by generated kernels.

    symnn.feature_map(image, kernel, stride=1, padding=0) -> ndarray
    steps(LECTURE_IMAGE, LECTURE_DETECTOR).text()    # the slides' cell-by-cell tables

A feature map is the cross-correlation of the image with a feature detector (no kernel flip,
as convolutional layers compute it):

    Y[f, i, j] = Σ_c Σ_m Σ_n X[c, s·i + m, s·j + n] K[f, c, m, n]

over the image framed by `padding` rows and columns of zeros. Every number comes from the
kernel `conv2d.layer_forward` that symnn generated from that sum (symnn/ops/conv2d.py), or, with
`specialise=True` and one 2-D detector, from a kernel with the detector's numbers folded in.

The lecture's worked example is kept with the slides' printed map: the slides show 1 at row 3,
column 3; the window there holds a single 1, at its centre, where the detector has 0, so the
right value is 0. `steps()` says so when it reproduces the example.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symnn.errors import DerivationError, InputError
from symnn.limits import check_memory, check_work


def _frozen(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.flags.writeable = False
    return a


# The lecture's Step 1 slides: the 7x7 input image and the 3x3 feature detector ...
LECTURE_IMAGE = _frozen([[0, 0, 0, 0, 0, 0, 0],
                         [0, 1, 0, 0, 0, 1, 0],
                         [0, 0, 0, 0, 0, 0, 0],
                         [0, 0, 0, 1, 0, 0, 0],
                         [0, 1, 0, 0, 0, 1, 0],
                         [0, 0, 1, 1, 1, 0, 0],
                         [0, 0, 0, 0, 0, 0, 0]])
LECTURE_DETECTOR = _frozen([[0, 0, 1],
                            [1, 0, 0],
                            [0, 1, 1]])
# ... and the 5x5 feature map as the slides print it, to compare against. It is wrong at row 3,
# column 3 (1-based): the slides show 1, the sum of the products there is 0. feature_map()
# computes the right map; this constant is only what the slide shows.
SLIDE_MAP = _frozen([[0, 1, 0, 0, 0],
                     [0, 1, 1, 1, 0],
                     [1, 0, 1, 2, 1],
                     [1, 4, 2, 1, 0],
                     [0, 0, 1, 2, 1]])

MAX_STEPS = 2500          # most cells steps() writes out
MAX_STEP_PRODUCTS = 50_000    # most SymPy products the step tables build (cells x window)
MAX_PRINTED = 1_000_000   # most numbers one rendering prints (the whole image at every step)


# -- the feature map -----------------------------------------------------------------------------
MAX_OPTION = 2**31 - 1     # largest stride or padding (the kernels take them as machine integers)


def _as_array(value, what: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except (ValueError, TypeError, OverflowError):        # ragged lists, odd objects
        raise InputError(f"{what} must be an array of numbers with rows of equal length "
                         f"(got {type(value).__name__})") from None
    if a.dtype == bool:
        a = a.astype(np.float64)
    if a.dtype.kind not in "uif":
        raise InputError(f"{what} must hold real numbers (got dtype {a.dtype})")
    if a.size == 0:
        raise InputError(f"{what} is empty (shape {a.shape})")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise InputError(f"{what} holds NaN or infinite values; give finite numbers")
    return a


def _shown_number(value) -> str:
    """A number for an error message: a huge integer by its length, not its digits."""
    if isinstance(value, (int, np.integer)) and abs(int(value)) > 10**12:
        return f"an integer of about {int(abs(int(value)).bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _is_integral(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isfinite(value)) and float(value).is_integer()


def _int_option(value, name: str, minimum: int) -> int:
    accepted = f"{name} must be an integer from {minimum} to {MAX_OPTION}"
    if not _is_integral(value):
        raise InputError(f"{accepted} (got {_shown_number(value)})")
    v = int(value)
    if v < minimum or v > MAX_OPTION:
        raise InputError(f"{accepted} (got {_shown_number(v)})")
    return v


def _layout(image, kernel) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Image as (C, H, W), kernel as (F, C, kh, kw), and the output's leading axes."""
    img = _as_array(image, "the image")
    k = _as_array(kernel, "the kernel")
    if img.ndim not in (2, 3):
        raise InputError(f"the image must be (H, W) or (C, H, W); got {img.ndim}-D shape {img.shape}")
    if k.ndim not in (2, 3, 4):
        raise InputError(f"the kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw); got "
                         f"{k.ndim}-D shape {k.shape}")
    X = img[np.newaxis] if img.ndim == 2 else img
    C = X.shape[0]
    if k.ndim == 2:
        if C != 1:
            raise InputError(f"channel mismatch: the image has {C} channels but the kernel "
                             f"{k.shape} has none; give it as ({C}, kh, kw) or (F, {C}, kh, kw)")
        K, lead = k[np.newaxis, np.newaxis], ()
    elif k.ndim == 3:
        K, lead = k[np.newaxis], ()
    else:
        K, lead = k, (k.shape[0],)
    if K.shape[1] != C:
        raise InputError(f"channel mismatch: the image has {C} channel(s) (shape {img.shape}) but "
                         f"the kernel {k.shape} expects {K.shape[1]}")
    return X, K, lead


def feature_map(image, kernel, stride: int = 1, padding: int = 0, *,
                specialise: bool = False) -> np.ndarray:
    """The feature map(s) of an image under one or several feature detectors.

    image    (H, W), or (C, H, W) for C channels (a colour image: red, green, blue)
    kernel   (kh, kw) for a 2-D image, (C, kh, kw) for one detector over C channels, or
             (F, C, kh, kw) for F detectors: F feature maps, a convolutional layer
    stride   how far the window moves (>= 1); padding: zeros framed round the image (>= 0)
    Returns (Ho, Wo), or (F, Ho, Wo) for F detectors, with Ho = ⌊(H + 2·padding − kh)/stride⌋ + 1.
    specialise=True (one 2-D detector) generates a kernel with the detector's numbers folded in.
    """
    s = _int_option(stride, "stride", 1)
    p = _int_option(padding, "padding", 0)
    X, K, lead = _layout(image, kernel)
    C, H, W = X.shape
    F, _, kh, kw = K.shape
    if kh > H + 2 * p or kw > W + 2 * p:
        raise InputError(f"the {kh}x{kw} kernel is larger than the {H + 2 * p}x{W + 2 * p} "
                         f"{'padded ' if p else ''}image; use a smaller kernel or more padding")
    check_request(X.shape, K.shape, s, p)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if p:
        X = np.pad(X, ((0, 0), (p, p), (p, p)))               # zeros: data movement, no arithmetic
    K = np.ascontiguousarray(K, dtype=np.float64)
    if specialise:
        if F != 1 or C != 1:
            raise InputError("specialise=True takes one 2-D detector on a 2-D image")
        Y = specialised_kernel(K[0, 0])(X[0], s)
        _check_finite(Y)
        return Y[np.newaxis] if lead else Y
    from symnn.codegen import kernel as named
    Y = named("conv2d.layer_forward")(X[np.newaxis], K, np.zeros(F), s)[0]
    _check_finite(Y)
    return Y if lead else Y[0]


def _check_finite(Y: np.ndarray) -> None:
    """Finite inputs whose sums pass float64's range give inf: say so rather than print it."""
    if not np.all(np.isfinite(Y)):
        raise InputError("the feature map overflows float64 (a sum beyond ±1.8e308); scale the "
                         "image or the kernel down")


def output_shape(H: int, W: int, kh: int, kw: int, stride: int, padding: int) -> tuple[int, int]:
    """(Ho, Wo) = (⌊(H + 2p − kh)/s⌋ + 1, ⌊(W + 2p − kw)/s⌋ + 1), in Python integers."""
    return (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1


def check_request(x_shape: tuple[int, int, int], k_shape: tuple[int, int, int, int],
                  stride: int, padding: int) -> None:
    """Refuse, before allocating, a feature map whose arrays (the float64 image, its padded copy,
    the kernel and the maps) pass the memory limit or whose sum passes the work limit."""
    C, H, W = (int(v) for v in x_shape)
    F, _, kh, kw = (int(v) for v in k_shape)
    Ho, Wo = output_shape(H, W, kh, kw, stride, padding)
    Hp, Wp = H + 2 * padding, W + 2 * padding
    nbytes = 8 * (C * H * W + C * Hp * Wp + F * C * kh * kw + 2 * F * Ho * Wo)
    check_memory(nbytes, f"the feature map of a {C}x{H}x{W} image with padding {padding} "
                         f"({F} map(s) of {Ho}x{Wo})")
    check_work(F * Ho * Wo * C * kh * kw, f"the feature map ({F} map(s) of {Ho}x{Wo}, "
                                          f"a {C}x{kh}x{kw} window each)")


def specialised_spec(detector, name: str = "feature_map.specialised"):
    """Y[i, j] = Σ_m Σ_n X[s·i + m, s·j + n] K[m, n] with K's numbers substituted: the sum is
    unrolled and its zero terms vanish (the lecture's detector reads 5 of the 9 pixels)."""
    import sympy as sp

    from symnn.codegen import KernelSpec, Output
    from symnn.filters import _exact
    k = np.asarray(detector, dtype=np.float64)
    Km = sp.ImmutableMatrix(k.shape[0], k.shape[1], lambda r, c: _exact(k[r, c]))
    kh, kw = Km.shape
    i, j, m, n = sp.symbols("i j m n", integer=True)
    H, W = sp.symbols("H W", integer=True, positive=True)
    s = sp.Symbol("s", integer=True, positive=True)
    X, Y = sp.IndexedBase("X", real=True), sp.IndexedBase("Y", real=True)
    expr = sp.Sum(X[s * i + m, s * j + n] * Km[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    Ho, Wo = sp.floor((H - kh) / s) + 1, sp.floor((W - kw) / s) + 1
    return KernelSpec(name, inputs=[X, s], outputs=[Output(Y, (i, j), expr)],
                      shapes={H: (X, 0), W: (X, 1)}, out_shapes={Y: (Ho, Wo)},
                      doc="a feature map with the detector's numbers folded in: "
                          "Y[i,j] = Σ_m Σ_n X[s·i+m, s·j+n] K[m,n], valid")


def specialised_kernel(detector):
    """The generated kernel for one detector (the lecture's is registered as feature_map.lecture)."""
    from symnn.codegen import build
    from symnn.codegen import kernel as named
    k = np.asarray(detector, dtype=np.float64)
    if k.shape == LECTURE_DETECTOR.shape and np.array_equal(k, LECTURE_DETECTOR):
        return named("feature_map.lecture")
    return build(specialised_spec(k))


def _register() -> None:
    from symnn.codegen import register
    register("feature_map.lecture")(lambda: specialised_spec(LECTURE_DETECTOR, "feature_map.lecture"))


_register()


# -- step tables ---------------------------------------------------------------------------------
@dataclass
class Cell:
    """One step: the window under the detector at feature-map position (row, col) (0-based)."""
    row: int
    col: int
    top: int                      # the window's top-left corner in the (padded) image
    left: int
    window: np.ndarray
    products: list                # SymPy numbers, row by row: the summand at the values
    total: Any                    # their sum (SymPy number)
    value: float                  # what the generated kernel computed
    slide: float | None = None    # the slide's value where it differs
    why: str = ""                 # why the slide's value is wrong


@dataclass
class StepTable:
    """The cell-by-cell computation of a feature map, with text, LaTeX and Markdown views."""
    image: np.ndarray             # as used: padded
    kernel: np.ndarray
    stride: int
    padding: int
    cells: list[Cell]
    feature_map: np.ndarray
    lecture: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.feature_map.shape

    def disagreements(self) -> list[Cell]:
        return [c for c in self.cells if c.slide is not None]

    def printed(self, compact: bool = False) -> int:
        """How many numbers a rendering prints: the image, detector and map once, and per cell
        its products (compact) or the whole image, map and window again."""
        once = self.image.size + self.kernel.size + self.feature_map.size
        per_cell = self.kernel.size if compact else self.image.size + self.feature_map.size + 3 * self.kernel.size
        return once + len(self.cells) * per_cell

    def check_printed(self, compact: bool = False) -> None:
        """Refuse a rendering of more than MAX_PRINTED numbers before building its text."""
        n = self.printed(compact)
        if n > MAX_PRINTED:
            hint = "" if compact or not self.cells else ", or use --compact (one line per cell)"
            raise InputError(f"the feature map's text would print {n} numbers; at most "
                             f"{MAX_PRINTED} (give a smaller image{hint})")

    def text(self, compact: bool = False) -> str:
        self.check_printed(compact)
        return _text(self, compact)

    def latex(self, standalone: bool = True, compact: bool = False) -> str:
        self.check_printed(compact)
        return _latex(self, standalone, compact)

    def markdown(self, compact: bool = False) -> str:
        self.check_printed(compact)
        return _markdown(self, compact)

    def render(self, fmt: str = "text", compact: bool = False) -> str:
        if fmt == "text":
            return self.text(compact)
        if fmt == "latex":
            return self.latex(True, compact)
        if fmt == "markdown":
            return self.markdown(compact)
        from symnn.errors import unknown
        raise unknown("format", fmt, ("text", "latex", "markdown"))


def is_lecture_example(image, kernel, stride: int = 1, padding: int = 0) -> bool:
    img, k = np.asarray(image), np.asarray(kernel)
    return (stride == 1 and padding == 0 and img.shape == LECTURE_IMAGE.shape
            and k.shape == LECTURE_DETECTOR.shape and np.array_equal(img, LECTURE_IMAGE)
            and np.array_equal(k, LECTURE_DETECTOR))


def _summand():
    """X[i + m, j + n]·K[m, n], the summand of the cross-correlation (symnn/ops/conv2d.py)."""
    from symnn.ops import conv2d as conv
    return conv.forward_expr().function, conv


def steps(image=None, kernel=None, stride: int = 1, padding: int = 0, *, cells: bool = True) -> StepTable:
    """Cell by cell, as the slides fill the feature map in: the window under the detector, the
    element-wise products (the SymPy summand X[i+m, j+n]·K[m, n] evaluated at the values) and
    their sum, which is checked against the generated kernel's output. With no arguments, the
    lecture's example. cells=False keeps only the cells where the slide differs (an overview)."""
    import sympy as sp

    from symnn.filters import _exact
    image = LECTURE_IMAGE if image is None else image
    kernel = LECTURE_DETECTOR if kernel is None else kernel
    img, k = _as_array(image, "the image"), _as_array(kernel, "the kernel")
    if img.ndim != 2 or k.ndim != 2:
        raise InputError(f"the step tables take a 2-D image and a 2-D kernel (got shapes {img.shape} "
                         f"and {k.shape}); use feature_map() for channels and several detectors")
    _check_printable(img.shape, k.shape, stride, padding)   # before computing anything
    Y = feature_map(img, k, stride, padding)             # the generated kernel's numbers
    if cells and Y.size > MAX_STEPS:
        raise InputError(f"the feature map has {Y.size} cells; the step tables show at most "
                         f"{MAX_STEPS} (give a smaller image)")
    if cells and Y.size * k.size > MAX_STEP_PRODUCTS:
        raise InputError(f"the step tables would write {Y.size * k.size} products ({Y.size} cells "
                         f"of {k.size}); at most {MAX_STEP_PRODUCTS} (give a smaller image or detector)")
    s, p = int(stride), int(padding)
    padded = np.pad(np.asarray(img, dtype=np.float64), p) if p else np.asarray(img, dtype=np.float64)
    lecture = is_lecture_example(img, k, s, p)
    summand, conv = _summand()
    i, j, m, n, X, K = conv.i, conv.j, conv.m, conv.n, conv.X, conv.K
    kh, kw = k.shape
    kvals = {K[a, b]: _exact(k[a, b]) for a in range(kh) for b in range(kw)}
    with np.errstate(over="ignore"):
        atol = 1e-9 * max(1.0, float(np.abs(k).sum()))
    found = []
    for r in range(Y.shape[0]):
        for c in range(Y.shape[1]):
            if not cells and not (lecture and SLIDE_MAP[r, c] != Y[r, c]):
                continue
            top, left = s * r, s * c
            products, total = [], sp.S.Zero
            for a in range(kh):
                row = []
                for b in range(kw):
                    term = summand.xreplace({i: r * s, j: c * s, m: a, n: b})   # X[s·r + a, s·c + b]·K[a, b]
                    x_at = {x: _exact(padded[tuple(int(v) for v in x.indices)]) for x in term.atoms(sp.Indexed)
                            if x.base == X}
                    value = term.xreplace({**x_at, **kvals})
                    row.append(value)
                    total += value
                products.append(row)
            got = float(Y[r, c])
            if not np.isclose(float(total), got, rtol=1e-9, atol=atol):
                raise DerivationError(f"feature map row {r + 1}, column {c + 1}: the products sum to "
                                      f"{total} but the generated kernel gave {got}")
            cell = Cell(r, c, top, left, padded[top:top + kh, left:left + kw].copy(), products, total, got)
            if lecture and SLIDE_MAP[r, c] != got:
                cell.slide = float(SLIDE_MAP[r, c])
                cell.why = _why(cell, k)
            found.append(cell)
    table = StepTable(padded, np.asarray(k, dtype=np.float64), s, p, found, Y, lecture)
    if lecture:
        table.notes = [_slide_note(c) for c in table.disagreements()]
        agree = Y.size - len(table.disagreements())
        table.notes.append(f"Checked against the slide: {agree} of {Y.size} cells agree.")
    return table


def _check_printable(img_shape, k_shape, stride, padding) -> None:
    """The least any rendering prints (the padded image, the detector, the map) within MAX_PRINTED."""
    s, p = _int_option(stride, "stride", 1), _int_option(padding, "padding", 0)
    (H, W), (kh, kw) = img_shape, k_shape
    Ho, Wo = output_shape(H, W, kh, kw, s, p)
    if Ho > 0 and Wo > 0:
        check_request((1, H, W), (1, 1, kh, kw), s, p)   # memory first: the bigger bound
    n = (H + 2 * p) * (W + 2 * p) + kh * kw + max(Ho, 0) * max(Wo, 0)
    if n > MAX_PRINTED:
        raise InputError(f"the feature map's text would print {n} numbers; at most {MAX_PRINTED} "
                         "(give a smaller image, or use symnn.feature_map in Python)")


def _fmt(v) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _position(r: int, c: int, kh: int, kw: int) -> str:
    if (r, c) == (kh // 2, kw // 2) and kh % 2 and kw % 2:
        return "at its centre"
    return f"at row {r + 1}, column {c + 1} of the window"


def _why(cell: Cell, k: np.ndarray) -> str:
    """Why the computed value is right, from the numbers: where the window's non-zero values sit
    and what the detector holds there."""
    kh, kw = k.shape
    nz = [(r, c) for r in range(kh) for c in range(kw) if cell.window[r, c] != 0]
    total = _fmt(cell.total)
    if not nz:
        return f"the window there holds only zeros, so every product is 0 and the sum is {total}"
    if len(nz) == 1:
        (r, c), = nz
        v = _fmt(cell.window[r, c])
        what = f"a single {v}, {_position(r, c, kh, kw)}, where the detector has {_fmt(k[r, c])}"
    else:
        what = ("the values " + ", ".join(f"{_fmt(cell.window[r, c])} (detector {_fmt(k[r, c])})"
                                          for r, c in nz))
    hits = [(r, c) for r, c in nz if k[r, c] != 0]
    if not hits:
        return f"the window there holds {what}, so every product is 0 and the right value is {total}"
    return f"the window there holds {what}; the products sum to {total}"


def _slide_note(cell: Cell) -> str:
    return (f"The slide shows {_fmt(cell.slide)} at row {cell.row + 1}, column {cell.col + 1} of the "
            f"feature map, but {cell.why}. symnn computes {_fmt(cell.value)}.")


# -- text ----------------------------------------------------------------------------------------
def _width(*arrays) -> int:
    return max(len(_fmt(v)) for a in arrays for v in np.ravel(a))


def _grid(a, w: int, mark: tuple[int, int, int, int] | None = None, blank_from: int | None = None) -> list[str]:
    """Rows of a matrix, right-aligned; mark=(top, left, h, w) brackets a window; cells from
    flat index blank_from on print as '·' (not computed yet)."""
    lines = []
    rows, cols = a.shape
    for r in range(rows):
        parts = []
        inside = mark is not None and mark[0] <= r < mark[0] + mark[2]
        for c in range(cols):
            sep = " "
            if inside and c == mark[1]:
                sep = "["
            elif inside and c == mark[1] + mark[3]:
                sep = "]"
            flat = r * cols + c
            s = "·" if blank_from is not None and flat >= blank_from else _fmt(a[r, c])
            parts.append(sep + s.rjust(w))
        end = "]" if inside and mark[1] + mark[3] == cols else " "
        lines.append(("".join(parts) + end).rstrip())
    return lines


def _side_by_side(blocks: Sequence[list[str]], gap: str = "   ", seps: Sequence[str] | None = None) -> list[str]:
    height = max(len(b) for b in blocks)
    widths = [max((len(x) for x in b), default=0) for b in blocks]
    out = []
    for r in range(height):
        parts = []
        for k, b in enumerate(blocks):
            cell = b[r] if r < len(b) else ""
            if k:
                sep = (seps[k - 1] if seps else "")
                mid = sep if r == height // 2 else " " * len(sep)
                parts.append(gap + mid + gap if sep else gap)
            parts.append(cell.ljust(widths[k]))
        out.append("".join(parts).rstrip())
    return out


def _header(t: StepTable) -> str:
    H, W = t.image.shape
    kh, kw = t.kernel.shape
    Ho, Wo = t.shape
    pad = f", padding {t.padding}: the image framed by zeros is {H}x{W}" if t.padding else ""
    return (f"{'The lecture example: ' if t.lecture else ''}input image {H - 2 * t.padding}x{W - 2 * t.padding} "
            f"⋆ feature detector {kh}x{kw} = feature map {Ho}x{Wo} (stride {t.stride}{pad})")


def _formula() -> str:
    return ("feature map[i, j] = Σ_m Σ_n image[s·i + m, s·j + n] · detector[m, n]  "
            "(cross-correlation: the detector is not flipped)")


def summary_text(t: StepTable) -> str:
    """Image, detector and feature map side by side (what `symnn feature-map` prints)."""
    t.check_printed(compact=True)
    w = _width(t.image, t.kernel, t.feature_map)
    label = "input image, framed by zeros" if t.padding else "input image"
    blocks = [[label, *_grid(t.image, w)], ["feature detector", *_grid(t.kernel, w)],
              ["feature map", *_grid(t.feature_map, w)]]
    lines = [_header(t), _formula(), "", *_side_by_side(blocks, "   ", ["⋆", "="]), ""]
    lines += t.notes
    lines.append("Computed by the generated kernel conv2d.layer_forward (`symnn codegen show conv2d.layer_forward`).")
    return "\n".join(lines) + "\n"


def _text(t: StepTable, compact: bool) -> str:
    kh, kw = t.kernel.shape
    w = _width(t.image, t.kernel, t.feature_map, [c.total for c in t.cells],
               [float(p) for c in t.cells for row in c.products for p in row])
    lines = [_header(t), _formula(), ""]
    n = len(t.cells)
    Wo = t.shape[1]
    for k, cell in enumerate(t.cells):
        prods = np.array([[float(p) for p in row] for row in cell.products])
        terms = " + ".join(_fmt(p) for row in cell.products for p in row)
        where = (f"feature map row {cell.row + 1}, column {cell.col + 1} ← window at "
                 f"{'padded ' if t.padding else ''}image rows "
                 f"{cell.top + 1}–{cell.top + kh}, columns {cell.left + 1}–{cell.left + kw}")
        if compact:
            flag = f"   ← the slide shows {_fmt(cell.slide)}" if cell.slide is not None else ""
            lines.append(f"{k + 1:>3}. ({cell.row + 1}, {cell.col + 1})  {terms} = {_fmt(cell.total)}{flag}")
            continue
        lines.append(f"Step {k + 1} of {n}: {where}")
        blocks = [["image (window in [ ])", *_grid(t.image, w, (cell.top, cell.left, kh, kw))],
                  ["feature map so far", *_grid(t.feature_map, w, blank_from=cell.row * Wo + cell.col + 1)]]
        lines += ["  " + x for x in _side_by_side(blocks, "     ")]
        lines.append("")
        blocks = [["window", *_grid(cell.window, w)], ["detector", *_grid(t.kernel, w)],
                  ["products", *_grid(prods, w)]]
        lines += ["  " + x for x in _side_by_side(blocks, " ", ["⊙", "="])]
        lines.append(f"  sum of the products: {terms} = {_fmt(cell.total)}")
        if cell.slide is not None:
            lines.append(f"  !! the slide shows {_fmt(cell.slide)} here: {cell.why}. symnn computes {_fmt(cell.value)}.")
        lines.append("")
    if compact:
        lines.append("")
    lines += ["feature map:", *["  " + x for x in _grid(t.feature_map, _width(t.feature_map))], ""]
    lines += t.notes
    return "\n".join(lines).rstrip() + "\n"


# -- LaTeX ---------------------------------------------------------------------------------------
PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage[margin=2cm]{geometry}
\setlength{\parindent}{0pt}
"""


def _tex_matrix(a, mark: tuple[int, int, int, int] | None = None, blank_from: int | None = None,
                brackets: str = "bmatrix") -> str:
    rows, cols = a.shape
    lines = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            flat = r * cols + c
            if blank_from is not None and flat >= blank_from:
                cells.append(r"\cdot")
                continue
            s = _fmt(a[r, c])
            if mark is not None and mark[0] <= r < mark[0] + mark[2] and mark[1] <= c < mark[1] + mark[3]:
                s = rf"\boxed{{{s}}}"
            cells.append(s)
        lines.append(" & ".join(cells))
    return rf"\begin{{{brackets}}}" + r" \\ ".join(lines) + rf"\end{{{brackets}}}"


def _latex(t: StepTable, standalone: bool, compact: bool) -> str:
    from symnn.outputs import TAG
    from symnn.render.latex import latex_text
    kh, kw = t.kernel.shape
    Wo = t.shape[1]
    out = [r"\section*{" + latex_text("Step 1 - Convolution: the feature map, cell by cell") + "}",
           latex_text(_header(t)) + ".",
           r"\[ \text{feature map}[i, j] = \sum_{m} \sum_{n} \text{image}[s i + m,\; s j + n]\,"
           r"\text{detector}[m, n] \]",
           r"\[ " + _tex_matrix(t.image) + r" \star " + _tex_matrix(t.kernel) + " = "
           + _tex_matrix(t.feature_map) + r" \]", ""]
    if compact:
        out += [r"\begin{longtable}{r c p{0.55\linewidth} r}",
                r"step & cell & products & sum \\ \hline \endhead"]
        for k, cell in enumerate(t.cells):
            terms = " + ".join(_fmt(p) for row in cell.products for p in row)
            flag = rf" \textbf{{(slide: {_fmt(cell.slide)})}}" if cell.slide is not None else ""
            out.append(rf"{k + 1} & ({cell.row + 1}, {cell.col + 1}) & ${terms}$ & "
                       rf"${_fmt(cell.total)}${flag} \\")
        out.append(r"\end{longtable}")
    else:
        for k, cell in enumerate(t.cells):
            prods = np.array([[float(p) for p in row] for row in cell.products])
            terms = " + ".join(_fmt(p) for row in cell.products for p in row)
            out.append(r"\paragraph{" + latex_text(
                f"Step {k + 1} of {len(t.cells)}: feature map row {cell.row + 1}, column {cell.col + 1}") + "}")
            out.append(r"\[ " + _tex_matrix(t.image, (cell.top, cell.left, kh, kw)) + r" \qquad "
                       + _tex_matrix(cell.window) + r" \odot " + _tex_matrix(t.kernel) + " = "
                       + _tex_matrix(prods) + r" \qquad "
                       + _tex_matrix(t.feature_map, blank_from=cell.row * Wo + cell.col + 1) + r" \]")
            out.append(rf"Sum of the products: ${terms} = {_fmt(cell.total)}$.")
            if cell.slide is not None:
                out.append(r"\textbf{" + latex_text(f"The slide shows {_fmt(cell.slide)} here") + "}: "
                           + latex_text(f"{cell.why}. symnn computes {_fmt(cell.value)}."))
            out.append("")
    for note in t.notes:
        out.append(latex_text(note) + "\n")
    body = "\n".join(out) + "\n"
    if not standalone:
        return f"% {TAG}\n" + body
    return f"% {TAG}\n" + PREAMBLE + "\\begin{document}\n" + body + "\\end{document}\n"


def summary_latex(t: StepTable) -> str:
    t.check_printed(compact=True)
    from symnn.outputs import TAG
    from symnn.render.latex import latex_text
    body = [latex_text(_header(t)) + ".",
            r"\[ " + _tex_matrix(t.image) + r" \star " + _tex_matrix(t.kernel) + " = "
            + _tex_matrix(t.feature_map) + r" \]"] + [latex_text(x) + "\n" for x in t.notes]
    return f"% {TAG}\n" + PREAMBLE + "\\begin{document}\n" + "\n".join(body) + "\n\\end{document}\n"


# -- Markdown ------------------------------------------------------------------------------------
def _md_table(a, mark: tuple[int, int, int, int] | None = None, blank_from: int | None = None) -> list[str]:
    rows, cols = a.shape
    lines = ["| " + " | ".join(" " for _ in range(cols)) + " |", "|" + "---:|" * cols]
    for r in range(rows):
        cells = []
        for c in range(cols):
            if blank_from is not None and r * cols + c >= blank_from:
                cells.append("·")
                continue
            s = _fmt(a[r, c])
            if mark is not None and mark[0] <= r < mark[0] + mark[2] and mark[1] <= c < mark[1] + mark[3]:
                s = f"**{s}**"
            cells.append(s)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md_triple(window, kernel, prods) -> list[str]:
    kh, kw = kernel.shape
    head = "| " + " | ".join(["window"] + [" "] * (kw - 1) + ["⊙"] + ["detector"] + [" "] * (kw - 1)
                              + ["="] + ["products"] + [" "] * (kw - 1)) + " |"
    lines = [head, "|" + "---:|" * (3 * kw + 2)]
    for r in range(kh):
        mid = r == kh // 2
        cells = ([_fmt(v) for v in window[r]] + ["⊙" if mid else " "] + [_fmt(v) for v in kernel[r]]
                 + ["=" if mid else " "] + [_fmt(v) for v in prods[r]])
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _markdown(t: StepTable, compact: bool) -> str:
    from symnn.outputs import TAG
    kh, kw = t.kernel.shape
    Wo = t.shape[1]
    out = [f"<!-- {TAG} -->", "## Step 1 - Convolution: the feature map, cell by cell", "",
           _header(t) + ".", "", "`" + _formula() + "`", ""]
    if compact:
        out += ["| step | cell | products | sum |", "|---:|:---:|:---|---:|"]
        for k, cell in enumerate(t.cells):
            terms = " + ".join(_fmt(p) for row in cell.products for p in row)
            flag = f" **(slide: {_fmt(cell.slide)})**" if cell.slide is not None else ""
            out.append(f"| {k + 1} | ({cell.row + 1}, {cell.col + 1}) | {terms} | {_fmt(cell.total)}{flag} |")
        out.append("")
    else:
        for k, cell in enumerate(t.cells):
            prods = np.array([[float(p) for p in row] for row in cell.products])
            terms = " + ".join(_fmt(p) for row in cell.products for p in row)
            out += [f"### Step {k + 1} of {len(t.cells)}: feature map row {cell.row + 1}, column {cell.col + 1}", "",
                    f"Image (the window under the detector in bold, rows {cell.top + 1}–{cell.top + kh}, "
                    f"columns {cell.left + 1}–{cell.left + kw}):", "",
                    *_md_table(t.image, (cell.top, cell.left, kh, kw)), "",
                    *_md_triple(cell.window, t.kernel, prods), "",
                    f"Sum of the products: {terms} = **{_fmt(cell.total)}**", "",
                    "Feature map so far:", "",
                    *_md_table(t.feature_map, blank_from=cell.row * Wo + cell.col + 1), ""]
            if cell.slide is not None:
                out += [f"> **The slide shows {_fmt(cell.slide)} here:** {cell.why}. "
                        f"symnn computes {_fmt(cell.value)}.", ""]
    out += ["Feature map:", "", *_md_table(t.feature_map), ""]
    out += [note + "\n" for note in t.notes]
    return "\n".join(out).rstrip() + "\n"


def summary_markdown(t: StepTable) -> str:
    t.check_printed(compact=True)
    from symnn.outputs import TAG
    out = [f"<!-- {TAG} -->", _header(t) + ".", "", "Input image:", "", *_md_table(t.image), "",
           "Feature detector:", "", *_md_table(t.kernel), "", "Feature map:", "", *_md_table(t.feature_map), ""]
    out += [note + "\n" for note in t.notes]
    return "\n".join(out).rstrip() + "\n"
