"""Hadoop credentials ("token storage") files: tokens and secrets.

YARN hands tokens to containers, and clients hand tokens to YARN, as the bytes
of ``org.apache.hadoop.security.Credentials``: the magic ``HDTS``, one format
byte, then a body:

* format 0, *Writable* (what Hadoop writes by default, for compatibility):
  a VInt token count; per token a ``Text`` alias and the token (identifier and
  password each as VInt length + bytes, then ``Text`` kind and service); then a
  VInt secret count; per secret a ``Text`` alias, a VInt length and the bytes.
* format 1, *protobuf*: one varint-length-delimited ``CredentialsProto``.

Hadoop keeps tokens and secrets in hash maps, so their order in a file carries
no meaning; this module keeps the order it reads or is given. Bytes after the
body are ignored, as Hadoop's reader does.

The identifier of a delegation token issued by Hadoop's common secret managers
(HDFS, KMS, WebHDFS) is itself Writable and decodes with
:func:`decode_delegation_token_identifier`. YARN's RM delegation tokens use a
protobuf identifier instead (``YARNDelegationTokenIdentifierProto``), which
belongs with the YARN records.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from skein._proto.hadoop import Security_pb2
from skein.errors import DecodeError
from skein.hadoop.writable import WritableReader, WritableWriter

__all__ = [
    "TOKEN_FILE_ENV",
    "Credentials",
    "CredentialsFormat",
    "DelegationTokenIdentifier",
    "Token",
    "decode_delegation_token_identifier",
    "read_credentials",
    "read_token_file_from_env",
    "save_credentials",
    "write_credentials",
]

MAGIC: Final = b"HDTS"

# The variable through which YARN tells a container where its credentials file is
# (UserGroupInformation.HADOOP_TOKEN_FILE_LOCATION).
TOKEN_FILE_ENV: Final = "HADOOP_TOKEN_FILE_LOCATION"


class CredentialsFormat(enum.IntEnum):
    """The format byte after ``HDTS`` (Credentials.SerializedFormat)."""

    WRITABLE = 0
    PROTOBUF = 1


@dataclass(frozen=True, slots=True)
class Token:
    """A Hadoop token (``org.apache.hadoop.security.token.Token``).

    Attributes:
        identifier: the serialized token identifier (its format depends on ``kind``).
        password: the secret proving the identifier was issued by the service.
        kind: the token kind, e.g. ``"YARN_AM_RM_TOKEN"`` or ``"HDFS_DELEGATION_TOKEN"``.
        service: where the token is valid, usually ``"host:port"``; may be empty.
    """

    identifier: bytes
    password: bytes
    kind: str
    service: str

    def __repr__(self) -> str:
        # Keep passwords out of logs and tracebacks.
        return (
            f"Token(kind={self.kind!r}, service={self.service!r}, "
            f"identifier=<{len(self.identifier)} bytes>, password=<hidden>)"
        )


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True)
class Credentials:
    """Tokens and secret keys, each under an alias.

    Attributes:
        tokens: tokens by alias.
        secrets: secret keys by alias.

    Example:
        >>> token = Token(b"id", b"pw", "YARN_AM_RM_TOKEN", "rm:8030")
        >>> creds = Credentials(tokens={"appattempt_1_0001_000001": token})
        >>> read_credentials(write_credentials(creds)) == creds
        True
    """

    tokens: Mapping[str, Token] = field(default_factory=dict)
    secrets: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Copied into read-only views so a frozen Credentials really is immutable.
        object.__setattr__(self, "tokens", _frozen_mapping(self.tokens))
        object.__setattr__(self, "secrets", _frozen_mapping(self.secrets))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return dict(self.tokens) == dict(other.tokens) and dict(self.secrets) == dict(other.secrets)

    def __hash__(self) -> int:
        return hash((frozenset(self.tokens.items()), frozenset(self.secrets.items())))

    def __repr__(self) -> str:
        return f"Credentials(tokens={dict(self.tokens)!r}, secrets=<{len(self.secrets)} hidden>)"

    def find_token(self, kind: str, service: str | None = None) -> Token | None:
        """Return the first token of ``kind`` valid for ``service``, or None.

        A token matches a service if its service equals it or if its service is
        a comma-separated list that contains it: with ResourceManager HA, Hadoop
        sets the AMRMToken's service to every scheduler address joined by commas.

        Args:
            kind: the token kind, e.g. ``"YARN_AM_RM_TOKEN"``.
            service: ``"host:port"``; None matches any service.

        Example:
            >>> token = Token(b"", b"", "YARN_AM_RM_TOKEN", "10.0.0.1:8030,10.0.0.2:8030")
            >>> creds = Credentials(tokens={"a": token})
            >>> creds.find_token("YARN_AM_RM_TOKEN", "10.0.0.2:8030") is token
            True
        """
        for token in self.tokens.values():
            if token.kind != kind:
                continue
            if service is None or token.service == service:
                return token
            if service in (part.strip() for part in token.service.split(",")):
                return token
        return None


def _read_writable_body(reader: WritableReader) -> Credentials:
    tokens: dict[str, Token] = {}
    for _ in range(reader.read_length()):
        alias = reader.read_text()
        identifier = reader.read_vint_bytes()
        password = reader.read_vint_bytes()
        kind = reader.read_text()
        service = reader.read_text()
        tokens[alias] = Token(identifier, password, kind, service)
    secrets: dict[str, bytes] = {}
    for _ in range(reader.read_length()):
        alias = reader.read_text()
        secrets[alias] = reader.read_vint_bytes()
    return Credentials(tokens=tokens, secrets=secrets)


def _read_uvarint(reader: WritableReader) -> int:
    """Read a protobuf base-128 varint (the length prefix of a delimited message)."""
    start = reader.offset
    value = 0
    for shift in range(0, 64, 7):
        byte = reader.read_bytes(1)[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
    raise DecodeError("protobuf varint longer than 10 bytes", offset=start)


def _encode_uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_protobuf_body(reader: WritableReader) -> Credentials:
    start = reader.offset
    message = Security_pb2.CredentialsProto()
    try:
        message.ParseFromString(reader.read_bytes(_read_uvarint(reader)))
    except _ProtobufDecodeError as exc:
        raise DecodeError(f"invalid CredentialsProto: {exc}", offset=start) from exc
    tokens = {
        kv.alias: Token(kv.token.identifier, kv.token.password, kv.token.kind, kv.token.service)
        for kv in message.tokens
    }
    secrets = {kv.alias: kv.secret for kv in message.secrets}
    return Credentials(tokens=tokens, secrets=secrets)


def read_credentials(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
) -> Credentials:
    """Read a credentials file in either format.

    Args:
        source: the file's bytes, or a path to read.

    Returns:
        The tokens and secrets it holds.

    Raises:
        DecodeError: the data is not a credentials file, or is truncated or corrupt.
        OSError: ``source`` is a path that cannot be read.

    Example:
        >>> read_credentials(bytes.fromhex("48445453000000"))
        Credentials(tokens={}, secrets=<0 hidden>)
    """
    data = (
        source if isinstance(source, bytes | bytearray | memoryview) else Path(source).read_bytes()
    )
    reader = WritableReader(data)
    if reader.remaining < len(MAGIC) or reader.read_bytes(len(MAGIC)) != MAGIC:
        raise DecodeError("not a Hadoop credentials file (no HDTS magic)", offset=0)
    version = reader.read_byte()
    if version == CredentialsFormat.WRITABLE:
        return _read_writable_body(reader)
    if version == CredentialsFormat.PROTOBUF:
        return _read_protobuf_body(reader)
    raise DecodeError(f"unknown credentials format {version}", offset=len(MAGIC))


def write_credentials(
    credentials: Credentials, *, format: CredentialsFormat = CredentialsFormat.WRITABLE
) -> bytes:
    """Serialize credentials as Hadoop does.

    Args:
        credentials: what to write.
        format: Writable (Hadoop's default, readable by every Hadoop 2 and 3
            release) or protobuf (readable since Hadoop 3.0).

    Returns:
        The bytes of a credentials file, also valid as
        ``ContainerLaunchContextProto.tokens``.

    Example:
        >>> write_credentials(Credentials()).hex()
        '48445453000000'
    """
    writer = WritableWriter()
    writer.write_bytes(MAGIC)
    writer.write_byte(format)
    if format is CredentialsFormat.WRITABLE:
        writer.write_vint(len(credentials.tokens))
        for alias, token in credentials.tokens.items():
            writer.write_text(alias)
            writer.write_vint_bytes(token.identifier)
            writer.write_vint_bytes(token.password)
            writer.write_text(token.kind)
            writer.write_text(token.service)
        writer.write_vint(len(credentials.secrets))
        for alias, secret in credentials.secrets.items():
            writer.write_text(alias)
            writer.write_vint_bytes(secret)
    else:
        message = Security_pb2.CredentialsProto(
            tokens=[
                Security_pb2.CredentialsKVProto(
                    alias=alias,
                    token=Security_pb2.TokenProto(
                        identifier=token.identifier,
                        password=token.password,
                        kind=token.kind,
                        service=token.service,
                    ),
                )
                for alias, token in credentials.tokens.items()
            ],
            secrets=[
                Security_pb2.CredentialsKVProto(alias=alias, secret=secret)
                for alias, secret in credentials.secrets.items()
            ],
        )
        body = message.SerializeToString()
        writer.write_bytes(_encode_uvarint(len(body)))
        writer.write_bytes(body)
    return writer.getvalue()


def save_credentials(
    credentials: Credentials,
    path: str | os.PathLike[str],
    *,
    format: CredentialsFormat = CredentialsFormat.WRITABLE,
) -> None:
    """Write a credentials file readable only by its owner (mode 0600).

    The file is written under a temporary name and renamed into place, so a
    reader never sees half of it.
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(write_credentials(credentials, format=format))
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def read_token_file_from_env(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Read the credentials file YARN gave this container, if any.

    Args:
        environ: the environment to look in (default: ``os.environ``).

    Returns:
        The credentials at ``$HADOOP_TOKEN_FILE_LOCATION``, or None when the
        variable is unset or empty.
    """
    location = (os.environ if environ is None else environ).get(TOKEN_FILE_ENV)
    return read_credentials(location) if location else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DelegationTokenIdentifier:
    """The fields of a delegation token identifier.

    Attributes:
        owner: the user the token acts for.
        renewer: who may renew it (often the ResourceManager's user).
        real_user: the proxying user when ``owner`` is impersonated, else empty.
        issue_date: when it was issued, in milliseconds since the epoch.
        max_date: after this (milliseconds since the epoch) it cannot be renewed.
        sequence_number: the issuer's serial number of the token.
        master_key_id: which of the issuer's keys signed it.
    """

    owner: str
    renewer: str
    real_user: str
    issue_date: int
    max_date: int
    sequence_number: int
    master_key_id: int


# AbstractDelegationTokenIdentifier writes this version byte first.
_DELEGATION_TOKEN_IDENTIFIER_VERSION: Final = 0


def decode_delegation_token_identifier(identifier: bytes) -> DelegationTokenIdentifier:
    """Decode the Writable identifier of a Hadoop delegation token.

    This is the format of ``AbstractDelegationTokenIdentifier`` (HDFS, KMS and
    WebHDFS delegation tokens): a version byte 0, then owner, renewer and real
    user as ``Text``, issue and max dates as VLong, sequence number and master
    key id as VInt. YARN's ``RM_DELEGATION_TOKEN`` uses a protobuf identifier
    instead and does not decode here.

    Raises:
        DecodeError: the bytes are truncated or of another version.

    Example:
        >>> from skein.hadoop.writable import encode_text, encode_vint, encode_vlong
        >>> raw = (b"\\x00" + encode_text("alice") + encode_text("yarn") + encode_text("")
        ...        + encode_vlong(1000) + encode_vlong(2000) + encode_vint(7) + encode_vint(3))
        >>> decode_delegation_token_identifier(raw).owner
        'alice'
    """
    reader = WritableReader(identifier)
    version = reader.read_byte()
    if version != _DELEGATION_TOKEN_IDENTIFIER_VERSION:
        raise DecodeError(f"unknown delegation token identifier version {version}", offset=0)
    return DelegationTokenIdentifier(
        owner=reader.read_text(),
        renewer=reader.read_text(),
        real_user=reader.read_text(),
        issue_date=reader.read_vlong(),
        max_date=reader.read_vlong(),
        sequence_number=reader.read_vint(),
        master_key_id=reader.read_vint(),
    )
