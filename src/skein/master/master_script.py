"""The master script (``master.script``): a bash process beside the master.

Its output goes to ``application.driver.log`` in the container's log folder.
It runs in a process group of its own, so that the master can end it and
everything it started; for the same reason the master forwards YARN's
SIGTERM to that group (YARN signals only the container's own group).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Final

__all__ = ["SCRIPT_NAME", "MasterScript", "exit_code"]

log = logging.getLogger(__name__)

SCRIPT_NAME: Final = ".skein.master.sh"
"""The script's file in the working directory."""


def exit_code(returncode: int) -> int:
    """A shell's view of a return code: killed by signal N is ``128 + N``.

    Example:
        >>> exit_code(3), exit_code(-15)
        (3, 143)
    """
    return 128 - returncode if returncode < 0 else returncode


class MasterScript:
    """One run of the master script.

    Args:
        script: the bash script.
        env: its environment.
        log_path: where its output goes.
        directory: its working directory (the container's).
    """

    def __init__(
        self,
        script: str,
        *,
        env: Mapping[str, str],
        log_path: str | os.PathLike[str],
        directory: str | os.PathLike[str] = ".",
    ) -> None:
        self.script = script
        self.env = dict(env)
        self.log_path = Path(log_path)
        self.directory = Path(directory)
        self._process: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        """Whether it was started and has not ended."""
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Write the script next to the master and start it.

        Raises:
            OSError: bash cannot be started, or the files cannot be written.
        """
        (self.directory / SCRIPT_NAME).write_text(self.script, encoding="utf-8")
        output = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._process = await asyncio.create_subprocess_exec(
                "bash",
                SCRIPT_NAME,
                cwd=self.directory,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            os.close(output)
        log.info("started the master script (pid %d)", self._process.pid)

    async def wait(self) -> int:
        """Wait for the script to end; return its exit code (``128 + N`` for signal N)."""
        if self._process is None:
            raise RuntimeError("the master script was not started")
        return exit_code(await self._process.wait())

    def signal(self, number: int) -> None:
        """Send a signal to the script's process group.

        Also after the script itself ended, for whatever it left running.
        """
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, number)

    async def terminate(self, grace: float = 5.0) -> None:
        """End the script and its group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        if self._process is None:
            return
        self.signal(signal.SIGTERM)
        if self._process.returncode is not None:
            return
        try:
            await asyncio.wait_for(self.wait(), grace)
            return
        except asyncio.TimeoutError:
            log.warning("the master script ignored SIGTERM for %g s; killing it", grace)
        self.signal(signal.SIGKILL)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wait(), grace)
