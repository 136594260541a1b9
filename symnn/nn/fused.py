"""One generated kernel for a whole epoch of mini-batch SGD on a dense net (BP1–BP4 fused).

Calling a kernel per layer per batch goes through Python's dispatch each time; this module
instead prints one Numba function that runs the epoch: per sample, forward (z = W a + b,
a = φ(z)), BP1 (δ^L = ∂C/∂a ⊙ φ'(z^L)), BP2 (δ^l = (Wᵀ δ^(l+1)) ⊙ φ'(z^l)), BP3/BP4 accumulated
over the mini-batch, then the update w ← w − η ∂C/∂w. The loop skeleton is the four equations
of `symnn derive backprop`; every formula in it — φ, φ' (in course form, from the stored
activation where the course writes it so), ∂C/∂ŷ and the update — is printed from the same
verified derivations as the per-layer kernels.
The module lands in the kernel cache like every other kernel: `symnn codegen show
mlp.epoch.sigmoid.quadratic.2` prints the source that trained the digits MLP.
"""

from __future__ import annotations

import numpy as np

from symnn.errors import InputError

_MODULE_CACHE: dict = {}


def _formulas(activation: str, cost: str):
    """φ(z), φ'(z) written with the activation a where possible, ∂C/∂ŷ — all derived."""
    import sympy as sp

    from symnn.kernels.activations import derivative, z
    from symnn.kernels.costs import gradient, y, yhat
    from symnn.ops.activations import get_activation
    from symnn.ops.functions import stable

    act = get_activation(activation)
    a = sp.Symbol("a", real=True)
    phi = stable(act.phi)
    d_phi = derivative(activation)
    if act.phi.is_Function and act.phi.func.__module__.startswith("symnn") or act.phi.func == sp.tanh:
        d_phi = d_phi.xreplace({act.phi: a})  # σ' = σ(1 − σ), tanh' = 1 − tanh²: from the output
    d_phi = stable(d_phi)
    return z, a, phi, d_phi, yhat, y, stable(gradient(cost))


def _logit_gradient(activation: str, cost: str):
    """∂C/∂z of the output layer when it is derived in z directly (sigmoid + cross-entropy:
    σ(z) − y, `symnn derive sigmoid-cross-entropy`), else None (BP1 multiplies ∂C/∂ŷ by φ')."""
    if (activation, cost) != ("sigmoid", "cross-entropy"):
        return None
    from symnn.kernels.costs import logit_gradient

    return logit_gradient()


def _loss_term(activation: str, cost: str):
    """c(ŷ, y) of one output, the expression the `<cost>.loss` kernel prints (or, for sigmoid +
    cross-entropy, the stable c(z, y) of `sigmoid_cross_entropy.loss`), and its symbols."""
    from symnn.codegen.registry import factory
    from symnn.kernels.costs import y, yhat, yl, zl

    if _logit_gradient(activation, cost) is not None:
        return factory("sigmoid_cross_entropy.loss")().exprs[0], zl, yl
    return factory(f"{cost}.loss")().exprs[0], yhat, y


def _function(n_layers: int, activation: str, cost: str, fastmath: bool) -> str:
    return f"mlp_epoch_{activation}_{cost.replace('-', '_')}_{n_layers}" + ("_fastmath" if fastmath else "")


