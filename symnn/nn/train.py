"""The lecture's seven steps of training, literally:

1. random weights close to 0 but not 0 (Sequential's seed);  2. one observation (or a batch)
into the input layer;  3. forward propagation;  4. compare with the actual result, measure the
error;  5. back-propagation, update each weight by how responsible it is, scaled by the
learning rate (SGD, or the optimizer fit is given: symnn.nn.optimizers);  6. update after
each observation (stochastic) or after a batch (batch learning), or after each mini-batch;
7. one pass over the training set is an epoch; redo more epochs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError, TrainingError
from symnn.nn.model import as_numbers
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.nn.model import Sequential
    from symnn.nn.optimizers import Optimizer

MODES = ("sgd", "batch", "minibatch")
OPTIONS = (
    "optimizer",
    "schedule",
    "mode",
    "seed",
    "X_test",
    "y_test",
    "progress",
    "explain",
    "fused",
    "compiled",
    "fastmath",
    "exact_order",
    "validation",
    "eval_every",
)


def batch_size_for(mode: str, batch_size: int, n: int) -> int:
    if mode == "sgd":
        return 1
    if mode == "batch":
        return n
    if mode != "minibatch":
        from symnn.errors import unknown

        raise unknown("mode", mode, MODES)
    return batch_size


def _integer(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{what} must be a positive integer (got {value!r})")
    return int(value)


def _rate(lr) -> float:
    ok = isinstance(lr, (int, float, np.integer, np.floating)) and not isinstance(lr, (bool, np.bool_))
    if not ok or not np.isfinite(lr) or lr <= 0:
        raise InputError(f"the learning rate must be a positive number, finite, such as 0.5 (got {lr!r})")
    return float(lr)


EPOCH_WORK = 10**5  # an epoch's own cost (the loss pass, the history, Python), as multiply-adds


def check_options(epochs: int, lr: float, batch_size: int, n: int, work_per_sample: float = 0) -> int:
    """The batch size to use; refuses bad values and, before any epoch, a run whose work
    (about `work_per_sample` multiply-adds per sample and epoch) exceeds the work limit."""
    from symnn.limits import check_work

    _integer(epochs, "epochs")
    _rate(lr)
    batch_size = _integer(batch_size, "the batch size")
    per_epoch = n * work_per_sample + (EPOCH_WORK if work_per_sample else 0)
    check_work(float(epochs) * per_epoch, f"training {plural(int(epochs), 'epoch')} on {plural(n, 'sample')}")
    if batch_size > n:
        print(
            f"note: batch size {batch_size} is larger than the {plural(n, 'training sample')}; using {n}",
            file=sys.stderr,
        )
        batch_size = n
    return int(batch_size)


def _check_flags(explain, fused, compiled, fastmath, progress, exact_order=False) -> None:
    if explain is not None and not callable(explain):
        raise InputError(f"explain must be a function taking one line of text, e.g. print (got {explain!r})")
    for name, value, allowed in (
        ("fused", fused, (bool,)),
        ("fastmath", fastmath, (bool,)),
        ("exact_order", exact_order, (bool,)),
        ("progress", progress, (bool,)),
        ("compiled", compiled, (bool, type(None))),
    ):
        if not isinstance(value, (*allowed, np.bool_)):
            extra = " or None" if type(None) in allowed else ""
            raise InputError(f"{name} must be True or False{extra} (got {value!r})")
    if fastmath and exact_order:
        raise InputError("fastmath reassociates sums and exact_order keeps their written order: choose one")


def sgd_step(model: Sequential, lr: float) -> None:
    """Step 5's update, w ← w − η ∂C/∂w, by the kernel derived from `derive gradient-descent`."""
    from symnn.codegen import kernel

    update = kernel("sgd.update").dispatcher
    lr = float(lr)
    for layer in model.layers:
        for name, param in layer.parameters().items():
            flat = param.reshape(-1)  # a view: the update lands in the live array
            update(flat, layer.grads[name].reshape(-1), lr, flat)


