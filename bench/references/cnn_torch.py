"""The digits CNN in PyTorch CPU: Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear, with
CrossEntropyLoss (mean over the batch, integer labels), autograd and optim.SGD.

Float32 or float64, from the same initial numbers as cnn_numpy (common.init_cnn). The thread
count is PyTorch's default unless `threads` is given. Importing this module needs torch.
"""

from __future__ import annotations

import numpy as np
import torch

from .common import CNN, epoch_order, init_cnn
from .mlp_torch import set_threads

NAME = "PyTorch CPU"


class TorchCNN:
    def __init__(self, net: CNN, dtype: torch.dtype = torch.float32):
        F, C, kh, kw = net.conv_w.shape
        conv = torch.nn.Conv2d(C, F, (kh, kw), dtype=dtype)
        dense = torch.nn.Linear(net.dense_w.shape[1], net.dense_w.shape[0], dtype=dtype)
        with torch.no_grad():
            for param, value in (
                (conv.weight, net.conv_w),
                (conv.bias, net.conv_b),
                (dense.weight, net.dense_w),
                (dense.bias, net.dense_b),
            ):
                param.copy_(torch.from_numpy(value))
        self.dtype = dtype
        self.pool = net.pool
        self.model = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(net.pool), torch.nn.Flatten(), dense)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1.0)
        self._tensors: tuple | None = None

    def tensors(self, X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        key = (id(X), id(y))
        if self._tensors is None or self._tensors[0] != key:
            self._tensors = (key, torch.as_tensor(X, dtype=self.dtype), torch.as_tensor(y, dtype=torch.int64))
        return self._tensors[1], self._tensors[2]


def init(
    seed: int = 0,
    dtype: str = "float32",
    threads: int | None = None,
    in_shape: tuple[int, int, int] = (1, 8, 8),
    n_filters: int = 8,
    kernel: int = 3,
    pool: int = 2,
    n_out: int = 10,
) -> TorchCNN:
    set_threads(threads)
    return TorchCNN(init_cnn(in_shape, n_filters, kernel, pool, n_out, seed), getattr(torch, dtype))


def train_epoch(
    state: TorchCNN, X: np.ndarray, y: np.ndarray, lr: float, batch_size: int, rng: np.random.Generator
) -> TorchCNN:
    Xt, yt = state.tensors(X, y)
    order = torch.from_numpy(epoch_order(rng, len(X)))
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    model, optimizer, loss_fn = state.model, state.optimizer, state.loss_fn
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(Xt[idx]), yt[idx])
        loss.backward()
        optimizer.step()
    return state


def predict(state: TorchCNN, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return state.model(torch.as_tensor(X, dtype=state.dtype)).argmax(dim=1).numpy()


def to_cnn(state: TorchCNN) -> CNN:
    conv, dense = state.model[0], state.model[4]
    get = lambda t: t.detach().double().numpy().copy()  # noqa: E731
    return CNN(get(conv.weight), get(conv.bias), get(dense.weight), get(dense.bias), state.pool)
