"""A lesson's blocks as frames, in the book's reading order (lesson_frames): prose split at its
headings, paragraphs and, when a paragraph would not fit, between sentences; a derivation's steps
one overlay each, over as many frames as they need; a table split by rows; a figure on a frame of
its own; the feature-map animation (symnn.course.slides.animation); notes, exercises, reading."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symnn.course import prose
from symnn.course.blocks import Code, DerivationBlock, Figure, Math, Note, Prose, Table
from symnn.course.slides.animation import feature_map_frames, lesson_step_tables, step_cells
from symnn.course.slides.formulas import aligned, math_height, step_rows
from symnn.course.slides.sizes import (
    BODY,
    CHARS,
    CODE_SIZES,
    FOOT_CHARS,
    FOOT_LINE,
    LINE,
    SMALL_CHARS,
    SMALL_LINE,
    Frame,
    count_lines,
    plain_text,
    title_height,
)
from symnn.errors import SymnnError

if TYPE_CHECKING:
    from symnn.course.lesson import Lesson
    from symnn.vision.step_tables import StepTable

MAX_TABLE_ROWS = 12  # rows of a table on one frame


def lesson_frames(lesson: Lesson) -> list[str]:
    """A lesson's frames and \\section lines, in order (what a deck holds after its title frame)."""
    return _Deck(lesson).render()