def epoch_source(n_layers: int, activation: str, cost: str, fastmath: bool = False) -> tuple[str, str]:
    """(module source, function name) of the fused epoch for n_layers dense layers; `fastmath`
    lets LLVM reassociate its sums (vectorised, no longer in the written order)."""
    from symnn.codegen.printer import NumbaPrinter
    from symnn.nn.epoch import correct_lines

    z, a, phi, d_phi, yhat, y, dC = _formulas(activation, cost)
    L = n_layers
    P = lambda expr, names: NumbaPrinter(names=names).doprint(expr)  # noqa: E731
    fn = _function(L, activation, cost, fastmath)
    params = ", ".join(f"W{l}, b{l}" for l in range(L))
    work = ", ".join(f"z{l}, a{l}, d{l}, nW{l}, nb{l}" for l in range(L))
    fast = ', fastmath={"reassoc", "contract"}' if fastmath else ""
    out = [
        f"@njit(cache=True, error_model=\"numpy\"{fast})",
        f"def {fn}(X, Y, order, eta, batch_size, stats, {params}, {work}):",
        '    """One epoch; stats[0] += the cost of each sample before the update of its batch,',
        '    stats[1] += 1 for each sample whose largest output is at its target (running loss, accuracy)."""',
        "    n = order.shape[0]",
        "    for start in range(0, n, batch_size):",
        "        stop = min(start + batch_size, n)",
    ]
    for l in range(L):
        out += [f"        nW{l}[:, :] = 0.0", f"        nb{l}[:] = 0.0"]
    out += ["        for t in range(start, stop):", "            s = order[t]"]
    for l in range(L):
        src = "X[s, k]" if l == 0 else f"a{l - 1}[k]"
        out += [
            f"            # layer {l + 1}: z = W a + b (dense.forward), a = φ(z)",
            f"            for j in range(W{l}.shape[0]):",
            f"                acc = b{l}[j]",
            f"                for k in range(W{l}.shape[1]):",
            f"                    acc += W{l}[j, k]*{src}",
            f"                z{l}[j] = acc",
            f"                a{l}[j] = {P(phi, {z: f'z{l}[j]'})}",
        ]
    last = L - 1
    term, o, t = _loss_term(activation, cost)
    src = f"z{last}[j]" if o.name == "z" else f"a{last}[j]"
    out += [
        "            # the running loss: the cost C = Σ_j c(ŷ_j, y_j) of this sample (`<cost>.loss`)",
        "            cost = 0.0",
        f"            for j in range(W{last}.shape[0]):",
        f"                cost += {P(term, {o: src, t: 'Y[s, j]'})}",
        "            stats[0] += cost",
        "            # the running accuracy: the largest output's index against the target's",
        *[f"            {line}" for line in correct_lines(f"a{last}[{{j}}]", "Y[s, {j}]", f"W{last}.shape[0]")],
    ]
    logit = _logit_gradient(activation, cost)
    if logit is not None:
        out += [
            "            # BP1 from the logit: δ^L = ∂C/∂z^L = σ(z) − y (`symnn derive sigmoid-cross-entropy`)",
            f"            for j in range(W{last}.shape[0]):",
            f"                d{last}[j] = {P(logit, {z: f'z{last}[j]', y: 'Y[s, j]'})}",
        ]
    else:
        out += [
            "            # BP1: δ^L = ∂C/∂ŷ ⊙ φ'(z^L)",
            f"            for j in range(W{last}.shape[0]):",
            f"                d{last}[j] = ({P(dC, {yhat: f'a{last}[j]', y: 'Y[s, j]'})})"
            f"*({P(d_phi, {z: f'z{last}[j]', a: f'a{last}[j]'})})",
        ]
    for l in range(last - 1, -1, -1):
        out += [
            f"            # BP2: δ^l = (W^(l+1))ᵀ δ^(l+1) ⊙ φ'(z^l)  (dense.grad_input, then {activation}.backward)",
            f"            d{l}[:] = 0.0",
            f"            for j in range(W{l + 1}.shape[0]):  # row by row: each d[k] sums over j in order",
            f"                for k in range(W{l + 1}.shape[1]):",
            f"                    d{l}[k] += W{l + 1}[j, k]*d{l + 1}[j]",
            f"            for k in range(W{l + 1}.shape[1]):",
            f"                d{l}[k] = d{l}[k]*({P(d_phi, {z: f'z{l}[k]', a: f'a{l}[k]'})})",
        ]
    for l in range(L):
        src = "X[s, k]" if l == 0 else f"a{l - 1}[k]"
        out += [
            f"            # BP3, BP4 for layer {l + 1}: ∂C/∂b = δ, ∂C/∂w_jk = a_k δ_j, summed over the batch",
            f"            for j in range(W{l}.shape[0]):",
            f"                nb{l}[j] += d{l}[j]",
            f"                for k in range(W{l}.shape[1]):",
            f"                    nW{l}[j, k] += {src}*d{l}[j]",
        ]
    out += [
        "        # the update of `symnn derive gradient-descent`, with the batch mean of the gradient",
        "        step = eta/(stop - start)",
    ]
    for l in range(L):
        out += [
            f"        for j in range(W{l}.shape[0]):",
            f"            b{l}[j] -= step*nb{l}[j]",
            f"            for k in range(W{l}.shape[1]):",
            f"                W{l}[j, k] -= step*nW{l}[j, k]",
        ]
    header = [
        f"# generated by symnn from: fused epoch ({L} dense layers, {activation}, {cost})",
        f'"""{__doc__.splitlines()[0]}"""',
        "import math",
        "",
        "from numba import njit",
        "",
        "",
    ]
    return "\n".join(header + out) + "\n", fn


def kernel_name(n_layers: int, activation: str, cost: str, fastmath: bool = False) -> str:
    """The name `symnn codegen list/show` knows the fused epoch by."""
    return f"mlp.epoch.{activation}.{cost}.{n_layers}" + (".fastmath" if fastmath else "")


