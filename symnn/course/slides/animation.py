"""The feature map a lesson computed cell by cell (symnn.vision.step_tables), as an animation: one
overlay per cell, the window on the image, its products with the detector, their sum, the map
filled in so far; with more than MAX_ANIMATED cells the first FIRST_CELLS (and the slides' wrong
ones) are animated and the frame says that the others are computed the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from symnn.course.slides.sizes import BODY

if TYPE_CHECKING:
    from symnn.course.blocks import Table
    from symnn.course.lesson import Lesson
    from symnn.vision.step_tables import StepTable

MAX_ANIMATED = 30  # a feature map with more cells animates its first FIRST_CELLS (and the slides' wrong ones)
FIRST_CELLS = 6
ANIMATION_TEXT = 48.0  # pt under an animation's picture: the step, the sum, the slides' error


def lesson_step_tables(lesson: Lesson) -> list[StepTable]:
    """The step tables (symnn.vision.step_tables.steps) a lesson file computed: the values of its
    top-level names, in the order it defined them. Only a lesson run from a file has them."""
    import sys

    if "symnn.vision.step_tables" not in sys.modules:
        return []
    from symnn.vision.step_tables import StepTable

    names = getattr(lesson, "namespace", None) or {}
    seen: dict[int, StepTable] = {}
    for value in list(names.values()):
        if isinstance(value, StepTable) and value.cells and id(value) not in seen:
            seen[id(value)] = value
    return list(seen.values())


def step_cells(tables: list[StepTable], block: Table) -> list[StepTable]:
    """The step tables that this table of the lesson lists cell by cell: one row per cell, the
    first column counting the steps 1, 2, ..."""
    out = []
    for t in tables:
        if len(block.rows) == len(t.cells) and [str(r[0]) for r in block.rows] == [
            str(k) for k in range(1, len(t.cells) + 1)
        ]:
            out.append(t)
    return out


def _num(v) -> str:
    from symnn.vision.step_render import fmt

    return fmt(v)


def feature_map_frames(t: StepTable, section: str, label: str = "") -> list[str]:
    """The animation: one frame whose overlay k shows step k, the window under the detector on the
    image, the window ⊙ detector = products, their sum, and the feature map filled in so far.

    What every overlay shares (the grids, the image, the detector) is typeset once into a box
    before the frame; each overlay draws only its own numbers, so 25 overlays compile in about a
    second."""
    from symnn.render.latex import latex_text

    H, W = t.image.shape
    kh, kw = t.kernel.shape
    Ho, Wo = t.shape
    cells = t.cells
    n = len(cells)
    number = {(c.row, c.col): k for k, c in enumerate(cells, 1)}
    if n > MAX_ANIMATED:
        chosen = cells[:FIRST_CELLS] + [c for c in cells[FIRST_CELLS:] if c.slide is not None][:4]
    else:
        chosen = list(cells)
    full = n > len(chosen)
    columns = W + Wo + 3 * kw + 5.0  # the grids side by side, with gaps for ⊙, = and between them
    rows = max(H, Ho, kh) + 1.5  # and the grids' names above them
    picture = BODY - 13.0 - ANIMATION_TEXT - 10.0  # pt under the title and subtitle, above the text
    cell_mm = min(6.0, 136.0 / columns, picture / rows * 25.4 / 72.27)
    if cell_mm < 2.4:  # too small to read: say what the map is, without the animation
        text = latex_text(
            f"The feature map has {n} cells, each the sum of {kh * kw} products of a window of the "
            f"{H} x {W} image with the detector; the image is too large to draw cell by cell on a "
            "slide" + (f" ({label} lists every step)." if label else ".")
        )
        return [f"\\begin{{frame}}[t]\n\\frametitle{{{section}}}\n{text}\n\\end{{frame}}\n"]
    values = [*t.image.ravel(), *t.kernel.ravel(), *t.feature_map.ravel()]
    values += [p for c in chosen for row in c.products for p in row]
    digits = max(len(_num(v)) for v in values)
    font = "\\footnotesize" if cell_mm >= 4.5 and digits <= 3 else "\\scriptsize" if cell_mm >= 3.5 else "\\tiny"
    if digits > 4:
        font = "\\tiny"
    x_win = W + 1.5
    x_det = x_win + kw + 1.0
    x_prod = x_det + kw + 1.0
    x_map = x_prod + kw + 1.5
    y_small = (max(H, Ho) - kh) / 2  # the window, detector and products, centred in height
    bottom = max(H, Ho)

    def at(x: float, y: float, text: str) -> str:
        return f"\\pgftext[at=\\pgfpointxy{{{x:g}}}{{{y:g}}}]{{{text}}}"

    def numbers(x0: float, y0: float, a, style: str = "") -> list[str]:
        return [at(x0 + c + 0.5, y0 + r + 0.5, f"{style}${_num(v)}$") for (r, c), v in np.ndenumerate(a)]

    def grid(x0: float, y0: float, rows: int, cols: int, name: str) -> list[str]:
        return [
            f"\\draw[black!35] ({x0:g},{y0:g}) grid ({x0 + cols:g},{y0 + rows:g}) "
            f"({x0:g},{y0:g}) rectangle ({x0 + cols:g},{y0 + rows:g});",
            f"\\node[above,font=\\scriptsize] at ({x0 + cols / 2:g},{y0:g}) {{{name}}};",
        ]

    pic = f"[x={cell_mm:.2f}mm,y=-{cell_mm:.2f}mm]"
    box = f"\\path[use as bounding box] (-0.1,-1.4) rectangle ({x_map + Wo + 0.1:g},{bottom + 0.1:g});"
    static = [box, font]
    static += grid(0, 0, H, W, "image, framed by zeros" if t.padding else "image") + numbers(0, 0, t.image)
    static += grid(x_win, y_small, kh, kw, "window")
    static += grid(x_det, y_small, kh, kw, "detector") + numbers(x_det, y_small, t.kernel)
    static += grid(x_prod, y_small, kh, kw, "products") + grid(x_map, 0, Ho, Wo, "feature map")
    static += [at(x_det - 0.5, y_small + kh / 2, "$\\odot$"), at(x_prod - 0.5, y_small + kh / 2, "$=$")]
    red = "red!80!black"
    done: list[str] = []  # the map's cells filled in so far
    overlays = []
    for k, cell in enumerate(chosen, 1):
        prods = np.array([[float(p) for p in row] for row in cell.products])
        colour = f"\\color{{{red}}}" if cell.slide is not None else ""
        done.append(at(x_map + cell.col + 0.5, cell.row + 0.5, f"{colour}$\\mathbf{{{_num(cell.value)}}}$"))
        now = [
            f"\\draw[{red},line width=1.2pt] ({cell.left},{cell.top}) rectangle ({cell.left + kw},{cell.top + kh});",
            f"\\draw[{red},line width=1.2pt] ({x_map + cell.col:g},{cell.row}) "
            f"rectangle ({x_map + cell.col + 1:g},{cell.row + 1});",
            *numbers(x_win, y_small, cell.window),
            *numbers(x_prod, y_small, prods),
            *done,
        ]
        overlays.append(f"\\only<{k}>{{%\n" + "\n".join(now) + "}")
    if full:  # the cells not animated, on the overlay after the last one
        rest = [
            at(x_map + c.col + 0.5, c.row + 0.5, f"\\color{{black!55}}${_num(c.value)}$")
            for c in cells
            if (c.row, c.col) not in {(d.row, d.col) for d in chosen}
        ]
        overlays.append(f"\\only<{len(chosen) + 1}>{{%\n" + "\n".join(done + rest) + "}")
    # the lines under the picture: which step, the sum, the slides' value where it is wrong
    texts = []
    for k, cell in enumerate(chosen, 1):
        terms = " + ".join(_num(p) for row in cell.products for p in row)
        head = latex_text(
            f"Step {number[cell.row, cell.col]} of {n}: feature map row {cell.row + 1}, column {cell.col + 1} "
            f"← the window at image rows {cell.top + 1}–{cell.top + kh}, columns {cell.left + 1}–{cell.left + kw}"
        )
        line = f"sum of the products: ${terms} = {_num(cell.total)}$"
        if len(terms) > 80:
            line = f"sum of the {kh * kw} products: ${_num(cell.total)}$"
        if cell.slide is not None:
            line += (
                f"\\\\ {{\\color{{{red}}}\\textbf{{"
                + latex_text(f"The slides show {_num(cell.slide)} here")
                + "}: "
                + latex_text(f"{cell.why}. symnn computes {_num(cell.value)}.")
                + "}"
            )
        texts.append(f"\\only<{k}>{{{head}\\\\ {line}}}")
    if full:
        texts.append(
            f"\\only<{len(chosen) + 1}>{{"
            + latex_text(
                f"The other {n - len(chosen)} of the {n} cells (grey) are computed the same way; they are not "
                f"shown one by one, as {n} overlays would be too many for a lecture"
                + (f" ({label} lists every step)" if label else "")
                + "."
            )
            + "}"
        )
    sub = latex_text(
        f"{H} x {W} image ⋆ {kh} x {kw} detector = {Ho} x {Wo} feature map, stride {t.stride}"
        + ("; every cell, one by one" if not full else f"; {len(chosen)} of the {n} cells, one by one")
    )
    return [
        f"\\sbox\\symnnbox{{\\begin{{tikzpicture}}{pic}\n" + "\n".join(static) + "\n\\end{tikzpicture}}\n"
        "\\begin{frame}[t]\n\\frametitle{The feature map, cell by cell}\n"
        f"\\framesubtitle{{{sub}}}\n"
        f"{{\\centering\\begin{{tikzpicture}}{pic}\n{box}\n"
        "\\node[anchor=north west,inner sep=0pt] at (-0.1,-1.4) {\\usebox\\symnnbox};\n"
        f"{font}\n" + "\n".join(overlays) + "\n\\end{tikzpicture}\\par}\n\\medskip\n"
        f"\\parbox[t][{ANIMATION_TEXT:g}pt][t]{{\\linewidth}}{{\\footnotesize\\raggedright\n"
        + "\n".join(texts)
        + "\n}\n\\end{frame}\n"
    ]
