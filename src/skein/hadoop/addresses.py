"""Where the cluster's services are: ResourceManagers (with HA), NameNode web, default FS.

The rules follow YARN's client side (``YarnConfiguration.getSocketAddr``,
``HAUtil``, ``ConfiguredRMFailoverProxyProvider``):

* Without HA, a ResourceManager service is at its key, e.g.
  ``yarn.resourcemanager.address``, whose default is
  ``${yarn.resourcemanager.hostname}:8032``.
* With ``yarn.resourcemanager.ha.enabled``, each id in
  ``yarn.resourcemanager.ha.rm-ids`` (in order: clients try them round-robin
  from the first) is at ``<key>.<id>``, or else at
  ``yarn.resourcemanager.hostname.<id>`` with the service's default port; the
  unsuffixed keys are ignored.
* The web address is ``webapp.https.address`` when ``yarn.http.policy`` is
  ``HTTPS_ONLY``, else ``webapp.address``.

A wildcard host (``0.0.0.0``) is returned as configured. Hadoop's RPC client
connects to it as is, which reaches the local host; Hadoop only substitutes the
local host name when it builds links for the web UI.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from skein.errors import SkeinConfigurationError
from skein.hadoop.configuration import HadoopConfiguration

__all__ = [
    "RMAddress",
    "RMService",
    "SocketAddress",
    "default_fs",
    "namenode_http_address",
    "parse_socket_address",
    "rm_addresses",
    "uses_https",
]

_HA_ENABLED: Final = "yarn.resourcemanager.ha.enabled"
_HA_IDS: Final = "yarn.resourcemanager.ha.rm-ids"
_RM_HOSTNAME: Final = "yarn.resourcemanager.hostname"


class RMService(enum.Enum):
    """A ResourceManager endpoint a client may need."""

    CLIENT = "client"
    """ApplicationClientProtocol (submit, report, kill)."""
    SCHEDULER = "scheduler"
    """ApplicationMasterProtocol (register, allocate, finish)."""
    ADMIN = "admin"
    """ResourceManagerAdministrationProtocol (HA state, refreshes)."""
    WEBAPP = "webapp"
    """The web UI and REST API, HTTP or HTTPS according to ``yarn.http.policy``."""


# (configuration key, default port) per service, from YarnConfiguration.
_RM_KEYS: Final = {
    RMService.CLIENT: ("yarn.resourcemanager.address", 8032),
    RMService.SCHEDULER: ("yarn.resourcemanager.scheduler.address", 8030),
    RMService.ADMIN: ("yarn.resourcemanager.admin.address", 8033),
}
_RM_WEBAPP_HTTP: Final = ("yarn.resourcemanager.webapp.address", 8088)
_RM_WEBAPP_HTTPS: Final = ("yarn.resourcemanager.webapp.https.address", 8090)


@dataclass(frozen=True, slots=True)
class SocketAddress:
    """A host and port.

    Attributes:
        host: a host name or IP address (IPv6 without brackets).
        port: the TCP port.
    """

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RMAddress:
    """One ResourceManager's address for one service.

    Attributes:
        rm_id: the HA id (e.g. ``"rm1"``), or None without HA.
        host: the host as configured (may be the wildcard ``0.0.0.0``).
        port: the TCP port.
        key: the configuration key the address came from, for error messages.
    """

    rm_id: str | None
    host: str
    port: int
    key: str

    @property
    def address(self) -> SocketAddress:
        """The host and port together."""
        return SocketAddress(self.host, self.port)


def parse_socket_address(value: str, default_port: int | None, key: str) -> SocketAddress:
    """Parse ``host:port``, ``host`` or ``scheme://host:port`` like Hadoop's NetUtils.

    Args:
        value: the configured text; surrounding whitespace is ignored.
        default_port: the port when none is given; None makes a port mandatory.
        key: the configuration key, named in errors.

    Raises:
        SkeinConfigurationError: no host, no port where one is needed, a path
            without a scheme, or a port out of range.

    Example:
        >>> str(parse_socket_address("rm1.example.com", 8032, "yarn.resourcemanager.address"))
        'rm1.example.com:8032'
        >>> parse_socket_address("hdfs://nn:8020/", None, "fs.defaultFS").port
        8020
    """
    text = value.strip()
    has_scheme = "://" in text
    try:
        parts = urlsplit(text if has_scheme else f"dummy://{text}")
        port = parts.port
    except ValueError as exc:
        raise SkeinConfigurationError(
            f"{key} = {value!r} is not a valid host:port address: {exc}"
        ) from None
    host = parts.hostname
    if port is None:
        port = default_port
    if not host or port is None or (not has_scheme and parts.path):
        raise SkeinConfigurationError(f"{key} = {value!r} is not a valid host:port address")
    return SocketAddress(host, port)


def uses_https(conf: HadoopConfiguration) -> bool:
    """Return whether YARN's web endpoints are HTTPS (``yarn.http.policy=HTTPS_ONLY``)."""
    return (conf.get_trimmed("yarn.http.policy") or "HTTP_ONLY").upper() == "HTTPS_ONLY"


