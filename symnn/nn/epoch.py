"""The compiled epoch: one generated Numba function runs every mini-batch of an epoch, calling
the same generated kernels that `train_step` calls from Python — forward, ∂C/∂ŷ, backward and
the SGD update — on buffers allocated once per fit.

For small nets the Python between kernel calls (a few microseconds per call, ~30 calls per
batch for the digits CNN) costs as much as the kernels. The driver written here holds no
arithmetic of its own: it gathers the batch, frames padded inputs with zeros and calls kernels
whose sources `symnn codegen show NAME` prints; its own source is `symnn codegen show
epoch.<layers>.<loss>`. Dense/activation stacks use the faster per-sample fused kernel
(symnn.nn.fused) instead.
"""
from __future__ import annotations

import re

import numpy as np

_MODULES: dict[str, object] = {}


class EpochWriter:
    """Collects the driver's kernel imports, parameters, buffers and per-batch statements."""

    def __init__(self):
        self.kernels: dict[str, tuple[str, str, str]] = {}   # kernel name -> (alias, module, function)
        self.params: list[tuple[str, np.ndarray]] = []
        self.buffers: list[tuple[str, tuple[int, ...], bool]] = []  # name, shape, leading batch axis
        self.updates: list[tuple[str, str]] = []                # (parameter, its gradient buffer)
        self.lines: list[str] = []

    def kernel(self, k) -> str:
        if k.name not in self.kernels:
            self.kernels[k.name] = (f"k{len(self.kernels)}", k.module.__name__, k.module.FUNCTION)
        return self.kernels[k.name][0]

    def param(self, array: np.ndarray, name: str) -> str:
        self.params.append((name, array))
        return name

    def buffer(self, name: str, shape: tuple[int, ...], batched: bool = True) -> str:
        self.buffers.append((name, tuple(int(d) for d in shape), batched))
        return name

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def call(self, k, *args) -> None:
        self.emit(f"{self.kernel(k)}({', '.join(map(str, args))})  # {k.name}")


def _flat(name: str) -> str:
    return f"{name}.reshape(-1)"


