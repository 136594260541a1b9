"""`symnn feature-map`: the lecture's Step 1 feature map (no arguments), or any small image and
feature detector, optionally cell by cell (--steps) as text, LaTeX or Markdown."""

from __future__ import annotations

import argparse

FORMATS = ("text", "latex", "markdown")


def _integer(text: str) -> int:
    """argparse type: an integer, the error quoting at most a few characters of the text."""
    try:
        return int(text)
    except ValueError:
        from symnn.vision.files import brief

        raise argparse.ArgumentTypeError(f"{brief(text)} is not an integer") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image",
        metavar="FILE|MATRIX",
        help='the input image: a CSV/whitespace text file, a grayscale PNG, or inline '
        '"0 0 1; 1 0 0" (default: the lecture\'s 7x7 image)',
    )
    p.add_argument(
        "--kernel", metavar="FILE|MATRIX", help="the feature detector, same forms (default: the lecture's 3x3 detector)"
    )
    p.add_argument("--stride", type=_integer, default=1, help="how far the window moves (default: 1)")
    p.add_argument(
        "--padding", type=_integer, default=0, help="rows and columns of zeros framed round the image (default: 0)"
    )
    p.add_argument(
        "--steps",
        action="store_true",
        help="cell by cell: the window, the element-wise products and their sum, filling the map in",
    )
    p.add_argument("--compact", action="store_true", help="with --steps: one line (table row) per cell")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (terminal), latex (a document pdflatex compiles) or markdown (default: text)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of the terminal")
    p.add_argument("--force", action="store_true", help="replace FILE even if symnn did not write it")


def _not_an_input(output: str, *inputs: str | None) -> None:
    """-o never names the --image or --kernel file, even with --force: it would be lost."""
    from pathlib import Path

    from symnn.commands.filter import same_file
    from symnn.errors import FileError
    from symnn.vision.files import shown

    for given in inputs:
        if given is not None and same_file(Path(output), Path(given.strip())):
            raise FileError(f"-o {shown(output)} is an input file; refusing to overwrite it (choose another name)")


def run(args: argparse.Namespace) -> int:
    from symnn.outputs import check_writable
    from symnn.vision import feature_maps as fm
    from symnn.vision import step_render
    from symnn.vision.matrices import read_matrix
    from symnn.vision.step_tables import steps

    if args.output:
        _not_an_input(args.output, args.image, args.kernel)
        check_writable(args.output, args.force)  # fail before computing anything
    image = read_matrix(args.image) if args.image is not None else fm.LECTURE_IMAGE
    kernel = read_matrix(args.kernel) if args.kernel is not None else fm.LECTURE_DETECTOR
    table = steps(image, kernel, args.stride, args.padding, cells=args.steps)
    if args.steps:
        text = table.render(args.format, compact=args.compact)
    else:
        text = {
            "text": step_render.summary_text,
            "latex": step_render.summary_latex,
            "markdown": step_render.summary_markdown,
        }[args.format](table)
    if args.output:
        from symnn.outputs import atomic_write

        path = atomic_write(args.output, text, force=args.force)
        extra = f"; compile it with `pdflatex {path.name}`" if args.format == "latex" else ""
        print(f"wrote {path}{extra}")
    else:
        print(text, end="")
    return 0
