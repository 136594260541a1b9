"""Untrusted input to the vision side (images, matrices, feature maps, filters): every bad input
is one line (a SymnnError; exit code 2 from the CLI, no traceback), nothing hangs or allocates
past the memory limit, a file's contents are never quoted, and no input file is overwritten."""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import symnn
from symnn.cli import main
from symnn.errors import FileError, InputError, SymnnError, UnknownNameError
from symnn.vision import convolve
from symnn.vision.images import read_image
from symnn.vision.matrices import read_matrix
from symnn.vision.step_tables import steps

RNG = np.random.default_rng(7)
CAP = 1 << 30  # address space of the subprocesses that could eat memory


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def _cli(*args, timeout=60, env=None, cwd=None):
    """`symnn ARGS` in a child with 1 GB of address space and a timeout: (code, stderr)."""
    full = {**os.environ, **(env or {})}
    r = subprocess.run(
        [sys.executable, "-m", "symnn", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
        env=full,
        cwd=cwd,
    )
    return r.returncode, r.stderr


def _one_line(code, err):
    assert code == 2, err
    assert err.startswith("symnn: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(path: Path, w: int, h: int) -> Path:
    """A small PNG whose header declares w x h 8-bit gray pixels (its data is far shorter)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )
    return path


# -- files that are not regular files ------------------------------------------------------------
def test_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "k.fifo"
    os.mkfifo(fifo)
    for args in (
        ["feature-map", "--kernel", str(fifo)],
        ["feature-map", "--image", str(fifo)],
        ["filter", str(fifo), "--out", str(tmp_path / "o")],
    ):
        err = _one_line(*_cli(*args, timeout=30))  # a hang would time out
        assert f"{fifo} is a FIFO (named pipe), not a regular file; give a file" in err


def test_dev_zero_is_refused_in_a_memory_capped_child(tmp_path):
    for args in (
        ["feature-map", "--image", "/dev/zero"],
        ["feature-map", "--kernel", "/dev/zero"],
        ["filter", "/dev/zero", "--out", str(tmp_path)],
        ["filter", "--kernel", "/dev/zero", "--out", str(tmp_path)],
    ):
        err = _one_line(*_cli(*args))
        assert "/dev/zero is a character device, not a regular file" in err


def test_directories_symlink_loops_and_dangling_links(tmp_path):
    (tmp_path / "dir.png").mkdir()
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    os.symlink(tmp_path / "nowhere.png", tmp_path / "dangling.png")
    for read in (read_image, read_matrix):
        with pytest.raises(FileError, match=r"dir\.png is a directory; give a file$"):
            read(str(tmp_path / "dir.png"))
        with pytest.raises(FileError, match=r"a: a loop of symbolic links; give a file$"):
            read(tmp_path / "a")
    with pytest.raises(FileError, match=r"^no such file: .*dangling\.png; give the path"):
        read_image(tmp_path / "dangling.png")
    with pytest.raises(FileError, match=r"dangling\.png; give the path of an existing file$"):
        read_matrix(str(tmp_path / "dangling.png"))  # exists as a link: read, and told why


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_kernel_file(tmp_path):
    k = tmp_path / "k.txt"
    k.write_text("1 0\n0 1\n")
    k.chmod(0)
    with pytest.raises(FileError, match="permission denied"):
        read_matrix(k)


def test_not_a_path_and_odd_names(tmp_path):
    with pytest.raises(InputError, match="give a file path .*; got int"):
        read_image(3)
    with pytest.raises(FileError, match=r"^'a\\x00b\.png' is not a valid file name$"):
        read_image("a\x00b.png")
    with pytest.raises(FileError, match=r"\.png \(5004 characters\): File name too long$") as info:
        read_image("x" * 5000 + ".png")
    assert len(str(info.value)) < 300
    odd = tmp_path / "two\nlines.png"
    odd.write_text("not an image")
    with pytest.raises(FileError, match="not an image symnn can read") as info:
        read_image(odd)
    assert "\n" not in str(info.value) and r"two\nlines.png" in str(info.value)


# -- size caps -----------------------------------------------------------------------------------
def test_text_is_read_only_up_to_the_cap(tmp_path):
    """A 20 GB sparse kernel file is refused in a child with 1 GB of address space: symnn reads
    at most SYMNN_MAX_TEXT + 1 bytes of it."""
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.write(b"1 2\n")
        fh.truncate(20 << 30)
    err = _one_line(*_cli("feature-map", "--kernel", str(big)))
    assert err == f"symnn: error: {big} is larger than 1.0 MB; give a smaller file or raise SYMNN_MAX_TEXT\n"


def test_text_cap_follows_the_environment(tmp_path, monkeypatch):
    k = tmp_path / "k.txt"
    k.write_text("1 " * 600)  # 1200 bytes
    np.testing.assert_array_equal(read_matrix(k), np.ones((1, 600)))
    monkeypatch.setenv("SYMNN_MAX_TEXT", "1K")
    with pytest.raises(InputError, match=r"k\.txt is larger than 1.0 KB; .* raise SYMNN_MAX_TEXT$"):
        read_matrix(k)
    with pytest.raises(InputError, match=r"^the inline matrix is larger than 1.0 KB"):
        read_matrix("1 " * 600)


@pytest.mark.parametrize("args, size", [(["--padding", "12000"], "12.9 GB"), (["--padding", "100000"], "894.1 GB")])
def test_padding_is_refused_before_allocating(args, size):
    err = _one_line(*_cli("feature-map", *args))
    assert f"would need about {size}, more than the limit of 4.0 GB" in err
    assert "SYMNN_MAX_MEMORY" in err


@pytest.mark.parametrize("option", ["--stride", "--padding"])
def test_huge_integers_are_one_line(option):
    err = _one_line(*_cli("feature-map", option, str(10**30)))
    assert f"{option[2:]} must be an integer from " in err and "about 31 digits" in err
    err = _one_line(*_cli("feature-map", option, "9" * 5000))  # past int()'s digit limit
    assert "is not an integer" in err and len(err) < 200


def test_feature_map_memory_and_work_limits(monkeypatch):
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "10M")
    with pytest.raises(
        InputError,
        match=r"padding 1000 \(1 map\(s\) of 2003x2003\) would need "
        r"about 91\.9 MB, more than the limit of 10\.0 MB; .*SYMNN_MAX_MEMORY",
    ):
        symnn.feature_map(np.ones((5, 5)), np.ones((3, 3)), padding=1000)
    with pytest.raises(InputError, match=r"1000000 map\(s\)"):
        symnn.feature_map(np.ones((1, 20, 20)), np.ones((10**6, 1, 3, 3)))
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "4G")
    monkeypatch.setenv("SYMNN_MAX_WORK", "1M")
    with pytest.raises(
        InputError,
        match=r"about 1\.16e\+07 multiply-adds, more than the limit of "
        r"1\.05e\+06; .*SYMNN_MAX_WORK",
    ):
        symnn.feature_map(np.ones((160, 160)), np.ones((25, 25)))  # 136² · 625


def test_images_declaring_huge_sizes(tmp_path, monkeypatch):
    with pytest.raises(
        FileError,
        match=r"bomb\.png declares more than 89478485 pixels, Pillow's "
        r"limit against decompression bombs",
    ):
        read_image(png_declaring(tmp_path / "bomb.png", 50000, 50000))
    liar = png_declaring(tmp_path / "liar.png", 5000, 5000)
    with pytest.raises(FileError, match=r"^cannot read image .*liar\.png: the data is truncated$"):
        read_image(liar)
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "100M")  # checked from the header, before decoding
    with pytest.raises(
        InputError,
        match=r"decoding the 5000x5000 image .*liar\.png would need "
        r"about 286\.1 MB, more than the limit of 100\.0 MB",
    ):
        read_image(liar)
    with pytest.raises(InputError, match="would need about 286.1 MB"):
        read_matrix(liar)  # the same through a matrix file
    err = _one_line(*_cli("filter", str(tmp_path / "bomb.png"), "--out", str(tmp_path / "o")))
    assert "decompression bombs" in err


def test_filter_memory_limit(monkeypatch):
    img = np.zeros((300, 200, 3), np.uint8)
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "2M")
    with pytest.raises(
        InputError,
        match=r"filtering the 200x300 image \(3 channel\(s\)\) with a 5x5 "
        r"kernel would need about .* MB, more than the limit of 2\.0 MB",
    ):
        convolve.apply(img, "blur")
    huge = np.broadcast_to(np.uint8(1), (40000, 40000))  # 1.6 GB as float64 planes: refused
    monkeypatch.setenv("SYMNN_MAX_MEMORY", "4G")
    with pytest.raises(InputError, match=r"40000x40000 .* would need about 59\.6 GB"):
        convolve.apply(huge, "blur")


# -- dtypes: clipped to the range, never wrapped round ----------------------------------------
@pytest.mark.parametrize(
    "dtype, vmax",
    [
        (np.uint8, 255),
        (np.int8, 127),
        (np.int16, 255),
        (np.int32, 255),
        (np.int64, 255),
        (np.uint16, 65535),
        (">u2", 65535),
        (np.uint32, 255),
        (np.float16, 1.0),
        (np.float32, 1.0),
        (np.float64, 1.0),
    ],
)
def test_edge_detect_clips_every_dtype(dtype, vmax):
    """A bright pixel on black: the centre goes to 0 (−4v + o), its four neighbours to the top of
    the range (v + o), the rest to the offset 128 in the dtype's units."""
    img = np.zeros((5, 5), dtype)
    img[2, 2] = vmax
    out = convolve.apply(img, "edge-detect")
    assert out.dtype == np.dtype(dtype) and convolve.value_range(np.dtype(dtype)) == vmax
    o = 128 * vmax / 255
    offset = np.rint(o) if np.dtype(dtype).kind in "ui" else o
    assert out[2, 2] == 0
    assert [out[1, 2], out[3, 2], out[2, 1], out[2, 3]] == [vmax] * 4
    np.testing.assert_allclose(out[0, 0], offset, rtol=1e-3)
    assert out.min() >= 0 and out.max() <= vmax


def test_int8_does_not_wrap():
    flat = np.full((4, 4), 127, np.int8)
    np.testing.assert_array_equal(convolve.apply(flat, "edge-detect"), 64)  # 128·127/255 rounded
    np.testing.assert_array_equal(convolve.apply(flat, "sharpen"), 127)
    neg = np.full((4, 4), -128, np.int8)
    np.testing.assert_array_equal(convolve.apply(neg, "blur"), 0)  # clipped, not 128


def test_bool_images_are_refused_by_the_filter():
    with pytest.raises(InputError, match="got dtype bool"):
        convolve.apply(np.ones((4, 4), bool), "blur")
    np.testing.assert_array_equal(symnn.feature_map(np.eye(3, dtype=bool), np.ones((2, 2))), [[2, 1], [1, 2]])


def test_overflow_and_huge_values():
    with pytest.raises(InputError, match="the feature map overflows float64"):
        symnn.feature_map(np.full((3, 3), 1e308), np.full((3, 3), 1e308))
    with pytest.raises(InputError, match="so large that their sum overflows"):
        convolve.apply(np.zeros((4, 4)), np.full((3, 3), 1e308))
    x = np.full((40, 40), 60000, np.float16)  # its sum overflows float16: no warning
    assert convolve.apply(x, "blur").max() == 1.0


# -- messages: names, secrets, brevity ----------------------------------------------------------
def test_a_list_of_kernel_names_names_the_unknown_one(tmp_path, capsys):
    assert main(["filter", "--kernel", "sharpen,blur,nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "symnn: error: unknown kernel 'nope' in --kernel 'sharpen,blur,nope'; choose names "
        "from: sharpen, blur, edge-enhance, edge-detect, emboss (or all, a kernel file, "
        "or an inline matrix)\n"
    )
    from symnn.commands.filter import _kernels

    assert _kernels("blur, emboss,blur") == [("blur", "blur"), ("emboss", "emboss")]
    assert _kernels("1,0,-1")[0][0] == "custom"  # numbers: an inline 1x3 matrix
    assert not os.listdir(tmp_path)


def test_file_contents_are_never_quoted(tmp_path, capsys):
    secret = tmp_path / "k.txt"
    secret.write_text("0 1 0\n1 password=hunter2 1\n0 1 0\n")
    with pytest.raises(InputError) as info:
        read_matrix(secret)
    assert str(info.value).startswith(
        f"{secret}: line 2, column 2: the value there is not a number; a matrix holds numbers"
    )
    nan_file = tmp_path / "n.txt"
    nan_file.write_text("1 nan\n")
    with pytest.raises(InputError, match=r"n\.txt: line 1, column 2: the value there is not a finite number"):
        read_matrix(nan_file)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hunter2\x00" + bytes(RNG.integers(0, 256, 512, dtype=np.uint8)))
    for args in (
        ["feature-map", "--kernel", str(secret)],
        ["filter", "--kernel", str(secret)],
        ["feature-map", "--image", str(junk)],
    ):
        assert main([*args, *(["--out", str(tmp_path / "o")] if args[0] == "filter" else [])]) == 2
        err = capsys.readouterr().err
        assert "hunter2" not in err and err.count("\n") == 1


def test_inline_text_is_quoted_briefly():
    with pytest.raises(InputError, match=r"^row 1, column 1: 'abcdefghijklmnopqrst\.\.\.' is not a number"):
        read_matrix("abcdefghijklmnopqrstuvwxyz" * 100 + " 1")
    with pytest.raises(UnknownNameError) as info:
        convolve.apply(np.zeros((3, 3)), "x" * 10000)
    assert len(str(info.value)) < 250


# -- outputs never replace inputs ------------------------------------------------------------
def test_feature_map_output_is_never_an_input(tmp_path, capsys):
    k = tmp_path / "k.txt"
    k.write_text("1 0\n0 1\n")
    os.symlink(k, tmp_path / "link.txt")
    for out in (k, tmp_path / "link.txt"):
        assert main(["feature-map", "--kernel", str(k), "-o", str(out), "--force"]) == 2
        assert "is an input file; refusing to overwrite it" in capsys.readouterr().err
    assert k.read_text() == "1 0\n0 1\n"


def test_filter_output_symlinked_to_the_input(tmp_path, capsys):
    src = tmp_path / "photo.png"
    Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8)).save(src)
    before = src.read_bytes()
    (tmp_path / "out").mkdir()
    os.symlink(src, tmp_path / "out" / "photo-blur.png")
    assert main(["filter", str(src), "--kernel", "blur", "--out", str(tmp_path / "out"), "--force"]) == 2
    assert "is the input image; refusing to overwrite it" in capsys.readouterr().err
    assert src.read_bytes() == before


# -- the hostile table -------------------------------------------------------------------------
I5, K3 = np.ones((5, 5)), np.ones((3, 3))
HOSTILE = [
    ("NaN kernel", lambda: symnn.feature_map(I5, np.full((3, 3), np.nan)), InputError, "NaN or infinite"),
    ("inf image", lambda: symnn.feature_map(np.full((5, 5), np.inf), K3), InputError, "NaN or infinite"),
    ("empty kernel", lambda: symnn.feature_map(I5, np.zeros((0, 0))), InputError, r"empty \(shape \(0, 0\)\)"),
    ("ragged image", lambda: symnn.feature_map([[1, 2], [3]], K3), InputError, "rows of equal length"),
    ("0-size image", lambda: symnn.feature_map(np.zeros((0, 5)), K3), InputError, "empty"),
    ("4-D image", lambda: symnn.feature_map(np.ones((1, 1, 5, 5)), K3), InputError, "4-D shape"),
    ("object array", lambda: symnn.feature_map(np.array([[1, None]], object), K3), InputError, "dtype object"),
    ("string image", lambda: symnn.feature_map("abc", K3), InputError, "real numbers"),
    ("complex image", lambda: symnn.feature_map(I5 + 1j, K3), InputError, "complex128"),
    ("negative padding", lambda: symnn.feature_map(I5, K3, padding=-3), InputError, r"padding .*\(got -3\)"),
    ("float stride", lambda: symnn.feature_map(I5, K3, stride=1.5), InputError, r"\(got 1\.5\)"),
    ("bool stride", lambda: symnn.feature_map(I5, K3, stride=True), InputError, r"\(got True\)"),
    ("None stride", lambda: symnn.feature_map(I5, K3, stride=None), InputError, r"\(got None\)"),
    ("inf padding", lambda: symnn.feature_map(I5, K3, padding=float("inf")), InputError, r"\(got inf\)"),
    ("stride 10**30", lambda: symnn.feature_map(I5, K3, stride=10**30), InputError, "about 31 digits"),
    ("int64 padding", lambda: symnn.feature_map(I5, K3, padding=np.int64(2**62)), InputError, "about 19 digits"),
    ("kernel bigger", lambda: symnn.feature_map(I5, np.ones((6, 6))), InputError, "larger than the 5x5"),
    ("steps: too many products", lambda: steps(np.ones((60, 60)), np.ones((30, 30))), InputError, "products"),
    (
        "steps: too much text",
        lambda: steps(np.ones((1100, 1100)), np.ones((1000, 1000)), cells=False),
        InputError,
        "print",
    ),
    ("filter: ragged image", lambda: convolve.apply([[1, 2], [3]]), InputError, "rows of equal length"),
    ("filter: complex", lambda: convolve.apply(np.ones((4, 4), complex)), InputError, "complex128"),
    ("filter: ragged kernel", lambda: convolve.apply(I5, [[1, 2], [3]]), InputError, "equal length"),
    ("filter: string kernel", lambda: convolve.apply(I5, [["a", "b"]]), InputError, "real numbers"),
    ("filter: complex kernel", lambda: convolve.apply(I5, np.ones((3, 3), complex)), InputError, "real numbers"),
    ("filter: 3-D kernel", lambda: convolve.apply(I5, np.ones((3, 3, 3))), InputError, "2-D"),
    ("filter: None kernel", lambda: convolve.apply(I5, None), InputError, "got NoneType"),
    ("filter: divisor text", lambda: convolve.apply(I5, "blur", divisor="2"), InputError, "divisor must be"),
    ("filter: offset inf", lambda: convolve.apply(I5, "blur", offset=float("inf")), InputError, "offset must be"),
    ("filter: border None", lambda: convolve.apply(I5, "blur", border=None), UnknownNameError, "unknown border"),
    ("filter: (H, W, 5)", lambda: convolve.apply(np.ones((6, 6, 5))), InputError, r"\(6, 6, 5\)"),
    ("filter: 1 MB inline", lambda: convolve.apply(I5, "1 " * (1 << 20)), InputError, "larger than 1.0 MB"),
    ("filter: NUL path", lambda: convolve.apply(I5, "a\x00b.txt"), FileError, "no such file"),
    ("matrix: bytes", lambda: read_matrix(b"1 2"), InputError, "got bytes"),
    ("matrix: 1e999", lambda: read_matrix("1e999"), InputError, "not a finite number"),
    ("matrix: object", lambda: read_matrix(np.array([[None]], object)), InputError, "dtype object"),
]


@pytest.mark.parametrize("what, call, error, match", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_inputs_are_one_line(what, call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, SymnnError) and "\n" not in str(info.value)


def test_odd_but_valid_images(tmp_path):
    rgb = RNG.integers(0, 256, (9, 9, 3), dtype=np.uint8)
    frames = [Image.fromarray(np.roll(rgb, k, axis=0)) for k in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], loop=0)
    assert read_image(tmp_path / "anim.gif").shape == (9, 9, 3)  # the first frame
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg")
    assert read_image(tmp_path / "cmyk.jpg").shape == (9, 9, 3)
    u16 = (np.arange(81, dtype=np.uint16) * 800).reshape(9, 9)
    Image.fromarray(u16).save(tmp_path / "u16.png")
    np.testing.assert_array_equal(read_matrix(tmp_path / "u16.png"), u16)  # 16-bit values as numbers
    Image.fromarray(np.dstack([rgb, rgb[:, :, :1]])).save(tmp_path / "rgba.png")
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), rgb)
    with pytest.raises(InputError, match="is a colour image"):  # one error, no warning first
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            read_matrix(tmp_path / "rgba.png")
    (tmp_path / "x.ico").write_bytes(b"\x00\x00\x01\x00" + b"\x00" * 60)  # a format not read
    with pytest.raises(FileError, match="is not an image symnn can read"):
        read_image(tmp_path / "x.ico")
