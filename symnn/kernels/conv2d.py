"""Kernels of the convolution (symnn/ops/conv2d.py).

One map, stride 1, valid (`symnn derive conv2d` shows the same gradients step by step):

    conv2d.forward     (X, K) -> Y     Y = X ⋆ K
    conv2d.grad_kernel (X, G) -> dK    sp.diff(Σ G·Y, K[p, q]), deltas collapsed by the code generator
    conv2d.grad_input  (G, K) -> dX    sp.diff(Σ G·Y, X[p, q]): the full convolution of G with K

The layer over a batch (stride s, channels, filters, bias), from `symnn derive conv2d-layer`:

    conv2d.layer_forward      (X, K, b, s) -> Y
    conv2d.layer_grad_kernel  (G, X, K, s) -> dK     results["dK"]
    conv2d.layer_grad_bias    (G,) -> db             results["db"]
    conv2d.layer_grad_input   (G, K, X, s) -> dX     results["dX"]

and the digits CNN's 3 × 3, stride 1 specialisations of the layer (symnn train cnn), each also
as '[unfold,...]', which Conv2D runs for calls of UNFOLD_MIN multiply-adds or more: its window
sums go to BLAS as matrix products (symnn.codegen.passes.unfold: im2col + np.dot for Y and dK,
np.dot + col2im for dX; in float32 dX is the full correlation of the zero-framed G instead, in the
written order), which adds in its own order; the others keep the written order. Its
bias gradient, conv2d.layer_grad_bias[unfold], sums 8 channels side by side (symnn.codegen.passes.blas:
interleave), each in the written order: the same numbers as conv2d.layer_grad_bias, bit for bit.
"""

from __future__ import annotations

from symnn.codegen import KernelSpec, Output, register
from symnn.codegen.specialise import register_specialised
from symnn.kernels import derived
from symnn.ops.conv2d import (
    GRAD_SHAPES,
    LAYER_RANGES,
    LAYER_SHAPES,
    OUT_RANGES,
    C_in,
    F,
    G,
    Gb,
    H_in,
    H_o,
    H_out,
    K,
    Kb,
    N,
    W_in,
    W_o,
    W_out,
    X,
    Xb,
    Y,
    Yb,
    bb,
    c_,
    dbb,
    dK,
    dKb,
    dX,
    dXb,
    f,
    f_,
    forward_expr,
    grad_wrt_input,
    grad_wrt_kernel,
    i,
    j,
    k_h,
    k_w,
    layer_forward_expr,
    p,
    q,
    s,
    t,
    t_,
)


@register("conv2d.forward")
def forward() -> KernelSpec:
    return KernelSpec(
        "conv2d.forward",
        inputs=[X, K],
        outputs=[Output(Y, (i, j), forward_expr(), ranges=OUT_RANGES)],
        shapes={H_in: (X, 0), W_in: (X, 1), k_h: (K, 0), k_w: (K, 1)},
        out_shapes={Y: (H_in - k_h + 1, W_in - k_w + 1)},
        doc="Y = X ⋆ K: the valid 2-D cross-correlation",
    )


@register("conv2d.grad_kernel")
def grad_kernel() -> KernelSpec:
    return KernelSpec(
        "conv2d.grad_kernel",
        inputs=[X, G],
        outputs=[Output(dK, (p, q), grad_wrt_kernel())],
        shapes={H_in: (X, 0), W_in: (X, 1), H_out: (G, 0), W_out: (G, 1), k_h: H_in - H_out + 1, k_w: W_in - W_out + 1},
        out_shapes={dK: (k_h, k_w)},
        doc="∂L/∂K = X ⋆ G, from sp.diff(Σ G·Y, K[p, q])",
    )


@register("conv2d.grad_input")
def grad_input() -> KernelSpec:
    return KernelSpec(
        "conv2d.grad_input",
        inputs=[G, K],
        outputs=[Output(dX, (p, q), grad_wrt_input())],
        shapes={H_out: (G, 0), W_out: (G, 1), k_h: (K, 0), k_w: (K, 1), H_in: H_out + k_h - 1, W_in: W_out + k_w - 1},
        out_shapes={dX: (H_in, W_in)},
        doc="∂L/∂X = full convolution of G with K, from sp.diff(Σ G·Y, X[p, q])",
    )


@register("conv2d.layer_forward")
def layer_forward() -> KernelSpec:
    return KernelSpec(
        "conv2d.layer_forward",
        inputs=[Xb, Kb, bb, s],
        outputs=[Output(Yb, (t, f, i, j), layer_forward_expr(), ranges=LAYER_RANGES)],
        shapes=LAYER_SHAPES,
        out_shapes={Yb: (N, F, H_o, W_o)},
        doc="Y[t,f,i,j] = Σ_c Σ_m Σ_n X[t,c,s·i+m,s·j+n] K[f,c,m,n] + b[f]: the "
        "convolutional layer over a batch (valid; pad X beforehand)",
    )


@register("conv2d.layer_grad_kernel")
def layer_grad_kernel() -> KernelSpec:
    return KernelSpec(
        "conv2d.layer_grad_kernel",
        inputs=[Gb, Xb, Kb, s],
        outputs=[Output(dKb, (f_, c_, p, q), derived("conv2d-layer").results["dK"])],
        shapes={**GRAD_SHAPES, C_in: (Xb, 1), k_h: (Kb, 2), k_w: (Kb, 3)},
        out_shapes={dKb: (F, C_in, k_h, k_w)},
        doc="∂L/∂K[f',c',p,q] = Σ_t Σ_i Σ_j G[t,f',i,j] X[t,c',s·i+p,s·j+q], derived by "
        "`symnn derive conv2d-layer` (K is read for its shape only)",
    )


@register("conv2d.layer_grad_bias")
def layer_grad_bias() -> KernelSpec:
    return KernelSpec(
        "conv2d.layer_grad_bias",
        inputs=[Gb],
        outputs=[Output(dbb, (f_,), derived("conv2d-layer").results["db"])],
        shapes=GRAD_SHAPES,
        out_shapes={dbb: (F,)},
        doc="∂L/∂b[f'] = Σ_t Σ_i Σ_j G[t,f',i,j], derived by `symnn derive conv2d-layer`",
    )


@register("conv2d.layer_grad_input")
def layer_grad_input() -> KernelSpec:
    return KernelSpec(
        "conv2d.layer_grad_input",
        inputs=[Gb, Kb, Xb, s],
        outputs=[Output(dXb, (t_, c_, p, q), derived("conv2d-layer").results["dX"])],
        shapes={**GRAD_SHAPES, C_in: (Kb, 1), k_h: (Kb, 2), k_w: (Kb, 3), H_in: (Xb, 2), W_in: (Xb, 3)},
        out_shapes={dXb: (N, C_in, H_in, W_in)},
        doc="∂L/∂X[t',c',p,q] = Σ_f Σ_i Σ_j G[t',f,i,j] K[f,c',p−s·i,q−s·j] over the windows "
        "that cover (p, q), derived by `symnn derive conv2d-layer` (X, the padded input, "
        "is read for its shape only)",
    )


# the digits CNN's layer (symnn train cnn), so that `symnn codegen show` finds its kernels by name
for _name in ("forward", "grad_kernel", "grad_input"):
    register_specialised(f"conv2d.layer_{_name}", k_h=3, k_w=3, s=1)
    register_specialised(f"conv2d.layer_{_name}", unfold=True, k_h=3, k_w=3, s=1)
register_specialised("conv2d.layer_grad_bias", unfold=True)  # its channel sums interleaved (passes.blas)
