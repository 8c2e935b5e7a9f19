"""The application specification: what to run on YARN, as immutable values.

An application is a :class:`Master` (the application master's container, and
optionally a driver script run in it) plus named :class:`Service` s, each a
number of identical containers with :class:`Resources`, localized
:class:`File` s, environment variables and a bash script. The classes and their
YAML keys are Skein 0.8's, so its specification files load unchanged.

Every field is declared once, below, with its type, default and documentation;
construction converts and checks the values (see :mod:`skein.spec.conversion`),
so an object that exists is valid. Objects are frozen: derive changed copies
with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import enum
import os
import types
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Annotated, TypeVar

from skein.errors import SpecError
from skein.spec.base import SpecObject
from skein.spec.conversion import Meta, document, from_data
from skein.spec.security import Security

__all__ = [
    "ACLs",
    "ApplicationSpec",
    "File",
    "FileType",
    "FileVisibility",
    "LogLevel",
    "Master",
    "Resources",
    "Service",
]

_E = TypeVar("_E", bound="SpecEnum")

_ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")


class SpecEnum(str, enum.Enum):
    """Base of the specification enums: string members, looked up by name in any case."""

    @classmethod
    def _missing_(cls, value: object) -> SpecEnum | None:
        if isinstance(value, str):
            return cls.__members__.get(value.upper())
        return None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    @classmethod
    def values(cls: type[_E]) -> list[_E]:
        """All members, in declaration order (as Skein 0.8's ``values()``)."""
        return list(cls)


class FileType(SpecEnum):
    """How YARN localizes a file: as is, or unpacked into a folder named after its target."""

    FILE = "FILE"
    ARCHIVE = "ARCHIVE"


class FileVisibility(SpecEnum):
    """Who may share a localized file on a node: this application, its user, or everyone."""

    APPLICATION = "APPLICATION"
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


class LogLevel(SpecEnum):
    """The application master's log level (log4j's names)."""

    ALL = "ALL"
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"
    OFF = "OFF"


def _check_files(owner: Master | Service) -> None:
    targets = {}
    for target, file in owner.files.items():
        name = target.removeprefix("./")
        # YARN links each localized file into the working directory under one name.
        if name in ("", ".", "..") or "/" in name:
            raise SpecError("a target must be a file name, not a path", ("files", target))
        if name in targets:
            raise SpecError(f"duplicates target {name!r}", ("files", target))
        targets[name] = file
    if list(targets) != list(owner.files):
        object.__setattr__(owner, "files", types.MappingProxyType(targets))


def _check_env(env: Mapping[str, str]) -> None:
    for key in env:
        if not key or "=" in key:
            raise SpecError("not a valid environment variable name", ("env", key))


def _find_cycle(graph: Mapping[str, frozenset[str]]) -> list[str]:
    """Return a dependency cycle as ``[a, b, a]``, or ``[]`` if there is none."""
    finished: set[str] = set()
    chain: list[str] = []  # the services being visited, each depending on the next

    def visit(node: str) -> list[str]:
        chain.append(node)
        for dependency in sorted(graph.get(node, ())):
            if dependency in chain:
                return [*chain[chain.index(dependency) :], dependency]
            if dependency not in finished and (cycle := visit(dependency)):
                return cycle
        finished.add(chain.pop())
        return []

    for node in sorted(graph):
        if node not in finished and (cycle := visit(node)):
            return cycle
    return []


@document
@dataclass(frozen=True, slots=True, repr=False)
class Resources(SpecObject):
    """The size of one container.

    Example:
        >>> Resources(memory="2 GiB", vcores=2)
        Resources(memory=2048, vcores=2)
        >>> Resources(1.5, 1).memory  # MiB, rounded up
        2
    """

    memory: Annotated[
        int,
        Meta(
            "Memory in MiB: a number, or a string with a unit such as '2 GiB', '512 MiB' "
            "or '1.5 GB'; rounded up to a whole MiB.",
            memory=True,
            minimum=1,
        ),
    ]
    vcores: Annotated[int, Meta("Virtual cores.", minimum=1)]
    _: KW_ONLY
    gpus: Annotated[
        int, Meta("GPUs (YARN resource yarn.io/gpu; needs Hadoop 3.1 or later).", minimum=0)
    ] = 0
    fpgas: Annotated[
        int, Meta("FPGAs (YARN resource yarn.io/fpga; needs Hadoop 3.1 or later).", minimum=0)
    ] = 0


@document
@dataclass(frozen=True, slots=True, repr=False)
class File(SpecObject):
    """A file or archive that YARN copies into a container's working directory.

    In a mapping of files, a plain string stands for ``File(source=...)``.

    Example:
        >>> File("/data/env.tar.gz").type
        FileType.ARCHIVE
        >>> File("hdfs:///apps/script.py", visibility="public").visibility
        FileVisibility.PUBLIC
    """

    source: Annotated[
        str,
        Meta(
            "Where the file is: a URI (hdfs://, viewfs://, file://...) or a local path; a "
            "relative path is relative to the specification file's folder.",
            local_path=True,
            shorthand=True,
        ),
    ]
    _: KW_ONLY
    type: Annotated[
        FileType | None,
        Meta("FILE or ARCHIVE; inferred from the source when absent (.zip, .tar.gz, .tgz)."),
    ] = None
    visibility: Annotated[FileVisibility, Meta("Who may share the localized copy on a node.")] = (
        FileVisibility.APPLICATION
    )
    size: Annotated[int, Meta("Size in bytes; 0 to look it up when staging.", minimum=0)] = 0
    timestamp: Annotated[
        int, Meta("Modification time in epoch ms; 0 to look it up when staging.", minimum=0)
    ] = 0

    def _check(self) -> None:
        if not self.source:
            raise SpecError("must not be empty", ("source",))
        if self.type is None:
            inferred = (
                FileType.ARCHIVE if self.source.endswith(_ARCHIVE_SUFFIXES) else FileType.FILE
            )
            object.__setattr__(self, "type", inferred)


@document
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ACLs(SpecObject):
    """Who may view and modify the application; ``"*"`` in a list means everyone.

    Example:
        >>> ACLs(enable=True, view_users=["*"], modify_users=["alice"]).enable
        True
    """

    enable: Annotated[
        bool, Meta("Apply these lists; when false, any authenticated user may view.")
    ] = False
    view_users: Annotated[tuple[str, ...], Meta("Users who may view the application.")] = ()
    view_groups: Annotated[tuple[str, ...], Meta("Groups who may view the application.")] = ()
    modify_users: Annotated[tuple[str, ...], Meta("Users who may modify or kill it.")] = ()
    modify_groups: Annotated[tuple[str, ...], Meta("Groups who may modify or kill it.")] = ()
    ui_users: Annotated[tuple[str, ...], Meta("Users who may open its web UI.")] = ()


_FILES_DOC = (
    "Files to localize, by target file name in the working directory; a string value is a source."
)


@document
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Master(SpecObject):
    """The application master's container, and an optional driver script run in it.

    Example:
        >>> Master(script="python driver.py", resources=Resources(memory="1 GiB", vcores=1))
        Master(resources=Resources(memory=1024, vcores=1), script='python driver.py')
    """

    resources: Annotated[Resources, Meta("Size of the master's container.")] = Resources(512, 1)
    script: Annotated[
        str, Meta("A bash script run in the master's container; the application ends with it.")
    ] = ""
    files: Annotated[Mapping[str, File], Meta(_FILES_DOC)] = field(default_factory=dict)
    env: Annotated[Mapping[str, str], Meta("Environment variables.")] = field(default_factory=dict)
    log_level: Annotated[LogLevel, Meta("The master's log level.")] = LogLevel.INFO
    log_config: Annotated[
        File | None, Meta("A log4j.properties file for the master (Skein 0.8's Java master).")
    ] = None
    security: Annotated[
        Security | None,
        Meta("TLS credentials for the application; by default the submitting user's."),
    ] = None

    def _check(self) -> None:
        _check_files(self)
        _check_env(self.env)


@document
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Service(SpecObject):
    """A group of identical containers running the same script.

    In YAML, ``commands:`` (a list of lines) may be given instead of ``script``.

    Example:
        >>> worker = Service(
        ...     resources=Resources(memory="4 GiB", vcores=2),
        ...     script="dask-worker --nthreads 2",
        ...     instances=4,
        ...     depends=["scheduler"],
        ... )
        >>> worker.depends
        frozenset({'scheduler'})
    """

    resources: Annotated[Resources, Meta("Size of each container.")]
    script: Annotated[
        str,
        Meta(
            "The bash script each container runs; it ends when the script does.", alias="commands"
        ),
    ]
    instances: Annotated[int, Meta("Containers to start with.", minimum=0)] = 1
    files: Annotated[Mapping[str, File], Meta(_FILES_DOC)] = field(default_factory=dict)
    env: Annotated[Mapping[str, str], Meta("Environment variables.")] = field(default_factory=dict)
    depends: Annotated[
        frozenset[str], Meta("Services that must have started before this one starts.")
    ] = frozenset()
    max_restarts: Annotated[
        int,
        Meta(
            "Failed containers replaced over the service's life; -1 for no limit.",
            minimum=-1,
        ),
    ] = 0
    allow_failures: Annotated[
        bool, Meta("Keep the application running when max_restarts is exceeded.")
    ] = False
    node_label: Annotated[str, Meta("Node-label expression for this service's containers.")] = ""
    nodes: Annotated[tuple[str, ...], Meta("Host names to place containers on.")] = ()
    racks: Annotated[tuple[str, ...], Meta("Racks to place containers on.")] = ()
    relax_locality: Annotated[
        bool, Meta("Allow containers elsewhere when the nodes or racks are busy.")
    ] = False

    def _check(self) -> None:
        if not self.script.strip():
            raise SpecError("must not be empty", ("script",))
        _check_files(self)
        _check_env(self.env)


@document
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ApplicationSpec(SpecObject):
    """A whole application: its master, its services and how YARN should run it.

    Example:
        >>> spec = ApplicationSpec.from_yaml('''
        ... name: hello-world
        ... services:
        ...   hello:
        ...     resources: {memory: 128 MiB, vcores: 1}
        ...     script: echo "hello world"
        ... ''')
        >>> spec.services["hello"].resources
        Resources(memory=128, vcores=1)
    """

    name: Annotated[str, Meta("The YARN application name.")] = "skein"
    queue: Annotated[str, Meta("The YARN queue to submit to.")] = "default"
    user: Annotated[
        str, Meta("Run as this user (impersonation); empty for the submitting user.")
    ] = ""
    node_label: Annotated[
        str, Meta("Default node-label expression for the application's containers.")
    ] = ""
    tags: Annotated[frozenset[str], Meta("YARN application tags.")] = frozenset()
    file_systems: Annotated[
        tuple[str, ...],
        Meta("Other filesystems (URIs) to get delegation tokens for; the default one always is."),
    ] = ()
    acls: Annotated[ACLs, Meta("Access control.")] = ACLs()
    max_attempts: Annotated[
        int, Meta("Application master attempts (capped by YARN's maximum).", minimum=1)
    ] = 1
    master: Annotated[Master, Meta("The application master.")] = field(default_factory=Master)
    services: Annotated[Mapping[str, Service], Meta("The services, by name.")] = field(
        default_factory=dict
    )

    def _check(self) -> None:
        if not self.services and not self.master.script:
            raise SpecError("there must be at least one service, or a master script", ("services",))
        for name, service in self.services.items():
            if not name.strip():
                raise SpecError("service names must not be empty", ("services", name))
            unknown = sorted(service.depends - self.services.keys())
            if unknown:
                listed = ", ".join(map(repr, unknown))
                raise SpecError(f"unknown service(s) {listed}", ("services", name, "depends"))
        cycle = _find_cycle({name: service.depends for name, service in self.services.items()})
        if cycle:
            raise SpecError(
                "dependency cycle: " + " -> ".join(cycle), ("services", cycle[0], "depends")
            )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], format: str = "infer") -> ApplicationSpec:
        """Read a specification from a YAML or JSON file.

        Relative local paths in it (file sources, log configuration, credentials)
        are resolved against the file's folder, so a spec can sit beside its files.

        Args:
            path: the file.
            format: ``"yaml"``, ``"json"``, or ``"infer"`` from the extension
                (``.yaml``, ``.yml``, ``.json``).

        Raises:
            SpecError: unknown format, unparsable text, or an invalid specification.
            OSError: the file cannot be read.

        Example:
            >>> spec = ApplicationSpec.from_file("spec.yaml")  # doctest: +SKIP
        """
        from skein.spec.loading import infer_format, parse_text

        kind = infer_format(path, format)
        with open(path, encoding="utf-8") as file:
            data = parse_text(file, kind)
        if not isinstance(data, Mapping):
            raise SpecError(f"expected a mapping of ApplicationSpec fields, got {data!r:.60}")
        base_dir = os.path.dirname(os.path.abspath(path))
        return from_data(cls, data, base_dir)

    def to_file(
        self, path: str | os.PathLike[str], format: str = "infer", skip_nulls: bool = True
    ) -> None:
        """Write the specification to a YAML or JSON file (replacing it if present).

        Args:
            path: the file.
            format: ``"yaml"``, ``"json"``, or ``"infer"`` from the extension.
            skip_nulls: leave out fields whose value is ``None``.

        Raises:
            SpecError: unknown format.
        """
        from skein.spec.loading import infer_format

        kind = infer_format(path, format)
        text = self.to_yaml(skip_nulls) if kind == "yaml" else self.to_json(skip_nulls) + "\n"
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
