"""Optimizers for Sequential.fit: how step 5 updates the weights from their gradients.

    net.fit(X, y, optimizer="adam")                                   # PyTorch's defaults
    net.fit(X, y, optimizer=Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8))
    net.fit(X, y, optimizer=Momentum(mu=0.9), lr=0.3)

Each update is a generated kernel made from the verified derivation `symnn derive optimizer
--optimizer NAME` (symnn/kernels/optimizers.py; SGD's is sgd.update). An optimizer object holds
the state of one model — a velocity, averages, Adam's update count t — so a second fit with the
same object continues where the first stopped (as a torch.optim optimizer does); a name makes a
fresh one. The same state arrays are updated by the per-layer path and by the compiled epoch.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.errors import InputError, unknown

if TYPE_CHECKING:
    from symnn.nn.epoch import EpochWriter
    from symnn.nn.model import Sequential

NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


def _number(value: Any, what: str, low: float, high: float, closed: str, accepted: str) -> float:
    """value as a float in the range (`closed` says which ends belong: '[)', '()', '[]', ...)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        v = float(value)
        ok = bool(np.isfinite(v)) and (v >= low if closed[0] == "[" else v > low)
        ok = ok and (v <= high if closed[1] == "]" else v < high)
    if not ok:
        raise InputError(f"{what} must be {accepted} (got {value!r})")
    return float(value)


def _rate(lr: Any) -> float | None:
    if lr is None:
        return None
    return _number(lr, "the learning rate lr", 0, np.inf, "()", "a positive finite number such as 0.001")


class Optimizer:
    """Base class: the update kernel, the per-parameter state arrays it updates, its parameters."""

    name = ""
    kernel = ""  # the update kernel's name
    state_names: tuple[str, ...] = ()  # per-parameter arrays, in the kernel's argument order
    default_lr = 3.0
    counts = False  # Adam: keeps the update count t (the kernel adam.count)

    def __init__(self, lr: float | None = None) -> None:
        self.lr = _rate(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}  # parameter key -> its state arrays
        self.count = np.zeros(1)  # t: updates made so far (Adam)
        self._model: weakref.ref | None = None

    def hyper(self) -> tuple[float, ...]:
        """The kernel's parameters after η, in its argument order."""
        return ()

    def learning_rate(self, lr: float | None) -> float:
        """fit's lr, else this optimizer's, else its default; both given and different: an error."""
        if lr is not None and self.lr is not None and float(lr) != self.lr:
            raise InputError(f"give the learning rate once: fit(lr={lr!r}) or {type(self).__name__}(lr={self.lr!r})")
        return float(lr if lr is not None else self.lr if self.lr is not None else self.default_lr)

    # -- the state ------------------------------------------------------------------------------
    def bind(self, model: Sequential) -> None:
        """Allocate the state (zeros) for every parameter of `model`, or check the one it holds."""
        held_by = self._model() if self._model is not None else None
        if held_by is not None and held_by is not model:
            raise InputError(f"this {type(self).__name__} optimizer trains another model; give each model its own")
        self._model = weakref.ref(model)
        for key, param in model.parameters().items():
            held = self.state.get(key)
            if held is not None and any(a.shape != param.shape for a in held.values()):
                raise InputError(f"the optimizer's state for {key} has another shape than the parameter {param.shape}")
            if held is None or any(a.dtype != param.dtype for a in held.values()):
                old = held or {}
                self.state[key] = {
                    s: (old[s].astype(param.dtype) if s in old else np.zeros(param.shape, param.dtype))
                    for s in self.state_names
                }

    def snapshot(self) -> tuple[dict, np.ndarray]:
        return {k: {s: a.copy() for s, a in st.items()} for k, st in self.state.items()}, self.count.copy()

    def restore(self, saved: tuple[dict, np.ndarray]) -> None:
        """Put back a snapshot's values, into the same arrays (a compiled epoch holds them)."""
        state, count = saved
        for key, st in state.items():
            for s, a in st.items():
                self.state[key][s][...] = a
        self.count[...] = count

    # -- the per-layer path ---------------------------------------------------------------------
    def step(self, model: Sequential, lr: float) -> None:
        """Update every parameter from the gradients its layer holds (layer.grads), in place."""
        from symnn.codegen import kernel

        update = kernel(self.kernel).dispatcher
        if self.counts:
            kernel("adam.count").dispatcher(self.count, self.count)  # step ← step + 1
        extra = (*self.hyper(), float(self.count[0])) if self.counts else self.hyper()
        for i, layer in enumerate(model.layers):
            for name, param in layer.parameters().items():
                flat = param.reshape(-1)  # a view: the update lands in the live array
                state = [a.reshape(-1) for a in self.state[f"layers.{i}.{name}"].values()]
                update(flat, layer.grads[name].reshape(-1), *state, float(lr), *extra, flat, *state)

    # -- the compiled epoch ---------------------------------------------------------------------
    def epoch_update(self, w: EpochWriter, model: Sequential) -> None:
        """Write the driver's update lines for w.updates: the state arrays and the parameters
        (one float64 vector `hyper`, and `step` holding Adam's t) are the driver's arguments."""
        from symnn.codegen import kernel

        self.bind(model)
        keys = {id(a): key for key, a in model.parameters().items()}
        arrays = dict(w.params)
        hyper = [f"hyper[{n}]" for n in range(len(self.hyper()))]
        w.param(np.array(self.hyper() or (0.0,), dtype=np.float64), "hyper")
        upd, flat = w.kernel(kernel(self.kernel)), w.flat
        if self.counts:
            w.param(self.count, "step")
            w.emit(f"{w.kernel(kernel('adam.count'))}(step, step)  # adam.count: step ← step + 1")
            hyper.append("step[0]")
        for p, g in w.updates:
            key = keys.get(id(arrays[p]))
            if key is None:
                raise InputError(f"the compiled epoch's parameter {p} is not one of the model's parameters")
            state = [w.param(a, f"{p}_{s}") for s, a in self.state[key].items()]
            args = [flat(p), flat(g), *map(flat, state), "eta", *hyper, flat(p), *map(flat, state)]
            w.emit(f"{upd}({', '.join(args)})  # {self.kernel}")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({params})"

    def settings(self) -> dict[str, Any]:
        return {"lr": self.lr}


