"""`symnn info MODEL`: a saved model's architecture, the kernels it uses, how it was trained and
the preprocessing its data went through."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by `symnn train ... --save` or Sequential.save")


def run(args: argparse.Namespace) -> int:
    from symnn.cli import one_line
    from symnn.commands.models import describe
    from symnn.nn.saving import load

    for line in describe(load(args.model), args.model):
        print(one_line(line))
    return 0
