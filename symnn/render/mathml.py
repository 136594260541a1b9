"""MathML: the lessons' LaTeX and SymPy's expressions as presentation MathML, which browsers
render natively (no JavaScript, no web font, no network).

LaTeX is converted with latex2mathml; SymPy expressions are printed with symnn's LaTeX printer
first (so the web book writes what the PDF writes: ∂ always, σ(z), ŷ − y) and converted the same
way. latex2mathml passes what it does not know through as text (`\\foo` becomes an identifier
"\\foo"), so every result is checked: a command left over, a fraction or script without its
parts, an unknown environment or unbalanced braces raise MathMLError instead of leaving TeX in
a page. The tree is serialised here, every text escaped (latex2mathml's own serialiser unescapes
its text, so `\\text{<b>}` would come out as markup).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from xml.etree.ElementTree import Element

from symnn.errors import InputError

NAMESPACE = "http://www.w3.org/1998/Math/MathML"

# the environments latex2mathml converts faithfully (it drops an unknown one's name silently), and
# those it does not know that are written as one it knows: aligned as align* (right, left, ...
# columns), gathered as a centred one-column array
ENVIRONMENTS = frozenset(
    {
        "matrix",
        "pmatrix",
        "bmatrix",
        "Bmatrix",
        "vmatrix",
        "Vmatrix",
        "smallmatrix",
        "cases",
        "align",
        "align*",
        "split",
        "array",
    }
)
_REWRITTEN = [
    (r"\\begin\{aligned\}(?:\[[tcb]\])?|\\begin\{alignedat\}\{\d+\}", r"\begin{align*}"),
    (r"\\end\{aligned\}|\\end\{alignedat\}", r"\end{align*}"),
    (r"\\begin\{gathered\}", r"\begin{array}{c}"),
    (r"\\end\{gathered\}", r"\end{array}"),
]
# how many children a MathML element must have
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "munder": 2, "mover": 2, "munderover": 3, "mroot": 2}
# the letters of \mathbf etc. as Unicode mathematical alphanumerics: MathML Core (Chromium) ignores
# mathvariant except "normal" on a single-letter <mi>
_VARIANTS = {
    "bold": "MATHEMATICAL BOLD",
    "italic": "MATHEMATICAL ITALIC",
    "bold-italic": "MATHEMATICAL BOLD ITALIC",
    "double-struck": "MATHEMATICAL DOUBLE-STRUCK",
    "script": "MATHEMATICAL SCRIPT",
    "bold-script": "MATHEMATICAL BOLD SCRIPT",
    "fraktur": "MATHEMATICAL FRAKTUR",
    "sans-serif": "MATHEMATICAL SANS-SERIF",
    "bold-sans-serif": "MATHEMATICAL SANS-SERIF BOLD",
    "monospace": "MATHEMATICAL MONOSPACE",
}
_TEXT_STYLE = {"bold": "font-weight:bold", "italic": "font-style:italic", "monospace": "font-family:monospace"}
_ALIGN = {"left": "left", "right": "right", "center": "center"}
# what makes a \left( ... \right) pair grow; around anything else the fences keep their text size
# (Chromium stretches them to a wider glyph even around a single letter: σ ( z ))
_ACCENTS = frozenset("^~¨˙ˆ˜`´¯˘ˇ→⃗")
_LIMITS = frozenset({"∑", "∏", "⋃", "⋂", "max", "min", "lim", "sup", "inf", "arg max", "arg min", "argmax", "argmin"})
_TALL = frozenset({"mfrac", "mtable", "munderover", "munder", "msqrt", "mroot"})


class MathMLError(InputError):
    """A formula that cannot be converted to MathML (the message names it)."""


def _rewrite(tex: str) -> str:
    for pattern, replacement in _REWRITTEN:
        tex = re.sub(pattern, replacement.replace("\\", "\\\\"), tex)
    return tex


def _balanced(tex: str) -> str | None:
    """Why the braces and environments of tex do not match, or None."""
    depth = 0
    for m in re.finditer(r"\\[\\{}]|[{}]", tex):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth < 0:
                return "a } without its {"
    if depth:
        return "a { without its }"
    stack: list[str] = []
    for m in re.finditer(r"\\(begin|end)\s*\{([^{}]*)\}|\\[\\&]|&", tex):
        kind, name = m.groups()
        if m.group() == "&" and not stack:
            return "an & outside an environment (aligned, cases, matrix) where it would show as text"
        if kind == "begin":
            if name not in ENVIRONMENTS:
                known = ", ".join(sorted(ENVIRONMENTS | {"aligned", "alignedat", "gathered"}))
                return f"the environment {name!r} is not supported (use one of {known})"
            stack.append(name)
        elif kind == "end" and (not stack or stack.pop() != name):
            return f"\\end{{{name}}} does not close the environment opened before it"
    if stack:
        return f"\\begin{{{stack[-1]}}} has no \\end{{{stack[-1]}}}"
    if re.search(r"\\(begin|end)(?!\s*\{)", tex):
        return "\\begin or \\end without an environment name"
    return None


def _letters(text: str, variant: str) -> str | None:
    """text in a Unicode mathematical alphabet (bold x -> 𝐱), or None when it has no such form."""
    family = _VARIANTS.get(variant)
    if family is None or not text.isascii() or not text.isalnum():
        return None
    out = []
    for ch in text:
        what = (
            f"DIGIT {unicodedata.name(ch).split()[-1]}"
            if ch.isdigit()
            else f"{'CAPITAL' if ch.isupper() else 'SMALL'} {ch.upper()}"
        )
        name = f"{family} {what}"
        # the letters Unicode had before the mathematical block (ℝ, ℒ, ℎ) keep their older names
        older = {"MATHEMATICAL ITALIC SMALL H": "PLANCK CONSTANT"}.get(
            name, name.replace("MATHEMATICAL ", "").replace("FRAKTUR", "BLACK-LETTER")
        )
        for candidate in (name, older):
            try:
                out.append(unicodedata.lookup(candidate))
                break
            except KeyError:
                continue
        else:
            out.append(ch if ch.isdigit() else "")  # italic and script digits do not exist
            if not ch.isdigit():
                return None
    return "".join(out)


def _fix(node: Element, parent: Element | None, index: int) -> str | None:
    """Adapt latex2mathml's tree to MathML Core in place; why it is wrong, or None."""
    tag = node.tag
    text = html.unescape(node.text or "")
    if tag == "mtext":  # \text{a \& b}: latex2mathml keeps text mode's escapes as they are
        text = re.sub(r"\\([&%$#_{} ])", r"\1", text)
    if "\\" in text:
        return _unknown(text)
    if tag == "menclose":
        return "browsers do not draw \\boxed, \\cancel or \\enclose (MathML Core has no menclose)"
    if tag == "mspace" and node.attrib.get("linebreak") == "newline":
        return "a line break \\\\ outside an environment (write the lines in an aligned environment)"
    if tag in _ARITY and len(node) != _ARITY[tag]:
        return f"a {tag} needs {_ARITY[tag]} parts and has {len(node)} (a \\frac or script without its argument?)"
    variant = node.attrib.get("mathvariant")
    if variant and variant != "normal" and tag in ("mi", "mn", "mo", "mtext"):
        styled = _letters(text, variant)
        if styled is not None and tag != "mtext":
            text = styled
            del node.attrib["mathvariant"]
        elif tag == "mtext" and variant in _TEXT_STYLE:
            node.attrib["style"] = _TEXT_STYLE[variant]
            del node.attrib["mathvariant"]
    if tag == "mo" and len(text) > 1 and text.isalpha() and text != "mod":
        base_of_limits = parent is not None and parent.tag in ("munder", "munderover", "msub", "msubsup") and index == 0
        if not base_of_limits:  # \operatorname{ReLU}, \max: a function name, set upright without operator spacing
            node.tag = "mi"
    if tag == "mover" and len(node) == 2 and node[1].tag == "mo" and html.unescape(node[1].text or "") in _ACCENTS:
        node.attrib["accent"] = "true"  # \hat{y}: an accent, close to its letter (older latex2mathml omits it)
        node[1].attrib.pop("stretchy", None)
    if (
        tag in ("msub", "msubsup")
        and len(node)
        and node[0].tag == "mo"
        and html.unescape(node[0].text or "") in _LIMITS
    ):
        # Σ_{i=1}^{n}: limits under and over in display math, beside it in running text (the
        # base's movablelimits), as TeX sets them; latex2mathml writes scripts inside an align
        node.tag = {"msub": "munder", "msubsup": "munderover"}[tag]
        node[0].attrib["movablelimits"] = "true"
    if tag == "mrow" and len(node) >= 2 and _fence(node[0], "prefix") and _fence(node[-1], "postfix"):
        if not any(d.tag in _TALL for d in node.iter()):
            for fence in (node[0], node[-1]):
                fence.attrib["stretchy"] = "false"
    if tag == "mo" and text in ("∂", "∇"):  # ordinary symbols in TeX: no operator space in ∂C/∂w
        node.tag = "mi"
        node.attrib["mathvariant"] = "normal"
    if tag == "mo" and text == "/":  # a slash is ordinary in TeX: ∂C/∂w, no space around it
        node.attrib.update(lspace="0", rspace="0")
    if tag == "mtd":
        align = _ALIGN.get(node.attrib.pop("columnalign", ""))
        if align:
            node.attrib["style"] = ";".join(filter(None, (f"text-align:{align}", node.attrib.get("style"))))
    if tag == "mtable":
        _space_cells(node)
    node.text = text
    for n, child in enumerate(node):
        why = _fix(child, node, n)
        if why:
            return why
        child.tail = html.unescape(child.tail or "")
        if "\\" in child.tail:
            return _unknown(child.tail)
    return None


