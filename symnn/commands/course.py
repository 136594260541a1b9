"""`symnn course build|list|new`: run the lessons and write the course (book, web book, notebooks, slides)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser(
        "build",
        help="run the lessons and write the book",
        description="Run the lessons (symnn's own, or NN_name.py files in --lessons-dir) and write the "
        "course: course.tex, course.pdf (with pdflatex), one Markdown file per lesson, figures/, a web "
        "book in html/, notebooks in notebooks/ and Beamer slides in slides/.",
    )
    build.add_argument(
        "--out",
        default="course",
        metavar="DIR",
        help="folder for course.tex, course.pdf, the Markdown files and figures/ (default: ./course)",
    )
    build.add_argument("--lessons", metavar="SPEC", help="which lessons, e.g. 1,3-5 (default: all)")
    build.add_argument(
        "--lessons-dir",
        metavar="DIR",
        help="a folder of your own lesson files NN_name.py (default: the lessons shipped with symnn); "
        "`symnn course new DIR` writes one to start from",
    )
    build.add_argument("--title", help="the course's title (default: symnn's own course title)")
    build.add_argument(
        "--formats",
        metavar="LIST",
        help="what to write, from tex,pdf,markdown,html,notebooks,slides (default: all the machine can make)",
    )
    build.add_argument(
        "--pdf",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="make the PDFs (course.pdf, the slides) with pdflatex; --no-pdf writes their .tex only "
        "(default: when pdflatex is on the PATH)",
    )
    build.add_argument("--force", action="store_true", help="replace files in DIR that symnn did not write")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress (bar or lines)")
    listing = sub.add_parser("list", help="show the lessons", description="Show the lessons: number, title, file.")
    listing.add_argument("--lessons", metavar="SPEC", help="which lessons, e.g. 1,3-5 (default: all)")
    listing.add_argument("--lessons-dir", metavar="DIR", help="a folder of your own lesson files")
    new = sub.add_parser(
        "new",
        help="start a course of your own",
        description="Write a one-lesson course to start from (DIR/01_first_lesson.py); build it with "
        "`symnn course build --lessons-dir DIR --out DIR/build`.",
    )
    new.add_argument("folder", metavar="DIR", help="a new or empty folder for the lesson files")


def run(args: argparse.Namespace) -> int:
    from symnn.course import book

    if args.action == "new":
        from symnn.course.template import new_course

        for path in new_course(args.folder):
            print(f"wrote {path}")
        print(f"build it with: symnn course build --lessons-dir {args.folder} --out {args.folder}/build")
        return 0
    if args.action == "list":
        lessons = book.select(args.lessons, book.available_lessons(args.lessons_dir))
        for lf in lessons:
            print(f"{lf.number:>2}  {lf.title:<52} {lf.path.name}")
        return 0
    result = book.build(
        args.out,
        lessons=args.lessons,
        pdf=args.pdf,
        force=args.force,
        progress=not args.quiet,
        folder=args.lessons_dir,
        formats=args.formats,
        title=args.title,
    )
    print(result.summary())
    return 0
