"""Your own data (symnn.nn.datafiles): CSV tables, .npz arrays and image folders read to the exact
numbers, a seeded split, the preprocessing fitted on the training split, and one line for every
kind of bad data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symnn.errors import FileError, InputError, SymnnError
from symnn.nn.data import load, study_table
from symnn.nn.datafiles import (
    Preprocessing,
    load_dataset,
    read_features,
    read_images,
    read_labelled,
    read_npz,
    read_table,
    split,
)

STUDY = Path(__file__).parents[1] / "data" / "study.csv"


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# -- tables ---------------------------------------------------------------------------------------
def test_the_study_csv_as_on_the_slide_reads_to_the_lectures_numbers():
    notes: list[str] = []
    X, y, prep = read_table(STUDY, "Exam", note=notes.append)
    table = study_table(1)
    assert np.array_equal(X, table.X) and np.array_equal(y, table.y)  # 78% -> 0.78 exactly as 78 / 100
    assert X[0].tolist() == [12.0, 6.0, 0.78] and y.tolist()[:3] == [0.93, 0.68, 0.95]
    assert prep.features == ["Study Hrs", "Sleep Hrs", "Quiz"] and prep.target == "Exam" and prep.classes is None
    assert notes == [f"{STUDY}: column 'Row ID' left out (it numbers the rows); name it in --features to use it"]
    # scaled as the built-in study dataset is: each column by its largest value
    data, fitted = load_dataset(STUDY, target="Exam")
    assert fitted.scale == [115.0, 10.0, 1.0]
    assert np.array_equal(data.X_train, load("study").X_train) and np.array_equal(data.y_train, load("study").y_train)


def test_cells_numbers_and_percentages(tmp_path):
    p = _csv(tmp_path, "a,b,t\n-1.5,78%,1e-3\n.5, 5 % ,+2\n\n3,100%,0\n")
    X, y, _ = read_table(p, "t")
    assert X.tolist() == [[-1.5, 0.78], [0.5, 0.05], [3.0, 1.0]] and y.tolist() == [0.001, 2.0, 0.0]


def test_tab_and_semicolon_tables_a_bom_and_a_trailing_empty_cell(tmp_path):
    for sep in ("\t", ";"):
        p = _csv(tmp_path, f"\ufeffx{sep}y{sep}t\n1{sep}2{sep}3{sep}\n4{sep}5{sep}6\n")
        X, y, prep = read_table(p, "t")
        assert X.tolist() == [[1, 2], [4, 5]] and y.tolist() == [3, 6] and prep.features == ["x", "y"]


def test_features_choose_and_order_the_columns_ignoring_case(tmp_path):
    X, y, prep = read_table(STUDY, "exam", features="quiz, Study Hrs")
    assert prep.features == ["Quiz", "Study Hrs"] and prep.target == "Exam"
    assert X[:, 0].tolist() == [0.78, 0.24, 1.0, 0.67, 0.58, 0.7, 0.82, 0.91] and X[2, 1] == 115
    X, _, prep = read_table(STUDY, "Exam", features=["Row ID", "Quiz"])  # an id column named is used
    assert X[:, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]


def test_a_categorical_target_becomes_labels_in_sorted_order_of_the_class_names(tmp_path):
    p = _csv(tmp_path, "x,kind\n1,pear\n2,apple\n3,pear\n4,fig\n")
    X, y, prep = read_table(p, "kind", classes=True)
    assert prep.classes == ["apple", "fig", "pear"] and y.tolist() == [2, 0, 2, 1] and y.dtype == np.int64
    p = _csv(tmp_path, "x,digit\n1,10\n2,9\n3,10\n4,2\n")  # numbers sort as numbers
    _, y, prep = read_table(p, "digit", classes=True)
    assert prep.classes == ["2", "9", "10"] and y.tolist() == [2, 1, 2, 0]


def test_standardize_uses_the_mean_and_std_of_the_rows(tmp_path):
    p = _csv(tmp_path, "a,b,t\n1,10,0\n2,10,1\n3,10,0\n6,10,1\n")
    X, _, prep = read_table(p, "t", standardize=True)
    assert prep.mean == [3.0, 10.0] and prep.std == pytest.approx([np.sqrt(3.5), 1.0])  # a constant column: std 1
    assert X[:, 0] == pytest.approx((np.array([1, 2, 3, 6]) - 3) / np.sqrt(3.5)) and X[:, 1].tolist() == [0] * 4


BAD_TABLES = [
    ("a,b,t\n1,2,3\n4,5\n", "t", {}, "t.csv, line 3: 2 cells, but the header has 3 columns"),
    ("a,b,t\n1,2,3\n4,x7,6\n", "t", {}, "t.csv, line 3, column 'b': the cell is not a number; cells hold numbers"),
    ("a,b,t\n1,,3\n", "t", {}, "t.csv, line 2, column 'b': the cell is empty"),
    ("a,b,t\n1,nan,3\n", "t", {}, "line 2, column 'b': the cell is not a number"),
    ("a,b,t\n1,1e999,3\n", "t", {}, "line 2, column 'b': the number there is too large"),
    ("a,b,t\n1,2,yes\n", "t", {}, "line 2, column 't': the cell is not a number"),
    ("a,b,t\n1,2,3\n", "Exam", {}, "t.csv has no column 'Exam' (the target); its columns are: a, b, t"),
    ("a,b,t\n1,2,3\n", "t", {"features": "a,c"}, "t.csv has no column 'c' (in --features); its columns are: a, b, t"),
    ("a,b,t\n1,2,3\n", "t", {"features": "a,t"}, "the target column 't' is also in --features"),
    ("a,b,t\n1,2,3\n", "t", {"features": "a,A"}, "--features names a column of"),
    ("a,b,t\n1,2,c\n3,4,c\n", "t", {"classes": True}, "the target 't' has one class only; a classifier needs"),
    ("", "t", {}, "t.csv is empty; give a CSV with a header row"),
    ("\n\n", "t", {}, "t.csv is empty"),
    ("a,b,t\n", "t", {}, "t.csv has a header but no rows"),
    ("a,a,t\n1,2,3\n", "t", {}, "t.csv, line 1: two columns (1 and 2) are called 'a'"),
    ("a,,t\n1,2,3\n", "t", {}, "t.csv, line 1: column 2 of the header has no name"),
    ("a,b,t\n1,2,3\n", None, {}, "t.csv is a table: name the column to predict (--target COLUMN); its columns are: a,"),
    ("t\n1\n", "t", {}, "t.csv has no column to learn from besides the target 't'"),
]


@pytest.mark.parametrize("text, target, options, message", BAD_TABLES)
def test_bad_tables_give_one_line_naming_the_file_line_and_column(tmp_path, text, target, options, message):
    p = _csv(tmp_path, text)
    with pytest.raises(SymnnError) as err:
        read_table(p, target, **options)
    assert isinstance(err.value, (InputError, FileError)) and message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_other_unreadable_tables(tmp_path, monkeypatch):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,t\ncaf\xe9,1\n".encode("latin-1"))
    cases = [
        (latin, "latin.csv is not UTF-8 text; save the table as a UTF-8 CSV"),
        (tmp_path, "is a folder; give a file"),
        (tmp_path / "none.csv", "no such file: "),
    ]
    for path, message in cases:
        with pytest.raises(FileError) as err:
            read_table(path, "t")
        assert message in str(err.value), str(err.value)
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "100")
    with pytest.raises(InputError, match=r"reading the table .*study.csv would need about .* SYMNN_MAX_MEMORY"):
        read_table(STUDY, "Exam")


# -- .npz -----------------------------------------------------------------------------------------
def test_read_npz_gives_X_and_y_and_never_unpickles(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.arange(6).reshape(3, 2), y=np.array([1, 0, 1]))
    X, y = read_npz(p)
    assert X.dtype == np.float64 and X.tolist() == [[0, 1], [2, 3], [4, 5]] and y.tolist() == [1, 0, 1]
    bad = {
        "o.npz": ({"X": np.array([{"a": 1}] * 2, dtype=object), "y": np.zeros(2)}, "holds Python objects"),
        "noy.npz": ({"X": np.zeros((2, 2)), "w": np.zeros(2)}, "has no array 'y'; an .npz for symnn holds X"),
        "len.npz": ({"X": np.zeros((3, 2)), "y": np.zeros(2)}, "y in .*len.npz is shaped \\(2,\\); give one target"),
        "nan.npz": ({"X": np.array([[np.nan]]), "y": np.zeros(1)}, "X in .*nan.npz holds NaN or inf"),
        "one.npz": ({"X": np.zeros(3), "y": np.zeros(3)}, "X in .*one.npz is shaped \\(3,\\); give one row"),
    }
    for name, (arrays, message) in bad.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(FileError, match=message):
            read_npz(tmp_path / name)
    (tmp_path / "z.npz").write_bytes(b"not a zip")
    with pytest.raises(FileError, match="z.npz is not a whole .npz file"):
        read_npz(tmp_path / "z.npz")


# -- split ----------------------------------------------------------------------------------------
def test_split_is_seeded_sized_and_keeps_the_file_order():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10, dtype=float)
    tests = []
    for seed in range(5):
        s = split(X, y, 0.3, seed)
        assert len(s.X_train) == 7 and len(s.X_test) == 3 and len(s.y_test) == 3
        assert sorted([*s.y_train, *s.y_test]) == list(range(10))  # disjoint, every row once
        assert list(s.y_test) == sorted(s.y_test) and np.array_equal(s.X_test[:, 0], 2 * s.y_test)
        again = split(X, y, 0.3, seed)
        assert np.array_equal(again.y_test, s.y_test)  # the same seed, the same split
        tests.append(tuple(s.y_test))
    assert len(set(tests)) == 5  # seeds 0-4 give five different splits


def test_split_of_class_labels_is_stratified():
    y = np.array([0] * 12 + [1] * 6 + [2] * 2)
    for seed in range(5):
        s = split(np.zeros((20, 1)), y, 0.25, seed)
        assert np.bincount(s.y_test, minlength=3).tolist() == [3, 2, 0]  # 3, 1.5 and 0.5: the larger half first
        assert len(s.y_test) == 5 and set(s.y_train) == {0, 1, 2}  # no class leaves the training set


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.2"])
def test_a_bad_test_fraction_is_one_line(fraction):
    with pytest.raises(InputError, match="the test fraction must be a number between 0 and 1"):
        split(np.zeros((4, 1)), np.zeros(4), fraction, 0)


# -- preprocessing --------------------------------------------------------------------------------
def test_the_scaling_is_fitted_on_the_training_split_only(tmp_path):
    rows = "\n".join(f"{i},{i * i % 7},{i % 2}" for i in range(20))
    p = _csv(tmp_path, "a,b,t\n" + rows + "\n")
    data, prep = load_dataset(p, target="t", classes=True, scaling="standardize", test_fraction=0.25, seed=3)
    X, y, _ = read_table(p, "t", classes=True)
    s = split(X, y, 0.25, 3)
    assert prep.mean == pytest.approx(s.X_train.mean(axis=0).tolist()) and prep.mean != X.mean(axis=0).tolist()
    assert prep.std == pytest.approx(s.X_train.std(axis=0).tolist())
    assert np.allclose(data.X_train.mean(axis=0), 0) and np.allclose(data.X_train.std(axis=0), 1)
    assert np.allclose(data.X_test, (s.X_test - prep.mean) / prep.std)
    assert data.n_classes == 2 and data.task == "classification" and len(data.X_test) == 5


def test_to_dict_is_json_and_from_dict_reads_it_back():
    prep = Preprocessing(["a", "b"], "t", ["x", "y"], [1.0, 2.0], [0.5, 3.0])
    d = json.loads(json.dumps(prep.to_dict()))
    assert Preprocessing.from_dict(d) == prep
    images = Preprocessing([], classes=["c", "d"], image_size=(8, 6), channels=3, scale=[1.0, 2.0, 4.0])
    back = Preprocessing.from_dict(json.loads(json.dumps(images.to_dict())))
    assert back == images and back.image_size == (8, 6)
    X = np.ones((2, 3, 8, 6)) * np.array([1.0, 2.0, 8.0])[None, :, None, None]
    assert images.apply(X)[:, :, 0, 0].tolist() == [[1.0, 1.0, 2.0]] * 2
    assert prep.apply(np.array([[2.0, 2.0]])).tolist() == [[2.0, 0.0]]


GOOD = {"features": ["a", "b"], "target": "t", "mean": [0, 1], "std": [1, 2]}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"features": "a,b"}, "'features' must be a list of names"),
        ({"features": ["a", "a"]}, "'features' names the same thing twice"),
        ({"target": 3}, "'target' must be a column name"),
        ({"classes": ["only"]}, "'classes' must list at least two"),
        ({"mean": [0, "1"]}, "'mean' must be a list of finite numbers"),
        ({"std": [1, 0]}, "'std' must be a list of positive finite numbers"),
        ({"std": [1, 2, 3]}, "'std' has 3 values; the data has 2 features"),
        ({"std": None}, "'mean' and 'std' go together"),
        ({"scale": [1, 1]}, "either 'mean' and 'std' (standardisation) or 'scale'"),
        ({"image_size": [8, 8]}, "'image_size' and 'channels' go together"),
        ({"image_size": [8, True], "channels": 1}, "'image_size' must be [height, width]"),
        ({"wat": 1}, "unknown preprocessing field 'wat'"),
        ({"features": []}, "'features' must name at least one column"),
    ],
)
def test_from_dict_refuses_a_bad_field_in_one_line(change, message):
    with pytest.raises(FileError) as err:
        Preprocessing.from_dict({**GOOD, **change}, source="m.symnn")
    assert str(err.value).startswith("m.symnn: ") and message in str(err.value), str(err.value)
    with pytest.raises(FileError, match="must be a JSON object"):
        Preprocessing.from_dict([1, 2])


# -- images ---------------------------------------------------------------------------------------
def _image(path: Path, value: int | tuple[int, int, int], size=(6, 4)) -> None:
    from PIL import Image

    mode = "L" if isinstance(value, int) else "RGB"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_an_image_folder_gives_images_in_0_1_and_labels_by_sorted_folder_name(tmp_path):
    _image(tmp_path / "dog" / "a.png", 51)
    _image(tmp_path / "cat" / "b.png", 255)
    _image(tmp_path / "cat" / "a.jpg", 0)
    (tmp_path / "cat" / "notes.txt").write_text("skipped")
    X, y, prep = read_images(tmp_path, image_size=(5, 3))
    assert X.shape == (3, 1, 5, 3) and X.dtype == np.float64 and y.tolist() == [0, 0, 1]
    assert prep.classes == ["cat", "dog"] and prep.image_size == (5, 3) and prep.channels == 1
    assert X[0].max() < 0.05 and X[1].min() == 1.0 and np.allclose(X[2], 0.2)  # jpg ~0, 255 -> 1, 51 -> 0.2
    _image(tmp_path / "dog" / "c.png", (255, 0, 51))
    X, y, prep = read_images(tmp_path, image_size=(2, 2), grey=False)
    assert X.shape == (4, 3, 2, 2) and prep.channels == 3 and X[3, :, 0, 0].tolist() == [1.0, 0.0, 0.2]
    # new images, prepared like these: one file, a list, or a folder
    assert read_features(tmp_path / "dog" / "c.png", prep).shape == (1, 3, 2, 2)
    assert read_features([tmp_path / "dog" / "a.png"] * 2, prep)[:, 0, 0, 0].tolist() == [0.2, 0.2]
    assert read_features(tmp_path, prep).shape == (4, 3, 2, 2)
    Xt, yt = read_labelled(tmp_path, prep)
    assert yt.tolist() == [0, 0, 1, 1]


def test_bad_image_folders_give_one_line(tmp_path):
    (tmp_path / "flat").mkdir()
    _image(tmp_path / "flat" / "a.png", 1)
    _image(tmp_path / "one" / "cat" / "a.png", 1)
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    _image(tmp_path / "empty" / "dog" / "a.png", 1)
    _image(tmp_path / "broken" / "dog" / "a.png", 1)
    (tmp_path / "broken" / "cat").mkdir()
    (tmp_path / "broken" / "cat" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    cases = {
        "flat": "flat has no sub-folders; put each class's images in a sub-folder named after the class",
        "one": "one: the folder has one class only ('cat'); a classifier needs at least two",
        "empty": "the class folder " + str(tmp_path / "empty" / "cat") + " has no PNG or JPEG images",
        "broken": str(tmp_path / "broken" / "cat" / "x.png") + " is not a PNG or JPEG image symnn can read",
        "missing": "no such folder: ",
    }
    for folder, message in cases.items():
        with pytest.raises(SymnnError) as err:
            read_images(tmp_path / folder, (4, 4))
        assert message in str(err.value) and "\n" not in str(err.value), str(err.value)
    with pytest.raises(InputError, match="an image size is"):
        read_images(tmp_path / "empty", (0, 4))


def test_an_image_too_large_for_the_memory_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    _image(tmp_path / "a" / "x.png", 1, size=(400, 300))
    _image(tmp_path / "b" / "x.png", 1)
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "100K")
    with pytest.raises(InputError, match=r"decoding the 400x300 image .*x.png would need about"):
        read_images(tmp_path, (4, 4))
    with pytest.raises(InputError, match=r"2 images of 1x200x200 would need about"):
        read_images(tmp_path, (200, 200))


# -- new data prepared like the training data -----------------------------------------------------
def test_read_features_prepares_a_table_like_the_training_data(tmp_path):
    data, prep = load_dataset(STUDY, target="Exam")
    new = _csv(tmp_path, "Quiz,Name,Sleep Hrs,Study Hrs\n50%,ann,5,23\n")  # any order, no target, extra columns
    assert read_features(new, prep).tolist() == [[23 / 115, 5 / 10, 0.5]]
    X, y = read_labelled(STUDY, prep)
    assert np.array_equal(X, data.X_train) and np.array_equal(y, data.y_train)
    with pytest.raises(InputError, match="has no column 'Quiz' \\(a feature of the training data\\)"):
        read_features(_csv(tmp_path, "Study Hrs,Sleep Hrs\n1,2\n", "new.csv"), prep)
    npz = tmp_path / "new.npz"
    np.savez(npz, X=np.array([[115.0, 10.0, 1.0]]))
    assert read_features(npz, prep).tolist() == [[1.0, 1.0, 1.0]]
    np.savez(npz, X=np.zeros((1, 4)))
    with pytest.raises(InputError, match="new.npz: X is shaped \\(1, 4\\); the training rows had 3 features"):
        read_features(npz, prep)


def test_a_test_set_with_a_class_training_never_saw_is_one_line(tmp_path):
    train = _csv(tmp_path, "x,kind\n1,a\n2,b\n3,a\n")
    test = _csv(tmp_path, "x,kind\n1,a\n2,c\n", "test.csv")
    with pytest.raises(
        FileError, match="test.csv, line 3, column 'kind': the class there is not one of the training classes"
    ):
        load_dataset(train, target="kind", classes=True, test_data=test)
    data, _ = load_dataset(train, target="kind", classes=True, test_data=_csv(tmp_path, "kind,x\nb,4\n", "ok.csv"))
    assert data.X_test.tolist() == [[4 / 3]] and data.y_test.tolist() == [1]
