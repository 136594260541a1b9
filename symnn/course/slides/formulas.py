"""How tall a formula prints on a slide (math_height), and a derivation step as the rows of an
aligned block, broken where the book breaks it (step_rows)."""

from __future__ import annotations

import re

from symnn.course.slides.sizes import LINE

_MATRIX = re.compile(r"\\begin\{([bpvBV]?matrix|cases|array)\}(?:\{[^}]*\})?(.*?)\\end\{\1\}", re.S)


def math_height(tex: str) -> float:
    """About how tall a displayed formula prints at the slides' size, in points: the rows of its
    matrices and cases, its fractions (a fraction in a fraction is taller), sums with limits
    below them and braces; what stands in an exponent or inside a fraction is set smaller and
    does not count."""
    h = LINE
    for m in _MATRIX.finditer(tex):
        rows = len(re.findall(r"\\\\", m.group(2))) + 1
        h = max(h, rows * (14.0 if m.group(1) == "cases" else 13.0) + 4.0)
    marked = re.sub(r"\\(?:sum|prod|coprod|bigcup|bigcap)\s*(?:\\limits\s*)?_|\\int\s*\\limits\s*_", r"\\LIMITS", tex)
    top = _without_scripts(marked)
    depth = _frac_depth(top)
    if depth:
        h = max(h, 12.0 + 12.0 * depth)
    elif "\\frac" in marked:  # a fraction in an exponent
        h = max(h, 20.0)
    outside = _without_fractions(top)
    if "\\LIMITS" in outside:
        h = max(h, (36.0 if "\\substack" in outside else 30.0) + (4.0 if depth else 0.0))
    if re.search(r"\\(?:underbrace|overbrace)", top):
        h += 14.0
    return h


def _without_scripts(tex: str) -> str:
    """tex with its superscripts and subscripts (^{...}, _x) left out."""
    out, i = [], 0
    while i < len(tex):
        if tex[i] in "^_":
            _, i = _group(tex, i + 1)
            continue
        out.append(tex[i])
        i += 1
    return "".join(out)


def _without_fractions(tex: str) -> str:
    """tex with each \\frac{a}{b} written F."""
    out, i = [], 0
    while (j := tex.find("\\frac", i)) >= 0:
        out.append(tex[i:j] + "F")
        _, k = _group(tex, j + 5)
        _, i = _group(tex, k)
    return "".join(out) + tex[i:]


def _frac_depth(tex: str) -> int:
    """How deeply \\frac nests (a \\frac inside a \\frac's numerator or denominator: 2)."""
    best, i = 0, 0
    while (j := tex.find("\\frac", i)) >= 0:
        k, args = j + 5, []
        for _ in range(2):
            arg, k = _group(tex, k)
            args.append(arg)
        best = max(best, 1 + max(_frac_depth(a) for a in args))
        i = k
    return best


def _group(tex: str, k: int) -> tuple[str, int]:
    """The TeX argument at k (a {group}, a command or one character) and where it ends."""
    while k < len(tex) and tex[k] == " ":
        k += 1
    if k >= len(tex):
        return "", k
    if tex[k] == "{":
        depth = 0
        for e in range(k, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[e], 0)
            if depth == 0:
                return tex[k + 1 : e], e + 1
        return tex[k + 1 :], len(tex)
    m = re.match(r"\\[A-Za-z]+|.", tex[k:], re.S)
    assert m is not None
    return m.group(), k + m.end()


def aligned(rows: list[str]) -> str:
    return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"


def step_rows(lhs, rhs, number: int, ordinary: bool = False) -> list[str]:
    """A step `lhs = rhs` as rows of an aligned block, broken where the book breaks it
    (symnn.render.layout.equation_rows), without the book's equation number."""
    from symnn.render.layout import equation_rows

    rows = []
    for row in equation_rows(lhs, rhs, number, ordinary=ordinary):
        row = re.sub(r"\s*(?:&& \\text\{\(\d+\)\}|\\tag\{\d+\})", "", row)  # the book's equation number
        rows.append(row.removesuffix(r" \\").rstrip())
    return rows
