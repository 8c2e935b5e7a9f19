"""``skein.properties``: what a process learns from running inside a Skein container.

Read once, at import, from the environment the master gives each container
(and the master script). Outside a container every property is ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Final

from skein.spec import Resources

__all__ = ["CERT_FILE", "KEY_FILE", "Properties", "properties"]

CERT_FILE: Final = ".skein.crt"
"""The application's certificate, localized into each container's working directory."""
KEY_FILE: Final = ".skein.pem"
"""The application's private key, beside :data:`CERT_FILE`."""


def _container_dir(environ: Mapping[str, str]) -> str | None:
    """The container's working directory: the first local dir holding its credentials."""
    yarn_container_id = environ.get("CONTAINER_ID")
    if not yarn_container_id:
        return None
    for local_dir in environ.get("LOCAL_DIRS", "").split(","):
        if not local_dir:
            continue
        candidate = os.path.join(local_dir, yarn_container_id)
        if all(os.path.isfile(os.path.join(candidate, name)) for name in (CERT_FILE, KEY_FILE)):
            return candidate
    return None


def _resources(environ: Mapping[str, str]) -> Resources | None:
    memory, vcores = environ.get("SKEIN_RESOURCE_MEMORY"), environ.get("SKEIN_RESOURCE_VCORES")
    if not memory or not vcores:
        return None
    try:
        return Resources(memory=int(memory), vcores=int(vcores))
    except ValueError:
        return None


class Properties(Mapping[str, Any]):
    """Skein's view of the current container: a read-only mapping with attribute access.

    Attributes:
        application_id: ``SKEIN_APPLICATION_ID``.
        appmaster_address: ``SKEIN_APPMASTER_ADDRESS``, the master's ``host:port``.
        config_dir: ``SKEIN_CONFIG``, else ``~/.skein`` (set outside containers too).
        container_id: ``SKEIN_CONTAINER_ID``, e.g. ``worker_3`` (None in the master script).
        container_resources: the container's :class:`~skein.Resources`.
        yarn_container_id: YARN's ``CONTAINER_ID``.
        container_dir: the container's working directory, which holds the
            application's credentials (``.skein.crt``, ``.skein.pem``).

    Example:
        >>> p = Properties({"SKEIN_CONTAINER_ID": "worker_3"})
        >>> p.container_id, p["container_id"], p.application_id
        ('worker_3', 'worker_3', None)
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "application_id": env.get("SKEIN_APPLICATION_ID") or None,
            "appmaster_address": env.get("SKEIN_APPMASTER_ADDRESS") or None,
            "config_dir": env.get("SKEIN_CONFIG")
            or os.path.join(os.path.expanduser("~"), ".skein"),
            "container_id": env.get("SKEIN_CONTAINER_ID") or None,
            "container_resources": _resources(env),
            "yarn_container_id": env.get("CONTAINER_ID") or None,
            "container_dir": _container_dir(env),
        }
        object.__setattr__(self, "_values", values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no property {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("skein.properties is read-only")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._values})

    def __repr__(self) -> str:
        return f"Properties({self._values!r})"

    _values: dict[str, Any]


properties: Final = Properties()
"""The properties of this process's container (all None outside one)."""
