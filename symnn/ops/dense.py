"""The dense (fully connected) layer in index notation, over a batch of N samples:

    Z[s, j] = Σ_k W[j, k] A[s, k] + b[j]        (weight shaped (out, in), as PyTorch)

Its backward pass is derived, not written: with G[s, j] = ∂L/∂Z[s, j] coming from above,
L = Σ_{s,j} G[s, j] Z[s, j] is differentiated by symnn's rule engine with respect to W[p, q],
b[p] and A[t, q]; the Kronecker deltas collapse into

    ∂L/∂W[p, q] = Σ_s G[s, p] A[s, q]   (BP4)     ∂L/∂b[p] = Σ_s G[s, p]   (BP3)
    ∂L/∂A[t, q] = Σ_j G[t, j] W[j, q]   (the (w)ᵀ δ of BP2)
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symnn.codegen import KernelSpec, Output, register

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


@lru_cache(maxsize=None)
def derivation():
    """The derivation of the three gradients (cached: kernels and `derive dense` share it)."""
    from symnn.derive import derive
    return derive("dense")


@register("dense.forward")
def _forward() -> KernelSpec:
    return KernelSpec("dense.forward", inputs=[A, W, b],
                      outputs=[Output(Z, (s, j), forward_expr(), ranges={s: (0, N - 1), j: (0, n_out - 1)})],
                      shapes=SHAPES, out_shapes={Z: (N, n_out)},
                      doc="Z[s,j] = Σ_k W[j,k] A[s,k] + b[j]")


@register("dense.grad_weight")
def _grad_weight() -> KernelSpec:
    expr = derivation().results["∂L/∂W[p, q]"]
    return KernelSpec("dense.grad_weight", inputs=[G, A],
                      outputs=[Output(dW, (p, q), expr, ranges={p: (0, n_out - 1), q: (0, n_in - 1)})],
                      shapes={N: (A, 0), n_in: (A, 1), n_out: (G, 1)}, out_shapes={dW: (n_out, n_in)},
                      doc="∂L/∂W[p,q], derived by `symnn derive dense`")


@register("dense.grad_bias")
def _grad_bias() -> KernelSpec:
    expr = derivation().results["∂L/∂b[p]"]
    return KernelSpec("dense.grad_bias", inputs=[G],
                      outputs=[Output(db, (p,), expr, ranges={p: (0, n_out - 1)})],
                      shapes={N: (G, 0), n_out: (G, 1)}, out_shapes={db: (n_out,)},
                      doc="∂L/∂b[p], derived by `symnn derive dense`")


@register("dense.grad_input")
def _grad_input() -> KernelSpec:
    expr = derivation().results["∂L/∂A[t, q]"]
    return KernelSpec("dense.grad_input", inputs=[G, W],
                      outputs=[Output(dA, (t, q), expr, ranges={t: (0, N - 1), q: (0, n_in - 1)})],
                      shapes={N: (G, 0), n_out: (W, 0), n_in: (W, 1)}, out_shapes={dA: (N, n_in)},
                      doc="∂L/∂A[t,q], derived by `symnn derive dense`")
