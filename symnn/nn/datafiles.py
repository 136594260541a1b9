"""Your own data: CSV tables, .npz arrays and image folders, read as training sets.

The readers (each refuses bad data with one InputError or FileError line naming the file and the
line, column or path; nothing in a file is ever evaluated or unpickled):

- read_table (symnn.nn.tables): a CSV with a header row and numeric cells, ``78%`` as 0.78, an
  optional categorical target (labels in the sorted order of the class names).
- read_npz: arrays ``X`` and ``y``, with allow_pickle=False.
- read_images (symnn.nn.images): one sub-folder of PNG/JPEG images per class, resized.
- split: a seeded train/test split, stratified for class labels.
- load_dataset: what `symnn train --data FILE` does: read, split (or --test-data), fit the
  scaling on the training split only, and give a Dataset and its Preprocessing.
- read_features / read_labelled: new data (for predictions, or a test set) prepared exactly as
  the training data were, from the Preprocessing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from symnn.errors import FileError, InputError
from symnn.limits import check_memory
from symnn.nn.images import DEFAULT_SIZE, SUFFIXES, read_images, read_labelled_images, read_unlabelled_images
from symnn.nn.preprocessing import Preprocessing
from symnn.nn.tables import Note, PathLike, label_names, listed, read_rows, read_table, regular_file, shown, stat_path
from symnn.wording import plural

__all__ = [
    "Preprocessing",
    "Split",
    "data_kind",
    "load_dataset",
    "read_features",
    "read_images",
    "read_labelled",
    "read_npz",
    "read_table",
    "split",
]
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


# -- .npz arrays --------------------------------------------------------------------------------
def read_npz(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Arrays X (float64, one sample per row or image) and y (one target per sample) of an .npz.

    Read with allow_pickle=False (an object array is refused, never unpickled); each array's
    size is checked against the memory limit from its header before it is read. y keeps its
    kind: integers or text (class labels, see npz_labels) or float64 targets."""
    X, y = _read_npz(path, need_y=True)
    assert y is not None
    return X, y


