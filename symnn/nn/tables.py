"""CSV tables read as training data, and the file checks every reader of the user's data uses.

A table has a header row; the cells of the columns used are numbers (``78%`` reads as 0.78),
read with the csv module and a number pattern, never evaluated. A categorical target becomes
labels 0..K-1 in the sorted order of its class names. Every problem is one line naming the file,
the line and the column.
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from symnn.errors import FileError, InputError
from symnn.limits import check_memory
from symnn.nn.preprocessing import Preprocessing
from symnn.wording import plural

PathLike = str | os.PathLike
Note = Callable[[str], None]

# a number cell: 12, -6.5, .5, 1e-3, and a percentage 78% (read as 0.78); no nan, inf or 1_000
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# columns that number the rows rather than measure them: left out unless features= names them
ID_COLUMNS = ("id", "rowid", "index")
_QUOTED = 20  # at most this many characters of a cell appear in a message


def shown(path: object) -> str:
    """A path as one printable line in a message (repr() when it holds control characters)."""
    s = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    s = s if isinstance(s, str) else os.fsdecode(s)
    if len(s) > 200:
        s = f"{s[:100]}...{s[-50:]} ({len(s)} characters)"
    return s if s.isprintable() else repr(s)


def brief(text: str) -> str:
    """repr() of a name the user gave (a column name, an option), cut short."""
    return repr(text if len(text) <= _QUOTED else text[:_QUOTED] + "...")


_LISTED = 12  # at most this many column names in a message


def looks_like_data(header: Sequence[str]) -> bool:
    """A first line that holds a number or a name=value cell: a row of data rather than a header,
    which a message must not echo (the file may hold secrets)."""
    return any(_NUMBER.fullmatch(h.strip().rstrip("%").rstrip()) or "=" in h for h in header)


def columns_of(header: Sequence[str]) -> str:
    """'its columns are: a, b, t' for a message, each name cut short and at most a dozen; a first
    line that looks like data is described, not quoted."""
    if looks_like_data(header):
        return (
            f"its first line ({plural(len(header), 'cell')}) holds numbers or name=value cells, not column "
            "names; give the table a header row"
        )
    return "its columns are: " + listed(header)


def listed(names: Sequence[str]) -> str:
    """'a, b, t': names cut short, at most a dozen."""
    cut = [n if len(n) <= _QUOTED else n[:_QUOTED] + "..." for n in names[:_LISTED]]
    return ", ".join(cut) + (f", ... ({len(names)} in all)" if len(names) > _LISTED else "")


def stat_path(path: PathLike, what: str = "file") -> os.stat_result:
    """stat() an existing path; FileError when it is missing or cannot be reached."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"give a {what} path (text or pathlib.Path); got {type(path).__name__}")
    try:
        return os.stat(path)
    except ValueError:  # an embedded NUL
        raise FileError(f"{shown(path)} is not a valid file name") from None
    except FileNotFoundError:
        raise FileError(f"no such {what}: {shown(path)}") from None
    except OSError as exc:
        raise FileError(f"cannot open {shown(path)}: {exc.strerror or exc}") from None


def regular_file(path: PathLike) -> os.stat_result:
    """stat() a path that must be a regular file (no folder, FIFO or device)."""
    st = stat_path(path)
    if stat.S_ISDIR(st.st_mode):
        raise FileError(f"{shown(path)} is a folder; give a file")
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{shown(path)} is not a regular file; give a file")
    return st


class _Table(NamedTuple):
    X: np.ndarray  # (N, F) float64
    target: list[tuple[int, str]]  # (line, cell) of each row's target, when one was asked for
    features: list[str]
    target_name: str | None
    target_label: str  # the target column as messages name it (by position if the header looks like data)


def _find(name: str, header: list[str], path: PathLike, what: str) -> int:
    """The column called name (exactly, else ignoring case and spaces); InputError listing them."""
    if name in header:
        return header.index(name)
    folded = [i for i, h in enumerate(header) if _fold(h) == _fold(name)]
    if len(folded) == 1:
        return folded[0]
    raise InputError(f"{shown(path)} has no column {brief(name)} ({what}); {columns_of(header)}")


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


