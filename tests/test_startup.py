"""The two start-up measures of issue #8, each in a fresh interpreter: Numba's BLAS check
without scipy.linalg (symnn.codegen.numba_start) and the `symnn` program's exit without the
interpreter's teardown (symnn.cli.run). bench/startup.py measures what they save."""

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


def test_symnn_program_runs_atexit_handlers_and_delivers_all_output():
    run = _python("""
        import atexit, sys
        atexit.register(lambda: print("atexit handler ran"))
        sys.argv = ["symnn", "derive", "cost"]
        from symnn.cli import run
        run()
        print("not reached")
    """)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.rstrip("\n").split("\n")
    assert lines[-1] == "atexit handler ran" and "not reached" not in run.stdout
    assert any("C = " in line or "C(" in line for line in lines[:-1])


def test_symnn_program_keeps_the_exit_code_and_waits_for_other_threads():
    run = _python("""
        import sys, threading, time
        threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished", flush=True))).start()
        sys.argv = ["symnn", "derive", "no-such-topic"]
        from symnn.cli import run
        run()
    """)
    assert run.returncode == 2
    assert run.stdout.strip() == "thread finished"
    assert run.stderr.startswith("symnn: error: unknown topic 'no-such-topic'")
    assert len(run.stderr.strip().splitlines()) == 1
