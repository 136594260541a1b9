"""A result tidied into the form a course writes: nested guards folded, known identities used
(x·sign(x) = |x|, H(c·u) = H(u)), a common factor taken out, one fraction; and what was done, in
words, for the step's note."""

from __future__ import annotations

import sympy as sp


def tidy(expr: sp.Expr) -> sp.Expr:
    """A light simplification that keeps the course's factored look."""
    return tidied(expr)[0]


def tidied(expr: sp.Expr) -> tuple[sp.Expr, str]:
    """tidy(expr) and what it did, in words for the step's note ("" when nothing)."""
    if expr.has(sp.Piecewise):  # fold nested guards, never across a Σ (its index is in them)
        expr = expr.replace(
            lambda e: isinstance(e, (sp.Mul, sp.Piecewise)) and e.has(sp.Piecewise) and not e.has(sp.Sum),
            sp.piecewise_fold,
        )
    notes = []
    folded = _identities(expr)
    if folded != expr:
        from symnn.render.text import show

        us = sorted({f.args[0] for f in expr.atoms(sp.sign)} - {f.args[0] for f in folded.atoms(sp.sign)}, key=str)
        notes.append(", ".join(f"`{show(u * sp.sign(u))} = {show(sp.Abs(u))}`" for u in us) or "`u·sign(u) = |u|`")
        expr = folded
    steps = _unit_steps(expr)
    if steps is not expr:
        notes.append("`H(c·u) = H(u)` for a number c > 0 (and `H(−u)` for c < 0)")
        expr = steps
    if any(isinstance(m, sp.Mul) and _same_bases(m) for m in sp.preorder_traversal(expr)):
        joined = sp.powsimp(expr)
        if sp.count_ops(joined) < sp.count_ops(expr):
            notes.append("`a^m·a^n = a^(m + n)`")
            expr = joined
    if _polynomial(expr):
        out = sp.expand(expr)  # 3t² − 16t, in descending powers
        return out, "; ".join(notes + (["multiply out and collect like terms"] if out != expr else []))
    out = _common_factor(expr)
    if out is not expr:
        notes.append(_factor_note(expr, out))
        expr = out
    out = _one_fraction(expr)
    if out is not expr:
        notes.append("one fraction, its numerator multiplied out")
    return out, "; ".join(notes)


def _common_factor(expr: sp.Expr) -> sp.Expr:
    """expr with a common factor taken out of its terms (x³·cos(x) − 2x²: x²·(x·cos(x) − 2)), when
    that is shorter and reads better; the arguments of functions stay as they are (e^(t² − t),
    not e^(t·(t − 1))). Returns expr itself (the same object) when nothing is gained."""
    masks: dict = {}
    for f in sorted(expr.atoms(sp.Function), key=sp.count_ops, reverse=True):
        if f.args and not all(a.is_Atom for a in f.args) and not any(f in g.args for g in masks):
            masks[f] = sp.Dummy("f")
    masked = expr.xreplace(masks) if masks else expr
    out = sp.factor_terms(masked)
    if out == masked or sp.count_ops(out) > sp.count_ops(masked):
        return expr
    common, sums = _split_common(out)
    if common in (sp.S.NegativeOne, sp.S.One) or not sums:
        return expr  # −(a + b) is no simpler than −a − b
    if any(_holds_fraction(t) for f in sums for t in sp.Add.make_args(f)):
        return expr  # x·(x/√(1 − x²) + 2·asin(x)): a fraction inside the parentheses reads worse
    c, rest = out.as_coeff_Mul()  # 2·(e^(2x) + 1) kept so: a plain product would distribute the 2
    rest = rest.xreplace({v: k for k, v in masks.items()})
    return sp.Mul(c, *sp.Mul.make_args(rest), evaluate=False) if c != 1 else rest


def _split_common(expr: sp.Expr) -> tuple[sp.Expr, list]:
    """(the factors outside the sums, the sums) of a product; (expr, []) for anything else."""
    if not isinstance(expr, sp.Mul):
        return expr, []
    sums = [f for f in expr.args if f.is_Add]
    return sp.Mul(*[f for f in expr.args if not f.is_Add]), sums


