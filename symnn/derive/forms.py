"""Results in the form a neural-network course writes them, each rewrite a verified step that
names the identity it uses: 1/(1 + e^(−u)) = σ(u), e^u/(1 + e^u)² = σ(u)(1 − σ(u)), and
−y(1 − σ) + (1 − y)σ = σ − y (binary cross-entropy with logits)."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation

MAX_OPS = 200  # larger results keep their form: factor and cancel would take seconds


def _show(expr: sp.Expr) -> str:
    from symnn.render.text import show

    return show(expr)


def _sigmoid():
    from symnn.ops.functions import sigmoid

    return sigmoid


def in_family(expr: sp.Expr) -> bool:
    """Expressions of the sigmoid family: they hold σ, 1/(1 + e^…), or ln(1 + e^…) as the
    logistic and softplus losses do."""
    if expr.has(_sigmoid()):
        return True
    if any(isinstance(g.args[0], sp.Add) and g.args[0].has(sp.exp) for g in expr.atoms(sp.log)):
        return True
    return bool(_logistic_exponents(expr))


def _logistic_exponents(expr: sp.Expr) -> set:
    """Every w of a factor (1 + e^w)^(−n) in expr."""
    out = set()
    for p in expr.atoms(sp.Pow):
        if p.exp.is_Integer and p.exp < 0 and isinstance(p.base, sp.Add) and len(p.base.args) == 2:
            if sp.S.One in p.base.args:
                other = next(a for a in p.base.args if a != 1)
                if isinstance(other, sp.exp):
                    out.add(other.args[0])
    return out


def sigmoid_form(value: sp.Expr, expr: sp.Expr, used: list | None = None) -> sp.Expr:
    """e^u/(1 + e^u) → σ(u) and 1/(1 + e^u) → σ(−u), for expressions of the sigmoid family.
    Returns value itself (the same object) when nothing was replaced; `used` collects the
    identities applied, as notes."""
    if not in_family(expr):
        return value
    used = [] if used is None else used
    sigmoid = _sigmoid()

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
                    used.append("`e^u/(1 + e^u) = σ(u)`")
                    return fold(e / (f * sp.exp(u))) * sigmoid(u)
        u = logistic(e)
        if u is not None:
            used.append("`1/(1 + e^(−u)) = σ(u)`")
            return sigmoid(-u)
        if not e.args:
            return e
        args = [fold(a) for a in e.args]
        return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e

    return fold(value)


def in_sigmoid(value: sp.Expr, expr: sp.Expr) -> tuple[sp.Expr, str] | None:
    """value written as a polynomial in one σ(u), and the identity used, when that is shorter:
    e^u/(1 + e^u)² → σ(u)(1 − σ(u)); −y(1 − σ(z)) − (y − 1)σ(z) → σ(z) − y. None otherwise."""
    if not in_family(expr) or sp.count_ops(value) > MAX_OPS or value.has(sp.Float):
        return None  # factoring with decimals leaves 1.702·(0.5875… + x…): a rounded form, not an identity
    sigmoid = _sigmoid()
    args = {s.args[0] for s in value.atoms(sigmoid)}
    exps = _logistic_exponents(value)
    us = {-a if a.could_extract_minus_sign() else a for a in args | exps}
    if len(us) != 1:
        return None
    u = us.pop()
    s = sp.Dummy("s")
    candidate = value.xreplace({sigmoid(u): s, sigmoid(-u): 1 - s})
    through_exp = candidate.has(sp.exp)
    if through_exp:
        candidate = candidate.subs(sp.exp(u), s / (1 - s))  # σ = e^u/(1 + e^u), so e^u = σ/(1 − σ)
        if any(e.args[0].free_symbols & u.free_symbols for e in candidate.atoms(sp.exp)):
            return None
    try:
        r = sp.cancel(sp.together(candidate))
        if r.has(sp.exp) or sp.fraction(r)[1].has(s):
            return None
        forms = [sp.factor(r), sp.expand(r)]
    except (sp.PolynomialError, TypeError, ValueError):
        return None
    best = _signed(min(forms, key=sp.count_ops))  # x(σ − y), not −x(y − σ)
    logistic = sp.cancel(r / (s * (1 - s)))
    if not logistic.has(s):  # k·σ(1 − σ), written so
        best = logistic * s * (1 - s)
    fewer = best.count(s) < value.count(sigmoid) + value.count(sp.exp)
    if sp.count_ops(best) >= sp.count_ops(value) or not (through_exp or fewer):
        return None
    out = best.xreplace({s: sigmoid(u)})
    if through_exp:
        note = f"the sigmoid's identities, `u = {_show(u)}`: `σ(u) = e^u/(1 + e^u)`, `1 − σ(u) = 1/(1 + e^u)`"
        if not logistic.has(s):
            note += "; so `e^u/(1 + e^u)² = σ(u)(1 − σ(u))`"
    else:
        note = f"multiply out with `{_show(sigmoid(u))}` as one quantity"
    return out, note


def nn_form(d: Derivation, value: sp.Expr, expr: sp.Expr, var: sp.Expr) -> sp.Expr:
    """The result in a network's form where one applies (σ instead of 1/(1 + e^(−u)),
    σ(u)(1 − σ(u)), σ(z) − y), each rewrite a step that names its identity; a step only when
    the line is new (never one that prints as an earlier line)."""
    from symnn.derive.rules import D

    lhs = D(expr, var)
    formed = in_network_form(d, lhs, value, expr, final=True)
    if formed is not None:
        return formed
    outputs = in_softmax(value, expr, var)
    if outputs is not None and _new(d, lhs, outputs[0]):
        for p, definition in outputs[1].items():
            if d.defs.get(p) != definition:
                d.add(p, definition, DEFINITION, "a softmax output")
        d.add(lhs, outputs[0], "rewriting", outputs[2])
        return outputs[0]
    return value


def in_network_form(d: Derivation, lhs: sp.Expr, value: sp.Expr, expr: sp.Expr, final: bool = False) -> sp.Expr | None:
    """value written with σ, as one step that names the identities it uses, when that reads
    better: e^(−x)/(1 + e^(−x))² = σ(x)(1 − σ(x)), −y·e^(−fy)/(1 + e^(−fy)) = −y·σ(−fy),
    e^(βx)/(1 + e^(βx)) = σ(βx); None (and no step) otherwise. expr: what is differentiated.
    final: the result, which may also be multiplied out in σ (−y(1 − σ) + (1 − y)σ = σ − y);
    inside a derivation only exponentials are rewritten."""
    if not in_family(expr):
        return None
    used: list = []
    nicer = sigmoid_form(value, expr, used)
    if nicer is not value:
        out, note = nicer, f"the sigmoid, `u = {_show(_argument(nicer, value))}`: " + ", ".join(dict.fromkeys(used))
        again = in_sigmoid(nicer, expr)
        if again is not None:  # σ(u) and σ(−u) together: one polynomial in σ(u)
            out, note = again[0], note + "; then " + again[1]
    else:
        found = in_sigmoid(value, expr) if value.has(sp.exp) or final else None
        if found is None:
            return None
        out, note = found
    if not _new(d, lhs, out):
        return None
    from symnn.derive.steps import lettered

    d.add(lhs, out, "rewriting", lettered(d, note))  # u is not the letter of an inner function here
    return out


def _argument(nicer: sp.Expr, value: sp.Expr) -> sp.Expr:
    """The argument of the σ that nicer brought in (the first, if several)."""
    new = sorted(nicer.atoms(_sigmoid()) - value.atoms(_sigmoid()), key=sp.default_sort_key)
    return new[0].args[0] if new else sp.Symbol("u")


def _new(d: Derivation, lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """lhs = rhs prints as no earlier line of d."""
    line = (_show(lhs), _show(rhs))
    return all((_show(s.lhs), _show(s.rhs)) != line for s in d.equations if s.lhs == lhs)


def _softmax_sums(expr: sp.Expr, var: sp.Expr) -> list[sp.Add]:
    """Each denominator Σ_k e^(w_k) of expr (two or more exponentials, one of them holding var)."""
    out = []
    for p in expr.atoms(sp.Pow):
        base = p.base
        if p.exp == -1 and isinstance(base, sp.Add) and len(base.args) >= 2:
            if all(isinstance(t, sp.exp) for t in base.args) and base.has(var) and base not in out:
                out.append(base)
    return out


def in_softmax(value: sp.Expr, expr: sp.Expr, var: sp.Expr) -> tuple[sp.Expr, dict, str] | None:
    """value written in the softmax outputs ŷ_k = e^(w_k)/Σ_j e^(w_j), when that is shorter and
    free of exponentials: (y₁ + y₂)·ŷ₁ − y₁ for a cross-entropy, ŷ₁ŷ₂ for a softmax output.
    Returns (the form, {ŷ_k: its definition}, the note), or None."""
    sums = _softmax_sums(expr, var)
    if len(sums) != 1 or sp.count_ops(value) > MAX_OPS:
        return None
    S = sums[0]
    exps = sorted(S.args, key=sp.default_sort_key)
    own = [e for e in exps if e.has(var)]
    if len(own) != 1:
        return None
    taken = {s.name for s in expr.free_symbols}
    names = []
    for n, e in enumerate(exps, 1):
        w = e.args[0]
        sub = w.name.partition("_")[2] or w.name if isinstance(w, sp.Symbol) else str(n)
        name = f"yhat_{sub}"
        if name in taken or name in names:
            return None
        names.append(name)
    ps = [sp.Symbol(name, positive=True) for name in names]
    T = sp.Dummy("T", positive=True)
    candidate = value
    for e, p in zip(exps, ps):
        candidate = candidate.subs(e, p * T)
    mine = ps[exps.index(own[0])]
    forms: list[tuple[int, float, sp.Expr]] = []
    try:
        r = sp.cancel(sp.together(candidate))
        if r.has(T) or r.has(sp.exp):
            return None
        r = sp.cancel(sp.factor(r).subs(sp.Add(*ps), 1))  # Σ_k ŷ_k = 1
        if not sp.fraction(r)[1].free_symbols & set(ps):
            plain = sp.factor(r)
            # ŷ₁(ŷ₂ + ŷ₃) or y₂ŷ₁ − y₁ŷ₂ holds a sum of outputs that 1 − ŷ₁ writes shorter
            summed = any(len(a.free_symbols & set(ps)) >= 2 for a in sp.preorder_traversal(plain) if a.is_Add)
            forms.append((sp.count_ops(plain), 2 if summed else 0, plain))
        for p in ps:
            if p is not mine:  # one output written through the others: 1 − Σ the rest
                rest = sp.cancel(r.xreplace({p: 1 - sum(q for q in ps if q is not p)}))
                if sp.fraction(rest)[1].free_symbols & set(ps):
                    continue
                factored, collected = _signed(sp.factor(rest)), sp.collect(sp.expand(rest), ps)
                forms += [(sp.count_ops(factored), 1, factored), (sp.count_ops(collected), 1.5, collected)]
    except (sp.PolynomialError, TypeError, ValueError):
        return None
    if not forms:
        return None
    ops, _, best = min(forms, key=lambda f: (f[0], f[1]))
    if ops >= sp.count_ops(value):
        return None
    used = {p: e / S for p, e in zip(ps, exps) if best.has(p)}
    y_hat = _show(mine)
    note = "with the softmax outputs `ŷ_k = e^(w_k)/Σ_j e^(w_j)`, whose sum is 1"
    coeff = sp.expand(best).coeff(mine)
    targets = [a for a in sp.Add.make_args(coeff) if a.is_Symbol]
    if len(targets) == len(ps) and len(targets) == len(sp.Add.make_args(coeff)):
        y_own = sp.expand(-(best - coeff * mine))
        if y_own in targets:
            note += (
                f"; when the targets sum to 1 (`{' + '.join(map(_show, targets))} = 1`, one-hot), "
                f"this is `{y_hat} − {_show(y_own)}`"
            )
    return best, used, note


def _signed(expr: sp.Expr) -> sp.Expr:
    """−ŷ(ŷ − 1) → ŷ(1 − ŷ): the minus sign taken into the one sum of a product."""
    c, rest = expr.as_coeff_Mul()
    sums = [f for f in sp.Mul.make_args(rest) if f.is_Add]
    if c.is_negative and len(sums) == 1:
        return -c * rest / sums[0] * sp.expand(-sums[0])
    return expr
