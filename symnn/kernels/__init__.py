"""The kernel stage: which results of which derivation become which named kernels.

One module per op, named as the op is in `symnn/ops/` and its derivation in `symnn/derive`:

    activations  <activation>.forward / .backward        costs     <cost>.loss / .grad
    dense        dense.forward / .grad_weight / ...      conv2d    conv2d.* (single map and layer)
    pool         maxpool.* / avgpool.*                   flatten   flatten.forward / .backward
    softmax      softmax.*, log_softmax.forward, ...     sgd       sgd.update
    optimizers   momentum.update, nesterov.update, rmsprop.update, adam.update, adam.count

Each module registers zero-argument factories with `symnn.codegen.register`; a factory asks the
derivation for a result by its key (`derived("dense").results["dW"]`) and wraps it in a
KernelSpec. Importing this package is light: the modules are imported (and SymPy with them) only
when a kernel has to be generated or the names are listed.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from symnn.derive.derivation import Derivation

MODULES = tuple(
    f"symnn.kernels.{name}"
    for name in ("activations", "costs", "dense", "conv2d", "pool", "softmax", "flatten", "sgd", "optimizers")
)


@cache
def derived(topic: str, **options: Any) -> Derivation:
    """The verified derivation `symnn derive TOPIC`, made once per process (kernels share it)."""
    from symnn.derive import derive

    return derive(topic, **options)
