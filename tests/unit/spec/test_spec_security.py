"""TLS credentials: generation, storage in a folder, defaults, and use for mutual TLS."""

from __future__ import annotations

import os
import pathlib
import socket
import ssl
import stat
import threading

import pytest

from skein.errors import FileExistsError, FileNotFoundError, SpecError
from skein.spec import Security
from skein.spec.security import CERT_NAME


@pytest.fixture(scope="module")
def credentials() -> Security:
    return Security.new_credentials()


def test_new_credentials_are_pem(credentials: Security) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(credentials.cert_pem())
    assert cert.subject.rfc4514_string() == f"CN={CERT_NAME}"
    assert cert.issuer == cert.subject
    assert credentials.key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 365
    assert Security.new_credentials().cert_pem() != credentials.cert_pem()


def test_to_and_from_directory(credentials: Security, tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "config"
    stored = credentials.to_directory(folder)
    assert stored == Security(
        cert_file=str(folder / "skein.crt"), key_file=str(folder / "skein.pem")
    )
    assert Security.from_directory(folder) == stored
    assert (stored.cert_pem(), stored.key_pem()) == (credentials.cert_pem(), credentials.key_pem())
    for name in ("skein.crt", "skein.pem"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_to_directory_does_not_overwrite_unless_forced(
    credentials: Security, tmp_path: pathlib.Path
) -> None:
    credentials.to_directory(tmp_path)
    other = Security.new_credentials()
    with pytest.raises(FileExistsError) as info:
        other.to_directory(tmp_path)
    assert info.value.path == str(tmp_path / "skein.crt")
    assert Security.from_directory(tmp_path).cert_pem() == credentials.cert_pem()
    other.to_directory(tmp_path, force=True)
    assert Security.from_directory(tmp_path).cert_pem() == other.cert_pem()


def test_from_directory_needs_both_files(credentials: Security, tmp_path: pathlib.Path) -> None:
    credentials.to_directory(tmp_path)
    (tmp_path / "skein.pem").unlink()
    with pytest.raises(FileNotFoundError, match=r"skein\.pem"):
        Security.from_directory(tmp_path)


def test_from_default_creates_once(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKEIN_CONFIG", str(tmp_path / "skein"))
    first = Security.from_default()
    assert first.cert_file == str(tmp_path / "skein" / "skein.crt")
    assert Security.from_default().cert_pem() == first.cert_pem()


def test_remote_files_cannot_be_read_locally() -> None:
    security = Security(cert_file="hdfs:///user/a/skein.crt", key_bytes=b"k")
    with pytest.raises(
        SpecError, match=r"cannot read TLS credentials file 'hdfs:///user/a/skein\.crt'"
    ):
        security.cert_pem()
    assert security.key_pem() == b"k"


def test_credentials_work_for_mutual_tls(credentials: Security, tmp_path: pathlib.Path) -> None:
    stored = credentials.to_directory(tmp_path)

    def context(side: ssl._SSLMethod) -> ssl.SSLContext:
        ctx = ssl.SSLContext(side)
        ctx.load_cert_chain(stored.cert_file or "", stored.key_file or "")
        ctx.load_verify_locations(cadata=credentials.cert_pem().decode())
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        return ctx

    server_context = context(ssl.PROTOCOL_TLS_SERVER)
    client_context = context(ssl.PROTOCOL_TLS_CLIENT)
    left, right = socket.socketpair()
    received: list[bytes] = []

    def serve() -> None:
        with server_context.wrap_socket(left, server_side=True) as server:
            received.append(server.recv(5))

    thread = threading.Thread(target=serve)
    thread.start()
    with client_context.wrap_socket(right, server_hostname=CERT_NAME) as client:
        client.sendall(b"hello")
    thread.join(timeout=10)
    assert received == [b"hello"]
