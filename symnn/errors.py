"""The errors symnn raises. Every user-facing failure is a SymnnError with a one-line message."""
from __future__ import annotations

from collections.abc import Iterable


class SymnnError(Exception):
    """Base class: the message says what is wrong and what is accepted."""


class UnknownNameError(SymnnError, KeyError):
    """An unknown topic, activation, cost, kernel, layer or dataset name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class InputError(SymnnError, ValueError):
    """Bad values: wrong shapes, NaN, out-of-range numbers, bad options."""


class FileError(SymnnError, OSError):
    """A missing, unreadable, unwritable or malformed file."""


class DerivationError(SymnnError):
    """A derivation step that SymPy cannot confirm, or an expression symnn cannot differentiate."""


class CacheError(SymnnError):
    """The kernel cache could not be used."""


class TrainingError(SymnnError):
    """Training that diverged or cannot proceed."""


def unknown(kind: str, name: object, choices: Iterable[str]) -> UnknownNameError:
    """Build the standard 'unknown X' error naming the valid choices."""
    listed = ", ".join(sorted(choices))
    return UnknownNameError(f"unknown {kind} {name!r}; choose one of: {listed}")
