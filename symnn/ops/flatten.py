"""Flattening as an index map: a batch X (N, C_in, H_in, W_in) becomes Y (N, C_in·H_in·W_in), row-major as NumPy's
reshape (channel, then row, then column):

    Y[t, c·H_in·W_in + h·W_in + w] = X[t, c, h, w]
    i.e.  Y[t, k] = X[t, ⌊⌊k/W_in⌋/H_in⌋, ⌊k/W_in⌋ mod H_in, k mod W_in]

Its derivative is the inverse index map, from the verified derivation `symnn derive flatten`:

    ∂L/∂X[t', c', h', w'] = G[t', c'·H_in·W_in + h'·W_in + w']

The kernels are symnn/kernels/flatten.py.
"""

from __future__ import annotations

import sympy as sp

t, k, c, h, w = sp.symbols("t k c h w", integer=True)
t_, c_, h_, w_ = sp.symbols("t' c' h' w'", integer=True)
N, C_in, H_in, W_in = sp.symbols("N C_in H_in W_in", integer=True, positive=True)
X, G, Y, dX = (sp.IndexedBase(name, real=True) for name in ("X", "G", "Y", "dX"))


def position(c_: sp.Expr, h_: sp.Expr, w_: sp.Expr) -> sp.Expr:
    """The flat position of (c, h, w)."""
    return c_ * H_in * W_in + h_ * W_in + w_


def forward_expr() -> sp.Expr:
    """Y[t, k] = X[t, ⌊⌊k/W_in⌋/H_in⌋, ⌊k/W_in⌋ mod H_in, k mod W_in]
    (⌊⌊k/W_in⌋/H_in⌋ = ⌊k/(H_in·W_in)⌋, the channel)."""
    row = sp.floor(k / W_in)  # the row counted over all maps
    return X[t, sp.floor(row / H_in), sp.Mod(row, H_in), sp.Mod(k, W_in)]


def loss_expr() -> sp.Expr:
    """L = Σ_t Σ_k G[t, k] Y[t, k]."""
    return sp.Sum(G[t, k] * forward_expr(), (t, 0, N - 1), (k, 0, C_in * H_in * W_in - 1))


def reindexed_loss_expr() -> sp.Expr:
    """The same sum over (c, h, w) instead of k = c·H_in·W_in + h·W_in + w (a one-to-one change of index)."""
    return sp.Sum(
        G[t, position(c, h, w)] * X[t, c, h, w], (t, 0, N - 1), (c, 0, C_in - 1), (h, 0, H_in - 1), (w, 0, W_in - 1)
    )