def _holds_fraction(term: sp.Expr) -> bool:
    """A term with a denominator that is not a number: x/√(1 − x²), cos(2x)/sin(2x)."""
    return any(
        isinstance(f, sp.Pow) and f.exp.is_number and f.exp.is_negative and not f.base.is_number
        for f in sp.Mul.make_args(term)
    )


def _factor_note(before: sp.Expr, out: sp.Expr) -> str:
    """What taking out a common factor did: "cancel the common factor `2`" for a fraction,
    "take out the common factor `x²`" for a sum."""
    from symnn.render.text import show

    if not before.is_Add:
        (num, den), (num_out, den_out) = sp.fraction(before), sp.fraction(out)
        sums = [num] if num.is_Add else [f for f in sp.Mul.make_args(num) if f.is_Add]
        outs = [sp.factor_terms(f) for f in sums]
        commons = [c for c in (_split_common(f)[0] for f in outs if f.is_Mul) if c not in (1, -1)]
        if commons:  # (2x(4x + 3) − 4x²)/(4x + 3)²: 2x out of the numerator
            note = "take out the common factor " + ", ".join(f"`{show(c)}`" for c in commons)
            return note + ("; cancel" if sp.cancel(den / den_out) != 1 else "")
        cancelled = sp.cancel(num / num_out)
        if cancelled != 1:
            return f"cancel the common factor `{show(cancelled)}`"
        return "cancel the common factors"
    common, sums = _split_common(out)

    def in_every_term(f: sp.Expr) -> bool:  # σ·(1 − σ)² − σ²·(1 − σ): (1 − σ) is common too
        return all(any(g == f or (g.is_Pow and g.base == f) for g in sp.Mul.make_args(t)) for t in before.args)

    common = common * sp.Mul(*[f for f in sums if in_every_term(f)])
    return f"take out the common factor `{show(common)}`"


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


def _unit_steps(expr: sp.Expr) -> sp.Expr:
    """H(0.99·x) → H(x), H(−0.99·x) → H(−x), H((1 − x)/2) → H(1 − x): only the sign of a number
    inside the step matters. Returns expr itself (the same object) when there is none."""
    if not expr.has(sp.Heaviside):
        return expr

    def bare(h: sp.Heaviside) -> sp.Expr:
        c, u = sp.factor_terms(h.args[0]).as_coeff_Mul()
        if not c.is_number or c in (1, -1) or c == 0:
            return h
        return h.func(u if c.is_positive else -u, *h.args[1:])

    out = expr.replace(lambda e: isinstance(e, sp.Heaviside), bare)
    return expr if out == expr else out


def _same_bases(m: sp.Mul) -> bool:
    """Two powers of the same base in a product: 7^(4 − x²)·7^(x² − 4)."""
    bases = [f.base for f in m.args if isinstance(f, sp.Pow) and not f.exp.is_number]
    return len(bases) != len(set(bases))


def _polynomial(expr: sp.Expr) -> bool:
    """A polynomial in one variable: written out in descending powers (3t² − 16t)."""
    return (
        len(expr.free_symbols) == 1
        and not expr.has(sp.Sum, sp.Indexed, sp.Derivative, sp.Piecewise)
        and expr.is_polynomial()
    )


def _one_fraction(expr: sp.Expr) -> sp.Expr:
    """(f'g − fg')/g² with its numerator multiplied out, when that makes it shorter; expr itself
    (the same object) otherwise."""
    if expr.has(sp.Sum, sp.Piecewise, sp.Derivative, sp.Indexed) or sp.count_ops(expr) > 60:
        return expr
    num, den = sp.fraction(sp.together(expr))
    if den == 1:
        return expr
    num = sp.expand(num)
    candidate = (num if _polynomial(num) else sp.factor_terms(num)) / den
    return candidate if sp.count_ops(candidate) < sp.count_ops(expr) else expr
