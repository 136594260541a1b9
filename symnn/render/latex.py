"""LaTeX: an `align*` block per section, each step's equation (broken to fit the page) with its
justification below it. `standalone=True` wraps it in a document that compiles with pdflatex."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp
from sympy.printing.latex import LatexPrinter as _SympyLatex
from sympy.printing.precedence import PRECEDENCE

from symnn.errors import InputError
from symnn.outputs import TAG
from symnn.render.text import function_first, positive_first

# Unicode that notes use -> LaTeX that works in text mode (pdflatex, no extra packages).
TEXT_MAP = {
    "ŷ": r"\ensuremath{\hat{y}}",
    "σ": r"\ensuremath{\sigma}",
    "∂": r"\ensuremath{\partial}",
    "≠": r"\ensuremath{\neq}",
    "−": "-",
    "²": r"\ensuremath{^2}",
    "·": r"\ensuremath{\cdot}",
    "δ": r"\ensuremath{\delta}",
    "η": r"\ensuremath{\eta}",
    "τ": r"\ensuremath{\tau}",
    "Σ": r"\ensuremath{\Sigma}",
    "φ": r"\ensuremath{\varphi}",
    "′": "'",
    "⊙": r"\ensuremath{\odot}",
    "←": r"\ensuremath{\leftarrow}",
    "→": r"\ensuremath{\rightarrow}",
    "≈": r"\ensuremath{\approx}",
    "×": r"\ensuremath{\times}",
    "“": "``",
    "”": "''",
    "–": "--",
    "—": "---",
    "⋆": r"\ensuremath{\star}",
    "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}",
    "∞": r"\ensuremath{\infty}",
    "ᵀ": r"\ensuremath{^T}",
    "∇": r"\ensuremath{\nabla}",
    "∫": r"\ensuremath{\int}",
    "ₖ": r"\ensuremath{_k}",
    "ⱼ": r"\ensuremath{_j}",
    "ᵢ": r"\ensuremath{_i}",
    "⁻": r"\ensuremath{^-}",
    "¹": r"\ensuremath{^1}",
    "³": r"\ensuremath{^3}",
    "ε": r"\ensuremath{\varepsilon}",
    "λ": r"\ensuremath{\lambda}",
    "é": r"\'e",
    "ö": r"\"o",
    "ü": r"\"u",
    "…": r"\ldots{}",
    "°": r"\ensuremath{^\circ}",
    "±": r"\ensuremath{\pm}",
    "§": r"\S{}",
    "✓": "ok",
    "✗": "x",
    "√": r"\ensuremath{\surd}",
    "ℓ": r"\ensuremath{\ell}",
    "₁": r"\ensuremath{_1}",
    "₂": r"\ensuremath{_2}",
    "₃": r"\ensuremath{_3}",
    "ᵗ": "t",
    "½": r"\ensuremath{\tfrac{1}{2}}",
    "⌊": r"\ensuremath{\lfloor}",
    "⌋": r"\ensuremath{\rfloor}",
    "⌈": r"\ensuremath{\lceil}",
    "⌉": r"\ensuremath{\rceil}",
    "ϕ": r"\ensuremath{\varphi}",
    "∈": r"\ensuremath{\in}",
    "∑": r"\ensuremath{\Sigma}",
    "∏": r"\ensuremath{\Pi}",
    "≡": r"\ensuremath{\equiv}",
    "⇒": r"\ensuremath{\Rightarrow}",
    "″": "''",
    "‖": r"\ensuremath{\|}",
    "∣": r"\ensuremath{|}",
    "∓": r"\ensuremath{\mp}",
    "∝": r"\ensuremath{\propto}",
    "∼": r"\ensuremath{\sim}",
    "↦": r"\ensuremath{\mapsto}",
    "⟨": r"\ensuremath{\langle}",
    "⟩": r"\ensuremath{\rangle}",
    "∀": r"\ensuremath{\forall}",
    "∃": r"\ensuremath{\exists}",
    "ℝ": r"\ensuremath{\mathbb{R}}",
    "ℕ": r"\ensuremath{\mathbb{N}}",
    "∅": r"\ensuremath{\emptyset}",
    "∧": r"\ensuremath{\wedge}",
    "∨": r"\ensuremath{\vee}",
    "¬": r"\ensuremath{\neg}",
    "‘": "`",
    "’": "'",
    "•": r"\ensuremath{\bullet}",
    "⋅": r"\ensuremath{\cdot}",
    "\u00a0": "~",
    "ʹ": "'",
    "⁰": r"\ensuremath{^0}",
    "⁴": r"\ensuremath{^4}",
    "⁵": r"\ensuremath{^5}",
    "⁶": r"\ensuremath{^6}",
    "⁷": r"\ensuremath{^7}",
    "⁸": r"\ensuremath{^8}",
    "⁹": r"\ensuremath{^9}",
    "ⁿ": r"\ensuremath{^n}",
    "ₙ": r"\ensuremath{_n}",
    "ₘ": r"\ensuremath{_m}",
    "ₚ": r"\ensuremath{_p}",
    "ₜ": r"\ensuremath{_t}",
    "ᵣ": r"\ensuremath{_r}",
    "ᴸ": r"\ensuremath{^L}",
    "ˡ": r"\ensuremath{^l}",
}
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
for _n, _d in enumerate("₀₁₂₃₄₅₆₇₈₉"):
    TEXT_MAP.setdefault(_d, rf"\ensuremath{{_{_n}}}")


def latex_text(s: str) -> str:
    """Escape plain text (with the lecture's Unicode symbols) for LaTeX text mode."""
    out = []
    for ch in s:
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in TEXT_MAP:
            out.append(TEXT_MAP[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(_unicode_tex(ch))
    return "".join(out)


def _unicode_tex(ch: str) -> str:
    """Greek letters, letters with accents and sub/superscript digits; anything else is an error
    naming the character (never a silent '?')."""
    import unicodedata

    name = unicodedata.name(ch, "")
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", name)
    if greek:
        letter = greek.group(2).lower()
        letter = {"lamda": "lambda", "omicron": "o"}.get(letter, letter)
        if greek.group(1) == "CAPITAL":
            letter = letter.capitalize()
            if letter in (
                "Alpha",
                "Beta",
                "Epsilon",
                "Zeta",
                "Eta",
                "Iota",
                "Kappa",
                "Mu",
                "Nu",
                "O",
                "Rho",
                "Tau",
                "Chi",
            ):
                return {
                    "Alpha": "A",
                    "Beta": "B",
                    "Epsilon": "E",
                    "Zeta": "Z",
                    "Eta": "H",
                    "Iota": "I",
                    "Kappa": "K",
                    "Mu": "M",
                    "Nu": "N",
                    "O": "O",
                    "Rho": "P",
                    "Tau": "T",
                    "Chi": "X",
                }[letter]
        return rf"\ensuremath{{\{letter}}}" if letter != "o" else "o"
    base = unicodedata.normalize("NFD", ch)
    accents = {"\u0301": "'", "\u0300": "`", "\u0308": '"', "\u0302": "^", "\u0303": "~", "\u0327": "c"}
    if len(base) == 2 and base[0].isascii() and base[1] in accents:
        return rf"\{accents[base[1]]}{{{base[0]}}}"
    raise InputError(
        f"cannot typeset the character {ch!r} (U+{ord(ch):04X} {name or 'unnamed'}) in "
        "LaTeX; write it in ASCII or as a LaTeX command"
    )


class LatexPrinter(_SympyLatex):
    """SymPy's LaTeX printer with the lecture's conventions (∂ always, σ(z), w_{1}')."""

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order))

    def _print_Mul(self, expr):
        from symnn.render.text import log_base

        base_a = log_base(expr)
        if base_a is not None:  # ln(u)/ln(a) as log_a(u), as it was typed (and as the text prints it)
            return self._print(base_a)
        c, _ = expr.as_coeff_Mul()
        num, den = sp.fraction(-expr if c < 0 else expr)
        ordered = function_first(num) if num.is_Mul else None
        if ordered is None:
            return super()._print_Mul(expr)
        sep = self._settings["mul_symbol_latex"]
        top = sep.join(self.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in ordered.args)
        body = top if den == 1 else rf"\frac{{{top}}}{{{self._print(den)}}}"
        return ("- " if c < 0 else "") + body

    _default_settings = {**_SympyLatex._default_settings, "ordinary": False}

    def _deal_with_super_sub(self, string: str, style: str = "plain") -> str:
        # the lecture's φ and ε (\varphi, \varepsilon), as the prose and the notes write them, not ϕ, ϵ
        out = super()._deal_with_super_sub(string, style)
        return re.sub(r"\\(phi|epsilon)(?![A-Za-z])", r"\\var\1", out)

    def _print_Derivative(self, expr):
        d = "d" if self._settings.get("ordinary") else r"\partial"  # d/dx for a function of one variable
        num = sp.Integer(sum(c for _, c in expr.variable_count))
        den = " ".join(rf"{d} {self._print(v)}" + (f"^{{{c}}}" if c > 1 else "") for v, c in expr.variable_count)
        top = d + (f"^{{{num}}}" if num > 1 else "")
        f = expr.expr
        if isinstance(f, (sp.Symbol, sp.Indexed)) or (f.is_Function and len(f.atoms(sp.Symbol)) <= 1):
            return rf"\frac{{{top} {self._print(f)}}}{{{den}}}"
        return rf"\frac{{{top}}}{{{den}}}\left({self._print(f)}\right)"

    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(sp.Symbol(expr.name))

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Symbol(self, expr, style="plain"):
        name = expr.name
        if name.startswith("(") and name.endswith(")"):  # e.g. (I⋆K), (f*g): an operator's name
            inner = name[1:-1].replace("⋆", r" \star ").replace("*", r" * ")
            return r"\left(" + inner + r"\right)"
        if "(" in name and name.endswith(")"):
            head, arg = name.split("(", 1)
            return (
                self._print_Symbol(sp.Symbol(head))
                + r"\left("
                + self._print_Symbol(sp.Symbol(arg.rstrip(")")))
                + r"\right)"
            )
        if name.startswith("nabla_"):
            rest = name[6:].split(" ")
            return rf"\nabla_{{{rest[0]}}}" + (" " + " ".join(rest[1:]) if len(rest) > 1 else "")
        if "^" in name and not name.startswith("^"):
            base, sup = name.split("^", 1)
            sub = ""
            if "_" in sup and not sup.startswith("{"):
                sup, sub = sup.split("_", 1)
            sup = sup.strip("{}")
            out = self._print_Symbol(sp.Symbol(base)) + "^{" + sup + "}"
            return out + ("_{" + sub + "}" if sub else "")

        if name.endswith("'"):
            return self._print_Symbol(sp.Symbol(name[:-1])) + "'"
        if " " in name:
            return r"\text{" + latex_text(name) + "}"
        return super()._print_Symbol(expr, style)

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = (self._print(a) for a in expr.args)
        s = rf"\delta_{{{i}{j}}}" if len(i) == 1 and len(j) == 1 else rf"\delta_{{{i},{j}}}"
        return s if exp is None else rf"{s}^{{{exp}}}"

    def _print_Heaviside(self, expr, exp=None):
        # H(u), the unit step, as the text printer and the rules' notes name it (SymPy writes θ)
        s = rf"H\left({self._print(expr.args[0])}\right)"
        return s if exp is None else rf"{s}^{{{exp}}}"


def tex(expr) -> str:
    return LatexPrinter({"mul_symbol": None}).doprint(expr)


def _steps_by_section(d):
    section, rows = None, []
    for step in d.steps:
        if step.is_heading:
            if rows or section:
                yield section, rows
            section, rows = step.note, []
        else:
            rows.append(step)
    if rows or section:
        yield section, rows


def _justification(step, labels: str | None = None, steps: int = 0) -> str:
    note = f"{step.rule}: {step.note}" if step.note else step.rule
    return note_tex(note, labels, steps)


# "by (23)", "(2)-(5) into (6)": a note naming an equation of its derivation by number
_EQUATION = re.compile(r"(?<![\w)])\((\d{1,3})\)(?![\w(])")


# a derivative ∂C/∂w_1, a sub- or superscripted name x_1, z^l_j, a^(l−1)_k, or Σ_k, in running text
_SCRIPTED = r"(?:\^(?:[0-9A-Za-z]{1,3}|\([^()\s]{1,8}\))(?:_[0-9A-Za-z]{1,3})?|(?:_[0-9A-Za-z]{1,3})+)"
MATHY = re.compile(
    rf"∂[^\W\d_]{{1,6}}{_SCRIPTED}?/∂[^\W\d_]{{1,6}}{_SCRIPTED}?(?![\w(])"
    rf"|∂[^\s/]+/∂[^\s,;:()]+"
    rf"|(?<![\w\\.])(?:[^\W\d_]{{1,6}}|Σ){_SCRIPTED}(?![\w(]|\.\w)"
    rf"|(?<![\w\\.])[^\W\d_]_[A-Za-z]{{4,7}}(?![\w(]|\.\w)"  # a one-letter name: n_classes, H_out
)


def text_with_math(text: str, plain=None) -> str:
    """Running text (a heading, an introduction, a note) with its derivatives and sub- and
    superscripted names as math, so no literal underscore or caret prints: "∂C/∂w_1" ->
    \\(\\partial C/\\partial w_{1}\\), "e^(−z)" -> \\(e^{-z}\\); plain(t) sets the text between
    (latex_text)."""
    from symnn.render.notes import math_tex

    plain = plain or latex_text
    out, pos = [], 0
    for m in MATHY.finditer(text):
        math = _ascii_math(math_tex(m.group().replace("yhat", "ŷ")))
        if math is None:  # a symbol with no math form: leave it to text mode
            continue
        out += [plain(text[pos : m.start()]), rf"\({math}\)"]
        pos = m.end()
    return "".join(out) + plain(text[pos:])


def _ascii_math(math: str) -> str | None:
    """math with any symbol math_tex left as Unicode (ℓ) in its math form (\\ell), or None."""
    out = []
    for ch in math:
        if ch.isascii():
            out.append(ch)
            continue
        try:
            t = TEXT_MAP.get(ch) or _unicode_tex(ch)
        except InputError:
            return None
        m = re.fullmatch(r"\\ensuremath\{(.*)\}", t)
        if not m:
            return None
        out.append(m.group(1) + " ")
    return "".join(out)


def heading_tex(text: str) -> str:
    """A heading in a document with hyperref (the book's chapters and sections): its mathematics
    typeset (text_with_math), and the Unicode text itself for the PDF's bookmarks
    (\\texorpdfstring), where TeX cannot go."""
    typeset = text_with_math(text)
    if "\\ensuremath" not in typeset and "\\(" not in typeset:
        return typeset
    plain = "".join(_SPECIAL.get(ch, ch) for ch in text.replace("yhat", "ŷ"))
    return rf"\texorpdfstring{{{typeset}}}{{{plain}}}"


def linked(label: str, text: str) -> str:
    """text as a link to label when the document has hyperref and the label (after a first
    pdflatex pass), else text as it is: never '??'."""
    link = rf"\ifdefined\hyperref\hyperref[{label}]{{{text}}}\else {text}\fi"
    return rf"\ifcsname r@{label}\endcsname{link}\else {text}\fi{{}}"


def note_tex(note: str, labels: str | None = None, steps: int = 0) -> str:
    """A note in LaTeX text mode, its backticked mathematics typeset as math, and so are the
    sub- and superscripted names in its words (x_0, δ^L_j, e^(−z)); with labels, the equations
    it names by number ("by (23)", 1 to steps) link to them (eq:<labels>:23)."""
    from symnn.render.notes import math_tex, pieces

    def text(t: str) -> str:
        out = latex_text(t)
        if labels:
            out = _EQUATION.sub(
                lambda m: (
                    linked(f"eq:{labels}:{m.group(1)}", m.group()) if 1 <= int(m.group(1)) <= steps else m.group()
                ),
                out,
            )
        return out

    return "".join(rf"\({math_tex(t)}\)" if is_math else text_with_math(t, text) for is_math, t in pieces(note))


def render_body(d, labels: str | None = None) -> str:
    """The derivation as LaTeX, without a preamble: sections and align* blocks. With labels
    (unique in the document), each equation is \\label{eq:<labels>:<n>} and the notes that name
    an equation by its number link to it."""
    out = []
    steps = sum(1 for step in d.steps if not step.is_heading)
    if d.intro:
        out.append(text_with_math(d.intro) + "\n")
    number = 0
    ordinary = getattr(d, "ordinary", False)
    for section, rows in _steps_by_section(d):
        if section:
            out.append(r"\paragraph{" + text_with_math(section) + "}")
        if not rows:
            continue
        block = [(step.lhs, step.rhs, _justification(step, labels, steps)) for step in rows]
        out.append(align_block(block, number + 1, ordinary, labels))
        number += len(rows)
    out.append(_verification_note(d))
    if d.references:
        refs = "; ".join(reference_tex(r) for r in d.references)
        out.append(r"{\raggedright\paragraph{Further reading} " + refs + r".\par}")  # long web addresses
    return "\n".join(out) + "\n"


# ---- laying out a block of steps on the page ------------------------------------------------

TEXT_WIDTH = 44.7  # em: the book's text width (letter paper, 2.2 cm margins, 11 pt); a standalone page is wider
LINE = 40.0  # em an equation's line may fill: the width estimate (texwidth) is within about 10 %
TAG_WIDTH = 2.6  # em an equation number "(99)" takes at the right margin, kept free on a step's first line
STACK = 15.0  # em: a left side wider than this is written on its own line, with "= ..." below it
LINE_GLYPHS = 60  # kept for callers of glyphs(); the layout measures in em (texwidth.width)


def glyphs(t: str) -> int:
    """About how many characters wide a LaTeX formula prints (a command is one glyph, braces none)."""
    t = re.sub(r"\\(left|right|bigl|bigr|quad|qquad)\b|\\[,;!]", "", t)
    t = re.sub(r"\\operatorname\{([^}]*)\}", r"\1", t)
    t = re.sub(r"\\[a-zA-Z]+", "x", t)
    return len(re.sub(r"[\s{}]", "", t))


def align_block(steps, first_number: int = 1, ordinary: bool = False, labels: str | None = None) -> str:
    r"""An align* block of steps (lhs, rhs, justification in LaTeX text mode), numbered from
    first_number, laid out to fit the page: a step repeating the left side above it writes only
    "= rhs"; a wide left side goes on its own line with "= rhs" under it; a wide right side is
    broken after its terms or factors, inside brackets, functions, sums and cases; each
    justification is set below its step, across the page (as \intertext would)."""
    from symnn.render.texwidth import width

    printer = LatexPrinter({"mul_symbol": None, "ordinary": ordinary})
    lefts: list[str | None] = []
    previous = None
    for lhs, _, _ in steps:
        lefts.append(None if previous is not None and lhs == previous else printer.doprint(lhs))
        previous = lhs
    widths = [width(t) for t in lefts if t is not None]
    col1 = max((w for w in widths if w <= STACK), default=0.0)
    room = LINE - col1  # for everything right of the alignment point
    rows: list[str] = []
    widest = 0.0
    for n, ((lhs, rhs, note), left) in enumerate(zip(steps, lefts)):
        tag = rf" \tag{{{first_number + n}}}" + (rf"\label{{eq:{labels}:{first_number + n}}}" if labels else "")
        if left is not None and width(left) > STACK:  # stacked: the left side, then "= rhs" below
            lines = break_lines(lhs, printer, room - TAG_WIDTH, room - 1.0)
            rows.append(rf"& {lines[0]}{tag} \\")
            rows += [rf"&\quad {ln} \\" for ln in lines[1:]]
            rhs_lines = break_lines(rhs, printer, room - 1.0 - 1.4, room - 2.0, lead="= ")
            rows.append(rf"&\quad {rhs_lines[0]} \\")
            rows += [rf"&\qquad {ln} \\" for ln in rhs_lines[1:]]
            widest = max([widest, *(width(ln) + 1 for ln in lines), *(width(ln) + 2 for ln in rhs_lines)])
        else:
            lines = break_lines(rhs, printer, room - 1.4 - TAG_WIDTH, room - 1.0 - 1.4)
            rows.append(rf"{left + ' ' if left else ''}&= {lines[0]}{tag} \\")
            rows += [rf"&\quad {ln} \\" for ln in lines[1:]]
            widest = max([widest, *(width(ln) + 2.4 for ln in lines)])
        rows.append(_NOTE_ROW % note)
    total = col1 + widest
    indent = max(1.0, min(0.3 * TEXT_WIDTH, (TEXT_WIDTH - total) / 2 + col1 + 1.0))
    rows = [r.replace("@INDENT@", f"{indent:.1f}") for r in rows]
    return "\\begin{align*}\n" + "\n".join(rows) + "\n\\end{align*}"


# a justification under its step, between the rows as \intertext sets it (amsmath) but closer:
# across the page, indented to about the step's "=", never parted from its step by a page break
# (\endgraf, not \par: align* reads its body as one argument)
_NOTE_ROW = (
    r"\noalign{\nobreak\vskip 1pt\vbox{\normalbaselines\footnotesize\raggedright"
    r"\leftskip=@INDENT@em\relax\noindent %s\endgraf}\vskip 3pt}"
)


def equation_rows(lhs: sp.Expr, rhs: sp.Expr, number: int = 1, ordinary: bool = False) -> list[str]:
    """The aligned rows of `lhs = rhs` on their own, as the book breaks them when too wide for the
    page (after its terms or factors, inside its brackets, a wide left side on its own line), for
    other formats (slides, the web book): without the equation number, which only the book's
    align* sets (align_block)."""
    block = align_block([(lhs, rhs, "")], number, ordinary)
    rows = [r for r in block.split("\n")[1:-1] if not r.startswith(r"\noalign")]
    return [re.sub(r" \\tag\{\d+\}(\\label\{[^}]*\})?", "", r) for r in rows]


@dataclass
class _Item:
    """A piece of a line: `pre body post`, where a line may end before it (brk), written after
    `lead` when it starts a line (\\cdot for a factor); expr: what body prints, to break it
    further when it alone is too wide; wrap: the brackets body has, which become \\Bigl( ... \\Bigr)
    around the pieces when it is broken."""

    body: str
    expr: sp.Basic | None = None
    brk: bool = False
    lead: str = ""
    pre: str = ""
    post: str = ""
    wrap: tuple[str, str] = ("", "")

    @property
    def tex(self) -> str:
        return self.pre + self.body + self.post


def break_lines(
    expr, printer: LatexPrinter, first: float, rest: float, lead: str = "", style: str = "display"
) -> list[str]:
    """expr's LaTeX as lines that fit `first` em (the first line) and `rest` em (the others)."""
    from symnn.render import texwidth

    def width(t: str) -> float:
        return texwidth.width(t, style)

    queue = [_Item(printer._print(expr), expr, pre=lead)]
    lines: list[list[str]] = [[]]
    used, budget = 0.0, first
    while queue:
        it = queue.pop(0)
        starts = not lines[-1]
        w = width(((it.lead if starts and len(lines) > 1 else "") + it.tex).strip())
        if used + w <= budget + 1e-9:
            lines[-1].append((it.lead if starts and len(lines) > 1 else "") + it.tex)
            used += w
            continue
        if it.brk and not starts:  # a new line, where it may fit whole
            lines.append([])
            used, budget = 0.0, rest
            queue.insert(0, it)
            continue
        room = budget - used - width(it.pre + it.post + (it.lead if starts and len(lines) > 1 else ""))
        parts = _expand(it, printer, room)
        if parts:
            queue[:0] = parts
            continue
        lines[-1].append((it.lead if starts and len(lines) > 1 else "") + it.tex)  # as narrow as it gets
        used += w
    return [" ".join(p.strip() for p in ln if p.strip()) for ln in lines if ln]


_HOLE = sp.Symbol("SYMNNHOLE")
_TAKES_ARGUMENT = re.compile(r"(\^|_|\\(sqrt|frac|dfrac|tfrac|hat|bar|tilde|vec|dot|ddot|mathrm|mathbf|"
                             r"operatorname|text|overline|underline|mathit|boldsymbol|binom))\s*$")  # fmt: skip


def _expand(it: _Item, printer: LatexPrinter, room: float) -> list[_Item] | None:
    """The pieces of an item too wide for its line, or None when it cannot be broken."""
    expr = it.expr
    if expr is None:
        return None
    if isinstance(expr, sp.Piecewise):
        body = _cases(expr, printer, room)
        return None if body == it.body else [replace(it, body=body, expr=None)]
    parts = _pieces_of(expr, printer)
    if not parts:
        return None
    open_, close = it.wrap
    first, last = parts[0], parts[-1]
    parts[0] = replace(first, pre=it.pre + open_ + first.pre, brk=it.brk, lead=it.lead)
    last = parts[-1]
    parts[-1] = replace(last, post=last.post + close + it.post)
    return parts


def _bracketed(printer: LatexPrinter, expr, level) -> _Item:
    """A factor or base as printed, with the brackets it needs (to become \\Bigl( \\Bigr) when broken)."""
    body = printer.parenthesize(expr, level, strict=False)
    wrap = (r"\Bigl(", r"\Bigr)") if body.startswith(r"\left(") and body.endswith(r"\right)") else ("", "")
    return _Item(body, expr, wrap=wrap)


def _pieces_of(expr, printer: LatexPrinter) -> list[_Item] | None:
    """expr as a row of items a line may break between (or inside, further down)."""
    if isinstance(expr, sp.Add):
        out = []
        for n, term in enumerate(printer._as_ordered_terms(expr)):
            negative = term.could_extract_minus_sign()
            t = -term if negative else term
            sign = ("- " if negative else "") if n == 0 else ("- " if negative else "+ ")
            out.append(_Item(printer._print(t), t, brk=n > 0, pre=sign))
        return out
    if isinstance(expr, sp.Mul):
        c, _ = expr.as_coeff_Mul()
        positive = -expr if c < 0 else expr
        num, den = sp.fraction(positive)
        sign = "- " if c < 0 else ""
        if den != 1:
            head = _Item(rf"\frac{{1}}{{{printer._print(den)}}}", None, pre=sign)
            if num == 1:
                return None
            rest = (
                _pieces_of(num, printer) if isinstance(num, sp.Mul) else [_bracketed(printer, num, PRECEDENCE["Mul"])]
            )
            if not rest:
                return None
            rest[0] = replace(rest[0], brk=False, lead="")
            return [head, *rest]
        ordered = function_first(positive) if positive.is_Mul else None
        coeff, body = positive.as_coeff_Mul()
        factors = list((ordered or positive).args) if ordered is not None else [
            *([coeff] if coeff != 1 else []), *body.as_ordered_factors()]  # fmt: skip
        if len(factors) < 2:
            return None
        out = [replace(_bracketed(printer, f, PRECEDENCE["Mul"]), brk=n > 0, lead=r"\cdot " if n else "")
               for n, f in enumerate(factors)]  # fmt: skip
        out[0] = replace(out[0], pre=sign)
        return out
    if isinstance(expr, sp.Sum):
        mark = sp.Symbol("symnnsumbody")  # Σ_{r=1}^{8}, then the body's pieces (the sum spans them all)
        prefix = printer._print(sp.Sum(mark, *expr.limits)).replace(printer._print(mark), "").strip() + " "
        body = expr.function
        parts = _pieces_of(body, printer) if isinstance(body, (sp.Add, sp.Mul)) else None
        if not parts:
            return [_Item(printer._print(body), body, pre=prefix)]
        parts[0] = replace(parts[0], pre=prefix + r"\Bigl[ " + parts[0].pre)
        parts[-1] = replace(parts[-1], post=parts[-1].post + r" \Bigr]")
        return parts
    if isinstance(expr, sp.Pow) and expr.exp.is_number and expr.exp > 0 and not expr.base.is_Function:
        base = _bracketed(printer, expr.base, PRECEDENCE["Pow"])
        if base.wrap == ("", ""):
            return None
        parts = _pieces_of(expr.base, printer)
        if not parts:
            return None
        parts[0] = replace(parts[0], pre=r"\Bigl(" + parts[0].pre)
        parts[-1] = replace(parts[-1], post=parts[-1].post + rf"\Bigr)^{{{printer._print(expr.exp)}}}")
        return parts
    if isinstance(expr, sp.exp):
        return [_Item(printer._print(expr.args[0]), expr.args[0], pre=r"\exp\Bigl(", post=r"\Bigr)")]
    if isinstance(expr, sp.Derivative):
        inner = expr.expr
        if isinstance(inner, (sp.Symbol, sp.Indexed)):
            return None
        d = r"\partial" if not printer._settings.get("ordinary") else "d"
        n = sum(c for _, c in expr.variable_count)
        den = " ".join(rf"{d} {printer._print(v)}" + (f"^{{{c}}}" if c > 1 else "") for v, c in expr.variable_count)
        top = d + (f"^{{{n}}}" if n > 1 else "")
        return [_Item(printer._print(inner), inner, pre=rf"\frac{{{top}}}{{{den}}}\Bigl(", post=r"\Bigr)")]
    if isinstance(expr, (sp.Function, sp.Pow)) and expr.args:
        return _hole(expr, printer)
    return None


def _hole(expr, printer: LatexPrinter) -> list[_Item] | None:
    """f(arg) broken inside its brackets: `\\tanh\\Bigl(` arg's pieces `\\Bigr)`, found by printing
    expr with its widest argument replaced by a placeholder."""
    from symnn.render.texwidth import width

    args = [a for a in expr.args if isinstance(a, sp.Basic)]
    if not args:
        return None
    if isinstance(expr, sp.Function) and len(args) > 1:  # max(a, b, c): break between the arguments
        holes = [sp.Symbol(f"SYMNNHOLE{n}") for n in range(len(args))]
        try:
            s = printer._print(expr.func(*holes, evaluate=False))
        except (TypeError, ValueError):
            s = ""
        marks = [printer._print(h) for h in holes]
        if all(s.count(m) == 1 for m in marks) and re.fullmatch(
            ".*" + r",\s*".join(re.escape(m) for m in marks) + ".*", s, re.DOTALL
        ):
            head, tail = s.split(marks[0])[0], s.split(marks[-1])[1]
            head, tail = _open_up(head, tail)
            if head is not None:
                out = [_Item(printer._print(a), a, brk=n > 0, pre=", " if n else "") for n, a in enumerate(args)]
                out[0] = replace(out[0], pre=head)
                out[-1] = replace(out[-1], post=tail)
                return out
    widest = max(args, key=lambda a: width(printer._print(a)))
    if isinstance(expr, sp.Pow) and expr.base.is_Function and len(expr.base.args) == 1:
        widest = expr.base.args[0]  # tanh^2(u): break inside the function's brackets
    try:
        s = printer._print(expr.xreplace({widest: _HOLE}))
    except (TypeError, ValueError):
        return None
    mark = printer._print(_HOLE)
    if s.count(mark) != 1:
        return None
    head, tail = _open_up(*s.split(mark))
    if head is None:
        return None
    return [_Item(printer._print(widest), widest, pre=head, post=tail)]


def _open_up(head: str, tail: str) -> tuple[str | None, str]:
    """The text around a hole, its \\left ... \\right made \\Bigl ... \\Bigr (which may stand on
    different lines) and the braces around it dropped; None when the hole sits in an argument
    (e^{...}, \\sqrt{...}), which cannot be split."""
    opened = [m for m in re.finditer(r"\\left\b|\\right\b|\{|\}", head)]
    stack: list[re.Match] = []
    for m in opened:
        if m.group() in (r"\left", "{"):
            stack.append(m)
        elif stack:
            stack.pop()
    drop, lefts = set(), []
    for m in stack:
        if m.group() == "{":
            if _TAKES_ARGUMENT.search(head[: m.start()]):
                return None, tail
            drop.add(m.start())
        else:
            lefts.append(m.start())
    if not lefts:
        return None, tail
    new_head = "".join(
        ch if i not in drop else "" for i, ch in enumerate(head)
    )  # fmt: skip
    for pos in sorted(lefts, reverse=True):
        shift = sum(1 for d in drop if d < pos)
        new_head = new_head[: pos - shift] + r"\Bigl" + new_head[pos - shift + 5 :]
    # the tail's unmatched closers, from its start
    closers, depth = [], 0
    for m in re.finditer(r"\\left\b|\\right\b|\{|\}", tail):
        if m.group() in (r"\left", "{"):
            depth += 1
        elif depth:
            depth -= 1
        else:
            closers.append(m)
    out, pos = [], 0
    for m in closers:
        out.append(tail[pos : m.start()])
        out.append(r"\Bigr" if m.group() == r"\right" else "")
        pos = m.end()
    out.append(tail[pos:])
    return new_head, "".join(out)


def _cases(expr: sp.Piecewise, printer: LatexPrinter, room: float) -> str:
    """A Piecewise as `cases` that fits `room` em: long conditions (a ∧ b ∧ ...) on several rows,
    a long branch broken into lines of its own (cases sets its cells in text style)."""
    from symnn.render.texwidth import width

    def text_width(t: str) -> float:
        return width(t, style="text")

    branches: list[tuple[sp.Expr, list[str], list[str] | None]] = []
    for e, c in expr.args:
        if c is sp.true:
            branches.append((e, [r"\text{otherwise}"], None))
        else:
            parts = [printer._print(a) for a in (c.args if isinstance(c, sp.And) else [c])]
            branches.append((e, [r"\text{for}\: " + r" \wedge ".join(parts)], parts))
    widest = max(text_width(printer._print(e)) for e, _, _ in branches)
    cond_room = max(room - 1.9 - widest, 0.45 * room)
    packed = [
        (e, _pack(parts, r" \wedge ", cond_room, r"\text{for}\: ", text_width)
         if parts and len(parts) > 1 and text_width(conds[0]) > cond_room else conds)
        for e, conds, parts in branches
    ]  # fmt: skip
    cond_width = max(text_width(c) for _, conds in packed for c in conds)
    expr_room = max(room - 1.9 - cond_width, 0.4 * room)
    rows = []
    for e, conds in packed:
        lines = break_lines(e, printer, expr_room, expr_room - 1.0, style="text")
        lines = [lines[0], *(r"\quad " + ln for ln in lines[1:])]
        for n in range(max(len(lines), len(conds))):
            rows.append((lines[n] if n < len(lines) else "") + " & " + (conds[n] if n < len(conds) else ""))
    return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _pack(parts: list[str], sep: str, room: float, first: str, measure) -> list[str]:
    """Conditions joined by sep, as rows of at most room em (the first row starts with first,
    the others with \\quad and the separator)."""
    rows = [first + parts[0]]
    for p in parts[1:]:
        if measure(rows[-1] + sep + p) <= room:
            rows[-1] += sep + p
        else:
            rows.append(r"\quad" + sep.rstrip() + " " + p)
    return rows


def reference_tex(text: str) -> str:
    """A reference in text mode, its web addresses set with \\url (which breaks them at / and .)."""
    parts = re.split(r"(https?://\S+?)(?=[.,;]?(?:\s|$))", text)
    return "".join(rf"\url{{{p}}}" if n % 2 else latex_text(p) for n, p in enumerate(parts))


def _verification_note(d) -> str:
    from symnn.render.text import verification_summary

    return r"\noindent\textit{" + latex_text(verification_summary(d)) + "}\n"


PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=2cm]{geometry}
\usepackage{url}
\allowdisplaybreaks
"""


def render(d, standalone: bool = False) -> str:
    body = rf"\section*{{{text_with_math(d.title)}}}" + "\n" + render_body(d)
    if not standalone:
        return f"% {TAG}\n" + body
    return f"% {TAG}\n" + PREAMBLE + "\\begin{document}\n" + body + "\\end{document}\n"


def math_inline(expr) -> str:
    return "$" + tex(expr) + "$"


def strip_tag(s: str) -> str:
    return re.sub(rf"^% {TAG}\n", "", s)
