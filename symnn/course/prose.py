"""Lesson prose (a small Markdown: paragraphs, headings, lists, **bold**, *italic*, `code`,
links and `$...$` math) turned into LaTeX."""

from __future__ import annotations

import re

from symnn.errors import InputError
from symnn.render.latex import TEXT_MAP, latex_text

INLINE = re.compile(
    r"(?P<math>\$[^$]+\$)"
    r"|(?P<code>`[^`]+`)"
    r"|(?P<bold>\*\*.+?\*\*)"
    r"|(?P<em>\*[^*\s][^*]*?\*)"
    r"|(?P<link>\[[^\]]+\]\([^)\s]+\))"
    r"|(?P<url><https?://[^>\s]+>|https?://[^\s<>]*[^\s<>.,;:)])"
)
HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_LATEX_HEADINGS = {1: "section", 2: "section", 3: "subsection", 4: "subsubsection"}


def check_typesettable(text: str, where: str) -> None:
    """Every character must have a pdflatex form (ASCII, or one latex_text maps: the lecture's
    symbols, Greek letters, accented letters); any other is an error naming it, never a '?'."""
    for ch in dict.fromkeys(text):
        if ord(ch) >= 128 and ch not in TEXT_MAP:
            try:
                latex_text(ch)
            except InputError:
                raise InputError(
                    f"{where}: the character {ch!r} (U+{ord(ch):04X}) has no LaTeX form; "
                    "write it as $...$ math or with one of the symbols symnn.render.latex knows"
                ) from None


def math_latex(body: str, where: str) -> str:
    """`$body$` for LaTeX; a body with non-ASCII characters is refused (LaTeX commands go inside $...$)."""
    if any(ord(ch) >= 128 for ch in body):
        bad = next(ch for ch in body if ord(ch) >= 128)
        raise InputError(
            f"{where}: math ${body}$ holds {bad!r}; write LaTeX commands inside $...$ "
            r"(\hat{y}, \sigma, \times)"
        )
    return f"${body}$"


def _url(url: str) -> str:
    return url.replace("\\", "").replace("%", r"\%").replace("#", r"\#")


# "Table 3.1", "Figure 8.2", "lesson 5" in the prose: the book's labels tab:3.1, fig:8.2, lesson:5
_MENTION = re.compile(r"\b(Table|Figure|[Ll]esson) (\d{1,2})(?:\.(\d{1,3}))?\b(?!\.\d)")
_LABEL_KIND = {"Table": "tab", "Figure": "fig", "Lesson": "lesson", "lesson": "lesson"}


def label_of(name: str) -> str:
    """The LaTeX label of a table, a figure or a lesson as the prose names it: "Table 3.1" -> tab:3.1."""
    m = _MENTION.fullmatch(name)
    if not m:
        raise ValueError(f"not a table, figure or lesson name: {name!r}")
    return f"{_LABEL_KIND[m.group(1)]}:{m.group(2)}" + (f".{m.group(3)}" if m.group(3) else "")


def ref_latex(word: str, label: str, number: str) -> str:
    """`word number` linked to its label (\\ref, the whole mention a link with hyperref), or the same
    text when the label is not in the document (a lesson left out of the build, a slide)."""
    linked = rf"\ifdefined\hyperref\hyperref[{label}]{{{word}~\ref*{{{label}}}}}\else {word}~\ref{{{label}}}\fi"
    return rf"\ifcsname r@{label}\endcsname {linked}\else {word}~{number}\fi{{}}"


def cross_references(escaped: str) -> str:
    """Plain text already escaped for LaTeX, its mentions of tables, figures and lessons linked."""

    def link(m: re.Match) -> str:
        if m.group(1) in ("Table", "Figure") and not m.group(3):
            return m.group()  # "Figure 3" is no figure's name (they are N.k)
        if m.group(1).lower() == "lesson" and m.group(3):
            return m.group()
        number = m.group(2) + (f".{m.group(3)}" if m.group(3) else "")
        return ref_latex(m.group(1), label_of(m.group()), number)

    return _MENTION.sub(link, escaped)


def inline_latex(text: str, where: str = "lesson text", refs: bool = True) -> str:
    """One line or paragraph of prose: inline markup and math to LaTeX, everything else escaped;
    refs: "Table 3.1", "Figure 3.1" and "lesson 3" become links (not in headings and captions,
    which LaTeX moves to the contents and the bookmarks)."""
    check_typesettable(re.sub(r"\$[^$]+\$", "", text), where)
    plain = (lambda t: cross_references(latex_text(t))) if refs else latex_text
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(plain(text[pos : m.start()]))
        token, kind = m.group(), m.lastgroup
        if kind == "math":
            out.append(math_latex(token[1:-1], where))
        elif kind == "code":
            out.append(r"\texttt{" + latex_text(token[1:-1]).replace("-", "-{}") + "}")  # -- is no dash in code
        elif kind == "bold":
            out.append(r"\textbf{" + inline_latex(token[2:-2], where, refs) + "}")
        elif kind == "em":
            out.append(r"\emph{" + inline_latex(token[1:-1], where, refs) + "}")
        elif kind == "link":
            label, url = token[1:-1].split("](", 1)
            out.append(r"\href{" + _url(url) + "}{" + inline_latex(label, where, refs=False) + "}")
        else:
            out.append(r"\url{" + _url(token.strip("<>")) + "}")
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def heading_latex(text: str, where: str = "lesson text") -> str:
    """A heading: its math gets a plain-text twin for the PDF's bookmarks."""

    def pdf_safe(m: re.Match) -> str:
        plain = re.sub(r"\\[A-Za-z]+|[{}^_\\$]", "", m.group(1)).strip()
        return r"\texorpdfstring{" + math_latex(m.group(1), where) + "}{" + latex_text(plain) + "}"

    parts = re.split(r"(\$[^$]+\$)", text)
    return "".join(
        re.sub(r"^\$([^$]+)\$$", pdf_safe, p) if p.startswith("$") else inline_latex(p, where, refs=False)
        for p in parts
    )


