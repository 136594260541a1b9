"""python bench/run_all.py [--quick]: every benchmark, one after the other on this machine, and
bench/results.md with what they printed (medians and ratios measured side by side in each run).

Runs: codegen (compile / warm-load / run time per kernel), mlp (digits MLP vs network.py, NumPy,
hand Numba, PyTorch), cnn (digits CNN vs im2col NumPy, PyTorch), mlp_big (784-100-10 on 20,000
synthetic samples: BLAS-lowered products vs NumPy, PyTorch), filters (feature maps vs
scipy.ndimage, PyTorch, memory-copy bandwidth), startup (whole-process times against the
targets, the course build from an empty cache), memory (peak RSS of `symnn train cnn`).
PyTorch rows appear only when torch imports.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "codegen": [],
    "mlp": ["--threads", "1"],
    "cnn": ["--threads", "1"],
    "mlp_big": [],
    "filters": [],
    "startup": ["--course"],
    "memory": [],
}
QUICK = {"mlp": ["--epochs", "4"], "startup": ["--repeat", "3", "--cold-repeat", "1"]}


def machine() -> str:
    try:
        model = next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
            platform.processor(),
        )
    except OSError:
        model = platform.processor()
    return (
        f"{model or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/run_all.py")
    p.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    p.add_argument("--only", nargs="*", choices=sorted(SCRIPTS), help="run only these")
    args = p.parse_args(argv)
    sections = [
        f"# symnn benchmarks\n\nMachine: {machine()}. Load before the run: "
        f"{os.getloadavg()[0]:.2f}. Date: {time.strftime('%Y-%m-%d')}.\n"
    ]
    for name, extra in SCRIPTS.items():
        if args.only and name not in args.only:
            continue
        script = HERE / f"{name}.py"
        if not script.exists():
            sections.append(f"## {name}\n\n(bench/{name}.py is not there yet)\n")
            continue
        cmd = [sys.executable, str(script), *extra, *(QUICK.get(name, []) if args.quick else [])]
        print(f"== {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        out = run.stdout + (f"\n(exit code {run.returncode})\n{run.stderr[-2000:]}" if run.returncode else "")
        print(out, flush=True)
        sections.append(f"## {name} ({time.perf_counter() - t0:.0f} s)\n\n```\n{out.strip()}\n```\n")
    (HERE / "results.md").write_text("\n".join(sections))
    print(f"wrote {HERE / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
