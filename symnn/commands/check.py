"""`symnn check FILE`: read a learner's own derivation, find the first wrong line, show why."""

from __future__ import annotations

import argparse
import sys

FORMATS = ("text", "markdown", "latex", "json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="the derivation: a text file (one `given NAME = EXPR` or `LHS = RHS = ...` per line, # comments), "
        "LaTeX or Markdown with $...$ formulas, or - for standard input",
    )
    p.add_argument(
        "--exercise", metavar="ID", help="check the answer to a course exercise, e.g. 2.1 (`symnn check --list`)"
    )
    p.add_argument("--list", action="store_true", help="list the course's exercises and exit (FILE may be left out)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after SECONDS (default: 20; 0: no limit)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--force", action="store_true", help="replace the report FILE even if symnn did not write it")


def read_input(path: str) -> str:
    """The text of FILE (a regular file, at most the text limit) or of standard input."""
    from symnn.errors import InputError
    from symnn.limits import check_text_size, text_limit
    from symnn.vision.files import open_regular, shown

    if path == "-":
        data = sys.stdin.buffer.read(text_limit() + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        name = "standard input"
    else:
        p, f = open_regular(path)
        with f:
            data = f.read(text_limit() + 1)
        name = shown(p)
    check_text_size(len(data), name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{name} is not UTF-8 text (line {line}); save it as UTF-8") from None


def run(args: argparse.Namespace) -> int:
    from symnn.checking import DEFAULT_TIMEOUT, check

    if args.list:
        from symnn.course.exercises import all_exercises

        for ex in all_exercises():
            print(f"{ex.id:<6} {ex.prompt}")
        return 0
    if not args.file:
        from symnn.errors import InputError

        raise InputError(
            "give the derivation's FILE (or - for standard input); `symnn check --list` lists the exercises"
        )
    text = read_input(args.file)
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if args.exercise:
        from symnn.course.exercises import find

        ex = find(args.exercise)
        result = check(text, timeout=timeout, goal=ex.goal, givens=ex.givens)
    else:
        result = check(text, timeout=timeout)
    if args.format == "json":
        out = result.json()
    elif args.format == "markdown":
        out = result.markdown()
    elif args.format == "latex":
        out = result.latex()
    else:
        encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower().replace("-", "")
        out = result.text(ascii_only=not args.output and encoding not in ("utf8", "utf16", "utf32"))
    if args.output:
        from symnn.cli import one_line
        from symnn.outputs import atomic_write

        path = atomic_write(args.output, out, force=args.force)
        print(f"wrote {one_line(path)}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    return 0 if result.ok else 1
