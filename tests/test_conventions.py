"""The habits of a well-kept Python tool: --version, plurals."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import symnn


def test_version_matches_the_package_metadata():
    assert symnn.__version__ == importlib.metadata.version("symnn")
    r = subprocess.run([sys.executable, "-m", "symnn", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"symnn {symnn.__version__}"


def test_one_is_singular():
    from symnn import derive
    from symnn.wording import plural

    assert plural(1, "epoch") == "1 epoch" and plural(2, "epoch") == "2 epochs" and plural(0, "step") == "0 steps"
    from symnn.render.text import verification_summary

    text = verification_summary(derive("expression", expr="x^2"))
    assert "the 1 step checked" in text and "the result equals sympy.diff" in text and "1 results" not in text


def test_progress_in_a_log_is_a_few_plain_lines(tmp_path):
    """stderr not a terminal: no bar redraws, at most one line a second (and one per tenth)."""
    import os
    import time

    start = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "symnn", "train", "mlp", "--dataset", "xor", "--hidden", "3", "--epochs", "3000"],
        capture_output=True,
        text=True,
        env={**os.environ, "SYMNN_CACHE_DIR": str(tmp_path)},
    )
    seconds = time.monotonic() - start
    assert r.returncode == 0 and "\r" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("epochs:")]
    assert 1 <= len(lines) <= min(11, seconds + 2) and lines[-1].startswith("epochs: 3000/3000 (100%)")
    quiet = subprocess.run(
        [
            sys.executable,
            "-m",
            "symnn",
            "train",
            "mlp",
            "--dataset",
            "xor",
            "--hidden",
            "3",
            "--epochs",
            "300",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "SYMNN_CACHE_DIR": str(tmp_path)},
    )
    assert quiet.returncode == 0 and "epochs:" not in quiet.stderr


def test_plain_progress_lines_are_rate_limited(monkeypatch):
    import io

    from symnn import progress as p

    clock = [0.0]
    monkeypatch.setattr(p.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    bar = p.progress(total=1000, desc="epochs", stream=out)
    for _ in range(1000):
        clock[0] += 0.001  # 1 s in all: the tenths come faster than one a second
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 2 and lines[-1].startswith("epochs: 1000/1000 (100%)")
