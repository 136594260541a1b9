"""Reading and writing images and small matrices (PNG and JPEG through Pillow).

Images are NumPy arrays shaped (H, W) for grayscale and (H, W, 3) for RGB, as read; the kernels
and feature maps take channels first, (C, H, W): see to_channels_first / to_channels_last.
The dtype says the value range: uint8 0..255, uint16 0..65535, float 0..1.

Files are untrusted: only regular files are opened (FIFOs, devices and directories are refused
before opening), text is read up to SYMNN_MAX_TEXT bytes, an image's declared size is checked
against SYMNN_MAX_MEMORY and Pillow's decompression-bomb limit before decoding, only the decoders
in READ_FORMATS are used, and an error about a file names its line and column, never its text.
"""
from __future__ import annotations

import errno
import io
import os
import re
import stat
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np

from symnn.errors import FileError, InputError, SymnnError
from symnn.limits import check_memory, check_text_size, text_limit
from symnn.outputs import TAG, atomic_write

DEFAULT_IMAGE_NAME = "grace_hopper.jpg"  # matplotlib's bundled sample photo

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
# the decoders symnn lets Pillow use on untrusted files (not every plug-in Pillow has)
READ_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
# bytes per pixel while decoding: Pillow's buffer (<= 4), a converted copy (<= 4), the array (<= 4)
DECODE_BYTES_PER_PIXEL = 12
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


SHOWN_PATH = 200           # longest path an error message prints whole


def shown(path: object) -> str:
    """A path (or any user text) as one printable line: repr() if it holds control characters,
    cut short (with its length) past SHOWN_PATH characters."""
    s = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    s = s if isinstance(s, str) else os.fsdecode(s)
    if len(s) > SHOWN_PATH:
        s = f"{s[:SHOWN_PATH // 2]}...{s[-SHOWN_PATH // 4:]} ({len(s)} characters)"
    return s if s.isprintable() else repr(s)


