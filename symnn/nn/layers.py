"""Layers whose forward and backward passes are generated kernels.

A layer never differentiates anything at run time: it asks the kernel registry for the kernels
its operation's derivation produced (`symnn codegen list`) and calls them. `forward` keeps what
`backward` needs (the layer's input, or z); `backward(delta)` fills `grads` and returns the
error for the layer below — Nielsen's δ. `reset()` drops what a layer cached.

A layer the compiled epoch (symnn.nn.epoch) can call writes its own lines there:
`epoch_forward(w, n, x, shape)` returns the name and per-sample shape of its output,
`epoch_backward(w, n, x, shape, delta, need)` fills its gradient buffers and returns the name of
∂C/∂(its input) (or None when `need` is False). `w` is the EpochWriter, `n` the layer's index,
`x` the name of its input buffer and `shape` its per-sample shape. A layer without these methods
trains through its per-layer kernels only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError, SymnnWarning, unknown
from symnn.nn.epoch_threads import ELEMENT_WORK
from symnn.ops import activation_key, activation_names

if TYPE_CHECKING:
    from symnn.codegen import Kernel
    from symnn.nn.epoch import EpochWriter

Shape = tuple[int, ...]  # the shape of one sample: (features,) or (C, H, W)


def generated_kernel(name: str) -> Kernel:
    """The registered generated kernel called `name` (symnn.codegen is imported on first use)."""
    from symnn.codegen import kernel

    return kernel(name)


class Workspace(dict):
    """Output buffers reused from batch to batch (allocated once per fit, per batch size)."""

    def __init__(self, dtype: npt.DTypeLike = np.float64) -> None:
        super().__init__()
        self.dtype = np.dtype(dtype)
        self.shapes: list[tuple] | None = None  # the net's per-sample shapes (Sequential.check_shapes)

    def get_buffer(self, owner: object, name: str, shape: tuple) -> np.ndarray:
        key = (id(owner), name, shape)
        buf = dict.get(self, key)
        if buf is None:
            buf = self[key] = np.empty(shape, self.dtype)
        return buf


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1)


def positive_int(value, what: str, minimum: int = 1) -> int:
    """value as an int >= minimum; one InputError line for bools, strings, fractions, NaN and inf."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    try:
        ok = ok and float(value).is_integer() and int(value) >= minimum
    except (OverflowError, ValueError):
        ok = False
    if not ok:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise InputError(f"{what} must be {kind} (got {value!r})")
    return int(value)


