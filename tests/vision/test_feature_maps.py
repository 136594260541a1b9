"""symnn.feature_map and the lecture's Step 1 step tables (symnn.vision.feature_maps, step_tables),
`symnn feature-map`."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import pdflatex_or_skip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symnn
from symnn.cli import main
from symnn.errors import InputError
from symnn.vision import feature_maps as fm
from symnn.vision.step_render import summary_text
from symnn.vision.step_tables import steps

LECTURE_MAP = [[0, 1, 0, 0, 0], [0, 1, 1, 1, 0], [1, 0, 0, 2, 1], [1, 4, 2, 1, 0], [0, 0, 1, 2, 1]]


def reference(image, kernel, stride=1, padding=0):
    """A plain NumPy loop: Y[f, i, j] = Σ_c Σ_m Σ_n X[c, s·i + m, s·j + n] K[f, c, m, n]."""
    X = np.asarray(image, dtype=float)
    X = X[None] if X.ndim == 2 else X
    X = np.pad(X, ((0, 0), (padding, padding), (padding, padding)))
    K = np.asarray(kernel, dtype=float)
    K = K.reshape((1,) * (4 - K.ndim) + K.shape)
    F, C, kh, kw = K.shape
    Ho, Wo = (X.shape[1] - kh) // stride + 1, (X.shape[2] - kw) // stride + 1
    Y = np.zeros((F, Ho, Wo))
    for f in range(F):
        for i in range(Ho):
            for j in range(Wo):
                Y[f, i, j] = np.sum(X[:, stride * i : stride * i + kh, stride * j : stride * j + kw] * K[f])
    return Y if np.ndim(kernel) == 4 else Y[0]


# -- the lecture's example -----------------------------------------------------------------------
def test_lecture_example_exactly():
    Y = symnn.feature_map(fm.LECTURE_IMAGE, fm.LECTURE_DETECTOR)
    assert Y.shape == (5, 5)
    assert Y.tolist() == LECTURE_MAP
    assert Y[2, 2] == 0 and fm.SLIDE_MAP[2, 2] == 1  # row 3, column 3: the slide's 1
    diff = np.argwhere(fm.SLIDE_MAP != Y)
    assert diff.tolist() == [[2, 2]]


def test_lecture_example_specialised_kernel_folds_the_detector():
    Y = symnn.feature_map(fm.LECTURE_IMAGE, fm.LECTURE_DETECTOR, specialise=True)
    assert Y.tolist() == LECTURE_MAP
    from symnn.codegen import kernel

    src = kernel("feature_map.lecture").source
    line = next(x for x in src.splitlines() if x.strip().startswith("Y[i, j] ="))
    assert line.count("X[") == 4 and "*" not in line.replace("i*s", "").replace("j*s", "")
    assert "for m" not in src  # the detector's 4 ones, its zeros gone


def test_steps_flag_row_3_column_3():
    t = steps()
    assert t.lecture and len(t.cells) == 25
    assert [(c.row, c.col) for c in t.disagreements()] == [(2, 2)]
    cell = t.disagreements()[0]
    assert cell.slide == 1 and cell.value == 0 and cell.total == 0
    assert cell.window.tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert "a single 1, at its centre, where the detector has 0" in cell.why
    for text in (t.text(), t.text(compact=True), t.markdown(), t.latex(), summary_text(steps(cells=False))):
        assert "The slide shows 1" in text and "row 3, column 3" in text and "symnn computes 0" in text
    assert "24 of 25 cells agree" in t.text()


def test_steps_products_come_from_the_sympy_summand_and_sum_to_the_kernel_output():
    import sympy as sp

    t = steps()
    for cell in t.cells:
        assert all(isinstance(p, sp.Basic) for row in cell.products for p in row)
        prods = np.array([[float(p) for p in row] for row in cell.products])
        assert np.array_equal(prods, cell.window * fm.LECTURE_DETECTOR)
        assert float(cell.total) == prods.sum() == cell.value == t.feature_map[cell.row, cell.col]
    assert [(c.row, c.col) for c in t.cells] == [(r, c) for r in range(5) for c in range(5)]
    text = t.text()
    assert "Step 13 of 25: feature map row 3, column 3" in text
    assert "sum of the products: 0 + 0 + 1 + 1 + 0 + 0 + 0 + 0 + 0 = 2" in text  # row 5, column 4


def test_steps_with_stride_padding_and_fractions():
    img = np.arange(12, dtype=float).reshape(3, 4) / 2
    k = [[1, -1], [0.25, 2]]
    t = steps(img, k, stride=2, padding=1)
    assert not t.lecture and t.notes == []
    np.testing.assert_allclose(t.feature_map, reference(img, k, 2, 1))
    assert t.image.shape == (5, 6) and len(t.cells) == t.feature_map.size
    assert "padding 1" in t.text() and "padded image rows" in t.text()


def test_steps_refuse_channels_and_huge_maps():
    with pytest.raises(InputError, match="2-D image and a 2-D kernel"):
        steps(np.zeros((2, 4, 4)), np.zeros((2, 3, 3)))
    with pytest.raises(InputError, match="at most"):
        steps(np.zeros((60, 60)), np.ones((1, 1)))


# -- against a NumPy loop ------------------------------------------------------------------------
@st.composite
def problems(draw):
    C = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    H = draw(st.integers(max(1, kh - 2 * padding), 9))
    W = draw(st.integers(max(1, kw - 2 * padding), 9))
    layout = draw(st.sampled_from(["2d", "3d", "4d"] if C == 1 else ["3d", "4d"]))
    F = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(H, W) if (C == 1 and layout == "2d") else (C, H, W))
    kshape = {"2d": (kh, kw), "3d": (C, kh, kw), "4d": (F, C, kh, kw)}[layout]
    return image, rng.normal(size=kshape), stride, padding


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_feature_map_matches_a_numpy_loop(problem):
    image, kernel, stride, padding = problem
    got = symnn.feature_map(image, kernel, stride=stride, padding=padding)
    want = reference(image, kernel, stride, padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_several_detectors_give_several_maps_and_integer_inputs_work():
    rgb = np.random.default_rng(3).integers(0, 256, (3, 8, 6))
    K = np.random.default_rng(4).integers(-2, 3, (4, 3, 3, 3))
    Y = symnn.feature_map(rgb, K, stride=2, padding=1)
    assert Y.shape == (4, 4, 3)
    np.testing.assert_array_equal(Y, reference(rgb, K, 2, 1))
    assert symnn.feature_map(rgb, K[0]).shape == (6, 4)
    assert symnn.feature_map(np.ones((1, 4, 4)), np.ones((2, 2))).tolist() == [[4.0] * 3] * 3


@pytest.mark.parametrize(
    "image, kernel, kwargs, match",
    [
        (np.zeros((3, 5, 5)), np.ones((3, 3)), {}, "channel mismatch: the image has 3 channels"),
        (np.zeros((3, 5, 5)), np.ones((2, 3, 3)), {}, "channel mismatch"),
        (np.zeros((5, 5)), np.ones((2, 2, 3, 3)), {}, "channel mismatch"),
        (np.zeros((4, 4)), np.ones((5, 3)), {}, "larger than the 4x4 image"),
        (np.zeros((4, 4)), np.ones((7, 3)), {"padding": 1}, "larger than the 6x6 padded image"),
        (np.zeros((4, 4)), np.ones((2, 2)), {"stride": 0}, "stride must be an integer from 1 to"),
        (np.zeros((4, 4)), np.ones((2, 2)), {"stride": -1}, "stride must be"),
        (np.zeros((4, 4)), np.ones((2, 2)), {"stride": 1.5}, "stride must be"),
        (np.zeros((4, 4)), np.ones((2, 2)), {"padding": -1}, "padding must be an integer from 0 to"),
        (np.full((4, 4), np.nan), np.ones((2, 2)), {}, "image holds NaN or infinite"),
        (np.zeros((4, 4)), [[1, np.inf]], {}, "kernel holds NaN or infinite"),
        (np.zeros(4), np.ones((2, 2)), {}, "the image must be"),
        (np.zeros((1, 1, 4, 4)), np.ones((2, 2)), {}, "the image must be"),
        (np.zeros((4, 4)), np.ones(2), {}, "the kernel must be"),
        (np.zeros((0, 4)), np.ones((2, 2)), {}, "empty"),
        (np.array([["a"]]), np.ones((1, 1)), {}, "real numbers"),
    ],
)
def test_clear_one_line_errors(image, kernel, kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        symnn.feature_map(image, kernel, **kwargs)
    assert "\n" not in str(info.value)


# -- the command ---------------------------------------------------------------------------------
def test_cli_default_is_the_lecture_example(capsys):
    assert main(["feature-map"]) == 0
    out = capsys.readouterr().out
    assert "The lecture example" in out and "1 4 2 1 0" in out
    assert "The slide shows 1 at row 3, column 3" in out


def test_cli_steps_inline_and_files(tmp_path, capsys):
    assert main(["feature-map", "--steps"]) == 0
    out = capsys.readouterr().out
    assert out.count("Step ") >= 25 and "!! the slide shows 1 here" in out
    (tmp_path / "img.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    assert (
        main(
            [
                "feature-map",
                "--image",
                str(tmp_path / "img.csv"),
                "--kernel",
                "1 0; 0 -1",
                "--steps",
                "--format",
                "markdown",
                "--stride",
                "2",
                "--padding",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "### Step 4 of 4" in out and "slide" not in out
    assert main(["feature-map", "--image", "1 2; 3 4", "--kernel", "1 1 1; 1 1 1; 1 1 1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "larger than the 2x2 image" in err
    assert main(["feature-map", "--image", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["feature-map", "--stride", "0"]) == 2


def test_cli_output_file_is_not_overwritten_without_force(tmp_path, capsys):
    target = tmp_path / "mine.md"
    target.write_text("my notes\n")
    assert main(["feature-map", "--format", "markdown", "-o", str(target)]) == 2
    assert target.read_text() == "my notes\n" and "--force" in capsys.readouterr().err
    assert main(["feature-map", "--format", "markdown", "-o", str(target), "--force"]) == 0
    assert "The slide shows 1" in target.read_text()


@pytest.mark.parametrize("compact", [False, True])
def test_latex_steps_compile(tmp_path, compact):
    pdflatex = pdflatex_or_skip()
    tex = tmp_path / "steps.tex"
    args = ["feature-map", "--steps", "--format", "latex", "-o", str(tex)] + (["--compact"] if compact else [])
    assert main(args) == 0
    proc = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert (tmp_path / "steps.pdf").stat().st_size > 1000