class _Deck:
    """Builds a lesson's frames block by block."""

    def __init__(self, lesson: Lesson) -> None:
        from symnn.render.latex import latex_text

        self.lesson = lesson
        self.where = lesson.where
        self.out: list[str] = []  # frames and \section lines, in order
        self.frame: Frame | None = None
        self.section = f"Lesson {lesson.number}: {latex_text(lesson.title)}"
        self.subsection = ""
        self.tables = lesson_step_tables(lesson)

    # -- frames
    def close(self) -> None:
        if self.frame is not None and self.frame.parts:
            self.out.append(self.frame.latex())
        self.frame = None

    def new(self, kind: str = "text", title: str | None = None, subtitle: str | None = None) -> Frame:
        self.close()
        self.frame = Frame(
            title if title is not None else self.section, self.subsection if subtitle is None else subtitle, kind=kind
        )
        return self.frame

    def lead(self, most: float) -> tuple[str, float] | None:
        """The current frame's last paragraph when it introduces what follows (it ends with a
        colon) and is at most `most` pt high: taken off that frame, to stand above the table,
        figure or derivation it introduces."""
        f = self.frame
        if f is None or f.kind != "text" or not f.last_prose.rstrip().endswith(":") or f.sizes[-1] > most:
            return None
        latex, height = f.pop()
        if not f.parts:
            self.frame = None
        return latex.removesuffix("\\par\\medskip") + "\\par\\smallskip", height - 3.0

    def text_frame(self, height: float, joins: bool) -> Frame:
        """The frame for text of this height: the current text frame when `joins` and it fits."""
        f = self.frame
        if f is not None and f.kind == "text" and joins and height <= f.room():
            return f
        return self.new()

    # -- blocks
    def prose(self, block: Prose) -> None:
        for kind, value in _paragraphs(block.body):
            if kind == "heading":
                level, text = value
                heading = prose.heading_latex(text, self.where)
                self.close()
                if level <= 2:
                    self.section, self.subsection = heading, ""
                    self.out.append(f"\\section{{{heading}}}\n")
                else:
                    self.subsection = heading
                    self.out.append(f"\\subsection{{{heading}}}\n")
                continue
            self.paragraph(value)

    def paragraph(self, text: str) -> None:
        height = _prose_height(text)
        f = self.frame
        joins = (
            f is not None
            and f.kind == "text"
            and (f.last_prose.rstrip().endswith(":") or f.height + height <= 0.62 * BODY)
        )
        if height > BODY - 10:  # a paragraph longer than a frame: split it between sentences
            for piece in _sentences(text, BODY - 20):
                self.paragraph(piece)
            return
        frame = self.text_frame(height, joins)
        frame.add(prose.prose_latex(text, self.where) + "\n\\par\\medskip", height + 6.0)
        frame.last_prose = text

    def math(self, block: Math) -> None:
        height = math_height(block.tex) + 8.0
        f = self.frame
        frame = self.text_frame(height, joins=f is not None and f.kind == "text")
        fit = f"[{frame.room() - 8.0:.0f}pt]" if height > frame.room() else ""  # taller than a frame: scaled
        frame.add(f"\\symnndisplay{fit}{{$\\displaystyle {block.tex}$}}", min(height, frame.room()))
        frame.last_prose = ""

    def note(self, block: Note) -> None:
        height = _prose_height(block.body, FOOT_CHARS - 6, FOOT_LINE) + 26.0
        f = self.frame
        frame = self.text_frame(height, joins=f is not None and f.kind == "text")
        frame.add(
            "\\begin{alertblock}{Note}\\footnotesize\n"
            + prose.prose_latex(block.body, self.where)
            + "\n\\end{alertblock}",
            height,
        )
        frame.last_prose = ""

    def code(self, block: Code) -> None:
        from symnn.render.latex import latex_text

        lines = block.body.strip("\n").split("\n")
        width = max(len(ln) for ln in lines)
        size, lh = next(((name, lh) for name, chars, lh in CODE_SIZES if width <= chars), CODE_SIZES[-1][::2])
        body = "\\\\\n".join(latex_text(ln).replace(" ", "~") or "~" for ln in lines)
        height = len(lines) * lh + 14.0
        f = self.frame
        frame = self.text_frame(height, joins=f is not None and f.kind == "text")
        frame.add("\\begin{block}{}\n{" + size + "\\ttfamily\\raggedright\n" + body + "\\par}\n\\end{block}", height)
        frame.last_prose = ""

    def figure(self, block: Figure) -> None:
        from symnn.render.latex import latex_text

        caption = f"{latex_text(block.label)}: {prose.inline_latex(block.caption, self.where)}"
        lines = count_lines(plain_text(caption), FOOT_CHARS)
        lead = self.lead(3 * LINE + 6.0)
        frame = self.new("figure")
        frame.align = "c"
        if lead:
            frame.add(*lead)
        room = frame.room() - lines * FOOT_LINE - 12.0
        frame.add(
            "{\\centering\\includegraphics[width=\\linewidth,height="
            f"{room:.0f}pt,keepaspectratio]{{{Path(block.href).name}}}\\par}}\n"
            f"\\symnncaption{{{caption}}}",
            room + lines * FOOT_LINE + 6.0,
        )
        self.close()

    def table(self, block: Table) -> None:
        from symnn.render.latex import latex_text

        spec, header, rows = _tabular_parts(block)
        caption = f"{latex_text(block.label)}: {prose.inline_latex(block.caption, block.where, refs=False)}"
        cap_h = count_lines(plain_text(caption) + " (rows 10--20 of 25)", FOOT_CHARS) * FOOT_LINE + 6.0
        header_h = max(math_height(header), SMALL_LINE) + 8.0
        steps = step_cells(self.tables, block)
        for t in steps:  # the animation, then the table that lists its steps
            self.steps(t, block.label)
        lead = None if steps else self.lead(4 * LINE + 6.0)
        room = BODY - title_height(self.section, self.subsection) - cap_h - header_h - 10.0
        chunks: list[list[str]] = [[]]
        heights = [lead[1] if lead else 0.0]
        for row in rows:
            h = _row_height(row)
            if chunks[-1] and (heights[-1] + h > room or len(chunks[-1]) >= MAX_TABLE_ROWS):
                chunks.append([])
                heights.append(0.0)
            chunks[-1].append(row)
            heights[-1] += h
        for n, chunk in enumerate(chunks):
            frame = self.new("table")
            if lead and n == 0:
                frame.parts.append(lead[0])  # its height is counted in heights[0]
            part = ""
            if len(chunks) > 1:
                first = sum(len(c) for c in chunks[:n]) + 1
                part = f" (rows {first}--{first + len(chunk) - 1} of {len(rows)})"
            tallest = room + header_h - (heights[n] - sum(map(_row_height, chunk)))  # less the lead's height
            frame.add(
                f"{{\\centering\\small\\symnnfit[{tallest:.0f}pt]{{%\n"
                f"\\begin{{tabular}}{{{spec}}}\n\\toprule\n{header} \\\\\n\\midrule\n"
                + "\n".join(chunk)
                + "\n\\bottomrule\n\\end{tabular}}\\par}\n"
                + f"\\symnncaption{{{caption}{part}}}",
                heights[n] + cap_h + header_h,
            )
        self.close()

    def derivation(self, block: DerivationBlock) -> None:
        from symnn.render.latex import latex_text, note_tex, text_with_math
        from symnn.render.text import verification_summary

        d = block.d
        title = latex_text(block.title)
        ordinary = getattr(d, "ordinary", False)
        sections: list[tuple[str, list[Any]]] = []
        for step in d.steps:
            if step.is_heading:
                sections.append((text_with_math(step.note), []))
            else:
                if not sections:
                    sections.append(("", []))
                sections[-1][1].append(step)
        lead = self.lead(0.45 * BODY)
        start: Frame | None = None  # the frame the first steps may join: the lead, the introduction
        if lead or d.intro:
            start = self.new("derivation", title=title, subtitle="")
            if lead:
                start.add(*lead)
            if d.intro:
                intro = text_with_math(d.intro)
                start.add(intro + "\\par\\medskip", count_lines(plain_text(intro), CHARS) * LINE + 6.0)
        number = 0
        for section, steps in sections:
            frame = None
            for step in steps:
                number += 1
                rows = step_rows(step.lhs, step.rhs, number, ordinary)
                note = note_tex(f"{step.rule}: {step.note}" if step.note else step.rule)
                height = (
                    sum(math_height(r) + 3.0 for r in rows)
                    + count_lines(plain_text(note) + "(00) ", FOOT_CHARS) * FOOT_LINE
                    + 5.0
                )
                if frame is None and start is not None and height <= start.room() - (12.0 if section else 0.0):
                    frame, start.subtitle = start, section  # the first steps go under the introduction
                elif frame is None or height > frame.room():
                    cont = " (continued)" if frame is not None else ""
                    frame = self.new("derivation", title=title, subtitle=(section + cont).strip())
                start = None
                frame.overlays += 1
                frame.add(f"\\onslide<{frame.overlays}->\n\\symnnstep{{{number}}}{{{aligned(rows)}}}{{{note}}}", height)
        summary = "\\par\\medskip{\\footnotesize\\itshape " + latex_text(verification_summary(d)) + "\\par}"
        height = count_lines(verification_summary(d), FOOT_CHARS) * FOOT_LINE + 8.0
        f = self.frame
        if f is not None and f.kind == "derivation" and height <= f.room():
            f.add(summary, height)
        else:
            self.new("text", title=title, subtitle="").add(summary, height)
        self.close()

    def steps(self, t: StepTable, label: str) -> None:
        """The feature map cell by cell: one overlay per cell."""
        for frame in feature_map_frames(t, self.section, label):
            self.close()
            self.out.append(frame)

    def ending(self) -> None:
        """The exercises and the additional reading."""
        from symnn.render.latex import latex_text

        self.close()
        if self.lesson.exercises:
            self.out.append("\\section{Exercises}\n")
            for ex in self.lesson.exercises:
                givens = "\\\\\n".join(latex_text(ln.strip()) for ln in ex.givens.strip().splitlines())
                n_givens = len(ex.givens.strip().splitlines())
                prompt = prose.inline_latex(ex.prompt, self.where)
                item = (
                    f"\\textbf{{Exercise {ex.id}.}} {prompt} Find \\texttt{{{latex_text(ex.goal)}}}, starting from\n"
                    "\\begin{block}{}\n{\\footnotesize\\ttfamily\\raggedright\n" + givens + "\\par}\n\\end{block}\n"
                    f"{{\\footnotesize Check your answer with \\texttt{{{latex_text(ex.check_hint())}}}; "
                    "the book's appendix has a worked solution.\\par}\\medskip"
                )
                height = (
                    count_lines(plain_text(prompt) + "Exercise 1.1. Find dC/db, starting from", CHARS) * LINE
                    + n_givens * 9.5
                    + 14.0
                    + 2 * FOOT_LINE
                    + 14.0
                )
                f = self.frame
                frame = f if f is not None and f.kind == "exercises" and height <= f.room() else None
                if frame is None:
                    frame = self.new("exercises", title="Exercises", subtitle="")
                frame.add(item, height)
            self.close()
        if self.lesson.reading:
            items = [prose.inline_latex(r, self.where) for r in self.lesson.reading]
            for item in items:
                height = count_lines(plain_text(item), SMALL_CHARS - 4) * SMALL_LINE + 4.0
                f = self.frame
                frame = f if f is not None and f.kind == "reading" and height <= f.room() - 8 else None
                if frame is None:
                    frame = self.new("reading", title="Additional reading", subtitle="")
                    frame.height += 12.0  # the list's space above and below
                frame.add(f"  \\item {item}", height)
            self.close()

    def render(self) -> list[str]:
        if self.tables and not any(step_cells(self.tables, b) for b in self.lesson.blocks if isinstance(b, Table)):
            pending = list(self.tables)
        else:
            pending = []
        for block in self.lesson.ordered_blocks():
            if isinstance(block, Prose):
                self.prose(block)
            elif isinstance(block, Math):
                self.math(block)
            elif isinstance(block, DerivationBlock):
                self.derivation(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, Note):
                self.note(block)
            elif isinstance(block, Code):
                self.code(block)
            else:  # a block kind the slides do not know: its book form, on a frame of its own
                self.new().add(block.latex(), BODY)
        for t in pending:  # a feature map no table of the lesson lists cell by cell
            self.steps(t, "")
        self.ending()
        return self.out


