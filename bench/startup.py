"""python bench/startup.py [--repeat N] [--cold-repeat N] [--course]: start-up and build times of
whole `symnn` processes, against their targets.

Every number is the wall time of a whole process (`python -m symnn ...` started with
subprocess), each with its own kernel cache in a temporary folder (SYMNN_CACHE_DIR):

  derive cost, first            `symnn derive cost` with an empty cache (the derivation is verified)
  derive cost, again            the same command once its verification is recorded
  train mlp --epochs 1, warm    digits 64-30-10 with default flags, kernels cached: the time to the
                                first epoch (the process ends right after it)
  train mlp, warm               the default 30 epochs, kernels cached (no target; for reference)
  train mlp, empty cache        every kernel generated and compiled by this process
  floor: python, numba call     Python, NumPy, Numba and one call of a cached njit function, the
                                plain way (no target)
  floor: symnn's way            the same with symnn's two start-up measures: Numba's BLAS check
                                without scipy.linalg (symnn.codegen.numba_start) and no interpreter
                                teardown after the work (symnn.cli.run): what a warm `train mlp`
                                cannot go below (no target)
  course build, empty cache     `symnn course build`, every format (book PDF, web book, notebooks,
                                slides), only with --course; target 120 s (issue #19)

Medians of --repeat runs (--cold-repeat for the empty-cache rows). The checkout this script
belongs to is what runs (PYTHONPATH), with Python bytecode in a temporary PYTHONPYCACHEPREFIX,
compiled by two untimed runs first, as an installed symnn has it (pip compiles it). Timings on
a shared machine are noisy: the load average is printed before and after.

From Python (bench/run_all.py): with bench/ on sys.path, `import startup; rows =
startup.run(repeat=3)`; each row is a dict with what, target, median, min, runs and ok, and
`startup.table(rows)` prints them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# what -> target in seconds (None: reported without a target)
TARGETS: dict[str, float | None] = {
    "derive cost, first": 1.0,
    "derive cost, again": 1.0,
    "train mlp --epochs 1, warm": 1.0,
    "train mlp, warm": None,
    "train mlp, empty cache": 10.0,
    "course build, empty cache": 120.0,
    "floor: python, numba call": None,
    "floor: symnn's way": None,
}

# The least a warm `train mlp` can cost: Python, NumPy, Numba, and one call of a cached njit
# function (its first call initialises Numba's CPU target, which imports scipy.linalg to check
# for BLAS).
FLOOR = """\
from numba import njit
@njit(cache=True)
def f(x):
    return x + 1.0
"""
FLOOR_SYMNN = (
    """\
import os
from symnn.codegen.numba_start import numba
numba()
"""
    + FLOOR
    + """\
def done():
    os._exit(0)
