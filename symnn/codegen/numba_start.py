"""Import Numba once per process, without SciPy's whole linear-algebra package.

The first compiled call of a process initialises Numba's CPU target, which imports
numba.np.arraymath; that module checks for BLAS by importing scipy.linalg.cython_blas, and the
import runs scipy.linalg's __init__ (array-API shims, f2py: a large share of a warm
`symnn train mlp`, bench/startup.py). Numba only needs to know the Cython BLAS module loads,
and its compiled kernels only fetch BLAS routines from that module (np.dot's first call at run
time imports it by name). So it is loaded here on its own, under its own name, and kept: a later
`import scipy.linalg` still runs the real package (which does not import cython_blas itself).
The one difference: `scipy.linalg.cython_blas` is not set as an attribute of the package.
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


def numba() -> types.ModuleType:
    """The numba module, with numba.np.arraymath's BLAS check already done cheaply."""
    global _numba
    if _numba is not None:
        return _numba
    spec = None if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules else _cython_blas_spec()
    if spec is not None:
        module = importlib.util.module_from_spec(spec)
        sys.modules[BLAS] = module
        try:
            spec.loader.exec_module(module)
        except ImportError:
            del sys.modules[BLAS]  # Numba does its own check later, the usual way
    import numba as _module

    _numba = _module
    return _numba
