"""How the compiled epoch (symnn.nn.epoch) shares a batch's work among the threads asked for.

Two cuts, both generated as `prange` loops around the very kernels the one-thread driver calls:

- **parts** (a batch's rows): each thread runs the whole forward and backward pass on its rows,
  into its own gradient buffers, which `gradient.parts` adds up. It regroups the batch sums, so
  the written order (exact layers) never uses it. For nets whose batch is PARTS_MIN
  multiply-adds or more (the CNNs).
- **units** (a layer's output units): one driver, in which each large call is shared. Thread h
  computes a dense layer's output units lo:hi — its columns of Z, its rows of W, b, ∂C/∂W and
  ∂C/∂b, so no sum is split and nothing is added up — and an element-wise call or a product
  by Wᵀ its run of the batch's rows. Every number is the one-thread driver's. For dense nets
  from SHARE_MIN multiply-adds per call (the MLPs, whose time is in two products per layer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from symnn.nn.epoch import EpochWriter

# multiply-adds of a batch's forward pass from which its rows are split among the threads asked for:
# bench/threads.py (idle machine, 2 cores) found 2 parts 1.2-1.9x faster on the MNIST-shaped CNN
# (44 M), and 0.65-1.09x on the MLPs up to 10 M, whose time is in BLAS products (two at once
# were barely faster than one after the other here)
PARTS_MIN = 20_000_000

# multiply-adds of one call from which a units driver shares it (a 2-thread region's fork and
# join costs ~2 µs: a call of 250 k multiply-adds takes ~13 µs in BLAS on this machine)
SHARE_MIN = 250_000
ELEMENT_WORK = 100  # an element-wise call's element costs about 100 BLAS multiply-adds (sigmoid: 5.5 ns)

ROLES = {
    "s": "shared: passed whole",
    "r": "its run lo:hi along the first axis (the batch's rows, or W's, b's, ∂C/∂W's rows)",
    "f": "its run of rows, flattened (an element-wise kernel's argument)",
    "i": "an input whose columns lo:hi it reads, copied into its own buffer (BLAS reads contiguous arrays)",
    "o": "an output whose columns lo:hi it writes, through its own buffer",
}


def work(model, sample_shape: tuple) -> int:
    """About how many multiply-adds one sample's forward pass takes: each layer's `work` for one
    sample when it has one (Dense, Conv2D), else the size of its input (element-wise layers)."""
    total, shape = 0, tuple(sample_shape)
    for layer, out in zip(model.layers, model.check_shapes(shape)[1:]):
        per = getattr(layer, "work", None)
        total += int(per((1, *shape))) if callable(per) else int(np.prod(shape))
        shape = out
    return total


def parts_for(model, sample_shape: tuple, batch_size: int, exact: bool = False) -> int:
    """How many threads share a batch's rows: the threads asked for (symnn.nn.threads.available)
    when a batch's forward pass is PARTS_MIN multiply-adds or more (bench/threads.py measured
    where two threads start to win) and the written order is not asked for (parts regroup the
    batch sums); else 1."""
    from symnn.nn.threads import available

    threads = available()
    if exact or threads < 2 or batch_size < 2 * threads:
        return 1
    return threads if batch_size * work(model, sample_shape) >= PARTS_MIN else 1


def units_for(model, sample_shape: tuple, batch_size: int, exact: bool = False) -> int:
    """How many threads a units driver shares its large calls among: the threads asked for when
    the batch's rows are not cut (parts_for gives 1) and a dense layer's product on a batch is
    SHARE_MIN multiply-adds or more; else 1. The written order may use it: no sum is split."""
    from symnn.nn.layers import Dense
    from symnn.nn.threads import available

    threads = available()
    if threads < 2 or parts_for(model, sample_shape, batch_size, exact) > 1:
        return 1
    shape, dense = tuple(sample_shape), False
    for layer, out in zip(model.layers, model.check_shapes(shape)[1:]):
        dense |= isinstance(layer, Dense) and layer.work((batch_size, *shape)) >= SHARE_MIN
        shape = out
    return threads if dense else 1


def share(w: EpochWriter, count: str | int, work: int, calls: list[tuple]) -> None:
    """Write `calls`, each (kernel, roles, *arguments) with one role letter (ROLES) per argument.
    In a units driver and from SHARE_MIN multiply-adds, they run in one prange region, thread h
    on its run lo:hi of `count` (the batch's rows "m", or a layer's number of output units);
    else as plain calls, on whole arrays (a flattened one for "f")."""
    P = w.units
    if P < 2 or work < SHARE_MIN or (isinstance(count, int) and count < 2 * P):
        for k, roles, *args in calls:
            w.call(k, *(w.flat(a) if r == "f" else a for a, r in zip(args, roles)))
        return
    what = "the batch's rows" if count == "m" else "the output units"
    w.emit(f"for h in prange({P}):  # {what} cut among {P} threads: thread h computes lo:hi")
    w.emit(f"    lo = {count} * h // {P}")
    w.emit(f"    hi = {count} * (h + 1) // {P}")
    own: dict[str, str] = {}
    for k, roles, *args in calls:
        for a, r in zip(args, roles):
            if r in "io" and a not in own:
                size = w.batch_size * -(-int(count) // P)
                own[a] = w.buffer(f"{a}_units", (P, size), False)
                w.emit(f"    {a}_h = {own[a]}[h, : m * (hi - lo)].reshape((m, hi - lo))")
                if r == "i":
                    w.emit(f"    {a}_h[:] = {a}[:, lo:hi]")
        part = {"s": "{}", "r": "{}[lo:hi]", "f": "{}[lo:hi].reshape(-1)", "i": "{}_h", "o": "{}_h"}
        w.call(k, *(part[r].format(a) for a, r in zip(args, roles)))
        w.lines[-1] = "    " + w.lines[-1]
        for a, r in zip(args, roles):
            if r == "o":
                w.emit(f"    {a}[:, lo:hi] = {a}_h")


def parts_body(w: EpochWriter, batched: list[str], fixed: list[str], add: str) -> list[str]:
    """The batch's forward, loss and backward lines run by w.parts threads, each on its own rows
    (views of the batch's buffers) into its own fixed buffers and stats row; then each gradient
    added up over the parts (`add`, the gradient.parts kernel's alias) and the update lines."""
    P, names = w.parts, [*batched, *fixed, "stats"]
    mine = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    body = [
        f"q = min({P}, m)  # parts with rows: up to {P}, one per thread",
        "for h in prange(q):",
        "    lo = (m * h) // q",
        "    hi = (m * (h + 1)) // q",
        "    stats_h = stats[h]",
        *[f"    {b}_h = {b}[lo:hi]" for b in batched],
        *[f"    {b}_h = {b}_parts[h]" for b in fixed],
        *[f"    {mine.sub(lambda g: g[1] + '_h', line)}" for line in w.lines[: w.split]],
        f"for h in range(q, {P}):  # a batch shorter than {P} rows leaves parts empty",
        *[f"    {g}_parts[h].reshape(-1)[:] = 0.0" for _, g in w.updates],
    ]
    sums = [
        f"{add}({g}_parts.reshape({P}, -1){flat_run(g, P, ':, ')}, {g}.reshape(-1){flat_run(g, P)})  # gradient.parts"
        for _, g in w.updates
    ]
    return body + update_body(w, P, sums)


def update_body(w: EpochWriter, P: int, first: list[str] | None = None) -> list[str]:
    """The update lines run by P threads, each on its run of every parameter's entries (after
    the lines `first`, in the same region); lines on no flat array (Adam's step count) run once."""
    updates = w.lines[w.split :]
    body = [line for line in updates if ".reshape(-1)" not in line]
    body += [f"for h in prange({P}):  # the update, each thread on its own run of the entries"]
    flat = re.compile(r"\b(\w+)\.reshape\(-1\)")
    body += [f"    {line}" for line in first or []]
    return body + [
        f"    {flat.sub(lambda a: a[0] + flat_run(a[1], P), line)}" for line in updates if ".reshape(-1)" in line
    ]


def flat_run(name: str, parts: int, lead: str = "") -> str:
    """The index of thread h's run of the entries of flat array `name` (one of `parts` runs)."""
    return f"[{lead}{name}.size * h // {parts}:{name}.size * (h + 1) // {parts}]"
