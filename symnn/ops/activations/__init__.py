"""Activation functions, one record per file in this folder, found by the file's name.

A record says what every stage needs: φ(z) (`phi`), the derivative as a course writes it
(`course_derivative`, which `symnn derive activation` must reach), a note for the book, the range
of its outputs (which costs may follow it) and the name of its layer class. Adding an activation
is adding one file here that defines `ACTIVATION = Activation(...)`: the derivation, the kernels,
the layer and the CLI's `--activation` read it from ACTIVATIONS.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import sympy as sp

from symnn.errors import unknown
from symnn.ops import activation_key

# Where outputs lie, in the words of Cost.domain: "unit" (0, 1), "positive" (0, ∞), "real", or a
# text for any other range (shown in messages).
Range = str


@dataclass(frozen=True)
class Activation:
    name: str
    title: str
    phi: sp.Expr  # φ(z)
    course_derivative: sp.Expr  # φ'(z) as a course writes it
    note: str
    outputs: Range  # the range of φ
    layer: str  # the layer class's name: Sigmoid, ReLU, SiLU, ...
    order: int = 100  # place in lists (the lecture's four first)


def _records() -> dict[str, Activation]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        record = getattr(module, "ACTIVATION", None)
        if not isinstance(record, Activation) or record.name != info.name:
            raise TypeError(f"{module.__name__} must define ACTIVATION = Activation({info.name!r}, ...)")
        found.append(record)
    return {a.name: a for a in sorted(found, key=lambda a: (a.order, a.name))}


ACTIVATIONS: dict[str, Activation] = _records()


def get_activation(name: str) -> Activation:
    key = activation_key(name)
    if key not in ACTIVATIONS:
        raise unknown("activation", name, ACTIVATIONS)
    return ACTIVATIONS[key]
