"""What a page of the web book is made of: its style sheet, its sections and their anchors,
lesson Markdown as HTML (escaped, its $math$ as MathML), and the check that no TeX is left in
the text a reader sees."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from symnn.course import prose
from symnn.errors import InputError
from symnn.render.mathml import latex_mathml

CSS = """
:root { --ink: #1d1d1f; --muted: #5b5b66; --rule: #d6d6de; --tint: #f5f6fa; --link: #1a55b0; --note: #fff8e5; }
* { box-sizing: border-box; }
html { font-size: 106%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.55;
  font-family: "Charter", "Bitstream Charter", "Georgia", "Cambria", "DejaVu Serif", serif; }
main, nav, footer { max-width: 46rem; margin: 0 auto; padding: 0 1.1rem; }
main { padding-bottom: 1rem; }
h1, h2, h3, h4 { font-family: system-ui, "Segoe UI", "DejaVu Sans", sans-serif; line-height: 1.25; }
h1 { font-size: 1.75rem; margin: 1.4rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-top: .4rem; border-top: 1px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.5rem 0 .4rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
a { color: var(--link); }
p, ul, ol { margin: .6rem 0; }
code, pre, kbd { font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; font-size: .86em; }
code { background: var(--tint); padding: .05em .25em; border-radius: 3px; }
pre { background: var(--tint); padding: .7rem .9rem; overflow-x: auto; border-radius: 4px; line-height: 1.4; }
pre code { background: none; padding: 0; font-size: 1em; }
math { font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", math; font-size: 1.08em; }
math[display="block"] { margin: .2rem 0; }
.display { overflow-x: auto; overflow-y: hidden; margin: .7rem 0; padding: .1rem 0; }
nav.pages { display: flex; justify-content: space-between; gap: 1rem; padding-top: .7rem; padding-bottom: .7rem;
  font-family: system-ui, "DejaVu Sans", sans-serif; font-size: .9rem; }
nav.pages a { text-decoration: none; }
nav.pages .prev, nav.pages .next { flex: 1; }
nav.pages .next { text-align: right; }
nav.pages .contents { flex: 0 0 auto; }
nav.top { border-bottom: 1px solid var(--rule); }
nav.bottom { border-top: 1px solid var(--rule); margin-top: 2rem; }
footer { color: var(--muted); font-size: .8rem; padding-bottom: 1.5rem; font-family: system-ui, sans-serif; }
.byline { color: var(--muted); margin-top: -.5rem; }
figure { margin: 1.2rem 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: .92rem; color: var(--muted); margin-top: .4rem; }
figcaption .label, .caption-label { font-weight: 600; color: var(--ink); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0 auto; font-size: .92rem; }
th, td { padding: .3rem .65rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: middle; }
thead th { border-bottom: 2px solid var(--ink); }
tbody tr:last-child td { border-bottom: 2px solid var(--ink); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.table figcaption { text-align: center; }
aside.note { background: var(--note); border-left: 4px solid #e0b84c; padding: .4rem 1rem; margin: 1.2rem 0; }
.derivation { margin: 1rem 0 1.6rem; }
.derivation .intro { font-style: normal; }
details.step { border-bottom: 1px solid var(--rule); }
details.step > summary { display: flex; align-items: center; gap: .6rem; cursor: pointer; list-style: none;
  padding: .15rem 0; }
details.step > summary::-webkit-details-marker { display: none; }
details.step > summary::before { content: "\\25B8"; color: var(--muted); flex: 0 0 auto; width: .8em; }
details.step[open] > summary::before { content: "\\25BE"; }
details.step .no { flex: 0 0 2.4em; color: var(--muted); font-variant-numeric: tabular-nums;
  font-family: system-ui, sans-serif; font-size: .88rem; }
details.step .line { flex: 1 1 auto; min-width: 0; display: flex; flex-wrap: wrap; align-items: center;
  column-gap: .6rem; }
details.step .eq { flex: 1 1 auto; min-width: 0; max-width: 100%; overflow-x: auto; overflow-y: hidden; }
details.step .eq math { margin: .25rem 0; }
details.step .rule { flex: 0 0 auto; margin-left: auto; max-width: 11rem; text-align: right; color: var(--muted);
  font-family: system-ui, sans-serif; font-size: .8rem; }
details.step .why { margin: 0 0 .5rem 3.8em; padding: .35rem .7rem; background: var(--tint); border-radius: 4px;
  font-size: .94rem; }
details.step .why .checked { color: var(--muted); font-size: .85rem; }
.verified { color: var(--muted); font-style: italic; font-size: .92rem; }
.exercise { margin: 1rem 0; }
.solution { margin: 1rem 0 1.6rem; }
ol.contents { list-style: none; padding-left: 0; }
ol.contents > li { margin: .7rem 0; }
ol.contents ul { margin: .15rem 0 .5rem; padding-left: 1.2rem; font-size: .93rem; }
ol.contents ul li { margin: .1rem 0; }
ol.contents .lesson { font-weight: 600; }
ul.reading li { overflow-wrap: anywhere; }
@media (max-width: 36rem) { details.step .rule { display: none; } details.step .why { margin-left: 0; } }
@media print {
  html { font-size: 10.5pt; }
  nav.pages, footer { display: none; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; }
  figure, aside.note, pre, table, details.step { break-inside: avoid; }
  details.step > summary::before { content: none; }
  details.step::details-content { content-visibility: visible; display: block; }
  details.step .why { background: none; padding: 0 0 .3rem; }
  .display, details.step .eq, .table-wrap, pre { overflow: visible; }
}
"""


@dataclass
class Page:
    """One page of the site while it is rendered: its file name, title and sections."""

    name: str  # "03_gradient_descent.html"
    title: str  # plain text, for <title>
    heading: str  # HTML, for <h1> and the contents
    where: str  # "lesson 3 (03_gradient_descent.py)", for messages
    body: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)  # (id, heading HTML) of each <h2>
    _ids: set[str] = field(default_factory=set)

    def anchor(self, text: str) -> str:
        """A unique, readable id for a heading."""
        base = re.sub(r"[^a-z0-9]+", "-", prose.inline_text(text).lower()).strip("-")[:60].strip("-") or "section"
        anchor, n = base, 1
        while anchor in self._ids:
            n += 1
            anchor = f"{base}-{n}"
        self._ids.add(anchor)
        return anchor


# ---- prose: the Markdown the lessons write ----------------------------------------------------

_SAFE_URL = re.compile(r"(?:https?://|mailto:|#|\.{0,2}/?[\w.-]+(?:[/#?]|$))", re.IGNORECASE)
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def _url(url: str, where: str) -> str:
    url = url.strip()
    if not _SAFE_URL.match(url) or re.match(r"\s*(javascript|data|vbscript):", url, re.IGNORECASE):
        raise InputError(f"{where}: the link {url!r} is not a web address (http, https, mailto or a relative path)")
    return html.escape(url, quote=True)


def _text(s: str, where: str) -> str:
    """Plain words, escaped; a LaTeX command outside $...$ would show as TeX, so it fails."""
    if "$$" in s:
        raise InputError(f"{where}: display math $$...$$ is a paragraph of its own (blank lines around it)")
    m = _TEX_COMMAND.search(s)
    if m:
        raise InputError(
            f"{where}: {m.group()!r} outside $...$ would show as raw TeX in the web book; "
            "put the formula between $ signs (or the text in `backticks`)"
        )
    return html.escape(s, quote=False)


def inline_html(text: str, where: str, math: Callable[[str], str] | None = None) -> str:
    """One line or paragraph of prose: **bold**, *em*, `code`, links, $math$; the rest escaped. The
    math is MathML, or what `math` makes of each formula's TeX (the notebooks keep $...$ for MathJax)."""
    out, pos = [], 0
    for m in prose.INLINE.finditer(text):
        out.append(_text(text[pos : m.start()], where))
        token, kind = m.group(), m.lastgroup
        if kind == "math":
            out.append(math(token[1:-1]) if math else latex_mathml(token[1:-1], where=where))
        elif kind == "code":
            out.append(f"<code>{html.escape(token[1:-1], quote=False)}</code>")
        elif kind == "bold":
            out.append(f"<strong>{inline_html(token[2:-2], where, math)}</strong>")
        elif kind == "em":
            out.append(f"<em>{inline_html(token[1:-1], where, math)}</em>")
        elif kind == "link":
            label, url = token[1:-1].split("](", 1)
            out.append(f'<a href="{_url(url, where)}">{inline_html(label, where, math)}</a>')
        else:
            url = token.strip("<>")
            out.append(f'<a href="{_url(url, where)}">{html.escape(url, quote=False)}</a>')
        pos = m.end()
    out.append(_text(text[pos:], where))
    return "".join(out)


def prose_html(text: str, page: Page, where: str) -> str:
    """A block of Markdown prose: paragraphs, headings (## is a section of the page), bullet and
    numbered lists (a numbered line interrupts a paragraph only when it is item 1, as in
    CommonMark, so "(CrossValidated,\\n2015) lists" stays a sentence), $$...$$ display math."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        lines = [ln.rstrip() for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        joined = "\n".join(lines).strip()
        if joined.startswith("$$") and joined.endswith("$$") and len(joined) > 4:
            blocks.append(display(latex_mathml(joined[2:-2].strip(), display=True, where=where)))
            continue
        items: list[str] = []
        kind: str | None = None  # "ul" or "ol"
        words: list[str] = []

        def flush(keep_list: bool = False) -> None:
            nonlocal items, kind, words
            if words:
                blocks.append(f"<p>{inline_html(' '.join(words), where)}</p>")
                words = []
            if items and not keep_list:
                body = "\n".join(f"<li>{inline_html(it, where)}</li>" for it in items)
                blocks.append(f"<{kind}>\n{body}\n</{kind}>")
                items, kind = [], None

        for ln in lines:
            h, b, n = prose.HEADING.match(ln), prose.BULLET.match(ln), prose.NUMBERED.match(ln)
            if n and words and not re.match(r"\s*1[.)]", ln):
                n = None  # a sentence that happens to start with "2015)" after a line break
            if h:
                flush()
                blocks.append(heading_html(len(h.group(1)), h.group(2), page, where))
            elif (item := b or n) is not None:
                new = "ul" if b else "ol"
                flush(keep_list=kind == new)
                kind = new
                items.append(item.group(1).strip())
            elif items:
                items[-1] += " " + ln.strip()  # a continuation line of the last item
            else:
                words.append(ln.strip())
        flush()
    return "\n".join(blocks)


def heading_html(level: int, text: str, page: Page, where: str) -> str:
    """<h2> for # and ## (a section, listed in the contents), <h3> for ###, <h4> for ####."""
    tag = {1: "h2", 2: "h2", 3: "h3"}.get(level, "h4")
    body = inline_html(text, where)
    anchor = page.anchor(text)
    if tag == "h2":
        page.sections.append((anchor, body))
    return f'<{tag} id="{anchor}">{body}</{tag}>'


def display(mathml: str) -> str:
    return f'<div class="display">{mathml}</div>'


# ---- checking a page --------------------------------------------------------------------------

_RAW_TEX = re.compile(
    r"\\(?:frac|partial|begin|end|sum|hat|left|right|text|mathrm|[A-Za-z]{2,})\b|\$\$|\$[^$\s][^$]*\$"
)


class _Visible(HTMLParser):
    """The text a reader sees (outside <code>, <pre>, <style>, <math>'s own markup is kept)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre", "style", "script"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "style", "script") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    parser.close()
    return " ".join(parser.parts)


def raw_tex(page: str) -> str | None:
    """The first piece of TeX in a page's visible text (\\frac, \\partial, $$, $...$), or None."""
    m = _RAW_TEX.search(visible_text(page))
    return m.group() if m else None
