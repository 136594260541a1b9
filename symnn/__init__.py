"""symnn: an autograd-free symbolic derivation and teaching engine for neural networks.

SymPy derives every gradient step by step; symnn renders the steps (text, LaTeX, Markdown)
and generates Numba kernels from the derived expressions, which train nets and compute
feature maps. Importing symnn is light: nothing is compiled until first use.
"""

from __future__ import annotations

# symnn.errors first: its opening lines make an early Ctrl-C end the symnn program cleanly
from symnn.errors import (
    CacheError,
    DerivationError,
    FileError,
    InputError,
    SymnnError,
    SymnnWarning,
    TrainingError,
    UnknownNameError,
)

from typing import Any

__version__ = "0.1.0"

# The stages that register kernels; each lists its modules in MODULES (codegen imports them when
# a kernel name is listed or not yet known, and names no op itself).
KERNEL_PROVIDERS = ("symnn.kernels", "symnn.vision")

# name -> (module, attribute); resolved on first access so `import symnn` stays light.
_LAZY = {
    "derive": ("symnn.derive.topics", "derive"),
    "check": ("symnn.checking", "check"),
    "Derivation": ("symnn.derive.derivation", "Derivation"),
    "Step": ("symnn.derive.derivation", "Step"),
    "feature_map": ("symnn.vision.feature_maps", "feature_map"),
}

__all__ = [
    "__version__",
    "SymnnError",
    "SymnnWarning",
    "UnknownNameError",
    "InputError",
    "FileError",
    "DerivationError",
    "CacheError",
    "TrainingError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symnn' has no attribute {name!r}")
