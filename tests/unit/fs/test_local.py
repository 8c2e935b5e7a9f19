"""LocalFileSystem: the FileSystem contract on the local disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from skein.errors import FileExistsError, FileNotFoundError
from skein.fs import LocalFileSystem


@pytest.fixture
def fs(tmp_path: Path) -> LocalFileSystem:
    return LocalFileSystem(home=tmp_path)


async def test_round_trip(fs: LocalFileSystem, tmp_path: Path) -> None:
    assert await fs.home_directory() == str(tmp_path)
    await fs.mkdirs("stage/app", 0o700)
    assert stat.S_IMODE((tmp_path / "stage" / "app").stat().st_mode) == 0o700
    written = await fs.write_bytes("stage/app/spec.json", b"{}", permission=0o600)
    assert written.path == str(tmp_path / "stage/app/spec.json")
    assert (written.size, written.is_dir, written.permission) == (2, False, 0o600)
    mtime_ns = (tmp_path / "stage/app/spec.json").stat().st_mtime_ns
    assert written.modification_time == mtime_ns // 1_000_000
    assert await fs.read_bytes(written.path) == b"{}"
    assert await fs.exists("stage/app/spec.json")
    assert not await fs.exists("stage/app/other")
    listing = await fs.list("stage/app")
    assert [s.name for s in listing] == ["spec.json"]
    assert await fs.list(written.path) == [written]
    await fs.set_permission("stage/app/spec.json", 0o640)
    assert (await fs.stat("stage/app/spec.json")).permission == 0o640
    assert await fs.delete("stage", recursive=True)
    assert not await fs.delete("stage", recursive=True)
    assert not (tmp_path / "stage").exists()


async def test_upload_streams_with_progress(fs: LocalFileSystem, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(2 * 1024 * 1024 + 5)
    source.write_bytes(data)
    seen: list[tuple[int, int]] = []
    status = await fs.upload(
        source, "dest/copy.bin", permission=0o600, progress=lambda d, t: seen.append((d, t))
    )
    assert (tmp_path / "dest/copy.bin").read_bytes() == data
    assert status.size == len(data)
    assert status.permission == 0o600
    assert seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_refuses_to_overwrite_unless_asked(fs: LocalFileSystem) -> None:
    await fs.write_bytes("f", b"one")
    with pytest.raises(FileExistsError) as caught:
        await fs.write_bytes("f", b"two")
    assert caught.value.path.endswith("/f")
    await fs.write_bytes("f", b"three", overwrite=True)
    assert await fs.read_bytes("f") == b"three"


async def test_upload_of_a_missing_local_file(fs: LocalFileSystem, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        await fs.upload(tmp_path / "absent", "dest")
    assert caught.value.path == str(tmp_path / "absent")
    assert not await fs.exists("dest")


async def test_upload_refuses_to_overwrite(fs: LocalFileSystem, tmp_path: Path) -> None:
    (tmp_path / "source").write_bytes(b"new")
    await fs.write_bytes("dest", b"old")
    with pytest.raises(FileExistsError):
        await fs.upload(tmp_path / "source", "dest")
    assert await fs.read_bytes("dest") == b"old"
    status = await fs.upload(tmp_path / "source", "dest", overwrite=True, permission=0o640)
    assert (status.size, status.permission) == (3, 0o640)


async def test_missing_paths(fs: LocalFileSystem, tmp_path: Path) -> None:
    for call in (fs.stat, fs.read_bytes, fs.list):
        with pytest.raises(FileNotFoundError) as caught:
            await call("nope")
        assert caught.value.path == str(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        await fs.set_permission("nope", 0o600)


async def test_non_recursive_delete_of_a_full_directory_fails(fs: LocalFileSystem) -> None:
    await fs.write_bytes("d/f", b"x")
    with pytest.raises(OSError, match="not empty"):
        await fs.delete("d")
    assert await fs.exists("d/f")


def test_uri_and_qualify(tmp_path: Path) -> None:
    fs = LocalFileSystem(home=tmp_path)
    assert fs.uri == "file:///"
    assert fs.qualify("x/y") == f"file://{tmp_path}/x/y"
    assert fs.qualify("file:/tmp/a") == "file:///tmp/a"
    with pytest.raises(ValueError, match="not on this filesystem"):
        fs.qualify("hdfs://nn:8020/tmp")