def _stat_file(p: Path) -> os.stat_result:
    """stat() a path that must be an existing regular file; a FileError saying what it is."""
    if not isinstance(p, (str, os.PathLike)):
        raise InputError(f"give a file path (text or pathlib.Path); got {type(p).__name__}")
    try:
        st = os.stat(p)                                   # follows symlinks
    except ValueError:                                    # an embedded NUL byte
        raise FileError(f"{shown(p)} is not a valid file name") from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileError(f"no such file: {shown(p)}; give the path of an existing file") from None
        if exc.errno == errno.ELOOP:
            raise FileError(f"cannot open {shown(p)}: a loop of symbolic links; give a file") from None
        if exc.errno == errno.EACCES:
            raise FileError(f"cannot read {shown(p)}: permission denied") from None
        raise FileError(f"cannot open {shown(p)}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileError(f"{shown(p)} is a directory; give a file")
    _check_regular(st, p)
    return st


def _check_regular(st: os.stat_result, p: Path) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise FileError(f"{shown(p)} is {kind}, not a regular file; give a file")


def _open_checked(path: str | os.PathLike) -> Path:
    """The path of an existing, readable regular file, or a FileError saying what is wrong."""
    _stat_file(path)
    p = Path(path)
    if not os.access(p, os.R_OK):
        raise FileError(f"cannot read {shown(p)}: permission denied")
    return p


def open_regular(path: str | os.PathLike) -> tuple[Path, BinaryIO]:
    """Open a regular file for reading: FIFOs, devices, sockets and directories are refused
    before they are opened (stat), and again on the open descriptor (no swap in between)."""
    p = _open_checked(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise FileError(f"cannot read {shown(p)}: permission denied") from None
        raise FileError(f"cannot open {shown(p)}: {exc.strerror or exc}") from None
    try:
        _check_regular(os.fstat(fd), p)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return p, os.fdopen(fd, "rb")


def _format(im, path: Path) -> str:
    return (getattr(im, "format", None) or path.suffix.lstrip(".")).upper()


def _pil_to_array(im, path: Path) -> np.ndarray:
    """Pillow image -> (H, W) or (H, W, 3) array; alpha is dropped with a warning."""
    from PIL import Image

    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode == "1":
        im = im.convert("L")
    elif im.mode in ("LA", "La", "PA"):
        warnings.warn(f"{shown(path)}: alpha channel dropped (symnn reads grayscale or RGB)", stacklevel=3)
        im = im.getchannel(0)
    elif im.mode in ("RGBA", "RGBa"):
        warnings.warn(f"{shown(path)}: alpha channel dropped (symnn reads grayscale or RGB)", stacklevel=3)
        im = im.convert("RGB")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode.startswith("I;16") or (im.mode == "I" and _format(im, path) == "PNG"):
        return np.asarray(im).astype(np.uint16)     # 16-bit grey (Pillow < 10 reads it as mode I)
    elif im.mode not in ("L", "RGB", "I", "F"):
        im = im.convert("RGB")
    if not isinstance(im, Image.Image):  # pragma: no cover - Pillow always returns images
        raise FileError(f"cannot decode {path}")
    return np.array(im)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG or JPEG (or a GIF, BMP, TIFF, WebP or PPM) as (H, W) grayscale or (H, W, 3) RGB.

    8-bit files give uint8, 16-bit grayscale PNG gives uint16; an alpha channel is dropped with
    a warning; a JPEG's EXIF orientation is applied. Only regular files are opened; the size the
    header declares is checked against the memory limit (SYMNN_MAX_MEMORY) and Pillow's
    decompression-bomb limit before any pixel is decoded.
    """
    p, fh = open_regular(path)
    with fh:
        return _decode(fh, p)


def _decode(fh: BinaryIO, p: Path) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fh, formats=READ_FORMATS)
    except UnidentifiedImageError:
        raise FileError(f"{shown(p)} is not an image symnn can read; give a PNG or JPEG file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(p) from None
    except Exception as exc:  # noqa: BLE001 - any failure of a decoder on untrusted data
        raise FileError(f"cannot read image {shown(p)}: {_reason(exc)}") from None
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise FileError(f"cannot read image {shown(p)}: it declares {w}x{h} pixels")
        check_memory(w * h * DECODE_BYTES_PER_PIXEL, f"decoding the {w}x{h} image {shown(p)}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im2 = ImageOps.exif_transpose(im)
                im2.load()
                return _pil_to_array(im2, p)
        except SymnnError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb(p) from None
        except MemoryError:
            raise InputError(f"out of memory decoding the {w}x{h} image {shown(p)}; lower "
                             "SYMNN_MAX_MEMORY or give a smaller image") from None
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt data
            raise FileError(f"cannot read image {shown(p)}: {_reason(exc)}") from None


def _bomb(p: Path) -> FileError:
    from PIL import Image
    return FileError(f"{shown(p)} declares more than {Image.MAX_IMAGE_PIXELS} pixels, Pillow's "
                     "limit against decompression bombs (PIL.Image.MAX_IMAGE_PIXELS); give a "
                     "smaller image")


def _reason(exc: BaseException) -> str:
    """Why Pillow failed, without quoting the file's bytes (Pillow's messages may)."""
    text = str(exc).lower()
    if "truncated" in text or isinstance(exc, EOFError):
        return "the data is truncated"
    return f"the data is damaged or in a form symnn does not read ({type(exc).__name__})"


def _to_storable(array: np.ndarray) -> np.ndarray:
    """Clip to the dtype's range: uint8, or uint16 for 16-bit grayscale, ready to encode."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise InputError(f"an image must be (H, W) grayscale or (H, W, 3) RGB; got shape {a.shape} "
                         "(for channels-first (C, H, W) use to_channels_last)")
    if a.size == 0:
        raise InputError(f"cannot write an empty image (shape {a.shape})")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        n_nan = int(np.isnan(a).sum())
        if n_nan:
            raise InputError(f"the image has {n_nan} NaN value(s); only numbers can be written")
        a = np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif a.dtype == np.uint16 and a.ndim == 2:
        return np.ascontiguousarray(a)
    elif a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)  # Pillow writes 16-bit PNG for grayscale only
    elif np.issubdtype(a.dtype, np.integer):
        a = np.clip(a, 0, 255).astype(np.uint8)
    else:
        raise InputError(f"cannot write an image of dtype {a.dtype}; give integers or floats")
    return np.ascontiguousarray(a)


