"""YARN's aggregated log files (``AggregatedLogFormat``), read from bytes.

When an application ends, each NodeManager that ran its containers uploads one
file per node into the remote application log directory. In the default
``TFile`` file format that file is a :mod:`TFile <skein.logs.tfile>` whose keys
are Java ``writeUTF`` strings (an unsigned 16-bit byte length, then modified
UTF-8) and whose values are:

* ``VERSION``: a 32-bit big-endian integer (1);
* ``APPLICATION_ACL``: pairs of ``writeUTF`` strings, access type then ACL;
* ``APPLICATION_OWNER``: one ``writeUTF`` string, the user;
* a container id: per log file, ``writeUTF(file name)``, ``writeUTF(decimal
  length)`` (a string, "so that it is printable"), then that many bytes.

The ``IFile`` format (``LogAggregationIndexedFileController``) is different: it
starts with a 36-character UUID and keeps its index as Java-serialized objects,
which skein does not decode; :func:`parse_aggregated_log` recognises it and
raises :class:`~skein.errors.UnsupportedLogFormatError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from skein.errors import DecodeError, UnsupportedLogFormatError
from skein.logs.tfile import is_tfile, parse_tfile

__all__ = ["AggregatedLog", "LogFile", "decode_java_utf", "parse_aggregated_log"]

# AggregatedLogFormat's reserved keys; every other key is a container id.
VERSION_KEY: Final = "VERSION"
ACL_KEY: Final = "APPLICATION_ACL"
OWNER_KEY: Final = "APPLICATION_OWNER"

_UUID: Final = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFile:
    """One log file of a container, e.g. its ``stdout``.

    Attributes:
        name: the file name in the container's log directory.
        content: its bytes, as uploaded.
    """

    name: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregatedLog:
    """What one node uploaded for one application.

    Attributes:
        version: the format version (1), or ``None`` if the file has none.
        owner: the application's user, or ``None``.
        acls: access type (e.g. ``VIEW_APP``) to ACL.
        containers: container id to its log files, in file order.

    Example:
        >>> log = AggregatedLog(containers={"container_1_0001_01_000001": (
        ...     LogFile(name="stdout", content=b"hello\\n"),)})
        >>> log.containers["container_1_0001_01_000001"][0].name
        'stdout'
    """

    version: int | None = None
    owner: str | None = None
    acls: dict[str, str] = field(default_factory=dict)
    containers: dict[str, tuple[LogFile, ...]] = field(default_factory=dict)


def decode_java_utf(data: bytes) -> str:
    """Decode Java's *modified* UTF-8, as ``DataOutput.writeUTF`` writes it.

    It differs from UTF-8 in two ways: U+0000 is the two bytes ``C0 80``, and
    characters beyond U+FFFF are two encoded UTF-16 surrogates.

    Raises:
        DecodeError: the bytes are not modified UTF-8.

    Example:
        >>> decode_java_utf(b"a\\xc0\\x80b")
        'a\\x00b'
        >>> decode_java_utf(bytes.fromhex("eda0bdedb982"))
        '🙂'
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not modified UTF-8: {exc.reason}", offset=exc.start) from None
    # Round-tripping through UTF-16 joins surrogate pairs into single characters.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class _Utf:
    """Reads consecutive ``writeUTF`` strings and raw bytes from one value."""

    __slots__ = ("_data", "_offset", "_where")

    def __init__(self, data: bytes, where: str) -> None:
        self._data = data
        self._offset = 0
        self._where = where

    def at_end(self) -> bool:
        return self._offset >= len(self._data)

    def read_bytes(self, count: int) -> bytes:
        if count > len(self._data) - self._offset:
            left = len(self._data) - self._offset
            raise DecodeError(
                f"{self._where}: needed {count} bytes, {left} left", offset=self._offset
            )
        start = self._offset
        self._offset += count
        return self._data[start : self._offset]

    def read_utf(self) -> str:
        return decode_java_utf(self.read_bytes(int.from_bytes(self.read_bytes(2), "big")))


def _read_key(key: bytes) -> str:
    reader = _Utf(key, "aggregated log key")
    name = reader.read_utf()
    if not reader.at_end():
        raise DecodeError(f"aggregated log key {name!r} is followed by more bytes")
    return name


def _read_files(value: bytes, container: str) -> tuple[LogFile, ...]:
    reader = _Utf(value, f"logs of {container}")
    files = []
    while not reader.at_end():
        name = reader.read_utf()
        length_text = reader.read_utf()
        try:
            length = int(length_text)
        except ValueError:
            raise DecodeError(
                f"log file {name!r} of {container}: bad length {length_text!r}"
            ) from None
        if length < 0:
            raise DecodeError(f"log file {name!r} of {container}: negative length {length}")
        files.append(LogFile(name=name, content=reader.read_bytes(length)))
    return tuple(files)


def _is_indexed_file(data: bytes) -> bool:
    return _UUID.fullmatch(data[:36]) is not None


def parse_aggregated_log(data: bytes) -> AggregatedLog:
    """Read a node's aggregated log file.

    Args:
        data: the whole file, as found under the remote application log directory.

    Raises:
        UnsupportedLogFormatError: it is in the IFile format, or compressed with LZO.
        DecodeError: it is neither format, or truncated or corrupt.

    Example:
        >>> from pathlib import Path
        >>> log = parse_aggregated_log(Path("localhost_45454").read_bytes())  # doctest: +SKIP
        >>> log.owner, list(log.containers)  # doctest: +SKIP
        ('alice', ['container_1700000000000_0001_01_000001'])
    """
    if not is_tfile(data) and _is_indexed_file(data):
        raise UnsupportedLogFormatError(
            "this aggregated log is in YARN's IFile format, which skein cannot read; "
            "it reads the TFile format (yarn.log-aggregation.file-formats=TFile)"
        )
    version: int | None = None
    owner: str | None = None
    acls: dict[str, str] = {}
    containers: dict[str, tuple[LogFile, ...]] = {}
    for entry in parse_tfile(data).entries:
        key = _read_key(entry.key)
        if key == VERSION_KEY:
            version = int.from_bytes(_Utf(entry.value, key).read_bytes(4), "big", signed=True)
        elif key == OWNER_KEY:
            owner = _Utf(entry.value, key).read_utf()
        elif key == ACL_KEY:
            reader = _Utf(entry.value, key)
            while not reader.at_end():
                access = reader.read_utf()
                acls[access] = reader.read_utf()
        else:
            # A container appears once per file; were it repeated, keep every file.
            containers[key] = containers.get(key, ()) + _read_files(entry.value, key)
    return AggregatedLog(version=version, owner=owner, acls=acls, containers=containers)
