"""Op definitions in SymPy; `activation_names()` lists the activation records without importing
them (no SymPy, no NumPy: the CLI's parser and a warm start use it)."""

from __future__ import annotations

import importlib.util
import pkgutil


def activation_names() -> list[str]:
    """The activations symnn has: the record files of symnn/ops/activations/."""
    spec = importlib.util.find_spec("symnn.ops.activations")
    locations = spec.submodule_search_locations if spec is not None else None
    return sorted(m.name for m in pkgutil.iter_modules(list(locations or [])))


def activation_key(name: object) -> object:
    """How an activation's name is looked up: lower case, '-' as '_' (leaky-ReLU -> leaky_relu)."""
    return name.lower().replace("-", "_") if isinstance(name, str) else name
