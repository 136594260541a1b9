"""Datasets for the lecture's nets, all bundled (nothing is downloaded), and input checks.

- "study" / "study2": the lecture's Study Hrs / Sleep Hrs / Quiz / Exam table in its two
  versions (the "How do Neural Networks learn?" slides, and the "Gradient Descent" /
  "Stochastic Gradient Descent" slides), a regression of the exam mark.
- "xor": the four XOR rows, two classes.
- "digits": scikit-learn's bundled 8x8 handwritten digits (1797 images), ten classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from symnn.errors import InputError, unknown
from symnn.wording import plural

DATASETS: tuple[str, ...] = ("study", "study2", "xor", "digits")

STUDY_COLUMNS: tuple[str, ...] = ("Row ID", "Study Hrs", "Sleep Hrs", "Quiz", "Exam")

# The tables exactly as on the slides: (row id, study hrs, sleep hrs, quiz %, exam %).
# They differ in rows 4, 6 and 7 only.
_STUDY_TABLES: dict[int, tuple[tuple[int, float, float, int, int], ...]] = {
    1: (  # "How do Neural Networks learn?"
        (1, 12, 6, 78, 93),
        (2, 22, 6.5, 24, 68),
        (3, 115, 4, 100, 95),
        (4, 51, 3, 67, 75),
        (5, 0, 10, 58, 51),
        (6, 5, 0, 70, 60),
        (7, 92, 5, 82, 89),
        (8, 57, 8, 91, 97),
    ),
    2: (  # "Gradient Descent" and "Stochastic Gradient Descent"
        (1, 12, 6, 78, 93),
        (2, 22, 6.5, 24, 68),
        (3, 115, 4, 100, 95),
        (4, 31, 9, 67, 75),
        (5, 0, 10, 58, 51),
        (6, 5, 8, 78, 60),
        (7, 92, 6, 82, 89),
        (8, 57, 8, 91, 97),
    ),
}

_STUDY_SLIDES = {
    1: 'the "How do Neural Networks learn?" slides',
    2: 'the "Gradient Descent" and "Stochastic Gradient Descent" slides',
}


@dataclass(repr=False)
class Dataset:
    """A train/test split. y holds float targets (regression) or int labels (classification)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    name: str
    description: str
    task: str  # "regression" | "classification"
    n_classes: int | None = None

    @property
    def n_features(self) -> int:
        return int(np.prod(self.X_train.shape[1:]))

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, task={self.task!r}, train X{self.X_train.shape}, "
            f"test X{self.X_test.shape}, n_classes={self.n_classes})"
        )


class StudyTable(NamedTuple):
    """One version of the lecture's table: the rows as on the slide, inputs X and target y."""

    rows: list[dict[str, float]]  # keys: row_id, study_hrs, sleep_hrs, quiz, exam
    X: np.ndarray  # (8, 3): study hrs, sleep hrs, quiz (fraction), unscaled
    y: np.ndarray  # (8,): exam (fraction)


def study_table(version: int = 1) -> StudyTable:
    """The lecture's Study Hrs / Sleep Hrs / Quiz / Exam table; percentages as fractions.

    version 1 is the table on the "How do Neural Networks learn?" slides, version 2 the one on
    the "Gradient Descent" / "Stochastic Gradient Descent" slides (rows 4, 6 and 7 differ).
    """
    if version not in _STUDY_TABLES:
        raise InputError(f"unknown study table version {version!r}; choose 1 or 2")
    rows = [
        {"row_id": rid, "study_hrs": float(study), "sleep_hrs": float(sleep), "quiz": quiz / 100, "exam": exam / 100}
        for rid, study, sleep, quiz, exam in _STUDY_TABLES[version]
    ]
    X = np.array([[r["study_hrs"], r["sleep_hrs"], r["quiz"]] for r in rows], dtype=np.float64)
    y = np.array([r["exam"] for r in rows], dtype=np.float64)
    return StudyTable(rows, X, y)


