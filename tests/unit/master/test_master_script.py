"""The master script: a bash process group with its output in application.driver.log."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from skein.master.master_script import SCRIPT_NAME, MasterScript, exit_code


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` is true, polling every 10 ms."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never became true")


def script(tmp_path: Path, text: str, **env: str) -> MasterScript:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return MasterScript(text, env=base, log_path=tmp_path / "driver.log", directory=tmp_path)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie awaiting its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_exit_code_of_signals() -> None:
    assert exit_code(0) == 0
    assert exit_code(-9) == 137


async def test_runs_in_the_directory_with_its_env_and_logs_both_streams(tmp_path: Path) -> None:
    run = script(tmp_path, 'echo "out $GREETING $PWD"; echo err >&2; exit 4', GREETING="hi")
    await run.start()
    running = [run.running]
    assert await run.wait() == 4
    running.append(run.running)
    assert running == [True, False]
    assert (tmp_path / "driver.log").read_text() == f"out hi {tmp_path}\nerr\n"
    assert (tmp_path / SCRIPT_NAME).exists()


async def test_the_log_is_appended_to(tmp_path: Path) -> None:
    (tmp_path / "driver.log").write_text("before\n")
    run = script(tmp_path, "echo after")
    await run.start()
    await run.wait()
    assert (tmp_path / "driver.log").read_text() == "before\nafter\n"


async def test_terminate_ends_the_whole_group(tmp_path: Path) -> None:
    run = script(tmp_path, "sleep 300 & echo $! > child.pid; wait")
    await run.start()
    await eventually(
        lambda: (tmp_path / "child.pid").exists() and (tmp_path / "child.pid").read_text()
    )
    child = int((tmp_path / "child.pid").read_text())
    await run.terminate()
    assert await run.wait() == 128 + signal.SIGTERM
    await eventually(lambda: not alive(child))


async def test_terminate_kills_a_script_that_ignores_sigterm(tmp_path: Path) -> None:
    run = script(tmp_path, "trap '' TERM; touch ready; sleep 300")
    await run.start()
    await eventually((tmp_path / "ready").exists)
    await run.terminate(grace=0.2)
    assert await run.wait() == 128 + signal.SIGKILL


async def test_a_trapped_sigterm_lets_the_script_clean_up(tmp_path: Path) -> None:
    run = script(tmp_path, "trap 'echo cleaning; exit 0' TERM; touch ready; sleep 300 & wait")
    await run.start()
    await eventually((tmp_path / "ready").exists)
    run.signal(signal.SIGTERM)
    assert await run.wait() == 0
    assert "cleaning" in (tmp_path / "driver.log").read_text()


async def test_terminate_before_start_and_after_the_end_is_harmless(tmp_path: Path) -> None:
    run = script(tmp_path, "true")
    await run.terminate()
    await run.start()
    await run.wait()
    await run.terminate()


async def test_wait_before_start_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        await script(tmp_path, "true").wait()
