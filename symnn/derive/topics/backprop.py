"""Back-propagation (Nielsen's BP1–BP4), derived in index notation and checked on a small net."""

from __future__ import annotations

import numbers

import sympy as sp

from symnn import notation as N
from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.derive.topics.references import NIELSEN
from symnn.errors import InputError
from symnn.ops.costs import check_compatible
from symnn.parse import records

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
    act, cst = records.activation(activation), records.cost(cost)
    check_compatible(act.name, cst.name)
    if isinstance(layers, bool) or not isinstance(layers, numbers.Integral) or not 2 <= layers <= 4:
        raise InputError(
            f"--layers must be an integer between 2 and 4 (got {layers!r}); the check expands the whole net"
        )
    layers = int(layers)
    d = Derivation(
        f"Back-propagation: the four equations ({act.title.lower()}, {cst.title.lower()})", references=[NIELSEN]
    )
    d.intro = (
        "A layer computes z^l_j = Σ_k w^l_jk a^(l−1)_k + b^l_j and a^l_j = φ(z^l_j). The error "
        "of neuron j in layer l is δ^l_j = ∂C/∂z^l_j. We derive, for the output layer L and the "
        "layer below it, how δ flows backwards and how it gives every gradient; the same steps "
        "hold between any two layers l and l + 1."
    )
    n = {s: sp.Symbol(f"n_{s}", integer=True, positive=True) for s in ("L", "L-1", "L-2")}
    zL, aL, wL, bL = layer("z", "L"), layer("a", "L"), layer("w", "L"), layer("b", "L")
    zl, al, wl, bl = layer("z", "L-1"), layer("a", "L-1"), layer("w", "L-1"), layer("b", "L-1")
    a0 = layer("a", "L-2")
    y = sp.IndexedBase("y", real=True)
    dL, dl = layer("delta", "L"), layer("delta", "L-1")
    C = N.C

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
    d.add(
        D(C, zL[j]),
        sp.Sum(D(C, aL[m]) * D(aL[m], zL[j]), (m, 1, n["L"])),
        "chain rule",
        "C depends on z^L_j through the outputs a^L_m",
    )
    differentiate(d, _phi(act, zL[m]), zL[j], lhs=D(aL[m], zL[j]))
    d.add(
        D(C, zL[j]),
        D(C, aL[j]) * _phi_prime(act, zL[j]),
        "Kronecker-delta collapse",
        "a^L_m depends on z^L_j only when m = j",
    )
    grad_a = differentiate(d, cost_expr, aL[j], lhs=D(C, aL[j]))
    d.add(dL[j], grad_a * _phi_prime(act, zL[j]), "substitution", "BP1: δ^L_j = ∂C/∂a^L_j · φ'(z^L_j)")

    d.section("BP2: the error moves back one layer")
    d.add(dl[j], D(C, zl[j]), DEFINITION, "δ^(L−1)_j")
    d.add(
        D(C, zl[j]),
        sp.Sum(D(C, zL[m]) * D(zL[m], zl[j]), (m, 1, n["L"])),
        "chain rule",
        "C depends on z^(L−1)_j through every z^L_m of the next layer",
    )
    local = differentiate(d, sp.Sum(wL[m, k] * _phi(act, zl[k]), (k, 1, n["L-1"])) + bL[m], zl[j], lhs=D(zL[m], zl[j]))
    d.add(
        dl[j],
        sp.Sum(dL[m] * local, (m, 1, n["L"])),
        "substitution",
        "BP2: δ^(L−1)_j = Σ_m w^L_mj δ^L_m · φ'(z^(L−1)_j), i.e. ((w^L)ᵀ δ^L) ⊙ φ'(z^(L−1))",
    )

    d.section("BP3: the gradient of a bias")
    d.add(
        D(C, bl[j]),
        sp.Sum(D(C, zl[m]) * D(zl[m], bl[j]), (m, 1, n["L-1"])),
        "chain rule",
        "b^(L−1)_j acts on C only through z^(L−1)_m",
    )
    local_b = differentiate(d, sp.Sum(wl[m, i] * a0[i], (i, 1, n["L-2"])) + bl[m], bl[j], lhs=D(zl[m], bl[j]))
    d.add(D(C, bl[j]), sp.Sum(dl[m] * local_b, (m, 1, n["L-1"])), "substitution", "")
    d.add(D(C, bl[j]), dl[j], "Kronecker-delta collapse", "BP3: ∂C/∂b^l_j = δ^l_j")

    d.section("BP4: the gradient of a weight")
    d.add(
        D(C, wl[j, k]),
        sp.Sum(D(C, zl[m]) * D(zl[m], wl[j, k]), (m, 1, n["L-1"])),
        "chain rule",
        "w^(L−1)_jk acts on C only through z^(L−1)_m",
    )
    local_w = differentiate(d, sp.Sum(wl[m, i] * a0[i], (i, 1, n["L-2"])) + bl[m], wl[j, k], lhs=D(zl[m], wl[j, k]))
    d.add(D(C, wl[j, k]), sp.Sum(dl[m] * local_w, (m, 1, n["L-1"])), "substitution", "")
    d.add(
        D(C, wl[j, k]),
        a0[k] * dl[j],
        "Kronecker-delta collapse",
        "BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j — input activation times output error",
    )

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
    rhs2 = comp(
        lambda r, _: sum(q["wL"][mm, r] * q["dL"][mm] for mm in range(1, NL + 1)) * _phi_prime(act, q["zl"][r]), Nl
    )
    d.add(
        deltal, sp.HadamardProduct(W.T * delta_next, sp_zl), "BP2 (matrix form)", "δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ φ'(z^l)"
    ).check = (lhs2, rhs2)
    lhs3 = comp(lambda r, _: D(q["C"], q["bl"][r]), Nl)
    d.add(sp.MatrixSymbol("nabla_b C", Nl, 1), deltal, "BP3 (matrix form)", "∂C/∂b^l = δ^l").check = (
        lhs3,
        comp(lambda r, _: q["dl"][r], Nl),
    )
    lhs4 = comp(lambda r, c: D(q["C"], q["wl"][r, c]), Nl, N0)
    rhs4 = comp(lambda r, c: q["dl"][r] * q["a0"][c], Nl, N0)
    d.add(
        sp.MatrixSymbol("nabla_w C", Nl, N0),
        deltal * a_prev.T,
        "BP4 (matrix form)",
        "∂C/∂w^l = δ^l (a^(l−1))ᵀ, an outer product",
    ).check = (lhs4, rhs4)


