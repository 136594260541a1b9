"""Reading and writing images and small matrices (symnn.vision.images, symnn.vision.matrices)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from symnn.errors import FileError, InputError
from symnn.outputs import is_ours
from symnn.vision import images
from symnn.vision.images import default_image, read_image, to_channels_first, to_channels_last, write_image
from symnn.vision.matrices import read_matrix


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)


def test_png_round_trip_uint8(tmp_path, rgb):
    for arr in (rgb, rgb[:, :, 1]):
        p = write_image(tmp_path / "a.png", arr)
        back = read_image(p)
        assert back.dtype == np.uint8
        np.testing.assert_array_equal(back, arr)


def test_written_png_is_tagged_and_replaceable(tmp_path, rgb):
    p = write_image(tmp_path / "a.png", rgb)
    head = p.read_bytes()[:4096]
    assert b"Software\x00symnn" in head and is_ours(p)
    with Image.open(p) as im:
        assert im.info.get("Software") == "symnn"
    write_image(p, rgb[::-1])  # ours: replaced without force
    np.testing.assert_array_equal(read_image(p), rgb[::-1])
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_refuses_to_overwrite_foreign_file(tmp_path, rgb):
    foreign = tmp_path / "photo.png"
    Image.fromarray(rgb).save(foreign)
    before = foreign.read_bytes()
    with pytest.raises(FileError, match=r"not written by symnn \(or was changed since\)"):
        write_image(foreign, rgb[:, :, 0])
    assert foreign.read_bytes() == before
    write_image(foreign, rgb[:, :, 0], force=True)
    assert read_image(foreign).ndim == 2


def test_float_clipped_and_scaled(tmp_path):
    f = np.array([[-0.5, 0.0, 0.5], [1.0, 1.7, 0.25]])
    back = read_image(write_image(tmp_path / "f.png", f))
    np.testing.assert_array_equal(back, [[0, 0, 128], [255, 255, 64]])
    with pytest.raises(InputError, match="1 NaN value"):
        write_image(tmp_path / "n.png", np.array([[np.nan, 0.0]]))


def test_integer_and_16_bit(tmp_path):
    ints = np.array([[-20, 0, 100], [255, 300, 7]], dtype=np.int64)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "i.png", ints)), [[0, 0, 100], [255, 255, 7]])
    u16 = (np.arange(12, dtype=np.uint16) * 5000).reshape(3, 4)
    back = read_image(write_image(tmp_path / "u.png", u16))
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, u16)
    np.testing.assert_array_equal(
        read_image(write_image(tmp_path / "b.png", np.eye(2, dtype=bool))), [[255, 0], [0, 255]]
    )


def test_jpeg_written_tagged(tmp_path, rgb):
    big = np.repeat(np.repeat(rgb, 8, axis=0), 8, axis=1)
    p = write_image(tmp_path / "a.jpg", big)
    assert is_ours(p)
    back = read_image(p)
    assert back.shape == big.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - big).mean() < 20  # lossy, but close
    write_image(p, big)  # ours: replaced


@pytest.mark.parametrize("shape", [(3,), (2, 3, 5), (3, 4, 4, 1), (0, 4)])
def test_write_bad_shapes(tmp_path, shape):
    with pytest.raises(InputError, match="image"):
        write_image(tmp_path / "x.png", np.zeros(shape))


def test_write_bad_suffix_and_directory(tmp_path, rgb):
    with pytest.raises(InputError, match=r"symnn writes \.png, \.jpg or \.jpeg"):
        write_image(tmp_path / "x.bmp", rgb)
    (tmp_path / "d.png").mkdir()
    with pytest.raises(FileError, match="is a directory"):
        write_image(tmp_path / "d.png", rgb)


def test_alpha_dropped_with_warning(tmp_path, rgb):
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        out = read_image(tmp_path / "rgba.png")
    np.testing.assert_array_equal(out, rgb)
    Image.fromarray(rgba[:, :, [0, 3]]).convert("LA").save(tmp_path / "la.png")
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        assert read_image(tmp_path / "la.png").ndim == 2


def test_palette_and_bilevel(tmp_path, rgb):
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(tmp_path / "p.png").shape == rgb.shape
    Image.fromarray(np.eye(3, dtype=np.uint8) * 255).convert("1").save(tmp_path / "one.png")
    np.testing.assert_array_equal(read_image(tmp_path / "one.png"), np.eye(3) * 255)


def test_read_errors(tmp_path):
    with pytest.raises(FileError, match=r"^no such file: .*nope\.png; give the path of an existing file$"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(FileError, match="is a directory; give a file"):
        read_image(tmp_path)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(FileError, match="is not an image symnn can read; give a PNG or JPEG file"):
        read_image(text)
    good = tmp_path / "t.png"
    Image.fromarray(np.zeros((64, 64), np.uint8) + 3).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:60])
    with pytest.raises(FileError, match="cannot read image"):
        read_image(cut)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_read_permission_denied(tmp_path, rgb):
    p = write_image(tmp_path / "a.png", rgb)
    p.chmod(0)
    with pytest.raises(FileError, match="permission denied"):
        read_image(p)


def test_default_image():
    assert images.DEFAULT_IMAGE_NAME == "grace_hopper.jpg"
    assert images.default_image_path().is_file()
    img = default_image()
    assert img.dtype == np.uint8 and img.shape == (600, 512, 3)
    assert img.std() > 10  # a real photograph, not a constant


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0 0 1; 1 0 0", [[0, 0, 1], [1, 0, 0]]),
        ("0,0,1\n1,0,0\n", [[0, 0, 1], [1, 0, 0]]),
        (" 1.5, -2 ;3e1  4 ;", [[1.5, -2], [30, 4]]),
        ("7", [[7]]),
    ],
)
def test_read_matrix_inline(text, expected):
    m = read_matrix(text)
    assert m.dtype == np.float64
    np.testing.assert_array_equal(m, expected)


@pytest.mark.parametrize(
    "text, error, message",
    [
        ("1 2; 3", InputError, r"^row 2 has 1 value\(s\) but row 1 has 2; every row needs the same number of values$"),
        ("1 2; 3 x", InputError, r"^row 2, column 2: 'x' is not a number; a matrix holds numbers"),
        ("1 inf", InputError, r"^row 1, column 2: 'inf' is not a finite number"),
        ("  ; ", InputError, r"^the matrix holds no numbers; a matrix holds numbers"),
        (
            "kernels/sharpen.txt",
            FileError,
            r"^no such file: kernels/sharpen\.txt; give an existing file or an inline matrix",
        ),
    ],
)
def test_read_matrix_inline_errors(text, error, message):
    with pytest.raises(error, match=message):
        read_matrix(text)


def test_read_matrix_files(tmp_path):
    (tmp_path / "k.csv").write_text("# a comment\n0,1,0\n1,-4,1\n\n0,1,0\n")
    np.testing.assert_array_equal(read_matrix(tmp_path / "k.csv"), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    (tmp_path / "k.txt").write_text("1 2\t3\r\n4 5 6\r\n")
    np.testing.assert_array_equal(read_matrix(str(tmp_path / "k.txt")), [[1, 2, 3], [4, 5, 6]])
    gray = np.array([[0, 255, 0], [255, 0, 255]], np.uint8)
    Image.fromarray(gray).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_matrix(tmp_path / "m.png"), gray)
    np.testing.assert_array_equal(read_matrix(np.eye(2)), np.eye(2))


def test_read_matrix_file_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2,3\n4,five,6\n")
    with pytest.raises(InputError, match=r"bad\.csv: line 2, column 2: the value there is not a number") as info:
        read_matrix(tmp_path / "bad.csv")
    assert "five" not in str(info.value)  # a file's text is never quoted
    (tmp_path / "ragged.txt").write_text("1 2 3\n4 5\n")
    with pytest.raises(InputError, match=r"ragged\.txt: line 2: row 2 has 2 value\(s\) but row 1 has 3"):
        read_matrix(tmp_path / "ragged.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(InputError, match=r"empty\.txt holds no numbers"):
        read_matrix(tmp_path / "empty.txt")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    with pytest.raises(FileError, match="is neither a PNG/JPEG image nor a text matrix"):
        read_matrix(tmp_path / "blob.bin")
    with pytest.raises(FileError, match="is a directory"):
        read_matrix(tmp_path)
    with pytest.raises(FileError, match="no such file"):
        read_matrix(tmp_path / "missing.csv")
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (3, 3, 3), dtype=np.uint8)).save(tmp_path / "c.png")
    with pytest.raises(InputError, match="is a colour image; a matrix file must be a grayscale image"):
        read_matrix(tmp_path / "c.png")
    with pytest.raises(InputError, match="non-empty 2-D array"):
        read_matrix(np.ones(3))


def test_channels(rgb):
    chw = to_channels_first(rgb)
    assert chw.shape == (3, 7, 5) and chw.flags.c_contiguous
    np.testing.assert_array_equal(chw[1], rgb[:, :, 1])
    np.testing.assert_array_equal(to_channels_last(chw), rgb)
    gray = rgb[:, :, 0]
    assert to_channels_first(gray).shape == (1, 7, 5)
    np.testing.assert_array_equal(to_channels_last(to_channels_first(gray)), gray)
    with pytest.raises(InputError):
        to_channels_first(np.zeros(3))
    with pytest.raises(InputError):
        to_channels_last(np.zeros((1, 2, 3, 4)))
