"""The master runtime zip: deterministic, complete, and importable by a bare system python3."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from skein._proto.api import skein_pb2 as pb
from skein.api.channel import open_channel
from skein.api.status import rpc_errors
from skein.client.runtime_bundle import build_runtime_bundle
from skein.spec.security import Security

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
    assert all(name.endswith(".py") or name.startswith("licenses/") for name in listed)
    assert not [n for n in listed if n.startswith(("skein/testcluster/", "skein/testing/"))]
    assert not [n for n in listed if "/testdata/" in n]


def test_every_skein_package_has_an_init_module() -> None:
    # zipimport cannot assemble namespace packages: a folder without
    # __init__.py would be unimportable on the node.
    listed = set(names())
    folders = {
        name.rsplit("/", 1)[0]
        for name in listed
        if "/" in name and not name.startswith("licenses/")
    }
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


def test_carries_the_pure_python_grpc_stack() -> None:
    listed = set(names())
    assert {
        "grpclib/server.py",
        "grpclib/client.py",
        "grpclib/encoding/proto.py",
        "h2/connection.py",
        "hpack/hpack.py",
        "hyperframe/frame.py",
        "multidict/__init__.py",
        "multidict/_multidict_py.py",
        "typing_extensions.py",
    } <= listed
    # No compiled modules, and none of grpclib's optional services or protoc plugin.
    assert not [n for n in listed if n.endswith((".so", ".pyd", ".c", ".pyx"))]
    assert not [n for n in listed if n.startswith(("grpclib/plugin/", "grpclib/reflection/"))]


def test_carries_the_license_of_each_library_it_ships() -> None:
    licensed = {name.split("/")[1] for name in names() if name.startswith("licenses/")}
    assert licensed == {
        "grpclib",
        "h2",
        "hpack",
        "hyperframe",
        "multidict",
        "protobuf",
        "typing_extensions",
    }


# Runs in an isolated system python (no user site, no PYTHONPATH): everything
# must come from the zip. Serves SetProgress once over mutual TLS, then exits.
_MASTER_SIDE = """
import asyncio, os, sys
ZIP, CREDENTIALS = sys.argv[1], sys.argv[2]
sys.path.insert(0, ZIP)
os.environ["MULTIDICT_NO_EXTENSIONS"] = "1"
os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"

import google.protobuf, grpclib.server, h2, hpack, hyperframe, multidict, typing_extensions
import skein.api.server, skein.api.tls, skein._proto.api.skein_grpc as skein_grpc
from skein._proto.api import skein_pb2 as pb
from skein.spec.security import Security

for module in (google.protobuf, grpclib.server, h2, hpack, hyperframe, multidict,
               typing_extensions, skein.api.server, skein.api.tls, skein_grpc):
    assert module.__file__.startswith(ZIP + os.sep), (module.__name__, module.__file__)
assert multidict.MultiDict.__module__ == "multidict._multidict_py", multidict.MultiDict
assert not [m for m in sys.modules if m.split(".")[0] in ("yaml", "cryptography")]

async def main():
    served = asyncio.Event()

    async def set_progress(self, stream):
        request = await stream.recv_message()
        print("progress", request.progress, flush=True)
        await stream.send_message(pb.Empty())
        served.set()

    async def unimplemented(self, stream):
        raise NotImplementedError

    methods = dict.fromkeys(skein_grpc.AppMasterBase.__abstractmethods__, unimplemented)
    servicer = type("Servicer", (skein_grpc.AppMasterBase,), {**methods,
                    "SetProgress": set_progress})()
    security = Security.from_directory(CREDENTIALS)
    server = await skein.api.server.start_server([servicer], security, host="127.0.0.1")
    print("port", server.port, flush=True)
    await asyncio.wait_for(served.wait(), 60)
    await server.close()

asyncio.run(main())
"""


@pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no system python3")
async def test_a_bare_system_python_serves_grpc_over_tls_from_the_zip(tmp_path: Path) -> None:
    bundle = build_runtime_bundle()
    zip_path = tmp_path / bundle.name
    zip_path.write_bytes(bundle.data)
    security = Security.new_credentials().to_directory(tmp_path / "credentials")
    master = await asyncio.create_subprocess_exec(
        str(SYSTEM_PYTHON),
        "-I",
        "-c",
        textwrap.dedent(_MASTER_SIDE),
        str(zip_path),
        str(tmp_path / "credentials"),
        env={"PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=os.fspath(tmp_path),
    )
    try:
        assert master.stdout is not None
        assert master.stderr is not None
        first = await asyncio.wait_for(master.stdout.readline(), 60)
        if not first.startswith(b"port "):
            error = await asyncio.wait_for(master.stderr.read(), 60)
            pytest.fail(f"the master side failed: {first!r} {error.decode()}")
        port = int(first.split()[1])
        channel = await open_channel(f"127.0.0.1:{port}", security)
        async with channel, rpc_errors(channel.address):
            await channel.stub.SetProgress(pb.SetProgressRequest(progress=0.25))
        out, err = await asyncio.wait_for(master.communicate(), 60)
        assert master.returncode == 0, err.decode()
        assert out.decode().split() == ["progress", "0.25"]
    finally:
        if master.returncode is None:
            master.kill()
            await master.wait()
