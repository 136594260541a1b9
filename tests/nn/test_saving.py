"""Models you keep: Sequential.save / Sequential.load round trips (loaded in a new process, the
same numbers to the last bit) and every refusal of a damaged, truncated or foreign file."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from symnn.errors import FileError, InputError
from symnn.nn import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid, Tanh
from symnn.nn.layers import Layer
from symnn.nn.saving import FORMAT, HEADER, VERSION, kernel_names
from symnn.outputs import is_ours

RNG = np.random.default_rng(0)
X_MLP = RNG.random((12, 3))
Y_MLP = (X_MLP.sum(axis=1) > 1.5).astype(int)
X_CNN = RNG.random((10, 1, 8, 8))
Y_CNN = RNG.integers(0, 3, 10)


def _mlp(hidden, last, loss: str, seed: int = 0, train: bool = True) -> Sequential:
    """A tiny MLP, trained for 2 epochs (or only initialised: the same round trip, fewer compiles)."""
    net = Sequential([Dense(3, 4), hidden, Dense(4, 2), last], loss=loss, seed=seed)
    if train:
        net.fit(X_MLP, Y_MLP, epochs=2, lr=0.5, batch_size=4, progress=False)
    return net


def _cnn() -> Sequential:
    layers = [Conv2D(1, 2, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(2 * 3 * 3, 3)]
    net = Sequential(layers, loss="softmax-cross-entropy", seed=3)
    net.fit(X_CNN, Y_CNN, epochs=1, lr=0.1, batch_size=5, progress=False)
    return net


def _cnn_options() -> Sequential:
    """Stride, padding, a non-square kernel and an average pool (not trained: forward only)."""
    layers = [Conv2D(1, 2, (3, 2), stride=2, padding=1), ReLU(), AvgPool2D(2, stride=1), Flatten(), Dense(2 * 3 * 4, 2)]
    return Sequential(layers, loss="quadratic", seed=4)


MODELS = {
    "sigmoid-quadratic": (lambda: _mlp(Sigmoid(), Sigmoid(), "quadratic"), X_MLP),
    "relu-cross-entropy": (lambda: _mlp(ReLU(), Sigmoid(), "cross-entropy", seed=1), X_MLP),
    "tanh-quadratic": (lambda: _mlp(Tanh(), Tanh(), "quadratic", seed=2, train=False), X_MLP),
    "cnn": (_cnn, X_CNN),
    "cnn-options": (_cnn_options, X_CNN),
}

CHILD = """
import sys, numpy as np
from symnn.nn import Sequential
out = {}
for name in sys.argv[2:]:
    m = Sequential.load(f"{sys.argv[1]}/{name}.symnn")
    X = np.load(f"{sys.argv[1]}/{name}.X.npy")
    out[name] = m.forward(X)
    out[name + ".predict"] = m.predict(X)
