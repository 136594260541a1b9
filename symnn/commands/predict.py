"""`symnn predict MODEL --data FILE [-o out.csv]`: a saved model's predictions on new data."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by `symnn train ... --save` or Sequential.save")
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="the features: a CSV (a header naming the model's columns, or numbers only), an .npz with X, "
        "or image files / a folder of them for a CNN",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the predictions (and outputs) to a CSV instead")
    p.add_argument("--force", action="store_true", help="replace -o FILE even if symnn did not write it")


def run(args: argparse.Namespace) -> int:
    from symnn.cli import one_line
    from symnn.commands.models import predictions, read_features, write_predictions
    from symnn.nn.saving import load

    if args.output:
        from symnn.outputs import check_writable

        check_writable(args.output, args.force)
    model = load(args.model)
    X = read_features(args.data, model)
    texts, out = predictions(model, X)
    if args.output:
        write_predictions(args.output, texts, out, model, args.force)
        print(f"wrote {len(texts)} prediction{'s' if len(texts) != 1 else ''} to {args.output}")
        return 0
    width = len(str(len(texts)))
    for i, text in enumerate(texts, 1):
        print(f"{i:>{width}}  {one_line(text)}")
    return 0
