"""Helpers that generated modules import; Numba compiles them into the kernels."""

from __future__ import annotations

from typing import Any

from symnn.codegen.numba_start import numba

numba()
from numba import types  # noqa: E402
from numba.extending import overload  # noqa: E402


def item(x: Any, k: int) -> Any:
    """x[k] for an array, x itself for a scalar: an elementwise kernel takes either."""
    return x[k] if hasattr(x, "shape") and x.shape else x


@overload(item, inline="always")
def _item(x, k):
    if isinstance(x, types.Array):
        return lambda x, k: x[k]
    return lambda x, k: x
