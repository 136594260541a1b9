"""What a course build writes: `--formats tex,pdf,markdown,html,notebooks,slides`.

Each format is a record: its name, what it is, what the machine needs to make it, and (for the
formats that live in a sub-folder of the build) the writer that makes it from the lessons the
build ran, `write_<format>(pairs, out, force, title) -> list[Path]`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from symnn.errors import InputError


@dataclass(frozen=True)
class Format:
    name: str
    what: str
    needs_pdflatex: bool = False
    writer: str = ""  # "module:function" for a format written into out/<folder>/
    folder: str = ""
    pdf_option: bool = False  # the writer takes pdf=None|False|True (as the book's --pdf/--no-pdf)

    def write(self) -> Callable[..., list[Path]]:
        module, function = self.writer.split(":")
        return getattr(importlib.import_module(module), function)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("tex", "the LaTeX book, course.tex"),
        Format("pdf", "the printed book, course.pdf", needs_pdflatex=True),
        Format("markdown", "one Markdown file per lesson"),
        Format("html", "a web book that works offline", writer="symnn.course.html:write_html", folder="html"),
        Format(
            "notebooks",
            "one Jupyter notebook per lesson, with its outputs",
            writer="symnn.course.notebooks:write_notebooks",
            folder="notebooks",
        ),
        Format(
            "slides",
            "a Beamer deck per lesson",
            writer="symnn.course.slides:write_slides",
            folder="slides",
            pdf_option=True,
        ),
    )
}
ALL = tuple(FORMATS)


def choose(spec: str | None, pdf: bool | None, pdflatex: str | None) -> tuple[list[str], list[str]]:
    """The formats to write, and a line for each one the build leaves out by default, saying why.

    spec None: every format this machine can make (the PDF only with pdflatex); a list such as
    "html,pdf" asks for exactly those, and one the machine cannot make is refused. The older
    --pdf/--no-pdf option still asks for / leaves out the PDF."""
    skipped: list[str] = []
    if spec is None:
        chosen = [name for name in ALL if not (name == "pdf" and pdf is False)]
        if pdflatex is None and pdf is not True:
            chosen = [name for name in chosen if name != "pdf"]  # the build says why (PDFLATEX_HINT)
    else:
        chosen = []
        for part in str(spec).split(","):
            name = part.strip().lower()
            if name == "all":
                chosen += [n for n in ALL if n not in chosen]
            elif name in FORMATS:
                chosen += [name] if name not in chosen else []
            else:
                raise InputError(f"unknown format {part.strip()!r} in --formats; the formats are {','.join(ALL)}")
        if pdf is False and "pdf" in chosen:
            raise InputError("--no-pdf contradicts --formats pdf; give one of them")
        if pdf is True and "pdf" not in chosen:
            chosen.append("pdf")
    if pdflatex is None and "slides" in chosen:
        skipped.append("the slides' PDFs: pdflatex is not on the PATH (the decks' .tex are written)")
    return sorted(chosen, key=ALL.index), skipped