def prose_latex(text: str, where: str = "lesson text") -> str:
    """A block of Markdown prose as LaTeX: paragraphs, headings, bullet and numbered lists,
    `$$...$$` display math."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        lines = [ln.rstrip() for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        joined = "\n".join(lines).strip()
        if joined.startswith("$$") and joined.endswith("$$") and len(joined) > 4:
            blocks.append(r"\[" + math_latex(joined[2:-2].strip(), where)[1:-1] + r"\]")
            continue
        items: list[str] = []
        env: str | None = None  # the kind of list the items belong to
        text_lines: list[str] = []

        def flush(keep_list: bool = False) -> None:
            nonlocal items, env, text_lines
            if text_lines:
                blocks.append(inline_latex(" ".join(text_lines), where))
                text_lines = []
            if items and not keep_list:
                assert env is not None  # set with the first item
                blocks.append(_list(env, items, where))
                items, env = [], None

        for ln in lines:
            h, b, n = HEADING.match(ln), BULLET.match(ln), NUMBERED.match(ln)
            if h:
                flush()
                blocks.append(f"\\{_LATEX_HEADINGS[len(h.group(1))]}{{{heading_latex(h.group(2), where)}}}")
            elif (item := b or n) is not None:
                new_env = "itemize" if b else "enumerate"
                flush(keep_list=env == new_env)
                env = new_env
                items.append(item.group(1).strip())
            elif items:
                items[-1] += " " + ln.strip()  # a continuation line of the last item
            else:
                text_lines.append(ln.strip())
        flush()
    return "\n\n".join(blocks)


def _list(env: str, items: list[str], where: str = "lesson text") -> str:
    body = "\n".join(r"  \item " + inline_latex(it, where) for it in items)
    return f"\\begin{{{env}}}\n{body}\n\\end{{{env}}}"


_TEX_TO_TEXT = [
    (r"\\left|\\right|\\,|\\!|\\displaystyle", ""),
    (r"\^\{([^{}]*)\}", r"^\1"),
    (r"_\{([^{}]*)\}", r"_\1"),
    (r"\\(?:t|d)?frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2"),
    (r"\\tfrac12|\\frac12", "½"),
    (r"\\hat\{y\}|\\hat y", "ŷ"),
    (r"\\mathrm\{([^{}]*)\}|\\text\{([^{}]*)\}", r"\1\2"),
    (r"\\(?:operatorname|mathbf|boldsymbol)\{([^{}]*)\}", r"\1"),
    (r"\\\{", "{"),
    (r"\\\}", "}"),
    (r"\\(?:quad|qquad)", "  "),
    (r"\\ ", " "),
    (r"\{,\}", ","),
]
_TEX_SYMBOLS = {
    "varphi": "φ",
    "phi": "φ",
    "sigma": "σ",
    "eta": "η",
    "delta": "δ",
    "tau": "τ",
    "epsilon": "ε",
    "lambda": "λ",
    "alpha": "α",
    "beta": "β",
    "theta": "θ",
    "nabla": "∇",
    "partial": "∂",
    "times": "×",
    "cdot": "·",
    "odot": "⊙",
    "star": "⋆",
    "approx": "≈",
    "neq": "≠",
    "ne": "≠",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "infty": "∞",
    "sum": "Σ",
    "mp": "∓",
    "pm": "±",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "in": "∈",
    "max": "max",
    "min": "min",
    "tanh": "tanh",
    "exp": "exp",
    "ln": "ln",
    "log": "log",
    "sqrt": "√",
    "Sigma": "Σ",
    "Delta": "Δ",
}


def tex_to_text(s: str) -> str:
    """LaTeX math made readable in a terminal: \\hat{y} -> ŷ, \\frac{a}{b} -> a/b, \\eta -> η."""
    for pattern, repl in _TEX_TO_TEXT:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"\\partial ?", "∂", re.sub(r"\\nabla ?", "∇", s))
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_SYMBOLS.get(m.group(1), m.group(0)), s)
    return s


def inline_text(text: str) -> str:
    """One line of prose for a terminal: $math$ made readable, nothing wrapped."""
    return re.sub(r"\$\$?([^$]+)\$\$?", lambda m: tex_to_text(m.group(1)), text.strip())


def markdown_text(text: str, width: int = 92) -> str:
    """Prose for a terminal: Markdown is readable as it is; math loses its `$` signs and its
    commonest LaTeX commands, and long paragraphs are wrapped."""
    import textwrap

    text = re.sub(r"\$\$?([^$]+)\$\$?", lambda m: tex_to_text(m.group(1)), text.strip("\n"))
    paras = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.split("\n")
        plain = not any(
            HEADING.match(ln) or BULLET.match(ln) or NUMBERED.match(ln) or ln.startswith(("|", "    ")) for ln in lines
        )
        paras.append(textwrap.fill(" ".join(ln.strip() for ln in lines), width) if plain else para)
    return "\n\n".join(paras)
