"""Flattening as an index map: a batch X (N, C, H, W) becomes Y (N, C·H·W), row-major as NumPy's
reshape (channel, then row, then column):

    Y[t, c·H·W + h·W + w] = X[t, c, h, w]      i.e.   Y[t, k] = X[t, ⌊⌊k/W⌋/H⌋, ⌊k/W⌋ mod H, k mod W]

Its derivative is the inverse index map, from the verified derivation `symnn derive flatten`:

    ∂L/∂X[t', c', h', w'] = G[t', c'·H·W + h'·W + w']

The kernels are symnn/kernels/flatten.py.
"""

from __future__ import annotations

import sympy as sp

t, k, c, h, w = sp.symbols("t k c h w", integer=True)
t_, c_, h_, w_ = sp.symbols("t' c' h' w'", integer=True)
N, C, H, W = sp.symbols("N C H W", integer=True, positive=True)
X, G, Y, dX = (sp.IndexedBase(name, real=True) for name in ("X", "G", "Y", "dX"))


def position(c_: sp.Expr, h_: sp.Expr, w_: sp.Expr) -> sp.Expr:
    """The flat position of (c, h, w)."""
    return c_ * H * W + h_ * W + w_


def forward_expr() -> sp.Expr:
    """Y[t, k] = X[t, ⌊⌊k/W⌋/H⌋, ⌊k/W⌋ mod H, k mod W] (⌊⌊k/W⌋/H⌋ = ⌊k/(H·W)⌋, the channel)."""
    row = sp.floor(k / W)  # the row counted over all maps
    return X[t, sp.floor(row / H), sp.Mod(row, H), sp.Mod(k, W)]


def loss_expr() -> sp.Expr:
    """L = Σ_t Σ_k G[t, k] Y[t, k]."""
    return sp.Sum(G[t, k] * forward_expr(), (t, 0, N - 1), (k, 0, C * H * W - 1))


def reindexed_loss_expr() -> sp.Expr:
    """The same sum over (c, h, w) instead of k = c·H·W + h·W + w (a one-to-one change of index)."""
    return sp.Sum(G[t, position(c, h, w)] * X[t, c, h, w], (t, 0, N - 1), (c, 0, C - 1), (h, 0, H - 1), (w, 0, W - 1))
