"""Bad input, table-driven: each case is answered by one line saying what is wrong and what is
accepted — a documented symnn error in Python, exit code 2 and no traceback from the CLI — and
nothing the user owns is overwritten."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symnn
from symnn import DerivationError, FileError, InputError, SymnnError, UnknownNameError


def _xor():
    from symnn.nn.data import load
    return load("xor")


def _net(n_in=2, n_out=2):
    from symnn.nn import Dense, Sequential, Sigmoid
    return Sequential([Dense(n_in, n_out), Sigmoid()], seed=0)


def _fit(**kw):
    d = _xor()
    X, y = kw.pop("X", d.X_train), kw.pop("y", d.y_train)
    return _net().fit(X, y, **{"epochs": 1, **kw})


x = sp.Symbol("x")
API_CASES = [
    ("unknown topic", lambda: symnn.derive("nope"), UnknownNameError, r"unknown topic 'nope'; choose one of: .*cost"),
    ("unknown activation", lambda: symnn.derive("cost", activation="swish"), UnknownNameError, r"unknown activation 'swish'; choose one of"),
    ("unknown cost", lambda: symnn.derive("cost", cost="hinge"), UnknownNameError, r"unknown cost 'hinge'; choose one of"),
    ("unknown dataset", lambda: __import__("symnn.nn.data", fromlist=["load"]).load("mnist"), UnknownNameError, r"unknown dataset 'mnist'"),
    ("unknown layer/activation name", lambda: __import__("symnn.nn", fromlist=["activation_layer"]).activation_layer("swish"), UnknownNameError, r"unknown activation 'swish'"),
    ("unknown loss", lambda: __import__("symnn.nn", fromlist=["Sequential"]).Sequential(_net().layers, loss="hinge"), UnknownNameError, r"unknown loss 'hinge'; choose one of"),
    ("no layers", lambda: __import__("symnn.nn", fromlist=["Sequential"]).Sequential([]), InputError, r"at least one layer"),
    ("unknown kernel", lambda: __import__("symnn.codegen", fromlist=["kernel"]).kernel("no.such"), UnknownNameError, r"unknown kernel 'no.such'; choose one of"),
    ("free function given to derive", lambda: symnn.derive(sp.Function("f")(x) * x, wrt=x), DerivationError, r"cannot differentiate f\(x\) symbolically"),
    ("learning rate <= 0", lambda: _fit(lr=0), InputError, r"learning rate must be a positive number"),
    ("epochs 0", lambda: _fit(epochs=0), InputError, r"epochs must be a positive integer"),
    ("batch size 0", lambda: _fit(batch_size=0), InputError, r"batch size must be a positive integer"),
    ("X and y of different lengths", lambda: _fit(y=np.array([0, 1, 1])), InputError, r"X has 4 samples but y has 3"),
    ("empty dataset", lambda: _fit(X=np.zeros((0, 2)), y=np.zeros(0, int)), InputError, r"empty"),
    ("NaN in inputs", lambda: _fit(X=np.array([[np.nan, 0], [0, 1], [1, 0], [1, 1]])), InputError, r"NaN"),
    ("inf in inputs", lambda: _fit(X=np.array([[np.inf, 0], [0, 1], [1, 0], [1, 1]])), InputError, r"inf"),
    ("labels out of range", lambda: _fit(y=np.array([0, 1, 2, 1])), InputError, r"label 2 .* out of range"),
    ("wrong input width", lambda: _net(3, 2).predict(np.zeros((2, 2))), InputError, r"expects input shaped \(N, 3\)"),
    ("missing file", lambda: __import__("symnn.images", fromlist=["read_image"]).read_image("/no/such.png"), FileError, r"no such file"),
    ("directory where a file is expected", lambda: __import__("symnn.images", fromlist=["read_image"]).read_image("/tmp"), FileError, r"is a directory"),
]


@pytest.mark.parametrize("what, call, error, message", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_errors(what, call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert isinstance(info.value, SymnnError)
    assert "\n" not in str(info.value)


def test_non_image_and_non_numeric_files(tmp_path):
    from symnn.images import read_image, read_matrix
    fake = tmp_path / "photo.png"
    fake.write_text("not a picture\n")
    with pytest.raises(FileError, match="not an image symnn can read"):
        read_image(fake)
    bad = tmp_path / "kernel.txt"
    bad.write_text("0 1 0\n1 x 1\n")
    with pytest.raises(InputError, match=r"'x' is not a number"):
        read_matrix(bad)


FEATURE_MAP_CASES = [
    ("stride 0", dict(stride=0), r"stride"),
    ("stride negative", dict(stride=-2), r"stride"),
    ("padding negative", dict(padding=-1), r"padding"),
    ("channels mismatch", dict(kernel=np.ones((2, 3, 3)), image=np.ones((3, 5, 5))), r"channel"),
    ("kernel larger than the padded image", dict(kernel=np.ones((9, 9))), r"larger|too small|bigger"),
    ("NaN in the image", dict(image=np.full((5, 5), np.nan)), r"NaN"),
]


@pytest.mark.parametrize("what, change, message", FEATURE_MAP_CASES, ids=[c[0] for c in FEATURE_MAP_CASES])
def test_feature_map_errors(what, change, message):
    args = {"image": np.ones((5, 5)), "kernel": np.ones((3, 3)), **change}
    with pytest.raises(InputError, match=message) as info:
        symnn.feature_map(**args)
    assert "\n" not in str(info.value)


def test_batch_size_larger_than_the_dataset_is_clamped_with_a_note(capsys):
    _fit(batch_size=100)
    assert "batch size 100 is larger than the 4 training samples; using 4" in capsys.readouterr().err


def _cli(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "symnn", *args], capture_output=True, text=True,
                          cwd=cwd, env=env)


CLI_CASES = [
    ("unknown command", ["frobnicate"]),
    ("unknown topic", ["derive", "nope"]),
    ("unknown activation", ["derive", "cost", "--activation", "swish"]),
    ("unknown cost", ["derive", "cost", "--cost", "hinge"]),
    ("bad format", ["derive", "cost", "--format", "pdf"]),
    ("unknown kernel", ["codegen", "show", "no.such"]),
    ("unknown dataset", ["train", "mlp", "--dataset", "mnist"]),
    ("learning rate <= 0", ["train", "mlp", "--lr", "0"]),
    ("epochs 0", ["train", "perceptron", "--epochs", "0"]),
    ("batch size 0", ["train", "mlp", "--batch-size", "0"]),
    ("bad hidden sizes", ["train", "mlp", "--hidden", "a,b"]),
    ("not a number", ["train", "mlp", "--epochs", "many"]),
    ("unknown mode", ["train", "perceptron", "--mode", "sometimes"]),
    ("bad lesson list", ["course", "build", "--lessons", "x-"]),
    ("unknown filter kernel", ["filter", "--kernel", "nope"]),
    ("missing image file", ["filter", "/no/such.png", "--kernel", "sharpen"]),
    ("directory as image", ["filter", "/tmp", "--kernel", "sharpen"]),
    ("unknown border", ["filter", "--kernel", "sharpen", "--border", "mirror"]),
    ("non-numeric inline image", ["feature-map", "--image", "0 1; x 2"]),
    ("stride 0", ["feature-map", "--stride", "0"]),
    ("negative padding", ["feature-map", "--padding", "-1"]),
    ("kernel larger than the image", ["feature-map", "--image", "0 1; 1 0", "--kernel", "1 1 1; 1 1 1; 1 1 1"]),
]


@pytest.mark.parametrize("what, args", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_errors_are_one_line_and_exit_2(what, args):
    r = _cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(("symnn: error:", "usage:", "symnn ")), r.stderr


def test_cli_out_into_a_read_only_place(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            target = "/proc/symnn-cannot-write-here/cost.tex"  # root ignores permissions
        else:
            target = str(ro / "cost.tex")
        r = _cli("derive", "cost", "-o", target)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "cannot" in r.stderr and r.stderr.strip().count("\n") == 0
    finally:
        ro.chmod(0o700)


def test_cli_never_overwrites_a_users_file(tmp_path):
    mine = tmp_path / "mine.md"
    mine.write_text("keep me\n")
    r = _cli("derive", "cost", "--format", "markdown", "-o", str(mine))
    assert r.returncode == 2 and "--force" in r.stderr
    assert mine.read_text() == "keep me\n"
    r = _cli("train", "perceptron", "--epochs", "2", "--plot", str(mine))
    assert r.returncode == 2 and mine.read_text() == "keep me\n"
