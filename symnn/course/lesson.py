"""The Lesson object that lesson files write their content with.

    from symnn.course import Lesson
    lesson = Lesson(3, "Gradient descent", reading=["nielsen", "trask"])
    lesson.markdown("Prose with inline math $C = \\sum \\tfrac12 (\\hat{y} - y)^2$.")
    lesson.derivation(symnn.derive("gradient-descent"))
    lesson.table(["x", "y"], rows, caption="...")
    lesson.figure(fig, "path", caption="...")
    lesson.note("The slide says 3.42 × 10^50; here is why.")

Run as a plain script (`python lessons/03_gradient_descent.py`), a Lesson prints readable
text as it goes and saves its figures in ./lesson_output/ (or $SYMNN_LESSON_OUT). Run by the
course builder (`symnn course build`), it collects blocks for the book instead; the builder
renders them to LaTeX and Markdown. The file's Jupytext Markdown cells (`# %% [markdown]`) are
part of the lesson too: they are placed between the blocks of the code cells around them.

Run in a Jupyter kernel (a notebook of the course, or the lesson file opened as a notebook with
Jupytext), a Lesson displays each block as it is made, richly: figures as PNG, derivations and
math as LaTeX/Markdown, tables as HTML. figure() and table() still return their labels.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import dataclasses
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from symnn.course import prose, references
from symnn.course.blocks import Block, Code, DerivationBlock, Figure, Math, Note, Prose, Table
from symnn.course.exercises import Exercise, exercises_latex, exercises_markdown, exercises_text
from symnn.errors import InputError
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.derive.derivation import Derivation

OUT_ENV = "SYMNN_LESSON_OUT"  # where a lesson run as a script saves its figures
DEFAULT_OUT = "lesson_output"

# the lecture's readings by key (symnn.course.references holds the entries, for every format)
READING: dict[str, str] = {key: references.entry(key).text() for key in references.keys()}


@dataclass(frozen=True)
class Reading:
    """One item of a lesson's additional reading: an entry of symnn.course.references (cited in the
    book), or text that is none (kept as it is); `text` is how it was given, when not a key."""

    ref: references.Reference | None
    text: str = ""

    def plain(self) -> str:
        return self.text or (self.ref.text() if self.ref else "")


class Book(Protocol):
    """What a Lesson made inside `collected_by(book)` reports to (symnn.course.book's Collector)."""

    figures_dir: Path
    force: bool

    def register(self, lesson: Lesson) -> None: ...

    def figure_written(self, path: Path) -> None: ...


_book: Book | None = None  # while the course builder runs a lesson file: the book its blocks go to


@contextlib.contextmanager
def collected_by(book: Book) -> Iterator[Book]:
    """Within the block, a new Lesson registers with `book` and saves its figures in the book's
    folder instead of printing as a script does; the course builder runs each lesson file so."""
    global _book
    previous, _book = _book, book
    try:
        yield book
    finally:
        _book = previous


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_CELL = re.compile(r"^# %%(.*)$")


# ---- the lesson --------------------------------------------------------------------------


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    start: int  # first line (1-based), the `# %%` marker
    text: str = ""  # a Markdown cell's text, comment marks removed


def parse_cells(source: str) -> list[Cell]:
    """Split a Jupytext percent-format file into cells."""
    cells = [Cell("code", 1)]
    for n, line in enumerate(source.splitlines(), 1):
        m = _CELL.match(line)
        if m:
            kind = "markdown" if re.search(r"\[(markdown|md)\]", m.group(1)) else "code"
            cells.append(Cell(kind, n))
        elif cells[-1].kind == "markdown":
            cells[-1].text += re.sub(r"^# ?", "", line) + "\n"
    return cells


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (IPython with a kernel attached), where a Lesson displays
    its blocks richly; IPython is never imported here (a script or the builder has not imported it)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and getattr(shell, "kernel", None) is not None


class Label(str):
    """What figure(), table() and exercise() return: the label ("Figure 3.1", "3.1") for the prose to use.
    In a notebook the labelled block was displayed when it was made, so the label adds no output of its own."""

    __slots__ = ()

    def _ipython_display_(self) -> None:
        pass


class Lesson:
    """A lesson's content, block by block. See the module docstring."""

    def __init__(self, number: int, title: str, reading: Iterable[object] = ()) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 99:
            raise InputError(f"a lesson number is an integer from 1 to 99; got {number!r}")
        if not isinstance(title, str) or not title.strip():
            raise InputError("a lesson needs a title (a non-empty string)")
        self.number, self.title = number, title.strip()
        self.where = f"lesson {number}"
        self.readings: list[Reading] = []
        for r in reading:
            self._read(str(r))
        self.blocks: list[Block] = []
        self.exercises: list[Exercise] = []
        # where each exercise was set: (the file's cell, how many blocks came before it)
        self.exercise_places: list[tuple[int | None, int]] = []
        self._counts = {"Table": 0, "Figure": 0}
        self._figure_names: set[str] = set()
        caller = sys._getframe(1)
        is_file = caller.f_code.co_name == "<module>" and caller.f_globals.get("__file__")
        self._globals = caller.f_globals if is_file else None
        self._cells: list[Cell] | None = None
        if is_file:
            try:
                self._cells = parse_cells(Path(caller.f_globals["__file__"]).read_text(encoding="utf-8"))
            except OSError:
                self._cells = None
        self._starts = [c.start for c in self._cells] if self._cells else []
        self._book = _book
        self._printed_cells = 0
        self._display = self._book is None and in_kernel()  # in Jupyter: display rich blocks, print nothing
        if self._book is not None:
            self._book.register(self)
        else:
            self.figures_dir = Path(os.environ.get(OUT_ENV) or DEFAULT_OUT)
            if not self._display:
                print(f"Lesson {number}: {self.title}\n{'=' * (len(self.title) + 8 + len(str(number)))}\n")
                if self._cells is not None:
                    atexit.register(self._finish_script)

    @property
    def reading(self) -> list[str]:
        """The additional reading as plain text, one line per work."""
        return [r.plain() for r in self.readings]

    def cited(self) -> list[str]:
        """The keys of the references this lesson cites (symnn.course.references), in its order."""
        return [r.ref.key for r in self.readings if r.ref is not None]

    def _read(self, given: str) -> None:
        """Add a reading: a key ("nielsen"), or a work as text (found among the references by its
        web address when it is one); a work already listed is not listed again."""
        ref = references.find(given)
        if ref is None and re.fullmatch(r"[\w-]+", given.strip()):
            references.entry(given)  # a key, but no entry's: say which keys there are
        text = "" if ref is not None and given.strip().lower() == ref.key else given
        if ref is not None and ref.key in self.cited():
            return
        if ref is None and _url_of(given) in {_url_of(r) for r in self.reading}:
            return
        self.readings.append(Reading(ref, text))

    @property
    def namespace(self) -> dict:
        """The lesson file's top-level names (empty for a Lesson made outside a file): what the
        slides look in for the step tables a lesson computed."""
        return self._globals or {}

    # ---- what lessons call ---------------------------------------------------------------
    def markdown(self, text: str) -> None:
        """Prose in Markdown; inline math as $...$, display math as a paragraph $$...$$."""
        self._add(Prose(_text(text, "markdown"), self.where))

    def derivation(self, d: Derivation, title: str | None = None) -> None:
        """A symnn Derivation (from symnn.derive), every step shown with its justification."""
        if not hasattr(d, "steps") or not hasattr(d, "markdown"):
            raise InputError(
                f"{self.where}: derivation() takes a Derivation from symnn.derive(); got {type(d).__name__}"
            )
        for ref in d.references:  # cited once, at the end of the chapter
            self._read(ref)
        label = f"{self.number}.{sum(isinstance(b, DerivationBlock) for b in self.blocks) + 1}"
        self._add(DerivationBlock(dataclasses.replace(d, references=[]), title or d.title, label))

    def math(self, expr: object, text: str | None = None) -> None:
        """Display math: a SymPy expression (an Eq for an equation) or a LaTeX string."""
        import sympy as sp

        if isinstance(expr, (sp.Basic, sp.MatrixBase)):
            from symnn.render.latex import tex
            from symnn.render.text import show

            self._add(Math(tex(expr), text or show(expr)))
        elif isinstance(expr, str):
            prose.math_latex(expr, self.where)
            self._add(Math(expr, text or prose.tex_to_text(expr)))
        else:
            raise InputError(
                f"{self.where}: math() takes a SymPy expression or a LaTeX string; got {type(expr).__name__}"
            )

    def table(self, headers, rows, caption: str) -> Label:
        """A table; cells may be text (with $math$), numbers or SymPy expressions.
        Returns its label ("Table 2.1") for the prose to refer to."""
        headers, rows = list(headers), [list(r) for r in rows]
        if not headers or any(len(r) != len(headers) for r in rows):
            raise InputError(f"{self.where}: every table row needs {plural(len(headers), 'cell')}, one per header")
        label = self._label("Table")
        self._add(Table(headers, rows, _text(caption, "caption"), label, self.where))
        return Label(label)

    def figure(self, fig, name: str, caption: str, width: float = 0.8) -> Label:
        """Save a matplotlib figure as PNG (figures/NN_name.png) and show it with its caption.
        Returns its label ("Figure 3.1") for the prose to refer to. `width` is the part of the
        text width it prints at; the PNG is made at that size (plots.fit_for_print: 240 dpi on
        paper, no text smaller than the caption)."""
        from symnn.course import plots
        from symnn.outputs import save_figure

        if not hasattr(fig, "savefig"):
            raise InputError(f"{self.where}: figure() takes a matplotlib Figure; got {type(fig).__name__}")
        if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0.1 <= width <= 1:
            raise InputError(f"{self.where}: a figure's width is a part of the text width, 0.1 to 1; got {width!r}")
        if not isinstance(name, str) or not _NAME.match(name):
            raise InputError(f"{self.where}: a figure name is letters, digits, '_' and '-'; got {name!r}")
        if name in self._figure_names:
            raise InputError(f"{self.where}: two figures are named {name!r}; give each its own name")
        self._figure_names.add(name)
        file = f"{self.number:02d}_{name}.png"
        folder = self._book.figures_dir if self._book else self.figures_dir
        force = self._book.force if self._book else False
        smallest = plots.fit_for_print(fig, float(width))
        notes = {"symnn print width": f"{width:g}", "symnn smallest text": f"{smallest:.2f} pt"}
        path = save_figure(fig, folder / file, force=force, dpi=plots.DPI, notes=notes)
        if self._book:
            self._book.figure_written(path)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close(fig)
        label = self._label("Figure")
        self._add(Figure(path, f"figures/{file}", _text(caption, "caption"), label, width, self.where))
        return Label(label)

    def code(self, text: str) -> None:
        """A code listing (ASCII), e.g. the symnn call that produced what follows."""
        self._add(Code(_text(text, "code"), self.where))

    def note(self, text: str) -> None:
        """A highlighted remark: where the slides are wrong, and why."""
        self._add(Note(_text(text, "note"), self.where))

    def exercise(self, prompt: str, goal: str, givens: str) -> Label:
        """An exercise for the chapter's end: the task in words, the derivative to find in `symnn check`'s
        notation (e.g. "dC/db") and the set-up it starts from (`given NAME = EXPR` lines). `symnn check
        --exercise N.k FILE` grades a learner's answer; the book's appendix prints symnn's worked
        solution. Returns the exercise's id, "N.k"."""
        ex = Exercise(
            f"{self.number}.{len(self.exercises) + 1}", *(_text(v, "an exercise") for v in (prompt, goal, givens))
        )
        ex.validate(self.where)
        self.exercises.append(ex)
        self.exercise_places.append((self._current_cell(), len(self.blocks)))
        if self._display:
            from IPython.display import display

            for data, metadata in exercise_bundles(ex):
                display(data, raw=True, metadata=metadata)
        elif self._book is None:
            print(exercises_text([ex]) + "\n")
        return Label(ex.id)

    # ---- ordering, rendering ---------------------------------------------------------------
    def _label(self, kind: str) -> str:
        self._counts[kind] += 1
        return f"{kind} {self.number}.{self._counts[kind]}"

    def _current_cell(self) -> int | None:
        if self._globals is None or not self._starts:
            return None
        frame: FrameType | None = sys._getframe(2)
        line: int | None = None
        while frame is not None:
            if frame.f_globals is self._globals and frame.f_code.co_name == "<module>":
                line = frame.f_lineno
            frame = frame.f_back
        return None if line is None else bisect.bisect_right(self._starts, line) - 1

    def _add(self, block: Block) -> None:
        if not isinstance(block, DerivationBlock):
            block.latex()  # fail here, at the lesson's line, if LaTeX cannot typeset it
        block.cell = self._current_cell()
        self.blocks.append(block)
        if self._book is None:
            if block.cell is not None:
                self._print_markdown_cells(block.cell)
            if self._display:
                from IPython.display import display

                display(block)
            else:
                print(block.text() + "\n")

    def _print_markdown_cells(self, upto: int) -> None:
        while self._cells and self._printed_cells < min(upto, len(self._cells)):
            cell = self._cells[self._printed_cells]
            if cell.kind == "markdown" and cell.text.strip():
                if self._display:  # a lesson file %run in a kernel: its Markdown cells as Markdown
                    from IPython.display import display

                    display(Prose(cell.text, self.where))
                else:
                    print(prose.markdown_text(cell.text) + "\n")
            self._printed_cells += 1

    def _finish_script(self) -> None:
        if getattr(sys, "last_value", None) is not None:  # the script failed: say no more
            return
        self._print_markdown_cells(len(self._cells or []))
        if self.reading:
            print("Additional reading:\n" + "\n".join(f"  - {r}" for r in self.reading))

    def ordered_blocks(self) -> list[Block]:
        """The blocks with the file's Markdown cells in place, in reading order."""
        if not self._cells:
            return list(self.blocks)
        by_cell: dict[int | None, list[Block]] = {}
        for b in self.blocks:
            by_cell.setdefault(b.cell, []).append(b)
        out: list[Block] = []
        for n, cell in enumerate(self._cells):
            if cell.kind == "markdown" and cell.text.strip():
                out.append(Prose(cell.text, self.where))
            out += by_cell.pop(n, [])
        for rest in by_cell.values():
            out += rest
        return out

    def to_latex(self) -> str:
        from symnn.render.latex import heading_tex

        # the chapter takes the lesson's number, so "Table 3.1" in the prose is LaTeX's Table 3.1
        parts = [
            f"\\setcounter{{chapter}}{{{self.number - 1}}}\n"
            f"\\chapter{{{heading_tex(self.title)}}}\\label{{lesson:{self.number}}}"
        ]
        for b in self.ordered_blocks():
            try:
                parts.append(b.latex())
            except InputError as exc:  # a derivation's note, say: name the lesson it is in
                if str(exc).startswith(self.where):
                    raise
                raise InputError(f"{self.where}: {exc}") from None
        if self.exercises:
            parts.append(exercises_latex(self.exercises, self.where))
        if self.readings:
            items = "\n".join(r"  \item " + self._reading_latex(r) for r in self.readings)
            parts.append(
                f"\\section*{{Additional reading}}\n{{\\raggedright\n\\begin{{itemize}}\n{items}\n"
                "\\end{itemize}\n\\par}"
            )
        return "\n\n".join(parts) + "\n"

    def _reading_latex(self, r: Reading) -> str:
        """An item of the chapter's additional reading: the work named and cited (its full entry,
        with the address, is in the book's References); text that is no entry stays text."""
        if r.ref is None:
            return prose.inline_latex(r.text, self.where)
        from symnn.render.latex import latex_text

        cite = references.cite_latex([r.ref.key])
        detail = re.sub(r"\s*https?://\S+", "", r.text).rstrip(" .")
        what = re.sub(r"^.*?\((?:\d{4}|n\.d\.)\)\.\s*", "", detail, count=1)
        if r.text and _words(what) != _words(r.ref.title):  # as a derivation cites it, with the sections it means
            return prose.inline_latex(detail, self.where) + "~" + cite

        return latex_text(r.ref.short() + ", ") + rf"\emph{{{latex_text(r.ref.title)}}}~{cite}"

    def to_markdown(self) -> str:
        from symnn.outputs import TAG

        parts = [f"<!-- {TAG} -->\n# Lesson {self.number}: {self.title}"]
        parts += [b.markdown() for b in self.ordered_blocks()]
        if self.exercises:
            parts.append(exercises_markdown(self.exercises))
        if self.readings:
            items = [r.text or (r.ref.markdown() if r.ref else "") for r in self.readings]
            items = [i for i in items if i]
            parts.append("## Additional reading\n\n" + "\n".join(f"- {r}" for r in items))
        return "\n\n".join(parts) + "\n"

    def to_text(self) -> str:
        parts = [f"Lesson {self.number}: {self.title}"] + [b.text() for b in self.ordered_blocks()]
        if self.exercises:
            parts.append(exercises_text(self.exercises))
        if self.reading:
            parts.append("Additional reading:\n" + "\n".join(f"  - {r}" for r in self.reading))
        return "\n\n".join(parts) + "\n"

    def __repr__(self) -> str:
        return f"Lesson({self.number}, {self.title!r}, {plural(len(self.blocks), 'block')})"


def exercise_bundles(ex: Exercise) -> list[tuple[dict[str, str], dict]]:
    """An exercise as a notebook output (Markdown, with a text/plain fallback), as Block.mimebundles()."""
    markdown = exercises_markdown([ex]).split("\n\n", 1)[1]  # without the "## Exercises" heading
    return [({"text/markdown": markdown, "text/plain": exercises_text([ex]).split("\n", 1)[1].strip()}, {})]


def _words(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


def _url_of(reference: str) -> str:
    m = re.search(r"https?://\S+", reference)
    return m.group().rstrip(".") if m else reference


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string; got {type(value).__name__}")
    return textwrap.dedent(value).strip("\n")
