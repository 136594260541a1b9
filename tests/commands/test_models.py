"""`symnn predict MODEL --data FILE`, `symnn info MODEL` and `--save FILE` (save_trained): what
they print and write, and one line with exit code 2 for every bad input."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys

import numpy as np
import pytest

from symnn.cli import main
from symnn.commands.models import check_save, save_trained
from symnn.errors import FileError
from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid
from symnn.nn.data import load
from symnn.nn.saving import kernel_names

FEATURES = ["Study Hrs", "Sleep Hrs", "Quiz"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A tiny net trained on the lecture's study table and saved by save_trained: (folder, net, data)."""
    folder = tmp_path_factory.mktemp("study")
    data = load("study")
    net = Sequential([Dense(3, 2), Sigmoid(), Dense(2, 1), Sigmoid()], seed=0)
    net.fit(data.X_train, data.y_train, epochs=3, lr=0.5, batch_size=4, progress=False)
    args = argparse.Namespace(save=str(folder / "study.symnn"), force=False, net="mlp", dataset="study", seed=0)
    save_trained(args, net, {"epochs": 3, "lr": 0.5, "batch_size": 4, "final_loss": net.history["loss"][-1]}, data)
    return folder, net, data


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    """A small CNN on 8×8 images with class names: (folder, net, X)."""
    folder = tmp_path_factory.mktemp("cnn")
    X = np.random.default_rng(1).random((6, 1, 8, 8))
    net = Sequential([Conv2D(1, 2, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(18, 3)], "softmax-cross-entropy", seed=2)
    net.fit(X, [0, 1, 2, 0, 1, 2], epochs=1, lr=0.1, batch_size=3, progress=False)
    net.save(folder / "cnn.symnn", classes=["cat", "dog", "owl"], input_shape=(1, 8, 8))
    np.savez(folder / "images.npz", X=X)
    return folder, net, X


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse's own refusals (a missing option)
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _raw_study_csv(path, data, header=FEATURES, extra: bool = True) -> None:
    """The study table's inputs as on the slide (quiz as 78%), with an extra column."""
    from symnn.nn.data import study_table

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Row ID", *header, "Exam"] if extra else header)
        for row in study_table(1).rows:
            cells = [row["study_hrs"], row["sleep_hrs"], f"{round(row['quiz'] * 100)}%"]
            w.writerow([row["row_id"], *cells, "?"] if extra else cells)


def test_predict_reads_the_raw_table_with_the_saved_scaling(capsys, study, tmp_path):
    folder, net, data = study
    _raw_study_csv(tmp_path / "new.csv", data)
    code, out, err = _run(capsys, "predict", str(folder / "study.symnn"), "--data", str(tmp_path / "new.csv"))
    assert code == 0 and not err
    expected = net.predict(data.X_train)
    assert [line.split()[1] for line in out.splitlines()] == [f"{v:.6g}" for v in expected]
    assert out.splitlines()[0].split()[0] == "1" and len(out.splitlines()) == 8


def test_predict_writes_a_csv(capsys, cnn, tmp_path):
    folder, net, X = cnn
    out_csv = tmp_path / "out.csv"
    code, out, _ = _run(
        capsys, "predict", str(folder / "cnn.symnn"), "--data", str(folder / "images.npz"), "-o", str(out_csv)
    )
    assert code == 0 and out.strip() == f"wrote 6 predictions to {out_csv}"
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["row", "prediction", "output_cat", "output_dog", "output_owl"]
    names = ["cat", "dog", "owl"]
    assert [r[1] for r in rows[1:]] == [names[i] for i in net.predict(X)]
    assert np.array_equal(np.array([[float(v) for v in r[2:]] for r in rows[1:]]), net.forward(X))
    code, _, err = _run(
        capsys, "predict", str(folder / "cnn.symnn"), "--data", str(folder / "images.npz"), "-o", str(out_csv)
    )
    assert code == 0  # symnn's own file is replaced
    mine = tmp_path / "mine.csv"
    mine.write_text("keep me")
    code, _, err = _run(
        capsys, "predict", str(folder / "cnn.symnn"), "--data", str(folder / "images.npz"), "-o", str(mine)
    )
    assert code == 2 and "refusing to overwrite" in err and mine.read_text() == "keep me"


def test_predict_reads_image_files_and_folders(capsys, cnn, tmp_path):
    from PIL import Image

    folder, net, X = cnn
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(3):
        Image.fromarray((X[i, 0] * 255).round().astype(np.uint8)).save(pics / f"{i}.png")
    code, out, err = _run(capsys, "predict", str(folder / "cnn.symnn"), "--data", str(pics))
    assert code == 0, err
    seen = np.stack([np.asarray(Image.open(pics / f"{i}.png"), dtype=np.float64)[None] / 255 for i in range(3)])
    names = ["cat", "dog", "owl"]
    assert [line.split()[1] for line in out.splitlines()] == [names[i] for i in net.predict(seen)]
    code, out, _ = _run(capsys, "predict", str(folder / "cnn.symnn"), "--data", str(pics / "1.png"))
    assert code == 0 and out.split() == ["1", names[net.predict(seen[1:2])[0]]]


def test_predict_reads_a_csv_of_numbers_only(capsys, study, tmp_path):
    folder, net, data = study
    np.savetxt(tmp_path / "plain.csv", data.X_train * [115, 10, 1], delimiter=",")
    code, out, err = _run(capsys, "predict", str(folder / "study.symnn"), "--data", str(tmp_path / "plain.csv"))
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines()] == [f"{v:.6g}" for v in net.predict(data.X_train)]


