"""`symnn course build|list`: run the lessons and write the course book (LaTeX, PDF, Markdown)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser(
        "build",
        help="run the lessons and write the book",
        description="Run the lessons (lessons/*.py) and write the course book: course.tex, course.pdf "
        "(with pdflatex), one Markdown file per lesson and figures/.",
    )
    build.add_argument(
        "--out",
        default="course",
        metavar="DIR",
        help="folder for course.tex, course.pdf, the Markdown files and figures/ (default: ./course)",
    )
    build.add_argument("--lessons", metavar="SPEC", help="which lessons, e.g. 1,3-5 (default: all)")
    build.add_argument(
        "--pdf",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="make course.pdf with pdflatex (default: when pdflatex is on the PATH)",
    )
    build.add_argument("--force", action="store_true", help="replace files in DIR that symnn did not write")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress (bar or lines)")
    listing = sub.add_parser("list", help="show the lessons", description="Show the lessons: number, title, file.")
    listing.add_argument("--lessons", metavar="SPEC", help="which lessons, e.g. 1,3-5 (default: all)")


def run(args: argparse.Namespace) -> int:
    from symnn.course import book

    if args.action == "list":
        lessons = book.select(args.lessons, book.available_lessons())
        for lf in lessons:
            print(f"{lf.number:>2}  {lf.title:<52} {lf.path.name}")
        return 0
    result = book.build(args.out, lessons=args.lessons, pdf=args.pdf, force=args.force, progress=not args.quiet)
    print(result.summary())
    return 0
