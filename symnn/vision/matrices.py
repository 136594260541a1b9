"""Small matrices (images and kernels typed by hand) from inline text, a file or an array.

Inline text: numbers separated by spaces or commas, rows by ';' or new lines. Files: CSV or
whitespace text (at most SYMNN_MAX_TEXT bytes, '#' starts a comment) or a grayscale PNG/JPEG.
An error about a file names its line and column, never its text (it may hold secrets).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np

from symnn.errors import FileError, InputError
from symnn.limits import check_memory, check_text_size, text_limit
from symnn.vision.files import brief, open_regular, shown
from symnn.vision.images import decode_image

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_ROW_SPLIT = re.compile(r"[;\n]")
_VALUE_SPLIT = re.compile(r"[,\s]+")
_ACCEPTED = "a matrix holds numbers separated by spaces or commas, rows separated by ';' or new lines"


def _parse_matrix(text: str, source: str) -> np.ndarray:
    """Rows of numbers. source is "FILE: " for a file (an error names the line and column, never
    the file's text: it may hold secrets) or "" for inline text (quoted briefly)."""
    rows: list[list[float]] = []
    first_len = 0
    for line_no, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = line.split("#", 1)[0]
        for part in line.split(";"):
            tokens = [t for t in _VALUE_SPLIT.split(part.strip()) if t]
            if not tokens:
                continue
            values = [_number(tok, source, line_no, len(rows) + 1, col) for col, tok in enumerate(tokens, start=1)]
            if rows and len(values) != first_len:
                at = f"{source}line {line_no}: row {len(rows) + 1}" if source else f"row {len(rows) + 1}"
                raise InputError(
                    f"{at} has {len(values)} "
                    f"value(s) but row 1 has {first_len}; every row needs the same "
                    "number of values"
                )
            if not rows:
                first_len = len(values)
            rows.append(values)
    if not rows:
        what = source[:-2] if source else "the matrix"
        raise InputError(f"{what} holds no numbers; {_ACCEPTED}")
    return np.array(rows, dtype=np.float64)


def _number(tok: str, source: str, line_no: int, row: int, col: int) -> float:
    """One value; a file's token is never quoted, inline text's only briefly."""
    where = f"{source}line {line_no}, column {col}" if source else f"row {row}, column {col}"
    what = "the value there" if source else brief(tok)
    try:
        v = float(tok)
    except ValueError:
        raise InputError(f"{where}: {what} is not a number; {_ACCEPTED}") from None
    if not np.isfinite(v):
        raise InputError(f"{where}: {what} is not a finite number; {_ACCEPTED}")
    return v


def _looks_like_path(text: str) -> bool:
    s = text.strip()
    if not s or ";" in s or "\n" in s or " " in s or "," in s:
        return False
    return "/" in s or os.sep in s or bool(re.search(r"\.[A-Za-z][A-Za-z0-9]{1,4}$", s))


_NOT_A_MATRIX = (
    "is neither a PNG/JPEG image nor a text matrix; give CSV or whitespace-separated numbers, or a grayscale PNG"
)


def _read_matrix_file(p: Path) -> np.ndarray:
    p, fh = open_regular(p)
    with fh:
        try:
            head = fh.read(8)
            if not (head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC)):
                data = head + fh.read(text_limit() + 1 - len(head))
        except OSError as exc:
            raise FileError(f"cannot read {shown(p)}: {exc.strerror or exc}") from None
        if head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC):
            fh.seek(0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                img = decode_image(fh, p)
                m = _gray_matrix(img, p)  # a colour image: no alpha warning first
            for w in caught:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return m
    check_text_size(len(data), shown(p))
    if b"\x00" in data:
        raise FileError(f"{shown(p)} {_NOT_A_MATRIX}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(f"{shown(p)} {_NOT_A_MATRIX}") from None
    return _parse_matrix(text, f"{shown(p)}: ")


def _gray_matrix(img: np.ndarray, p: Path) -> np.ndarray:
    if img.ndim == 3:
        if np.all(img == img[:, :, :1]):
            img = img[:, :, 0]
        else:
            raise InputError(
                f"{shown(p)} is a colour image; a matrix file must be a grayscale image (or CSV/whitespace text)"
            )
    check_memory(img.size * 8, f"the {img.shape[1]}x{img.shape[0]} matrix from {shown(p)}")
    return img.astype(np.float64)


def _array_matrix(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise InputError(f"a matrix holds real numbers; got an array of dtype {a.dtype}")
    if a.ndim != 2 or a.size == 0:
        raise InputError(f"a matrix must be a non-empty 2-D array; got shape {a.shape}")
    return np.asarray(a, dtype=np.float64)


def read_matrix(text_or_path: str | os.PathLike | np.ndarray) -> np.ndarray:
    """A small 2-D float64 matrix (an image or a kernel) from inline text, a file, or an array.

    Inline: "0 0 1; 1 0 0" (rows separated by ';' or new lines, values by spaces or commas).
    Files: CSV / whitespace text ('#' starts a comment; at most SYMNN_MAX_TEXT bytes), or a
    grayscale PNG (pixel values as numbers, 0..255 for 8-bit). Only regular files are read.
    """
    if isinstance(text_or_path, np.ndarray):
        return _array_matrix(text_or_path)
    if isinstance(text_or_path, os.PathLike):
        return _read_matrix_file(Path(text_or_path))
    if not isinstance(text_or_path, str):
        raise InputError(f"give a matrix as text, a file path or an array; got {type(text_or_path).__name__}")
    text = text_or_path
    check_text_size(len(text), "the inline matrix")
    if text.strip() and ";" not in text and "\n" not in text and _exists(text.strip()):
        return _read_matrix_file(Path(text.strip()))
    if _looks_like_path(text):
        try:
            float(text)
        except ValueError:
            raise FileError(
                f"no such file: {shown(text.strip())}; give an existing file or an inline "
                "matrix such as \"0 0 1; 1 0 0\""
            ) from None
    return _parse_matrix(text, "")


def _exists(path: str) -> bool:
    """True for anything at path, even a dangling or looping symlink (reading it says why)."""
    try:
        os.lstat(path)
        return True
    except (OSError, ValueError):
        return False