def test_info_shows_the_architecture_the_kernels_the_training_and_the_preprocessing(capsys, study, cnn):
    folder, net, _ = study
    code, out, _ = _run(capsys, "info", str(folder / "study.symnn"))
    assert code == 0
    assert out.startswith(f"{folder / 'study.symnn'}: a symnn model, float64, seed 0, 11 parameters")
    assert "  0  Dense(3, 2)  (N, 3) -> (N, 2)" in out and "  3  Sigmoid()  (N, 1) -> (N, 1)" in out
    assert "kernels: dense.forward, dense.grad_weight, dense.grad_bias, dense.grad_input" in out
    assert "loss: quadratic  kernels: quadratic.loss, quadratic.grad" in out and "symnn codegen show NAME" in out
    assert "trained: epochs 3; lr 0.5; batch size 4; final loss" in out and "dataset study" in out
    assert "features: Study Hrs, Sleep Hrs, Quiz" in out and "  scale: 115, 10, 1" in out
    code, out, _ = _run(capsys, "info", str(cnn[0] / "cnn.symnn"))
    assert "classes: cat, dog, owl" in out and "(N, 1, 8, 8) -> (N, 2, 6, 6)" in out
    assert "loss: softmax-cross-entropy" in out and "trained: 1 epoch recorded" in out
    assert "preprocessing: none recorded" in out
    for layer in cnn[1].layers:
        assert f"kernels: {', '.join(kernel_names(layer))}" in out


def test_bad_input_is_one_line_and_exit_code_2(capsys, study, tmp_path):
    folder, _, data = study
    model = str(folder / "study.symnn")
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "bad.csv").write_text("Study Hrs,Sleep Hrs,Quiz\n1,2,three\n")
    (tmp_path / "short.csv").write_text("Study Hrs,Quiz\n1,2\n")
    (tmp_path / "ragged.csv").write_text("1,2,3\n1,2\n")
    cases = [
        (["info", str(tmp_path / "nope.symnn")], "cannot read model file"),
        (["info", str(tmp_path / "notes.txt")], "not a symnn model file"),
        (["predict", str(tmp_path / "notes.txt"), "--data", str(tmp_path / "bad.csv")], "not a symnn model file"),
        (["predict", model, "--data", str(tmp_path / "missing.csv")], "missing.csv"),
        (["predict", model, "--data", str(tmp_path / "bad.csv")], "line 2, column 'Quiz': the cell is not a number"),
        (["predict", model, "--data", str(tmp_path / "short.csv")], "Sleep Hrs"),
        (["predict", model, "--data", str(tmp_path / "ragged.csv")], "row 2 has 2 cells"),
        (["predict", model], "--data"),
    ]
    for args, message in cases:
        code, out, err = _run(capsys, *args)
        assert code == 2 and not out, (args, out)
        assert len(err.splitlines()) == 1 and err.startswith("symnn: error:") and message in err, (args, err)


def test_the_program_itself_refuses_a_foreign_model_without_a_traceback(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.ones((2, 3)))
    run = subprocess.run(
        [sys.executable, "-m", "symnn", "info", str(tmp_path / "data.npz")], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [
        f"symnn: error: {tmp_path / 'data.npz'}: it is an .npz archive without a symnn model header (a foreign file)"
    ]


def test_save_trained_and_check_save(tmp_path, study, capsys):
    _, net, data = study
    assert save_trained(argparse.Namespace(save=None), net, {}) is None
    mine = tmp_path / "model.symnn"
    mine.write_text("mine")
    with pytest.raises(FileError, match="refusing to overwrite"):
        check_save(argparse.Namespace(save=str(mine), force=False))
    check_save(argparse.Namespace(save=str(mine), force=True))
    check_save(argparse.Namespace(save=str(tmp_path / "new.symnn")))
    save_trained(argparse.Namespace(save=str(mine), force=True, optimizer="adam"), net, {"epochs": 3}, data)
    assert "saved the model to" in capsys.readouterr().out
    back = Sequential.load(mine)
    assert back.info["optimizer"] == "adam" and back.info["epochs"] == 3 and back.features == FEATURES


def test_train_save_when_train_has_the_option(capsys, tmp_path):
    code = None
    try:
        main(["train", "mlp", "--save", "x", "--help"])
    except SystemExit as stop:
        code = stop.code
    text = capsys.readouterr().out
    if "--save" not in text:
        pytest.skip("symnn train has no --save option yet")
    assert code == 0
    path = tmp_path / "xor.symnn"
    code, out, err = _run(capsys, "train", "mlp", "--dataset", "xor", "--epochs", "3", "-q", "--save", str(path))
    assert code == 0, err
    code, out, _ = _run(capsys, "info", str(path))
    assert code == 0 and "dataset xor" in out and "epochs 3" in out


@pytest.mark.parametrize("optimizer, lr", [("momentum", 0.3), ("adam", 1e-3)])
def test_train_optimizer_is_the_fit_optimizer_with_its_default_rate(tmp_path, capsys, optimizer, lr):
    """`symnn train mlp --optimizer NAME` without --lr trains as fit(optimizer=NAME, lr=its default)
    does: the saved weights equal those of the same net fitted in Python."""
    path = tmp_path / "xor.symnn"
    args = ["train", "mlp", "--dataset", "xor", "--epochs", "40", "--optimizer", optimizer, "-q", "--save", str(path)]
    assert main(args) == 0
    assert f"{optimizer} with η = {lr}" in capsys.readouterr().out
    data = load("xor", seed=0)
    net = Sequential([Dense(2, 3), Sigmoid(), Dense(3, 2), Sigmoid()], seed=0)  # XOR's two classes
    net.fit(data.X_train, data.y_train, epochs=40, batch_size=4, optimizer=optimizer, progress=False)
    saved = Sequential.load(path)
    for key, value in net.parameters().items():
        np.testing.assert_array_equal(saved.parameters()[key], value, err_msg=key)
