"""Activation functions, one record per file in this folder, found by the file's name.

A record says what every stage needs: φ(z) (`phi`), the derivative as a course writes it
(`course_derivative`, which `symnn derive activation` must reach), a note for the book, the range
of its outputs (which costs may follow it) and the name of its layer class. Adding an activation
is adding one file here that defines `ACTIVATION = Activation(...)`: the derivation, the kernels,
the layer and the CLI's `--activation` read it from ACTIVATIONS.

A record may have parameters (ELU's α, softplus's β): its φ holds their Symbols and `params`
their defaults. ACTIVATIONS holds each record with its defaults; `bind(name, alpha=0.5)` gives
the record for other values, and `remember` keeps the records made in this process (bound ones
and those parsed from a user's expression, symnn.parse.records) so every stage finds them by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, replace

import sympy as sp

from symnn.errors import unknown
from symnn.ops import activation_key, params

# Where outputs lie, in the words of Cost.domain: "unit" (0, 1), "positive" (0, ∞), "real", or a
# text for any other range (shown in messages).
Range = str


@dataclass(frozen=True)
class Activation:
    name: str
    title: str
    phi: sp.Expr  # φ(z)
    course_derivative: sp.Expr | None  # φ'(z) as a course writes it (None: as the engine derives it)
    note: str
    outputs: Range  # the range of φ
    layer: str  # the layer class's name: Sigmoid, ReLU, SiLU, ...
    order: int = 100  # place in lists (the lecture's four first)
    params: params.Params = ()  # (Symbol, default) of each parameter
    source: str = ""  # the text that makes this record again (its name, `elu(alpha=0.5)`, an expression)

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", self.name)


def _records() -> dict[str, Activation]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        record = getattr(module, "ACTIVATION", None)
        if not isinstance(record, Activation) or record.name != info.name:
            raise TypeError(f"{module.__name__} must define ACTIVATION = Activation({info.name!r}, ...)")
        found.append(record)
    return {a.name: a for a in sorted(found, key=lambda a: (a.order, a.name))}


def _with(record: Activation, values: dict[sp.Symbol, sp.Expr]) -> Activation:
    """The record with its parameters replaced by numbers."""
    course = record.course_derivative
    return replace(
        record,
        phi=record.phi.xreplace(values),
        course_derivative=course.xreplace(values) if course is not None else None,
        params=(),
    )


TEMPLATES: dict[str, Activation] = _records()  # with their parameters' Symbols
ACTIVATIONS: dict[str, Activation] = {n: _with(a, dict(a.params)) for n, a in TEMPLATES.items()}
MADE: dict[str, Activation] = {}  # records made in this process, by name


def remember(record: Activation) -> Activation:
    """Keep a record made in this process (a bound or user-defined one) so `get_activation` finds it."""
    if record.name not in ACTIVATIONS:
        MADE.setdefault(record.name, record)
    return MADE.get(record.name, record)


def get_activation(name: str) -> Activation:
    """A built-in record by name (any case, '-' or '_'), or one made in this process."""
    key = activation_key(name)
    if key in ACTIVATIONS:
        return ACTIVATIONS[key]
    if name in MADE:
        return MADE[name]
    raise unknown("activation", name, ACTIVATIONS)


def bind(name: str, **values: sp.Expr) -> Activation:
    """The record `name` with the given parameter values (numbers; the others keep their defaults)."""
    template = TEMPLATES.get(str(activation_key(name)))
    if template is None:
        raise unknown("activation", name, ACTIVATIONS)
    return params.bind(
        "activation",
        template,
        values,
        MADE,
        lambda t, chosen, **names: replace(_with(t, chosen), **names),
        lambda: ACTIVATIONS[template.name],
    )
