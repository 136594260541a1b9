"""Kernels of softmax with cross-entropy (symnn/ops/softmax.py), from `symnn derive softmax-cross-entropy`:

softmax.row_max             (Z) -> M        the row's first maximum
softmax.forward             (Z, M) -> P     ŷ, shifted by M
log_softmax.forward         (Z, M) -> LS    log ŷ, shifted by M
softmax_cross_entropy.loss  (LS, y) -> ℓ    per sample
softmax_cross_entropy.grad  (ŷ, y, N)       (ŷ − y)/N element-wise: results["dz"]
"""

from __future__ import annotations

from symnn.codegen import KernelSpec, Output, elementwise, register
from symnn.derive.topics.softmax import softmax_symbols
from symnn.kernels import derived
from symnn.ops.functions import heaviside_form
from symnn.ops.softmax import (
    LS,
    M,
    N,
    P,
    Z,
    j,
    log_softmax_expr,
    loss,
    loss_from_log_expr,
    n_classes,
    row_max_expr,
    stable_softmax_expr,
    t,
    targets,
    y,
    yhat,
)


@register("softmax.row_max")
def row_max() -> KernelSpec:
    return KernelSpec(
        "softmax.row_max",
        inputs=[Z],
        outputs=[Output(M, (t,), heaviside_form(row_max_expr()))],
        shapes={N: (Z, 0), n_classes: (Z, 1)},
        out_shapes={M: (N,)},
        doc="M[t] = max_k Z[t, k], as Σ_k [Z[t,k] is the row's first maximum]·Z[t,k]",
    )


@register("softmax.forward")
def forward() -> KernelSpec:
    return KernelSpec(
        "softmax.forward",
        inputs=[Z, M],
        outputs=[Output(P, (t, j), stable_softmax_expr())],
        shapes={N: (Z, 0), n_classes: (Z, 1)},
        out_shapes={P: (N, n_classes)},
        doc="ŷ[t,j] = exp(Z[t,j] − M[t]) / Σ_k exp(Z[t,k] − M[t]): softmax, shifted by the row "
        "maximum (`symnn derive softmax-cross-entropy`)",
    )


@register("log_softmax.forward")
def log_softmax() -> KernelSpec:
    return KernelSpec(
        "log_softmax.forward",
        inputs=[Z, M],
        outputs=[Output(LS, (t, j), log_softmax_expr())],
        shapes={N: (Z, 0), n_classes: (Z, 1)},
        out_shapes={LS: (N, n_classes)},
        doc="log ŷ[t,j] = Z[t,j] − M[t] − log Σ_k exp(Z[t,k] − M[t]): the log-softmax, shifted by "
        "the row maximum M (softmax.row_max): every exponent ≤ 0, the sum ≥ 1, so no overflow "
        "and no log 0 (`symnn derive softmax-cross-entropy`)",
    )


@register("softmax_cross_entropy.loss")
def loss_per_sample() -> KernelSpec:
    return KernelSpec(
        "softmax_cross_entropy.loss",
        inputs=[LS, targets],
        outputs=[Output(loss, (t,), loss_from_log_expr())],
        shapes={N: (LS, 0), n_classes: (LS, 1)},
        out_shapes={loss: (N,)},
        doc="ℓ[t] = −Σ_j y[t,j] LS[t,j]: the cross-entropy of each sample, from the log-softmax "
        "LS = log_softmax.forward(Z, M) (`symnn derive softmax-cross-entropy`)",
    )


@register("softmax_cross_entropy.grad")
def grad() -> KernelSpec:
    z, yh, yy, i = softmax_symbols()
    expr = derived("softmax-cross-entropy").results["dz"].xreplace({yh[i]: yhat, yy[i]: y})
    return elementwise(
        "softmax_cross_entropy.grad",
        args=[yhat, y, N],
        exprs=[expr / N],
        doc="∂L/∂Z = (ŷ − y)/N for the mean over a batch of N, from `symnn derive softmax-cross-entropy`",
    )