def _unknown(text: str) -> str:
    m = re.search(r"\\(?:[A-Za-z]+|.)", text)
    return f"{m.group() if m else text.strip()} is not a command latex2mathml knows"


def _space_cells(table: Element) -> None:
    """MathML Core ignores an mtable's columnspacing, rowspacing and columnalign: the spacing
    becomes the cells' padding (align*'s right and left columns meet at the =)."""
    columns = (table.attrib.pop("columnspacing", "") or "").split()
    rows = table.attrib.pop("rowspacing", "").split()
    table.attrib.pop("columnalign", None)
    for row in table:
        cells = list(row)
        for j, cell in enumerate(cells):
            style = []
            if columns:
                style.append("padding-left:0" if j else "")
                if j + 1 < len(cells):
                    style.append(f"padding-right:{columns[min(j, len(columns) - 1)]}")
            if rows:
                style.append(f"padding-top:calc({rows[0]} / 2);padding-bottom:calc({rows[0]} / 2)")
            extra = ";".join(s for s in style if s)
            if extra:
                cell.attrib["style"] = ";".join(s for s in (cell.attrib.get("style", ""), extra) if s)


def _fence(node: Element, form: str) -> bool:
    return node.tag == "mo" and node.attrib.get("form") == form and node.attrib.get("stretchy") == "true"


