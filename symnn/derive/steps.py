"""Turning a rule tree into derivation steps: apply a rule, derive the non-obvious pieces,
put them together, tidy up, collapse Kronecker deltas."""
from __future__ import annotations

import sympy as sp

from symnn.derive import rules as R
from symnn.derive.derivation import Derivation
from symnn.derive.engine import collapse_deltas, diff_rule

_LEAVES = (R.ConstantRule, R.IdentityRule, R.IndexedRule)


def tidy(expr: sp.Expr) -> sp.Expr:
    """A light simplification that keeps the course's factored look."""
    if expr.has(sp.Piecewise):  # fold nested guards, never across a Σ (its index is in them)
        expr = expr.replace(lambda e: isinstance(e, (sp.Mul, sp.Piecewise)) and e.has(sp.Piecewise)
                            and not e.has(sp.Sum), sp.piecewise_fold)
    out = sp.factor_terms(expr)
    return out if sp.count_ops(out) <= sp.count_ops(expr) else expr


def differentiate(d: Derivation, expr: sp.Expr, var: sp.Expr, lhs: sp.Expr | None = None) -> sp.Expr:
    """Append the steps that take ∂expr/∂var to its value; return the value."""
    return _emit(d, diff_rule(expr, var), lhs)


def _emit(d: Derivation, rule: R.Rule, lhs: sp.Expr | None) -> sp.Expr:
    lhs = R.D(rule.expr, rule.var) if lhs is None else lhs
    if isinstance(rule, _LEAVES) or rule.simple:
        value = tidy(rule.eval())
        d.add(lhs, value, rule.title, rule.describe())
        return _collapse(d, lhs, value, rule.var)
    d.add(lhs, rule.applied(), rule.title, rule.describe())
    parts = [c.eval() if isinstance(c, _LEAVES) or _obvious(c) else _emit(d, c, None)
             for c in rule.children]
    value = rule.combine(parts)
    d.add(lhs, value, "substitution", "put the derivatives found above into the formula")
    tidied = tidy(value)
    if tidied != value:
        d.add(lhs, tidied, "simplification", "collect common factors")
    return _collapse(d, lhs, tidied, rule.var)


def _obvious(rule: R.Rule) -> bool:
    """A piece whose derivative is read off without a line of its own (e.g. ∂(w_1 x_1)/∂w_1)."""
    return isinstance(rule, R.ConstantTimesRule) and isinstance(rule.children[0], _LEAVES)


def _collapse(d: Derivation, lhs: sp.Expr, value: sp.Expr, var: sp.Expr) -> sp.Expr:
    if not any(isinstance(s, sp.Sum) and s.has(sp.KroneckerDelta) for s in value.atoms(sp.Sum)) \
            and not (isinstance(value, sp.Sum) and value.has(sp.KroneckerDelta)):
        return value
    collapsed = tidy(collapse_deltas(value, var))
    d.add(lhs, collapsed, "Kronecker-delta collapse",
          "only the term whose index equals the variable's index survives the sum")
    return collapsed
