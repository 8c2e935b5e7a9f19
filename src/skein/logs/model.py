"""The logs of an application, as returned by ``Client.application_logs``.

:class:`ApplicationLogs` keeps Skein 0.8's shape, a mapping of YARN container id
to that container's log text (every file, each under a ``LogType:`` header),
and adds the detail per file in :attr:`ApplicationLogs.files`.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TextIO, final

from skein.yarn.ids import ContainerId

__all__ = ["ApplicationLogs", "ContainerLogs", "LogSource", "format_log_file"]

LogSource = Literal["aggregated", "live"]
"""Where logs came from: HDFS after the application ended, or the NodeManagers while it runs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerLogs:
    """The log files of one container.

    Attributes:
        container_id: the YARN container id.
        node: the node it ran on, ``host:port`` of its NodeManager.
        files: file name (``stdout``, ``stderr``, ...) to content, in the node's order.
    """

    container_id: str
    node: str
    files: Mapping[str, str] = field(default_factory=dict)


def format_log_file(name: str, text: str) -> str:
    """One file as ``yarn logs`` shows it: a small header, the content, an end line.

    Example:
        >>> print(format_log_file("stdout", "hello\\n"), end="")
        LogType:stdout
        LogLength:6
        LogContents:
        hello
        End of LogType:stdout
    """
    body = text if not text or text.endswith("\n") else text + "\n"
    return (
        f"LogType:{name}\nLogLength:{len(text.encode())}\nLogContents:\n"
        f"{body}End of LogType:{name}\n"
    )


def _order(container_id: str) -> tuple[int, ContainerId | None, str]:
    try:
        return (0, ContainerId.parse(container_id), container_id)
    except ValueError:
        return (1, None, container_id)


def _merged(containers: Iterable[ContainerLogs]) -> dict[str, ContainerLogs]:
    """One entry per container: a later upload of a file replaces an earlier one."""
    merged: dict[str, ContainerLogs] = {}
    for logs in containers:
        seen = merged.get(logs.container_id)
        if seen is not None:
            logs = ContainerLogs(
                container_id=logs.container_id,
                node=logs.node,
                files={**seen.files, **logs.files},
            )
        merged[logs.container_id] = logs
    return {key: merged[key] for key in sorted(merged, key=_order)}


@final
class ApplicationLogs(Mapping[str, str]):
    """An application's logs: container id to its log text, ordered by container id.

    Args:
        app_id: the application.
        containers: each container's files; a container given twice (rolling
            aggregation uploads the same file again as it grows) keeps the later files.
        source: ``"aggregated"`` or ``"live"``.

    Attributes:
        app_id: the application.
        source: where the logs came from.
        files: container id to {file name: content}.
        nodes: container id to the node it ran on.

    Example:
        >>> logs = ApplicationLogs("application_1_0001", [ContainerLogs(
        ...     container_id="container_1_0001_01_000001", node="node1:45454",
        ...     files={"stdout": "hello\\n"})], source="live")
        >>> logs.files["container_1_0001_01_000001"]["stdout"]
        'hello\\n'
        >>> print(logs.dumps(), end="")
        ** Logs for container_1_0001_01_000001 on node1:45454 **
        <BLANKLINE>
        LogType:stdout
        LogLength:6
        LogContents:
        hello
        End of LogType:stdout
    """

    __slots__ = ("_containers", "app_id", "source")

    def __init__(
        self, app_id: str, containers: Iterable[ContainerLogs], *, source: LogSource
    ) -> None:
        self.app_id = app_id
        self.source: LogSource = source
        self._containers = _merged(containers)

    def __getitem__(self, container_id: str) -> str:
        files = self._containers[container_id].files
        return "\n".join(format_log_file(name, text) for name, text in files.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self._containers)

    def __len__(self) -> int:
        return len(self._containers)

    def __repr__(self) -> str:
        return f"ApplicationLogs<{self.app_id}, {len(self)} containers, {self.source}>"

    @property
    def files(self) -> Mapping[str, Mapping[str, str]]:
        """Container id to {file name: content}."""
        return {key: logs.files for key, logs in self._containers.items()}

    @property
    def nodes(self) -> Mapping[str, str]:
        """Container id to the node (``host:port``) it ran on."""
        return {key: logs.node for key, logs in self._containers.items()}

    def dumps(self) -> str:
        """All logs as one text: per container a ``** Logs for ... **`` line, then its files."""
        return "\n".join(
            f"** Logs for {key} on {logs.node} **\n\n{self[key]}"
            for key, logs in self._containers.items()
        )

    def dump(self, file: TextIO | None = None) -> None:
        """Write :meth:`dumps` to ``file`` (default: standard output)."""
        (file or sys.stdout).write(self.dumps())

    def _repr_html_(self) -> str:
        sections = "".join(
            f"<details><summary>{html.escape(key)}</summary><pre>{html.escape(self[key])}</pre>"
            "</details>"
            for key in self._containers
        )
        return f"<h3>Logs of {html.escape(self.app_id)}</h3>{sections}"
