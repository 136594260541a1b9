"""Image filters: `python bench/filters.py [--repeats R] [--quick]`.

Mpixel/s of a same-size 2-D cross-correlation with border "extend" (scipy mode "nearest") on
float64 images, 512x512 and 2048x2048, for a 3x3 kernel (emboss) and a 5x5 kernel (GIMP's blur:
the 3x3 box in a zero frame), all measured in one run:

  symnn specialised   convolve.apply(image, name): the generated kernel filter.<name>, the
                      coefficients and divisor folded in, zero terms gone (serial, and prange)
  symnn generic       the generated kernel filter.generic, K read at run time (serial, prange)
  scipy.ndimage       ndimage.correlate(image, K, mode="nearest")
  hand Numba          bench/references/conv_refs.py: a generic loop, and (3x3) nine folded
                      constants, serial and prange
  torch conv2d        F.conv2d after a replicate pad, float64, 1 thread and default threads
                      (when torch imports)
  memory copy         np.copyto of an image of the same size: the physical limit of a filter
                      that reads its input once and writes its output once

symnn's rows include what apply() does besides the sum (clipping to 0..1 inside the kernel,
the border ring, allocating the output). Ratios are ndimage time / row time (above 1: faster
than ndimage). Times are medians of calls timed round-robin (one call of every row per round,
so a change in the machine's load hits all rows alike; the threaded rows in a round-robin of
their own, after the single-threaded ones); the load is printed with them. On a machine whose
cores are busy with other work, OpenMP's spinning worker threads make every prange row slow
(x20 measured on a loaded 2-core machine); OMP_WAIT_POLICY=passive or
NUMBA_THREADING_LAYER=workqueue avoids that.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from statistics import median

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from references import conv_refs  # noqa: E402

TARGETS = {"specialised": 8.0, "generic": 1.3}  # x ndimage at 512x512 3x3


def interleaved(rows, repeats: int) -> list[tuple[str, float]]:
    """Median seconds per call of each (label, function), timed round-robin (one untimed and one
    timed call of each row per round) so that the machine's load changes hit every row alike."""
    for _, f in rows:
        f()  # compile / warm up
    times: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _ in range(repeats):
        for label, f in rows:
            f()  # the caches as this row left them, not the last row
            t0 = time.perf_counter()
            f()
            times[label].append(time.perf_counter() - t0)
    return [(label, median(times[label])) for label, _ in rows]


def torch_rows(image, k):
    try:
        import torch
    except ImportError:
        return []
    default = torch.get_num_threads()
    rows = []
    for threads in sorted({1, default}):

        def call(threads=threads):
            torch.set_num_threads(threads)
            return conv_refs.correlate_torch(image, k)

        rows.append((f"torch conv2d f64, {threads} thread{'s' if threads > 1 else ''}", call))
    return rows


def run(size: int, name: str, repeats: int, with_torch: bool) -> list[tuple[str, float]]:
    from symnn.vision import convolve, filters

    k = np.array(filters.KERNELS[name])
    image = np.random.default_rng(0).random((size, size))
    ref = conv_refs.correlate_scipy(image, k / filters.normalisation(k).divisor)
    got = convolve.apply(image, name, parallel=False)
    assert np.allclose(got, np.clip(ref, 0, 1), atol=1e-12), "symnn and scipy disagree"
    rows = [
        ("symnn specialised, serial", lambda: convolve.apply(image, name, parallel=False)),
        ("symnn specialised, prange", lambda: convolve.apply(image, name, parallel=True)),
        ("symnn generic, serial", lambda: convolve.apply(image, name, parallel=False, specialise=False)),
        ("symnn generic, prange", lambda: convolve.apply(image, name, parallel=True, specialise=False)),
        ("scipy.ndimage.correlate", lambda: conv_refs.correlate_scipy(image, k)),
        ("hand Numba generic", lambda: conv_refs.correlate_numba(image, k)),
    ]
    if k.shape == (3, 3):
        serial, par = conv_refs.folded_3x3(k), conv_refs.folded_3x3(k, parallel=True)
        rows += [
            ("hand Numba folded 3x3, serial", lambda: serial(image)),
            ("hand Numba folded 3x3, prange", lambda: par(image)),
        ]
    dst = np.empty_like(image)
    rows.append(("memory copy (np.copyto)", lambda: np.copyto(dst, image)))
    if with_torch:
        rows += torch_rows(image, k)
    # threaded rows leave their worker threads spinning for a while after each call, which
    # slows whatever runs next on a 2-core machine: time them in a round-robin of their own
    threaded = [r for r in rows if "prange" in r[0] or ("threads" in r[0])]
    timed = dict(interleaved([r for r in rows if r not in threaded], repeats))
    timed.update(interleaved(threaded, repeats))
    return [(label, timed[label]) for label, _ in rows]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/filters.py")
    p.add_argument("--repeats", type=int, default=21, help="timed calls per row at 512x512 (median)")
    p.add_argument("--quick", action="store_true", help="fewer repeats, 512x512 only")
    p.add_argument("--no-torch", action="store_true", help="leave out the PyTorch rows")
    args = p.parse_args(argv)
    import numba

    sizes = [512] if args.quick else [512, 2048]
    repeats = 7 if args.quick else args.repeats
    bandwidth = conv_refs.memcopy_bandwidth()
    print(
        f"memory-copy bandwidth {bandwidth:.2f} GB/s = {bandwidth * 1e3 / 8:.0f} Mpixel/s of float64 "
        f"(the ceiling of a filter that reads and writes each pixel once); numba threads "
        f"{numba.get_num_threads()} (threading layer {numba.config.THREADING_LAYER}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}), load {os.getloadavg()[0]:.2f}"
    )
    summary = {}
    for size in sizes:
        for name in ("emboss", "blur"):
            from symnn.vision import filters

            shape = "x".join(map(str, filters.KERNELS[name].shape))
            rows = run(size, name, max(3, repeats // (5 if size > 1000 else 1)), not args.no_torch)
            scipy_t = dict(rows)["scipy.ndimage.correlate"]
            mpix = size * size / 1e6
            print(f"\n{size}x{size} float64, {shape} kernel ({name}), border extend")
            print(f"  {'':34}{'ms':>9}{'Mpixel/s':>10}{'x ndimage':>11}{'% of copy':>11}")
            copy_rate = mpix / dict(rows)["memory copy (np.copyto)"]
            for label, t in rows:
                print(
                    f"  {label:34}{t * 1e3:9.3f}{mpix / t:10.0f}{scipy_t / t:11.2f}{100 * mpix / t / copy_rate:10.0f}%"
                )
            summary[(size, shape)] = {label: scipy_t / t for label, t in rows}
    s = summary.get((512, "3x3"))
    if s:
        best_spec = max(s["symnn specialised, serial"], s["symnn specialised, prange"])
        best_gen = max(s["symnn generic, serial"], s["symnn generic, prange"])
        print(
            f"\ntargets at 512x512 3x3: specialised {best_spec:.1f}x ndimage (>= "
            f"{TARGETS['specialised']:g}: {'met' if best_spec >= TARGETS['specialised'] else 'NOT met'}), "
            f"generic {best_gen:.1f}x (>= {TARGETS['generic']:g}: "
            f"{'met' if best_gen >= TARGETS['generic'] else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
