"""Staging an application: its files on the cluster's filesystem, its spec rewritten to match.

Before YARN can start anything, every file a container needs must sit on a
filesystem the NodeManagers can read, with a known size and modification time.
Staging turns the user's :class:`~skein.spec.ApplicationSpec` into a *staged*
one, in which every :class:`~skein.spec.File` is a full URI with its size and
timestamp, and each service carries its script as the file ``.skein.sh``
(see ``docs/master.md``):

* local files are uploaded into the staging directory
  ``~/.skein/<app_id>/<sha256>/<name>``, each distinct content once;
* files already on the cluster's filesystem (or another one YARN can read)
  are referenced in place, their size and timestamp looked up;
* the master's runtime zip is kept in ``~/.skein/cache`` by content hash and
  shared by every application, so an unchanged client uploads it once;
* the application's TLS credentials (``master.security``, else the user's
  default pair) are written to ``.skein.crt`` and ``.skein.pem`` in the staging
  directory (mode 0600, folder 0700) and localized, PRIVATE, as ``./.skein.crt``
  and ``./.skein.pem`` into the master's and every service container's working
  directory. The staged spec refers to those files and holds no key material:
  its ``master.security`` is cleared.

Everything the spec names is checked before the first byte is sent: a missing
local file is a :class:`~skein.errors.SpecError` naming its field.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from skein.client.progress import UploadProgress
from skein.client.runtime_bundle import RuntimeBundle
from skein.container_properties import CERT_FILE, KEY_FILE
from skein.errors import FileNotFoundError, SkeinConfigurationError, SpecError
from skein.fs import FileStatus, FileSystem, filesystem_for, stage_file
from skein.fs.uri import parse_fs_uri
from skein.hadoop.configuration import HadoopConfiguration
from skein.spec import ApplicationSpec, File, FileType, FileVisibility, Master, Security, Service

__all__ = [
    "CACHE_DIR",
    "CERT_FILE",
    "HADOOP_FILE",
    "KEY_FILE",
    "RUNTIME_FILE",
    "SCRIPT_FILE",
    "SPEC_FILE",
    "LocalFile",
    "StagedApplication",
    "check_local_files",
    "stage_application",
    "staging_dir",
]

CACHE_DIR: Final = ".skein/cache"
"""Where the master runtime is cached, relative to the user's home directory."""

RUNTIME_FILE: Final = ".skein.am.zip"
SPEC_FILE: Final = ".skein.spec.json"
HADOOP_FILE: Final = ".skein.hadoop.json"
SCRIPT_FILE: Final = ".skein.sh"

_PARALLEL_UPLOADS: Final = 4


