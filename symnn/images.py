"""Reading and writing images and small matrices (PNG and JPEG through Pillow).

Images are NumPy arrays shaped (H, W) for grayscale and (H, W, 3) for RGB, as read; the kernels
and feature maps take channels first, (C, H, W): see to_channels_first / to_channels_last.
The dtype says the value range: uint8 0..255, uint16 0..65535, float 0..1.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np

from symnn.errors import FileError, InputError
from symnn.outputs import TAG, atomic_write

DEFAULT_IMAGE_NAME = "grace_hopper.jpg"  # matplotlib's bundled sample photo

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def _open_checked(path: str | os.PathLike) -> Path:
    """The path of an existing, readable regular file, or a FileError saying what is wrong."""
    p = Path(path)
    if not p.exists():
        raise FileError(f"no such file: {p}; give the path of an existing file")
    if p.is_dir():
        raise FileError(f"{p} is a directory; give a file")
    if not os.access(p, os.R_OK):
        raise FileError(f"cannot read {p}: permission denied")
    return p


def _pil_to_array(im, path: Path) -> np.ndarray:
    """Pillow image -> (H, W) or (H, W, 3) array; alpha is dropped with a warning."""
    from PIL import Image

    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode == "1":
        im = im.convert("L")
    elif im.mode in ("LA", "La", "PA"):
        warnings.warn(f"{path}: alpha channel dropped (symnn reads grayscale or RGB)", stacklevel=3)
        im = im.getchannel(0)
    elif im.mode in ("RGBA", "RGBa"):
        warnings.warn(f"{path}: alpha channel dropped (symnn reads grayscale or RGB)", stacklevel=3)
        im = im.convert("RGB")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16)
    elif im.mode not in ("L", "RGB", "I", "F"):
        im = im.convert("RGB")
    if not isinstance(im, Image.Image):  # pragma: no cover - Pillow always returns images
        raise FileError(f"cannot decode {path}")
    return np.array(im)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG or JPEG (or any image Pillow reads) as (H, W) grayscale or (H, W, 3) RGB.

    8-bit files give uint8, 16-bit grayscale PNG gives uint16; an alpha channel is dropped with
    a warning; a JPEG's EXIF orientation is applied.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = _open_checked(path)
    try:
        with Image.open(p) as im:
            im = ImageOps.exif_transpose(im)
            im.load()
            return _pil_to_array(im, p)
    except UnidentifiedImageError:
        raise FileError(f"{p} is not an image symnn can read; give a PNG or JPEG file") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise FileError(f"cannot read image {p}: {exc}") from None


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


def _parse_matrix(text: str, source: str) -> np.ndarray:
    rows: list[list[float]] = []
    first_len = 0
    for line_no, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = line.split("#", 1)[0]
        for part in line.split(";"):
            tokens = [t for t in _VALUE_SPLIT.split(part.strip()) if t]
            if not tokens:
                continue
            values = []
            for col, tok in enumerate(tokens, start=1):
                where = (f"{source}line {line_no}, column {col}" if source
                         else f"row {len(rows) + 1}, column {col}")
                try:
                    v = float(tok)
                except ValueError:
                    raise InputError(f"{where}: {tok!r} is not a number; {_ACCEPTED}") from None
                if not np.isfinite(v):
                    raise InputError(f"{where}: {tok!r} is not a finite number; {_ACCEPTED}")
                values.append(v)
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


def _looks_like_path(text: str) -> bool:
    s = text.strip()
    if not s or ";" in s or "\n" in s or " " in s or "," in s:
        return False
    return "/" in s or os.sep in s or bool(re.search(r"\.[A-Za-z][A-Za-z0-9]{1,4}$", s))


def _read_matrix_file(p: Path) -> np.ndarray:
    p = _open_checked(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read {p}: {exc.strerror or exc}") from None
    if data.startswith(_PNG_MAGIC) or data.startswith(_JPEG_MAGIC):
        img = read_image(p)
        if img.ndim == 3:
            if np.all(img == img[:, :, :1]):
                img = img[:, :, 0]
            else:
                raise InputError(f"{p} is a colour image; a matrix file must be a grayscale image "
                                 "(or CSV/whitespace text)")
        return img.astype(np.float64)
    if b"\x00" in data:
        raise FileError(f"{p} is neither a PNG/JPEG image nor a text matrix; give CSV or "
                        "whitespace-separated numbers, or a grayscale PNG")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(f"{p} is neither a PNG/JPEG image nor a text matrix; give CSV or "
                        "whitespace-separated numbers, or a grayscale PNG") from None
    return _parse_matrix(text, f"{p}: ")


def read_matrix(text_or_path: str | os.PathLike | np.ndarray) -> np.ndarray:
    """A small 2-D float64 matrix (an image or a kernel) from inline text, a file, or an array.

    Inline: "0 0 1; 1 0 0" (rows separated by ';' or new lines, values by spaces or commas).
    Files: CSV / whitespace text ('#' starts a comment), or a grayscale PNG (pixel values as
    numbers, 0..255 for 8-bit).
    """
    if isinstance(text_or_path, np.ndarray):
        a = np.asarray(text_or_path, dtype=np.float64)
        if a.ndim != 2 or a.size == 0:
            raise InputError(f"a matrix must be a non-empty 2-D array; got shape {a.shape}")
        return a
    if isinstance(text_or_path, os.PathLike):
        return _read_matrix_file(Path(text_or_path))
    if not isinstance(text_or_path, str):
        raise InputError(f"give a matrix as text, a file path or an array; got {type(text_or_path).__name__}")
    text = text_or_path
    if text.strip() and ";" not in text and "\n" not in text and os.path.exists(text.strip()):
        return _read_matrix_file(Path(text.strip()))
    if _looks_like_path(text):
        try:
            float(text)
        except ValueError:
            raise FileError(f"no such file: {text.strip()}; give an existing file or an inline "
                            "matrix such as \"0 0 1; 1 0 0\"") from None
    return _parse_matrix(text, "")


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
