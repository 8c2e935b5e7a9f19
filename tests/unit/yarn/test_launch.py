"""Launch-context conversions from the specification."""

from __future__ import annotations

import pytest

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.spec import ACLs, File, Resources
from skein.yarn.launch import (
    application_acls,
    environment,
    local_resource,
    local_resources,
    resource_proto,
    url_proto,
)


def test_url_of_an_hdfs_uri() -> None:
    url = url_proto("hdfs://nn.example.com:8020/user/alice/a%20b/x.zip")
    assert (url.scheme, url.host, url.port, url.file) == (
        "hdfs",
        "nn.example.com",
        8020,
        "/user/alice/a%20b/x.zip",
    )


def test_url_of_a_local_uri_has_no_host() -> None:
    url = url_proto("file:///tmp/x")
    assert url.scheme == "file"
    assert url.file == "/tmp/x"
    assert not url.HasField("host")
    assert not url.HasField("port")


@pytest.mark.parametrize("uri", ["/tmp/x", "relative/x", "hdfs://nn:8020"])
def test_url_needs_a_qualified_absolute_uri(uri: str) -> None:
    with pytest.raises(ValueError, match="fully qualified"):
        url_proto(uri)


def test_local_resource_carries_size_timestamp_type_and_visibility() -> None:
    file = File("hdfs://nn:8020/data/env.tar.gz", size=10, timestamp=1234, visibility="public")
    resource = local_resource(file)
    assert resource.size == 10
    assert resource.timestamp == 1234
    assert resource.type == pb.ARCHIVE
    assert resource.visibility == pb.PUBLIC
    assert resource.resource.file == "/data/env.tar.gz"


def test_local_resources_keep_target_names_and_order() -> None:
    files = {
        "b.py": File("hdfs://nn/b.py", size=1, timestamp=1),
        "a.py": File("hdfs://nn/a.py", size=2, timestamp=2, type="archive"),
    }
    entries = local_resources(files)
    assert [e.key for e in entries] == ["b.py", "a.py"]
    assert entries[1].value.type == pb.ARCHIVE


def test_environment_entries() -> None:
    assert [(e.key, e.value) for e in environment({"A": "1", "B": ""})] == [("A", "1"), ("B", "")]


def test_resources_with_and_without_gpus() -> None:
    plain = resource_proto(Resources(memory=256, vcores=2))
    assert (plain.memory, plain.virtual_cores, len(plain.resource_value_map)) == (256, 2, 0)
    gpus = resource_proto(Resources(memory=256, vcores=2, gpus=1, fpgas=3))
    assert [(r.key, r.value) for r in gpus.resource_value_map] == [
        ("yarn.io/gpu", 1),
        ("yarn.io/fpga", 3),
    ]


def test_acls_disabled_means_none() -> None:
    assert application_acls(ACLs(view_users=["bob"])) == []


def test_acls_enabled() -> None:
    acls = application_acls(
        ACLs(
            enable=True,
            view_users=["bob", "carol"],
            view_groups=["ops"],
            modify_users=["*"],
        )
    )
    assert [(a.accessType, a.acl) for a in acls] == [
        (pb.APPACCESS_VIEW_APP, "bob,carol ops"),
        (pb.APPACCESS_MODIFY_APP, "*"),
    ]
