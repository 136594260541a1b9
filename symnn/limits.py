"""Bounds on untrusted input: how much memory a request may ask for, how large a text input may
be, how long a derivation may run. Each refusal is one InputError line naming the size, the
limit, and how to raise it.

Limits (environment variables raise or lower them):
  SYMNN_MAX_MEMORY   bytes one request may allocate (default 4G; suffixes K, M, G, T)
  SYMNN_MAX_TEXT     bytes of a text input read from a file (default 1M)
Derivations of user expressions stop after DEFAULT_TIMEOUT seconds (`--timeout`).
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from symnn.errors import InputError

MEMORY_ENV = "SYMNN_MAX_MEMORY"
TEXT_ENV = "SYMNN_MAX_TEXT"
DEFAULT_MEMORY = 4 * 1024**3
DEFAULT_TEXT = 1024**2
DEFAULT_TIMEOUT = 20.0
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str, name: str) -> int:
    """'4G' -> 4294967296; a clear error for anything else."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise InputError(f"{name}={text!r} is not a size; write bytes such as 4G, 512M or 1000000")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _env_size(env: str, default: int) -> int:
    raw = os.environ.get(env)
    return default if not raw else parse_size(raw, env)


def memory_limit() -> int:
    return _env_size(MEMORY_ENV, DEFAULT_MEMORY)


def text_limit() -> int:
    return _env_size(TEXT_ENV, DEFAULT_TEXT)


def human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(nbytes) < 1024 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} PB"  # pragma: no cover


def check_memory(nbytes: float, what: str) -> None:
    """Refuse a request that would allocate more than the memory limit, before allocating."""
    limit = memory_limit()
    if nbytes > limit:
        raise InputError(
            f"{what} would need about {human(nbytes)}, more than the limit of "
            f"{human(limit)}; make it smaller or raise {MEMORY_ENV} (e.g. {MEMORY_ENV}=16G)"
        )


def check_text_size(nbytes: int, what: str) -> None:
    limit = text_limit()
    if nbytes > limit:
        raise InputError(f"{what} is larger than {human(limit)}; give a smaller file or raise {TEXT_ENV}")


class TimeLimitExceeded(InputError):
    """Work on untrusted input that ran past its time limit."""


class _Expired(BaseException):
    """Raised by the alarm: not an Exception, so no `except Exception` in SymPy swallows it."""


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise TimeLimitExceeded if the block runs longer than `seconds` (None or <= 0: no limit).

    Uses SIGALRM, so it applies in the main thread of a POSIX process; elsewhere the block
    runs unlimited. The alarm raises a BaseException (which SymPy's `except Exception` blocks
    let through), turned into TimeLimitExceeded at the block's end; it repeats every 0.1 s
    until the block has ended, in case a bare `except:` swallowed one."""
    usable = (
        seconds
        and seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable or seconds is None:
        yield
        return
    active = [True]

    def expired(signum, frame):
        if active[0]:
            raise _Expired

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield
    except _Expired:
        raise TimeLimitExceeded(
            f"{what} took longer than {seconds:g} s and was stopped; "
            "simplify it or allow more time with --timeout SECONDS"
        ) from None
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


WORK_ENV = "SYMNN_MAX_WORK"
DEFAULT_WORK = 10**11  # multiply-adds: a few minutes of the generated kernels


def work_limit() -> int:
    return _env_size(WORK_ENV, DEFAULT_WORK)


def check_work(n_ops: float, what: str) -> None:
    """Refuse a computation of more than the work limit (multiply-adds) before starting it: a
    compiled loop cannot be interrupted once it runs."""
    limit = work_limit()
    if n_ops > limit:
        raise InputError(
            f"{what} would take about {n_ops:.3g} multiply-adds, more than the limit "
            f"of {limit:.3g}; make it smaller or raise {WORK_ENV} (e.g. {WORK_ENV}=1T)"
        )
