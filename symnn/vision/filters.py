"""Image filters: GIMP's convolution-matrix kernels, and the generated kernels that compute them.

    from symnn.vision import convolve, filters
    out = convolve.apply(image, "sharpen")                # named kernel, border "extend"
    out = convolve.apply(image, "0 -1 0; -1 5 -1; 0 -1 0", border="wrap")   # inline, or a file
    filters.KERNELS                                       # name -> read-only float64 matrix

Every output pixel is the cross-correlation (no kernel flip, as GIMP and CNN layers compute it)

    Y[i, j] = Σ_m Σ_n X[i + m − c_h, j + n − c_w] K[m, n] / divisor + offset,

clipped to the image's value range, with (c_h, c_w) = (k_h // 2, k_w // 2) the kernel's centre.
The sum is a SymPy expression (symnn.vision.filter_specs); symnn's code generator turns it into
Numba kernels:

- named kernels (`filter.<name>`, listed by `symnn codegen list`) are SPECIALISED: the matrix's
  numbers are substituted into the Σ before code generation, so the sum is unrolled, zero
  coefficients disappear (sharpen reads 5 pixels, not 25) and 1/divisor is a folded constant;
- any other kernel goes through a generic kernel, which reads K (and the divisor) at run time:
  `filter.generic.3x3` / `filter.generic.5x5` (the loops over the window have fixed trip
  counts, which the compiler unrolls), a kernel built for K's shape on large images, or the
  any-size `filter.generic`;
- `specialise=True` specialises a user's kernel too (a dynamic kernel, cached by its hash).
Each filter is two generated kernels: the interior (every pixel whose window lies inside the
image), serial or `.parallel` (numba prange over the rows; `convolve.apply` picks it for images
of at least PARALLEL_MIN_PIXELS pixels), and `.ring`, the border. Tiny images (even smaller
than the kernel) are exact.

Divisor and offset (GIMP's "Normalise", plug-in convolution-matrix.c, check_matrix):
- s = Σ K. If s > 0: divisor = s, offset = 0 (blur: divisor 9, so a flat area keeps its value).
  If s < 0: divisor = −s, offset = 255: the result is inverted (a flat area v becomes 255 − v).
  If s = 0: divisor = 1, offset = 128 (edge detect, edge enhance: a flat area becomes mid-grey).
- The offset is in GIMP's 8-bit units and scales with the image's range: offset·max/255, with
  max = 255 for uint8 (and other integer images), 65535 for uint16, 127 for int8 (its largest
  value, so nothing wraps round), 1.0 for floats (whose valid range is 0..1). So 128 is
  128/255 ≈ 0.502 on a float image. Bool images are refused.
- `divisor=` and `offset=` (8-bit units) override the automatic values, as unticking
  "Normalise" in GIMP does.

Kernels from the lecture (docs.gimp.org, "Convolution Matrix"): sharpen and blur as 5x5 with a
zero frame (sharpen: centre 5, −1 above, below, left and right; blur: the centre 3x3 all 1),
edge-enhance, edge-detect and emboss 3x3.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from symnn.codegen import register
from symnn.errors import InputError, UnknownNameError
from symnn.vision.files import brief

if TYPE_CHECKING:
    from symnn.codegen import Kernel, KernelSpec


def _frozen(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.flags.writeable = False
    return a


KERNELS: dict[str, np.ndarray] = {
    "sharpen": _frozen([[0, 0, 0, 0, 0], [0, 0, -1, 0, 0], [0, -1, 5, -1, 0], [0, 0, -1, 0, 0], [0, 0, 0, 0, 0]]),
    "blur": _frozen([[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]]),
    "edge-enhance": _frozen([[0, 0, 0], [-1, 1, 0], [0, 0, 0]]),
    "edge-detect": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

DESCRIPTIONS: dict[str, str] = {
    "sharpen": "5x5, centre 5, -1 above, below, left and right: the pixel minus its neighbours' excess",
    "blur": "5x5, the centre 3x3 all 1, divided by 9: the mean of the 3x3 neighbourhood",
    "edge-enhance": "3x3 [[0,0,0],[-1,1,0],[0,0,0]]: the pixel minus its left neighbour, + 128",
    "edge-detect": "3x3 discrete Laplacian [[0,1,0],[1,-4,1],[0,1,0]], + 128",
    "emboss": "3x3 [[-2,-1,0],[-1,1,1],[0,1,2]]: light from the top left",
}

IDENTITY = _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
MAX_KERNEL_SIZE = 99  # sides of a user kernel
MAX_UNROLLED = 256  # most coefficients a specialised kernel unrolls (codegen's limit)


@dataclass(frozen=True)
class Normalisation:
    """GIMP's automatic divisor and offset for a kernel (offset in 8-bit units, 0..255)."""

    divisor: float
    offset: float


