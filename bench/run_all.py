"""python bench/run_all.py [--quick]: every benchmark, one after the other on this machine, and
bench/results.md with what they printed (medians and ratios measured side by side in each run).

Runs: codegen (compile / warm-load / run time per kernel), mlp (digits MLP vs network.py, NumPy,
hand Numba, PyTorch), cnn (digits CNN vs im2col NumPy, PyTorch), conv_gemm (the large conv layer,
8 -> 16 channels 28x28, forward + backward: symnn's BLAS-lowered and written-order kernels vs im2col
NumPy, PyTorch and the plain sgemm/dgemm ceiling, at 1 and 2 threads), mnist_cnn (the MNIST-shaped
CNN's epoch and peak memory vs PyTorch float32/float64 and im2col NumPy), mlp_big (784-100-10 on
20,000 synthetic samples: BLAS-lowered products vs NumPy, PyTorch), threads (the compiled epoch
on 1 thread and with its batches shared among 2, digits CNN to MNIST-shaped nets), filters (feature maps vs
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
    "conv_gemm": ["--threads", "1", "2"],
    "mnist_cnn": ["--threads", "1", "--profile"],
    "mlp_big": [],
    "threads": [],
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


def _sections(path: Path) -> dict[str, str]:
    """The '## name ...' sections of an earlier results.md, by script name (kept by --only); a
    heading without its date gets the earlier file's ('Date: ...' in its first lines)."""
    import re

    if not path.exists():
        return {}
    text = path.read_text()
    date = re.search(r"Date: (\S+)\.", text.split("\n## ", 1)[0])
    found: dict[str, str] = {}
    for part in text.split("\n## ")[1:]:
        name = part.split(None, 1)[0]
        heading, _, body = part.partition("\n")
        if date and not re.search(r"\d{4}-\d\d-\d\d", heading):
            heading = re.sub(r"\((.*)\)$", lambda m: f"({m[1]}; {date[1]})", heading)
        found[name] = "## " + heading + "\n" + body.rstrip("\n") + "\n"
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/run_all.py")
    p.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    p.add_argument(
        "--only", nargs="*", choices=sorted(SCRIPTS), help="run only these; results.md keeps the other sections"
    )
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    date = time.strftime("%Y-%m-%d")
    kept = _sections(HERE / "results.md") if args.only else {}
    header = f"# symnn benchmarks\n\nMachine: {machine()}. Load before the run: {load:.2f}. Date: {date}.\n"
    if kept:
        header = (
            f"# symnn benchmarks\n\nMachine: {machine()}. Sections rerun on {date} (load {load:.2f} before): "
            f"{', '.join(args.only)}; the others are kept from earlier runs, dated in their headings.\n"
        )
    sections = [header]
    for name, extra in SCRIPTS.items():
        if args.only and name not in args.only:
            if name in kept:
                sections.append(kept[name])
            continue
        script = HERE / f"{name}.py"
        if not script.exists():
            sections.append(f"## {name}\n\n(bench/{name}.py is not there yet)\n")
            continue
        cmd = [sys.executable, str(script), *extra, *(QUICK.get(name, []) if args.quick else [])]
        print(f"== {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        before = os.getloadavg()[0]
        run = subprocess.run(cmd, capture_output=True, text=True)
        out = run.stdout + (f"\n(exit code {run.returncode})\n{run.stderr[-2000:]}" if run.returncode else "")
        print(out, flush=True)
        took = time.perf_counter() - t0
        sections.append(f"## {name} ({took:.0f} s; {date}, load {before:.2f} before)\n\n```\n{out.strip()}\n```\n")
    (HERE / "results.md").write_text("\n".join(sections))
    print(f"wrote {HERE / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
