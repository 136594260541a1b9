"""`symnn train ... --data FILE`: the lecture's table as a CSV trains to the same numbers as the
bundled study dataset; tables, .npz files and image folders size the net; a split or a test
file; every misuse is one line and exit code 2."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from symnn.cli import main

STUDY = str(Path(__file__).parents[1] / "data" / "study.csv")


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse's own refusals
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _results(out: str) -> list[str]:
    """The printed results without the time taken and the data's name."""
    out = re.sub(r" in [0-9.]+ s;", " in T s;", out)
    return re.sub(r" on (study\.csv|study) \(", " on DATA (", out).splitlines()


def test_the_study_table_as_a_csv_trains_to_the_same_numbers_as_the_bundled_study_dataset(capsys):
    code, bundled, _ = _run(capsys, "train", "perceptron", "--dataset", "study", "-q")
    assert code == 0
    code, mine, err = _run(capsys, "train", "perceptron", "--data", STUDY, "--target", "Exam", "-q")
    assert code == 0 and _results(mine) == _results(bundled), (mine, bundled)
    assert "trained 200 epochs on study.csv (8 samples, minibatch: 4 samples per update, sgd with η = 0.5)" in mine
    assert "Sequential([Dense(3, 1), Sigmoid()]" in mine and len(re.findall(r"row \d: ŷ = ", mine)) == 8
    assert "column 'Row ID' left out" in err and "the results below are on the training data" in err
    # every mode and another activation, too
    args = ["--mode", "all", "--epochs", "7", "--activation", "tanh", "-q"]
    assert _results(_run(capsys, "train", "perceptron", "--dataset", "study", *args)[1]) == _results(
        _run(capsys, "train", "perceptron", "--data", STUDY, "--target", "Exam", *args)[1]
    )


