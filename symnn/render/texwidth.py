"""How wide a LaTeX formula prints, estimated without TeX: the width in em of the math that
SymPy's and symnn's LaTeX printers write (Computer Modern / Latin Modern metrics, display style).

The estimate reads the formula as TeX would at the level that decides its width: a fraction is as
wide as its wider part, a sub- or superscript is set at 70 % (50 % inside another), `cases` is its
widest row plus the brace, a binary operator or a relation brings TeX's spaces. It is calibrated
against pdflatex's own measure of the book's formulas (tests/render/test_latex.py checks a sample),
within about 5 %; the line breaker leaves a margin for the rest.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[{}^_&]|\s+|.", re.DOTALL)

# glyph widths in em (cmmi10 for italic letters, cmr10 for digits and upright text)
_ITALIC = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz",
        [0.53, 0.43, 0.43, 0.52, 0.47, 0.49, 0.48, 0.58, 0.35, 0.41, 0.52, 0.30, 0.88, 0.60, 0.49, 0.50,
         0.45, 0.45, 0.47, 0.36, 0.57, 0.49, 0.72, 0.57, 0.49, 0.47],
    )
)  # fmt: skip
_ITALIC.update(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [0.75, 0.76, 0.72, 0.83, 0.74, 0.64, 0.79, 0.83, 0.44, 0.56, 0.84, 0.68, 0.97, 0.80, 0.76, 0.64,
         0.79, 0.76, 0.61, 0.58, 0.68, 0.58, 0.94, 0.83, 0.58, 0.68],
    )
)  # fmt: skip
_ROMAN_AVG = 0.50  # upright text: lowercase average in cmr10
_BIN_SPACE = 0.444  # \medmuskip on both sides of a binary operator (4 mu each)
_REL_SPACE = 0.556  # \thickmuskip on both sides of a relation (5 mu each)
_THIN = 0.167

_BINARY = {r"\bmod": 1.6, "+": 0.78, "-": 0.78, "*": 0.5, r"\cdot": 0.28, r"\times": 0.78, r"\odot": 0.78, r"\pm": 0.78,
           r"\mp": 0.78, r"\star": 0.5, r"\circ": 0.5, r"\wedge": 0.67, r"\vee": 0.67, r"\cap": 0.67,
           r"\cup": 0.67, r"\setminus": 0.5, r"\ast": 0.5, r"\bullet": 0.5, r"\oplus": 0.78,
           r"\otimes": 0.78, r"\land": 0.67, r"\lor": 0.67}  # fmt: skip
_RELATION = {"=": 0.78, "<": 0.78, ">": 0.78, r"\leq": 0.78, r"\geq": 0.78, r"\le": 0.78, r"\ge": 0.78,
             r"\neq": 0.78, r"\ne": 0.78, r"\approx": 0.78, r"\equiv": 0.78, r"\to": 1.0,
             r"\rightarrow": 1.0, r"\leftarrow": 1.0, r"\Rightarrow": 1.0, r"\mapsto": 1.0, r"\in": 0.67,
             r"\notin": 0.67, r"\sim": 0.78, r"\propto": 0.78, r"\ll": 1.0, r"\gg": 1.0,
             r"\subset": 0.78, r"\subseteq": 0.78, r"\leftrightarrow": 1.0, r"\coloneqq": 1.1,
             ":": 0.28}  # fmt: skip
_SPACES = {r"\quad": 1.0, r"\qquad": 2.0, r"\,": _THIN, r"\:": 0.222, r"\;": 0.278, r"\!": -_THIN,
           r"\ ": 0.333, "~": 0.333, r"\enspace": 0.5, r"\medspace": 0.222, r"\thinspace": _THIN}  # fmt: skip
_OPERATORS = {"sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "coth", "arcsin",
              "arccos", "arctan", "log", "ln", "exp", "max", "min", "sup", "inf", "lim", "det", "arg",
              "deg", "dim", "gcd", "hom", "ker", "Pr", "liminf", "limsup", "sgn"}  # fmt: skip
_WIDE_SYMBOLS = {r"\infty": 1.0, r"\partial": 0.57, r"\nabla": 0.83, r"\ell": 0.42, r"\ldots": 1.17,
                 r"\cdots": 1.17, r"\dots": 1.17, r"\vdots": 0.28, r"\ddots": 1.17, r"\prime": 0.28,
                 r"\emptyset": 0.5, r"\forall": 0.56, r"\exists": 0.56, r"\neg": 0.67, r"\hbar": 0.52,
                 r"\imath": 0.35, r"\jmath": 0.41, r"\top": 0.78, r"\bot": 0.78, r"\angle": 0.72,
                 r"\mid": 0.28 + 2 * 0.278}  # fmt: skip
_DELIMS = {"(": 0.39, ")": 0.39, "[": 0.28, "]": 0.28, r"\{": 0.5, r"\}": 0.5, r"\lbrace": 0.5,
           r"\rbrace": 0.5, "|": 0.28, r"\|": 0.5, r"\vert": 0.28, r"\Vert": 0.5, r"\lfloor": 0.44,
           r"\rfloor": 0.44, r"\lceil": 0.44, r"\rceil": 0.44, r"\langle": 0.39, r"\rangle": 0.39,
           ".": 0.1, "/": 0.5, r"\lbrack": 0.28, r"\rbrack": 0.28}  # fmt: skip
_ARG_ONLY = {r"\mathrm", r"\mathit", r"\mathbf", r"\mathsf", r"\mathtt", r"\mathcal", r"\mathbb",
             r"\mathfrak", r"\boldsymbol", r"\bm", r"\hat", r"\bar", r"\tilde", r"\vec", r"\dot",
             r"\ddot", r"\breve", r"\check", r"\acute", r"\grave", r"\widehat", r"\widetilde",
             r"\overline", r"\underline", r"\mathring", r"\ensuremath", r"\displaystyle",
             r"\overrightarrow", r"\mathop", r"\mathbin", r"\mathrel", r"\mathord", r"\mathopen",
             r"\mathclose", r"\mathpunct", r"\mathinner"}  # fmt: skip
_TEXT = {r"\text", r"\textrm", r"\textit", r"\textbf", r"\mbox", r"\textsf", r"\texttt", r"\hbox"}
_IGNORED = {r"\left", r"\right", r"\limits", r"\nolimits", r"\displaystyle", r"\textstyle",
            r"\scriptstyle", r"\scriptscriptstyle", r"\middle", r"\nonumber", r"\notag", r"\relax",
            r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl",
            r"\biggr", r"\Biggl", r"\Biggr", r"\bigm", r"\Bigm"}  # fmt: skip
_SIZED = {r"\big": 0.1, r"\Big": 0.15, r"\bigg": 0.2, r"\Bigg": 0.25}
_LARGE_OPS = {r"\sum": (1.44, 1.05), r"\prod": (1.28, 0.94), r"\int": (0.56, 0.42),
              r"\bigcup": (1.11, 0.83), r"\bigcap": (1.11, 0.83), r"\coprod": (1.28, 0.94),
              r"\oint": (0.56, 0.42), r"\bigoplus": (1.44, 1.05), r"\bigotimes": (1.44, 1.05)}  # fmt: skip
_SCALE = (1.0, 1.0, 0.78, 0.66)  # display, text, script, scriptscript (8 pt and 6 pt at 11 pt, in fonts drawn wider)


class _Reader:
    def __init__(self, tex: str):
        self.toks = [t for t in _TOKEN.findall(tex)]
        self.i = 0

    def peek(self, skip_space: bool = True) -> str | None:
        j = self.i
        while skip_space and j < len(self.toks) and self.toks[j].isspace():
            j += 1
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> str | None:
        while self.i < len(self.toks) and self.toks[self.i].isspace():
            self.i += 1
        if self.i >= len(self.toks):
            return None
        self.i += 1
        return self.toks[self.i - 1]

    def group(self) -> list[str]:
        """The tokens of the next argument: a {...} group, or one token."""
        t = self.next()
        if t != "{":
            return [t] if t is not None else []
        depth, out = 1, list[str]()
        while self.i < len(self.toks):
            t = self.toks[self.i]
            self.i += 1
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return out
            out.append(t)
        return out

    def optional(self) -> None:
        if self.peek() == "[":
            depth = 0
            while (t := self.next()) is not None:
                depth += t == "["
                depth -= t == "]"
                if depth == 0:
                    return

    def until_end(self, env: str) -> list[str]:
        """The tokens up to the \\end that closes this environment (nested ones kept whole)."""
        out, depth = list[str](), 0
        while self.i < len(self.toks):
            t = self.toks[self.i]
            self.i += 1
            if t == r"\end" and depth == 0:
                self.group()
                return out
            depth += (t == r"\begin") - (t == r"\end")
            out.append(t)
        return out


def _split_rows(toks: list[str]) -> list[list[list[str]]]:
    """The rows (\\\\) and cells (&) of an environment's body, at its own depth."""
    rows: list[list[list[str]]] = [[[]]]
    depth = 0
    for t in toks:
        depth += (t in ("{", r"\begin")) - (t in ("}", r"\end"))
        if depth == 0 and t == r"\\":
            rows.append([[]])
        elif depth == 0 and t == "&":
            rows[-1].append([])
        else:
            rows[-1][-1].append(t)
    return [r for r in rows if any(c for c in r)]


