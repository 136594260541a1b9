"""Import Numba once per process, without SciPy's whole linear-algebra package.

The first compiled call of a process initialises Numba's CPU target, which imports
numba.np.arraymath; that module checks for BLAS by importing scipy.linalg.cython_blas, and the
import runs scipy.linalg's __init__ (array-API shims, f2py: a large share of a warm
`symnn train mlp`, bench/startup.py). Numba only needs to know the Cython BLAS module loads,
and its compiled kernels only fetch BLAS routines from that module (np.dot's first call at run
time imports it by name). So it is loaded here on its own, under its own name, and kept: a later
`import scipy.linalg` still runs the real package (which does not import cython_blas itself).
The one difference: `scipy.linalg.cython_blas` is not set as an attribute of the package.

SciPy's OpenBLAS, which the kernels' np.dot calls, loads here with one thread unless
OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) says otherwise: the kernels' products are many small
ones (one per sample for a convolution, symnn.codegen.passes.unfold), which OpenBLAS's threads
slow down, 10x on two busy cores (bench/conv_gemm.py); `--threads N` (symnn.nn.threads) asks
for more. NumPy's own OpenBLAS keeps its threads.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import types

BLAS = "scipy.linalg.cython_blas"
_numba: types.ModuleType | None = None


def _cython_blas_spec():
    scipy = importlib.util.find_spec("scipy")
    if scipy is None or scipy.origin is None:
        return None
    folder = os.path.join(os.path.dirname(scipy.origin), "linalg")
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "cython_blas" + suffix)
        if os.path.exists(path):
            return importlib.util.spec_from_file_location(BLAS, path)
    return None


def _openblas_libraries() -> set[str]:
    """The OpenBLAS shared libraries loaded in this process (Linux: /proc/self/maps; else none)."""
    try:
        with open("/proc/self/maps") as maps:
            return {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return set()


def one_thread(path: str) -> bool:
    """Ask the OpenBLAS at `path` for one thread (its own set_num_threads); False if it has none."""
    import ctypes

    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return False
    for symbol in ("scipy_openblas_set_num_threads", "openblas_set_num_threads"):
        setter = getattr(lib, symbol, None)
        if setter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            setter(1)
            return True
    return False


def numba() -> types.ModuleType:
    """The numba module, with numba.np.arraymath's BLAS check already done cheaply."""
    global _numba
    if _numba is not None:
        return _numba
    spec = None if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules else _cython_blas_spec()
    if spec is not None:
        before = _openblas_libraries()
        module = importlib.util.module_from_spec(spec)  # (an extension module loads here)
        sys.modules[BLAS] = module
        try:
            spec.loader.exec_module(module)
        except ImportError:
            del sys.modules[BLAS]  # Numba does its own check later, the usual way
        if not any(v in os.environ for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
            for path in _openblas_libraries() - before:  # SciPy's, loaded just now
                one_thread(path)
    import numba as _module

    _numba = _module
    return _numba
