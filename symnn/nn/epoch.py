"""The compiled epoch: one generated Numba function runs every mini-batch of an epoch, calling
the same generated kernels that `train_step` calls from Python — forward, ∂C/∂ŷ, backward and
the SGD update — on buffers allocated once per fit.

It takes the Python out from between the kernel calls of a batch. The driver written here holds
no arithmetic of its own: it gathers the batch, frames padded inputs with zeros and calls kernels
whose sources `symnn codegen show NAME` prints; its own source is `symnn codegen show
epoch.<layers>.<loss>[.<optimizer>]`. Each layer writes its own lines (`epoch_forward`, `epoch_backward`,
see symnn.nn.layers) and the loss writes its gradient's (`epoch_gradient`); a net with a layer
that writes none is not compilable. An optimizer other than SGD writes the update lines
itself (symnn.nn.optimizers: its state arrays are the driver's arguments). Small
Dense/activation stacks use the per-sample fused kernel (symnn.nn.fused) instead. On the
threads asked for, a driver shares a batch's rows or each large call (symnn.nn.epoch_threads).
"""

from __future__ import annotations

import contextlib
import re
import types

import numpy as np

from symnn.nn.epoch_threads import PARTS_MIN, parts_body, parts_for, units_for, update_body, work

__all__ = ["PARTS_MIN", "parts_for", "units_for", "work"]  # how batches are shared: symnn.nn.epoch_threads
_MODULES: dict[str, types.ModuleType] = {}  # the drivers' modules, by their text's hash