def staging_dir(app_id: str) -> str:
    """The staging directory of an application, relative to the user's home."""
    return f".skein/{app_id}"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file of the spec that is on the client's disk and must be uploaded.

    Attributes:
        parts: where the spec names it, e.g. ``("services", "web", "files", "app.py")``.
        path: its absolute local path.
        size: its size in bytes.
    """

    parts: tuple[str | int, ...]
    path: str
    size: int


@dataclass(frozen=True, slots=True)
class StagedApplication:
    """An application whose files are all on the cluster.

    Attributes:
        spec: the staged specification (full URIs, sizes, timestamps, ``.skein.sh``).
        directory: the staging directory's URI.
        master_files: the master container's local files, by target name: the
            runtime, the staged spec, the Hadoop configuration, the credentials
            and ``master.files``.
        runtime_uploaded: whether the runtime zip had to be uploaded (False
            when the cache already held it).
    """

    spec: ApplicationSpec
    directory: str
    master_files: Mapping[str, File]
    runtime_uploaded: bool


def _all_files(spec: ApplicationSpec) -> Iterator[tuple[tuple[str | int, ...], File]]:
    for target, file in spec.master.files.items():
        yield ("master", "files", target), file
    for name, service in spec.services.items():
        for target, file in service.files.items():
            yield ("services", name, "files", target), file


def _is_local(source: str) -> bool:
    return source.startswith("/") or source.lower().startswith("file:")


def check_local_files(spec: ApplicationSpec) -> list[LocalFile]:
    """Find the spec's local files, checking that each exists and is a regular file.

    Raises:
        SpecError: a local file is missing or is a directory; the error names
            the field, e.g. ``services.web.files["app.py"]``.
    """
    found = []
    for parts, file in _all_files(spec):
        if not _is_local(file.source):
            continue
        path = parse_fs_uri(file.source).path
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise SpecError(f"cannot read local file {path!r}: {exc.strerror}", parts) from None
        if not os.path.isfile(path):
            raise SpecError(
                f"{path!r} is a directory; pack it as an archive (.zip, .tar.gz) to ship it",
                parts,
            )
        found.append(LocalFile(parts, path, stat.st_size))
    return found


def _same_filesystem(source: str, fs: FileSystem) -> bool:
    mine, theirs = parse_fs_uri(fs.uri), parse_fs_uri(source)
    return mine.scheme == theirs.scheme and (
        not theirs.authority or theirs.authority.lower() == mine.authority.lower()
    )


def _with_status(file: File, uri: str, status: FileStatus) -> File:
    return dataclasses.replace(
        file, source=uri, size=status.size, timestamp=status.modification_time
    )


class _Stager:
    """One staging run; keeps what was uploaded so every reference reuses it."""

    def __init__(
        self,
        fs: FileSystem,
        directory: str,
        configuration: HadoopConfiguration,
        progress: UploadProgress | None,
    ) -> None:
        self.fs = fs
        self.directory = directory
        self.configuration = configuration
        self.progress = progress
        self.uploaded: dict[str, FileStatus] = {}
        self._limit = asyncio.Semaphore(_PARALLEL_UPLOADS)

    async def upload(self, local: LocalFile) -> None:
        if local.path in self.uploaded:
            return
        async with self._limit:
            if local.path in self.uploaded:
                return
            callback = self.progress.callback(local.path) if self.progress else None
            self.uploaded[local.path] = await stage_file(
                self.fs, local.path, self.directory, progress=callback
            )

    async def resolve(self, parts: tuple[str | int, ...], file: File) -> File:
        """The staged form of one file of the spec."""
        if _is_local(file.source):
            path = parse_fs_uri(file.source).path
            status = self.uploaded[path]
            staged = _with_status(file, self.fs.qualify(status.path), status)
            # Uploads live in the private staging directory: NodeManagers can
            # share them between this user's applications at most.
            if staged.visibility is FileVisibility.PUBLIC:
                staged = dataclasses.replace(staged, visibility=FileVisibility.PRIVATE)
            return staged
        if file.size and file.timestamp:
            return file
        if _same_filesystem(file.source, self.fs):
            fs = self.fs
        else:
            try:
                fs = filesystem_for(file.source, configuration=self.configuration)
            except SkeinConfigurationError as exc:
                raise SpecError(
                    f"{exc}; give the file's size and timestamp to use it without a lookup",
                    parts,
                ) from None
        try:
            status = await fs.stat(file.source)
        except FileNotFoundError:
            raise SpecError(f"no such file: {file.source}", parts) from None
        if status.is_dir:
            raise SpecError(f"{file.source} is a directory", parts)
        return _with_status(file, fs.qualify(status.path), status)

    async def write(self, name: str, data: bytes) -> File:
        status = await self.fs.write_bytes(
            posixpath.join(self.directory, name), data, overwrite=True, permission=0o600
        )
        return File(
            self.fs.qualify(status.path),
            size=status.size,
            timestamp=status.modification_time,
        )


async def _stage_runtime(fs: FileSystem, bundle: RuntimeBundle) -> tuple[File, bool]:
    path = posixpath.join(CACHE_DIR, bundle.digest, bundle.name)
    try:
        status = await fs.stat(path)
        uploaded = status.size != len(bundle.data)
    except FileNotFoundError:
        uploaded = True
    if uploaded:
        await fs.mkdirs(".skein", 0o700)
        await fs.mkdirs(posixpath.dirname(path), 0o700)
        status = await fs.write_bytes(path, bundle.data, overwrite=True, permission=0o600)
    runtime = File(
        fs.qualify(status.path),
        type=FileType.FILE,  # a zip on PYTHONPATH, not an archive for YARN to unpack
        size=status.size,
        timestamp=status.modification_time,
        visibility=FileVisibility.PRIVATE,
    )
    return runtime, uploaded


def _credentials(spec: ApplicationSpec, default: Security | None) -> dict[str, bytes]:
    """The application's certificate and key, read now so a bad file fails before staging."""
    security = spec.master.security or default or Security.from_default()
    try:
        return {CERT_FILE: security.cert_pem(), KEY_FILE: security.key_pem()}
    except OSError as exc:
        if spec.master.security is None:
            raise  # the user's default credentials, not the spec, are at fault
        raise SpecError(
            f"cannot read TLS credentials: {exc.strerror or exc}", ("master", "security")
        ) from None


