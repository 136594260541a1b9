"""Models you keep, on the command line: `--save FILE` for `symnn train`, the features
`symnn predict` reads, and the description `symnn info` prints.

Features are read by symnn.nn.datafiles.read_features with the model's preprocessing (CSV
columns by name, an .npz with X, image files or folders); a CSV of numbers only (no header) is
read here, one sample a row, the model's features in order.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.errors import FileError, InputError
from symnn.wording import plural

if TYPE_CHECKING:
    from symnn.nn.model import Sequential


# -- symnn train ... --save FILE ---------------------------------------------------------------------
def add_save_option(q: argparse.ArgumentParser) -> None:
    """The --save FILE option of `symnn train mlp|cnn`."""
    q.add_argument(
        "--save",
        metavar="FILE",
        help="keep the trained model in FILE (e.g. model.symnn: weights, layers, loss, preprocessing; "
        "`symnn predict FILE --data ...`, `symnn info FILE`)",
    )


def check_save(args: argparse.Namespace) -> None:
    """Refuse --save FILE before training when FILE cannot be written (or is not symnn's)."""
    path = getattr(args, "save", None)
    if path:
        from symnn.outputs import check_writable

        check_writable(path, bool(getattr(args, "force", False)))


def save_trained(
    args: argparse.Namespace, model: Sequential, info: dict[str, Any], data: Any = None, prep: Any = None
) -> Path | None:
    """Save a trained model when --save FILE was given. info says how it was trained (epochs,
    lr, batch_size, ...); the net, dataset, seed, optimizer, activation, cost and mode come from
    args, the final loss from the history, the test accuracy from data (a Dataset), which also
    gives the input shape and the class and feature names. prep is the data's Preprocessing
    (else data.preprocessing or args.preprocessing, as `symnn train --data` sets them; else the
    bundled dataset's scaling), so `symnn predict` prepares raw values as the training data were."""
    path = getattr(args, "save", None)
    if not path:
        return None
    info = dict(info)
    for key in ("net", "layers", "dataset", "data", "seed", "optimizer", "schedule", "activation", "cost", "mode"):
        value = getattr(args, key, None)
        if value is not None and not isinstance(value, bool):
            info.setdefault(key, value if isinstance(value, (int, float)) else str(value))
    info.setdefault("optimizer", "sgd")
    classes = features = shape = None
    if data is not None:
        X = getattr(data, "X_train", None)
        shape = tuple(X.shape[1:]) if isinstance(X, np.ndarray) else None
        if getattr(data, "task", None) == "classification" and getattr(data, "target_names", None):
            classes = [str(c) for c in data.target_names]
        if getattr(data, "feature_names", None) and shape is not None and len(shape) == 1:
            features = [str(c) for c in data.feature_names]
        info.setdefault("dataset", getattr(data, "name", None))
        if getattr(data, "task", None) == "classification":
            info.setdefault("test_accuracy", model.accuracy(data.X_test, data.y_test))
    if model.history.get("loss"):
        info.setdefault("final_loss", model.history["loss"][-1])
    for given in (prep, getattr(data, "preprocessing", None), getattr(args, "preprocessing", None)):
        if given is not None:
            prep = given
            break
    else:
        prep = bundled_preprocessing(data) if data is not None else None
    prep = prep.to_dict() if hasattr(prep, "to_dict") else prep
    model.save(
        path,
        info=info,
        preprocessing=prep,
        classes=classes,
        features=features,
        input_shape=shape,
        force=bool(getattr(args, "force", False)),
    )
    print(f"saved the model to {path} (`symnn info {path}`, `symnn predict {path} --data FILE`)")
    return Path(path)


def bundled_preprocessing(data: Any) -> dict[str, Any] | None:
    """The scaling symnn.nn.data applies to a bundled dataset, as a Preprocessing dict: the
    digits' pixel columns / 16 (their images as image files give them, in [0, 1]), the study
    tables' columns / their maximum; None for xor (as it is)."""
    from symnn.nn.data import study_table

    name, X = getattr(data, "name", None), getattr(data, "X_train", None)
    if not isinstance(X, np.ndarray) or name not in ("digits", "study", "study2"):
        return None
    classes = [str(c) for c in data.target_names] if getattr(data, "task", None) == "classification" else None
    if name == "digits" and X.ndim == 4:  # image files read as [0, 1] already: no scale
        return {"features": [], "classes": classes, "image_size": list(X.shape[2:]), "channels": 1}
    if name == "digits":
        return {"features": list(data.feature_names), "classes": classes, "scale": [16.0] * X.shape[1]}
    top = study_table(1 if name == "study" else 2).X.max(axis=0)
    return {"features": list(data.feature_names), "target": data.target_names[0], "scale": [float(v) for v in top]}


# -- reading features -----------------------------------------------------------------------------
def preprocessing_of(model: Sequential, source: str = "the model") -> Any:
    """The model's Preprocessing (symnn.nn.preprocessing): the one it was saved with, else the
    plain one its input shape implies (columns x1..xF or the model's feature names; images)."""
    from symnn.nn.preprocessing import Preprocessing

    if model.preprocessing:
        return Preprocessing.from_dict(model.preprocessing, f"{source}'s preprocessing")
    shape = model.input_shape
    if shape is not None and len(shape) == 3:
        return Preprocessing(features=[], image_size=(shape[1], shape[2]), channels=shape[0])
    n = shape[0] if shape else len(model.features or [])
    features = list(model.features or []) if model.features and len(model.features) == n else None
    return Preprocessing(features=features or [f"x{i}" for i in range(1, n + 1)])


def read_features(path: str, model: Sequential, source: str = "the model") -> np.ndarray:
    """The samples in path prepared as the model's training data were, shaped as it takes them:
    a CSV (a header naming the feature columns, or numbers only), an .npz with X, image file(s)
    or a folder of images (symnn.nn.datafiles.read_features)."""
    from symnn.nn.datafiles import data_kind
    from symnn.nn.datafiles import read_features as read

    prep = preprocessing_of(model, source)
    if data_kind(path) == "table" and prep.image_size is None and _headerless(path):
        X = prep.apply(_numbers_only(Path(path), len(prep.features)))
    else:
        X = np.asarray(read(path, prep))
    shape = model.input_shape
    if shape is not None and X.shape[1:] != tuple(shape):
        want = "(N, " + ", ".join(map(str, shape)) + ")"
        raise InputError(f"--data {path}: the model takes samples shaped {want}; the file gives {X.shape}")
    return X


def _cells(path: Path) -> list[list[str]]:
    from symnn.limits import check_memory
    from symnn.nn.tables import regular_file

    check_memory(20 * regular_file(path).st_size, f"reading {path}")  # a FIFO is refused, not waited on
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileError(f"--data {path}: cannot read it as CSV text ({type(exc).__name__})") from None


def _number(cell: str) -> float:
    text = cell.strip()
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def _headerless(path: str) -> bool:
    """True when the table's first row holds numbers only (no header to name the columns)."""
    rows = _cells(Path(path))[:1]
    try:
        [_number(c) for c in rows[0]] if rows else None
    except ValueError:
        return False
    return bool(rows)


def _numbers_only(path: Path, n: int) -> np.ndarray:
    """A CSV without a header: n numbers a row, the model's features in order."""
    X = []
    for r, row in enumerate(_cells(path), 1):
        if len(row) != n:
            raise InputError(
                f"--data {path}: row {r} has {plural(len(row), 'cell')}; the model takes {plural(n, 'feature')} a row"
            )
        for c, cell in enumerate(row, 1):
            try:
                _number(cell)
            except ValueError:
                raise InputError(f"--data {path}: row {r}, column {c}: the cell is not a number") from None
        X.append([_number(cell) for cell in row])
    return np.array(X, dtype=np.float64)


# -- describing a model ----------------------------------------------------------------------------
def predictions(model: Sequential, X: np.ndarray) -> tuple[list[str], np.ndarray]:
    """One text per sample (a class name or index, or the value) and the raw outputs."""
    out = model.forward(X)
    if out.ndim == 2 and out.shape[1] > 1:
        labels = out.argmax(axis=1)
        names = model.classes if model.classes and len(model.classes) == out.shape[1] else None
        return [names[i] if names else str(int(i)) for i in labels], out
    return [f"{v:.6g}" for v in out.reshape(len(out), -1)[:, 0]], out


def write_predictions(path: str, texts: list[str], out: np.ndarray, model: Sequential, force: bool) -> None:
    """A CSV: row, prediction, then the outputs (one column per class or output)."""
    import io

    from symnn.outputs import atomic_write

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    flat = out.reshape(len(out), -1)
    names = model.classes if model.classes and len(model.classes) == flat.shape[1] else None
    heads = [f"output_{n}" for n in (names or range(flat.shape[1]))] if flat.shape[1] > 1 else ["output"]
    writer.writerow(["row", "prediction", *heads])
    for i, (text, row) in enumerate(zip(texts, flat), 1):
        writer.writerow([i, text, *(repr(float(v)) for v in row)])
    atomic_write(path, buf.getvalue(), force)


def describe(model: Sequential, path: str | os.PathLike[str]) -> list[str]:
    """`symnn info`'s lines: the architecture, the kernels, how it was trained, the preprocessing."""
    from symnn.nn.layers import Activation
    from symnn.nn.saving import kernel_names, source_of

    n_params = sum(a.size for a in model.parameters().values())
    lines = [f"{path}: a symnn model, {model.dtype.name}, seed {model.seed}, {n_params:,} parameters"]
    shapes = model.check_shapes(model.input_shape) if model.input_shape is not None else None
    lines.append("architecture:" if shapes else "architecture (input shape not recorded):")
    for i, layer in enumerate(model.layers):
        text = repr(layer)
        if isinstance(layer, Activation) and source_of(layer) != layer.name:
            text += f"  (source {source_of(layer)!r})"
        if shapes:
            text += f"  {_dims(shapes[i])} -> {_dims(shapes[i + 1])}"
        lines.append(f"  {i}  {text}")
        lines.append(f"       kernels: {', '.join(kernel_names(layer))}")
    lines.append(f"loss: {source_of(model.loss_fn)}  kernels: {', '.join(kernel_names(model.loss_fn))}")
    lines.append("  (`symnn codegen show NAME` prints a kernel's generated source)")
    info = dict(model.info or {})
    history = info.pop("history", None)
    trained = [f"{k.replace('_', ' ')} {_value(v)}" for k, v in info.items()]
    if isinstance(history, dict) and history.get("loss"):
        n = len(history["loss"])
        last = "" if "final_loss" in info else f", last loss {_value(history['loss'][-1])}"
        trained.append(f"{n} epoch{'s' if n != 1 else ''} recorded{last}")
    lines.append("trained: " + ("; ".join(trained) if trained else "not recorded"))
    if model.classes:
        lines.append(f"classes: {_value(model.classes)}")
    if model.features:
        lines.append(f"features: {_value(model.features)}")
    prep = model.preprocessing
    lines.append("preprocessing:" + ("" if prep else " none recorded (inputs are used as given)"))
    lines += [f"  {k}: {_value(v)}" for k, v in (prep or {}).items() if v not in (None, [])]
    return lines


def _dims(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _value(v: object, limit: int = 200) -> str:
    """A short text of a header value: a long list as its first items and its length."""
    if isinstance(v, list) and len(v) > 6:
        if all(x == v[0] for x in v) and not isinstance(v[0], (list, dict)):
            return f"{_value(v[0])} (each of {len(v)})"
        return ", ".join(map(_value, v[:3])) + f", …, {_value(v[-1])} ({len(v)} values)"
    if isinstance(v, list):
        return ", ".join(map(_value, v)) if v else "[]"
    text = f"{v:.6g}" if isinstance(v, float) else str(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"
