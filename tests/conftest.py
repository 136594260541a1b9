"""Shared test set-up: one kernel cache per test session, so every Numba kernel compiles once; the
whole course built once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

# Set before anything imports symnn.codegen: kernels compile once per session into this folder.
_CACHE = os.environ.get("SYMNN_TEST_CACHE_DIR") or tempfile.mkdtemp(prefix="symnn-test-cache-")
os.environ["SYMNN_CACHE_DIR"] = _CACHE
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_sessionfinish(session, exitstatus):
    if not os.environ.get("SYMNN_TEST_CACHE_DIR"):
        shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def cache_dir() -> str:
    return _CACHE


def pdflatex_or_skip() -> str:
    """The pdflatex path; in CI (env CI set) its absence is a failure, not a skip."""
    path = shutil.which("pdflatex")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is required in CI (apt-get install texlive-latex-base texlive-latex-recommended)")
        pytest.skip("pdflatex is not installed here (CI installs it)")
    return path


_DERIVED: dict = {}


@pytest.fixture(scope="session")
def derived():
    """derived(topic, **options): one verified Derivation per topic and options per session
    (backprop takes ~40 s to verify; derive it once)."""
    from symnn import derive

    def get(topic, **options):
        key = (topic, tuple(sorted(options.items())))
        if key not in _DERIVED:
            _DERIVED[key] = derive(topic, **options)
        return _DERIVED[key]

    return get


def central_differences(f, arr, h: float = 1e-6):
    """∂f()/∂arr by central differences, perturbing arr in place (each entry put back exactly):
    the oracle of every gradient test."""
    import numpy as np

    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + h
        hi = f()
        arr[idx] = old - h
        lo = f()
        arr[idx] = old
        g[idx] = (hi - lo) / (2 * h)
    return g


def finite_difference_gradients(net, X, y, h: float = 1e-6) -> dict:
    """Central differences of net.loss(X, y) for every parameter."""
    return {name: central_differences(lambda: net.loss(X, y), param, h) for name, param in net.parameters().items()}


# ---- the whole course, built once per session -----------------------------------------------
# by the main job's own command, `symnn course build` (every format this machine makes), in the
# background from the first test that asks: test_course reads its book and Markdown,
# test_pdf_quality its log, test_html its web book.


@dataclass
class Built:
    base: Path  # the folder the command ran in
    job: Future  # the subprocess.CompletedProcess of the build

    @property
    def out(self) -> Path:
        """The build's folder, once the build has finished well."""
        run = self.job.result()
        assert run.returncode == 0, run.stderr[-3000:]
        return self.base / "first"

    @property
    def stdout(self) -> str:
        return self.job.result().stdout


def run_symnn(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """A Python process (`-m symnn ...` or a lesson file) in cwd, matplotlib without a window."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
    )


@pytest.fixture(scope="session")
def course_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("course")
    pool = ThreadPoolExecutor(max_workers=1)
    job = pool.submit(run_symnn, ["-m", "symnn", "course", "build", "--out", "first", "--quiet"], base)
    yield Built(base, job)
    pool.shutdown(wait=True)


FOUR_LESSONS = (5, 8, 10, 14)  # backprop's derivations, feature maps and step tables, pooling figures, softmax


@pytest.fixture(scope="session")
def four_lessons(tmp_path_factory):
    """Lessons 5, 8, 10 and 14 run in-process as the build runs them (their figures in out/figures),
    once per session for the notebooks' and the slides' tests: (out, [(LessonFile, Lesson), ...])."""
    from symnn.course import book

    out = tmp_path_factory.mktemp("four") / "course"
    book.prepare_out(out, [], force=False)
    import matplotlib

    matplotlib.use("Agg")
    files = {lf.number: lf for lf in book.available_lessons()}
    return out, [(files[n], book.run_lesson(files[n], out / "figures")) for n in FOUR_LESSONS]
