"""TLS credentials for an application: a certificate and its private key, in PEM.

The client and the application master authenticate each other with the same
self-signed certificate, so whoever holds the key pair can talk to the
application. A user's default pair lives in the skein configuration folder
(``$SKEIN_CONFIG``, else ``~/.skein``) as ``skein.crt`` and ``skein.pem``.

The ``cryptography`` package is imported only to make new credentials.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Final

from skein.errors import FileExistsError, FileNotFoundError, SpecError
from skein.spec.base import SpecObject
from skein.spec.conversion import Meta, document

__all__ = ["CERT_NAME", "Security"]

#: The certificate's subject and issuer common name, and its one DNS name, so a
#: client can check the server's name by connecting with this ``server_hostname``.
CERT_NAME: Final = "skein-internal"

_CERT_FILE: Final = "skein.crt"
_KEY_FILE: Final = "skein.pem"
_LOCK_FILE: Final = "skein.lock"


@document
@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Security(SpecObject):
    """A TLS certificate and private key, each given as a file or as PEM bytes.

    Give exactly one of ``cert_file`` and ``cert_bytes``, and exactly one of
    ``key_file`` and ``key_bytes``; text is accepted for the bytes. ``repr``
    hides the bytes.

    Example:
        >>> security = Security.new_credentials()
        >>> security
        Security(cert_bytes=<hidden>, key_bytes=<hidden>)
        >>> security.cert_pem().startswith(b"-----BEGIN CERTIFICATE-----")
        True
    """

    cert_file: Annotated[
        str | None, Meta("The PEM certificate's file or URI.", local_path=True)
    ] = None
    key_file: Annotated[str | None, Meta("The PEM private key's file or URI.", local_path=True)] = (
        None
    )
    cert_bytes: Annotated[bytes | None, Meta("The PEM certificate itself.", secret=True)] = None
    key_bytes: Annotated[bytes | None, Meta("The PEM private key itself.", secret=True)] = None

    def _check(self) -> None:
        for kind in ("cert", "key"):
            given = [name for name in (f"{kind}_file", f"{kind}_bytes") if getattr(self, name)]
            if len(given) != 1:
                raise SpecError(f"give exactly one of {kind}_file and {kind}_bytes")

    def cert_pem(self) -> bytes:
        """Return the certificate's PEM bytes, reading ``cert_file`` if that is how it was given.

        Raises:
            SpecError: the file is not local (only the cluster can read it).
            OSError: the file cannot be read.
        """
        return self.cert_bytes or _read_local(self.cert_file or "")

    def key_pem(self) -> bytes:
        """Return the private key's PEM bytes, reading ``key_file`` if that is how it was given.

        Raises:
            SpecError: the file is not local (only the cluster can read it).
            OSError: the file cannot be read.
        """
        return self.key_bytes or _read_local(self.key_file or "")

    @classmethod
    def new_credentials(cls) -> Security:
        """Make a new self-signed certificate and RSA key (2048 bits, SHA-256, one year).

        Example:
            >>> Security.new_credentials().key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
            True
        """
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_NAME)])
        now = datetime.datetime.now(datetime.timezone.utc)
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            # Backdated so nodes whose clocks run a little behind still accept it.
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(CERT_NAME)]), critical=False)
            # The certificate is its own trust anchor: strict verifiers (Python 3.13's
            # default) want it marked as a CA and identified by key.
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(
            cert_bytes=cert.public_bytes(serialization.Encoding.PEM),
            key_bytes=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    @classmethod
    def from_directory(cls, directory: str | os.PathLike[str]) -> Security:
        """Return the credentials stored in ``directory`` (``skein.crt`` and ``skein.pem``).

        Raises:
            skein.errors.FileNotFoundError: either file is missing.
        """
        paths = [os.path.abspath(os.path.join(directory, name)) for name in (_CERT_FILE, _KEY_FILE)]
        for path in paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(path, f"No TLS credentials file: {path}")
        return cls(cert_file=paths[0], key_file=paths[1])

    @classmethod
    def from_default(cls) -> Security:
        """Return the user's default credentials, making and storing them on first use.

        They live in ``$SKEIN_CONFIG``, else ``~/.skein``. Several processes
        starting at once agree on one pair.

        Example:
            >>> security = Security.from_default()  # doctest: +SKIP
        """
        directory = os.environ.get("SKEIN_CONFIG") or os.path.join(
            os.path.expanduser("~"), ".skein"
        )
        try:
            return cls.from_directory(directory)
        except FileNotFoundError:
            pass
        try:
            return cls.new_credentials().to_directory(directory)
        except FileExistsError:
            # Another process stored its pair first (under the lock); use that one.
            return cls.from_directory(directory)

    def to_directory(self, directory: str | os.PathLike[str], force: bool = False) -> Security:
        """Store the credentials in ``directory`` as ``skein.crt`` and ``skein.pem`` (mode 0600).

        The folder is created (mode 0700) if needed. Writing happens under a
        lock file, so concurrent writers cannot mix two pairs.

        Args:
            directory: where to store them.
            force: replace existing files instead of failing.

        Returns:
            Credentials that refer to the stored files.

        Raises:
            skein.errors.FileExistsError: a file exists and ``force`` is false.
        """
        os.makedirs(directory, mode=0o700, exist_ok=True)
        cert_path, key_path = (os.path.join(directory, name) for name in (_CERT_FILE, _KEY_FILE))
        # The key first: a reader that finds the certificate then finds its key too.
        contents = {key_path: self.key_pem(), cert_path: self.cert_pem()}
        with _locked(os.path.join(directory, _LOCK_FILE)):
            if not force:
                for path in (cert_path, key_path):
                    if os.path.exists(path):
                        raise FileExistsError(path, f"TLS credentials file exists: {path}")
            for path, data in contents.items():
                _write_private(path, data)
        return Security(cert_file=os.path.abspath(cert_path), key_file=os.path.abspath(key_path))


def _read_local(path: str) -> bytes:
    local = path.removeprefix("file://")
    if "://" in local:
        raise SpecError(f"cannot read TLS credentials file {path!r} locally")
    with open(local, "rb") as file:
        return file.read()


def _write_private(path: str, data: bytes) -> None:
    # Written to a temporary name, then renamed: readers that do not take the
    # lock (from_directory) see either no file or a whole one, never a partial key.
    # Created 0600 from the start, so the key is never readable by others, even briefly.
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the existence check alone guards the files
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
