"""python bench/memory.py: peak resident memory (RSS) of `symnn train cnn` as a whole process —
with a warm kernel cache (what a user sees from the second run on) and with an empty one (the
first run: SymPy derives, Numba compiles ~25 kernels) — against the 300 MB target."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile

TARGET_MB = 300


def peak_rss_mb(args: list[str], env: dict) -> tuple[float, int]:
    """Peak RSS of one child process (ru_maxrss of the children, read before and after)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = subprocess.run([sys.executable, "-m", "symnn", *args], env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        raise RuntimeError("this child used less memory than an earlier one; run each case in a fresh bench process")
    return after / 1024, run.returncode


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMNN_CACHE_DIR": cache}
        cold, rc1 = peak_rss_mb(["train", "cnn", "--epochs", "2"], env)
        rows.append(("symnn train cnn, empty kernel cache (first run)", cold, rc1))
    # ru_maxrss of children is a maximum over all of them: measure the warm case in a new process
    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        f"import sys; sys.path.insert(0, {here!r}); import memory, os; "
        "print(memory.peak_rss_mb(['train', 'cnn', '--epochs', '2'], dict(os.environ))[0])"
    )
    subprocess.run([sys.executable, "-m", "symnn", "train", "cnn", "--epochs", "1"], capture_output=True)
    warm = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()[-1])
    rows.append(("symnn train cnn, warm kernel cache", warm, 0))
    print(f"peak RSS, target <= {TARGET_MB} MB")
    print("| run | peak RSS (MB) | within target |")
    print("|---|---|---|")
    for name, mb, rc in rows:
        print(f"| {name} | {mb:.0f} | {'yes' if mb <= TARGET_MB else 'no'}{'' if rc == 0 else f' (exit {rc})'} |")


if __name__ == "__main__":
    main()
