"""The step tables: a feature map cell by cell, as the lecture's Step 1 slides fill it in.

    steps(LECTURE_IMAGE, LECTURE_DETECTOR).text()    # the slides' cell-by-cell tables

Each cell holds the window under the detector, the element-wise products (the SymPy summand
evaluated at the values) and their sum, checked against the generated kernel's feature map.
On the lecture's example the table also notes where the slides' printed map is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symnn.errors import DerivationError, InputError
from symnn.vision.feature_maps import (
    LECTURE_DETECTOR,
    LECTURE_IMAGE,
    SLIDE_MAP,
    as_array,
    check_request,
    feature_map,
    int_option,
    output_shape,
)
from symnn.vision.step_render import fmt, step_html, step_latex, step_markdown, step_text

MAX_STEPS = 2500  # most cells steps() writes out
MAX_STEP_PRODUCTS = 50_000  # most SymPy products the step tables build (cells x window)
MAX_PRINTED = 1_000_000  # most numbers one rendering prints (the whole image at every step)


@dataclass
class Cell:
    """One step: the window under the detector at feature-map position (row, col) (0-based)."""

    row: int
    col: int
    top: int  # the window's top-left corner in the (padded) image
    left: int
    window: np.ndarray
    products: list  # SymPy numbers, row by row: the summand at the values
    total: Any  # their sum (SymPy number)
    value: float  # what the generated kernel computed
    slide: float | None = None  # the slide's value where it differs
    why: str = ""  # why the slide's value is wrong


@dataclass
class StepTable:
    """The cell-by-cell computation of a feature map, with text, LaTeX and Markdown views."""

    image: np.ndarray  # as used: padded
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
            raise InputError(
                f"the feature map's text would print {n} numbers; at most {MAX_PRINTED} (give a smaller image{hint})"
            )

    def text(self, compact: bool = False) -> str:
        self.check_printed(compact)
        return step_text(self, compact)

    def latex(self, standalone: bool = True, compact: bool = False) -> str:
        self.check_printed(compact)
        return step_latex(self, standalone, compact)

    def markdown(self, compact: bool = False) -> str:
        self.check_printed(compact)
        return step_markdown(self, compact)

    def __repr__(self) -> str:
        (H, W), (kh, kw), (Ho, Wo) = self.image.shape, self.kernel.shape, self.shape
        p = self.padding
        lecture = ", the lecture's example" if self.lecture else ""
        differ = len(self.disagreements())
        slide = (
            (", 1 cell differs" if differ == 1 else f", {differ} cells differ") + " from the slide" if differ else ""
        )
        return (
            f"<StepTable: image {H - 2 * p}x{W - 2 * p} ⋆ detector {kh}x{kw} = feature map {Ho}x{Wo} "
            f"(stride {self.stride}, padding {p}), {len(self.cells)} of {Ho * Wo} cells{lecture}{slide}>"
        )

    # a notebook shows the table in one row per cell (`.text()`, `.markdown()`: every step in full)
    def _repr_html_(self) -> str | None:
        try:
            return step_html(self)
        except InputError:  # too many numbers to print
            return None

    def _repr_markdown_(self) -> str | None:
        try:
            return step_markdown(self, compact=True).split("\n", 1)[1]  # without the generated-by comment
        except InputError:
            return None

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
    return (
        stride == 1
        and padding == 0
        and img.shape == LECTURE_IMAGE.shape
        and k.shape == LECTURE_DETECTOR.shape
        and np.array_equal(img, LECTURE_IMAGE)
        and np.array_equal(k, LECTURE_DETECTOR)
    )


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

    from symnn.vision.filter_specs import exact

    image = LECTURE_IMAGE if image is None else image
    kernel = LECTURE_DETECTOR if kernel is None else kernel
    img, k = as_array(image, "the image"), as_array(kernel, "the kernel")
    if img.ndim != 2 or k.ndim != 2:
        raise InputError(
            f"the step tables take a 2-D image and a 2-D kernel (got shapes {img.shape} "
            f"and {k.shape}); use feature_map() for channels and several detectors"
        )
    _check_printable(img.shape, k.shape, stride, padding)  # before computing anything
    Y = feature_map(img, k, stride, padding)  # the generated kernel's numbers
    if cells and Y.size > MAX_STEPS:
        raise InputError(
            f"the feature map has {Y.size} cells; the step tables show at most {MAX_STEPS} (give a smaller image)"
        )
    if cells and Y.size * k.size > MAX_STEP_PRODUCTS:
        raise InputError(
            f"the step tables would write {Y.size * k.size} products ({Y.size} cells "
            f"of {k.size}); at most {MAX_STEP_PRODUCTS} (give a smaller image or detector)"
        )
    s, p = int(stride), int(padding)
    padded = np.pad(np.asarray(img, dtype=np.float64), p) if p else np.asarray(img, dtype=np.float64)
    lecture = is_lecture_example(img, k, s, p)
    summand, conv = _summand()
    i, j, m, n, X, K = conv.i, conv.j, conv.m, conv.n, conv.X, conv.K
    kh, kw = k.shape
    kvals = {K[a, b]: exact(k[a, b]) for a in range(kh) for b in range(kw)}
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
                    term = summand.xreplace({i: r * s, j: c * s, m: a, n: b})  # X[s·r + a, s·c + b]·K[a, b]
                    x_at = {
                        x: exact(padded[tuple(int(v) for v in x.indices)])
                        for x in term.atoms(sp.Indexed)
                        if x.base == X
                    }
                    value = term.xreplace({**x_at, **kvals})
                    row.append(value)
                    total += value
                products.append(row)
            got = float(Y[r, c])
            if not np.isclose(float(total), got, rtol=1e-9, atol=atol):
                raise DerivationError(
                    f"feature map row {r + 1}, column {c + 1}: the products sum to "
                    f"{total} but the generated kernel gave {got}"
                )
            cell = Cell(r, c, top, left, padded[top : top + kh, left : left + kw].copy(), products, total, got)
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
    s, p = int_option(stride, "stride", 1), int_option(padding, "padding", 0)
    (H, W), (kh, kw) = img_shape, k_shape
    Ho, Wo = output_shape(H, W, kh, kw, s, p)
    if Ho > 0 and Wo > 0:
        check_request((1, H, W), (1, 1, kh, kw), s, p)  # memory first: the bigger bound
    n = (H + 2 * p) * (W + 2 * p) + kh * kw + max(Ho, 0) * max(Wo, 0)
    if n > MAX_PRINTED:
        raise InputError(
            f"the feature map's text would print {n} numbers; at most {MAX_PRINTED} "
            "(give a smaller image, or use symnn.feature_map in Python)"
        )


def _position(r: int, c: int, kh: int, kw: int) -> str:
    if (r, c) == (kh // 2, kw // 2) and kh % 2 and kw % 2:
        return "at its centre"
    return f"at row {r + 1}, column {c + 1} of the window"


def _why(cell: Cell, k: np.ndarray) -> str:
    """Why the computed value is right, from the numbers: where the window's non-zero values sit
    and what the detector holds there."""
    kh, kw = k.shape
    nz = [(r, c) for r in range(kh) for c in range(kw) if cell.window[r, c] != 0]
    total = fmt(cell.total)
    if not nz:
        return f"the window there holds only zeros, so every product is 0 and the sum is {total}"
    if len(nz) == 1:
        ((r, c),) = nz
        v = fmt(cell.window[r, c])
        what = f"a single {v}, {_position(r, c, kh, kw)}, where the detector has {fmt(k[r, c])}"
    else:
        what = "the values " + ", ".join(f"{fmt(cell.window[r, c])} (detector {fmt(k[r, c])})" for r, c in nz)
    hits = [(r, c) for r, c in nz if k[r, c] != 0]
    if not hits:
        return f"the window there holds {what}, so every product is 0 and the right value is {total}"
    return f"the window there holds {what}; the products sum to {total}"


def _slide_note(cell: Cell) -> str:
    return (
        f"The slide shows {fmt(cell.slide)} at row {cell.row + 1}, column {cell.col + 1} of the "
        f"feature map, but {cell.why}. symnn computes {fmt(cell.value)}."
    )
