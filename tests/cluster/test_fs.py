"""skein.fs against the real HDFS, cross-checked with Hadoop's own ``hdfs dfs`` CLI."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from skein.errors import AccessControlError, FileExistsError, FileNotFoundError
from skein.fs import (
    FileStatus,
    FileSystem,
    LocalFileSystem,
    WebHdfsFileSystem,
    filesystem_for,
    stage_file,
)
from skein.hadoop.configuration import load_configuration
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster


async def dfs(cluster: TestCluster, *args: str) -> str:
    """Run ``hdfs dfs ARGS`` (a JVM: seconds) off the event loop; return its output."""
    result = await asyncio.to_thread(cluster.hdfs, "dfs", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


async def cli_stat(cluster: TestCluster, uri: str) -> tuple[int, int]:
    """Size and modification time (ms) as Hadoop's CLI reports them."""
    size, mtime = (await dfs(cluster, "-stat", "%b %Y", uri)).split()
    return int(size), int(mtime)


async def cli_mode(cluster: TestCluster, uri: str) -> str:
    """The ``drwx------`` column of ``hdfs dfs -ls -d``."""
    return (await dfs(cluster, "-ls", "-d", uri)).split()[0]


def hdfs_as(cluster: TestCluster, user: str | None = None) -> WebHdfsFileSystem:
    fs = filesystem_for(load_configuration(), proxy_user=user)
    assert isinstance(fs, WebHdfsFileSystem)
    return fs


@pytest.fixture
async def hdfs(hadoop_cluster: TestCluster) -> WebHdfsFileSystem:
    return hdfs_as(hadoop_cluster)


@pytest.fixture
async def workdir(hdfs: WebHdfsFileSystem) -> AsyncIterator[str]:
    """A fresh folder in the submitter's HDFS home, removed afterwards."""
    home = await hdfs.home_directory()
    path = f"{home}/skein-fs-test-{uuid.uuid4().hex[:12]}"
    await hdfs.mkdirs(path, 0o755)
    yield path
    await hdfs.delete(path, recursive=True)


@pytest.fixture(params=["webhdfs", "local"])
async def any_fs(
    request: pytest.FixtureRequest, hdfs: WebHdfsFileSystem, tmp_path: Path
) -> AsyncIterator[tuple[FileSystem, str]]:
    """Each implementation, with a fresh folder (relative to its home) removed afterwards."""
    fs: FileSystem = hdfs if request.param == "webhdfs" else LocalFileSystem(home=tmp_path / "home")
    root = f"skein-fs-contract-{uuid.uuid4().hex[:12]}"
    await fs.mkdirs(root)
    yield fs, root
    await fs.delete(root, recursive=True)


async def test_home_directory_and_qualify(hadoop_cluster: TestCluster) -> None:
    users = hadoop_cluster.users
    fs = hdfs_as(hadoop_cluster)
    assert fs.uri == "hdfs://localhost:8020"
    assert await fs.home_directory() == f"/user/{users.submitter}"
    assert fs.qualify("a/b") == f"hdfs://localhost:8020/user/{users.submitter}/a/b"
    assert await hdfs_as(hadoop_cluster, users.proxied).home_directory() == f"/user/{users.proxied}"


