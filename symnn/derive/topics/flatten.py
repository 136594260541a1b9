"""Flattening (symnn/ops/flatten.py): an index map, and its derivative the inverse map
(kernels: symnn/kernels/flatten.py)."""

from __future__ import annotations

import sympy as sp

from symnn.derive.derivation import DEFINITION, Derivation
from symnn.derive.rules import D
from symnn.derive.steps import differentiate
from symnn.derive.topics import topic
from symnn.derive.topics.references import LECUN


@topic("flatten", "flattening as an index map; its derivative is the inverse index map")
def flatten() -> Derivation:
    from symnn.ops import flatten as op

    t, k, c, h, w = op.t, op.k, op.c, op.h, op.w
    d = Derivation("Flattening: an index map, and its derivative, the inverse map", references=[LECUN])
    d.intro = (
        "Before the fully connected layer, each sample's C_in feature maps of H_in × W_in pixels are laid out "
        "as one vector of C_in·H_in·W_in numbers, channel after channel, row after row (NumPy's reshape). "
        "Nothing is computed, values only move; the backward pass moves the errors back."
    )
    Ys, L = sp.IndexedBase("Y", real=True), sp.Symbol("L")
    d.add(
        Ys[t, op.position(c, h, w)],
        op.X[t, c, h, w],
        DEFINITION,
        "pixel (h, w) of map c goes to position c·H_in·W_in + h·W_in + w",
    )
    d.add(
        Ys[t, k],
        op.forward_expr(),
        DEFINITION,
        "the same map read backwards: position k comes from map ⌊⌊k/W_in⌋/H_in⌋ = ⌊k/(H_in·W_in)⌋, "
        "row ⌊k/W_in⌋ mod H_in, column k mod W_in",
    )
    d.add(L, op.loss_expr(), DEFINITION, "G[t, k] = ∂L/∂Y[t, k] arrives from the dense layer above")
    d.check_subs = {op.N: 2, op.C_in: 2, op.H_in: 2, op.W_in: 3, op.t_: 1, op.c_: 1, op.h_: 0, op.w_: 2}
    d.add(
        L,
        op.reindexed_loss_expr(),
        "change of index",
        "k = c·H_in·W_in + h·W_in + w runs once over 0 … C_in·H_in·W_in − 1 as (c, h, w) runs over the maps: "
        "sum over (c, h, w)",
    )
    var = op.X[op.t_, op.c_, op.h_, op.w_]
    d.section("The backward pass")
    value = differentiate(d, op.reindexed_loss_expr(), var, lhs=D(L, var))
    d.steps[-1].note += ": the error of X[t', c', h', w'] is the error at its flat position — the inverse index map"
    d.goal("∂L/∂X[t', c', h', w']", op.loss_expr(), var, value, "dX")
    return d
