"""Progress for long work: tqdm's bar on a terminal; elsewhere (a log file, a pipe, CI) a plain
line at most every few seconds and at each tenth of the way, never redraws."""

from __future__ import annotations

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
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, **bar_options)
    return PlainProgress(iterable, total, desc, unit, stream if enabled else None)


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
