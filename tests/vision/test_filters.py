"""symnn.vision.filters and convolve (GIMP's convolution-matrix kernels from generated kernels) and `symnn filter`."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from symnn.cli import main
from symnn.codegen import kernel
from symnn.errors import FileError, InputError, UnknownNameError
from symnn.vision import convolve, filters

SCIPY_MODE = {"extend": "nearest", "wrap": "wrap", "zero": "constant"}
NAMES = list(filters.KERNELS)[:5]
RNG = np.random.default_rng(0)


def reference(image, k, border, divisor=None, offset=None):
    """scipy.ndimage.correlate with the matching mode, then GIMP's divisor and offset, clipped and
    (integer images) rounded; per channel for colour images."""
    img = np.asarray(image)
    k = np.asarray(k, dtype=float)
    norm = filters.normalisation(k)
    d = norm.divisor if divisor is None else divisor
    vmax = convolve.value_range(img.dtype)
    o = (norm.offset if offset is None else offset) * vmax / 255
    planes = [img] if img.ndim == 2 else [img[:, :, c] for c in range(img.shape[2])]
    out = []
    for p in planes:
        p = p.astype(float)
        if border == "crop":
            kh, kw = k.shape
            r = ndimage.correlate(p, k, mode="nearest")[
                kh // 2 : p.shape[0] - kh + 1 + kh // 2, kw // 2 : p.shape[1] - kw + 1 + kw // 2
            ]
        else:
            r = ndimage.correlate(p, k, mode=SCIPY_MODE[border], cval=0.0)
        out.append(np.clip(r / d + o, 0, vmax))
    r = out[0] if img.ndim == 2 else np.stack(out, -1)
    return np.rint(r).astype(img.dtype) if img.dtype.kind in "ui" else r.astype(img.dtype)


def check(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    if got.dtype.kind in "ui":  # rounding of a sum computed in another order: at most 1 apart
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# -- the kernels and the rule --------------------------------------------------------------------
def test_the_lecture_kernels_and_gimp_normalisation():
    K = filters.KERNELS
    assert K["sharpen"].shape == K["blur"].shape == (5, 5)
    assert K["sharpen"][2].tolist() == [0, -1, 5, -1, 0] and K["sharpen"][:, 2].tolist() == [0, -1, 5, -1, 0]
    assert K["sharpen"].sum() == 1 and np.count_nonzero(K["sharpen"]) == 5
    assert K["blur"][1:4, 1:4].tolist() == [[1] * 3] * 3 and K["blur"].sum() == 9
    assert K["edge-enhance"].tolist() == [[0, 0, 0], [-1, 1, 0], [0, 0, 0]]
    assert K["edge-detect"].tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert K["emboss"].tolist() == [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
    assert not K["blur"].flags.writeable
    n = {name: filters.normalisation(k) for name, k in K.items()}
    assert (n["sharpen"].divisor, n["sharpen"].offset) == (1, 0)
    assert (n["blur"].divisor, n["blur"].offset) == (9, 0)
    assert (n["edge-detect"].divisor, n["edge-detect"].offset) == (1, 128)
    assert (n["edge-enhance"].divisor, n["edge-enhance"].offset) == (1, 128)
    assert (n["emboss"].divisor, n["emboss"].offset) == (1, 0)
    neg = filters.normalisation([[0, -1, 0], [-1, -2, -1], [0, -1, 0]])
    assert (neg.divisor, neg.offset) == (6, 255)


def test_named_kernels_are_specialised():
    src = kernel("filter.sharpen").source
    interior = next(x for x in src.splitlines() if x.strip().startswith("Y[i, j] ="))
    assert interior.count("X[") == 5 and "5*X[i, j + 1]" in interior  # 25 coefficients, 5 read
    assert "for m" not in src.split("def filter_sharpen")[1]
    blur = next(x for x in kernel("filter.blur").source.splitlines() if x.strip().startswith("Y[i, j] ="))
    assert blur.count("X[") == 9 and "1/9" in blur  # the divisor folded in
    generic = kernel("filter.generic").source
    assert "for m in range(k_h)" in generic and "K[m, n]" in generic
    ring = kernel("filter.sharpen.ring").source
    assert "R[i + 2]" in ring and "Y_top" in ring and "prange(" not in ring


# -- against scipy.ndimage -----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("border", ["extend", "wrap", "zero", "crop"])
def test_named_filter_matches_scipy_grayscale_and_rgb(name, border):
    k = filters.KERNELS[name]
    gray = RNG.random((13, 11))
    check(convolve.apply(gray, name, border), reference(gray, k, border))
    rgb = RNG.integers(0, 256, (9, 12, 3), dtype=np.uint8)
    check(convolve.apply(rgb, name, border), reference(rgb, k, border))


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (2, 3), (4, 4), (3, 1)])
@pytest.mark.parametrize("border", ["extend", "wrap", "zero"])
def test_tiny_images_smaller_than_the_kernel(shape, border):
    x = RNG.random(shape)
    for name in ("blur", "emboss"):
        check(convolve.apply(x, name, border), reference(x, filters.KERNELS[name], border))


def test_parallel_variant_matches():
    for shape in [(1, 1), (3, 2), (40, 37)]:
        x = RNG.random(shape)
        for border in ("extend", "wrap", "zero"):
            check(convolve.apply(x, "sharpen", border, parallel=True), reference(x, filters.KERNELS["sharpen"], border))
    src = kernel("filter.sharpen.parallel").source
    assert src.count("prange(") == 1 and "Y_top" not in src  # one parallel loop: the interior


def test_uint16_and_float32_keep_their_dtype_and_range():
    x16 = RNG.integers(0, 65536, (10, 9), dtype=np.uint16)
    check(convolve.apply(x16, "edge-detect"), reference(x16, filters.KERNELS["edge-detect"], "extend"))
    x32 = RNG.random((10, 9)).astype(np.float32)
    got = convolve.apply(x32, "sharpen")
    assert got.dtype == np.float32 and got.min() >= 0 and got.max() <= 1
    np.testing.assert_allclose(got, reference(x32.astype(float), filters.KERNELS["sharpen"], "extend"), atol=1e-6)


def test_generic_path_user_kernels(tmp_path):
    for trial in range(12):
        kh, kw = RNG.integers(1, 6, 2)
        k = RNG.integers(-3, 4, (kh, kw)).astype(float)
        border = ["extend", "wrap", "zero", "crop"][trial % 4]
        x = RNG.random((int(RNG.integers(kh, 12)), int(RNG.integers(kw, 12))))
        check(convolve.apply(x, k, border), reference(x, k, border))
    f = tmp_path / "my_kernel.txt"
    f.write_text("# a vertical edge\n1 0 -1\n2 0 -2\n1 0 -1\n")
    x = RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    sobel = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    check(convolve.apply(x, str(f)), reference(x, sobel, "extend"))
    check(convolve.apply(x, "1 0 -1; 2 0 -2; 1 0 -1", "zero"), reference(x, sobel, "zero"))
    assert filters.resolve(str(f))[0] == "my_kernel"
    # a kernel summing to a negative number is inverted (offset 255)
    inv = [[0, -1, 0], [-1, -2, -1], [0, -1, 0]]
    flat = np.full((5, 5), 100, np.uint8)
    assert np.all(convolve.apply(flat, inv) == 155)
    check(convolve.apply(x, inv, "wrap"), reference(x, inv, "wrap"))
    # explicit divisor and offset (GIMP with "Normalise" off)
    check(convolve.apply(x, "blur", divisor=4, offset=10), reference(x, filters.KERNELS["blur"], "extend", 4, 10))
    # a user kernel specialised on request (a dynamic generated kernel)
    check(convolve.apply(x, sobel, specialise=True), reference(x, sobel, "extend"))


def test_add_kernel_is_specialised_and_listed():
    try:
        filters.add_kernel("ridge", "-1 -1 -1; -1 8 -1; -1 -1 -1", "ridge detection")
        assert "ridge" in filters.KERNELS
        k = filters.generated_kernel("ridge")
        assert k.specialised and k.interior.name == "filter.ridge" and k.ring.name == "filter.ridge.ring"
        x = RNG.random((7, 6))
        check(convolve.apply(x, "ridge"), reference(x, filters.KERNELS["ridge"], "extend"))
    finally:
        filters.KERNELS.pop("ridge", None)
        filters.DESCRIPTIONS.pop("ridge", None)


def test_large_kernels_use_the_generic_path():
    k = np.ones((17, 17))
    x = RNG.random((20, 23))
    check(convolve.apply(x, k), reference(x, k, "extend"))
    with pytest.raises(InputError, match="unrolls at most 256 coefficients"):
        convolve.apply(x, k, specialise=True)


# -- properties ----------------------------------------------------------------------------------
@pytest.mark.parametrize("border", ["extend", "wrap", "zero", "crop"])
def test_identity_returns_the_image(border):
    img = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    got = convolve.apply(img, filters.IDENTITY, border)
    want = img[1:-1, 1:-1] if border == "crop" else img
    np.testing.assert_array_equal(got, want)
    f = RNG.random((6, 5))
    np.testing.assert_array_equal(convolve.apply(f, filters.IDENTITY, border), f[1:-1, 1:-1] if border == "crop" else f)


def test_blur_of_a_constant_is_the_constant_and_edge_detect_is_the_offset():
    for border in ("extend", "wrap", "crop"):
        c8 = np.full((9, 8, 3), 77, np.uint8)
        assert np.all(convolve.apply(c8, "blur", border) == 77)
        assert np.all(convolve.apply(c8, "edge-detect", border) == 128)
        cf = np.full((9, 8), 0.3)
        np.testing.assert_allclose(convolve.apply(cf, "blur", border), 0.3, rtol=1e-14)
        np.testing.assert_allclose(convolve.apply(cf, "edge-detect", border), 128 / 255, rtol=1e-14)
    # with zero borders the frame darkens: the window there sees zeros
    got = convolve.apply(np.full((6, 6), 90, np.uint8), "blur", "zero")
    assert got[0, 0] == 40 and got[3, 3] == 90


def test_output_is_clipped_to_the_range():
    x = np.zeros((5, 5))
    x[2, 2] = 1.0
    y = convolve.apply(x, "sharpen")
    assert y[2, 2] == 1.0 and y[1, 2] == 0.0  # 5 clipped to 1, −1 clipped to 0


@pytest.mark.parametrize(
    "image, kwargs, error, match",
    [
        (np.zeros((4, 4)), {"kernel": "sharpn"}, UnknownNameError, "unknown kernel 'sharpn'"),
        (np.zeros((4, 4)), {"border": "mirror"}, UnknownNameError, "unknown border 'mirror'"),
        (np.full((4, 4), np.nan), {}, InputError, "NaN"),
        (np.zeros((3, 8, 8)), {}, InputError, "channels first"),
        (np.zeros(5), {}, InputError, r"\(H, W\) grayscale"),
        (np.zeros((4, 4), bool), {}, InputError, "dtype bool"),
        (np.zeros((4, 4)), {"kernel": "blur", "border": "crop"}, InputError, "larger than the 4x4 image"),
        (np.zeros((4, 4)), {"kernel": "1 2; 3"}, InputError, "row 2 has 1 value"),
        (np.zeros((4, 4)), {"kernel": "nosuch/kernel.txt"}, FileError, "no such file"),
        (np.zeros((4, 4)), {"kernel": "blur", "divisor": 0}, InputError, "divisor must be a non-zero"),
    ],
)
def test_errors(image, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        convolve.apply(image, **kwargs)
    assert "\n" not in str(info.value)


# -- the command ---------------------------------------------------------------------------------
def _listed(folder) -> list[str]:
    """The folder's files, but for symnn's manifest of what it wrote there."""
    from symnn.outputs import MANIFEST

    return sorted(n for n in os.listdir(folder) if n != MANIFEST)


@pytest.fixture
def serial(monkeypatch):
    """The CLI on the default photo uses the serial kernels (the parallel ones are tested above)."""
    monkeypatch.setattr(convolve, "PARALLEL_MIN_PIXELS", 10**9)


def test_cli_all_on_the_default_photo(tmp_path, capsys, serial):
    from symnn.commands.filter import sheet_size
    from symnn.vision.images import default_image, read_image

    assert main(["filter", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    names = [f"grace_hopper-{n}.png" for n in NAMES] + ["grace_hopper-filters.png"]
    assert _listed(tmp_path) == sorted(names)
    assert "wrote 6 files" in out and all(n in out for n in names)
    photo = default_image()
    sharpened = read_image(tmp_path / "grace_hopper-sharpen.png")
    np.testing.assert_array_equal(sharpened, convolve.apply(photo, "sharpen"))
    assert read_image(tmp_path / "grace_hopper-edge-detect.png").shape == photo.shape
    sheet = np.asarray(Image.open(tmp_path / "grace_hopper-filters.png").convert("RGB"))
    assert (sheet.shape[1], sheet.shape[0]) == sheet_size(6)
    assert sheet.ndim == 3 and sheet.std() > 20 and len(np.unique(sheet.reshape(-1, 3), axis=0)) > 1000
    # each panel region holds a picture, not a blank
    h, w = sheet.shape[:2]
    for r in range(2):
        for c in range(3):
            panel = sheet[r * h // 2 : (r + 1) * h // 2, c * w // 3 : (c + 1) * w // 3]
            assert panel.std() > 5
    # again: symnn's own files are replaced without --force
    assert main(["filter", "--out", str(tmp_path), "--quiet"]) == 0


def test_cli_one_kernel_file_and_crop(tmp_path, capsys, serial):
    img = RNG.integers(0, 256, (20, 16), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "photo.png")
    (tmp_path / "k.csv").write_text("0,1,0\n1,-4,1\n0,1,0\n")
    assert (
        main(
            [
                "filter",
                str(tmp_path / "photo.png"),
                "--kernel",
                str(tmp_path / "k.csv"),
                "--border",
                "crop",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "wrote 1 file" in out and "14x18" in out
    got = np.asarray(Image.open(tmp_path / "out" / "photo-k.png"))
    check(got, reference(img, filters.KERNELS["edge-detect"], "crop"))
    assert not (tmp_path / "out" / "photo-filters.png").exists()
    assert main(["filter", str(tmp_path / "photo.png"), "--kernel", "blur,emboss", "--out", str(tmp_path / "two")]) == 0
    assert _listed(tmp_path / "two") == ["photo-blur.png", "photo-emboss.png", "photo-filters.png"]


def test_cli_bad_files_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an image\n")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    for arg in ["missing.png", "notes.txt", "broken.png", "."]:
        assert main(["filter", str(tmp_path / arg), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("symnn: error:"), err
    assert main(["filter", "--kernel", "nosuch", "--out", str(tmp_path / "o")]) == 2
    assert "unknown kernel 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")


def test_cli_refuses_to_overwrite_the_input_and_foreign_files(tmp_path, capsys, serial):
    img = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    src = tmp_path / "photo.png"
    Image.fromarray(img).save(src)
    os.link(src, tmp_path / "photo-blur.png")  # the output name is the input file
    assert main(["filter", str(src), "--kernel", "blur", "--out", str(tmp_path), "--force"]) == 2
    assert "is the input image; refusing to overwrite it" in capsys.readouterr().err
    np.testing.assert_array_equal(np.asarray(Image.open(src)), img)
    (tmp_path / "photo-blur.png").unlink()
    (tmp_path / "photo-blur.png").write_bytes(b"someone else's file")
    assert main(["filter", str(src), "--kernel", "blur", "--out", str(tmp_path)]) == 2
    assert "was not written by symnn" in capsys.readouterr().err
    assert main(["filter", str(src), "--kernel", "blur", "--out", str(tmp_path), "--force"]) == 0
