"""The blocks a lesson is made of (prose, math, derivations, tables, figures, code, notes): each
renders itself as terminal text, LaTeX and Markdown, and as the rich outputs a Jupyter notebook
shows (`mimebundles()`: Markdown, LaTeX, HTML tables, PNG figures), which a lesson run in a
kernel displays and the course's notebooks hold."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from symnn.course import numbers, prose
from symnn.errors import InputError

if TYPE_CHECKING:
    from symnn.derive.derivation import Derivation


@dataclass
class Block:
    cell: int | None = field(default=None, init=False)

    def text(self) -> str:
        raise NotImplementedError

    def latex(self) -> str:
        raise NotImplementedError

    def markdown(self) -> str:
        raise NotImplementedError

    # ---- rich display: Jupyter (symnn.course.notebooks writes the same bundles) ----------------
    def mimebundles(self) -> list[tuple[dict[str, str], dict]]:
        """The block as notebook outputs: one (data, metadata) pair per display, data mapping a
        MIME type to its text (PNG as base64), every one with a text/plain fallback."""
        return [({"text/markdown": self.markdown(), "text/plain": self.text()}, {})]

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for data, metadata in self.mimebundles():
            display(data, raw=True, metadata=metadata)


@dataclass
class Prose(Block):
    body: str
    where: str

    def text(self) -> str:
        return prose.markdown_text(self.body)

    def latex(self) -> str:
        return prose.prose_latex(self.body, self.where)

    def markdown(self) -> str:
        return self.body.strip("\n")


@dataclass
class Math(Block):
    tex: str
    plain: str

    def text(self) -> str:
        return "    " + self.plain

    def latex(self) -> str:
        return r"\[" + self.tex + r"\]"

    def markdown(self) -> str:
        return f"$$\n{self.tex}\n$$"

    def mimebundles(self) -> list[tuple[dict[str, str], dict]]:
        return [({"text/latex": self.latex(), "text/markdown": self.markdown(), "text/plain": self.text()}, {})]

    def _repr_latex_(self) -> str:
        return self.latex()


@dataclass
class DerivationBlock(Block):
    d: Derivation
    title: str
    label: str = ""  # its equations' labels in the book (eq:<label>:<n>), unique in the book

    def text(self) -> str:
        body = self.d.text().split("\n", 2)[2]  # drop the derivation's own title and rule
        return f"{self.title}\n{'=' * min(len(self.title), 80)}\n{body}".rstrip("\n")

    def latex(self) -> str:
        from symnn.render.latex import heading_tex, render_body

        title = heading_tex(self.title)  # set ragged right: a long title is never wider than the page
        body = render_body(self.d, labels=self.label or None)
        return f"\\section[{{{title}}}]{{\\raggedright {title}}}\n{body}".rstrip("\n")

    def markdown(self) -> str:
        lines = self.d.markdown().split("\n")
        lines = [ln for ln in lines if not ln.startswith("<!--")]
        heading = next(i for i, ln in enumerate(lines) if ln.startswith("## "))
        lines[heading] = f"## {self.title}"
        return "\n".join(lines[heading:]).strip("\n")

    def mimebundles(self) -> list[tuple[dict[str, str], dict]]:
        return [({"text/latex": self.latex(), "text/markdown": self.markdown(), "text/plain": self.text()}, {})]

    def _repr_latex_(self) -> str:
        return self.latex()


@dataclass
class Table(Block):
    headers: list
    rows: list
    caption: str
    label: str  # "Table 2.1"
    where: str

    def _cells(self, kind: str) -> list[list[str]]:
        return [[cell_text(v, kind, self.where) for v in row] for row in [self.headers, *self.rows]]

    def text(self) -> str:
        cells = self._cells("text")
        widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]

        def fmt(r: list[str]) -> str:
            return "  ".join(v.rjust(w) if numeric_text(v) else v.ljust(w) for v, w in zip(r, widths)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join(
            [f"{self.label}: {prose.inline_text(self.caption)}", fmt(cells[0]), rule, *map(fmt, cells[1:])]
        )

    def latex(self) -> str:
        cells = self._cells("latex")
        align = "".join(
            "r" if all(numeric_text(r[c]) for r in self._cells("text")[1:]) else "l" for c in range(len(cells[0]))
        )
        body = "\n".join(" & ".join(r) + r" \\" for r in cells[1:])
        return (
            "\\begin{table}[!htbp]\n\\centering\\small\n"
            "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
            f"\\begin{{tabular}}{{{align}}}\n\\toprule\n{' & '.join(cells[0])} \\\\\n\\midrule\n"
            f"{body}\n\\bottomrule\n\\end{{tabular}}}}\n"
            f"\\caption{{{prose.inline_latex(self.caption, self.where, refs=False)}}}"
            f"\\label{{{prose.label_of(self.label)}}}\n\\end{{table}}"
        )

    def markdown(self) -> str:
        cells = self._cells("markdown")
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        lines.insert(
            1,
            "|"
            + "|".join(
                "---:" if all(numeric_text(r[c]) for r in self._cells("text")[1:]) else "---"
                for c in range(len(cells[0]))
            )
            + "|",
        )
        return "\n".join(lines) + f"\n\n*{self.label}: {self.caption}*"

    def html(self) -> str:
        """The table as HTML (its $math$ left for MathJax), numeric columns right-aligned."""
        cells = [[v.replace(r"\|", "|") for v in row] for row in self._cells("markdown")]
        plain = self._cells("text")[1:]
        right = [bool(plain) and all(numeric_text(r[c]) for r in plain) for c in range(len(cells[0]))]

        def row(values: list[str], tag: str) -> str:
            return (
                "<tr>"
                + "".join(
                    f'<{tag} style="text-align: {"right" if r else "left"}">{_inline_html(v, self.where)}</{tag}>'
                    for v, r in zip(values, right)
                )
                + "</tr>"
            )

        return "\n".join(
            [
                "<table>",
                f"<caption>{_inline_html(f'{self.label}: {self.caption}', self.where)}</caption>",
                "<thead>",
                row(cells[0], "th"),
                "</thead>",
                "<tbody>",
                *(row(r, "td") for r in cells[1:]),
                "</tbody>",
                "</table>",
            ]
        )

    def mimebundles(self) -> list[tuple[dict[str, str], dict]]:
        return [({"text/html": self.html(), "text/markdown": self.markdown(), "text/plain": self.text()}, {})]

    def _repr_html_(self) -> str:
        return self.html()


@dataclass
class Figure(Block):
    path: Path  # where the PNG was saved
    href: str  # how the book refers to it: figures/NN_name.png
    caption: str
    label: str  # "Figure 3.1"
    width: float
    where: str

    def text(self) -> str:
        return f"[{self.label}: {prose.inline_text(self.caption)} -> {self.path}]"

    def latex(self) -> str:
        return (
            "\\begin{figure}[!htbp]\n\\centering\n"
            f"\\includegraphics[width={self.width:g}\\linewidth]{{{self.href}}}\n"
            f"\\caption{{{prose.inline_latex(self.caption, self.where, refs=False)}}}"
            f"\\label{{{prose.label_of(self.label)}}}\n\\end{{figure}}"
        )

    def markdown(self) -> str:
        alt = prose.inline_text(self.caption).replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.href})\n\n*{self.label}: {self.caption}*"

    def png(self) -> bytes:
        """The PNG that figure() saved."""
        return self.path.read_bytes()

    def mimebundles(self) -> list[tuple[dict[str, str], dict]]:
        """The picture (the saved PNG, inline) and its caption below it."""
        import base64

        data = self.png()
        shown = _png_width(data)
        caption = prose.inline_text(self.caption)
        return [
            (
                {"image/png": base64.b64encode(data).decode("ascii"), "text/plain": f"<{self.label}: {caption}>"},
                {"image/png": {"width": shown}} if shown else {},
            ),
            ({"text/markdown": f"*{self.label}: {self.caption}*", "text/plain": f"{self.label}: {caption}"}, {}),
        ]

    def _repr_png_(self) -> bytes:
        return self.png()


@dataclass
class Code(Block):
    body: str
    where: str

    def text(self) -> str:
        return textwrap.indent(self.body.strip("\n"), "    ")

    def latex(self) -> str:
        bad = next((ch for ch in self.body if ord(ch) >= 128), None)
        if bad:
            raise InputError(f"{self.where}: code blocks must be ASCII for LaTeX; found {bad!r}")
        return "{\\small\n\\begin{verbatim}\n" + self.body.strip("\n") + "\n\\end{verbatim}\n}"

    def markdown(self) -> str:
        return "```python\n" + self.body.strip("\n") + "\n```"


@dataclass
class Note(Block):
    body: str
    where: str

    def text(self) -> str:
        wrapped = textwrap.fill(prose.markdown_text(self.body), 76)
        return textwrap.indent("NOTE  " + wrapped, "  | ")

    def latex(self) -> str:
        return (
            "\\begin{center}\\fcolorbox{black!50}{black!5}{\\begin{minipage}{0.92\\linewidth}\n"
            f"\\textbf{{Note.}} {prose.prose_latex(self.body, self.where)}\n"
            "\\end{minipage}}\\end{center}"
        )

    def markdown(self) -> str:
        return textwrap.indent(f"**Note.** {self.body.strip()}", "> ", lambda _: True)


def numeric_text(s: str) -> bool:
    return bool(re.fullmatch(r"[-+−]?[\d,]*\.?\d+(e[-+]?\d+)?%?|[-+−]?[\d.]+ × 10\^-?\d+", s.strip()))


def cell_text(v: object, kind: str, where: str) -> str:
    """One table cell: text (Markdown prose with $math$), a SymPy expression, or a number."""
    import sympy as sp

    if hasattr(v, "item") and not isinstance(v, (str, sp.Basic)):
        v = v.item()  # NumPy scalars
    if isinstance(v, numbers.Sci):
        return {"text": v.text, "latex": f"${v.latex}$", "markdown": f"${v.latex}$"}[kind]
    if isinstance(v, sp.Basic):
        from symnn.render.latex import tex
        from symnn.render.text import show

        return show(v) if kind == "text" else f"${tex(v)}$"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        s = str(v)
    else:
        s = format(v, "g") if isinstance(v, float) else str(v)
    if kind == "text":
        return prose.inline_text(s)
    if kind == "latex":
        return prose.inline_latex(s, where)
    return s.replace("|", r"\|")


def _png_width(data: bytes) -> int | None:
    """The width to show a PNG at, in CSS pixels, when it was saved above 100 dpi (its pHYs
    chunk says so): a 200 dpi print figure shows at the size of a 100 dpi one. None: as it is."""
    import struct

    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width = struct.unpack(">I", data[16:20])[0]
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"pHYs" and length == 9:
            ppm, _, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            dpi = ppm * 0.0254
            return round(width * 100 / dpi) if unit == 1 and dpi > 110 else None
        if kind in (b"IDAT", b"IEND"):
            return None
        pos += 12 + length
    return None


def _inline_html(text: str, where: str) -> str:
    """A table cell or caption as HTML for a notebook: the web book's prose markup, $math$ kept for MathJax."""
    import html

    from symnn.course.pages import inline_html

    return inline_html(text, where, math=lambda tex: html.escape(f"${tex}$", quote=False))
