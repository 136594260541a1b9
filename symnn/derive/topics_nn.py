"""Topics about whole networks: back-propagation (Nielsen's BP1–BP4), derived in index notation."""
from __future__ import annotations

import itertools
import random

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import NIELSEN, topic
from symnn.errors import InputError
from symnn.ops.activations import get_activation
from symnn.ops.costs import check_compatible, get_cost

j, k, i, m = sp.symbols("j k i m", integer=True)
z_ = sp.Symbol("z", real=True)


def layer(name: str, sup: str) -> sp.IndexedBase:
    return sp.IndexedBase(f"{name}^{sup}", real=True)


def _phi(act, arg):
    return act.phi.xreplace({z_: arg})


def _phi_prime(act, arg):
    return act.course_derivative.xreplace({z_: arg})


@topic("backprop", "the four equations of back-propagation (BP1–BP4), derived and checked on a small net")
def backprop(activation: str = "sigmoid", cost: str = "quadratic", layers: int = 2) -> Derivation:
    act, cst = get_activation(activation), get_cost(cost)
    check_compatible(act.name, cst.name)
    if not 2 <= layers <= 4:
        raise InputError(f"--layers must be between 2 and 4 (got {layers}); the check expands the whole net")
    d = Derivation(f"Back-propagation: the four equations ({act.title.lower()}, {cst.title.lower()})",
                   references=[NIELSEN])
    d.intro = ("A layer computes z^l_j = Σ_k w^l_jk a^(l−1)_k + b^l_j and a^l_j = φ(z^l_j). The error "
               "of neuron j in layer l is δ^l_j = ∂C/∂z^l_j. We derive, for the output layer L and the "
               "layer below it, how δ flows backwards and how it gives every gradient; the same steps "
               "hold between any two layers l and l + 1.")
    n = {s: sp.Symbol(f"n_{s}", integer=True, positive=True) for s in ("L", "L-1", "L-2")}
    zL, aL, wL, bL = layer("z", "L"), layer("a", "L"), layer("w", "L"), layer("b", "L")
    zl, al, wl, bl = layer("z", "L-1"), layer("a", "L-1"), layer("w", "L-1"), layer("b", "L-1")
    a0 = layer("a", "L-2")
    y = sp.IndexedBase("y", real=True)
    dL, dl = layer("delta", "L"), layer("delta", "L-1")
    C = sp.Symbol("C")

    d.section("The network, in index notation")
    d.add(zl[j], sp.Sum(wl[j, k] * a0[k], (k, 1, n["L-2"])) + bl[j], DEFINITION, "layer L−1: weighted sum")
    d.add(al[j], _phi(act, zl[j]), DEFINITION, "layer L−1: activation")
    d.add(zL[j], sp.Sum(wL[j, k] * al[k], (k, 1, n["L-1"])) + bL[j], DEFINITION, "output layer L: weighted sum")
    d.add(aL[j], _phi(act, zL[j]), DEFINITION, "output layer L: activation")
    cost_expr = cst.outer(sp.Sum(cst.term(aL[k], y[k]), (k, 1, n["L"])))
    d.add(C, cost_expr, DEFINITION, f"the {cst.title.lower()} over the n_L outputs")
    d.check_subs = {n["L"]: 2, n["L-1"]: 3, n["L-2"]: 2, j: 1, k: 2, m: 2}

    d.section("BP1: the error of the output layer")
    d.add(dL[j], D(C, zL[j]), DEFINITION, "δ^L_j: how much C changes when z^L_j changes")
    d.add(D(C, zL[j]), sp.Sum(D(C, aL[m]) * D(aL[m], zL[j]), (m, 1, n["L"])), "chain rule",
          "C depends on z^L_j through the outputs a^L_m")
    differentiate(d, _phi(act, zL[m]), zL[j], lhs=D(aL[m], zL[j]))
    d.add(D(C, zL[j]), D(C, aL[j]) * _phi_prime(act, zL[j]), "Kronecker-delta collapse",
          "a^L_m depends on z^L_j only when m = j")
    grad_a = differentiate(d, cost_expr, aL[j], lhs=D(C, aL[j]))
    d.add(dL[j], grad_a * _phi_prime(act, zL[j]), "substitution", "BP1: δ^L_j = ∂C/∂a^L_j · φ'(z^L_j)")

    d.section("BP2: the error moves back one layer")
    d.add(dl[j], D(C, zl[j]), DEFINITION, "δ^(L−1)_j")
    d.add(D(C, zl[j]), sp.Sum(D(C, zL[m]) * D(zL[m], zl[j]), (m, 1, n["L"])), "chain rule",
          "C depends on z^(L−1)_j through every z^L_m of the next layer")
    local = differentiate(d, sp.Sum(wL[m, k] * _phi(act, zl[k]), (k, 1, n["L-1"])) + bL[m], zl[j],
                          lhs=D(zL[m], zl[j]))
    d.add(dl[j], sp.Sum(dL[m] * local, (m, 1, n["L"])), "substitution",
          "BP2: δ^(L−1)_j = Σ_m w^L_mj δ^L_m · φ'(z^(L−1)_j), i.e. ((w^L)ᵀ δ^L) ⊙ φ'(z^(L−1))")

    d.section("BP3: the gradient of a bias")
    d.add(D(C, bl[j]), sp.Sum(D(C, zl[m]) * D(zl[m], bl[j]), (m, 1, n["L-1"])), "chain rule",
          "b^(L−1)_j acts on C only through z^(L−1)_m")
    local_b = differentiate(d, sp.Sum(wl[m, i] * a0[i], (i, 1, n["L-2"])) + bl[m], bl[j], lhs=D(zl[m], bl[j]))
    d.add(D(C, bl[j]), sp.Sum(dl[m] * local_b, (m, 1, n["L-1"])), "substitution", "")
    d.add(D(C, bl[j]), dl[j], "Kronecker-delta collapse", "BP3: ∂C/∂b^l_j = δ^l_j")

    d.section("BP4: the gradient of a weight")
    d.add(D(C, wl[j, k]), sp.Sum(D(C, zl[m]) * D(zl[m], wl[j, k]), (m, 1, n["L-1"])), "chain rule",
          "w^(L−1)_jk acts on C only through z^(L−1)_m")
    local_w = differentiate(d, sp.Sum(wl[m, i] * a0[i], (i, 1, n["L-2"])) + bl[m], wl[j, k],
                            lhs=D(zl[m], wl[j, k]))
    d.add(D(C, wl[j, k]), sp.Sum(dl[m] * local_w, (m, 1, n["L-1"])), "substitution", "")
    d.add(D(C, wl[j, k]), a0[k] * dl[j], "Kronecker-delta collapse",
          "BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j — input activation times output error")

    _matrix_form(d, act, n, dict(dL=dL, dl=dl, zL=zL, zl=zl, wL=wL, a0=a0, grad_a=grad_a, C=C, bl=bl, wl=wl))
    _check_on_concrete_net(d, act, cst, layers, grad_a, aL, y, n["L"])
    return d


