"""Hand-written numerical references for the benchmarks (and oracles for the tests).

symnn's one rule — every number comes from kernels generated from derived SymPy expressions —
does not apply here: these are the plain, faithful implementations symnn is measured against.

Every MLP / CNN reference module offers the same four names, so bench scripts can time them side
by side with common.time_training:
    NAME                                     label for tables
    init(...seed...) -> state                common.init_mlp / init_cnn: the same numbers for all
    train_epoch(state, X, Y, lr, batch_size, rng) -> state
                                             one epoch; draws the order with common.epoch_order
    predict(state, X) -> labels
MLP references take one-hot Y (quadratic cost); CNN references take integer labels (softmax CE).

Import from the repository root as `bench.references`, or as `references` from bench/ scripts.
The PyTorch modules import torch; mlp_references / cnn_references leave them out (with a note in
`skipped`) when torch is not importable.
"""

from __future__ import annotations

import functools
import importlib.util

from .common import Reference

DIGITS_MLP = dict(sizes=[64, 30, 10], lr=3.0, batch_size=10, epochs=30)  # Nielsen's network.py setup
DIGITS_CNN = dict(lr=0.5, batch_size=32, epochs=20)  # conv 8x3x3 -> ReLU -> pool 2 -> dense 10

skipped: list[str] = []


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def mlp_references(sizes: list[int] | None = None, torch: bool = True, threads: int | None = None) -> list[Reference]:
    """The MLP references, ready for common.time_training."""
    from . import mlp_numba, mlp_numpy

    sizes = list(sizes or DIGITS_MLP["sizes"])
    refs = [
        Reference(mlp_numpy.NAME, functools.partial(mlp_numpy.init, sizes), mlp_numpy.train_epoch, mlp_numpy.predict),
        Reference(
            mlp_numpy.NAME_VECTORISED,
            functools.partial(mlp_numpy.init, sizes),
            mlp_numpy.train_epoch_vectorised,
            mlp_numpy.predict,
        ),
    ]
    if len(sizes) == 3:
        refs += [
            Reference(
                mlp_numba.NAME, functools.partial(mlp_numba.init, sizes), mlp_numba.train_epoch, mlp_numba.predict
            ),
            Reference(
                mlp_numba.NAME_FASTMATH,
                functools.partial(mlp_numba.init, sizes),
                functools.partial(mlp_numba.train_epoch, fastmath=True),
                mlp_numba.predict,
            ),
        ]
    if torch and torch_available():
        from . import mlp_torch

        for dtype in ("float64", "float32"):
            refs.append(
                Reference(
                    f"{mlp_torch.NAME} {dtype}",
                    functools.partial(_seeded_last, mlp_torch.init, sizes, dtype=dtype, threads=threads),
                    mlp_torch.train_epoch,
                    mlp_torch.predict,
                )
            )
    elif torch:
        skipped.append("PyTorch rows skipped: torch is not importable (pip install torch)")
    return refs


def cnn_references(torch: bool = True, threads: int | None = None) -> list[Reference]:
    """The digits CNN references (X shaped (N, 1, 8, 8), integer labels)."""
    from . import cnn_numpy

    refs = [Reference(cnn_numpy.NAME, cnn_numpy.init, cnn_numpy.train_epoch, cnn_numpy.predict)]
    if torch and torch_available():
        from . import cnn_torch

        for dtype in ("float32", "float64"):
            refs.append(
                Reference(
                    f"{cnn_torch.NAME} {dtype}",
                    functools.partial(cnn_torch.init, dtype=dtype, threads=threads),
                    cnn_torch.train_epoch,
                    cnn_torch.predict,
                )
            )
    elif torch:
        skipped.append("PyTorch rows skipped: torch is not importable (pip install torch)")
    return refs


def _seeded_last(init, sizes, seed, **kwargs):
    return init(sizes, seed, **kwargs)
