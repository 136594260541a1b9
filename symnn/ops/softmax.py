"""Softmax with cross-entropy, for a batch of logits Z (N, n_classes) and targets y (N, n_classes) (one-hot rows,
or probabilities summing to 1):

    ŷ[t, j] = exp(Z[t, j]) / Σ_k exp(Z[t, k])          ℓ[t] = −Σ_j y[t, j] log ŷ[t, j]
    L = (1/N) Σ_t ℓ[t]                                  ∂L/∂Z[t, i] = (ŷ[t, i] − y[t, i]) / N

The gradient is the result of the verified derivation `symnn derive softmax-cross-entropy`
(through the softmax Jacobian ∂ŷ_j/∂z_i = ŷ_j(δ_ij − ŷ_i)). The generated forward code is the
numerically stable form found there: with M[t] = max_k Z[t, k] (the row's first maximum, written
as for max pooling),

    ŷ[t, j]      = exp(Z[t, j] − M[t]) / Σ_k exp(Z[t, k] − M[t])
    log ŷ[t, j]  = Z[t, j] − M[t] − log Σ_k exp(Z[t, k] − M[t])        (log-softmax)
    ℓ[t]         = −Σ_j y[t, j] log ŷ[t, j]

Every exponent is ≤ 0 (no overflow) and the sum is ≥ 1 (the log never sees 0). The loss takes
the log-softmax, never log ŷ of a rounded ŷ (which is 0 for a logit far below the maximum), and
never adds the row maximum only to subtract it again (which would cost |M|·ε of absolute error
on a loss that may be tiny).

The kernels are symnn/kernels/softmax.py.
"""

from __future__ import annotations

import sympy as sp

from symnn.ops.functions import indicator, step

t, j, k, u = sp.symbols("t j k u", integer=True)
N, n_classes = sp.symbols("N n_classes", integer=True, positive=True)
Z, M, P, LS, loss = (sp.IndexedBase(name, real=True) for name in ("Z", "M", "P", "LS", "loss"))
targets = sp.IndexedBase("y", real=True)  # y[t, j]: one-hot rows or probabilities
yhat, y = sp.symbols("yhat y", real=True)


class grouped(sp.UnevaluatedExpr):
    """(a − b) kept as one term, so the generated code computes it before the terms around it:
    in Z − M − log Σ, Z − M first (exact when Z is near the maximum M), then the small log is
    taken off; SymPy's own order would compute (Z − log Σ) − M and lose the log's low digits
    to |M|·ε. The value is unchanged (doit() removes the grouping)."""

    def _sympystr(self, printer):  # positive terms first: Z[t, j] - M[t]
        terms = sorted(sp.Add.make_args(self.args[0]), key=lambda a: a.could_extract_minus_sign())
        out = printer._print(terms[0])
        for a in terms[1:]:
            out += f" - {printer._print(-a)}" if a.could_extract_minus_sign() else f" + {printer._print(a)}"
        return out

    def _latex(self, printer, exp=None):
        return rf"\left({printer._print(self.args[0])}\right)"

    def _numbacode(self, printer):  # symnn's NumbaPrinter: the grouping made visible
        return f"({printer._print(self.args[0])})"


def first_expr(row: sp.IndexedBase, a: sp.Expr) -> sp.Expr:
    """1 if row[t, a] is the first maximum of row t (entries before it must be smaller, after it
    not larger), else 0: the count of entries that beat it is 0."""
    earlier = step(a - u)
    beats = earlier * (1 - step(row[t, a] - row[t, u])) + (1 - earlier) * step(row[t, u] - row[t, a])
    return indicator(sp.Sum(beats, (u, 0, n_classes - 1)), 0)


def row_max_expr() -> sp.Expr:
    """M[t] = Σ_k [Z[t, k] is the first maximum] Z[t, k]."""
    return sp.Sum(first_expr(Z, k) * Z[t, k], (k, 0, n_classes - 1))


def stable_softmax_expr() -> sp.Expr:
    return sp.exp(Z[t, j] - M[t]) / sp.Sum(sp.exp(Z[t, k] - M[t]), (k, 0, n_classes - 1))


def log_softmax_expr() -> sp.Expr:
    """log ŷ[t, j] = Z[t, j] − M[t] − log Σ_k exp(Z[t, k] − M[t]): the log-sum-exp step of
    `symnn derive softmax-cross-entropy`, with M[t] the row maximum."""
    return grouped(Z[t, j] - M[t]) - sp.log(sp.Sum(sp.exp(Z[t, k] - M[t]), (k, 0, n_classes - 1)))


def loss_from_log_expr() -> sp.Expr:
    """ℓ[t] = −Σ_j y[t, j] LS[t, j], LS the log-softmax: the cross-entropy's definition."""
    return -sp.Sum(targets[t, j] * LS[t, j], (j, 0, n_classes - 1))