def update(model: Sequential, lr: float, optimizer: Optimizer | None = None) -> None:
    """Step 5's update: SGD's (sgd_step), or the optimizer's kernel on its state."""
    if optimizer is None or optimizer.name == "sgd":
        sgd_step(model, lr)
    else:
        optimizer.step(model, lr)


def train_forward(model: Sequential, X: np.ndarray, ws) -> np.ndarray:
    """The outputs for X through the kernels training runs (the conv and pool layers'
    specialised ones) into the workspace's buffers: a batch, or the whole training set for the
    epoch's loss; one InputError when a custom layer's output is not the shape it promised."""
    if ws.shapes is None or ws.shapes[0] != X.shape[1:]:  # the shape pass, once per fit
        ws.shapes = model.check_shapes(X.shape[1:])
    a, shapes = X, ws.shapes
    for n, layer in enumerate(model.layers):
        a = layer.train_forward(a, ws)
        if not isinstance(a, np.ndarray) or a.shape[1:] != shapes[n + 1]:  # a custom layer's output
            raise InputError(
                f"layer {n} ({layer!r}) returned {getattr(a, 'shape', type(a).__name__)}; "
                f"its out_shape promised (N, {', '.join(map(str, shapes[n + 1]))})"
            )
    return a


def train_step(
    model, xb: np.ndarray, yb: np.ndarray, lr: float, ws, optimizer: Optimizer | None = None
) -> tuple[float, int]:
    """Steps 3-5 on one batch, through the generated kernels, on reused buffers; returns the
    batch's cost (summed over its samples) and how many it classified right, both from its
    forward pass, before the update (the epoch's running loss and accuracy)."""
    a = train_forward(model, xb, ws)  # step 3: forward
    cost = model.output_loss(a, yb) * len(xb)
    correct = _correct(a, yb) if yb.shape[1] > 1 else 0
    last = len(model.layers) - 1
    if model.loss_fn.from_logits(model.layers):  # step 4: ∂C/∂z = σ(z) − y
        delta = model.loss_fn.train_logit_gradient(model.layers[last].z, yb, ws)
        last -= 1
    else:  # step 4: ∂C/∂ŷ
        delta = model.loss_fn.train_gradient(a, yb, ws)
    for n in range(last, -1, -1):  # step 5: back-propagate
        delta = model.layers[n].train_backward(delta, ws, need_input_grad=n > 0)
    update(model, lr, optimizer)
    return cost, correct


