"""Run `symnn.derive("expression", ...)` on every problem of tests/corpus/derivatives.json.

For each problem: parse with symnn.parse.parse, derive with a 5 s timeout, time it, and compare
d.result (the symbols it defines, such as ŷ₁, written out) with sympy.diff of the parsed
expression at 5 random real points (mpmath, 30 digits; points where either side is not finite
and real are retried). Classes:

  ok        the result agrees with sympy.diff at every point
  refused   a SymnnError with a one-line message (parser or engine refusal)
  wrong     a result that differs from sympy.diff (or a SymnnError whose message is not one line)
  crash     any other exception
  timeout   the derivation ran past the time limit (symnn's own limit, or the bench's guard)

Usage:  python bench/derive_corpus.py [--timeout 5] [--only ID-SUBSTRING] [--seed 0] [--warm] [--json FILE]
One process, one core; a CPU-time guard (SIGPROF after timeout + 10 s, a BaseException) stops
anything symnn's own limit misses (its SIGALRM exception can be swallowed inside sp.simplify).

SymPy cannot differentiate floor/ceiling (sympy.diff leaves Derivative(floor(x), x)); for those
problems the reference replaces that unevaluated Derivative by 0, the derivative almost
everywhere (see `_reference`). Every other "derive" problem has a closed sympy.diff.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import mpmath
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symnn.errors import SymnnError  # noqa: E402
from symnn.parse import parse  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "derivatives.json"
CLASSES = ("ok", "refused", "wrong", "crash", "timeout")
N_POINTS = 5
MAX_TRIES = 80
RANGES = ((-3, 3), (0.05, 3), (-10, 10), (0.05, 10))  # where random points are drawn
# Problems whose sympy.diff keeps an unevaluated Derivative (floor, ceiling): reference uses 0 for it.
NO_CLOSED_SYMPY_DIFF = {"sympy-floor", "sympy-ceiling", "sympy-floor-x2"}


class Guard(BaseException):
    """The bench's own time guard fired.

    A BaseException, so that no `except Exception` inside SymPy or symnn can swallow it, and
    driven by ITIMER_PROF (CPU time, signal SIGPROF), so it is independent of symnn's own
    SIGALRM/ITIMER_REAL limit; it re-fires every 0.5 s until the problem is abandoned."""


def _alarm(signum, frame):
    raise Guard("bench guard")


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]


def _variable(expr: sp.Expr, wrt: str) -> sp.Symbol:
    v = parse(wrt)
    return next((s for s in expr.free_symbols if s.name == v.name), v)


def in_base_variables(d) -> sp.Expr:
    """d.result with the symbols the derivation defined (ŷ₁ = e^(z₁)/Σ e^(z_j)) written out."""
    from symnn.derive.derivation import Derivation

    return Derivation.expand(d.result, d.goals[0].defs) if d.goals else d.result


def _reference(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    ref = sp.diff(expr, var)
    if ref.has(sp.Derivative):  # floor/ceiling: derivative 0 almost everywhere
        ref = ref.replace(
            lambda e: isinstance(e, sp.Derivative) and e.expr.func in (sp.floor, sp.ceiling), lambda e: sp.S.Zero
        )
    return ref


def _numeric(expr: sp.Expr):
    """An mpmath function of the expression's free symbols (sorted by name)."""
    from symnn.ops.functions import elementary

    e = elementary(expr)
    e = e.replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.S.Zero)  # 0 off the kink
    e = e.rewrite(sp.Piecewise) if e.has(sp.Heaviside) else e
    syms = sorted(e.free_symbols, key=lambda s: s.name)
    f = sp.lambdify(syms, e, modules=["mpmath"])
    return f, [s.name for s in syms]


