"""Kernels of flattening (symnn/ops/flatten.py), from `symnn derive flatten`:

flatten.forward   (X) -> Y        Y[t, k] = X[t, ⌊⌊k/W_in⌋/H_in⌋, ⌊k/W_in⌋ mod H_in, k mod W_in]
flatten.backward  (G, X) -> dX    results["dX"], the inverse index map (X read for its shape only)
"""

from __future__ import annotations

from symnn.codegen import KernelSpec, Output, register
from symnn.kernels import derived
from symnn.ops.flatten import C_in, G, H_in, N, W_in, X, Y, c_, dX, forward_expr, h_, k, t, t_, w_


@register("flatten.forward")
def forward() -> KernelSpec:
    return KernelSpec(
        "flatten.forward",
        inputs=[X],
        outputs=[Output(Y, (t, k), forward_expr())],
        shapes={N: (X, 0), C_in: (X, 1), H_in: (X, 2), W_in: (X, 3)},
        out_shapes={Y: (N, C_in * H_in * W_in)},
        doc="Y[t, k] = X[t, ⌊⌊k/W_in⌋/H_in⌋, ⌊k/W_in⌋ mod H_in, k mod W_in]: flatten, row-major",
    )


@register("flatten.backward")
def backward() -> KernelSpec:
    expr = derived("flatten").results["dX"]
    return KernelSpec(
        "flatten.backward",
        inputs=[G, X],
        outputs=[Output(dX, (t_, c_, h_, w_), expr)],
        shapes={N: (G, 0), C_in: (X, 1), H_in: (X, 2), W_in: (X, 3)},
        out_shapes={dX: (N, C_in, H_in, W_in)},
        doc="∂L/∂X[t',c',h',w'] = G[t', c'·H_in·W_in + h'·W_in + w']: the inverse index map, derived by "
        "`symnn derive flatten` (X is read for its shape only)",
    )
