"""Lessons and the course book.

Lesson files (lessons/NN_name.py, Jupytext percent format) write their content with
`symnn.course.Lesson`; `symnn course build` (or `symnn.course.build()`) runs them and writes
course.tex, course.pdf, one Markdown file per lesson and the figures.
"""

from __future__ import annotations

from symnn.course.lesson import READING, Lesson
from symnn.course.numbers import Sci, grouped, lambdify, on_rows, sci


def build(*args, **kwargs):
    """Build the course book; see symnn.course.book.build."""
    from symnn.course.book import build as _build

    return _build(*args, **kwargs)


__all__ = ["Lesson", "READING", "Sci", "sci", "grouped", "on_rows", "lambdify", "build"]