def _read_npz(path: PathLike, need_y: bool) -> tuple[np.ndarray, np.ndarray | None]:
    import zipfile

    regular_file(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = {n[:-4]: n for n in z.namelist() if n.endswith(".npy")}
            wanted = ["X", "y"] if need_y else ["X"]
            for key in wanted:
                if key not in names:
                    held = listed(sorted(names)) or "no arrays"
                    raise FileError(
                        f"{shown(path)} has no array {key!r}; an .npz for symnn holds X (inputs) and y (targets); "
                        f"it holds: {held}"
                    )
                with z.open(names[key]) as member:
                    major, _ = np.lib.format.read_magic(member)
                    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read(member)
                check_memory(2 * math.prod(shape) * max(dtype.itemsize, 8), f"reading {key} of {shown(path)}")
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in wanted}
    except FileError:
        raise
    except (zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise FileError(
            f"{shown(path)} is not a whole .npz file ({type(exc).__name__}); save it with numpy.savez"
        ) from None
    except ValueError as exc:
        why = "it holds Python objects, which symnn never unpickles" if "pickle" in str(exc) else "a damaged array"
        raise FileError(f"{shown(path)} cannot be read: {why}; save numeric arrays with numpy.savez") from None
    except OSError as exc:
        raise FileError(f"cannot read {shown(path)}: {exc.strerror or exc}") from None
    X = _numeric(arrays["X"], f"X in {shown(path)}")
    if X.ndim < 2 or len(X) == 0:
        raise FileError(f"X in {shown(path)} is shaped {X.shape}; give one row (or image) per sample, (N, ...)")
    if not need_y:
        return X, None
    y = arrays["y"]
    if y.ndim != 1 or len(y) != len(X):
        raise FileError(f"y in {shown(path)} is shaped {y.shape}; give one target per sample of X, shaped ({len(X)},)")
    if y.dtype.kind in "iub":
        return X, _numeric(y, f"y in {shown(path)}").astype(np.int64)
    if y.dtype.kind not in "US":
        y = _numeric(y, f"y in {shown(path)}")
    return X, y


def _numeric(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise FileError(f"{what} holds {a.dtype} values; give real numbers")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise FileError(f"{what} holds NaN or inf values; only finite numbers are accepted")
    return a


def npz_labels(y: np.ndarray, path: PathLike, names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """An .npz's y as labels 0..K-1 and the class names: the distinct values, sorted (or names,
    the training classes, for a test set)."""
    text = [str(v) if y.dtype.kind in "US" else _name(float(v)) for v in y]
    names = names if names is not None else label_names(text, path, "y")
    index = {n: i for i, n in enumerate(names)}
    for i, t in enumerate(text):
        if t not in index:
            raise FileError(f"y[{i}] in {shown(path)} is not one of the training classes ({listed(names)})")
    return np.array([index[t] for t in text], dtype=np.int64), names


def _name(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)


# -- train/test split ---------------------------------------------------------------------------
class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int = 0, stratify: bool | None = None) -> Split:
    """A seeded train/test split, rows kept in file order. round(N * test_fraction) rows (at
    least 1, leaving at least 1) go to the test set; with class labels (integer y, or
    stratify=True) each class gives its share, and no class leaves the training set."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise InputError(f"the test fraction must be a number between 0 and 1, such as 0.2 (got {test_fraction!r})")
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise InputError(f"X has {plural(n, 'sample')} but y has {len(y)}; give one target per sample")
    if n < 2:
        raise InputError(f"a train/test split needs at least 2 samples; the data has {n}")
    n_test = min(max(1, round(n * test_fraction)), n - 1)
    rng = np.random.default_rng(seed)
    if stratify is None:
        stratify = y.dtype.kind in "iu"
    if stratify:
        test = _stratified(y, n_test, rng)
    else:
        test = rng.permutation(n)[:n_test]
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return Split(X[~mask], X[mask], y[~mask], y[mask])


def _stratified(y: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Each class's share of n_test (largest remainders), keeping one of each class to train on."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    quota = counts * n_test / len(y)
    take = np.minimum(np.floor(quota).astype(np.int64), counts - 1)
    for c in np.argsort(-(quota - take), kind="stable"):
        if take.sum() >= n_test:
            break
        if take[c] < counts[c] - 1:
            take[c] += 1
    picked = [rng.permutation(np.flatnonzero(inverse == c))[: take[c]] for c in range(len(classes))]
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)


# -- what `symnn train --data` reads --------------------------------------------------------------
def data_kind(path: PathLike) -> str:
    """'table' (.csv, .tsv, .txt), 'npz', 'images' (a folder) or 'image' (one PNG/JPEG file)."""
    import stat

    if stat.S_ISDIR(stat_path(path, "file or folder").st_mode):
        return "images"
    suffix = Path(path).suffix.lower()
    kinds = {**dict.fromkeys(TABLE_SUFFIXES, "table"), ".npz": "npz", **dict.fromkeys(SUFFIXES, "image")}
    if suffix not in kinds:
        raise FileError(
            f"{shown(path)}: symnn reads a .csv table, an .npz file (arrays X and y) or a folder of images "
            "(one sub-folder per class)"
        )
    return kinds[suffix]


_KIND_NAMES = {"table": "a CSV table", "npz": "an .npz file", "images": "an image folder", "image": "one image"}


def load_dataset(
    path: PathLike,
    *,
    target: str | None = None,
    features: Sequence[str] | str | None = None,
    classes: bool = False,
    scaling: str = "auto",
    test_fraction: float | None = None,
    test_data: PathLike | None = None,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    grey: bool | None = None,
    images: bool = False,
    note: Note | None = None,
):
    """(Dataset, Preprocessing) for training on a file: a CSV table (target= names the column to
    predict), an .npz (X, y) or an image folder (images=True: the net takes (N, C, H, W)
    images). The test set is test_data (prepared like the training data), else a seeded split
    of test_fraction, else the training data themselves (note() says so). scaling: "auto"
    (a table's columns divided by their largest |value|, as the lecture's study table is;
    .npz and images as they are), "max", "standardize" or "none", fitted on the training split.
    y are class labels for classes=True, integer or text .npz targets, and image folders."""
    from symnn.nn.data import Dataset

    kind = data_kind(path)
    what = f"{shown(path)} is {_KIND_NAMES[kind]}"
    if kind != "table" and (target is not None or features is not None):
        raise InputError(f"--target and --features name columns of a CSV table; {what}")
    if kind != "images" and (image_size is not None or grey is not None):
        raise InputError(f"--image-size, --grey and --rgb apply to an image folder; {what}")
    if kind == "image":
        raise InputError(f"{what}; train on a folder with one sub-folder of images per class")
    if images and kind == "table":
        raise InputError(f"train cnn takes images: an image folder or an .npz with X shaped (N, C, H, W); {what}")
    if not images and kind == "images":
        raise InputError(f"{what}: images are for `symnn train cnn`; perceptron and mlp take a CSV or an .npz")
    if test_fraction is not None and test_data is not None:
        raise InputError("give either --test-fraction (a split of --data) or --test-data FILE, not both")
    if scaling not in ("auto", "max", "standardize", "none"):
        raise InputError(f"scaling must be auto, max, standardize or none (got {scaling!r})")

    if kind == "table":
        X, y, prep = read_table(path, target, features, classes, note=note)
    elif kind == "images":
        X, y, prep = read_images(path, image_size or DEFAULT_SIZE, True if grey is None else grey)
    else:
        X, y = read_npz(path)
        X, prep = _npz_inputs(X, path, images)
        if classes or images or y.dtype.kind in "iuUS":
            y, prep.classes = npz_labels(y, path)
    if test_data is None and test_fraction is not None:
        X_train, X_test, y_train, y_test = split(X, y, test_fraction, seed)
    else:
        X_train, y_train = X, y
    fitted = prep.fit(
        X_train, standardize=scaling == "standardize", scale=scaling == "max" or (scaling == "auto" and kind == "table")
    )
    X_train = fitted.apply(X_train)
    if test_data is not None:
        X_test, y_test = read_labelled(test_data, fitted)
    elif test_fraction is not None:
        X_test = fitted.apply(X_test)
    else:  # the training data themselves, as the bundled study and xor tables do
        X_test, y_test = X_train.copy(), y_train.copy()
        if note is not None:
            note("no --test-fraction or --test-data: the results below are on the training data")
    task = "regression" if fitted.classes is None else "classification"
    names = tuple(fitted.classes) if fitted.classes is not None else (fitted.target or "y",)
    scaled = {"mean": "standardised", "scale": "divided by their largest |value|"}
    how = next((text for key, text in scaled.items() if getattr(fitted, key) is not None), "as in the file")
    description = (
        f"{shown(path)}: {len(X_train)} training and {plural(len(X_test), 'test sample')}, inputs {how} "
        f"(fitted on the training split){'' if fitted.classes is None else f', classes {names}'}"
    )
    data = Dataset(
        np.ascontiguousarray(X_train),
        y_train,
        np.ascontiguousarray(X_test),
        y_test,
        feature_names=tuple(fitted.features),
        target_names=names,
        name=Path(path).name or shown(path),
        description=description,
        task=task,
        n_classes=None if fitted.classes is None else len(fitted.classes),
    )
    return data, fitted


def _npz_inputs(X: np.ndarray, path: PathLike, images: bool) -> tuple[np.ndarray, Preprocessing]:
    if images:
        if X.ndim == 3:
            X = X[:, None]
        if X.ndim != 4:
            raise InputError(f"X in {shown(path)} is shaped {X.shape}; a CNN takes images (N, C, H, W) or (N, H, W)")
        return X, Preprocessing(features=[], image_size=(X.shape[2], X.shape[3]), channels=X.shape[1])
    if X.ndim != 2:
        raise InputError(
            f"X in {shown(path)} is shaped {X.shape}; perceptron and mlp take rows (N, features): "
            "reshape it, or train a cnn on images"
        )
    return X, Preprocessing(features=[f"x{i}" for i in range(1, X.shape[1] + 1)])


def read_features(path: PathLike | Sequence[PathLike], prep: Preprocessing) -> np.ndarray:
    """New inputs prepared exactly as the training inputs were (for predictions): a CSV with
    prep's feature columns (a target column and any others are ignored), an .npz with X, or
    image file(s) or a folder of images."""
    if not isinstance(path, (str, os.PathLike)) or data_kind(path) in ("images", "image"):
        return read_unlabelled_images(path, prep)
    if data_kind(path) == "table":
        if prep.image_size is not None:
            raise InputError(f"{shown(path)} is a table, but the training data were images; give image files")
        X, _ = read_rows(path, prep, labelled=False)
        return prep.apply(X)
    X, _ = _read_npz(path, need_y=False)
    return prep.apply(_like(X, prep, path))


def read_labelled(path: PathLike, prep: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a test set prepared like the training data: a CSV with prep's feature and
    target columns, an .npz with X and y, or an image folder with one sub-folder per class."""
    kind = data_kind(path)
    if kind == "images":
        return read_labelled_images(path, prep)
    if kind == "image":
        raise InputError(f"{shown(path)} is one image; a test set is a folder with one sub-folder per class")
    if kind == "table":
        if prep.image_size is not None:
            raise InputError(f"{shown(path)} is a table, but the training data were images")
        X, y = read_rows(path, prep, labelled=True)
        assert y is not None
        return prep.apply(X), y
    X, y = read_npz(path)
    if prep.classes is not None:
        y, _ = npz_labels(y, path, prep.classes)
    elif y.dtype.kind in "US":
        raise FileError(f"y in {shown(path)} holds text, but the training targets were numbers")
    return prep.apply(_like(X, prep, path)), y


def _like(X: np.ndarray, prep: Preprocessing, path: PathLike) -> np.ndarray:
    """An .npz's X shaped as training was (a channel axis added to (N, H, W) grey images)."""
    if prep.image_size is not None and X.ndim == 3 and prep.channels == 1:
        X = X[:, None]
    try:
        prep.check_shape(X)
    except InputError as exc:
        raise InputError(f"{shown(path)}: {exc}") from None
    return X
