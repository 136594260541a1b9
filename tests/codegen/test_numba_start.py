"""symnn.codegen.numba_start, in a fresh interpreter: Numba's BLAS check without importing
scipy.linalg, and the plain import once scipy.linalg is loaded. bench/startup.py measures what
it saves at start-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str, *, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, env=env
    )


def test_numba_start_leaves_scipy_linalg_unimported_and_blas_working():
    run = _python("""
        import sys
        import numpy as np
        from symnn.codegen.numba_start import numba
        numba()
        from numba import njit
        import numba.np.arraymath

        @njit
        def product(a, b):
            return np.dot(a, b)

        a = np.arange(12.0).reshape(3, 4)
        b = np.arange(8.0).reshape(4, 2)
        assert np.array_equal(product(a, b), a @ b)
        print(numba.np.arraymath._HAVE_BLAS, "scipy.linalg" in sys.modules)
        import scipy.linalg
        print(scipy.linalg.solve(2 * np.eye(2), np.ones(2)).tolist())
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["True False", "[0.5, 0.5]"]


def test_numba_start_after_scipy_linalg_is_the_plain_import():
    run = _python("""
        import sys
        import scipy.linalg
        from symnn.codegen.numba_start import numba
        module = numba()
        import numba as plain
        print(module is plain, sys.modules["scipy.linalg.cython_blas"].__name__)
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True scipy.linalg.cython_blas"