def shape_text(shape: Shape) -> str:
    """(4,) -> '(N, 4)': a sample shape with the batch axis in front."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def check_weights_memory(count: int, what: str) -> None:
    """Refuse, before allocating, parameters larger than the memory limit (float64, with grads)."""
    from symnn.limits import check_memory

    check_memory(2 * 8 * count, what)


class Layer:
    """Base class: no parameters, identity shapes.

    `forward`/`backward` check their inputs and allocate their outputs; the trainer's hot loop
    uses `train_forward`/`train_backward`, which call the same generated kernels directly on
    buffers from a Workspace (no checks, no allocation per batch)."""

    fastmath = False  # the training path's kernels reassociate sums (fit(fastmath=True))
    exact = False  # every kernel keeps the written order of additions at any size: no BLAS (fit(exact_order=True))

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        return self.forward(x)

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray | None:
        return self.backward(delta)

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def reset(self) -> None:
        """Drop cached kernels, buffers, what forward kept for backward and the gradients; the
        parameters stay. The base class caches nothing."""

    def init(self, rng: np.random.Generator) -> None:
        """Draw the initial parameters (lecture step 1: small, close to 0 but not 0)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, delta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def out_shape(self, shape: Shape) -> Shape:
        """The shape of one output sample for input samples of `shape`; an InputError saying what
        the layer takes when it cannot take these. A layer that changes shapes overrides it."""
        return tuple(shape)

    def check_parameters(self, dtype: np.dtype) -> None:
        """InputError when a parameter array was replaced by one the kernels cannot use."""
        for name, arr in self.parameters().items():
            expected = self.parameter_shapes()[name]
            if not isinstance(arr, np.ndarray) or arr.shape != expected:
                got = arr.shape if isinstance(arr, np.ndarray) else type(arr).__name__
                raise InputError(f"its {name} must be an array of shape {expected} (got {got})")
            if arr.dtype != dtype or not arr.flags.c_contiguous or not arr.flags.writeable:
                raise InputError(
                    f"its {name} must be a writeable C-contiguous {dtype} array like the other "
                    f"parameters (got {arr.dtype}); use Sequential.astype to change the type"
                )
            if not np.isfinite(arr).all():
                raise InputError(f"its {name} holds NaN or inf; only finite parameters train")

    def parameter_shapes(self) -> dict[str, Shape]:
        return {}

    def saved(self, attr: str) -> Any:
        """What forward kept for backward; an InputError when backward comes first."""
        value = getattr(self, attr, None)
        if value is None:
            raise InputError(f"{self!r}.backward needs a forward pass first (it uses what forward kept)")
        return value

    def check_delta(self, delta: npt.ArrayLike, shape: tuple) -> np.ndarray:
        """δ must have the shape of the last forward pass's output (no broadcasting, no reading past it)."""
        delta = np.asarray(delta)
        if delta.shape != tuple(shape):
            raise InputError(
                f"{self!r}.backward takes δ shaped {tuple(shape)}, like the output of the last "
                f"forward pass; got {delta.shape}"
            )
        return delta

    grads: dict[str, np.ndarray]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class WeightedLayer(Layer):
    """A layer with a weight and a bias, drawn by the references' rule: normal(0, 1/√fan_in), bias 0."""

    weight: np.ndarray
    bias: np.ndarray
    if TYPE_CHECKING:  # what each subclass computes, as a property

        @property
        def fan_in(self) -> int: ...

        @property
        def weight_shape(self) -> Shape: ...

    def init(self, rng: np.random.Generator) -> None:
        self.weight[...] = rng.normal(0.0, 1.0 / np.sqrt(self.fan_in), self.weight.shape)
        self.bias[...] = 0.0

    def parameters(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}

    def parameter_shapes(self) -> dict[str, Shape]:
        return {"weight": self.weight_shape, "bias": (self.weight_shape[0],)}