async def test_round_trip_matches_the_cli(
    hadoop_cluster: TestCluster, hdfs: WebHdfsFileSystem, workdir: str, tmp_path: Path
) -> None:
    source = tmp_path / "data.txt"
    source.write_text("hello from skein\n" * 100)
    uploaded = await hdfs.upload(source, f"{workdir}/sub/data.txt")
    written = await hdfs.write_bytes(f"{workdir}/note with space.txt", b"note\n")
    # The CLI reads through the qualified URI, as YARN's localizer will.
    assert await cli_stat(hadoop_cluster, hdfs.qualify(uploaded.path)) == (
        uploaded.size,
        uploaded.modification_time,
    )
    assert uploaded.size == source.stat().st_size
    assert await dfs(hadoop_cluster, "-cat", hdfs.qualify(uploaded.path)) == source.read_text()
    assert await dfs(hadoop_cluster, "-cat", hdfs.qualify(written.path)) == "note\n"
    assert await hdfs.read_bytes(uploaded.path) == source.read_bytes()
    assert await hdfs.stat(uploaded.path) == uploaded

    listing = await hdfs.list(workdir)
    assert [(s.name, s.is_dir) for s in listing] == [("note with space.txt", False), ("sub", True)]
    cli_names = sorted(
        line.rsplit(f"{workdir}/", 1)[1]
        for line in (await dfs(hadoop_cluster, "-ls", workdir)).splitlines()
        if workdir in line
    )
    assert cli_names == [s.name for s in listing]
    assert (await hdfs.list(written.path)) == [written]

    assert await hdfs.delete(f"{workdir}/sub", recursive=True)
    assert not await hdfs.exists(f"{workdir}/sub")
    assert not await hdfs.delete(f"{workdir}/sub", recursive=True)
    result = await asyncio.to_thread(hadoop_cluster.hdfs, "dfs", "-test", "-e", f"{workdir}/sub")
    assert result.returncode != 0


async def test_permissions_match_the_cli(
    hadoop_cluster: TestCluster, hdfs: WebHdfsFileSystem, workdir: str
) -> None:
    private = f"{workdir}/private"
    await hdfs.mkdirs(private, 0o700)
    secret = await hdfs.write_bytes(f"{private}/secret", b"s", permission=0o600)
    assert (await hdfs.stat(private)).permission == 0o700
    assert secret.permission == 0o600
    assert await cli_mode(hadoop_cluster, private) == "drwx------"
    assert await cli_mode(hadoop_cluster, secret.path) == "-rw-------"
    await hdfs.set_permission(private, 0o750)
    assert (await hdfs.stat(private)).permission == 0o750
    assert await cli_mode(hadoop_cluster, private) == "drwxr-x---"