def fit(
    model: Sequential,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    epochs: int = 30,
    lr: float | None = None,
    batch_size: int = 10,
    optimizer: str | Optimizer | None = None,
    schedule: str = "constant",
    mode: str = "minibatch",
    seed: int | None = None,
    X_test: npt.ArrayLike | None = None,
    y_test: npt.ArrayLike | None = None,
    progress: bool = False,
    explain: Callable[[str], None] | None = None,
    fused: bool = True,
    compiled: bool | None = None,
    fastmath: bool = False,
    exact_order: bool = False,
    validation: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    eval_every: int | None = None,
) -> dict[str, list[float]]:
    """Train `model` in place; return its history.

    history["loss"] and history["accuracy"] are each epoch's running training loss and accuracy:
    every sample's cost (and whether its largest output is its target's) taken from the forward
    pass its batch trained with, before that batch's update, averaged over the epoch, as training
    loops usually report them; no extra pass over the training set. `validation=(X, y)` (or
    X_test and y_test) adds the held-out loss and accuracy after every `eval_every` epochs (1
    unless told; always after the last) as val_loss, val_accuracy and val_epoch (the epoch
    numbers), each from one forward pass.

    Dense/activation stacks run each epoch in one fused generated kernel (`fused`); other nets
    call the layers' kernels batch by batch, from Python or — `compiled` — from the compiled
    epoch driver (symnn.nn.epoch: compiled once per architecture, then reused; None lets fit
    decide: when it is already compiled or the run is long). `fastmath` trains with the same
    kernels compiled to reassociate their sums: not bit-reproducible against the written order
    (bench/ measures the accuracy effect). `exact_order` trains with the kernels' written-order
    compilations at every size: the dense and convolution products no longer go to BLAS above a
    size (symnn.codegen.passes: blas, unfold, fold), so every sum adds in the order written.

    `optimizer` is "sgd" (the default), "momentum", "nesterov", "rmsprop", "adam" or an object
    such as symnn.nn.Adam(betas=(0.9, 0.999)) (symnn.nn.optimizers); `lr` defaults to the
    optimizer's (SGD: 3.0, Adam: 1e-3, ...). Only SGD runs in the fused MLP epoch; the others
    train through the per-layer kernels or the compiled epoch.

    `schedule` is "constant" (η every epoch) or "cosine" (η_e = η·(1 + cos(π(e − 1)/E))/2 for
    epoch e of E: η at first, falling smoothly towards 0)."""
    from symnn.nn.optimizers import get_optimizer

    _check_flags(explain, fused, compiled, fastmath, progress, exact_order)
    opt = get_optimizer(optimizer)
    if not isinstance(mode, str):
        from symnn.errors import unknown

        raise unknown("mode", mode, MODES)
    if y is None:
        raise InputError("fit needs targets y: labels shaped (N,) or targets shaped (N, outputs); got None")
    X = as_numbers(X, "X")
    n = len(X) if X.ndim else 0
    if n == 0:  # refused (no samples, or not 2-D / 4-D) before any note about the batch size
        model.checked(X, y)
    _integer(epochs, "epochs")
    lr = _rate(opt.learning_rate(None if lr is None else _rate(lr)))
    rate = schedule_rates(schedule, lr, epochs)
    # forward and backward: about 3 multiply-adds per parameter (or input value) per sample
    per_sample = 3 * max(sum(p.size for p in model.parameters().values()), int(np.prod(X.shape[1:])))
    batch_size = check_options(epochs, lr, batch_size_for(mode, batch_size, max(n, 1)), max(n, 1), per_sample)
    X, Y, shapes = model.checked_shapes(X, y, batch_size)
    assert Y is not None  # y was given
    held, every = held_out(model, validation, X_test, y_test, eval_every)  # checked before training starts
    from symnn.nn.model import check_seed

    rng = np.random.default_rng(model.seed if seed is None else check_seed(seed))
    classify = Y.shape[1] > 1
    history = model.history
    with _progress(epochs, progress) as bar:  # closed with a newline if training stops (Ctrl-C)
        from symnn.nn.fused import fusable, run_epoch
        from symnn.nn.layers import Workspace

        ws = Workspace(model.dtype)
        ws.shapes = shapes
        opt.bind(model)  # its state (zeros on the first fit), checked against the parameters
        sgd = opt.name == "sgd"
        fuse = fused and sgd and fusable(model) is not None  # the fused epoch does SGD only
        for layer in model.layers:  # which compilation trains
            if layer.fastmath != fastmath or layer.exact != exact_order:
                layer.fastmath, layer.exact = fastmath, exact_order
                layer.reset()  # its kernels were the other ones
        driver = None
        if not fuse and compiled is not False:
            from symnn.nn import epoch as compiled_epoch

            n_batches = -(-n // batch_size)
            if compiled and not compiled_epoch.compilable(model):
                raise InputError(
                    f"compiled=True: the compiled epoch knows layers that write their lines into it "
                    f"(Dense, activations, Conv2D, pooling, Flatten) and their losses; this model has "
                    f"{model.layers}, loss {model.loss_fn!r}"
                )
            chosen = None if sgd else opt
            shape = X.shape[1:]
            parts = compiled_epoch.parts_for(model, shape, batch_size, exact_order)  # threads per batch
            units = compiled_epoch.units_for(model, shape, batch_size, exact_order)  # or per large call
            if compiled or compiled_epoch.worth_it(model, shape, epochs, n_batches, chosen, batch_size, parts, units):
                driver = compiled_epoch.driver_for(model, shape, batch_size, n, chosen, parts, units)
                X, Y = np.ascontiguousarray(X, dtype=model.dtype), np.ascontiguousarray(Y, dtype=model.dtype)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)  # step 7: a new pass
            lr = rate(epoch)
            narrate = explain is not None and epoch == 1
            if fuse and not narrate:
                stats = run_epoch(model, X, Y, order, lr, batch_size, ws, fastmath)  # steps 2-6 in one kernel
            elif driver is not None and not narrate:
                stats = driver(X, Y, order, lr)  # steps 2-6, compiled
            else:
                stats = np.zeros(2)
                for start in range(0, n, batch_size):
                    idx = order[start : start + batch_size]
                    xb, yb = X[idx], Y[idx]  # step 2
                    if narrate and start == 0 and explain is not None:
                        _explain(model, xb, yb, model.forward(xb), lr, explain, idx, opt)
                    stats += train_step(model, xb, yb, lr, ws, opt)  # steps 3-6
            loss, acc = float(stats[0]) / n, float(stats[1]) / n if classify else float("nan")
            if not np.isfinite(loss) or not _finite(model):
                what = f"the loss became {loss}" if not np.isfinite(loss) else "the weights overflowed to inf or NaN"
                raise TrainingError(
                    f"training diverged at epoch {epoch}: {what}; try a smaller learning rate than {lr}"
                )
            history["loss"].append(loss)
            history["accuracy"].append(acc)
            shown = f"loss {loss:.4f}" + (f", accuracy {acc:.4f}" if classify else "")
            if held is not None and (epoch % every == 0 or epoch == epochs):
                shown += _evaluate(model, held, history)
            bar.set_postfix_str(shown, refresh=False)
            bar.update(1)
    return history


