"""The dense (fully connected) layer in index notation, over a batch of N samples:

    Z[t, j] = Σ_k W[j, k] A[t, k] + b[j]        (weight shaped (out, in), as PyTorch)

t is the sample, as in every layer op. Its backward pass is derived, not written: with
G[t, j] = ∂L/∂Z[t, j] coming from above, L = Σ_{t,j} G[t, j] Z[t, j] is differentiated by
symnn's rule engine with respect to W[p, q], b[p] and A[t', q] (the primed index names the
element the gradient is taken at); the Kronecker deltas collapse into

    ∂L/∂W[p, q] = Σ_t G[t, p] A[t, q]   (BP4)     ∂L/∂b[p] = Σ_t G[t, p]   (BP3)
    ∂L/∂A[t', q] = Σ_j G[t', j] W[j, q]   (the (w)ᵀ δ of BP2)

The derivation is `symnn derive dense` (derive/topics/dense.py); its kernels are symnn/kernels/dense.py.
"""

from __future__ import annotations

import sympy as sp

t, j, k, p, q = sp.symbols("t j k p q", integer=True)
t_ = sp.Symbol("t'", integer=True)  # the sample a gradient is taken at
N, n_in, n_out = sp.symbols("N n_in n_out", integer=True, positive=True)
A, W, b, G = (sp.IndexedBase(name, real=True) for name in ("A", "W", "b", "G"))
Z, dW, db, dA = (sp.IndexedBase(name, real=True) for name in ("Z", "dW", "db", "dA"))
SHAPES = {N: (A, 0), n_in: (A, 1), n_out: (W, 0)}


def forward_expr() -> sp.Expr:
    return sp.Sum(W[j, k] * A[t, k], (k, 0, n_in - 1)) + b[j]


def loss_expr() -> sp.Expr:
    """L = Σ_{t,j} G[t,j] Z[t,j]: differentiating it gives the vector-Jacobian products."""
    return sp.Sum(G[t, j] * forward_expr(), (t, 0, N - 1), (j, 0, n_out - 1))