async def _stage_credentials(stager: _Stager, pems: Mapping[str, bytes]) -> dict[str, File]:
    staged = {}
    for target, pem in pems.items():
        file = await stager.write(target, pem)  # 0600, in the 0700 staging directory
        # PRIVATE: a NodeManager shares the localized copy with this user's
        # applications only, never with other users'.
        staged[target] = dataclasses.replace(
            file, type=FileType.FILE, visibility=FileVisibility.PRIVATE
        )
    return staged


async def _resolve_all(
    stager: _Stager, files: Mapping[str, File], parts: tuple[str | int, ...]
) -> dict[str, File]:
    resolved = await asyncio.gather(
        *(stager.resolve((*parts, target), file) for target, file in files.items())
    )
    return dict(zip(files, resolved, strict=True))


async def stage_application(
    spec: ApplicationSpec,
    fs: FileSystem,
    app_id: str,
    *,
    configuration: HadoopConfiguration,
    bundle: RuntimeBundle,
    environ: Mapping[str, str] | None = None,
    show_progress: bool = True,
    security: Security | None = None,
) -> StagedApplication:
    """Upload what ``spec`` needs into a new staging directory and return the staged spec.

    The caller removes the directory if this, or anything after it, fails.

    Args:
        spec: the user's specification.
        fs: the cluster's default filesystem, as the application's user.
        app_id: the new application's id.
        configuration: the client's Hadoop configuration (shipped to the master,
            and used to reach other filesystems the spec names).
        bundle: the master runtime.
        environ: the client's environment, for ``LANG`` (default: ``os.environ``).
        show_progress: draw a progress line on a terminal for slow uploads.
        security: the credentials for an application whose spec sets no
            ``master.security`` (default: the user's, :meth:`Security.from_default`).

    Raises:
        SpecError: a file the spec names is missing, or ``master.security``
            cannot be read, before anything is uploaded.
    """
    local_files = check_local_files(spec)
    credentials = _credentials(spec, security)
    env = os.environ if environ is None else environ
    await fs.home_directory()  # so that relative paths can be qualified
    await fs.mkdirs(".skein", 0o700)
    directory = staging_dir(app_id)
    await fs.mkdirs(directory, 0o700)

    distinct = {local.path: local for local in local_files}
    progress = None
    if show_progress and distinct:
        progress = UploadProgress(sum(f.size for f in distinct.values()), len(distinct))
    stager = _Stager(fs, directory, configuration, progress)
    try:
        await asyncio.gather(*(stager.upload(local) for local in distinct.values()))
    finally:
        if progress is not None:
            progress.close()

    credential_files = await _stage_credentials(stager, credentials)
    runtime, runtime_uploaded = await _stage_runtime(fs, bundle)
    lang = {"LANG": env["LANG"]} if env.get("LANG") else {}
    services: dict[str, Service] = {}
    for name, service in spec.services.items():
        files = await _resolve_all(stager, service.files, ("services", name, "files"))
        script = await stager.write(f"scripts/{quote(name, safe='')}.sh", service.script.encode())
        services[name] = dataclasses.replace(
            service,
            # The runtime zip too: a bare python3 in the container can then run
            # skein (PYTHONPATH=.skein.am.zip), e.g. to reach the master's API.
            files={**files, SCRIPT_FILE: script, RUNTIME_FILE: runtime, **credential_files},
            env={**lang, **service.env},
        )
    master_files = await _resolve_all(stager, spec.master.files, ("master", "files"))
    master: Master = dataclasses.replace(spec.master, files=master_files, security=None)
    staged = dataclasses.replace(spec, master=master, services=services)

    properties = {key: value for key in configuration if (value := configuration.raw(key))}
    support = {
        **credential_files,
        RUNTIME_FILE: runtime,
        SPEC_FILE: await stager.write(SPEC_FILE, staged.to_json().encode()),
        HADOOP_FILE: await stager.write(
            HADOOP_FILE, json.dumps({"properties": properties}, sort_keys=True).encode()
        ),
    }
    return StagedApplication(
        spec=staged,
        directory=fs.qualify(directory),
        master_files={**master_files, **support},
        runtime_uploaded=runtime_uploaded,
    )
