"""How many threads training runs on: Numba's (the kernels' prange loops) and BLAS's (np.dot in
the kernels: the dense products above BLAS_MIN, the convolutions' unfolded products above
UNFOLD_MIN).

By default Numba takes NUMBA_NUM_THREADS (all cores unless set) and the OpenBLAS the kernels call
(SciPy's) one thread unless OPENBLAS_NUM_THREADS is set (symnn.codegen.numba_start: their
products are many small ones); `symnn train ... --threads N` and set_threads(N) set both for the
rest of the process. The compiled epoch shares large batches among threads only when they were
asked for (training_threads). On a machine shared with other jobs, 1 thread is often faster than more
(bench/ measures with 1 thread per library unless told otherwise).
"""

from __future__ import annotations

import contextlib
import os

from symnn.errors import InputError

_asked: int | None = None  # what set_threads was given


def training_threads() -> int:
    """How many threads the compiled epoch may share a batch among (symnn.nn.epoch.parts_for):
    the number set_threads / `--threads` asked for, else NUMBA_NUM_THREADS when it is set, else 1.
    Shared batches wait for every thread at each batch's end, so on a machine whose cores are
    busy with other work they run slower than one thread: they are used only when asked for."""
    if _asked is not None:
        return _asked
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else 1


def available() -> int:
    """The threads training may share its work among: training_threads(), at most Numba's."""
    from symnn.codegen.numba_start import numba

    return max(1, min(training_threads(), numba().get_num_threads()))


def set_threads(n: int | None) -> None:
    """Numba's and BLAS's threads for the rest of the process (None: leave both as they are)."""
    global _asked
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"threads must be a positive integer (got {n!r})")
    from symnn.codegen.numba_start import numba

    nb = numba()
    most = nb.config.NUMBA_NUM_THREADS
    if n > most:
        raise InputError(
            f"threads: Numba was started with at most {most} (NUMBA_NUM_THREADS); ask for {most} or fewer, "
            f"or set NUMBA_NUM_THREADS={n} before symnn starts"
        )
    nb.set_num_threads(n)
    _asked = n
    blas_limit(n)  # from now on (threadpoolctl applies the limit when it is made)


_controller = None  # threadpoolctl's view of the loaded BLAS libraries, for blas_scope


def blas_scope(n: int) -> contextlib.AbstractContextManager:
    """BLAS limited to n threads inside `with` (the kernels' np.dot while Numba's threads share a
    batch): through one kept threadpoolctl controller, ~16 µs, where blas_limit's fresh look at
    the loaded libraries costs ~1 ms. Made at the first call, after the kernels loaded SciPy's BLAS."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return contextlib.nullcontext()
        _controller = ThreadpoolController()
    return _controller.limit(limits=n, user_api="blas")


def blas_limit(n: int) -> contextlib.AbstractContextManager:
    """BLAS (NumPy's OpenBLAS and SciPy's, np.dot inside the kernels) limited to n threads: from
    now on, or inside `with` and put back after; without threadpoolctl BLAS keeps
    OPENBLAS_NUM_THREADS and this does nothing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")
