"""Progress for long work: tqdm's bar on a terminal; elsewhere (a log file, a pipe, CI) a plain
line at most every few seconds and at each tenth of the way, never redraws.

Use it as a context manager (`with progress(...) as bar:`): when the work stops on an exception
(Ctrl-C among them) the bar is closed with a newline, so the message that follows starts on a
line of its own. Give `set_postfix_str(text, refresh=False)`: the bar then redraws at tqdm's
`mininterval`, not at every call."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Iterable, Iterator, Sized
from typing import Any, TextIO

EVERY = 5.0  # seconds between two plain lines, at most
AT_LEAST = 1.0  # seconds between two plain lines, at least


def progress(
    iterable: Iterable | None = None,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    stream: TextIO | None = None,
    **bar_options: Any,
) -> Any:
    """A tqdm bar when `stream` (stderr) is a terminal, else a PlainProgress; disabled: silent."""
    stream = stream or sys.stderr
    total = total if total is not None else (len(iterable) if isinstance(iterable, Sized) else None)
    if enabled and _is_terminal(stream):
        return _bar_class()(iterable, total=total, desc=desc, unit=unit, file=stream, **bar_options)
    return PlainProgress(iterable, total, desc, unit, stream if enabled else None)


@functools.lru_cache(maxsize=1)
def _bar_class() -> type:
    from tqdm import tqdm

    class Bar(tqdm):
        """tqdm's bar; left standing, ended by a newline, when the `with` block raises."""

        def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
            if exc_type is not None:
                self.leave = True  # (leave=False would only wipe the line)
            return super().__exit__(exc_type, exc_value, traceback)

    return Bar


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class PlainProgress:
    """The same calls as a tqdm bar (iterate, update, set_postfix_str, set_description_str,
    close), printing 'epochs: 40/200 (20%), 3.1 s, loss 0.25' lines instead of redraws."""

    def __init__(
        self, iterable: Iterable | None, total: int | None, desc: str, unit: str, stream: TextIO | None
    ) -> None:
        self.iterable, self.total, self.desc, self.unit, self.stream = iterable, total, desc, unit, stream
        self.n, self.postfix, self.start = 0, "", time.monotonic()
        self.last_time, self.last_tenth, self.shown = self.start, 0, -1

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("this progress was made without an iterable: call update() instead")
        for item in self.iterable:
            yield item
            self.update(1)

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = text

    def set_description_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = text

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        tenth = int(10 * self.n / self.total) if self.total else 0
        if now - self.last_time >= EVERY or (tenth > self.last_tenth and now - self.last_time >= AT_LEAST):
            self._line(now)
            self.last_tenth = tenth

    def close(self) -> None:
        if (
            self.shown != self.n
            and self.n
            and (self.total is None or self.n < self.total or time.monotonic() - self.start >= AT_LEAST)
        ):
            self._line(time.monotonic())

    def _line(self, now: float) -> None:
        self.last_time, self.shown = now, self.n
        if self.stream is None:
            return
        of = f"/{self.total} ({100 * self.n // self.total}%)" if self.total else f" {self.unit}"
        extra = f", {self.postfix}" if self.postfix else ""
        try:
            print(
                f"{self.desc or self.unit}: {self.n}{of}, {now - self.start:.1f} s{extra}", file=self.stream, flush=True
            )
        except (OSError, ValueError):
            self.stream = None  # a closed stream: stop printing
