"""The step tables and the feature-map summaries as text, LaTeX and Markdown.

step_text / step_latex / step_markdown write a StepTable cell by cell (StepTable.render calls
them); summary_text / summary_latex / summary_markdown write the image, the detector and the
feature map side by side (what `symnn feature-map` prints without --steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from symnn.vision.step_tables import StepTable


def fmt(v) -> str:
    """A number as the tables print it: 0, an integer without a point, else 4 significant digits."""
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


# -- text ----------------------------------------------------------------------------------------
def _width(*arrays) -> int:
    return max(len(fmt(v)) for a in arrays for v in np.ravel(a))


def _grid(a, w: int, mark: tuple[int, int, int, int] | None = None, blank_from: int | None = None) -> list[str]:
    """Rows of a matrix, right-aligned; mark=(top, left, h, w) brackets a window; cells from
    flat index blank_from on print as '·' (not computed yet)."""
    lines = []
    rows, cols = a.shape
    top, left, height, width = mark if mark is not None else (0, 0, 0, 0)
    for r in range(rows):
        parts = []
        inside = mark is not None and top <= r < top + height
        for c in range(cols):
            sep = " "
            if inside and c == left:
                sep = "["
            elif inside and c == left + width:
                sep = "]"
            flat = r * cols + c
            s = "·" if blank_from is not None and flat >= blank_from else fmt(a[r, c])
            parts.append(sep + s.rjust(w))
        end = "]" if inside and left + width == cols else " "
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
                sep = seps[k - 1] if seps else ""
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
    return (
        f"{'The lecture example: ' if t.lecture else ''}input image {H - 2 * t.padding}x{W - 2 * t.padding} "
        f"⋆ feature detector {kh}x{kw} = feature map {Ho}x{Wo} (stride {t.stride}{pad})"
    )


def _formula() -> str:
    return (
        "feature map[i, j] = Σ_m Σ_n image[s·i + m, s·j + n] · detector[m, n]  "
        "(cross-correlation: the detector is not flipped)"
    )


def summary_text(t: StepTable) -> str:
    """Image, detector and feature map side by side (what `symnn feature-map` prints)."""
    t.check_printed(compact=True)
    w = _width(t.image, t.kernel, t.feature_map)
    label = "input image, framed by zeros" if t.padding else "input image"
    blocks = [
        [label, *_grid(t.image, w)],
        ["feature detector", *_grid(t.kernel, w)],
        ["feature map", *_grid(t.feature_map, w)],
    ]
    lines = [_header(t), _formula(), "", *_side_by_side(blocks, "   ", ["⋆", "="]), ""]
    lines += t.notes
    lines.append("Computed by the generated kernel conv2d.layer_forward (`symnn codegen show conv2d.layer_forward`).")
    return "\n".join(lines) + "\n"


def step_text(t: StepTable, compact: bool) -> str:
    """The step table as plain text: per cell the image with the window, the map so far, the
    products and their sum (compact: one line per cell)."""
    kh, kw = t.kernel.shape
    w = _width(
        t.image,
        t.kernel,
        t.feature_map,
        [c.total for c in t.cells],
        [float(p) for c in t.cells for row in c.products for p in row],
    )
    lines = [_header(t), _formula(), ""]
    n = len(t.cells)
    Wo = t.shape[1]
    for k, cell in enumerate(t.cells):
        prods = np.array([[float(p) for p in row] for row in cell.products])
        terms = " + ".join(fmt(p) for row in cell.products for p in row)
        where = (
            f"feature map row {cell.row + 1}, column {cell.col + 1} ← window at "
            f"{'padded ' if t.padding else ''}image rows "
            f"{cell.top + 1}–{cell.top + kh}, columns {cell.left + 1}–{cell.left + kw}"
        )
        if compact:
            flag = f"   ← the slide shows {fmt(cell.slide)}" if cell.slide is not None else ""
            lines.append(f"{k + 1:>3}. ({cell.row + 1}, {cell.col + 1})  {terms} = {fmt(cell.total)}{flag}")
            continue
        lines.append(f"Step {k + 1} of {n}: {where}")
        blocks = [
            ["image (window in [ ])", *_grid(t.image, w, (cell.top, cell.left, kh, kw))],
            ["feature map so far", *_grid(t.feature_map, w, blank_from=cell.row * Wo + cell.col + 1)],
        ]
        lines += ["  " + x for x in _side_by_side(blocks, "     ")]
        lines.append("")
        blocks = [["window", *_grid(cell.window, w)], ["detector", *_grid(t.kernel, w)], ["products", *_grid(prods, w)]]
        lines += ["  " + x for x in _side_by_side(blocks, " ", ["⊙", "="])]
        lines.append(f"  sum of the products: {terms} = {fmt(cell.total)}")
        if cell.slide is not None:
            lines.append(f"  !! the slide shows {fmt(cell.slide)} here: {cell.why}. symnn computes {fmt(cell.value)}.")
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


def _tex_matrix(
    a, mark: tuple[int, int, int, int] | None = None, blank_from: int | None = None, brackets: str = "bmatrix"
) -> str:
    rows, cols = a.shape
    lines = []
    for r in range(rows):
        cells = []
        for c in range(cols):
            flat = r * cols + c
            if blank_from is not None and flat >= blank_from:
                cells.append(r"\cdot")
                continue
            s = fmt(a[r, c])
            if mark is not None and mark[0] <= r < mark[0] + mark[2] and mark[1] <= c < mark[1] + mark[3]:
                s = rf"\boxed{{{s}}}"
            cells.append(s)
        lines.append(" & ".join(cells))
    return rf"\begin{{{brackets}}}" + r" \\ ".join(lines) + rf"\end{{{brackets}}}"


def step_latex(t: StepTable, standalone: bool, compact: bool) -> str:
    """The step table as LaTeX: a document pdflatex compiles (standalone), or its body."""
    from symnn.outputs import TAG
    from symnn.render.latex import latex_text

    kh, kw = t.kernel.shape
    Wo = t.shape[1]
    out = [
        r"\section*{" + latex_text("Step 1 - Convolution: the feature map, cell by cell") + "}",
        latex_text(_header(t)) + ".",
        r"\[ \text{feature map}[i, j] = \sum_{m} \sum_{n} \text{image}[s i + m,\; s j + n]\,"
        r"\text{detector}[m, n] \]",
        r"\[ "
        + _tex_matrix(t.image)
        + r" \star "
        + _tex_matrix(t.kernel)
        + " = "
        + _tex_matrix(t.feature_map)
        + r" \]",
        "",
    ]
    if compact:
        out += [r"\begin{longtable}{r c p{0.55\linewidth} r}", r"step & cell & products & sum \\ \hline \endhead"]
        for k, cell in enumerate(t.cells):
            terms = " + ".join(fmt(p) for row in cell.products for p in row)
            flag = rf" \textbf{{(slide: {fmt(cell.slide)})}}" if cell.slide is not None else ""
            out.append(
                rf"{k + 1} & ({cell.row + 1}, {cell.col + 1}) & ${terms}$ & "
                rf"${fmt(cell.total)}${flag} \\"
            )
        out.append(r"\end{longtable}")
    else:
        for k, cell in enumerate(t.cells):
            prods = np.array([[float(p) for p in row] for row in cell.products])
            terms = " + ".join(fmt(p) for row in cell.products for p in row)
            out.append(
                r"\paragraph{"
                + latex_text(f"Step {k + 1} of {len(t.cells)}: feature map row {cell.row + 1}, column {cell.col + 1}")
                + "}"
            )
            out.append(
                r"\[ "
                + _tex_matrix(t.image, (cell.top, cell.left, kh, kw))
                + r" \qquad "
                + _tex_matrix(cell.window)
                + r" \odot "
                + _tex_matrix(t.kernel)
                + " = "
                + _tex_matrix(prods)
                + r" \qquad "
                + _tex_matrix(t.feature_map, blank_from=cell.row * Wo + cell.col + 1)
                + r" \]"
            )
            out.append(rf"Sum of the products: ${terms} = {fmt(cell.total)}$.")
            if cell.slide is not None:
                out.append(
                    r"\textbf{"
                    + latex_text(f"The slide shows {fmt(cell.slide)} here")
                    + "}: "
                    + latex_text(f"{cell.why}. symnn computes {fmt(cell.value)}.")
                )
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

    body = [
        latex_text(_header(t)) + ".",
        r"\[ "
        + _tex_matrix(t.image)
        + r" \star "
        + _tex_matrix(t.kernel)
        + " = "
        + _tex_matrix(t.feature_map)
        + r" \]",
    ] + [latex_text(x) + "\n" for x in t.notes]
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
            s = fmt(a[r, c])
            if mark is not None and mark[0] <= r < mark[0] + mark[2] and mark[1] <= c < mark[1] + mark[3]:
                s = f"**{s}**"
            cells.append(s)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _md_triple(window, kernel, prods) -> list[str]:
    kh, kw = kernel.shape
    head = (
        "| "
        + " | ".join(
            ["window"]
            + [" "] * (kw - 1)
            + ["⊙"]
            + ["detector"]
            + [" "] * (kw - 1)
            + ["="]
            + ["products"]
            + [" "] * (kw - 1)
        )
        + " |"
    )
    lines = [head, "|" + "---:|" * (3 * kw + 2)]
    for r in range(kh):
        mid = r == kh // 2
        cells = (
            [fmt(v) for v in window[r]]
            + ["⊙" if mid else " "]
            + [fmt(v) for v in kernel[r]]
            + ["=" if mid else " "]
            + [fmt(v) for v in prods[r]]
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def step_markdown(t: StepTable, compact: bool) -> str:
    """The step table as Markdown: per cell the window in bold, the products and their sum."""
    from symnn.outputs import TAG

    kh, kw = t.kernel.shape
    Wo = t.shape[1]
    out = [
        f"<!-- {TAG} -->",
        "## Step 1 - Convolution: the feature map, cell by cell",
        "",
        _header(t) + ".",
        "",
        "`" + _formula() + "`",
        "",
    ]
    if compact:
        out += ["| step | cell | products | sum |", "|---:|:---:|:---|---:|"]
        for k, cell in enumerate(t.cells):
            terms = " + ".join(fmt(p) for row in cell.products for p in row)
            flag = f" **(slide: {fmt(cell.slide)})**" if cell.slide is not None else ""
            out.append(f"| {k + 1} | ({cell.row + 1}, {cell.col + 1}) | {terms} | {fmt(cell.total)}{flag} |")
        out.append("")
    else:
        for k, cell in enumerate(t.cells):
            prods = np.array([[float(p) for p in row] for row in cell.products])
            terms = " + ".join(fmt(p) for row in cell.products for p in row)
            out += [
                f"### Step {k + 1} of {len(t.cells)}: feature map row {cell.row + 1}, column {cell.col + 1}",
                "",
                f"Image (the window under the detector in bold, rows {cell.top + 1}–{cell.top + kh}, "
                f"columns {cell.left + 1}–{cell.left + kw}):",
                "",
                *_md_table(t.image, (cell.top, cell.left, kh, kw)),
                "",
                *_md_triple(cell.window, t.kernel, prods),
                "",
                f"Sum of the products: {terms} = **{fmt(cell.total)}**",
                "",
                "Feature map so far:",
                "",
                *_md_table(t.feature_map, blank_from=cell.row * Wo + cell.col + 1),
                "",
            ]
            if cell.slide is not None:
                out += [
                    f"> **The slide shows {fmt(cell.slide)} here:** {cell.why}. symnn computes {fmt(cell.value)}.",
                    "",
                ]
    out += ["Feature map:", "", *_md_table(t.feature_map), ""]
    out += [note + "\n" for note in t.notes]
    return "\n".join(out).rstrip() + "\n"


def summary_markdown(t: StepTable) -> str:
    t.check_printed(compact=True)
    from symnn.outputs import TAG

    out = [
        f"<!-- {TAG} -->",
        _header(t) + ".",
        "",
        "Input image:",
        "",
        *_md_table(t.image),
        "",
        "Feature detector:",
        "",
        *_md_table(t.kernel),
        "",
        "Feature map:",
        "",
        *_md_table(t.feature_map),
        "",
    ]
    out += [note + "\n" for note in t.notes]
    return "\n".join(out).rstrip() + "\n"


# -- HTML (how a notebook shows a StepTable) -----------------------------------------------------
def _html_matrix(a, caption: str) -> str:
    rows = "".join("<tr>" + "".join(f'<td style="text-align: right">{fmt(v)}</td>' for v in row) + "</tr>" for row in a)
    return f"<table><caption>{caption}</caption><tbody>{rows}</tbody></table>"


def step_html(t: StepTable) -> str:
    """The step table as HTML: the image, the detector and the feature map side by side, then one
    row per cell (its products and their sum, and the slide's value where it differs), then the notes."""
    import html

    t.check_printed(compact=True)
    e = html.escape
    label = "input image, framed by zeros" if t.padding else "input image"
    side = '<span style="font-size: 150%">{}</span>'
    out = [
        f"<p><strong>Step 1 - Convolution: the feature map, cell by cell.</strong> {e(_header(t))}.</p>",
        f"<p><code>{e(_formula())}</code></p>",
        '<div style="display: flex; align-items: center; gap: 1em">',
        _html_matrix(t.image, label),
        side.format("⋆"),
        _html_matrix(t.kernel, "feature detector"),
        side.format("="),
        _html_matrix(t.feature_map, "feature map"),
        "</div>",
    ]
    if t.cells:
        out += ["<table>", "<thead><tr><th>step</th><th>cell</th><th>products</th><th>sum</th></tr></thead>", "<tbody>"]
        for k, cell in enumerate(t.cells):
            terms = " + ".join(fmt(p) for row in cell.products for p in row)
            flag = f" <strong>(the slide shows {fmt(cell.slide)})</strong>" if cell.slide is not None else ""
            out.append(
                f'<tr><td style="text-align: right">{k + 1}</td><td>({cell.row + 1}, {cell.col + 1})</td>'
                f'<td style="text-align: left">{e(terms)}</td>'
                f'<td style="text-align: right">{fmt(cell.total)}{flag}</td></tr>'
            )
        out += ["</tbody>", "</table>"]
    out += [f"<p>{e(note)}</p>" for note in t.notes]
    return "\n".join(out) + "\n"
