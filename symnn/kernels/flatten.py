"""Kernels of flattening (symnn/ops/flatten.py), from `symnn derive flatten`:

flatten.forward   (X) -> Y        Y[t, k] = X[t, ⌊⌊k/W⌋/H⌋, ⌊k/W⌋ mod H, k mod W]
flatten.backward  (G, X) -> dX    results["dX"], the inverse index map (X read for its shape only)
"""

from __future__ import annotations

from symnn.codegen import KernelSpec, Output, register
from symnn.kernels import derived
from symnn.ops.flatten import C, G, H, N, W, X, Y, c_, dX, forward_expr, h_, k, t, t_, w_


@register("flatten.forward")
def forward() -> KernelSpec:
    return KernelSpec(
        "flatten.forward",
        inputs=[X],
        outputs=[Output(Y, (t, k), forward_expr())],
        shapes={N: (X, 0), C: (X, 1), H: (X, 2), W: (X, 3)},
        out_shapes={Y: (N, C * H * W)},
        doc="Y[t, k] = X[t, ⌊⌊k/W⌋/H⌋, ⌊k/W⌋ mod H, k mod W]: flatten, row-major",
    )


@register("flatten.backward")
def backward() -> KernelSpec:
    expr = derived("flatten").results["dX"]
    return KernelSpec(
        "flatten.backward",
        inputs=[G, X],
        outputs=[Output(dX, (t_, c_, h_, w_), expr)],
        shapes={N: (G, 0), C: (X, 1), H: (X, 2), W: (X, 3)},
        out_shapes={dX: (N, C, H, W)},
        doc="∂L/∂X[t',c',h',w'] = G[t', c'·H·W + h'·W + w']: the inverse index map, derived by "
        "`symnn derive flatten` (X is read for its shape only)",
    )
