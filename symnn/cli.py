"""The `symnn` command line. Each sub-command lives in symnn/commands/<name>.py and provides
`add_arguments(parser)` and `run(args) -> int`; this module only dispatches and turns a
SymnnError into one line on stderr and exit code 2 (Ctrl-C: one line and exit code 130; SIGTERM
and SIGHUP: unwound the same way, exit code 128 + the signal's number).

It imports only os, signal and sys at the top, so the program's signal handlers are in place
before anything heavy is imported (symnn.errors guards the few imports before this module).
"""

from __future__ import annotations

import os
import signal
import sys

# sub-command name -> (module under symnn.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "derive": ("derive", "print a step-by-step, machine-checked derivation"),
    "check": ("check", "check a learner's own derivation: the first wrong line, a counterexample, why"),
    "course": ("course", "build the course book from the lessons"),
    "train": ("train", "train a small net from the derived kernels"),
    "codegen": ("codegen", "list, show or clear the generated kernels"),
    "feature-map": ("feature_map", "the lecture's feature map (Step 1 - Convolution), cell by cell with --steps"),
    "filter": ("filter", "GIMP's convolution-matrix filters (sharpen, blur, edges, emboss) on a photo"),
    "predict": ("predict", "a saved model's predictions on new data (a CSV, an .npz or images)"),
    "info": ("info", "a saved model: its layers, the kernels it uses, how it was trained"),
}
_UNWIND = ("SIGTERM", "SIGHUP")  # handled like Ctrl-C: every cleanup runs, children stopped
_pending: list[int] = []  # signals whose exception has not reached main() yet
_program: list[bool] = []  # set by run(): this process ends when main() returns


def build_parser():
    """The argparse parser with every sub-command (imports the command modules)."""
    import argparse
    import importlib
    from typing import NoReturn

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # one line, exit 2, no usage dump
            self.exit(2, f"symnn: error: {one_line(message)} (see `{self.prog} --help`)\n")

    parser = _Parser(prog="symnn", description="symnn: derive neural networks symbolically, then run the derived code.")
    from symnn import __version__

    parser.add_argument("--version", action="version", version=f"symnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        cmd = importlib.import_module(f"symnn.commands.{module}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
        _name_progs(p)
    return parser


def _name_progs(parser) -> None:
    """Each parser, down to a sub-command's own sub-commands, records its prog ("symnn train
    cnn") as args._prog, the name an error message tells the user to ask --help of."""
    import argparse

    parser.set_defaults(_prog=parser.prog)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _name_progs(child)


def one_line(text: object) -> str:
    """text with line breaks and other control characters shown as escapes: a message about a
    file named "a\\nb" (or holding a terminal escape) stays one harmless line."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in s)


def _raise_interrupt(signum: int, frame: object) -> None:
    _pending.append(signum)
    _hold_signals()
    raise KeyboardInterrupt


def _raise_terminated(signum: int, frame: object) -> None:
    from symnn.errors import Terminated

    _pending.append(signum)
    _hold_signals()
    raise Terminated(signum)


def _hold_signals() -> None:
    """One unwinding at a time: a second Ctrl-C or SIGTERM would cut the cleanup (a temporary
    file left); it is ignored until main() returns."""
    for name in ("SIGINT", *_UNWIND):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def _install_handlers() -> dict:
    """Ctrl-C raises KeyboardInterrupt, SIGTERM/SIGHUP raise Terminated; returns the previous
    handlers ({} when not in the main thread)."""
    previous = {}
    try:
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _raise_interrupt)
        for name in _UNWIND:
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, _raise_terminated)
    except ValueError:  # not the main thread
        pass
    return previous


def _restore_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, TypeError):
            pass


def _unraisable(hook):
    """sys.unraisablehook: a Ctrl-C that landed in a callback Python cannot raise from (a weakref
    callback inside an import) stays silent; main() still ends with one line and 130."""

    def unraisable(info) -> None:
        if not (isinstance(info.exc_type, type) and issubclass(info.exc_type, KeyboardInterrupt)):
            hook(info)

    return unraisable


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line, `symnn: warning: ...`, without the Python source line."""
    text = one_line(message)
    text = text[len("symnn: ") :] if text.startswith("symnn: ") else text
    try:
        print(f"symnn: warning: {text}", file=file or sys.stderr)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one command; Ctrl-C at any point (even while the sub-commands are imported) ends with
    one line, "symnn: interrupted; ...", and exit code 130 (128 + SIGINT), no traceback; SIGTERM
    unwinds the same way (temporary files removed, pdflatex stopped) and ends with 143."""
    import warnings

    from symnn.errors import Terminated

    _pending.clear()
    previous = _install_handlers()
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    hook, sys.unraisablehook = sys.unraisablehook, _unraisable(sys.unraisablehook)
    try:
        code = _main(argv)
        if _pending:  # a swallowed Ctrl-C: the work is done, say so anyway
            raise Terminated(_pending[0]) if _pending[0] != signal.SIGINT else KeyboardInterrupt
        return code
    except BaseException as exc:
        # After a signal, whatever unwinds is its doing, even when Python wrapped it (an
        # interrupt inside a class body's __set_name__ surfaces as RuntimeError).
        if not (_pending or isinstance(exc, KeyboardInterrupt)):
            raise
        signum = _pending[0] if _pending else getattr(exc, "signum", signal.SIGINT)
        if signum == signal.SIGINT:
            print("symnn: interrupted; no partial output was left behind", file=sys.stderr)
            return 130
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        print(f"symnn: terminated ({name}); no partial output was left behind", file=sys.stderr)
        return 128 + signum
    finally:
        warnings.showwarning, sys.unraisablehook = shown, hook
        if not (_program and _pending):  # the program, once signalled, ends without a 2nd line
            _restore_handlers(previous)


def _main(argv: list[str] | None) -> int:
    from symnn.errors import SymnnError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:  # a sub-command may complete its own arguments
        complete = getattr(sys.modules[f"symnn.commands.{COMMANDS[argv[0]][0]}"], "complete_argv", None)
        argv = [argv[0], *complete(argv[1:])] if complete else argv
    args, extras = parser.parse_known_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if extras:  # an option of another sub-command, or a typo: never ignored
        prog, first = getattr(args, "_prog", "symnn"), one_line(extras[0])
        what = f"has no option {first}" if first.startswith("-") else f"takes no argument {first!r}"
        print(f"symnn: error: `{prog}` {what} (its options: `{prog} --help`)", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except SymnnError as exc:
        print(f"symnn: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def _safe_streams() -> None:
    """stdout/stderr that cannot encode a character (PYTHONIOENCODING=cp1252, a C locale) print
    a replacement instead of raising UnicodeEncodeError."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # started with that descriptor closed: say nothing there
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
            continue
        try:
            if getattr(stream, "errors", "strict") == "strict":
                stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


def run() -> None:
    """The `symnn` program: main(), then exit without the interpreter's teardown.

    Once the output is flushed and the atexit handlers have run, tearing the interpreter down
    frees every SymPy and Numba object one by one (a visible share of a short run: the "floor"
    rows of bench/startup.py) and changes nothing anyone can see, so the process ends right there
    (the gc.freeze recipe). With other threads still running it exits the usual way and waits for them."""
    _safe_streams()
    _program.append(True)
    code = main()
    import atexit
    import threading

    if threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # a closed pipe or no stream: nothing left to deliver
    os._exit(code)


if __name__ == "__main__":
    run()
