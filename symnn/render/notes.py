"""Justification notes: plain words with mathematics between backticks, e.g.
"quotient rule: `(f/g)' = (f' g − f g')/g²`". Text drops the backticks; LaTeX and Markdown
typeset each backticked piece as mathematics (`note_tex`)."""

from __future__ import annotations

import re

_SYMBOLS = {
    "·": r" \cdot ",
    "−": "-",
    "²": "^{2}",
    "³": "^{3}",
    "≠": r" \neq ",
    "≤": r" \leq ",
    "≥": r" \geq ",
    "→": r" \to ",
    "⊙": r" \odot ",
    "Σ": r"\sum ",
    "∂": r"\partial ",
    "ŷ": r"\hat{y}",
    "σ": r"\sigma ",
    "φ": r"\varphi ",
    "δ": r"\delta ",
    "η": r"\eta ",
    "τ": r"\tau ",
    "π": r"\pi ",
    "α": r"\alpha ",
    "β": r"\beta ",
    "γ": r"\gamma ",
    "μ": r"\mu ",
    "θ": r"\theta ",
    "ρ": r"\rho ",
    "ω": r"\omega ",
    "κ": r"\kappa ",
    "ν": r"\nu ",
    "ξ": r"\xi ",
    "ζ": r"\zeta ",
    "ψ": r"\psi ",
    "χ": r"\chi ",
    "√": r"\surd ",
    "λ": r"\lambda ",
    "ε": r"\varepsilon ",
    "|·|": r"|\cdot|",
    "½": r"\tfrac{1}{2}",
    "⌊": r"\lfloor ",
    "⌋": r"\rfloor ",
    "⌈": r"\lceil ",
    "⌉": r"\rceil ",
    "∞": r"\infty ",
    "×": r" \times ",
    "…": r"\ldots ",
}
_FUNCTIONS = (
    "sqrt",
    "exp",
    "ln",
    "log",
    "sin",
    "cos",
    "tan",
    "sec",
    "csc",
    "cot",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "sech",
    "csch",
    "asin",
    "acos",
    "atan",
    "max",
    "min",
)
_OPERATOR = {
    "asin": r"\arcsin",
    "acos": r"\arccos",
    "atan": r"\arctan",
    "sech": r"\operatorname{sech}",
    "csch": r"\operatorname{csch}",
    "sign": r"\operatorname{sign}",
    **{
        f: rf"\operatorname{{{f}}}"
        for f in ("acot", "asec", "acsc", "asinh", "acosh", "atanh", "acoth", "asech", "acsch", "erf")
    },
}


_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def plain(note: str) -> str:
    """The note for a terminal: the backticks dropped."""
    return note.replace("`", "")


def pieces(note: str) -> list[tuple[bool, str]]:
    """[(is_math, text), ...]: the note split at its backticks."""
    return [(n % 2 == 1, part) for n, part in enumerate(note.split("`")) if part]


def math_tex(text: str) -> str:
    """The LaTeX of a piece of mathematics written the way symnn's text printer writes it."""
    out, i = [], 0
    while i < len(text):
        m = re.match(r"[A-Za-z]+", text[i:])
        if m:
            word = m.group()
            i += len(word)
            if word == "sqrt" and text[i : i + 1] == "(":
                inner, i = _group(text, i)
                out.append(r"\sqrt{" + math_tex(inner) + "}")
            elif word in _OPERATOR:
                out.append(_OPERATOR[word] + " ")
            elif word in _FUNCTIONS:
                out.append("\\" + word + " ")
            elif len(word) == 2 and word[0] == "d" and "/" in (text[i : i + 1], text[i - 3 : i - 2]):
                out.append(word)  # du/dx: a derivative's d and its variable, not a word in roman
            else:
                out.append(word if len(word) == 1 or "_" in word else rf"\mathrm{{{word}}}")
            continue
        ch = text[i]
        if ch in "^_" and text[i + 1 : i + 2] == "(":
            inner, i = _group(text, i + 1)
            out.append(ch + "{" + math_tex(inner) + "}")
            continue
        if ch == "_":
            m = re.match(r"_([A-Za-z0-9]+)", text[i:])
            if m:
                out.append("_{" + m.group(1) + "}")
                i += len(m.group())
                continue
        m = re.match("[₀₁₂₃₄₅₆₇₈₉]+", text[i:])
        if m:  # z₁₂ → z_{12}
            out.append("_{" + m.group().translate(_DIGITS) + "}")
            i += len(m.group())
            continue
        if text.startswith("|·|", i):
            out.append(_SYMBOLS["|·|"])
            i += 3
            continue
        out.append(_SYMBOLS.get(ch, ch))
        i += 1
    return "".join(out)


def _group(text: str, start: int) -> tuple[str, int]:
    """The text inside the parenthesis that opens at start, and the index after it closes."""
    depth = 0
    for j in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        if depth == 0:
            return text[start + 1 : j], j + 1
    return text[start + 1 :], len(text)
