"""Pooling (symnn/ops/pool.py): max pooling's first maximum and its derivative; average pooling
(kernels: symnn/kernels/pool.py)."""

from __future__ import annotations

import itertools
import random

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import named, topic
from symnn.derive.topics.references import LECUN, PYTORCH_POOL


@topic(
    "maxpool",
    "max pooling: the first maximum as a product of steps; its derivative routes δ to the arg-max "
    "(ties: first, as PyTorch)",
)
def maxpool() -> Derivation:
    from symnn.ops import pool as op
    from symnn.ops.functions import step

    t, c, i, j = op.t, op.c, op.i, op.j
    d = Derivation(
        "Max pooling: forward, and the backward pass that routes δ to the first maximum",
        references=[LECUN, PYTORCH_POOL],
    )
    d.intro = (
        "A max-pooling layer keeps the largest value of each k_h × k_w window (moving s pixels at a "
        "time). Its backward pass sends each window's error to the entry that was the maximum — the "
        "\"switch\". When several entries tie for the maximum, PyTorch sends all of it to the first one "
        "in row-major order. We find a formula for the maximum whose derivative is exactly that."
    )
    Ys = sp.IndexedBase("Y", real=True)
    xs = sp.symbols("x_0:4", real=True)
    d.section("The forward pass")
    d.add(
        Ys[t, c, i, j],
        sp.Max(*[op.window(a, b) for a in range(2) for b in range(2)]),
        DEFINITION,
        "a 2 × 2 window (k_h = k_w = 2): sample t, channel c, the window at (s·i, s·j)",
    )

    d.section("What SymPy's derivative of Max says")
    d.add(
        D(sp.Max(xs[0], xs[1]), xs[0]),
        sp.Heaviside(xs[0] - xs[1]),
        "known derivative",
        "SymPy differentiates max(x_0, x_1) into a Heaviside step, with Heaviside(0) = 1/2: at a tie "
        "x_0 = x_1 each entry would get half of the gradient. PyTorch gives all of it to the first maximum; "
        "so we write the maximum differently",
    )
    d.check_subs = {}

    d.section("The first maximum as a product of steps")
    pis = [named(f"π_{r}", rf"\pi_{{{r}}}", real=True) for r in range(4)]
    window_names = ", ".join(f"x_{r}" for r in range(4))

    def first_max(r: int) -> sp.Expr:
        return sp.Mul(*[step(xs[r] - xs[k]) for k in range(r)], *[1 - step(xs[k] - xs[r]) for k in range(r + 1, 4)])

    for r in range(4):
        d.add(
            pis[r],
            first_max(r),
            DEFINITION,
            ("the window's entries in row-major order are " + window_names + "; " if r == 0 else "")
            + f"π_{r} = 1 when x_{r} is strictly larger than every entry before it (step(0) = 0) and not "
            f"smaller than any entry after it (1 − step(0) = 1)"
            if r in (0, 1)
            else "",
        )
    # The steps only compare entries, so the four values' order decides everything: the points of
    # {0, 1, 2, 3}^4 realise every order of four numbers, ties included, and checking them all is a proof.
    grid = [dict(zip(xs, pt)) for pt in itertools.product(range(4), repeat=4)]

    def on_grid(expr):
        return sp.Matrix([expr.xreplace(pt) for pt in grid])

    d.add(
        sp.Add(*pis),
        1,
        "case analysis",
        "exactly one π_r is 1: the first entry that reaches the maximum (checked on every order of four "
        "values, ties included: all 256 points of {0, 1, 2, 3}⁴)",
    ).check = (on_grid(sp.Add(*[first_max(r) for r in range(4)])), on_grid(sp.S.One))
    d.add(
        sp.Max(*xs),
        sp.Add(*[pis[r] * xs[r] for r in range(4)]),
        "case analysis",
        "so the sum Σ π_r x_r picks the maximum, and at a tie the first of the tied entries",
    ).check = (on_grid(sp.Max(*xs)), on_grid(sp.Add(*[first_max(r) * xs[r] for r in range(4)])))
    tie = dict(zip(xs, (5, 5, 1, 5)))
    lhs = sp.Matrix([pis[r] for r in range(4)])
    step_ = d.add(
        lhs, sp.Matrix([1, 0, 0, 0]), "substitution", "an example with a three-way tie, x = (5, 5, 1, 5): only π_0 is 1"
    )
    step_.check = (sp.Matrix([first_max(r).xreplace(tie) for r in range(4)]), sp.Matrix([1, 0, 0, 0]))
    d.add(
        sp.Add(*[r * pis[r] for r in range(1, 4)]),
        op.switch_2x2(xs),
        "case analysis",
        "the position of the first maximum, Σ r·π_r, is the first entry equal to the maximum (all 256 "
        "points). With Max(x_0, …, x_3) = Σ π_r x_r above, this is how the kernel specialised to a 2 × 2 "
        "window computes Y and its switch: 3 comparisons instead of counting 16",
    ).check = (on_grid(sp.Add(*[r * first_max(r) for r in range(1, 4)])), on_grid(op.switch_2x2(xs)))

    d.section("Its derivative is the indicator of the first maximum")
    y2 = xs[0] * (1 - step(xs[1] - xs[0])) + xs[1] * step(xs[1] - xs[0])
    ysym = sp.Symbol("y", real=True)
    d.add(ysym, y2, DEFINITION, "first with two entries: y = π_0 x_0 + π_1 x_1 = max(x_0, x_1)")
    value = differentiate(d, y2, xs[0], lhs=D(ysym, xs[0]))
    d.add(
        D(ysym, xs[0]),
        1 - step(xs[1] - xs[0]),
        "u·δ(u) = 0",
        f"the term {sp.sstr(sp.factor_terms(value - (1 - step(xs[1] - xs[0]))))} vanishes: δ(u) is 0 for every u ≠ 0 "
        "and u is 0 where it is not. The step's jump meets a zero factor, so the derivative is π_0: 1 when x_0 "
        "is the first maximum (x_0 ≥ x_1), else 0 — at the tie x_0 = x_1 all of the gradient goes to x_0",
    )
    d.goal("∂max(x_0, x_1)/∂x_0 (first maximum)", y2, xs[0], 1 - step(xs[1] - xs[0]))
    y4 = sp.Add(*[first_max(r) * xs[r] for r in range(4)])
    rnd = random.Random(4)
    points = [dict(zip(xs, rnd.sample(range(1, 1000), 4))) for _ in range(4)]  # four distinct values
    for r in range(4):
        d.add(
            D(sp.Max(*xs), xs[r]),
            pis[r],
            "u·δ(u) = 0",
            "for the 2 × 2 window the same happens: every step's jump comes in a pair "
            "(x_a − x_b)·δ(x_a − x_b) = 0, and what is left is π_r (checked exactly with SymPy's "
            "derivative of Σ π_r x_r at random points, where no entries tie)"
            if r == 0
            else "",
        )
        dy = sp.diff(y4, xs[r])
        d.steps[-1].check = (
            sp.Matrix([dy.xreplace(pt) for pt in points]),
            sp.Matrix([first_max(r).xreplace(pt) for pt in points]),
        )
    d.section("Counting instead of multiplying: any window size, and the switch")
    counts = sp.symbols("c_0:4", integer=True)
    d.add(
        counts[0],
        sp.Add(*[step(xs[k] - xs[0]) for k in range(1, 4)]),
        DEFINITION,
        "c_r counts the factors of π_r that are 0: the entries before x_r that are ≥ x_r, and those after it "
        "that are > x_r. For the code we count, which works for any k_h × k_w without writing out products",
    )
    d.add(
        pis[0],
        op.indicator(counts[0], 0),
        "case analysis",
        "a product of 0/1 factors is 1 exactly when none of them is 0",
    ).check = (on_grid(first_max(0)), on_grid(op.indicator(sp.Add(*[step(xs[k] - xs[0]) for k in range(1, 4)]), 0)))
    d.add(
        op.A[t, c, i, j],
        op.switch_expr(),
        DEFINITION,
        "the switch: the row-major position m·k_w + n of the first maximum, where first(m, n) = "
        "[Σ_u Σ_v beats(u, v; m, n) = 0]; the forward kernel computes it beside Y (maxpool.forward)",
    )
    d.defs.pop(op.A[t, c, i, j])  # from here on A is the stored switch, an input of the backward pass
    d.add(
        Ys[t, c, i, j], op.max_forward_expr(), DEFINITION, "the pooled value, any window size: Σ_m Σ_n first(m, n)·x_mn"
    )

    d.section("The backward pass of the layer")
    d.add(
        Ys[t, c, i, j],
        op.max_select_expr(),
        DEFINITION,
        "with the switch A fixed: A changes only where two entries tie, and the previous section showed that "
        "those jumps contribute nothing to the derivative",
    )
    _pool_backward(
        d,
        op,
        op.max_select_expr(),
        ": each window that covers (p, q) hands on its δ only if (p, q) is its first "
        "maximum; the code generator turns the window guards into loop bounds",
    )
    return d


