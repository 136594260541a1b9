"""The frame's size and what fills it: a Beamer frame (Frame, its parts and about how tall they
print) and the sizes the estimates count in, in points.

The frame (Beamer, aspectratio=169, 11 pt) is 398 pt wide, with about 216 pt of body under a
one-line frame title and above the footline; BODY leaves a margin for what the estimates miss.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

BODY = 204.0
LINE = 13.6  # \normalsize baseline
SMALL_LINE = 12.0  # \small
FOOT_LINE = 11.0  # \footnotesize
CHARS = 78  # characters of prose on a line at \normalsize (84 measured: 398 pt / 4.7 pt)
SMALL_CHARS = 86
FOOT_CHARS = 94
CODE_SIZES = (("\\footnotesize", 84, 11.0), ("\\scriptsize", 96, 9.5), ("\\tiny", 130, 7.0))  # tt characters a line
TITLE_CHARS = 66  # of a frame title at \Large before it takes a second line


@dataclass
class Frame:
    """One Beamer frame: its title, what it holds (LaTeX) and about how tall that prints."""

    title: str
    subtitle: str = ""
    parts: list[str] = field(default_factory=list)
    height: float = 0.0
    kind: str = "text"  # text, derivation, table, figure, exercises, reading
    align: str = "t"
    last_prose: str = ""  # the last part's Markdown when it is a paragraph: does it introduce what follows?
    sizes: list[float] = field(default_factory=list)  # each part's height
    overlays: int = 0  # the steps revealed one by one

    def room(self) -> float:
        return BODY - self.height - title_height(self.title, self.subtitle)

    def add(self, latex: str, height: float) -> None:
        self.parts.append(latex)
        self.sizes.append(height)
        self.height += height
        self.last_prose = ""

    def pop(self) -> tuple[str, float]:
        latex, height = self.parts.pop(), self.sizes.pop()
        self.height -= height
        self.last_prose = ""
        return latex, height

    def latex(self) -> str:
        used = self.height + title_height(self.title, self.subtitle)
        head = f"\\begin{{frame}}[{self.align}]% {self.kind}: about {used:.0f} pt of {BODY:.0f}\n"
        head += f"\\frametitle{{{self.title}}}\n"
        if self.subtitle:
            head += f"\\framesubtitle{{{self.subtitle}}}\n"
        body = "\n".join(self.parts)
        if self.kind == "reading":  # its parts are the items of a list
            body = "{\\small\\raggedright\n\\begin{itemize}\n" + body + "\n\\end{itemize}\\par}"
        return head + body + "\n\\end{frame}\n"


def title_height(title: str, subtitle: str) -> float:
    plain = len(plain_text(title))
    h = 0.0 if plain <= TITLE_CHARS else 17.0 * (math.ceil(plain / TITLE_CHARS) - 1)
    return h + (12.0 if subtitle else 0.0)


def plain_text(latex: str) -> str:
    """About what a LaTeX string prints, for counting its characters."""
    t = re.sub(r"\\texorpdfstring\{((?:[^{}]|\{[^{}]*\})*)\}\{[^{}]*\}", r"\1", latex)
    t = re.sub(r"\\(?:textbf|emph|texttt|ensuremath|mathrm|text|url|href\{[^}]*\})\{", "{", t)
    t = re.sub(r"\\[a-zA-Z]+\*?", "x", t)
    return re.sub(r"[{}$\\^_]", "", t)


def count_lines(text: str, chars: int) -> int:
    """How many lines a paragraph of this much text takes."""
    return max(1, math.ceil(len(text) / chars))