def _matrix_form(d: Derivation, act, n, q) -> None:
    """BP1–BP4 with vectors and matrices; each line is checked component by component."""
    d.section("The same four equations in matrix form (⊙ is the element-wise product)")
    sizes = {n["L"]: 2, n["L-1"]: 3, n["L-2"]: 2}
    NL, Nl, N0 = (sizes[n[s]] for s in ("L", "L-1", "L-2"))
    vec = lambda name, size: sp.MatrixSymbol(name, size, 1)  # noqa: E731
    deltaL, deltal = vec("delta^L", NL), vec("delta^l", Nl)
    delta_next = vec("delta^{l+1}", NL)
    gradC, sp_zL, sp_zl = vec("nabla_a C", NL), vec("phi'(z^L)", NL), vec("phi'(z^l)", Nl)
    W = sp.MatrixSymbol("w^{l+1}", NL, Nl)
    a_prev = vec("a^{l-1}", N0)

    def comp(expr_of_j, rows, cols=1):
        return sp.Matrix(rows, cols, lambda r, c: expr_of_j(r + 1, c + 1))
    lhs1 = comp(lambda r, _: q["dL"][r], NL)
    rhs1 = comp(lambda r, _: q["grad_a"].xreplace({j: r}) * _phi_prime(act, q["zL"][r]), NL)
    d.add(deltaL, sp.HadamardProduct(gradC, sp_zL), "BP1 (matrix form)", "δ^L = ∇_a C ⊙ φ'(z^L)").check = (lhs1, rhs1)
    lhs2 = comp(lambda r, _: q["dl"][r], Nl)
    rhs2 = comp(lambda r, _: sum(q["wL"][mm, r] * q["dL"][mm] for mm in range(1, NL + 1))
                * _phi_prime(act, q["zl"][r]), Nl)
    d.add(deltal, sp.HadamardProduct(W.T * delta_next, sp_zl), "BP2 (matrix form)",
          "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ φ'(z^l)").check = (lhs2, rhs2)
    lhs3 = comp(lambda r, _: D(q["C"], q["bl"][r]), Nl)
    d.add(sp.MatrixSymbol("nabla_b C", Nl, 1), deltal, "BP3 (matrix form)", "∂C/∂b^l = δ^l").check = (
        lhs3, comp(lambda r, _: q["dl"][r], Nl))
    lhs4 = comp(lambda r, c: D(q["C"], q["wl"][r, c]), Nl, N0)
    rhs4 = comp(lambda r, c: q["dl"][r] * q["a0"][c], Nl, N0)
    d.add(sp.MatrixSymbol("nabla_w C", Nl, N0), deltal * a_prev.T, "BP4 (matrix form)",
          "∂C/∂w^l = δ^l (a^(l−1))ᵀ, an outer product").check = (lhs4, rhs4)


def _check_on_concrete_net(d: Derivation, act, cst, layers: int, grad_a, aL_, y_, nL) -> None:
    """Expand a whole small net and set one goal per weight: BP result vs sympy.diff of C."""
    sizes = [2] + [3] * (layers - 1) + [2]
    x = [sp.Symbol(f"x_{q}", real=True) for q in range(1, sizes[0] + 1)]
    y = [sp.Symbol(f"y_{q}", real=True) for q in range(1, sizes[-1] + 1)]
    W = [sp.Matrix(sizes[l + 1], sizes[l], lambda r, c, l=l: sp.Symbol(f"w^{l + 1}_{r + 1}{c + 1}", real=True))
         for l in range(layers)]
    B = [sp.Matrix(sizes[l + 1], 1, lambda r, c, l=l: sp.Symbol(f"b^{l + 1}_{r + 1}", real=True))
         for l in range(layers)]
    a_vals, zs = [sp.Matrix(x)], []
    for Wl, bl in zip(W, B):
        zs.append(Wl * a_vals[-1] + bl)
        a_vals.append(zs[-1].applyfunc(lambda e: _phi(act, e)))
    C_full = cst.outer(sum(cst.term(a_vals[-1][q], y[q]) for q in range(sizes[-1])))
    # BP1 then BP2 backwards, with the derived formulas
    concrete = {**{aL_[q + 1]: a_vals[-1][q] for q in range(sizes[-1])},
                **{y_[q + 1]: y[q] for q in range(sizes[-1])}}

    def grad(q: int) -> sp.Expr:  # the derived ∂C/∂a^L_j at j = q + 1
        return grad_a.xreplace({j: q + 1}).subs(nL, sizes[-1]).doit().xreplace(concrete)
    delta = [None] * layers
    delta[-1] = sp.Matrix([grad(q) * _phi_prime(act, zs[-1][q]) for q in range(sizes[-1])])
    for l in range(layers - 2, -1, -1):
        back = W[l + 1].T * delta[l + 1]
        delta[l] = sp.Matrix([back[q] * _phi_prime(act, zs[l][q]) for q in range(sizes[l + 1])])
    d.section(f"Check on a whole {'-'.join(map(str, sizes))} net: BP1–BP4 vs sympy.diff of C")
    for l in range(layers):
        for r in range(sizes[l + 1]):
            d.goal(f"∂C/∂{sp.sstr(B[l][r])}", C_full, B[l][r], delta[l][r])
            for c in range(sizes[l]):
                d.goal(f"∂C/∂{sp.sstr(W[l][r, c])}", C_full, W[l][r, c], a_vals[l][c] * delta[l][r])