def _correct(out: np.ndarray, Y: np.ndarray) -> int:
    """How many rows' largest output is at their one-hot target's index (as predict chooses)."""
    return int((out.argmax(axis=1) == Y.argmax(axis=1)).sum())


def _finite(model: Sequential) -> bool:
    """True when every weight is a finite number (the last batch's update did not overflow)."""
    return all(np.isfinite(p).all() for p in model.parameters().values())


class _HeldOut:
    """A validation set, checked once, with its own buffers for the evaluation's forward pass."""

    def __init__(self, model: Sequential, X: npt.ArrayLike, y: npt.ArrayLike) -> None:
        from symnn.nn.layers import Workspace

        try:
            self.X, self.Y = model.checked(X, y)  # C-contiguous, in the model's dtype
        except InputError as exc:
            raise InputError(f"validation: {exc}") from None
        self.ws = Workspace(model.dtype)


def _evaluate(model: Sequential, held: _HeldOut, history: dict[str, list[float]]) -> str:
    """The held-out loss and accuracy after this epoch, from one forward pass through the
    kernels training runs, into the history (val_loss, val_accuracy, val_epoch); their text."""
    out = train_forward(model, held.X, held.ws)
    loss = model.output_loss(out, held.Y)
    classify = held.Y.shape[1] > 1
    acc = _correct(out, held.Y) / len(out) if classify else float("nan")
    for key, value in (("val_loss", loss), ("val_accuracy", acc), ("val_epoch", float(len(history["loss"])))):
        history.setdefault(key, []).append(value)
    return f"; held out: loss {loss:.4f}" + (f", accuracy {acc:.4f}" if classify else "")


