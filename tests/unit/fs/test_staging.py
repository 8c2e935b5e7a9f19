"""Content-addressed staging: digests, paths, and uploading each content once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from skein.errors import FileNotFoundError
from skein.fs import FileStatus, LocalFileSystem, content_digest, stage_file, staged_path

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_content_digest_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # spans several read chunks
    (tmp_path / "f").write_bytes(data)
    assert content_digest(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert content_digest(tmp_path / "empty") == EMPTY_SHA256


def test_staged_path() -> None:
    assert (
        staged_path("/user/alice/.skein/cache", EMPTY_SHA256, "/home/alice/env.tar.gz")
        == f"/user/alice/.skein/cache/{EMPTY_SHA256}/env.tar.gz"
    )
    assert staged_path("cache/", EMPTY_SHA256, Path("x.zip")) == f"cache/{EMPTY_SHA256}/x.zip"


@pytest.mark.parametrize("digest", ["", "abc", EMPTY_SHA256.upper(), "g" * 64, "../" + "a" * 61])
def test_staged_path_rejects_bad_digests(digest: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        staged_path("/c", digest, "x")


def test_staged_path_needs_a_file_name() -> None:
    with pytest.raises(ValueError, match="no file name"):
        staged_path("/c", EMPTY_SHA256, "/")


async def test_second_staging_uploads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "env.tar.gz"
    source.write_bytes(b"payload" * 1000)
    fs = LocalFileSystem(home=tmp_path / "home")
    uploads: list[object] = []
    real_upload = fs.upload

    async def counting_upload(*args: Any, **kwargs: Any) -> FileStatus:
        uploads.append(args)
        return await real_upload(*args, **kwargs)

    monkeypatch.setattr(fs, "upload", counting_upload)
    first = await stage_file(fs, source, "cache")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert first.path == str(tmp_path / "home" / "cache" / digest / "env.tar.gz")
    assert first.size == 7000
    assert first.permission == 0o600
    assert (await fs.stat(f"cache/{digest}")).permission == 0o700
    again = await stage_file(fs, source, "cache")
    assert again == first
    assert len(uploads) == 1


async def test_incomplete_copy_is_replaced(tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(b"0123456789")
    fs = LocalFileSystem(home=tmp_path)
    target = staged_path("cache", content_digest(source), source)
    await fs.write_bytes(target, b"01234")  # as an interrupted upload would leave it
    status = await stage_file(fs, source, "cache")
    assert status.size == 10
    assert await fs.read_bytes(status.path) == b"0123456789"


async def test_changed_content_gets_a_new_place(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    fs = LocalFileSystem(home=tmp_path)
    source.write_text("print(1)\n")
    one = await stage_file(fs, source, "cache")
    source.write_text("print(2)\n")
    two = await stage_file(fs, source, "cache")
    assert one.path != two.path
    assert Path(one.path).name == Path(two.path).name == "app.py"


async def test_missing_local_file(tmp_path: Path) -> None:
    fs = LocalFileSystem(home=tmp_path)
    with pytest.raises(FileNotFoundError) as caught:
        await stage_file(fs, tmp_path / "missing.zip", "cache")
    assert caught.value.path == str(tmp_path / "missing.zip")
