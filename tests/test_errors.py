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
    (
        "unknown activation",
        lambda: symnn.derive("cost", activation="swishh"),
        UnknownNameError,
        r"unknown activation 'swishh'; choose one of",
    ),
    (
        "unknown cost",
        lambda: symnn.derive("cost", cost="hingee"),
        UnknownNameError,
        r"unknown cost 'hingee'; choose one of",
    ),
    (
        "unknown dataset",
        lambda: __import__("symnn.nn.data", fromlist=["load"]).load("mnist"),
        UnknownNameError,
        r"unknown dataset 'mnist'",
    ),
    (
        "unknown layer/activation name",
        lambda: __import__("symnn.nn", fromlist=["activation_layer"]).activation_layer("swishh"),
        UnknownNameError,
        r"unknown activation 'swishh'",
    ),
    (
        "unknown loss",
        lambda: __import__("symnn.nn", fromlist=["Sequential"]).Sequential(_net().layers, loss="hingee"),
        UnknownNameError,
        r"unknown cost 'hingee'; choose one of",
    ),
    (
        "no layers",
        lambda: __import__("symnn.nn", fromlist=["Sequential"]).Sequential([]),
        InputError,
        r"at least one layer",
    ),
    (
        "unknown kernel",
        lambda: __import__("symnn.codegen", fromlist=["kernel"]).kernel("no.such"),
        UnknownNameError,
        r"unknown kernel 'no.such'; choose one of",
    ),
    (
        "free function given to derive",
        lambda: symnn.derive(sp.Function("f")(x) * x, wrt=x),
        DerivationError,
        r"cannot differentiate f\(x\) symbolically",
    ),
    ("learning rate <= 0", lambda: _fit(lr=0), InputError, r"learning rate must be a positive number"),
    ("epochs 0", lambda: _fit(epochs=0), InputError, r"epochs must be a positive integer"),
    ("batch size 0", lambda: _fit(batch_size=0), InputError, r"batch size must be a positive integer"),
    ("X and y of different lengths", lambda: _fit(y=np.array([0, 1, 1])), InputError, r"X has 4 samples but y has 3"),
    ("empty dataset", lambda: _fit(X=np.zeros((0, 2)), y=np.zeros(0, int)), InputError, r"empty"),
    ("NaN in inputs", lambda: _fit(X=np.array([[np.nan, 0], [0, 1], [1, 0], [1, 1]])), InputError, r"NaN"),
    ("inf in inputs", lambda: _fit(X=np.array([[np.inf, 0], [0, 1], [1, 0], [1, 1]])), InputError, r"inf"),
    ("labels out of range", lambda: _fit(y=np.array([0, 1, 2, 1])), InputError, r"label 2 .* out of range"),
    (
        "wrong input width",
        lambda: _net(3, 2).predict(np.zeros((2, 2))),
        InputError,
        r"layer 0 \(Dense\(3, 2\)\) takes input shaped \(N, 3\), but X is shaped \(N, 2\)",
    ),
    (
        "missing file",
        lambda: __import__("symnn.vision.images", fromlist=["read_image"]).read_image("/no/such.png"),
        FileError,
        r"no such file",
    ),
    (
        "directory where a file is expected",
        lambda: __import__("symnn.vision.images", fromlist=["read_image"]).read_image("/tmp"),
        FileError,
        r"is a directory",
    ),
]