def _value(f, names, point):
    try:
        with mpmath.workdps(30):
            v = mpmath.mpmathify(f(*[point[n] for n in names]))
    except (ZeroDivisionError, ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > mpmath.mpf(10) ** -20 * max(1, abs(v.real)):
            return None
        v = v.real
    if not mpmath.isfinite(v):
        return None
    return v


def compare(result: sp.Expr, ref: sp.Expr, rng: random.Random, domain: sp.Expr | None = None) -> str | None:
    """None if result == ref at N_POINTS random real points, else a one-line difference. With
    `domain` (the function differentiated), only points where it is real count, as a derivative
    of a real function is compared on its domain (acosh' = 1/√(x² − 1) for x > 1); if no such
    point is found, any point where both sides are real does."""
    if domain is not None:
        found = _compare(result, ref, rng, domain)
        if found != NO_POINT:
            return found
    return _compare(result, ref, rng, None)


NO_POINT = "no point in the domain where both sides are finite and real"


def _compare(result: sp.Expr, ref: sp.Expr, rng: random.Random, domain: sp.Expr | None) -> str | None:
    fr, nr = _numeric(result)
    fs, ns = _numeric(ref)
    fd, nd = _numeric(domain) if domain is not None else (None, [])
    names = sorted(set(nr) | set(ns) | set(nd))
    good = 0
    for _ in range(MAX_TRIES):
        lo, hi = RANGES[rng.randrange(len(RANGES))]  # mixed signs, positive (logs, roots), wider
        point = {n: mpmath.mpf(rng.uniform(lo, hi)) for n in names}
        a, b = _value(fr, nr, point), _value(fs, ns, point)
        if a is None or b is None or (fd is not None and _value(fd, nd, point) is None):
            continue
        if abs(a - b) > mpmath.mpf(10) ** -12 * max(1, abs(b)):
            at = ", ".join(f"{n}={mpmath.nstr(v, 6)}" for n, v in point.items())
            return f"differs from sympy.diff at {at}: {mpmath.nstr(a, 10)} vs {mpmath.nstr(b, 10)}"
        good += 1
        if good == N_POINTS:
            return None
    return None if good else NO_POINT


def run(problem: dict, timeout: float, rng: random.Random) -> dict:
    import symnn

    row = {
        "id": problem["id"],
        "kind": problem["kind"],
        "expected": problem["expected"],
        "textbook_lines": problem.get("textbook_lines"),
        "steps": None,
        "time": 0.0,
    }
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout + 10, 0.5)
    t0 = time.perf_counter()
    try:
        try:
            expr = parse(problem["expr"])
            var = _variable(expr, problem["wrt"])
        except SymnnError as exc:
            msg = str(exc)
            row.update(cls="refused" if "\n" not in msg.strip() else "wrong", reason="parse: " + one_line(exc))
            return row
        t0 = time.perf_counter()
        d = symnn.derive("expression", expr=problem["expr"], wrt=problem["wrt"], timeout=timeout)
        row["time"] = time.perf_counter() - t0
        row["steps"] = _lines(d)
        if problem.get("textbook_lines") is not None:
            row["brief"] = _lines(
                symnn.derive("expression", expr=problem["expr"], wrt=problem["wrt"], timeout=timeout, detail="brief")
            )
        diff = compare(in_base_variables(d), _reference(expr, var), rng, domain=expr)
        row.update(cls="ok" if diff is None else "wrong", reason=diff or "")
    except Guard:
        row.update(
            cls="timeout",
            reason=f"symnn's {timeout:g} s limit did not stop it; the bench's guard "
            f"did after {timeout + 10:g} s of CPU",
        )
    except SymnnError as exc:
        msg = str(exc).strip()
        if "took longer than" in msg:
            row.update(cls="timeout", reason=one_line(exc))
        else:
            row.update(
                cls="refused" if "\n" not in msg else "wrong",
                reason=one_line(exc) + ("" if "\n" not in msg else " (message has several lines)"),
            )
    except Exception as exc:  # noqa: BLE001 - a crash is what we measure
        row.update(cls="crash", reason=f"{type(exc).__name__}: {one_line(exc)}")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        if not row["time"]:
            row["time"] = time.perf_counter() - t0
    return row


def _lines(d) -> int:
    """The lines of the solution: every equation but the definitions."""
    return sum(not s.is_definition for s in d.equations)