def _study(version: int) -> Dataset:
    table = study_table(version)
    col_max = table.X.max(axis=0)
    X = table.X / col_max
    scale = ", ".join(f"{n} / {m:g}" for n, m in zip(("Study Hrs", "Sleep Hrs", "Quiz"), col_max))
    description = (
        f"The lecture's exam table, version {version} (as on {_STUDY_SLIDES[version]}): "
        "8 students, inputs Study Hrs, Sleep Hrs and Quiz, target Exam; percentages as "
        "fractions (78% -> 0.78). For training each input column is divided by its maximum "
        f"over the table ({scale}), so every input lies in [0, 1]; the target is left as a "
        "fraction. Train and test are the same 8 rows. study_table() gives the raw values."
    )
    return Dataset(
        X,
        table.y.copy(),
        X.copy(),
        table.y.copy(),
        feature_names=("Study Hrs", "Sleep Hrs", "Quiz"),
        target_names=("Exam",),
        name="study" if version == 1 else "study2",
        description=description,
        task="regression",
        n_classes=None,
    )


def _xor() -> Dataset:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Dataset(
        X,
        y,
        X.copy(),
        y.copy(),
        feature_names=("x1", "x2"),
        target_names=("0", "1"),
        name="xor",
        description="XOR of two binary inputs: the 4 rows, label 1 when "
        "exactly one input is 1. Not linearly separable, so a perceptron cannot learn "
        "it and one hidden layer can. Train and test are the same 4 rows.",
        task="classification",
        n_classes=2,
    )


def _digits_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test): scikit-learn's load_digits and train_test_split.

    Importing scikit-learn takes longer than a warm training run, so the split is kept in the
    cache directory (data/digits-<key>.npz, see symnn.cachedir); the key hashes the bundled
    digits file, the scikit-learn code that loads and splits it, and the seed, so it is made
    again if any of them changes. A damaged cached split is made again with one warning."""
    key = _digits_key(seed)
    path = None
    if key is not None:
        from symnn.cachedir import cache_dir

        path = cache_dir() / "data" / f"digits-{key}.npz"
        split, problem = _read_split(path)
        if split is not None:
            return split
        if problem is not None:
            _repair(path, problem)
        if _split_in_child(seed, path):  # scikit-learn stays out of this process
            split, _ = _read_split(path)
            if split is not None:
                return split
    return split_with_sklearn(seed, path)


# what a cached split holds: name -> (shape, dtype kind); X in [0, 1], y in 0..9
_SPLIT = {"X_train": ((1437, 64), "f"), "X_test": ((360, 64), "f"), "y_train": ((1437,), "i"), "y_test": ((360,), "i")}


def _read_split(path) -> tuple[tuple | None, str | None]:
    """(the four arrays, None) from an intact cached split; (None, None) when there is none;
    (None, what is wrong) when the file is damaged. Never unpickles (allow_pickle=False)."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _SPLIT}
    except FileNotFoundError:
        return None, None
    except IsADirectoryError:
        return None, "it is a folder"
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        return None, f"not a whole .npz file ({type(exc).__name__})"
    for k, (shape, kind) in _SPLIT.items():
        a = arrays[k]
        if a.shape != shape or a.dtype.kind != kind:
            return None, f"{k} is shaped {a.shape} of {a.dtype}, not {shape}"
    ok = all(
        np.isfinite(arrays[k]).all() and arrays[k].min() >= 0 and arrays[k].max() <= 1 for k in ("X_train", "X_test")
    )
    if not ok or not all(arrays[k].min() >= 0 and arrays[k].max() <= 9 for k in ("y_train", "y_test")):
        return None, "values out of range"
    return tuple(arrays[k] for k in ("X_train", "X_test", "y_train", "y_test")), None


