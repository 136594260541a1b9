"""The web book: a static site in html/ beside the PDF, readable offline and from a web server.

`write_html(pairs, out)` writes html/index.html (the contents), one page per lesson
(html/NN_name.html), html/solutions.html when the lessons have exercises, and copies the
figures into html/figures/, so the folder is self-contained. No JavaScript, no web font, no
network: mathematics is MathML (symnn.render.mathml), which browsers render natively, and each
step of a derivation is a <details> element whose summary is the equation and whose body is its
justification. Every text from a lesson is escaped; a formula that cannot be converted, or TeX
left in a page's visible text, fails the build with one line naming the lesson and the formula.
Two builds write identical bytes.
"""

from __future__ import annotations

import html
import re
import struct
from collections.abc import Iterable
from pathlib import Path

from symnn.course import numbers, prose
from symnn.course.blocks import Code, DerivationBlock, Figure, Math, Note, Prose, Table, cell_text, numeric_text
from symnn.course.pages import CSS, Page, display, inline_html, prose_html, raw_tex, visible_text
from symnn.errors import FileError, InputError
from symnn.render.mathml import MathMLError, expr_mathml, latex_mathml, note_mathml, text_mathml

FOLDER = "html"


# ---- the blocks -----------------------------------------------------------------------------


def _cell(v: object, where: str) -> tuple[str, bool]:
    """A table cell as HTML, and whether it is a number (set flush right)."""
    import sympy as sp

    numeric = numeric_text(cell_text(v, "text", where))
    if hasattr(v, "item") and not isinstance(v, (str, sp.Basic)):
        v = v.item()  # NumPy scalars
    if isinstance(v, numbers.Sci):
        return latex_mathml(v.latex, where=where), numeric
    if isinstance(v, sp.Basic):
        return expr_mathml(v, where=where), numeric
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return inline_html(str(v), where), numeric
    return html.escape(format(v, "g") if isinstance(v, float) else str(v)), numeric


def _table(t: Table, where: str) -> str:
    where = f"{where}, {t.label}"
    head = [_cell(v, where)[0] for v in t.headers]
    rows = [[_cell(v, where) for v in row] for row in t.rows]
    right = [bool(rows) and all(r[c][1] for r in rows) for c in range(len(head))]
    cls = [' class="num"' if r else "" for r in right]
    thead = "<tr>" + "".join(f"<th{c}>{h}</th>" for h, c in zip(head, cls)) + "</tr>"
    body = "\n".join("<tr>" + "".join(f"<td{c}>{v}</td>" for (v, _), c in zip(r, cls)) + "</tr>" for r in rows)
    anchor = _label_id(t.label)
    return (
        f'<figure class="table" id="{anchor}">\n<div class="table-wrap"><table>\n<thead>{thead}</thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table></div>\n"
        f'<figcaption><span class="label">{html.escape(t.label)}:</span> {inline_html(t.caption, where)}</figcaption>\n'
        "</figure>"
    )


