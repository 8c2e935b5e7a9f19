"""Submission against the real cluster: what is staged on HDFS, and how bad input fails.

These tests stop short of the master's behaviour (see test_applications.py):
they check what the client puts on HDFS and asks of the ResourceManager.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import skein
from skein.errors import FileNotFoundError, QueueNotFoundError, RemoteError, SpecError
from skein.fs import filesystem_for
from skein.hadoop.configuration import load_configuration
from skein.testcluster import TestCluster

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def client(hadoop_cluster: TestCluster) -> Iterator[skein.Client]:
    with skein.Client() as c:
        yield c


def staging_dirs(cluster: TestCluster) -> set[str]:
    """The application staging directories in the user's ~/.skein."""

    async def names() -> set[str]:
        fs = filesystem_for(load_configuration())
        try:
            return {s.name for s in await fs.list(".skein") if s.name.startswith("application_")}
        except FileNotFoundError:
            return set()

    return asyncio.run(names())


def listing(cluster: TestCluster, path: str) -> dict[str, tuple[str, int]]:
    """Path -> (permissions, size) under ``path``, from `hdfs dfs -ls -R`."""
    out = cluster.hdfs("dfs", "-ls", "-R", path).stdout
    rows = re.findall(r"^([d-][rwx-]{9})\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\S+)$", out, re.M)
    return {name: (mode, int(size)) for mode, size, name in rows}


def spec_with_files(tmp_path: Path, **overrides: object) -> skein.ApplicationSpec:
    (tmp_path / "data.bin").write_bytes(bytes(range(256)) * 4096)
    (tmp_path / "same.bin").write_bytes(bytes(range(256)) * 4096)
    data = {
        "name": "staging-test",
        "services": {
            "sleeper": {
                "resources": {"memory": 128, "vcores": 1},
                "files": {
                    "data.bin": str(tmp_path / "data.bin"),
                    "copy": str(tmp_path / "data.bin"),
                    "other": str(tmp_path / "same.bin"),
                },
                "script": "sleep 600",
            }
        },
    }
    data.update(overrides)
    return skein.ApplicationSpec.from_dict(data)


def test_submit_stages_files_privately_and_kill_removes_them(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    app_id = client.submit(spec_with_files(tmp_path), show_progress=False)
    try:
        report = client.application_report(app_id)
        assert report.name == "staging-test"
        assert report.application_type == "skein"
        staged = {n: v for n, v in listing(hadoop_cluster, ".skein").items() if app_id in n}
        directory = next(name for name in staged if name.endswith(f".skein/{app_id}"))
        assert staged[directory][0] == "drwx------"
        uploads = {n: v for n, v in staged.items() if n.endswith(("/data.bin", "/same.bin"))}
        # A file named twice is uploaded once; names are kept (YARN unpacks
        # archives by their extension), so same content under two names is two.
        assert len(uploads) == 2
        assert set(uploads.values()) == {("-rw-------", 256 * 4096)}
        assert any(n.endswith(f"{app_id}/.skein.spec.json") for n in staged)
    finally:
        client.kill_application(app_id)
    assert client.application_report(app_id).state == "KILLED"
    assert app_id not in staging_dirs(hadoop_cluster)


def test_the_master_runtime_is_cached_between_submissions(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    spec = spec_with_files(tmp_path)
    first = client.submit(spec, show_progress=False)
    client.kill_application(first)
    before = listing(hadoop_cluster, ".skein/cache")
    second = client.submit(spec, show_progress=False)
    client.kill_application(second)
    after = listing(hadoop_cluster, ".skein/cache")
    assert before == after
    assert [n for n in after if n.endswith(".zip")]


def test_unknown_queue_fails_before_anything_is_staged(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    before = staging_dirs(hadoop_cluster)
    with pytest.raises(QueueNotFoundError, match="'nosuchqueue'"):
        client.submit(spec_with_files(tmp_path, queue="nosuchqueue"))
    assert staging_dirs(hadoop_cluster) == before


def test_parent_queue_is_refused(client: skein.Client, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^queue: 'apps' is a parent queue.*dev"):
        client.submit(spec_with_files(tmp_path, queue="apps"))


def test_too_much_memory_names_the_field(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    spec = spec_with_files(tmp_path)
    data = spec.to_dict()
    data["services"]["sleeper"]["resources"]["memory"] = "64 GiB"
    before = staging_dirs(hadoop_cluster)
    with pytest.raises(SpecError, match=r"^services\.sleeper\.resources\.memory: 65536 MiB"):
        client.submit(data)
    assert staging_dirs(hadoop_cluster) == before


def test_too_many_vcores_for_the_master(client: skein.Client, tmp_path: Path) -> None:
    spec = spec_with_files(tmp_path, master={"resources": {"memory": 512, "vcores": 64}})
    with pytest.raises(SpecError, match=r"^master\.resources\.vcores: 64 vcores"):
        client.submit(spec)


def test_missing_local_file_names_service_and_file(client: skein.Client, tmp_path: Path) -> None:
    spec = spec_with_files(tmp_path)
    (tmp_path / "same.bin").unlink()
    with pytest.raises(SpecError, match=r"^services\.sleeper\.files\.other: .*same\.bin"):
        client.submit(spec)


def test_a_rejected_submission_removes_its_staging_directory(
    hadoop_cluster: TestCluster, client: skein.Client, tmp_path: Path
) -> None:
    # Node labels are off on the test cluster, so the ResourceManager refuses
    # the submission itself, after the files were staged.
    before = staging_dirs(hadoop_cluster)
    with pytest.raises(RemoteError, match="label"):
        client.submit(spec_with_files(tmp_path, node_label="gpu"), show_progress=False)
    assert staging_dirs(hadoop_cluster) == before


def run_skein(*args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("skein")
    return subprocess.run([cli, *args], capture_output=True, text=True, check=False, timeout=60)


def test_cli_submit_errors(hadoop_cluster: TestCluster, tmp_path: Path) -> None:
    missing = run_skein("application", "submit", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: No application specification file at ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  a:\n    resources: {memory: lots, vcores: 1}\n    script: ls\n")
    result = run_skein("application", "submit", str(bad))
    assert result.returncode == 1
    assert re.match(
        r"Error: In file '.*bad\.yaml': services\.a\.resources\.memory: ", result.stderr
    ), result.stderr
