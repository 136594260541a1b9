"""Models you keep: `Sequential.save(path)` and `Sequential.load(path)`.

One portable file, an uncompressed `.npz` written by NumPy:

    __symnn_model__   a uint8 array: the UTF-8 JSON header (below)
    layers.<i>.weight / layers.<i>.bias   the parameters, named as Sequential.parameters() names them

The header holds `format` ("symnn-model"), `version` (1), the symnn version that wrote it,
`dtype`, `seed`, the `layers` (each `{"class": "Dense", "n_in": 64, "n_out": 30}`, ...; an
activation by its source text, `{"class": "Activation", "source": "elu(alpha=0.5)"}`), the `loss`
by its source text, the `input_shape` of one sample (null when unknown), the `parameters`' shapes,
the `classes` and `features` names (or null), `info` (how it was trained) and `preprocessing`
(any JSON-safe dict, given back as `model.preprocessing`).

Nothing in a file is run: arrays are read with allow_pickle=False after their .npy headers are
checked (dtype float32/float64, the shape the architecture gives), activations and losses are
rebuilt from their text by symnn's own parser, and every header field is checked for its type
and range. A damaged, truncated or foreign file is refused in one FileError line.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symnn.errors import FileError, InputError, SymnnError
from symnn.nn.cnn_layers import Conv2D, Flatten
from symnn.nn.layers import Activation, Dense, Layer
from symnn.nn.pool_layers import AvgPool2D, MaxPool2D, Pool2D

if TYPE_CHECKING:
    from symnn.nn.model import Sequential

FORMAT, VERSION = "symnn-model", 1
HEADER = "__symnn_model__"  # the npz member holding the JSON header
MAX_HEADER = 1 << 20  # bytes of JSON
MAX_LAYERS = 1000
MAX_TEXT = 2000  # characters of an activation's or a loss's source (the parser's own limit)
MAX_DIM = 1 << 20  # any one size (channels, units, pixels)
LAYER_ARGS: dict[str, tuple[str, ...]] = {  # class -> its constructor's arguments, as stored
    "Dense": ("n_in", "n_out"),
    "Conv2D": ("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    "MaxPool2D": ("size", "stride"),
    "AvgPool2D": ("size", "stride"),
    "Flatten": (),
    "Activation": ("source",),
}
_CLASSES: dict[str, type[Layer]] = {"Dense": Dense, "Conv2D": Conv2D, "MaxPool2D": MaxPool2D, "AvgPool2D": AvgPool2D}
_CLASSES["Flatten"] = Flatten


# -- writing -----------------------------------------------------------------------------------
def source_of(obj: object) -> str:
    """The text that rebuilds an activation (activation_layer) or a loss (get_loss)."""
    return str(getattr(obj, "source", None) or getattr(obj, "name", ""))


def layer_record(layer: Layer, i: int) -> dict[str, Any]:
    """One layer as the header stores it; an InputError for a layer symnn cannot rebuild."""
    from symnn.errors import InputError

    if isinstance(layer, Activation):
        return {"class": "Activation", "source": source_of(layer), "layer": repr(layer)}
    name = type(layer).__name__
    if _CLASSES.get(name) is not type(layer):
        raise InputError(
            f"layer {i} ({layer!r}) is not a layer a model file can hold; it holds "
            "Dense, Conv2D, MaxPool2D, AvgPool2D, Flatten and activation layers"
        )
    if isinstance(layer, Dense):
        return {"class": name, "n_in": layer.n_in, "n_out": layer.n_out}
    if isinstance(layer, Conv2D):
        return {
            "class": name,
            "in_channels": layer.in_channels,
            "out_channels": layer.out_channels,
            "kernel_size": list(layer.kernel_size),
            "stride": layer.stride,
            "padding": layer.padding,
        }
    if isinstance(layer, Pool2D):
        return {"class": name, "size": list(layer.size), "stride": layer.stride}
    return {"class": name}


def guess_input_shape(model: Sequential) -> tuple[int, ...] | None:
    """One sample's shape: (n_in,) for a dense first layer, else what the first layer last saw."""
    first = model.layers[0]
    if isinstance(first, Dense):
        return (first.n_in,)
    seen = getattr(first, "x_shape", None) or getattr(getattr(first, "x", None), "shape", None)
    if not seen or len(seen) < 2:
        return None
    shape = tuple(int(d) for d in seen[1:])
    try:
        model.check_shapes(shape)
    except SymnnError:
        return None
    return shape


