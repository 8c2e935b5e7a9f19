"""The blocking client of one running application, compatible with Skein 0.8's.

A facade: each method runs the coroutine of the same name on
:class:`~skein.client.async_application_client.AsyncApplicationClient` in a
private event loop thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from skein.client.async_application_client import (
    DEFAULT_CALL_TIMEOUT,
    AsyncApplicationClient,
    current_application,
)
from skein.client.background_loop import BackgroundLoop
from skein.master.containers import Container, ContainerState
from skein.spec import ApplicationSpec, Security
from skein.yarn.enums import FinalStatus

if TYPE_CHECKING:
    from skein.kv import KeyValueStore

__all__ = ["ApplicationClient"]


class ApplicationClient:
    """Talks to the master of one running application.

    Args:
        address: the master's ``host:port``.
        app_id: the application's id.
        security: the application's credentials (default: the user's, from ``~/.skein``).
        timeout: seconds each call may take.

    Example:
        >>> app = client.connect("application_1700000000000_0001")  # doctest: +SKIP
        >>> app.scale("worker", count=4)  # doctest: +SKIP
        >>> app.kv["address"] = b"10.0.0.1:8786"  # doctest: +SKIP
        >>> app.shutdown()  # doctest: +SKIP
    """

    def __init__(
        self,
        address: str,
        app_id: str,
        security: Security | None = None,
        *,
        timeout: float | None = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self._async = AsyncApplicationClient(address, app_id, security, timeout=timeout)
        self._loop = BackgroundLoop(name=f"skein-{app_id}")
        self._kv: KeyValueStore | None = None

    @classmethod
    def from_current(cls) -> ApplicationClient:
        """The client of the application this container (or master script) belongs to.

        Raises:
            ValueError: not running inside a Skein container.

        Example:
            >>> app = ApplicationClient.from_current()  # doctest: +SKIP
            >>> app.kv["worker.address"] = b"10.0.0.2:9000"  # doctest: +SKIP
        """
        address, app_id, security = current_application()
        return cls(address, app_id, security)

    @property
    def address(self) -> str:
        """The master's ``host:port``."""
        return self._async.address

    @property
    def id(self) -> str:
        """The application's id."""
        return self._async.id

    @property
    def security(self) -> Security:
        """The credentials used to reach the master."""
        return self._async.security

    @property
    def kv(self) -> KeyValueStore:
        """The application's key-value store (a ``MutableMapping`` of str to bytes)."""
        if self._kv is None:
            from skein.kv import AsyncKeyValueStore, KeyValueStore

            async def make() -> AsyncKeyValueStore:
                return self._async.kv  # the channel belongs to the loop's thread

            self._kv = KeyValueStore(self._loop.run(make()), self._loop)
        return self._kv

    def __repr__(self) -> str:
        return f"ApplicationClient<{self.address}, {self.id!r}>"

    def close(self) -> None:
        """Close the connection (the application goes on running)."""
        if self._loop.closed:
            return
        try:
            self._loop.run(self._async.close())
        finally:
            self._loop.close()

    def __enter__(self) -> ApplicationClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.closed:
            loop.close()

    def get_specification(self) -> ApplicationSpec:
        """The specification as the master holds it."""
        return self._loop.run(self._async.get_specification())

    def shutdown(
        self, status: FinalStatus | str = "SUCCEEDED", diagnostics: str | None = None
    ) -> None:
        """End the application with ``status`` (SUCCEEDED, FAILED or KILLED); no retry follows."""
        self._loop.run(self._async.shutdown(status, diagnostics))

    def set_progress(self, progress: float) -> None:
        """Report the application's progress (in [0, 1]) to YARN."""
        self._loop.run(self._async.set_progress(progress))

    def get_containers(
        self,
        services: Iterable[str] | None = None,
        states: Iterable[ContainerState | str] | None = None,
    ) -> list[Container]:
        """Containers sorted by service and instance (default: the active ones)."""
        return self._loop.run(self._async.get_containers(services, states))

    def scale(
        self, service: str, count: int | None = None, delta: int | None = None, **kwargs: Any
    ) -> list[Container]:
        """Set ``service``'s active containers to ``count``, or change them by ``delta``."""
        return self._loop.run(self._async.scale(service, count, delta, **kwargs))

    def add_container(self, service: str, env: Mapping[str, str] | None = None) -> Container:
        """Start one more container of ``service``, with ``env`` over the service's env."""
        return self._loop.run(self._async.add_container(service, env))

    def kill_container(self, id: str) -> None:
        """Kill container ``id`` (``"<service>_<instance>"``)."""
        self._loop.run(self._async.kill_container(id))
