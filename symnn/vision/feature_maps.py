"""Feature maps: the lecture's Step 1 (convolution), computed by generated kernels.

    symnn.feature_map(image, kernel, stride=1, padding=0) -> ndarray

A feature map is the cross-correlation of the image with a feature detector (no kernel flip,
as convolutional layers compute it):

    Y[f, i, j] = Σ_c Σ_m Σ_n X[c, s·i + m, s·j + n] K[f, c, m, n]

over the image framed by `padding` rows and columns of zeros. Every number comes from the
kernel `conv2d.layer_forward` that symnn generated from that sum (symnn/ops/conv2d.py), or, with
`specialise=True` and one 2-D detector, from a kernel with the detector's numbers folded in.

The lecture's worked example is kept with the slides' printed map (SLIDE_MAP): the slides show
1 at row 3, column 3; the window there holds a single 1, at its centre, where the detector has
0, so the right value is 0. symnn.vision.step_tables writes the cell-by-cell tables and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from symnn.errors import InputError
from symnn.limits import check_memory, check_work

if TYPE_CHECKING:
    from symnn.codegen import Kernel, KernelSpec


def _frozen(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.flags.writeable = False
    return a


# The lecture's Step 1 slides: the 7x7 input image and the 3x3 feature detector ...
LECTURE_IMAGE = _frozen(
    [
        [0, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 0],
        [0, 0, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ]
)
LECTURE_DETECTOR = _frozen([[0, 0, 1], [1, 0, 0], [0, 1, 1]])
# ... and the 5x5 feature map as the slides print it, to compare against. It is wrong at row 3,
# column 3 (1-based): the slides show 1, the sum of the products there is 0. feature_map()
# computes the right map; this constant is only what the slide shows.
SLIDE_MAP = _frozen([[0, 1, 0, 0, 0], [0, 1, 1, 1, 0], [1, 0, 1, 2, 1], [1, 4, 2, 1, 0], [0, 0, 1, 2, 1]])


# -- the feature map -----------------------------------------------------------------------------
MAX_OPTION = 2**31 - 1  # largest stride or padding (the kernels take them as machine integers)


def as_array(value: object, what: str) -> np.ndarray:
    """value as a non-empty array of finite real numbers (bools as floats); else an InputError
    naming `what`."""
    try:
        a = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged lists, odd objects
        raise InputError(
            f"{what} must be an array of numbers with rows of equal length (got {type(value).__name__})"
        ) from None
    if a.dtype == bool:
        a = a.astype(np.float64)
    if a.dtype.kind not in "uif":
        raise InputError(f"{what} must hold real numbers (got dtype {a.dtype})")
    if a.size == 0:
        raise InputError(f"{what} is empty (shape {a.shape})")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise InputError(f"{what} holds NaN or infinite values; give finite numbers")
    return a


def _shown_number(value) -> str:
    """A number for an error message: a huge integer by its length, not its digits."""
    if isinstance(value, (int, np.integer)) and abs(int(value)) > 10**12:
        return f"an integer of about {int(abs(int(value)).bit_length() * 0.30103) + 1} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _is_integral(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isfinite(value)) and float(value).is_integer()


def int_option(value, name: str, minimum: int) -> int:
    """A stride or padding as a Python int from minimum to MAX_OPTION; else an InputError."""
    accepted = f"{name} must be an integer from {minimum} to {MAX_OPTION}"
    if not _is_integral(value):
        raise InputError(f"{accepted} (got {_shown_number(value)})")
    v = int(value)
    if v < minimum or v > MAX_OPTION:
        raise InputError(f"{accepted} (got {_shown_number(v)})")
    return v


def _layout(image: npt.ArrayLike, kernel: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Image as (C, H, W), kernel as (F, C, kh, kw), and the output's leading axes."""
    img = as_array(image, "the image")
    k = as_array(kernel, "the kernel")
    if img.ndim not in (2, 3):
        raise InputError(f"the image must be (H, W) or (C, H, W); got {img.ndim}-D shape {img.shape}")
    if k.ndim not in (2, 3, 4):
        raise InputError(f"the kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw); got {k.ndim}-D shape {k.shape}")
    X = img[np.newaxis] if img.ndim == 2 else img
    C = X.shape[0]
    lead: tuple[int, ...]
    if k.ndim == 2:
        if C != 1:
            raise InputError(
                f"channel mismatch: the image has {C} channels but the kernel "
                f"{k.shape} has none; give it as ({C}, kh, kw) or (F, {C}, kh, kw)"
            )
        K, lead = k[np.newaxis, np.newaxis], ()
    elif k.ndim == 3:
        K, lead = k[np.newaxis], ()
    else:
        K, lead = k, (k.shape[0],)
    if K.shape[1] != C:
        raise InputError(
            f"channel mismatch: the image has {C} channel(s) (shape {img.shape}) but "
            f"the kernel {k.shape} expects {K.shape[1]}"
        )
    return X, K, lead