def _repair(path, problem: str) -> None:
    """Remove the damaged split (one warning), so it is made again."""
    import os
    import warnings

    from symnn.cachedir import CacheWarning

    try:
        if not path.is_dir() or path.is_symlink():
            path.unlink()
        elif any(path.iterdir()):  # never delete a folder's contents: move it aside
            path.rename(path.with_name(f".{path.name}.{os.urandom(4).hex()}.damaged"))
        else:
            path.rmdir()
    except OSError:
        pass
    warnings.warn(
        f"the cached digits split {path.name} is damaged ({problem}); making it again", CacheWarning, stacklevel=4
    )


def _split_in_child(seed: int, path) -> bool:
    """Make the cached split in a child process; False when that did not work."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    code = "import sys; from symnn.nn.data import split_with_sklearn; split_with_sklearn(int(sys.argv[1]), sys.argv[2])"
    try:
        run = subprocess.run(
            [sys.executable, "-c", code, str(seed), str(path)], env=env, capture_output=True, timeout=300
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return run.returncode == 0 and Path(path).exists()


def split_with_sklearn(seed: int, path=None):
    """The digits split itself, by scikit-learn (the child process of the cached split runs
    it); saved to `path` when given."""
    from pathlib import Path

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    if path is not None:
        _save_npz(Path(path), X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)
    return X_train, X_test, y_train, y_test


def _digits_key(seed: int) -> str | None:
    """A hash of what the split depends on, found without importing scikit-learn."""
    import hashlib
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("sklearn")
        if spec is None or spec.submodule_search_locations is None:
            return None  # no scikit-learn (the import below says so), or not a package
        root = Path(next(iter(spec.submodule_search_locations)))
        h = hashlib.sha256(f"digits split v1, seed {seed}, numpy {np.__version__}\n".encode())
        for part in ("datasets/data/digits.csv.gz", "datasets/_base.py", "model_selection/_split.py"):
            h.update((root / part).read_bytes())
    except (AttributeError, TypeError, StopIteration, OSError, ImportError, ValueError):
        return None  # no scikit-learn (the import below says so) or an unusual layout
    return h.hexdigest()[:20]


def _save_npz(path, **arrays) -> None:
    """Write atomically (temporary file, then a rename; listed in the cache's manifest); a cache
    that cannot be written is skipped."""
    import io

    from symnn.cachedir import write_file

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    try:
        path.parent.mkdir(exist_ok=True)
        write_file(path, buf.getvalue())
    except OSError:
        pass


def _digits(seed: int, images: bool) -> Dataset:
    X_train, X_test, y_train, y_test = _digits_split(seed)
    if images:
        X_train = X_train.reshape(-1, 1, 8, 8)
        X_test = X_test.reshape(-1, 1, 8, 8)
    shape = "(N, 1, 8, 8) images" if images else "(N, 64) rows, pixels in row-major order"
    description = (
        "scikit-learn's bundled handwritten digits: 1797 grayscale 8x8 images of 0-9 (no "
        f"download). Pixels scaled from 0..16 to [0, 1] by /16; X as {shape}. Fixed stratified "
        f"80/20 split (seed {seed}): {len(y_train)} train, {len(y_test)} test."
    )
    return Dataset(
        np.ascontiguousarray(X_train),
        y_train,
        np.ascontiguousarray(X_test),
        y_test,
        feature_names=tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8)),
        target_names=tuple(str(d) for d in range(10)),
        name="digits",
        description=description,
        task="classification",
        n_classes=10,
    )


def load(name: str, seed: int = 0, images: bool = False) -> Dataset:
    """Load a bundled dataset by name (see DATASETS). seed fixes the digits split; images=True
    gives the digits as (N, 1, 8, 8) arrays."""
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise unknown("dataset", name, DATASETS)
    if images and key != "digits":
        raise InputError(f"images=True applies only to the digits dataset, not {key!r}")
    if key == "digits":
        return _digits(int(seed), images)
    if key == "xor":
        return _xor()
    return _study(1 if key == "study" else 2)


def _check_n_classes(n_classes: object) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise InputError(f"n_classes must be a positive integer; got {n_classes!r}")
    return int(n_classes)


def _check_labels(y: np.ndarray, n_classes: int, what: str = "y") -> np.ndarray:
    """Integer class labels in [0, n_classes), as int64."""
    accepted = f"labels must be integers 0..{n_classes - 1} (n_classes={n_classes})"
    if y.ndim != 1:
        raise InputError(f"{what} has shape {y.shape}; {accepted}, one per sample (a 1-D array)")
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.number):
        raise InputError(f"{what} has non-numeric dtype {y.dtype}; {accepted}")
    if np.issubdtype(y.dtype, np.complexfloating):
        raise InputError(f"{what} holds complex numbers; {accepted}")
    if not np.issubdtype(y.dtype, np.integer):
        _check_finite(y, what)
        bad = np.flatnonzero(y != np.round(y))
        if bad.size:
            i = int(bad[0])
            raise InputError(f"{what}[{i}] = {y[i].item()!r} is not a whole number; {accepted}")
    out = y.astype(np.int64)
    bad = np.flatnonzero((out < 0) | (out >= n_classes))
    if bad.size:
        i = int(bad[0])
        more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
        raise InputError(f"label {out[i]} at {what}[{i}] is out of range{more}; {accepted}")
    return out


def _check_finite(a: np.ndarray, what: str) -> None:
    if not np.issubdtype(a.dtype, np.inexact):
        return
    n_nan = int(np.isnan(a).sum())
    n_inf = int(np.isinf(a).sum())
    if n_nan or n_inf:
        parts = [f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (n_inf, "inf")) if n]
        raise InputError(f"{what} contains {' and '.join(parts)} value(s); only finite numbers are accepted")


def _as_numeric(a: object, what: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(f"{what} is not a rectangular array ({exc}); give an array of numbers") from None
    if arr.dtype == bool:
        return arr
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{what} has dtype {arr.dtype}; give an array of real numbers")
    return arr


def check_xy(X: object, y: object, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set and return (X as float64, y).

    Accepted: X with one row (or image) per sample, y with one target per sample, all finite.
    With n_classes, y is either integer labels in [0, n_classes) (returned as int64) or one-hot /
    probability rows shaped (N, n_classes) (returned as float64); without, y is float64 targets.
    Anything else raises InputError with one line saying what is wrong and what is accepted.
    """
    X = _as_numeric(X, "X")
    y = _as_numeric(y, "y")
    if X.ndim == 0:
        raise InputError("X is a single number; give one row of features per sample, shaped (N, ...)")
    if y.ndim == 0:
        raise InputError("y is a single number; give one target per sample, shaped (N,)")
    if len(X) == 0:
        raise InputError("the dataset is empty: X has no samples; give at least one row")
    if len(X) != len(y):
        raise InputError(f"X has {plural(len(X), 'sample')} but y has {len(y)}; give one target per sample")
    _check_finite(X, "X")
    X = X.astype(np.float64, copy=False)
    if n_classes is None:
        _check_finite(y, "y")
        return X, y.astype(np.float64, copy=False)
    n_classes = _check_n_classes(n_classes)
    if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
        _check_finite(y, "y")
        return X, y.astype(np.float64, copy=False)
    return X, _check_labels(y, n_classes)


def one_hot(labels: object, n_classes: int) -> np.ndarray:
    """Labels (N,) -> float64 (N, n_classes) with a 1 in each label's column."""
    n_classes = _check_n_classes(n_classes)
    y = _check_labels(_as_numeric(labels, "labels"), n_classes, "labels")
    out = np.zeros((y.shape[0], n_classes), dtype=np.float64)
    out[np.arange(y.shape[0]), y] = 1.0
    return out