def _read_csv(path: PathLike, pick: Callable[[list[str]], tuple[list[int], int | None]]) -> _Table:
    """Read the header, let pick choose (feature columns, target column), then parse every row."""
    size = regular_file(path).st_size
    check_memory(4 * size, f"reading the table {shown(path)}")  # 8 bytes a cell, cells >= 2 bytes
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = f.readline()
            while first and not first.strip():
                first = f.readline()
            if not first:
                raise FileError(f"{shown(path)} is empty; give a CSV with a header row and rows of numbers")
            delimiter = next((d for d in ",\t;" if d in first), ",")
            rows = csv.reader([first], delimiter=delimiter)
            header = [h.strip() for h in next(rows)]
            _check_header(header, path)
            cols, tcol = pick(header)
            labels = [f"number {i}" for i in range(1, len(header) + 1)] if looks_like_data(header) else header
            reader = csv.reader(f, delimiter=delimiter)
            values: list[float] = []
            target: list[tuple[int, str]] = []
            line = 1
            for row in reader:
                line += 1 + sum(cell.count("\n") for cell in row)
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                if len(row) != len(header) and not (len(row) > len(header) and not "".join(row[len(header) :]).strip()):
                    raise FileError(
                        f"{shown(path)}, line {line}: {plural(len(row), 'cell')}, but the header has "
                        f"{plural(len(header), 'column')}; every row needs one cell per column"
                    )
                values.extend(_number(row[c], path, line, labels[c]) for c in cols)
                if tcol is not None:
                    target.append((line, row[tcol].strip()))
    except UnicodeDecodeError:
        raise FileError(f"{shown(path)} is not UTF-8 text; save the table as a UTF-8 CSV") from None
    except csv.Error as exc:
        raise FileError(f"{shown(path)} is not a readable CSV ({exc})") from None
    except FileError:  # a FileError is an OSError too: already one line naming the place
        raise
    except OSError as exc:
        raise FileError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    n = len(values) // len(cols) if cols else len(target)
    if n == 0:
        raise FileError(f"{shown(path)} has a header but no rows; give at least one row of numbers")
    X = np.array(values, dtype=np.float64).reshape(n, len(cols))
    target_name, target_label = (None, "") if tcol is None else (header[tcol], labels[tcol])
    return _Table(X, target, [header[c] for c in cols], target_name, target_label)


def _check_header(header: list[str], path: PathLike) -> None:
    for i, name in enumerate(header, 1):
        if not name:
            raise FileError(f"{shown(path)}, line 1: column {i} of the header has no name; name every column")
        if header.index(name) != i - 1:
            called = "have the same name" if looks_like_data(header) else f"are called {brief(name)}"
            first = header.index(name) + 1
            raise FileError(f"{shown(path)}, line 1: two columns ({first} and {i}) {called}; give each its own name")


def _number(cell: str, path: PathLike, line: int, column: str) -> float:
    """One cell as a float: 12, 6.5, -1e-3, or 78% as 0.78."""
    text = cell.strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip()
    where = f"{shown(path)}, line {line}, column {brief(column)}"
    if not _NUMBER.fullmatch(text):
        if not cell.strip():
            raise FileError(f"{where}: the cell is empty; every cell used needs a number")
        raise FileError(f"{where}: the cell is not a number; cells hold numbers such as 12, 6.5, 1e-3 or 78%")
    value = float(text) / 100 if percent else float(text)
    if not math.isfinite(value):
        raise FileError(f"{where}: the number there is too large (beyond about 1e308)")
    return value


def _columns(
    path: PathLike, target: str | None, features: Sequence[str] | str | None, note: Note | None
) -> Callable[[list[str]], tuple[list[int], int | None]]:
    def pick(header: list[str]) -> tuple[list[int], int | None]:
        if target is None:
            raise InputError(
                f"{shown(path)} is a table: name the column to predict (--target COLUMN); {columns_of(header)}"
            )
        t = _find(target, header, path, "the target")
        if features is None:
            ids = [i for i, h in enumerate(header) if i != t and _fold(h) in ID_COLUMNS]
            cols = [i for i in range(len(header)) if i != t and i not in ids]
            if ids and note is not None:
                left = ", ".join(brief(header[i]) for i in ids)
                note(f"{shown(path)}: column {left} left out (it numbers the rows); name it in --features to use it")
        else:
            names = [s.strip() for s in features.split(",")] if isinstance(features, str) else list(features)
            if not names or not all(isinstance(s, str) and s for s in names):
                raise InputError(f"features must name columns of {shown(path)}, e.g. 'Study Hrs,Quiz'")
            cols = [_find(s, header, path, "in --features") for s in names]
            if t in cols:
                raise InputError(
                    f"the target column {brief(header[t])} is also in --features; a column is one or the other"
                )
            if len(set(cols)) != len(cols):
                raise InputError(f"--features names a column of {shown(path)} twice; name each once")
        if not cols:
            raise InputError(f"{shown(path)} has no column to learn from besides the target {brief(header[t])}")
        return cols, t

    return pick


