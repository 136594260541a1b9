"""symnn.codegen: SymPy expressions -> cached, readable, shape-generic Numba kernels.

    from symnn.codegen import KernelSpec, Output, elementwise, build, kernel, register

    k = build(elementwise("sigmoid.forward_and_grad", args=[z], exprs=[σ, σ']))
    a, da = k(z_array)
    kernel("conv2d.forward")(X, K)        # a registered kernel, loaded from the cache if built

Lowering (delta collapse, guards -> loop bounds, constant folding) is in lower.py, printing in
printer.py (NumbaPrinter), the on-disk cache in cache.py, names in registry.py. Importing this
package is light: SymPy is imported only when a spec is made or a kernel has to be generated.
"""

from __future__ import annotations

from typing import Any

from symnn.codegen.cache import CacheWarning
from symnn.codegen.kernel import Kernel
from symnn.codegen.registry import build, cache_dir, clear_cache, kernel, names, register

_LAZY = {
    "KernelSpec": "symnn.codegen.spec",
    "Output": "symnn.codegen.spec",
    "elementwise": "symnn.codegen.spec",
    "NumbaPrinter": "symnn.codegen.printer",
}

__all__ = [
    "KernelSpec",
    "Output",
    "elementwise",
    "build",
    "kernel",
    "register",
    "names",
    "clear_cache",
    "cache_dir",
    "Kernel",
    "CacheWarning",
    "NumbaPrinter",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symnn.codegen' has no attribute {name!r}")