def _paragraphs(body: str) -> Iterable[tuple[str, Any]]:
    """A Prose block's headings and paragraphs, in order: ("heading", (level, text)) or
    ("paragraph", markdown)."""
    heading = re.compile(r"^(#{1,4})\s+(.*)$")
    for para in re.split(r"\n\s*\n", body.strip("\n")):
        lines: list[str] = []
        for ln in para.split("\n"):
            m = heading.match(ln.strip())
            if m:
                if lines:
                    yield "paragraph", "\n".join(lines)
                    lines = []
                yield "heading", (len(m.group(1)), m.group(2).strip())
            elif ln.strip():
                lines.append(ln)
        if lines:
            yield "paragraph", "\n".join(lines)


def _prose_height(text: str, chars: int = CHARS, line: float = LINE) -> float:
    """About how tall a Markdown paragraph prints: its lines of text, list items, display math."""
    t = text.strip()
    if t.startswith("$$") and t.endswith("$$"):
        return math_height(t[2:-2]) + 10.0
    h = 0.0
    run: list[str] = []
    for ln in t.split("\n"):
        if re.match(r"^\s*(?:[-*]|\d+[.)])\s+", ln):
            if run:
                h += count_lines(prose.inline_text(" ".join(run)), chars) * line
            run = [ln]
            h += 3.0
        else:
            run.append(ln.strip())
    if run:
        h += count_lines(prose.inline_text(" ".join(run)), chars - (6 if h else 0)) * line
    return h


def _sentences(text: str, room: float) -> list[str]:
    """A long paragraph cut between sentences into pieces that fit `room`."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", " ".join(text.split()))
    out = [""]
    for s in parts:
        trial = (out[-1] + " " + s).strip()
        if out[-1] and _prose_height(trial) > room:
            out.append(s)
        else:
            out[-1] = trial
    return out


def _tabular_parts(block: Table) -> tuple[str, str, list[str]]:
    """The column spec, header row and body rows of a Table block's tabular, the cells as the book
    sets them (blocks.Table.latex: numbers right-aligned, math and Markdown as LaTeX)."""
    m = re.search(
        r"\\begin\{tabular\}\{([^}]*)\}\n\\toprule\n(.*?) \\\\\n\\midrule\n(.*?)\n\\bottomrule\n", block.latex(), re.S
    )
    if m is None:
        raise SymnnError("the slides cannot read a table's LaTeX (symnn.course.blocks.Table changed?)")
    return m.group(1), m.group(2), m.group(3).split("\n")


def _row_height(row: str) -> float:
    return max(SMALL_LINE + 1.0, math_height(row) * 0.9 + 2.0)
