"""What a pdflatex log says about the page: the overfull boxes (a line or a block wider than the
text, which prints past the margin or is cut off at the paper's edge).

    from symnn.course.texlog import overfull_boxes, too_wide
    boxes = overfull_boxes(Path("course.log").read_text(errors="replace"))   # [(526.3, 1234), ...]
    assert not too_wide(log)            # no box over 1 pt, the book's print-quality rule
"""

from __future__ import annotations

import re

# "Overfull \hbox (526.12pt too wide) in paragraph at lines 1234--1240",
# "... detected at line 345", "... in alignment at lines 10--20", "Overfull \vbox (3.0pt too high) ..."
_OVERFULL = re.compile(
    r"^Overfull \\[hv]box \((?P<pt>[\d.]+)pt too (?:wide|high)\)"
    r"(?:.*?\blines? (?P<line>\d+))?",
    re.MULTILINE,
)

LIMIT_PT = 1.0  # wider than this is a cut or visibly protruding line; TeX's own \hfuzz is 0.1 pt


def overfull_boxes(log: str) -> list[tuple[float, int | None]]:
    """Every overfull \\hbox and \\vbox in a pdflatex log, in the log's order, as (how many points
    too wide or too high, the first source line TeX names for it; None when it names none, as
    for a box found while a page is shipped out)."""
    return [(float(m.group("pt")), int(m.group("line")) if m.group("line") else None) for m in _OVERFULL.finditer(log)]


def too_wide(log: str, limit: float = LIMIT_PT) -> list[tuple[float, int | None]]:
    """The overfull boxes over `limit` points, widest first."""
    return sorted((b for b in overfull_boxes(log) if b[0] > limit), key=lambda b: -b[0])


def describe(boxes: list[tuple[float, int | None]], source: str = "course.tex") -> str:
    """One line per box, for a test's failure message: '526.1 pt at course.tex line 1234'."""
    return "\n".join(f"{pt:.1f} pt at {source} line {line}" if line else f"{pt:.1f} pt" for pt, line in boxes)
