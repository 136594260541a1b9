"""Layers of a convolutional network on generated kernels.

Inputs are batches shaped (N, C, H, W). Every forward and backward number comes from a kernel
generated from a verified derivation (`symnn codegen list`):

    Conv2D              conv2d.layer_forward / layer_grad_kernel / layer_grad_bias / layer_grad_input
                        (`symnn derive conv2d-layer`); zero padding is data movement: the layer
                        frames the input with zeros and crops the padding off ∂L/∂X
    Flatten             flatten.forward / flatten.backward (`symnn derive flatten`)

MaxPool2D and AvgPool2D are in symnn.nn.pool_layers.

ReLU() (symnn.nn.layers) works on (N, C, H, W) too: it is element-wise. The softmax/cross-entropy
loss is symnn.nn.losses.SoftmaxCrossEntropy.

The training loop (train_forward / train_backward) calls the same kernels specialised to the
layer's window size and stride (symnn.codegen.specialise.specialised: 'conv2d.layer_forward[k_h=3,k_w=3,s=1]'),
generated from the same expressions with those numbers put in, which LLVM unrolls; forward() and
backward() use the shape-generic kernels below SPECIALISE_WORK multiply-adds, the specialised ones
above. From UNFOLD_MIN multiply-adds a call (or a training batch) runs the '[unfold,...]'
compilations instead, whose window sums are matrix products in BLAS (symnn.codegen.passes.unfold),
added in BLAS's own order, and whose db sums 8 channels side by side in the written order (passes.blas);
small nets never compile them. A layer with
`exact` set (fit(exact_order=True), `--exact-order`) never runs those: its sums keep the written
order at every size. When threads were asked for (`--threads`, set_threads) a call of PARTS_MIN
multiply-adds or more shares its batch among them (symnn.nn.split; never for an `exact` layer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from symnn.errors import InputError
from symnn.nn.layers import Layer, Shape, WeightedLayer, Workspace, check_weights_memory, generated_kernel, positive_int
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.codegen import Kernel
    from symnn.nn.epoch import EpochWriter


# Multiply-adds of one forward or backward call from which the layer's own forward()/backward()
# (predict, loss, accuracy, gradients) run the kernels specialised to its window, as training
# does; a smaller call runs the shape-generic ones, so no specialisation is compiled for it.
SPECIALISE_WORK = 1_000_000


def specialised_kernel(name: str, kh: int, kw: int, s: int, fastmath: bool = False, unfold: bool = False) -> Kernel:
    from symnn.codegen.specialise import specialised

    return specialised(name, fastmath, unfold=unfold, k_h=kh, k_w=kw, s=s)


def unfold_min() -> int:
    """UNFOLD_MIN: multiply-adds of a convolution call from which Conv2D runs the '[unfold,...]'
    kernels (window sums as BLAS matrix products), unless the layer is `exact`."""
    from symnn.codegen.passes.unfold import UNFOLD_MIN

    return UNFOLD_MIN


def _fast(name: str, fastmath: bool = True, unfold: bool = False) -> Kernel:
    from symnn.codegen.specialise import specialised

    return specialised(name, fastmath, unfold=unfold)


def size_pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints, each >= 1."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise InputError(f"{what} must be a positive integer or a pair of them (got {value!r})")
    try:
        return positive_int(pair[0], what), positive_int(pair[1], what)
    except InputError:
        raise InputError(f"{what} must be a positive integer or a pair of them (got {value!r})") from None


def image_shape(shape: Shape, what: str) -> tuple[int, int, int]:
    """(C, H, W) of an image sample, or the InputError of a layer that takes images."""
    if len(shape) != 3:
        raise InputError(f"takes a batch of images shaped {what}")
    return shape


def check_images(layer: Layer, x: np.ndarray, channels: int | None = None) -> None:
    if x.ndim != 4:
        raise InputError(f"{layer!r} expects a batch of images shaped (N, C, H, W), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise InputError(
            f"{layer!r} expects {plural(channels, 'input channel')}, got {x.shape[1]} (input shape {x.shape})"
        )


class Conv2D(WeightedLayer):
    """Y[t,f,i,j] = Σ_c Σ_m Σ_n X_pad[t,c,s·i+m,s·j+n] K[f,c,m,n] + b[f]; weight (out_ch, in_ch, kh, kw)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] | list[int],
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        self.in_channels = positive_int(in_channels, "Conv2D in_channels")
        self.out_channels = positive_int(out_channels, "Conv2D out_channels")
        self.kernel_size = size_pair(kernel_size, "Conv2D kernel_size")
        self.stride = positive_int(stride, "Conv2D stride")
        self.padding = positive_int(padding, "Conv2D padding", minimum=0)
        check_weights_memory(
            self.out_channels * (self.in_channels * self.kernel_size[0] * self.kernel_size[1] + 1),
            f"Conv2D({in_channels}, {out_channels}, {kernel_size})'s weights",
        )
        self.weight = np.zeros((self.out_channels, self.in_channels, *self.kernel_size))
        self.bias = np.zeros(self.out_channels)
        self.reset()

    def reset(self) -> None:
        self.grads = {}
        self._k: tuple[Kernel, ...] | None = None
        self._tk: tuple[Kernel, ...] | None = None
        self._uk: tuple[Kernel, ...] | None = None
        self._padded: dict[tuple, np.ndarray] = {}
        self.x_shape: tuple[int, ...] | None = None
        self.x_pad: np.ndarray | None = None

    @property
    def fan_in(self) -> int:
        return self.in_channels * self.kernel_size[0] * self.kernel_size[1]

    @property
    def kernels(self):
        if self._k is None:
            self._k = tuple(
                generated_kernel(f"conv2d.layer_{n}") for n in ("forward", "grad_kernel", "grad_bias", "grad_input")
            )
        return self._k

    def _specialised_set(self, unfold: bool) -> tuple:
        kh, kw = self.kernel_size
        k = tuple(
            specialised_kernel(f"conv2d.layer_{n}", kh, kw, self.stride, self.fastmath, unfold)
            for n in ("forward", "grad_kernel", "grad_input")
        )
        fm = self.fastmath  # '[unfold]': its channel sums interleaved, in the same order (passes.blas)
        bias = _fast("conv2d.layer_grad_bias", fm, unfold and not fm) if fm or unfold else self.kernels[2]
        return (k[0], k[1], bias, k[2])

    @property
    def train_kernels(self):
        """The same four kernels, specialised to this layer's kernel size and stride."""
        if self._tk is None:
            self._tk = self._specialised_set(False)
        return self._tk

    @property
    def unfold_kernels(self):
        """The specialised kernels compiled with the unfold and fold passes ('[unfold,...]'):
        above UNFOLD_MIN multiply-adds their window sums run as BLAS matrix products."""
        if self._uk is None:
            self._uk = self._specialised_set(True)
        return self._uk

    def work(self, shape: tuple[int, ...]) -> int:
        """Multiply-adds of one forward (or backward) convolution of a batch shaped `shape` (before padding)."""
        ho, wo = self.output_shape(shape[2], shape[3])
        return shape[0] * self.out_channels * self.in_channels * ho * wo * self.kernel_size[0] * self.kernel_size[1]

    def training_kernels(self, shape: tuple[int, ...]) -> tuple:
        """The kernels training runs on a batch shaped `shape`: the '[unfold,...]' ones from
        UNFOLD_MIN multiply-adds (not for an `exact` layer), else the specialised ones."""
        if not self.exact and self.work(shape) >= unfold_min():
            return self.unfold_kernels
        return self.train_kernels

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        (kh, kw), s, P = self.kernel_size, self.stride, self.padding
        return (h + 2 * P - kh) // s + 1, (w + 2 * P - kw) // s + 1

    @property
    def weight_shape(self) -> Shape:
        return (self.out_channels, self.in_channels, *self.kernel_size)

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = image_shape(shape, f"(N, C={self.in_channels}, H, W)")
        if c != self.in_channels:
            raise InputError(f"takes images with {self.in_channels} channel(s), shaped (N, {self.in_channels}, H, W)")
        (kh, kw), P = self.kernel_size, self.padding
        if h + 2 * P < kh or w + 2 * P < kw:
            pad = f" after the padding of {P}" if P else ""
            raise InputError(f"needs images of at least {kh} × {kw} pixels{pad}")
        return (self.out_channels, *self.output_shape(h, w))

    def _pad(self, x: np.ndarray) -> np.ndarray:
        """x framed by `padding` rows and columns of zeros (a reused buffer whose border stays 0)."""
        P = self.padding
        if P == 0:
            return x
        n, c, h, w = x.shape
        buf = self._padded.get((x.shape, x.dtype))
        if buf is None:
            buf = self._padded[x.shape, x.dtype] = np.zeros((n, c, h + 2 * P, w + 2 * P), x.dtype)
        buf[:, :, P : P + h, P : P + w] = x
        return buf

    def _crop(self, dx_pad: np.ndarray) -> np.ndarray:
        P = self.padding
        return dx_pad if P == 0 else dx_pad[:, :, P:-P, P:-P]

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_images(self, x, self.in_channels)
        ho, wo = self.output_shape(x.shape[2], x.shape[3])
        if ho < 1 or wo < 1:
            raise InputError(
                f"{self!r}: the input's {x.shape[2]} × {x.shape[3]} pixels (padded by {self.padding}) "
                f"are smaller than the {self.kernel_size[0]} × {self.kernel_size[1]} kernel"
            )
        self.x_shape = x.shape
        self.x_pad = self._pad(np.ascontiguousarray(x, dtype=self.weight.dtype)).copy()
        forward, parts = self.kernels_for(x.shape)[0], self._parts(x.shape)
        if parts == 1:
            return forward(self.x_pad, self.weight, self.bias, self.stride)
        y = np.empty((len(x), self.out_channels, ho, wo), self.weight.dtype)
        self._run(0, forward, parts, self.x_pad, self.weight, self.bias, self.stride, y)
        return y

    # the arguments of forward, grad_kernel, grad_bias, grad_input: b batched, s shared, r summed
    # over the batch (symnn.nn.split), for a call whose batch the threads share
    ROLES = ("bsssb", "bbssr", "br", "bsbsb")

    def _parts(self, shape: tuple[int, ...]) -> int:
        from symnn.nn.split import threads_for

        return 1 if self.exact else threads_for(self.work(shape))  # parts regroup the batch sums

    def _run(self, i: int, k, parts: int, *args) -> None:
        """Kernel i of the four (ROLES) into its output argument: one call, or with the batch
        shared by `parts` threads (_parts: the threads asked for, from PARTS_MIN multiply-adds)."""
        if parts == 1:
            k.dispatcher(*args)
        else:
            from symnn.nn.split import split

            split(k, self.ROLES[i], parts)(*args)

    def kernels_for(self, shape: tuple[int, ...]) -> tuple:
        """For a call on a batch shaped `shape`: the '[unfold,...]' kernels from UNFOLD_MIN
        multiply-adds (BLAS; not for an `exact` layer), the specialised ones from SPECIALISE_WORK,
        else the generic ones."""
        work = self.work(shape)
        if not self.exact and work >= unfold_min():
            return self.unfold_kernels
        return self.train_kernels if work >= SPECIALISE_WORK else self.kernels

    def backward(self, delta: np.ndarray) -> np.ndarray:
        _, grad_kernel, grad_bias, grad_input = self.kernels_for(self.saved("x_shape"))
        n, _, h, w = self.saved("x_shape")
        delta = self.check_delta(delta, (n, *self.out_shape((self.in_channels, h, w))))
        parts = self._parts(self.saved("x_shape"))
        if parts == 1:
            self.grads = {"weight": grad_kernel(delta, self.x_pad, self.weight, self.stride), "bias": grad_bias(delta)}
            return np.ascontiguousarray(self._crop(grad_input(delta, self.weight, self.x_pad, self.stride)))
        delta = np.ascontiguousarray(delta, dtype=self.weight.dtype)
        dK, db, dx_pad = np.empty_like(self.weight), np.empty_like(self.bias), np.empty_like(self.x_pad)
        self._run(1, grad_kernel, parts, delta, self.x_pad, self.weight, self.stride, dK)
        self._run(2, grad_bias, parts, delta, db)
        self._run(3, grad_input, parts, delta, self.weight, self.x_pad, self.stride, dx_pad)
        self.grads = {"weight": dK, "bias": db}
        return np.ascontiguousarray(self._crop(dx_pad))

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.x_shape = x.shape
        self.x_pad = self._pad(x)
        ho, wo = self.output_shape(x.shape[2], x.shape[3])
        y = ws.get_buffer(self, "y", (len(x), self.out_channels, ho, wo))
        forward, parts = self.training_kernels(x.shape)[0], self._parts(x.shape)
        self._run(0, forward, parts, self.x_pad, self.weight, self.bias, self.stride, y)
        return y

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray | None:
        assert self.x_pad is not None and self.x_shape is not None  # train_forward kept them
        _, grad_kernel, grad_bias, grad_input = self.training_kernels(self.x_shape)
        dK = ws.get_buffer(self, "dK", self.weight.shape)
        db = ws.get_buffer(self, "db", self.bias.shape)
        parts = self._parts(self.x_shape)
        self._run(1, grad_kernel, parts, delta, self.x_pad, self.weight, self.stride, dK)
        self._run(2, grad_bias, parts, delta, db)
        self.grads = {"weight": dK, "bias": db}
        if not need_input_grad:  # the first layer: nobody below needs ∂L/∂X
            return None
        dx_pad = ws.get_buffer(self, "dx_pad", self.x_pad.shape)
        self._run(3, grad_input, parts, delta, self.weight, self.x_pad, self.stride, dx_pad)
        return self._crop(dx_pad) if self.padding == 0 else np.ascontiguousarray(self._crop(dx_pad))

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        K, b = w.param(self.weight, f"K{n}"), w.param(self.bias, f"b{n}")
        P, (c, h, wd) = self.padding, shape
        src = x
        if P:
            src = w.buffer(f"xpad{n}", (c, h + 2 * P, wd + 2 * P))
            w.emit(f"{src}[:, :, {P}:{P + h}, {P}:{P + wd}] = {x}  # the zero frame (padding {P})")
        ho, wo = self.output_shape(h, wd)
        y = w.buffer(f"y{n}", (self.out_channels, ho, wo))
        w.call(self.training_kernels((w.batch_size, c, h, wd))[0], src, K, b, self.stride, y)
        return y, (self.out_channels, ho, wo)

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str | None:
        P, (c, h, wd) = self.padding, shape
        _, grad_kernel, grad_bias, grad_input = self.training_kernels((w.batch_size, c, h, wd))
        src = f"xpad{n}" if P else x
        dK, db = w.buffer(f"dK{n}", self.weight.shape, False), w.buffer(f"db{n}", self.bias.shape, False)
        w.call(grad_kernel, delta, src, f"K{n}", self.stride, dK)
        w.call(grad_bias, delta, db)
        w.updates += [(f"K{n}", dK), (f"b{n}", db)]
        if not need:
            return None
        dxpad = w.buffer(f"dxpad{n}", (c, h + 2 * P, wd + 2 * P))
        w.call(grad_input, delta, f"K{n}", src, self.stride, dxpad)
        if not P:
            return dxpad
        dx = w.buffer(f"dx{n}", shape)
        w.emit(f"{dx}[:, :, :, :] = {dxpad}[:, :, {P}:{P + h}, {P}:{P + wd}]  # crop the frame off")
        return dx

    def __repr__(self) -> str:
        k = self.kernel_size[0] if self.kernel_size[0] == self.kernel_size[1] else self.kernel_size
        extra = (f", stride={self.stride}" if self.stride != 1 else "") + (
            f", padding={self.padding}" if self.padding else ""
        )
        return f"Conv2D({self.in_channels}, {self.out_channels}, {k}{extra})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W), row-major; backward: the inverse index map."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.grads = {}
        self._k: tuple[Kernel, ...] | None = None
        self.x: np.ndarray | None = None

    @property
    def kernels(self):
        if self._k is None:
            self._k = (generated_kernel("flatten.forward"), generated_kernel("flatten.backward"))
        return self._k

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = image_shape(shape, "(N, C, H, W)")
        return (c * h * w,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_images(self, x)
        self.x = x
        return self.kernels[0](x)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        x = self.saved("x")
        delta = self.check_delta(delta, (len(x), int(np.prod(x.shape[1:]))))
        return self.kernels[1](delta, self.x)

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.x = x
        y = ws.get_buffer(self, "y", (len(x), int(np.prod(x.shape[1:]))))
        self.kernels[0].dispatcher(x, y)
        return y

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray:
        assert self.x is not None  # train_forward kept it (the trainer calls it first)
        dx = ws.get_buffer(self, "dx", self.x.shape)
        self.kernels[1].dispatcher(delta, self.x, dx)
        return dx

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        y = w.buffer(f"y{n}", (int(np.prod(shape)),))
        w.call(self.kernels[0], x, y)
        return y, (int(np.prod(shape)),)

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str:
        dx = w.buffer(f"dx{n}", shape)
        w.call(self.kernels[1], delta, x, dx)
        return dx