def feature_map(
    image: npt.ArrayLike, kernel: npt.ArrayLike, stride: int = 1, padding: int = 0, *, specialise: bool = False
) -> np.ndarray:
    """The feature map(s) of an image under one or several feature detectors.

    image    (H, W), or (C, H, W) for C channels (a colour image: red, green, blue)
    kernel   (kh, kw) for a 2-D image, (C, kh, kw) for one detector over C channels, or
             (F, C, kh, kw) for F detectors: F feature maps, a convolutional layer
    stride   how far the window moves (>= 1); padding: zeros framed round the image (>= 0)
    Returns (Ho, Wo), or (F, Ho, Wo) for F detectors, with Ho = ⌊(H + 2·padding − kh)/stride⌋ + 1.
    specialise=True (one 2-D detector) generates a kernel with the detector's numbers folded in.
    """
    s = int_option(stride, "stride", 1)
    p = int_option(padding, "padding", 0)
    X, K, lead = _layout(image, kernel)
    C, H, W = X.shape
    F, _, kh, kw = K.shape
    if kh > H + 2 * p or kw > W + 2 * p:
        raise InputError(
            f"the {kh}x{kw} kernel is larger than the {H + 2 * p}x{W + 2 * p} "
            f"{'padded ' if p else ''}image; use a smaller kernel or more padding"
        )
    check_request(X.shape, K.shape, s, p)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if p:
        X = np.pad(X, ((0, 0), (p, p), (p, p)))  # zeros: data movement, no arithmetic
    K = np.ascontiguousarray(K, dtype=np.float64)
    if specialise:
        if F != 1 or C != 1:
            raise InputError("specialise=True takes one 2-D detector on a 2-D image")
        Y = cast(np.ndarray, specialised_kernel(K[0, 0])(X[0], s))  # its one output
        _check_finite(Y)
        return Y[np.newaxis] if lead else Y
    from symnn.codegen import kernel as named

    Y = named("conv2d.layer_forward")(X[np.newaxis], K, np.zeros(F), s)[0]
    _check_finite(Y)
    return Y if lead else Y[0]


def _check_finite(Y: np.ndarray) -> None:
    """Finite inputs whose sums pass float64's range give inf: say so rather than print it."""
    if not np.all(np.isfinite(Y)):
        raise InputError(
            "the feature map overflows float64 (a sum beyond ±1.8e308); scale the image or the kernel down"
        )


def output_shape(H: int, W: int, kh: int, kw: int, stride: int, padding: int) -> tuple[int, int]:
    """(Ho, Wo) = (⌊(H + 2p − kh)/s⌋ + 1, ⌊(W + 2p − kw)/s⌋ + 1), in Python integers."""
    return (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1


def check_request(x_shape: tuple[int, int, int], k_shape: tuple[int, int, int, int], stride: int, padding: int) -> None:
    """Refuse, before allocating, a feature map whose arrays (the float64 image, its padded copy,
    the kernel and the maps) pass the memory limit or whose sum passes the work limit."""
    C, H, W = (int(v) for v in x_shape)
    F, _, kh, kw = (int(v) for v in k_shape)
    Ho, Wo = output_shape(H, W, kh, kw, stride, padding)
    Hp, Wp = H + 2 * padding, W + 2 * padding
    nbytes = 8 * (C * H * W + C * Hp * Wp + F * C * kh * kw + 2 * F * Ho * Wo)
    check_memory(nbytes, f"the feature map of a {C}x{H}x{W} image with padding {padding} ({F} map(s) of {Ho}x{Wo})")
    check_work(F * Ho * Wo * C * kh * kw, f"the feature map ({F} map(s) of {Ho}x{Wo}, a {C}x{kh}x{kw} window each)")


def specialised_spec(detector: npt.ArrayLike, name: str = "feature_map.specialised") -> KernelSpec:
    """Y[i, j] = Σ_m Σ_n X[s·i + m, s·j + n] K[m, n] with K's numbers substituted: the sum is
    unrolled and its zero terms vanish (the lecture's detector reads 5 of the 9 pixels)."""
    import sympy as sp

    from symnn.codegen import KernelSpec, Output
    from symnn.vision.filter_specs import exact

    k = np.asarray(detector, dtype=np.float64)
    Km = sp.ImmutableMatrix(k.shape[0], k.shape[1], lambda r, c: exact(k[r, c]))
    kh, kw = Km.shape
    i, j, m, n = sp.symbols("i j m n", integer=True)
    H, W = sp.symbols("H W", integer=True, positive=True)
    s = sp.Symbol("s", integer=True, positive=True)
    X, Y = sp.IndexedBase("X", real=True), sp.IndexedBase("Y", real=True)
    expr = sp.Sum(X[s * i + m, s * j + n] * Km[m, n], (m, 0, kh - 1), (n, 0, kw - 1))
    Ho, Wo = sp.floor((H - kh) / s) + 1, sp.floor((W - kw) / s) + 1
    return KernelSpec(
        name,
        inputs=[X, s],
        outputs=[Output(Y, (i, j), expr)],
        shapes={H: (X, 0), W: (X, 1)},
        out_shapes={Y: (Ho, Wo)},
        doc="a feature map with the detector's numbers folded in: Y[i,j] = Σ_m Σ_n X[s·i+m, s·j+n] K[m,n], valid",
    )


def specialised_kernel(detector: npt.ArrayLike) -> Kernel:
    """The generated kernel for one detector (the lecture's is registered as feature_map.lecture)."""
    from symnn.codegen import build
    from symnn.codegen import kernel as named

    k = np.asarray(detector, dtype=np.float64)
    if k.shape == LECTURE_DETECTOR.shape and np.array_equal(k, LECTURE_DETECTOR):
        return named("feature_map.lecture")
    return build(specialised_spec(k))


def _register() -> None:
    from symnn.codegen import register

    register("feature_map.lecture")(lambda: specialised_spec(LECTURE_DETECTOR, "feature_map.lecture"))


_register()
