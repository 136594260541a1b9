"""Turning a rule tree into derivation steps, the way a teacher writes them.

- A piece whose derivative a reader sees at once (c·xⁿ, a polynomial, sin x) is one line.
- The chain rule names the inner function: "let u = 1 + e^(−x)"; u is put back at the end.
- A sub-derivative already found is cited by its step number, never derived twice.
- No step that changes nothing; constants of a sum are dropped in one breath.
Detail levels: "brief" (the rules and the result), "normal" (default), "full" (every
elementary step). Every level is verified like any other derivation.
"""

from __future__ import annotations

import re
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
            title, note = self.justify_direct(rule)
            self.d.add(lhs, value, title, note + self.citations(rule))
            self.remember_parts(rule)
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
        cited: list[tuple[int, R.Rule]] = []
        parts = [self.part(c, cited) for c in rule.children]
        value = rule.combine(parts)
        note = "put the derivatives found above into the formula"
        if cited:
            note += "".join(f"; `{self.show(R.D(c.expr, c.var))}` by ({n})" for n, c in cited)
        self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def part(self, child: R.Rule, cited: list[tuple[int, R.Rule]], lhs: sp.Expr | None = None) -> sp.Expr:
        """A child's value: read off, cited from an earlier step (its number goes to cited), or
        derived in steps of its own, whose left-hand side is lhs (default ∂child/∂x)."""
        if self.direct(child, inline=True):
            return child.eval()
        key = (child.expr, child.var)
        if key in self.found:
            number, value = self.found[key]
            cited.append((number, child))
            return value
        return self.emit(child, lhs)

    def chain(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        """f(g(x)): name u = g(x), write f'(u)·du/dx, derive du/dx, put u back."""
        inner = rule.children[0]
        u = self.fresh_name()
        outer = rule.applied().xreplace({R.D(inner.expr, rule.var): sp.S.One})
        self.d.add(u, inner.expr, DEFINITION, "name the inner function")
        formula = _renamed(
            rule.describe()
            .replace("chain rule with the ", "")
            .replace("power rule, with the chain rule for the inner expression: ", "power rule "),
            u.name,
        )
        x = sp.sstr(rule.var)
        self.d.add(
            lhs,
            outer.xreplace({inner.expr: u}) * R.D(u, rule.var),
            "chain rule",
            f"the outer derivative at `{u.name}`, times `d{u.name}/d{x}`; {formula}",
        )
        cited: list[tuple[int, R.Rule]] = []
        du = self.part(inner, cited, lhs=R.D(u, rule.var))
        value = outer * du
        note = f"put `{u.name} = {_show(inner.expr)}` back" + (
            f"; `d{u.name}/d{x}` by ({cited[0][0]})" if cited else ""
        )
        self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def brief(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        """One line with every sub-derivative already in place, then the tidy result."""
        value = rule.eval()
        titles = _titles(rule, self.found)
        self.d.add(lhs, value, ", ".join(titles) or rule.title, rule.describe() + self.citations(rule))
        self.remember_parts(rule)
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

    def citations(self, rule: R.Rule) -> str:
        """ "; ∂(e^x)/∂x by (3)" for each part of a one-line derivative that was found before."""
        cited: dict[int, list[str]] = {}
        stack = list(rule.children)
        while stack:
            c = stack.pop(0)
            if _trivial(c):
                continue
            key = (c.expr, c.var)
            if key in self.found:
                cited.setdefault(self.found[key][0], []).append(self.show(R.D(c.expr, c.var)))
            else:
                stack[:0] = c.children
        return "".join(f"; {', '.join(f'`{m}`' for m in names)} by ({n})" for n, names in cited.items())

    def remember_parts(self, rule: R.Rule) -> None:
        """A one-line derivative found each of its parts too: later they are cited, not derived."""
        stack = list(rule.children)
        while stack:
            c = stack.pop()
            key = (c.expr, c.var)
            if _trivial(c) or key in self.found:
                continue
            self.found[key] = (self.number, c.eval())
            if not _flat(c):  # f' = 0: its inner function was not derived
                stack.extend(c.children)

    # -- judgements ---------------------------------------------------------------------------
    def direct(self, rule: R.Rule, inline: bool = False) -> bool:
        """A derivative read off without a line of its own (inline) or in one line."""
        if isinstance(rule, _LEAVES) or (_flat(rule) and not inline):  # a line: it states the jump's convention
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
        if _flat(rule):  # step, floor, sign: 0 whatever the inner function
            whatever = "" if isinstance(rule.children[0], R.IdentityRule) else "; so 0 whatever the inner function"
            return rule.title, rule.describe() + whatever
        titles = _titles(rule, self.found)
        if len(titles) <= 1:
            return rule.title if not titles else titles[0], rule.describe()
        main = next((t for t in titles if t not in _STRUCTURAL), titles[0])
        notes = _notes(rule, self.found)
        if notes == [rule.describe()]:  # only structure is left: its parts are cited
            return main, rule.describe()
        note = "; ".join(notes)
        return main, ("term by term, " + note if isinstance(rule, R.SumRule) else note)

    # -- writing ------------------------------------------------------------------------------
    def show(self, expr: sp.Expr) -> str:
        """expr as the text renderer prints this derivation (d/dx for one variable)."""
        from symnn.render.text import show

        return show(expr, self.d.ordinary)

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


def _titles(rule: R.Rule, found: dict | None = None) -> list[str]:
    """The rules used in a tree, in order, once each (constants and x' = 1 left out, and the
    parts found before, which are cited instead)."""
    out: list[str] = []
    for r in _walk(rule, found):
        if not isinstance(r, _LEAVES) and r.title not in out:
            out.append(r.title)
    return out


def _notes(rule: R.Rule, found: dict | None = None) -> list[str]:
    out: list[str] = []
    for r in _walk(rule, found):
        if not isinstance(r, _LEAVES + (R.SumRule, R.ConstantTimesRule)) and r.describe() not in out:
            out.append(r.describe())
    return out or [rule.describe()]


def _walk(rule: R.Rule, found: dict | None = None):
    """The rule and its sub-rules, top down; a sub-rule found before is not entered."""
    yield rule
    if _flat(rule):  # f' = 0: the inner function does not matter
        return
    for c in rule.children:
        if not (found and (c.expr, c.var) in found):
            yield from _walk(c, found)


def _trivial(rule: R.Rule) -> bool:
    """A derivative nobody cites: a constant, the variable, c·x, a linear sum such as p − y."""
    if isinstance(rule, R.SumRule):
        return all(_trivial(c) for c in rule.children)
    return isinstance(rule, _LEAVES) or (
        isinstance(rule, R.ConstantTimesRule) and isinstance(rule.children[0], _LEAVES)
    )


def _flat(rule: R.Rule) -> bool:
    """f(u) with f' = 0 almost everywhere (step, floor, ceiling, sign)."""
    return isinstance(rule, R.FunctionRule) and R.outer_derivative(rule.expr) == 0


def _renamed(formula: str, name: str) -> str:
    """A rule's formula, written with u, in the letter the chain actually named (v, s, ...)."""
    if name == "u":
        return formula
    return re.sub(r"`[^`]*`", lambda m: re.sub(r"\bu\b", name, m.group(0)), formula)


def _show(expr: sp.Expr) -> str:
    from symnn.render.text import show

    return show(expr)