@pytest.mark.parametrize("what, call, error, message", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_errors(what, call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert isinstance(info.value, SymnnError)
    assert "\n" not in str(info.value)


def test_non_image_and_non_numeric_files(tmp_path):
    from symnn.vision.images import read_image
    from symnn.vision.matrices import read_matrix

    fake = tmp_path / "photo.png"
    fake.write_text("not a picture\n")
    with pytest.raises(FileError, match="not an image symnn can read"):
        read_image(fake)
    bad = tmp_path / "kernel.txt"
    bad.write_text("0 1 0\n1 x 1\n")
    with pytest.raises(InputError, match=r"kernel\.txt: line 2, column 2: the value there is not a number"):
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
    return subprocess.run([sys.executable, "-m", "symnn", *args], capture_output=True, text=True, cwd=cwd, env=env)


CLI_CASES = [
    ("unknown command", ["frobnicate"]),
    ("unknown topic", ["derive", "nope"]),
    ("unknown activation", ["derive", "cost", "--activation", "swishh"]),
    ("unknown cost", ["derive", "cost", "--cost", "hingee"]),
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


# -- Ctrl-C: only complete files or nothing, no temporary files, one line and exit code 130 --------
class _OsWith:
    """symnn.outputs' view of the os module with one function replaced (the rest is os)."""

    def __init__(self, **replaced):
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(os, name)


def _interrupt_at(stage: str, after: int = 0):
    """os replacements raising KeyboardInterrupt at `stage` of atomic_write, from call `after` on:
    just after the temporary file is created, halfway through writing it, or instead of the rename."""
    calls = {"n": 0}

    def due() -> bool:
        calls["n"] += 1
        return calls["n"] > after

    def open_(path, flags, mode=0o777):
        fd = os.open(path, flags, mode)
        if due():
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    class HalfWriter:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            if not due():
                return self.fh.write(data)
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise KeyboardInterrupt

    def replace(src, dst):
        if due():
            raise KeyboardInterrupt
        return os.replace(src, dst)

    return {
        "open": {"open": open_},
        "write": {"fdopen": lambda fd, mode: HalfWriter(os.fdopen(fd, mode))},
        "replace": {"replace": replace},
    }[stage]


@pytest.mark.parametrize("stage", ["open", "write", "replace"])
@pytest.mark.parametrize("existing", [True, False], ids=["over an old file", "new file"])
def test_atomic_write_interrupted_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, stage, existing):
    import symnn.outputs as outputs

    target = tmp_path / "out.md"
    if existing:
        outputs.atomic_write(target, f"old, {outputs.TAG}\n")
    new = "new " * 100_000
    monkeypatch.setattr(outputs, "os", _OsWith(**_interrupt_at(stage)))
    with pytest.raises(KeyboardInterrupt):
        outputs.atomic_write(target, new)
    monkeypatch.undo()
    assert _listed(tmp_path) == (["out.md"] if existing else [])
    if existing:
        assert target.read_text() == f"old, {outputs.TAG}\n"
    outputs.atomic_write(target, new)  # and the next write succeeds
    assert target.read_text() == new and _listed(tmp_path) == ["out.md"]


def _listed(folder) -> list[str]:
    """The folder's files, but for symnn's manifest of what it wrote there."""
    from symnn.outputs import MANIFEST

    return sorted(n for n in os.listdir(folder) if n != MANIFEST)


def _png(path, shape=(800, 1000, 3), seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def _assert_only_complete_files(folder) -> list[str]:
    """Every file under folder is whole (PNGs decode to the last row, .tex ends the document, .md
    ends its last line) and none is a temporary file; returns the names."""
    from PIL import Image

    from symnn.outputs import MANIFEST

    names = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        assert not f.name.startswith(".") and not f.name.endswith(".tmp"), f"left behind: {f}"
        if f.suffix == ".png":
            with Image.open(f) as im:
                im.load()  # raises on a truncated PNG
        elif f.suffix == ".tex":
            assert f.read_text().rstrip().endswith(r"\end{document}"), f
        elif f.suffix == ".md":
            assert f.read_text().endswith("\n"), f
        else:
            raise AssertionError(f"unexpected file {f}")
        names.append(f.name)
    return names


def test_cli_filter_interrupted_mid_write_in_process(tmp_path, monkeypatch, capsys):
    """KeyboardInterrupt halfway through the third PNG: the first two are whole, the third is not
    there, no temporary file; the CLI says one line and returns 130."""
    import symnn.outputs as outputs
    from symnn.cli import main

    src = _png(tmp_path / "photo.png", (40, 60, 3))
    out = tmp_path / "out"
    monkeypatch.setattr(outputs, "os", _OsWith(**_interrupt_at("write", after=2)))
    assert main(["filter", str(src), "--kernel", "all", "--out", str(out), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err == "symnn: interrupted; no partial output was left behind\n"
    assert _assert_only_complete_files(out) == ["photo-blur.png", "photo-sharpen.png"]


def _interrupt_when(args, folder, ready, cwd, timeout=120.0):
    """Start `python -m symnn ARGS`, send SIGINT as soon as ready(names under folder) holds (or at
    timeout), and return (returncode, stderr, what the poll saw)."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "symnn", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    start, seen = time.monotonic(), []
    try:
        while proc.poll() is None and time.monotonic() - start < timeout:
            seen = [p.name for p in folder.rglob("*")] if folder.exists() else []
            if ready(seen):
                break
            time.sleep(0.0005)
        assert proc.poll() is None, "the command ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err, seen


def test_ctrl_c_during_symnn_filter_leaves_only_complete_pngs(tmp_path):
    """SIGINT to `symnn filter` on a 1000×800 photo: the first time while a PNG's temporary file
    exists (mid-write, if the poll catches it), then right after the first PNG is complete."""
    src = _png(tmp_path / "photo.png")
    for n, ready in enumerate(
        [lambda names: any(s.endswith(".tmp") for s in names), lambda names: any(s.endswith(".png") for s in names)]
    ):
        out = tmp_path / f"out{n}"
        code, err, seen = _interrupt_when(
            ["filter", str(src), "--kernel", "all", "--out", str(out), "--quiet"], out, ready, tmp_path
        )
        assert code == 130, err
        assert "Traceback" not in err
        assert err.strip().splitlines() == ["symnn: interrupted; no partial output was left behind"]
        written = _assert_only_complete_files(out) if out.exists() else []
        assert len(written) < 6  # it was interrupted before the end
        assert all(name.startswith("photo-") for name in written)


def test_ctrl_c_during_course_build_leaves_only_complete_files(tmp_path):
    """SIGINT to `symnn course build` a second after its first figure: whole figures only (the
    .tex and Markdown come last, so none), no temporary file, one line and exit code 130."""
    import time

    out = tmp_path / "course"
    first: list[float] = []

    def ready(names):
        if any(s.endswith(".png") for s in names) and not first:
            first.append(time.monotonic())
        return bool(first) and time.monotonic() - first[0] > 1.0

    code, err, seen = _interrupt_when(["course", "build", "--out", str(out), "--no-pdf"], out, ready, tmp_path)
    assert code == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "symnn: interrupted; no partial output was left behind"
    written = _assert_only_complete_files(out)
    assert written and all(name.endswith(".png") for name in written)  # figures, nothing else yet
