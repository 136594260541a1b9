"""Small helpers for the words symnn prints (no SymPy, no NumPy: the CLI's warm path uses them)."""

from __future__ import annotations


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{n} {word if n == 1 else (words or word + 's')}"
