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
from symnn.derive.forms import in_family, in_network_form
from symnn.derive.tidy import tidied, tidy
from symnn.errors import InputError

DETAILS = ("brief", "normal", "full")
_DETAIL: ContextVar[str] = ContextVar("detail", default="normal")
_LEAVES = (R.ConstantRule, R.IdentityRule, R.IndexedRule)
_CHAINED = (R.FunctionRule, R.PowerRule)
_NAMES = ("u", "v", "s", "t")
_LETTERS = ("w", "t", "s", "v", "p", "q")  # for a formula's u when u names an inner function
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


def differentiate(d: Derivation, expr: sp.Expr, var: sp.Expr, lhs: sp.Expr | None = None) -> sp.Expr:
    """Append the steps that take ∂expr/∂var to its value; return the value."""
    return _Writer(d, _DETAIL.get(), expr).emit(diff_rule(expr, var), lhs)


class _Writer:
    """Emits the steps of one rule tree into d; what was found is remembered on d (d.found)."""

    def __init__(self, d: Derivation, detail: str, expr: sp.Expr):
        self.d, self.detail, self.expr = d, detail, expr
        self.family = in_family(expr)  # σ, 1/(1 + e^…), ln(1 + e^…): results written with σ
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
            self.d.add(lhs, value, title, self.lettered(note) + self.citations(rule))
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
        self.d.add(lhs, self.applied(rule), rule.title, self.lettered(rule.describe()))
        cited: list[tuple[int, R.Rule]] = []
        parts = [self.part(c, cited) for c in rule.children]
        value = rule.combine(parts)
        note = "put the derivatives found above into the formula"
        if cited:
            note += "".join(f"; `{self.show(R.D(c.expr, c.var))}` by ({n})" for n, c in cited)
        if _show(value) != _show(self.d.steps[-1].rhs) or self.d.steps[-1].lhs != lhs:
            self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def applied(self, rule: R.Rule) -> sp.Expr:
        """The rule's formula, with the derivatives read off at once (dx/dx = 1, d(1 − f·y)/df = −y)
        already in place: no line says ∂x/∂x."""
        known = {R.D(c.expr, c.var): c.eval() for c in rule.children if self.direct(c, inline=True)}
        if isinstance(rule, R.QuotientRule) and known.get(R.D(rule.children[0].expr, rule.var)) == 1:
            f, g = (c.expr for c in rule.children)  # ((1 + |x|) − x·(1 + |x|)')/(1 + |x|)²: g stays whole
            top = sp.Add(g, -f * known.get(R.D(g, rule.var), R.D(g, rule.var)), evaluate=False)
            return sp.Mul(top, g**-2, evaluate=False)
        return rule.applied().xreplace(known) if known else rule.applied()

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
        at_u = _outer_at(rule, u)  # 1/√(u² − 1), also when (x²)² became x⁴ in the outer derivative
        self.d.add(u, inner.expr, DEFINITION, "name the inner function")
        formula = _renamed(rule.outer(), u.name)
        du_dx = self.show(R.D(u, rule.var))
        self.d.add(
            lhs,
            at_u * R.D(u, rule.var),
            "chain rule",
            f"the outer derivative at `{u.name}`, times `{du_dx}`; {formula}",
        )
        cited: list[tuple[int, R.Rule]] = []
        du = self.part(inner, cited, lhs=R.D(u, rule.var))
        value = outer * du
        note = f"put `{u.name} = {_show(inner.expr)}` back" + (f"; `{du_dx}` by ({cited[0][0]})" if cited else "")
        self.d.add(lhs, value, "substitution", note)
        return self.simplified(lhs, value)

    def brief(self, rule: R.Rule, lhs: sp.Expr) -> sp.Expr:
        """One line with every sub-derivative already in place, then the tidy result."""
        value = rule.eval()
        titles = [t for t in _titles(rule, self.found) if t not in _STRUCTURAL] or _titles(rule, self.found)
        note = self.lettered(rule.describe()) + self.citations(rule)
        self.d.add(lhs, value, ", ".join(titles) or rule.title, note)
        self.remember_parts(rule)
        return self.simplified(lhs, value)

    def simplified(self, lhs: sp.Expr, value: sp.Expr) -> sp.Expr:
        if self.family:  # e^(−x)/(1 + e^(−x))² = σ(x)(1 − σ(x)) at once, not through a tidied fraction
            formed = in_network_form(self.d, lhs, value, self.expr)
            if formed is not None:
                return formed
        out, how = tidied(value)
        if _show(out) != _show(value):
            self.d.add(lhs, out, "simplification", how or "simplify")
        return out

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
        if inline:  # c·x, a linear sum such as 1 − f·y: read off inside the line that uses it
            return _trivial(rule)
        if isinstance(rule, (R.SumRule, R.ConstantTimesRule)):
            return all(self.direct(c) for c in rule.children)
        if isinstance(rule, (R.PowerRule, R.FunctionRule, R.ExponentialRule)):
            inner = rule.children[0]
            return self.direct(inner, inline=True) or (self.direct(inner) and inner.eval().is_number)
        return all(self.direct(c, inline=True) for c in rule.children)  # max(0, 1 − f·y): one line

    def chained(self, rule: R.Rule) -> bool:
        """The inner function is worth a name: not the variable, not a plain multiple of it."""
        return not _trivial(rule.children[0])

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

    def lettered(self, note: str) -> str:
        return lettered(self.d, note)

    def taken(self) -> set[str]:
        return taken(self.d)

    def fresh_name(self) -> sp.Symbol:
        taken = self.taken()
        for name in (*_NAMES, *(f"u_{n}" for n in range(1, 100))):
            if name not in taken:
                return sp.Symbol(name, real=True)
        raise InputError("the expression nests too many functions to name each inner one")


def _titles(rule: R.Rule, found: dict | None = None) -> list[str]:
    """The rules used in a tree, in order, once each (constants and x' = 1 left out, and the
    parts found before, which are cited instead)."""
    out: list[str] = []
    for r in _walk(rule, found):
        if isinstance(r, _CHAINED) and not _trivial(r.children[0]) and "chain rule" not in out:
            out.append("chain rule")  # f(g(x)): the chain rule, then f's own rule
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


def _outer_at(rule: R.Rule, u: sp.Symbol) -> sp.Expr:
    """The outer derivative of a chained rule at the inner function's name u: n·u^(n−1), f'(u)."""
    if isinstance(rule, R.PowerRule):
        n = rule.expr.args[1]
        return n * u ** (n - 1)
    return R.outer_derivative(rule.expr.func(u, *rule.expr.args[1:]))


def lettered(d: Derivation, note: str) -> str:
    """A rule's note, its formula's u written in a letter the derivation does not use yet
    (`exp'(w) = e^w` once u = 1 + e^(−x) is named)."""
    names = taken(d)
    if "u" not in names:
        return note
    letter = next((n for n in _LETTERS if n not in names), None)
    return _renamed(note, letter) if letter else note


def taken(d: Derivation) -> set[str]:
    """The names a derivation's steps use so far."""
    names = {s.name for step in d.steps for s in (step.lhs.free_symbols | step.rhs.free_symbols)}
    return names | {str(k) for k in d.defs}


def _renamed(formula: str, name: str) -> str:
    """A rule's formula, written with u, in the letter the chain actually named (v, s, ...)."""
    if name == "u":
        return formula
    return re.sub(r"`[^`]*`", lambda m: re.sub(r"\bu\b", name, m.group(0)), formula)


def _show(expr: sp.Expr) -> str:
    from symnn.render.text import show

    return show(expr)