def _pool_backward(d: Derivation, op, forward: sp.Expr, note: str) -> None:
    """L = Σ G·Y for the pooled Y = forward, differentiated with respect to X[t', c', p, q]."""
    L, p, q = sp.Symbol("L"), op.p, op.q
    loss = op.loss_expr(forward)
    d.add(L, loss, DEFINITION, "G[t, c, i, j] = ∂L/∂Y[t, c, i, j] arrives from the layer above")
    d.check_subs = {
        op.N: 2,
        op.C_in: 2,
        op.k_h: 3,
        op.k_w: 2,
        op.s: 2,
        op.H_out: 2,
        op.W_out: 2,
        op.t_: 1,
        op.c_: 0,
        p: 2,
        q: 1,
    }
    var = op.X[op.t_, op.c_, p, q]
    value = differentiate(d, loss, var, lhs=D(L, var))
    d.steps[-1].note += note
    d.goal("∂L/∂X[t', c', p, q]", loss, var, value, "dX")


@topic("avgpool", "average pooling: forward, and the backward pass that shares δ equally over each window")
def avgpool() -> Derivation:
    from symnn.ops import pool as op

    t, c, i, j = op.t, op.c, op.i, op.j
    d = Derivation("Average pooling: forward and backward", references=[LECUN])
    d.intro = (
        "An average-pooling layer replaces each k_h × k_w window (stride s) by its mean; every entry "
        "of the window gets the same share of the window's error."
    )
    Ys = sp.IndexedBase("Y", real=True)
    d.add(Ys[t, c, i, j], op.avg_forward_expr(), DEFINITION, "the mean of the window at (s·i, s·j)")
    _pool_backward(d, op, op.avg_forward_expr(), ": every window that covers (p, q) hands on δ/(k_h k_w)")
    return d