def number_text(v: float) -> str:
    """A number as the filter reports it: 9 for 9.0, else the shortest %g form."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def normalisation(matrix) -> Normalisation:
    """GIMP's "Normalise": divisor = |Σ K| (1 when Σ K = 0), offset 0, 255 (Σ K < 0) or 128 (Σ K = 0)."""
    k = np.asarray(matrix, dtype=np.float64)
    s = float(k.sum())
    if abs(s) <= 1e-12 * max(1.0, float(np.abs(k).sum())):
        return Normalisation(1.0, 128.0)
    if s > 0:
        return Normalisation(s, 0.0)
    return Normalisation(-s, 255.0)


# -- kernels by name, file or text ---------------------------------------------------------------
def add_kernel(name: str, matrix, description: str = "") -> np.ndarray:
    """Add a named kernel (text, file or array): `apply(image, name)` then uses a specialised
    generated kernel for it (`filter.<name>`), and `--kernel all` includes it."""
    if (
        not isinstance(name, str)
        or not name
        or not all(c.isalnum() or c in "-_" for c in name)
        or name == "all"
        or name == "generic"
    ):
        raise InputError(
            f"a kernel name holds letters, digits, '-' and '_' and is not 'all' or 'generic' (got {name!r})"
        )
    k = _frozen(check_matrix(_read(matrix), "the kernel"))
    KERNELS[name] = k
    DESCRIPTIONS[name] = description or f"{k.shape[0]}x{k.shape[1]} user kernel"
    _register(name)
    return k


def _read(kernel) -> np.ndarray:
    from symnn.vision.matrices import read_matrix

    if isinstance(kernel, (list, tuple)):
        try:
            kernel = np.asarray(kernel)
        except (ValueError, TypeError, OverflowError):  # ragged rows, odd objects
            raise InputError("a kernel given as a list needs rows of numbers of equal length") from None
    return read_matrix(kernel)


def resolve(kernel) -> tuple[str, np.ndarray]:
    """(name, matrix) for a kernel given by name, inline text ("0 -1 0; -1 5 -1; 0 -1 0"), a
    text or grayscale-PNG file, or an array. A file's name is its stem, inline text is "custom"."""
    if isinstance(kernel, str) and kernel in KERNELS:
        return kernel, KERNELS[kernel]
    if isinstance(kernel, str):
        text = kernel.strip()
        if text and all(c.isalnum() or c in "-_" for c in text) and not os.path.exists(text) and not is_number(text):
            raise UnknownNameError(
                f"unknown kernel {_brief(text)}; give a name ({', '.join(KERNELS)}), "
                "a kernel file, or an inline matrix such as \"0 -1 0; -1 5 -1; 0 -1 0\""
            )
        m = check_matrix(_read(kernel), "the kernel")
        name = os.path.splitext(os.path.basename(text))[0] if os.path.exists(text) else "custom"
        return _safe_name(name), m
    if isinstance(kernel, os.PathLike):
        return _safe_name(os.path.splitext(os.path.basename(os.fspath(kernel)))[0]), check_matrix(
            _read(kernel), "the kernel"
        )
    if isinstance(kernel, (np.ndarray, list, tuple)):
        m = check_matrix(_read(kernel), "the kernel")
        for name, k in KERNELS.items():
            if k.shape == m.shape and np.array_equal(k, m):
                return name, k
        return "custom", m
    raise InputError(
        f"give the kernel as a name ({', '.join(KERNELS)}), inline text, a file or "
        f"a 2-D array; got {type(kernel).__name__}"
    )


def _brief(text: str) -> str:
    return brief(text, 40)


def is_number(s: str) -> bool:
    """True for text float() reads (such as 1e3 or nan), which is never a kernel name."""
    try:
        float(s)
        return True
    except ValueError:
        return False


def _safe_name(s: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in s) or "custom"


def check_matrix(m: np.ndarray, what: str) -> np.ndarray:
    """m as contiguous float64 if it is a usable kernel: 2-D, non-empty, at most MAX_KERNEL_SIZE
    a side, finite, with a sum that does not overflow; else an InputError naming `what`."""
    if m.ndim != 2 or m.size == 0:
        raise InputError(f"{what} must be a non-empty 2-D matrix; got shape {m.shape}")
    if max(m.shape) > MAX_KERNEL_SIZE:
        raise InputError(f"{what} is {m.shape[0]}x{m.shape[1]}; at most {MAX_KERNEL_SIZE} per side")
    if not np.all(np.isfinite(m)):
        raise InputError(f"{what} holds NaN or infinite values; give finite numbers")
    with np.errstate(over="ignore"):
        if not np.isfinite(np.abs(m).sum()):
            raise InputError(f"{what}'s values are so large that their sum overflows float64; scale them down")
    return np.ascontiguousarray(m, dtype=np.float64)


