"""The bundled datasets (exact lecture tables, digits split) and the input checks of symnn.nn.data."""

from __future__ import annotations

import numpy as np
import pytest

from symnn.errors import InputError, SymnnError, UnknownNameError
from symnn.nn import data
from symnn.nn.data import check_xy, load, one_hot, study_table

# (study hrs, sleep hrs, quiz %, exam %) as on the slides
TABLE_1 = [
    (12, 6, 78, 93),
    (22, 6.5, 24, 68),
    (115, 4, 100, 95),
    (51, 3, 67, 75),
    (0, 10, 58, 51),
    (5, 0, 70, 60),
    (92, 5, 82, 89),
    (57, 8, 91, 97),
]
TABLE_2 = [
    (12, 6, 78, 93),
    (22, 6.5, 24, 68),
    (115, 4, 100, 95),
    (31, 9, 67, 75),
    (0, 10, 58, 51),
    (5, 8, 78, 60),
    (92, 6, 82, 89),
    (57, 8, 91, 97),
]


@pytest.mark.parametrize("version, table", [(1, TABLE_1), (2, TABLE_2)])
def test_study_table_exact(version, table):
    rows, X, y = study_table(version)
    assert X.shape == (8, 3) and y.shape == (8,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    expected_X = np.array([[s, h, q / 100] for s, h, q, _ in table])
    expected_y = np.array([e / 100 for *_, e in table])
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)
    assert [r["row_id"] for r in rows] == list(range(1, 9))
    assert rows[2] == {"row_id": 3, "study_hrs": 115.0, "sleep_hrs": 4.0, "quiz": 1.0, "exam": 0.95}


def test_study_versions_differ_in_rows_4_6_7():
    _, X1, y1 = study_table(1)
    _, X2, y2 = study_table(2)
    differing = sorted({int(i) + 1 for i in np.argwhere(X1 != X2)[:, 0]})
    assert differing == [4, 6, 7]
    np.testing.assert_array_equal(y1, y2)
    assert tuple(X1[3, :2]) == (51, 3) and tuple(X2[3, :2]) == (31, 9)
    assert tuple(X1[5]) == (5, 0, 0.70) and tuple(X2[5]) == (5, 8, 0.78)
    assert tuple(X1[6, :2]) == (92, 5) and tuple(X2[6, :2]) == (92, 6)


def test_study_table_bad_version():
    with pytest.raises(InputError, match="choose 1 or 2"):
        study_table(3)


@pytest.mark.parametrize("name, version", [("study", 1), ("study2", 2)])
def test_study_dataset_scaled_by_column_max(name, version):
    ds = load(name)
    _, X, y = study_table(version)
    np.testing.assert_allclose(ds.X_train, X / X.max(axis=0))
    assert ds.X_train.max(axis=0).tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(ds.X_train, ds.X_test)
    np.testing.assert_array_equal(ds.y_train, y)
    np.testing.assert_array_equal(ds.y_test, y)
    assert ds.task == "regression" and ds.n_classes is None and ds.name == name
    assert ds.feature_names == ("Study Hrs", "Sleep Hrs", "Quiz") and ds.target_names == ("Exam",)
    assert "divided by its maximum" in ds.description and "/ 115" in ds.description


def test_xor():
    ds = load("xor")
    np.testing.assert_array_equal(ds.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y_train, [0, 1, 1, 0])
    assert ds.y_train.dtype == np.int64 and ds.X_train.dtype == np.float64
    assert ds.task == "classification" and ds.n_classes == 2
    np.testing.assert_array_equal(ds.X_test, ds.X_train)


def test_digits_shapes_and_scaling():
    ds = load("digits")
    assert ds.X_train.shape == (1437, 64) and ds.X_test.shape == (360, 64)
    assert ds.y_train.shape == (1437,) and ds.y_test.shape == (360,)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert 0.0 == min(ds.X_train.min(), ds.X_test.min())
    assert 1.0 == max(ds.X_train.max(), ds.X_test.max())
    assert ds.n_classes == 10 and ds.task == "classification" and ds.n_features == 64
    assert len(ds.feature_names) == 64 and ds.target_names == tuple("0123456789")


def test_digits_stratified():
    from sklearn.datasets import load_digits

    total = np.bincount(load_digits().target, minlength=10)
    ds = load("digits")
    train = np.bincount(ds.y_train, minlength=10)
    test = np.bincount(ds.y_test, minlength=10)
    np.testing.assert_array_equal(train + test, total)
    # every class is split 80/20 to within one sample
    assert np.all(np.abs(test - 0.2 * total) <= 1)


def test_digits_split_is_a_partition():
    from sklearn.datasets import load_digits

    ds = load("digits")
    all_rows = np.vstack([ds.X_train, ds.X_test]) * 16
    ref = load_digits().data
    key = lambda a: sorted(map(bytes, a.astype(np.uint8)))  # noqa: E731
    assert key(all_rows) == key(ref)


def test_digits_split_is_sklearns_and_is_kept_in_the_cache(tmp_path, monkeypatch):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    monkeypatch.setenv("SYMNN_CACHE_DIR", str(tmp_path))
    digits = load_digits()
    want = train_test_split(digits.data / 16.0, digits.target, test_size=0.2, stratify=digits.target, random_state=3)
    first = load("digits", seed=3)
    (kept,) = (tmp_path / "data").glob("digits-*.npz")
    second = load("digits", seed=3)  # read from the cache
    kept.write_bytes(b"not an npz file")
    third = load("digits", seed=3)  # damaged: made again
    for ds in (first, second, third):
        for got, expected in zip((ds.X_train, ds.X_test, ds.y_train, ds.y_test), want):
            np.testing.assert_array_equal(got, expected)
        assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert np.load(kept)["y_test"].shape == (360,)


