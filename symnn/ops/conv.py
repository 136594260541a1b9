"""The 2-D convolution layer's operation in index notation: a cross-correlation (no flip), as
CNN layers compute it, over a single channel, stride 1, no padding ("valid"):

    Y[i, j] = Σ_m Σ_n X[i + m, j + n] K[m, n]      i ∈ [0, H − k_h], j ∈ [0, W − k_w]

Its gradients are not written by hand. With G[i, j] = ∂L/∂Y[i, j] coming from above,
L = Σ_{i,j} G[i, j] Y[i, j] is differentiated by SymPy (`sp.diff`) with respect to one kernel
element K[p, q] and one input element X[p, q]. SymPy answers with Kronecker deltas; the code
generator collapses them and turns the range guards into loop bounds:

    ∂L/∂K[p, q] = Σ_{i,j} G[i, j] X[i + p, j + q]          a valid correlation of X with G
    ∂L/∂X[p, q] = Σ_{i,j} G[i, j] K[p − i, q − j],         a full convolution of G with K
                  over max(0, p − k_h + 1) ≤ i ≤ min(p, H − k_h) (and likewise j)

Kernels: conv2d.forward (X, K) -> Y, conv2d.grad_kernel (X, G) -> dK,
conv2d.grad_input (G, K) -> dX. Stride, padding and channels extend these definitions.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from symnn.codegen import KernelSpec, Output, register

i, j, m, n, p, q = sp.symbols("i j m n p q", integer=True)
H, W, k_h, k_w = sp.symbols("H W k_h k_w", integer=True, positive=True)
H_out, W_out = sp.symbols("H_out W_out", integer=True, positive=True)
X, K, G = sp.IndexedBase("X"), sp.IndexedBase("K"), sp.IndexedBase("G")
Y, dK, dX = sp.IndexedBase("Y"), sp.IndexedBase("dK"), sp.IndexedBase("dX")

OUT_RANGES = {i: (0, H - k_h), j: (0, W - k_w)}


def forward_expr() -> sp.Expr:
    """Y[i, j]: the valid cross-correlation of X with K."""
    return sp.Sum(X[i + m, j + n] * K[m, n], (m, 0, k_h - 1), (n, 0, k_w - 1))


def loss_expr() -> sp.Expr:
    """L = Σ_{i,j} G[i, j] Y[i, j]: its derivatives are the vector-Jacobian products."""
    return sp.Sum(G[i, j] * forward_expr(), (i, 0, H - k_h), (j, 0, W - k_w))


def grad_wrt_kernel() -> sp.Expr:
    """∂L/∂K[p, q] as SymPy gives it (Kronecker deltas inside the Sums)."""
    return sp.diff(loss_expr(), K[p, q])


def grad_wrt_input() -> sp.Expr:
    """∂L/∂X[p, q] as SymPy gives it (Kronecker deltas inside the Sums)."""
    return sp.diff(loss_expr(), X[p, q])


@register("conv2d.forward")
def _forward() -> KernelSpec:
    return KernelSpec("conv2d.forward", inputs=[X, K],
                      outputs=[Output(Y, (i, j), forward_expr(), ranges=OUT_RANGES)],
                      shapes={H: (X, 0), W: (X, 1), k_h: (K, 0), k_w: (K, 1)},
                      out_shapes={Y: (H - k_h + 1, W - k_w + 1)},
                      doc="Y = X ⋆ K: the valid 2-D cross-correlation")


@register("conv2d.grad_kernel")
def _grad_kernel() -> KernelSpec:
    return KernelSpec("conv2d.grad_kernel", inputs=[X, G],
                      outputs=[Output(dK, (p, q), grad_wrt_kernel())],
                      shapes={H: (X, 0), W: (X, 1), H_out: (G, 0), W_out: (G, 1),
                              k_h: H - H_out + 1, k_w: W - W_out + 1},
                      out_shapes={dK: (k_h, k_w)},
                      doc="∂L/∂K = X ⋆ G, from sp.diff(Σ G·Y, K[p, q])")


@register("conv2d.grad_input")
def _grad_input() -> KernelSpec:
    return KernelSpec("conv2d.grad_input", inputs=[G, K],
                      outputs=[Output(dX, (p, q), grad_wrt_input())],
                      shapes={H_out: (G, 0), W_out: (G, 1), k_h: (K, 0), k_w: (K, 1),
                              H: H_out + k_h - 1, W: W_out + k_w - 1},
                      out_shapes={dX: (H, W)},
                      doc="∂L/∂X = full convolution of G with K, from sp.diff(Σ G·Y, X[p, q])")


# -- the batched, strided, multi-channel layer ---------------------------------------------------
# A batch of N inputs X (N, C, H, W), F filters K (F, C, k_h, k_w), one bias per filter b (F,),
# stride s; the input is already padded (the layer pads with zeros and crops the gradient):
#
#     Y[t, f, i, j] = Σ_c Σ_m Σ_n X[t, c, s·i + m, s·j + n] K[f, c, m, n] + b[f]
#
# with i ∈ [0, ⌊(H − k_h)/s⌋], j ∈ [0, ⌊(W − k_w)/s⌋]. The gradients are the results of the
# verified derivation `symnn derive conv2d-layer` (symnn/derive/topics_nn.py).
t, c, f = sp.symbols("t c f", integer=True)
t_, c_, f_ = sp.symbols("t' c' f'", integer=True)      # the element a gradient is taken at
N, C, F = sp.symbols("N C F", integer=True, positive=True)
s = sp.Symbol("s", integer=True, positive=True)
Xb, Kb, bb, Gb = (sp.IndexedBase(name, real=True) for name in ("X", "K", "b", "G"))
Yb, dKb, dbb, dXb = (sp.IndexedBase(name, real=True) for name in ("Y", "dK", "db", "dX"))
H_o = sp.floor((H - k_h) / s) + 1          # output height and width of a valid strided layer
W_o = sp.floor((W - k_w) / s) + 1
LAYER_RANGES = {t: (0, N - 1), f: (0, F - 1), i: (0, H_o - 1), j: (0, W_o - 1)}
LAYER_SHAPES = {N: (Xb, 0), C: (Xb, 1), H: (Xb, 2), W: (Xb, 3), F: (Kb, 0), k_h: (Kb, 2), k_w: (Kb, 3)}


def layer_forward_expr() -> sp.Expr:
    """Y[t, f, i, j] of the convolutional layer (stride s, channels c, bias per filter)."""
    return sp.Sum(Xb[t, c, s * i + m, s * j + n] * Kb[f, c, m, n],
                  (c, 0, C - 1), (m, 0, k_h - 1), (n, 0, k_w - 1)) + bb[f]


@register("conv2d.layer_forward")
def _layer_forward() -> KernelSpec:
    return KernelSpec("conv2d.layer_forward", inputs=[Xb, Kb, bb, s],
                      outputs=[Output(Yb, (t, f, i, j), layer_forward_expr(), ranges=LAYER_RANGES)],
                      shapes=LAYER_SHAPES, out_shapes={Yb: (N, F, H_o, W_o)},
                      doc="Y[t,f,i,j] = Σ_c Σ_m Σ_n X[t,c,s·i+m,s·j+n] K[f,c,m,n] + b[f]: the "
                          "convolutional layer over a batch (valid; pad X beforehand)")


def layer_loss_expr() -> sp.Expr:
    """L = Σ_t Σ_f Σ_i Σ_j G[t, f, i, j] Y[t, f, i, j], with G = ∂L/∂Y from the layer above and
    the output's H_out × W_out read from G (the forward's ⌊(H − k_h)/s⌋ + 1)."""
    return sp.Sum(Gb[t, f, i, j] * layer_forward_expr(),
                  (t, 0, N - 1), (f, 0, F - 1), (i, 0, H_out - 1), (j, 0, W_out - 1))


@lru_cache(maxsize=None)
def layer_derivation():
    """`symnn derive conv2d-layer`, verified (cached: the three gradient kernels share it)."""
    from symnn.derive import derive
    return derive("conv2d-layer")


def _layer_result(name: str) -> sp.Expr:
    return layer_derivation().results[name]


GRAD_SHAPES = {N: (Gb, 0), F: (Gb, 1), H_out: (Gb, 2), W_out: (Gb, 3)}


@register("conv2d.layer_grad_kernel")
def _layer_grad_kernel() -> KernelSpec:
    return KernelSpec("conv2d.layer_grad_kernel", inputs=[Gb, Xb, Kb, s],
                      outputs=[Output(dKb, (f_, c_, p, q), _layer_result("∂L/∂K[f', c', p, q]"))],
                      shapes={**GRAD_SHAPES, C: (Xb, 1), k_h: (Kb, 2), k_w: (Kb, 3)},
                      out_shapes={dKb: (F, C, k_h, k_w)},
                      doc="∂L/∂K[f',c',p,q] = Σ_t Σ_i Σ_j G[t,f',i,j] X[t,c',s·i+p,s·j+q], derived by "
                          "`symnn derive conv2d-layer` (K is read for its shape only)")


@register("conv2d.layer_grad_bias")
def _layer_grad_bias() -> KernelSpec:
    return KernelSpec("conv2d.layer_grad_bias", inputs=[Gb],
                      outputs=[Output(dbb, (f_,), _layer_result("∂L/∂b[f']"))],
                      shapes=GRAD_SHAPES, out_shapes={dbb: (F,)},
                      doc="∂L/∂b[f'] = Σ_t Σ_i Σ_j G[t,f',i,j], derived by `symnn derive conv2d-layer`")


@register("conv2d.layer_grad_input")
def _layer_grad_input() -> KernelSpec:
    return KernelSpec("conv2d.layer_grad_input", inputs=[Gb, Kb, Xb, s],
                      outputs=[Output(dXb, (t_, c_, p, q), _layer_result("∂L/∂X[t', c', p, q]"))],
                      shapes={**GRAD_SHAPES, C: (Kb, 1), k_h: (Kb, 2), k_w: (Kb, 3), H: (Xb, 2), W: (Xb, 3)},
                      out_shapes={dXb: (N, C, H, W)},
                      doc="∂L/∂X[t',c',p,q] = Σ_f Σ_i Σ_j G[t',f,i,j] K[f,c',p−s·i,q−s·j] over the windows "
                          "that cover (p, q), derived by `symnn derive conv2d-layer` (X, the padded input, "
                          "is read for its shape only)")


# -- specialisation --------------------------------------------------------------------------------
# kernel name -> form(values, outputs) -> (outputs, note): for these sizes, another form of the
# outputs that a derivation proves equal (maxpool.forward, 2 × 2 window: symnn.ops.pool._max_2x2)
SPECIAL_FORMS: dict = {}


def register_specialised(name: str, fastmath: bool = False, **values: int) -> str:
    """Register the kernel `name` with some size symbols fixed to numbers (k_h=3, k_w=3, s=1)
    under the name 'name[k_h=3,k_w=3,s=1]' (returned); the factory runs only when it is built.
    The loops over the window get constant trip counts, which LLVM unrolls (2–3× faster for a
    3 × 3 convolution or a 2 × 2 max-pool). The signature is unchanged; the fixed arguments are
    then ignored, so call it only with inputs of those sizes. `fastmath` compiles it with sums
    reassociated ('name[fastmath,...]'): vectorised, but no longer in the written order."""
    from symnn.codegen.registry import factory
    tags = (["fastmath"] if fastmath else []) + [f"{k}={int(v)}" for k, v in sorted(values.items())]
    label = f"{name}[{','.join(tags)}]"

    def make() -> KernelSpec:
        spec = factory(name)()
        symbols = set().union(*(o.expr.free_symbols for o in spec.outputs), spec.scalars, spec.shapes,
                              *(e.free_symbols for sh in spec.out_shapes.values() for e in sh))
        sub = {sym: sp.Integer(values[sym.name]) for sym in symbols
               if isinstance(sym, sp.Symbol) and sym.name in values}
        outputs = [Output(o.base, o.indices, o.expr.xreplace(sub),
                          ranges={v: (lo.xreplace(sub), hi.xreplace(sub)) for v, (lo, hi) in o.ranges.items()},
                          accumulate=o.accumulate) for o in spec.outputs]
        notes = []
        if values:
            fixed = ", ".join(f"{k} = {int(v)}" for k, v in sorted(values.items()))
            notes.append(f"specialised to {fixed} (those arguments are ignored)")
        if name in SPECIAL_FORMS:
            outputs, note = SPECIAL_FORMS[name](values, outputs)
            notes += [note] if note else []
        if fastmath:
            notes.append("fastmath: sums reassociated")
        return KernelSpec(label, inputs=spec.inputs, outputs=outputs, shapes=spec.shapes,
                          out_shapes={b: tuple(e.xreplace(sub) for e in sh) for b, sh in spec.out_shapes.items()},
                          parallel=spec.parallel, fastmath=fastmath or spec.fastmath,
                          doc=" — ".join([spec.doc, *notes]))
    register(label)(make)
    return label


def specialised(name: str, fastmath: bool = False, **values: int):
    """The kernel of register_specialised(name, fastmath, **values), built or loaded from the
    cache (a warm start finds it through the cache index, without SymPy)."""
    from symnn.codegen import kernel
    return kernel(register_specialised(name, fastmath, **values))


# the digits CNN's layer (symnn train cnn), so that `symnn codegen show` finds its kernels by name
for _name in ("forward", "grad_kernel", "grad_input"):
    register_specialised(f"conv2d.layer_{_name}", k_h=3, k_w=3, s=1)