def encode_image(array: np.ndarray, fmt: str = "PNG") -> bytes:
    """Encode as PNG (with a `Software: symnn` tEXt chunk) or JPEG (with a symnn comment)."""
    from PIL import Image, PngImagePlugin

    a = _to_storable(array)
    im = Image.fromarray(a)  # mode follows from dtype and shape: L, I;16, RGB or RGBA
    buf = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", "symnn")
        im.save(buf, format="PNG", pnginfo=info)
    else:
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        im.save(buf, format="JPEG", quality=95, comment=TAG.encode())
    return buf.getvalue()


def write_image(path: str | os.PathLike, array: np.ndarray, force: bool = False) -> Path:
    """Write an image atomically as PNG (or JPEG for .jpg/.jpeg), tagged as written by symnn.

    Values are clipped to the dtype's range (uint8 0..255, float 0..1, other integers 0..255);
    uint8 and 16-bit grayscale are written as they are, floats as 8-bit. A file symnn did not
    write is not replaced unless force.
    """
    p = Path(path)
    fmt = _WRITE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {p}: symnn writes .png, .jpg or .jpeg images")
    return atomic_write(p, encode_image(array, fmt), force=force)


def default_image_path() -> Path:
    """Path of matplotlib's bundled sample photo (Grace Hopper), shipped with matplotlib."""
    try:
        from matplotlib import cbook

        p = Path(cbook.get_sample_data(DEFAULT_IMAGE_NAME, asfileobj=False))
    except Exception:  # noqa: BLE001 - any failure means the sample is not there
        p = None
    if p is None or not p.is_file():
        raise FileError(f"matplotlib's sample photo {DEFAULT_IMAGE_NAME} is not installed here; "
                        "give an image file")
    return p


def default_image() -> np.ndarray:
    """The default photo as uint8 RGB, (600, 512, 3) with matplotlib's copy."""
    return read_image(default_image_path())


# ---- small matrices (images and kernels typed by hand) -------------------------------------

_ROW_SPLIT = re.compile(r"[;\n]")
_VALUE_SPLIT = re.compile(r"[,\s]+")
_ACCEPTED = ("a matrix holds numbers separated by spaces or commas, rows separated by ';' or "
             "new lines")


INLINE_QUOTE = 20         # at most this many characters of inline text are quoted in an error