def _service_key(conf: HadoopConfiguration, service: RMService) -> tuple[str, int]:
    if service is RMService.WEBAPP:
        return _RM_WEBAPP_HTTPS if uses_https(conf) else _RM_WEBAPP_HTTP
    return _RM_KEYS[service]


def rm_addresses(conf: HadoopConfiguration, service: RMService) -> tuple[RMAddress, ...]:
    """Return the ResourceManager addresses for ``service``, in failover order.

    Args:
        conf: the Hadoop configuration.
        service: which endpoint.

    Returns:
        One address without HA; with HA, one per id in ``yarn.resourcemanager.ha.rm-ids``.

    Raises:
        SkeinConfigurationError: HA is enabled without ids, an id has neither
            ``<key>.<id>`` nor ``yarn.resourcemanager.hostname.<id>``, or an
            address is malformed.

    Example:
        >>> conf = HadoopConfiguration({
        ...     "yarn.resourcemanager.ha.enabled": "true",
        ...     "yarn.resourcemanager.ha.rm-ids": "rm1,rm2",
        ...     "yarn.resourcemanager.hostname.rm1": "master1",
        ...     "yarn.resourcemanager.address.rm2": "master2:9032",
        ... })
        >>> [(a.rm_id, a.host, a.port) for a in rm_addresses(conf, RMService.CLIENT)]
        [('rm1', 'master1', 8032), ('rm2', 'master2', 9032)]
    """
    key, default_port = _service_key(conf, service)
    if not conf.get_bool(_HA_ENABLED, False):
        address = parse_socket_address(
            conf.get_trimmed(key, f"0.0.0.0:{default_port}"), default_port, key
        )
        return (RMAddress(rm_id=None, host=address.host, port=address.port, key=key),)
    # Java splits the ids without trimming on the client side; trimming only
    # forgives stray spaces that would otherwise name non-existent keys.
    rm_ids = conf.get_list(_HA_IDS)
    if not rm_ids:
        raise SkeinConfigurationError(f"{_HA_ENABLED} is true but {_HA_IDS} lists no ids")
    found: list[RMAddress] = []
    for rm_id in rm_ids:
        id_key = f"{key}.{rm_id}"
        per_id = conf.get_trimmed(id_key)
        if per_id is None:
            hostname = conf.get_trimmed(f"{_RM_HOSTNAME}.{rm_id}")
            if hostname is None:
                raise SkeinConfigurationError(
                    f"{_RM_HOSTNAME}.{rm_id} or {id_key} needs to be set in an HA configuration"
                )
            per_id = f"{hostname}:{default_port}"
        address = parse_socket_address(per_id, default_port, id_key)
        found.append(RMAddress(rm_id=rm_id, host=address.host, port=address.port, key=id_key))
    return tuple(found)


def default_fs(conf: HadoopConfiguration) -> str:
    """Return the default filesystem URI (``fs.defaultFS``, default ``file:///``).

    Example:
        >>> default_fs(HadoopConfiguration({"fs.defaultFS": " hdfs://nn:8020 "}))
        'hdfs://nn:8020'
    """
    return conf.get_trimmed("fs.defaultFS") or "file:///"


def namenode_http_address(conf: HadoopConfiguration) -> SocketAddress:
    """Return the NameNode's web (and WebHDFS) address, by ``dfs.http.policy``.

    ``dfs.namenode.https-address`` (default ``0.0.0.0:9871``) when the policy is
    ``HTTPS_ONLY``, else ``dfs.namenode.http-address`` (default ``0.0.0.0:9870``).
    HDFS NameNode HA (nameservices) is not resolved here.
    """
    policy = (conf.get_trimmed("dfs.http.policy") or "HTTP_ONLY").upper()
    if policy == "HTTPS_ONLY":
        key, fallback = "dfs.namenode.https-address", "0.0.0.0:9871"
    else:
        key, fallback = "dfs.namenode.http-address", "0.0.0.0:9870"
    value = conf.get_trimmed(key, fallback)
    return parse_socket_address(value, None, key)