class Dense(WeightedLayer):
    """z = W a + b with W shaped (n_out, n_in); kernels dense.forward / grad_weight / grad_bias /
    grad_input, derived by `symnn derive dense`."""

    def __init__(self, n_in: int, n_out: int) -> None:
        self.n_in = positive_int(n_in, "Dense n_in (the number of inputs)")
        self.n_out = positive_int(n_out, "Dense n_out (the number of outputs)")
        check_weights_memory(self.n_in * self.n_out + self.n_out, f"Dense({self.n_in}, {self.n_out})'s weights")
        self.weight = np.zeros((self.n_out, self.n_in))
        self.bias = np.zeros(self.n_out)
        self.reset()

    def reset(self) -> None:
        self.grads = {}
        self._k: tuple[Kernel, ...] | None = None
        self._fk: tuple[Kernel, ...] | None = None
        self.a_prev: np.ndarray | None = None

    @property
    def fan_in(self) -> int:
        return self.n_in

    @property
    def weight_shape(self) -> Shape:
        return (self.n_out, self.n_in)

    def out_shape(self, shape: Shape) -> Shape:
        if tuple(shape) != (self.n_in,):
            hint = " (images need Flatten() first)" if len(shape) == 3 else ""
            raise InputError(f"takes input shaped (N, {self.n_in}){hint}")
        return (self.n_out,)

    @property
    def kernels(self):
        if self._k is None:
            names = ("forward", "grad_weight", "grad_bias", "grad_input")
            if self.exact:  # the written order at every size: no BLAS above BLAS_MIN
                from symnn.codegen.specialise import specialised

                self._k = tuple(specialised(f"dense.{n}", exact=True) for n in names)
            else:
                self._k = tuple(generated_kernel(f"dense.{n}") for n in names)
        return self._k

    @property
    def train_kernels(self):
        """The training path's kernels: the same, or their fastmath compilation."""
        if not self.fastmath:
            return self.kernels
        if self._fk is None:
            from symnn.codegen.specialise import specialised

            self._fk = tuple(
                specialised(f"dense.{n}", fastmath=True) for n in ("forward", "grad_weight", "grad_bias", "grad_input")
            )
        return self._fk

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise InputError(f"Dense({self.n_in}, {self.n_out}) expects input shaped (N, {self.n_in}), got {x.shape}")
        self.a_prev = x
        return self.kernels[0](x, self.weight, self.bias)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        _, grad_weight, grad_bias, grad_input = self.kernels
        delta = self.check_delta(delta, (len(self.saved("a_prev")), self.n_out))
        self.grads = {"weight": grad_weight(delta, self.a_prev), "bias": grad_bias(delta)}
        return grad_input(delta, self.weight)

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.a_prev = x
        z = ws.get_buffer(self, "z", (len(x), self.n_out))
        self.train_kernels[0].dispatcher(x, self.weight, self.bias, z)
        return z

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray | None:
        _, grad_weight, grad_bias, grad_input = self.train_kernels
        dW = ws.get_buffer(self, "dW", self.weight.shape)
        db = ws.get_buffer(self, "db", self.bias.shape)
        grad_weight.dispatcher(delta, self.a_prev, dW)
        grad_bias.dispatcher(delta, db)
        self.grads = {"weight": dW, "bias": db}
        if not need_input_grad:  # the first layer: nobody below needs ∂L/∂A
            return None
        assert self.a_prev is not None  # train_forward kept it (the trainer calls it first)
        dA = ws.get_buffer(self, "dA", self.a_prev.shape)
        grad_input.dispatcher(delta, self.weight, dA)
        return dA

    def work(self, shape: tuple[int, ...]) -> int:
        """Multiply-adds of the forward product of a batch shaped `shape` (N, n_in)."""
        return int(shape[0]) * self.n_in * self.n_out

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        W, b = w.param(self.weight, f"W{n}"), w.param(self.bias, f"b{n}")
        z = w.buffer(f"z{n}", (self.n_out,))
        w.share(self.n_out, self.work((w.batch_size, self.n_in)), (self.train_kernels[0], "srro", x, W, b, z))
        return z, (self.n_out,)

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str | None:
        _, grad_weight, grad_bias, grad_input = self.train_kernels
        dW, db = w.buffer(f"dW{n}", self.weight.shape, False), w.buffer(f"db{n}", self.bias.shape, False)
        work = self.work((w.batch_size, self.n_in))  # each product's multiply-adds
        w.share(self.n_out, work, (grad_weight, "isr", delta, x, dW), (grad_bias, "ir", delta, db))
        w.updates += [(f"W{n}", dW), (f"b{n}", db)]
        if not need:
            return None
        dA = w.buffer(f"dA{n}", shape)
        w.share("m", work, (grad_input, "rsr", delta, f"W{n}", dA))
        return dA

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out})"


class Activation(Layer):
    """a = φ(z) element-wise; backward δ_in = δ_out ⊙ φ'(z) (BP1/BP2's Hadamard factor).

    `Activation("silu")` is the layer of any activation in symnn/ops/activations/;
    `Activation("elu(alpha=0.5)")` or `ELU(alpha=0.5)` one with other parameters, and
    `Activation("x*tanh(softplus(x))")` (or `Activation.from_expr(...)`) one you write: symnn
    derives φ' and generates both kernels, as for the built-in ones."""

    name = ""
    source = ""  # the text that makes this layer's activation again (what a saved model keeps)

    def __init__(self, name: str | None = None, **params: float) -> None:
        if name is None and not self.name:
            raise InputError(
                f"Activation needs an activation: a name ({', '.join(activation_names())}), a name with "
                "parameters such as elu(alpha=0.5), or an expression in one variable such as x*tanh(x)"
            )
        if name is None and params:
            name = f"{self.name}({', '.join(f'{k}={_number_text(v)}' for k, v in params.items())})"
        elif params:
            raise InputError(f"give the parameters inside the text, e.g. Activation('elu(alpha=0.5)'), not {params}")
        if name is not None:
            self.name, self.source = activation_record(name)
        elif not self.source:
            self.source = self.name
        self.reset()

    @classmethod
    def from_expr(cls, text: str) -> Activation:
        """The layer of φ written as an expression in one variable, e.g. "x*tanh(log(1 + exp(x)))"."""
        layer = cls.__new__(cls)
        layer.name, layer.source = activation_record(text, expression=True)
        layer.reset()
        return layer

    def reset(self) -> None:
        self.grads = {}
        self._k: tuple[Kernel, ...] | None = None
        self.z: np.ndarray | None = None

    def __repr__(self) -> str:
        if self.source != self.name:
            return f"Activation({self.source!r})"
        cls = type(self)
        return f"{cls.__name__}()" if cls is not Activation else f"{layer_class(self.name).__name__}()"

    @property
    def kernels(self):
        if self._k is None:
            self._k = (generated_kernel(f"{self.name}.forward"), generated_kernel(f"{self.name}.backward"))
        return self._k

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.z = x
        return self.kernels[0](x)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        return self.kernels[1](self.check_delta(delta, self.saved("z").shape), self.z)

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.z = x
        a = ws.get_buffer(self, "a", x.shape)
        self.kernels[0].dispatcher(_flat(x), _flat(a))
        return a

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray:
        assert self.z is not None  # train_forward kept it (the trainer calls it first)
        out = ws.get_buffer(self, "delta", delta.shape)
        self.kernels[1].dispatcher(_flat(delta), _flat(self.z), _flat(out))
        return out

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        a = w.buffer(f"a{n}", shape)
        w.share("m", w.batch_size * int(np.prod(shape)) * ELEMENT_WORK, (self.kernels[0], "ff", x, a))
        return a, shape

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str:
        out = w.buffer(f"delta{n}", shape)
        w.share("m", w.batch_size * int(np.prod(shape)) * ELEMENT_WORK, (self.kernels[1], "fff", delta, x, out))
        return out