def brief(text: str, limit: int = INLINE_QUOTE) -> str:
    """repr() of the user's own typing, cut to `limit` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _parse_matrix(text: str, source: str) -> np.ndarray:
    """Rows of numbers. source is "FILE: " for a file (an error names the line and column, never
    the file's text: it may hold secrets) or "" for inline text (quoted briefly)."""
    rows: list[list[float]] = []
    first_len = 0
    for line_no, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = line.split("#", 1)[0]
        for part in line.split(";"):
            tokens = [t for t in _VALUE_SPLIT.split(part.strip()) if t]
            if not tokens:
                continue
            values = [_number(tok, source, line_no, len(rows) + 1, col)
                      for col, tok in enumerate(tokens, start=1)]
            if rows and len(values) != first_len:
                at = f"{source}line {line_no}: row {len(rows) + 1}" if source else f"row {len(rows) + 1}"
                raise InputError(f"{at} has {len(values)} "
                                 f"value(s) but row 1 has {first_len}; every row needs the same "
                                 "number of values")
            if not rows:
                first_len = len(values)
            rows.append(values)
    if not rows:
        what = source[:-2] if source else "the matrix"
        raise InputError(f"{what} holds no numbers; {_ACCEPTED}")
    return np.array(rows, dtype=np.float64)


def _number(tok: str, source: str, line_no: int, row: int, col: int) -> float:
    """One value; a file's token is never quoted, inline text's only briefly."""
    where = f"{source}line {line_no}, column {col}" if source else f"row {row}, column {col}"
    what = "the value there" if source else brief(tok)
    try:
        v = float(tok)
    except ValueError:
        raise InputError(f"{where}: {what} is not a number; {_ACCEPTED}") from None
    if not np.isfinite(v):
        raise InputError(f"{where}: {what} is not a finite number; {_ACCEPTED}")
    return v


def _looks_like_path(text: str) -> bool:
    s = text.strip()
    if not s or ";" in s or "\n" in s or " " in s or "," in s:
        return False
    return "/" in s or os.sep in s or bool(re.search(r"\.[A-Za-z][A-Za-z0-9]{1,4}$", s))


_NOT_A_MATRIX = ("is neither a PNG/JPEG image nor a text matrix; give CSV or whitespace-separated "
                 "numbers, or a grayscale PNG")


def _read_matrix_file(p: Path) -> np.ndarray:
    p, fh = open_regular(p)
    with fh:
        try:
            head = fh.read(8)
            if not (head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC)):
                data = head + fh.read(text_limit() + 1 - len(head))
        except OSError as exc:
            raise FileError(f"cannot read {shown(p)}: {exc.strerror or exc}") from None
        if head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC):
            fh.seek(0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                img = _decode(fh, p)
                m = _gray_matrix(img, p)                   # a colour image: no alpha warning first
            for w in caught:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return m
    check_text_size(len(data), shown(p))
    if b"\x00" in data:
        raise FileError(f"{shown(p)} {_NOT_A_MATRIX}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(f"{shown(p)} {_NOT_A_MATRIX}") from None
    return _parse_matrix(text, f"{shown(p)}: ")


def _gray_matrix(img: np.ndarray, p: Path) -> np.ndarray:
    if img.ndim == 3:
        if np.all(img == img[:, :, :1]):
            img = img[:, :, 0]
        else:
            raise InputError(f"{shown(p)} is a colour image; a matrix file must be a grayscale image "
                             "(or CSV/whitespace text)")
    check_memory(img.size * 8, f"the {img.shape[1]}x{img.shape[0]} matrix from {shown(p)}")
    return img.astype(np.float64)


def _array_matrix(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise InputError(f"a matrix holds real numbers; got an array of dtype {a.dtype}")
    if a.ndim != 2 or a.size == 0:
        raise InputError(f"a matrix must be a non-empty 2-D array; got shape {a.shape}")
    return np.asarray(a, dtype=np.float64)


def read_matrix(text_or_path: str | os.PathLike | np.ndarray) -> np.ndarray:
    """A small 2-D float64 matrix (an image or a kernel) from inline text, a file, or an array.

    Inline: "0 0 1; 1 0 0" (rows separated by ';' or new lines, values by spaces or commas).
    Files: CSV / whitespace text ('#' starts a comment; at most SYMNN_MAX_TEXT bytes), or a
    grayscale PNG (pixel values as numbers, 0..255 for 8-bit). Only regular files are read.
    """
    if isinstance(text_or_path, np.ndarray):
        return _array_matrix(text_or_path)
    if isinstance(text_or_path, os.PathLike):
        return _read_matrix_file(Path(text_or_path))
    if not isinstance(text_or_path, str):
        raise InputError(f"give a matrix as text, a file path or an array; got {type(text_or_path).__name__}")
    text = text_or_path
    check_text_size(len(text), "the inline matrix")
    if text.strip() and ";" not in text and "\n" not in text and _exists(text.strip()):
        return _read_matrix_file(Path(text.strip()))
    if _looks_like_path(text):
        try:
            float(text)
        except ValueError:
            raise FileError(f"no such file: {shown(text.strip())}; give an existing file or an inline "
                            "matrix such as \"0 0 1; 1 0 0\"") from None
    return _parse_matrix(text, "")


def _exists(path: str) -> bool:
    """True for anything at path, even a dangling or looping symlink (reading it says why)."""
    try:
        os.lstat(path)
        return True
    except (OSError, ValueError):
        return False


def to_channels_first(img: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (C, H, W); grayscale (H, W) -> (1, H, W). Returns a contiguous array."""
    a = np.asarray(img)
    if a.ndim == 2:
        return np.ascontiguousarray(a[np.newaxis])
    if a.ndim == 3:
        return np.ascontiguousarray(np.moveaxis(a, 2, 0))
    raise InputError(f"an image must be (H, W) or (H, W, C); got shape {a.shape}")


def to_channels_last(img: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W, C); one channel (1, H, W) -> (H, W); (H, W) stays as it is."""
    a = np.asarray(img)
    if a.ndim == 2:
        return np.ascontiguousarray(a)
    if a.ndim == 3:
        if a.shape[0] == 1:
            return np.ascontiguousarray(a[0])
        return np.ascontiguousarray(np.moveaxis(a, 0, 2))
    raise InputError(f"an image must be (C, H, W) or (H, W); got shape {a.shape}")
