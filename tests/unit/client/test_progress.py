"""The upload progress line."""

from __future__ import annotations

import io

from skein.client.progress import UploadProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_drawn_on_a_pipe() -> None:
    stream = io.StringIO()
    clock = Clock()
    progress = UploadProgress(100, 1, stream=stream, clock=clock)
    clock.now = 5
    progress.callback("a")(50, 100)
    progress.close()
    assert stream.getvalue() == ""
    assert progress.done == 50


def test_quick_uploads_draw_nothing() -> None:
    stream = Terminal()
    clock = Clock()
    progress = UploadProgress(100, 1, stream=stream, clock=clock)
    clock.now = 0.5
    progress.callback("a")(100, 100)
    progress.close()
    assert stream.getvalue() == ""


def test_slow_uploads_draw_one_summed_line() -> None:
    stream = Terminal()
    clock = Clock()
    mib = 1024 * 1024
    progress = UploadProgress(4 * mib, 2, stream=stream, clock=clock)
    clock.now = 2.0
    progress.callback("a")(mib, 2 * mib)
    progress.callback("b")(mib, 2 * mib)  # within 0.1 s: not redrawn
    clock.now = 2.5
    progress.callback("b")(2 * mib, 2 * mib)
    progress.close()
    lines = stream.getvalue().split("\r")[1:]
    assert lines[0] == "Uploading 2 files: 25% 1.0/4.0 MiB, 0.5 MiB/s"
    assert lines[-1] == "Uploading 2 files: 75% 3.0/4.0 MiB, 1.2 MiB/s\n"