def _text_width(toks: list[str]) -> float:
    w = 0.0
    r = _Reader("")
    r.toks, r.i = toks, 0
    while (t := r.next()) is not None:
        if t == r"\ensuremath" or t in (r"\(",):
            w += _Measure(r.group(), 1).width()
        elif t == "$":
            inner = []
            while (u := r.next()) not in (None, "$"):
                inner.append(u)
            w += _Measure(inner, 1).width()
        elif t in _SPACES:
            w += _SPACES[t]
        elif t.startswith("\\"):
            w += 0.5 if len(t) == 2 else 0.0
        elif t in "{}":
            continue
        elif t.isupper():
            w += 0.72
        elif t in "il.,;:'!|()[]":
            w += 0.28
        elif t in "mw":
            w += 0.8
        else:
            w += _ROMAN_AVG
    # spaces between words
    spaces = sum(1 for x in toks if x.isspace())
    return w + 0.333 * spaces


class _Measure:
    """One math list at one style: its width in em, read atom by atom."""

    def __init__(self, toks: list[str], style: int):
        self.r = _Reader("")
        self.r.toks, self.r.i = list(toks), 0
        self.style = style
        self.scale = _SCALE[style]
        self.tight = style >= 2  # no operator spaces in script styles
        self.prev = "start"  # the previous atom's class: start, ord, op, bin, rel, open, close, punct
        self.tall: list[bool] = []  # for each open \\left: does it hold a fraction, a big operator, rows?

    def _tall_ahead(self) -> bool:
        depth, toks = 0, self.r.toks
        for t in toks[self.r.i :]:
            if t == r"\left":
                depth += 1
            elif t == r"\right":
                if depth == 0:
                    return False
                depth -= 1
            elif t in (r"\frac", r"\dfrac", r"\sum", r"\prod", r"\begin", r"\substack", r"\int"):
                return True
        return False

    def sub(self, toks: list[str], style: int) -> float:
        return _Measure(toks, style).width() / self.scale  # in this list's units

    def _script_style(self) -> int:
        return min(3, max(2, self.style + 1 if self.style >= 2 else 2))

    def width(self) -> float:
        total = 0.0
        r = self.r
        while (t := r.next()) is not None:
            total += self.atom(t)
        if self.prev == "bin" and not self.tight:
            total -= _BIN_SPACE  # a trailing operator is ordinary
        return total * self.scale

    def _spaced(self, kind: str, glyph: float) -> float:
        """A binary operator or relation, with TeX's spaces (a binary operator after nothing, an
        opening bracket or a relation is unary: no spaces)."""
        if kind == "bin" and self.prev in ("start", "open", "op", "bin", "rel", "punct"):
            self.prev = "ord"
            return glyph
        if self.prev == "bin":
            glyph -= _BIN_SPACE / 2
        self.prev = kind
        if self.tight:
            return glyph
        return glyph + (_BIN_SPACE if kind == "bin" else _REL_SPACE)

    def _scripts(self) -> float:
        """Sub- and superscripts following an atom (the wider one counts)."""
        sup = sub = 0.0
        while self.r.peek() in ("^", "_"):
            which = self.r.next()
            arg = self.r.group()
            if arg == ["\\prime"] or arg == ["'"]:
                w = 0.28 * 0.7
            else:
                w = self.sub(arg, self._script_style())
            if which == "^":
                sup = max(sup, w)
            else:
                sub = max(sub, w)
        while self.r.peek(skip_space=False) == "'":
            self.r.next()
            sup += 0.28 * 0.7
        return max(sup, sub) + (0.05 if sup or sub else 0.0)

    def atom(self, t: str) -> float:
        r = self.r
        if t.isspace() or t == "&":
            return 0.0
        if t == "{":
            r.i -= 1
            inner = r.group()
            w = self.sub(inner, self.style)
            self.prev = "ord"
            return w + self._scripts()
        if t in ("^", "_"):
            r.i -= 1
            return self._scripts()
        if t in _SPACES:
            return 0.0 if self.tight and t in (r"\,", r"\:", r"\;") else _SPACES[t]
        if t in _BINARY:
            return self._spaced("bin", _BINARY[t]) + self._scripts()
        if t in _RELATION:
            w = self._spaced("rel", _RELATION[t])
            if t == ":" and self.prev == "rel":
                pass
            return w
        if t in (",", ";"):
            self.prev = "punct"
            return 0.28 + (0 if self.tight else _THIN)
        if t == "'":
            return 0.2
        if t in (r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr",
                 r"\Biggl", r"\Biggr", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\middle", r"\bigm",
                 r"\Bigm"):  # fmt: skip
            d = r.next() or "."
            if t == r"\left":
                self.tall.append(self._tall_ahead())
            if t == r"\right":
                tall = self.tall.pop() if self.tall else False
            else:
                tall = self.tall[-1] if self.tall else False
            if d == "." and t in (r"\left", r"\right"):
                w = 0.1
            elif t in (r"\left", r"\right"):
                w = _DELIMS.get(d, 0.4) + (0.35 if tall else 0.12)
            else:
                w = _DELIMS.get(d, 0.4) + _SIZED.get(t.rstrip("lrm"), 0.1)
            closing = t.endswith("r") or t == r"\right"
            self.prev = "close" if closing else "open"
            return w + (self._scripts() if closing else 0.0)
        if t in _DELIMS:
            self.prev = "close" if t in (")", "]", r"\}", r"\rfloor", r"\rceil", r"\rangle") else "open"
            if t in ("|", r"\|", "/", ".", r"\vert", r"\Vert"):
                self.prev = "ord"
            return _DELIMS[t] + self._scripts()
        if t in (r"\frac", r"\dfrac", r"\tfrac", r"\binom", r"\cfrac"):
            num, den = r.group(), r.group()
            style = {r"\dfrac": 1, r"\tfrac": 2}.get(t, self.style + 1 if self.style < 2 else 3)
            if t == r"\tfrac" and self.style >= 2:
                style = 3
            self.prev = "ord"
            w = max(self.sub(num, style), self.sub(den, style)) + 0.24
            if t == r"\binom":
                w += 0.9
            return w + self._scripts()
        if t == r"\sqrt":
            r.optional()
            self.prev = "ord"
            return self.sub(r.group(), self.style) + 0.85 + self._scripts()
        if t in _LARGE_OPS:
            big, small = _LARGE_OPS[t]
            self.prev = "op"
            limits = self.style == 0 and t != r"\int"
            if r.peek() == r"\limits":
                r.next()
                limits = True
            if limits:
                w = big
                while r.peek() in ("^", "_"):
                    r.next()
                    w = max(w, self.sub(r.group(), 2))
                return w + (0 if self.tight else _THIN)
            return (big if self.style == 0 else small) + self._scripts() + (0 if self.tight else _THIN)
        if t == r"\operatorname" or t == r"\operatorname*":
            name = "".join(r.group())
            w = sum(0.72 if c.isupper() else 0.5 for c in name) + (0 if self.prev in ("start", "open") else _THIN)
            self.prev = "op"
            return w + self._scripts()
        if t.startswith("\\") and t[1:] in _OPERATORS:
            w = 0.5 * len(t[1:]) + (0 if self.prev in ("start", "open", "bin", "rel") or self.tight else _THIN)
            self.prev = "op"
            if self.style == 0 and t[1:] in ("max", "min", "lim", "sup", "inf") and r.peek() == "_":
                r.next()
                return max(w, self.sub(r.group(), 2))
            return w + self._scripts()
        if t in _TEXT:
            self.prev = "ord"
            return _text_width(r.group()) + self._scripts()
        if t == r"\substack":
            rows = _split_rows(r.group())
            return max((self.sub(sum(cells, []), self.style) for cells in rows), default=0.0)
        if t == r"\begin":
            env = "".join(r.group())
            if env in ("array", "tabular"):
                r.group()  # column spec
            body = r.until_end(env)
            return self.environment(env, body) + self._scripts()
        if t in _ARG_ONLY:
            if t in (r"\displaystyle",):
                return 0.0
            self.prev = "ord"
            return self.sub(r.group(), self.style) + self._scripts()
        if t in _IGNORED:
            return 0.0
        if t in _WIDE_SYMBOLS:
            self.prev = "ord"
            return _WIDE_SYMBOLS[t] + self._scripts()
        if t.startswith("\\"):
            self.prev = "ord"
            if len(t) == 2:  # \{ \% \# ...
                return 0.5 + self._scripts()
            return (0.62 if t[1].isupper() else 0.58) + self._scripts()  # a Greek letter or a symbol
        self.prev = "ord"
        if t.isdigit():
            return 0.5 + self._scripts()
        if t == ".":
            return 0.28 + self._scripts()
        if t == "!":
            self.prev = "close"
            return 0.28
        return _ITALIC.get(t, 0.6) + self._scripts()

    def environment(self, env: str, body: list[str]) -> float:
        rows = _split_rows(body)
        if not rows:
            return 0.0
        cell_style = 1 if env in ("cases", "array", "matrix", "pmatrix", "bmatrix", "smallmatrix") else self.style
        if env == "smallmatrix":
            cell_style = 2
        ncols = max(len(cells) for cells in rows)
        widths = [0.0] * ncols
        for cells in rows:
            for c, cell in enumerate(cells):
                if env == "cases" and c == 1:
                    w = _Measure(cell, 1).width()
                else:
                    w = self.sub(cell, cell_style)
                widths[c] = max(widths[c], w)
        self.prev = "ord"
        if env == "cases":
            return 0.9 + widths[0] + (1.0 + widths[1] if ncols > 1 else 0.0)
        gap = {"aligned": 0.0, "split": 0.0, "gathered": 0.0}.get(env, 0.9)
        delims = {"pmatrix": 0.8, "bmatrix": 0.6, "vmatrix": 0.6}.get(env, 0.0)
        return sum(widths) + gap * (ncols - 1) + delims


def width(tex: str, style: str = "display") -> float:
    """The printed width of a math formula, in em of the surrounding font (about 10.95 pt at
    11 pt): tex is what goes between $...$ (or in an align cell); style "display" or "text"."""
    return _Measure([t for t in _TOKEN.findall(tex)], 0 if style == "display" else 1).width()
