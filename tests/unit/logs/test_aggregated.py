"""Reading aggregated logs through skein.fs, here from a local directory laid out as on HDFS."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from skein.errors import LogsUnavailableError, UnsupportedLogFormatError
from skein.hadoop.configuration import HadoopConfiguration
from skein.logs.aggregated import read_aggregated_logs

APP_ID = "application_1795586012926_0034"
GZ_APP_ID = "application_1700000000000_0007"


def configuration(root: Path, **extra: str) -> HadoopConfiguration:
    return HadoopConfiguration({"yarn.nodemanager.remote-app-log-dir": f"file://{root}", **extra})


def place(fixtures_dir: Path, name: str, directory: Path, as_name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixtures_dir / name, directory / as_name)


async def test_reads_the_bucketed_layout(tmp_path: Path, fixtures_dir: Path) -> None:
    app_dir = tmp_path / "root" / "bucket-logs-tfile" / "0034" / APP_ID
    place(fixtures_dir, "cluster_localhost_45410", app_dir, "localhost_45410")
    (app_dir / "localhost_45400.tmp").write_bytes(b"an upload in progress")
    logs = await read_aggregated_logs(configuration(tmp_path), APP_ID, "root")
    assert logs.source == "aggregated"
    assert list(logs) == ["container_1795586012926_0034_01_000003"]
    assert logs.nodes == {"container_1795586012926_0034_01_000003": "localhost:45410"}
    files = logs.files["container_1795586012926_0034_01_000003"]
    assert files["stdout"] == "to-stderr\n"
    assert "hello-skein-logs" in files["prelaunch.out"]


async def test_reads_the_older_layout_and_combines(tmp_path: Path, fixtures_dir: Path) -> None:
    place(fixtures_dir, "cluster_localhost_45410", tmp_path / "root/logs" / APP_ID, "n1_1")
    place(
        fixtures_dir, "generated_gz_localhost_45454", tmp_path / "root/logs-tfile" / APP_ID, "n2_2"
    )
    logs = await read_aggregated_logs(configuration(tmp_path), APP_ID, "root")
    assert logs.nodes == {
        "container_1700000000000_0007_01_000001": "n2:2",
        "container_1700000000000_0007_01_000002": "n2:2",
        "container_1795586012926_0034_01_000003": "n1:1",
    }
    assert logs.files["container_1700000000000_0007_01_000001"]["stderr"] == (
        "warning: héllo ✓ 🙂\n"
    )


async def test_rolling_uploads_newest_wins(tmp_path: Path, tfile_tools: Any) -> None:
    u = tfile_tools.java_utf

    def upload(content: bytes) -> bytes:
        files = u("stdout") + u(str(len(content))) + content
        return bytes(tfile_tools.build([(u("container_1_0007_01_000001"), files)]))

    app_dir = tmp_path / "root" / "bucket-logs-tfile" / "0007" / "application_1_0007"
    app_dir.mkdir(parents=True)
    # Rolling aggregation uploads a growing file again; the newer upload's name sorts first here.
    for name, content, mtime in [
        ("h_1_1700000000000", b"more", 2000),
        ("h_1_1800000000000", b"m", 1000),
    ]:
        (app_dir / name).write_bytes(upload(content))
        os.utime(app_dir / name, (mtime, mtime))
    logs = await read_aggregated_logs(configuration(tmp_path), "application_1_0007", "root")
    assert logs.files == {"container_1_0007_01_000001": {"stdout": "more"}}


async def test_no_logs(tmp_path: Path) -> None:
    with pytest.raises(LogsUnavailableError, match=f"no aggregated logs of {APP_ID} found"):
        await read_aggregated_logs(configuration(tmp_path), APP_ID, "root")


async def test_ifile_directory(tmp_path: Path) -> None:
    conf = configuration(tmp_path, **{"yarn.log-aggregation.file-formats": "IFile,TFile"})
    app_dir = tmp_path / "root" / "bucket-logs-ifile" / "0034" / APP_ID
    app_dir.mkdir(parents=True)
    (app_dir / "localhost_45410").write_bytes(b"5b3ec6f2-7a6c-4b3e-9d59-6c2f0a1b2c3d")
    with pytest.raises(UnsupportedLogFormatError, match="IFile format"):
        await read_aggregated_logs(conf, APP_ID, "root")


async def test_har_archive(tmp_path: Path) -> None:
    app_dir = tmp_path / "root" / "bucket-logs-tfile" / "0034" / APP_ID
    (app_dir / f"{APP_ID}.har").mkdir(parents=True)
    with pytest.raises(UnsupportedLogFormatError, match="Hadoop archives"):
        await read_aggregated_logs(configuration(tmp_path), APP_ID, "root")
