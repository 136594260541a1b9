"""Benchmark of the generated kernels: `python bench/codegen.py [--repeats R] [--quick]`.

Per kernel:
  cold   a new process, empty cache: generate (SymPy), write, import, compile, first call
  warm   a second process on that cache: load the module and Numba's cached code, first call
  run    median time of one call on the same inputs, the generated kernel vs a hand-written
         NumPy reference (ratio = symnn / NumPy; below 1 means the generated kernel is faster)
Cold and warm are measured inside the subprocess, from just before `kernel(name)` (numpy and
numba already imported) to the end of the first call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parents[1]

# name -> (how the subprocess gets the kernel, inputs as Python source, NumPy reference)
DYNAMIC_SIGMOID = (
    "import sympy as sp; from symnn.codegen import build, elementwise; "
    "z = sp.Symbol('z'); s = 1/(1 + sp.exp(-z)); "
    "k = build(elementwise('bench.sigmoid_and_grad', [z], [s, sp.diff(s, z)]))"
)


DENSE_FASTMATH = (
    "from symnn.codegen import KernelSpec, Output, build; from symnn.ops import dense as d; "
    "k = build(KernelSpec('bench.dense_fastmath', [d.A, d.W, d.b], "
    "[Output(d.Z, (d.t, d.j), d.forward_expr())], shapes=d.SHAPES, "
    "out_shapes={d.Z: (d.N, d.n_out)}, fastmath=True))"
)


def corr_valid(x, k):
    return np.einsum("ijmn,mn->ij", sliding_window_view(x, k.shape), k, optimize=True)


def conv_full(g, k):
    hk, wk = k.shape
    return corr_valid(np.pad(g, ((hk - 1, hk - 1), (wk - 1, wk - 1))), k[::-1, ::-1])


def sigmoid_and_grad(z):
    e = np.exp(-z)
    s = 1 / (1 + e)
    return s, e * s * s


CASES = {
    "conv2d.forward": ("k = kernel('conv2d.forward')", "rng.normal(size=(S, S)), rng.normal(size=(5, 5))", corr_valid),
    "conv2d.grad_kernel": (
        "k = kernel('conv2d.grad_kernel')",
        "rng.normal(size=(S, S)), rng.normal(size=(S - 4, S - 4))",
        corr_valid,
    ),
    "conv2d.grad_input": (
        "k = kernel('conv2d.grad_input')",
        "rng.normal(size=(S - 4, S - 4)), rng.normal(size=(5, 5))",
        conv_full,
    ),
    "dense.forward": (
        "k = kernel('dense.forward')",
        "rng.normal(size=(S, 784)), rng.normal(size=(30, 784)), rng.normal(size=30)",
        lambda a, w, b: a @ w.T + b,
    ),
    "dense.forward fastmath": (
        DENSE_FASTMATH,
        "rng.normal(size=(S, 784)), rng.normal(size=(30, 784)), rng.normal(size=30)",
        lambda a, w, b: a @ w.T + b,
    ),
    "sigmoid.forward": ("k = kernel('sigmoid.forward')", "rng.normal(size=S * S) * 5,", lambda z: 1 / (1 + np.exp(-z))),
    "sigmoid+grad (dynamic)": (DYNAMIC_SIGMOID, "rng.normal(size=S * S) * 5,", sigmoid_and_grad),
}

PROBE = """
import json, time
import numpy as np, numba
rng = np.random.default_rng(0)
S = 16
inputs = ({inputs})
t0 = time.perf_counter()
from symnn.codegen import kernel
{get}
k(*inputs)
t1 = time.perf_counter()
st = k.dispatcher.stats
print(json.dumps({{"seconds": t1 - t0, "hits": sum(st.cache_hits.values()),
                  "misses": sum(st.cache_misses.values())}}))
"""


def probe(get: str, inputs: str, cache: str) -> dict:
    env = {**os.environ, "SYMNN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(get=get, inputs=inputs)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(last)
    return json.loads(proc.stdout.strip().splitlines()[-1])


BASELINE = """
import sys, time, numpy as np, numba
sys.path.insert(0, {folder!r})
t0 = time.perf_counter()
from trivial import f
f(np.ones(3))
print(time.perf_counter() - t0)
"""


def numba_baseline(folder: str) -> float:
    """First call of a trivial cached njit function in a fresh process (its cache warm): the
    start-up every warm load pays to Numba whatever the kernel."""
    Path(folder, "trivial.py").write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef f(x):\n    return x + 1\n"
    )
    times = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", BASELINE.format(folder=folder)], capture_output=True, text=True, timeout=300
        )
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return times[-1]


def per_call(f, args, repeats: int) -> float:
    f(*args)
    loops, t = 1, 0.0
    while True:  # enough calls per repeat to measure above timer noise
        t0 = time.perf_counter()
        for _ in range(loops):
            f(*args)
        t = time.perf_counter() - t0
        if t > 0.02 or loops >= 1 << 16:
            break
        loops *= 4
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            f(*args)
        times.append((time.perf_counter() - t0) / loops)
    return median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="repeats for the run-time medians")
    ap.add_argument("--size", type=int, default=256, help="S: conv images S×S, dense batch S, elementwise S² values")
    args = ap.parse_args()

    print(f"{'kernel':<24}{'cold (s)':>10}{'warm (s)':>10}{'symnn (ms)':>12}{'NumPy (ms)':>12}{'ratio':>8}")
    for name, (get, inputs, ref) in CASES.items():
        with tempfile.TemporaryDirectory(prefix="symnn-bench-") as cache:
            try:
                cold = probe(get, inputs, cache)
                warm = probe(get, inputs, cache)
            except RuntimeError as exc:
                print(f"{name:<24} failed: {exc}")
                continue
            os.environ["SYMNN_CACHE_DIR"] = cache
            ns: dict = {}
            exec(get.replace("k = ", "ns['k'] = "), {"kernel": _kernel(), "ns": ns})
            k = ns["k"]
            rng = np.random.default_rng(0)
            data = eval(f"({inputs})", {"rng": rng, "S": args.size})
            got, want = k(*data), ref(*data)
            for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
                assert np.allclose(g, w, rtol=1e-9, atol=1e-9), name
            t_sym = per_call(k, data, args.repeats)
            t_ref = per_call(ref, data, args.repeats)
        note = "" if warm["misses"] == 0 else f"  (warm run compiled {warm['misses']}x!)"
        print(
            f"{name:<24}{cold['seconds']:>10.2f}{warm['seconds']:>10.3f}{t_sym * 1e3:>12.3f}"
            f"{t_ref * 1e3:>12.3f}{t_sym / t_ref:>8.2f}{note}"
        )
    with tempfile.TemporaryDirectory(prefix="symnn-bench-") as folder:
        base = numba_baseline(folder)
    print(
        f"warm includes Numba's own start-up: the first call of a trivial cached function in a "
        f"fresh process takes {base:.3f} s here"
    )
    print(
        f"sizes: conv {args.size}x{args.size} with a 5x5 kernel; dense ({args.size}, 784) x (30, 784)ᵀ; "
        f"elementwise {args.size**2} values; medians of {args.repeats} repeats"
    )
    return 0


def _kernel():
    from symnn.codegen import kernel

    return kernel


if __name__ == "__main__":
    raise SystemExit(main())
