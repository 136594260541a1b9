"""Reading and writing images (PNG and JPEG through Pillow), and the default photo.

Images are NumPy arrays shaped (H, W) for grayscale and (H, W, 3) for RGB, as read; the kernels
and feature maps take channels first, (C, H, W): see to_channels_first / to_channels_last.
The dtype says the value range: uint8 0..255, uint16 0..65535, float 0..1.

Files are untrusted: only regular files are opened (symnn.vision.files), an image's declared
size is checked against SYMNN_MAX_MEMORY and Pillow's decompression-bomb limit before decoding,
only the decoders in READ_FORMATS are used, and an error never quotes the file's bytes.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np

from symnn.errors import FileError, InputError, SymnnError, SymnnWarning
from symnn.limits import check_memory
from symnn.outputs import TAG, atomic_write
from symnn.vision.files import open_regular, shown

DEFAULT_IMAGE_NAME = "grace_hopper.jpg"  # matplotlib's bundled sample photo

_WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
# the decoders symnn lets Pillow use on untrusted files (not every plug-in Pillow has)
READ_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
# bytes per pixel while decoding: Pillow's buffer (<= 4), a converted copy (<= 4), the array (<= 4)
DECODE_BYTES_PER_PIXEL = 12


_ALPHA = "alpha channel dropped (symnn reads grayscale or RGB)"


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
        warnings.warn(f"{shown(path)}: {_ALPHA}", SymnnWarning, stacklevel=3)
        im = im.getchannel(0)
    elif im.mode in ("RGBA", "RGBa"):
        warnings.warn(f"{shown(path)}: {_ALPHA}", SymnnWarning, stacklevel=3)
        im = im.convert("RGB")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif im.mode.startswith("I;16") or (im.mode == "I" and _format(im, path) == "PNG"):
        return np.asarray(im).astype(np.uint16)  # 16-bit grey (Pillow < 10 reads it as mode I)
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
        return decode_image(fh, p)


def decode_image(fh: BinaryIO, p: Path) -> np.ndarray:
    """Decode an open image file (p names it in errors); the checks read_image describes."""
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
            raise InputError(
                f"out of memory decoding the {w}x{h} image {shown(p)}; lower SYMNN_MAX_MEMORY or give a smaller image"
            ) from None
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt data
            raise FileError(f"cannot read image {shown(p)}: {_reason(exc)}") from None


def _bomb(p: Path) -> FileError:
    from PIL import Image

    return FileError(
        f"{shown(p)} declares more than {Image.MAX_IMAGE_PIXELS} pixels, Pillow's "
        "limit against decompression bombs (PIL.Image.MAX_IMAGE_PIXELS); give a "
        "smaller image"
    )


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
        raise InputError(
            f"an image must be (H, W) grayscale or (H, W, 3) RGB; got shape {a.shape} "
            "(for channels-first (C, H, W) use to_channels_last)"
        )
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
        raise FileError(f"matplotlib's sample photo {DEFAULT_IMAGE_NAME} is not installed here; give an image file")
    return p


def default_image() -> np.ndarray:
    """The default photo as uint8 RGB, (600, 512, 3) with matplotlib's copy."""
    return read_image(default_image_path())


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