def table(rows, headers) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--only", default=None, help="run the problems whose id contains this text")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the per-problem rows to this file")
    ap.add_argument(
        "--warm",
        action="store_true",
        help="use the normal symnn cache (default: a fresh temporary SYMNN_CACHE_DIR, so "
        "every step is verified again and times are comparable between runs)",
    )
    args = ap.parse_args(argv)
    if not args.warm:
        import os
        import tempfile

        tmp = tempfile.TemporaryDirectory(prefix="symnn-bench-")
        os.environ["SYMNN_CACHE_DIR"] = tmp.name
    problems = json.loads(CORPUS.read_text(encoding="utf-8"))
    if args.only:
        problems = [p for p in problems if args.only in p["id"]]
    rng = random.Random(args.seed)
    rows = []
    for n, p in enumerate(problems, 1):
        r = run(p, args.timeout, rng)
        rows.append(r)
        print(f"[{n:3d}/{len(problems)}] {r['cls']:8s} {r['time']:6.2f}s  {p['id']}", file=sys.stderr, flush=True)

    print(f"\n# symnn derive on {len(rows)} problems of {CORPUS.relative_to(ROOT)} (timeout {args.timeout:g} s)\n")
    counts = Counter(r["cls"] for r in rows)
    print(table([[c, counts.get(c, 0)] for c in CLASSES] + [["total", len(rows)]], ["class", "count"]))
    kinds = sorted({r["kind"] for r in rows})
    per: defaultdict[str, Counter] = defaultdict(Counter)
    for r in rows:
        per[r["kind"]][r["cls"]] += 1
    print(
        "\n"
        + table(
            [[k, *(per[k].get(c, 0) for c in CLASSES), sum(per[k].values())] for k in kinds],
            ["kind", *CLASSES, "total"],
        )
    )
    exp = Counter((r["expected"], "derived" if r["cls"] in ("ok", "wrong") else r["cls"]) for r in rows)
    print("\n" + table([[e, o, c] for (e, o), c in sorted(exp.items())], ["expected", "outcome", "count"]))
    times = [r["time"] for r in rows if r["steps"] is not None or r["cls"] in ("timeout", "crash")]
    if times:
        print(
            f"\ntime per derivation: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
            f"(over {len(times)} problems that reached derive)"
        )
    steps = [r["steps"] for r in rows if r["steps"] is not None]
    if steps:
        print(f"derivation steps: median {statistics.median(steps)}, max {max(steps)}, total {sum(steps)}")
    slow = sorted(rows, key=lambda r: -r["time"])[:10]
    print(
        "\n10 slowest:\n"
        + table(
            [[r["id"], f"{r['time']:.2f}", r["cls"], r["steps"] if r["steps"] is not None else "-"] for r in slow],
            ["id", "seconds", "class", "steps"],
        )
    )
    tb = [r for r in rows if r["textbook_lines"] is not None]
    if tb:
        print(
            "\ntextbook worked solutions: lines shown vs symnn lines (normal, brief)\n"
            + table(
                [
                    [
                        r["id"],
                        r["textbook_lines"],
                        r["steps"] if r["steps"] is not None else "-",
                        r.get("brief", "-"),
                        r["cls"],
                    ]
                    for r in tb
                ],
                ["id", "textbook lines", "symnn normal", "symnn brief", "class"],
            )
        )
        briefs = [(r["textbook_lines"], r["brief"]) for r in tb if r.get("brief") is not None]
        if briefs:
            over = [r["id"] for r in tb if r.get("brief") is not None and r["brief"] > 1.5 * r["textbook_lines"]]
            print(
                f"brief within 1.5x of the textbook: {len(briefs) - len(over)} of {len(briefs)}"
                + (f"; over: {', '.join(over)}" if over else "")
            )
        both = [(r["textbook_lines"], r["steps"]) for r in tb if r["steps"] is not None]
        if both:
            print(
                f"sum: textbook {sum(a for a, _ in both)} lines, symnn {sum(b for _, b in both)} steps; "
                f"median ratio steps/lines {statistics.median(b / a for a, b in both):.2f}"
            )
    print("\nsteps per problem:\n" + " ".join(f"{r['id']}={r['steps']}" for r in rows if r["steps"] is not None))
    bad = [r for r in rows if r["cls"] != "ok"]
    print(
        f"\nnot ok ({len(bad)}):\n"
        + table([[r["id"], r["cls"], r["expected"], r["reason"]] for r in bad], ["id", "class", "expected", "reason"])
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