class SGD(Optimizer):
    """w ← w − η g (sgd.update, `symnn derive gradient-descent`); default lr 3.0 (fit's)."""

    name, kernel = "sgd", "sgd.update"

    def step(self, model: Sequential, lr: float) -> None:
        from symnn.nn.train import sgd_step

        sgd_step(model, lr)


class Momentum(Optimizer):
    """SGD with momentum, PyTorch's convention: v ← μ v + g; w ← w − η v. Defaults: μ = 0.9 and
    lr 0.3 (fit's 3.0 × (1 − μ): the same step as SGD's once the velocity has built up)."""

    name, kernel, state_names, default_lr = "momentum", "momentum.update", ("v",), 0.3

    def __init__(self, lr: float | None = None, mu: float = 0.9) -> None:
        super().__init__(lr)
        self.mu = _number(mu, "the momentum mu", 0, 1, self._mu_range, self._mu_text)

    _mu_range, _mu_text = "[)", "a number in [0, 1) such as 0.9"

    def hyper(self) -> tuple[float, ...]:
        return (self.mu,)

    def settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "mu": self.mu}


class Nesterov(Momentum):
    """Nesterov momentum, PyTorch's form (SGD nesterov=True): v ← μ v + g; w ← w − η (g + μ v)."""

    name, kernel = "nesterov", "nesterov.update"
    _mu_range, _mu_text = "()", "a number in (0, 1) such as 0.9 (Nesterov needs some momentum)"


class RMSProp(Optimizer):
    """RMSProp, PyTorch's (centered=False): the running mean of g², square_avg ← α square_avg +
    (1 − α) g² (the derivation's s), and w ← w − η g/(√square_avg + ε).
    PyTorch's defaults: lr 0.01, alpha 0.99, eps 1e-8."""

    name, kernel, state_names, default_lr = "rmsprop", "rmsprop.update", ("square_avg",), 0.01

    def __init__(self, lr: float | None = None, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.alpha = _number(alpha, "alpha", 0, 1, "[)", "a number in [0, 1) such as 0.99")
        self.eps = _number(eps, "eps", 0, np.inf, "()", "a small positive number such as 1e-8")

    def hyper(self) -> tuple[float, ...]:
        return (self.alpha, self.eps)

    def settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps}


class Adam(Optimizer):
    """Adam, PyTorch's (amsgrad=False): moving averages m of g and v of g², divided by 1 − β^t,
    w ← w − η m̂/(√v̂ + ε). PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8."""

    name, kernel, state_names, default_lr, counts = "adam", "adam.update", ("m", "v"), 1e-3, True

    def __init__(self, lr: float | None = None, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise InputError(f"betas must be two numbers in [0, 1) such as (0.9, 0.999) (got {betas!r})")
        accepted = "a number in [0, 1) such as 0.9 and 0.999"
        self.betas = tuple(_number(b, f"betas[{n}]", 0, 1, "[)", accepted) for n, b in enumerate(betas))
        self.eps = _number(eps, "eps", 0, np.inf, "()", "a small positive number such as 1e-8")

    @property
    def t(self) -> int:
        """The updates made so far."""
        return int(self.count[0])

    def hyper(self) -> tuple[float, ...]:
        return (*self.betas, self.eps)

    def settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}


CLASSES: dict[str, type[Optimizer]] = {c.name: c for c in (SGD, Momentum, Nesterov, RMSProp, Adam)}


def get_optimizer(optimizer: str | Optimizer | None) -> Optimizer:
    """An optimizer object: the one given, or a fresh one with the defaults for a name."""
    if optimizer is None:
        return SGD()
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        key = optimizer.strip().lower().replace("_", "-")
        if key not in CLASSES:
            raise unknown("optimizer", optimizer, NAMES)
        return CLASSES[key]()
    raise InputError(
        f"optimizer must be a name ({', '.join(NAMES)}) or an optimizer such as symnn.nn.Adam(lr=1e-3) "
        f"(got {type(optimizer).__name__})"
    )
