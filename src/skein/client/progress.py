"""A progress line for uploads that take a while, drawn on a terminal only.

Small uploads finish before anything is drawn; output that is not a terminal
(logs, CI, pipes) never gets the line at all, so it stays free of carriage
returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from skein.fs import ProgressCallback

__all__ = ["UploadProgress"]

_MIB = 1024 * 1024


class UploadProgress:
    """Sums the progress of several concurrent uploads into one line.

    Args:
        total: bytes to upload in all.
        files: how many files.
        stream: where to draw (default: ``sys.stderr``); nothing is drawn
            unless it is a terminal.
        delay: seconds before the line first appears.
        clock: a monotonic clock (tests pass a fake one).

    Example:
        >>> import io
        >>> progress = UploadProgress(total=10, files=1, stream=io.StringIO())
        >>> progress.callback("env.tar.gz")(10, 10)
        >>> progress.done
        10
    """

    def __init__(
        self,
        total: int,
        files: int,
        *,
        stream: TextIO | None = None,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.files = files
        self._stream = sys.stderr if stream is None else stream
        self._enabled = self._stream.isatty()
        self._delay = delay
        self._clock = clock
        self._start = clock()
        self._per_file: dict[str, int] = {}
        self._drawn = False
        self._last_draw = 0.0

    @property
    def done(self) -> int:
        """Bytes uploaded so far."""
        return sum(self._per_file.values())

    def callback(self, key: str) -> ProgressCallback:
        """The callback for one file's upload."""

        def report(done: int, total: int) -> None:
            self._per_file[key] = done
            self._maybe_draw()

        return report

    def line(self) -> str:
        """The progress line's text, e.g. ``Uploading 2 files: 50% 5.0/10.0 MiB, 2.5 MiB/s``."""
        done = self.done
        elapsed = max(self._clock() - self._start, 1e-9)
        percent = 100 * done // self.total if self.total else 100
        plural = "" if self.files == 1 else "s"
        return (
            f"Uploading {self.files} file{plural}: {percent}% "
            f"{done / _MIB:.1f}/{self.total / _MIB:.1f} MiB, {done / _MIB / elapsed:.1f} MiB/s"
        )

    def _maybe_draw(self) -> None:
        if not self._enabled:
            return
        now = self._clock()
        if now - self._start < self._delay or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._drawn = True
        self._stream.write("\r" + self.line())
        self._stream.flush()

    def close(self) -> None:
        """End the line, if one was drawn."""
        if self._drawn:
            self._stream.write("\r" + self.line() + "\n")
            self._stream.flush()
            self._drawn = False
