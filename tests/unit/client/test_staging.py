"""Staging an application on the local filesystem (file://), the same code HDFS staging runs."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from skein.client.runtime_bundle import RuntimeBundle
from skein.client.staging import (
    HADOOP_FILE,
    RUNTIME_FILE,
    SCRIPT_FILE,
    SPEC_FILE,
    StagedApplication,
    check_local_files,
    stage_application,
)
from skein.errors import SpecError
from skein.fs import LocalFileSystem
from skein.hadoop.configuration import HadoopConfiguration
from skein.spec import ApplicationSpec, FileVisibility

BUNDLE = RuntimeBundle(data=b"PK fake zip", digest="a" * 64, name="skein-master-test.zip")
CONF = HadoopConfiguration({"fs.defaultFS": "file:///", "yarn.resourcemanager.hostname": "rm"})


def make_spec(tmp_path: Path, **extra: object) -> ApplicationSpec:
    (tmp_path / "script.py").write_text("print('hi')\n")
    (tmp_path / "env.tar.gz").write_bytes(b"\x1f\x8b" + b"x" * 100)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        """
name: staged
services:
  web:
    resources: {memory: 128, vcores: 1}
    files:
      script.py: script.py
      env: {source: env.tar.gz, visibility: public}
    script: python3 script.py
  worker:
    resources: {memory: 128, vcores: 1}
    files:
      copy.py: script.py
    commands: [echo one, echo two]
"""
    )
    return ApplicationSpec.from_file(spec_file)


def stage(
    spec: ApplicationSpec, home: Path, app_id: str = "application_1_0001"
) -> StagedApplication:
    # Synchronous tests: the assertions read files with blocking calls.
    return asyncio.run(
        stage_application(
            spec,
            LocalFileSystem(home),
            app_id,
            configuration=CONF,
            bundle=BUNDLE,
            environ={"LANG": "C.UTF-8"},
            show_progress=False,
        )
    )


def test_staged_spec_points_at_uploaded_copies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    staged = stage(make_spec(tmp_path), home)

    directory = home / ".skein" / "application_1_0001"
    assert staged.directory == f"file://{directory}"
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    web = staged.spec.services["web"]
    script = web.files["script.py"]
    local = Path(script.source.removeprefix("file://"))
    assert local.is_relative_to(directory)
    assert local.read_text() == "print('hi')\n"
    assert script.size == local.stat().st_size
    assert script.timestamp == local.stat().st_mtime_ns // 1_000_000
    # Same content in two services: one upload.
    assert staged.spec.services["worker"].files["copy.py"].source == script.source
    # Uploads sit in the private staging directory.
    assert web.files["env"].visibility is FileVisibility.PRIVATE
    assert str(web.files["env"].type) == "ARCHIVE"


def test_scripts_become_skein_sh_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    staged = stage(make_spec(tmp_path), home)
    worker = staged.spec.services["worker"]
    path = Path(worker.files[SCRIPT_FILE].source.removeprefix("file://"))
    assert path.read_text() == "echo one\necho two"
    assert worker.env["LANG"] == "C.UTF-8"


def test_master_files_hold_runtime_spec_and_configuration(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    staged = stage(make_spec(tmp_path), home)
    files = staged.master_files
    assert set(files) == {RUNTIME_FILE, SPEC_FILE, HADOOP_FILE}
    runtime = Path(files[RUNTIME_FILE].source.removeprefix("file://"))
    assert runtime == home / ".skein" / "cache" / ("a" * 64) / BUNDLE.name
    assert runtime.read_bytes() == BUNDLE.data
    assert str(files[RUNTIME_FILE].type) == "FILE"
    spec_text = Path(files[SPEC_FILE].source.removeprefix("file://")).read_text()
    assert ApplicationSpec.from_json(spec_text) == staged.spec
    hadoop = json.loads(Path(files[HADOOP_FILE].source.removeprefix("file://")).read_text())
    assert hadoop["properties"]["yarn.resourcemanager.hostname"] == "rm"


def test_the_runtime_is_uploaded_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    spec = make_spec(tmp_path)
    first = stage(spec, home, "application_1_0001")
    second = stage(spec, home, "application_1_0002")
    assert first.runtime_uploaded
    assert not second.runtime_uploaded
    assert first.master_files[RUNTIME_FILE] == second.master_files[RUNTIME_FILE]


def test_a_missing_local_file_fails_before_anything_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    spec = make_spec(tmp_path)
    os.remove(tmp_path / "env.tar.gz")
    with pytest.raises(SpecError) as info:
        stage(spec, home)
    assert info.value.parts == ("services", "web", "files", "env")
    assert "env.tar.gz" in str(info.value)
    assert str(info.value).startswith("services.web.files.env: cannot read local file")
    assert list(home.iterdir()) == []


def test_a_directory_is_refused_with_a_hint(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    spec = ApplicationSpec.from_dict(
        {
            "services": {
                "a": {
                    "resources": {"memory": 128, "vcores": 1},
                    "files": {"data": str(tmp_path / "data")},
                    "script": "ls",
                }
            }
        }
    )
    with pytest.raises(SpecError, match=r"services\.a\.files\.data: .* is a directory; pack it"):
        check_local_files(spec)


def test_files_already_on_the_filesystem_are_referenced_in_place(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    remote = tmp_path / "remote.txt"
    remote.write_text("on the cluster")
    spec = ApplicationSpec.from_dict(
        {
            "services": {
                "a": {
                    "resources": {"memory": 128, "vcores": 1},
                    # A URI with given size and timestamp is taken as is.
                    "files": {"given": {"source": "hdfs://nn:8020/x", "size": 3, "timestamp": 5}},
                    "script": "ls",
                }
            }
        }
    )
    staged = stage(spec, home)
    given = staged.spec.services["a"].files["given"]
    assert (given.source, given.size, given.timestamp) == ("hdfs://nn:8020/x", 3, 5)


def test_an_unsupported_filesystem_needs_size_and_timestamp(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    spec = ApplicationSpec.from_dict(
        {
            "services": {
                "a": {
                    "resources": {"memory": 128, "vcores": 1},
                    "files": {"data": "s3a://bucket/data.csv"},
                    "script": "ls",
                }
            }
        }
    )
    with pytest.raises(SpecError, match=r"services\.a\.files\.data: .*s3a.*size and timestamp"):
        stage(spec, home)
