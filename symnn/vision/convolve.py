"""Applying a filter: convolve.apply(image, kernel, border), GIMP's convolution matrix.

- Before allocating, apply() checks the memory it needs (SYMNN_MAX_MEMORY) and the number of
  multiply-adds (SYMNN_MAX_WORK): a compiled loop cannot be interrupted once it runs.
- The result is clipped to [0, max] inside the generated kernel (max from value_range). Integer
  images are then rounded to the nearest integer (GIMP truncates towards zero; rounding is
  unbiased); float images keep their floats. The output has the input's dtype.
- A colour image is filtered channel by channel.

Borders (the pixels whose window leaves the image):
- "extend": the image's edge pixels are repeated outwards (clamped indices; scipy "nearest")
- "wrap":   the image is tiled, the window wraps round to the other side (scipy "wrap")
- "zero":   pixels outside the image are 0 (GIMP's "clear"; scipy "constant" with cval 0)
- "crop":   only the pixels whose whole window is inside the image: the output loses c_h rows
            at the top, k_h − 1 − c_h at the bottom (likewise columns), a "valid" correlation.
            GIMP's matrix is always 5x5, so a 3x3 kernel in a zero frame crops 2 pixels a side.
The border ring reads the image through index_tables (no padded copy is made).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError, unknown
from symnn.limits import check_memory, check_work
from symnn.vision.files import brief
from symnn.vision.filter_specs import interior_shift
from symnn.vision.filters import KERNELS, generated_kernel, normalisation, resolve

BORDERS = ("extend", "wrap", "crop", "zero")
PARALLEL_MIN_PIXELS = 1024 * 1024  # from this many pixels on, the prange variant is used
# (below that, and on machines whose cores are busy, the serial kernel wins: see bench/filters.py)


def _is_real(v) -> bool:
    """A finite real number (not a bool, a string or an array)."""
    return (
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        and bool(np.isfinite(v))
    )


@lru_cache(maxsize=64)
def index_tables(size: int, k: int, border: str) -> tuple[np.ndarray, np.ndarray]:
    """For the padded positions p = 0 .. size + k − 2 of one axis (c = k // 2 before the image):
    the source index of p − c, and its weight (0 outside the image for "zero", else 1)."""
    c = k // 2
    p = np.arange(size + k - 1) - c
    if border == "wrap":
        idx = np.mod(p, size)
    else:
        idx = np.clip(p, 0, size - 1)
    weight = np.ones(p.shape)
    if border == "zero":
        weight[(p < 0) | (p >= size)] = 0.0
    idx = idx.astype(np.int64)
    idx.flags.writeable = False
    weight.flags.writeable = False
    return idx, weight


def value_range(dtype: npt.DTypeLike) -> float:
    """The largest valid value of an image of this dtype: 65535 for uint16, 1.0 for floats, 255
    for other integers, but 127 for int8 (its largest value: results are clipped to [0, 127]
    and the offset scales with it, so nothing wraps round)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "u" and dtype.itemsize == 2:  # either byte order
        return 65535.0
    if dtype.kind in "ui":
        return float(min(255, np.iinfo(dtype).max))
    return 1.0


def _check_image(image: npt.ArrayLike) -> np.ndarray:
    try:
        img = np.asarray(image)
    except (ValueError, TypeError, OverflowError):  # ragged lists, odd objects
        raise InputError(
            f"an image is an array of numbers with rows of equal length; got {type(image).__name__}"
        ) from None
    if img.dtype == bool or img.dtype.kind not in "uif":
        raise InputError(f"an image holds numbers (uint8, uint16 or floats in 0..1); got dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] > 4 and img.shape[0] in (1, 3, 4):
        raise InputError(
            f"the image has shape {img.shape}, channels first; give (H, W) or (H, W, 3) "
            "(symnn.vision.images.to_channels_last converts)"
        )
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise InputError(f"an image is (H, W) grayscale or (H, W, 3) RGB; got shape {img.shape}")
    if img.size == 0:
        raise InputError(f"the image is empty (shape {img.shape})")
    # one read-only pass: a NaN or an infinity makes the sum non-finite (a finite sum that
    # overflows is told apart by the exact check)
    if img.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.add.reduce(img, axis=None)
        if not np.isfinite(total) and not np.all(np.isfinite(img)):
            raise InputError("the image holds NaN or infinite values; give finite numbers")
    return img


def memory_needed(shape: tuple[int, ...], dtype: npt.DTypeLike, kernel_shape: tuple[int, int]) -> int:
    """Bytes apply() allocates for an image: per plane a float64 copy and the output buffer, then
    the planes' results, their stack and the rounded copy in the image's dtype."""
    H, W = int(shape[0]), int(shape[1])
    C = int(shape[2]) if len(shape) == 3 else 1
    kh, kw = kernel_shape
    plane = H * W * 8
    return 2 * plane + 2 * C * plane + C * H * W * max(8, np.dtype(dtype).itemsize) + 16 * (H + W + kh + kw)


def check_request(shape: tuple[int, ...], dtype: npt.DTypeLike, kernel_shape: tuple[int, int]) -> None:
    """Refuse, before allocating, a filter that passes the memory or the work limit."""
    H, W = int(shape[0]), int(shape[1])
    C = int(shape[2]) if len(shape) == 3 else 1
    kh, kw = kernel_shape
    check_memory(
        memory_needed(shape, dtype, kernel_shape),
        f"filtering the {W}x{H} image ({C} channel(s)) with a {kh}x{kw} kernel",
    )
    check_work(C * H * W * kh * kw, f"filtering the {W}x{H} image ({C} channel(s)) with a {kh}x{kw} kernel")


def apply(
    image: npt.ArrayLike,
    kernel: object = "sharpen",
    border: str = "extend",
    *,
    divisor: float | None = None,
    offset: float | None = None,
    specialise: bool | None = None,
    parallel: bool | None = None,
) -> np.ndarray:
    """Filter an image with a convolution-matrix kernel, GIMP style.

    image       (H, W) grayscale or (H, W, C) colour (each channel filtered alone); uint8,
                uint16 or float (0..1). The result has the same dtype, clipped to the range.
    kernel      a name in KERNELS, inline text, a text/PNG file, or a 2-D array
    border      "extend" (default), "wrap", "zero" or "crop" (valid: a smaller output)
    divisor     override GIMP's automatic divisor (|Σ K|, or 1 when Σ K = 0)
    offset      override the automatic offset, in 8-bit units (0, 128 or 255 by default)
    specialise  None: named kernels specialised, others generic; True/False to force
    parallel    None: prange variant from PARALLEL_MIN_PIXELS pixels on
    """
    if border not in BORDERS:
        raise unknown("border", border, BORDERS)
    img = _check_image(image)
    name, k = resolve(kernel)
    auto = normalisation(k)
    if divisor is not None and (not _is_real(divisor) or divisor == 0):
        raise InputError(f"the divisor must be a non-zero number (got {brief(repr(divisor), 40)})")
    if offset is not None and not _is_real(offset):
        raise InputError(f"the offset must be a finite number (got {brief(repr(offset), 40)})")
    d = float(auto.divisor if divisor is None else divisor)
    off255 = float(auto.offset if offset is None else offset)
    H, W = img.shape[:2]
    kh, kw = k.shape
    if border == "crop" and (H < kh or W < kw):
        raise InputError(
            f"the {kh}x{kw} kernel is larger than the {H}x{W} image; with border "
            "'crop' nothing is left (use extend, wrap or zero)"
        )
    check_request(img.shape, img.dtype, (kh, kw))
    vmax = value_range(img.dtype)
    if parallel is None:
        parallel = H * W >= PARALLEL_MIN_PIXELS
    gen = generated_kernel((name, k), bool(parallel), specialise, None if divisor is None else d, pixels=H * W)
    R, VR = index_tables(H, kh, "extend" if border == "crop" else border)
    C, VC = index_tables(W, kw, "extend" if border == "crop" else border)
    o = off255 * vmax / 255.0
    planes = [img] if img.ndim == 2 else [img[:, :, c] for c in range(img.shape[2])]
    results = []
    shift = interior_shift(kw)
    for plane in planes:
        x = np.ascontiguousarray(plane, dtype=np.float64)
        buf = np.empty(H * W + shift)
        y = buf[: H * W].reshape(H, W)
        inner = buf[shift : shift + H * W].reshape(H, W)  # y shifted left by `shift` columns
        # every argument is checked and laid out above (contiguous float64, index tables of
        # length H + k_h − 1 and W + k_w − 1), so the generated functions are called directly;
        # one buffer takes every output: the interior (through `inner`) and the border ring
        head = (x,) if gen.specialised else (x, k)
        tail = (o, 0.0, vmax) if gen.specialised else (d, o, 0.0, vmax)
        gen.interior.dispatcher(*head, *tail, inner)
        if border != "crop":
            gen.ring.dispatcher(*head, R, C, VR, VC, *tail, y, y, y, y)
        if border == "crop":
            ch, cw = kh // 2, kw // 2
            y = y[ch : H - kh + 1 + ch, cw : W - kw + 1 + cw]
        results.append(y)
    out = results[0] if img.ndim == 2 else np.stack(results, axis=-1)
    if img.dtype.kind in "ui":
        return np.rint(out).astype(img.dtype)
    return out.astype(img.dtype, copy=False) if out.dtype != img.dtype else np.ascontiguousarray(out)


def apply_all(
    image: npt.ArrayLike, names: Sequence[str] | None = None, border: str = "extend", **options: Any
) -> dict[str, np.ndarray]:
    """{name: filtered image} for every named kernel (or those in names)."""
    return {name: apply(image, name, border, **options) for name in (names or list(KERNELS))}
