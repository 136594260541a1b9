"""The digits MLP in PyTorch CPU: nn.Linear + nn.Sigmoid, autograd, optim.SGD.

The loss is Nielsen's mini-batch objective: (1/m) Σ_x ½‖a − y‖², so that optim.SGD(lr=η) takes
exactly network.py's step w -> w − (η/m) Σ_x ∇C_x. Float64 or float32; the thread count is left at
PyTorch's default unless `threads` is given (torch.set_num_threads is process-wide). On a busy
machine the default intra-op pool can stall at every barrier: see set_threads.
Importing this module needs torch.
"""

from __future__ import annotations

import numpy as np
import torch

from .common import MLP, epoch_order, init_mlp

NAME = "PyTorch CPU"


class TorchMLP:
    def __init__(self, net: MLP, dtype: torch.dtype = torch.float64):
        layers: list[torch.nn.Module] = []
        for w, b in zip(net.weights, net.biases):
            linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.Sigmoid()]
        self.dtype = dtype
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1.0)
        self._tensors: tuple | None = None

    def tensors(self, X: np.ndarray, Y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """X and Y as tensors of the model's dtype, converted once per array pair."""
        key = (id(X), id(Y))
        if self._tensors is None or self._tensors[0] != key:
            Xt = torch.as_tensor(X.reshape(len(X), -1), dtype=self.dtype)
            Yt = torch.as_tensor(Y, dtype=self.dtype)
            self._tensors = (key, Xt, Yt)
        return self._tensors[1], self._tensors[2]


def set_threads(threads: int | None) -> None:
    """torch.set_num_threads(threads) when given; None leaves PyTorch's default."""
    if threads is not None:
        torch.set_num_threads(int(threads))


def init(sizes: list[int], seed: int = 0, dtype: str = "float64", threads: int | None = None) -> TorchMLP:
    set_threads(threads)
    return TorchMLP(init_mlp(sizes, seed), getattr(torch, dtype))


def train_epoch(
    state: TorchMLP, X: np.ndarray, Y_onehot: np.ndarray, lr: float, batch_size: int, rng: np.random.Generator
) -> TorchMLP:
    Xt, Yt = state.tensors(X, Y_onehot)
    order = torch.from_numpy(epoch_order(rng, len(X)))
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    model, optimizer = state.model, state.optimizer
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        x, y = Xt[idx], Yt[idx]
        optimizer.zero_grad()
        loss = 0.5 * ((model(x) - y) ** 2).sum() / len(idx)
        loss.backward()
        optimizer.step()
    return state


def predict(state: TorchMLP, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = state.model(torch.as_tensor(X.reshape(len(X), -1), dtype=state.dtype))
    return out.argmax(dim=1).numpy()


def to_mlp(state: TorchMLP) -> MLP:
    linears = [m for m in state.model if isinstance(m, torch.nn.Linear)]
    return MLP(
        [m.weight.detach().double().numpy().copy() for m in linears],
        [m.bias.detach().double().numpy().copy() for m in linears],
    )