@topic("dense", "the dense layer's gradients ∂L/∂W, ∂L/∂b, ∂L/∂A over a batch, in index notation")
def dense() -> Derivation:
    from symnn.ops import dense as op
    d = Derivation("The dense layer: forward and the three gradients its backward pass needs",
                   references=[NIELSEN])
    d.intro = ("A batch of N samples A (N × n_in) passes a layer with weight W (n_out × n_in) and bias b. "
               "G[s, j] = ∂L/∂Z[s, j] is the error arriving from above (δ in Nielsen's notation); "
               "differentiating L = Σ G·Z gives every gradient the layer hands on.")
    Zs, L = sp.IndexedBase("Z", real=True), sp.Symbol("L")
    d.add(Zs[op.s, op.j], op.forward_expr(), DEFINITION, "the weighted sums of every sample")
    d.add(L, op.loss_expr(), DEFINITION, "the loss seen through the upstream gradient G")
    d.check_subs = {op.N: 2, op.n_in: 3, op.n_out: 2, op.p: 1, op.q: 2, op.t: 1}
    for title, var, name, key in (("The weight gradient (BP4, summed over the batch)", op.W[op.p, op.q], "∂L/∂W[p, q]", "dW"),
                             ("The bias gradient (BP3, summed over the batch)", op.b[op.p], "∂L/∂b[p]", "db"),
                             ("The gradient passed to the layer below (the Wᵀ δ of BP2)", op.A[op.t, op.q], "∂L/∂A[t, q]",
                              "dA")):
        d.section(title)
        value = differentiate(d, op.loss_expr(), var, lhs=D(L, var))
        d.goal(name, op.loss_expr(), var, value, key)
    return d


WU = "Wu, J. (2017). Introduction to Convolutional Neural Networks. http://cs.nju.edu.cn/wujx/paper/CNN.pdf"
LECUN = "LeCun, Y. et al. (1998). Gradient-Based Learning Applied to Document Recognition. http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf"


def conv_symbols():
    """The symbols of the convolution derivations (shared with symnn/kernels/conv2d.py)."""
    ints = sp.symbols("i j m n p q c f", integer=True)
    sizes = sp.symbols("H W k_h k_w C F s P", integer=True, positive=True)
    arrays = {name: sp.IndexedBase(name, real=True) for name in ("X", "K", "G", "Y", "b", "I")}
    return ints, sizes, arrays