def _label_id(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")  # "Table 2.1" -> "table-2-1"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG from its header, or None when data is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _figure(f: Figure, where: str) -> tuple[str, tuple[str, bytes]]:
    """The <figure> and the (file name, bytes) to copy into html/figures/."""
    try:
        data = Path(f.path).read_bytes()
    except OSError as exc:
        raise FileError(f"{where}: cannot read the figure {f.path} for the web book: {exc.strerror or exc}") from None
    name = Path(f.href).name
    size = png_size(data)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    alt = html.escape(f"{f.label}: {prose.inline_text(f.caption)}", quote=True)
    width = max(10, min(100, round(f.width * 100)))
    where = f"{where}, {f.label}"
    return (
        f'<figure id="{_label_id(f.label)}">\n'
        f'<img src="figures/{html.escape(name, quote=True)}" alt="{alt}"{dims} style="width:{width}%">\n'
        f'<figcaption><span class="label">{html.escape(f.label)}:</span> {inline_html(f.caption, where)}</figcaption>\n'
        "</figure>"
    ), (name, data)


def _checked(step) -> str:
    if step.is_definition:
        return "A definition: nothing to check."
    how = step.verified_by or ""
    if how.startswith("numeric"):
        return "Checked by SymPy numerically, at random points."
    if how:
        return "Checked by SymPy symbolically."
    return "Not checked."


def _derivation(block: DerivationBlock, page: Page, where: str) -> str:
    d = block.d
    where = f"{where}, derivation {block.title!r}"
    ordinary = getattr(d, "ordinary", False)
    prefix = page.anchor(block.title)
    title = text_mathml(block.title, where)
    page.sections.append((prefix, title))
    out = [f'<section class="derivation" id="{prefix}">', f"<h2>{title}</h2>"]
    if d.intro:
        out.append(f'<p class="intro">{text_mathml(d.intro, where)}</p>')
    number = 0
    for step in d.steps:
        if step.is_heading:
            out.append(f"<h3>{text_mathml(step.note, where)}</h3>")
            continue
        number += 1
        eq = _equation(step, number, ordinary, f"{where}, step ({number})")
        rule = html.escape(step.rule, quote=False)
        if not step.note:
            why = f"<strong>{rule}</strong>."
        elif step.note.lower().startswith(step.rule.lower()):  # "power rule, with the chain rule ..."
            why = f"{note_mathml(step.note, where)}."
        else:
            why = f"<strong>{rule}</strong>: {note_mathml(step.note, where)}."
        out.append(
            f'<details class="step" id="{prefix}.{number}">'
            f'<summary><span class="no">({number})</span><span class="line"><span class="eq">{eq}</span>'
            f'<span class="rule">{rule}</span></span></summary>\n'
            f'<div class="why">{why} <span class="checked">{_checked(step)}</span></div>'
            "</details>"
        )
    from symnn.render.text import verification_summary

    out.append(f'<p class="verified">{html.escape(verification_summary(d), quote=False)}</p>')
    if d.references:
        out.append("<p><strong>Further reading:</strong></p>")
        out.append(_reading_list(d.references, where))
    out.append("</section>")
    return "\n".join(out)


def _equation(step, number: int, ordinary: bool, where: str) -> str:
    """A step's `lhs = rhs` as one block <math>; an equation too wide for the page is broken where
    the book breaks it (symnn.render.layout.equation_rows: after a top-level term or factor), its
    lines aligned under the =."""
    from symnn.render.layout import equation_rows

    rows = equation_rows(step.lhs, step.rhs, number, ordinary=ordinary)
    if len(rows) > 1:
        lines = [re.sub(r"\s*&&\s*\\text\{\(\d+\)\}", "", r.strip()).removesuffix("\\\\").strip() for r in rows]
        tex = "\\begin{aligned}" + " \\\\ ".join(lines) + "\\end{aligned}"
        return latex_mathml(tex, display=True, where=where)
    lhs = expr_mathml(step.lhs, display=True, ordinary=ordinary, where=where)
    rhs = expr_mathml(step.rhs, display=True, ordinary=ordinary, where=where)
    return f'<math display="block"><mrow>{_inner(lhs)}<mo>=</mo>{_inner(rhs)}</mrow></math>'


def _inner(mathml: str) -> str:
    """The inside of a <math> element, to place in another."""
    return re.sub(r"^<math[^>]*>|</math>$", "", mathml)


def _note(n: Note, page: Page, where: str) -> str:
    body = prose_html(n.body, page, where)
    body = re.sub(r"^<p>", "<p><strong>Note.</strong> ", body, count=1) if body.startswith("<p>") else body
    return f'<aside class="note">\n{body}\n</aside>'


def _reading_list(reading: Iterable[str], where: str) -> str:
    """Works given as text (Markdown with their addresses), one item each."""
    return _items(inline_html(r, where) for r in reading)


def _items(items: Iterable[str]) -> str:
    body = "\n".join(f"<li>{item}</li>" for item in items)
    return f'<ul class="reading">\n{body}\n</ul>'


def exercise_id(ex) -> str:
    """The id of an exercise on its lesson's page and on the solutions page: "exercise-2.1" (a
    heading's id has no dot, so the two never meet)."""
    return f"exercise-{ex.id}"


def _exercises(exercises, page: Page, where: str) -> str:
    anchor = page.anchor("Exercises")
    page.sections.append((anchor, "Exercises"))
    out = [f'<h2 id="{anchor}">Exercises</h2>']
    for ex in exercises:
        anchor = exercise_id(ex)
        out.append(
            f'<div class="exercise" id="{anchor}">\n'
            f"<p><strong>Exercise {html.escape(ex.id)}.</strong> {inline_html(ex.prompt, where)} "
            f"Find <code>{html.escape(ex.goal)}</code>, starting from:</p>\n"
            f"<pre><code>{html.escape(ex.givens.strip(), quote=False)}</code></pre>\n"
            f"<p>Check your answer: <code>{html.escape(ex.check_hint())}</code> "
            f'(a <a href="solutions.html#{anchor}">worked solution</a> is in the appendix).</p>\n</div>'
        )
    return "\n".join(out)


def lesson_page(lf, lesson) -> tuple[Page, dict[str, bytes]]:
    """A lesson's page (its body rendered) and the figures it shows."""
    where = f"lesson {lesson.number} ({lf.stem}.py)"
    page = Page(
        f"{lf.stem}.html",
        f"Lesson {lesson.number}: {lesson.title}",
        f"Lesson {lesson.number}: {html.escape(lesson.title, quote=False)}",
        where,
    )
    figures: dict[str, bytes] = {}
    for b in lesson.ordered_blocks():
        if isinstance(b, Prose):
            page.body.append(prose_html(b.body, page, where))
        elif isinstance(b, Math):
            page.body.append(display(latex_mathml(b.tex, display=True, where=where)))
        elif isinstance(b, DerivationBlock):
            page.body.append(_derivation(b, page, where))
        elif isinstance(b, Table):
            page.body.append(_table(b, where))
        elif isinstance(b, Figure):
            figure, (name, data) = _figure(b, where)
            page.body.append(figure)
            figures[name] = data
        elif isinstance(b, Code):
            page.body.append(
                f'<pre><code class="language-python">{html.escape(b.body.strip(chr(10)), quote=False)}</code></pre>'
            )
        elif isinstance(b, Note):
            page.body.append(_note(b, page, where))
        else:
            raise InputError(f"{where}: the web book cannot show a {type(b).__name__} block")
    if lesson.exercises:
        page.body.append(_exercises(lesson.exercises, page, where))
    if lesson.reading:
        anchor = page.anchor("Additional reading")
        page.sections.append((anchor, "Additional reading"))
        page.body.append(f'<h2 id="{anchor}">Additional reading</h2>')
        # an entry of symnn.course.references as it writes itself; a work given as text, as prose
        page.body.append(
            _items(r.ref.html() if r.ref is not None else inline_html(r.plain(), where) for r in lesson.readings)
        )
    return page, figures


def references_page(cited: list[str]) -> Page:
    """The works the lessons cite, each once, by author (the book's References section)."""
    from symnn.course.references import entry, order

    page = Page("references.html", "References", "References", "the references")
    items = "\n".join(f'<li id="ref-{k}">{entry(k).html()}</li>' for k in order(cited))
    page.body.append(f'<ul class="references">\n{items}\n</ul>')
    return page


def solutions_page(exercises, pages: dict[str, str]) -> Page:
    """The appendix: each exercise's worked solution, typeset, and in `symnn check`'s notation;
    pages maps an exercise's id to the lesson page that states it."""
    from symnn.course.exercises import solution_rows

    page = Page("solutions.html", "Worked solutions", "Worked solutions", "the worked solutions")
    page.body.append(
        "<p>Every solution below is symnn's own: derived through the chain rule, each line checked by "
        "<code>symnn check</code> before it was printed.</p>"
    )
    for ex in exercises:
        where = f"exercise {ex.id}"
        anchor = exercise_id(ex)
        page.sections.append((anchor, f"Exercise {html.escape(ex.id)}"))
        rows = []
        for row in solution_rows(ex):  # lhs = rhs = rhs ...: the left side flush right, the = aligned
            lhs, *rhs = (_inner(expr_mathml(e, display=True, where=where)) for e in row)
            rest = "".join(f"<mo>=</mo>{r}" for r in rhs)
            rows.append(
                f'<mtr><mtd style="text-align:right;padding-right:0">{lhs}</mtd>'
                f'<mtd style="text-align:left;padding-left:0">{rest}</mtd></mtr>'
            )
        table = '<math display="block"><mtable displaystyle="true">' + "".join(rows) + "</mtable></math>"
        back = f' <a href="{pages[ex.id]}#{anchor}">(the exercise)</a>' if ex.id in pages else ""
        page.body.append(
            f'<section class="solution" id="{anchor}">\n<h2>Exercise {html.escape(ex.id)}</h2>\n'
            f"<p>{inline_html(ex.prompt, where)}{back}</p>\n{display(table)}\n"
            "<details><summary>In <code>symnn check</code>'s notation</summary>\n"
            f"<pre><code>{html.escape(chr(10).join(ex.solution()), quote=False)}</code></pre></details>\n</section>"
        )
    return page


# ---- pages, and the site ----------------------------------------------------------------------


def _nav(pages: list[Page], n: int | None, where: str) -> str:
    """Previous / contents / next; n is the page's place in `pages` (None: the contents page,
    whose next page is the first lesson)."""

    def link(i: int, cls: str) -> str:
        if not 0 <= i < len(pages):
            return f'<span class="{cls}"></span>'
        text = f"←\u00a0{pages[i].heading}" if cls == "prev" else f"{pages[i].heading}\u00a0→"
        return f'<span class="{cls}"><a href="{pages[i].name}" rel="{cls}">{text}</a></span>'

    if n is None:
        parts = [link(-1, "prev"), link(0, "next")]
    else:
        contents = '<span class="contents"><a href="index.html" rel="contents">Contents</a></span>'
        parts = [link(n - 1, "prev"), contents, link(n + 1, "next")]
    return f'<nav class="pages {where}" aria-label="pages">{"".join(parts)}</nav>'


def _document(title: str, book_title: str, nav_top: str, body: str, nav_bottom: str) -> str:
    from symnn import __version__

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="symnn {html.escape(__version__)}">\n'
        f"<title>{html.escape(title, quote=False)}</title>\n"
        '<link rel="icon" href="data:,">\n'  # no request for /favicon.ico
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        f"{nav_top}\n<main>\n{body}\n</main>\n{nav_bottom}\n"
        f"<footer>{html.escape(book_title, quote=False)} · generated by symnn {html.escape(__version__)}: "
        "every derivation checked by SymPy, every number computed</footer>\n"
        "</body>\n</html>\n"
    )


