"""Packaging: the wheel and the sdist carry what they should (the 14 lessons, LICENSE, the tests,
bench/ and .ci/, no symlink), a copy installed from the wheel and one built from the sdist run,
and the dependency floors of pyproject.toml are the versions .ci/lowest.sh installs.

The builds call setuptools' backend directly (no network): setuptools >= 77 (PEP 639's
`license = "MIT"`) comes with the test extra. Marked `packaging` (~1 min): `-m "not packaging"`
leaves these out of a quick local run; CI runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
_JUNK = shutil.ignore_patterns(
    ".git",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    ".benchmarks",
    "lesson_output",
)
_TOP_JUNK = {"course", "out", ".venv", "venv"}  # outputs of the README's commands at the top level


def NOT_SOURCE(folder, names):
    ignored = set(_JUNK(folder, names))
    if Path(folder) == ROOT:
        ignored |= _TOP_JUNK & set(names)
    return ignored


SYMLINK = 0o120000

pytestmark = pytest.mark.packaging


def _setuptools_ok() -> bool:
    try:
        return int(version("setuptools").split(".")[0]) >= 77
    except (PackageNotFoundError, ValueError):
        return False


def _run(cmd, cwd, env=None, timeout=600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """(wheel, sdist) built from a copy of the source tree (the checkout stays untouched)."""
    tmp = tmp_path_factory.mktemp("packaging")
    env = dict(os.environ)
    if not _setuptools_ok():
        if os.environ.get("CI"):
            pytest.fail("setuptools >= 77 is required in CI (pip install '.[test]' brings it)")
        backend = tmp / "backend"
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(backend), "setuptools>=77"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.skip("setuptools >= 77 is not installed and could not be fetched (pip install '.[test]')")
        env["PYTHONPATH"] = str(backend)
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE, symlinks=True)
    out = tmp / "dist"  # (read from sys.argv once: the backend rewrites sys.argv)
    _run(
        [
            sys.executable,
            "-c",
            "import sys, setuptools.build_meta as b; out = sys.argv[1]; b.build_sdist(out); b.build_wheel(out)",
            str(out),
        ],
        cwd=src,
        env=env,
    )
    (wheel,) = out.glob("symnn-*.whl")
    (sdist,) = out.glob("symnn-*.tar.gz")
    return wheel, sdist


def test_the_checkout_has_no_symlinked_lessons():
    assert len(LESSONS) == 14
    assert not (ROOT / "symnn" / "lessons").is_symlink()
    assert not [p for d in ("symnn", "lessons") for p in (ROOT / d).rglob("*") if p.is_symlink()]
    from symnn.course import book

    found = book.lessons_dir()
    assert sorted(p.name for p in found.glob("[0-9][0-9]_*.py")) == LESSONS
    for name in LESSONS:
        assert (found / name).read_bytes() == (ROOT / "lessons" / name).read_bytes()


def test_the_wheel_has_the_lessons_every_module_and_the_license(dists):
    wheel, _ = dists
    with zipfile.ZipFile(wheel) as z:
        infos = z.infolist()
        names = {i.filename for i in infos}
        assert not [i.filename for i in infos if (i.external_attr >> 16) & 0o170000 == SYMLINK]
        for name in LESSONS:
            assert z.read(f"symnn/lessons/{name}") == (ROOT / "lessons" / name).read_bytes()
        # every module of the source tree (the package list of pyproject.toml is explicit)
        modules = {
            p.relative_to(ROOT).as_posix() for p in (ROOT / "symnn").rglob("*.py") if "__pycache__" not in p.parts
        }
        assert modules <= names, sorted(modules - names)
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = z.read(info).decode()
        lic = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        assert z.read(lic) == (ROOT / "LICENSE").read_bytes()
    assert "License-Expression: MIT" in metadata
    assert "Requires-Dist: mpmath>=" in metadata
    assert not [n for n in names if n.startswith(("tests/", "bench/", "lessons/"))]


def test_the_sdist_can_run_the_tests_and_benchmarks(dists):
    _, sdist = dists
    with tarfile.open(sdist) as t:
        members = t.getmembers()
    assert not [m.name for m in members if m.issym() or m.islnk()]
    top = members[0].name.split("/")[0]
    names = {m.name[len(top) + 1 :] for m in members if m.isfile()}
    wanted = {
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_packaging.py",
        ".ci/run",
        ".ci/lowest.txt",
        ".ci/lowest.sh",
        "bench/run_all.py",
        "bench/results.md",
    }
    wanted |= {f"lessons/{name}" for name in LESSONS}
    wanted |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "bench").rglob("*.py") if "__pycache__" not in p.parts}
    assert wanted <= names, sorted(wanted - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_a_wheel_install_runs(dists, tmp_path):
    wheel, _ = dists
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # --ignore-installed: CI has symnn in the base site-packages too, which pip would keep
    _run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
        cwd=tmp_path,
    )
    symnn = str(bindir / "symnn")
    where = _run(
        [str(python), "-c", "import symnn, symnn.course.book as b; print(symnn.__file__); print(b.lessons_dir())"],
        cwd=tmp_path,
    ).splitlines()
    assert all(Path(w).resolve().is_relative_to(venv.resolve()) for w in where), where  # not the checkout
    assert "course" in _run([symnn, "--help"], cwd=tmp_path)
    listed = _run([symnn, "course", "list"], cwd=tmp_path)
    assert [name for name in LESSONS if name in listed] == LESSONS
    derived = _run([symnn, "derive", "--expr", "x^2", "--wrt", "x"], cwd=tmp_path)
    assert re.search(r"2\s*[·*]?\s*x", derived), derived


def test_an_sdist_install_runs(dists, tmp_path):
    """pip builds symnn from the sdist (offline: --no-build-isolation uses this setuptools, and
    --no-deps the dependencies already installed) into a venv, and the installed copy runs."""
    if not _setuptools_ok():
        pytest.skip("building from the sdist needs setuptools >= 77 installed (pip install '.[test]')")
    _, sdist = dists
    venv = tmp_path / "venv"
    # --without-pip: the venv's own (ensurepip) setuptools would shadow this one, and may be older
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    install = ["install", "-q", "--no-deps", "--no-index", "--no-build-isolation", "--ignore-installed", str(sdist)]
    _run([str(python), "-m", "pip", *install], cwd=tmp_path)
    where = _run([str(python), "-c", "import symnn; print(symnn.__file__)"], cwd=tmp_path).strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where  # not the checkout
    symnn = str(bindir / "symnn")
    assert _run([symnn, "--version"], cwd=tmp_path).strip() == f"symnn {version('symnn')}"
    listed = _run([symnn, "course", "list"], cwd=tmp_path)
    assert [name for name in LESSONS if name in listed] == LESSONS


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_floors_are_the_pins_that_ci_tests():
    project = _pyproject()
    floors = {}
    for req in project["project"]["dependencies"]:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", req)
        assert m, f"{req!r}: give every dependency a floor, name>=version"
        floors[m.group(1).lower()] = m.group(2)
    pins = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, pin = line.split("==")
            pins[name.strip().lower()] = pin.strip()
    assert {name: pins.get(name) for name in floors} == floors
    assert "mpmath" in floors  # imported directly by symnn.derive
    assert "bash .ci/lowest.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert project["project"]["license"] == "MIT" and project["project"]["license-files"] == ["LICENSE"]


def test_every_package_folder_is_declared():
    """pyproject lists the packages by hand (lessons/ maps to symnn.lessons): a new folder under
    symnn/ with an __init__.py must be in that list, or the wheel ships without it."""
    declared = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "symnn").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= declared, sorted(found - declared)
    assert declared - {"symnn.lessons"} <= found, sorted(declared - found)


def test_every_module_reads_in_one_sitting():
    """No module of the package is over 500 lines: a stage that grows splits into modules."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "symnn").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert not long, long