@topic("conv2d", "convolution: continuous, discrete, cross-correlation; its gradients with stride, padding, channels")
def conv2d() -> Derivation:
    (i, j, m, n, p, q, c, f), (H, W, kh, kw, C, F, s, P), A = conv_symbols()
    X, K, G, I = A["X"], A["K"], A["G"], A["I"]
    t, tau = sp.symbols("t tau", real=True)
    d = Derivation("Convolution and cross-correlation, forward and backward", references=[WU, LECUN])
    d.intro = ("Mathematicians convolve with a flipped kernel; convolutional layers compute the "
               "cross-correlation, which does not flip it. We write both, show how they differ, "
               "then let SymPy differentiate the layer's sum to find its backward pass.")
    fc, gc, conv = sp.Function("f"), sp.Function("g"), sp.Function("conv")
    d.section("Continuous convolution")
    d.add(conv(t), sp.Integral(fc(tau) * gc(t - tau), (tau, -sp.oo, sp.oo)), DEFINITION,
          "(f * g)(t): slide the flipped g along f and integrate the product")
    gauss = sp.exp(-tau ** 2)
    d.add(sp.Integral(gauss * gauss.subs(tau, t - tau), (tau, -sp.oo, sp.oo)),
          sp.sqrt(sp.pi / 2) * sp.exp(-t ** 2 / 2), "integration",
          "example: two Gaussians e^(−τ²) convolve into a wider Gaussian")
    d.section("Discrete convolution in 1-D and 2-D")
    fd, gd = sp.IndexedBase("f", real=True), sp.IndexedBase("g", real=True)
    conv1 = sp.IndexedBase("(f*g)")
    d.add(conv1[n], sp.Sum(fd[m] * gd[n - m], (m, -sp.oo, sp.oo)), DEFINITION,
          "the integral becomes a sum over the integer positions m")
    conv2 = sp.IndexedBase("(I*K)")
    d.add(conv2[i, j], sp.Sum(I[i - m, j - n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1)), DEFINITION,
          "on an image I with a k_h × k_w kernel K: the kernel is flipped (i − m, j − n)")
    d.section("Cross-correlation: what a convolutional layer computes")
    corr = sp.IndexedBase("(I⋆K)")
    cross = sp.Sum(I[i + m, j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    d.add(corr[i, j], cross, DEFINITION,
          "no flip: the window under the feature detector, multiplied element-wise and summed")
    mm, nn = sp.symbols("m' n'", integer=True)
    rot = sp.IndexedBase("K_rot", real=True)
    d.add(rot[mm, nn], K[-mm, -nn], DEFINITION, "K rotated by 180°")
    d.add(cross, sp.Sum(I[i - mm, j - nn] * rot[mm, nn], (mm, 1 - kh, 0), (nn, 1 - kw, 0)), "substitution",
          "put m' = −m, n' = −n: cross-correlation with K is convolution with K rotated by 180°")
    d.check_subs = {kh: 2, kw: 3, i: 2, j: 1, H: 5, W: 6, s: 2, P: 1, C: 2, F: 2, p: 1, q: 2, c: 1, f: 1}

    d.section("Backward pass of a convolutional layer (stride 1, no padding)")
    L = sp.Symbol("L")
    Ys = sp.IndexedBase("Y", real=True)
    d.add(Ys[i, j], cross.xreplace({I: X}), DEFINITION, "the layer's output: X ⋆ K, an (H − k_h + 1) × (W − k_w + 1) map")
    loss = sp.Sum(G[i, j] * cross.xreplace({I: X}), (i, 0, H - kh), (j, 0, W - kw))
    d.add(L, loss, DEFINITION, "G[i, j] = ∂L/∂Y[i, j] arrives from the layer above (δ)")
    dK = differentiate(d, loss, K[p, q], lhs=D(L, K[p, q]))
    d.goal("∂L/∂K[p, q]", loss, K[p, q], dK, "dK")
    d.steps[-1].note += ": the kernel gradient is X ⋆ G, a valid cross-correlation of the input with δ"
    dX = differentiate(d, loss, X[p, q], lhs=D(L, X[p, q]))
    d.goal("∂L/∂X[p, q]", loss, X[p, q], dX, "dX")
    d.steps[-1].note += ("; the input gradient is a full convolution of δ with K: the kernel rotated "
                         "by 180° slides over δ padded with zeros")

    d.section("Stride s and zero padding P: X_pad is X framed by P rows and columns of zeros")
    Xp = sp.IndexedBase("X_pad", real=True)
    strided = sp.Sum(Xp[s * i + m, s * j + n] * K[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    Ho, Wo = sp.floor((H + 2 * P - kh) / s), sp.floor((W + 2 * P - kw) / s)
    d.add(Ys[i, j], strided, DEFINITION, "the window jumps s pixels: output size ⌊(H + 2P − k_h)/s⌋ + 1")
    loss_s = sp.Sum(G[i, j] * strided, (i, 0, Ho), (j, 0, Wo))
    d.add(L, loss_s, DEFINITION, "")
    dK_s = differentiate(d, loss_s, K[p, q], lhs=D(L, K[p, q]))
    d.goal("∂L/∂K[p, q] (stride, padding)", loss_s.xreplace({Xp: X}), K[p, q], dK_s.xreplace({Xp: X}))
    dXp = differentiate(d, loss_s, Xp[p, q], lhs=D(L, Xp[p, q]))
    d.steps[-1].note += "; the gradient of X itself is this one cropped: ∂L/∂X[p, q] = ∂L/∂X_pad[p + P, q + P]"
    d.goal("∂L/∂X_pad[p, q]", loss_s.xreplace({Xp: X}), X[p, q], dXp.xreplace({Xp: X}))

    d.section("Several channels in, several filters out")
    Xc, Kc, Gc, bc = (sp.IndexedBase(nm, real=True) for nm in ("X", "K", "G", "b"))
    multi = sp.Sum(Xc[c, i + m, j + n] * Kc[f, c, m, n], (c, 0, C - 1), (m, 0, kh - 1), (n, 0, kw - 1)) + bc[f]
    d.add(Ys[f, i, j], multi, DEFINITION, "filter f sums over every input channel c, plus its bias: one feature map per filter")
    loss_c = sp.Sum(Gc[f, i, j] * multi, (f, 0, F - 1), (i, 0, H - kh), (j, 0, W - kw))
    d.add(L, loss_c, DEFINITION, "")
    cc, ff = sp.symbols("c' f'", integer=True)
    for name, var in (("∂L/∂K[f', c', p, q]", Kc[ff, cc, p, q]), ("∂L/∂b[f']", bc[ff]),
                      ("∂L/∂X[c', p, q]", Xc[cc, p, q])):
        value = differentiate(d, loss_c, var, lhs=D(L, var))
        d.goal(name, loss_c, var, value)
    d.check_subs.update({cc: 1, ff: 0})
    return d


@topic("conv2d-layer", "the convolutional layer over a batch: stride, channels, filters, bias; ∂L/∂K, ∂L/∂b, ∂L/∂X")
def conv2d_layer() -> Derivation:
    from symnn.ops import conv2d as op
    t, f, c, i, j, m, n, p, q = op.t, op.f, op.c, op.i, op.j, op.m, op.n, op.p, op.q
    X, K, b, G = op.Xb, op.Kb, op.bb, op.Gb
    d = Derivation("The convolutional layer over a batch: forward and the three gradients of its backward pass",
                   references=[WU, LECUN])
    d.intro = ("A batch of N inputs X (N × C × H × W, already framed by its zero padding) passes F filters "
               "K (F × C × k_h × k_w) with one bias per filter, moving s pixels at a time. The output Y has "
               "H_out = ⌊(H − k_h)/s⌋ + 1 rows and W_out = ⌊(W − k_w)/s⌋ + 1 columns. G[t, f, i, j] = "
               "∂L/∂Y[t, f, i, j] is the error arriving from the layer above; differentiating "
               "L = Σ G·Y gives every gradient the layer needs. The layer then crops the padding off ∂L/∂X.")
    Ys, L = sp.IndexedBase("Y", real=True), sp.Symbol("L")
    d.add(Ys[t, f, i, j], op.layer_forward_expr(), DEFINITION,
          "sample t, filter f: the window at (s·i, s·j) of every channel, times the filter, summed, plus b[f]")
    d.add(L, op.layer_loss_expr(), DEFINITION, "the loss seen through the upstream gradient G")
    # small sizes where two windows overlap at X[·, ·, 2, ·] (stride 2, k_h = 3)
    d.check_subs = {op.N: 2, op.C: 2, op.F: 2, op.k_h: 3, op.k_w: 2, op.s: 2, op.H_out: 2, op.W_out: 2,
                    op.H: 6, op.W: 5, op.t_: 1, op.c_: 1, op.f_: 0, p: 2, q: 1}
    for title, var, name, key, note in (
            ("The kernel gradient: a strided correlation of the input with δ", K[op.f_, op.c_, p, q],
             "∂L/∂K[f', c', p, q]", "dK", "every sample and every output position where K[f', c', p, q] met an input pixel"),
            ("The bias gradient: δ summed over the batch and the map", b[op.f_], "∂L/∂b[f']", "db",
             "b[f'] is added to every output of filter f'"),
            ("The input gradient: δ spread back through the filters (a full convolution)",
             X[op.t_, op.c_, p, q], "∂L/∂X[t', c', p, q]", "dX",
             "only the windows that cover (p, q) contribute: 0 ≤ p − s·i ≤ k_h − 1, 0 ≤ q − s·j ≤ k_w − 1; "
             "the code generator turns these guards into the loop bounds of i and j")):
        d.section(title)
        value = differentiate(d, op.layer_loss_expr(), var, lhs=D(L, var))
        d.steps[-1].note += f": {note}"
        d.goal(name, op.layer_loss_expr(), var, value, key)
    return d


def named(text: str, latex: str, **assumptions) -> sp.Symbol:
    """A symbol that prints as `text` (unicode, e.g. π_0) and as `latex` in LaTeX (\\pi_{0})."""
    cls = type("NamedSymbol", (sp.Symbol,), {"_latex": lambda self, printer, tex=latex: tex})
    return cls(text, **assumptions)


PYTORCH_POOL = "PyTorch documentation, torch.nn.MaxPool2d and its backward (max_pool2d_with_indices): the gradient goes to the index of the first maximum. https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html"


@topic("maxpool", "max pooling: the first maximum as a product of steps; its derivative routes δ to the arg-max (ties: first, as PyTorch)")
def maxpool() -> Derivation:
    from symnn.ops import pool as op
    from symnn.ops.functions import step
    t, c, i, j = op.t, op.c, op.i, op.j
    d = Derivation("Max pooling: forward, and the backward pass that routes δ to the first maximum",
                   references=[LECUN, PYTORCH_POOL])
    d.intro = ("A max-pooling layer keeps the largest value of each k_h × k_w window (moving s pixels at a "
               "time). Its backward pass sends each window's error to the entry that was the maximum — the "
               "\"switch\". When several entries tie for the maximum, PyTorch sends all of it to the first one "
               "in row-major order. We find a formula for the maximum whose derivative is exactly that.")
    Ys = sp.IndexedBase("Y", real=True)
    xs = sp.symbols("x_0:4", real=True)
    d.section("The forward pass")
    d.add(Ys[t, c, i, j], sp.Max(*[op.window(a, b) for a in range(2) for b in range(2)]), DEFINITION,
          "a 2 × 2 window (k_h = k_w = 2): sample t, channel c, the window at (s·i, s·j)")

    d.section("What SymPy's derivative of Max says")
    d.add(D(sp.Max(xs[0], xs[1]), xs[0]), sp.Heaviside(xs[0] - xs[1]), "known derivative",
          "SymPy differentiates max(x_0, x_1) into a Heaviside step, with Heaviside(0) = 1/2: at a tie "
          "x_0 = x_1 each entry would get half of the gradient. PyTorch gives all of it to the first maximum; "
          "so we write the maximum differently")
    d.check_subs = {}

    d.section("The first maximum as a product of steps")
    pis = [named(f"π_{r}", rf"\pi_{{{r}}}", real=True) for r in range(4)]
    window_names = ", ".join(f"x_{r}" for r in range(4))

    def first_max(r: int) -> sp.Expr:
        return sp.Mul(*[step(xs[r] - xs[k]) for k in range(r)], *[1 - step(xs[k] - xs[r]) for k in range(r + 1, 4)])
    for r in range(4):
        d.add(pis[r], first_max(r), DEFINITION,
              ("the window's entries in row-major order are " + window_names + "; " if r == 0 else "")
              + f"π_{r} = 1 when x_{r} is strictly larger than every entry before it (step(0) = 0) and not "
                f"smaller than any entry after it (1 − step(0) = 1)" if r in (0, 1) else "")
    # The steps only compare entries, so the four values' order decides everything: the points of
    # {0, 1, 2, 3}^4 realise every order of four numbers, ties included, and checking them all is a proof.
    grid = [dict(zip(xs, pt)) for pt in itertools.product(range(4), repeat=4)]

    def on_grid(expr):
        return sp.Matrix([expr.xreplace(pt) for pt in grid])
    d.add(sp.Add(*pis), 1, "case analysis",
          "exactly one π_r is 1: the first entry that reaches the maximum (checked on every order of four "
          "values, ties included: all 256 points of {0, 1, 2, 3}⁴)").check = (
        on_grid(sp.Add(*[first_max(r) for r in range(4)])), on_grid(sp.S.One))
    d.add(sp.Max(*xs), sp.Add(*[pis[r] * xs[r] for r in range(4)]), "case analysis",
          "so the sum Σ π_r x_r picks the maximum, and at a tie the first of the tied entries").check = (
        on_grid(sp.Max(*xs)), on_grid(sp.Add(*[first_max(r) * xs[r] for r in range(4)])))
    tie = dict(zip(xs, (5, 5, 1, 5)))
    lhs = sp.Matrix([pis[r] for r in range(4)])
    step_ = d.add(lhs, sp.Matrix([1, 0, 0, 0]), "substitution",
                  "an example with a three-way tie, x = (5, 5, 1, 5): only π_0 is 1")
    step_.check = (sp.Matrix([first_max(r).xreplace(tie) for r in range(4)]), sp.Matrix([1, 0, 0, 0]))
    d.add(sp.Add(*[r * pis[r] for r in range(1, 4)]), op.switch_2x2(xs), "case analysis",
          "the position of the first maximum, Σ r·π_r, is the first entry equal to the maximum (all 256 "
          "points). With Max(x_0, …, x_3) = Σ π_r x_r above, this is how the kernel specialised to a 2 × 2 "
          "window computes Y and its switch: 3 comparisons instead of counting 16").check = (
        on_grid(sp.Add(*[r * first_max(r) for r in range(1, 4)])), on_grid(op.switch_2x2(xs)))

    d.section("Its derivative is the indicator of the first maximum")
    y2 = xs[0] * (1 - step(xs[1] - xs[0])) + xs[1] * step(xs[1] - xs[0])
    ysym = sp.Symbol("y", real=True)
    d.add(ysym, y2, DEFINITION, "first with two entries: y = π_0 x_0 + π_1 x_1 = max(x_0, x_1)")
    value = differentiate(d, y2, xs[0], lhs=D(ysym, xs[0]))
    d.add(D(ysym, xs[0]), 1 - step(xs[1] - xs[0]), "u·δ(u) = 0",
          f"the term {sp.sstr(sp.factor_terms(value - (1 - step(xs[1] - xs[0]))))} vanishes: δ(u) is 0 for every u ≠ 0 "
          "and u is 0 where it is not. The step's jump meets a zero factor, so the derivative is π_0: 1 when x_0 "
          "is the first maximum (x_0 ≥ x_1), else 0 — at the tie x_0 = x_1 all of the gradient goes to x_0")
    d.goal("∂max(x_0, x_1)/∂x_0 (first maximum)", y2, xs[0], 1 - step(xs[1] - xs[0]))
    y4 = sp.Add(*[first_max(r) * xs[r] for r in range(4)])
    rnd = random.Random(4)
    points = [dict(zip(xs, rnd.sample(range(1, 1000), 4))) for _ in range(4)]   # four distinct values
    for r in range(4):
        d.add(D(sp.Max(*xs), xs[r]), pis[r], "u·δ(u) = 0",
              "for the 2 × 2 window the same happens: every step's jump comes in a pair "
              "(x_a − x_b)·δ(x_a − x_b) = 0, and what is left is π_r (checked exactly with SymPy's "
              "derivative of Σ π_r x_r at random points, where no entries tie)" if r == 0 else "")
        dy = sp.diff(y4, xs[r])
        d.steps[-1].check = (sp.Matrix([dy.xreplace(pt) for pt in points]),
                             sp.Matrix([first_max(r).xreplace(pt) for pt in points]))
    d.section("Counting instead of multiplying: any window size, and the switch")
    counts = sp.symbols("c_0:4", integer=True)
    d.add(counts[0], sp.Add(*[step(xs[k] - xs[0]) for k in range(1, 4)]), DEFINITION,
          "c_r counts the factors of π_r that are 0: the entries before x_r that are ≥ x_r, and those after it "
          "that are > x_r. For the code we count, which works for any k_h × k_w without writing out products")
    d.add(pis[0], op.indicator(counts[0], 0), "case analysis",
          "a product of 0/1 factors is 1 exactly when none of them is 0").check = (
        on_grid(first_max(0)), on_grid(op.indicator(sp.Add(*[step(xs[k] - xs[0]) for k in range(1, 4)]), 0)))
    d.add(op.A[t, c, i, j], op.switch_expr(), DEFINITION,
          "the switch: the row-major position m·k_w + n of the first maximum, where first(m, n) = "
          "[Σ_u Σ_v beats(u, v; m, n) = 0]; the forward kernel computes it beside Y (maxpool.forward)")
    d.defs.pop(op.A[t, c, i, j])      # from here on A is the stored switch, an input of the backward pass
    d.add(Ys[t, c, i, j], op.max_forward_expr(), DEFINITION,
          "the pooled value, any window size: Σ_m Σ_n first(m, n)·x_mn")

    d.section("The backward pass of the layer")
    d.add(Ys[t, c, i, j], op.max_select_expr(), DEFINITION,
          "with the switch A fixed: A changes only where two entries tie, and the previous section showed that "
          "those jumps contribute nothing to the derivative")
    _pool_backward(d, op, op.max_select_expr(),
                   ": each window that covers (p, q) hands on its δ only if (p, q) is its first "
                   "maximum; the code generator turns the window guards into loop bounds")
    return d


def _pool_backward(d: Derivation, op, forward: sp.Expr, note: str) -> None:
    """L = Σ G·Y for the pooled Y = forward, differentiated with respect to X[t', c', p, q]."""
    L, p, q = sp.Symbol("L"), op.p, op.q
    loss = op.loss_expr(forward)
    d.add(L, loss, DEFINITION, "G[t, c, i, j] = ∂L/∂Y[t, c, i, j] arrives from the layer above")
    d.check_subs = {op.N: 2, op.C: 2, op.k_h: 3, op.k_w: 2, op.s: 2, op.H_out: 2, op.W_out: 2,
                    op.t_: 1, op.c_: 0, p: 2, q: 1}
    var = op.X[op.t_, op.c_, p, q]
    value = differentiate(d, loss, var, lhs=D(L, var))
    d.steps[-1].note += note
    d.goal("∂L/∂X[t', c', p, q]", loss, var, value, "dX")


@topic("avgpool", "average pooling: forward, and the backward pass that shares δ equally over each window")
def avgpool() -> Derivation:
    from symnn.ops import pool as op
    t, c, i, j = op.t, op.c, op.i, op.j
    d = Derivation("Average pooling: forward and backward", references=[LECUN])
    d.intro = ("An average-pooling layer replaces each k_h × k_w window (stride s) by its mean; every entry "
               "of the window gets the same share of the window's error.")
    Ys = sp.IndexedBase("Y", real=True)
    d.add(Ys[t, c, i, j], op.avg_forward_expr(), DEFINITION, "the mean of the window at (s·i, s·j)")
    _pool_backward(d, op, op.avg_forward_expr(), ": every window that covers (p, q) hands on δ/(k_h k_w)")
    return d


@topic("flatten", "flattening as an index map; its derivative is the inverse index map")
def flatten() -> Derivation:
    from symnn.ops import flatten as op
    t, k, c, h, w = op.t, op.k, op.c, op.h, op.w
    d = Derivation("Flattening: an index map, and its derivative, the inverse map", references=[LECUN])
    d.intro = ("Before the fully connected layer, each sample's C feature maps of H × W pixels are laid out "
               "as one vector of C·H·W numbers, channel after channel, row after row (NumPy's reshape). "
               "Nothing is computed, values only move; the backward pass moves the errors back.")
    Ys, L = sp.IndexedBase("Y", real=True), sp.Symbol("L")
    d.add(Ys[t, op.position(c, h, w)], op.X[t, c, h, w], DEFINITION,
          "pixel (h, w) of map c goes to position c·H·W + h·W + w")
    d.add(Ys[t, k], op.forward_expr(), DEFINITION,
          "the same map read backwards: position k comes from map ⌊⌊k/W⌋/H⌋ = ⌊k/(H·W)⌋, row ⌊k/W⌋ mod H, column k mod W")
    d.add(L, op.loss_expr(), DEFINITION, "G[t, k] = ∂L/∂Y[t, k] arrives from the dense layer above")
    d.check_subs = {op.N: 2, op.C: 2, op.H: 2, op.W: 3, op.t_: 1, op.c_: 1, op.h_: 0, op.w_: 2}
    d.add(L, op.reindexed_loss_expr(), "change of index",
          "k = c·H·W + h·W + w runs once over 0 … C·H·W − 1 as (c, h, w) runs over the maps: sum over (c, h, w)")
    var = op.X[op.t_, op.c_, op.h_, op.w_]
    d.section("The backward pass")
    value = differentiate(d, op.reindexed_loss_expr(), var, lhs=D(L, var))
    d.steps[-1].note += ": the error of X[t', c', h', w'] is the error at its flat position — the inverse index map"
    d.goal("∂L/∂X[t', c', h', w']", op.loss_expr(), var, value, "dX")
    return d


GOODFELLOW = "Goodfellow, I., Bengio, Y., Courville, A. (2016). Deep Learning, §6.2.2.3 (softmax units) and §4.1 (overflow and underflow: softmax with the maximum subtracted). https://www.deeplearningbook.org"


def softmax_symbols():
    """z (logits), ŷ (probabilities), y (targets) and the index i of the derivative."""
    z, yh, y = (sp.IndexedBase(name, real=True) for name in ("z", "yhat", "y"))
    return z, yh, y, sp.Symbol("i", integer=True)


@topic("softmax-cross-entropy", "softmax with cross-entropy: ∂L/∂z_i = ŷ_i − y_i through the softmax Jacobian; the stable forward")
def softmax_cross_entropy() -> Derivation:
    from symnn.ops.functions import step
    from symnn.ops.functions import indicator
    z, yh, y, i = softmax_symbols()
    jj, kk = sp.symbols("j k", integer=True)
    n = sp.Symbol("n", integer=True, positive=True)
    ell, Msym = named("ℓ", r"\ell"), sp.Symbol("M", real=True)
    d = Derivation("Softmax and cross-entropy: the gradient ŷ − y, and a forward pass that never overflows",
                   references=[GOODFELLOW, NIELSEN])
    d.intro = ("The last layer's n outputs z (the logits) become probabilities with the softmax; the loss of "
               "a sample whose targets y are one-hot (or any probabilities summing to 1) is the cross-entropy. "
               "Their combined derivative is remarkably simple: ŷ − y.")
    S = sp.Sum(sp.exp(z[kk]), (kk, 0, n - 1))
    softmax = sp.exp(z[jj]) / S
    d.add(yh[jj], softmax, DEFINITION, "the softmax: positive numbers that sum to 1")
    ce = -sp.Sum(y[jj] * sp.log(yh[jj]), (jj, 0, n - 1))
    d.add(ell, ce, DEFINITION, "the cross-entropy of one sample")
    # the targets sum to 1: in the checks, the last one is 1 minus the others
    d.check_subs = {n: 3, i: 1, jj: 2, sp.Symbol("m", integer=True): 0, y[2]: 1 - y[0] - y[1]}

    d.section("The softmax Jacobian")
    jac = differentiate(d, softmax, z[i], lhs=D(yh[jj], z[i]))
    d.add(D(yh[jj], z[i]), yh[jj] * (sp.KroneckerDelta(i, jj) - yh[i]), "substitution",
          "recognise ŷ_j = e^(z_j)/Σ_k e^(z_k) and ŷ_i: ∂ŷ_j/∂z_i = ŷ_j(δ_ij − ŷ_i) — "
          "ŷ_i(1 − ŷ_i) on the diagonal, −ŷ_j ŷ_i off it")
    del jac

    d.section("The cross-entropy's gradient with respect to the probabilities")
    mm = sp.Symbol("m", integer=True)
    d_ce = differentiate(d, ce, yh[mm], lhs=D(ell, yh[mm])).xreplace({mm: jj})

    d.section("The chain rule through the softmax")
    d.add(D(ell, z[i]), sp.Sum(D(ell, yh[jj]) * D(yh[jj], z[i]), (jj, 0, n - 1)), "chain rule",
          "z_i moves every ŷ_j (the denominator holds all of them), so sum over j")
    d.add(D(ell, z[i]), sp.Sum(sp.Mul(d_ce, yh[jj] * (sp.KroneckerDelta(i, jj) - yh[i]), evaluate=False),
                               (jj, 0, n - 1)),
          "substitution", "put in ∂ℓ/∂ŷ_j and the Jacobian")
    d.add(D(ell, z[i]), sp.Sum(-y[jj] * (sp.KroneckerDelta(i, jj) - yh[i]), (jj, 0, n - 1)),
          "simplification", "ŷ_j cancels: −(y_j/ŷ_j)·ŷ_j = −y_j")
    d.add(D(ell, z[i]), yh[i] * sp.Sum(y[jj], (jj, 0, n - 1)) - y[i], "Kronecker-delta collapse",
          "the δ_ij term keeps only j = i: −y_i; the other term is ŷ_i Σ_j y_j")
    result = yh[i] - y[i]
    d.add(D(ell, z[i]), result, "substitution",
          "the targets sum to 1 (one-hot, or a probability distribution): ∂ℓ/∂z_i = ŷ_i − y_i, "
          "the prediction minus the target")
    full = ce.xreplace({yh[jj]: softmax})
    d.goal("∂ℓ/∂z[i]", full, z[i], result, "dz")

    d.section("Over a batch")
    tt, Nb = sp.Symbol("t", integer=True), sp.Symbol("N", integer=True, positive=True)
    d.add(sp.Symbol("L"), sp.Sum(sp.IndexedBase(ell)[tt], (tt, 0, Nb - 1)) / Nb, DEFINITION,
          "the loss of a batch of N samples is the mean of the samples' losses ℓ[t]: each sample's gradient "
          "is divided by N, ∂L/∂z[t, i] = (ŷ[t, i] − y[t, i])/N (the kernel softmax_cross_entropy.grad)")

    d.section("A forward pass that never overflows")
    log_softmax = z[jj] - Msym - sp.log(sp.Sum(sp.exp(z[kk] - Msym), (kk, 0, n - 1)))
    d.add(sp.log(yh[jj]), log_softmax, "log-sum-exp",
          "for any number M: e^(z_j)/Σ e^(z_k) = e^(z_j − M)/Σ e^(z_k − M); the log of the quotient is a "
          "difference, so log 0 never appears: the log-softmax, the kernel log_softmax.forward")
    d.add(yh[jj], sp.exp(z[jj] - Msym) / sp.Sum(sp.exp(z[kk] - Msym), (kk, 0, n - 1)), "substitution",
          "the same shift inside the softmax")
    d.add(ell, -sp.Sum(y[jj] * log_softmax, (jj, 0, n - 1)), "substitution",
          "the loss from the log-softmax, as the kernel softmax_cross_entropy.loss computes it: no log of a "
          "probability that rounded to 0, and M is never added only to be subtracted again")
    uu = sp.Symbol("u", integer=True)
    earlier = step(kk - uu)
    beats = earlier * (1 - step(z[kk] - z[uu])) + (1 - earlier) * step(z[uu] - z[kk])
    d.add(Msym, sp.Sum(indicator(sp.Sum(beats, (uu, 0, n - 1)), 0) * z[kk], (kk, 0, n - 1)), DEFINITION,
          "choose M = the largest logit (the kernel softmax.row_max finds the row's first maximum as max pooling "
          "does): every exponent z_k − M is ≤ 0, so e^(z_k − M) ≤ 1 cannot overflow, and the term k = argmax "
          "is e^0 = 1, so the sum is ≥ 1 and its log is ≥ 0: finite for logits of any size")
    d.defs.pop(Msym)
    return d


@topic("relu", "the rectifier ReLU(z) = max(0, z): its derivative, and the sub-gradient 0 taken at z = 0")
def relu_topic() -> Derivation:
    from symnn.ops.functions import relu, step
    z, h = sp.Symbol("z", real=True), sp.Symbol("h", real=True)
    d = Derivation("The rectifier (ReLU) and its derivative", references=[NIELSEN])
    d.intro = ("A ReLU layer (step 1(b) of the CNN plan) applies ReLU(z) = max(0, z) to every value of the "
               "feature maps: negative values become 0. Its derivative is 1 for z > 0 and 0 for z < 0; at z = 0 "
               "there is a corner, and we must say which slope the backward pass uses.")
    d.add(relu(z), sp.Max(0, z), DEFINITION, "the rectifier")
    pw = sp.Piecewise((z, z > 0), (0, True))
    d.add(relu(z), pw, "rewriting", "max(0, z) is z for z > 0 and 0 otherwise")
    value = differentiate(d, pw, z, lhs=D(relu(z), z))
    d.steps[-1].note += ": slope 1 on the right, 0 on the left"
    del value
    d.section("The corner at z = 0")
    d.add(sp.Limit(relu(h) / h, h, 0, "+"), 1, "one-sided limit",
          "from the right, (ReLU(0 + h) − ReLU(0))/h = h/h = 1").check = (
        sp.limit(sp.Max(0, h) / h, h, 0, "+"), sp.S.One)
    d.add(sp.Limit(relu(h) / h, h, 0, "-"), 0, "one-sided limit",
          "from the left, (ReLU(0 + h) − ReLU(0))/h = 0/h = 0: the two slopes differ, so ReLU has no "
          "derivative at 0").check = (sp.limit(sp.Max(0, h) / h, h, 0, "-"), sp.S.Zero)
    d.add(D(sp.Max(0, z), z), sp.Heaviside(z), "known derivative",
          "SymPy's answer is the Heaviside step, with Heaviside(0) = 1/2 — a value that neither side has")
    d.add(D(relu(z), z), step(z), "sub-gradient",
          "every slope between 0 and 1 is a sub-gradient at the corner (a line through (0, 0) below the graph). "
          "symnn takes 0, as PyTorch does: ReLU'(z) = step(z), 1 for z > 0 and 0 for z ≤ 0. Stated plainly: "
          "at z = 0 the backward pass passes no error through (relu.backward: δ·(1 if z > 0 else 0))")
    d.goal("ReLU'(z)", relu(z), z, step(z))
    return d


def _at(points, expr, var) -> sp.Matrix:
    """expr at each of the exact points var = p: a check that also covers negative values."""
    return sp.Matrix([expr.xreplace({var: p}) for p in points])


@topic("sigmoid-cross-entropy", "the binary cross-entropy of a sigmoid output, from the logit: "
       "max(z, 0) − y z + ln(1 + e^(−|z|)) and its gradient σ(z) − y")
def sigmoid_cross_entropy() -> Derivation:
    from symnn.ops import costs as op
    from symnn.ops.functions import sigmoid
    z, y, a, C = op.zl, op.yl, sp.Symbol("a", real=True), sp.Symbol("C")
    d = Derivation("The cross-entropy of a sigmoid output, computed from z: finite for every z",
                   references=[NIELSEN, GOODFELLOW])
    d.intro = ("With a = σ(z) and the cross-entropy C = −[y ln a + (1 − y) ln(1 − a)], a float64 σ(z) "
               "rounds to 0 below z ≈ −745 and to 1 above z ≈ 37, and ln 0 = −∞: the loss of a confidently "
               "wrong output becomes inf, though its true value is about |z|. Written in z itself the loss "
               "never takes the log of a rounded probability.")
    d.add(a, sigmoid(z), DEFINITION, "the sigmoid output of the last layer, z its weighted input (the logit)")
    d.add(C, -(y * sp.log(a) + (1 - y) * sp.log(1 - a)), DEFINITION, "the binary cross-entropy of one output")
    t = sp.exp(-z)
    d.section("The loss in terms of z")
    d.add(sp.log(sigmoid(z)), -sp.log(1 + t), "logarithm of a quotient", "σ(z) = 1/(1 + e^(−z))")
    d.add(sp.log(1 - sigmoid(z)), -z - sp.log(1 + t), "logarithm of a quotient",
          "1 − σ(z) = e^(−z)/(1 + e^(−z)), and ln e^(−z) = −z")
    d.add(C, y * sp.log(1 + t) + (1 - y) * (z + sp.log(1 + t)), "substitution", "put both logs into C")
    d.add(C, op.softplus_form(z, y), "logarithm of a product",
          "collect: ln(1 + e^(−z)) + z = ln(e^z (1 + e^(−z))) = ln(1 + e^z), so C = softplus(z) − y z")
    pts = [sp.Integer(-800), sp.Integer(-3), sp.Rational(-1, 2), sp.Integer(0), sp.Rational(1, 2), sp.Integer(3),
           sp.Integer(800)]
    stable = op.stable_form(z, y)
    d.add(op.softplus_form(z, y), stable, "case analysis",
          "for z > 0: ln(1 + e^z) = z + ln(1 + e^(−z)); for z ≤ 0 it is ln(1 + e^z) as it stands. Both are "
          "max(z, 0) + ln(1 + e^(−|z|)): the exponent is never positive, so e^(−|z|) ≤ 1 cannot overflow and "
          "the log's argument lies in (1, 2]; checked exactly at z = −800, −3, −½, 0, ½, 3, 800. At z = −800, "
          "y = 1: C = 800 + ln(1 + e^(−800)) ≈ 800, where ln σ(−800) in float64 is ln 0 = −∞").check = (
        _at(pts, op.softplus_form(z, y), z), _at(pts, stable, z))
    d.section("Its gradient")
    value = differentiate(d, op.softplus_form(z, y), z, lhs=D(C, z))
    d.add(D(C, z), sigmoid(z) - y, "substitution", "e^z/(1 + e^z) = 1/(1 + e^(−z)) = σ(z)").check = (
        value, sigmoid(z) - y)
    d.goal("∂C/∂z", -(y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z))), z, sigmoid(z) - y,
           "dz")
    d.steps[-1].note += (": the prediction minus the target, the σ'(z) of BP1 cancelled. Over a batch of N "
                         "the mean loss gives (σ(z) − y)/N (kernel sigmoid_cross_entropy.grad, with σ in its "
                         "stable form); the loss is the kernel sigmoid_cross_entropy.loss")
    return d
