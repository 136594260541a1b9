"""Models you keep, on the command line: `--save FILE` for `symnn train`, the features
`symnn predict` reads, and the description `symnn info` prints.

Features come from symnn.nn.datafiles.read_features when that module is there (CSV columns by
name, .npz, image files and folders, with the model's preprocessing); until then this module reads
an .npz (array X), a numeric CSV (with or without a header; `78%` reads as 0.78) and images
(PNG/JPEG, or a folder of them: grey or RGB as the model takes, resized to its input, pixels /255).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.errors import FileError, InputError

if TYPE_CHECKING:
    from symnn.nn.model import Sequential

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


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


def save_trained(args: argparse.Namespace, model: Sequential, info: dict[str, Any], data: Any = None) -> Path | None:
    """Save a trained model when --save FILE was given; info says how it was trained (epochs,
    lr, batch_size, dataset, final_loss, test_accuracy, ...); data (a Dataset, optional) gives the
    input shape, the feature and class names and its `preprocessing` (a dict or to_dict())."""
    path = getattr(args, "save", None)
    if not path:
        return None
    info = dict(info)
    for key in ("net", "dataset", "seed", "optimizer", "activation", "cost", "mode"):
        if getattr(args, key, None) is not None:
            info.setdefault(key, getattr(args, key))
    info.setdefault("optimizer", "sgd")
    classes = features = shape = prep = None
    if data is not None:
        info.setdefault("dataset", getattr(data, "name", None))
        X = getattr(data, "X_train", None)
        shape = tuple(X.shape[1:]) if isinstance(X, np.ndarray) else None
        if getattr(data, "task", None) == "classification" and getattr(data, "target_names", None):
            classes = [str(c) for c in data.target_names]
        if getattr(data, "feature_names", None) and shape is not None and len(shape) == 1:
            features = [str(c) for c in data.feature_names]
        prep = getattr(data, "preprocessing", None)
        prep = prep.to_dict() if hasattr(prep, "to_dict") else prep
    if prep is None:
        prep = getattr(args, "preprocessing", None)
    written = model.save(
        path,
        info=info,
        preprocessing=prep,
        classes=classes,
        features=features,
        input_shape=shape,
        force=bool(getattr(args, "force", False)),
    )
    print(f"saved the model to {path} (`symnn info {path}`, `symnn predict {path} --data FILE`)")
    return written


# -- reading features -----------------------------------------------------------------------------
def datafiles() -> Any:
    """symnn.nn.datafiles when it is there, else None."""
    try:
        return importlib.import_module("symnn.nn.datafiles")
    except ImportError:
        return None


def read_features(path: str, model: Sequential) -> np.ndarray:
    """The samples in path, shaped as the model takes them (N, features) or (N, C, H, W)."""
    p = Path(path)
    if not p.exists():
        raise FileError(f"--data {path}: no such file or folder")
    module = datafiles()
    if module is not None and hasattr(module, "read_features"):
        prep = model.preprocessing
        if prep is not None and hasattr(module, "Preprocessing"):
            prep = module.Preprocessing.from_dict(prep)
        X = np.asarray(module.read_features(path, prep))
    elif p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES:
        X = _read_images(p, model)
    elif p.suffix.lower() == ".npz":
        X = _read_npz(p)
    else:
        X = _read_csv(p, model)
    return _shaped(X, model, path)


def _shaped(X: np.ndarray, model: Sequential, path: str) -> np.ndarray:
    """X as (N, *input_shape): flat rows of an image model are reshaped, one sample gains N = 1."""
    shape = model.input_shape
    if X.dtype.kind not in "biuf":
        raise InputError(f"--data {path}: the features must be numbers (got {X.dtype})")
    if shape is None:
        return X
    if X.shape[1:] == tuple(shape):
        return X
    if X.shape == tuple(shape):
        return X[np.newaxis]
    if X.ndim >= 2 and int(np.prod(X.shape[1:])) == int(np.prod(shape)):
        return X.reshape(len(X), *shape)
    want = "(N, " + ", ".join(map(str, shape)) + ")"
    raise InputError(f"--data {path}: the model takes samples shaped {want}; the file gives {X.shape}")


def _read_npz(p: Path) -> np.ndarray:
    from symnn.limits import check_memory

    check_memory(2 * p.stat().st_size, f"reading {p}")
    try:
        with np.load(p, allow_pickle=False) as npz:
            names = npz.files
            if "X" not in names and len(names) != 1:
                raise InputError(f"--data {p}: an .npz of features holds an array X (it holds {', '.join(names)})")
            return np.asarray(npz["X" if "X" in names else names[0]])
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, InputError):
            raise
        raise FileError(f"--data {p}: not a readable .npz of numbers ({str(exc).splitlines()[0]})") from None


def _number(cell: str) -> float:
    text = cell.strip()
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def _read_csv(p: Path, model: Sequential) -> np.ndarray:
    """A CSV of numbers, one sample a row; with a header, the model's feature columns by name."""
    from symnn.limits import check_memory

    check_memory(20 * p.stat().st_size, f"reading {p}")
    try:
        with open(p, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileError(f"--data {p}: cannot read it as a CSV text ({type(exc).__name__})") from None
    if not rows:
        raise InputError(f"--data {p}: the file holds no rows")
    header, columns = None, None
    try:
        [_number(c) for c in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if header is not None and model.features:
        missing = [f for f in model.features if f not in header]
        if missing:
            raise InputError(f"--data {p}: no column {missing[0]!r}; the model reads " + ", ".join(model.features))
        columns = [header.index(f) for f in model.features]
    X = []
    for r, row in enumerate(rows, 2 if header else 1):
        cells = row if columns is None else [row[i] if i < len(row) else "" for i in columns]
        if X and len(cells) != len(X[0]):
            raise InputError(f"--data {p}: row {r} has {len(cells)} cells, the rows above {len(X[0])}")
        try:
            X.append([_number(c) for c in cells])
        except ValueError:
            bad = next(i for i, c in enumerate(cells) if not _is_number(c))
            name = header[columns[bad] if columns else bad] if header else f"column {bad + 1}"
            raise InputError(f"--data {p}: row {r}, {name!r}: {cells[bad]!r} is not a number") from None
    if not X:
        raise InputError(f"--data {p}: the file holds a header and no rows")
    return np.array(X, dtype=np.float64)


def _is_number(cell: str) -> bool:
    try:
        _number(cell)
    except ValueError:
        return False
    return True


def _read_images(p: Path, model: Sequential) -> np.ndarray:
    """Image files as (N, C, H, W) in [0, 1], in the model's channels and size."""
    from PIL import Image

    from symnn.vision.images import read_image

    shape = model.input_shape
    if shape is None or len(shape) != 3:
        raise InputError(f"--data {p}: images are for a model that takes images (this one takes {shape or '?'})")
    c, h, w = shape
    files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) if p.is_dir() else [p]
    if not files:
        raise InputError(f"--data {p}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    out = np.empty((len(files), c, h, w))
    for n, f in enumerate(files):
        img = read_image(f)
        scale = 65535.0 if img.dtype == np.uint16 else 255.0
        a = img.astype(np.float64) / scale
        if a.ndim == 3 and c == 1:
            a = a.mean(axis=2)
        elif a.ndim == 2 and c == 3:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.shape[:2] != (h, w):
            planes = a[:, :, None] if a.ndim == 2 else a
            a = np.stack(
                [np.asarray(Image.fromarray(planes[:, :, k].astype(np.float32)).resize((w, h))) for k in range(c)],
                axis=2,
            )
        out[n] = a.reshape(h, w, -1).transpose(2, 0, 1)
    return out


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
        trained.append(f"{len(history['loss'])} epochs recorded, last loss {_value(history['loss'][-1])}")
    lines.append("trained: " + ("; ".join(trained) if trained else "not recorded"))
    if model.classes:
        lines.append(f"classes: {', '.join(model.classes)}")
    if model.features:
        lines.append(f"features: {', '.join(model.features)}")
    prep = model.preprocessing
    lines.append("preprocessing: " + ("none recorded" if not prep else ""))
    for k, v in (prep or {}).items():
        lines.append(f"  {k}: {_value(v)}")
    return lines


def _dims(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _value(v: object, limit: int = 200) -> str:
    text = f"{v:.6g}" if isinstance(v, float) else str(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"