def test_digits_loads_never_import_sklearn_into_the_process(tmp_path):
    """Warm: the cached split. Cold: scikit-learn makes the split in a child process (its ~100 MB
    stay out of the training process); both give the same arrays."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from symnn.nn.data import load; d = load('digits'); "
        "print('sklearn' in sys.modules, d.X_train.sum(), d.y_test.sum())"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "SYMNN_CACHE_DIR": str(tmp_path), "PYTHONPATH": root}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    first, second = (r.stdout.split() for r in runs)
    assert first[0] == "False" and second[0] == "False" and first[1:] == second[1:]
    assert list(tmp_path.glob("data/digits-*.npz"))


def test_digits_deterministic_by_seed():
    a, b, c = load("digits", seed=0), load("digits", seed=0), load("digits", seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert len(c.y_test) == 360


def test_digits_images():
    flat = load("digits")
    ds = load("digits", images=True)
    assert ds.X_train.shape == (1437, 1, 8, 8) and ds.X_test.shape == (360, 1, 8, 8)
    np.testing.assert_array_equal(ds.X_train.reshape(1437, 64), flat.X_train)
    assert ds.X_train.flags.c_contiguous


def test_load_unknown_and_bad_options():
    with pytest.raises(
        UnknownNameError,
        match=r"unknown dataset 'mnist'; choose one of: digits, "
        r"study, study2, xor",
    ):
        load("mnist")
    with pytest.raises(InputError, match="images=True applies only to the digits"):
        load("xor", images=True)
    assert load("DIGITS").name == "digits"
    assert set(data.DATASETS) == {"study", "study2", "xor", "digits"}


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 1], 3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert one_hot(np.array([1.0, 0.0]), 2).dtype == np.float64
    with pytest.raises(
        InputError,
        match=r"label 3 at labels\[1\] is out of range; labels must be "
        r"integers 0\.\.2 \(n_classes=3\)",
    ):
        one_hot([0, 3], 3)
    with pytest.raises(InputError, match="n_classes must be a positive integer"):
        one_hot([0], 0)


def test_check_xy_accepts_and_converts():
    X, y = check_xy([[1, 2], [3, 4]], [0.5, 1.5])
    assert X.dtype == np.float64 and y.dtype == np.float64
    X, y = check_xy(np.ones((3, 2), dtype=np.float32), [0, 2, 1.0], n_classes=3)
    assert X.dtype == np.float64 and y.dtype == np.int64 and y.tolist() == [0, 2, 1]
    _, y = check_xy(np.ones((2, 2)), one_hot([0, 1], 2), n_classes=2)
    assert y.shape == (2, 2) and y.dtype == np.float64
    _, y = check_xy(np.ones((2, 1, 8, 8)), [True, False], n_classes=2)
    assert y.tolist() == [1, 0]


@pytest.mark.parametrize(
    "X, y, n_classes, message",
    [
        (np.zeros((0, 3)), np.zeros(0), None, r"^the dataset is empty: X has no samples; give at least one row$"),
        (np.zeros((5, 3)), np.zeros(4), None, r"^X has 5 samples but y has 4; give one target per sample$"),
        (
            np.array([[1.0, np.nan], [np.nan, np.inf]]),
            [0, 1],
            None,
            r"^X contains 2 NaN and 1 inf value\(s\); only finite numbers are accepted$",
        ),
        (np.ones((2, 2)), [0.5, -np.inf], None, r"^y contains 1 inf value\(s\); only finite numbers are accepted$"),
        (np.ones((2, 2)), [0.5, np.nan], 2, r"^y contains 1 NaN value\(s\); only finite numbers are accepted$"),
        (
            np.ones((3, 2)),
            [0, 1, 10],
            10,
            r"^label 10 at y\[2\] is out of range; labels must be integers 0\.\.9 \(n_classes=10\)$",
        ),
        (
            np.ones((3, 2)),
            [-1, 1, 7],
            3,
            r"^label -1 at y\[0\] is out of range \(and 1 more\); labels must be integers 0\.\.2 \(n_classes=3\)$",
        ),
        (np.ones((2, 2)), [0, 1.5], 2, r"^y\[1\] = 1\.5 is not a whole number; labels must be integers 0\.\.1"),
        (
            np.ones((2, 2)),
            np.ones((2, 3)),
            2,
            r"^y has shape \(2, 3\); labels must be integers 0\.\.1 \(n_classes=2\), one per sample",
        ),
        (np.ones((2, 2)), ["a", "b"], 2, r"^y has dtype <U1; give an array of real numbers$"),
        ([["a", "b"]], [0], None, r"^X has dtype <U1; give an array of real numbers$"),
        ([[1, 2], [3]], [0, 1], None, r"^X is not a rectangular array"),
        (3.0, [1.0], None, r"^X is a single number; give one row of features per sample"),
        (np.ones((2, 2)), 1.0, None, r"^y is a single number; give one target per sample"),
        (np.ones((2, 2)), [0, 1], 0, r"^n_classes must be a positive integer; got 0$"),
    ],
)
def test_check_xy_errors(X, y, n_classes, message):
    with pytest.raises(InputError, match=message) as info:
        check_xy(X, y, n_classes)
    assert isinstance(info.value, SymnnError)
    assert "\n" not in str(info.value)
