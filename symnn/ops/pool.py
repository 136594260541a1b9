"""Pooling layers in index notation, over a batch X (N, C_in, H_in, W_in), window k_h × k_w, stride s:

    max pooling      Y[t, c, i, j] = max_{m,n} X[t, c, s·i + m, s·j + n]
    average pooling  Y[t, c, i, j] = 1/(k_h k_w) Σ_m Σ_n X[t, c, s·i + m, s·j + n]

with i ∈ [0, ⌊(H_in − k_h)/s⌋], j ∈ [0, ⌊(W_in − k_w)/s⌋].

The maximum is written so that its derivative is the indicator of the *first* maximum of the
window in row-major order (PyTorch's choice at ties), see `symnn derive maxpool`: entry (m, n)
is selected when no entry beats it, where an entry before it beats it by being ≥ and an entry
after it by being >:

    before(u, v; m, n) = step(m·k_w + n − u·k_w − v)       (1 if (u, v) comes first)
    beats(u, v; m, n)  = before·(1 − step(x_mn − x_uv)) + (1 − before)·step(x_uv − x_mn)
    first(m, n)       = [Σ_u Σ_v beats(u, v; m, n) = 0]
    Y = Σ_m Σ_n first(m, n) x_mn,     A = Σ_m Σ_n (m·k_w + n) first(m, n)   (the "switch")

The backward kernels are the results of the verified derivations `maxpool` (with the switches A
held fixed: the selection's own jumps contribute nothing, as the derivation shows) and `avgpool`.

The kernels are symnn/kernels/pool.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symnn.ops.functions import indicator, step

t, c, i, j, m, n, u, v, p, q = sp.symbols("t c i j m n u v p q", integer=True)
t_, c_ = sp.symbols("t' c'", integer=True)
N, C_in, H_in, W_in = sp.symbols("N C_in H_in W_in", integer=True, positive=True)
k_h, k_w, s = sp.symbols("k_h k_w s", integer=True, positive=True)
H_out, W_out = sp.symbols("H_out W_out", integer=True, positive=True)
X, G, A = (sp.IndexedBase(name, real=True) for name in ("X", "G", "A"))
Y, dX = (sp.IndexedBase(name, real=True) for name in ("Y", "dX"))

H_o = sp.floor((H_in - k_h) / s) + 1
W_o = sp.floor((W_in - k_w) / s) + 1
RANGES = {t: (0, N - 1), c: (0, C_in - 1), i: (0, H_o - 1), j: (0, W_o - 1)}
X_SHAPES = {N: (X, 0), C_in: (X, 1), H_in: (X, 2), W_in: (X, 3)}


def window(a: sp.Expr, b: sp.Expr) -> sp.Indexed:
    """The entry (a, b) of window (i, j) of sample t, channel c."""
    return X[t, c, s * i + a, s * j + b]


def before(a: sp.Expr, b: sp.Expr, a2: sp.Expr, b2: sp.Expr) -> sp.Expr:
    """1 if (a, b) comes before (a2, b2) in row-major order, else 0."""
    return step((a2 * k_w + b2) - (a * k_w + b))


def beats(a: sp.Expr, b: sp.Expr, a2: sp.Expr, b2: sp.Expr) -> sp.Expr:
    """1 when entry (a, b) of the window keeps (a2, b2) from being the first maximum: an entry
    before it by being ≥ (1 − step(y − x)), an entry after it by being > (step(x − y))."""
    x, y = window(a, b), window(a2, b2)
    first = before(a, b, a2, b2)
    return first * (1 - step(y - x)) + (1 - first) * step(x - y)


def count_expr(a: sp.Expr = m, b: sp.Expr = n) -> sp.Expr:
    """How many entries of the window beat entry (a, b)."""
    return sp.Sum(beats(u, v, a, b), (u, 0, k_h - 1), (v, 0, k_w - 1))


def first_expr(a: sp.Expr = m, b: sp.Expr = n) -> sp.Expr:
    """1 if entry (a, b) is the first maximum of its window, else 0."""
    return indicator(count_expr(a, b), 0)


def max_forward_expr() -> sp.Expr:
    """Y[t, c, i, j] = Σ_m Σ_n first(m, n) X[t, c, s·i + m, s·j + n]: the window's maximum."""
    return sp.Sum(first_expr() * window(m, n), (m, 0, k_h - 1), (n, 0, k_w - 1))


def switch_expr() -> sp.Expr:
    """A[t, c, i, j] = Σ_m Σ_n (m·k_w + n) first(m, n): the flat position of the first maximum."""
    return sp.Sum((m * k_w + n) * first_expr(), (m, 0, k_h - 1), (n, 0, k_w - 1))


def selected(a: sp.Expr = m, b: sp.Expr = n) -> sp.Expr:
    """[a·k_w + b = A[t, c, i, j]]: the switch, as the backward pass sees it."""
    return indicator(A[t, c, i, j], a * k_w + b)


def max_select_expr() -> sp.Expr:
    """Y[t, c, i, j] = Σ_m Σ_n [m·k_w + n = A[t, c, i, j]] X[t, c, s·i + m, s·j + n]."""
    return sp.Sum(selected() * window(m, n), (m, 0, k_h - 1), (n, 0, k_w - 1))


def switch_2x2(xs: Sequence[sp.Expr]) -> sp.Expr:
    """The switch of a 2 × 2 window x_0..x_3 (row-major) without counting: the first entry equal
    to the maximum. `symnn derive maxpool` shows it equals Σ_r r·π_r."""
    top = sp.Max(*xs)
    return sp.Piecewise(*[(r, sp.Eq(xs[r], top)) for r in range(3)], (3, True))


def avg_forward_expr() -> sp.Expr:
    return sp.Sum(window(m, n), (m, 0, k_h - 1), (n, 0, k_w - 1)) / (k_h * k_w)


def loss_expr(forward: sp.Expr) -> sp.Expr:
    """L = Σ G[t, c, i, j] Y[t, c, i, j] over the H_out × W_out output (read from G)."""
    return sp.Sum(G[t, c, i, j] * forward, (t, 0, N - 1), (c, 0, C_in - 1), (i, 0, H_out - 1), (j, 0, W_out - 1))


GRAD_SHAPES = {N: (G, 0), C_in: (G, 1), H_out: (G, 2), W_out: (G, 3), H_in: (X, 2), W_in: (X, 3)}
