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


def test_scipys_openblas_runs_one_thread_unless_told_and_set_threads_sets_both():
    """The kernels' np.dot (SciPy's OpenBLAS) gets one thread by default (many small products,
    which OpenBLAS's threads slow down on busy cores); OPENBLAS_NUM_THREADS is obeyed; and
    symnn.nn.threads.set_threads(N) sets Numba's and BLAS's threads."""
    import os

    import pytest

    pytest.importorskip("threadpoolctl")
    code = """
        import sys
        from symnn.codegen.numba_start import numba
        numba()
        from threadpoolctl import threadpool_info
        infos = threadpool_info()
        print([i["num_threads"] for i in infos if "scipy.libs" in i["filepath"] or "scipy/" in i["filepath"]])
        if len(sys.argv) > 1:
            from symnn.nn.threads import set_threads
            import numba as nb
            set_threads(1)
            print(nb.get_num_threads(), [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
    """
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    default = _python(code, env=env)
    assert default.returncode == 0, default.stderr
    if default.stdout.splitlines()[0] == "[]":
        pytest.skip("SciPy's OpenBLAS is not a library of its own here")
    assert default.stdout.splitlines()[0] == "[1]"
    told = _python(code, env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert told.stdout.splitlines()[0] == "[2]", told.stderr
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "set"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "OPENBLAS_NUM_THREADS": "2"},
    )
    assert run.returncode == 0, run.stderr
    threads, blas = run.stdout.splitlines()[1].split(" ", 1)
    assert threads == "1" and set(eval(blas)) == {1}