def _check_on_concrete_net(d: Derivation, act, cst, layers: int, grad_a, aL_, y_, nL) -> None:
    """Expand a whole small net and set one goal per weight: BP result vs sympy.diff of C."""
    sizes = [2] + [3] * (layers - 1) + [2]
    x = [sp.Symbol(f"x_{q}", real=True) for q in range(1, sizes[0] + 1)]
    y = [sp.Symbol(f"y_{q}", real=True) for q in range(1, sizes[-1] + 1)]
    W = [
        sp.Matrix(sizes[l + 1], sizes[l], lambda r, c, l=l: sp.Symbol(f"w^{l + 1}_{r + 1}{c + 1}", real=True))
        for l in range(layers)
    ]
    B = [
        sp.Matrix(sizes[l + 1], 1, lambda r, c, l=l: sp.Symbol(f"b^{l + 1}_{r + 1}", real=True)) for l in range(layers)
    ]
    a_vals, zs = [sp.Matrix(x)], []
    for Wl, bl in zip(W, B):
        zs.append(Wl * a_vals[-1] + bl)
        a_vals.append(zs[-1].applyfunc(lambda e: _phi(act, e)))
    C_full = cst.outer(sum(cst.term(a_vals[-1][q], y[q]) for q in range(sizes[-1])))
    # BP1 then BP2 backwards, with the derived formulas
    concrete = {**{aL_[q + 1]: a_vals[-1][q] for q in range(sizes[-1])}, **{y_[q + 1]: y[q] for q in range(sizes[-1])}}

    def grad(q: int) -> sp.Expr:  # the derived ∂C/∂a^L_j at j = q + 1
        return grad_a.xreplace({j: q + 1}).subs(nL, sizes[-1]).doit().xreplace(concrete)

    delta: list[sp.Matrix] = [sp.Matrix()] * layers  # δ^l, filled from the output layer down
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
