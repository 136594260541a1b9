"""Laying out a derivation's steps on the page: each step's equation broken to fit the text width
(after top-level terms and factors; inside brackets, functions, sums and derivatives; inside
cases), its number at the right, its justification below it. render/texwidth.py estimates the
printed width of a formula; the book, the slides and the web book take their rows from here."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from symnn.render.latex import LatexPrinter
from symnn.render.text import function_first

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
