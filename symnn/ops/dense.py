"""The dense (fully connected) layer in index notation, over a batch of N samples:

    Z[s, j] = Σ_k W[j, k] A[s, k] + b[j]        (weight shaped (out, in), as PyTorch)

Its backward pass is derived, not written: with G[s, j] = ∂L/∂Z[s, j] coming from above,
L = Σ_{s,j} G[s, j] Z[s, j] is differentiated by symnn's rule engine with respect to W[p, q],
b[p] and A[t, q]; the Kronecker deltas collapse into

    ∂L/∂W[p, q] = Σ_s G[s, p] A[s, q]   (BP4)     ∂L/∂b[p] = Σ_s G[s, p]   (BP3)
    ∂L/∂A[t, q] = Σ_j G[t, j] W[j, q]   (the (w)ᵀ δ of BP2)

The derivation is `symnn derive dense` (derive/topics/dense.py); its kernels are symnn/kernels/dense.py.
"""

from __future__ import annotations

import sympy as sp

s, j, k, p, q, t = sp.symbols("s j k p q t", integer=True)
N, n_in, n_out = sp.symbols("N n_in n_out", integer=True, positive=True)
A, W, b, G = (sp.IndexedBase(name, real=True) for name in ("A", "W", "b", "G"))
Z, dW, db, dA = (sp.IndexedBase(name, real=True) for name in ("Z", "dW", "db", "dA"))
SHAPES = {N: (A, 0), n_in: (A, 1), n_out: (W, 0)}


def forward_expr() -> sp.Expr:
    return sp.Sum(W[j, k] * A[s, k], (k, 0, n_in - 1)) + b[j]


def loss_expr() -> sp.Expr:
    """L = Σ_{s,j} G[s,j] Z[s,j]: differentiating it gives the vector-Jacobian products."""
    return sp.Sum(G[s, j] * forward_expr(), (s, 0, N - 1), (j, 0, n_out - 1))
