"""Helpers that generated modules import; Numba compiles them into the kernels."""
from __future__ import annotations

from numba import types
from numba.extending import overload


def item(x, k):
    """x[k] for an array, x itself for a scalar: an elementwise kernel takes either."""
    return x[k] if hasattr(x, "shape") and x.shape else x


@overload(item, inline="always")
def _item(x, k):
    if isinstance(x, types.Array):
        return lambda x, k: x[k]
    return lambda x, k: x
