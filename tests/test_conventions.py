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
