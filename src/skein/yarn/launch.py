"""Container launch contexts from the specification: files, environment, resources, ACLs.

The client builds the master's launch context and the master builds each
service container's from the same staged :class:`~skein.spec.File` and
:class:`~skein.spec.Resources` values, so both use these conversions.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from skein._proto.yarn import yarn_protos_pb2 as pb
from skein.spec import ACLs, File, FileType, FileVisibility, Resources

__all__ = [
    "GPU_RESOURCE",
    "application_acls",
    "environment",
    "local_resource",
    "local_resources",
    "resource_proto",
    "url_proto",
]

GPU_RESOURCE = "yarn.io/gpu"
FPGA_RESOURCE = "yarn.io/fpga"

_TYPES = {FileType.FILE: pb.FILE, FileType.ARCHIVE: pb.ARCHIVE}
_VISIBILITIES = {
    FileVisibility.PUBLIC: pb.PUBLIC,
    FileVisibility.PRIVATE: pb.PRIVATE,
    FileVisibility.APPLICATION: pb.APPLICATION,
}


def url_proto(uri: str) -> pb.URLProto:
    """Split a fully qualified URI into YARN's URL record.

    Example:
        >>> url = url_proto("hdfs://nn:8020/user/alice/.skein/x.zip")
        >>> url.scheme, url.host, url.port, url.file
        ('hdfs', 'nn', 8020, '/user/alice/.skein/x.zip')
    """
    parts = urlsplit(uri)
    if not parts.scheme or not parts.path.startswith("/"):
        raise ValueError(f"not a fully qualified URI: {uri!r}")
    url = pb.URLProto(scheme=parts.scheme, file=parts.path)
    if parts.hostname:
        url.host = parts.hostname
    if parts.port is not None:
        url.port = parts.port
    return url


def local_resource(file: File) -> pb.LocalResourceProto:
    """The LocalResource of a staged file (its source a full URI, size and timestamp set).

    YARN refuses to localize a file whose size or modification time differ
    from these, which protects containers from files changed after submission.
    """
    if file.type is None:  # pragma: no cover - File always infers a type
        raise ValueError(f"{file.source}: no file type")
    return pb.LocalResourceProto(
        resource=url_proto(file.source),
        size=file.size,
        timestamp=file.timestamp,
        type=_TYPES[file.type],
        visibility=_VISIBILITIES[file.visibility],
    )


def local_resources(files: Mapping[str, File]) -> list[pb.StringLocalResourceMapProto]:
    """The launch context's local resources, by target name."""
    return [
        pb.StringLocalResourceMapProto(key=target, value=local_resource(file))
        for target, file in files.items()
    ]


def environment(env: Mapping[str, str]) -> list[pb.StringStringMapProto]:
    """The launch context's environment entries."""
    return [pb.StringStringMapProto(key=key, value=value) for key, value in env.items()]


def resource_proto(resources: Resources) -> pb.ResourceProto:
    """YARN's resource record; GPUs and FPGAs become extra resource types when asked for.

    Example:
        >>> resource_proto(Resources(memory=128, vcores=1, gpus=2)).resource_value_map[0].key
        'yarn.io/gpu'
    """
    proto = pb.ResourceProto(memory=resources.memory, virtual_cores=resources.vcores)
    for key, value in ((GPU_RESOURCE, resources.gpus), (FPGA_RESOURCE, resources.fpgas)):
        if value:
            proto.resource_value_map.append(pb.ResourceInformationProto(key=key, value=value))
    return proto


def _acl(users: tuple[str, ...], groups: tuple[str, ...]) -> str:
    # Hadoop's AccessControlList text: "user1,user2 group1,group2", or "*" for everyone.
    if "*" in users or "*" in groups:
        return "*"
    return f"{','.join(users)} {','.join(groups)}"


def application_acls(acls: ACLs) -> list[pb.ApplicationACLMapProto]:
    """The view and modify ACLs YARN enforces, or none when ``acls.enable`` is false.

    Example:
        >>> [entry.acl for entry in application_acls(
        ...     ACLs(enable=True, view_users=["bob"], modify_groups=["ops"]))]
        ['bob ', ' ops']
    """
    if not acls.enable:
        return []
    return [
        pb.ApplicationACLMapProto(
            accessType=pb.APPACCESS_VIEW_APP, acl=_acl(acls.view_users, acls.view_groups)
        ),
        pb.ApplicationACLMapProto(
            accessType=pb.APPACCESS_MODIFY_APP, acl=_acl(acls.modify_users, acls.modify_groups)
        ),
    ]
