"""Staging an application on the local filesystem (file://), the same code HDFS staging runs."""

from __future__ import annotations

import asyncio
import functools
import json
import os
from pathlib import Path

import pytest

from skein.client.runtime_bundle import RuntimeBundle
from skein.client.staging import (
    CERT_FILE,
    HADOOP_FILE,
    KEY_FILE,
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
from skein.spec import ApplicationSpec, FileVisibility, Security

BUNDLE = RuntimeBundle(data=b"PK fake zip", digest="a" * 64, name="skein-master-test.zip")
CONF = HadoopConfiguration({"fs.defaultFS": "file:///", "yarn.resourcemanager.hostname": "rm"})


@functools.cache
def client_credentials() -> Security:
    """The submitting client's credentials (never the test user's ~/.skein)."""
    return Security.new_credentials()


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
            security=client_credentials(),
        )
    )


def local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


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
    assert set(files) == {RUNTIME_FILE, SPEC_FILE, HADOOP_FILE, CERT_FILE, KEY_FILE}
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


def test_credentials_are_staged_privately_for_the_master_and_every_service(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    staged = stage(make_spec(tmp_path), home)
    directory = home / ".skein" / "application_1_0001"
    expected = {
        CERT_FILE: client_credentials().cert_pem(),
        KEY_FILE: client_credentials().key_pem(),
    }
    for owner in (staged.master_files, *(s.files for s in staged.spec.services.values())):
        for target, pem in expected.items():
            file = owner[target]
            path = local(file.source)
            assert path == directory / target
            assert path.read_bytes() == pem
            assert oct(path.stat().st_mode & 0o777) == "0o600"
            assert file.visibility is FileVisibility.PRIVATE
            assert str(file.type) == "FILE"
            assert file.size == len(pem)


def test_the_staged_spec_refers_to_the_credentials_without_holding_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    own = Security.new_credentials()
    spec = make_spec(tmp_path)
    spec = ApplicationSpec.from_dict({**spec.to_dict(), "master": {"security": own.to_dict()}})
    staged = stage(spec, home)
    assert staged.spec.master.security is None
    spec_text = local(staged.master_files[SPEC_FILE].source).read_bytes()
    assert b"key_bytes" not in spec_text
    assert b"PRIVATE KEY" not in spec_text
    for secret in (own.key_pem(), client_credentials().key_pem()):
        body = b"".join(secret.splitlines()[1:-1])  # base64 body, however it is encoded
        assert body[:40] not in spec_text
    assert local(staged.master_files[KEY_FILE].source).read_bytes() == own.key_pem()
    assert CERT_FILE in spec_text.decode()  # services refer to the staged file


def test_unreadable_master_security_fails_before_anything_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    spec = make_spec(tmp_path)
    missing = {"cert_file": str(tmp_path / "no.crt"), "key_file": str(tmp_path / "no.pem")}
    spec = ApplicationSpec.from_dict({**spec.to_dict(), "master": {"security": missing}})
    with pytest.raises(SpecError, match=r"master\.security: cannot read TLS credentials"):
        stage(spec, home)
    assert list(home.iterdir()) == []


def test_without_any_credentials_the_users_default_pair_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SKEIN_CONFIG", str(tmp_path / "config"))
    staged = asyncio.run(
        stage_application(
            make_spec(tmp_path),
            LocalFileSystem(home),
            "application_1_0001",
            configuration=CONF,
            bundle=BUNDLE,
            environ={},
            show_progress=False,
        )
    )
    default = Security.from_directory(tmp_path / "config")
    assert local(staged.master_files[CERT_FILE].source).read_bytes() == default.cert_pem()