class EpochWriter:
    """Collects the driver's kernel imports, parameters, buffers and per-batch statements."""

    def __init__(self, batch_size: int = 1, parts: int = 1, units: int = 1) -> None:
        self.parts = parts  # the threads that share a batch, each summing its own rows (parallel driver)
        self.units = units  # the threads that share each large call (a units driver; symnn.nn.epoch_threads)
        self.batch_size = -(-batch_size // parts)  # the rows one part gets: layers choose their kernels by it
        self.split = 0  # where the update lines start (after forward, loss and backward)
        self.kernels: dict[str, tuple[str, str, str]] = {}  # kernel name -> (alias, module, function)
        self.params: list[tuple[str, np.ndarray]] = []
        self.buffers: list[tuple[str, tuple[int, ...], bool]] = []  # name, shape, leading batch axis
        self.updates: list[tuple[str, str]] = []  # (parameter, its gradient buffer)
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

    def share(self, count: str | int, work: int, *calls: tuple) -> None:
        """Calls (kernel, roles, *arguments) shared among the units threads from SHARE_MIN
        multiply-adds, each thread on its run of `count`; else plain calls (epoch_threads.share)."""
        from symnn.nn.epoch_threads import share

        share(self, count, work, list(calls))

    @staticmethod
    def flat(name: str) -> str:
        """The expression for buffer `name` seen as one flat vector."""
        return f"{name}.reshape(-1)"


# -- the module -----------------------------------------------------------------------------------
def compilable(model) -> bool:
    """True when every layer writes its own lines (epoch_forward, epoch_backward) and so does the
    loss (epoch_gradient, or epoch_logit_gradient when it is computed from the logits)."""
    layers = all(
        callable(getattr(layer, "epoch_forward", None)) and callable(getattr(layer, "epoch_backward", None))
        for layer in model.layers
    )
    loss = "epoch_logit_gradient" if model.loss_fn.from_logits(model.layers) else "epoch_gradient"
    return layers and callable(getattr(model.loss_fn, loss, None))


def _sgd_only(optimizer) -> bool:
    return optimizer is None or optimizer.name == "sgd"


def kernel_name(model, sample_shape: tuple, optimizer=None, parts: int = 1, units: int = 1) -> str:
    """The name `symnn codegen show` knows the driver by:
    epoch.<shape>.<layers>.<loss>[.<optimizer>][.parts<P> | .units<P>]."""
    slug = "-".join(re.sub(r"[^a-z0-9]+", "_", repr(layer).lower()).strip("_") for layer in model.layers)
    shape = "x".join(map(str, sample_shape))
    tail = ("" if _sgd_only(optimizer) else f".{optimizer.name}") + (f".parts{parts}" if parts > 1 else "")
    tail += f".units{units}" if units > 1 else ""
    return f"epoch.{shape}.{slug}.{model.loss_fn.name}{tail}"


def write(
    model, sample_shape: tuple, optimizer=None, batch_size: int = 1, parts: int = 1, units: int = 1
) -> tuple[str, EpochWriter]:
    """The driver's source for batches of `batch_size` samples of `sample_shape`, and what it
    needs; the update is SGD's unless `optimizer` (a symnn.nn.optimizers.Optimizer) says otherwise.
    A layer may choose its kernels by the batch's size (Conv2D's BLAS compilations for large ones).
    With `parts` > 1 each batch is cut into that many runs of rows, run side by side by Numba's
    threads (prange), each into its own gradient buffers, added up by `gradient.parts`; with
    `units` > 1 the large calls are shared among that many threads (symnn.nn.epoch_threads)."""
    w = EpochWriter(batch_size, parts, units)
    x, shape, inputs, shapes = "xb", tuple(sample_shape), [], []
    w.buffer("xb", shape)
    for n, layer in enumerate(model.layers):
        inputs.append(x)
        shapes.append(shape)
        x, shape = layer.epoch_forward(w, n, x, shape)
    w.buffer("yb", shape)
    last = len(model.layers) - 1
    if model.loss_fn.from_logits(model.layers):  # ∂C/∂z = σ(z) − y: from the last layer's input
        model.loss_fn.epoch_logit_loss(w, inputs[last], shape)
        delta, last = model.loss_fn.epoch_logit_gradient(w, inputs[last], shape), last - 1
    else:
        model.loss_fn.epoch_loss(w, x, shape)
        delta = model.loss_fn.epoch_gradient(w, x, shape)
    if shape[0] > 1:
        _count_correct(w, x)
    for n in range(last, -1, -1):
        delta = model.layers[n].epoch_backward(w, n, inputs[n], shapes[n], delta, need=n > 0)
    w.split = len(w.lines)
    if not _sgd_only(optimizer):
        optimizer.epoch_update(w, model)  # its update kernel, on its state arrays
        return _module_text(model, sample_shape, w), w
    upd, flat = w.kernel(_kernel("sgd.update")), w.flat
    for p, g in w.updates:
        w.emit(f"{upd}({flat(p)}, {flat(g)}, eta, {flat(p)})  # sgd.update: w ← w − η ∂C/∂w")
    return _module_text(model, sample_shape, w), w


def _count_correct(w: EpochWriter, out: str) -> None:
    """The running accuracy of the batch: correct_lines for each of its samples."""
    w.emit(f"for t in range({out}.shape[0]):  # the running accuracy: the largest output against the target")
    for line in correct_lines(f"{out}[t, {{j}}]", "yb[t, {j}]", f"{out}.shape[1]"):
        w.emit(f"    {line}")


def correct_lines(out: str, target: str, size: str) -> list[str]:
    """Lines adding 1 to stats[1] when a sample's largest output (the first, on a tie, as NumPy's
    argmax) is at its one-hot target's index; `out` and `target` give entry {j} of the sample's
    row, `size` their length."""
    return [
        "best = 0",
        "truth = 0",
        f"for j in range(1, {size}):",
        f"    if {out.format(j='j')} > {out.format(j='best')}:",
        "        best = j",
        f"    if {target.format(j='j')} > {target.format(j='truth')}:",
        "        truth = j",
        "if best == truth:",
        "    stats[1] += 1.0",
    ]


def _arguments(w: EpochWriter) -> tuple[list[str], list[str], list[str]]:
    """The driver's buffer arguments in call order, its batched buffers and its fixed ones. With
    parts, each fixed buffer is `<name>_parts`, one per part, and the gradients come first whole."""
    batched = [b for b, _, per_batch in w.buffers if per_batch]
    fixed = [b for b, _, per_batch in w.buffers if not per_batch]
    each = [*(f"{b}_full" for b in batched), *(f"{b}_tail" for b in batched)]
    if w.parts == 1:
        return [*fixed, *each], batched, fixed
    return [*(g for _, g in w.updates), *(f"{b}_parts" for b in fixed), *each], batched, fixed


def _kernel(name: str):
    from symnn.codegen import kernel

    return kernel(name)


def _module_text(model, sample_shape, w: EpochWriter) -> str:
    params = ", ".join(p for p, _ in w.params)
    arguments, batched, fixed = _arguments(w)
    args = ", ".join(arguments)
    P = max(w.parts, w.units)
    if w.parts > 1:
        body = parts_body(w, batched, fixed, w.kernel(_kernel("gradient.parts")))
    else:
        body = w.lines if w.units == 1 else w.lines[: w.split] + update_body(w, w.units)
    arch = " → ".join(map(repr, model.layers))
    lines = [
        f"# generated by symnn from: compiled epoch of {arch}, loss {model.loss_fn.name}",
        f"# samples shaped {tuple(sample_shape)}; every number comes from the kernels imported below",
        "# (`symnn codegen show NAME`); the driver itself only gathers batches and moves data.",
        f'"""{__doc__.splitlines()[0]}"""',
        "from numba import njit" + (", prange" if P > 1 else ""),
        "",
    ]
    for name, (alias, module, fn) in w.kernels.items():
        lines.append(f"from {module} import {fn} as {alias}  # {name}")
    lines += [
        "",
        "",
        '@njit(cache=True, error_model="numpy"' + (", parallel=True)" if P > 1 else ")"),
        f"def epoch(X, Y, order, eta, batch_size, stats, {params}, {args}):",
        '    """One pass over the training set (step 7), batch by batch (steps 2-6); the last',
        '    batch, when shorter, uses buffers of its own size. stats[0] += the batch\'s cost and',
        '    stats[1] += its samples classified right, from the forward pass before its update."""',
        "    n = order.shape[0]",
        "    for start in range(0, n, batch_size):",
        "        if start + batch_size <= n:",
        *[f"            {b} = {b}_full" for b in batched],
        "        else:",
        *[f"            {b} = {b}_tail" for b in batched],
        "        m = xb.shape[0]",
    ]
    if w.units > 1:
        lines += [
            f"        for h in prange({P}):  # step 2: the batch, gathered in the epoch's order, each thread its rows",
            f"            for t in range(m * h // {P}, m * (h + 1) // {P}):",
        ]
    else:
        lines += ["        for t in range(m):  # step 2: the batch, gathered in the epoch's order"]
    lines += [
        f"{' ' * (12 + 4 * (w.units > 1))}xb[t] = X[order[start + t]]",
        f"{' ' * (12 + 4 * (w.units > 1))}yb[t] = Y[order[start + t]]",
    ]
    lines += [f"        {line}" for line in body]
    return "\n".join(lines) + "\n"


AUTO_BATCHES = 20_000  # fit() compiles the driver unasked when a run has at least this many batches


def _source(model, sample_shape: tuple, optimizer=None, batch_size: int = 1, parts: int = 1, units: int = 1):
    """(name, module text with its checksum line, the EpochWriter, the module's writer.Address)."""
    from symnn.codegen import writer

    name = kernel_name(model, sample_shape, optimizer, parts, units)
    text, w = write(model, sample_shape, optimizer, batch_size, parts, units)
    where = writer.address(name, text)
    return name, where.text, w, where


def is_compiled(
    model, sample_shape: tuple, optimizer=None, batch_size: int = 1, parts: int = 1, units: int = 1
) -> bool:
    """True when this model's driver has been compiled into the cache before (no compile wait)."""
    *_, where = _source(model, sample_shape, optimizer, batch_size, parts, units)
    return where.path.with_suffix(".compiled").exists()


def worth_it(
    model,
    sample_shape: tuple,
    epochs: int,
    batches_per_epoch: int,
    optimizer=None,
    batch_size: int = 1,
    parts: int = 1,
    units: int = 1,
) -> bool:
    """fit()'s choice when not told: the driver when it is already compiled, or when the run has
    at least AUTO_BATCHES batches, enough to repay the one-time compilation (Numba links and
    optimises the kernels it calls into one function)."""
    return compilable(model) and (
        epochs * batches_per_epoch >= AUTO_BATCHES
        or is_compiled(model, sample_shape, optimizer, batch_size, parts, units)
    )


class CompiledEpoch:
    """The imported driver for one model, input shape and batch size, with its buffers."""

    def __init__(
        self, model, sample_shape: tuple, batch_size: int, n: int, optimizer=None, parts: int = 1, units: int = 1
    ):
        from symnn.codegen import writer

        self.name, _, w, where = _source(model, sample_shape, optimizer, batch_size, parts, units)
        self.parts, self.units = parts, units
        self.marker = where.path.with_suffix(".compiled")
        self.marked = self.marker.exists()
        if _MODULES.get(where.hash) is None:
            _, _MODULES[where.hash] = writer.publish(
                where,
                dynamic=True,
                doc="the compiled epoch: it calls the generated kernels imported "
                "at its top, on buffers allocated once per fit",
            )
        self.function = _MODULES[where.hash].epoch
        self.named = list(w.params)  # (argument name, array): the parameters and optimizer state it trains
        rest, dtype = n % batch_size, model.dtype
        fixed = [np.zeros(s, dtype) for _, s, batched in w.buffers if not batched]
        if parts > 1:  # the whole gradients, then each fixed buffer once per part
            sizes = {b: s for b, s, batched in w.buffers if not batched}
            whole = [np.zeros(sizes[g], dtype) for _, g in w.updates]
            fixed = whole + [np.zeros((parts, *s), dtype) for _, s, batched in w.buffers if not batched]
        full = [np.zeros((batch_size, *s), dtype) for _, s, batched in w.buffers if batched]
        tail = [np.zeros((rest, *s), dtype) for _, s, batched in w.buffers if batched] if rest else full
        self.buffers = [*fixed, *full, *tail]
        self.batch_size = batch_size
        self.shapes = model.check_shapes(sample_shape)  # the shape pass, before any kernel runs
        self.n, self.dtype = n, dtype

    def trains(self, model, optimizer=None) -> bool:
        """True when the driver's arrays are still the model's parameters and the optimizer's
        state, and its hyper-parameters the optimizer's: nothing was replaced since it was built."""
        live = {id(a) for a in model.parameters().values()}
        if optimizer is not None:
            live |= {id(a) for state in optimizer.state.values() for a in state.values()} | {id(optimizer.count)}
        for name, array in self.named:
            if name == "hyper":  # written from the optimizer's settings when the driver was made
                if optimizer is None or list(array) != list(optimizer.hyper() or (0.0,)):
                    return False
            elif id(array) not in live:
                return False
        return True

    def _check(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray) -> None:
        """The driver indexes without bounds checks: refuse what it was not built for."""
        from symnn.errors import InputError

        want = ((self.n, *self.shapes[0]), (self.n, *self.shapes[-1]))
        for name, arr, shape in (("X", X, want[0]), ("Y", Y, want[1])):
            if arr.shape != shape or arr.dtype != self.dtype or not arr.flags.c_contiguous:
                raise InputError(
                    f"the compiled epoch was built for a C-contiguous {name} shaped {shape} of "
                    f"type {self.dtype}; got {arr.shape} {arr.dtype}"
                )
        if (
            order.shape != (self.n,)
            or order.dtype != np.int64
            or (self.n and (order.min() < 0 or order.max() >= self.n))
        ):
            raise InputError(f"the compiled epoch's order must be {self.n} int64 sample indices in 0 … {self.n - 1}")

    def __call__(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray, lr: float) -> np.ndarray:
        """Steps 2-7: one call runs the whole epoch; returns [Σ cost, correct] over its samples,
        each counted in its batch's forward pass (before that batch's update)."""
        self._check(X, Y, order)
        from symnn.nn.threads import blas_scope

        stats = np.zeros((self.parts, 2))
        with blas_scope(1) if max(self.parts, self.units) > 1 else contextlib.nullcontext():  # Numba's threads
            self.function(
                X,
                Y,
                order,
                float(lr),
                self.batch_size,
                stats if self.parts > 1 else stats[0],
                *(a for _, a in self.named),
                *self.buffers,
            )
        if not self.marked:  # the first epoch compiled it: say so for the next run
            from symnn.codegen import writer

            writer.mark(self.marker, self.name + "\n")  # a read-only cache: the next run decides again
            self.marked = True
        return stats.sum(axis=0)


KEPT_DRIVERS = 4  # drivers (with their buffers) a model keeps for its next fit calls


def driver_for(
    model, sample_shape: tuple, batch_size: int, n: int, optimizer=None, parts: int = 1, units: int = 1
) -> CompiledEpoch:
    """The model's CompiledEpoch for these sizes, kept from an earlier fit when it still trains
    the same parameter (and optimizer state) arrays with the same kernels; else a new one."""
    flags = tuple((getattr(layer, "fastmath", False), getattr(layer, "exact", False)) for layer in model.layers)
    key = (tuple(sample_shape), batch_size, n, parts, id(optimizer), flags, model.dtype.str, units)
    kept = model.__dict__.setdefault("_epoch_drivers", {})
    driver = kept.get(key)
    if driver is not None and driver.trains(model, optimizer):
        return driver
    driver = CompiledEpoch(model, sample_shape, batch_size, n, optimizer, parts, units)
    if len(kept) >= KEPT_DRIVERS:
        kept.pop(next(iter(kept)))
    kept[key] = driver
    return driver


def run_epoch(model, X, Y, order, lr: float, batch_size: int, ws, optimizer=None) -> np.ndarray:
    """One epoch of mini-batch SGD (or `optimizer`'s update) through the compiled driver (built
    once per fit); returns [Σ cost, correct] over the epoch's samples."""
    key = ("compiled-epoch", batch_size, X.shape, id(model), id(optimizer))
    driver = ws.get(key)
    if driver is None:
        exact = any(getattr(layer, "exact", False) for layer in model.layers)
        parts, units = (
            parts_for(model, X.shape[1:], batch_size, exact),
            units_for(model, X.shape[1:], batch_size, exact),
        )
        driver = ws[key] = CompiledEpoch(model, X.shape[1:], batch_size, len(X), optimizer, parts, units)
    return driver(
        np.ascontiguousarray(X, dtype=model.dtype),
        np.ascontiguousarray(Y, dtype=model.dtype),
        np.ascontiguousarray(order, dtype=np.int64),
        lr,
    )
