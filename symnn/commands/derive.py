"""`symnn derive TOPIC`: print a step-by-step, machine-checked derivation."""

from __future__ import annotations

import argparse
import sys

FORMATS = ("text", "latex", "markdown")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("topic", nargs="?", help="what to derive (see --list)")
    p.add_argument("--list", action="store_true", help="list the topics and exit")
    p.add_argument(
        "--activation",
        help="an activation's name (`symnn derive activation` lists them), a name with parameters such as "
        "elu(alpha=0.5), or an expression in one variable such as x*tanh(x)",
    )
    p.add_argument(
        "--cost",
        help="a cost's name (`symnn derive cost-functions --cost all` lists them), a name with parameters such as "
        "huber(delta=0.5), or an expression in yhat and y such as log(cosh(yhat - y))",
    )
    p.add_argument("--layers", type=int, help="number of layers (backprop)")
    p.add_argument("--optimizer", help="topic 'optimizer': sgd, momentum, nesterov, rmsprop or adam (default: adam)")
    p.add_argument(
        "--expr",
        help="topic 'expression': the expression to differentiate, e.g. "
        "'x^2 exp(-x)' (numbers, names, + - * / ^, calls such as exp, log, sin, abs, max, "
        "sigmoid; never evaluated as code)",
    )
    p.add_argument(
        "--wrt",
        action="append",
        metavar="VAR",
        help="topic 'expression': the variable to differentiate by; x,y gives each "
        "partial derivative; repeat it (--wrt x --wrt x) for a second derivative",
    )
    p.add_argument(
        "--detail",
        choices=("brief", "normal", "full"),
        default="normal",
        help="how many steps: brief (the rules and the result), normal, full (every elementary step); default: normal",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop a derivation after SECONDS (default: 20 when --expr, --activation or --cost is an expression, "
        "none for the built-in topics and names; 0: no limit)",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--standalone", action="store_true", help="LaTeX: a whole document that compiles with pdflatex")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--force", action="store_true", help="replace FILE even if symnn did not write it")


def run(args: argparse.Namespace) -> int:
    from symnn.derive.topics import TOPICS, derive
    from symnn.errors import InputError

    if args.list:
        width = max(len(t) for t in TOPICS)
        for name, (_, summary) in TOPICS.items():
            print(f"{name:<{width}}  {summary}")
        return 0
    if not args.topic and args.expr:
        args.topic = "expression"
    if not args.topic:
        raise InputError("give a topic to derive; choose one of: " + ", ".join(sorted(TOPICS)) + " (or --list)")
    if args.standalone and args.format != "latex":
        raise InputError("--standalone applies to --format latex only")
    options = {
        "activation": args.activation,
        "cost": args.cost,
        "layers": args.layers,
        "optimizer": args.optimizer,
        "expr": args.expr,
        "wrt": args.wrt,
    }
    d = derive(args.topic, timeout=args.timeout, detail=args.detail, **options)
    if args.format == "latex":
        out = d.latex(standalone=args.standalone)
    elif args.format == "markdown":
        out = d.markdown()
    else:
        out = d.text()
    if args.output:
        from symnn.outputs import atomic_write

        path = atomic_write(args.output, out, force=args.force)
        from symnn.cli import one_line

        print(f"wrote {one_line(path)}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    return 0
