"""2-D cross-correlation references for the filter and feature-map benchmarks.

All compute out[i, j] = Σ_{m,n} K[m, n] · img[i + m − ch, j + n − cw] (no kernel flip, odd kernel,
centre (ch, cw) = (kh // 2, kw // 2)), same size as the image. The hand Numba kernels treat the
border as scipy's mode="nearest" (GIMP's "extend": indices clamped to the edge): a plain loop over
the interior, and a clamped loop over the border ring.

- correlate_scipy: scipy.ndimage.correlate (any of its modes).
- correlate_numba: a generic hand Numba loop; the kernel is a run-time array.
- folded_3x3(kernel, parallel): a hand Numba kernel with the nine coefficients frozen in as
  compile-time constants (serial, or numba.prange over rows).
- correlate_torch: torch.nn.functional.conv2d after a replicate pad (needs torch).
- memcopy_bandwidth(): the machine's memory-copy bandwidth, the physical limit of a 3x3 filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

import numpy as np
from numba import njit, prange


def correlate_scipy(image: np.ndarray, kernel: np.ndarray, mode: str = "nearest") -> np.ndarray:
    from scipy import ndimage

    return ndimage.correlate(image, kernel, mode=mode)


@njit(inline="always")
def _clamp(i, n):
    return 0 if i < 0 else (n - 1 if i >= n else i)


@njit
def _border_pixel(image, kernel, out, i, j):
    H, W = image.shape
    kh, kw = kernel.shape
    ch, cw = kh // 2, kw // 2
    acc = 0.0
    for m in range(kh):
        r = _clamp(i + m - ch, H)
        for n in range(kw):
            acc += kernel[m, n] * image[r, _clamp(j + n - cw, W)]
    out[i, j] = acc


@njit
def _border_nearest(image, kernel, out):
    """The ring of pixels whose window leaves the image, with clamped indices."""
    H, W = image.shape
    kh, kw = kernel.shape
    top, bottom = min(kh // 2, H), max(H - (kh - 1 - kh // 2), min(kh // 2, H))
    left, right = min(kw // 2, W), max(W - (kw - 1 - kw // 2), min(kw // 2, W))
    for i in range(H):
        if i < top or i >= bottom:
            for j in range(W):
                _border_pixel(image, kernel, out, i, j)
        else:
            for j in range(left):
                _border_pixel(image, kernel, out, i, j)
            for j in range(right, W):
                _border_pixel(image, kernel, out, i, j)


@njit
def _interior_generic(image, kernel, out):
    """Rows of out += k[m, n] * shifted rows of the image: the innermost loop runs along a row
    with non-negative indices, so LLVM vectorises it (the summation order per pixel is still
    m, n row-major, as in a plain four-loop version)."""
    H, W = image.shape
    kh, kw = kernel.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    ch, cw = kh // 2, kw // 2
    for i in range(Ho):
        row = out[i + ch, cw : cw + Wo]
        row[:] = 0.0
        for m in range(kh):
            src = image[i + m]
            for n in range(kw):
                kv = kernel[m, n]
                shifted = src[n : n + Wo]
                for j in range(Wo):
                    row[j] += kv * shifted[j]


def _check(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.ascontiguousarray(image, dtype=np.float64)
    kernel = np.ascontiguousarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError("the hand kernels take a 2-D image and an odd-sized 2-D kernel")
    return image, kernel


def correlate_numba(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Generic hand Numba loop, border "nearest"; the kernel is read from memory at run time."""
    image, kernel = _check(image, kernel)
    out = np.empty_like(image)
    _interior_generic(image, kernel, out)
    _border_nearest(image, kernel, out)
    return out


def folded_3x3(kernel: np.ndarray, parallel: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """A correlate(image) with this 3x3 kernel compiled in: nine constants, every term written out
    (zero terms included: this is what a hand-writer does for an arbitrary kernel)."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.shape != (3, 3):
        raise ValueError(f"folded_3x3 takes a 3x3 kernel; got shape {k.shape}")
    k00, k01, k02 = float(k[0, 0]), float(k[0, 1]), float(k[0, 2])
    k10, k11, k12 = float(k[1, 0]), float(k[1, 1]), float(k[1, 2])
    k20, k21, k22 = float(k[2, 0]), float(k[2, 1]), float(k[2, 2])

    @njit(parallel=parallel)
    def interior(x, out):
        H, W = x.shape
        for i in prange(H - 2):
            r0, r1, r2 = x[i], x[i + 1], x[i + 2]
            o = out[i + 1, 1 : W - 1]
            for j in range(W - 2):
                o[j] = (
                    k00 * r0[j]
                    + k01 * r0[j + 1]
                    + k02 * r0[j + 2]
                    + k10 * r1[j]
                    + k11 * r1[j + 1]
                    + k12 * r1[j + 2]
                    + k20 * r2[j]
                    + k21 * r2[j + 1]
                    + k22 * r2[j + 2]
                )

    kernel_array = np.ascontiguousarray(k)

    def correlate(image: np.ndarray) -> np.ndarray:
        image, _ = _check(image, kernel_array)
        out = np.empty_like(image)
        interior(image, out)
        _border_nearest(image, kernel_array, out)
        return out

    correlate.__name__ = f"folded_3x3{'_prange' if parallel else ''}"
    return correlate


def correlate_torch(image: np.ndarray, kernel: np.ndarray, dtype: str = "float64") -> np.ndarray:
    """torch conv2d (a cross-correlation) after replicate padding, i.e. border "nearest"."""
    import torch
    import torch.nn.functional as F

    t = getattr(torch, dtype)
    kh, kw = kernel.shape
    x = torch.as_tensor(image, dtype=t)[None, None]
    x = F.pad(x, (kw // 2, kw - 1 - kw // 2, kh // 2, kh - 1 - kh // 2), mode="replicate")
    with torch.no_grad():
        y = F.conv2d(x, torch.as_tensor(kernel, dtype=t)[None, None])
    return y[0, 0].numpy()


def memcopy_bandwidth(nbytes: int = 64 * 2**20, repeats: int = 7) -> float:
    """Memory-copy bandwidth in GB/s (1e9 bytes copied per second; the memory traffic is twice
    that: every byte is read once and written once), the median of `repeats` np.copyto calls on
    float64 arrays of nbytes, larger than the caches. A float64 filter that reads its input once
    and writes its output once cannot exceed GB/s * 1e9 / 8 pixels per second."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch the pages first
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return nbytes / median(times) / 1e9
