"""Step economy: symnn's line counts next to the textbook's, on 30 worked examples.

The reference set is the `textbook_lines` entries of tests/corpus/derivatives.json: 30 worked
examples of OpenStax Calculus Volume 1, chapter 3 (which ones, and how the book's lines were
counted, is in tests/corpus/README.md). For each, `symnn.derive("expression", ...)` runs at
`--detail brief`, `normal` and `full`, and its lines are counted: every equation it prints, the
definitions (f(x) = ..., u = ...) left out, as the book's count leaves out naming the parts.

Usage:  python bench/step_economy.py [--write]
Prints the table in Markdown; --write also puts it in bench/README.md, between the
`<!-- step-economy -->` markers. Exit status 1 when brief is over 1.5x the textbook anywhere.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "corpus" / "derivatives.json"
README = ROOT / "bench" / "README.md"
DETAILS = ("brief", "normal", "full")
LIMIT = 1.5  # brief may print at most this many times the textbook's lines
MARK = ("<!-- step-economy -->", "<!-- /step-economy -->")


def reference_set() -> list[dict]:
    """The corpus problems with a textbook line count, in the book's order."""
    problems = json.loads(CORPUS.read_text(encoding="utf-8"))
    chosen = [p for p in problems if p.get("textbook_lines") is not None]
    return sorted(chosen, key=_place)


def _place(problem: dict) -> tuple:
    """(section, the example's position in it): the book's order."""
    m = re.search(r"section (\d+)\.(\d+), .*the section's example (\d+)", problem["source"])
    return tuple(int(g) for g in m.groups()) if m else (99, 99, 99)


def lines(d) -> int:
    """The lines of a derivation: every equation but the definitions."""
    return sum(not s.is_definition for s in d.equations)


def counts(problem: dict, details=DETAILS) -> dict[str, int]:
    """symnn's line count at each detail level (each derivation verified, as always)."""
    import symnn

    out = {}
    for detail in details:
        d = symnn.derive("expression", expr=problem["expr"], wrt=problem["wrt"], detail=detail)
        assert d.verified
        out[detail] = lines(d)
    return out


def example(problem: dict) -> str:
    """'3.3 “Applying the Power Rule”': the section and the example's title, from its source."""
    m = re.search(r'section (\d+\.\d+), worked example "([^"]+)"', problem["source"])
    return f"{m.group(1)} “{m.group(2)}”" if m else problem["id"]


def table(rows: list[tuple[dict, dict]]) -> str:
    head = "| example (OpenStax Calculus Vol. 1) | f(x) | textbook | brief | normal | full | brief / textbook |"
    out = [head, "|---|---|--:|--:|--:|--:|--:|"]
    for p, c in rows:
        ratio = c["brief"] / p["textbook_lines"]
        flag = "" if ratio <= LIMIT else " **over**"
        out.append(
            f"| {example(p)} | `{p['expr']}` | {p['textbook_lines']} | {c['brief']} | {c['normal']} | "
            f"{c['full']} | {ratio:.2f}{flag} |"
        )
    tb = sum(p["textbook_lines"] for p, _ in rows)
    sums = {k: sum(c[k] for _, c in rows) for k in DETAILS}
    out.append(f"| **total** | | **{tb}** | **{sums['brief']}** | **{sums['normal']}** | **{sums['full']}** | |")
    over = [p for p, c in rows if c["brief"] > LIMIT * p["textbook_lines"]]
    ratios = [c["brief"] / p["textbook_lines"] for p, c in rows]
    out += [
        "",
        f"brief within {LIMIT}x of the textbook on {len(rows) - len(over)} of {len(rows)} "
        f"(largest ratio {max(ratios):.2f}, median {statistics.median(ratios):.2f}); "
        f"normal / textbook median {statistics.median(c['normal'] / p['textbook_lines'] for p, c in rows):.2f}, "
        f"full / textbook median {statistics.median(c['full'] / p['textbook_lines'] for p, c in rows):.2f}.",
    ]
    return "\n".join(out)


def write(text: str) -> None:
    """Put the table between the markers of bench/README.md (appended with them if absent)."""
    readme = README.read_text(encoding="utf-8")
    block = f"{MARK[0]}\n{text}\n{MARK[1]}"
    if MARK[0] in readme and MARK[1] in readme:
        start, end = readme.index(MARK[0]), readme.index(MARK[1]) + len(MARK[1])
        readme = readme[:start] + block + readme[end:]
    else:
        readme = readme.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(readme, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="also write the table into bench/README.md")
    args = ap.parse_args(argv)
    rows = []
    for p in reference_set():
        rows.append((p, counts(p)))
        print(f"{p['id']}: {rows[-1][1]}", file=sys.stderr, flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write(text)
    return 0 if all(c["brief"] <= LIMIT * p["textbook_lines"] for p, c in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
