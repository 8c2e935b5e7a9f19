"""Hadoop credentials files in both formats, and delegation token identifiers."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skein.errors import DecodeError
from skein.hadoop.credentials import (
    TOKEN_FILE_ENV,
    Credentials,
    CredentialsFormat,
    DelegationTokenIdentifier,
    Token,
    decode_delegation_token_identifier,
    read_credentials,
    read_token_file_from_env,
    save_credentials,
    write_credentials,
)
from skein.hadoop.writable import encode_text, encode_vint, encode_vlong

AMRM = Token(b"\x0a\x0c\x08\x01", b"secret-password", "YARN_AM_RM_TOKEN", "10.0.0.1:8030")
# Identifiers and passwords of 128 bytes or more need multi-byte VInt lengths.
HDFS = Token(bytes(range(256)) * 2, b"p" * 200, "HDFS_DELEGATION_TOKEN", "ha-hdfs:nameservice1")
CREDS = Credentials(
    tokens={"appattempt_1_0001_000001": AMRM, "hdfs": HDFS, "ünïcode": Token(b"", b"", "", "")},
    secrets={"spark.secret": b"\x00\x01\x02", "empty": b"", "big": b"s" * 300},
)

FORMATS = list(CredentialsFormat)

# Written by Hadoop 3.5.0's Credentials.writeTokenStorageFile(..., PROTOBUF) for one token
# (alias "a1", identifier 01 02, password 03, kind "KIND", service "host:1") and one
# secret ("s", empty).
JAVA_PROTOBUF_FILE = bytes.fromhex(
    "4844545301240a1b0a02613112150a0201021201031a044b494e442206686f73743a3112050a01731a00"
)

tokens = st.builds(Token, st.binary(), st.binary(), st.text(), st.text())
credentials = st.builds(
    Credentials,
    tokens=st.dictionaries(st.text(), tokens, max_size=4),
    secrets=st.dictionaries(st.text(), st.binary(), max_size=4),
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(fmt: CredentialsFormat) -> None:
    data = write_credentials(CREDS, format=fmt)
    assert data[:5] == b"HDTS" + bytes([fmt])
    assert read_credentials(data) == CREDS


@given(credentials, st.sampled_from(FORMATS))
def test_round_trip_any(creds: Credentials, fmt: CredentialsFormat) -> None:
    assert read_credentials(write_credentials(creds, format=fmt)) == creds


def test_empty_files() -> None:
    assert write_credentials(Credentials()).hex() == "48445453000000"
    assert write_credentials(Credentials(), format=CredentialsFormat.PROTOBUF).hex() == (
        "484454530100"
    )
    assert read_credentials(bytes.fromhex("484454530100")) == Credentials()


def test_writable_layout() -> None:
    creds = Credentials(tokens={"a": Token(b"\x01", b"\x02\x03", "K", "S")}, secrets={"b": b"\x04"})
    expected = (
        b"HDTS\x00"
        + encode_vint(1)
        + encode_text("a")
        + b"\x01\x01"  # identifier: VInt length + bytes
        + b"\x02\x02\x03"  # password
        + encode_text("K")
        + encode_text("S")
        + encode_vint(1)
        + encode_text("b")
        + b"\x01\x04"
    )
    assert write_credentials(creds) == expected


def test_reads_a_file_written_by_java() -> None:
    creds = read_credentials(JAVA_PROTOBUF_FILE)
    assert creds.tokens == {"a1": Token(b"\x01\x02", b"\x03", "KIND", "host:1")}
    assert creds.secrets == {"s": b""}


def test_order_is_kept_and_the_last_duplicate_wins() -> None:
    body = encode_vint(2) + b"".join(
        encode_text("dup") + b"\x00\x00" + encode_text(kind) + encode_text("")
        for kind in ("first", "second")
    )
    creds = read_credentials(b"HDTS\x00" + body + encode_vint(0))
    assert list(creds.tokens) == ["dup"]
    assert creds.tokens["dup"].kind == "second"


def test_trailing_bytes_are_ignored_like_hadoop() -> None:
    assert read_credentials(write_credentials(CREDS) + b"junk") == CREDS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "magic"),
        (b"HDT", "magic"),
        (b"XDTS\x00\x00\x00", "magic"),
        (b"HDTS\x02\x00\x00", "unknown credentials format 2"),
        (b"HDTS", "truncated"),
        (b"HDTS\x01\x05\x0a", "truncated"),
        (b"HDTS\x01\x02\x0a\xff", "CredentialsProto"),
        (b"HDTS\x00" + encode_vint(-1), "negative length"),
    ],
)
def test_malformed_files(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        read_credentials(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_truncation_is_a_decode_error(fmt: CredentialsFormat) -> None:
    data = write_credentials(CREDS, format=fmt)
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            read_credentials(data[:cut])


@given(st.binary(max_size=64), st.sampled_from(FORMATS))
def test_garbage_never_raises_anything_else(body: bytes, fmt: CredentialsFormat) -> None:
    try:
        read_credentials(b"HDTS" + bytes([fmt]) + body)
    except DecodeError:
        pass


def test_find_token() -> None:
    ha = Token(b"", b"", "YARN_AM_RM_TOKEN", "10.0.0.1:8030, 10.0.0.2:8030")
    creds = Credentials(tokens={"hdfs": HDFS, "am": ha})
    assert creds.find_token("YARN_AM_RM_TOKEN") is ha
    assert creds.find_token("YARN_AM_RM_TOKEN", "10.0.0.2:8030") is ha
    assert creds.find_token("YARN_AM_RM_TOKEN", "10.0.0.3:8030") is None
    assert creds.find_token("HDFS_DELEGATION_TOKEN", "ha-hdfs:nameservice1") is HDFS
    assert creds.find_token("KMS_DELEGATION_TOKEN") is None


def test_values_are_immutable_and_secrets_stay_out_of_repr() -> None:
    source = {"a": b"key"}
    creds = Credentials(secrets=source)
    source["b"] = b"later"
    assert dict(creds.secrets) == {"a": b"key"}
    with pytest.raises(TypeError):
        creds.secrets["c"] = b""  # type: ignore[index]
    assert "key" not in repr(creds)
    assert "secret-password" not in repr(AMRM)
    assert hash(creds) == hash(Credentials(secrets={"a": b"key"}))


@pytest.mark.parametrize("fmt", FORMATS)
def test_save_and_read_a_file(tmp_path: Path, fmt: CredentialsFormat) -> None:
    path = tmp_path / "container_tokens"
    save_credentials(CREDS, path, format=fmt)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_credentials(path) == CREDS
    assert read_credentials(str(path)) == CREDS
    assert [p.name for p in tmp_path.iterdir()] == ["container_tokens"]


def test_token_file_from_env(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    save_credentials(CREDS, path)
    assert read_token_file_from_env({TOKEN_FILE_ENV: str(path)}) == CREDS
    assert read_token_file_from_env({TOKEN_FILE_ENV: ""}) is None
    assert read_token_file_from_env({}) is None


def _identifier(owner: str, renewer: str, real_user: str, *numbers: int) -> bytes:
    issue, max_date, sequence, key = numbers
    return (
        b"\x00"
        + encode_text(owner)
        + encode_text(renewer)
        + encode_text(real_user)
        + encode_vlong(issue)
        + encode_vlong(max_date)
        + encode_vint(sequence)
        + encode_vint(key)
    )


def test_delegation_token_identifier() -> None:
    raw = _identifier("alice", "yarn", "oozie", 1_700_000_000_000, 1_700_604_800_000, 42, 7)
    assert decode_delegation_token_identifier(raw) == DelegationTokenIdentifier(
        owner="alice",
        renewer="yarn",
        real_user="oozie",
        issue_date=1_700_000_000_000,
        max_date=1_700_604_800_000,
        sequence_number=42,
        master_key_id=7,
    )
    with pytest.raises(DecodeError, match="version 1"):
        decode_delegation_token_identifier(b"\x01" + raw[1:])
    with pytest.raises(DecodeError, match="truncated"):
        decode_delegation_token_identifier(raw[:-1])


# --- against Hadoop's own Java code -------------------------------------------


def _hex(data: bytes | str) -> str:
    return "x" + (data.encode() if isinstance(data, str) else data).hex()


def _entries(creds: Credentials) -> list[str]:
    """The line format of CredentialsInterop.java, sorted."""
    lines = []
    for alias, t in creds.tokens.items():
        fields = (alias, t.identifier, t.password, t.kind, t.service)
        lines.append(" ".join(["token", *map(_hex, fields)]))
    lines += [f"secret {_hex(alias)} {_hex(value)}" for alias, value in creds.secrets.items()]
    return sorted(lines)


@pytest.mark.java
@pytest.mark.parametrize("fmt", FORMATS)
def test_java_writes_and_we_read(
    hadoop_java: Callable[..., list[str]], tmp_path: Path, fmt: CredentialsFormat
) -> None:
    path = tmp_path / "from-java"
    stdin = "\n".join(_entries(CREDS)) + "\n"
    hadoop_java("write-creds", str(path), fmt.name, stdin=stdin)
    data = path.read_bytes()
    assert data[:5] == b"HDTS" + bytes([fmt])
    assert read_credentials(data) == CREDS


@pytest.mark.java
@pytest.mark.parametrize("fmt", FORMATS)
def test_we_write_and_java_reads(
    hadoop_java: Callable[..., list[str]], tmp_path: Path, fmt: CredentialsFormat
) -> None:
    path = tmp_path / "from-skein"
    save_credentials(CREDS, path, format=fmt)
    assert hadoop_java("read-creds", str(path)) == _entries(CREDS)


@pytest.mark.java
def test_delegation_token_identifier_written_by_java(
    hadoop_java: Callable[..., list[str]],
) -> None:
    fields = ("alice", "yarn", "", "1700000000000", "1700604800000", "300", "-5")
    (java_hex,) = hadoop_java("dtid", *fields)
    decoded = decode_delegation_token_identifier(bytes.fromhex(java_hex))
    assert decoded == DelegationTokenIdentifier(
        owner="alice",
        renewer="yarn",
        real_user="",
        issue_date=1_700_000_000_000,
        max_date=1_700_604_800_000,
        sequence_number=300,
        master_key_id=-5,
    )
