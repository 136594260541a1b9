"""The errors symnn raises. Every user-facing failure is a SymnnError with a one-line message."""

from __future__ import annotations


# -- the first lines of the `symnn` program ------------------------------------------------------
# symnn/__init__.py imports this module first and these are its first lines, so when this process
# is the `symnn` program (the console script or `python -m symnn`), a Ctrl-C or SIGTERM during the
# imports that follow ends it with one line and exit code 130 / 143 instead of a traceback. Nothing
# is written yet at that point, so exiting at once is safe; symnn.cli.main() replaces these handlers
# before any work.
def _is_symnn_program() -> bool:
    import os
    import sys

    argv = list(getattr(sys, "orig_argv", []))[1:]
    while argv:  # the interpreter's own options, up to -m / -c / a script
        a = argv.pop(0)
        if a in ("-X", "-W", "--check-hash-based-pycs"):
            argv = argv[1:]
        elif a == "-c" or not a.startswith("-") or a == "-":
            break
        elif not a.startswith("--") and a.endswith("m"):
            return bool(argv) and argv[0] in ("symnn", "symnn.cli", "symnn.__main__")
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name in ("symnn", "symnn.exe", "symnn-script.py")


def _exit_at_once(signum: int, frame: object) -> None:
    import os

    what = "interrupted" if signum == 2 else "terminated"
    os.write(2, f"symnn: {what}; no partial output was left behind\n".encode())
    os._exit(128 + signum)


def _guard_start() -> None:
    import _signal  # the C module: `signal` would import enum first

    try:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            sig = getattr(_signal, name, None)
            if sig is not None and _signal.getsignal(sig) is not _signal.SIG_IGN:
                _signal.signal(sig, _exit_at_once)
    except (ValueError, OSError):  # not the main thread: leave the handlers alone
        pass


if _is_symnn_program():
    _guard_start()


from collections.abc import Iterable  # noqa: E402 - after the guard above, which must run before any import


class SymnnError(Exception):
    """Base class: the message says what is wrong and what is accepted."""


class SymnnWarning(UserWarning):
    """A warning of symnn's: printed as one line, `symnn: warning: ...`, without a source line
    (in library use too; the CLI prints every warning so)."""


def _format_warning(message, category, filename, lineno, line=None) -> str:
    if isinstance(category, type) and issubclass(category, SymnnWarning):
        return f"symnn: warning: {' '.join(str(message).split())}\n"
    return _python_format_warning(message, category, filename, lineno, line)


import warnings  # noqa: E402 - loaded by Python's start-up already

_python_format_warning = warnings.formatwarning
warnings.formatwarning = _format_warning


class UnknownNameError(SymnnError, KeyError):
    """An unknown topic, activation, cost, kernel, layer or dataset name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class InputError(SymnnError, ValueError):
    """Bad values: wrong shapes, NaN, out-of-range numbers, bad options."""


class FileError(SymnnError, OSError):
    """A missing, unreadable, unwritable or malformed file."""


class DerivationError(SymnnError):
    """A derivation step that SymPy cannot confirm, or an expression symnn cannot differentiate."""


class CacheError(SymnnError):
    """The kernel cache could not be used."""


class TrainingError(SymnnError):
    """Training that diverged or cannot proceed."""


def unknown(kind: str, name: object, choices: Iterable[str]) -> UnknownNameError:
    """Build the standard 'unknown X' error naming the valid choices."""
    listed = ", ".join(sorted(choices))
    return UnknownNameError(f"unknown {kind} {name!r}; choose one of: {listed}")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) arrived: unwound like Ctrl-C, so every write and child is cleaned up."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
