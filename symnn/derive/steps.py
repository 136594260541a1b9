"""Turning a rule tree into derivation steps, the way a teacher writes them.

- A piece whose derivative a reader sees at once (c·xⁿ, a polynomial, sin x) is one line.
- The chain rule names the inner function: "let u = 1 + e^(−x)"; u is put back at the end.
- A sub-derivative already found is cited by its step number, never derived twice.
- No step that changes nothing; constants of a sum are dropped in one breath.
Detail levels: "brief" (the rules and the result), "normal" (default), "full" (every
elementary step). Every level is verified like any other derivation.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import sympy as sp

from symnn.derive import rules as R
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.engine import collapse_deltas, diff_rule
from symnn.errors import InputError

DETAILS = ("brief", "normal", "full")
_DETAIL: ContextVar[str] = ContextVar("detail", default="normal")
_LEAVES = (R.ConstantRule, R.IdentityRule, R.IndexedRule)
_CHAINED = (R.FunctionRule, R.PowerRule)
_NAMES = ("u", "v", "s", "t")
_STRUCTURAL = ("sum rule", "constant multiple rule")


@contextmanager
def detail_level(detail: str | None):
    """Derivations built inside use this detail level ('brief', 'normal' or 'full')."""
    if detail is not None and detail not in DETAILS:
        raise InputError(f"unknown detail level {detail!r}; choose one of: {', '.join(DETAILS)}")
    token = _DETAIL.set(detail or "normal")
    try:
        yield
    finally:
        _DETAIL.reset(token)


def tidy(expr: sp.Expr) -> sp.Expr:
    """A light simplification that keeps the course's factored look."""
    if expr.has(sp.Piecewise):  # fold nested guards, never across a Σ (its index is in them)
        expr = expr.replace(
            lambda e: isinstance(e, (sp.Mul, sp.Piecewise)) and e.has(sp.Piecewise) and not e.has(sp.Sum),
            sp.piecewise_fold,
        )
    expr = _identities(expr)
    if _polynomial(expr):
        return sp.expand(expr)  # 3t² − 16t, in descending powers
    out = sp.factor_terms(expr)
    out = out if sp.count_ops(out) <= sp.count_ops(expr) else expr
    return _one_fraction(out)


def _identities(expr: sp.Expr) -> sp.Expr:
    """u·sign(u) = |u| for real u."""
    if not expr.has(sp.sign):
        return expr

    def fold(m: sp.Mul) -> sp.Expr:
        for f in m.args:
            if isinstance(f, sp.sign) and f.args[0] in m.args and f.args[0].is_real:
                u = f.args[0]
                return sp.Abs(u) * m / (u * f)
        return m

    return expr.replace(lambda e: isinstance(e, sp.Mul) and e.has(sp.sign), fold)


def _polynomial(expr: sp.Expr) -> bool:
    """A polynomial in one variable: written out in descending powers (3t² − 16t)."""
    return (
        len(expr.free_symbols) == 1
        and not expr.has(sp.Sum, sp.Indexed, sp.Derivative, sp.Piecewise)
        and expr.is_polynomial()
    )


def _one_fraction(expr: sp.Expr) -> sp.Expr:
    """(f'g − fg')/g² with its numerator multiplied out, when that makes it shorter."""
    if expr.has(sp.Sum, sp.Piecewise, sp.Derivative, sp.Indexed) or sp.count_ops(expr) > 60:
        return expr
    num, den = sp.fraction(sp.together(expr))
    if den == 1:
        return expr
    num = sp.expand(num)
    candidate = (num if _polynomial(num) else sp.factor_terms(num)) / den
    return candidate if sp.count_ops(candidate) < sp.count_ops(expr) else expr


def differentiate(d: Derivation, expr: sp.Expr, var: sp.Expr, lhs: sp.Expr | None = None) -> sp.Expr:
    """Append the steps that take ∂expr/∂var to its value; return the value."""
    return _Writer(d, _DETAIL.get()).emit(diff_rule(expr, var), lhs)