def _iris_like(path: Path, n: int = 30) -> Path:
    """Three classes named by text, two columns that separate them, one that does not."""
    rng = np.random.default_rng(1)
    kinds = ["setosa", "versicolor", "virginica"]
    lines = ["petal,sepal,noise,kind"]
    for i in range(n):
        k = i % 3
        lines.append(f"{k + rng.normal(0, 0.1):.3f},{2 * k + rng.normal(0, 0.1):.3f},{rng.normal():.3f},{kinds[k]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_categorical_target_trains_a_net_sized_by_the_data(capsys, tmp_path):
    data = str(_iris_like(tmp_path / "iris.csv"))
    code, out, err = _run(
        capsys, "train", "mlp", "--data", data, "--target", "kind", "--classes", "--hidden", "4", "--epochs", "5",
        "--test-fraction", "0.2", "--standardize", "-q",
    )  # fmt: skip
    assert code == 0, err
    assert "Sequential([Dense(3, 4), Sigmoid(), Dense(4, 3), Sigmoid()]" in out
    assert "trained 5 epochs on iris.csv (24 samples, minibatch: 10 samples per update, sgd with η = 3.0)" in out
    assert re.search(r"^test accuracy: [01]\.\d{4}$", out, re.M) and "results below are on the training" not in err
    code, out, _ = _run(
        capsys, "train", "perceptron", "--data", data, "--target", "kind", "--classes", "--features", "petal,sepal",
        "--epochs", "3", "-q",
    )  # fmt: skip
    assert code == 0 and "Sequential([Dense(2, 3), Sigmoid()]" in out and "(30 samples," in out


def test_a_separate_test_file_and_an_npz(capsys, tmp_path):
    test = tmp_path / "test.csv"
    test.write_text("Exam,Quiz,Sleep Hrs,Study Hrs\n50%,50%,5,50\n70%,90%,8,20\n")
    code, out, _ = _run(capsys, "train", "perceptron", "--data", STUDY, "--target", "Exam", "--test-data", str(test))
    assert code == 0 and re.findall(r"row \d: .*y = (\S+)", out) == ["0.5000", "0.7000"]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    np.savez(tmp_path / "rows.npz", X=X, y=1 / (1 + np.exp(-X.sum(axis=1))))
    code, out, _ = _run(capsys, "train", "mlp", "--data", str(tmp_path / "rows.npz"), "--epochs", "2", "-q")
    assert code == 0 and "Dense(2, 30), Sigmoid(), Dense(30, 1), Sigmoid()" in out and "(60 samples," in out
    assert len(re.findall(r"row \d+: ŷ", out)) == 20 and re.search(r"\.\.\. and 40 more rows; test RMSE 0\.\d{4}", out)


def _images(root: Path, rgb: bool = False, n: int = 6, classes: int = 2) -> Path:
    """n PNGs of 10x12 pixels per class, each class its own brightness."""
    from PIL import Image

    rng = np.random.default_rng(0)
    names = ("bright", "dark") if classes == 2 else [f"c{k}" for k in range(classes)]
    for k, name in enumerate(names):
        (root / name).mkdir(parents=True)
        mean = 200 - 150 * k / (classes - 1)
        for i in range(n):
            a = np.clip(rng.normal(mean, 20, (10, 12, 3) if rgb else (10, 12)), 0, 255)
            Image.fromarray(a.astype(np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.mark.slow
def test_train_cnn_on_an_image_folder(capsys, tmp_path):
    # ten classes of 8x8 grey images: the digits CNN's sizes, so its kernels are the ones already compiled
    folder = str(_images(tmp_path / "imgs", n=4, classes=10))
    args = ["--data", folder, "--image-size", "8x8", "--epochs", "1", "--test-fraction", "0.25", "-q"]
    code, out, err = _run(capsys, "train", "cnn", *args)
    assert code == 0, err
    assert "Sequential([Conv2D(1, 12, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(192, 10)]" in out
    assert "trained 1 epoch on imgs (30 images (1, 8, 8), sgd with η = 0.5 on a cosine schedule, batches of 32)" in out
    assert re.search(r"^test accuracy: [01]\.\d{4}$", out, re.M)


def test_train_cnn_takes_the_data_shape_and_the_classes_from_the_folder(tmp_path):
    import argparse

    from symnn.commands.train_cnn import build_cnn
    from symnn.commands.train_data import load_data

    folder = str(_images(tmp_path / "imgs", rgb=True))
    args = argparse.Namespace(
        net="cnn", data=folder, dataset=None, image_size="7x9", grey=False, standardize=True, test_fraction=0.5,
        test_data=None, seed=2,
    )  # fmt: skip
    data, name = load_data(args, images=True)
    assert name == "imgs" and data.X_train.shape == (6, 3, 7, 9) and data.X_test.shape == (6, 3, 7, 9)
    assert sorted(data.y_test.tolist()) == [0, 0, 0, 1, 1, 1] and data.target_names == ("bright", "dark")
    assert args.preprocessing.channels == 3 and len(args.preprocessing.mean) == 3
    assert np.allclose(data.X_train.mean(axis=(0, 2, 3)), 0)  # standardised per channel on the training half
    net = build_cnn(data.X_train.shape[1:], seed=0, n_classes=data.n_classes)
    assert repr(net.layers[0]) == "Conv2D(3, 8, 3)" and repr(net.layers[-1]) == "Dense(48, 2)"  # 8 maps of 2x3


@pytest.fixture
def files(tmp_path):
    np.savez(tmp_path / "rows.npz", X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    np.savez(tmp_path / "imgs.npz", X=np.zeros((4, 1, 8, 8)), y=np.array([0, 1, 0, 1]))
    (tmp_path / "ragged.csv").write_text("a,b,t\n1,2,3\n4,5\n")
    (tmp_path / "x.json").write_text("{}")
    _images(tmp_path / "imgs", n=2)
    return {"ROWS": "rows.npz", "NPZIMG": "imgs.npz", "RAGGED": "ragged.csv", "JSON": "x.json", "IMGS": "imgs"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["perceptron", "--data", STUDY, "--dataset", "study"], "give either --dataset study (bundled) or --data FILE"),
        (
            ["perceptron", "--data", STUDY],
            "study.csv is a table: name the column to predict (--target COLUMN); its "
            "columns are: Row ID, Study Hrs, Sleep Hrs, Quiz, Exam",
        ),  # fmt: skip
        (["perceptron", "--target", "Exam"], "--target applies to your own data (--data FILE), not to a bundled"),
        (["mlp", "--test-fraction", "0.2"], "--test-fraction applies to your own data (--data FILE)"),
        (["cnn", "--rgb"], "--grey/--rgb applies to your own data (--data FILE)"),
        (["mlp", "--data", STUDY, "--target", "Exam", "--standardize", "--no-scale"], "either --standardize or --no-"),
        (
            ["mlp", "--data", STUDY, "--target", "Exam", "--test-fraction", "0.2", "--test-data", STUDY],
            "give either --test-fraction (a split of --data) or --test-data FILE, not both",
        ),  # fmt: skip
        (
            ["mlp", "--data", STUDY, "--target", "Nope"],
            "study.csv has no column 'Nope' (the target); its columns are: Row ID, Study Hrs, Sleep Hrs, Quiz, Exam",
        ),  # fmt: skip
        (["mlp", "--data", STUDY, "--target", "Exam", "--features", "Quiz,Age"], "no column 'Age' (in --features)"),
        (["perceptron", "--data", STUDY, "--target", "Exam", "--test-fraction", "1.5"], "the test fraction must be"),
        (["mlp", "--data", "RAGGED", "--target", "t"], "ragged.csv, line 3: 2 cells, but the header has 3 columns"),
        (["mlp", "--data", "JSON"], "x.json: symnn reads a .csv table, an .npz file (arrays X and y) or a folder"),
        (["mlp", "--data", "NONE.csv", "--target", "t"], "no such file or folder: "),
        (["mlp", "--data", "ROWS", "--target", "t"], "--target and --features name columns of a CSV table; "),
        (["mlp", "--data", "IMGS"], "is an image folder: images are for `symnn train cnn`"),
        (["cnn", "--data", STUDY], "train cnn takes images: an image folder or an .npz with X shaped (N, C, H, W)"),
        (["cnn", "--data", "ROWS"], "rows.npz is shaped (4, 2); a CNN takes images (N, C, H, W) or (N, H, W)"),
        (["cnn", "--data", "NPZIMG", "--rgb"], "--image-size, --grey and --rgb apply to an image folder; "),
        (["cnn", "--data", "IMGS", "--image-size", "big"], "--image-size takes HEIGHTxWIDTH such as 28x28"),
        (["cnn", "--data", "IMGS", "--image-size", "1"], "images of 1x1 are too small for the 3x3 conv and 2x2 pool"),
        (["cnn", "--data", "IMGS", "--target", "t"], "`symnn train cnn` has no option --target"),
        (["perceptron", "--image-size", "8"], "`symnn train perceptron` has no option --image-size"),
    ],
)
def test_misuse_is_one_line_and_exit_code_2(capsys, tmp_path, files, args, message):
    args = [str(tmp_path / files.get(a, a)) if a in files or a.startswith("NONE") else a for a in args]
    code, out, err = _run(capsys, "train", *args)
    assert code == 2 and out == "", (out, err)
    lines = [line for line in err.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("symnn: error: ") and message in lines[0], err
    assert "Traceback" not in err
