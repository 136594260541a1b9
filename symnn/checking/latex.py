"""A learner's LaTeX line -> the plain notation `symnn check` reads (never evaluated).

Only a small, documented part of LaTeX is read: \\frac, \\partial, \\hat, \\cdot, \\times,
\\left/\\right, \\sum_{i=1}^{n}, Greek letters, \\sigma'(z), subscripts and superscripts in
braces, \\exp, \\ln and the other named functions. Anything else is left for the parser to
refuse with its column."""

from __future__ import annotations

import re

from symnn.errors import InputError

_DROP = (r"\left", r"\right", r"\displaystyle", r"\quad", r"\qquad", r"\,", r"\;", r"\!", r"\:", "&", "\\ ")
_SYMBOLS = {r"\cdot": "*", r"\times": "*", r"\partial": "∂", r"\prime": "'", r"\sum": "Σ", r"\pi": "π", r"\infty": "oo"}
_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon eta theta lambda mu sigma phi varphi tau omega rho kappa xi zeta "
    "nu psi chi iota upsilon".split()
)
_NAMED = frozenset("exp ln log sin cos tan sinh cosh tanh max min arcsin arccos arctan sec csc cot sgn".split())
_BARE_OPERAND = re.compile(r"\s+(\\hat\{\w+\}(?:_\{[^{}]*\}|_\w)?|[A-Za-z](?:_\{[^{}]*\}|_\w)?)(?![\w{(])")
_WRAPPERS = ("mathrm", "operatorname", "text", "mathit", "mathbf", "boldsymbol", "textrm")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def brace_group(s: str, start: int) -> tuple[str, int]:
    """The text of the {...} group (or the single character) at s[start:], and the index after it."""
    while start < len(s) and s[start] == " ":
        start += 1
    if start >= len(s):
        raise InputError("a LaTeX command is missing its argument at the end of the line")
    if s[start] != "{":
        m = _COMMAND.match(s, start)
        if m:
            return m.group(), m.end()
        return s[start], start + 1
    depth = 0
    for n in range(start, len(s)):
        if s[n] == "{":
            depth += 1
        elif s[n] == "}":
            depth -= 1
            if depth == 0:
                return s[start + 1 : n], n + 1
    raise InputError(f"a '{{' at column {start + 1} is never closed; add the missing '}}'")


def _fraction(num: str, den: str) -> str:
    """\\frac{∂C}{∂w_1} -> ∂C/∂w_1 (a derivative), \\frac{∂}{∂w} -> the operator ∂/∂w, else (a)/(b)."""
    n, d = to_plain(num).strip(), to_plain(den).strip()
    for mark in ("∂", "d"):
        if d.startswith(mark) and (n == mark or n.startswith(mark)):
            body = n[len(mark) :].strip()
            var = d[len(mark) :].strip()
            if body == "":
                return f" {mark}/{mark}{var} "
            if re.fullmatch(r"[^\W\d]\w*", body):
                return f" {mark}{body}/{mark}{var} "
            return f" {mark}({body})/{mark}{var} "
    return f"(({n})/({d}))"


def to_plain(s: str) -> str:
    """The plain-notation reading of one LaTeX expression."""
    s = strip_drops(s)
    out: list[str] = []
    n = 0
    while n < len(s):
        m = _COMMAND.match(s, n)
        if s.startswith("\\\\", n):
            out.append(" ")
            n += 2
            continue
        if not m:
            ch = s[n]
            if ch == "_" or ch == "^":
                group, after = brace_group(s, n + 1)
                if ch == "^" and re.fullmatch(r"\(\w+\)", group.strip()) and out and re.search(r"\w$", out[-1]):
                    out.append(group.strip()[1:-1])  # w^{(2)}: the layer's number joins the name
                elif ch == "_":
                    out.append("_" + "_".join(p.strip() for p in to_plain(group).split(",")).replace(" ", "") + " ")
                else:
                    inner = to_plain(group)
                    out.append("^" + (inner if re.fullmatch(r"\w+|'+", inner) else f"({inner})"))
                n = after
                continue
            out.append({"{": "(", "}": ")"}.get(ch, ch))
            n += 1
            continue
        cmd, n = m.group(), m.end()
        name = cmd[1:]
        if name == "sum" and s[n : n + 1] == "_":
            lo, n = brace_group(s, n + 1)
            if s[n : n + 1] != "^":
                raise InputError(r"a \sum needs its range, as in \sum_{i=1}^{n}")
            hi, n = brace_group(s, n + 1)
            out.append(f"Σ_{{{to_plain(lo).strip()}}}^{{{to_plain(hi).strip()}}} ")
        elif cmd in _SYMBOLS:
            out.append(_SYMBOLS[cmd])
        elif name == "frac" or name == "dfrac" or name == "tfrac":
            num, n = brace_group(s, n)
            den, n = brace_group(s, n)
            out.append(_fraction(num, den))
        elif name in ("hat", "widehat"):
            group, n = brace_group(s, n)
            out.append(to_plain(group).strip() + "hat ")  # \hat{y}(1 - \hat{y}) is a product
        elif name == "sqrt":
            group, n = brace_group(s, n)
            out.append(f"sqrt({to_plain(group)})")
        elif name in _WRAPPERS:
            group, n = brace_group(s, n)
            out.append(to_plain(group))
        elif name in _GREEK:
            out.append(name.removeprefix("var"))
        elif name in _NAMED:
            out.append(name)
            operand = _BARE_OPERAND.match(s, n)
            if operand:  # \ln s_1, \sin x: the function of the next symbol
                out.append(f"({to_plain(operand.group(1)).strip()})")
                n = operand.end()
        elif name in ("left", "right"):
            continue
        else:
            raise InputError(f"the LaTeX command {cmd} is not read by symnn check (column {m.start() + 1})")
    return "".join(out)


def strip_drops(s: str) -> str:
    for d in sorted(_DROP, key=len, reverse=True):
        if d.startswith("\\") and d[1:].isalpha():
            s = re.sub(re.escape(d) + r"(?![A-Za-z])", " ", s)
        else:
            s = s.replace(d, " ")
    return s