class _Writer:
    """Emits the steps of one rule tree into d; what was found is remembered on d (d.found)."""

    def __init__(self, d: Derivation, detail: str):
        self.d, self.detail = d, detail
        self.found = d.found  # (expr, var) -> (number, value), kept on d across calls

    # -- the pieces ---------------------------------------------------------------------------
    def emit(self, rule: R.Rule, lhs: sp.Expr | None) -> sp.Expr:
        lhs = R.D(rule.expr, rule.var) if lhs is None else lhs
        key = (rule.expr, rule.var)
        if key in self.found:
            number, value = self.found[key]
            self.d.add(lhs, value, "found before", f"by ({number})")
            return value
        if self.direct(rule):
            value = tidy(rule.eval())
            self.d.add(lhs, value, *self.justify_direct(rule))
        elif self.detail == "brief":
            value = self.brief(rule, lhs)
        else:
            value = self.stepwise(rule, lhs)
        value = self.collapse(lhs, value, rule.var)
        self.found[key] = (self.number, value)
        return value

    def stepwise(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        if isinstance(rule, R.SumRule) and self.detail != "full":
            moving = [c for c in rule.children if not isinstance(c, R.ConstantRule)]
            if len(moving) == 1:  # c + f(x): the constant drops out at once
                return self.emit(moving[0], lhs)
        if isinstance(rule, _CHAINED) and self.chained(rule):
            return self.chain(rule, lhs)
        self.d.add(lhs, rule.applied(), rule.title, rule.describe())
        cited: list[int] = []
        parts = [self.part(c, cited) for c in rule.children]
        value = rule.combine(parts)
        note = "put the derivatives found above into the formula"
        if cited:
            note += "; " + ", ".join(f"({n})" for n in cited) + " found before"
        self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def part(self, child: R.Rule, cited: list[int], lhs: sp.Expr | None = None) -> sp.Expr:
        """A child's value: read off, cited from an earlier step (its number goes to cited), or
        derived in steps of its own, whose left-hand side is lhs (default ∂child/∂x)."""
        if self.direct(child, inline=True):
            return child.eval()
        key = (child.expr, child.var)
        if key in self.found:
            number, value = self.found[key]
            cited.append(number)
            return value
        return self.emit(child, lhs)

    def chain(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        """f(g(x)): name u = g(x), write f'(u)·du/dx, derive du/dx, put u back."""
        inner = rule.children[0]
        u = self.fresh_name()
        outer = rule.applied().xreplace({R.D(inner.expr, rule.var): sp.S.One})
        self.d.add(u, inner.expr, DEFINITION, "name the inner function")
        formula = (
            rule.describe()
            .replace("chain rule with the ", "")
            .replace("power rule, with the chain rule for the inner expression: ", "power rule ")
        )
        self.d.add(
            lhs,
            outer.xreplace({inner.expr: u}) * R.D(u, rule.var),
            "chain rule",
            f"the outer derivative at u, times du/d{sp.sstr(rule.var)}; {formula}",
        )
        cited: list[int] = []
        du = self.part(inner, cited, lhs=R.D(u, rule.var))
        value = outer * du
        note = f"put u = {_show(inner.expr)} back" + (f"; du/d{sp.sstr(rule.var)} by ({cited[0]})" if cited else "")
        self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def brief(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        """One line with every sub-derivative already in place, then the tidy result."""
        value = rule.eval()
        titles = _titles(rule)
        self.d.add(lhs, value, ", ".join(titles), rule.describe())
        return self.simplified(lhs, value)

    def simplified(self, lhs: sp.Expr, value: sp.Expr) -> sp.Expr:
        tidied = tidy(value)
        if _show(tidied) != _show(value):
            self.d.add(lhs, tidied, "simplification", "collect common factors")
        return tidied

    def collapse(self, lhs: sp.Expr, value: sp.Expr, var: sp.Expr) -> sp.Expr:
        if not any(isinstance(s, sp.Sum) and s.has(sp.KroneckerDelta) for s in value.atoms(sp.Sum)) and not (
            isinstance(value, sp.Sum) and value.has(sp.KroneckerDelta)
        ):
            return value
        collapsed = tidy(collapse_deltas(value, var))
        self.d.add(
            lhs,
            collapsed,
            "Kronecker-delta collapse",
            "only the term whose index equals the variable's index survives the sum",
        )
        return collapsed

    # -- judgements ---------------------------------------------------------------------------
    def direct(self, rule: R.Rule, inline: bool = False) -> bool:
        """A derivative read off without a line of its own (inline) or in one line."""
        if isinstance(rule, _LEAVES):
            return True
        if self.detail == "full":
            return not inline and rule.simple
        if inline:
            return isinstance(rule, R.ConstantTimesRule) and isinstance(rule.children[0], _LEAVES)
        if isinstance(rule, (R.SumRule, R.ConstantTimesRule)):
            return all(self.direct(c) for c in rule.children)
        if isinstance(rule, (R.PowerRule, R.FunctionRule, R.ExponentialRule)):
            inner = rule.children[0]
            return self.direct(inner, inline=True) or (self.direct(inner) and inner.eval().is_number)
        return rule.simple

    def chained(self, rule: R.Rule) -> bool:
        """The inner function is worth a name: not the variable, not a plain multiple of it."""
        inner = rule.children[0]
        return not isinstance(inner, _LEAVES) and not (
            isinstance(inner, R.ConstantTimesRule) and isinstance(inner.children[0], _LEAVES)
        )

    def justify_direct(self, rule: R.Rule) -> tuple[str, str]:
        """The rule a textbook names for a one-line derivative, and its formula."""
        titles = _titles(rule)
        if len(titles) <= 1:
            return rule.title if not titles else titles[0], rule.describe()
        main = next((t for t in titles if t not in _STRUCTURAL), titles[0])
        note = "; ".join(_notes(rule))
        return main, ("term by term, " + note if isinstance(rule, R.SumRule) else note)

    # -- writing ------------------------------------------------------------------------------
    @property
    def number(self) -> int:
        return len(self.d.equations)

    def fresh_name(self) -> sp.Symbol:
        taken = {s.name for step in self.d.steps for s in (step.lhs.free_symbols | step.rhs.free_symbols)}
        taken |= {str(k) for k in self.d.defs}
        for name in (*_NAMES, *(f"u_{n}" for n in range(1, 100))):
            if name not in taken:
                return sp.Symbol(name, real=True)
        raise InputError("the expression nests too many functions to name each inner one")


def _titles(rule: R.Rule) -> list[str]:
    """The rules used in a tree, in order, once each (constants and x' = 1 left out)."""
    out: list[str] = []
    for r in _walk(rule):
        if not isinstance(r, _LEAVES) and r.title not in out:
            out.append(r.title)
    return out


def _notes(rule: R.Rule) -> list[str]:
    out: list[str] = []
    for r in _walk(rule):
        if not isinstance(r, _LEAVES + (R.SumRule, R.ConstantTimesRule)) and r.describe() not in out:
            out.append(r.describe())
    return out or [rule.describe()]


def _walk(rule: R.Rule):
    yield rule
    for c in rule.children:
        yield from _walk(c)


def _show(expr: sp.Expr) -> str:
    from symnn.render.text import show

    return show(expr)


def sigmoid_form(value: sp.Expr, expr: sp.Expr) -> sp.Expr:
    """e^u/(1 + e^u) → σ(u) and 1/(1 + e^u) → σ(−u), for expressions of the sigmoid family
    (they hold σ, or ln(1 + e^…) as the logistic and softplus losses do)."""
    from symnn.ops.functions import sigmoid

    family = expr.has(sigmoid) or any(
        isinstance(g.args[0], sp.Add) and g.args[0].has(sp.exp) for g in expr.atoms(sp.log)
    )
    if not family:
        return value

    def logistic(e) -> sp.Expr | None:
        if (
            isinstance(e, sp.Pow)
            and e.exp == -1
            and isinstance(e.base, sp.Add)
            and len(e.base.args) == 2
            and sp.S.One in e.base.args
        ):
            other = next(a for a in e.base.args if a != 1)
            if isinstance(other, sp.exp):
                return other.args[0]
        return None

    def fold(e: sp.Expr) -> sp.Expr:  # from the top: e^u/(1 + e^u) before 1/(1 + e^u)
        if isinstance(e, sp.Mul):
            for f in e.args:
                u = logistic(f)
                if u is not None and sp.exp(u) in e.args:
                    return fold(e / (f * sp.exp(u))) * sigmoid(u)
        u = logistic(e)
        if u is not None:
            return sigmoid(-u)
        return e.func(*[fold(a) for a in e.args]) if e.args else e

    return fold(value)
