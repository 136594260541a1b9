"""Losses: the mean over the batch of the per-sample cost, and its gradient — both kernels
generated from the cost's derivation (`symnn derive cost-functions`).

    Quadratic           quadratic.loss / .grad
    CrossEntropy        cross-entropy.loss / .grad; from the logits sigmoid_cross_entropy.loss / .grad
                        (`symnn derive sigmoid-cross-entropy`)
    SoftmaxCrossEntropy softmax.row_max, softmax.forward, log_softmax.forward,
                        softmax_cross_entropy.loss / .grad (`symnn derive softmax-cross-entropy`)

A loss the compiled epoch (symnn.nn.epoch) can call writes its gradient's lines there itself
(`epoch_gradient`, and `epoch_logit_gradient` when it is computed from the logits).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError
from symnn.nn.layers import generated_kernel
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.codegen import Kernel
    from symnn.nn.epoch import EpochWriter
    from symnn.nn.layers import Layer, Workspace


class Loss:
    """Base class: the `<name>.loss` and `<name>.grad` kernels, applied output by output."""

    name = ""

    def __init__(self) -> None:
        self._k: tuple[Kernel, ...] | None = None

    def reset(self) -> None:
        """Drop the cached kernels; they are looked up again on next use."""
        self._k = None

    @property
    def kernels(self):
        if self._k is None:
            self._k = (generated_kernel(f"{self.name}.loss"), generated_kernel(f"{self.name}.grad"))
        return self._k

    def check_net(self, layers: list[Layer]) -> None:
        """InputError when the net's last layer gives outputs this loss cannot take."""

    def from_logits(self, layers: list[Layer]) -> bool:
        """True when the loss and its gradient are computed from the last layer's input z."""
        return False

    def targets(self, y: npt.ArrayLike, n_outputs: int) -> np.ndarray:
        """Integer labels become one-hot rows; real targets become a column when there is one output."""
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            raise InputError(
                f"y must be 1-D (labels, or one target per sample) or 2-D (N, {n_outputs}) targets; got shape {y.shape}"
            )
        if y.ndim == 1 and n_outputs > 1:
            from symnn.nn.data import one_hot

            return one_hot(y, n_outputs)
        if y.ndim == 1:
            return y.astype(np.float64).reshape(-1, 1)
        if y.shape[1] != n_outputs:
            raise InputError(
                f"targets have {plural(y.shape[1], 'column')} but the network has {plural(n_outputs, 'output')}"
            )
        return y.astype(np.float64)

    def value(self, yhat: np.ndarray, Y: np.ndarray) -> float:
        """Mean over the batch of Σ_outputs c(ŷ, y)."""
        return _mean(self.kernels, yhat, Y)

    def gradient(self, yhat: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂(mean cost)/∂ŷ: the derived ∂C/∂ŷ divided by the batch size."""
        return self.kernels[1](yhat, Y, float(len(yhat)))

    def train_gradient(self, yhat: np.ndarray, Y: np.ndarray, ws: Workspace) -> np.ndarray:
        return _into_buffer(self, self.kernels, yhat, Y, ws)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Cost(Loss):
    """The mean over the batch of Σ_outputs c(ŷ, y) for any cost record: a name (`huber`), a
    name with parameters (`huber(delta=0.5)`) or an expression in the output `yhat` and the
    target `y` (`log(cosh(yhat - y))`, or `Cost.from_expr(text, output="p", target="t")`).
    symnn derives ∂C/∂ŷ and generates the loss and gradient kernels, as for the lecture's costs."""

    source = ""  # the text that makes this cost again (what a saved model keeps)

    def __init__(self, cost: str | None = None) -> None:
        super().__init__()
        if cost is not None:
            self.name, self.source = cost_record(cost)
        elif not self.name:
            raise InputError("Cost needs a cost: a name such as huber, or an expression in yhat and y")
        else:
            self.source = self.name

    @classmethod
    def from_expr(cls, text: str, output: str = "yhat", target: str = "y") -> Cost:
        """The cost written as an expression in the output and target names given."""
        loss = cls.__new__(cls)
        Loss.__init__(loss)
        loss.name, loss.source = cost_record(text, output=output, target=target, expression=True)
        return loss

    def check_net(self, layers: list[Layer]) -> None:
        from symnn.nn.layers import Activation
        from symnn.ops.costs import check_compatible, get_cost

        if isinstance(layers[-1], Activation):
            check_compatible(layers[-1].name, self.name)
        elif get_cost(self.name).domain != "real":
            raise InputError(
                f"the {self.source} cost needs outputs in a bounded range, but the net ends with "
                f"{layers[-1]!r}, whose outputs can be any real number: end it with an activation such as Sigmoid()"
            )

    def epoch_gradient(self, w: EpochWriter, yhat: str, shape: tuple) -> str:
        """Write the compiled epoch's ∂(mean cost)/∂ŷ into a buffer `grad`; return its name."""
        return _epoch_gradient(w, self.kernels, yhat, shape)

    def epoch_loss(self, w: EpochWriter, yhat: str, shape: tuple) -> None:
        """Write the compiled epoch's lines adding the batch's cost Σ c(ŷ, y) to stats[0]."""
        _epoch_total(w, self.kernels[0], yhat, shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()" if type(self) is not Cost else f"Cost({self.source!r})"


def cost_record(text: str, output: str = "yhat", target: str = "y", expression: bool = False) -> tuple[str, str]:
    """(record name, source text) of a cost given as text; its kernels are registered by name."""
    import sympy as sp

    from symnn import notation
    from symnn.kernels.costs import provide
    from symnn.nn.layers import warn_overflow
    from symnn.parse import records

    record = records.cost(text, output=output, target=target, expression=expression)
    s = sp.Symbol("s")
    if record.outer(s) != s:
        raise InputError(
            f"the {record.source} cost is not a sum of one term per output, so it cannot train a net; "
            "the others can (see `symnn derive cost-functions --cost all`)"
        )
    provide(record.name)
    if not record.reference:  # a user's expression
        warn_overflow("cost", record.source, record.term(notation.yhat, notation.y))
    return record.name, record.source


class Quadratic(Cost):
    """C = Σ ½(ŷ − y)², the lecture's cost."""

    name = "quadratic"

    def check_net(self, layers: list[Layer]) -> None:
        """Any real output will do (and a warm start imports no SymPy to say so)."""


class CrossEntropy(Cost):
    """C = −Σ [y ln ŷ + (1 − y) ln(1 − ŷ)], for sigmoid outputs ŷ = σ(z). A net computes it from z
    in the stable form max(z, 0) − y z + ln(1 + e^(−|z|)), with the gradient σ(z) − y
    (`symnn derive sigmoid-cross-entropy`): finite for any z, where ln σ(z) is −inf beyond −745."""

    name = "cross-entropy"

    def check_net(self, layers: list[Layer]) -> None:
        from symnn.nn.layers import Sigmoid

        if not isinstance(layers[-1], Sigmoid):
            raise InputError(
                f"the cross-entropy cost needs outputs strictly between 0 and 1: end the net with "
                f"Sigmoid() (its last layer is {layers[-1]!r}), or use loss='quadratic'"
            )

    def from_logits(self, layers: list[Layer]) -> bool:
        from symnn.nn.layers import Sigmoid

        return isinstance(layers[-1], Sigmoid)

    def reset(self) -> None:
        super().reset()
        self._lk: tuple[Kernel, Kernel] | None = None

    @property
    def logit_kernels(self):
        if getattr(self, "_lk", None) is None:
            self._lk = (generated_kernel("sigmoid_cross_entropy.loss"), generated_kernel("sigmoid_cross_entropy.grad"))
        return self._lk

    def epoch_logit_gradient(self, w: EpochWriter, z: str, shape: tuple) -> str:
        """Write the compiled epoch's ∂(mean cost)/∂z = (σ(z) − y)/m into a buffer `grad`, from the
        last layer's input z; return its name."""
        return _epoch_gradient(w, self.logit_kernels, z, shape)

    def epoch_logit_loss(self, w: EpochWriter, z: str, shape: tuple) -> None:
        """Write the compiled epoch's lines adding the batch's cost Σ c(z, y), from the last
        layer's input z, to stats[0]."""
        _epoch_total(w, self.logit_kernels[0], z, shape)

    def logit_value(self, z: np.ndarray, Y: np.ndarray) -> float:
        """Mean over the batch of Σ_outputs [max(z, 0) − y z + ln(1 + e^(−|z|))]."""
        return _mean(self.logit_kernels, z, Y)

    def logit_gradient(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """∂(mean cost)/∂z = (σ(z) − y)/n."""
        return self.logit_kernels[1](z, Y, float(len(z)))

    def train_logit_gradient(self, z: np.ndarray, Y: np.ndarray, ws: Workspace) -> np.ndarray:
        return _into_buffer(self, self.logit_kernels, z, Y, ws)


class SoftmaxCrossEntropy(Loss):
    """Mean over the batch of −Σ_j y_j log softmax(z)_j, on the logits z of the last layer;
    integer labels become one-hot rows. Its gradient is (softmax(z) − y)/N."""

    name = "softmax-cross-entropy"

    @property
    def kernels(self):
        if self._k is None:
            self._k = tuple(
                generated_kernel(n)
                for n in (
                    "softmax.row_max",
                    "softmax.forward",
                    "softmax_cross_entropy.loss",
                    "softmax_cross_entropy.grad",
                    "log_softmax.forward",
                )
            )
        return self._k

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        row_max, softmax = self.kernels[:2]
        return softmax(z, row_max(z))

    def log_probabilities(self, z: np.ndarray) -> np.ndarray:
        """log softmax(z), computed directly (finite even where softmax(z) rounds to 0)."""
        return self.kernels[4](z, self.kernels[0](z))

    def value(self, z: np.ndarray, Y: np.ndarray) -> float:
        """Mean over the batch of −Σ_j Y_j log softmax(z)_j, from the log-softmax kernel."""
        return float(self.kernels[2](self.log_probabilities(z), Y).sum() / len(z))

    def gradient(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return self.kernels[3](self.probabilities(z), Y, float(len(z)))

    def train_gradient(self, z: np.ndarray, Y: np.ndarray, ws: Workspace) -> np.ndarray:
        row_max, softmax, _, grad, _ = self.kernels
        m = ws.get_buffer(self, "max", (len(z),))
        p = ws.get_buffer(self, "p", z.shape)
        out = ws.get_buffer(self, "grad", z.shape)
        row_max.dispatcher(z, m)
        softmax.dispatcher(z, m, p)
        grad.dispatcher(p.reshape(-1), Y.reshape(-1), float(len(z)), out.reshape(-1))
        return out

    def epoch_gradient(self, w: EpochWriter, z: str, shape: tuple) -> str:
        """Write the compiled epoch's lines for p = softmax(z) and (p − y)/m into a buffer `grad`;
        return its name."""
        g = w.buffer("grad", shape)
        row_max, softmax, _, grad = self.kernels[:4]
        mx, p = w.buffer("row_max", ()), w.buffer("p", shape)
        w.call(row_max, z, mx)
        w.call(softmax, z, mx, p)
        w.call(grad, w.flat(p), w.flat("yb"), "float(m)", w.flat(g))
        return g

    def epoch_loss(self, w: EpochWriter, z: str, shape: tuple) -> None:
        """Write the compiled epoch's lines adding the batch's cost −Σ y log softmax(z) to stats[0]."""
        row_max, _, loss, _, log_softmax = self.kernels
        mx, ls, per = w.buffer("loss_max", ()), w.buffer("log_p", shape), w.buffer("cost", ())
        w.call(row_max, z, mx)
        w.call(log_softmax, z, mx, ls)
        w.call(loss, ls, "yb", per)
        w.call(generated_kernel("loss.total"), per, "stats")


LOSSES: dict[str, type[Loss]] = {"quadratic": Quadratic, "cross-entropy": CrossEntropy}


def get_loss(loss: "str | Loss") -> Loss:
    """A loss by name (quadratic, cross-entropy, softmax-cross-entropy, huber, ...), a name with
    parameters (huber(delta=0.5)) or a cost written in yhat and y."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str):
        raise InputError(f"a loss is given as text, e.g. 'quadratic' or 'log(cosh(yhat - y))' (got {loss!r})")
    key = loss.strip().lower().replace("_", "-")
    key = {"mse": "quadratic", "bce": "cross-entropy"}.get(key, key)
    if key == "softmax-cross-entropy":
        return SoftmaxCrossEntropy()
    if key in LOSSES:
        return LOSSES[key]()
    return Cost(loss)


def _mean(kernels, a: np.ndarray, Y: np.ndarray) -> float:
    """Mean over the batch of the loss kernel's per-output values."""
    return float(kernels[0](a, Y).sum() / len(a))


def _epoch_gradient(w: EpochWriter, kernels, a: str, shape: tuple) -> str:
    """The compiled epoch's call of the gradient kernel, (∂C/∂a)/m into a buffer `grad`."""
    g = w.buffer("grad", shape)
    w.call(kernels[1], w.flat(a), w.flat("yb"), "float(m)", w.flat(g))
    return g


def _epoch_total(w: EpochWriter, loss, a: str, shape: tuple) -> None:
    """The compiled epoch's calls of the loss kernel (c per output into a buffer `cost`) and of
    `loss.total`, which adds their sum to the running total stats[0]."""
    c = w.buffer("cost", shape)
    w.call(loss, w.flat(a), w.flat("yb"), w.flat(c))
    w.call(generated_kernel("loss.total"), w.flat(c), "stats")


def _into_buffer(owner: object, kernels, a: np.ndarray, Y: np.ndarray, ws: Workspace) -> np.ndarray:
    """The gradient kernel's (∂C/∂a)/n written into the workspace's buffer (training path)."""
    out = ws.get_buffer(owner, "grad", a.shape)
    kernels[1].dispatcher(a.reshape(-1), Y.reshape(-1), float(len(a)), out.reshape(-1))
    return out