class Sigmoid(Activation):
    name = "sigmoid"


class Tanh(Activation):
    name = "tanh"


class ReLU(Activation):
    name = "relu"


class LeakyReLU(Activation):
    name = "leaky_relu"


class Softplus(Activation):
    name = "softplus"


class Threshold(Activation):
    """The perceptron's step. Its derivative is 0 wherever it exists, so training uses the
    perceptron rule: the error passes straight through (δ_in = δ_out)."""

    name = "threshold"


ACTIVATION_LAYERS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Softplus, Threshold)
}


def activation_name(name: str) -> str:
    key = activation_key(name)
    names = activation_names()
    if key not in names:
        raise unknown("activation", name, names)
    return key


def activation_record(text: str, expression: bool = False) -> tuple[str, str]:
    """(record name, source text) of an activation given as text. A built-in name needs no
    SymPy (a warm start stays light); anything else goes through the safe parser, and the
    kernels of the record it makes are registered under its name."""
    if not isinstance(text, str):
        raise InputError(f"an activation is given as text, e.g. 'relu' or 'x*tanh(x)' (got {type(text).__name__})")
    key = activation_key(text.strip())
    if not expression and key in activation_names():
        return str(key), str(key)
    from symnn.kernels.activations import provide
    from symnn.parse import records

    record = records.activation(text, expression=expression)
    provide(record.name)
    if record.course_derivative is None:
        warn_overflow("activation", record.source, record.phi)
    return record.name, record.source


def warn_overflow(kind: str, source: str, expr: Any) -> None:
    """Once per expression: an exponential whose argument can grow is trained as written."""
    from symnn.ops.functions import overflow_risk

    risky = overflow_risk(expr)
    if risky and source not in _WARNED:
        import warnings

        _WARNED.add(source)
        warnings.warn(
            f"the {kind} {source!r} computes {risky[0]}, which overflows for large inputs (beyond about 709) "
            "and no overflow-safe form of it is known; it is trained as written",
            SymnnWarning,
            stacklevel=4,
        )


_WARNED: set[str] = set()


def _number_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"an activation's parameters are numbers, such as alpha=0.5 (got {value!r})")
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))


def layer_class(name: str) -> type[Activation]:
    """The layer class of an activation: Sigmoid ... Threshold above, the others made from their
    record (its `layer` name: SiLU, GELU, ...)."""
    key = activation_name(name)
    if key not in ACTIVATION_LAYERS:
        from symnn.ops.activations import ACTIVATIONS

        record = ACTIVATIONS[key]
        ACTIVATION_LAYERS[key] = type(
            record.layer,
            (Activation,),
            {"name": key, "__module__": __name__, "__doc__": f"{record.title}: a = φ(z), δ_in = δ_out ⊙ φ'(z)."},
        )
    return ACTIVATION_LAYERS[key]


def activation_layer(name: str) -> Activation:
    """The layer of an activation given as text: a name, a name with parameters, an expression."""
    if isinstance(name, str) and activation_key(name.strip()) in activation_names():
        return layer_class(name.strip())()
    return Activation(name)
