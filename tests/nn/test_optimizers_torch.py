"""Adam, RMSProp, momentum and Nesterov on the digits CNN vs torch.optim, float64: the same initial
weights (symnn's, copied into torch), the same mini-batches in the same order (fit's seeded
permutation), the mean loss per batch — the weights after one epoch agree to 1e-10 on the
per-layer path and in the compiled epoch. Skipped where torch is not installed (bench extra)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symnn.commands.train_cnn import build_cnn  # noqa: E402
from symnn.nn import Adam, Momentum, Nesterov, RMSProp  # noqa: E402
from symnn.nn.data import load  # noqa: E402

TOL = 1e-10
BATCH, SEED = 32, 0


def _digits():
    data = load("digits", seed=SEED, images=True)
    return data.X_train.astype(np.float64), data.y_train


def _torch_epoch(net, X, y, make_optimizer):
    """One epoch of torch training from symnn's net's current weights; torch's parameters as
    NumPy arrays keyed like net.parameters()."""
    torch.manual_seed(0)
    conv, dense = net.layers[0], net.layers[4]
    model = torch.nn.Sequential(
        torch.nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(dense.n_in, dense.n_out),
    ).double()
    p = net.parameters()
    with torch.no_grad():
        for key, value in p.items():
            i, name = key.split(".")[1:]
            getattr(model[int(i)], name).copy_(torch.from_numpy(value.copy()))
    opt = make_optimizer(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()  # the mean over the batch, as symnn's batch gradient
    order = np.random.default_rng(net.seed).permutation(len(X))  # fit's first epoch
    Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
    for start in range(0, len(X), BATCH):
        idx = torch.from_numpy(order[start : start + BATCH])
        opt.zero_grad()
        loss_fn(model(Xt[idx]), yt[idx]).backward()
        opt.step()
    return {key: getattr(model[int(key.split(".")[1])], key.split(".")[2]).detach().numpy() for key in p}


CASES = {
    "adam": (lambda: Adam(lr=1e-3), lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    "adam-betas": (
        lambda: Adam(lr=3e-3, betas=(0.8, 0.99), eps=1e-6),
        lambda ps: torch.optim.Adam(ps, lr=3e-3, betas=(0.8, 0.99), eps=1e-6),
    ),
    "rmsprop": (lambda: RMSProp(lr=1e-3), lambda ps: torch.optim.RMSprop(ps, lr=1e-3)),
    "momentum": (lambda: Momentum(lr=0.05, mu=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "nesterov": (
        lambda: Nesterov(lr=0.05, mu=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    ),
}


def _max_difference(case: str, compiled: bool) -> float:
    X, y = _digits()
    ours, theirs = CASES[case]
    net = build_cnn(seed=SEED)
    expected = _torch_epoch(net, X, y, theirs)
    start = {k: v.copy() for k, v in net.parameters().items()}
    net.fit(X, y, epochs=1, batch_size=BATCH, optimizer=ours(), compiled=compiled)
    moved = max(np.abs(net.parameters()[k] - start[k]).max() for k in start)
    assert moved > 1e-3  # it trained: the comparison is not of untouched weights
    return max(float(np.abs(net.parameters()[k] - expected[k]).max()) for k in expected)


def test_adam_on_the_digits_cnn_matches_torch_optim_adam_after_one_epoch():
    diff = _max_difference("adam", compiled=False)
    print(f"Adam, one epoch on the digits CNN: max |symnn - torch| = {diff:.3g}")
    assert diff <= TOL


def test_adam_in_the_compiled_epoch_matches_torch_too():
    assert _max_difference("adam", compiled=True) <= TOL


@pytest.mark.parametrize("case", ["adam-betas", "rmsprop", "momentum", "nesterov"])
def test_other_optimizers_match_torch_after_one_epoch(case):
    assert _max_difference(case, compiled=False) <= TOL
