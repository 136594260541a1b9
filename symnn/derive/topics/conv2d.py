"""Convolution (symnn/ops/conv2d.py): continuous, discrete, cross-correlation, and the layer's
gradients over a batch (kernels: symnn/kernels/conv2d.py)."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.derive.topics.references import LECUN, WU


def conv_symbols():
    """The symbols of the convolution derivations (shared with symnn/kernels/conv2d.py)."""
    ints = sp.symbols("i j m n p q c f", integer=True)
    sizes = sp.symbols("H_in W_in k_h k_w C_in F s P", integer=True, positive=True)
    arrays = {name: sp.IndexedBase(name, real=True) for name in ("X", "K", "G", "Y", "b", "I")}
    return ints, sizes, arrays


@topic("conv2d", "convolution: continuous, discrete, cross-correlation; its gradients with stride, padding, channels")
def conv2d() -> Derivation:
    (i, j, m, n, p, q, c, f), (H_in, W_in, kh, kw, C_in, F, s, P), A = conv_symbols()
    X, K, G, I = A["X"], A["K"], A["G"], A["I"]
    t, tau = sp.symbols("t tau", real=True)
    d = Derivation("Convolution and cross-correlation, forward and backward", references=[WU, LECUN])
    d.intro = (
        "Mathematicians convolve with a flipped kernel; convolutional layers compute the "
        "cross-correlation, which does not flip it. We write both, show how they differ, "
        "then let SymPy differentiate the layer's sum to find its backward pass."
    )
    fc, gc, conv = sp.Function("f"), sp.Function("g"), sp.Function("conv")
    d.section("Continuous convolution")
    d.add(
        conv(t),
        sp.Integral(fc(tau) * gc(t - tau), (tau, -sp.oo, sp.oo)),
        DEFINITION,
        "(f * g)(t): slide the flipped g along f and integrate the product",
    )
    gauss = sp.exp(-(tau**2))
    d.add(
        sp.Integral(gauss * gauss.subs(tau, t - tau), (tau, -sp.oo, sp.oo)),
        sp.sqrt(sp.pi / 2) * sp.exp(-(t**2) / 2),
        "integration",
        "example: two Gaussians e^(−τ²) convolve into a wider Gaussian",
    )
    d.section("Discrete convolution in 1-D and 2-D")
    fd, gd = sp.IndexedBase("f", real=True), sp.IndexedBase("g", real=True)
    conv1 = sp.IndexedBase("(f*g)")
    d.add(
        conv1[n],
        sp.Sum(fd[m] * gd[n - m], (m, -sp.oo, sp.oo)),
        DEFINITION,
        "the integral becomes a sum over the integer positions m",
    )
    conv2 = sp.IndexedBase("(I*K)")
    d.add(
        conv2[i, j],
        sp.Sum(I[i - m, j - n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1)),
        DEFINITION,
        "on an image I with a k_h × k_w kernel K: the kernel is flipped (i − m, j − n)",
    )
    d.section("Cross-correlation: what a convolutional layer computes")
    corr = sp.IndexedBase("(I⋆K)")
    cross = sp.Sum(I[i + m, j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    d.add(
        corr[i, j],
        cross,
        DEFINITION,
        "no flip: the window under the feature detector, multiplied element-wise and summed",
    )
    mm, nn = sp.symbols("m' n'", integer=True)
    rot = sp.IndexedBase("K_rot", real=True)
    d.add(rot[mm, nn], K[-mm, -nn], DEFINITION, "K rotated by 180°")
    d.add(
        cross,
        sp.Sum(I[i - mm, j - nn] * rot[mm, nn], (mm, 1 - kh, 0), (nn, 1 - kw, 0)),
        "substitution",
        "put m' = −m, n' = −n: cross-correlation with K is convolution with K rotated by 180°",
    )
    d.check_subs = {kh: 2, kw: 3, i: 2, j: 1, H_in: 5, W_in: 6, s: 2, P: 1, C_in: 2, F: 2, p: 1, q: 2, c: 1, f: 1}

    d.section("Backward pass of a convolutional layer (stride 1, no padding)")
    L = sp.Symbol("L")
    Ys = sp.IndexedBase("Y", real=True)
    d.add(
        Ys[i, j],
        cross.xreplace({I: X}),
        DEFINITION,
        "the layer's output: X ⋆ K, an (H_in − k_h + 1) × (W_in − k_w + 1) map",
    )
    loss = sp.Sum(G[i, j] * cross.xreplace({I: X}), (i, 0, H_in - kh), (j, 0, W_in - kw))
    d.add(L, loss, DEFINITION, "G[i, j] = ∂L/∂Y[i, j] arrives from the layer above (δ)")
    dK = differentiate(d, loss, K[p, q], lhs=D(L, K[p, q]))
    d.goal("∂L/∂K[p, q]", loss, K[p, q], dK, "dK")
    d.steps[-1].note += ": the kernel gradient is X ⋆ G, a valid cross-correlation of the input with δ"
    dX = differentiate(d, loss, X[p, q], lhs=D(L, X[p, q]))
    d.goal("∂L/∂X[p, q]", loss, X[p, q], dX, "dX")
    d.steps[-1].note += (
        "; the input gradient is a full convolution of δ with K: the kernel rotated "
        "by 180° slides over δ padded with zeros"
    )

    d.section("Stride s and zero padding P: X_pad is X framed by P rows and columns of zeros")
    Xp = sp.IndexedBase("X_pad", real=True)
    strided = sp.Sum(Xp[s * i + m, s * j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    Ho, Wo = sp.floor((H_in + 2 * P - kh) / s), sp.floor((W_in + 2 * P - kw) / s)
    d.add(Ys[i, j], strided, DEFINITION, "the window jumps s pixels: output size ⌊(H_in + 2P − k_h)/s⌋ + 1")
    loss_s = sp.Sum(G[i, j] * strided, (i, 0, Ho), (j, 0, Wo))
    d.add(L, loss_s, DEFINITION, "")
    dK_s = differentiate(d, loss_s, K[p, q], lhs=D(L, K[p, q]))
    d.goal("∂L/∂K[p, q] (stride, padding)", loss_s.xreplace({Xp: X}), K[p, q], dK_s.xreplace({Xp: X}))
    dXp = differentiate(d, loss_s, Xp[p, q], lhs=D(L, Xp[p, q]))
    d.steps[-1].note += "; the gradient of X itself is this one cropped: ∂L/∂X[p, q] = ∂L/∂X_pad[p + P, q + P]"
    d.goal("∂L/∂X_pad[p, q]", loss_s.xreplace({Xp: X}), X[p, q], dXp.xreplace({Xp: X}))

    d.section("Several channels in, several filters out")
    Xc, Kc, Gc, bc = (sp.IndexedBase(nm, real=True) for nm in ("X", "K", "G", "b"))
    multi = sp.Sum(Xc[c, i + m, j + n] * Kc[f, c, m, n], (c, 0, C_in - 1), (m, 0, kh - 1), (n, 0, kw - 1)) + bc[f]
    d.add(
        Ys[f, i, j],
        multi,
        DEFINITION,
        "filter f sums over every input channel c, plus its bias: one feature map per filter",
    )
    loss_c = sp.Sum(Gc[f, i, j] * multi, (f, 0, F - 1), (i, 0, H_in - kh), (j, 0, W_in - kw))
    d.add(L, loss_c, DEFINITION, "")
    cc, ff = sp.symbols("c' f'", integer=True)
    for name, var in (
        ("∂L/∂K[f', c', p, q]", Kc[ff, cc, p, q]),
        ("∂L/∂b[f']", bc[ff]),
        ("∂L/∂X[c', p, q]", Xc[cc, p, q]),
    ):
        value = differentiate(d, loss_c, var, lhs=D(L, var))
        d.goal(name, loss_c, var, value)
    d.check_subs.update({cc: 1, ff: 0})
    return d


@topic("conv2d-layer", "the convolutional layer over a batch: stride, channels, filters, bias; ∂L/∂K, ∂L/∂b, ∂L/∂X")
def conv2d_layer() -> Derivation:
    from symnn.ops import conv2d as op

    t, f, i, j, p, q = op.t, op.f, op.i, op.j, op.p, op.q
    X, K, b = op.Xb, op.Kb, op.bb
    d = Derivation(
        "The convolutional layer over a batch: forward and the three gradients of its backward pass",
        references=[WU, LECUN],
    )
    d.intro = (
        "A batch of N inputs X (N × C_in × H_in × W_in, already framed by its zero padding) passes F filters "
        "K (F × C_in × k_h × k_w) with one bias per filter, moving s pixels at a time. The output Y has "
        "H_out = ⌊(H_in − k_h)/s⌋ + 1 rows and W_out = ⌊(W_in − k_w)/s⌋ + 1 columns. G[t, f, i, j] = "
        "∂L/∂Y[t, f, i, j] is the error arriving from the layer above; differentiating "
        "L = Σ G·Y gives every gradient the layer needs. The layer then crops the padding off ∂L/∂X."
    )
    Ys, L = sp.IndexedBase("Y", real=True), sp.Symbol("L")
    d.add(
        Ys[t, f, i, j],
        op.layer_forward_expr(),
        DEFINITION,
        "sample t, filter f: the window at (s·i, s·j) of every channel, times the filter, summed, plus b[f]",
    )
    d.add(L, op.layer_loss_expr(), DEFINITION, "the loss seen through the upstream gradient G")
    # small sizes where two windows overlap at X[·, ·, 2, ·] (stride 2, k_h = 3)
    d.check_subs = {
        op.N: 2,
        op.C_in: 2,
        op.F: 2,
        op.k_h: 3,
        op.k_w: 2,
        op.s: 2,
        op.H_out: 2,
        op.W_out: 2,
        op.H_in: 6,
        op.W_in: 5,
        op.t_: 1,
        op.c_: 1,
        op.f_: 0,
        p: 2,
        q: 1,
    }
    for title, var, name, key, note in (
        (
            "The kernel gradient: a strided correlation of the input with δ",
            K[op.f_, op.c_, p, q],
            "∂L/∂K[f', c', p, q]",
            "dK",
            "every sample and every output position where K[f', c', p, q] met an input pixel",
        ),
        (
            "The bias gradient: δ summed over the batch and the map",
            b[op.f_],
            "∂L/∂b[f']",
            "db",
            "b[f'] is added to every output of filter f'",
        ),
        (
            "The input gradient: δ spread back through the filters (a full convolution)",
            X[op.t_, op.c_, p, q],
            "∂L/∂X[t', c', p, q]",
            "dX",
            "only the windows that cover (p, q) contribute: 0 ≤ p − s·i ≤ k_h − 1, 0 ≤ q − s·j ≤ k_w − 1; "
            "the code generator turns these guards into the loop bounds of i and j",
        ),
    ):
        d.section(title)
        value = differentiate(d, op.layer_loss_expr(), var, lhs=D(L, var))
        d.steps[-1].note += f": {note}"
        d.goal(name, op.layer_loss_expr(), var, value, key)
    return d
