"""The pooling layers of a convolutional network, on generated kernels (inputs shaped (N, C, H, W)):

    MaxPool2D   maxpool.forward (values and switches) / maxpool.backward (`symnn derive maxpool`)
    AvgPool2D   avgpool.forward / avgpool.backward (`symnn derive avgpool`)

Like Conv2D (symnn.nn.cnn_layers), forward() and backward() run the shape-generic kernels below
SPECIALISE_WORK operations and the ones specialised to the layer's window and stride above, which
training always runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from symnn.errors import InputError
from symnn.nn import cnn_layers
from symnn.nn.cnn_layers import check_images, image_shape, size_pair, specialised_kernel
from symnn.nn.layers import Layer, Shape, Workspace, generated_kernel, positive_int

if TYPE_CHECKING:
    from symnn.codegen import Kernel
    from symnn.nn.epoch import EpochWriter


class Pool2D(Layer):
    """The window, stride and shapes MaxPool2D and AvgPool2D share; `kind` names their kernels."""

    kind = ""

    def __init__(self, size: int | tuple[int, int] | list[int], stride: int | None = None) -> None:
        self.size = size_pair(size, f"{type(self).__name__} size")
        self.stride = self.size[0] if stride is None else positive_int(stride, f"{type(self).__name__} stride")
        if stride is None and self.size[0] != self.size[1]:
            raise InputError(f"{type(self).__name__}({size!r}): give stride= for a non-square window")
        self.reset()

    def reset(self) -> None:
        self.grads = {}
        self._k: tuple[Kernel, ...] | None = None
        self._tk: tuple[Kernel, ...] | None = None
        self.x: np.ndarray | None = None

    @property
    def kernels(self):
        if self._k is None:
            self._k = (generated_kernel(f"{self.kind}.forward"), generated_kernel(f"{self.kind}.backward"))
        return self._k

    @property
    def train_kernels(self):
        """The same kernels, specialised to this layer's window and stride."""
        if self._tk is None:
            self._tk = tuple(
                specialised_kernel(f"{self.kind}.{n}", *self.size, self.stride, self.fastmath)
                for n in ("forward", "backward")
            )
        return self._tk

    def _check(self, x: np.ndarray) -> None:
        check_images(self, x)
        if x.shape[2] < self.size[0] or x.shape[3] < self.size[1]:
            raise InputError(
                f"{self!r}: the input's {x.shape[2]} × {x.shape[3]} maps are smaller than the "
                f"{self.size[0]} × {self.size[1]} window"
            )

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = image_shape(shape, "(N, C, H, W)")
        (kh, kw), s = self.size, self.stride
        if h < kh or w < kw:
            raise InputError(f"needs maps of at least {kh} × {kw} pixels")
        return (c, (h - kh) // s + 1, (w - kw) // s + 1)

    def _out(self, x: np.ndarray) -> tuple[int, int, int, int]:
        (kh, kw), s = self.size, self.stride
        return (len(x), x.shape[1], (x.shape[2] - kh) // s + 1, (x.shape[3] - kw) // s + 1)

    def kernels_for(self, x: np.ndarray) -> tuple:
        """The specialised kernels for a call of SPECIALISE_WORK operations or more, else the generic ones."""
        n, c, ho, wo = self._out(x)
        work = n * c * ho * wo * self.size[0] * self.size[1]
        return self.train_kernels if work >= cnn_layers.SPECIALISE_WORK else self.kernels

    def __repr__(self) -> str:
        size = self.size[0] if self.size[0] == self.size[1] else self.size
        stride = "" if self.stride == self.size[0] else f", stride={self.stride}"
        return f"{type(self).__name__}({size}{stride})"


class MaxPool2D(Pool2D):
    """The maximum of each window; the backward pass sends δ to the window's first maximum
    (row-major order), through the switches the forward kernel records."""

    kind = "maxpool"
    switch: np.ndarray | None  # the forward kernel's switches (where each window's maximum is)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        self.x = x
        y, self.switch = self.kernels_for(x)[0](x, *self.size, self.stride)
        return y

    def backward(self, delta: np.ndarray) -> np.ndarray:
        delta = self.check_delta(delta, self.saved("switch").shape)
        return self.kernels_for(self.saved("x"))[1](delta, self.switch, self.x, *self.size, self.stride)

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.x = x
        shape = self._out(x)
        y, self.switch = ws.get_buffer(self, "y", shape), ws.get_buffer(self, "switch", shape)
        self.train_kernels[0].dispatcher(x, *self.size, self.stride, y, self.switch)
        return y

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray:
        assert self.x is not None  # train_forward kept it (the trainer calls it first)
        dx = ws.get_buffer(self, "dx", self.x.shape)
        self.train_kernels[1].dispatcher(delta, self.switch, self.x, *self.size, self.stride, dx)
        return dx

    def reset(self) -> None:
        super().reset()
        self.switch = None

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        out = self.out_shape(shape)
        y, switch = w.buffer(f"y{n}", out), w.buffer(f"switch{n}", out)
        w.call(self.train_kernels[0], x, *self.size, self.stride, y, switch)
        return y, out

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str:
        dx = w.buffer(f"dx{n}", shape)
        w.call(self.train_kernels[1], delta, f"switch{n}", x, *self.size, self.stride, dx)
        return dx


class AvgPool2D(Pool2D):
    """The mean of each window; the backward pass shares δ equally over it."""

    kind = "avgpool"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        self.x = x
        return self.kernels_for(x)[0](x, *self.size, self.stride)

    def backward(self, delta: np.ndarray) -> np.ndarray:
        delta = self.check_delta(delta, self._out(self.saved("x")))
        return self.kernels_for(self.saved("x"))[1](delta, self.x, *self.size, self.stride)

    def train_forward(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        self.x = x
        y = ws.get_buffer(self, "y", self._out(x))
        self.train_kernels[0].dispatcher(x, *self.size, self.stride, y)
        return y

    def train_backward(self, delta: np.ndarray, ws: Workspace, need_input_grad: bool = True) -> np.ndarray:
        assert self.x is not None  # train_forward kept it (the trainer calls it first)
        dx = ws.get_buffer(self, "dx", self.x.shape)
        self.train_kernels[1].dispatcher(delta, self.x, *self.size, self.stride, dx)
        return dx

    def epoch_forward(self, w: EpochWriter, n: int, x: str, shape: Shape) -> tuple[str, Shape]:
        out = self.out_shape(shape)
        y = w.buffer(f"y{n}", out)
        w.call(self.train_kernels[0], x, *self.size, self.stride, y)
        return y, out

    def epoch_backward(self, w: EpochWriter, n: int, x: str, shape: Shape, delta: str, need: bool) -> str:
        dx = w.buffer(f"dx{n}", shape)
        w.call(self.train_kernels[1], delta, x, *self.size, self.stride, dx)
        return dx
