"""Parameters of a record (ELU's α, Huber's δ): checking values a user gives, and naming the
record they make. Shared by the activation and cost records."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import sympy as sp

from symnn.errors import InputError

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "tau": "τ"}
Params = tuple[tuple[sp.Symbol, sp.Expr], ...]  # (Symbol, default) of each parameter
R = TypeVar("R")


def digest(text: str) -> str:
    """A short stable name part for a record made from text (kernel names are built from it)."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def choose(kind: str, name: str, params: Params, values: Mapping[str, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
    """Each parameter's value: the given number, else the default; one clear line for anything else."""
    defaults = {s.name: s for s, _ in params}
    if values and not defaults:
        raise InputError(f"the {name} {kind} takes no parameters (got {', '.join(values)})")
    for key, value in values.items():
        if key not in defaults:
            raise InputError(f"the {name} {kind} has no parameter {key!r}; it takes: {', '.join(defaults)}")
        value = sp.sympify(value, strict=True) if isinstance(value, (int, float)) else value
        symbol = defaults[key]
        if not isinstance(value, sp.Expr) or not (value.is_real and value.is_finite):
            raise InputError(f"{name}'s {key} must be a number, such as 0.5 (got {value})")
        if symbol.is_positive and not value.is_positive:
            raise InputError(f"{name}'s {key} must be a positive number (got {value})")
    return {s: _number(values[s.name]) if s.name in values else v for s, v in params}


def _number(value: object) -> sp.Expr:
    return sp.sympify(value, strict=True) if isinstance(value, (int, float)) else value


def is_default(params: Params, chosen: Mapping[sp.Symbol, sp.Expr]) -> bool:
    return all(float(chosen[s]) == float(v) for s, v in params)


def show(value: sp.Expr) -> str:
    """0.5, not 0.500000000000000."""
    return repr(float(value)) if isinstance(value, sp.Float) else sp.sstr(value)


def spec(name: str, params: Params, chosen: Mapping[sp.Symbol, sp.Expr]) -> tuple[str, str]:
    """(the text that makes the record again, e.g. `elu(alpha=0.5)`; the values as a title shows them)."""
    text = f"{name}({', '.join(f'{s.name}={show(chosen[s])}' for s, _ in params)})"
    shown = ", ".join(f"{GREEK.get(s.name, s.name)} = {show(chosen[s])}" for s, _ in params)
    return text, shown


def bind(
    kind: str,
    template: Any,
    values: Mapping[str, sp.Expr],
    made: dict[str, R],
    make: Callable[..., R],
    default: Callable[[], R],
) -> R:
    """A record with its parameters' values put in: default() when they are the defaults, else
    make(template, chosen, name=..., title=..., source=...) named by a digest of its text, kept
    in made (the records made in this process, by name) so the same text gives the same record."""
    chosen = choose(kind, template.name, template.params, values)
    if is_default(template.params, chosen):
        return default()
    text, shown = spec(template.name, template.params, chosen)
    name = f"{template.name}_{digest(text)}"
    if name not in made:
        made[name] = make(template, chosen, name=name, title=f"{template.title} ({shown})", source=text)
    return made[name]