# -- the generated kernels -----------------------------------------------------------------------
def _specs():
    """symnn.vision.filter_specs, imported when a spec is made (it imports this module)."""
    from symnn.vision import filter_specs

    return filter_specs


def _register(name: str) -> None:
    def spec(parallel, part):
        return lambda: _specs().specialised_spec(KERNELS[name], f"filter.{name}", parallel, part=part)

    register(f"filter.{name}")(spec(False, "interior"))
    register(f"filter.{name}.parallel")(spec(True, "interior"))
    register(f"filter.{name}.ring")(spec(False, "ring"))


def _generic(parallel: bool, shape: tuple[int, int] | None, part: str = "interior") -> Callable[[], KernelSpec]:
    """The factory of the generic filter kernel for K of this shape (None: any shape)."""
    return lambda: _specs().generic_spec(parallel, shape, part)


for _name in list(KERNELS):
    _register(_name)
GENERIC_SHAPES = ((3, 3), (5, 5))  # registered shape-fixed generic kernels
SHAPED_MIN_PIXELS = 256 * 256  # other shapes get their own generic kernel from here on
for _shape in (None, *GENERIC_SHAPES):
    _tag = "" if _shape is None else f".{_shape[0]}x{_shape[1]}"
    register(f"filter.generic{_tag}")(_generic(False, _shape))
    register(f"filter.generic{_tag}.parallel")(_generic(True, _shape))
    register(f"filter.generic{_tag}.ring")(_generic(False, _shape, "ring"))


class Kernels:
    """The generated kernels a filter runs: the interior (serial or prange) and the border ring
    (made on first use: border "crop" does not need it)."""

    def __init__(self, interior: Kernel, ring: Callable[[], Kernel], specialised: bool):
        self.interior, self._ring, self.specialised = interior, ring, specialised

    @cached_property
    def ring(self) -> Kernel:
        return self._ring()


def generated_kernel(
    kernel, parallel: bool = False, specialise: bool | None = None, divisor: float | None = None, pixels: int = 0
) -> Kernels:
    """The generated kernels for a kernel name, text, file, array or a (name, matrix) pair from
    resolve(). Named kernels are specialised; the generic path uses kernels with K's shape
    fixed for 3x3 and 5x5, and for other shapes on images of SHAPED_MIN_PIXELS pixels or more
    (where their compilation pays off); otherwise the any-size filter.generic."""
    from symnn.codegen import build
    from symnn.codegen import kernel as named
    from symnn.vision.filter_specs import exact, generic_spec, specialised_spec

    name, k = kernel if isinstance(kernel, tuple) else resolve(kernel)
    suffix = ".parallel" if parallel else ""
    named_kernel = name in KERNELS and (k is KERNELS[name] or np.array_equal(KERNELS[name], k))
    auto = divisor is None or exact(divisor) == exact(normalisation(k).divisor)
    if k.size > MAX_UNROLLED:
        if specialise:
            raise InputError(
                f"a specialised kernel unrolls at most {MAX_UNROLLED} coefficients; this "
                f"one has {k.size} ({k.shape[0]}x{k.shape[1]}): use specialise=False"
            )
        named_kernel = False
    cache = os.environ.get("SYMNN_CACHE_DIR")
    key: tuple  # a _MEMO key
    if named_kernel and specialise is not False and auto:
        key = (cache, name, suffix, KERNELS[name].tobytes())
        if key not in _MEMO:
            _MEMO[key] = Kernels(named(f"filter.{name}{suffix}"), lambda: named(f"filter.{name}.ring"), True)
        return _MEMO[key]
    if specialise:
        return Kernels(
            build(specialised_spec(k, f"filter.{name}", parallel, divisor)),
            lambda: build(specialised_spec(k, f"filter.{name}", False, divisor, "ring")),
            True,
        )
    shape = tuple(k.shape)
    key = (cache, "generic", suffix, shape)
    if key not in _MEMO:
        if shape in GENERIC_SHAPES:
            tag = f"filter.generic.{shape[0]}x{shape[1]}"
            _MEMO[key] = Kernels(named(tag + suffix), lambda: named(tag + ".ring"), False)
        elif pixels >= SHAPED_MIN_PIXELS:
            _MEMO[key] = Kernels(
                build(generic_spec(parallel, shape)), lambda: build(generic_spec(False, shape, "ring")), False
            )
        else:
            return Kernels(named(f"filter.generic{suffix}"), lambda: named("filter.generic.ring"), False)
    return _MEMO[key]


_MEMO: dict[tuple, Kernels] = {}  # (cache folder, name, variant, matrix) -> kernels