def _json_safe(value: object, what: str) -> Any:
    """value as plain JSON (dicts with str keys, lists, str, finite numbers, bools, None)."""
    from symnn.errors import InputError

    try:
        text = json.dumps(value, allow_nan=False, default=_plain)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InputError(f"{what} must be JSON-safe (dicts, lists, text, finite numbers): {exc}") from None
    return json.loads(text)


def _no_nan(value: Any) -> Any:
    """NaN and inf as null (a history's accuracy of a regression, a diverged loss)."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def _plain(value: object) -> Any:
    """NumPy scalars and arrays, tuples and paths as JSON values; anything else is refused."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON-safe")


def header_of(
    model: Sequential,
    info: dict | None = None,
    preprocessing: dict | None = None,
    classes: list[str] | None = None,
    features: list[str] | None = None,
    input_shape: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """The JSON header of a model file (checked: the layers rebuild, the shapes fit)."""
    from symnn import __version__
    from symnn.errors import InputError

    layers = [layer_record(layer, i) for i, layer in enumerate(model.layers)]
    shape = tuple(int(d) for d in input_shape) if input_shape is not None else guess_input_shape(model)
    if shape is not None:
        model.check_shapes(shape)
    for name, what in ((info, "info"), (preprocessing, "preprocessing")):
        if name is not None and not isinstance(name, dict):
            raise InputError(f"{what} must be a dict (got {type(name).__name__})")
    info = dict(info or {})
    info.setdefault("history", model.history)
    names = {}
    for key, value in (("classes", classes), ("features", features)):
        if value is not None:
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise InputError(f"{key} must be a list of names (text)")
            names[key] = list(value)
    return {
        "format": FORMAT,
        "version": VERSION,
        "symnn": __version__,
        "dtype": model.dtype.name,
        "seed": model.seed,
        "loss": source_of(model.loss_fn),
        "input_shape": list(shape) if shape is not None else None,
        "layers": layers,
        "parameters": {k: list(v.shape) for k, v in model.parameters().items()},
        "classes": names.get("classes"),
        "features": names.get("features"),
        "info": _json_safe(_no_nan(info), "info"),
        "preprocessing": _json_safe(preprocessing, "preprocessing"),
    }


def save(
    model: Sequential,
    path: str | os.PathLike,
    *,
    info: dict | None = None,
    preprocessing: dict | None = None,
    classes: list[str] | None = None,
    features: list[str] | None = None,
    input_shape: tuple[int, ...] | None = None,
    force: bool = False,
) -> Path:
    """Write the model to path atomically; a file symnn did not write is replaced only with force."""
    from symnn.outputs import atomic_write, check_writable

    check_writable(path, force)
    if preprocessing is None:
        preprocessing = getattr(model, "preprocessing", None)
    prep = preprocessing if isinstance(preprocessing, dict) else {}
    if classes is None:
        classes = getattr(model, "classes", None) or prep.get("classes")
    if features is None:
        features = getattr(model, "features", None) or prep.get("features") or None
    if input_shape is None:
        input_shape = getattr(model, "input_shape", None)
    header = header_of(model, info, preprocessing, classes, features, input_shape)
    text = json.dumps(header, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    arrays = {HEADER: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    arrays.update({k: np.ascontiguousarray(v) for k, v in model.parameters().items()})
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return atomic_write(path, buf.getvalue(), force)


# -- reading -----------------------------------------------------------------------------------
class _Bad(Exception):
    """What is wrong with the file; load() turns it into one FileError line naming the file."""


def _short(path: object) -> str:
    s = str(path)
    s = s if len(s) <= 80 else s[:40] + "…" + s[-40:]
    return s if s.isprintable() else repr(s)


def load(path: str | os.PathLike) -> Sequential:
    """The model saved at path; one FileError line for a file that is not a sound model file."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise InputError(f"give a model file's path (text or pathlib.Path), not {path!r}"[:120])
    p = Path(path)
    fh = _open_model(p)
    with fh:
        head = fh.read(4)
        size = os.fstat(fh.fileno()).st_size
        fh.seek(0)
        try:
            if head[:4] == b"\x93NUM":
                raise _Bad("it is a single NumPy array (.npy), not a symnn model (.npz with a header)")
            if head[:2] != b"PK":
                raise _Bad("it is not a symnn model file (not an .npz archive)")
            from symnn.limits import check_memory

            check_memory(2 * size, f"loading the {size}-byte model file")
            return _read(fh, size)
        except _Bad as exc:
            raise FileError(f"{_short(p)}: {exc}") from None
        except SymnnError as exc:
            raise FileError(f"{_short(p)}: {exc}") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, RecursionError) as exc:
            what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FileError(f"{_short(p)} is damaged or truncated ({what}); save the model again") from None


def _open_model(p: Path):
    """The model file opened for reading; a folder, FIFO, device or socket is refused on the open
    descriptor before anything is read from it (a FIFO would wait for a writer forever)."""
    import stat

    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except ValueError:
        raise FileError(f"{_short(p)} is not a valid file name") from None
    except OSError as exc:
        raise FileError(f"cannot read model file {_short(p)}: {exc.strerror or type(exc).__name__}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileError(f"{_short(p)} is a folder, not a model file")
        if not stat.S_ISREG(mode):
            raise FileError(f"{_short(p)} is not a regular file (a pipe, device or socket), not a model file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _read(source: Any, size: int) -> Sequential:
    with np.load(source, allow_pickle=False) as npz:
        members = set(npz.files)
        if HEADER not in members:
            raise _Bad("it is an .npz archive without a symnn model header (a foreign file)")
        header = _header(_array(npz, HEADER, np.dtype(np.uint8), None))
        model, expected = _build(header, size)
        extra = sorted(members - set(expected) - {HEADER})
        if extra:
            raise _Bad(f"it holds an array {extra[0]!r} the architecture has no place for")
        dtype = model.dtype
        for name, shape in expected.items():
            if name not in members:
                raise _Bad(f"the array {name!r} is missing")
            arr = _array(npz, name, dtype, shape)
            if not np.isfinite(arr).all():
                raise _Bad(f"the array {name!r} holds NaN or inf")
            i, attr = name.split(".")[1:]
            setattr(model.layers[int(i)], attr, np.ascontiguousarray(arr, dtype=dtype).copy())
    model.info, model.preprocessing = header["info"] or {}, header["preprocessing"]
    model.classes, model.features = header["classes"], header["features"]
    history = model.info.get("history")
    if isinstance(history, dict):
        model.history = {k: [math.nan if x is None else float(x) for x in v] for k, v in history.items() if _numbers(v)}
    shape = header["input_shape"]
    model.input_shape = tuple(shape) if shape is not None else None
    if model.input_shape is not None:
        model.check_shapes(model.input_shape)
    return model


def _numbers(v: object) -> bool:
    return isinstance(v, list) and all(x is None or isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)


def _array(npz: Any, name: str, dtype: np.dtype, shape: tuple[int, ...] | None) -> np.ndarray:
    """One member, its .npy header checked before its data is read (no object arrays, no surprises)."""
    with npz.zip.open(f"{name}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            got_shape, fortran, got = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            got_shape, fortran, got = np.lib.format.read_array_header_2_0(fh)
        else:
            raise _Bad(f"the array {name!r} has an unknown .npy version {version}")
    if got.hasobject or got.kind not in "uf" or got.itemsize != dtype.itemsize or got.kind != dtype.kind:
        raise _Bad(f"the array {name!r} holds {got} values; a model file holds {dtype} (never Python objects)")
    if shape is not None and tuple(got_shape) != tuple(shape):
        raise _Bad(f"the array {name!r} is shaped {tuple(got_shape)}, but the architecture needs {tuple(shape)}")
    if shape is None and (len(got_shape) != 1 or got_shape[0] > MAX_HEADER):
        raise _Bad(f"its header is not a text of at most {MAX_HEADER} bytes")
    arr = npz[name]
    return np.asarray(arr)


def _header(raw: np.ndarray) -> dict[str, Any]:
    def no_constants(name: str) -> Any:
        raise _Bad(f"its header holds {name}, which is not a number")

    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Bad("its header is not valid JSON text") from None
    if not isinstance(header, dict):
        raise _Bad("its header is not a JSON object")
    if header.get("format") != FORMAT:
        raise _Bad(f"its header's format is {header.get('format')!r}, not {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Bad(f"its format version {version!r} is not one symnn knows (this symnn reads version {VERSION})")
    if version > VERSION:
        raise _Bad(
            f"it is model format version {version}, written by a newer symnn; this symnn reads version {VERSION}"
        )
    need = {"dtype": str, "loss": str, "layers": list, "parameters": dict}
    for key, kind in need.items():
        if not isinstance(header.get(key), kind):
            raise _Bad(f"its header's {key!r} is missing or not a {kind.__name__}")
    if header["dtype"] not in ("float32", "float64"):
        raise _Bad(f"its dtype {header['dtype']!r} is not float32 or float64")
    if not _int(header.get("seed")) or not 0 <= header["seed"] < 2**64:
        raise _Bad(f"its seed {header.get('seed')!r} is not a non-negative integer")
    if len(header["loss"]) > MAX_TEXT:
        raise _Bad(f"its loss text is longer than {MAX_TEXT} characters")
    for key, kind in (("info", dict), ("preprocessing", dict), ("classes", list), ("features", list)):
        header.setdefault(key, None)
        if header[key] is not None and not isinstance(header[key], kind):
            raise _Bad(f"its header's {key!r} is not a {kind.__name__} (or null)")
    for key in ("classes", "features"):
        if header[key] is not None and not all(isinstance(c, str) and len(c) <= MAX_TEXT for c in header[key]):
            raise _Bad(f"its header's {key!r} is not a list of names")
    shape = header.get("input_shape")
    if shape is not None and not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(map(_dim, shape))):
        raise _Bad(f"its input_shape {shape!r} is not a list of 1 to 3 sizes from 1 to {MAX_DIM}")
    header["input_shape"] = shape
    return header


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _dim(v: object, minimum: int = 1) -> bool:
    return _int(v) and minimum <= v <= MAX_DIM  # type: ignore[operator]


def _layer(record: object, i: int) -> Layer:
    """Layer i rebuilt from its record: known classes only, each argument checked."""
    from symnn.nn.layers import activation_layer

    if not isinstance(record, dict) or not isinstance(record.get("class"), str):
        raise _Bad(f"layer {i} in its header is not an object with a 'class'")
    cls = record["class"]
    if cls not in LAYER_ARGS:
        known = ", ".join(LAYER_ARGS)
        raise _Bad(f"layer {i} asks for the unknown layer class {cls[:60]!r}; a model file holds {known}")
    extra = sorted(set(record) - {"class", "layer", *LAYER_ARGS[cls]})
    if extra:
        raise _Bad(f"layer {i} ({cls}) has the field {extra[0][:60]!r}, which {cls} does not take")
    args = {k: record.get(k) for k in LAYER_ARGS[cls]}
    if cls == "Activation":
        source = args["source"]
        if not isinstance(source, str) or not source or len(source) > MAX_TEXT:
            raise _Bad(f"layer {i}'s activation source is not a text of 1 to {MAX_TEXT} characters")
        return activation_layer(source)
    for k, v in args.items():
        pair = k in ("kernel_size", "size")
        ok = (
            (isinstance(v, list) and len(v) == 2 and all(map(_dim, v))) if pair else _dim(v, 0 if k == "padding" else 1)
        )
        if not ok:
            raise _Bad(f"layer {i} ({cls})'s {k} is {v!r}; it must be {'two sizes' if pair else 'a size'} <= {MAX_DIM}")
    return _CLASSES[cls](**args)


def _build(header: dict[str, Any], size: int) -> tuple[Sequential, dict[str, tuple[int, ...]]]:
    """The model the header describes (random weights for now) and the arrays it needs."""
    from symnn.nn.model import Sequential

    records = header["layers"]
    if not 1 <= len(records) <= MAX_LAYERS:
        raise _Bad(f"it has {len(records)} layers; a model file holds 1 to {MAX_LAYERS}")
    layers: list[Layer] = []
    count = 0  # parameters so far: the file must hold them, checked before the next layer is made
    item = 4 if header["dtype"] == "float32" else 8
    for i, record in enumerate(records):
        try:
            layers.append(_layer(record, i))
        except SymnnError as exc:
            raise _Bad(f"layer {i}: {exc}") from None
        count += sum(math.prod(s) for s in layers[-1].parameter_shapes().values())
        if count * item > size:
            raise _Bad(f"its layers up to layer {i} need {count * item} bytes of weights; the file has {size}")
    model = Sequential(layers, loss=header["loss"], seed=header["seed"])
    model.astype(header["dtype"])
    expected = {k: tuple(v.shape) for k, v in model.parameters().items()}
    stated = {k: tuple(v) if isinstance(v, list) else v for k, v in header["parameters"].items()}
    for name, shape in expected.items():
        if stated.get(name) != shape:
            raise _Bad(f"its header says {name!r} is shaped {stated.get(name)}, but the layers need {shape}")
    if set(stated) != set(expected):
        raise _Bad(f"its header lists the parameter {sorted(set(stated) - set(expected))[0]!r}, which no layer has")
    return model, expected


# -- what a model uses -----------------------------------------------------------------------------
def kernel_names(obj: object) -> list[str]:
    """The generated kernels a layer or a loss calls, by name (nothing is compiled)."""
    from symnn.nn.losses import CrossEntropy, SoftmaxCrossEntropy

    listed = getattr(obj, "kernel_names", None)
    if isinstance(listed, (list, tuple)):
        return [str(n) for n in listed]
    if isinstance(obj, Dense):
        return [f"dense.{n}" for n in ("forward", "grad_weight", "grad_bias", "grad_input")]
    if isinstance(obj, (Conv2D, Pool2D)):  # the shape-generic kernels, then training's specialised ones
        from symnn.codegen.specialise import label

        (kh, kw), stride = (obj.kernel_size if isinstance(obj, Conv2D) else obj.size), obj.stride
        generic = (
            [f"conv2d.layer_{n}" for n in ("forward", "grad_kernel", "grad_bias", "grad_input")]
            if isinstance(obj, Conv2D)
            else [f"{obj.kind}.forward", f"{obj.kind}.backward"]
        )
        return generic + [label(n, k_h=kh, k_w=kw, s=stride) for n in generic if not n.endswith("grad_bias")]
    if isinstance(obj, Flatten):
        return ["flatten.forward", "flatten.backward"]
    if isinstance(obj, Activation):
        return [f"{obj.name}.forward", f"{obj.name}.backward"]
    if isinstance(obj, SoftmaxCrossEntropy):
        return ["softmax.row_max", "softmax.forward", "log_softmax.forward"] + [
            f"softmax_cross_entropy.{n}" for n in ("loss", "grad")
        ]
    name = str(getattr(obj, "name", ""))
    names = [f"{name}.loss", f"{name}.grad"] if name else []
    if isinstance(obj, CrossEntropy):
        names += ["sigmoid_cross_entropy.loss", "sigmoid_cross_entropy.grad"]
    return names
