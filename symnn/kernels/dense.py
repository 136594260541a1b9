"""Kernels of the dense layer (symnn/ops/dense.py), from `symnn derive dense`:

dense.forward      (A, W, b) -> Z     Z[t, j] = Σ_k W[j, k] A[t, k] + b[j]
dense.grad_weight  (G, A) -> dW       results["dW"]  (BP4)
dense.grad_bias    (G,) -> db         results["db"]  (BP3)
dense.grad_input   (G, W) -> dA       results["dA"]  (the Wᵀ δ of BP2)
"""

from __future__ import annotations

from symnn.codegen import KernelSpec, Output, register
from symnn.kernels import derived
from symnn.ops.dense import SHAPES, A, G, N, W, Z, b, dA, db, dW, forward_expr, j, n_in, n_out, p, q, t, t_


@register("dense.forward")
def forward() -> KernelSpec:
    return KernelSpec(
        "dense.forward",
        inputs=[A, W, b],
        outputs=[Output(Z, (t, j), forward_expr(), ranges={t: (0, N - 1), j: (0, n_out - 1)})],
        shapes=SHAPES,
        out_shapes={Z: (N, n_out)},
        doc="Z[t,j] = Σ_k W[j,k] A[t,k] + b[j]",
    )


@register("dense.grad_weight")
def grad_weight() -> KernelSpec:
    return KernelSpec(
        "dense.grad_weight",
        inputs=[G, A],
        outputs=[Output(dW, (p, q), derived("dense").results["dW"], ranges={p: (0, n_out - 1), q: (0, n_in - 1)})],
        shapes={N: (A, 0), n_in: (A, 1), n_out: (G, 1)},
        out_shapes={dW: (n_out, n_in)},
        doc="∂L/∂W[p,q], derived by `symnn derive dense`",
    )


@register("dense.grad_bias")
def grad_bias() -> KernelSpec:
    return KernelSpec(
        "dense.grad_bias",
        inputs=[G],
        outputs=[Output(db, (p,), derived("dense").results["db"], ranges={p: (0, n_out - 1)})],
        shapes={N: (G, 0), n_out: (G, 1)},
        out_shapes={db: (n_out,)},
        doc="∂L/∂b[p], derived by `symnn derive dense`",
    )


@register("dense.grad_input")
def grad_input() -> KernelSpec:
    return KernelSpec(
        "dense.grad_input",
        inputs=[G, W],
        outputs=[Output(dA, (t_, q), derived("dense").results["dA"], ranges={t_: (0, N - 1), q: (0, n_in - 1)})],
        shapes={N: (G, 0), n_out: (W, 0), n_in: (W, 1)},
        out_shapes={dA: (N, n_in)},
        doc="∂L/∂A[t',q], derived by `symnn derive dense`",
    )
