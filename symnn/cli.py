"""The `symnn` command line. Each sub-command lives in symnn/commands/<name>.py and provides
`add_arguments(parser)` and `run(args) -> int`; this module only dispatches and turns a
SymnnError into one line on stderr and exit code 2 (Ctrl-C: one line and exit code 130)."""
from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading

# sub-command name -> (module under symnn.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "derive": ("derive", "print a step-by-step, machine-checked derivation"),
    "course": ("course", "build the course book from the lessons"),
    "train": ("train", "train a small net from the derived kernels"),
    "codegen": ("codegen", "list, show or clear the generated kernels"),
    "feature-map": ("feature_map", "the lecture's feature map (Step 1 - Convolution), cell by cell with --steps"),
    "filter": ("filter", "GIMP's convolution-matrix filters (sharpen, blur, edges, emboss) on a photo"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"symnn: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symnn", description="symnn: derive neural networks symbolically, "
                     "then run the derived code.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        cmd = importlib.import_module(f"symnn.commands.{module}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; Ctrl-C at any point (even while the sub-commands are imported) ends with
    one line, "symnn: interrupted; ...", and exit code 130 (128 + SIGINT), no traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("symnn: interrupted; no partial output was left behind", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    from symnn.errors import SymnnError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except SymnnError as exc:
        print(f"symnn: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def run() -> None:
    """The `symnn` program: main(), then exit without the interpreter's teardown.

    Once the output is flushed and the atexit handlers have run, tearing the interpreter down
    frees every SymPy and Numba object one by one (~0.3 s after `symnn train mlp` on a 2-core
    machine) and changes nothing anyone can see, so the process ends right there (the gc.freeze
    recipe). With other threads still running it exits the usual way and waits for them."""
    code = main()
    if threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass                   # a closed pipe or no stream: nothing left to deliver
    os._exit(code)


if __name__ == "__main__":
    run()
