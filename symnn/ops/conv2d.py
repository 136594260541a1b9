"""The 2-D convolution layer's operation in index notation: a cross-correlation (no flip), as
CNN layers compute it, over a single channel, stride 1, no padding ("valid"):

    Y[i, j] = Σ_m Σ_n X[i + m, j + n] K[m, n]      i ∈ [0, H_in − k_h], j ∈ [0, W_in − k_w]

Its gradients are not written by hand. With G[i, j] = ∂L/∂Y[i, j] coming from above,
L = Σ_{i,j} G[i, j] Y[i, j] is differentiated by SymPy (`sp.diff`) with respect to one kernel
element K[p, q] and one input element X[p, q]. SymPy answers with Kronecker deltas; the code
generator collapses them and turns the range guards into loop bounds:

    ∂L/∂K[p, q] = Σ_{i,j} G[i, j] X[i + p, j + q]          a valid correlation of X with G
    ∂L/∂X[p, q] = Σ_{i,j} G[i, j] K[p − i, q − j],         a full convolution of G with K
                  over max(0, p − k_h + 1) ≤ i ≤ min(p, H_in − k_h) (and likewise j)

Stride, padding and channels extend these definitions (the layer below). The derivations are
`symnn derive conv2d` and `conv2d-layer` (derive/topics/conv2d.py); the kernels symnn/kernels/conv2d.py.
"""

from __future__ import annotations

import sympy as sp

i, j, m, n, p, q = sp.symbols("i j m n p q", integer=True)
H_in, W_in, k_h, k_w = sp.symbols("H_in W_in k_h k_w", integer=True, positive=True)
H_out, W_out = sp.symbols("H_out W_out", integer=True, positive=True)
X, K, G = sp.IndexedBase("X"), sp.IndexedBase("K"), sp.IndexedBase("G")
Y, dK, dX = sp.IndexedBase("Y"), sp.IndexedBase("dK"), sp.IndexedBase("dX")

OUT_RANGES = {i: (0, H_in - k_h), j: (0, W_in - k_w)}


def forward_expr() -> sp.Expr:
    """Y[i, j]: the valid cross-correlation of X with K."""
    return sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, k_h - 1), (n, 0, k_w - 1))


def loss_expr() -> sp.Expr:
    """L = Σ_{i,j} G[i, j] Y[i, j]: its derivatives are the vector-Jacobian products."""
    return sp.Sum(G[i, j] * forward_expr(), (i, 0, H_in - k_h), (j, 0, W_in - k_w))


def grad_wrt_kernel() -> sp.Expr:
    """∂L/∂K[p, q] as SymPy gives it (Kronecker deltas inside the Sums)."""
    return sp.diff(loss_expr(), K[p, q])


def grad_wrt_input() -> sp.Expr:
    """∂L/∂X[p, q] as SymPy gives it (Kronecker deltas inside the Sums)."""
    return sp.diff(loss_expr(), X[p, q])


# -- the batched, strided, multi-channel layer ---------------------------------------------------
# A batch of N inputs X (N, C_in, H_in, W_in), F filters K (F, C_in, k_h, k_w), one bias per filter b (F,),
# stride s; the input is already padded (the layer pads with zeros and crops the gradient):
#
#     Y[t, f, i, j] = Σ_c Σ_m Σ_n X[t, c, s·i + m, s·j + n] K[f, c, m, n] + b[f]
#
# with i ∈ [0, ⌊(H_in − k_h)/s⌋], j ∈ [0, ⌊(W_in − k_w)/s⌋]. The gradients are the results of the
# verified derivation `symnn derive conv2d-layer` (symnn/derive/topics/conv2d.py).
t, c, f = sp.symbols("t c f", integer=True)
t_, c_, f_ = sp.symbols("t' c' f'", integer=True)  # the element a gradient is taken at
N, C_in, F = sp.symbols("N C_in F", integer=True, positive=True)
s = sp.Symbol("s", integer=True, positive=True)
Xb, Kb, bb, Gb = (sp.IndexedBase(name, real=True) for name in ("X", "K", "b", "G"))
Yb, dKb, dbb, dXb = (sp.IndexedBase(name, real=True) for name in ("Y", "dK", "db", "dX"))
H_o = sp.floor((H_in - k_h) / s) + 1  # output height and width of a valid strided layer
W_o = sp.floor((W_in - k_w) / s) + 1
LAYER_RANGES = {t: (0, N - 1), f: (0, F - 1), i: (0, H_o - 1), j: (0, W_o - 1)}
LAYER_SHAPES = {N: (Xb, 0), C_in: (Xb, 1), H_in: (Xb, 2), W_in: (Xb, 3), F: (Kb, 0), k_h: (Kb, 2), k_w: (Kb, 3)}


def layer_forward_expr() -> sp.Expr:
    """Y[t, f, i, j] of the convolutional layer (stride s, channels c, bias per filter)."""
    return (
        sp.Sum(Xb[t, c, s * i + m, s * j + n] * Kb[f, c, m, n], (c, 0, C_in - 1), (m, 0, k_h - 1), (n, 0, k_w - 1))
        + bb[f]
    )


def layer_loss_expr() -> sp.Expr:
    """L = Σ_t Σ_f Σ_i Σ_j G[t, f, i, j] Y[t, f, i, j], with G = ∂L/∂Y from the layer above and
    the output's H_out × W_out read from G (the forward's ⌊(H_in − k_h)/s⌋ + 1)."""
    return sp.Sum(
        Gb[t, f, i, j] * layer_forward_expr(), (t, 0, N - 1), (f, 0, F - 1), (i, 0, H_out - 1), (j, 0, W_out - 1)
    )


GRAD_SHAPES = {N: (Gb, 0), F: (Gb, 1), H_out: (Gb, 2), W_out: (Gb, 3)}
