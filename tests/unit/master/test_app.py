"""The master process's entry point: logging set-up and a clear exit when the context is missing."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from skein.master.app import configure_logging, main
from skein.master.runtime import EXIT_ATTEMPT_FAILED
from skein.spec import LogLevel


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root, logger = logging.getLogger(), logging.getLogger("skein")
    handlers, levels = list(root.handlers), (root.level, logger.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    logger.setLevel(levels[1])


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (LogLevel.ALL, logging.DEBUG),
        (LogLevel.DEBUG, logging.DEBUG),
        (LogLevel.INFO, logging.INFO),
        (LogLevel.WARN, logging.WARNING),
        (LogLevel.FATAL, logging.CRITICAL),
        (LogLevel.OFF, logging.CRITICAL + 1),
    ],
)
def test_log_levels_follow_log4j_names(level: LogLevel, expected: int) -> None:
    configure_logging(level)
    assert logging.getLogger("skein.master.runtime").getEffectiveLevel() == expected


def test_without_its_context_the_master_says_why_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main() == EXIT_ATTEMPT_FAILED
    stderr = capsys.readouterr().err
    assert "CRITICAL skein.master: cannot start the master" in stderr
    assert "cannot read .skein.spec.json" in stderr


def test_python_m_skein_master_runs_main(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "skein.master"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_ATTEMPT_FAILED
    assert "CRITICAL skein.master: cannot start the master" in result.stderr


def test_the_master_needs_nothing_but_the_runtime_zip(tmp_path: Path) -> None:
    """Bare Python (no site-packages) with only the runtime zip imports the whole master."""
    from skein.client.runtime_bundle import build_runtime_bundle

    bundle = tmp_path / "runtime.zip"
    bundle.write_bytes(build_runtime_bundle().data)
    probe = "\n".join(
        [
            "import sys",
            f"sys.path.insert(0, {str(bundle)!r})",
            "import skein.master.app, skein.master.runtime",
            "roots = {name.split('.')[0] for name in sys.modules}",
            "print(sorted(roots - set(sys.stdlib_module_names) - {'__main__'}))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-S", "-E", "-c", probe],
        env={"PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python", "MULTIDICT_NO_EXTENSIONS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # skein, protobuf and the gRPC stack the zip carries (see runtime_bundle).
    shipped = {
        *("google", "skein"),
        *("grpclib", "h2", "hpack", "hyperframe", "multidict", "typing_extensions"),
    }
    roots = set(result.stdout.strip().strip("[]").replace("'", "").split(", "))
    assert {"google", "skein"} <= roots <= shipped