np.savez(f"{sys.argv[1]}/out.npz", **out)
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each model trained, saved, and loaded again in a new process: (folder, nets, outputs)."""
    folder = tmp_path_factory.mktemp("models")
    nets = {}
    for name, (build, X) in MODELS.items():
        net = nets[name] = build()
        if name == "cnn-options":
            net.forward(X)  # the first layer's last input gives the input shape
        net.save(folder / f"{name}.symnn", info={"epochs": 2, "dataset": "random"})
        np.save(folder / f"{name}.X.npy", X)
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), *MODELS], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    with np.load(folder / "out.npz") as out:
        return folder, nets, dict(out)


@pytest.mark.parametrize("name", list(MODELS))
def test_a_model_loaded_in_a_new_process_predicts_the_same_numbers(saved, name):
    folder, nets, out = saved
    X = MODELS[name][1]
    assert np.array_equal(out[name], nets[name].forward(X))  # bit for bit
    assert np.array_equal(out[name + ".predict"], nets[name].predict(X))
    assert is_ours(folder / f"{name}.symnn")


def test_a_loaded_model_keeps_its_layers_loss_seed_dtype_and_history(saved):
    folder, nets, _ = saved
    for name in MODELS:
        net, back = nets[name], Sequential.load(folder / f"{name}.symnn")
        if name == "tanh-quadratic" or name == "cnn-options":
            assert net.history == {"loss": [], "accuracy": []}
        assert repr(back) == repr(net)
        assert back.dtype == net.dtype and back.seed == net.seed
        assert back.info["epochs"] == 2 and back.info["dataset"] == "random"
        assert back.history == net.history
        for key, arr in net.parameters().items():
            assert np.array_equal(back.parameters()[key], arr) and back.parameters()[key].flags.writeable
    assert Sequential.load(folder / "cnn.symnn").input_shape == (1, 8, 8)
    assert Sequential.load(folder / "sigmoid-quadratic.symnn").input_shape == (3,)


def test_a_loaded_model_trains_on(saved):
    folder, _, _ = saved
    back = Sequential.load(folder / "sigmoid-quadratic.symnn")
    before = back.loss(X_MLP, Y_MLP)
    back.fit(X_MLP, Y_MLP, epochs=3, lr=0.5, batch_size=4, progress=False)
    assert back.loss(X_MLP, Y_MLP) < before


def test_float32_preprocessing_classes_and_features_come_back(tmp_path):
    net = Sequential([Dense(3, 2), Sigmoid()], seed=5).astype("float32")
    prep = {"standardize": True, "mean": [0.5, 1.0, 2.0], "std": [1.0, 2.0, 0.5], "note": "ü"}
    net.save(tmp_path / "m.symnn", preprocessing=prep, classes=["no", "yes"], features=["a", "b", "c"])
    back = Sequential.load(tmp_path / "m.symnn")
    assert back.dtype == np.float32 and back.preprocessing == prep
    assert back.classes == ["no", "yes"] and back.features == ["a", "b", "c"]
    back.save(tmp_path / "again.symnn")  # what was loaded is kept when saved again
    assert Sequential.load(tmp_path / "again.symnn").preprocessing == prep
    assert np.array_equal(back.forward(X_MLP), net.forward(X_MLP))


def test_kernel_names_are_registered_kernels(saved):
    """Every name `symnn info` lists is a kernel: registered, or a specialisation label of one;
    the kernels training runs (train_kernels, specialised to the window and stride) are listed."""
    from symnn.codegen import names
    from symnn.codegen.specialise import parse_label

    registered = set(names())
    for name in ("relu-cross-entropy", "cnn", "cnn-options"):
        net = saved[1][name]
        for obj in [*net.layers, net.loss_fn]:
            listed = kernel_names(obj)
            assert listed, obj
            for kernel in listed:
                parsed = parse_label(kernel)
                assert kernel in registered or (parsed and parsed[0] in registered), kernel
            if hasattr(obj, "train_kernels") and not getattr(obj, "fastmath", False):
                assert {k.name for k in obj.train_kernels} <= set(listed), obj


# -- saving is careful --------------------------------------------------------------------------
def test_save_never_replaces_a_file_symnn_did_not_write(tmp_path):
    net = Sequential([Dense(3, 2), Sigmoid()])
    mine = tmp_path / "model.symnn"
    mine.write_text("my notes")
    with pytest.raises(FileError, match="refusing to overwrite"):
        net.save(mine)
    assert mine.read_text() == "my notes"
    net.save(mine, force=True)
    net.save(mine)  # symnn's own file now: replaced without force
    assert Sequential.load(mine).seed == 0 and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_save_refuses_what_a_file_cannot_hold(tmp_path):
    class Mine(Layer):
        pass

    with pytest.raises(InputError, match="layer 1 .* not a layer a model file can hold"):
        Sequential([Dense(3, 2), Mine()]).save(tmp_path / "m.symnn")
    net = Sequential([Dense(3, 2), Sigmoid()])
    with pytest.raises(InputError, match="info must be JSON-safe"):
        net.save(tmp_path / "m.symnn", info={"f": print})
    with pytest.raises(InputError, match="preprocessing must be JSON-safe"):
        net.save(tmp_path / "m.symnn", preprocessing={"x": float("nan")})
    with pytest.raises(InputError, match="takes input shaped"):
        net.save(tmp_path / "m.symnn", input_shape=(4,))
    assert not (tmp_path / "m.symnn").exists()


# -- loading refuses anything but a sound model file ---------------------------------------------
@pytest.fixture
def good(tmp_path) -> pathlib.Path:
    path = tmp_path / "good.symnn"
    Sequential([Dense(3, 4), Sigmoid(), Dense(4, 2), Sigmoid()], seed=1).save(path)
    return path


def _members(path) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(arrays.pop(HEADER).tobytes()), arrays


def _write(path, header, arrays, **extra) -> pathlib.Path:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(path, "wb") as fh:  # (a path without .npz would gain one)
        np.savez(fh, **{HEADER: np.frombuffer(raw, np.uint8)}, **arrays, **extra)
    return pathlib.Path(path)


def _refused(path, *pattern: str) -> str:
    with pytest.raises(FileError) as err:
        Sequential.load(path)
    text = str(err.value)
    assert "\n" not in text and str(path) in text, text
    for p in pattern:
        assert p in text, text
    return text


def test_foreign_files_are_refused(tmp_path, good):
    (tmp_path / "notes.txt").write_text("hello\n")
    _refused(tmp_path / "notes.txt", "not a symnn model file")
    np.savez(tmp_path / "data.npz", X=np.ones((2, 3)))
    _refused(tmp_path / "data.npz", "without a symnn model header")
    np.save(tmp_path / "one.npy", np.ones(3))
    _refused(tmp_path / "one.npy", "single NumPy array")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "a zip, not an npz")
    _refused(tmp_path / "other.zip", "without a symnn model header")
    _refused(tmp_path / "missing.symnn", "cannot read model file")
    _refused(tmp_path, "is a folder")
    (tmp_path / "empty.symnn").write_bytes(b"")
    _refused(tmp_path / "empty.symnn", "not a symnn model file")


def test_truncated_and_damaged_files_are_refused(tmp_path, good):
    data = good.read_bytes()
    for n in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "cut.symnn").write_bytes(data[:n])
        _refused(tmp_path / "cut.symnn", "damaged or truncated")
    with np.load(good) as npz:  # flip one byte inside the first weights' data
        start = data.index(npz["layers.0.weight"].tobytes())
    bad = bytearray(data)
    bad[start + 3] ^= 0xFF
    (tmp_path / "flip.symnn").write_bytes(bytes(bad))
    _refused(tmp_path / "flip.symnn", "damaged or truncated")


def test_pickled_object_arrays_are_refused_without_running_them(tmp_path, good):
    marker = tmp_path / "ran"

    class Trap:  # unpickling it would create the marker file
        def __reduce__(self):
            return (pathlib.Path.touch, (marker,))

    header, arrays = _members(good)
    arrays["layers.0.weight"] = np.array([Trap()], dtype=object)
    _write(tmp_path / "evil.symnn", header, arrays)
    _refused(tmp_path / "evil.symnn", "'layers.0.weight'", "never Python objects")
    buf = io.BytesIO()  # the header itself as a pickled object
    np.save(buf, np.array([Trap()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "evil2.symnn", "w") as z:
        z.writestr(f"{HEADER}.npy", buf.getvalue())
    _refused(tmp_path / "evil2.symnn", "never Python objects")
    assert not marker.exists()


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda h: h.update(version=VERSION + 1), "written by a newer symnn"),
        (lambda h: h.update(version="1"), "not one symnn knows"),
        (lambda h: h.update(format="other-tool"), "not 'symnn-model'"),
        (lambda h: h.pop("layers"), "'layers' is missing"),
        (lambda h: h.update(dtype="object"), "not float32 or float64"),
        (lambda h: h.update(seed=-1), "seed -1"),
        (lambda h: h.update(seed=True), "seed True"),
        (lambda h: h["layers"][0].update({"class": "os.system"}), "unknown layer class 'os.system'"),
        (lambda h: h["layers"][0].update({"class": "Lambda"}), "unknown layer class 'Lambda'"),
        (lambda h: h["layers"][0].update(n_in=-3), "n_in is -3"),
        (lambda h: h["layers"][0].update(n_in="3"), "n_in is '3'"),
        (lambda h: h["layers"][0].update(n_in=10**9), "n_in is 1000000000"),
        (lambda h: h["layers"][0].update(code="print(1)"), "the field 'code'"),
        (lambda h: h["layers"][1].update(source="__import__('os').system('x')"), "layer 1:"),
        (lambda h: h["layers"][1].update(source="no_such_activation"), "layer 1:"),
        (lambda h: h["layers"][1].update(source=["relu"]), "activation source is not a text"),
        (lambda h: h.update(loss="cross-entropy", layers=h["layers"][:3]), "cross-entropy cost needs"),
        (lambda h: h.update(loss="rm -rf"), "the cost 'rm -rf'"),
        (lambda h: h.update(layers=[]), "1 to 1000"),
        (lambda h: h.update(info=[1, 2]), "'info' is not a dict"),
        (lambda h: h.update(classes="ab"), "'classes' is not a list"),
        (lambda h: h.update(input_shape=[0]), "input_shape [0]"),
        (lambda h: h.update(input_shape=[5]), "takes input shaped (N, 3)"),
        (lambda h: h["parameters"].update({"layers.0.weight": [4, 4]}), "the layers need (4, 3)"),
        (lambda h: h["parameters"].update({"layers.9.bias": [2]}), "'layers.9.bias', which no layer has"),
        (lambda h: h["layers"][0].update(n_in=5), "the layers need (4, 5)"),
        (lambda h: h["layers"][0].update(n_in=1000, n_out=1000), "up to layer 0 need 8008000 bytes of weights"),
    ],
)
def test_a_header_is_checked_field_by_field(tmp_path, good, edit, message):
    header, arrays = _members(good)
    edit(header)
    _refused(_write(tmp_path / "bad.symnn", header, arrays), message)


def test_headers_that_are_not_json_objects_are_refused(tmp_path, good):
    _, arrays = _members(good)
    for raw, message in [
        (b"\xff\xfe", "not valid JSON"),
        (b'{"format": ', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"format": "symnn-model", "version": NaN}', "NaN"),
    ]:
        _refused(_write(tmp_path / "bad.symnn", raw, arrays), message)


def test_arrays_must_match_the_architecture(tmp_path, good):
    header, arrays = _members(good)
    cases = [
        ({**arrays, "layers.0.weight": np.ones((3, 4))}, "is shaped (3, 4), but the architecture needs (4, 3)"),
        ({**arrays, "layers.0.weight": np.ones((4, 3), np.int64)}, "holds int64 values"),
        ({**arrays, "layers.0.weight": np.ones((4, 3), np.float32)}, "holds float32 values"),
        ({**arrays, "layers.0.weight": np.full((4, 3), np.nan)}, "NaN or inf"),
        ({k: v for k, v in arrays.items() if k != "layers.2.bias"}, "'layers.2.bias' is missing"),
        ({**arrays, "extra": np.ones(2)}, "an array 'extra' the architecture has no place for"),
    ]
    for members, message in cases:
        _refused(_write(tmp_path / "bad.symnn", header, members), message)
    big_endian = {**arrays, "layers.0.weight": arrays["layers.0.weight"].astype(">f8")}
    back = Sequential.load(_write(tmp_path / "be.symnn", header, big_endian))  # other byte order: the same numbers
    assert np.array_equal(back.layers[0].weight, arrays["layers.0.weight"])


def test_a_header_written_by_save_says_what_it_is(good):
    header, arrays = _members(good)
    assert header["format"] == FORMAT and header["version"] == VERSION
    assert [layer["class"] for layer in header["layers"]] == ["Dense", "Activation", "Dense", "Activation"]
    assert header["layers"][1]["source"] == "sigmoid" and header["loss"] == "quadratic"
    assert header["parameters"] == {k: list(v.shape) for k, v in arrays.items()}
    assert os.path.getsize(good) < 10_000