def _serialise(node: Element, out: list[str]) -> None:
    attrs = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in node.attrib.items())
    out.append(f"<{node.tag}{attrs}>")
    if node.text:
        out.append(html.escape(node.text, quote=False))
    for child in node:
        _serialise(child, out)
        if child.tail:
            out.append(html.escape(child.tail, quote=False))
    out.append(f"</{node.tag}>")


def latex_mathml(tex: str, display: bool = False, where: str = "a formula") -> str:
    """The MathML of a LaTeX formula (the inside of $...$), or MathMLError naming the formula."""
    from latex2mathml.converter import convert_to_element

    shown = tex if len(tex) <= 120 else tex[:117] + "..."

    def fail(why: str) -> MathMLError:
        return MathMLError(f"{where}: cannot write ${shown}$ as MathML: {why}")

    if not tex.strip():
        raise fail("the formula is empty")
    tex = _rewrite(tex)
    why = _balanced(tex)
    if why:
        raise fail(why)
    try:
        tree = convert_to_element(tex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml's own errors are plain Exceptions named for the problem
        name = re.sub(r"(?<!^)([A-Z])", r" \1", type(exc).__name__.removesuffix("Error")).lower()
        raise fail(f"{name}{': ' + str(exc) if str(exc) else ''}") from None
    why = _fix(tree, None, 0)
    if why:
        raise fail(why)
    tree.attrib.pop("xmlns", None)  # the HTML parser puts <math> in the MathML namespace itself
    out: list[str] = []
    _serialise(tree, out)
    return "".join(out)


def expr_mathml(expr, display: bool = False, ordinary: bool = False, where: str = "a formula") -> str:
    """The MathML of a SymPy expression, written as symnn's LaTeX printer writes it."""
    return latex_mathml(expr_tex(expr, ordinary), display, where)


def expr_tex(expr, ordinary: bool = False) -> str:
    from symnn.render.latex import LatexPrinter

    return LatexPrinter({"mul_symbol": None, "ordinary": ordinary}).doprint(expr)


def note_mathml(note: str, where: str = "a note") -> str:
    """A justification note as HTML: its backticked mathematics as MathML, and so are the
    derivatives and subscripted names in its words (x_0, ∂C/∂w_1); the rest escaped."""
    from symnn.render.notes import math_tex, pieces

    return "".join(
        latex_mathml(math_tex(t), where=where) if is_math else text_mathml(t, where) for is_math, t in pieces(note)
    )


@functools.lru_cache(maxsize=1)
def _mathy() -> re.Pattern:
    """What the book's LaTeX sets as math in running text (symnn.render.latex's ∂C/∂w_1 and x_1),
    and names with a superscript, as the back-propagation notes write them: z^l_j, a^(l−1)_k."""
    from symnn.render.latex import MATHY

    script = r"(?:\^(?:\([^()\s]{1,12}\)|[0-9A-Za-z]{1,3})|_[0-9A-Za-z]{1,3})"
    superscripted = rf"(?<![\w\\.])[^\W\d_]{{1,6}}(?=\^){script}+(?![\w(]|\.\w)"
    return re.compile(f"{MATHY.pattern}|{superscripted}")


def text_mathml(text: str, where: str = "a heading") -> str:
    """Running text (a derivation's introduction, a section heading) with its derivatives and
    subscripted names (∂C/∂w_1, x_1) as MathML, the rest escaped: no literal underscore shows."""
    from symnn.render.notes import math_tex

    out, pos = [], 0
    for m in _mathy().finditer(text):
        out.append(html.escape(text[pos : m.start()], quote=False))
        out.append(latex_mathml(math_tex(m.group().replace("yhat", "ŷ")), where=where))
        pos = m.end()
    return "".join(out) + html.escape(text[pos:], quote=False)