"""
)


def _env(cache: Path, pycache: Path) -> dict:
    env = dict(
        os.environ,
        SYMNN_CACHE_DIR=str(cache),
        PYTHONPYCACHEPREFIX=str(pycache),
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        MPLBACKEND="Agg",
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _wall(cmd: list[str], env: dict, cwd: Path) -> float:
    """Wall time of one whole process; raises if it fails."""
    t0 = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if run.returncode:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed (exit {run.returncode}): {run.stderr[-1000:]}")
    return seconds


def timed(args: list[str], env: dict, cwd: Path) -> float:
    """Wall time of one whole `python -m symnn ARGS` process."""
    return _wall([sys.executable, "-m", "symnn", *args], env, cwd)


def _row(what: str, runs: list[float]) -> dict:
    target = TARGETS.get(what)
    median = statistics.median(runs)
    return {
        "what": what,
        "target": target,
        "median": median,
        "min": min(runs),
        "runs": runs,
        "ok": None if target is None else median <= target,
    }


def run(repeat: int = 5, cold_repeat: int = 3, course: bool = False, say=None) -> list[dict]:
    """Measure every row (course build only with course=True); returns the rows."""
    say = say or (lambda line: None)
    rows = []
    with tempfile.TemporaryDirectory(prefix="symnn-startup-") as tmp:
        tmp = Path(tmp)
        pycache = tmp / "pycache"
        prime = _env(tmp / "prime", pycache)  # compile symnn's bytecode once, as pip install does
        timed(["derive", "cost"], prime, tmp)
        timed(["train", "mlp", "--epochs", "1"], prime, tmp)

        def fresh(name: str) -> dict:
            path = tmp / name
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
            return _env(path, pycache)

        # (a) derive cost: first with an empty cache, then with its verification recorded
        first = []
        for n in range(cold_repeat):
            first.append(timed(["derive", "cost"], fresh(f"derive-{n}"), tmp))
        rows.append(_row("derive cost, first", first))
        say(_line(rows[-1]))
        env = fresh("derive-warm")
        timed(["derive", "cost"], env, tmp)
        rows.append(_row("derive cost, again", [timed(["derive", "cost"], env, tmp) for _ in range(repeat)]))
        say(_line(rows[-1]))

        # (c) train mlp with an empty cache; (b) then warm, to the first epoch and for 30 epochs
        cold, env = [], None
        for n in range(cold_repeat):
            env = fresh(f"mlp-{n}")
            cold.append(timed(["train", "mlp"], env, tmp))
        warm1 = [timed(["train", "mlp", "--epochs", "1"], env, tmp) for _ in range(repeat)]
        rows.append(_row("train mlp --epochs 1, warm", warm1))
        say(_line(rows[-1]))
        warm = [timed(["train", "mlp"], env, tmp) for _ in range(max(1, repeat // 2))]
        rows.append(_row("train mlp, warm", warm))
        say(_line(rows[-1]))
        rows.append(_row("train mlp, empty cache", cold))
        say(_line(rows[-1]))

        # the floor under (b)
        (tmp / "floor").mkdir()
        for what, module, text, end in [
            ("floor: python, numba call", "floor_kernel", FLOOR, ""),
            ("floor: symnn's way", "floor_symnn", FLOOR_SYMNN, "; floor_symnn.done()"),
        ]:
            (tmp / "floor" / f"{module}.py").write_text(text)
            floor = [sys.executable, "-c", f"import {module}; {module}.f(1.0){end}"]
            env = _env(tmp / f"{module}-cache", pycache)
            env["PYTHONPATH"] = os.pathsep.join([str(tmp / "floor"), env["PYTHONPATH"]])
            subprocess.run(floor, env=env, cwd=tmp, check=True)
            rows.append(_row(what, [_wall(floor, env, tmp) for _ in range(repeat)]))
            say(_line(rows[-1]))

        # (d) the course book from an empty cache
        if course:
            env = fresh("course")
            out = tmp / "course-out"
            rows.append(
                _row("course build, empty cache", [timed(["course", "build", "--out", str(out), "--quiet"], env, tmp)])
            )
            say(_line(rows[-1]))
    return rows


def _line(row: dict) -> str:
    target = f"{row['target']:.1f} s" if row["target"] is not None else "-"
    verdict = {True: "ok", False: "MISSED", None: ""}[row["ok"]]
    runs = " ".join(f"{r:.2f}" for r in row["runs"])
    return f"{row['what']:<28} {target:>8} {row['median']:>8.2f} s {row['min']:>7.2f} s  {verdict:<7} [{runs}]"


def table(rows: list[dict]) -> str:
    head = f"{'':<28} {'target':>8} {'median':>10} {'min':>9}  {'':<7} runs (s)"
    return "\n".join([head, *(_line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/startup.py", description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="runs per warm row (default 5)")
    p.add_argument("--cold-repeat", type=int, default=3, help="runs per empty-cache row (default 3)")
    p.add_argument("--course", action="store_true", help="also build the course from an empty cache (~1.5 min)")
    args = p.parse_args(argv)
    cores = os.cpu_count()
    print(
        f"symnn start-up: whole processes, {cores} cores, Python {sys.version.split()[0]}, "
        f"load average before {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows = run(args.repeat, args.cold_repeat, args.course, say=lambda line: print("  " + line, flush=True))
    print()
    print(table(rows))
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
