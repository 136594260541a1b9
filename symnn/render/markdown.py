"""Markdown: one `$$` block per step with its justification in words; renders on GitHub
and in Jupyter."""

from __future__ import annotations

from symnn.outputs import TAG
from symnn.render.latex import LatexPrinter
from symnn.render.text import verification_summary


def note_markdown(note: str) -> str:
    """A note with its backticked mathematics as inline $...$."""
    from symnn.render.notes import math_tex, pieces

    return "".join(f"${math_tex(t)}$" if is_math else t for is_math, t in pieces(note))


def render(d) -> str:
    out = [f"<!-- {TAG} -->", f"## {note_markdown(d.title)}", ""]
    if d.intro:
        out += [d.intro, ""]
    number = 0
    printer = LatexPrinter({"mul_symbol": None, "ordinary": getattr(d, "ordinary", False)})  # d/dx, as LaTeX
    tex = printer.doprint
    for step in d.steps:
        if step.is_heading:
            out += [f"### {step.note}", ""]
            continue
        number += 1
        note = f" — {note_markdown(step.note)}" if step.note else ""
        out += [f"**({number}) {step.rule}**{note}", "", f"$$\n{tex(step.lhs)} = {tex(step.rhs)}\n$$", ""]
    out += [f"*{verification_summary(d)}*", ""]
    if d.references:
        out += ["**Further reading:**", ""] + [f"- {r}" for r in d.references] + [""]
    return "\n".join(out)