def render_site(pairs, title: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Every page ({file name: HTML}) and every figure ({file name: PNG bytes}), rendered in
    memory: a formula that cannot be converted fails here, before anything is written."""
    pairs = list(pairs)
    pages: list[Page] = []
    figures: dict[str, bytes] = {}
    exercises, stated_on = [], {}
    for lf, lesson in pairs:
        page, shown = lesson_page(lf, lesson)
        pages.append(page)
        figures.update(shown)
        exercises += lesson.exercises
        stated_on.update({ex.id: page.name for ex in lesson.exercises})
    if exercises:
        pages.append(solutions_page(exercises, stated_on))
    cited = [key for _, lesson in pairs for key in lesson.cited()]
    if cited:
        pages.append(references_page(cited))
    out: dict[str, str] = {}
    contents = []
    for p in pages:
        sections = "".join(f'<li><a href="{p.name}#{a}">{h}</a></li>' for a, h in p.sections)
        contents.append(
            f'<li><a class="lesson" href="{p.name}">{p.heading}</a>'
            + (f"\n<ul>{sections}</ul>" if sections else "")
            + "</li>"
        )
    index_body = (
        f"<h1>{html.escape(title, quote=False)}</h1>\n"
        '<p class="byline">Every derivation checked by SymPy, every number computed. Each step of a derivation '
        "opens to its justification.</p>\n"
        '<h2 id="contents">Contents</h2>\n<ol class="contents">\n' + "\n".join(contents) + "\n</ol>"
    )
    out["index.html"] = _document(title, title, _nav(pages, None, "top"), index_body, _nav(pages, None, "bottom"))
    for n, p in enumerate(pages):
        body = f"<h1>{p.heading}</h1>\n" + "\n".join(p.body)
        out[p.name] = _document(f"{p.title} — {title}", title, _nav(pages, n, "top"), body, _nav(pages, n, "bottom"))
    for name, page_html in out.items():
        leftover = raw_tex(page_html)
        if leftover:
            raise MathMLError(f"{name}: TeX left in the page's text: {leftover!r}")
    return out, figures


def write_html(pairs, out: str | Path, force: bool = False, title: str | None = None) -> list[Path]:
    """Write the web book into out/html/ from the (LessonFile, Lesson) pairs of a build; return the
    files written (pages, then figures). The builder removes an earlier build's pages and figures
    that this one did not write (symnn.course.book.remove_stale)."""
    from symnn.course.book import TITLE
    from symnn.outputs import atomic_write

    folder = Path(out) / FOLDER
    pages, figures = render_site(pairs, title or TITLE)
    written = [atomic_write(folder / name, text, force) for name, text in pages.items()]
    written += [atomic_write(folder / "figures" / name, data, force) for name, data in sorted(figures.items())]
    return written


__all__ = ["write_html", "render_site", "raw_tex", "visible_text"]