def epoch_kernel(n_layers: int, activation: str, cost: str, fastmath: bool = False):
    """The compiled fused epoch (generated, cached on disk, imported once per process)."""
    key = (n_layers, activation, cost, fastmath)
    if key in _MODULE_CACHE:
        return _MODULE_CACHE[key]
    from symnn.codegen import writer

    warm = _from_index(n_layers, activation, cost, fastmath)  # a second process: no SymPy at all
    if warm is not None:
        _MODULE_CACHE[key] = warm
        return warm
    text, fn = epoch_source(n_layers, activation, cost, fastmath)
    import sympy as sp

    z, a, phi, d_phi, yhat, y, dC = _formulas(activation, cost)
    equations = [sp.Eq(sp.Symbol("a"), phi), sp.Eq(sp.Symbol("phi'"), d_phi), sp.Eq(sp.Symbol("dC/dyhat"), dC)]
    _, module = writer.publish(
        writer.address(kernel_name(n_layers, activation, cost, fastmath), text),
        dynamic=True,
        equations=[sp.sstr(e) for e in equations],
        srepr=[sp.srepr(e) for e in equations],
    )
    _MODULE_CACHE[key] = getattr(module, fn)
    return _MODULE_CACHE[key]


def _from_index(n_layers: int, activation: str, cost: str, fastmath: bool):
    from symnn.codegen import writer

    entry = writer.find(kernel_name(n_layers, activation, cost, fastmath))
    if entry is None:
        return None
    fn = _function(n_layers, activation, cost, fastmath)
    return writer.open_entry(entry, lambda path, text, module: getattr(module, fn, None))


FUSE_MAX_WEIGHTS = 20_000  # larger nets train batch by batch, their matrix products through BLAS


def fusable(model) -> tuple[int, str, str] | None:
    """(layers, activation, cost) when the model is Dense/activation pairs with one activation
    and at most FUSE_MAX_WEIGHTS weights (the digits MLP has 2,220); else None."""
    from symnn.nn.layers import Activation, Dense
    from symnn.nn.losses import Cost

    layers = model.layers
    if len(layers) % 2 or not isinstance(model.loss_fn, Cost):
        return None
    dense, acts = layers[0::2], layers[1::2]
    if not all(isinstance(d, Dense) for d in dense) or not all(isinstance(a, Activation) for a in acts):
        return None
    if sum(d.weight.size for d in dense) > FUSE_MAX_WEIGHTS:
        return None
    names = {a.name for a in acts}
    if len(names) != 1 or "threshold" in names:
        return None
    return len(dense), names.pop(), model.loss_fn.name


def run_epoch(model, X, Y, order, lr: float, batch_size: int, ws, fastmath: bool = False) -> np.ndarray:
    """One epoch of mini-batch SGD through the fused generated kernel; returns [Σ cost, correct]
    over the epoch's samples, each counted in its batch's forward pass (before the update)."""
    fused = fusable(model)
    if fused is None:  # fit() asks fusable() first
        raise InputError(
            "the fused epoch takes Dense/activation pairs with one activation (not threshold), at most "
            f"{FUSE_MAX_WEIGHTS} weights, and a cost summed over the outputs (not softmax); not {model!r}"
        )
    n_layers, activation, cost = fused
    shapes = ws.shapes  # fit's shape pass, or one here: no kernel reads past a buffer
    if shapes is None or shapes[0] != X.shape[1:]:
        shapes = model.check_shapes(X.shape[1:])
    order = np.asarray(order)
    if Y.shape != (len(X), *shapes[-1]) or Y.dtype != X.dtype or not Y.flags.c_contiguous:
        raise InputError(
            f"the fused epoch needs C-contiguous targets shaped {(len(X), *shapes[-1])} of type "
            f"{X.dtype} (got {Y.shape}, {Y.dtype})"
        )
    if order.ndim != 1 or order.dtype.kind not in "iu" or (order.size and (order.min() < 0 or order.max() >= len(X))):
        raise InputError(f"the fused epoch's order must be 1-D sample indices in 0 … {len(X) - 1}")
    kernel = epoch_kernel(n_layers, activation, cost, fastmath)
    dense = model.layers[0::2]
    args = []
    for d in dense:
        args += [d.weight, d.bias]
    for d in dense:
        args += [
            ws.get_buffer(d, "fz", (d.n_out,)),
            ws.get_buffer(d, "fa", (d.n_out,)),
            ws.get_buffer(d, "fd", (d.n_out,)),
            ws.get_buffer(d, "fnW", d.weight.shape),
            ws.get_buffer(d, "fnb", d.bias.shape),
        ]
    if X.dtype != dense[0].weight.dtype or not X.flags.c_contiguous:
        raise InputError(f"the fused epoch needs a C-contiguous X of the weights' type {dense[0].weight.dtype}")
    stats = np.zeros(2)
    kernel(X, Y, order, float(lr), int(batch_size), stats, *args)
    return stats