# -- what each layer writes: forward returns (output variable, per-sample shape) ------------------
def _forward(layer, n: int, w: EpochWriter, x: str, shape: tuple) -> tuple[str, tuple]:
    from symnn.nn.cnn_layers import AvgPool2D, Conv2D, Flatten, MaxPool2D
    from symnn.nn.layers import Activation, Dense
    if isinstance(layer, Dense):
        W, b = w.param(layer.weight, f"W{n}"), w.param(layer.bias, f"b{n}")
        z = w.buffer(f"z{n}", (layer.n_out,))
        w.call(layer.train_kernels[0], x, W, b, z)
        return z, (layer.n_out,)
    if isinstance(layer, Activation):
        a = w.buffer(f"a{n}", shape)
        w.call(layer.kernels[0], _flat(x), _flat(a))
        return a, shape
    if isinstance(layer, Conv2D):
        K, b = w.param(layer.weight, f"K{n}"), w.param(layer.bias, f"b{n}")
        P, (c, h, wd) = layer.padding, shape
        src = x
        if P:
            src = w.buffer(f"xpad{n}", (c, h + 2 * P, wd + 2 * P))
            w.emit(f"{src}[:, :, {P}:{P + h}, {P}:{P + wd}] = {x}  # the zero frame (padding {P})")
        ho, wo = layer.output_shape(h, wd)
        y = w.buffer(f"y{n}", (layer.out_channels, ho, wo))
        w.call(layer.train_kernels[0], src, K, b, layer.stride, y)
        return y, (layer.out_channels, ho, wo)
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        c, h, wd = shape
        (kh, kw), s = layer.size, layer.stride
        out = (c, (h - kh) // s + 1, (wd - kw) // s + 1)
        y = w.buffer(f"y{n}", out)
        if isinstance(layer, MaxPool2D):
            w.call(layer.train_kernels[0], x, kh, kw, s, y, w.buffer(f"switch{n}", out))
        else:
            w.call(layer.train_kernels[0], x, kh, kw, s, y)
        return y, out
    if isinstance(layer, Flatten):
        y = w.buffer(f"y{n}", (int(np.prod(shape)),))
        w.call(layer.kernels[0], x, y)
        return y, (int(np.prod(shape)),)
    raise TypeError(type(layer).__name__)


def _backward(layer, n: int, w: EpochWriter, x: str, shape: tuple, delta: str, need: bool) -> str | None:
    """Fill the layer's gradients; return ∂C/∂(its input) when `need`."""
    from symnn.nn.cnn_layers import AvgPool2D, Conv2D, Flatten, MaxPool2D
    from symnn.nn.layers import Activation, Dense
    if isinstance(layer, Dense):
        _, grad_weight, grad_bias, grad_input = layer.train_kernels
        dW, db = w.buffer(f"dW{n}", layer.weight.shape, False), w.buffer(f"db{n}", layer.bias.shape, False)
        w.call(grad_weight, delta, x, dW)
        w.call(grad_bias, delta, db)
        w.updates += [(f"W{n}", dW), (f"b{n}", db)]
        if not need:
            return None
        dA = w.buffer(f"dA{n}", shape)
        w.call(grad_input, delta, f"W{n}", dA)
        return dA
    if isinstance(layer, Activation):
        out = w.buffer(f"delta{n}", shape)
        w.call(layer.kernels[1], _flat(delta), _flat(x), _flat(out))
        return out
    if isinstance(layer, Conv2D):
        _, grad_kernel, grad_bias, grad_input = layer.train_kernels
        P, (c, h, wd) = layer.padding, shape
        src = f"xpad{n}" if P else x
        dK, db = w.buffer(f"dK{n}", layer.weight.shape, False), w.buffer(f"db{n}", layer.bias.shape, False)
        w.call(grad_kernel, delta, src, f"K{n}", layer.stride, dK)
        w.call(grad_bias, delta, db)
        w.updates += [(f"K{n}", dK), (f"b{n}", db)]
        if not need:
            return None
        dxpad = w.buffer(f"dxpad{n}", (c, h + 2 * P, wd + 2 * P))
        w.call(grad_input, delta, f"K{n}", src, layer.stride, dxpad)
        if not P:
            return dxpad
        dx = w.buffer(f"dx{n}", shape)
        w.emit(f"{dx}[:, :, :, :] = {dxpad}[:, :, {P}:{P + h}, {P}:{P + wd}]  # crop the frame off")
        return dx
    if isinstance(layer, (MaxPool2D, AvgPool2D)):
        (kh, kw), s = layer.size, layer.stride
        dx = w.buffer(f"dx{n}", shape)
        if isinstance(layer, MaxPool2D):
            w.call(layer.train_kernels[1], delta, f"switch{n}", x, kh, kw, s, dx)
        else:
            w.call(layer.train_kernels[1], delta, x, kh, kw, s, dx)
        return dx
    if isinstance(layer, Flatten):
        dx = w.buffer(f"dx{n}", shape)
        w.call(layer.kernels[1], delta, x, dx)
        return dx
    raise TypeError(type(layer).__name__)


def _loss_gradient(loss, w: EpochWriter, yhat: str, shape: tuple) -> str:
    from symnn.nn.cnn_layers import SoftmaxCrossEntropy
    g = w.buffer("grad", shape)
    if isinstance(loss, SoftmaxCrossEntropy):
        row_max, softmax, _, grad = loss.kernels[:4]
        mx, p = w.buffer("row_max", ()), w.buffer("p", shape)
        w.call(row_max, yhat, mx)
        w.call(softmax, yhat, mx, p)
        w.call(grad, _flat(p), _flat("yb"), "float(m)", _flat(g))
    else:
        w.call(loss.kernels[1], _flat(yhat), _flat("yb"), "float(m)", _flat(g))
    return g


# -- the module -----------------------------------------------------------------------------------
def compilable(model) -> bool:
    """True when every layer and the loss are ones the driver knows how to call."""
    from symnn.nn.cnn_layers import AvgPool2D, Conv2D, Flatten, MaxPool2D, SoftmaxCrossEntropy
    from symnn.nn.layers import Activation, Dense
    from symnn.nn.losses import LOSSES
    known = (Dense, Activation, Conv2D, MaxPool2D, AvgPool2D, Flatten)
    return (all(isinstance(layer, known) for layer in model.layers)
            and (isinstance(model.loss_fn, SoftmaxCrossEntropy) or model.loss_fn.name in LOSSES))


def kernel_name(model, sample_shape: tuple) -> str:
    """The name `symnn codegen show` knows the driver by: epoch.<layers>.<loss>."""
    slug = "-".join(re.sub(r"[^a-z0-9]+", "_", repr(layer).lower()).strip("_") for layer in model.layers)
    shape = "x".join(map(str, sample_shape))
    return f"epoch.{shape}.{slug}.{model.loss_fn.name}"


def write(model, sample_shape: tuple) -> tuple[str, EpochWriter]:
    """The driver's source for batches of `sample_shape` samples, and what it needs."""
    w = EpochWriter()
    x, shape, inputs, shapes = "xb", tuple(sample_shape), [], []
    w.buffer("xb", shape)
    for n, layer in enumerate(model.layers):
        inputs.append(x)
        shapes.append(shape)
        x, shape = _forward(layer, n, w, x, shape)
    w.buffer("yb", shape)
    last = len(model.layers) - 1
    if model.loss_fn.from_logits(model.layers):     # ∂C/∂z = σ(z) − y: from the last layer's input
        g = w.buffer("grad", shape)
        w.call(model.loss_fn.logit_kernels[1], _flat(inputs[last]), _flat("yb"), "float(m)", _flat(g))
        delta, last = g, last - 1
    else:
        delta = _loss_gradient(model.loss_fn, w, x, shape)
    for n in range(last, -1, -1):
        delta = _backward(model.layers[n], n, w, inputs[n], shapes[n], delta, need=n > 0)
    upd = w.kernel(_sgd())
    for p, g in w.updates:
        w.emit(f"{upd}({_flat(p)}, {_flat(g)}, eta, {_flat(p)})  # sgd.update: w ← w − η ∂C/∂w")
    return _module_text(model, sample_shape, w), w


def _sgd():
    from symnn.codegen import kernel
    return kernel("sgd.update")


def _module_text(model, sample_shape, w: EpochWriter) -> str:
    params = ", ".join(p for p, _ in w.params)
    batched = [b for b, _, per_batch in w.buffers if per_batch]
    fixed = [b for b, _, per_batch in w.buffers if not per_batch]
    args = ", ".join([*fixed, *(f"{b}_full" for b in batched), *(f"{b}_tail" for b in batched)])
    arch = " → ".join(map(repr, model.layers))
    lines = [f"# generated by symnn from: compiled epoch of {arch}, loss {model.loss_fn.name}",
             f"# samples shaped {tuple(sample_shape)}; every number comes from the kernels imported below",
             "# (`symnn codegen show NAME`); the driver itself only gathers batches and moves data.",
             f'"""{__doc__.splitlines()[0]}"""',
             "from numba import njit", ""]
    for name, (alias, module, fn) in w.kernels.items():
        lines.append(f"from {module} import {fn} as {alias}  # {name}")
    lines += ["", "",
              '@njit(cache=True, error_model="numpy")',
              f"def epoch(X, Y, order, eta, batch_size, {params}, {args}):",
              '    """One pass over the training set (step 7), batch by batch (steps 2-6); the last',
              '    batch, when shorter, uses buffers of its own size."""',
              "    n = order.shape[0]",
              "    for start in range(0, n, batch_size):",
              "        if start + batch_size <= n:",
              *[f"            {b} = {b}_full" for b in batched],
              "        else:",
              *[f"            {b} = {b}_tail" for b in batched],
              "        m = xb.shape[0]",
              "        for t in range(m):  # step 2: the batch, gathered in the epoch's order",
              "            xb[t] = X[order[start + t]]",
              "            yb[t] = Y[order[start + t]]"]
    lines += [f"        {line}" for line in w.lines]
    return "\n".join(lines) + "\n"


AUTO_BATCHES = 20_000   # fit() compiles the driver unasked when a run has at least this many batches


def _source(model, sample_shape: tuple):
    """(name, module text with its checksum line, the EpochWriter, the module's writer.Address)."""
    from symnn.codegen import writer
    name = kernel_name(model, sample_shape)
    text, w = write(model, sample_shape)
    where = writer.address(name, text)
    return name, where.text, w, where


def is_compiled(model, sample_shape: tuple) -> bool:
    """True when this model's driver has been compiled into the cache before (no compile wait)."""
    *_, where = _source(model, sample_shape)
    return where.path.with_suffix(".compiled").exists()


def worth_it(model, sample_shape: tuple, epochs: int, batches_per_epoch: int) -> bool:
    """fit()'s choice when not told: the driver when it is already compiled, or when the run is
    long enough to repay the one-time compilation (Numba links and optimises the ~20 kernels
    into one function: ~10 s on a 2-core machine; it saves ~0.2 ms of Python per batch)."""
    return compilable(model) and (epochs * batches_per_epoch >= AUTO_BATCHES
                                  or is_compiled(model, sample_shape))


class CompiledEpoch:
    """The imported driver for one model, input shape and batch size, with its buffers."""

    def __init__(self, model, sample_shape: tuple, batch_size: int, n: int):
        from symnn.codegen import writer
        self.name, _, w, where = _source(model, sample_shape)
        self.marker = where.path.with_suffix(".compiled")
        self.marked = self.marker.exists()
        if _MODULES.get(where.hash) is None:
            _, _MODULES[where.hash] = writer.publish(
                where, dynamic=True, doc="the compiled epoch: it calls the generated kernels imported "
                                         "at its top, on buffers allocated once per fit")
        self.function = _MODULES[where.hash].epoch
        self.params = [a for _, a in w.params]
        rest, dtype = n % batch_size, model.dtype
        fixed = [np.zeros(s, dtype) for _, s, batched in w.buffers if not batched]
        full = [np.zeros((batch_size, *s), dtype) for _, s, batched in w.buffers if batched]
        tail = [np.zeros((rest, *s), dtype) for _, s, batched in w.buffers if batched] if rest else full
        self.buffers = [*fixed, *full, *tail]
        self.batch_size = batch_size
        self.shapes = model.check_shapes(sample_shape)     # the shape pass, before any kernel runs
        self.n, self.dtype = n, dtype

    def _check(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray) -> None:
        """The driver indexes without bounds checks: refuse what it was not built for."""
        from symnn.errors import InputError
        want = ((self.n, *self.shapes[0]), (self.n, *self.shapes[-1]))
        for name, arr, shape in (("X", X, want[0]), ("Y", Y, want[1])):
            if arr.shape != shape or arr.dtype != self.dtype or not arr.flags.c_contiguous:
                raise InputError(f"the compiled epoch was built for a C-contiguous {name} shaped {shape} of "
                                 f"type {self.dtype}; got {arr.shape} {arr.dtype}")
        if (order.shape != (self.n,) or order.dtype != np.int64
                or (self.n and (order.min() < 0 or order.max() >= self.n))):
            raise InputError(f"the compiled epoch's order must be {self.n} int64 sample indices in 0 … {self.n - 1}")

    def __call__(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, lr: float) -> None:
        """Steps 2-7: one call runs the whole epoch."""
        self._check(X, Y, order)
        self.function(X, Y, order, float(lr), self.batch_size, *self.params, *self.buffers)
        if not self.marked:           # the first epoch compiled it: say so for the next run
            from symnn.codegen import writer
            writer.mark(self.marker, self.name + "\n")   # a read-only cache: the next run decides again
            self.marked = True


def run_epoch(model, X, Y, order, lr: float, batch_size: int, ws) -> None:
    """One epoch of mini-batch SGD through the compiled driver (built once per fit)."""
    key = ("compiled-epoch", batch_size, X.shape, id(model))
    driver = ws.get(key)
    if driver is None:
        driver = ws[key] = CompiledEpoch(model, X.shape[1:], batch_size, len(X))
    driver(np.ascontiguousarray(X, dtype=model.dtype), np.ascontiguousarray(Y, dtype=model.dtype),
           np.ascontiguousarray(order, dtype=np.int64), lr)
