"""The blocks a lesson is made of (prose, math, derivations, tables, figures, code, notes): each
renders itself as terminal text, LaTeX and Markdown."""

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


@dataclass
class DerivationBlock(Block):
    d: Derivation
    title: str

    def text(self) -> str:
        body = self.d.text().split("\n", 2)[2]  # drop the derivation's own title and rule
        return f"{self.title}\n{'=' * min(len(self.title), 80)}\n{body}".rstrip("\n")

    def latex(self) -> str:
        from symnn.render.latex import latex_text, render_body

        return f"\\section{{{latex_text(self.title)}}}\n{render_body(self.d)}".rstrip("\n")

    def markdown(self) -> str:
        lines = self.d.markdown().split("\n")
        lines = [ln for ln in lines if not ln.startswith("<!--")]
        heading = next(i for i, ln in enumerate(lines) if ln.startswith("## "))
        lines[heading] = f"## {self.title}"
        return "\n".join(lines[heading:]).strip("\n")


@dataclass
class Table(Block):
    headers: list
    rows: list
    caption: str
    label: str  # "Table 2.1"
    where: str

    def _cells(self, kind: str) -> list[list[str]]:
        return [[_cell(v, kind, self.where) for v in row] for row in [self.headers, *self.rows]]

    def text(self) -> str:
        cells = self._cells("text")
        widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]

        def fmt(r: list[str]) -> str:
            return "  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(r, widths)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join(
            [f"{self.label}: {prose.inline_text(self.caption)}", fmt(cells[0]), rule, *map(fmt, cells[1:])]
        )

    def latex(self) -> str:
        cells = self._cells("latex")
        align = "".join(
            "r" if all(_numeric(r[c]) for r in self._cells("text")[1:]) else "l" for c in range(len(cells[0]))
        )
        body = "\n".join(" & ".join(r) + r" \\" for r in cells[1:])
        return (
            "\\begin{table}[!htbp]\n\\centering\\small\n"
            "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n"
            f"\\begin{{tabular}}{{{align}}}\n\\toprule\n{' & '.join(cells[0])} \\\\\n\\midrule\n"
            f"{body}\n\\bottomrule\n\\end{{tabular}}}}\n"
            f"\\caption{{{prose.inline_latex(self.caption, self.where)}}}\n\\end{{table}}"
        )

    def markdown(self) -> str:
        cells = self._cells("markdown")
        lines = ["| " + " | ".join(r) + " |" for r in cells]
        lines.insert(
            1,
            "|"
            + "|".join(
                "---:" if all(_numeric(r[c]) for r in self._cells("text")[1:]) else "---" for c in range(len(cells[0]))
            )
            + "|",
        )
        return "\n".join(lines) + f"\n\n*{self.label}: {self.caption}*"


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
            f"\\caption{{{prose.inline_latex(self.caption, self.where)}}}\n\\end{{figure}}"
        )

    def markdown(self) -> str:
        alt = prose.inline_text(self.caption).replace("[", "(").replace("]", ")")
        return f"![{alt}]({self.href})\n\n*{self.label}: {self.caption}*"


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


def _numeric(s: str) -> bool:
    return bool(re.fullmatch(r"[-+−]?[\d,]*\.?\d+(e[-+]?\d+)?%?|[-+−]?[\d.]+ × 10\^-?\d+", s.strip()))


def _cell(v: object, kind: str, where: str) -> str:
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
