"""Opening untrusted files, and naming them (or the user's typing) in error messages.

Only regular files are opened: FIFOs, devices, sockets and directories are refused before
opening (stat) and again on the open descriptor. A path in a message is one printable line,
cut short when long; inline text is quoted briefly.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from symnn.errors import FileError, InputError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


SHOWN_PATH = 200  # longest path an error message prints whole


def shown(path: object) -> str:
    """A path (or any user text) as one printable line: repr() if it holds control characters,
    cut short (with its length) past SHOWN_PATH characters."""
    s = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    s = s if isinstance(s, str) else os.fsdecode(s)
    if len(s) > SHOWN_PATH:
        s = f"{s[: SHOWN_PATH // 2]}...{s[-SHOWN_PATH // 4 :]} ({len(s)} characters)"
    return s if s.isprintable() else repr(s)


def _stat_file(p: str | os.PathLike) -> os.stat_result:
    """stat() a path that must be an existing regular file; a FileError saying what it is."""
    if not isinstance(p, (str, os.PathLike)):
        raise InputError(f"give a file path (text or pathlib.Path); got {type(p).__name__}")
    try:
        st = os.stat(p)  # follows symlinks
    except ValueError:  # an embedded NUL byte
        raise FileError(f"{shown(p)} is not a valid file name") from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileError(f"no such file: {shown(p)}; give the path of an existing file") from None
        if exc.errno == errno.ELOOP:
            raise FileError(f"cannot open {shown(p)}: a loop of symbolic links; give a file") from None
        if exc.errno == errno.EACCES:
            raise FileError(f"cannot read {shown(p)}: permission denied") from None
        raise FileError(f"cannot open {shown(p)}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileError(f"{shown(p)} is a directory; give a file")
    _check_regular(st, p)
    return st


def _check_regular(st: os.stat_result, p: str | os.PathLike) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise FileError(f"{shown(p)} is {kind}, not a regular file; give a file")


def _open_checked(path: str | os.PathLike) -> Path:
    """The path of an existing, readable regular file, or a FileError saying what is wrong."""
    _stat_file(path)
    p = Path(path)
    if not os.access(p, os.R_OK):
        raise FileError(f"cannot read {shown(p)}: permission denied")
    return p


def open_regular(path: str | os.PathLike) -> tuple[Path, BinaryIO]:
    """Open a regular file for reading: FIFOs, devices, sockets and directories are refused
    before they are opened (stat), and again on the open descriptor (no swap in between)."""
    p = _open_checked(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise FileError(f"cannot read {shown(p)}: permission denied") from None
        raise FileError(f"cannot open {shown(p)}: {exc.strerror or exc}") from None
    try:
        _check_regular(os.fstat(fd), p)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return p, os.fdopen(fd, "rb")


INLINE_QUOTE = 20  # at most this many characters of inline text are quoted in an error


def brief(text: str, limit: int = INLINE_QUOTE) -> str:
    """repr() of the user's own typing, cut to `limit` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
