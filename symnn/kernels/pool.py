"""Kernels of pooling (symnn/ops/pool.py), from `symnn derive maxpool` and `avgpool`:

    maxpool.forward   (X, k_h, k_w, s) -> (Y, A)     the maximum and the switch A, counting form
    maxpool.backward  (G, A, X, k_h, k_w, s) -> dX   results["dX"]
    avgpool.forward   (X, k_h, k_w, s) -> Y
    avgpool.backward  (G, X, k_h, k_w, s) -> dX      results["dX"]

X in the backward kernels is read for its shape only. The 2 × 2 max-pool has a special form
(Max and the first equal entry) and the digits CNN's 2 × 2, stride 2 pool is registered specialised.
"""

from __future__ import annotations

import sympy as sp

from symnn.codegen import KernelSpec, Output, register
from symnn.codegen.specialise import register_specialised, special_form
from symnn.kernels import derived
from symnn.ops.functions import heaviside_form
from symnn.ops.pool import (
    GRAD_SHAPES,
    RANGES,
    X_SHAPES,
    A,
    C_in,
    G,
    H_in,
    H_o,
    N,
    W_in,
    W_o,
    X,
    Y,
    avg_forward_expr,
    c,
    c_,
    dX,
    i,
    j,
    k_h,
    k_w,
    max_forward_expr,
    p,
    q,
    s,
    switch_2x2,
    switch_expr,
    t,
    t_,
    window,
)


@special_form("maxpool.forward")
def max_2x2(values: dict[str, int], outputs: list[Output]) -> tuple[list[Output], str | None]:
    """maxpool.forward specialised to a 2 × 2 window: Y = Max(x_0, …, x_3) and A = switch_2x2,
    equal to the counting form by the derivation, with 3 comparisons per window instead of 16."""
    if values.get("k_h") != 2 or values.get("k_w") != 2:
        return outputs, None
    fixed = {s: sp.Integer(values["s"])} if "s" in values else {}
    xs = [window(a, b).xreplace(fixed) for a in range(2) for b in range(2)]
    form = {Y: sp.Max(*xs), A: switch_2x2(xs)}
    return (
        [Output(o.base, o.indices, form[o.base], ranges=o.ranges, accumulate=o.accumulate) for o in outputs],
        "Y = Max(x_0, …, x_3) and A = the first entry equal to it, equal to the counting form by "
        "`symnn derive maxpool`",
    )


@register("maxpool.forward")
def max_forward() -> KernelSpec:
    return KernelSpec(
        "maxpool.forward",
        inputs=[X, k_h, k_w, s],
        outputs=[
            Output(Y, (t, c, i, j), heaviside_form(max_forward_expr()), ranges=RANGES),
            Output(A, (t, c, i, j), heaviside_form(switch_expr()), ranges=RANGES),
        ],
        shapes=X_SHAPES,
        out_shapes={Y: (N, C_in, H_o, W_o), A: (N, C_in, H_o, W_o)},
        doc="Y = the maximum of each k_h × k_w window (stride s) and A = the row-major "
        "position of its first maximum (the switch), as `symnn derive maxpool` writes them",
    )


@register("maxpool.backward")
def max_backward() -> KernelSpec:
    expr = derived("maxpool").results["dX"]
    return KernelSpec(
        "maxpool.backward",
        inputs=[G, A, X, k_h, k_w, s],
        outputs=[Output(dX, (t_, c_, p, q), expr)],
        shapes=GRAD_SHAPES,
        out_shapes={dX: (N, C_in, H_in, W_in)},
        doc="∂L/∂X[t',c',p,q] = Σ_i Σ_j G[t',c',i,j] [(p − s·i)·k_w + q − s·j = A[t',c',i,j]] "
        "over the windows that cover (p, q): the gradient goes to the first maximum, "
        "derived by `symnn derive maxpool` (X is read for its shape only)",
    )


@register("avgpool.forward")
def avg_forward() -> KernelSpec:
    return KernelSpec(
        "avgpool.forward",
        inputs=[X, k_h, k_w, s],
        outputs=[Output(Y, (t, c, i, j), avg_forward_expr(), ranges=RANGES)],
        shapes=X_SHAPES,
        out_shapes={Y: (N, C_in, H_o, W_o)},
        doc="Y = the mean of each k_h × k_w window (stride s)",
    )


@register("avgpool.backward")
def avg_backward() -> KernelSpec:
    expr = derived("avgpool").results["dX"]
    return KernelSpec(
        "avgpool.backward",
        inputs=[G, X, k_h, k_w, s],
        outputs=[Output(dX, (t_, c_, p, q), expr)],
        shapes=GRAD_SHAPES,
        out_shapes={dX: (N, C_in, H_in, W_in)},
        doc="∂L/∂X[t',c',p,q] = Σ_i Σ_j G[t',c',i,j]/(k_h k_w) over the windows that cover "
        "(p, q), derived by `symnn derive avgpool` (X is read for its shape only)",
    )


# the digits CNN's 2 × 2 max-pool (symnn train cnn), specialised, listed by `symnn codegen`
for _name in ("forward", "backward"):
    register_specialised(f"maxpool.{_name}", k_h=2, k_w=2, s=2)
