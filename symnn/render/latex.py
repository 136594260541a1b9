"""LaTeX: an `align*` block per section, each step's equation (broken to fit the page) with its
justification below it. `standalone=True` wraps it in a document that compiles with pdflatex."""

from __future__ import annotations

import re

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
    from symnn.render import layout  # it prints with this module's printer

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
        out.append(layout.align_block(block, number + 1, ordinary, labels))
        number += len(rows)
    out.append(_verification_note(d))
    if d.references:
        refs = "; ".join(reference_tex(r) for r in d.references)
        out.append(r"{\raggedright\paragraph{Further reading} " + refs + r".\par}")  # long web addresses
    return "\n".join(out) + "\n"


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