def read_table(
    path: PathLike,
    target: str | None,
    features: Sequence[str] | str | None = None,
    classes: bool = False,
    standardize: bool = False,
    *,
    note: Note | None = None,
) -> tuple[np.ndarray, np.ndarray, Preprocessing]:
    """(X float64 (N, F), y, Preprocessing) from a CSV with a header row.

    The features are the named columns (default: every column but the target and a row-number
    column such as "Row ID", which note() reports); their cells must be numbers, ``78%`` read
    as 0.78. classes=False: y is the target column as float64. classes=True: the target is
    categorical (any text or numbers) and y holds labels 0..K-1 in the sorted order of the class
    names (numerically when all are numbers), kept in Preprocessing.classes. standardize=True
    standardises X with the mean and std of these rows (to fit on a training split only, use
    split() and then Preprocessing.fit). A comma, tab or semicolon separates the cells.
    """
    table = _read_csv(path, _columns(path, target, features, note))
    prep = Preprocessing(features=table.features, target=table.target_name)
    if classes:
        names = label_names([cell for _, cell in table.target], path, table.target_label)
        y = labels_of(table.target, names, path, table.target_label)
        prep.classes = names
    else:
        y = np.array([_number(cell, path, line, table.target_label) for line, cell in table.target])
    X = table.X
    if standardize:
        prep = prep.fit(X, standardize=True)
        X = prep.apply(X)
    return X, y, prep


def label_names(values: Sequence[str], path: PathLike, column: str, subject: str | None = None) -> list[str]:
    """The distinct class names, sorted (numerically when every name is a number); InputError
    for one class only (subject: what has it, default "the target 'column'")."""
    names = set(values)
    if "" in names:
        raise FileError(f"{shown(path)}: a cell of the target column {brief(column)} is empty; give every row a class")
    if all(_NUMBER.fullmatch(v) for v in names):
        ordered = sorted(names, key=lambda v: (float(v), v))
    else:
        ordered = sorted(names)
    if len(ordered) < 2:  # a folder's class is a folder name; a table's is the file's content: not quoted
        only = f" ({brief(ordered[0]) if ordered else 'none'})" if subject else ""
        subject = subject or f"the target {brief(column)}"
        raise InputError(f"{shown(path)}: {subject} has one class only{only}; a classifier needs at least two")
    return ordered


def labels_of(cells: list[tuple[int, str]], names: list[str], path: PathLike, column: str) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    out = np.empty(len(cells), dtype=np.int64)
    for k, (line, cell) in enumerate(cells):
        if cell not in index:
            raise FileError(
                f"{shown(path)}, line {line}, column {brief(column)}: the class there is not one of the "
                f"training classes ({listed(names)})"
            )
        out[k] = index[cell]
    return out


def read_rows(path: PathLike, prep: Preprocessing, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A table with prep's feature columns (other columns ignored): X as in the file (not yet
    prepared) and, when labelled, y from prep's target column (classes mapped by prep.classes)."""
    if labelled and prep.target is None:
        raise InputError(f"{shown(path)}: the training data had no target column, so a table cannot label a test set")

    def pick(header: list[str]) -> tuple[list[int], int | None]:
        cols = [_find(s, header, path, "a feature of the training data") for s in prep.features]
        return cols, _find(prep.target, header, path, "the target") if labelled and prep.target else None

    table = _read_csv(path, pick)
    if not labelled:
        return table.X, None
    column = table.target_label
    if prep.classes is not None:
        return table.X, labels_of(table.target, prep.classes, path, column)
    return table.X, np.array([_number(cell, path, line, column) for line, cell in table.target])