def held_out(
    model: Sequential,
    validation: tuple[npt.ArrayLike, npt.ArrayLike] | None,
    X_test: npt.ArrayLike | None,
    y_test: npt.ArrayLike | None,
    eval_every: int | None,
) -> tuple[_HeldOut | None, int]:
    """The validation set fit evaluates (validation=(X, y), or X_test and y_test) and how often."""
    if (X_test is None) != (y_test is None):
        raise InputError("give X_test and y_test together (or neither)")
    if X_test is not None:
        if validation is not None:
            raise InputError("give validation=(X, y) or X_test and y_test, not both")
        validation = (X_test, y_test)  # type: ignore[assignment]
    if validation is not None and (not isinstance(validation, (tuple, list)) or len(validation) != 2):
        kind = type(validation).__name__
        raise InputError(f"validation takes a pair (X, y) of held-out samples and their targets (got {kind})")
    if eval_every is not None:
        _integer(eval_every, "eval_every")
        if validation is None:
            raise InputError("eval_every says how often to evaluate validation=(X, y): give the validation set too")
    if validation is None:
        return None, 1
    return _HeldOut(model, *validation), int(eval_every or 1)


SCHEDULES = ("constant", "cosine")


def schedule_rates(schedule: str, lr: float, epochs: int) -> Callable[[int], float]:
    """epoch (1..epochs) -> its learning rate under `schedule` (SCHEDULES)."""
    import math

    if schedule == "constant":
        return lambda epoch: lr
    if schedule == "cosine":
        return lambda epoch: lr * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2
    from symnn.errors import unknown

    raise unknown("schedule", schedule, SCHEDULES)


def _progress(epochs: int, enabled: bool):
    from symnn.progress import progress

    return progress(total=epochs, desc="epochs", unit="epoch", leave=False, enabled=enabled)


def _fmt(a: np.ndarray, limit: int = 6) -> str:
    flat = np.asarray(a).ravel()
    body = ", ".join(f"{v:.4g}" for v in flat[:limit])
    return f"[{body}{', …' if flat.size > limit else ''}]"


def _explain(model, xb, yb, yhat, lr, say: Callable[[str], None], idx, opt: Optimizer | None = None) -> None:
    """Narrate the seven steps with the numbers of the first observation(s)."""
    say(
        "STEP 1: weights initialised close to 0 but not 0 (seed "
        f"{model.seed}); e.g. layers.0.weight starts {_fmt(model.layers[0].parameters().get('weight', np.zeros(1)))}"
    )
    say(
        f"STEP 2: observation {idx[0] + 1} of the training set (first of this batch of {len(xb)}) enters "
        f"the input layer, one feature per input node: x = {_fmt(xb[0])}"
    )
    zs = [layer.z for layer in model.layers if getattr(layer, "z", None) is not None]
    z_text = "; ".join(f"z of layer {i} = {_fmt(z[0])}" for i, z in enumerate(zs, 1))
    say(f"STEP 3: forward propagation: {z_text}; prediction ŷ = {_fmt(yhat[0])}")
    err = model.output_loss(yhat, yb)
    say(f"STEP 4: compare with the actual y = {_fmt(yb[0])}: the error (cost) of this batch is {err:.6g}")
    before = {k: v.copy() for k, v in model.parameters().items()}
    model.run_backward(yhat, yb)
    deltas = [
        f"layer {n}: δ = ∂C/∂b = {_fmt(layer.grads['bias'])}"
        for n, layer in reversed(list(enumerate([l_ for l_ in model.layers if "bias" in l_.grads], 1)))
    ]
    say("STEP 5: back-propagation from right to left: " + "; ".join(deltas))
    saved = opt.snapshot() if opt is not None else None
    update(model, lr, opt)
    rule = "" if opt is None or opt.name == "sgd" else f", {opt!r}"
    for key, old in before.items():
        new = model.parameters()[key]
        say(f"        {key}: {_fmt(old, 3)} -> {_fmt(new, 3)} (η = {lr}{rule})")
    # undo: fit() repeats backward and update for this batch itself
    for key, old in before.items():
        model.parameters()[key][...] = old
    if opt is not None and saved is not None:
        opt.restore(saved)
    say(
        "STEP 6: weights are updated after every batch of "
        f"{len(xb)} observation(s) ({'stochastic' if len(xb) == 1 else 'mini-batch / batch'} learning)"
    )
    say("STEP 7: when the whole training set has passed through the net, that is one epoch; redo more epochs")
