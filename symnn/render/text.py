"""Terminal text: Unicode symbols, one step per numbered line, its justification below,
wrapped for an 80-column terminal."""

from __future__ import annotations

import textwrap

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symnn.render.notes import plain

_GREEK = {
    "yhat": "ŷ",
    "eta": "η",
    "tau": "τ",
    "delta": "δ",
    "sigma": "σ",
    "phi": "φ",
    "alpha": "α",
    "epsilon": "ε",
    "lambda": "λ",
    "beta": "β",
    "gamma": "γ",
    "mu": "μ",
    "theta": "θ",
    "rho": "ρ",
    "omega": "ω",
    "kappa": "κ",
    "nu": "ν",
    "xi": "ξ",
    "zeta": "ζ",
    "psi": "ψ",
    "chi": "χ",
}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def positive_first(terms: list) -> list:
    """A sum starts with an added term, ŷ − y rather than −y + ŷ; otherwise SymPy's order
    (descending powers) stays: t³ − 8t² + 12, and −2x² + 2x + 1 (a polynomial in one variable
    keeps its descending powers even when the first is subtracted)."""
    if _descending(terms):
        return list(terms)
    first = next((n for n, t in enumerate(terms) if not t.could_extract_minus_sign()), 0)
    return [terms[first], *terms[:first], *terms[first + 1 :]]


def _descending(terms: list) -> bool:
    """The terms of a polynomial of degree ≥ 2 in one variable, in descending powers."""
    names = set().union(*(t.free_symbols for t in terms)) if terms else set()
    if len(names) != 1 or len(terms) < 2:
        return False
    (x,) = names
    degrees = []
    for t in terms:
        c, p = t.as_coeff_exponent(x)
        if c.free_symbols or not (p.is_Integer and p >= 0):
            return False
        degrees.append(int(p))
    return degrees[0] >= 2 and degrees == sorted(degrees, reverse=True)


class InOrder(sp.Mul):
    """A product that prints its factors in the order given (printing only; never evaluated)."""

    def as_ordered_factors(self, order=None):
        return list(self.args)


def function_first(expr: sp.Expr) -> sp.Expr | None:
    """A product with a function written before the sums that hold it, as textbooks write
    σ(z)(1 − σ(z)) rather than SymPy's (1 − σ(z))σ(z); None when SymPy's order is already that."""
    c, rest = expr.as_coeff_Mul()
    factors = rest.as_ordered_factors()
    out = list(factors)
    for g in (f for f in factors if f.is_Function):
        for F in [f for f in out if f.is_Add and f.has(g)]:
            if out.index(F) < out.index(g):
                out.remove(g)
                out.insert(out.index(F), g)
    if out == factors:
        return None
    return InOrder(*([c] if c != 1 else []), *out, evaluate=False)


def _name(name: str) -> str:
    if name.endswith("'"):
        return _name(name[:-1]) + "'"
    if "(" in name and name.endswith(")"):
        head, arg = name[:-1].split("(", 1)
        return f"{_name(head)}({_name(arg)})"
    name, caret, sup = name.partition("^")
    if caret:
        sup, _, rest = sup.partition("_")
        sup = sup.strip("{}")
        sup = sup if sup.isalnum() else f"({sup})"
        return _name(name) + "^" + sup + ("_" + rest if rest else "")
    if name.startswith("nabla"):
        return "∇" + name[5:]
    base, _, sub = name.partition("_")
    base = _GREEK.get(base, base)
    if sub.isdigit():
        return base + sub.translate(_SUB)
    return base + ("_" + sub if sub else "")