async def test_large_file_streams_without_loading_it(
    hadoop_cluster: TestCluster, hdfs: WebHdfsFileSystem, workdir: str, tmp_path: Path
) -> None:
    source = tmp_path / "large.bin"
    data = os.urandom(20 * 1024 * 1024)
    source.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    del data
    seen: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        status = await hdfs.upload(
            source, f"{workdir}/large.bin", progress=lambda d, t: seen.append((d, t))
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"uploading 20 MiB allocated {peak} bytes at peak"
    assert len(seen) > 1
    assert seen[-1] == (source.stat().st_size, source.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert (await cli_stat(hadoop_cluster, status.path))[0] == 20 * 1024 * 1024
    copy = tmp_path / "copy.bin"
    await dfs(hadoop_cluster, "-get", status.path, str(copy))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == expected


async def test_staging_twice_uploads_once(
    hadoop_cluster: TestCluster,
    hdfs: WebHdfsFileSystem,
    workdir: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "env.tar.gz"
    source.write_bytes(os.urandom(1024 * 1024))
    uploads: list[object] = []
    real_upload = hdfs.upload

    async def counting_upload(*args: Any, **kwargs: Any) -> FileStatus:
        uploads.append(args)
        return await real_upload(*args, **kwargs)

    monkeypatch.setattr(hdfs, "upload", counting_upload)
    first = await stage_file(hdfs, source, f"{workdir}/cache")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert first.path == f"{workdir}/cache/{digest}/env.tar.gz"
    before = await cli_stat(hadoop_cluster, first.path)
    assert before == (first.size, first.modification_time)
    second = await stage_file(hdfs, source, f"{workdir}/cache")
    assert second == first
    assert len(uploads) == 1
    assert await cli_stat(hadoop_cluster, first.path) == before  # mtime unchanged


async def test_missing_file_names_the_path(hdfs: WebHdfsFileSystem, workdir: str) -> None:
    missing = f"{workdir}/no/such/file"
    for call in (hdfs.stat, hdfs.read_bytes, hdfs.list):
        with pytest.raises(FileNotFoundError) as caught:
            await call(missing)
        assert caught.value.path == missing
        assert missing in str(caught.value)
    with pytest.raises(FileNotFoundError):
        await hdfs.set_permission(missing, 0o600)
    assert not await hdfs.exists(missing)
    assert not await hdfs.delete(missing)


async def test_overwrite(hdfs: WebHdfsFileSystem, workdir: str) -> None:
    path = f"{workdir}/f"
    await hdfs.write_bytes(path, b"one")
    with pytest.raises(FileExistsError) as caught:
        await hdfs.write_bytes(path, b"two")
    assert caught.value.path == path
    await hdfs.write_bytes(path, b"three", overwrite=True)
    assert await hdfs.read_bytes(path) == b"three"


async def test_proxied_user_cannot_write_into_a_private_folder(
    hadoop_cluster: TestCluster, hdfs: WebHdfsFileSystem, workdir: str, tmp_path: Path
) -> None:
    private = f"{workdir}/private"
    await hdfs.mkdirs(private, 0o700)
    alice = hdfs_as(hadoop_cluster, hadoop_cluster.users.proxied)
    assert alice.user.real_user == hadoop_cluster.users.submitter
    with pytest.raises(AccessControlError) as caught:
        await alice.write_bytes(f"{private}/intruder", b"x")
    assert caught.value.java_class == "org.apache.hadoop.security.AccessControlException"
    assert f"user={hadoop_cluster.users.proxied}" in str(caught.value)
    source = tmp_path / "f"
    source.write_bytes(b"y" * 100_000)
    with pytest.raises(AccessControlError):
        await alice.upload(source, f"{private}/intruder")
    with pytest.raises(AccessControlError):
        await alice.mkdirs(f"{private}/sub")
    assert await hdfs.list(private) == []
    # Impersonation itself is checked: the submitter may not act for bob.
    bob = hdfs_as(hadoop_cluster, hadoop_cluster.users.not_proxied)
    with pytest.raises(AccessControlError, match="not allowed to impersonate"):
        await bob.home_directory()


async def test_contract_round_trip(any_fs: tuple[FileSystem, str], tmp_path: Path) -> None:
    fs, root = any_fs
    home = await fs.home_directory()
    await fs.mkdirs(f"{root}/app", 0o700)
    source = tmp_path / "payload.bin"
    source.write_bytes(b"\x00\xffpayload" * 4096)
    uploaded = await fs.upload(source, f"{root}/app/payload.bin", permission=0o600)
    written = await fs.write_bytes(f"{root}/app/spec.json", b"{}")
    assert uploaded.path == f"{home}/{root}/app/payload.bin"
    assert fs.qualify(uploaded.path) == fs.uri.removesuffix("/") + uploaded.path
    assert fs.qualify(f"{root}/app/payload.bin") == fs.qualify(uploaded.path)
    assert (uploaded.size, uploaded.permission, uploaded.is_dir) == (
        source.stat().st_size,
        0o600,
        False,
    )
    assert await fs.read_bytes(f"{root}/app/payload.bin") == source.read_bytes()
    empty = tmp_path / "empty"
    empty.touch()
    seen: list[tuple[int, int]] = []
    nothing = await fs.upload(empty, f"{root}/app/empty", progress=lambda d, t: seen.append((d, t)))
    assert (nothing.size, seen) == (0, [(0, 0)])
    assert await fs.read_bytes(nothing.path) == b""
    assert [s.name for s in await fs.list(f"{root}/app")] == ["empty", "payload.bin", "spec.json"]
    assert await fs.stat(written.path) == written
    folder = await fs.stat(f"{root}/app")
    assert (folder.is_dir, folder.permission) == (True, 0o700)
    with pytest.raises(FileExistsError):
        await fs.upload(source, f"{root}/app/payload.bin")
    with pytest.raises(FileNotFoundError):
        await fs.stat(f"{root}/app/missing")
    assert await fs.delete(f"{root}/app", recursive=True)
    assert not await fs.exists(f"{root}/app")
