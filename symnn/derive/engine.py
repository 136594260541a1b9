"""The walker: dispatch on an expression's type and build the rule tree for ∂expr/∂var."""

from __future__ import annotations

import sympy as sp

from symnn.derive import rules as R
from symnn.errors import DerivationError
from symnn.parse import as_expr


def depends(expr: sp.Expr, var: sp.Expr) -> bool:
    if isinstance(var, sp.Indexed):
        return any(isinstance(a, sp.Indexed) and a.base == var.base for a in expr.atoms(sp.Indexed))
    return var in expr.free_symbols


def diff_rule(expr: sp.Expr, var: sp.Expr) -> R.Rule:
    """Build the rule tree that differentiates expr with respect to var (a Symbol or Indexed)."""
    expr = as_expr(expr)
    if not depends(expr, var):
        return R.ConstantRule(expr, var)
    if expr == var:
        return R.IdentityRule(expr, var)
    if isinstance(expr, sp.Indexed):
        return R.IndexedRule(expr, var)
    if isinstance(expr, sp.Add):
        return R.SumRule(expr, var, [diff_rule(a, var) for a in expr.args])
    if isinstance(expr, sp.Mul):
        return _product(expr, var)
    if isinstance(expr, sp.Pow):
        base, n = expr.args
        if not depends(n, var):
            if n == -1 and not isinstance(base, (sp.Symbol, sp.Indexed)):
                return R.ReciprocalRule(expr, var, [diff_rule(base, var)])
            return R.PowerRule(expr, var, [diff_rule(base, var)])
        if not depends(base, var):
            if base == sp.E:
                return R.FunctionRule(sp.exp(n), var, [diff_rule(n, var)])
            return R.ExponentialRule(expr, var, [diff_rule(n, var)])
        return R.LogDifferentiationRule(expr, var, [diff_rule(n * sp.log(base), var)])
    if isinstance(expr, (sp.Max, sp.Min)):
        return R.MaxMinRule(expr, var, [diff_rule(a, var) for a in expr.args])
    if isinstance(expr, sp.Sum):
        return R.IndexSumRule(expr, var, [diff_rule(expr.function, var)])
    if isinstance(expr, sp.Piecewise):
        return R.PiecewiseRule(expr, var, [diff_rule(e, var) for e, _ in expr.args])
    if isinstance(expr, sp.Heaviside):  # H(u) or H(u, H0): 0 almost everywhere, as step
        return R.FunctionRule(expr, var, [diff_rule(expr.args[0], var)])
    if isinstance(expr, sp.Function) and len(expr.args) == 1 and _known(expr):
        return R.FunctionRule(expr, var, [diff_rule(expr.args[0], var)])
    raise DerivationError(
        f"cannot differentiate {sp.sstr(expr)[:80]} symbolically with respect to {sp.sstr(var)}: "
        f"{type(expr).__name__} has no known derivative; accepted: sums, products, quotients, "
        "powers, exp, log, trigonometric and hyperbolic functions and their inverses, abs, sign, "
        "max, min, floor, ceiling, erf and symnn's activations (sigmoid, relu, step, leaky_relu)"
    )


def _product(expr: sp.Mul, var: sp.Expr) -> R.Rule:
    """Constant multiple, quotient (f/g, g depending on var), reciprocal or product rule."""
    dep = [a for a in expr.args if depends(a, var)]
    const = sp.Mul(*[a for a in expr.args if not depends(a, var)])
    base = _log_base(const)
    if base is not None and len(dep) == 1 and isinstance(dep[0], sp.log):  # log_a u = ln u/ln a
        return R.LogBaseRule(expr, var, [diff_rule(dep[0].args[0], var)], base=base)
    if const != 1 or len(dep) == 1:
        inner = sp.Mul(*dep)
        return R.ConstantTimesRule(expr, var, [diff_rule(inner, var)], constant=const)
    num = [a for a in dep if not _denominator(a)]
    den = [a for a in dep if _denominator(a)]
    if den:
        f, g = sp.Mul(*num), sp.Mul(*[1 / a for a in den])
        if f == 1:
            return R.ReciprocalRule(expr, var, [diff_rule(g, var)])
        return R.QuotientRule(expr, var, [diff_rule(f, var), diff_rule(g, var)])
    first, rest = dep[0], sp.Mul(*dep[1:])
    return R.ProductRule(expr, var, [diff_rule(first, var), diff_rule(rest, var)])


def _log_base(const: sp.Expr) -> sp.Expr | None:
    """a, when a constant factor holds 1/ln a for a number a > 0, a ≠ 1 (as log(x, a) is built)."""
    for f in sp.Mul.make_args(const):
        if isinstance(f, sp.Pow) and f.exp == -1 and isinstance(f.base, sp.log):
            a = f.base.args[0]
            if a.is_number and a.is_positive and a != 1:
                return a
    return None


def _denominator(factor: sp.Expr) -> bool:
    """A factor written below the fraction bar: g^(−n) with a numeric n > 0 (e^(−x) is not)."""
    return isinstance(factor, sp.Pow) and factor.exp.is_number and factor.exp.is_negative


def _known(expr: sp.Function) -> bool:
    if isinstance(expr, sp.core.function.AppliedUndef):
        return False
    if expr.func in R.TEXTBOOK:
        return True
    try:
        d = expr.func(sp.Dummy("u", real=True)).fdiff(1)
    except Exception:  # SymPy raises ArgumentIndexError and friends for unknown derivatives
        return False
    return not d.has(sp.Derivative, sp.Subs)


def collapse_deltas(expr: sp.Expr, var: sp.Expr | None = None) -> sp.Expr:
    """Σ_j f_j δ_jk → f_k: sum out every index that a Kronecker delta pins down.

    The range condition that comes with it (1 ≤ k ≤ n) is dropped when it only concerns the
    variable's own indices and the sizes (positive symbols): the variable is assumed to lie in
    its range. A condition on any other index (0 ≤ p − i < k_h for a convolution, where i runs
    over an outer sum) is kept as a Piecewise guard."""
    from sympy.concrete.delta import deltasummation

    own = set(var.free_symbols) if var is not None else set()

    def guard(value: sp.Expr, cond) -> sp.Expr:
        parts = cond.args if isinstance(cond, sp.And) else (cond,)
        kept = [c for c in parts if any(not (x in own or x.is_positive) for x in c.free_symbols)]
        return sp.Piecewise((value, sp.And(*kept)), (0, True)) if kept else value

    def collapse(s: sp.Sum) -> sp.Expr:
        body, limits = s.function, list(s.limits)
        for lim in list(limits):
            if any(lim[0] in d.free_symbols for d in body.atoms(sp.KroneckerDelta)):
                body = deltasummation(sp.expand(body), lim)
                if isinstance(body, sp.Piecewise) and body.args[-1][0] == 0:
                    body = guard(body.args[0][0], body.args[0][1])
                limits.remove(lim)
        return sp.Sum(body, *limits) if limits else body

    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta), collapse)