class TextPrinter(StrPrinter):
    """SymPy's str printer with the lecture's notation: ∂C/∂w₁, ŷ, Σ, δ_jk (ordinary=True:
    d/dx, for a function of one variable)."""

    _default_settings = {**StrPrinter._default_settings, "ordinary": False}

    def _print_Symbol(self, expr):
        return _name(expr.name)

    def _as_ordered_terms(self, expr, order=None):
        return positive_first(super()._as_ordered_terms(expr, order))

    def _print_Mul(self, expr):
        base_a = log_base(expr)
        if base_a is not None:  # ln(u)/ln(a) as log_a(u), as it was typed
            return self._print(base_a)
        derivatives = [f for f in expr.args if isinstance(f, sp.Derivative)]
        if derivatives and len(derivatives) < len(expr.args):  # 1/(2·sqrt(u))·du/dx, not (1/2)·du/dx/sqrt(u)
            factor = sp.Mul(*[f for f in expr.args if not isinstance(f, sp.Derivative)])
            sign = "-" if factor.could_extract_minus_sign() else ""
            factor = -factor if sign else factor
            if sp.fraction(factor, exact=True)[1] != 1:  # a real denominator (e^(−x) is not one)
                head = "" if factor == 1 else f"({self._print(factor)})*"
                return sign + head + "*".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in derivatives)
        c, rest = expr.as_coeff_Mul()
        ordered = None if isinstance(expr, InOrder) else function_first(-expr if c < 0 else expr)
        if ordered is not None:
            return ("-" if c < 0 else "") + super()._print_Mul(ordered)
        return super()._print_Mul(expr)

    def _print_Indexed(self, expr):
        base = _name(expr.base.name)
        idx = [self._print(i) for i in expr.indices]
        if all(len(i) == 1 for i in idx):
            return f"{base}[{','.join(idx)}]"
        return f"{base}[{', '.join(idx)}]"

    def _print_IndexedBase(self, expr):
        return _name(expr.name)

    def _print_Derivative(self, expr):
        f = expr.expr
        top = self._print(f) if isinstance(f, (sp.Symbol, sp.Indexed)) else f"({self._print(f)})"
        d = "d" if self._settings.get("ordinary") else "∂"  # d/dx for a function of one variable
        den = "".join(f"{d}{self._print(v)}" + (f"^{c}" if c > 1 else "") for v, c in expr.variable_count)
        return f"{d}{top}/{den}"

    def _print_Sum(self, expr):
        lims = ", ".join(f"{self._print(i)}={self._print(a)}..{self._print(b)}" for i, a, b in expr.limits)
        return f"Σ_{{{lims}}} ({self._print(expr.function)})"

    def _print_HadamardProduct(self, expr):
        return " ⊙ ".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_Transpose(self, expr):
        return f"({self._print(expr.arg)})ᵀ"

    def _print_MatrixSymbol(self, expr):
        return _name(expr.name)

    def _print_KroneckerDelta(self, expr):
        args = [self._print(a) for a in expr.args]
        if all(len(a) == 1 for a in args):
            return "δ_" + "".join(args)
        return f"δ({', '.join(args)})"

    def _print_Piecewise(self, expr):
        pieces = []
        for value, cond in expr.args:
            pieces.append(self._print(value) + ("" if cond is sp.true else f" if {self._print(cond)}"))
        if len(pieces) == 2 and expr.args[-1][1] is sp.true:
            return "{" + pieces[0] + ", else " + self._print(expr.args[-1][0]) + "}"
        return "{" + "; ".join(pieces) + "}"

    def _print_And(self, expr):
        return " and ".join(self._print(a) for a in expr.args)

    def _print_Or(self, expr):
        return " or ".join(self._print(a) for a in sorted(expr.args, key=str))

    def _print_Relational(self, expr):
        op = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}[expr.rel_op]
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Heaviside(self, expr):
        return f"H({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, n = expr.args
        if n.is_Rational and n.is_negative and n != -1:
            return f"1/{self._print(sp.Pow(base, -n, evaluate=False))}"
        return super()._print_Pow(expr, rational)

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_exp(self, expr):
        arg = expr.args[0]
        if isinstance(arg, sp.Symbol) or (arg.is_Integer and arg > 0):  # e^x, e^2; e^(-x), e^(2·x)
            return f"e^{self._print(arg)}"
        return f"e^({self._print(arg)})"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_log(self, expr):
        return f"ln({self._print(expr.args[0])})"


def log_base(expr: sp.Mul) -> sp.Expr | None:
    """c·ln(u)/ln(a), a an integer > 1, with ln(u)/ln(a) as one function log_a(u); else None."""
    inverse = [
        f
        for f in expr.args
        if isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.log) and f.base.args[0].is_Integer
    ]
    logs = [f for f in expr.args if isinstance(f, sp.log)]
    if len(inverse) != 1 or len(logs) != 1 or not inverse[0].base.args[0] > 1:
        return None
    a = inverse[0].base.args[0]
    rest = [f for f in expr.args if f is not inverse[0] and f is not logs[0]]
    return sp.Mul(*rest, sp.Function(f"log_{a}")(logs[0].args[0]))


def show(expr, ordinary: bool = False) -> str:
    s = TextPrinter({"ordinary": True} if ordinary else None).doprint(expr)
    return s.replace("**", "^").replace("*", "·")


def verification_summary(d) -> str:
    eqs = [s for s in d.equations if not s.is_definition]
    if not d.verified:
        return "Not verified: call verify() to check every step with SymPy."
    numeric = sum(1 for s in eqs if s.verified_by and s.verified_by.startswith("numeric"))
    how = f"{len(eqs) - numeric} symbolically" + (f", {numeric} numerically at random points" if numeric else "")
    n = len(d.goals)
    goals = (
        (
            "; the result equals sympy.diff of its definition"
            if n == 1
            else f"; each of the {n} results equals sympy.diff of its definition"
        )
        if n
        else ""
    )
    every = "the 1 step" if len(eqs) == 1 else f"all {len(eqs)} steps"
    return f"Verified: {every} checked by SymPy ({how}){goals}."


def render(d, width: int = 80) -> str:
    title = plain(d.title)  # its mathematics between backticks, as in the notes
    out = [title, "=" * min(len(title), width)]
    if d.intro:
        out += textwrap.wrap(d.intro, width) + [""]
    number = 0
    ordinary = getattr(d, "ordinary", False)
    wrap_eq = textwrap.TextWrapper(width, subsequent_indent=" " * 8, break_on_hyphens=False)
    wrap_note = textwrap.TextWrapper(width, initial_indent=" " * 6, subsequent_indent=" " * 8)
    for step in d.steps:
        if step.is_heading:
            heading = plain(step.note)
            out += ["", f"── {heading} " + "─" * max(0, width - len(heading) - 4)]
            continue
        number += 1
        out += wrap_eq.wrap(f"({number:>2}) {show(step.lhs, ordinary)} = {show(step.rhs, ordinary)}")
        note = f"[{step.rule}]" + (f" {plain(step.note)}" if step.note else "")
        out += wrap_note.wrap(note)
    if d.goals:
        out += ["", "Results:"]
        for g in d.goals:
            shown = show(g.result if g.shown is None else g.shown)
            if len(shown) > 4 * width:
                shown = f"(an expression of {sp.count_ops(g.result)} operations, equal to sympy.diff)"
            out += wrap_eq.wrap(f"  {g.name} = {shown}")
    out += [""] + textwrap.wrap(verification_summary(d), width)
    if d.references:
        out += ["", "Further reading:"] + [f"  - {r}" for r in d.references]
    return "\n".join(out) + "\n"
