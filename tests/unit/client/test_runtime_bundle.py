"""The master runtime zip: deterministic, complete, and importable by a bare system python3."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from skein.client.runtime_bundle import build_runtime_bundle

SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def names() -> list[str]:
    return zipfile.ZipFile(io.BytesIO(build_runtime_bundle().data)).namelist()


def test_digest_names_the_content() -> None:
    bundle = build_runtime_bundle()
    assert bundle.digest == hashlib.sha256(bundle.data).hexdigest()


def test_entries_are_sorted_with_fixed_timestamps() -> None:
    archive = zipfile.ZipFile(io.BytesIO(build_runtime_bundle().data))
    listed = archive.namelist()
    assert listed[0] == "google/__init__.py"
    assert listed[1:] == sorted(listed[1:])
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_rebuilding_gives_identical_bytes() -> None:
    first = build_runtime_bundle()
    build_runtime_bundle.cache_clear()
    try:
        assert build_runtime_bundle().data == first.data
    finally:
        build_runtime_bundle.cache_clear()


def test_holds_sources_only_and_leaves_test_tooling_out() -> None:
    listed = names()
    assert "skein/__init__.py" in listed
    assert "skein/client/__init__.py" in listed
    assert "google/protobuf/message.py" in listed
    assert all(name.endswith(".py") for name in listed)
    assert not [n for n in listed if n.startswith(("skein/testcluster/", "skein/testing/"))]
    assert not [n for n in listed if "/testdata/" in n]


def test_every_skein_package_has_an_init_module() -> None:
    # zipimport cannot assemble namespace packages: a folder without
    # __init__.py would be unimportable on the node.
    listed = set(names())
    folders = {name.rsplit("/", 1)[0] for name in listed if name.startswith("skein/")}
    assert {f"{folder}/__init__.py" for folder in folders} <= listed


@pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no system python3")
def test_a_bare_system_python_imports_what_the_master_needs(tmp_path: Path) -> None:
    bundle = build_runtime_bundle()
    zip_path = tmp_path / bundle.name
    zip_path.write_bytes(bundle.data)
    code = (
        "import sys, skein.spec, skein.fs, skein.yarn.scheduler, skein.yarn.node_manager, "
        "skein.hadoop.credentials, google.protobuf\n"
        "from google.protobuf.internal import api_implementation\n"
        "assert api_implementation.Type() == 'python', api_implementation.Type()\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('yaml', 'cryptography')]\n"
        "assert not loaded, loaded\n"
        "print(skein.__file__)"
    )
    result = subprocess.run(
        [str(SYSTEM_PYTHON), "-s", "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(zip_path),
            "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python",
        },
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.fspath(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(zip_path))
